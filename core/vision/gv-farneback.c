/* gv-farneback.c: dense optical flow, CPU backend.
 *
 * Method: G. Farneback, "Two-Frame Motion Estimation Based on Polynomial Expansion" (SCIA 2003),
 * following OpenCV 4.6 cv::calcOpticalFlowFarneback with flags 0 (box window, no initial flow):
 *  - pyramid level k has scale s = pyr_scale^k; the full-resolution image is Gaussian-smoothed
 *    (sigma = (1/s - 1) / 2, ksize = round(5 sigma) | 1, at least 3; level 0 thus gets OpenCV's
 *    fixed 3-tap [1 2 1]/4 kernel) and resized bilinearly to round(w s) x round(h s);
 *  - levels stop before a side falls under 32 px;
 *  - each level: polynomial expansion of both images, flow initialised from the coarser level
 *    (bilinear upscale, times 1/pyr_scale), matrix update, then `iterations` times a box
 *    average of the five matrix channels and the 2x2 solve.
 * Differences from OpenCV, all within float rounding: we compute in float32 (OpenCV sums the
 * window and solves in double), the box sums use a fixed summation order (vertical running sums
 * restarted every GV_FLOW_VBLOCK rows, horizontal power-of-two tree) so that the result is the
 * same whatever the number of threads, and the vertical blur is done before the horizontal one.
 * The per-pixel code lives in gv-flow-kernels.h, shared with the CUDA backend. */
#include "gv-flow.h"
#include "gv-flow-private.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gv-error.h"
#include "gv-flow-kernels.h"
#include "gv-threads.h"

#define GV_FLOW_MIN_SIZE 32     /* OpenCV's smallest pyramid side */
#define GV_FLOW_VBLOCK 16       /* rows per vertical running-sum block (fixed: part of the result) */
#define GV_FLOW_MAX_WINSIZE 255 /* gv_box_row_px's partial-sum buffer */
#define GV_FLOW_SMALL 16384     /* levels with fewer pixels run on one thread (same result) */
#define GV_ROWS_GRAIN 4

#define RUP8(n) (((n) + 7) & ~7)

/* The row loops are also compiled for AVX2 and picked at load time (GCC/clang function
 * multi-versioning). The lanes are independent and FMA stays off (-ffp-contract=off, and the
 * avx2 target does not include fma), so both versions give the same bits. */
#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones) && !defined(__SANITIZE_ADDRESS__)
#define GV_MULTIVERSION __attribute__ ((target_clones ("avx2", "default")))
#endif
#endif
#ifndef GV_MULTIVERSION
#define GV_MULTIVERSION
#endif

typedef struct {
  int w, h;
  ptrdiff_t stride; /* floats per row of each plane */
  ptrdiff_t plane;  /* floats per plane */
  float *R;         /* 5 planes: polynomial expansion */
} GvFlowLevel;

struct GvFlowPyramid {
  GvFlowParams p;
  int width, height, nlevels;
  GvFlowLevel *lv;
  float *mem;
};

/* ------------------------------------------------------------------------------------------ */
/* Host-side constants                                                                          */

/* Float buffers, 64-byte aligned. Not cleared: every value an output depends on is written
 * before it is read; lanes past a row's width may hold anything and are never used. */
static void *
gv_falloc (size_t nfloats)
{
  size_t bytes = (nfloats * sizeof (float) + 63) & ~(size_t) 63;
  return aligned_alloc (64, bytes ? bytes : 64);
}

/* Invert a symmetric positive 6x6 matrix (Gauss-Jordan with partial pivoting, double). */
static int
gv_invert6 (double a[6][6], double inv[6][6])
{
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 6; j++)
      inv[i][j] = i == j;
  for (int c = 0; c < 6; c++)
    {
      int piv = c;
      for (int r = c + 1; r < 6; r++)
        if (fabs (a[r][c]) > fabs (a[piv][c]))
          piv = r;
      if (fabs (a[piv][c]) < 1e-300)
        return -1;
      for (int j = 0; j < 6; j++)
        {
          double t = a[c][j];
          a[c][j] = a[piv][j];
          a[piv][j] = t;
          t = inv[c][j];
          inv[c][j] = inv[piv][j];
          inv[piv][j] = t;
        }
      double d = 1.0 / a[c][c];
      for (int j = 0; j < 6; j++)
        {
          a[c][j] *= d;
          inv[c][j] *= d;
        }
      for (int r = 0; r < 6; r++)
        if (r != c && a[r][c] != 0.0)
          {
            double f = a[r][c];
            for (int j = 0; j < 6; j++)
              {
                a[r][j] -= f * a[c][j];
                inv[r][j] -= f * inv[c][j];
              }
          }
    }
  return 0;
}

