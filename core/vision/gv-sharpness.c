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
  int64_t *row_n, *row_s, *row_q;
} LapCtx;

/* Columns [*lo, *hi] of row y that can hold pixels inside the quad: a conservative span from
 * the edges, the exact test is gv_point_in_quad per pixel. */
static void
gv_quad_row_span (const float *q, int y, int width, int *lo, int *hi)
{
  double xmin = 1e30, xmax = -1e30;

  for (int i = 0; i < 4; i++)
    {
      int j = (i + 1) & 3;
      double y0 = q[2 * i + 1], y1 = q[2 * j + 1], x0 = q[2 * i], x1 = q[2 * j];
      if ((y < y0 && y < y1) || (y > y0 && y > y1))
        continue;
      double x = y1 == y0 ? (x0 < x1 ? x0 : x1) : x0 + (x1 - x0) * (y - y0) / (y1 - y0);
      double xb = y1 == y0 ? (x0 > x1 ? x0 : x1) : x;
      if (x < xmin)
        xmin = x;
      if (xb > xmax)
        xmax = xb;
    }
  if (xmin > xmax)
    {
      *lo = 1;
      *hi = 0;
      return;
    }
  *lo = xmin - 1 < 0 ? 0 : (int) floor (xmin - 1);
  *hi = xmax + 1 > width - 1 ? width - 1 : (int) ceil (xmax + 1);
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
      int64_t n = 0, s = 0, sq = 0;
      int lo = 0, hi = w - 1;

      if (c->q)
        gv_quad_row_span (c->q, y, w, &lo, &hi);
      for (int x = lo; x <= hi; x++)
        {
          if (c->q && !gv_point_in_quad (c->q, (float) x, (float) y))
            continue;
          int v = gv_laplacian3_at (r0, r1, r2, x, w);
          n++;
          s += v;
          sq += (int64_t) v * v;
        }
      c->row_n[y] = n;
      c->row_s[y] = s;
      c->row_q[y] = sq;
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

double
gv_sharpness_laplacian_var (const GvImage *gray, const GvQuad *roi, int nthreads)
{
  LapCtx c = { gray, NULL, NULL, NULL, NULL };
  float q[8];
  __int128 n = 0, s = 0, sq = 0;
  int h = gray->height;
  double var;

  if (gray->depth != GV_U8 || gray->channels != 1 || gray->width < 1 || h < 1)
    return -1.0;
  if (roi)
    {
      gv_quad_to_float (roi, 1.0, 1.0, q);
      c.q = q;
    }
  c.row_n = calloc ((size_t) h * 3, sizeof (int64_t));
  if (!c.row_n)
    return -1.0;
  c.row_s = c.row_n + h;
  c.row_q = c.row_s + h;
  gv_parallel_for (nthreads, h, 16, lap_rows, &c);
  for (int y = 0; y < h; y++)
    {
      n += c.row_n[y];
      s += c.row_s[y];
      sq += c.row_q[y];
    }
  free (c.row_n);
  if (n == 0)
    return 0.0;
  /* var = (n*Q - S^2) / n^2, exact numerator in 128-bit integers. */
  var = (double) (n * sq - s * s) / ((double) n * (double) n);
  return var;
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
          if (c->q && !gv_point_in_quad (c->q, (float) x, (float) y))
            continue;
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
