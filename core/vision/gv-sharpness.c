/* gv-sharpness.c: frame measures shared by every backend's reference path.
 * Sharpness is the variance of the 3x3 Laplacian (0 1 0 / 1 -4 1 / 0 1 0) with OpenCV's default
 * BORDER_REFLECT_101, as the production worker computes cv2.Laplacian(gray, CV_64F).var().
 * The Laplacian of 8-bit pixels is an integer, so sums and sums of squares are kept in 64-bit
 * integers per row and combined exactly: the result is independent of the thread count and of
 * the device. Motion statistics sum |flow| per row in double and combine rows in order. */
#include <math.h>
#include <stdlib.h>

#include "gv-backend.h"
#include "gv-kernel-common.h"
#include "gv-threads.h"
#include "gv-vision-kernels.h"

typedef struct {
  const GvImage *img;
  const float *q; /* NULL = whole frame */
  int64_t *rows;  /* per row: n, sum, sum of squares over the frame, then over the roi */
} LapCtx;

#if defined(__has_attribute)
#if __has_attribute(target_clones) && !defined(__SANITIZE_ADDRESS__) && defined(__x86_64__)
#define GV_LAP_MULTIVERSION __attribute__ ((target_clones ("avx2", "default")))
#endif
#endif
#ifndef GV_LAP_MULTIVERSION
#define GV_LAP_MULTIVERSION
#endif

/* Sums of the Laplacian and of its square over columns [x0, x1) of a row, 1 <= x0, x1 <= w - 1
 * (interior columns, no border reflection). Integer arithmetic: exact in any order, so the
 * vectorised loop gives the same sums as gv_laplacian3_at pixel by pixel. Squares are summed in
 * 32 bits over blocks of 1024 px (at most 1024 * 1020^2 < 2^31). */
GV_LAP_MULTIVERSION static void
lap_span (const uint8_t *restrict r0, const uint8_t *restrict r1, const uint8_t *restrict r2,
          int x0, int x1, int64_t *s, int64_t *sq)
{
  for (int xb = x0; xb < x1; xb += 1024)
    {
      int xe = xb + 1024 < x1 ? xb + 1024 : x1;
      int32_t bs = 0, bq = 0;
      for (int x = xb; x < xe; x++)
        {
          int32_t v = (int32_t) r0[x] + r2[x] + r1[x - 1] + r1[x + 1] - 4 * (int32_t) r1[x];
          bs += v;
          bq += v * v;
        }
      *s += bs;
      *sq += bq;
    }
}

/* The same over [x0, x1) for any columns, border columns through the reflecting kernel. */
static void
lap_range (const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, int x0, int x1, int w,
           int64_t *s, int64_t *sq)
{
  if (x0 >= x1)
    return;
  if (x0 == 0)
    {
      int v = gv_laplacian3_at (r0, r1, r2, 0, w);
      *s += v;
      *sq += (int64_t) v * v;
      x0 = 1;
    }
  int xe = x1 > w - 1 ? w - 1 : x1;
  if (x0 < xe)
    lap_span (r0, r1, r2, x0, xe, s, sq);
  if (x1 == w && w > 1 && x0 <= w - 1)
    {
      int v = gv_laplacian3_at (r0, r1, r2, w - 1, w);
      *s += v;
      *sq += (int64_t) v * v;
    }
}

static void
lap_rows (void *data, int b, int e)
{
  LapCtx *c = data;
  const GvImage *img = c->img;
  int w = img->width, h = img->height;

  for (int y = b; y < e; y++)
    {
      const uint8_t *r0 = gv_image_row_u8 (img, gv_reflect101 (y - 1, h));
      const uint8_t *r1 = gv_image_row_u8 (img, y);
      const uint8_t *r2 = gv_image_row_u8 (img, gv_reflect101 (y + 1, h));
      int64_t *o = c->rows + 6 * (size_t) y;
      int64_t s = 0, sq = 0, rs = 0, rq = 0;
      int lo = 0, hi = -1;

      if (c->q)
        gv_quad_row_span (c->q, y, w, &lo, &hi);
      /* Three ranges so the inner loops carry no per-pixel test. */
      if (lo > hi)
        lo = hi = w; /* no roi pixels in this row: [0, w) is all "outside" */
      lap_range (r0, r1, r2, 0, lo, w, &s, &sq);
      lap_range (r0, r1, r2, lo, hi + 1 < w ? hi + 1 : w, w, &rs, &rq);
      lap_range (r0, r1, r2, hi + 1, w, w, &s, &sq);
      s += rs;
      sq += rq;
      o[0] = w;
      o[1] = s;
      o[2] = sq;
      o[3] = lo < w ? hi - lo + 1 : 0;
      o[4] = rs;
      o[5] = rq;
    }
}

void
gv_quad_to_float (const GvQuad *roi, double sx, double sy, float q[8])
{
  /* Pixel centres at integer coordinates: x_dst = (x_src + 0.5) * s - 0.5. */
  for (int i = 0; i < 4; i++)
    {
      q[2 * i] = (float) ((roi->x[i] + 0.5) * sx - 0.5);
      q[2 * i + 1] = (float) ((roi->y[i] + 0.5) * sy - 0.5);
    }
}

