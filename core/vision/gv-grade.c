/* gv-grade.c: the CGC grade from the defect list, line by line (docs/accuracy.md, "Grade").
 * points = 10 - sum over defects of base(kind) * (0.5 + severity) * weight(region);
 * then the lowest cap that applies; then rounded down to the 25-point CGC scale. Every step is
 * one explanation line whose delta is added to the running points, so the lines add up.
 * The lines and reasons are English (result.json stays English); their templates are the
 * GV_GRADE_* strings of gv-i18n.h, marked for translation, so readers can translate them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gv-defects.h"
#include "gv-i18n.h"

static const double cgc_scale[25] = {
  10.0, 9.9, 9.8, 9.6, 9.4, 9.2, 9.0, 8.5, 8.0, 7.5, 7.0, 6.5, 6.0,
  5.5, 5.0, 4.5, 4.0, 3.5, 3.0, 2.5, 2.0, 1.8, 1.5, 1.0, 0.5,
};

/* Deduction per defect kind at severity 0.5 in a region of weight 1. */
static const double base_deduction[GV_DK_N_KINDS] = {
  [GV_DK_CREASE] = 1.5,       [GV_DK_CORNER_WEAR] = 0.6, [GV_DK_EDGE_CHIP] = 0.5,
  [GV_DK_TEAR] = 1.5,         [GV_DK_STAIN] = 1.0,       [GV_DK_SCRATCH] = 0.4,
  [GV_DK_SPINE_STRESS] = 0.6,
};

double
gv_grade_floor_cgc (double points)
{
  /* 1e-9: points that are a scale value up to rounding stay on it */
  for (int i = 0; i < 25; i++)
    if (cgc_scale[i] <= points + 1e-9)
      return cgc_scale[i];
  return 0.5;
}

static void
add_line (GvGrade *g, double delta, double *running, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));

static void
add_line (GvGrade *g, double delta, double *running, const char *fmt, ...)
{
  va_list ap;
  *running += delta;
  if (g->n_lines >= GV_GRADE_MAX_LINES)
    return;
  GvGradeLine *l = &g->lines[g->n_lines++];
  va_start (ap, fmt);
  vsnprintf (l->text, sizeof l->text, fmt, ap);
  va_end (ap);
  l->delta = delta;
  l->running = *running;
}

static void
apply_cap (double *cap, const char **why, double v, const char *reason)
{
  if (v < *cap)
    {
      *cap = v;
      *why = reason;
    }
}

void
gv_grade_compute (GvDefectReport *r)
{
  GvGrade *g = &r->grade;
  double pts = 0, cap = 10.0;
  const char *why = GV_GRADE_CAP_NONE;
  double ded_sum = 0;
  int extra = 0;

  memset (g, 0, sizeof *g);
  add_line (g, 10.0, &pts, GV_GRADE_T_START);
  for (int i = 0; i < r->n_defects; i++)
    {
      const GvDefect *d = &r->defects[i];
      const GvRegionDef *rd = gv_region_def (d->region);
      /* rounded to 0.01 so that the printed lines add up exactly */
      double ded = (double) (long) (base_deduction[d->kind] * (0.5 + d->severity) * rd->weight * 100 + 0.5) / 100;
      ded_sum += ded;
      if (g->n_lines < GV_GRADE_MAX_LINES - 6)
        add_line (g, -ded, &pts, GV_GRADE_T_DEDUCTION,
                  gv_defect_kind_name (d->kind), rd->name, d->severity, base_deduction[d->kind],
                  d->severity, rd->weight, ded);
      else
        {
          pts -= ded;
          extra++;
        }
      if (d->kind == GV_DK_CREASE)
        apply_cap (&cap, &why, d->severity >= 0.5 ? 6.0 : 7.0, GV_GRADE_CAP_CREASE);
      else if (d->kind == GV_DK_TEAR)
        apply_cap (&cap, &why, d->severity >= 0.5 ? 4.5 : 6.0, GV_GRADE_CAP_TEAR);
      else if (d->kind == GV_DK_STAIN)
        apply_cap (&cap, &why, 8.0, GV_GRADE_CAP_STAIN);
      else if (d->kind == GV_DK_CORNER_WEAR && d->severity >= 0.5)
        apply_cap (&cap, &why, 8.5, GV_GRADE_CAP_CORNER);
    }
  if (extra)
    add_line (g, 0.0, &pts, GV_GRADE_T_FURTHER, extra);
  if (r->n_defects > 0)
    apply_cap (&cap, &why, 9.6, GV_GRADE_CAP_ANY);
  else
    apply_cap (&cap, &why, 9.9, GV_GRADE_CAP_NEVER_10);
  if (pts < 0.5)
    add_line (g, 0.5 - pts, &pts, GV_GRADE_T_FLOOR);
  g->raw_points = 10.0 - ded_sum;
  g->cap = cap;
  g->cap_reason = why;
  if (pts > cap)
    add_line (g, cap - pts, &pts, GV_GRADE_T_CAP, cap, why);
  double cgc = gv_grade_floor_cgc (pts);
  add_line (g, cgc - pts, &pts, GV_GRADE_T_ROUNDED, cgc);
  pts = cgc; /* the last running value is the grade exactly, whatever the float sums did */
  g->lines[g->n_lines - 1].running = cgc;
  g->grade_estimate = cgc;

  /* weak evidence: say so instead of guessing */
  char *rr = g->review_reason;
  size_t left = sizeof g->review_reason;
  rr[0] = 0;
#define REVIEW(txt)                                                                                \
  do                                                                                               \
    {                                                                                              \
      int n_ = snprintf (rr, left, "%s%s", g->needs_review ? GV_GRADE_REVIEW_SEP : "", txt);     \
      if (n_ > 0 && (size_t) n_ < left)                                                            \
        rr += n_, left -= (size_t) n_;                                                             \
      g->needs_review = 1;                                                                         \
    }                                                                                              \
  while (0)
  if (r->flags & GV_QF_COVER_NOT_FOUND)
    REVIEW (GV_GRADE_REVIEW_NO_COVER);
  else if (r->flags & GV_QF_TOO_FEW_SHARP)
    REVIEW ((r->flags & GV_QF_OUTLINE_DISAGREES) ? GV_GRADE_REVIEW_OUTLINE : GV_GRADE_REVIEW_TOO_FEW);
  if (r->flags & GV_QF_COVER_PARTLY_OUT)
    REVIEW (GV_GRADE_REVIEW_PARTLY_OUT);
  if (r->flags & GV_QF_GLARE)
    REVIEW (GV_GRADE_REVIEW_GLARE);
  if (r->flags & GV_QF_ALIGN_POOR)
    REVIEW (GV_GRADE_REVIEW_ALIGN);
#undef REVIEW
  g->grade = g->needs_review ? -1.0 : cgc;
}
