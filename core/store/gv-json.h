/* gv-json.h: lenient readers of stored result JSON (json-glib), shared by the run store and the
 * reports: a missing member, or one of another type, reads as NULL or the default. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Member k of o (o may be NULL) when it is an object / an array, else NULL. */
JsonObject *gv_json_obj (JsonObject *o, const char *k);
JsonArray *gv_json_arr (JsonObject *o, const char *k);
/* Member k as a number (integers, doubles and booleans), else dflt. */
double gv_json_num (JsonObject *o, const char *k, double dflt);
/* Member k as a string (owned by the node), else NULL. */
const char *gv_json_str (JsonObject *o, const char *k);

G_END_DECLS
