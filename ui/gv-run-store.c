/* gv-run-store.c: the app's side of the run store and reports: every finished analysis is stored
 * as gvscan analyze stores it (so History and `gvscan runs` see the same runs), and Export writes
 * the reports of core/report from the stored run. Both run in a worker thread. */
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <string.h>

#include "gv-analysis.h"
#include "gv-views.h"
#include "gv-cli.h"
#include "gv-error.h"
#ifdef GV_HAVE_STORE
#include "gv-json.h"
#include "gv-store.h"
#endif
#ifdef GV_HAVE_REPORT
#include "gv-report.h"
#endif

static gboolean
write_png (const GvImage *img, const char *dir, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (gv_png_write (img, path) != GV_OK)
    {
      g_set_error (error, GV_UI_ERROR, GV_UI_ERROR_ANALYSIS, _("%s cannot be written: %s"), path,
                   gv_error_message ());
      return FALSE;
    }
  return TRUE;
}

gboolean
gv_analysis_write_dir (GvAnalysis *a, const char *dir, GError **error)
{
  const GvResult *r = gv_analysis_get_result (a);
  const GvDefectReport *d = r->defects;
  g_auto (GStrv) golden = NULL, warped = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *json = NULL;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   _("The folder %s cannot be created: %s"), dir, g_strerror (errno));
      return FALSE;
    }
  golden = g_new0 (char *, r->n_golden + 1);
  warped = g_new0 (char *, r->n_golden + 1);
  /* The same names as gvscan analyze, so the run store and reports read either. */
  for (int i = 0; i < r->n_golden; i++)
    {
      golden[i] = g_strdup_printf ("golden_frame_%02d_f%05d.png", i, r->golden[i].frame_index);
      if (!write_png (r->golden[i].rgb, dir, golden[i], error))
        return FALSE;
      if (r->golden[i].warped)
        {
          warped[i] = g_strdup_printf ("cover_%02d_f%05d.png", i, r->golden[i].frame_index);
          if (!write_png (r->golden[i].warped, dir, warped[i], error))
            return FALSE;
        }
    }
  if (d && d->mask && d->score)
    {
      GvImage *heat = gv_image_new (d->score->width, d->score->height, 3, GV_U8);
      gboolean ok;
      if (!heat)
        {
          g_set_error_literal (error, GV_UI_ERROR, GV_UI_ERROR_ANALYSIS, gv_error_message ());
          return FALSE;
        }
      for (int y = 0; y < heat->height; y++)
        for (int x = 0; x < heat->width; x++)
          gv_heat_colour (gv_image_row_f32 (d->score, y)[x], gv_image_row_u8 (heat, y) + 3 * x);
      ok = write_png (d->mask, dir, "defect_mask.png", error)
           && write_png (heat, dir, "defect_heatmap.png", error);
      gv_image_free (heat);
      if (!ok)
        return FALSE;
    }
  root = gv_result_to_json (r, gv_analysis_get_info (a), gv_analysis_get_stats (a),
                            gv_analysis_get_why (a), golden, warped);
  json = g_build_filename (dir, "result.json", NULL);
  return gv_json_write_file (root, json, error);
}

#ifdef GV_HAVE_STORE
static void
rm_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_remove (p);
    }
  g_rmdir (dir);
}

