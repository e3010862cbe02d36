/* gv-overview-view.c: the grade and why, region scores, the defect list, and the golden frames
 * with their timestamp, sharpness and motion. */
#include <glib/gi18n.h>
#include <math.h>

#include "gv-views.h"

struct _GvOverviewView {
  GtkWidget parent_instance;
  GtkLabel *title_label, *summary_label, *grade_label, *grade_note_label, *explanation_label,
    *defects_label;
  GtkGrid *regions_grid;
  GtkBox *golden_box;
  int n_cards;
};

G_DEFINE_FINAL_TYPE (GvOverviewView, gv_overview_view, GTK_TYPE_WIDGET)

char *
gv_format_seconds (double s)
{
  return g_strdup_printf (_("%.3f s"), s);
}

void
gv_widget_unparent_children (GtkWidget *widget)
{
  GtkWidget *c;

  /* The template's top child is not bound, so dispose_template leaves it. */
  while ((c = gtk_widget_get_first_child (widget)))
    gtk_widget_unparent (c);
}

void
gv_grid_clear (GtkGrid *grid)
{
  GtkWidget *c;

  while ((c = gtk_widget_get_first_child (GTK_WIDGET (grid))))
    gtk_grid_remove (grid, c);
}

static void
gv_overview_view_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), GV_TYPE_OVERVIEW_VIEW);
  gv_widget_unparent_children (GTK_WIDGET (object));
  G_OBJECT_CLASS (gv_overview_view_parent_class)->dispose (object);
}

static void
gv_overview_view_class_init (GvOverviewViewClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = gv_overview_view_dispose;
  gtk_widget_class_set_template_from_resource (wc, "/io/gradevault/Inspector/ui/gv-overview-view.ui");
  gtk_widget_class_bind_template_child (wc, GvOverviewView, title_label);
  gtk_widget_class_bind_template_child (wc, GvOverviewView, summary_label);
  gtk_widget_class_bind_template_child (wc, GvOverviewView, grade_label);
  gtk_widget_class_bind_template_child (wc, GvOverviewView, grade_note_label);
  gtk_widget_class_bind_template_child (wc, GvOverviewView, explanation_label);
  gtk_widget_class_bind_template_child (wc, GvOverviewView, defects_label);
  gtk_widget_class_bind_template_child (wc, GvOverviewView, regions_grid);
  gtk_widget_class_bind_template_child (wc, GvOverviewView, golden_box);
  gtk_widget_class_set_layout_manager_type (wc, GTK_TYPE_BIN_LAYOUT);
}

