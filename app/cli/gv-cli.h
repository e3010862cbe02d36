/* gv-cli.h: pieces shared by the gvscan subcommands. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "gv-media.h"
#include "gv-pipeline.h"

int gv_cli_analyze (int argc, char **argv);
int gv_cli_flow (int argc, char **argv);
int gv_cli_bench (int argc, char **argv);
int gv_cli_synth (int argc, char **argv);

/* GvFrameFeed over a GvFrameSource. */
typedef struct {
  GvFrameSource *src;
  GvFrameFeed feed;
  const GvFrame *cur; /* the frame next() handed out last */
} GvSourceFeed;
void gv_source_feed_init (GvSourceFeed *sf, GvFrameSource *src);

/* The vision core's last error as a GError-style message with a prefix. */
void gv_cli_error (const char *what);

/* PNG files written in parallel (each through a temporary name); GV_OK or the first error. */
typedef struct {
  const GvImage *img;
  const char *path;
  int rc;
  char message[512];
} GvPngJob;
int gv_png_write_many (GvPngJob *jobs, int n, int threads);

/* Every analysis parameter by its table name (the "parameters" member of result.json). */
JsonNode *gv_params_to_json (const GvParams *p);
char *gv_params_to_json_string (const GvParams *p);

/* result.json of an analysis. */
JsonNode *gv_result_to_json (const GvResult *r, const GvMediaInfo *info, const GvDecodeStats *st,
                             const char *backend_why, char **golden_names, char **warped_names);
gboolean gv_json_write_file (JsonNode *root, const char *path, GError **error);
/* Middlebury colour-wheel picture of a flow field (F32 2 ch) with a fixed scale: max_flow px
 * maps to full saturation. */
GvImage *gv_flow_to_color (const GvImage *flow, double max_flow);
/* Middlebury .flo writer. */
gboolean gv_flow_write_flo_file (const GvImage *flow, const char *path, GError **error);
/* Capture-quality flags of a result (strings owned by the caller's GPtrArray). */
GPtrArray *gv_result_flags (const GvResult *r, const GvDecodeStats *st);
