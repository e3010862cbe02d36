/* gv-report.h: reports of a stored run, made only from what the store holds (the result JSON and
 * the images) so gvscan and the app's Export write the same files. Every file is written to a
 * temporary name in its directory and renamed, so nothing half-written looks complete.
 * Owners: gv-report-pdf.c (cairo/pango PDF), gv-report-json.c (full and worker JSON, images),
 * gv-report-csv.c (CSV), gv-report-compare.c (run against run). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "gv-store.h"

G_BEGIN_DECLS

typedef enum {
  GV_PAPER_A4,
  GV_PAPER_LETTER,
} GvPaper;

/* ---- comparison of two runs (gvscan compare, the PDF's CPU-vs-GPU section) ---- */
typedef struct {
  char *name;        /* e.g. "frames.sharpness" */
  char *unit;        /* "px", "relative", "count", "levels", "" */
  double difference; /* largest difference found (count of mismatches for discrete outputs) */
  double tolerance;
  gboolean compared; /* FALSE when one of the runs lacks the output */
  gboolean pass;
  char *note;        /* where the largest difference is, or why not compared */
} GvCompareOutput;

typedef struct {
  char *stage;
  double seconds_a, seconds_b; /* NAN when a run lacks the stage */
} GvCompareStage;

typedef struct {
  gint64 run_a, run_b;
  char *backend_a, *backend_b, *device_a, *device_b;
  gboolean same_video;     /* same SHA-256 */
  gboolean same_parameters;/* threads aside */
  GPtrArray *outputs;      /* GvCompareOutput* */
  GPtrArray *stages;       /* GvCompareStage* ("total" last) */
  gboolean pass;           /* every compared output within its tolerance */
} GvComparison;

/* Compares the outputs of two finished runs (both loaded in full). */
GvComparison *gv_report_compare (const GvRun *a, const GvRun *b);
void gv_comparison_free (GvComparison *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvComparison, gv_comparison_free)
/* The comparison as a plain-text table (what gvscan compare prints). */
char *gv_comparison_to_text (const GvComparison *c);

/* ---- files ---- */
/* The grader's PDF: cover page, golden frames, warped cover, regions, defects, the per-frame
 * chart with the gate, CPU vs GPU (cmp may be NULL: "not available"), parameters and versions. */
gboolean gv_report_write_pdf (const GvRun *run, const GvComparison *cmp, GvPaper paper,
                              const char *path, GError **error);
/* The full result JSON as gvscan analyze wrote it (pretty). */
gboolean gv_report_write_json (const GvRun *run, const char *path, GError **error);
/* The production worker's flat result (seed-system.md): scanId, goldenFrames, frameTimestamps,
 * defectMask, varianceHeatmap, defectOverlay, regionCrops, defectPercentage, damageScore,
 * regionScores, regionDetails; {"error", "type"} for a run that did not finish. Image entries
 * are the stored file names (relative to where the images are exported); values the run does not
 * have are null. */
JsonNode *gv_report_worker_json (const GvRun *run);
gboolean gv_report_write_worker_json (const GvRun *run, const char *path, GError **error);
/* dir/frames.csv (per-frame metrics), dir/defects.csv and dir/regions.csv (header only when
 * the run has none). */
gboolean gv_report_write_csv (const GvRun *run, const char *dir, GError **error);
/* Every stored image under its own name in dir. */
gboolean gv_report_write_images (const GvRun *run, const char *dir, GError **error);

/* Writes bytes to path through a temporary file in the same directory and a rename. */
gboolean gv_report_write_file (const char *path, const void *data, gsize len, GError **error);

/* Releases the font and surface caches the PDF writer filled (Pango, cairo, fontconfig), so a
 * program that made PDFs exits with nothing allocated (LeakSanitizer). Call once, at the end. */
void gv_report_shutdown (void);

G_END_DECLS
