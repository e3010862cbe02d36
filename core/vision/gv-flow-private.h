/* gv-flow-private.h: host-side constant tables of the flow and resize code, shared with the
 * CUDA backend's engine (cuda/gv-cuda-engine.c) so both executors use the same numbers. */
#pragma once

#include "gv-flow-kernels.h"
#include "gv-params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Geometry of pyramid level k for a W x H image, as calcOpticalFlowFarneback makes it: the
 * Gaussian smoothing before the resize (sigma, odd kernel size >= 3) and the level size.
 * *scale is the previous level's scale (1.0 before level 0) and becomes this level's.
 * GV_EINVAL when the kernel would be too large. */
int _gv_flow_level_geometry (const GvFlowParams *p, int W, int H, int k, double *scale,
                             double *sigma, int *ksize, int *w, int *h);

/* Polynomial-expansion taps and the inverse Gram matrix entries (FarnebackPrepareGaussian). */
void _gv_flow_poly_taps_init (GvPolyTaps *t, int n, double sigma);
/* Half of a symmetric Gaussian kernel (k[0] centre), as cv::getGaussianKernel(CV_32F); returns
 * the radius, -1 when ksize is too large. */
int _gv_flow_gauss_taps (float *k, int ksize, double sigma);
/* cv::resize INTER_LINEAR coefficients along one axis. */
void _gv_flow_linear_tab (int sn, int dn, int zero_border, int *o0, int *o1, float *w0,
                          float *w1);

/* resizeArea_ coefficients along one axis: for each destination index d, count[d] weights at
 * wt[offset[d]] over source indices start[d] ... */
typedef struct {
  int *start, *count;
  float *wt;
  int *offset;
} GvAreaTab;
int _gv_area_tab (int sn, int dn, GvAreaTab *t);
void _gv_area_tab_free (GvAreaTab *t);

#ifdef __cplusplus
}
#endif