static void
gv_overview_view_init (GvOverviewView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

static const char *
region_label (GvRegionId r)
{
  switch (r)
    {
    case GV_REGION_CORNER_TL: return _("Top-left corner");
    case GV_REGION_CORNER_TR: return _("Top-right corner");
    case GV_REGION_CORNER_BL: return _("Bottom-left corner");
    case GV_REGION_CORNER_BR: return _("Bottom-right corner");
    case GV_REGION_SPINE: return _("Spine");
    case GV_REGION_SURFACE: return _("Surface");
    default: return "";
    }
}

static void
grid_text (GtkGrid *g, int col, int row, const char *s, gboolean dim)
{
  GtkWidget *l = gtk_label_new (s);

  gtk_label_set_xalign (GTK_LABEL (l), col ? 1 : 0);
  if (dim)
    gtk_widget_add_css_class (l, "gv-caption");
  gtk_grid_attach (g, l, col, row, 1, 1);
}

static GtkWidget *
golden_card (GvAnalysis *a, int i)
{
  const GvResult *r = gv_analysis_get_result (a);
  const GvGolden *g = &r->golden[i];
  const GvDefectReport *d = r->defects;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *pic = gtk_picture_new_for_paintable (GDK_PAINTABLE (gv_analysis_golden_texture (a, i)));
  /* a found cover that stage 4 did not use: its outline disagreed with the others' */
  int used = !d || d->n_covers == 0 || i >= GV_DEFECTS_MAX_COVERS;
  for (int k = 0; d && k < d->n_covers && !used; k++)
    used = d->cover_index[k] == i;
  g_autofree char *t = g_strdup_printf (_("Frame %d · %.3f s\nsharpness %.1f · motion %.2f px\ncover: %s"),
                                        g->frame_index, g->pts, g->sharpness, g->motion,
                                        !g->cover.found ? g->cover.reason
                                        : used          ? _("found")
                                                        : _("found, left out (its outline disagrees)"));
  GtkWidget *l = gtk_label_new (t);

  gtk_widget_add_css_class (box, "gv-golden-card");
  /* Five cards (the default golden-frame count) fit the default window side by side. */
  gtk_widget_set_size_request (pic, 240, 135);
  gtk_picture_set_can_shrink (GTK_PICTURE (pic), TRUE);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_label_set_justify (GTK_LABEL (l), GTK_JUSTIFY_LEFT);
  gtk_widget_add_css_class (l, "gv-caption");
  gtk_box_append (GTK_BOX (box), pic);
  gtk_box_append (GTK_BOX (box), l);
  gtk_widget_set_name (box, "golden-card");
  return box;
}

void
gv_overview_view_set_analysis (GvOverviewView *self, GvAnalysis *a)
{
  const GvResult *r = a ? gv_analysis_get_result (a) : NULL;
  const GvDefectReport *d = r ? r->defects : NULL;
  GtkWidget *c;

  while ((c = gtk_widget_get_first_child (GTK_WIDGET (self->golden_box))))
    gtk_box_remove (self->golden_box, c);
  self->n_cards = 0;
  gv_grid_clear (self->regions_grid);
  if (!r)
    {
      gtk_label_set_text (self->title_label, _("Open a scan video (Ctrl+O) or drop one on this window."));
      gtk_label_set_text (self->summary_label, "");
      gtk_label_set_text (self->grade_label, "–");
      gtk_label_set_text (self->grade_note_label, "");
      gtk_label_set_text (self->explanation_label, "");
      gtk_label_set_text (self->defects_label, "");
      return;
    }
  {
    const GvMediaInfo *info = gv_analysis_get_info (a);
    g_autofree char *base = g_path_get_basename (info->path ? info->path : "");
    g_autofree char *title = g_strdup_printf (_("%s run"), gv_analysis_get_label (a));
    g_autofree char *sum = g_strdup_printf (
      _("%d frames, %d×%d at %.2f fps; flow at %d×%d. %d passed the motion gate of %.1f px; "
        "%d golden frames. Backend: %s (%s). Total %.2f s."),
      r->n_frames, info->width, info->height, info->fps, r->analysis_width, r->analysis_height,
      r->n_candidates, r->params.motion_gate, r->n_golden, r->backend, r->device, r->total_seconds);
    gtk_label_set_text (self->title_label, title);
    gtk_label_set_text (self->summary_label, sum);
  }

  if (d && d->n_covers > 0)
    {
      const GvGrade *g = &d->grade;
      GString *why = g_string_new (NULL);
      char buf[32];
      if (g->needs_review)
        g_snprintf (buf, sizeof buf, _("%.1f?"), g->grade_estimate);
      else
        g_snprintf (buf, sizeof buf, "%.1f", g->grade);
      gtk_label_set_text (self->grade_label, buf);
      if (g->needs_review)
        {
          g_autofree char *reason = gv_core_text (g->review_reason);
          g_autofree char *n = g_strdup_printf (_("Needs review: %s"), reason);
          gtk_label_set_text (self->grade_note_label, n);
        }
      else
        {
          g_autofree char *n = g_strdup_printf (_("CGC scale · damage score %.1f · %.2f %% of the cover in the mask"),
                                                d->damage_score, d->defect_percentage);
          gtk_label_set_text (self->grade_note_label, n);
        }
      for (int i = 0; i < g->n_lines; i++)
        {
          g_autofree char *text = gv_core_text (g->lines[i].text);
          if (g->lines[i].delta != 0)
            g_string_append_printf (why, "%+.1f  %s  → %.1f\n", g->lines[i].delta, text,
                                    g->lines[i].running);
          else
            g_string_append_printf (why, "• %s\n", text);
        }
      if (g->cap < 10 && g->cap_reason)
        {
          g_autofree char *reason = gv_core_text (g->cap_reason);
          g_string_append_printf (why, _("Capped at %.1f: %s\n"), g->cap, reason);
        }
      if (why->len == 0)
        g_string_append (why, _("No deductions."));
      gtk_label_set_text (self->explanation_label, g_strchomp (why->str));
      g_string_free (why, TRUE);

      grid_text (self->regions_grid, 0, 0, _("Region"), TRUE);
      grid_text (self->regions_grid, 1, 0, _("Score"), TRUE);
      grid_text (self->regions_grid, 2, 0, _("Coverage"), TRUE);
      grid_text (self->regions_grid, 3, 0, _("Defects"), TRUE);
      for (int i = 0; i < GV_REGION_N; i++)
        {
          char s[32];
          grid_text (self->regions_grid, 0, i + 1, region_label (i), FALSE);
          g_snprintf (s, sizeof s, "%.1f", d->regions[i].score);
          grid_text (self->regions_grid, 1, i + 1, s, FALSE);
          g_snprintf (s, sizeof s, "%.2f %%", d->regions[i].defect_coverage);
          grid_text (self->regions_grid, 2, i + 1, s, FALSE);
          g_snprintf (s, sizeof s, "%d", d->regions[i].n_defects);
          grid_text (self->regions_grid, 3, i + 1, s, FALSE);
        }
      if (d->n_defects == 0)
        gtk_label_set_text (self->defects_label, _("No defects found."));
      else
        {
          GString *s = g_string_new (NULL);
          for (int i = 0; i < d->n_defects; i++)
            {
              const GvDefect *x = &d->defects[i];
              g_string_append_printf (s, _("%d. %s in the %s: %.1f mm², severity %.2f, confidence %.2f\n"),
                                      i + 1, gv_core_kind_text (x->kind), gv_core_region_text (x->region),
                                      x->area_mm2, x->severity, x->confidence);
            }
          gtk_label_set_text (self->defects_label, g_strchomp (s->str));
          g_string_free (s, TRUE);
        }
    }
  else
    {
      gtk_label_set_text (self->grade_label, "–");
      gtk_label_set_text (self->grade_note_label, _("not available yet"));
      gtk_label_set_text (self->explanation_label,
                          d ? _("No cover was found in the golden frames, so there is nothing to grade.")
                            : _("The grade and its explanation are not available yet: this build has no defect analysis."));
      gtk_label_set_text (self->defects_label, _("not available yet"));
    }

  for (int i = 0; i < r->n_golden; i++)
    {
      gtk_box_append (self->golden_box, golden_card (a, i));
      self->n_cards++;
    }
  if (r->n_golden == 0)
    {
      GtkWidget *l = gtk_label_new (_("No frame was still and sharp enough to be golden."));
      gtk_widget_add_css_class (l, "gv-unavailable");
      gtk_box_append (self->golden_box, l);
    }
}

int
gv_overview_view_count_golden (GvOverviewView *self)
{
  return self->n_cards;
}

const char *
gv_overview_view_get_grade_text (GvOverviewView *self)
{
  return gtk_label_get_text (self->grade_label);
}
