/* gv-resize.c: area-average downscale (cv::resize INTER_AREA semantics) and the analysis size.
 *
 * Integer ratios (e.g. 1920x1080 -> 640x360) follow OpenCV's resizeAreaFast: the sum of each
 * block plus half its area, divided by the area (integer arithmetic, exact). Other ratios follow
 * resizeArea_: each destination pixel is the overlap-weighted mean of the source cells it
 * covers (weights computed once in double, accumulated in float in a fixed order per pixel),
 * rounded to nearest. Every output pixel is computed by one thread in the same way, so the
 * result does not depend on the thread count. */
#include "gv-flow.h"
#include "gv-flow-private.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "gv-error.h"
#include "gv-threads.h"

void
gv_analysis_dims (int width, int height, int analysis_size, int *out_w, int *out_h)
{
  int lng = width > height ? width : height;
  int w = width, h = height;

  if (analysis_size > 0 && analysis_size < lng && width > 0 && height > 0)
    {
      /* round to nearest, halves up: (short * size + long / 2) / long */
      if (width >= height)
        {
          w = analysis_size;
          h = (int) (((long long) height * analysis_size + lng / 2) / lng);
        }
      else
        {
          h = analysis_size;
          w = (int) (((long long) width * analysis_size + lng / 2) / lng);
        }
      if (w < 1)
        w = 1;
      if (h < 1)
        h = 1;
    }
  if (out_w)
    *out_w = w;
  if (out_h)
    *out_h = h;
}

/* One axis of resizeArea_: for destination index d, source cells [start, start + count) with
 * weights (sum 1). */
int
_gv_area_tab (int sn, int dn, GvAreaTab *t)
{
  double scale = (double) sn / dn;
  int cap = dn * ((int) ceil (scale) + 2);

  t->start = malloc (sizeof (int) * (size_t) dn);
  t->count = malloc (sizeof (int) * (size_t) dn);
  t->offset = malloc (sizeof (int) * (size_t) dn);
  t->wt = malloc (sizeof (float) * (size_t) cap);
  if (!t->start || !t->count || !t->offset || !t->wt)
    return -1;
  int k = 0;
  for (int d = 0; d < dn; d++)
    {
      double f1 = d * scale, f2 = f1 + scale;
      double cell = scale < sn - f1 ? scale : sn - f1;
      int s1 = (int) ceil (f1), s2 = (int) floor (f2);
      if (s2 > sn)
        s2 = sn;
      if (s1 > s2)
        s1 = s2;
      t->offset[d] = k;
      t->start[d] = s1 - (s1 - f1 > 1e-3 ? 1 : 0);
      if (s1 - f1 > 1e-3)
        t->wt[k++] = (float) ((s1 - f1) / cell);
      for (int s = s1; s < s2; s++)
        t->wt[k++] = (float) (1.0 / cell);
      if (f2 - s2 > 1e-3 && s2 < sn)
        t->wt[k++] = (float) ((f2 - s2) / cell);
      t->count[d] = k - t->offset[d];
    }
  return 0;
}

void
_gv_area_tab_free (GvAreaTab *t)
{
  free (t->start);
  free (t->count);
  free (t->offset);
  free (t->wt);
}

typedef struct {
  const GvImage *src;
  GvImage *dst;
  int ix, iy; /* integer ratio, or 0 */
  GvAreaTab tx, ty;
} GvAreaCtx;