/* FarnebackPrepareGaussian: taps in float as OpenCV stores them, moments in double. */
void
_gv_flow_poly_taps_init (GvPolyTaps *t, int n, double sigma)
{
  float g[2 * GV_FLOW_POLY_MAX + 1], *gc = g + GV_FLOW_POLY_MAX;
  double s = 0.0, G[6][6] = { { 0 } }, iG[6][6];

  if (sigma < 1.1920929e-07)
    sigma = n * 0.3;
  for (int x = -n; x <= n; x++)
    {
      gc[x] = (float) exp (-x * x / (2 * sigma * sigma));
      s += gc[x];
    }
  s = 1.0 / s;
  for (int x = -n; x <= n; x++)
    gc[x] = (float) (gc[x] * s);
  t->n = n;
  for (int x = 0; x <= n; x++)
    {
      t->g[x] = gc[x];
      t->xg[x] = (float) (x * gc[x]);
      t->xxg[x] = (float) (x * x * gc[x]);
    }
  for (int y = -n; y <= n; y++)
    for (int x = -n; x <= n; x++)
      {
        double gg = (double) gc[y] * gc[x];
        G[0][0] += gg;
        G[1][1] += gg * x * x;
        G[3][3] += gg * x * x * x * x;
        G[5][5] += gg * x * x * y * y;
      }
  G[2][2] = G[0][3] = G[0][4] = G[3][0] = G[4][0] = G[1][1];
  G[4][4] = G[3][3];
  G[3][4] = G[4][3] = G[5][5];
  if (gv_invert6 (G, iG) != 0)
    memset (iG, 0, sizeof iG); /* cannot happen for a positive Gaussian */
  t->ig11 = (float) iG[1][1];
  t->ig03 = (float) iG[0][3];
  t->ig33 = (float) iG[3][3];
  t->ig55 = (float) iG[5][5];
}

int
_gv_flow_level_geometry (const GvFlowParams *p, int W, int H, int k, double *scale,
                         double *sigma, int *ksize, int *w, int *h)
{
  if (k > 0)
    *scale *= p->pyr_scale;
  *sigma = (1.0 / *scale - 1.0) * 0.5;
  *ksize = (int) lrint (*sigma * 5) | 1;
  if (*ksize < 3)
    *ksize = 3;
  if (*ksize > 1023)
    return gv_error_set (GV_EINVAL, "flow pyramid: smoothing kernel of %d taps is too large",
                         *ksize);
  *w = (int) lrint (W * *scale);
  *h = (int) lrint (H * *scale);
  if (*w < 1)
    *w = 1;
  if (*h < 1)
    *h = 1;
  return GV_OK;
}

/* Half of a symmetric Gaussian kernel (k[0] centre), as cv::getGaussianKernel(CV_32F). */
int
_gv_flow_gauss_taps (float *k, int ksize, double sigma)
{
  int r = ksize / 2;
  double sum = 0.0;
  float full[1024];

  if (ksize > 1023)
    return -1;
  if (sigma <= 0 && ksize == 3)
    {
      full[0] = 0.25f;
      full[1] = 0.5f;
      full[2] = 0.25f;
      sum = 1.0;
    }
  else
    {
      if (sigma <= 0)
        sigma = ((ksize - 1) * 0.5 - 1) * 0.3 + 0.8;
      double s2 = -0.5 / (sigma * sigma);
      for (int i = 0; i < ksize; i++)
        {
          double x = i - (ksize - 1) * 0.5;
          full[i] = (float) exp (s2 * x * x);
          sum += full[i];
        }
    }
  sum = 1.0 / sum;
  for (int i = 0; i <= r; i++)
    k[i] = (float) (full[r + i] * sum);
  return r;
}

/* cv::resize INTER_LINEAR coefficients along one axis. OpenCV zeroes the weight past the
 * border horizontally but only clamps the row index vertically. */
void
_gv_flow_linear_tab (int sn, int dn, int zero_border, int *o0, int *o1, float *w0, float *w1)
{
  double sc = 1.0 / ((double) dn / sn);

  for (int d = 0; d < dn; d++)
    {
      float f = (float) ((d + 0.5) * sc - 0.5);
      int s = (int) floorf (f);
      f -= (float) s;
      if (zero_border)
        {
          if (s < 0)
            s = 0, f = 0.0f;
          if (s >= sn - 1)
            s = sn - 1, f = 0.0f;
          o0[d] = s;
          o1[d] = s + 1 < sn ? s + 1 : sn - 1;
        }
      else
        {
          o0[d] = gv_clampi (s, 0, sn - 1);
          o1[d] = gv_clampi (s + 1, 0, sn - 1);
        }
      w0[d] = 1.0f - f;
      w1[d] = f;
    }
}

static int
gv_flow_check_params (const GvFlowParams *p)
{
  int rc;

  if (!p)
    return gv_error_set (GV_EINVAL, "Farneback parameters are missing");
  rc = gv_flow_params_validate (p);
  if (rc)
    return rc;
  if (p->winsize < 1 || p->winsize > GV_FLOW_MAX_WINSIZE)
    return gv_error_set (GV_EINVAL, "parameter winsize must be 1..%d, not %d", GV_FLOW_MAX_WINSIZE,
                         p->winsize);
  if (p->levels > 64 || p->iterations > 1000 || !(p->poly_sigma >= 0 && p->poly_sigma < 100))
    return gv_error_set (GV_EINVAL, "Farneback parameters are out of range");
  return GV_OK;
}

static int
gv_flow_level_count (int w, int h, const GvFlowParams *p)
{
  double scale = 1.0;
  int k;

  for (k = 0; k < p->levels; k++)
    {
      scale *= p->pyr_scale;
      if (w * scale < GV_FLOW_MIN_SIZE || h * scale < GV_FLOW_MIN_SIZE)
        break;
    }
  return k + 1;
}

static int
gv_threads_for (int nthreads, int w, int h)
{
  return (long) w * h < GV_FLOW_SMALL ? 1 : nthreads;
}

