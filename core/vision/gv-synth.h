/* gv-synth.h: synthetic comic scans with exact ground truth: a procedural cover with busy
 * printed art (and optional rendered defects with masks in cover coordinates) lying on a
 * textured table, filmed by a moving camera (smooth path, hand jitter, bursts of fast motion
 * with matching motion blur, defocus, exposure drift, noise, a moving specular glare).
 * GLib- and FFmpeg-free so the GPU machine can generate frames. Owner: gv-synth.c. */
#pragma once

#include "gv-image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  GV_DEFECT_CREASE = 0,
  GV_DEFECT_CORNER_WEAR,
  GV_DEFECT_EDGE_CHIP,
  GV_DEFECT_TEAR,
  GV_DEFECT_STAIN,
  GV_DEFECT_SCRATCH,
  GV_DEFECT_SPINE_STRESS,
  GV_DEFECT_N_TYPES
} GvDefectType;

const char *gv_defect_type_name (GvDefectType t);

typedef struct {
  int width, height;     /* frame size, px (e.g. 1920x1080) */
  int n_frames;
  double fps;
  unsigned seed;
  int n_defects;         /* 0 = clean cover */
  double cover_fill;     /* share of the frame height the cover spans at rest (0.3..0.95) */
  double motion;         /* scale of camera motion (1 = phone-like) */
  int bursts;            /* 1: include bursts of fast motion */
  int glare;             /* 1: moving specular glare */
  int cover_w, cover_h;  /* cover texture size, px (canonical cover) */
  int vfr;               /* 1: jittered frame times (mean rate kept); see gv_synth_frame_time */
} GvSynthParams;

typedef struct {
  GvDefectType type;
  int bbox[4];           /* x, y, w, h in cover texture pixels */
  double severity;       /* 0..1 */
} GvSynthDefect;

typedef struct {
  /* Half-pixel convention: integer coordinates are pixel centres, in the cover texture and in
   * the frame alike. Texel (u, v) covers [u - 0.5, u + 0.5) x [v - 0.5, v + 0.5), so the cover's
   * physical outline runs from -0.5 to cover_w - 0.5 (and -0.5 to cover_h - 0.5), and
   * corners[] = H applied to (-0.5, -0.5), (w - 0.5, -0.5), (w - 0.5, h - 0.5), (-0.5, h - 0.5):
   * the outer corners of the paper, not the centres of the corner texels. */
  double H[9];           /* cover texture px -> frame px at the frame's exposure midpoint */
  double corners[8];     /* cover corners in frame px: TL, TR, BR, BL (x, y) */
  double motion_blur_px; /* length of the motion blur streak, px: the largest distance a cover
                          * corner travels during the exposure */
  double defocus_sigma;  /* Gaussian defocus sigma, px (0 = in focus) */
  double true_flow_cover;/* mean |flow| from the previous frame over cover pixels, px */
  double true_flow_frame;/* mean |flow| from the previous frame over the whole frame, px */
  int sharp;             /* 1 when motion blur < 1 px and defocus sigma < 0.6 */
  double exposure;       /* gain applied */
  double glare_x, glare_y; /* glare centre in frame px (negative when no glare) */
} GvSynthTruth;

typedef struct GvSynth GvSynth;

void gv_synth_params_init_default (GvSynthParams *p);
/* NULL with gv_error set when the parameters are invalid or memory is short. */
GvSynth *gv_synth_new (const GvSynthParams *p);
void gv_synth_free (GvSynth *s);
/* GV_OK or GV_EINVAL with a message naming the bad parameter. */
int gv_synth_params_validate (const GvSynthParams *p);
const GvSynthParams *gv_synth_params (const GvSynth *s);
/* Presentation time of frame i, seconds (i / fps, jittered when p->vfr; frame 0 is at 0). */
double gv_synth_frame_time (const GvSynth *s, int i);
/* Renders frame i (0-based) into rgb (U8, 3 channels, width x height, preallocated) and fills
 * its truth. Deterministic for (params, i) and independent of the order frames are rendered. */
int gv_synth_render (GvSynth *s, int i, GvImage *rgb, GvSynthTruth *truth, int nthreads);
/* Exact dense flow from frame i-1 to frame i (i >= 1), F32 2 channels, frame size. */
int gv_synth_true_flow (GvSynth *s, int i, GvImage *flow);
/* The printed cover (with defects), U8 RGB, cover_w x cover_h. */
const GvImage *gv_synth_cover (const GvSynth *s);
/* Defect mask in cover pixels: U8 1 channel, 0 = clean, 1 + GvDefectType where damaged. */
const GvImage *gv_synth_defect_mask (const GvSynth *s);
int gv_synth_n_defects (const GvSynth *s);
const GvSynthDefect *gv_synth_defect (const GvSynth *s, int i);

#ifdef __cplusplus
}
#endif
