/* gv-compare-view.c: two results side by side (CPU and GPU of one video, or any two runs of this
 * session): synchronized zoom and pan, a split mode, a difference heatmap (absolute and signed,
 * fixed scales with the numbers in the status line), a pixel probe, and a table of per-output
 * differences judged against the parity contract (docs: identical picks and masks, floats within
 * 1e-4). Without a GPU it compares two CPU runs, e.g. two parameter sets. */
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "gv-image-view.h"
#include "gv-views.h"
#if defined(GV_HAVE_STORE) && defined(GV_HAVE_REPORT)
#include "gv-report.h"
#include "gv-store.h"
#endif

/* Fixed difference scale: this many 8-bit levels (or 1/255 of a float map) saturate. */
#define DIFF_FULL_SCALE 32.0

typedef enum { OUT_GOLDEN, OUT_WARPED, OUT_HEAT, OUT_MASK, OUT_PRINT } OutKind;

struct _GvCompareView {
  GtkWidget parent_instance;
  GtkDropDown *a_dropdown, *b_dropdown, *output_dropdown, *mode_dropdown;
  GtkStringList *output_list;
  GtkScale *split_scale;
  GtkAdjustment *split_adjustment;
  GtkLabel *status_label, *probe_label;
  GvImageView *view_a, *view_b;
  GtkGrid *table_grid;
  GtkLabel *table_note;

  GListModel *model;
  GtkStringList *names;
  GvAnalysis *a, *b;
  GArray *outputs; /* int pairs: kind, golden index */
  GdkTexture *diff_tex;
  int table_rows, table_failed;
  gboolean updating;
};

G_DEFINE_FINAL_TYPE (GvCompareView, gv_compare_view, GTK_TYPE_WIDGET)

static const GvImage *
output_image (GvAnalysis *an, OutKind kind, int g)
{
  const GvResult *r = an ? gv_analysis_get_result (an) : NULL;

  if (!r)
    return NULL;
  switch (kind)
    {
    case OUT_GOLDEN: return g < r->n_golden ? r->golden[g].rgb : NULL;
    case OUT_WARPED: return g < r->n_golden ? r->golden[g].warped : NULL;
    case OUT_HEAT: return r->defects ? r->defects->score : NULL;
    case OUT_MASK: return r->defects ? r->defects->mask : NULL;
    case OUT_PRINT: return r->defects ? r->defects->print : NULL;
    }
  return NULL;
}

static GdkTexture *
output_texture (GvAnalysis *an, OutKind kind, int g)
{
  if (!an)
    return NULL;
  switch (kind)
    {
    case OUT_GOLDEN: return gv_analysis_golden_texture (an, g);
    case OUT_WARPED: return gv_analysis_warped_texture (an, g);
    case OUT_HEAT: return gv_analysis_heatmap_texture (an);
    case OUT_MASK: return gv_analysis_mask_texture (an);
    case OUT_PRINT: return gv_analysis_print_texture (an);
    }
  return NULL;
}

/* The value of a pixel on the 0..255 scale, channel c (c < channels). */
static double
pix (const GvImage *im, int x, int y, int c)
{
  if (im->depth == GV_F32)
    return 255.0 * gv_image_row_f32 (im, y)[x * im->channels + c];
  return gv_image_row_u8 (im, y)[x * im->channels + c];
}

/* Difference picture: |A-B| (largest over channels) through the heat colour scale, or A-B (mean
 * over channels) from blue through white to red; both saturate at DIFF_FULL_SCALE. */
