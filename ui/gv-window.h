/* gv-window.h: the main window: header bar (Open, recent scans, backend, Run, Cancel, Export),
 * progress, messages in plain words, and the five views. */
#pragma once

#include <gtk/gtk.h>

#include "gv-analysis.h"
#include "gv-views.h"

G_BEGIN_DECLS

#define GV_APP_ID "io.gradevault.Inspector"

#define GV_TYPE_WINDOW (gv_window_get_type ())
G_DECLARE_FINAL_TYPE (GvWindow, gv_window, GV, WINDOW, GtkApplicationWindow)

/* Registers the resources, the CSS and the icon; call once after gtk_init. */
void gv_ui_init (void);
/* The app's settings: the installed schema, else the one compiled in the build tree; NULL when
 * neither exists. */
GSettings *gv_ui_settings_new (void);

GvWindow *gv_window_new (GtkApplication *app);
/* Opens a video; run: start the analysis at once. */
void gv_window_open (GvWindow *self, GFile *file, gboolean run);
/* Open URL: downloads an http(s) video in a thread (progress bar, Cancel), saves it in the user
 * cache folder (gv_url_download_dir) and opens it like a local file; errors appear in the window.
 * Emits "download-finished" (gboolean ok). */
void gv_window_open_url (GvWindow *self, const char *url, gboolean run);
void gv_window_run (GvWindow *self);
void gv_window_cancel (GvWindow *self);
gboolean gv_window_is_busy (GvWindow *self);
void gv_window_set_mode (GvWindow *self, GvRunMode mode);
/* The parameters the next run uses (the window's copy; call _params_changed after editing). */
GvParams *gv_window_get_params (GvWindow *self);
void gv_window_params_changed (GvWindow *self);
GListModel *gv_window_get_analyses (GvWindow *self);
GvAnalysis *gv_window_get_current (GvWindow *self);
void gv_window_show_view (GvWindow *self, const char *name);
GtkWidget *gv_window_get_view (GvWindow *self, const char *name);
/* The message shown above the views ("" when none). */
const char *gv_window_get_message (GvWindow *self);
const char *gv_window_get_progress_text (GvWindow *self);
/* Writes the window as it is drawn now to a PNG. */
gboolean gv_window_save_screenshot (GvWindow *self, const char *path, GError **error);
/* Writes the shown view as a PNG: Cover, Frames and Compare at their images' own resolution
 * (gv_*_view_export_png), Overview and History as drawn in the window. */
gboolean gv_window_save_view (GvWindow *self, const char *path, GError **error);
/* Writes result.json and the golden-frame and cover PNGs of the shown result to dir. */
gboolean gv_window_export_to (GvWindow *self, const char *dir, GError **error);

/* Writes the report of the shown run (from the run store) to dir in a thread; emits
 * "export-finished" (gboolean ok). */
void gv_window_export_report (GvWindow *self, const char *dir);

/* Emits "analysis-finished" (gboolean ok) after each run, "run-stored" (gint64 id) when a run is
 * in the store, and "busy-changed". */

G_END_DECLS