static void
save_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GvAnalysis *a = task_data;
  const GvResult *r = gv_analysis_get_result (a);
  const char *video = gv_analysis_get_video_path (a);
  g_autofree char *tmp = g_dir_make_tmp ("gv-inspector-XXXXXX", NULL);
  g_autofree char *db = gv_store_default_path ();
  g_autofree char *sha = NULL, *pj = NULL, *sid = NULL, *json = NULL, *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GvStore) store = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GPtrArray) images = NULL;
  GvRunStart start = { 0 };
  gint64 id = 0;
  char *dot;

  if (!tmp || !gv_analysis_write_dir (a, tmp, &error))
    goto out;
  json = g_build_filename (tmp, "result.json", NULL);
  if (!g_file_get_contents (json, &text, NULL, &error))
    goto out;
  if (!(root = json_from_string (text, &error)))
    goto out;
  if (!(images = gv_run_images_from_dir (root, tmp, &error)))
    goto out;
  if (!(store = gv_store_open (db, GV_STORE_OPEN_READ_WRITE, &error)))
    goto out;
  sha = gv_sha256_file (video, NULL);
  sid = g_path_get_basename (video);
  if ((dot = strrchr (sid, '.')) && dot != sid)
    *dot = 0;
  pj = gv_params_to_json_string (&r->params);
  start.scan_id = sid;
  start.video_path = video;
  start.video_size = gv_analysis_get_info (a)->file_size;
  start.video_sha256 = sha;
  start.backend = r->backend;
  start.device = r->device;
  start.parameters = pj;
  if (!(id = gv_store_run_begin (store, &start, &error)))
    goto out;
  if (!gv_store_run_finish (store, id, root, images, &error))
    {
      gv_store_run_fail (store, id, GV_RUN_FAILED, error->message, NULL);
      id = 0;
    }
out:
  if (tmp)
    rm_dir (tmp);
  if (id > 0)
    g_task_return_int (task, id);
  else if (error)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_new_error (task, GV_UI_ERROR, GV_UI_ERROR_ANALYSIS, _("The run could not be stored."));
}
#endif

gboolean
gv_run_store_available (void)
{
#ifdef GV_HAVE_STORE
  return TRUE;
#else
  return FALSE;
#endif
}

void
gv_run_store_save_async (GObject *source, GvAnalysis *analysis, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (source, cancellable, callback, user_data);

  g_task_set_source_tag (task, gv_run_store_save_async);
  g_task_set_task_data (task, g_object_ref (analysis), g_object_unref);
#ifdef GV_HAVE_STORE
  g_task_run_in_thread (task, save_thread);
#else
  g_task_return_new_error (task, GV_UI_ERROR, GV_UI_ERROR_ANALYSIS,
                           _("This build has no run store (issue 6)."));
#endif
}

gint64
gv_run_store_save_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_int (G_TASK (result), error);
}

