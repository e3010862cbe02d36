/* gv-report-compare.c: output-by-output differences between two stored runs (normally the same
 * video on the CPU and the CUDA backend), each against a named tolerance, and their stage
 * timings side by side.
 *
 * Tolerances (one table, below) are gvscan validate's contract (app/cli/gv-cli-validate.c), so a
 * stored pair reads the same as a live validation: every float output within 1e-4 of
 * max(1, |value|) ("scaled"), warped covers within one grey level, and gate decisions, golden
 * picks, the defect list and the grade identical. */
#include <math.h>
#include <string.h>

#include <cairo.h>
#include <glib/gi18n.h>

#include "gv-report-private.h"

enum { TOL_FLOAT, TOL_PIXEL, TOL_EXACT };
static const struct {
  const char *unit;
  double tol;
} tolerances[] = {
  [TOL_FLOAT] = { "scaled", 1e-4 },  /* |a - b| / max (1, |a|) */
  [TOL_PIXEL] = { "levels", 1 },
  [TOL_EXACT] = { "count", 0 },
};

static double
scaled_diff (double a, double b)
{
  return fabs (a - b) / MAX (1.0, fabs (a));
}

static void
output_free (GvCompareOutput *o)
{
  g_free (o->name);
  g_free (o->unit);
  g_free (o->note);
  g_free (o);
}

static void
stage_free (GvCompareStage *s)
{
  g_free (s->stage);
  g_free (s);
}

void
gv_comparison_free (GvComparison *c)
{
  if (!c)
    return;
  g_free (c->backend_a);
  g_free (c->backend_b);
  g_free (c->device_a);
  g_free (c->device_b);
  g_ptr_array_unref (c->outputs);
  g_ptr_array_unref (c->stages);
  g_free (c);
}

static GvCompareOutput *
add_output (GvComparison *c, const char *name, int tol)
{
  GvCompareOutput *o = g_new0 (GvCompareOutput, 1);

  o->name = g_strdup (name);
  o->unit = g_strdup (tolerances[tol].unit);
  o->tolerance = tolerances[tol].tol;
  o->compared = TRUE;
  g_ptr_array_add (c->outputs, o);
  return o;
}

static void
not_compared (GvCompareOutput *o, const char *why)
{
  o->compared = FALSE;
  o->pass = TRUE;
  o->note = g_strdup (why);
}

static void
finish (GvCompareOutput *o)
{
  o->pass = o->difference <= o->tolerance;
}

/* Per-frame numeric member: largest difference over frames present in both runs. */
static void
compare_frames (GvComparison *c, JsonArray *fa, JsonArray *fb, const char *key, int tol)
{
  g_autofree char *name = g_strdup_printf ("frames.%s", key);
  GvCompareOutput *o = add_output (c, name, tol);
  guint n;
  int where = -1;

  if (!fa || !fb)
    {
      not_compared (o, "a run has no per-frame metrics");
      return;
    }
  n = MIN (json_array_get_length (fa), json_array_get_length (fb));
  for (guint i = 0; i < n; i++)
    {
      JsonObject *a = json_array_get_object_element (fa, i), *b = json_array_get_object_element (fb, i);
      double va = gv_json_num (a, key, NAN), vb = gv_json_num (b, key, NAN), d;
      if (isnan (va) && isnan (vb))
        continue;
      if (isnan (va) != isnan (vb))
        d = INFINITY;
      else if (tol == TOL_EXACT)
        d = va != vb;
      else
        d = scaled_diff (va, vb);
      if (tol == TOL_EXACT)
        o->difference += d;
      else if (d > o->difference)
        {
          o->difference = d;
          where = (int) i;
        }
    }
  if (where >= 0)
    o->note = g_strdup_printf ("largest at frame %d", where);
  finish (o);
}

static GArray *
golden_indices (JsonArray *g)
{
  GArray *v = g_array_new (FALSE, FALSE, sizeof (int));
  for (guint i = 0; g && i < json_array_get_length (g); i++)
    {
      int idx = (int) gv_json_num (json_array_get_object_element (g, i), "index", -1);
      g_array_append_val (v, idx);
    }
  return v;
}

