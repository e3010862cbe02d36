/* gv-timeline.h: the per-frame chart: sharpness and motion of every frame, the motion gate as a
 * line, candidates and golden frames marked, the shown frame as a cursor; a click or drag jumps
 * to a frame ("frame-activated", int). */
#pragma once

#include <gtk/gtk.h>

#include "gv-analysis.h"

G_BEGIN_DECLS

#define GV_TYPE_TIMELINE (gv_timeline_get_type ())
G_DECLARE_FINAL_TYPE (GvTimeline, gv_timeline, GV, TIMELINE, GtkWidget)

GtkWidget *gv_timeline_new (void);
void gv_timeline_set_analysis (GvTimeline *self, GvAnalysis *analysis);
void gv_timeline_set_cursor (GvTimeline *self, int frame);
/* The x of a frame's centre in widget px (tests click through it). */
double gv_timeline_frame_x (GvTimeline *self, int frame);

G_END_DECLS
