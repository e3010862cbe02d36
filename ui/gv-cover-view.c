/* gv-cover-view.c: the warped cover of a golden frame with the defect mask, the score heatmap
 * (fixed scale 0..1, gv_heat_colour, with its legend) and the region boxes as toggles; the
 * detected corners over the golden frame; the defect list, a click zooms to the defect. */
#include <glib/gi18n.h>
#include <math.h>

#include "gv-image-view.h"
#include "gv-views.h"

struct _GvCoverView {
  GtkWidget parent_instance;
  GtkDropDown *golden_dropdown;
  GtkStringList *golden_list;
  GtkToggleButton *mask_toggle, *heat_toggle, *regions_toggle;
  GtkLabel *status_label;
  GvImageView *cover_view, *frame_view;
  GtkDrawingArea *heat_legend;
  GtkListBox *defects_list;
  GvAnalysis *analysis;
  int golden;
  gboolean inch;
};

G_DEFINE_FINAL_TYPE (GvCoverView, gv_cover_view, GTK_TYPE_WIDGET)

static const GvDefectReport *
report (GvCoverView *self)
{
  const GvResult *r = self->analysis ? gv_analysis_get_result (self->analysis) : NULL;
  return r && r->defects && r->defects->n_covers > 0 ? r->defects : NULL;
}

static void
draw_cover_overlay (GvImageView *view, cairo_t *cr, double scale, gpointer user_data)
{
  GvCoverView *self = user_data;
  const GvDefectReport *d = report (self);

  if (!d)
    return;
  if (gtk_toggle_button_get_active (self->heat_toggle))
    {
      GdkTexture *t = gv_analysis_heatmap_texture (self->analysis);
      if (t)
        {
          /* Cairo needs the pixels: download once per draw (cover-sized, cheap enough). */
          int w = gdk_texture_get_width (t), h = gdk_texture_get_height (t);
          cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
          gdk_texture_download (t, cairo_image_surface_get_data (s), cairo_image_surface_get_stride (s));
          cairo_surface_mark_dirty (s);
          cairo_save (cr);
          cairo_scale (cr, (double) d->width / w, (double) d->height / h);
          cairo_set_source_surface (cr, s, 0, 0);
          cairo_paint_with_alpha (cr, 0.6);
          cairo_restore (cr);
          cairo_surface_destroy (s);
        }
    }
  if (gtk_toggle_button_get_active (self->mask_toggle) && d->mask)
    {
      cairo_set_source_rgba (cr, 1, 0.1, 0.6, 0.55);
      for (int y = 0; y < d->mask->height; y++)
        {
          const guint8 *m = gv_image_row_u8 (d->mask, y);
          int x = 0;
          while (x < d->mask->width)
            {
              while (x < d->mask->width && !m[x])
                x++;
              int x0 = x;
              while (x < d->mask->width && m[x])
                x++;
              if (x > x0)
                cairo_rectangle (cr, x0, y, x - x0, 1);
            }
        }
      cairo_fill (cr);
    }
  if (gtk_toggle_button_get_active (self->regions_toggle))
    {
      cairo_set_line_width (cr, 2 / scale);
      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_font_size (cr, 14 / scale);
      for (int i = 0; i < GV_REGION_N; i++)
        {
          const GvRegionDef *rd = gv_region_def (i);
          double x0 = rd->x0 * d->width, y0 = rd->y0 * d->height;
          char buf[96];
          cairo_set_source_rgba (cr, 0.1, 0.6, 1, 0.9);
          cairo_rectangle (cr, x0, y0, (rd->x1 - rd->x0) * d->width, (rd->y1 - rd->y0) * d->height);
          cairo_stroke (cr);
          g_snprintf (buf, sizeof buf, "%s %.1f", gv_core_region_text (i), d->regions[i].score);
          /* Corner labels in their box; spine and surface (large boxes that start at the
           * same height) in the middle of theirs so they do not overlap. */
          double lx = x0 + 4 / scale, ly = y0 + 16 / scale;
          cairo_text_extents_t ext;
          cairo_text_extents (cr, buf, &ext);
          if (i == GV_REGION_SPINE || i == GV_REGION_SURFACE)
            {
              lx = (rd->x0 + rd->x1) / 2 * d->width - ext.width / 2;
              ly = (rd->y0 + rd->y1) / 2 * d->height + (i == GV_REGION_SPINE ? -30 : 30) / scale;
            }
          /* Inside the cover, so an export at the cover's size shows every label whole. */
          lx = MAX (4 / scale, MIN (lx, d->width - ext.x_advance - 4 / scale));
          cairo_move_to (cr, lx, ly);
          cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
          cairo_text_path (cr, buf);
          cairo_set_line_width (cr, 3 / scale);
          cairo_stroke (cr);
          cairo_move_to (cr, lx, ly);
          cairo_set_source_rgb (cr, 1, 1, 1);
          cairo_show_text (cr, buf);
          cairo_set_line_width (cr, 2 / scale);
        }
    }
  /* The defect boxes, always: they are what the list refers to. */
  cairo_set_line_width (cr, 2 / scale);
  cairo_set_source_rgba (cr, 1, 0.2, 0.2, 0.95);
  for (int i = 0; i < d->n_defects; i++)
    {
      const int *b = d->defects[i].bbox;
      cairo_rectangle (cr, b[0], b[1], b[2], b[3]);
      cairo_stroke (cr);
    }
}