static GdkTexture *
diff_texture (const GvImage *a, const GvImage *b, gboolean sign, double *max_abs, long *n_diff)
{
  GvImage *out;
  GdkTexture *t;

  *max_abs = 0;
  *n_diff = 0;
  if (!a || !b || !gv_image_same_shape (a, b))
    return NULL;
  out = gv_image_new (a->width, a->height, 3, GV_U8);
  if (!out)
    return NULL;
  for (int y = 0; y < a->height; y++)
    {
      guint8 *o = gv_image_row_u8 (out, y);
      for (int x = 0; x < a->width; x++)
        {
          double mx = 0, sum = 0;
          for (int c = 0; c < a->channels; c++)
            {
              double d = pix (a, x, y, c) - pix (b, x, y, c);
              mx = MAX (mx, fabs (d));
              sum += d;
            }
          *max_abs = MAX (*max_abs, mx);
          *n_diff += mx > 0;
          if (!sign)
            gv_heat_colour ((float) MIN (mx / DIFF_FULL_SCALE, 1.0), o + 3 * x);
          else
            {
              double s = CLAMP (sum / a->channels / DIFF_FULL_SCALE, -1, 1);
              o[3 * x] = (guint8) (255 * (s < 0 ? 1 + s : 1));
              o[3 * x + 1] = (guint8) (255 * (1 - fabs (s)));
              o[3 * x + 2] = (guint8) (255 * (s > 0 ? 1 - s : 1));
            }
        }
    }
  t = gv_texture_new_from_image (out);
  gv_image_free (out);
  return t;
}

static void
table_row (GvCompareView *self, const char *name, const char *value, const char *tol, int pass)
{
  int row = ++self->table_rows;
  const char *cells[4] = { name, value, tol,
                           pass < 0 ? _("not compared") : pass ? _("pass") : _("FAIL") };

  for (int c = 0; c < 4; c++)
    {
      GtkWidget *l = gtk_label_new (cells[c]);
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_label_set_selectable (GTK_LABEL (l), TRUE);
      if (c == 3 && pass == 0)
        {
          gtk_widget_add_css_class (l, "error");
          gtk_widget_add_css_class (l, "gv-fail");
        }
      if (c == 3 && pass == 1)
        gtk_widget_add_css_class (l, "success");
      gtk_grid_attach (self->table_grid, l, c, row, 1, 1);
    }
  if (pass == 0)
    self->table_failed++;
}

#if defined(GV_HAVE_STORE) && defined(GV_HAVE_REPORT)
/* Once both runs are in the store, the table is the report's (gv_report_compare): one list of
 * outputs and tolerances for the app, gvscan compare and the PDF. */
static gboolean
fill_table_from_report (GvCompareView *self)
{
  gint64 ia = gv_analysis_get_run_id (self->a), ib = gv_analysis_get_run_id (self->b);
  g_autofree char *path = NULL;
  g_autoptr (GvStore) store = NULL;
  g_autoptr (GvRun) ra = NULL, rb = NULL;
  g_autoptr (GvComparison) cmp = NULL;

  if (ia <= 0 || ib <= 0)
    return FALSE;
  path = gv_store_default_path ();
  if (!(store = gv_store_open (path, GV_STORE_OPEN_READ_ONLY, NULL))
      || !(ra = gv_store_load_run (store, ia, NULL)) || !(rb = gv_store_load_run (store, ib, NULL))
      || !(cmp = gv_report_compare (ra, rb)))
    return FALSE;
  for (guint i = 0; i < cmp->outputs->len; i++)
    {
      const GvCompareOutput *o = g_ptr_array_index (cmp->outputs, i);
      char v[160], t[64];
      if (o->compared)
        g_snprintf (v, sizeof v, "%.4g %s%s%s", o->difference, o->unit ? o->unit : "",
                    o->note && *o->note ? " · " : "", o->note ? o->note : "");
      else
        g_snprintf (v, sizeof v, "%s", o->note ? o->note : "");
      g_snprintf (t, sizeof t, "%.4g", o->tolerance);
      table_row (self, o->name, v, o->compared ? t : "–", o->compared ? o->pass : -1);
    }
  gtk_label_set_text (self->table_note, _("Outputs and tolerances of the parity contract, from the run store (the same table as gvscan compare and the PDF report)."));
  return TRUE;
}
#endif

