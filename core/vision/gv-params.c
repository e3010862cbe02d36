/* gv-params.c: defaults, ranges and the parameter table. Defaults follow the production
 * worker (seed-system.md) except analysis_size, chosen by measurement (docs/performance.md). */
#include "gv-params.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gv-error.h"

#define OFF(f) offsetof (GvParams, f)

static const GvParamSpec gv_param_specs[] = {
  { "analysis-size", GV_PARAM_INT, OFF (analysis_size), 0, 16384, "px",
    "long side of the image the optical flow is computed on (0 = full resolution)" },
  { "pyr-scale", GV_PARAM_DOUBLE, OFF (flow.pyr_scale), 0.1, 0.9, "",
    "Farneback: image scale between pyramid levels" },
  { "levels", GV_PARAM_INT, OFF (flow.levels), 1, 10, "", "Farneback: number of pyramid levels" },
  { "winsize", GV_PARAM_INT, OFF (flow.winsize), 3, 101, "px", "Farneback: averaging window size" },
  { "iterations", GV_PARAM_INT, OFF (flow.iterations), 1, 20, "",
    "Farneback: iterations at each pyramid level" },
  { "poly-n", GV_PARAM_INT, OFF (flow.poly_n), 5, 7, "px",
    "Farneback: polynomial expansion neighbourhood (5 or 7)" },
  { "poly-sigma", GV_PARAM_DOUBLE, OFF (flow.poly_sigma), 0.5, 3.0, "",
    "Farneback: Gaussian sigma of the polynomial expansion" },
  { "motion-gate", GV_PARAM_DOUBLE, OFF (motion_gate), 0.0, 1000.0, "px",
    "a frame is a golden candidate when its mean motion is at most this (full-resolution px)" },
  { "max-golden", GV_PARAM_INT, OFF (max_golden), 1, 50, "", "most golden frames picked" },
  { "min-gap", GV_PARAM_INT, OFF (min_gap), 0, 10000, "frames",
    "least distance between two golden frames" },
  { "cover-roi", GV_PARAM_BOOL, OFF (cover_roi), 0, 1, "",
    "measure sharpness and motion on the detected cover rather than the whole frame" },
  { "cover-interval", GV_PARAM_INT, OFF (cover_interval), 1, 1000, "frames",
    "detect the cover on the analysis image every N frames and carry it with the optical flow "
    "in between (1 = every frame)" },
  { "cover-min-area", GV_PARAM_DOUBLE, OFF (cover.min_area_frac), 0.01, 1.0, "",
    "smallest cover area as a share of the frame" },
  { "cover-aspect", GV_PARAM_DOUBLE, OFF (cover.aspect), 0.2, 5.0, "",
    "expected cover height / width" },
  { "cover-aspect-tol", GV_PARAM_DOUBLE, OFF (cover.aspect_tol), 0.0, 1.0, "",
    "accepted relative deviation from the cover aspect" },
  { "cover-width", GV_PARAM_INT, OFF (cover.out_width), 16, 8192, "px", "warped cover width" },
  { "cover-height", GV_PARAM_INT, OFF (cover.out_height), 16, 8192, "px", "warped cover height" },
  { "cover-width-mm", GV_PARAM_DOUBLE, OFF (cover.width_mm), 1, 2000, "mm", "physical cover width" },
  { "cover-height-mm", GV_PARAM_DOUBLE, OFF (cover.height_mm), 1, 2000, "mm",
    "physical cover height" },
  { "threads", GV_PARAM_INT, OFF (threads), 0, 256, "", "worker threads (0 = all cores)" },
};

void
gv_flow_params_init_default (GvFlowParams *p)
{
  p->pyr_scale = 0.5;
  p->levels = 3;
  p->winsize = 15;
  p->iterations = 3;
  p->poly_n = 5;
  p->poly_sigma = 1.2;
}

void
gv_cover_params_init_default (GvCoverParams *p)
{
  p->min_area_frac = 0.05;
  p->width_mm = 168.275;
  p->height_mm = 260.35;
  p->aspect = p->height_mm / p->width_mm;
  p->aspect_tol = 0.35;
  p->out_width = 1060;
  p->out_height = 1640;
}