static void
draw_corners (GvImageView *view, cairo_t *cr, double scale, gpointer user_data)
{
  GvCoverView *self = user_data;
  const GvResult *r = self->analysis ? gv_analysis_get_result (self->analysis) : NULL;
  static const char *names[4] = { "TL", "TR", "BR", "BL" };

  if (!r || self->golden < 0 || self->golden >= r->n_golden || !r->golden[self->golden].cover.found)
    return;
  const GvQuad *q = &r->golden[self->golden].cover.quad;
  cairo_set_line_width (cr, 2 / scale);
  cairo_set_source_rgba (cr, 0.1, 0.9, 0.3, 0.95);
  for (int i = 0; i < 4; i++)
    cairo_line_to (cr, q->x[i] + 0.5, q->y[i] + 0.5);
  cairo_close_path (cr);
  cairo_stroke (cr);
  cairo_set_font_size (cr, 16 / scale);
  for (int i = 0; i < 4; i++)
    {
      char buf[64];
      cairo_arc (cr, q->x[i] + 0.5, q->y[i] + 0.5, 6 / scale, 0, 2 * G_PI);
      cairo_set_source_rgb (cr, 1, 0.85, 0.1);
      cairo_fill (cr);
      cairo_text_extents_t ext;
      double lx, ly;
      g_snprintf (buf, sizeof buf, "%s (%.1f, %.1f)", names[i], q->x[i], q->y[i]);
      cairo_text_extents (cr, buf, &ext);
      /* Outside the cover: left corners' labels end left of the point, bottom ones sit below. */
      lx = i == 0 || i == 3 ? q->x[i] - 10 / scale - ext.x_advance : q->x[i] + 10 / scale;
      ly = i >= 2 ? q->y[i] + 22 / scale : q->y[i] - 8 / scale;
      cairo_move_to (cr, lx, ly);
      cairo_text_path (cr, buf);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
      cairo_set_line_width (cr, 3 / scale);
      cairo_stroke (cr);
      cairo_move_to (cr, lx, ly);
      cairo_set_source_rgb (cr, 1, 0.85, 0.1);
      cairo_show_text (cr, buf);
    }
}

static void
draw_heat_legend (GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer user_data)
{
  GdkRGBA fg;
  int bw = MIN (w - 180, 400);

  for (int x = 0; x < bw; x++)
    {
      guint8 rgb[3];
      gv_heat_colour ((float) x / (bw - 1), rgb);
      cairo_set_source_rgb (cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
      cairo_rectangle (cr, x + 4, 4, 1, 14);
      cairo_fill (cr);
    }
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (area)), &fg);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.85);
  cairo_set_font_size (cr, 11);
  cairo_move_to (cr, 4, 31);
  cairo_show_text (cr, "0");
  cairo_move_to (cr, bw - 4, 31);
  cairo_show_text (cr, "1");
  cairo_move_to (cr, bw + 14, 16);
  cairo_show_text (cr, _("defect evidence (fixed scale)"));
}

