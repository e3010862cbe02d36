/* gv-regions.c: the worker's six regions (seed-system.md) measured on our mask and score map,
 * with the worker's field names. Sums are per row, combined in row order. */
#include <stdlib.h>

#include "gv-defect-kernels.h"
#include "gv-defects.h"
#include "gv-threads.h"

static const GvRegionDef regions[GV_REGION_N] = {
  { "corner_tl", 0.00, 0.00, 0.12, 0.12, 1.2 },
  { "corner_tr", 0.88, 0.00, 1.00, 0.12, 1.2 },
  { "corner_bl", 0.00, 0.88, 0.12, 1.00, 1.2 },
  { "corner_br", 0.88, 0.88, 1.00, 1.00, 1.2 },
  { "spine", 0.00, 0.12, 0.08, 0.88, 1.5 },
  { "surface", 0.12, 0.12, 0.88, 0.88, 1.0 },
};

const GvRegionDef *
gv_region_def (GvRegionId r)
{
  return (r >= 0 && r < GV_REGION_N) ? &regions[r] : NULL;
}

/* Pixel (x, y) lies in region k when x0*w <= x < x1*w (likewise y). */
static int
in_region (int k, int x, int y, int w, int h)
{
  const GvRegionDef *d = &regions[k];
  return x >= d->x0 * w && x < d->x1 * w && y >= d->y0 * h && y < d->y1 * h;
}

GvRegionId
gv_region_of (int x, int y, int w, int h)
{
  for (int k = 0; k < GV_REGION_N; k++)
    if (in_region (k, x, y, w, h))
      return (GvRegionId) k;
  return GV_REGION_SURFACE; /* the strips the worker's regions leave out */
}

typedef struct {
  const GvDefectReport *r;
  uint8_t *gray;
  int half;
  double *rows; /* per row, per region: n, mask, score sum, score max, edges, glare */
} RegCtx;

#define NF 6

static void
reg_rows (void *data, int b, int e)
{
  RegCtx *c = data;
  const GvDefectReport *r = c->r;
  int w = r->width, h = r->height;
  for (int y = b; y < e; y++)
    {
      double *o = c->rows + (size_t) y * GV_REGION_N * NF;
      for (int i = 0; i < GV_REGION_N * NF; i++)
        o[i] = 0;
      const uint8_t *m = gv_image_row_u8 (r->mask, y), *g = gv_image_row_u8 (r->glare, y);
      const float *s = gv_image_row_f32 (r->score, y);
      for (int x = 0; x < w; x++)
        for (int k = 0; k < GV_REGION_N; k++)
          if (in_region (k, x, y, w, h))
            {
              double *q = o + k * NF;
              q[0] += 1;
              q[1] += m[x] != 0;
              q[2] += s[x];
              if (s[x] > q[3])
                q[3] = s[x];
              q[4] += gv_dk_sobel_l1 (c->gray, w, h, w, x, y) > 160;
              q[5] += __builtin_popcount (g[x]) >= c->half;
            }
    }
}

void
gv_regions_measure (GvDefectReport *r, int nthreads)
{
  for (int k = 0; k < GV_REGION_N; k++)
    {
      GvRegionReport *q = &r->regions[k];
      *q = (GvRegionReport) { 0 };
    }
  if (r->print && r->mask && r->score && r->glare)
    {
      int w = r->width, h = r->height;
      RegCtx c = { r, malloc ((size_t) w * h), (r->n_covers + 1) / 2,
                   calloc ((size_t) h * GV_REGION_N * NF, sizeof (double)) };
      if (c.gray && c.rows)
        {
          for (int y = 0; y < h; y++)
            {
              const uint8_t *p = gv_image_row_u8 (r->print, y);
              for (int x = 0; x < w; x++)
                c.gray[(size_t) y * w + x] = (uint8_t) gv_dk_luma (p + 3 * x);
            }
          gv_parallel_for (nthreads, h, 16, reg_rows, &c);
          double acc[GV_REGION_N][NF] = { { 0 } };
          for (int y = 0; y < h; y++)
            for (int k = 0; k < GV_REGION_N; k++)
              for (int f = 0; f < NF; f++)
                {
                  double v = c.rows[((size_t) y * GV_REGION_N + k) * NF + f];
                  if (f == 3)
                    acc[k][f] = v > acc[k][f] ? v : acc[k][f];
                  else
                    acc[k][f] += v;
                }
          for (int k = 0; k < GV_REGION_N; k++)
            {
              GvRegionReport *q = &r->regions[k];
              double n = acc[k][0] > 0 ? acc[k][0] : 1;
              q->defect_coverage = 100.0 * acc[k][1] / n;
              q->mean_intensity = acc[k][2] / n;
              q->max_intensity = acc[k][3];
              q->edge_density = 100.0 * acc[k][4] / n;
              q->glare = 100.0 * acc[k][5] / n;
            }
        }
      free (c.gray);
      free (c.rows);
    }
  for (int i = 0; i < r->n_defects; i++)
    r->regions[r->defects[i].region].n_defects++;
  double dmg = 0;
  for (int k = 0; k < GV_REGION_N; k++)
    {
      GvRegionReport *q = &r->regions[k];
      double qs = 0.4 * q->defect_coverage + 0.3 * q->mean_intensity * 100 + 0.3 * q->edge_density;
      q->quality_score = qs > 100 ? 100 : qs;
      q->score = 10 * q->defect_coverage > 100 ? 100 : 10 * q->defect_coverage;
      dmg += (k <= GV_REGION_CORNER_BR ? 0.15 : 0.20) * q->score;
      /* glare over more than 2 % of a region: that region's evidence is weak */
      if (q->glare > 2.0)
        r->flags |= GV_QF_GLARE;
    }
  r->damage_score = dmg;
}

/* Fixed colour scale: 0 black, 0.25 dark blue, 0.5 magenta, 0.75 orange, 1 yellow-white
 * (piecewise linear between those stops, "inferno"-like); documented in docs/accuracy.md. */
void
gv_heat_colour (float score, uint8_t rgb[3])
{
  static const float stops[5][3] = {
    { 0, 0, 0 }, { 40, 11, 84 }, { 187, 55, 84 }, { 249, 142, 9 }, { 252, 255, 164 },
  };
  float s = score < 0 ? 0 : (score > 1 ? 1 : score);
  float t = s * 4.0f;
  int i = (int) t;
  if (i > 3)
    i = 3;
  float f = t - (float) i;
  for (int c = 0; c < 3; c++)
    rgb[c] = (uint8_t) (stops[i][c] + (stops[i + 1][c] - stops[i][c]) * f + 0.5f);
}