/* Largest per-channel difference between two PNG images of the same size. */
static double
image_difference (const GvRunImage *a, const GvRunImage *b, char **note)
{
  cairo_surface_t *sa = _gv_png_surface (a->png), *sb = _gv_png_surface (b->png);
  double worst = 0;

  if (!sa || !sb || cairo_image_surface_get_width (sa) != cairo_image_surface_get_width (sb)
      || cairo_image_surface_get_height (sa) != cairo_image_surface_get_height (sb))
    {
      *note = g_strdup ("images differ in size or could not be read");
      worst = INFINITY;
      goto out;
    }
  cairo_surface_flush (sa);
  cairo_surface_flush (sb);
  for (int y = 0; y < cairo_image_surface_get_height (sa); y++)
    {
      const guint32 *ra = (const guint32 *) (cairo_image_surface_get_data (sa)
                                             + (gsize) y * cairo_image_surface_get_stride (sa));
      const guint32 *rb = (const guint32 *) (cairo_image_surface_get_data (sb)
                                             + (gsize) y * cairo_image_surface_get_stride (sb));
      for (int x = 0; x < cairo_image_surface_get_width (sa); x++)
        for (int s = 0; s < 24; s += 8)
          {
            int d = abs ((int) ((ra[x] >> s) & 0xff) - (int) ((rb[x] >> s) & 0xff));
            if (d > worst)
              worst = d;
          }
    }
out:
  if (sa)
    cairo_surface_destroy (sa);
  if (sb)
    cairo_surface_destroy (sb);
  return worst;
}