/* ------------------------------------------------------------------------------------------ */
/* Pyramid: float conversion with reflected border, smoothing + resize, polynomial expansion   */

typedef struct {
  const GvImage *src;
  float *P;
  ptrdiff_t pstride;
  int R;
} GvPadCtx;

GV_MULTIVERSION static void
gv_pad_rows (void *data, int b, int e)
{
  GvPadCtx *c = data;
  int W = c->src->width, H = c->src->height, R = c->R;

  for (int py = b; py < e; py++)
    {
      int sy = gv_reflect101 (py - R, H);
      float *d = c->P + py * c->pstride;
      if (c->src->depth == GV_U8)
        {
          const uint8_t *s = gv_image_row_u8 (c->src, sy);
          for (int x = 0; x < W; x++)
            d[R + x] = (float) s[x];
        }
      else
        {
          const float *s = gv_image_row_f32 (c->src, sy);
          memcpy (d + R, s, (size_t) W * sizeof (float));
        }
      for (int i = 1; i <= R; i++)
        {
          d[R - i] = d[R + gv_reflect101 (-i, W)];
          d[R + W - 1 + i] = d[R + gv_reflect101 (W - 1 + i, W)];
        }
    }
}

typedef struct {
  const float *P; /* padded source, origin at (R, R) */
  ptrdiff_t pstride;
  int W, H, R, pw8; /* pw8: padded width rounded up to 8 */
  const float *k;
  int r;
  float *L; /* level image */
  ptrdiff_t lstride;
  int w, h;
  const int *xo0, *xo1, *yo0, *yo1;
  const float *xa0, *xa1, *yb0, *yb1;
  float *scratch; /* per chunk: 2 rows of pstride */
  ptrdiff_t scratch_len;
} GvLevelCtx;

/* Vertical blur of source row sy (all padded columns) into v. */
static inline __attribute__ ((always_inline)) void
gv_blur_row_v (const GvLevelCtx *c, int sy, float *v)
{
  const float *p = c->P + (ptrdiff_t) (sy + c->R) * c->pstride;
  for (int x = 0; x < c->pw8; x += GV_FLOW_LANES)
    gv_fir_sym_x8 (v + x, p + x, c->pstride, c->k, c->r);
}

/* Level at the input size: blur only (cv::resize copies when the size does not change). */
GV_MULTIVERSION static void
gv_level_same (void *data, int b, int e)
{
  GvLevelCtx *c = data;
  float *v = c->scratch + (ptrdiff_t) (b / GV_ROWS_GRAIN) * c->scratch_len;

  for (int y = b; y < e; y++)
    {
      float *d = c->L + y * c->lstride;
      gv_blur_row_v (c, y, v);
      for (int x = 0; x < RUP8 (c->w); x += GV_FLOW_LANES)
        gv_fir_sym_x8 (d + x, v + c->R + x, 1, c->k, c->r);
    }
}

GV_MULTIVERSION static void
gv_level_resize (void *data, int b, int e)
{
  GvLevelCtx *c = data;
  float *v0 = c->scratch + (ptrdiff_t) (b / GV_ROWS_GRAIN) * c->scratch_len;
  float *v1 = v0 + c->pstride;

  for (int y = b; y < e; y++)
    {
      float *d = c->L + y * c->lstride;
      int sy0 = c->yo0[y], sy1 = c->yo1[y];
      float b0 = c->yb0[y], b1 = c->yb1[y];
      const float *c0 = v0 + c->R, *c1 = v1 + c->R;

      gv_blur_row_v (c, sy0, v0);
      if (sy1 != sy0)
        gv_blur_row_v (c, sy1, v1);
      else
        c1 = c0;
      for (int x = 0; x < c->w; x++)
        {
          int x0 = c->xo0[x], x1 = c->xo1[x];
          float a0 = c->xa0[x], a1 = c->xa1[x];
          float d0 = gv_fir_sym_px (c0 + x0, 1, c->k, c->r) * a0
                     + gv_fir_sym_px (c0 + x1, 1, c->k, c->r) * a1;
          float d1 = gv_fir_sym_px (c1 + x0, 1, c->k, c->r) * a0
                     + gv_fir_sym_px (c1 + x1, 1, c->k, c->r) * a1;
          d[x] = d0 * b0 + d1 * b1;
        }
    }
}

typedef struct {
  const float *L;
  ptrdiff_t lstride;
  int w, h;
  const GvPolyTaps *t;
  float *R;
  ptrdiff_t rstride, rplane;
  float *scratch; /* per chunk: 3 rows of tlen */
  ptrdiff_t tlen;
} GvPolyCtx;

GV_MULTIVERSION static void
gv_polyexp_rows (void *data, int b, int e)
{
  GvPolyCtx *c = data;
  int n = c->t->n, w = c->w;
  float *t0 = c->scratch + (ptrdiff_t) (b / GV_ROWS_GRAIN) * 3 * c->tlen;
  float *t1 = t0 + c->tlen, *t2 = t1 + c->tlen;

  for (int y = b; y < e; y++)
    {
      for (int x = 0; x < RUP8 (w); x += GV_FLOW_LANES)
        gv_polyexp_v_x8 (c->L, c->lstride, x, y, c->h, c->t, t0 + n + x, t1 + n + x, t2 + n + x);
      for (int i = 1; i <= n; i++)
        {
          t0[n - i] = t0[n];
          t1[n - i] = t1[n];
          t2[n - i] = t2[n];
          t0[n + w - 1 + i] = t0[n + w - 1];
          t1[n + w - 1 + i] = t1[n + w - 1];
          t2[n + w - 1 + i] = t2[n + w - 1];
        }
      float *r = c->R + y * c->rstride;
      for (int x = 0; x < RUP8 (w); x += GV_FLOW_LANES)
        gv_polyexp_h_x8 (t0 + n, t1 + n, t2 + n, x, c->t, r + x, r + c->rplane + x,
                         r + 2 * c->rplane + x, r + 3 * c->rplane + x, r + 4 * c->rplane + x);
    }
}