static void
show_golden (GvCoverView *self, int i)
{
  const GvResult *r = self->analysis ? gv_analysis_get_result (self->analysis) : NULL;
  const GvDefectReport *d = report (self);
  GdkTexture *cover = NULL;

  self->golden = i;
  if (!r || i < 0 || i >= r->n_golden)
    {
      gv_image_view_set_texture (self->cover_view, NULL);
      gv_image_view_set_texture (self->frame_view, NULL);
      return;
    }
  cover = gv_analysis_warped_texture (self->analysis, i);
  gv_image_view_set_texture (self->cover_view, cover);
  gv_image_view_set_texture (self->frame_view, gv_analysis_golden_texture (self->analysis, i));
  if (!r->golden[i].cover.found)
    {
      g_autofree char *t = g_strdup_printf (_("No cover in this frame: %s"), r->golden[i].cover.reason);
      gv_image_view_set_placeholder (self->cover_view, t);
      gtk_label_set_text (self->status_label, t);
    }
  else
    {
      g_autofree char *t = g_strdup_printf (_("Cover confidence %.2f%s. %s"), r->golden[i].cover.confidence,
                                            r->golden[i].cover.touches_border ? _(", touches the frame border") : "",
                                            d ? _("The mask, heatmap and regions are of the fused cover.")
                                              : _("Defect mask, heatmap and regions: not available yet."));
      gtk_label_set_text (self->status_label, t);
    }
}

static void
golden_selected (GtkDropDown *dd, GParamSpec *pspec, GvCoverView *self)
{
  guint i = gtk_drop_down_get_selected (dd);
  show_golden (self, i == GTK_INVALID_LIST_POSITION ? -1 : (int) i);
}

static void
toggle_changed (GtkToggleButton *b, GvCoverView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self->cover_view));
}

static void
defect_activated (GtkListBox *box, GtkListBoxRow *row, GvCoverView *self)
{
  const GvDefectReport *d = report (self);
  int i = gtk_list_box_row_get_index (row);

  if (!d || i < 0 || i >= d->n_defects)
    return;
  const int *b = d->defects[i].bbox;
  /* Some margin around the box so its surroundings show. */
  gv_image_view_zoom_to (self->cover_view, b[0] - b[2] * 0.5 - 10, b[1] - b[3] * 0.5 - 10,
                         b[2] * 2 + 20, b[3] * 2 + 20);
}

static void
fill_defects (GvCoverView *self)
{
  const GvDefectReport *d = report (self);
  GtkWidget *c;

  while ((c = gtk_widget_get_first_child (GTK_WIDGET (self->defects_list))))
    gtk_list_box_remove (self->defects_list, c);
  if (!d)
    {
      GtkWidget *l = gtk_label_new (_("Defects: not available yet"));
      gtk_widget_add_css_class (l, "gv-unavailable");
      gtk_list_box_set_placeholder (self->defects_list, l);
      return;
    }
  {
    GtkWidget *l = gtk_label_new (_("No defects found."));
    gtk_widget_add_css_class (l, "gv-unavailable");
    gtk_list_box_set_placeholder (self->defects_list, l);
  }
  for (int i = 0; i < d->n_defects; i++)
    {
      const GvDefect *x = &d->defects[i];
      g_autofree char *t = NULL;
      if (self->inch)
        t = g_strdup_printf (_("%s · %s · %.3f in² · %.2f × %.2f in · severity %.2f"),
                             gv_core_kind_text (x->kind), gv_core_region_text (x->region),
                             x->area_mm2 / 645.16, x->bbox_mm[2] / 25.4, x->bbox_mm[3] / 25.4, x->severity);
      else
        t = g_strdup_printf (_("%s · %s · %.1f mm² · %.1f × %.1f mm · severity %.2f"),
                             gv_core_kind_text (x->kind), gv_core_region_text (x->region),
                             x->area_mm2, x->bbox_mm[2], x->bbox_mm[3], x->severity);
      GtkWidget *l = gtk_label_new (t);
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_list_box_append (self->defects_list, l);
    }
}

void
gv_cover_view_set_units_inch (GvCoverView *self, gboolean inch)
{
  self->inch = inch;
  fill_defects (self);
}

