/* gv-analysis.h: one finished analysis as the views see it (the core's GvResult, the video's
 * facts, textures made on first use), and the GTask bridge that runs the core in a thread. The
 * views read results; they never compute analysis themselves (the flow of a shown frame is the
 * one exception the issue asks for, done by gv_frame_fetch_async with the core's Farneback). */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "gv-media.h"
#include "gv-pipeline.h"

G_BEGIN_DECLS

#define GV_UI_ERROR (gv_ui_error_quark ())
GQuark gv_ui_error_quark (void);
typedef enum {
  GV_UI_ERROR_VIDEO,     /* the video cannot be opened or decoded */
  GV_UI_ERROR_NO_DEVICE, /* the GPU backend is not available */
  GV_UI_ERROR_ANALYSIS,  /* the core failed */
  GV_UI_ERROR_DOWNLOAD,  /* Open URL: a bad address or a failed download (plain words) */
} GvUiError;

#define GV_TYPE_ANALYSIS (gv_analysis_get_type ())
G_DECLARE_FINAL_TYPE (GvAnalysis, gv_analysis, GV, ANALYSIS, GObject)

/* Takes ownership of r. */
GvAnalysis *gv_analysis_new (GvResult *r, const GvMediaInfo *info, const GvDecodeStats *st,
                             const char *why, const char *label);
const GvResult *gv_analysis_get_result (GvAnalysis *self);
const GvMediaInfo *gv_analysis_get_info (GvAnalysis *self);
const GvDecodeStats *gv_analysis_get_stats (GvAnalysis *self);
const char *gv_analysis_get_video_path (GvAnalysis *self);
const char *gv_analysis_get_label (GvAnalysis *self);
void gv_analysis_set_label (GvAnalysis *self, const char *label);
/* For a stored run, whose score map is kept only as its heatmap picture. */
void gv_analysis_set_heatmap_png (GvAnalysis *self, GBytes *png);
const char *gv_analysis_get_why (GvAnalysis *self);
/* The run's id in the run store once saved, 0 before. */
gint64 gv_analysis_get_run_id (GvAnalysis *self);
void gv_analysis_set_run_id (GvAnalysis *self, gint64 id);
/* The result as gvscan's result.json (schema gradevault-inspector/result/1). */
JsonNode *gv_analysis_to_json (GvAnalysis *self);
/* Textures of the golden frame i, its warped cover (NULL when none), the defect maps (NULL when
 * the run has none); made once and cached. */
GdkTexture *gv_analysis_golden_texture (GvAnalysis *self, int i);
GdkTexture *gv_analysis_warped_texture (GvAnalysis *self, int i);
GdkTexture *gv_analysis_mask_texture (GvAnalysis *self);
GdkTexture *gv_analysis_heatmap_texture (GvAnalysis *self);
GdkTexture *gv_analysis_print_texture (GvAnalysis *self);
/* A U8 1- or 3-channel image as a texture (gray is expanded to RGB). */
GdkTexture *gv_texture_new_from_image (const GvImage *img);

/* ---- running the pipeline ---- */
typedef enum { GV_RUN_CPU = 0, GV_RUN_GPU = 1, GV_RUN_BOTH = 2 } GvRunMode;
typedef void (*GvAnalysisProgressFunc) (const char *stage, double frac, gpointer user_data);

/* Runs the pipeline in a worker thread. progress is called in the caller's main context, at
 * most once per main-loop idle (the worker's reports are coalesced). Cancelling stops the core
 * within a frame; the task then fails with G_IO_ERROR_CANCELLED and nothing is kept. */
void gv_analysis_run_async (GObject *source, const char *path, GvRunMode mode,
                            const GvParams *params, GCancellable *cancellable,
                            GvAnalysisProgressFunc progress, gpointer progress_data,
                            GAsyncReadyCallback callback, gpointer user_data);
/* GvAnalysis* (one, or CPU then GPU for Both); note: a sentence to show (e.g. why the GPU half
 * did not run), may be NULL. */
GPtrArray *gv_analysis_run_finish (GAsyncResult *result, char **note, GError **error);

/* Plain words for the GPU backend's availability: NULL when it is available. */
char *gv_gpu_unavailable_reason (void);
/* Stage key to a translated label ("Frame analysis", ...). */
const char *gv_stage_label (const char *stage);