GvComparison *
gv_report_compare (const GvRun *ra, const GvRun *rb)
{
  GvComparison *c = g_new0 (GvComparison, 1);
  JsonObject *a = ra->result ? json_node_get_object (ra->result) : NULL;
  JsonObject *b = rb->result ? json_node_get_object (rb->result) : NULL;
  JsonArray *fa = gv_json_arr (a, "frames"), *fb = gv_json_arr (b, "frames");
  JsonArray *ga = gv_json_arr (a, "golden_frames"), *gb = gv_json_arr (b, "golden_frames");
  GvCompareOutput *o;

  c->run_a = ra->id;
  c->run_b = rb->id;
  c->backend_a = g_strdup (ra->backend ? ra->backend : "?");
  c->backend_b = g_strdup (rb->backend ? rb->backend : "?");
  c->device_a = g_strdup (ra->device ? ra->device : "");
  c->device_b = g_strdup (rb->device ? rb->device : "");
  c->same_video = ra->video_sha256 && !g_strcmp0 (ra->video_sha256, rb->video_sha256);
  {
    g_autoptr (JsonNode) pa = ra->parameters ? json_from_string (ra->parameters, NULL) : NULL;
    g_autoptr (JsonNode) pb = rb->parameters ? json_from_string (rb->parameters, NULL) : NULL;
    if (pa && pb && JSON_NODE_HOLDS_OBJECT (pa) && JSON_NODE_HOLDS_OBJECT (pb))
      {
        json_object_remove_member (json_node_get_object (pa), "threads");
        json_object_remove_member (json_node_get_object (pb), "threads");
        c->same_parameters = json_node_equal (pa, pb);
      }
  }
  c->outputs = g_ptr_array_new_with_free_func ((GDestroyNotify) output_free);
  c->stages = g_ptr_array_new_with_free_func ((GDestroyNotify) stage_free);

  o = add_output (c, "frames.count", TOL_EXACT);
  if (fa && fb)
    {
      o->difference = fabs ((double) json_array_get_length (fa) - json_array_get_length (fb));
      finish (o);
    }
  else
    not_compared (o, "a run has no per-frame metrics");
  compare_frames (c, fa, fb, "sharpness", TOL_FLOAT);
  compare_frames (c, fa, fb, "sharpness_frame", TOL_FLOAT);
  compare_frames (c, fa, fb, "motion", TOL_FLOAT);
  compare_frames (c, fa, fb, "motion_next", TOL_FLOAT);
  compare_frames (c, fa, fb, "motion_frame", TOL_FLOAT);
  compare_frames (c, fa, fb, "motion_gate", TOL_FLOAT);
  compare_frames (c, fa, fb, "candidate", TOL_EXACT);
  compare_frames (c, fa, fb, "cover_found", TOL_EXACT);

  {
    g_autoptr (GArray) ia = golden_indices (ga), ib = golden_indices (gb);
    o = add_output (c, "golden_frames.picks", TOL_EXACT);
    for (guint i = 0; i < MAX (ia->len, ib->len); i++)
      if (i >= ia->len || i >= ib->len || g_array_index (ia, int, i) != g_array_index (ib, int, i))
        o->difference += 1;
    if (o->difference > 0)
      {
        g_autoptr (GString) s = g_string_new ("picks ");
        for (guint i = 0; i < ia->len; i++)
          g_string_append_printf (s, "%s%d", i ? "," : "", g_array_index (ia, int, i));
        g_string_append (s, " vs ");
        for (guint i = 0; i < ib->len; i++)
          g_string_append_printf (s, "%s%d", i ? "," : "", g_array_index (ib, int, i));
        o->note = g_string_free (g_steal_pointer (&s), FALSE);
      }
    finish (o);

    o = add_output (c, "golden_frames.corners", TOL_FLOAT);
    o->pass = TRUE;
    for (guint i = 0; ga && gb && i < MIN (json_array_get_length (ga), json_array_get_length (gb)); i++)
      {
        JsonObject *ca = gv_json_obj (json_array_get_object_element (ga, i), "cover");
        JsonObject *cb = gv_json_obj (json_array_get_object_element (gb, i), "cover");
        JsonArray *qa = gv_json_arr (ca, "corners"), *qb = gv_json_arr (cb, "corners");
        if (!qa != !qb)
          o->difference = INFINITY;
        for (guint k = 0; qa && qb && k < 4 && k < json_array_get_length (qa)
                          && k < json_array_get_length (qb); k++)
          for (guint xy = 0; xy < 2; xy++)
            {
              double d = scaled_diff (json_array_get_double_element (json_array_get_array_element (qa, k), xy),
                                      json_array_get_double_element (json_array_get_array_element (qb, k), xy));
              o->difference = MAX (o->difference, d);
            }
      }
    finish (o);
  }

  o = add_output (c, "covers.warped", TOL_PIXEL);
  {
    gboolean any = FALSE;
    for (int i = 0; i < 16; i++)
      {
        const GvRunImage *wa = gv_run_find_image (ra, "warped", i), *wb = gv_run_find_image (rb, "warped", i);
        if (!wa || !wb)
          continue;
        any = TRUE;
        g_autofree char *note = NULL;
        double d = image_difference (wa, wb, &note);
        if (d > o->difference)
          {
            o->difference = d;
            g_free (o->note);
            o->note = note ? g_steal_pointer (&note) : g_strdup_printf ("largest in cover %d", i);
          }
      }
    if (any)
      finish (o);
    else
      not_compared (o, "no warped covers stored in both runs");
  }

  {
    /* The defect mask must be identical. */
    const GvRunImage *ma = gv_run_find_image_by_name (ra, "defect_mask.png");
    const GvRunImage *mb = gv_run_find_image_by_name (rb, "defect_mask.png");
    o = add_output (c, "defects.mask", TOL_EXACT);
    g_free (o->unit);
    o->unit = g_strdup ("levels");
    if (ma && mb)
      {
        o->difference = image_difference (ma, mb, &o->note);
        finish (o);
      }
    else
      not_compared (o, "no stored mask in both runs");
  }
  {
    JsonArray *da = _gv_run_defects (ra), *db = _gv_run_defects (rb);
    /* The defect list must be identical: kind, region and box of each, in order. */
    o = add_output (c, "defects.list", TOL_EXACT);
    if (da && db)
      {
        guint na = json_array_get_length (da), nb = json_array_get_length (db);
        for (guint i = 0; i < MAX (na, nb); i++)
          {
            JsonObject *x = i < na ? json_array_get_object_element (da, i) : NULL;
            JsonObject *y = i < nb ? json_array_get_object_element (db, i) : NULL;
            double bx[4] = { 0 }, by[4] = { 0 };
            gboolean same = x && y && g_strcmp0 (gv_json_str (x, "type"), gv_json_str (y, "type")) == 0
                            && g_strcmp0 (gv_json_str (x, "kind"), gv_json_str (y, "kind")) == 0
                            && g_strcmp0 (gv_json_str (x, "region"), gv_json_str (y, "region")) == 0
                            && _gv_json_box (x, bx) == _gv_json_box (y, by)
                            && !memcmp (bx, by, sizeof bx);
            o->difference += !same;
          }
        if (o->difference > 0)
          o->note = g_strdup_printf ("%u vs %u defects", na, nb);
        finish (o);
      }
    else
      not_compared (o, "not in both results");
  }
  {
    g_autoptr (GPtrArray) rga = _gv_run_regions (ra), rgb = _gv_run_regions (rb);
    o = add_output (c, "regions.quality_score", TOL_FLOAT);
    if (rga->len && rgb->len)
      {
        for (guint i = 0; i < rga->len; i++)
          {
            GvReportRegion *x = g_ptr_array_index (rga, i);
            for (guint j = 0; j < rgb->len; j++)
              {
                GvReportRegion *y = g_ptr_array_index (rgb, j);
                if (!strcmp (x->name, y->name))
                  o->difference = MAX (o->difference, scaled_diff (gv_json_num (x->obj, "quality_score", 0),
                                                                   gv_json_num (y->obj, "quality_score", 0)));
              }
          }
        finish (o);
      }
    else
      not_compared (o, "not in both results");
    o = add_output (c, "grade", TOL_EXACT);
    if (!isnan (ra->grade) && !isnan (rb->grade))
      {
        o->difference = ra->grade != rb->grade;
        finish (o);
      }
    else
      not_compared (o, "not in both results");
  }

  c->pass = TRUE;
  for (guint i = 0; i < c->outputs->len; i++)
    {
      GvCompareOutput *x = g_ptr_array_index (c->outputs, i);
      c->pass &= x->pass;
    }

  /* Stage timings, in run A's order, then any only B has; total last. */
  {
    JsonObject *ta = gv_json_obj (a, "timings"), *tb = gv_json_obj (b, "timings");
    g_autoptr (GList) na = ta ? json_object_get_members (ta) : NULL;
    g_autoptr (GList) nb = tb ? json_object_get_members (tb) : NULL;
    GList *all = g_list_concat (g_list_copy (na), g_list_copy (nb));
    g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
    for (GList *l = all; l; l = l->next)
      {
        if (!strcmp (l->data, "total") || g_hash_table_contains (seen, l->data))
          continue;
        g_hash_table_add (seen, l->data);
        GvCompareStage *s = g_new0 (GvCompareStage, 1);
        s->stage = g_strdup (l->data);
        s->seconds_a = gv_json_num (ta, l->data, NAN);
        s->seconds_b = gv_json_num (tb, l->data, NAN);
        g_ptr_array_add (c->stages, s);
      }
    g_list_free (all);
    GvCompareStage *s = g_new0 (GvCompareStage, 1);
    s->stage = g_strdup ("total");
    s->seconds_a = gv_json_num (ta, "total", NAN);
    s->seconds_b = gv_json_num (tb, "total", NAN);
    g_ptr_array_add (c->stages, s);
  }
  return c;
}

