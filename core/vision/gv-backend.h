/* gv-backend.h: the interface a compute backend (CPU here, CUDA in cuda/) implements. It is in
 * terms of images the backend owns: a frame is loaded once, the backend keeps its pyramids and
 * flow, and hands back scalars and the few images a person looks at. */
#pragma once

#include "gv-geometry.h"
#include "gv-image.h"
#include "gv-params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  double sharpness;       /* variance of the 3x3 Laplacian at full resolution (roi or frame) */
  double sharpness_frame; /* the same over the whole frame (the worker's measure) */
  double motion;          /* mean |flow| from the previous frame in full-res px (roi or frame);
                             negative when not measured (first frame) */
  double motion_frame;    /* the same over the whole frame */
  double motion_max;      /* largest |flow| in the roi, full-res px */
  int roi_used;           /* 1 when measured on the cover quad */
} GvFrameMetrics;

typedef struct GvBackend GvBackend;

typedef struct {
  const char *name; /* "cpu", "cuda" */
  /* Loads a full-resolution upright gray frame: computes the analysis image and its flow
   * pyramid. Keeps the previous frame's pyramid for the pair. */
  int (*load) (GvBackend *be, const GvImage *luma);
  /* The current frame at analysis resolution (host image, owned by the backend). */
  const GvImage *(*analysis_image) (GvBackend *be);
  /* Metrics of the current frame; roi is the cover quad in full-res px or NULL. */
  int (*measure) (GvBackend *be, const GvQuad *roi, GvFrameMetrics *out);
  /* The flow of the last measured pair at analysis resolution (F32, 2 ch, analysis px),
   * or NULL when none. */
  const GvImage *(*last_flow) (GvBackend *be);
  /* Perspective warp of an RGB frame with H (canonical cover px -> frame px). */
  int (*warp) (GvBackend *be, const GvImage *rgb, const double H[9], GvImage *dst);
  /* Drops the previous frame (next load starts a new sequence). */
  void (*reset) (GvBackend *be);
  void (*free) (GvBackend *be);
  /* Optional (NULL on the CPU): load from an 8-bit luma plane in the backend's device memory
   * (a frame decoded on the GPU), pitch bytes per row; otherwise as load. */
  int (*load_device) (GvBackend *be, const void *d_luma, size_t pitch, int width, int height);
  /* Optional (NULL on the CPU): measure in two halves, so that the host can decode the next
   * frame while the device works. measure_begin queues the work (roi as measure) and returns
   * without waiting; measure_end waits and fills out exactly as measure would have. Between
   * them the caller may not call load, load_device, measure or reset; the frame's luma need not
   * stay valid (it is on the device). measure is measure_begin + measure_end. */
  int (*measure_begin) (GvBackend *be, const GvQuad *roi);
  int (*measure_end) (GvBackend *be, GvFrameMetrics *out);
  /* Optional (NULL on the CPU): starts moving the next frame's luma to the device beside the
   * work already queued (between measure_begin and measure_end, so that the upload of frame
   * i + 1 overlaps the device's work on frame i). The next load given this same image (same
   * pixels, which must not change meanwhile) then skips its upload; any other load, load_device,
   * reset or free drops the copy. A frame of another size than the current one is left for load
   * (GV_OK, nothing done). */
  int (*prefetch) (GvBackend *be, const GvImage *luma);
} GvBackendOps;

struct GvBackend {
  const GvBackendOps *ops;
  GvParams params;
  int threads;
  char device[256]; /* human-readable device description */
};

typedef enum { GV_BACKEND_AUTO = 0, GV_BACKEND_CPU, GV_BACKEND_CUDA } GvBackendKind;

/* Parses "auto", "cpu", "cuda"; GV_EINVAL otherwise. */
int gv_backend_kind_parse (const char *s, GvBackendKind *out);
/* The default kind: GV_BACKEND from the environment, else auto. */
GvBackendKind gv_backend_kind_default (void);
/* Creates a backend. auto: CUDA when built and a device is present, else CPU; `why` (may be
 * NULL) receives a sentence saying which was chosen and why. cuda without a device fails with
 * GV_ENODEV and a clear message. */
int gv_backend_new (GvBackendKind kind, const GvParams *params, GvBackend **out, char *why,
                    size_t why_len);
void gv_backend_free (GvBackend *be);

/* The CPU backend. */
int gv_backend_cpu_new (const GvParams *params, GvBackend **out);
/* Provided by the CUDA backend when built (cuda/), else by a stub that reports GV_ENODEV. */
int gv_backend_cuda_new (const GvParams *params, GvBackend **out);
int gv_backend_cuda_available (char *why, size_t why_len);
/* The CUDA backend's context (a CUcontext: the device's primary context, which the CUDA runtime
 * uses), for a decoder that writes frames the kernels read; NULL for other backends. */
void *gv_backend_cuda_context (GvBackend *be);

/* Shared, backend-independent per-frame measures (CPU reference implementations). */
/* Variance of the 3x3 Laplacian (0 1 0 / 1 -4 1 / 0 1 0, BORDER_REFLECT_101 as OpenCV) over the
 * pixels inside roi (full-res px; NULL = whole frame). Exact: integer sums. */
double gv_sharpness_laplacian_var (const GvImage *gray, const GvQuad *roi, int nthreads);
/* Both at once in one pass: the whole frame and the roi (var_roi = var_frame without roi).
 * 0, or -1 on bad input or memory. */
int gv_sharpness_laplacian_var2 (const GvImage *gray, const GvQuad *roi, int nthreads,
                                 double *var_frame, double *var_roi);
/* Mean and max |flow| over pixels of flow inside roi (roi in flow px; NULL = all), scaled by
 * `scale` (full-res px per flow px). Returns the pixel count used. */
long gv_flow_magnitude_stats (const GvImage *flow, const GvQuad *roi, double scale, int nthreads,
                              double *mean, double *max);
/* The same with separate x and y scales (analysis sizes are rounded per axis). */
long gv_flow_magnitude_stats_xy (const GvImage *flow, const GvQuad *roi, double sx, double sy,
                                 int nthreads, double *mean, double *max);
/* A quad scaled between resolutions with pixel centres at integer coordinates:
 * x' = (x + 0.5) * sx - 0.5, as float corners x0 y0 ... x3 y3. */
void gv_quad_to_float (const GvQuad *roi, double sx, double sy, float q[8]);
/* GvQuad scaled the same way. */
void gv_quad_scale (const GvQuad *in, double sx, double sy, GvQuad *out);
/* The quad shrunk towards its centroid by `frac` (0.03 = 3 %). */
void gv_quad_shrink (const GvQuad *in, double frac, GvQuad *out);

#ifdef __cplusplus
}
#endif
