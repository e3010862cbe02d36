/* gv-report-private.h: helpers shared by the report writers. */
#pragma once

#include "gv-json.h" /* the JSON readers the run store uses too */
#include "gv-report.h"

G_BEGIN_DECLS

/* A box as [x, y, w, h], {x, y, w|width, h|height} under box/bbox/rect, x0/y0/x1/y1 members or
 * "bounds" [x0, y0, x1, y1]. */
gboolean _gv_json_box (JsonObject *o, double b[4]);

typedef struct {
  char *name;
  JsonObject *obj; /* borrowed from the run's result */
} GvReportRegion;
/* The result's regions: "regions" as an object {name: {...}} or an array of {name, ...}, else the
 * worker's "regionDetails". */
GPtrArray *_gv_run_regions (const GvRun *run);
/* The result's defect list ("defects" as an array, or its "list"), NULL when it has none. */
JsonArray *_gv_run_defects (const GvRun *run);

/* A cairo image surface (ARGB32 or RGB24) decoded from PNG bytes, or NULL. */
typedef struct _cairo_surface cairo_surface_t;
cairo_surface_t *_gv_png_surface (GBytes *png);

G_END_DECLS