void
gv_flow_pyramid_free (GvFlowPyramid *pyr)
{
  if (!pyr)
    return;
  free (pyr->mem);
  free (pyr->lv);
  free (pyr);
}

GvFlowPyramid *
gv_flow_pyramid_new (const GvImage *gray, const GvFlowParams *p, int nthreads)
{
  GvFlowPyramid *pyr = NULL;
  float *P = NULL, *L = NULL, *scratch = NULL, *taps = NULL, *ftab = NULL;
  int *itab = NULL;
  GvPolyTaps pt;
  int W, H, R = 0, nlev, rc = GV_OK;
  int ksz[65], rads[65];
  double sig[65];

  if (!gray || !gray->data)
    {
      gv_error_set (GV_EINVAL, "flow pyramid: no image");
      return NULL;
    }
  if (gray->channels != 1 || (gray->depth != GV_U8 && gray->depth != GV_F32))
    {
      gv_error_set (GV_EINVAL, "flow pyramid: image must be 1-channel U8 or F32, not %d-channel %s",
                    gray->channels, gray->depth == GV_U8 ? "U8" : "F32");
      return NULL;
    }
  if (gray->width < 1 || gray->height < 1 || gray->width > GV_IMAGE_MAX_SIDE
      || gray->height > GV_IMAGE_MAX_SIDE)
    {
      gv_error_set (GV_EINVAL, "flow pyramid: image size %dx%d is not valid", gray->width,
                    gray->height);
      return NULL;
    }
  if (gv_flow_check_params (p) != GV_OK)
    return NULL;
  if (nthreads <= 0)
    nthreads = gv_threads_default ();

  W = gray->width;
  H = gray->height;
  nlev = gv_flow_level_count (W, H, p);
  pyr = calloc (1, sizeof *pyr);
  if (!pyr || !(pyr->lv = calloc ((size_t) nlev, sizeof *pyr->lv)))
    goto nomem;
  pyr->p = *p;
  pyr->width = W;
  pyr->height = H;
  pyr->nlevels = nlev;

  /* Level sizes, smoothing kernels and the memory for the expansions. */
  size_t total = 0, maxlev = 0;
  double scale = 1.0;
  for (int k = 0; k < nlev; k++)
    {
      GvFlowLevel *lv = &pyr->lv[k];
      if (_gv_flow_level_geometry (p, W, H, k, &scale, &sig[k], &ksz[k], &lv->w, &lv->h))
        goto fail;
      rads[k] = ksz[k] / 2;
      if (rads[k] > R)
        R = rads[k];
      lv->stride = RUP8 (lv->w) + 8;
      lv->plane = lv->stride * lv->h;
      total += 5 * (size_t) lv->plane;
      if ((size_t) lv->plane > maxlev)
        maxlev = (size_t) lv->plane;
    }
  pyr->mem = gv_falloc (total);
  if (!pyr->mem)
    goto nomem;
  {
    float *m = pyr->mem;
    for (int k = 0; k < nlev; k++)
      {
        pyr->lv[k].R = m;
        m += 5 * pyr->lv[k].plane;
      }
  }

  /* Float source with R reflected (BORDER_REFLECT_101) pixels on each side. */
  ptrdiff_t pstride = RUP8 (W + 2 * R) + 16;
  P = gv_falloc ((size_t) pstride * (size_t) (H + 2 * R));
  L = gv_falloc (maxlev + 64);
  int pn = p->poly_n;
  ptrdiff_t tlen = RUP8 (W + 2 * pn) + 16;
  ptrdiff_t slen = 2 * pstride > 3 * tlen ? 2 * pstride : 3 * tlen;
  int nchunks = (H + GV_ROWS_GRAIN - 1) / GV_ROWS_GRAIN;
  scratch = gv_falloc ((size_t) slen * (size_t) nchunks);
  taps = gv_falloc (1024);
  itab = malloc (sizeof (int) * 2 * (size_t) (W + H));
  ftab = malloc (sizeof (float) * 2 * (size_t) (W + H));
  if (!P || !L || !scratch || !taps || !itab || !ftab)
    goto nomem;

  GvPadCtx pc = { gray, P, pstride, R };
  gv_parallel_for (nthreads, H + 2 * R, 8, gv_pad_rows, &pc);

  _gv_flow_poly_taps_init (&pt, pn, p->poly_sigma);
  for (int k = 0; k < nlev; k++)
    {
      GvFlowLevel *lv = &pyr->lv[k];
      int nt = gv_threads_for (nthreads, W, H);
      int r = _gv_flow_gauss_taps (taps, ksz[k], k == 0 ? 0.0 : sig[k]);
      GvLevelCtx lc = {
        .P = P, .pstride = pstride, .W = W, .H = H, .R = R, .pw8 = RUP8 (W + 2 * R),
        .k = taps, .r = r, .L = L, .lstride = lv->stride, .w = lv->w, .h = lv->h,
        .scratch = scratch, .scratch_len = slen,
      };
      /* level 0: sigma = 0 gives OpenCV's fixed [1 2 1]/4 kernel */
      if (lv->w == W && lv->h == H)
        gv_parallel_for (nt, lv->h, GV_ROWS_GRAIN, gv_level_same, &lc);
      else
        {
          int *xo0 = itab, *xo1 = xo0 + lv->w, *yo0 = xo1 + lv->w, *yo1 = yo0 + lv->h;
          float *xa0 = ftab, *xa1 = xa0 + lv->w, *yb0 = xa1 + lv->w, *yb1 = yb0 + lv->h;
          _gv_flow_linear_tab (W, lv->w, 1, xo0, xo1, xa0, xa1);
          _gv_flow_linear_tab (H, lv->h, 0, yo0, yo1, yb0, yb1);
          lc.xo0 = xo0, lc.xo1 = xo1, lc.yo0 = yo0, lc.yo1 = yo1;
          lc.xa0 = xa0, lc.xa1 = xa1, lc.yb0 = yb0, lc.yb1 = yb1;
          gv_parallel_for (nt, lv->h, GV_ROWS_GRAIN, gv_level_resize, &lc);
        }
      GvPolyCtx pcx = {
        .L = L, .lstride = lv->stride, .w = lv->w, .h = lv->h, .t = &pt, .R = lv->R,
        .rstride = lv->stride, .rplane = lv->plane, .scratch = scratch, .tlen = tlen,
      };
      gv_parallel_for (gv_threads_for (nthreads, lv->w, lv->h), lv->h, GV_ROWS_GRAIN,
                       gv_polyexp_rows, &pcx);
    }
  goto out;

nomem:
  gv_error_set (GV_ENOMEM, "flow pyramid: out of memory for a %dx%d image", gray->width,
                gray->height);
fail:
  rc = GV_ENOMEM;
  gv_flow_pyramid_free (pyr);
  pyr = NULL;
out:
  (void) rc;
  free (P);
  free (L);
  free (scratch);
  free (taps);
  free (itab);
  free (ftab);
  return pyr;
}

