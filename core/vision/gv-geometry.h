/* gv-geometry.h: the comic cover's four corners in a frame, homographies and the perspective
 * warp to the canonical cover. Owner of the implementation: gv-geometry.c, gv-cover.c. */
#pragma once

#include "gv-image.h"
#include "gv-params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Corners in frame pixels (pixel centres at integer coordinates), order TL, TR, BR, BL as the
 * cover is seen upright. */
typedef struct {
  double x[4], y[4];
} GvQuad;

typedef struct {
  int found;             /* 1 when a cover was found */
  GvQuad quad;           /* valid when found */
  double confidence;     /* 0..1 */
  int touches_border;    /* 1 when the cover is partly out of the frame */
  char reason[160];      /* when not found: why, in plain words */
} GvCoverDetection;

/* Finds the cover in a gray U8 frame (any size; works internally on a reduced copy, then refines
 * the corners to sub-pixel at full resolution). Always fills out; returns GV_OK when found,
 * GV_ENOTFOUND (reason in out->reason) when not, other codes on error. */
int gv_cover_detect (const GvImage *gray, const GvCoverParams *p, int nthreads,
                     GvCoverDetection *out);

/* The same on an RGB frame (U8, 3 channels): luma first, with a side that luma cannot locate
 * precisely (or where luma takes another edge just inside the paper's) located on the Cr, then
 * the Cb plane (dark blue print on a brown table: a border luma sees along part of its length
 * only); then the Cr and Cb planes alone when that finds nothing (covers whose colour differs
 * from the table but whose brightness does not). */
int gv_cover_detect_rgb (const GvImage *rgb, const GvCoverParams *p, int nthreads,
                         GvCoverDetection *out);

/* Aspect of the quad with corners x, y (TL, TR, BR, BL): the mean of its left and right sides'
 * lengths over the mean of its top and bottom's. */
double gv_quad_aspect (const double x[4], const double y[4]);

/* H (row-major 3x3) maps points of src[] onto dst[] (4 points each, x then y). GV_EINVAL when
 * degenerate. */
int gv_homography_from_points (const double src[8], const double dst[8], double H[9]);
/* The homography mapping canonical cover pixels to frame pixels of quad. The quad is the
 * paper's outer boundary, so the cover's outer corners (-0.5, -0.5), (w - 0.5, -0.5),
 * (w - 0.5, h - 0.5), (-0.5, h - 0.5) map to TL, TR, BR, BL (pixel centres at integers). */
int gv_homography_cover_to_frame (const GvQuad *quad, int cover_w, int cover_h, double H[9]);
void gv_homography_apply (const double H[9], double x, double y, double *ox, double *oy);
int gv_homography_invert (const double H[9], double Hinv[9]);

/* dst(x, y) = src(H (x, y)) with bilinear sampling; outside src gives 0. src and dst U8 with the
 * same channel count; dst preallocated with the wanted size. */
int gv_warp_perspective (const GvImage *src, const double H[9], GvImage *dst, int nthreads);
/* The warp's argument checks and H as the floats every backend's warp kernel uses (scaled so
 * that H[8] is 1 when usable); GV_OK or GV_EINVAL with a message. */
int gv_warp_prepare (const GvImage *src, const GvImage *dst, const double H[9], float Hf[9]);

#ifdef __cplusplus
}
#endif
