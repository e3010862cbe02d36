/* gv-pipeline.h: the analysis pipeline above the backends. Stage 1 (frame analysis: sharpness at
 * full resolution, Farneback motion at the analysis resolution, the gate), stage 2 (golden frames,
 * backend independent) and stage 3 (cover geometry and warp on the golden frames). Frames come
 * from a GvFrameFeed so the pipeline needs neither FFmpeg nor GLib. */
#pragma once

#include "gv-backend.h"
#include "gv-defects.h"
#include "gv-geometry.h"
#include "gv-image.h"
#include "gv-params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  void *ud;
  int frames_hint;        /* expected frame count for progress (0 = unknown) */
  /* 1: luma (upright U8 gray view valid until the next call), index and pts filled; 0: end;
   * < 0: error (gv_error message set). */
  int (*next) (void *ud, GvImage *luma, int *index, double *pts);
  /* Keeps the current frame for later RGB (a cheap reference); NULL on failure. */
  void *(*keep) (void *ud);
  /* Full-resolution upright RGB of a kept frame, caller frees with gv_image_free. */
  GvImage *(*to_rgb) (void *ud, void *kept);
  void (*release) (void *ud, void *kept);
  /* Optional, for frames decoded on the GPU (NULL otherwise): the current frame's luma in
   * device memory (*pitch bytes per row), or NULL when it is on the host. When it is not NULL,
   * next() may leave luma->data NULL (width and height set) and host_luma() fills *luma on
   * demand (a download: the pipeline asks only for frames whose cover it detects). */
  const void *(*device_luma) (void *ud, size_t *pitch);
  int (*host_luma) (void *ud, GvImage *luma);
} GvFrameFeed;

typedef struct {
  void *ud;
  /* stage: "frame_analysis", "golden_frames", "cover_geometry", "defect_analysis", "grading";
   * frac 0..1 within the stage. */
  void (*progress) (void *ud, const char *stage, double frac);
  /* Non-zero to stop; polled every frame. */
  int (*cancelled) (void *ud);
} GvProgress;

typedef struct {
  int index;
  double pts;
  double sharpness;       /* on the cover when found (cover_roi), else the whole frame */
  double sharpness_frame; /* whole frame (the worker's measure) */
  double motion;          /* mean |flow| from the previous frame, full-res px (cover or frame);
                             frame 0: the flow to frame 1 */
  double motion_frame;    /* the same over the whole frame */
  double motion_next;     /* the same to the next frame (-1 for the last frame) */
  double motion_gate;     /* what the gate tested: max(motion, motion_next) where measured */
  int measured;           /* 1 when motion_gate comes from at least one measured flow */
  int candidate;          /* passed the gate */
  int cover_found;        /* a cover quad was used for this frame's measures */
  int cover_detected;     /* 1: detected on this frame; 0: carried from the previous frame */
  GvQuad cover;           /* in full-res px, when cover_found */
} GvFrameRecord;

typedef struct {
  int frame_index;
  double pts;
  double sharpness, motion;
  GvCoverDetection cover; /* full-resolution detection */
  GvImage *rgb;           /* full-resolution frame */
  GvImage *warped;        /* canonical cover, NULL when the cover was not found */
} GvGolden;

#define GV_STAGE_MAX 8
typedef struct {
  const char *name;
  double seconds;
} GvStageTime;

typedef struct {
  GvParams params;
  char backend[16];
  char device[256];
  int n_frames;
  GvFrameRecord *frames;
  int n_candidates;
  int n_golden;
  GvGolden *golden;
  int kept_limit_hit;     /* 1 when the RGB retention bound cut candidates (see docs) */
  int analysis_width, analysis_height;
  int n_stages;
  GvStageTime stages[GV_STAGE_MAX];
  double decode_seconds;  /* time spent waiting for decoded frames (inside frame_analysis) */
  GvDefectReport *defects; /* stages 4 and 5 (gv-defects.h); always set after a run */
  double total_seconds;
} GvResult;

/* Runs stages 1 to 5 (4: defect analysis on the golden covers, 5: regions and grade). Returns GV_OK with *out set, or a negative code (GV_ECANCELLED when
 * cancelled) with *out NULL. */
int gv_pipeline_run (GvBackend *be, const GvParams *p, const GvFrameFeed *feed,
                     const GvProgress *progress, GvResult **out);
void gv_result_free (GvResult *r);

/* Stage 2 alone: marks candidates (motion_gate <= gate and measured) and picks up to max_golden
 * frame indices by sharpness (descending, ties by index) at least min_gap apart. Returns the
 * number picked; picks sorted by frame index. */
int gv_golden_select (GvFrameRecord *frames, int n, const GvParams *p, int *picks);
/* The number of kept frames that guarantees the greedy selection over all frames only picks
 * kept frames: max_golden * (2 * min_gap + 1). */
int gv_golden_keep_bound (const GvParams *p);

double gv_monotonic_seconds (void);

#ifdef __cplusplus
}
#endif