/* ------------------------------------------------------------------------------------------ */
/* Flow                                                                                         */

typedef struct {
  const GvFlowLevel *l0, *l1;
  int w, h, win, m;
  float scale;    /* 1 / win^2 */
  float *Hin, *Hout; /* 5 planes each: horizontally box-summed matrices */
  float *FX, *FY;    /* flow planes at this level */
  const float *PX, *PY; /* coarser flow planes (init pass), or NULL for zero flow */
  ptrdiff_t pstride;
  const int *xo0, *xo1, *yo0, *yo1;
  const float *xa0, *xa1, *yb0, *yb1;
  const float *colw; /* border weight tables of gv_update_matrices_x8 */
  const int *colb;
  float up; /* 1 / pyr_scale */
  int update;   /* recompute the matrices after the flow */
  GvImage *out; /* final flow (level 0, last iteration), else NULL */
  float *scratch;
  ptrdiff_t scratch_len, slen;
} GvIterCtx;

/* Row helpers in lanes of 8 over n8 (a multiple of 8) elements; restrict lets -O2 vectorise. */
static inline void
gv_row_copy (float *GV_RESTRICT d, const float *GV_RESTRICT s, int n8)
{
  for (int x = 0; x < n8; x += GV_FLOW_LANES)
    for (int j = 0; j < GV_FLOW_LANES; j++)
      d[x + j] = s[x + j];
}

static inline void
gv_row_add (float *GV_RESTRICT d, const float *GV_RESTRICT s, int n8)
{
  for (int x = 0; x < n8; x += GV_FLOW_LANES)
    for (int j = 0; j < GV_FLOW_LANES; j++)
      d[x + j] = d[x + j] + s[x + j];
}

/* d = a + b (partial sums: b is a shifted by a power of two) */
static inline void
gv_row_sum2 (float *GV_RESTRICT d, const float *a, const float *b, int n8)
{
  for (int x = 0; x < n8; x += GV_FLOW_LANES)
    for (int j = 0; j < GV_FLOW_LANES; j++)
      d[x + j] = a[x + j] + b[x + j];
}

/* running sum: d = d + (in - out) */
static inline void
gv_row_slide (float *GV_RESTRICT d, const float *GV_RESTRICT in, const float *GV_RESTRICT out,
              int n8)
{
  for (int x = 0; x < n8; x += GV_FLOW_LANES)
    for (int j = 0; j < GV_FLOW_LANES; j++)
      d[x + j] = d[x + j] + (in[x + j] - out[x + j]);
}

/* Horizontal box sum (window win, replicated border) of row src[0..w) into dst, through the
 * power-of-two partial sums of gv_box_row_px: sa and sb are scratch rows of slen floats. */