static double
var_from_sums (__int128 n, __int128 s, __int128 sq)
{
  /* var = (n*Q - S^2) / n^2, exact numerator in 128-bit integers. */
  if (n == 0)
    return 0.0;
  return (double) (n * sq - s * s) / ((double) n * (double) n);
}

int
gv_sharpness_laplacian_var2 (const GvImage *gray, const GvQuad *roi, int nthreads,
                             double *var_frame, double *var_roi)
{
  LapCtx c = { gray, NULL, NULL };
  float q[8];
  __int128 t[6] = { 0 };
  int h = gray->height;

  *var_frame = *var_roi = -1.0;
  if (gray->depth != GV_U8 || gray->channels != 1 || gray->width < 1 || h < 1)
    return -1;
  if (roi)
    {
      gv_quad_to_float (roi, 1.0, 1.0, q);
      c.q = q;
    }
  c.rows = calloc ((size_t) h * 6, sizeof (int64_t));
  if (!c.rows)
    return -1;
  gv_parallel_for (nthreads, h, 16, lap_rows, &c);
  for (int y = 0; y < h; y++)
    for (int k = 0; k < 6; k++)
      t[k] += c.rows[6 * (size_t) y + k];
  free (c.rows);
  *var_frame = var_from_sums (t[0], t[1], t[2]);
  *var_roi = roi ? var_from_sums (t[3], t[4], t[5]) : *var_frame;
  return 0;
}

double
gv_sharpness_laplacian_var (const GvImage *gray, const GvQuad *roi, int nthreads)
{
  double vf, vr;

  if (gv_sharpness_laplacian_var2 (gray, roi, nthreads, &vf, &vr) != 0)
    return -1.0;
  return roi ? vr : vf;
}

typedef struct {
  const GvImage *flow;
  const float *q;
  float sx, sy;
  double *row_sum;
  float *row_max;
  long *row_n;
} MagCtx;

static void
mag_rows (void *data, int b, int e)
{
  MagCtx *c = data;
  int w = c->flow->width;

  for (int y = b; y < e; y++)
    {
      const float *f = gv_image_row_f32 (c->flow, y);
      double sum = 0.0;
      float mx = 0.0f;
      long n = 0;
      int lo = 0, hi = w - 1;

      if (c->q)
        gv_quad_row_span (c->q, y, w, &lo, &hi);
      for (int x = lo; x <= hi; x++)
        {
          float m = gv_flow_mag_at (f[2 * x], f[2 * x + 1], c->sx, c->sy);
          sum += m;
          if (m > mx)
            mx = m;
          n++;
        }
      c->row_sum[y] = sum;
      c->row_max[y] = mx;
      c->row_n[y] = n;
    }
}

long
gv_flow_magnitude_stats (const GvImage *flow, const GvQuad *roi, double scale, int nthreads,
                         double *mean, double *max)
{
  return gv_flow_magnitude_stats_xy (flow, roi, scale, scale, nthreads, mean, max);
}

long
gv_flow_magnitude_stats_xy (const GvImage *flow, const GvQuad *roi, double sx, double sy,
                            int nthreads, double *mean, double *max)
{
  MagCtx c = { flow, NULL, (float) sx, (float) sy, NULL, NULL, NULL };
  int h = flow->height;
  float q[8];
  double sum = 0.0;
  float mx = 0.0f;
  long n = 0;

  *mean = 0.0;
  *max = 0.0;
  if (flow->depth != GV_F32 || flow->channels != 2)
    return -1;
  if (roi)
    {
      gv_quad_to_float (roi, 1.0, 1.0, q);
      c.q = q;
    }
  c.row_sum = calloc ((size_t) h, sizeof (double));
  c.row_max = calloc ((size_t) h, sizeof (float));
  c.row_n = calloc ((size_t) h, sizeof (long));
  if (!c.row_sum || !c.row_max || !c.row_n)
    {
      n = -1;
      goto out;
    }
  gv_parallel_for (nthreads, h, 8, mag_rows, &c);
  for (int y = 0; y < h; y++)
    {
      sum += c.row_sum[y];
      n += c.row_n[y];
      if (c.row_max[y] > mx)
        mx = c.row_max[y];
    }
  if (n > 0)
    *mean = sum / (double) n;
  *max = mx;
out:
  free (c.row_sum);
  free (c.row_max);
  free (c.row_n);
  return n;
}

void
gv_quad_scale (const GvQuad *in, double sx, double sy, GvQuad *out)
{
  for (int i = 0; i < 4; i++)
    {
      out->x[i] = (in->x[i] + 0.5) * sx - 0.5;
      out->y[i] = (in->y[i] + 0.5) * sy - 0.5;
    }
}

void
gv_quad_shrink (const GvQuad *in, double frac, GvQuad *out)
{
  double cx = 0, cy = 0;

  for (int i = 0; i < 4; i++)
    {
      cx += in->x[i] / 4;
      cy += in->y[i] / 4;
    }
  for (int i = 0; i < 4; i++)
    {
      out->x[i] = in->x[i] + (cx - in->x[i]) * frac;
      out->y[i] = in->y[i] + (cy - in->y[i]) * frac;
    }
}