#if defined(GV_HAVE_STORE) && defined(GV_HAVE_REPORT)
static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  const char *dir = task_data;
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (task), "run-id"));
  g_autofree char *db = gv_store_default_path ();
  g_autofree char *pdf = g_build_filename (dir, "report.pdf", NULL);
  g_autofree char *json = g_build_filename (dir, "result.json", NULL);
  g_autofree char *worker = g_build_filename (dir, "worker.json", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GvStore) store = NULL;
  g_autoptr (GvRun) run = NULL, other = NULL;
  g_autoptr (GvComparison) cmp = NULL;
  gint64 oid;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_task_return_new_error (task, G_FILE_ERROR, g_file_error_from_errno (errno),
                               _("The folder %s cannot be created: %s"), dir, g_strerror (errno));
      return;
    }
  if (!(store = gv_store_open (db, GV_STORE_OPEN_READ_ONLY, &error))
      || !(run = gv_store_load_run (store, id, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* The CPU-vs-GPU section when the store has the other backend's run of this video. */
  oid = gv_store_find_counterpart (store, run, NULL);
  if (oid > 0 && (other = gv_store_load_run (store, oid, NULL)))
    cmp = g_strcmp0 (run->backend, "cpu") == 0 ? gv_report_compare (run, other)
                                               : gv_report_compare (other, run);
  if (!gv_report_write_images (run, dir, &error) || !gv_report_write_json (run, json, &error)
      || !gv_report_write_worker_json (run, worker, &error) || !gv_report_write_csv (run, dir, &error)
      || !gv_report_write_pdf (run, cmp, GV_PAPER_A4, pdf, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}
#endif

void
gv_run_store_export_async (GObject *source, gint64 run_id, const char *dir,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (source, cancellable, callback, user_data);

  g_task_set_source_tag (task, gv_run_store_export_async);
  g_task_set_task_data (task, g_strdup (dir), g_free);
  g_object_set_data (G_OBJECT (task), "run-id", GSIZE_TO_POINTER ((gsize) run_id));
#if defined(GV_HAVE_STORE) && defined(GV_HAVE_REPORT)
  g_task_run_in_thread (task, export_thread);
#else
  g_task_return_new_error (task, GV_UI_ERROR, GV_UI_ERROR_ANALYSIS,
                           _("Export needs the run store (issue 6), which this build does not have."));
#endif
}

gboolean
gv_run_store_export_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- reopening a stored run ---- */

#ifdef GV_HAVE_STORE
static gboolean
boolean (JsonObject *o, const char *k)
{
  return o ? json_object_get_boolean_member_with_default (o, k, FALSE) : FALSE;
}

static void
quad_from (JsonArray *a, GvQuad *q)
{
  for (guint i = 0; a && i < 4 && i < json_array_get_length (a); i++)
    {
      JsonArray *p = json_array_get_array_element (a, i);
      q->x[i] = json_array_get_double_element (p, 0);
      q->y[i] = json_array_get_double_element (p, 1);
    }
}

/* A stored PNG as a U8 image (channels 3, or 1 for gray pictures such as the mask). */
static GvImage *
image_from_png (const GvRun *run, const char *name, int channels)
{
  const GvRunImage *ri = name ? gv_run_find_image_by_name (run, name) : NULL;
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GdkPixbuf) pb = NULL;
  GvImage *img;

  if (!ri || !ri->png)
    return NULL;
  in = g_memory_input_stream_new_from_bytes (ri->png);
  if (!(pb = gdk_pixbuf_new_from_stream (in, NULL, NULL)))
    return NULL;
  int w = gdk_pixbuf_get_width (pb), h = gdk_pixbuf_get_height (pb);
  int nc = gdk_pixbuf_get_n_channels (pb), stride = gdk_pixbuf_get_rowstride (pb);
  const guint8 *px = gdk_pixbuf_read_pixels (pb);
  if (!(img = gv_image_new (w, h, channels, GV_U8)))
    return NULL;
  for (int y = 0; y < h; y++)
    {
      const guint8 *s = px + (gsize) y * stride;
      guint8 *d = gv_image_row_u8 (img, y);
      for (int x = 0; x < w; x++)
        for (int c = 0; c < channels; c++)
          d[x * channels + c] = s[x * nc + (nc >= 3 ? c : 0)];
    }
  return img;
}

static int
kind_from_name (const char *s)
{
  for (int k = 0; k < GV_DK_N_KINDS; k++)
    if (g_strcmp0 (gv_defect_kind_name (k), s) == 0)
      return k;
  return 0;
}

static int
region_from_name (const char *s)
{
  for (int k = 0; k < GV_REGION_N; k++)
    if (g_strcmp0 (gv_region_def (k)->name, s) == 0)
      return k;
  return GV_REGION_SURFACE;
}

static GvDefectReport *
defects_from_json (const GvRun *run, JsonObject *root)
{
  JsonObject *dj = gv_json_obj (root, "defects"), *gj = gv_json_obj (root, "grade"), *rd = gv_json_obj (root, "regionDetails");
  JsonArray *list = gv_json_arr (dj, "list"), *expl = gv_json_arr (gj, "explanation"), *size = gv_json_arr (dj, "cover_size");
  GvDefectReport *d;

  if (!dj)
    return NULL;
  d = calloc (1, sizeof *d);
  d->n_covers = (int) gv_json_num (dj, "covers_used", 0);
  {
    /* which golden covers were used (the alignment lists them) */
    JsonArray *al = gv_json_arr (dj, "alignment");
    int na = al ? (int) json_array_get_length (al) : 0;
    for (int k = 0; k < na && k < GV_DEFECTS_MAX_COVERS; k++)
      {
        JsonObject *e = json_array_get_object_element (al, k);
        d->cover_index[k] = (int) gv_json_num (e, "golden", k);
        d->align_dx[k] = gv_json_num (e, "dx", 0);
        d->align_dy[k] = gv_json_num (e, "dy", 0);
      }
  }
  if (size && json_array_get_length (size) == 2)
    {
      d->width = (int) json_array_get_int_element (size, 0);
      d->height = (int) json_array_get_int_element (size, 1);
    }
  d->mask = image_from_png (run, gv_json_str (root, "defectMask"), 1);
  d->damage_score = gv_json_num (root, "damageScore", 0);
  d->defect_percentage = gv_json_num (root, "defectPercentage", 0);
  d->n_defects = list ? (int) json_array_get_length (list) : 0;
  d->defects = calloc (MAX (d->n_defects, 1), sizeof *d->defects);
  for (int i = 0; i < d->n_defects; i++)
    {
      JsonObject *e = json_array_get_object_element (list, i);
      GvDefect *x = &d->defects[i];
      JsonArray *bb = gv_json_arr (e, "bbox"), *bm = gv_json_arr (e, "bbox_mm");
      x->kind = kind_from_name (gv_json_str (e, "type"));
      x->region = region_from_name (gv_json_str (e, "region"));
      for (int c = 0; c < 4; c++)
        {
          x->bbox[c] = bb ? (int) json_array_get_int_element (bb, c) : 0;
          x->bbox_mm[c] = bm ? json_array_get_double_element (bm, c) : 0;
        }
      x->area_px = (long) gv_json_num (e, "area_px", 0);
      x->area_mm2 = gv_json_num (e, "area_mm2", 0);
      x->severity = gv_json_num (e, "severity", 0);
      x->confidence = gv_json_num (e, "confidence", 0);
    }
  for (int k = 0; k < GV_REGION_N; k++)
    {
      JsonObject *q = gv_json_obj (rd, gv_region_def (k)->name);
      GvRegionReport *g = &d->regions[k];
      g->score = gv_json_num (q, "score", 0);
      g->defect_coverage = gv_json_num (q, "defect_coverage", 0);
      g->mean_intensity = gv_json_num (q, "mean_intensity", 0);
      g->max_intensity = gv_json_num (q, "max_intensity", 0);
      g->edge_density = gv_json_num (q, "edge_density", 0);
      g->quality_score = gv_json_num (q, "quality_score", 0);
      g->glare = gv_json_num (q, "glare", 0);
      g->n_defects = (int) gv_json_num (q, "defects", 0);
    }
  if (gj)
    {
      GvGrade *g = &d->grade;
      JsonNode *gn = json_object_get_member (gj, "grade");
      g->needs_review = gn == NULL || JSON_NODE_HOLDS_NULL (gn);
      g->grade = g->needs_review ? -1 : json_node_get_double (gn);
      g->grade_estimate = gv_json_num (gj, "estimate", g->grade);
      g->raw_points = gv_json_num (gj, "raw_points", 0);
      g->cap = gv_json_num (gj, "cap", 10);
      /* Interned: lives as long as the process, like the core's static reasons. */
      g->cap_reason = g_intern_string (gv_json_str (gj, "cap_reason") ? gv_json_str (gj, "cap_reason") : "none");
      g_strlcpy (g->review_reason, gv_json_str (gj, "review_reason") ? gv_json_str (gj, "review_reason") : "",
                 sizeof g->review_reason);
      g->n_lines = expl ? MIN ((int) json_array_get_length (expl), GV_GRADE_MAX_LINES) : 0;
      for (int i = 0; i < g->n_lines; i++)
        {
          JsonObject *l = json_array_get_object_element (expl, i);
          g_strlcpy (g->lines[i].text, gv_json_str (l, "text") ? gv_json_str (l, "text") : "", sizeof g->lines[i].text);
          g->lines[i].delta = gv_json_num (l, "delta", 0);
          g->lines[i].running = gv_json_num (l, "running", 0);
        }
    }
  return d;
}

static GvAnalysis *
analysis_from_run (const GvRun *run, GError **error)
{
  JsonObject *root, *video, *backend, *params, *summary, *timings;
  JsonArray *frames, *golden, *ares;
  GvResult *r;
  GvMediaInfo info = { 0 };
  GvDecodeStats st = { 0 };
  g_autofree char *base = NULL, *label = NULL;
  GvAnalysis *a;

  if (!run->result || !JSON_NODE_HOLDS_OBJECT (run->result))
    {
      g_set_error (error, GV_UI_ERROR, GV_UI_ERROR_ANALYSIS, _("Run %d has no result to show (%s)."),
                   (int) run->id, gv_run_status_text (run->status));
      return NULL;
    }
  root = json_node_get_object (run->result);
  video = gv_json_obj (root, "video");
  backend = gv_json_obj (root, "backend");
  params = gv_json_obj (root, "parameters");
  summary = gv_json_obj (root, "summary");
  timings = gv_json_obj (root, "timings");
  frames = gv_json_arr (root, "frames");
  golden = gv_json_arr (root, "golden_frames");
  ares = gv_json_arr (root, "analysis_resolution");

  r = calloc (1, sizeof *r);
  gv_params_init_default (&r->params);
  if (params)
    {
      g_autoptr (GList) names = json_object_get_members (params);
      for (GList *l = names; l; l = l->next)
        {
          char buf[G_ASCII_DTOSTR_BUF_SIZE];
          JsonNode *n = json_object_get_member (params, l->data);
          double v = json_node_get_value_type (n) == G_TYPE_BOOLEAN ? json_node_get_boolean (n)
                                                                     : json_node_get_double (n);
          gv_params_set (&r->params, l->data, g_ascii_dtostr (buf, sizeof buf, v));
        }
    }
  g_strlcpy (r->backend, gv_json_str (backend, "name") ? gv_json_str (backend, "name") : "", sizeof r->backend);
  g_strlcpy (r->device, gv_json_str (backend, "device") ? gv_json_str (backend, "device") : "", sizeof r->device);
  if (ares && json_array_get_length (ares) == 2)
    {
      r->analysis_width = (int) json_array_get_int_element (ares, 0);
      r->analysis_height = (int) json_array_get_int_element (ares, 1);
    }
  r->n_frames = frames ? (int) json_array_get_length (frames) : 0;
  r->frames = calloc (MAX (r->n_frames, 1), sizeof *r->frames);
  for (int i = 0; i < r->n_frames; i++)
    {
      JsonObject *f = json_array_get_object_element (frames, i);
      GvFrameRecord *x = &r->frames[i];
      x->index = (int) gv_json_num (f, "index", i);
      x->pts = gv_json_num (f, "pts", 0);
      x->sharpness = gv_json_num (f, "sharpness", 0);
      x->sharpness_frame = gv_json_num (f, "sharpness_frame", 0);
      x->motion = gv_json_num (f, "motion", 0);
      x->motion_next = gv_json_num (f, "motion_next", -1);
      x->motion_frame = gv_json_num (f, "motion_frame", 0);
      x->motion_gate = gv_json_num (f, "motion_gate", 0);
      x->measured = boolean (f, "measured");
      x->candidate = boolean (f, "candidate");
      x->cover_found = boolean (f, "cover_found");
      if (x->cover_found)
        quad_from (gv_json_arr (f, "cover"), &x->cover);
    }
  r->n_candidates = (int) gv_json_num (summary, "candidates", 0);
  r->n_golden = golden ? (int) json_array_get_length (golden) : 0;
  r->golden = calloc (MAX (r->n_golden, 1), sizeof *r->golden);
  for (int i = 0; i < r->n_golden; i++)
    {
      JsonObject *g = json_array_get_object_element (golden, i), *c = gv_json_obj (g, "cover");
      GvGolden *x = &r->golden[i];
      x->frame_index = (int) gv_json_num (g, "index", 0);
      x->pts = gv_json_num (g, "pts", 0);
      x->sharpness = gv_json_num (g, "sharpness", 0);
      x->motion = gv_json_num (g, "motion", 0);
      x->cover.found = boolean (c, "found");
      if (x->cover.found)
        {
          quad_from (gv_json_arr (c, "corners"), &x->cover.quad);
          x->cover.confidence = gv_json_num (c, "confidence", 0);
          x->cover.touches_border = boolean (c, "touches_border");
          x->warped = image_from_png (run, gv_json_str (c, "warped"), 3);
        }
      else
        g_strlcpy (x->cover.reason, gv_json_str (c, "reason") ? gv_json_str (c, "reason") : "", sizeof x->cover.reason);
      x->rgb = image_from_png (run, gv_json_str (g, "image"), 3);
    }
  if (timings)
    {
      g_autoptr (GList) names = json_object_get_members (timings);
      for (GList *l = names; l && r->n_stages < GV_STAGE_MAX; l = l->next)
        {
          if (g_str_equal (l->data, "decode") || g_str_equal (l->data, "total"))
            continue;
          /* Names point into the interned table so they outlive the JSON. */
          r->stages[r->n_stages].name = g_intern_string (l->data);
          r->stages[r->n_stages++].seconds = gv_json_num (timings, l->data, 0);
        }
      r->decode_seconds = gv_json_num (timings, "decode", 0);
      r->total_seconds = gv_json_num (timings, "total", 0);
    }
  r->defects = defects_from_json (run, root);

  info.path = (char *) (gv_json_str (video, "path") ? gv_json_str (video, "path") : run->video_path);
  info.width = (int) gv_json_num (video, "width", 0);
  info.height = (int) gv_json_num (video, "height", 0);
  info.fps = gv_json_num (video, "fps", run->fps);
  info.duration = gv_json_num (video, "duration", run->duration);
  info.file_size = (gint64) gv_json_num (video, "file_size", run->video_size);
  info.rotation = (int) gv_json_num (video, "rotation", 0);
  st.frames_decoded = (gint64) gv_json_num (video, "frames_decoded", r->n_frames);
  st.decode_errors = (gint64) gv_json_num (video, "decode_errors", 0);
  st.partial = boolean (video, "partial");
  base = g_path_get_basename (info.path ? info.path : "?");
  label = g_strdup_printf (_("Stored run #%d (%s) · %s"), (int) run->id, r->backend, base);
  a = gv_analysis_new (r, &info, &st, gv_json_str (backend, "selection"), label);
  gv_analysis_set_run_id (a, run->id);
  {
    const GvRunImage *heat = gv_json_str (root, "defectHeatmap") ? gv_run_find_image_by_name (run, gv_json_str (root, "defectHeatmap")) : NULL;
    if (heat)
      gv_analysis_set_heatmap_png (a, heat->png);
  }
  return a;
}

static void
open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  gint64 id = GPOINTER_TO_SIZE (task_data);
  g_autofree char *db = gv_store_default_path ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GvStore) store = NULL;
  g_autoptr (GvRun) run = NULL;
  GvAnalysis *a;

  if (!(store = gv_store_open (db, GV_STORE_OPEN_READ_ONLY, &error))
      || !(run = gv_store_load_run (store, id, &error)) || !(a = analysis_from_run (run, &error)))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, a, g_object_unref);
}
#endif

void
gv_run_store_open_async (GObject *source, gint64 run_id, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (source, cancellable, callback, user_data);

  g_task_set_source_tag (task, gv_run_store_open_async);
  g_task_set_task_data (task, GSIZE_TO_POINTER ((gsize) run_id), NULL);
#ifdef GV_HAVE_STORE
  g_task_run_in_thread (task, open_thread);
#else
  g_task_return_new_error (task, GV_UI_ERROR, GV_UI_ERROR_ANALYSIS,
                           _("This build has no run store (issue 6)."));
#endif
}

GvAnalysis *
gv_run_store_open_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