static inline __attribute__ ((always_inline)) void
gv_box_row (float *GV_RESTRICT dst, const float *src, int w, int win, float *sa, float *sb,
            ptrdiff_t slen)
{
  int m = win / 2, len = w + win - 1, off = 0, first = 1;
  float *cur = sa, *nxt = sb;

  for (int i = 0; i < m; i++)
    sa[i] = src[0];
  memcpy (sa + m, src, (size_t) w * sizeof (float));
  for (int i = m + w; i < len; i++)
    sa[i] = src[w - 1];
  for (ptrdiff_t i = len; i < slen; i++)
    sa[i] = 0.0f;
  for (int b = 0, n = 1; n <= win; b++, n *= 2)
    {
      if ((win >> b) & 1)
        {
          if (first)
            gv_row_copy (dst, cur + off, RUP8 (w));
          else
            gv_row_add (dst, cur + off, RUP8 (w));
          first = 0;
          off += n;
        }
      if (2 * n <= win)
        {
          len -= n;
          gv_row_sum2 (nxt, cur, cur + n, RUP8 (len));
          float *t = cur;
          cur = nxt;
          nxt = t;
        }
    }
}

/* Matrices of row y from the flow row, box-summed horizontally into H (5 planes). */
static inline __attribute__ ((always_inline)) void
gv_matrices_row (const GvIterCtx *c, int y, const float *fx, const float *fy, float *mrow,
                 float *sa, float *sb, float *H)
{
  const GvFlowLevel *l0 = c->l0;
  ptrdiff_t st = l0->stride, pl = l0->plane, ms = RUP8 (c->w) + 8;
  const float *R0 = l0->R, *R1 = c->l1->R;

  for (int x = 0; x < RUP8 (c->w); x += GV_FLOW_LANES)
    gv_update_matrices_x8 (R0, R1, st, pl, x, y, c->w, c->h, fx, fy, c->colw, c->colb, mrow + x,
                           mrow + ms + x, mrow + 2 * ms + x, mrow + 3 * ms + x, mrow + 4 * ms + x);
  for (int ch = 0; ch < 5; ch++)
    gv_box_row (H + ch * pl + y * st, mrow + ch * ms, c->w, c->win, sa, sb, c->slen);
}

GV_MULTIVERSION static void
gv_flow_init_rows (void *data, int b, int e)
{
  GvIterCtx *c = data;
  ptrdiff_t st = c->l0->stride;

  for (int blk = b; blk < e; blk++)
    {
      float *mrow = c->scratch + blk * c->scratch_len;
      float *sa = mrow + 5 * (RUP8 (c->w) + 8), *sb = sa + c->slen;
      int y1 = (blk + 1) * GV_FLOW_VBLOCK < c->h ? (blk + 1) * GV_FLOW_VBLOCK : c->h;
      for (int y = blk * GV_FLOW_VBLOCK; y < y1; y++)
        {
          float *fx = c->FX + y * st, *fy = c->FY + y * st;
          if (c->PX)
            for (int x = 0; x < RUP8 (c->w); x += GV_FLOW_LANES)
              {
                gv_bilinear_x8 (fx + x, c->PX, c->pstride, x, c->xo0, c->xo1, c->yo0[y],
                                c->yo1[y], c->xa0, c->xa1, c->yb0[y], c->yb1[y], c->up);
                gv_bilinear_x8 (fy + x, c->PY, c->pstride, x, c->xo0, c->xo1, c->yo0[y],
                                c->yo1[y], c->xa0, c->xa1, c->yb0[y], c->yb1[y], c->up);
              }
          else
            for (int x = 0; x < RUP8 (c->w); x++)
              fx[x] = fy[x] = 0.0f;
          gv_matrices_row (c, y, fx, fy, mrow, sa, sb, c->Hin);
        }
    }
}

/* One iteration over blocks of GV_FLOW_VBLOCK rows: vertical running box sums, 2x2 solve, and
 * (but for the last iteration) the matrices for the new flow. */
GV_MULTIVERSION static void
gv_flow_iter_blocks (void *data, int b, int e)
{
  GvIterCtx *c = data;
  ptrdiff_t st = c->l0->stride, pl = c->l0->plane, ms = RUP8 (c->w) + 8;
  int w8 = RUP8 (c->w), h = c->h, m = c->m;

  for (int blk = b; blk < e; blk++)
    {
      float *mrow = c->scratch + blk * c->scratch_len;
      float *sa = mrow + 5 * ms, *sb = sa + c->slen, *acc = sb + c->slen;
      int y0 = blk * GV_FLOW_VBLOCK, y1 = y0 + GV_FLOW_VBLOCK < h ? y0 + GV_FLOW_VBLOCK : h;

      for (int y = y0; y < y1; y++)
        {
          for (int ch = 0; ch < 5; ch++)
            {
              const float *Hc = c->Hin + ch * pl;
              float *a = acc + ch * ms;
              if (y == y0)
                {
                  gv_row_copy (a, Hc + (y - m < 0 ? 0 : y - m) * st, w8);
                  for (int i = -m + 1; i <= m; i++)
                    gv_row_add (a, Hc + gv_clampi (y + i, 0, h - 1) * st, w8);
                }
              else
                {
                  const float *sin = Hc + (y + m > h - 1 ? h - 1 : y + m) * st;
                  const float *sout = Hc + (y - m - 1 < 0 ? 0 : y - m - 1) * st;
                  gv_row_slide (a, sin, sout, w8);
                }
            }
          float *fx = c->FX + y * st, *fy = c->FY + y * st;
          for (int x = 0; x < w8; x += GV_FLOW_LANES)
            gv_solve_flow_x8 (acc + x, acc + ms + x, acc + 2 * ms + x, acc + 3 * ms + x,
                              acc + 4 * ms + x, c->scale, fx + x, fy + x);
          if (c->update)
            gv_matrices_row (c, y, fx, fy, mrow, sa, sb, c->Hout);
          if (c->out)
            {
              float *o = gv_image_row_f32 (c->out, y);
              for (int x = 0; x < c->w; x++)
                {
                  o[2 * x] = fx[x];
                  o[2 * x + 1] = fy[x];
                }
            }
        }
    }
}

