/* gv-flow.h: dense optical flow (Farneback, 2003), matching OpenCV's calcOpticalFlowFarneback
 * (flags 0: box window, no initial flow), plus area resize and flow statistics.
 * Owner of the implementation: gv-farneback.c, gv-resize.c. */
#pragma once

#include "gv-image.h"
#include "gv-params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Per-image data Farneback needs for every pyramid level (smoothed, resized image and its
 * polynomial expansion). Built once per frame and reused for the pairs (i-1, i) and (i, i+1). */
typedef struct GvFlowPyramid GvFlowPyramid;

/* gray: U8 or F32, 1 channel. NULL with gv_error set on failure. */
GvFlowPyramid *gv_flow_pyramid_new (const GvImage *gray, const GvFlowParams *p, int nthreads);
void gv_flow_pyramid_free (GvFlowPyramid *pyr);

/* Flow from prev to next: flow is F32, 2 channels (dx, dy), same size as the inputs, allocated by
 * the caller. Both pyramids must come from same-size images and the same parameters. */
int gv_flow_farneback_pyr (const GvFlowPyramid *prev, const GvFlowPyramid *next,
                           const GvFlowParams *p, int nthreads, GvImage *flow);
/* Convenience: builds both pyramids and computes the flow. */
int gv_flow_farneback (const GvImage *prev, const GvImage *next, const GvFlowParams *p,
                       int nthreads, GvImage *flow);

/* Area-average downscale (OpenCV INTER_AREA semantics) of a U8 1-channel image into dst
 * (U8 1 channel, preallocated, smaller or equal size). */
int gv_resize_area_u8 (const GvImage *src, GvImage *dst, int nthreads);
/* Size for the analysis resolution: long side = analysis_size (0 or >= long side: unchanged). */
void gv_analysis_dims (int width, int height, int analysis_size, int *out_w, int *out_h);

/* Middlebury .flo (tag 202021.25, int32 width and height, then dx, dy float pairs by rows). */
int gv_flow_write_flo (const GvImage *flow, const char *path);
/* F32 2-channel flow read from path; NULL with gv_error set (GV_EIO, GV_EFORMAT) on failure. */
GvImage *gv_flow_read_flo (const char *path);

#ifdef __cplusplus
}
#endif
