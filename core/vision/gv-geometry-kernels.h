/* gv-geometry-kernels.h: per-pixel code of the perspective warp and of the cover detector,
 * shared by the CPU backend (C) and a later CUDA backend (nvcc). Plain float/int arithmetic in
 * a fixed order (see gv-kernel-common.h): both backends must produce the same bytes.
 *
 * Warp precision: the host converts the (double) homography to float once; the kernel maps
 * the destination pixel centre with float arithmetic in the order written below, then samples
 * bilinearly in float and rounds to nearest. Float keeps the mapped coordinate within ~1e-3 px
 * for covers up to 4096 px, far below what the 8-bit output can show. */
#pragma once

#include <stdint.h>

#include "gv-kernel-common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* (X, Y) = H (x, y), H row-major float. Returns 0 when the point maps to infinity or behind
 * the camera's plane (w <= 0 for a homography normalised with H[8] > 0 is not tested: a cover
 * warp never produces it; w == 0 is). */
GV_KERNEL int
gv_warp_map_f (const float Hf[9], float x, float y, float *X, float *Y)
{
  float xn = (Hf[0] * x + Hf[1] * y) + Hf[2];
  float yn = (Hf[3] * x + Hf[4] * y) + Hf[5];
  float w = (Hf[6] * x + Hf[7] * y) + Hf[8];
  if (w == 0.0f)
    return 0;
  *X = xn / w;
  *Y = yn / w;
  return 1;
}

/* Bilinear sample of channel c of a U8 image at (X, Y) (pixel centres at integers); taps
 * outside the image count as 0, so the cover fades to black over its last half pixel. Points
 * with X <= -1, X >= w, Y <= -1, Y >= h (or NaN) give 0. Rounded to nearest. */
GV_KERNEL uint8_t
gv_warp_sample_u8 (const uint8_t *src, int stride, int w, int h, int ch, int c, float X, float Y)
{
  if (!(X > -1.0f && X < (float) w && Y > -1.0f && Y < (float) h))
    return 0;
  int x0 = (int) X, y0 = (int) Y;
  if ((float) x0 > X)
    x0--;
  if ((float) y0 > Y)
    y0--;
  float fx = X - (float) x0, fy = Y - (float) y0;
  int x1 = x0 + 1, y1 = y0 + 1;
  float v00 = 0.0f, v01 = 0.0f, v10 = 0.0f, v11 = 0.0f;
  if (y0 >= 0)
    {
      const uint8_t *r = src + (long) y0 * stride;
      if (x0 >= 0)
        v00 = (float) r[x0 * ch + c];
      if (x1 < w)
        v01 = (float) r[x1 * ch + c];
    }
  if (y1 < h)
    {
      const uint8_t *r = src + (long) y1 * stride;
      if (x0 >= 0)
        v10 = (float) r[x0 * ch + c];
      if (x1 < w)
        v11 = (float) r[x1 * ch + c];
    }
  float top = v00 + fx * (v01 - v00);
  float bot = v10 + fx * (v11 - v10);
  float v = top + fy * (bot - top);
  int iv = (int) (v + 0.5f);
  return (uint8_t) gv_clampi (iv, 0, 255);
}

/* One destination pixel (x, y) of the warp: all channels written to out[0..ch-1]. */
GV_KERNEL void
gv_warp_pixel_u8 (const float Hf[9], const uint8_t *src, int stride, int w, int h, int ch,
                  int x, int y, uint8_t *out)
{
  float X = 0.0f, Y = 0.0f;
  int ok = gv_warp_map_f (Hf, (float) x, (float) y, &X, &Y);
  for (int c = 0; c < ch; c++)
    out[c] = ok ? gv_warp_sample_u8 (src, stride, w, h, ch, c, X, Y) : (uint8_t) 0;
}

/* Box average of an f x f block of a gray U8 image (reduced copy for the cover search);
 * (x, y) in reduced pixels, the block lies inside the source. Integer sum, rounded. */
GV_KERNEL uint8_t
gv_box_reduce_u8 (const uint8_t *src, int stride, int f, int x, int y)
{
  int sum = 0;
  for (int j = 0; j < f; j++)
    {
      const uint8_t *r = src + (long) (y * f + j) * stride + x * f;
      for (int i = 0; i < f; i++)
        sum += r[i];
    }
  int n = f * f;
  return (uint8_t) ((sum + n / 2) / n);
}

/* Sobel gradient (x and y, 3x3, weights 1 2 1) of a gray U8 image at (x, y) with replicated
 * borders. Integer, exact. */
GV_KERNEL void
gv_sobel_u8 (const uint8_t *src, int stride, int w, int h, int x, int y, int *gx, int *gy)
{
  int xm = gv_clampi (x - 1, 0, w - 1), xp = gv_clampi (x + 1, 0, w - 1);
  const uint8_t *rm = src + (long) gv_clampi (y - 1, 0, h - 1) * stride;
  const uint8_t *r0 = src + (long) y * stride;
  const uint8_t *rp = src + (long) gv_clampi (y + 1, 0, h - 1) * stride;
  *gx = ((int) rm[xp] - rm[xm]) + 2 * ((int) r0[xp] - r0[xm]) + ((int) rp[xp] - rp[xm]);
  *gy = ((int) rp[xm] - rm[xm]) + 2 * ((int) rp[x] - rm[x]) + ((int) rp[xp] - rm[xp]);
}

/* Bilinear sample of a gray U8 image as float, clamped to the image (edge profiles of the
 * sub-pixel refinement). */
GV_KERNEL float
gv_sample_clamped_f (const uint8_t *src, int stride, int w, int h, float X, float Y)
{
  if (X < 0.0f)
    X = 0.0f;
  if (Y < 0.0f)
    Y = 0.0f;
  if (X > (float) (w - 1))
    X = (float) (w - 1);
  if (Y > (float) (h - 1))
    Y = (float) (h - 1);
  int x0 = (int) X, y0 = (int) Y;
  int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
  float fx = X - (float) x0, fy = Y - (float) y0;
  const uint8_t *r0 = src + (long) y0 * stride, *r1 = src + (long) y1 * stride;
  float top = (float) r0[x0] + fx * ((float) r0[x1] - (float) r0[x0]);
  float bot = (float) r1[x0] + fx * ((float) r1[x1] - (float) r1[x0]);
  return top + fy * (bot - top);
}

#ifdef __cplusplus
}
#endif