static void
fill_table (GvCompareView *self)
{
  const GvResult *ra = gv_analysis_get_result (self->a), *rb = gv_analysis_get_result (self->b);
  char v[128], t[64];
  const char *hdr[4] = { _("Output"), _("Largest difference"), _("Tolerance"), _("Result") };

  gv_grid_clear (self->table_grid);
  self->table_rows = 0;
  self->table_failed = 0;
  for (int c = 0; c < 4; c++)
    {
      GtkWidget *l = gtk_label_new (hdr[c]);
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_widget_add_css_class (l, "heading");
      gtk_grid_attach (self->table_grid, l, c, 0, 1, 1);
    }
#if defined(GV_HAVE_STORE) && defined(GV_HAVE_REPORT)
  if (fill_table_from_report (self))
    return;
#endif
  gtk_label_set_text (self->table_note, _("The app's own check until both runs are in the run store: floats within 1e-4, picks and masks identical."));
  if (ra->n_frames != rb->n_frames)
    {
      g_snprintf (v, sizeof v, _("%d vs %d frames"), ra->n_frames, rb->n_frames);
      table_row (self, _("frames"), v, "0", 0);
      return;
    }
  {
    double ds = 0, dm = 0;
    int cand = 0, meas = 0, worst_s = 0;
    for (int i = 0; i < ra->n_frames; i++)
      {
        const GvFrameRecord *fa = &ra->frames[i], *fb = &rb->frames[i];
        double rel = fabs (fa->sharpness - fb->sharpness) / MAX (fabs (fa->sharpness), 1e-12);
        if (rel > ds)
          ds = rel, worst_s = i;
        if (fa->measured && fb->measured)
          dm = MAX (dm, fabs (fa->motion_gate - fb->motion_gate));
        cand += fa->candidate != fb->candidate;
        meas += fa->measured != fb->measured;
      }
    g_snprintf (v, sizeof v, _("%.3g (frame %d)"), ds, worst_s);
    table_row (self, _("frames.sharpness (relative)"), v, "1e-4", ds <= 1e-4);
    g_snprintf (v, sizeof v, _("%.3g px"), dm);
    table_row (self, _("frames.motion"), v, "1e-4 px", dm <= 1e-4);
    g_snprintf (v, sizeof v, _("%d frames differ"), cand + meas);
    table_row (self, _("frames.candidate"), v, "0", cand + meas == 0);
  }
  {
    int same = ra->n_golden == rb->n_golden;
    for (int i = 0; same && i < ra->n_golden; i++)
      same = ra->golden[i].frame_index == rb->golden[i].frame_index;
    GString *s = g_string_new (NULL);
    for (int i = 0; i < ra->n_golden; i++)
      g_string_append_printf (s, "%s%d", i ? "," : "", ra->golden[i].frame_index);
    g_string_append (s, " | ");
    for (int i = 0; i < rb->n_golden; i++)
      g_string_append_printf (s, "%s%d", i ? "," : "", rb->golden[i].frame_index);
    table_row (self, _("golden_frames (picks)"), s->str, _("identical"), same);
    g_string_free (s, TRUE);
    if (!same)
      return;
  }
  {
    double dc = 0, dw = 0;
    int found_diff = 0, nw = 0;
    for (int i = 0; i < ra->n_golden; i++)
      {
        const GvCoverDetection *ca = &ra->golden[i].cover, *cb = &rb->golden[i].cover;
        long nd;
        found_diff += ca->found != cb->found;
        if (ca->found && cb->found)
          for (int k = 0; k < 4; k++)
            dc = MAX (dc, MAX (fabs (ca->quad.x[k] - cb->quad.x[k]), fabs (ca->quad.y[k] - cb->quad.y[k])));
        const GvImage *wa = ra->golden[i].warped, *wb = rb->golden[i].warped;
        if (wa && wb && gv_image_same_shape (wa, wb))
          {
            double mx;
            g_autoptr (GdkTexture) unused = diff_texture (wa, wb, FALSE, &mx, &nd);
            dw = MAX (dw, mx);
            nw++;
          }
      }
    g_snprintf (v, sizeof v, _("%.3g px"), dc);
    table_row (self, _("cover corners"), v, "1e-4 px", dc <= 1e-4 && !found_diff);
    g_snprintf (v, sizeof v, _("%.0f levels"), dw);
    table_row (self, _("warped covers"), nw ? v : "–", _("1 level"), nw ? dw <= 1 : -1);
  }
  {
    const GvDefectReport *da = ra->defects, *db = rb->defects;
    if (!da || !db || !da->mask || !db->mask || !gv_image_same_shape (da->mask, db->mask))
      {
        table_row (self, _("defect mask"), _("not available in both runs"), "0", -1);
        return;
      }
    long nd = 0;
    double ms = 0;
    for (int y = 0; y < da->mask->height; y++)
      for (int x = 0; x < da->mask->width; x++)
        nd += gv_image_row_u8 (da->mask, y)[x] != gv_image_row_u8 (db->mask, y)[x];
    if (da->score && db->score && gv_image_same_shape (da->score, db->score))
      for (int y = 0; y < da->score->height; y++)
        for (int x = 0; x < da->score->width; x++)
          ms = MAX (ms, fabs (gv_image_row_f32 (da->score, y)[x] - gv_image_row_f32 (db->score, y)[x]));
    g_snprintf (v, sizeof v, _("%ld pixels differ"), nd);
    table_row (self, _("defect mask"), v, "0", nd == 0);
    g_snprintf (v, sizeof v, "%.3g", ms);
    table_row (self, _("defect score map"), v, "1e-4", ms <= 1e-4);
    g_snprintf (v, sizeof v, "%d | %d", da->n_defects, db->n_defects);
    table_row (self, _("defects (count)"), v, "0", da->n_defects == db->n_defects);
    g_snprintf (v, sizeof v, "%.1f | %.1f", da->grade.grade, db->grade.grade);
    g_snprintf (t, sizeof t, _("identical"));
    table_row (self, _("grade"), v, t, da->grade.grade == db->grade.grade);
  }
}

