/* gv-defect-maps.h: stage 4's per-pixel maps (gv-defects.c, steps 2, 3c and 3e) as one function
 * per output pixel, shared by the CPU row loops of gv-defects.c and the CUDA backend's launches
 * (cuda/gv-cuda-grid.h: GV_K_DMEDIAN, GV_K_DLINE, GV_K_DSTAIN), so that both give the same bits:
 *  - the print estimate and glare bits: the per-channel median over the covers that see the
 *    pixel (0,0,0 is outside a frame), then the median again without the covers whose pixel is
 *    glare over the first median (gv_dk_is_glare); the glare byte has bit k set for cover k;
 *  - whitened-line evidence (gv_dk_line_at) and stain-edge evidence (gv_dk_stain_at) on the
 *    margined print estimate, at cover pixel (x, y) = margined (x + M, y + M).
 * The arithmetic is in gv-defect-kernels.h; this file only indexes. The host section at the end
 * declares the entry that runs the three maps on a device backend (cuda/gv-cuda-engine.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "gv-backend.h"
#include "gv-defect-kernels.h"
#include "gv-image.h"
#include "gv-kernel-common.h"

/* The most covers a pixel's median takes: gv-defects.h's GV_DEFECTS_MAX_COVERS (checked where
 * both are visible, cuda/gv-cuda-engine.c), and gv_dk_median_u8's limit. */
#define GV_DM_MAX_COVERS 8

/* Print estimate (3 bytes at o) and glare bits (*g) of one pixel from its n (1..8) cover pixels
 * px[k] (RGB). Bit k of *g is cover k's; a pixel no cover sees gives 0,0,0 and no glare. When
 * every cover that sees it has glare, the first median stands. */
GV_KERNEL void
gv_dm_median_px (const uint8_t *const *px, int n, uint8_t *o, uint8_t *g)
{
  uint8_t v[GV_DM_MAX_COVERS], m0[3], gl = 0;
  int nv = 0, idx[GV_DM_MAX_COVERS], keep[GV_DM_MAX_COVERS], nk = 0;

  for (int k = 0; k < n; k++)
    {
      const uint8_t *p = px[k];
      if (p[0] | p[1] | p[2])
        idx[nv++] = k; /* 0,0,0: outside the frame */
    }
  *g = 0;
  if (nv == 0)
    {
      o[0] = o[1] = o[2] = 0;
      return;
    }
  for (int ch = 0; ch < 3; ch++)
    {
      for (int j = 0; j < nv; j++)
        v[j] = px[idx[j]][ch];
      m0[ch] = gv_dk_median_u8 (v, nv);
    }
  for (int j = 0; j < nv; j++)
    {
      if (gv_dk_is_glare (px[idx[j]], m0))
        gl |= (uint8_t) (1u << idx[j]);
      else
        keep[nk++] = idx[j];
    }
  *g = gl;
  for (int ch = 0; ch < 3; ch++)
    {
      if (nk == 0)
        {
          o[ch] = m0[ch];
          continue;
        }
      for (int j = 0; j < nk; j++)
        v[j] = px[keep[j]][ch];
      o[ch] = gv_dk_median_u8 (v, nk);
    }
}

/* The same at pixel (x, y) of n covers of one shape: cover k's RGB rows start at cov[k], stride
 * bytes apart. */
GV_KERNEL void
gv_dm_median_at (const uint8_t *const *cov, int n, ptrdiff_t stride, int x, int y, uint8_t *o,
                 uint8_t *g)
{
  const uint8_t *px[GV_DM_MAX_COVERS];

  for (int k = 0; k < n; k++)
    px[k] = cov[k] + (ptrdiff_t) y * stride + 3 * (ptrdiff_t) x;
  gv_dm_median_px (px, n, o, g);
}

/* Line evidence at cover pixel (x, y) of the margined print P (W x H, RGB, margin M); within
 * 55 px of the spine (at 1060 px width: the longest stress line and its fibre) negative where
 * only the video colour model sees a line across it (gv_dk_line_at). */
GV_KERNEL float
gv_dm_line_at (const uint8_t *P, int W, int H, int stride, int M, int x, int y)
{
  return gv_dk_line_at (P, W, H, stride, x + M, y + M, 1060 * x < 55 * (W - 2 * M));
}

/* Stain-edge evidence at cover pixel (x, y) of the margined print; *dark as gv_dk_stain_at. */
GV_KERNEL float
gv_dm_stain_at (const uint8_t *P, int W, int H, int stride, int M, int x, int y, uint8_t *dark)
{
  return gv_dk_stain_at (P, W, H, stride, x + M, y + M, dark);
}

/* Step 3d: black ink (gv_dk_is_ink) at cover pixel (x, y) of the margined print. The ink mask is
 * dilated by a (2r + 1) square (gv_dk_dilate_h_at, gv_dk_dilate_v_at) and the line evidence
 * cleared under it: the white gaps in text, bar codes and inked outlines are print. */
GV_KERNEL uint8_t
gv_dm_ink_at (const uint8_t *P, int stride, int M, int x, int y)
{
  return (uint8_t) gv_dk_is_ink (P + (long) (y + M) * stride + 3 * (long) (x + M));
}