static int
gv_flow_check_image (const GvImage *flow, int w, int h)
{
  if (!flow || !flow->data)
    return gv_error_set (GV_EINVAL, "flow: no output image");
  if (flow->depth != GV_F32 || flow->channels != 2)
    return gv_error_set (GV_EINVAL, "flow: output must be F32 with 2 channels");
  if (flow->width != w || flow->height != h)
    return gv_error_set (GV_EINVAL, "flow: output is %dx%d, the images are %dx%d", flow->width,
                         flow->height, w, h);
  if (flow->stride < (size_t) w * 2 * sizeof (float))
    return gv_error_set (GV_EINVAL, "flow: output stride is too small");
  return GV_OK;
}

int
gv_flow_farneback_pyr (const GvFlowPyramid *prev, const GvFlowPyramid *next,
                       const GvFlowParams *p, int nthreads, GvImage *flow)
{
  float *ws = NULL;
  int *itab = NULL;
  float *ftab = NULL;
  int rc;

  if (!prev || !next)
    return gv_error_set (GV_EINVAL, "flow: missing pyramid");
  if ((rc = gv_flow_check_params (p)) != GV_OK)
    return rc;
  if (prev->width != next->width || prev->height != next->height)
    return gv_error_set (GV_EINVAL, "flow: image sizes differ (%dx%d and %dx%d)", prev->width,
                         prev->height, next->width, next->height);
  if (prev->p.pyr_scale != p->pyr_scale || next->p.pyr_scale != p->pyr_scale
      || prev->p.levels != p->levels || next->p.levels != p->levels
      || prev->p.poly_n != p->poly_n || next->p.poly_n != p->poly_n
      || prev->p.poly_sigma != p->poly_sigma || next->p.poly_sigma != p->poly_sigma)
    return gv_error_set (GV_EINVAL, "flow: pyramids were built with other parameters");
  if ((rc = gv_flow_check_image (flow, prev->width, prev->height)) != GV_OK)
    return rc;
  if (nthreads <= 0)
    nthreads = gv_threads_default ();

  const GvFlowLevel *top = &prev->lv[0];
  int W = prev->width, H = prev->height, win = p->winsize;
  ptrdiff_t plane = top->plane, ms = RUP8 (W) + 8;
  ptrdiff_t slen = RUP8 (W + 2 * win) + 2 * win + 32;
  ptrdiff_t scratch_len = 10 * ms + 2 * slen;
  int nblk0 = (H + GV_FLOW_VBLOCK - 1) / GV_FLOW_VBLOCK;
  size_t total = 14 * (size_t) plane + (size_t) scratch_len * (size_t) nblk0;

  ws = gv_falloc (total);
  itab = malloc (sizeof (int) * (2 * (size_t) (W + H) + 3 * (RUP8 (W) + 8)));
  ftab = malloc (sizeof (float) * (2 * (size_t) (W + H) + 3 * (RUP8 (W) + 8)));
  if (!ws || !itab || !ftab)
    {
      rc = gv_error_set (GV_ENOMEM, "flow: out of memory for a %dx%d image", W, H);
      goto out;
    }

  float *Ha = ws, *Hb = Ha + 5 * plane, *FX = Hb + 5 * plane, *FY = FX + plane;
  float *PX = FY + plane, *PY = PX + plane, *scratch = PY + plane;
  int have_prev = 0, pw = 0, ph = 0;
  ptrdiff_t pst = 0;

  for (int k = prev->nlevels - 1; k >= 0; k--)
    {
      const GvFlowLevel *l0 = &prev->lv[k], *l1 = &next->lv[k];
      int w = l0->w, h = l0->h, nt = gv_threads_for (nthreads, w, h);
      int nblk = (h + GV_FLOW_VBLOCK - 1) / GV_FLOW_VBLOCK;
      GvIterCtx c = {
        .l0 = l0, .l1 = l1, .w = w, .h = h, .win = win, .m = win / 2,
        .scale = (float) (1.0 / ((double) win * win)),
        .Hin = Ha, .Hout = Hb, .FX = FX, .FY = FY,
        .up = (float) (1.0 / p->pyr_scale),
        .scratch = scratch, .scratch_len = scratch_len, .slen = slen,
      };
      int *colb = itab + 2 * (W + H) + 2 * (RUP8 (W) + 8);
      float *colw = ftab + 2 * (W + H) + 2 * (RUP8 (W) + 8);
      for (int x = 0; x < RUP8 (w); x++)
        {
          colb[x] = x < w ? gv_border_flag (x, w) : 0;
          colw[x] = x < w ? gv_border_lo (x) * gv_border_hi (x, w) : 1.0f;
        }
      c.colb = colb;
      c.colw = colw;
      if (have_prev)
        {
          int *xo0 = itab, *xo1 = xo0 + RUP8 (w), *yo0 = xo1 + RUP8 (w), *yo1 = yo0 + h;
          float *xa0 = ftab, *xa1 = xa0 + RUP8 (w), *yb0 = xa1 + RUP8 (w), *yb1 = yb0 + h;
          _gv_flow_linear_tab (pw, w, 1, xo0, xo1, xa0, xa1);
          _gv_flow_linear_tab (ph, h, 0, yo0, yo1, yb0, yb1);
          for (int x = w; x < RUP8 (w); x++) /* lanes past the width: any valid sample */
            {
              xo0[x] = xo1[x] = 0;
              xa0[x] = xa1[x] = 0.0f;
            }
          c.xo0 = xo0, c.xo1 = xo1, c.yo0 = yo0, c.yo1 = yo1;
          c.xa0 = xa0, c.xa1 = xa1, c.yb0 = yb0, c.yb1 = yb1;
          c.PX = PX;
          c.PY = PY;
          c.pstride = pst;
        }
      gv_parallel_for (nt, nblk, 1, gv_flow_init_rows, &c);
      for (int it = 0; it < p->iterations; it++)
        {
          c.update = it < p->iterations - 1;
          c.out = (k == 0 && !c.update) ? flow : NULL;
          gv_parallel_for (nt, nblk, 1, gv_flow_iter_blocks, &c);
          float *t = c.Hin;
          c.Hin = c.Hout;
          c.Hout = t;
        }
      /* this level's flow becomes the next level's start */
      float *t = PX;
      PX = FX, FX = t;
      t = PY;
      PY = FY, FY = t;
      pw = w, ph = h, pst = l0->stride;
      have_prev = 1;
    }
  rc = GV_OK;

out:
  free (ws);
  free (itab);
  free (ftab);
  return rc;
}