static void
update_display (GvCompareView *self)
{
  guint o = gtk_drop_down_get_selected (self->output_dropdown);
  guint mode = gtk_drop_down_get_selected (self->mode_dropdown);
  OutKind kind;
  int g;
  const GvImage *ia, *ib;

  g_clear_object (&self->diff_tex);
  gtk_widget_set_sensitive (GTK_WIDGET (self->split_scale), mode == 1);
  gtk_widget_set_visible (GTK_WIDGET (self->view_b), mode != 1);
  gv_image_view_set_split_texture (self->view_a, NULL);
  if (!self->a || !self->b || o == GTK_INVALID_LIST_POSITION || o >= self->outputs->len / 2)
    {
      gv_image_view_set_texture (self->view_a, NULL);
      gv_image_view_set_texture (self->view_b, NULL);
      return;
    }
  kind = g_array_index (self->outputs, int, 2 * o);
  g = g_array_index (self->outputs, int, 2 * o + 1);
  ia = output_image (self->a, kind, g);
  ib = output_image (self->b, kind, g);
  gv_image_view_set_texture (self->view_a, output_texture (self->a, kind, g));
  if (mode == 0)
    gv_image_view_set_texture (self->view_b, output_texture (self->b, kind, g));
  else if (mode == 1)
    {
      gv_image_view_set_split_texture (self->view_a, output_texture (self->b, kind, g));
      gv_image_view_set_split (self->view_a, gtk_adjustment_get_value (self->split_adjustment));
    }
  else
    {
      double mx;
      long nd;
      g_autofree char *s = NULL;
      self->diff_tex = diff_texture (ia, ib, mode == 3, &mx, &nd);
      gv_image_view_set_texture (self->view_b, self->diff_tex);
      if (!self->diff_tex)
        gv_image_view_set_placeholder (self->view_b, _("The two images differ in size: no difference picture."));
      else
        {
          s = g_strdup_printf (_("Difference (right): largest %.0f levels, %ld pixels differ; the "
                                 "colour scale saturates at %.0f levels%s."),
                               mx, nd, DIFF_FULL_SCALE,
                               mode == 3 ? _(" (red: A brighter, blue: B brighter)") : "");
          gtk_label_set_text (self->status_label, s);
        }
    }
}

