/* gv-cuda-compare.h: CPU-versus-CUDA comparison of analysis outputs against the parity contract
 * (docs/performance.md, "GPU"): golden picks, masks and defect lists identical; every float
 * within 1e-4 (relative to max(1, |value|), so that large sums such as a Laplacian variance are
 * held to the same number of significant digits as a flow of 1 px); 8-bit images a person looks
 * at (warped covers) within one grey level. Used by `gvscan validate` and by the GLib-free
 * device programs of tests/device. */
#pragma once

#include "gv-image.h"
#include "gv-pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GV_PARITY_FLOAT_TOL 1e-4
#define GV_PARITY_IMAGE_TOL 1.0
#define GV_COMPARE_MAX_ROWS 40

typedef struct {
  char name[48];
  int exact;              /* 1: must be identical */
  double tolerance;       /* largest accepted |a - b| (relative for floats, see above) */
  long n;                 /* values compared */
  long n_differing;       /* values that differ at all */
  double max_abs, sum_abs;
  double max_scaled;      /* largest |a - b| / max(1, |a|, |b|) (floats) */
  int pass;
} GvCompareRow;

typedef struct {
  int n_rows;
  GvCompareRow rows[GV_COMPARE_MAX_ROWS];
  int pass;
} GvCompareReport;

void gv_compare_init (GvCompareReport *c);
/* The row called name (created on first use). kind: 0 float (relative tolerance), 1 exact,
 * 2 8-bit image (absolute tolerance in grey levels). */
GvCompareRow *gv_compare_row (GvCompareReport *c, const char *name, int kind);
void gv_compare_add (GvCompareRow *r, double a, double b);
/* A value present on one side only: counted as differing, fails the row. */
void gv_compare_mismatch (GvCompareRow *r);
/* Every sample of two images (shapes must match, else a mismatch). */
void gv_compare_images (GvCompareRow *r, const GvImage *a, const GvImage *b);
/* Every output two pipeline runs share: per-frame measures, gate, cover corners, golden picks,
 * golden covers, warped covers and, when both have them, the defect analysis. */
void gv_compare_results (GvCompareReport *c, const GvResult *a, const GvResult *b);
/* Sets each row's and the report's pass. */
void gv_compare_finish (GvCompareReport *c);
double gv_compare_row_mean (const GvCompareRow *r);
/* The table as text lines (header included) into f (a FILE *). */
void gv_compare_print (const GvCompareReport *c, void *file);

#ifdef __cplusplus
}
#endif