void
gv_cover_view_set_analysis (GvCoverView *self, GvAnalysis *a)
{
  const GvResult *r = a ? gv_analysis_get_result (a) : NULL;
  gboolean have = FALSE;

  g_set_object (&self->analysis, a);
  while (g_list_model_get_n_items (G_LIST_MODEL (self->golden_list)) > 0)
    gtk_string_list_remove (self->golden_list, 0);
  for (int i = 0; r && i < r->n_golden; i++)
    {
      g_autofree char *t = g_strdup_printf (_("%d: frame %d (%.2f s)%s"), i + 1, r->golden[i].frame_index,
                                            r->golden[i].pts, r->golden[i].cover.found ? "" : _(" — no cover"));
      gtk_string_list_append (self->golden_list, t);
    }
  have = report (self) != NULL;
  gtk_widget_set_sensitive (GTK_WIDGET (self->mask_toggle), have);
  gtk_widget_set_sensitive (GTK_WIDGET (self->heat_toggle), have);
  gtk_widget_set_sensitive (GTK_WIDGET (self->regions_toggle), have);
  fill_defects (self);
  if (!r || r->n_golden == 0)
    {
      show_golden (self, -1);
      gtk_label_set_text (self->status_label, r ? _("No golden frames in this run.")
                                                : _("No analysis yet: open a scan and run it."));
      return;
    }
  gtk_drop_down_set_selected (self->golden_dropdown, 0);
  show_golden (self, 0);
}

static void
gv_cover_view_dispose (GObject *object)
{
  g_clear_object (&GV_COVER_VIEW (object)->analysis);
  gtk_widget_dispose_template (GTK_WIDGET (object), GV_TYPE_COVER_VIEW);
  gv_widget_unparent_children (GTK_WIDGET (object));
  G_OBJECT_CLASS (gv_cover_view_parent_class)->dispose (object);
}

static void
gv_cover_view_class_init (GvCoverViewClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = gv_cover_view_dispose;
  g_type_ensure (GV_TYPE_IMAGE_VIEW);
  gtk_widget_class_set_template_from_resource (wc, "/io/gradevault/Inspector/ui/gv-cover-view.ui");
  gtk_widget_class_bind_template_child (wc, GvCoverView, golden_dropdown);
  gtk_widget_class_bind_template_child (wc, GvCoverView, golden_list);
  gtk_widget_class_bind_template_child (wc, GvCoverView, mask_toggle);
  gtk_widget_class_bind_template_child (wc, GvCoverView, heat_toggle);
  gtk_widget_class_bind_template_child (wc, GvCoverView, regions_toggle);
  gtk_widget_class_bind_template_child (wc, GvCoverView, status_label);
  gtk_widget_class_bind_template_child (wc, GvCoverView, cover_view);
  gtk_widget_class_bind_template_child (wc, GvCoverView, frame_view);
  gtk_widget_class_bind_template_child (wc, GvCoverView, heat_legend);
  gtk_widget_class_bind_template_child (wc, GvCoverView, defects_list);
  gtk_widget_class_set_layout_manager_type (wc, GTK_TYPE_BIN_LAYOUT);
}

static void
gv_cover_view_init (GvCoverView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->golden = -1;
  g_signal_connect (self->golden_dropdown, "notify::selected", G_CALLBACK (golden_selected), self);
  g_signal_connect (self->mask_toggle, "toggled", G_CALLBACK (toggle_changed), self);
  g_signal_connect (self->heat_toggle, "toggled", G_CALLBACK (toggle_changed), self);
  g_signal_connect (self->regions_toggle, "toggled", G_CALLBACK (toggle_changed), self);
  g_signal_connect (self->defects_list, "row-activated", G_CALLBACK (defect_activated), self);
  gv_image_view_set_overlay (self->cover_view, draw_cover_overlay, self);
  gv_image_view_set_overlay (self->frame_view, draw_corners, self);
  gv_image_view_set_placeholder (self->cover_view, _("No warped cover"));
  gv_image_view_set_placeholder (self->frame_view, _("No golden frame"));
  gtk_drawing_area_set_draw_func (self->heat_legend, draw_heat_legend, self, NULL);
  gtk_toggle_button_set_active (self->regions_toggle, TRUE);
  gtk_toggle_button_set_active (self->mask_toggle, TRUE);
}

void
gv_cover_view_set_overlays (GvCoverView *self, gboolean mask, gboolean heat, gboolean regions)
{
  gtk_toggle_button_set_active (self->mask_toggle, mask);
  gtk_toggle_button_set_active (self->heat_toggle, heat);
  gtk_toggle_button_set_active (self->regions_toggle, regions);
}

gboolean
gv_cover_view_export_png (GvCoverView *self, const char *path, GError **error)
{
  return gv_surface_save_png (gv_image_view_render (self->cover_view), path, error);
}