static void
rebuild_outputs (GvCompareView *self)
{
  const GvResult *ra = self->a ? gv_analysis_get_result (self->a) : NULL;
  const GvResult *rb = self->b ? gv_analysis_get_result (self->b) : NULL;
  int n = ra && rb ? MIN (ra->n_golden, rb->n_golden) : 0;

  self->updating = TRUE;
  g_array_set_size (self->outputs, 0);
  while (g_list_model_get_n_items (G_LIST_MODEL (self->output_list)) > 0)
    gtk_string_list_remove (self->output_list, 0);
#define ADD(k, gi, label)                                                                        \
  do {                                                                                           \
    int pair[2] = { k, gi };                                                                     \
    g_array_append_vals (self->outputs, pair, 2);                                                \
    gtk_string_list_append (self->output_list, label);                                           \
  } while (0)
  for (int i = 0; i < n; i++)
    {
      g_autofree char *l = g_strdup_printf (_("Golden frame %d"), i + 1);
      ADD (OUT_GOLDEN, i, l);
    }
  for (int i = 0; i < n; i++)
    if (ra->golden[i].warped && rb->golden[i].warped)
      {
        g_autofree char *l = g_strdup_printf (_("Warped cover %d"), i + 1);
        ADD (OUT_WARPED, i, l);
      }
  if (ra && rb && ra->defects && rb->defects && ra->defects->score && rb->defects->score)
    {
      ADD (OUT_HEAT, 0, _("Defect heatmap"));
      ADD (OUT_MASK, 0, _("Defect mask"));
      ADD (OUT_PRINT, 0, _("Print estimate"));
    }
#undef ADD
  self->updating = FALSE;
  gtk_drop_down_set_selected (self->output_dropdown, 0);
}

static void
selection_changed (GvCompareView *self)
{
  guint ia = gtk_drop_down_get_selected (self->a_dropdown), ib = gtk_drop_down_get_selected (self->b_dropdown);
  guint n = self->model ? g_list_model_get_n_items (self->model) : 0;

  if (self->updating)
    return;
  g_clear_object (&self->a);
  g_clear_object (&self->b);
  gv_grid_clear (self->table_grid);
  self->table_rows = self->table_failed = 0;
  if (n < 2 || ia >= n || ib >= n)
    {
      gtk_label_set_text (self->status_label,
                          n == 0 ? _("Nothing to compare yet. Run an analysis twice (for example "
                                     "with other parameters), or with Both: validate on a machine "
                                     "with a GPU, and compare the two results here.")
                                 : _("One result so far: run the analysis again (another backend "
                                     "or other parameters) to compare two results."));
      rebuild_outputs (self);
      update_display (self);
      return;
    }
  self->a = g_list_model_get_item (self->model, ia);
  self->b = g_list_model_get_item (self->model, ib);
  {
    g_autofree char *s = g_strdup_printf (_("A: %s on %s · B: %s on %s"), gv_analysis_get_label (self->a),
                                          gv_analysis_get_result (self->a)->device,
                                          gv_analysis_get_label (self->b),
                                          gv_analysis_get_result (self->b)->device);
    gtk_label_set_text (self->status_label, s);
  }
  rebuild_outputs (self);
  fill_table (self);
  update_display (self);
}

static void
dropdown_notify (GtkDropDown *dd, GParamSpec *pspec, GvCompareView *self)
{
  if (dd == self->output_dropdown || dd == self->mode_dropdown)
    {
      if (!self->updating)
        update_display (self);
    }
  else
    selection_changed (self);
}

