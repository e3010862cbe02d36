/* gv-params.h: every analysis parameter in one struct and one table (name, type, range, help)
 * shared by the CLI, the GUI, result.json and both backends. */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Farneback dense optical flow, OpenCV's calcOpticalFlowFarneback parameters. */
typedef struct {
  double pyr_scale;
  int levels;
  int winsize;
  int iterations;
  int poly_n;
  double poly_sigma;
} GvFlowParams;

/* Cover (comic) geometry. */
typedef struct {
  double min_area_frac;  /* smallest cover area as a share of the frame */
  double aspect;         /* expected height / width of the cover */
  double aspect_tol;     /* accepted relative deviation of the aspect (perspective included) */
  int out_width, out_height; /* canonical warped cover, px */
  double width_mm, height_mm; /* physical cover size */
} GvCoverParams;

typedef struct {
  int analysis_size;     /* long side for the flow, px; 0 = full resolution */
  GvFlowParams flow;
  double motion_gate;    /* px at full resolution: candidates move at most this much */
  int max_golden;
  int min_gap;           /* frames between golden picks */
  int cover_roi;         /* 1: sharpness and motion measured on the detected cover */
  int cover_interval;    /* detect the cover every N frames; carried by the flow between */
  GvCoverParams cover;
  int threads;           /* 0 = all cores */
} GvParams;

typedef enum { GV_PARAM_INT, GV_PARAM_DOUBLE, GV_PARAM_BOOL } GvParamType;

typedef struct {
  const char *name;
  GvParamType type;
  size_t offset;
  double min, max;
  const char *unit;
  const char *help;
} GvParamSpec;

void gv_flow_params_init_default (GvFlowParams *p);
int gv_flow_params_validate (const GvFlowParams *p);
void gv_cover_params_init_default (GvCoverParams *p);
void gv_params_init_default (GvParams *p);
/* GV_OK, or GV_EINVAL with a message naming the parameter. */
int gv_params_validate (const GvParams *p);
const GvParamSpec *gv_params_table (int *n_specs);
const GvParamSpec *gv_params_find (const char *name);
/* Parses value for the named parameter; GV_EINVAL names the parameter and its range. */
int gv_params_set (GvParams *p, const char *name, const char *value);
double gv_params_get (const GvParams *p, const GvParamSpec *spec);

#ifdef __cplusplus
}
#endif
