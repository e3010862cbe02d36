/* gv-report-json.c: the full result JSON, the production worker's flat result shape
 * (seed-system.md, "Result JSON (flat, CPU worker)") and the stored images, all written through a
 * temporary name and a rename. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gv-report-private.h"

gboolean
gv_report_write_file (const char *path, const void *data, gsize len, GError **error)
{
  /* g_file_set_contents writes PATH.XXXXXX in the same directory, fsyncs and renames, and
   * removes the temporary file when a write fails (a full disk leaves nothing behind). */
  return g_file_set_contents (path, data, (gssize) len, error);
}

gboolean
gv_report_write_json (const GvRun *run, const char *path, GError **error)
{
  g_autoptr (JsonGenerator) gen = NULL;
  g_autofree char *text = NULL;

  if (!run->result)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "the run did not finish, so it has no result (%s%s%s)",
                   gv_run_status_name (run->status), run->error ? ": " : "",
                   run->error ? run->error : "");
      return FALSE;
    }
  gen = json_generator_new ();
  json_generator_set_root (gen, run->result);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  return gv_report_write_file (path, text, strlen (text), error);
}

/* The first string member named key anywhere in the result (depth first), or NULL. */
static const char *
find_string_member (JsonNode *n, const char *key)
{
  if (JSON_NODE_HOLDS_OBJECT (n))
    {
      JsonObject *o = json_node_get_object (n);
      const char *s = gv_json_str (o, key);
      g_autoptr (GList) names = NULL;
      if (s)
        return s;
      names = json_object_get_members (o);
      for (GList *l = names; l; l = l->next)
        if ((s = find_string_member (json_object_get_member (o, l->data), key)))
          return s;
    }
  else if (JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          const char *s = find_string_member (json_array_get_element (a, i), key);
          if (s)
            return s;
        }
    }
  return NULL;
}

static const char *
first_of (JsonNode *result, const char *a, const char *b)
{
  const char *s = find_string_member (result, a);
  return s ? s : find_string_member (result, b);
}

static void
add_number_or_null (JsonBuilder *b, const char *key, double v)
{
  json_builder_set_member_name (b, key);
  if (isnan (v))
    json_builder_add_null_value (b);
  else
    json_builder_add_double_value (b, v);
}

static void
add_string_or_null (JsonBuilder *b, const char *key, const char *v)
{
  json_builder_set_member_name (b, key);
  if (v)
    json_builder_add_string_value (b, v);
  else
    json_builder_add_null_value (b);
}

JsonNode *
gv_report_worker_json (const GvRun *run)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  JsonObject *root = run->result ? json_node_get_object (run->result) : NULL;
  JsonArray *golden = gv_json_arr (root, "golden_frames");
  g_autoptr (GPtrArray) regions = _gv_run_regions (run);

  json_builder_begin_object (b);
  if (run->status != GV_RUN_DONE || !root)
    {
      /* The worker's error shape. */
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, run->error ? run->error : gv_run_status_name (run->status));
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, gv_run_status_name (run->status));
      json_builder_end_object (b);
      return json_builder_get_root (b);
    }
  json_builder_set_member_name (b, "scanId");
  json_builder_add_string_value (b, run->scan_id ? run->scan_id : "");
  json_builder_set_member_name (b, "goldenFrames");
  json_builder_begin_array (b);
  for (guint i = 0; golden && i < json_array_get_length (golden); i++)
    {
      const char *img = gv_json_str (json_array_get_object_element (golden, i), "image");
      if (img)
        json_builder_add_string_value (b, img);
      else
        json_builder_add_null_value (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "frameTimestamps");
  json_builder_begin_array (b);
  for (guint i = 0; golden && i < json_array_get_length (golden); i++)
    json_builder_add_double_value (b, gv_json_num (json_array_get_object_element (golden, i),
                                                    "pts", 0));
  json_builder_end_array (b);
  /* The result's own worker-named members first (gvscan writes them), then ours. */
  add_string_or_null (b, "defectMask", first_of (run->result, "defectMask", "defect_mask"));
  add_string_or_null (b, "varianceHeatmap", first_of (run->result, "varianceHeatmap", "defectHeatmap"));
  add_string_or_null (b, "defectOverlay", first_of (run->result, "defectOverlay", "defect_overlay"));

  json_builder_set_member_name (b, "regionCrops");
  json_builder_begin_object (b);
  {
    JsonObject *crops = gv_json_obj (root, "regionCrops");
    for (guint i = 0; i < regions->len; i++)
      {
        GvReportRegion *r = g_ptr_array_index (regions, i);
        const char *crop = gv_json_str (crops, r->name) ? gv_json_str (crops, r->name)
                                                          : gv_json_str (r->obj, "crop");
        if (crop)
          {
            json_builder_set_member_name (b, r->name);
            json_builder_add_string_value (b, crop);
          }
      }
  }
  json_builder_end_object (b);
  add_number_or_null (b, "defectPercentage", run->defect_percentage);
  add_number_or_null (b, "damageScore", run->damage_score);
  json_builder_set_member_name (b, "regionScores");
  json_builder_begin_object (b);
  {
    JsonObject *scores = gv_json_obj (root, "regionScores");
    for (guint i = 0; i < regions->len; i++)
      {
        GvReportRegion *r = g_ptr_array_index (regions, i);
        add_number_or_null (b, r->name, gv_json_num (scores, r->name,
                                                      gv_json_num (r->obj, "score", NAN)));
      }
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "regionDetails");
  json_builder_begin_object (b);
  for (guint i = 0; i < regions->len; i++)
    {
      static const char *keys[] = { "defect_coverage", "mean_intensity", "max_intensity",
                                    "edge_density", "quality_score" };
      GvReportRegion *r = g_ptr_array_index (regions, i);
      json_builder_set_member_name (b, r->name);
      json_builder_begin_object (b);
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        add_number_or_null (b, keys[k], gv_json_num (r->obj, keys[k], NAN));
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
gv_report_write_worker_json (const GvRun *run, const char *path, GError **error)
{
  g_autoptr (JsonNode) root = gv_report_worker_json (run);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  return gv_report_write_file (path, text, strlen (text), error);
}

gboolean
gv_report_write_images (const GvRun *run, const char *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot create %s: %s", dir,
                   g_strerror (e));
      return FALSE;
    }
  for (guint i = 0; run->images && i < run->images->len; i++)
    {
      const GvRunImage *img = g_ptr_array_index (run->images, i);
      g_autofree char *path = g_build_filename (dir, img->name, NULL);
      gsize n;
      const void *data = g_bytes_get_data (img->png, &n);
      if (!gv_report_write_file (path, data, n, error))
        return FALSE;
    }
  return TRUE;
}