void
gv_params_init_default (GvParams *p)
{
  memset (p, 0, sizeof *p);
  p->analysis_size = 320;
  gv_flow_params_init_default (&p->flow);
  p->motion_gate = 1.0;
  p->max_golden = 5;
  p->min_gap = 15;
  p->cover_roi = 1;
  p->cover_interval = 10;
  gv_cover_params_init_default (&p->cover);
  p->threads = 0;
}

const GvParamSpec *
gv_params_table (int *n_specs)
{
  if (n_specs)
    *n_specs = (int) (sizeof gv_param_specs / sizeof gv_param_specs[0]);
  return gv_param_specs;
}

const GvParamSpec *
gv_params_find (const char *name)
{
  int n;
  const GvParamSpec *t = gv_params_table (&n);

  for (int i = 0; i < n; i++)
    if (strcmp (t[i].name, name) == 0)
      return &t[i];
  return NULL;
}

double
gv_params_get (const GvParams *p, const GvParamSpec *s)
{
  const char *base = (const char *) p + s->offset;

  if (s->type == GV_PARAM_DOUBLE)
    return *(const double *) (const void *) base;
  return *(const int *) (const void *) base;
}

static int
gv_params_check_ranges (const GvParams *p)
{
  int n;
  const GvParamSpec *t = gv_params_table (&n);

  for (int i = 0; i < n; i++)
    {
      double v = gv_params_get (p, &t[i]);
      if (!(v >= t[i].min && v <= t[i].max))
        return gv_error_set (GV_EINVAL, "parameter %s = %g is outside %g..%g", t[i].name, v,
                             t[i].min, t[i].max);
    }
  return GV_OK;
}

int
gv_flow_params_validate (const GvFlowParams *f)
{
  if (f->poly_n != 5 && f->poly_n != 7)
    return gv_error_set (GV_EINVAL, "parameter poly-n must be 5 or 7, not %d", f->poly_n);
  if (f->winsize % 2 == 0)
    return gv_error_set (GV_EINVAL, "parameter winsize must be odd, not %d", f->winsize);
  if (!(f->pyr_scale > 0 && f->pyr_scale < 1) || f->levels < 1 || f->iterations < 1)
    return gv_error_set (GV_EINVAL, "Farneback parameters are out of range");
  return GV_OK;
}

int
gv_params_validate (const GvParams *p)
{
  int rc = gv_params_check_ranges (p);

  if (rc)
    return rc;
  if (p->analysis_size != 0 && p->analysis_size < 32)
    return gv_error_set (GV_EINVAL, "parameter analysis-size must be 0 or at least 32, not %d",
                         p->analysis_size);
  return gv_flow_params_validate (&p->flow);
}

int
gv_params_set (GvParams *p, const char *name, const char *value)
{
  const GvParamSpec *s = gv_params_find (name);
  char *end = NULL;
  double v;
  char *base;

  if (!s)
    return gv_error_set (GV_EINVAL, "unknown parameter '%s'", name);
  errno = 0;
  if (s->type == GV_PARAM_BOOL && (!strcmp (value, "true") || !strcmp (value, "yes")))
    v = 1;
  else if (s->type == GV_PARAM_BOOL && (!strcmp (value, "false") || !strcmp (value, "no")))
    v = 0;
  else
    {
      v = strtod (value, &end);
      if (errno || end == value || *end != '\0' || !isfinite (v))
        return gv_error_set (GV_EINVAL, "parameter %s: '%s' is not a number", name, value);
    }
  if (s->type != GV_PARAM_DOUBLE && v != floor (v))
    return gv_error_set (GV_EINVAL, "parameter %s: '%s' is not a whole number", name, value);
  if (v < s->min || v > s->max)
    return gv_error_set (GV_EINVAL, "parameter %s = %s is outside %g..%g", name, value, s->min,
                         s->max);
  base = (char *) p + s->offset;
  if (s->type == GV_PARAM_DOUBLE)
    *(double *) (void *) base = v;
  else
    *(int *) (void *) base = (int) v;
  return GV_OK;
}