static void
gv_area_fast_rows (void *data, int b, int e)
{
  GvAreaCtx *c = data;
  int ix = c->ix, iy = c->iy, area = ix * iy, sw = c->dst->width * ix;
  /* Column sums over the iy source rows first (contiguous, vectorisable), then ix of them per
   * output pixel. Integer sums: the same result as summing each block directly. */
  uint32_t *col = malloc (sizeof (uint32_t) * (size_t) (sw > 0 ? sw : 1));

  if (!col)
    {
      /* Out of memory for a row buffer: the direct form needs none. */
      for (int y = b; y < e; y++)
        {
          uint8_t *d = gv_image_row_u8 (c->dst, y);
          for (int x = 0; x < c->dst->width; x++)
            {
              int sum = area / 2;
              for (int j = 0; j < iy; j++)
                {
                  const uint8_t *sr = gv_image_row_u8 (c->src, y * iy + j) + x * ix;
                  for (int i = 0; i < ix; i++)
                    sum += sr[i];
                }
              d[x] = (uint8_t) (sum / area);
            }
        }
      return;
    }
  for (int y = b; y < e; y++)
    {
      uint8_t *d = gv_image_row_u8 (c->dst, y);
      const uint8_t *s0 = gv_image_row_u8 (c->src, y * iy);
      for (int x = 0; x < sw; x++)
        col[x] = s0[x];
      for (int j = 1; j < iy; j++)
        {
          const uint8_t *sr = gv_image_row_u8 (c->src, y * iy + j);
          for (int x = 0; x < sw; x++)
            col[x] += sr[x];
        }
      for (int x = 0; x < c->dst->width; x++)
        {
          uint32_t sum = (uint32_t) (area / 2);
          for (int i = 0; i < ix; i++)
            sum += col[x * ix + i];
          d[x] = (uint8_t) (sum / (uint32_t) area);
        }
    }
  free (col);
}

static void
gv_area_rows (void *data, int b, int e)
{
  GvAreaCtx *c = data;

  for (int y = b; y < e; y++)
    {
      uint8_t *d = gv_image_row_u8 (c->dst, y);
      int ys = c->ty.start[y], yn = c->ty.count[y];
      const float *wy = c->ty.wt + c->ty.offset[y];
      for (int x = 0; x < c->dst->width; x++)
        {
          int xs = c->tx.start[x], xn = c->tx.count[x];
          const float *wx = c->tx.wt + c->tx.offset[x];
          float acc = 0.0f;
          for (int j = 0; j < yn; j++)
            {
              const uint8_t *s = gv_image_row_u8 (c->src, ys + j) + xs;
              float row = 0.0f;
              for (int i = 0; i < xn; i++)
                row = row + wx[i] * (float) s[i];
              acc = acc + wy[j] * row;
            }
          int v = (int) lrintf (acc);
          d[x] = (uint8_t) (v < 0 ? 0 : (v > 255 ? 255 : v));
        }
    }
}

int
gv_resize_area_u8 (const GvImage *src, GvImage *dst, int nthreads)
{
  GvAreaCtx c = { 0 };
  int rc = GV_OK;

  if (!src || !dst || !src->data || !dst->data)
    return gv_error_set (GV_EINVAL, "resize: missing image");
  if (src->depth != GV_U8 || dst->depth != GV_U8 || src->channels != 1 || dst->channels != 1)
    return gv_error_set (GV_EINVAL, "resize: images must be U8 with 1 channel");
  if (dst->width < 1 || dst->height < 1 || dst->width > src->width || dst->height > src->height)
    return gv_error_set (GV_EINVAL, "resize: cannot area-resize %dx%d to %dx%d", src->width,
                         src->height, dst->width, dst->height);
  c.src = src;
  c.dst = dst;
  if (src->width % dst->width == 0 && src->height % dst->height == 0)
    {
      c.ix = src->width / dst->width;
      c.iy = src->height / dst->height;
      gv_parallel_for (nthreads, dst->height, 8, gv_area_fast_rows, &c);
      return GV_OK;
    }
  if (_gv_area_tab (src->width, dst->width, &c.tx) || _gv_area_tab (src->height, dst->height, &c.ty))
    {
      rc = gv_error_set (GV_ENOMEM, "resize: out of memory");
      goto out;
    }
  gv_parallel_for (nthreads, dst->height, 8, gv_area_rows, &c);
out:
  _gv_area_tab_free (&c.tx);
  _gv_area_tab_free (&c.ty);
  return rc;
}