/* ---- shared helpers (gv-report-private.h) ---- */





static void
region_free (GvReportRegion *r)
{
  g_free (r->name);
  g_free (r);
}

GPtrArray *
_gv_run_regions (const GvRun *run)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) region_free);
  JsonObject *root = run->result ? json_node_get_object (run->result) : NULL;
  JsonNode *n = root ? json_object_get_member (root, "regions") : NULL;

  if (!n && root)
    n = json_object_get_member (root, "regionDetails");
  if (n && JSON_NODE_HOLDS_OBJECT (n))
    {
      g_autoptr (GList) names = json_object_get_members (json_node_get_object (n));
      for (GList *l = names; l; l = l->next)
        {
          JsonObject *o = gv_json_obj (json_node_get_object (n), l->data);
          if (o)
            {
              GvReportRegion *r = g_new0 (GvReportRegion, 1);
              r->name = g_strdup (l->data);
              r->obj = o;
              g_ptr_array_add (out, r);
            }
        }
    }
  else if (n && JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          if (JSON_NODE_HOLDS_OBJECT (e))
            {
              GvReportRegion *r = g_new0 (GvReportRegion, 1);
              const char *name = gv_json_str (json_node_get_object (e), "name");
              r->name = name ? g_strdup (name) : g_strdup_printf ("region_%u", i);
              r->obj = json_node_get_object (e);
              g_ptr_array_add (out, r);
            }
        }
    }
  return out;
}

JsonArray *
_gv_run_defects (const GvRun *run)
{
  JsonObject *root = run->result ? json_node_get_object (run->result) : NULL;
  JsonArray *a = gv_json_arr (root, "defects");
  return a ? a : gv_json_arr (gv_json_obj (root, "defects"), "list");
}

gboolean
_gv_json_box (JsonObject *o, double b[4])
{
  static const char *keys[] = { "box", "bbox", "rect" };
  JsonArray *bounds = gv_json_arr (o, "bounds");

  if (bounds && json_array_get_length (bounds) == 4)
    {
      for (int i = 0; i < 4; i++)
        b[i] = json_array_get_double_element (bounds, i);
      b[2] -= b[0];
      b[3] -= b[1];
      return TRUE;
    }

  for (guint k = 0; o && k < G_N_ELEMENTS (keys); k++)
    {
      JsonNode *n = json_object_get_member (o, keys[k]);
      if (n && JSON_NODE_HOLDS_ARRAY (n) && json_array_get_length (json_node_get_array (n)) == 4)
        {
          for (int i = 0; i < 4; i++)
            b[i] = json_array_get_double_element (json_node_get_array (n), i);
          return TRUE;
        }
      if (n && JSON_NODE_HOLDS_OBJECT (n))
        {
          JsonObject *bo = json_node_get_object (n);
          b[0] = gv_json_num (bo, "x", 0);
          b[1] = gv_json_num (bo, "y", 0);
          b[2] = gv_json_num (bo, "w", gv_json_num (bo, "width", 0));
          b[3] = gv_json_num (bo, "h", gv_json_num (bo, "height", 0));
          return TRUE;
        }
    }
  if (o && json_object_has_member (o, "x0") && json_object_has_member (o, "x1"))
    {
      b[0] = gv_json_num (o, "x0", 0);
      b[1] = gv_json_num (o, "y0", 0);
      b[2] = gv_json_num (o, "x1", 0) - b[0];
      b[3] = gv_json_num (o, "y1", 0) - b[1];
      return TRUE;
    }
  return FALSE;
}
