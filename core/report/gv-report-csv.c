/* gv-report-csv.c: CSV of a stored run (RFC 4180 quoting, '.' decimals, LF line ends):
 * frames.csv (per-frame metrics), defects.csv and regions.csv (header only when none). */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "gv-report-private.h"

static void
csv_str (GString *s, const char *v)
{
  if (!v)
    return;
  if (strpbrk (v, ",\"\n\r"))
    {
      g_string_append_c (s, '"');
      for (const char *p = v; *p; p++)
        {
          if (*p == '"')
            g_string_append_c (s, '"');
          g_string_append_c (s, *p);
        }
      g_string_append_c (s, '"');
    }
  else
    g_string_append (s, v);
}

/* Shortest text that reads back as the same double; empty for missing values. */
static void
csv_num (GString *s, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (v))
    return;
  for (int prec = 6; prec <= 17; prec++)
    {
      char fmt[8];
      g_snprintf (fmt, sizeof fmt, "%%.%dg", prec);
      g_ascii_formatd (buf, sizeof buf, fmt, v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }
  g_string_append (s, buf);
}

static void
csv_member (GString *s, JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return;
  switch (json_node_get_value_type (n))
    {
    case G_TYPE_BOOLEAN: g_string_append_c (s, json_node_get_boolean (n) ? '1' : '0'); break;
    case G_TYPE_INT64: g_string_append_printf (s, "%" G_GINT64_FORMAT, json_node_get_int (n)); break;
    case G_TYPE_DOUBLE: csv_num (s, json_node_get_double (n)); break;
    case G_TYPE_STRING: csv_str (s, json_node_get_string (n)); break;
    default: break;
    }
}

static gboolean
write_table (const char *dir, const char *name, GString *s, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return gv_report_write_file (path, s->str, s->len, error);
}

gboolean
gv_report_write_csv (const GvRun *run, const char *dir, GError **error)
{
  static const char *frame_cols[] = { "index", "pts", "sharpness", "sharpness_frame", "motion",
                                      "motion_next", "motion_frame", "motion_gate", "measured",
                                      "candidate", "cover_found" };
  static const char *region_cols[] = { "defect_coverage", "mean_intensity", "max_intensity",
                                       "edge_density", "quality_score", "score" };
  JsonObject *root = run->result ? json_node_get_object (run->result) : NULL;
  JsonArray *frames = gv_json_arr (root, "frames"), *defects = _gv_run_defects (run);
  g_autoptr (GPtrArray) regions = _gv_run_regions (run);
  g_autoptr (GString) s = g_string_new (NULL);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot create %s: %s", dir,
                   g_strerror (e));
      return FALSE;
    }
  for (guint c = 0; c < G_N_ELEMENTS (frame_cols); c++)
    g_string_append_printf (s, "%s%s", c ? "," : "", frame_cols[c]);
  g_string_append_c (s, '\n');
  for (guint i = 0; frames && i < json_array_get_length (frames); i++)
    {
      JsonObject *f = json_array_get_object_element (frames, i);
      for (guint c = 0; c < G_N_ELEMENTS (frame_cols); c++)
        {
          if (c)
            g_string_append_c (s, ',');
          csv_member (s, f, frame_cols[c]);
        }
      g_string_append_c (s, '\n');
    }
  if (!write_table (dir, "frames.csv", s, error))
    return FALSE;

  g_string_assign (s, "index,kind,region,x,y,width,height,area_px,area_mm2,severity,confidence\n");
  for (guint i = 0; defects && i < json_array_get_length (defects); i++)
    {
      JsonObject *d = json_array_get_object_element (defects, i);
      double b[4] = { NAN, NAN, NAN, NAN };
      if (!d)
        continue;
      _gv_json_box (d, b);
      g_string_append_printf (s, "%u,", i);
      csv_str (s, gv_json_str (d, "kind") ? gv_json_str (d, "kind") : gv_json_str (d, "type"));
      g_string_append_c (s, ',');
      csv_str (s, gv_json_str (d, "region"));
      for (int k = 0; k < 4; k++)
        {
          g_string_append_c (s, ',');
          csv_num (s, b[k]);
        }
      g_string_append_c (s, ',');
      csv_num (s, gv_json_num (d, "area_px", gv_json_num (d, "area", NAN)));
      g_string_append_c (s, ',');
      csv_num (s, gv_json_num (d, "area_mm2", NAN));
      g_string_append_c (s, ',');
      csv_num (s, gv_json_num (d, "severity", NAN));
      g_string_append_c (s, ',');
      csv_num (s, gv_json_num (d, "confidence", NAN));
      g_string_append_c (s, '\n');
    }
  if (!write_table (dir, "defects.csv", s, error))
    return FALSE;

  g_string_assign (s, "region");
  for (guint c = 0; c < G_N_ELEMENTS (region_cols); c++)
    g_string_append_printf (s, ",%s", region_cols[c]);
  g_string_append_c (s, '\n');
  for (guint i = 0; i < regions->len; i++)
    {
      GvReportRegion *r = g_ptr_array_index (regions, i);
      csv_str (s, r->name);
      for (guint c = 0; c < G_N_ELEMENTS (region_cols); c++)
        {
          g_string_append_c (s, ',');
          csv_member (s, r->obj, region_cols[c]);
        }
      g_string_append_c (s, '\n');
    }
  return write_table (dir, "regions.csv", s, error);
}