/* str left-aligned in width characters (not bytes: a translation may have umlauts). */
static void
append_padded (GString *s, const char *str, int width)
{
  g_string_append (s, str);
  for (glong n = g_utf8_strlen (str, -1); n < width; n++)
    g_string_append_c (s, ' ');
}

char *
gv_comparison_to_text (const GvComparison *c)
{
  GString *s = g_string_new (NULL);
  /* the result column fits its widest word in this language */
  const char *words[] = { _("result"), _("pass"), _("FAIL"), _("n/a") };
  int rw = 8;
  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    rw = MAX (rw, (int) g_utf8_strlen (words[i], -1));

  /* The fixed words go through _(): the app binds the translations, gvscan does not (it
   * writes English); output names, units and notes are data and stay English, as in the
   * app's Compare view. */
  g_string_append_printf (s, _("A: run %lld (%s, %s)"), (long long) c->run_a, c->backend_a,
                          c->device_a);
  g_string_append_c (s, '\n');
  g_string_append_printf (s, _("B: run %lld (%s, %s)"), (long long) c->run_b, c->backend_b,
                          c->device_b);
  g_string_append_c (s, '\n');
  if (!c->same_video)
    g_string_append_printf (s, "%s\n", _("note: the runs are of different videos"));
  if (!c->same_parameters)
    g_string_append_printf (s, "%s\n", _("note: the runs used different parameters"));
  g_string_append_printf (s, "\n%-26s %12s %12s ", _("output"), _("difference"), _("tolerance"));
  append_padded (s, _("result"), rw);
  g_string_append (s, " \n");
  for (guint i = 0; i < c->outputs->len; i++)
    {
      GvCompareOutput *o = g_ptr_array_index (c->outputs, i);
      if (!o->compared)
        {
          g_string_append_printf (s, "%-26s %12s %12s ", o->name, "-", "-");
          append_padded (s, _("n/a"), rw);
          g_string_append_printf (s, " %s\n", o->note ? o->note : "");
        }
      else
        {
          g_string_append_printf (s, "%-26s %12.4g %12.4g ", o->name, o->difference, o->tolerance);
          append_padded (s, o->pass ? _("pass") : _("FAIL"), rw);
          g_string_append_printf (s, " %s%s%s\n", o->unit, o->note ? "; " : "", o->note ? o->note : "");
        }
    }
  g_string_append_printf (s, "\n%-26s %12s %12s %10s\n", _("stage (s)"), "A", "B", "A/B");
  for (guint i = 0; i < c->stages->len; i++)
    {
      GvCompareStage *st = g_ptr_array_index (c->stages, i);
      g_string_append_printf (s, "%-26s %12.3f %12.3f", st->stage, st->seconds_a, st->seconds_b);
      if (st->seconds_a > 0 && st->seconds_b > 0)
        g_string_append_printf (s, " %9.2fx", st->seconds_a / st->seconds_b);
      g_string_append_c (s, '\n');
    }
  g_string_append_printf (s, "\n%s\n", c->pass ? _("all outputs within tolerance")
                                               : _("some outputs differ beyond tolerance"));
  return g_string_free (s, FALSE);
}