/* ---- Host entry ------------------------------------------------------------------------------ */

#ifdef __cplusplus
extern "C" {
#endif

/* The three maps on a device backend (the CUDA backend or its CPU emulation): uploads the n
 * (1..GV_DM_MAX_COVERS) margined covers once, runs one launch per map and downloads:
 *   covers  n RGB U8 images of one shape W x H (the margined warps, 0,0,0 outside the frame);
 *   M       the margin: the cover is w x h = (W - 2M) x (H - 2M);
 *   print   RGB U8, W x H: the margined print estimate (gv_dm_median_px per pixel);
 *   glare   U8, W x H: the glare bits;
 *   line    F32, w x h, or NULL (not computed): gv_dm_line_at;
 *   stain   F32, w x h, or NULL (not computed): gv_dm_stain_at, with
 *   dark    w * h bytes (row pitch w), required with stain: gv_dk_stain_at's darker side.
 * Results are bit-identical to the per-pixel functions above run on the CPU. Returns GV_OK,
 * GV_EUNSUPPORTED when be is not a device backend (the caller then runs the CPU loops), GV_EINVAL
 * on shapes, or the device's error (GV_EDEVICE, GV_ENOMEM). Defined in cuda/gv-cuda-engine.c,
 * which every build links (with or without CUDA). */
int gv_defect_maps_device (GvBackend *be, const GvImage *const *covers, int n, int M,
                           GvImage *print, GvImage *glare, GvImage *line, GvImage *stain,
                           uint8_t *dark);

/* Step 3e' on a device backend: the margined print (RGB U8, W x H, margin M) goes up, is
 * descreened there (gv_dk_box_px with radius box_r, 1..64, per pixel: GV_K_DBOX) and its stain
 * evidence taken (gv_dm_stain_at on the descreened copy: GV_K_DSTAIN); stain2 (F32, w x h) and
 * dark2 (w * h bytes, row pitch w) come back, bit-identical to the same per-pixel functions run
 * on the CPU. Errors as gv_defect_maps_device. */
int gv_defect_stain2_device (GvBackend *be, const GvImage *print, int M, int box_r,
                             GvImage *stain2, uint8_t *dark2);

/* Steps 1 and 2 of stage 4 on a device backend, with the golden frames uploaded once and the
 * margined covers kept in device memory for the maps (gv-defects.c drives it; the alignment's
 * control stays there, on the host, for both paths). A session is for covers of one margined
 * shape W x H (RGB) and at most GV_DM_MAX_COVERS of them:
 *   new     GV_EUNSUPPORTED when be is not a device backend (the caller then runs the CPU);
 *   frame   uploads an RGB frame (the next calls use it) and makes its gray copy there
 *           (gv_gray_u8 per pixel);
 *   ref     warps the frame's gray copy with Hm (margined cover px -> frame px) into the
 *           reference, as gv_warp_perspective would;
 *   lk_rows warps the gray copy with Hm and returns gv_dk_lk_row's terms of every row against
 *           the reference (rows: 5 * H doubles) over the interior [x0, x1] x [y0, y1];
 *   cover   warps the RGB frame with Hm into device cover k (0, 1, ... in order);
 *   maps    gv_defect_maps_device's outputs from device covers 0 .. n - 1, without uploading;
 *           with ink_r > 0 and line, step 3d too: the line evidence is cleared within ink_r px
 *           of black ink (gv_dm_ink_at, dilated by gv_dk_dilate_*_at: GV_K_DINK, GV_K_DILH,
 *           GV_K_DILV), as the CPU's step 3d does;
 *   download_cover  (tests) cover k back into an RGB image of W x H.
 * Results are bit-identical to the CPU's warps, terms and maps. Errors as gv_defect_maps_device;
 * after an error the session may only be freed. Defined in cuda/gv-cuda-engine.c. */
typedef struct GvDmDevice GvDmDevice;
int gv_dm_device_new (GvBackend *be, int W, int H, GvDmDevice **out);
int gv_dm_device_frame (GvDmDevice *d, const GvImage *rgb);
int gv_dm_device_ref (GvDmDevice *d, const double Hm[9]);
int gv_dm_device_lk_rows (GvDmDevice *d, const double Hm[9], int x0, int x1, int y0, int y1,
                          double *rows);
int gv_dm_device_cover (GvDmDevice *d, int k, const double Hm[9]);
int gv_dm_device_maps (GvDmDevice *d, int n, int M, int ink_r, GvImage *print, GvImage *glare,
                       GvImage *line, GvImage *stain, uint8_t *dark);
/* stain2  gv_defect_stain2_device's outputs from the print estimate of the last maps call, which
 *         stays in device memory for it (GV_EINVAL before any maps call). */
int gv_dm_device_stain2 (GvDmDevice *d, int M, int box_r, GvImage *stain2, uint8_t *dark2);
int gv_dm_device_download_cover (GvDmDevice *d, int k, GvImage *rgb);
void gv_dm_device_free (GvDmDevice *d);

#ifdef __cplusplus
}
#endif
