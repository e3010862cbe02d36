/* gv-views.h: the window's views. Each is a widget with its own template
 * (data/ui/gv-<name>.ui) and is handed the model; none computes analysis. */
#pragma once

#include <gtk/gtk.h>

#include "gv-analysis.h"

G_BEGIN_DECLS

#define GV_TYPE_OVERVIEW_VIEW (gv_overview_view_get_type ())
G_DECLARE_FINAL_TYPE (GvOverviewView, gv_overview_view, GV, OVERVIEW_VIEW, GtkWidget)
void gv_overview_view_set_analysis (GvOverviewView *self, GvAnalysis *analysis);
/* Number of golden-frame cards shown (tests). */
int gv_overview_view_count_golden (GvOverviewView *self);
const char *gv_overview_view_get_grade_text (GvOverviewView *self);

#define GV_TYPE_FRAMES_VIEW (gv_frames_view_get_type ())
G_DECLARE_FINAL_TYPE (GvFramesView, gv_frames_view, GV, FRAMES_VIEW, GtkWidget)
void gv_frames_view_set_analysis (GvFramesView *self, GvAnalysis *analysis);
void gv_frames_view_show_frame (GvFramesView *self, int index);
int gv_frames_view_get_frame (GvFramesView *self);
/* Focus on the scrubber so Left/Right step frames at once. */
void gv_frames_view_focus (GvFramesView *self);
/* Index of the frame whose flow is shown, -1 while none (tests). */
int gv_frames_view_get_loaded_frame (GvFramesView *self);
/* Its presentation time as decoded (s), -1 while none. */
double gv_frames_view_get_loaded_pts (GvFramesView *self);
/* The shown frame at full resolution with the flow arrows (and the cover outline when on), and
 * beside it the flow's colour picture at the same size, as a PNG. */
gboolean gv_frames_view_export_png (GvFramesView *self, const char *path, GError **error);

#define GV_TYPE_COVER_VIEW (gv_cover_view_get_type ())
G_DECLARE_FINAL_TYPE (GvCoverView, gv_cover_view, GV, COVER_VIEW, GtkWidget)
void gv_cover_view_set_analysis (GvCoverView *self, GvAnalysis *analysis);
void gv_cover_view_set_units_inch (GvCoverView *self, gboolean inch);
/* The overlay toggles (mask, heatmap, region boxes and labels). */
void gv_cover_view_set_overlays (GvCoverView *self, gboolean mask, gboolean heat, gboolean regions);
/* The shown warped cover at its own resolution (e.g. 1060x1640) with the toggled overlays and
 * the defect boxes, as a PNG. */
gboolean gv_cover_view_export_png (GvCoverView *self, const char *path, GError **error);

#define GV_TYPE_COMPARE_VIEW (gv_compare_view_get_type ())
G_DECLARE_FINAL_TYPE (GvCompareView, gv_compare_view, GV, COMPARE_VIEW, GtkWidget)
/* The analyses of this session (GListModel of GvAnalysis); the view picks the last two. */
void gv_compare_view_set_model (GvCompareView *self, GListModel *analyses);
void gv_compare_view_select (GvCompareView *self, guint a, guint b);
void gv_compare_view_set_mode (GvCompareView *self, guint mode);
/* Recomputes the table (e.g. once the runs are in the store). */
void gv_compare_view_refresh (GvCompareView *self);
/* Rows of the per-output table and how many failed (tests). */
int gv_compare_view_count_rows (GvCompareView *self, int *failed);
/* What the mode shows, at the images' own resolution, as a PNG: A and B side by side, the split
 * picture, or the difference heatmap. */
gboolean gv_compare_view_export_png (GvCompareView *self, const char *path, GError **error);

#define GV_TYPE_HISTORY_VIEW (gv_history_view_get_type ())
G_DECLARE_FINAL_TYPE (GvHistoryView, gv_history_view, GV, HISTORY_VIEW, GtkWidget)
void gv_history_view_reload (GvHistoryView *self);
const char *gv_history_view_get_status (GvHistoryView *self);
int gv_history_view_count_runs (GvHistoryView *self);
/* Emits "open-run" (gint64 id) for the newest run (what Reopen does on a selection). */
void gv_history_view_open_first (GvHistoryView *self);
/* Selects the two newest runs and compares them (what Compare Two does). */
void gv_history_view_compare_first_two (GvHistoryView *self);
const char *gv_history_view_get_compare_text (GvHistoryView *self);

/* The vision core's English (grade lines, cap and review reasons, defect kind and region names)
 * in the app's language (gv-core-text.c, gv-i18n.h); result.json keeps the English. */
char *gv_core_text (const char *english);
const char *gv_core_kind_text (GvDefectKind kind);
const char *gv_core_region_text (GvRegionId region);
/* A stored run's status (GvRunStatus: running, done, failed, cancelled) in the app's language. */
const char *gv_run_status_text (int status);

/* Helpers shared by the views. */
char *gv_format_seconds (double s);
void gv_grid_clear (GtkGrid *grid);
void gv_widget_unparent_children (GtkWidget *widget);

G_END_DECLS