/* ---- one frame and its flow, on demand ---- */
typedef struct {
  int index;
  double pts;
  GdkTexture *frame;   /* full-resolution upright RGB */
  GvImage *flow;       /* F32 2 ch at analysis resolution: from the previous frame (frame 0: to
                          frame 1) */
  GdkTexture *flow_color; /* colour wheel picture of flow at the fixed scale */
  double flow_scale_x, flow_scale_y; /* full-res px per flow px */
  double mean_motion;  /* mean |flow| in full-res px */
} GvFrameData;
void gv_frame_data_free (GvFrameData *fd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvFrameData, gv_frame_data_free)

/* Full-resolution px of flow at full saturation in the colour wheel (fixed for comparability). */
#define GV_FLOW_VIEW_MAX_PX 12.0

typedef struct _GvFrameCursor GvFrameCursor;
/* A decoder kept open between requests so stepping forward decodes one frame. */
GvFrameCursor *gv_frame_cursor_new (const char *path, const GvParams *params);
GvFrameCursor *gv_frame_cursor_ref (GvFrameCursor *c);
void gv_frame_cursor_unref (GvFrameCursor *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvFrameCursor, gv_frame_cursor_unref)
/* The task holds a reference to the cursor; requests are served one at a time. */
void gv_frame_fetch_async (GObject *source, GvFrameCursor *cursor, int index,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
GvFrameData *gv_frame_fetch_finish (GAsyncResult *result, GError **error);

/* ---- the run store and reports (core/store, core/report; gv-run-store.c) ---- */
/* FALSE when this build has no run store: the callers say so in plain words. */
gboolean gv_run_store_available (void);
/* Saves the run like gvscan analyze does (result JSON, images) in the default store. */
void gv_run_store_save_async (GObject *source, GvAnalysis *analysis, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
gint64 gv_run_store_save_finish (GAsyncResult *result, GError **error);
/* Writes report.pdf (with the CPU-vs-GPU section when the store has the counterpart run),
 * result.json, worker.json, the CSV files and the images of a stored run into dir. */
void gv_run_store_export_async (GObject *source, gint64 run_id, const char *dir,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean gv_run_store_export_finish (GAsyncResult *result, GError **error);
/* Reopens a stored run as an analysis (from its result JSON and images; the defect score map
 * comes back only as its heatmap picture). */
void gv_run_store_open_async (GObject *source, gint64 run_id, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
GvAnalysis *gv_run_store_open_finish (GAsyncResult *result, GError **error);
/* Writes result.json, the golden frames, covers and defect maps of an analysis into dir with
 * gvscan's names. */
gboolean gv_analysis_write_dir (GvAnalysis *analysis, const char *dir, GError **error);

/* ---- Open URL: a video over http(s) with core/net (gv-url-download.c) ---- */
/* FALSE when this build has no core/net (libcurl). */
gboolean gv_url_download_available (void);
/* TRUE for an http or https URL with a host; else a sentence in plain words. */
gboolean gv_url_check (const char *url, GError **error);
/* g_get_user_cache_dir()/gradevault-inspector/downloads */
char *gv_url_download_dir (void);
/* Where url is saved: in that folder, its last path segment prefixed with a hash of the URL. */
char *gv_url_download_dest (const char *url);
/* done and total bytes (total -1 when the server did not say); in the caller's main context,
 * coalesced like the analysis progress. */
typedef void (*GvUrlProgressFunc) (gint64 done, gint64 total, gpointer user_data);
/* Downloads url to dest in a thread; cancelling stops it within about a second (then
 * G_IO_ERROR_CANCELLED and nothing is left at dest). Other failures are GV_UI_ERROR_DOWNLOAD with
 * a sentence naming the cause (gv_url_error_text). */
void gv_url_download_async (GObject *source, const char *url, const char *dest,
                            GCancellable *cancellable, GvUrlProgressFunc progress,
                            gpointer progress_data, GAsyncReadyCallback callback, gpointer user_data);
/* The local path of the downloaded video. */
char *gv_url_download_finish (GAsyncResult *result, GError **error);
/* A core/net error in plain words: not found, unreachable, too large, not a video, ... */
char *gv_url_error_text (const char *url, const GError *error, long http_status);

G_END_DECLS