static void
split_changed (GtkAdjustment *adj, GvCompareView *self)
{
  gv_image_view_set_split (self->view_a, gtk_adjustment_get_value (adj));
}

static void
probe (GvImageView *view, double x, double y, GvCompareView *self)
{
  guint o = gtk_drop_down_get_selected (self->output_dropdown);
  const GvImage *ia, *ib;
  GString *s;
  int px = (int) floor (x), py = (int) floor (y);

  if (!self->a || !self->b || x < 0 || o >= self->outputs->len / 2)
    return;
  ia = output_image (self->a, g_array_index (self->outputs, int, 2 * o), g_array_index (self->outputs, int, 2 * o + 1));
  ib = output_image (self->b, g_array_index (self->outputs, int, 2 * o), g_array_index (self->outputs, int, 2 * o + 1));
  if (!ia || !ib || px >= ia->width || py >= ia->height || px >= ib->width || py >= ib->height)
    return;
  s = g_string_new (NULL);
  g_string_append_printf (s, "(%d, %d)  A:", px, py);
  for (int c = 0; c < ia->channels; c++)
    g_string_append_printf (s, ia->depth == GV_F32 ? " %.5f" : " %.0f",
                            ia->depth == GV_F32 ? pix (ia, px, py, c) / 255 : pix (ia, px, py, c));
  g_string_append (s, "   B:");
  for (int c = 0; c < ib->channels; c++)
    g_string_append_printf (s, ib->depth == GV_F32 ? " %.5f" : " %.0f",
                            ib->depth == GV_F32 ? pix (ib, px, py, c) / 255 : pix (ib, px, py, c));
  g_string_append (s, "   A−B:");
  for (int c = 0; c < MIN (ia->channels, ib->channels); c++)
    g_string_append_printf (s, ia->depth == GV_F32 ? " %+.5f" : " %+.0f",
                            (pix (ia, px, py, c) - pix (ib, px, py, c)) / (ia->depth == GV_F32 ? 255 : 1));
  gtk_label_set_text (self->probe_label, s->str);
  g_string_free (s, TRUE);
}

static void
model_changed (GListModel *model, guint pos, guint removed, guint added, GvCompareView *self)
{
  guint n = g_list_model_get_n_items (model);

  self->updating = TRUE;
  while (g_list_model_get_n_items (G_LIST_MODEL (self->names)) > 0)
    gtk_string_list_remove (self->names, 0);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GvAnalysis) an = g_list_model_get_item (model, i);
      gtk_string_list_append (self->names, gv_analysis_get_label (an));
    }
  self->updating = FALSE;
  /* The newest two: with Both, that is CPU (A) and GPU (B) of one video. */
  gv_compare_view_select (self, n >= 2 ? n - 2 : 0, n >= 1 ? n - 1 : 0);
}

void
gv_compare_view_select (GvCompareView *self, guint a, guint b)
{
  self->updating = TRUE;
  gtk_drop_down_set_selected (self->a_dropdown, a);
  gtk_drop_down_set_selected (self->b_dropdown, b);
  self->updating = FALSE;
  selection_changed (self);
}

void
gv_compare_view_set_mode (GvCompareView *self, guint mode)
{
  gtk_drop_down_set_selected (self->mode_dropdown, mode);
}

void
gv_compare_view_refresh (GvCompareView *self)
{
  selection_changed (self);
}

int
gv_compare_view_count_rows (GvCompareView *self, int *failed)
{
  if (failed)
    *failed = self->table_failed;
  return self->table_rows;
}

void
gv_compare_view_set_model (GvCompareView *self, GListModel *analyses)
{
  if (self->model)
    g_signal_handlers_disconnect_by_func (self->model, model_changed, self);
  g_set_object (&self->model, analyses);
  if (analyses)
    {
      g_signal_connect_object (analyses, "items-changed", G_CALLBACK (model_changed), self, 0);
      model_changed (analyses, 0, 0, 0, self);
    }
}

