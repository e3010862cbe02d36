/* gv-cuda-compare.c: CPU-versus-CUDA comparison against the parity contract (see the header). */
#include "gv-cuda-compare.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void
gv_compare_init (GvCompareReport *c)
{
  memset (c, 0, sizeof *c);
  c->pass = 1;
}

GvCompareRow *
gv_compare_row (GvCompareReport *c, const char *name, int kind)
{
  static GvCompareRow overflow;

  for (int i = 0; i < c->n_rows; i++)
    if (!strcmp (c->rows[i].name, name))
      return &c->rows[i];
  if (c->n_rows >= GV_COMPARE_MAX_ROWS)
    {
      /* never expected: the rows are a fixed list; keep the caller safe */
      memset (&overflow, 0, sizeof overflow);
      return &overflow;
    }
  GvCompareRow *r = &c->rows[c->n_rows++];
  memset (r, 0, sizeof *r);
  snprintf (r->name, sizeof r->name, "%s", name);
  r->exact = kind == 1;
  r->tolerance = kind == 1 ? 0.0 : (kind == 2 ? GV_PARITY_IMAGE_TOL : GV_PARITY_FLOAT_TOL);
  r->max_scaled = 0.0;
  r->pass = 1;
  /* images: the tolerance is absolute; mark it by a negative scale marker */
  if (kind == 2)
    r->max_scaled = -1.0;
  return r;
}

void
gv_compare_add (GvCompareRow *r, double a, double b)
{
  double d;

  r->n++;
  if (a == b || (isnan (a) && isnan (b)))
    return;
  r->n_differing++;
  d = fabs (a - b);
  if (isnan (d))
    d = INFINITY;
  r->sum_abs += d;
  if (d > r->max_abs)
    r->max_abs = d;
  if (r->max_scaled >= 0.0)
    {
      double s = d / fmax (1.0, fmax (fabs (a), fabs (b)));
      if (!(s <= r->max_scaled))
        r->max_scaled = s;
    }
}

void
gv_compare_mismatch (GvCompareRow *r)
{
  r->n++;
  r->n_differing++;
  r->max_abs = INFINITY;
  if (r->max_scaled >= 0.0)
    r->max_scaled = INFINITY;
}

void
gv_compare_images (GvCompareRow *r, const GvImage *a, const GvImage *b)
{
  if (!a || !b || !gv_image_same_shape (a, b))
    {
      if (a || b)
        gv_compare_mismatch (r);
      return;
    }
  int n = a->width * a->channels;
  for (int y = 0; y < a->height; y++)
    {
      if (a->depth == GV_U8)
        {
          const uint8_t *pa = gv_image_row_u8 (a, y), *pb = gv_image_row_u8 (b, y);
          if (!memcmp (pa, pb, (size_t) n))
            {
              r->n += n;
              continue;
            }
          for (int x = 0; x < n; x++)
            gv_compare_add (r, pa[x], pb[x]);
        }
      else
        {
          const float *pa = gv_image_row_f32 (a, y), *pb = gv_image_row_f32 (b, y);
          if (!memcmp (pa, pb, (size_t) n * sizeof (float)))
            {
              r->n += n;
              continue;
            }
          for (int x = 0; x < n; x++)
            gv_compare_add (r, pa[x], pb[x]);
        }
    }
}

static void
add_quad (GvCompareRow *r, const GvQuad *a, const GvQuad *b)
{
  for (int i = 0; i < 4; i++)
    {
      gv_compare_add (r, a->x[i], b->x[i]);
      gv_compare_add (r, a->y[i], b->y[i]);
    }
}

static void
compare_defects (GvCompareReport *c, const GvDefectReport *a, const GvDefectReport *b)
{
  GvCompareRow *r;

  r = gv_compare_row (c, "cover alignment", 0);
  gv_compare_add (r, a->n_covers, b->n_covers);
  for (int i = 0; i < a->n_covers && i < b->n_covers && i < 8; i++)
    {
      gv_compare_add (r, a->align_dx[i], b->align_dx[i]);
      gv_compare_add (r, a->align_dy[i], b->align_dy[i]);
    }
  gv_compare_images (gv_compare_row (c, "print estimate", 1), a->print, b->print);
  gv_compare_images (gv_compare_row (c, "glare", 1), a->glare, b->glare);
  gv_compare_images (gv_compare_row (c, "defect score map", 0), a->score, b->score);
  gv_compare_images (gv_compare_row (c, "defect mask", 1), a->mask, b->mask);
  r = gv_compare_row (c, "defect list", 1);
  if (a->n_defects != b->n_defects)
    gv_compare_mismatch (r);
  else
    for (int i = 0; i < a->n_defects; i++)
      {
        const GvDefect *da = &a->defects[i], *db = &b->defects[i];
        gv_compare_add (r, da->kind, db->kind);
        gv_compare_add (r, da->region, db->region);
        for (int k = 0; k < 4; k++)
          gv_compare_add (r, da->bbox[k], db->bbox[k]);
        gv_compare_add (r, (double) da->area_px, (double) db->area_px);
        gv_compare_add (r, da->frames, db->frames);
      }
  r = gv_compare_row (c, "defect severity/confidence", 0);
  for (int i = 0; i < a->n_defects && i < b->n_defects; i++)
    {
      gv_compare_add (r, a->defects[i].severity, b->defects[i].severity);
      gv_compare_add (r, a->defects[i].confidence, b->defects[i].confidence);
    }
  r = gv_compare_row (c, "region scores", 0);
  for (int i = 0; i < GV_REGION_N; i++)
    {
      const GvRegionReport *ra = &a->regions[i], *rb = &b->regions[i];
      gv_compare_add (r, ra->score, rb->score);
      gv_compare_add (r, ra->defect_coverage, rb->defect_coverage);
      gv_compare_add (r, ra->mean_intensity, rb->mean_intensity);
      gv_compare_add (r, ra->max_intensity, rb->max_intensity);
      gv_compare_add (r, ra->edge_density, rb->edge_density);
      gv_compare_add (r, ra->quality_score, rb->quality_score);
    }
  r = gv_compare_row (c, "damage score", 0);
  gv_compare_add (r, a->damage_score, b->damage_score);
  gv_compare_add (r, a->defect_percentage, b->defect_percentage);
  r = gv_compare_row (c, "grade", 1);
  gv_compare_add (r, a->grade.grade, b->grade.grade);
  gv_compare_add (r, a->grade.needs_review, b->grade.needs_review);
  gv_compare_add (r, a->flags, b->flags);
}

