/* gv-defects.h: stage 4 (defect analysis on the golden covers) and stage 5 (regions, grade).
 * Every threshold is absolute and documented in docs/accuracy.md: nothing is normalised by the
 * image's own maximum or by its mean and spread, so a pristine cover yields an empty mask.
 * Owner: gv-defects.c (evidence, mask, defect list), gv-regions.c (the worker's six regions),
 * gv-grade.c (the CGC grade and its explanation). */
#pragma once

#include "gv-geometry.h"
#include "gv-backend.h"
#include "gv-image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Same order and names as the synthetic renderer's GvDefectType (gv-synth.h). */
typedef enum {
  GV_DK_CREASE = 0,
  GV_DK_CORNER_WEAR,
  GV_DK_EDGE_CHIP,
  GV_DK_TEAR,
  GV_DK_STAIN,
  GV_DK_SCRATCH,
  GV_DK_SPINE_STRESS,
  GV_DK_N_KINDS
} GvDefectKind;

const char *gv_defect_kind_name (GvDefectKind k);

/* The worker's regions (seed-system.md), fractions of the cover's width and height. */
typedef enum {
  GV_REGION_CORNER_TL = 0,
  GV_REGION_CORNER_TR,
  GV_REGION_CORNER_BL,
  GV_REGION_CORNER_BR,
  GV_REGION_SPINE,
  GV_REGION_SURFACE,
  GV_REGION_N
} GvRegionId;

typedef struct {
  const char *name;
  double x0, y0, x1, y1; /* fractions */
  double weight;         /* grade weight: spine 1.5, corners 1.2, surface 1.0 */
} GvRegionDef;

const GvRegionDef *gv_region_def (GvRegionId r);
/* The region a cover pixel belongs to (corners first, then spine, then surface; the strip
 * x > 0.88 outside the corners, and the bands above/below the surface count as surface). */
GvRegionId gv_region_of (int x, int y, int w, int h);

/* Capture-quality flags (bits). */
enum {
  GV_QF_COVER_NOT_FOUND = 1 << 0,      /* no golden frame had a cover */
  GV_QF_COVER_PARTLY_OUT = 1 << 1,     /* a used cover touches the frame border */
  GV_QF_TOO_FEW_SHARP = 1 << 2,        /* fewer than GV_DEFECTS_MIN_FRAMES covers */
  GV_QF_GLARE = 1 << 3,                /* glare over some region (see GvRegionReport.glare) */
  GV_QF_ALIGN_POOR = 1 << 4,           /* a cover did not align to the first within 1 px */
  GV_QF_OUTLINE_DISAGREES = 1 << 5,    /* a cover was left out: its outline disagreed */
};

typedef struct {
  GvDefectKind kind;
  GvRegionId region;     /* region holding the defect's centroid */
  int bbox[4];           /* x, y, w, h in cover px */
  double bbox_mm[4];     /* the same in mm */
  long area_px;
  double area_mm2;
  double severity;       /* 0..1 (physical size, see docs/accuracy.md) */
  double confidence;     /* 0..1 */
  unsigned frames;       /* bit k: golden cover k shows it (not under glare there) */
} GvDefect;

typedef struct {
  double score;           /* 0..100, higher = more damage: min(100, 10 * defect_coverage) */
  double defect_coverage; /* % of the region's pixels in the mask */
  double mean_intensity;  /* mean of the score map, 0..1 */
  double max_intensity;   /* largest score, 0..1 */
  double edge_density;    /* % of pixels that are print edges (L1 Sobel of the print luma > 160) */
  double quality_score;   /* the worker's formula: min(100, 0.4 cov + 30 mean + 0.3 edge) */
  double glare;           /* % of the region under glare in at least half of the covers */
  int n_defects;
} GvRegionReport;

#define GV_GRADE_MAX_LINES 40
typedef struct {
  char text[200];
  double delta;   /* points added (negative for deductions), 0 for notes */
  double running; /* points after this line */
} GvGradeLine;

typedef struct {
  double grade;          /* on the CGC scale; -1 when needs_review */
  double grade_estimate; /* the grade the rule gives even when review is needed */
  double raw_points;     /* 10 minus the deductions, before caps and rounding */
  double cap;            /* the lowest cap that applied (10 when none) */
  const char *cap_reason;
  int needs_review;
  char review_reason[256];
  int n_lines;
  GvGradeLine lines[GV_GRADE_MAX_LINES];
} GvGrade;

typedef struct {
  int width, height;     /* cover px (canonical cover) */
  double mm_per_px_x, mm_per_px_y;
  int n_covers;          /* golden covers used */
  int cover_index[8];    /* golden index of each used cover */
  double align_dx[8], align_dy[8]; /* translation applied to each cover to match the first, px */
  GvImage *print;        /* U8 RGB: per-pixel median of the aligned covers (the print estimate) */
  GvImage *score;        /* F32 1 ch, 0..1: defect evidence */
  GvImage *mask;         /* U8 1 ch: 0 clean, 255 defect */
  GvImage *glare;        /* U8 1 ch: number of covers with glare at the pixel */
  int n_defects;
  GvDefect *defects;
  GvRegionReport regions[GV_REGION_N];
  double damage_score;   /* 0..100: 0.15 per corner + 0.20 spine + 0.20 surface (region scores) */
  double defect_percentage; /* % of the cover in the mask */
  unsigned flags;        /* GV_QF_* */
  GvGrade grade;
} GvDefectReport;

/* The most covers used (the first GV_DEFECTS_MAX_COVERS found). */
#define GV_DEFECTS_MAX_COVERS 8
/* Fewer covers than this: too_few_sharp_frames and needs review. */
#define GV_DEFECTS_MIN_FRAMES 3

typedef struct {
  const GvImage *rgb;    /* full-resolution frame, U8 RGB */
  const GvQuad *quad;    /* the cover's outer corners in it */
  int touches_border;
  int golden_index;
  double confidence;     /* the outline's (GvCoverDetection): the most confident is the
                            reference others must agree with (gv-defects.c, outline check) */
} GvDefectInput;

/* Stage 4: aligns the covers, builds the evidence, the mask and the defect list. n may be 0
 * (then only the flags). be: the backend of the run (may be NULL): on a device backend (CUDA or
 * its emulation) the golden frames go up once and the gray copies, alignment warps and terms,
 * cover warps and per-pixel maps (print estimate, glare, line and stain evidence) run there,
 * bit-identical to the CPU; any other backend runs them on the CPU. cancelled (may be
 * NULL) is polled between steps. Returns GV_OK with *out set, or a negative code. Stage 5
 * (regions, grade) is gv_defects_finish. */
int gv_defects_analyze (GvBackend *be, const GvDefectInput *in, int n, int cover_w, int cover_h,
                        double width_mm, double height_mm, int nthreads,
                        int (*cancelled) (void *), void *cancel_ud, GvDefectReport **out);
/* Stage 5: regions (gv_regions_measure) then the grade (gv_grade_compute). */
void gv_defects_finish (GvDefectReport *r, int nthreads);
void gv_defect_report_free (GvDefectReport *r);

/* Stage 5 pieces (gv-regions.c, gv-grade.c), public for the tests. */
void gv_regions_measure (GvDefectReport *r, int nthreads);
void gv_grade_compute (GvDefectReport *r);
/* The CGC grade at or below points (0.5 .. 10.0, 25 steps, 9.9 included). */
double gv_grade_floor_cgc (double points);

/* Colour scale of the heatmap (fixed, documented in docs/accuracy.md): score 0..1 to RGB. */
void gv_heat_colour (float score, uint8_t rgb[3]);

#ifdef __cplusplus
}
#endif