int
gv_flow_farneback (const GvImage *prev, const GvImage *next, const GvFlowParams *p, int nthreads,
                   GvImage *flow)
{
  GvFlowPyramid *a = NULL, *b = NULL;
  int rc;

  if (!prev || !next)
    return gv_error_set (GV_EINVAL, "flow: missing image");
  if (prev->width != next->width || prev->height != next->height)
    return gv_error_set (GV_EINVAL, "flow: image sizes differ (%dx%d and %dx%d)", prev->width,
                         prev->height, next->width, next->height);
  if (prev->channels != 1 || next->channels != 1)
    return gv_error_set (GV_EINVAL, "flow: images must have 1 channel");
  if ((rc = gv_flow_check_image (flow, prev->width, prev->height)) != GV_OK)
    return rc;
  a = gv_flow_pyramid_new (prev, p, nthreads);
  if (!a)
    return gv_error_code () ? gv_error_code () : GV_ENOMEM;
  b = gv_flow_pyramid_new (next, p, nthreads);
  if (!b)
    {
      rc = gv_error_code () ? gv_error_code () : GV_ENOMEM;
      goto out;
    }
  rc = gv_flow_farneback_pyr (a, b, p, nthreads, flow);
out:
  gv_flow_pyramid_free (a);
  gv_flow_pyramid_free (b);
  return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Middlebury .flo                                                                              */

#define GV_FLO_TAG 202021.25f

int
gv_flow_write_flo (const GvImage *flow, const char *path)
{
  FILE *f;
  int32_t wh[2];
  float tag = GV_FLO_TAG;
  int ok;

  if (!flow || !flow->data || !path || flow->depth != GV_F32 || flow->channels != 2)
    return gv_error_set (GV_EINVAL, "flo: flow must be F32 with 2 channels");
  f = fopen (path, "wb");
  if (!f)
    return gv_error_set (GV_EIO, "flo: cannot create %s", path);
  wh[0] = flow->width;
  wh[1] = flow->height;
  ok = fwrite (&tag, 4, 1, f) == 1 && fwrite (wh, 4, 2, f) == 2;
  for (int y = 0; ok && y < flow->height; y++)
    ok = fwrite (gv_image_row_f32 (flow, y), sizeof (float) * 2, (size_t) flow->width, f)
         == (size_t) flow->width;
  if (fclose (f) != 0)
    ok = 0;
  return ok ? GV_OK : gv_error_set (GV_EIO, "flo: write error on %s", path);
}

GvImage *
gv_flow_read_flo (const char *path)
{
  FILE *f;
  float tag = 0;
  int32_t wh[2] = { 0, 0 };
  GvImage *img = NULL;

  if (!path)
    {
      gv_error_set (GV_EINVAL, "flo: no path");
      return NULL;
    }
  f = fopen (path, "rb");
  if (!f)
    {
      gv_error_set (GV_EIO, "flo: cannot open %s", path);
      return NULL;
    }
  if (fread (&tag, 4, 1, f) != 1 || fread (wh, 4, 2, f) != 2 || tag != GV_FLO_TAG || wh[0] < 1
      || wh[1] < 1 || wh[0] > GV_IMAGE_MAX_SIDE || wh[1] > GV_IMAGE_MAX_SIDE)
    {
      gv_error_set (GV_EFORMAT, "flo: %s is not a Middlebury .flo file", path);
      goto out;
    }
  img = gv_image_new (wh[0], wh[1], 2, GV_F32);
  if (!img)
    goto out;
  for (int y = 0; y < wh[1]; y++)
    if (fread (gv_image_row_f32 (img, y), sizeof (float) * 2, (size_t) wh[0], f) != (size_t) wh[0])
      {
        gv_error_set (GV_EFORMAT, "flo: %s is truncated", path);
        gv_image_free (img);
        img = NULL;
        goto out;
      }
out:
  fclose (f);
  return img;
}