void
gv_compare_results (GvCompareReport *c, const GvResult *a, const GvResult *b)
{
  GvCompareRow *sh = gv_compare_row (c, "sharpness (cover)", 0);
  GvCompareRow *shf = gv_compare_row (c, "sharpness (frame)", 0);
  GvCompareRow *mo = gv_compare_row (c, "motion (cover)", 0);
  GvCompareRow *mof = gv_compare_row (c, "motion (frame)", 0);
  GvCompareRow *mon = gv_compare_row (c, "motion to next", 0);
  GvCompareRow *gate = gv_compare_row (c, "gate decisions", 1);
  GvCompareRow *cf = gv_compare_row (c, "cover found", 1);
  GvCompareRow *cq = gv_compare_row (c, "cover corners (frames)", 0);
  GvCompareRow *gp = gv_compare_row (c, "golden picks", 1);
  GvCompareRow *gq = gv_compare_row (c, "cover corners (golden)", 0);
  GvCompareRow *wc = gv_compare_row (c, "warped covers", 2);

  if (a->n_frames != b->n_frames)
    gv_compare_mismatch (gate);
  for (int i = 0; i < a->n_frames && i < b->n_frames; i++)
    {
      const GvFrameRecord *fa = &a->frames[i], *fb = &b->frames[i];
      gv_compare_add (sh, fa->sharpness, fb->sharpness);
      gv_compare_add (shf, fa->sharpness_frame, fb->sharpness_frame);
      gv_compare_add (mo, fa->motion, fb->motion);
      gv_compare_add (mof, fa->motion_frame, fb->motion_frame);
      gv_compare_add (mon, fa->motion_next, fb->motion_next);
      gv_compare_add (gate, fa->candidate, fb->candidate);
      gv_compare_add (gate, fa->measured, fb->measured);
      gv_compare_add (cf, fa->cover_found, fb->cover_found);
      if (fa->cover_found && fb->cover_found)
        add_quad (cq, &fa->cover, &fb->cover);
    }
  if (a->n_golden != b->n_golden)
    gv_compare_mismatch (gp);
  for (int i = 0; i < a->n_golden && i < b->n_golden; i++)
    {
      const GvGolden *ga = &a->golden[i], *gb = &b->golden[i];
      gv_compare_add (gp, ga->frame_index, gb->frame_index);
      gv_compare_add (gp, ga->cover.found, gb->cover.found);
      if (ga->cover.found && gb->cover.found)
        add_quad (gq, &ga->cover.quad, &gb->cover.quad);
      gv_compare_images (wc, ga->warped, gb->warped);
    }
  if (a->defects && b->defects)
    compare_defects (c, a->defects, b->defects);
  else if (a->defects || b->defects)
    gv_compare_mismatch (gv_compare_row (c, "defect list", 1));
}

void
gv_compare_finish (GvCompareReport *c)
{
  c->pass = 1;
  for (int i = 0; i < c->n_rows; i++)
    {
      GvCompareRow *r = &c->rows[i];
      if (r->exact)
        r->pass = r->n_differing == 0;
      else if (r->max_scaled < 0.0) /* image: absolute grey levels */
        r->pass = r->max_abs <= r->tolerance;
      else
        r->pass = r->max_scaled <= r->tolerance;
      c->pass &= r->pass;
    }
}

double
gv_compare_row_mean (const GvCompareRow *r)
{
  return r->n > 0 ? r->sum_abs / (double) r->n : 0.0;
}

void
gv_compare_print (const GvCompareReport *c, void *file)
{
  FILE *f = file;

  fprintf (f, "%-28s %10s %12s %12s %10s %12s  %s\n", "output", "values", "max |diff|",
           "mean |diff|", "differing", "tolerance", "result");
  for (int i = 0; i < c->n_rows; i++)
    {
      const GvCompareRow *r = &c->rows[i];
      char tol[32];
      if (r->exact)
        snprintf (tol, sizeof tol, "identical");
      else if (r->max_scaled < 0.0)
        snprintf (tol, sizeof tol, "%g level", r->tolerance);
      else
        snprintf (tol, sizeof tol, "%.0e rel", r->tolerance);
      fprintf (f, "%-28s %10ld %12.3g %12.3g %9.4f%% %12s  %s\n", r->name, r->n, r->max_abs,
               gv_compare_row_mean (r), r->n ? 100.0 * (double) r->n_differing / (double) r->n : 0.0,
               tol, r->n == 0 ? "n/a" : (r->pass ? "PASS" : "FAIL"));
    }
}