static void
gv_compare_view_dispose (GObject *object)
{
  GvCompareView *self = GV_COMPARE_VIEW (object);

  g_clear_object (&self->model);
  g_clear_object (&self->a);
  g_clear_object (&self->b);
  g_clear_object (&self->diff_tex);
  g_clear_object (&self->names);
  g_clear_pointer (&self->outputs, g_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (object), GV_TYPE_COMPARE_VIEW);
  gv_widget_unparent_children (GTK_WIDGET (object));
  G_OBJECT_CLASS (gv_compare_view_parent_class)->dispose (object);
}

static void
gv_compare_view_class_init (GvCompareViewClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = gv_compare_view_dispose;
  g_type_ensure (GV_TYPE_IMAGE_VIEW);
  gtk_widget_class_set_template_from_resource (wc, "/io/gradevault/Inspector/ui/gv-compare-view.ui");
  gtk_widget_class_bind_template_child (wc, GvCompareView, a_dropdown);
  gtk_widget_class_bind_template_child (wc, GvCompareView, b_dropdown);
  gtk_widget_class_bind_template_child (wc, GvCompareView, output_dropdown);
  gtk_widget_class_bind_template_child (wc, GvCompareView, mode_dropdown);
  gtk_widget_class_bind_template_child (wc, GvCompareView, output_list);
  gtk_widget_class_bind_template_child (wc, GvCompareView, split_scale);
  gtk_widget_class_bind_template_child (wc, GvCompareView, split_adjustment);
  gtk_widget_class_bind_template_child (wc, GvCompareView, status_label);
  gtk_widget_class_bind_template_child (wc, GvCompareView, probe_label);
  gtk_widget_class_bind_template_child (wc, GvCompareView, view_a);
  gtk_widget_class_bind_template_child (wc, GvCompareView, view_b);
  gtk_widget_class_bind_template_child (wc, GvCompareView, table_grid);
  gtk_widget_class_bind_template_child (wc, GvCompareView, table_note);
  gtk_widget_class_set_layout_manager_type (wc, GTK_TYPE_BIN_LAYOUT);
}

static void
gv_compare_view_init (GvCompareView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->outputs = g_array_new (FALSE, FALSE, sizeof (int));
  self->names = gtk_string_list_new (NULL);
  gtk_drop_down_set_model (self->a_dropdown, G_LIST_MODEL (self->names));
  gtk_drop_down_set_model (self->b_dropdown, G_LIST_MODEL (self->names));
  g_signal_connect (self->a_dropdown, "notify::selected", G_CALLBACK (dropdown_notify), self);
  g_signal_connect (self->b_dropdown, "notify::selected", G_CALLBACK (dropdown_notify), self);
  g_signal_connect (self->output_dropdown, "notify::selected", G_CALLBACK (dropdown_notify), self);
  g_signal_connect (self->mode_dropdown, "notify::selected", G_CALLBACK (dropdown_notify), self);
  g_signal_connect (self->split_adjustment, "value-changed", G_CALLBACK (split_changed), self);
  g_signal_connect (self->view_a, "probe", G_CALLBACK (probe), self);
  g_signal_connect (self->view_b, "probe", G_CALLBACK (probe), self);
  gv_image_view_link (self->view_a, self->view_b);
  gv_image_view_set_placeholder (self->view_a, _("Result A"));
  gv_image_view_set_placeholder (self->view_b, _("Result B"));
  selection_changed (self);
}

gboolean
gv_compare_view_export_png (GvCompareView *self, const char *path, GError **error)
{
  guint mode = gtk_drop_down_get_selected (self->mode_dropdown);
  cairo_surface_t *out;

  if (mode == 0)
    out = gv_image_view_render_pair (self->view_a, self->view_b);
  else if (mode == 1)
    out = gv_image_view_render (self->view_a);
  else
    out = gv_image_view_render (self->view_b);
  return gv_surface_save_png (out, path, error);
}
