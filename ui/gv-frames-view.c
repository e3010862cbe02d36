/* gv-frames-view.c: a frame-accurate scrubber (Left/Right step one frame), the per-frame chart,
 * and the optical flow of the shown frame, computed on demand in a thread with the core's
 * Farneback: a colour-wheel picture at a fixed scale (GV_FLOW_VIEW_MAX_PX) with its legend, and
 * arrows over the frame. */
#include <glib/gi18n.h>
#include <math.h>

#include "gv-image-view.h"
#include "gv-timeline.h"
#include "gv-views.h"

struct _GvFramesView {
  GtkWidget parent_instance;
  GvTimeline *timeline;
  GtkScale *scrubber;
  GtkAdjustment *adjustment;
  GtkLabel *frame_label, *status_label;
  GtkCheckButton *arrows_check, *quad_check;
  GvImageView *frame_view, *flow_view;
  GtkDrawingArea *legend;

  GvAnalysis *analysis;
  GvFrameCursor *cursor;
  GCancellable *cancellable;
  GvFrameData *data;
  int frame;
  guint debounce_id;
};

G_DEFINE_FINAL_TYPE (GvFramesView, gv_frames_view, GTK_TYPE_WIDGET)

static void request_frame (GvFramesView *self);

static void
draw_arrows (GvImageView *view, cairo_t *cr, double scale, gpointer user_data)
{
  GvFramesView *self = user_data;
  const GvFrameData *fd = self->data;
  const GvResult *r = self->analysis ? gv_analysis_get_result (self->analysis) : NULL;

  if (r && fd && gtk_check_button_get_active (self->quad_check) && fd->index < r->n_frames
      && r->frames[fd->index].cover_found)
    {
      const GvQuad *q = &r->frames[fd->index].cover;
      cairo_set_source_rgba (cr, 0.1, 0.9, 0.3, 0.9);
      cairo_set_line_width (cr, 2 / scale);
      for (int i = 0; i < 4; i++)
        cairo_line_to (cr, q->x[i] + 0.5, q->y[i] + 0.5);
      cairo_close_path (cr);
      cairo_stroke (cr);
    }
  if (!fd || !fd->flow || !gtk_check_button_get_active (self->arrows_check))
    return;
  /* One arrow per cell of about 28 screen px, drawn 3x longer than the flow so small motion is
   * visible; the legend says so. */
  int step = MAX (1, (int) (28 / (scale * fd->flow_scale_x)));
  cairo_set_line_width (cr, 1.5 / scale);
  cairo_set_source_rgba (cr, 1, 0.85, 0.1, 0.95);
  for (int y = step / 2; y < fd->flow->height; y += step)
    {
      const float *f = gv_image_row_f32 (fd->flow, y);
      for (int x = step / 2; x < fd->flow->width; x += step)
        {
          double u = f[2 * x] * fd->flow_scale_x * 3, v = f[2 * x + 1] * fd->flow_scale_y * 3;
          double px = (x + 0.5) * fd->flow_scale_x, py = (y + 0.5) * fd->flow_scale_y;
          double len = hypot (u, v);
          if (!isfinite (len))
            continue;
          if (len < 1.0 / scale)
            {
              cairo_arc (cr, px, py, 1.0 / scale, 0, 2 * G_PI);
              cairo_fill (cr);
              continue;
            }
          cairo_move_to (cr, px, py);
          cairo_line_to (cr, px + u, py + v);
          double a = atan2 (v, u), h = MIN (len * 0.4, 6 / scale);
          cairo_line_to (cr, px + u - h * cos (a - 0.5), py + v - h * sin (a - 0.5));
          cairo_move_to (cr, px + u, py + v);
          cairo_line_to (cr, px + u - h * cos (a + 0.5), py + v - h * sin (a + 0.5));
          cairo_stroke (cr);
        }
    }
}

/* The colour wheel's legend: the wheel at the same fixed scale, and what it means. */
static void
draw_legend (GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer user_data)
{
  GvFramesView *self = user_data;
  const int R = MIN (h / 2 - 4, 54);
  const double cx = R + 8, cy = h / 2.0;
  GdkRGBA fg;
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (area), NULL);
  g_autofree char *t = NULL;

  /* Draw the wheel with cairo from the same hue ramps as gv_flow_to_color. */
  static const int seg[6] = { 15, 6, 4, 11, 13, 6 };
  for (int a = 0; a < 360; a++)
    {
      double t0 = a / 360.0, fk = t0 * 54;
      int k = (int) fk, s = 0;
      double rgb[3];
      while (k >= seg[s])
        k -= seg[s++];
      double tt = (double) k / seg[s];
      switch (s)
        {
        case 0: rgb[0] = 1; rgb[1] = tt; rgb[2] = 0; break;
        case 1: rgb[0] = 1 - tt; rgb[1] = 1; rgb[2] = 0; break;
        case 2: rgb[0] = 0; rgb[1] = 1; rgb[2] = tt; break;
        case 3: rgb[0] = 0; rgb[1] = 1 - tt; rgb[2] = 1; break;
        case 4: rgb[0] = tt; rgb[1] = 0; rgb[2] = 1; break;
        default: rgb[0] = 1; rgb[1] = 0; rgb[2] = 1 - tt; break;
        }
      /* Hue index t0 corresponds to the angle atan2(-v, -u) = (2 t0 - 1) pi. */
      double ang = (2 * t0 - 1) * G_PI;
      double ux = -cos (ang), vy = -sin (ang);
      cairo_pattern_t *p = cairo_pattern_create_linear (cx, cy, cx + R * ux, cy + R * vy);
      cairo_pattern_add_color_stop_rgb (p, 0, 1, 1, 1);
      cairo_pattern_add_color_stop_rgb (p, 1, rgb[0], rgb[1], rgb[2]);
      cairo_set_source (cr, p);
      cairo_move_to (cr, cx, cy);
      double a0 = atan2 (vy, ux);
      cairo_arc (cr, cx, cy, R, a0 - G_PI / 360 - 0.01, a0 + G_PI / 360 + 0.01);
      cairo_close_path (cr);
      cairo_fill (cr);
      cairo_pattern_destroy (p);
    }
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (area)), &fg);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.9);
  cairo_set_line_width (cr, 1);
  cairo_arc (cr, cx, cy, R, 0, 2 * G_PI);
  cairo_stroke (cr);
  t = g_strdup_printf (_("Hue: direction of motion; saturation: speed, full at %.0f px per frame "
                         "(full resolution; fixed scale, darker beyond).\nArrows over the frame "
                         "are drawn 3× their length.%s"),
                       GV_FLOW_VIEW_MAX_PX,
                       self->data ? "" : _("\nNo flow computed yet."));
  if (self->data)
    {
      g_autofree char *m = g_strdup_printf (_("\nMean motion of this frame: %.2f px (whole frame)."),
                                            self->data->mean_motion);
      char *tt = g_strconcat (t, m, NULL);
      g_free (t);
      t = tt;
    }
  pango_layout_set_text (layout, t, -1);
  pango_layout_set_width (layout, (w - (int) (2 * R) - 28) * PANGO_SCALE);
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD);
  cairo_move_to (cr, 2 * R + 20, 4);
  pango_cairo_show_layout (cr, layout);
  g_object_unref (layout);
}

static void
update_label (GvFramesView *self)
{
  const GvResult *r = self->analysis ? gv_analysis_get_result (self->analysis) : NULL;
  g_autofree char *t = NULL;

  if (!r || self->frame < 0 || self->frame >= r->n_frames)
    {
      gtk_label_set_text (self->frame_label, "");
      return;
    }
  const GvFrameRecord *f = &r->frames[self->frame];
  int golden = -1;
  for (int i = 0; i < r->n_golden; i++)
    if (r->golden[i].frame_index == self->frame)
      golden = i;
  t = g_strdup_printf (_("frame %d/%d  t=%.3f s  sharpness %.1f  motion %.2f px%s"),
                       self->frame, r->n_frames - 1, f->pts, f->sharpness,
                       f->measured ? f->motion_gate : 0.0,
                       golden >= 0 ? _("  golden") : f->candidate ? _("  candidate") : "");
  gtk_label_set_text (self->frame_label, t);
}

static void
fetch_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  GvFrameData *fd = gv_frame_fetch_finish (res, &error);
  GvFramesView *self;

  if (!fd)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          self = GV_FRAMES_VIEW (source);
          gtk_label_set_text (self->status_label, error->message);
        }
      return;
    }
  self = GV_FRAMES_VIEW (source);
  g_clear_pointer (&self->data, gv_frame_data_free);
  self->data = fd;
  gv_image_view_set_texture (self->frame_view, fd->frame);
  /* The flow picture is laid over the frame's px so the two views zoom and pan together. */
  gv_image_view_set_image_size (self->flow_view, gdk_texture_get_width (fd->frame),
                                gdk_texture_get_height (fd->frame));
  gv_image_view_set_texture (self->flow_view, fd->flow_color);
  gtk_label_set_text (self->status_label, "");
  gtk_widget_queue_draw (GTK_WIDGET (self->legend));
  gtk_widget_queue_draw (GTK_WIDGET (self->frame_view));
}

static gboolean
debounced_fetch (gpointer user_data)
{
  GvFramesView *self = user_data;

  self->debounce_id = 0;
  if (!self->cursor)
    return G_SOURCE_REMOVE;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  gtk_label_set_text (self->status_label, _("Computing the flow of this frame…"));
  gv_frame_fetch_async (G_OBJECT (self), self->cursor, self->frame, self->cancellable, fetch_done,
                        NULL);
  return G_SOURCE_REMOVE;
}

static void
request_frame (GvFramesView *self)
{
  update_label (self);
  gv_timeline_set_cursor (self->timeline, self->frame);
  /* Coalesce fast scrubbing into one decode. */
  if (!self->debounce_id)
    self->debounce_id = g_timeout_add (30, debounced_fetch, self);
}

void
gv_frames_view_show_frame (GvFramesView *self, int index)
{
  const GvResult *r = self->analysis ? gv_analysis_get_result (self->analysis) : NULL;

  if (!r || r->n_frames == 0)
    return;
  index = CLAMP (index, 0, r->n_frames - 1);
  if (index == self->frame)
    return;
  self->frame = index;
  if ((int) gtk_adjustment_get_value (self->adjustment) != index)
    gtk_adjustment_set_value (self->adjustment, index);
  request_frame (self);
}

void
gv_frames_view_focus (GvFramesView *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->scrubber));
}

int
gv_frames_view_get_frame (GvFramesView *self)
{
  return self->frame;
}

int
gv_frames_view_get_loaded_frame (GvFramesView *self)
{
  return self->data ? self->data->index : -1;
}

double
gv_frames_view_get_loaded_pts (GvFramesView *self)
{
  return self->data ? self->data->pts : -1;
}

static void
adjustment_changed (GtkAdjustment *adj, GvFramesView *self)
{
  gv_frames_view_show_frame (self, (int) floor (gtk_adjustment_get_value (adj) + 0.5));
}

static void
timeline_activated (GvTimeline *tl, int frame, GvFramesView *self)
{
  gv_frames_view_show_frame (self, frame);
  gtk_widget_grab_focus (GTK_WIDGET (self->scrubber));
}

static void
step_action (GtkWidget *widget, const char *name, GVariant *param)
{
  GvFramesView *self = GV_FRAMES_VIEW (widget);
  int d = g_str_equal (name, "frames.next") ? 1 : g_str_equal (name, "frames.previous") ? -1
          : g_str_equal (name, "frames.first") ? -100000 : 100000;

  gv_frames_view_show_frame (self, self->frame + d);
}

static void
toggled (GtkCheckButton *b, GvFramesView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self->frame_view));
}

void
gv_frames_view_set_analysis (GvFramesView *self, GvAnalysis *a)
{
  const GvResult *r = a ? gv_analysis_get_result (a) : NULL;

  g_cancellable_cancel (self->cancellable);
  g_clear_pointer (&self->cursor, gv_frame_cursor_unref);
  g_clear_pointer (&self->data, gv_frame_data_free);
  g_set_object (&self->analysis, a);
  gv_timeline_set_analysis (self->timeline, a);
  gv_image_view_set_texture (self->frame_view, NULL);
  gv_image_view_set_texture (self->flow_view, NULL);
  self->frame = -1;
  if (!r || r->n_frames == 0)
    {
      gtk_adjustment_configure (self->adjustment, 0, 0, 0, 1, 10, 0);
      gtk_label_set_text (self->status_label, _("No analysis yet: open a scan and run it."));
      update_label (self);
      return;
    }
  self->cursor = gv_frame_cursor_new (gv_analysis_get_video_path (a), &r->params);
  gtk_adjustment_configure (self->adjustment, 0, 0, r->n_frames - 1, 1, 10, 0);
  gv_frames_view_show_frame (self, r->n_golden > 0 ? r->golden[0].frame_index : 0);
}

static void
gv_frames_view_dispose (GObject *object)
{
  GvFramesView *self = GV_FRAMES_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->debounce_id, g_source_remove);
  g_clear_pointer (&self->cursor, gv_frame_cursor_unref);
  g_clear_pointer (&self->data, gv_frame_data_free);
  g_clear_object (&self->analysis);
  gtk_widget_dispose_template (GTK_WIDGET (object), GV_TYPE_FRAMES_VIEW);
  gv_widget_unparent_children (GTK_WIDGET (object));
  G_OBJECT_CLASS (gv_frames_view_parent_class)->dispose (object);
}

static void
gv_frames_view_class_init (GvFramesViewClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = gv_frames_view_dispose;
  g_type_ensure (GV_TYPE_TIMELINE);
  g_type_ensure (GV_TYPE_IMAGE_VIEW);
  gtk_widget_class_set_template_from_resource (wc, "/io/gradevault/Inspector/ui/gv-frames-view.ui");
  gtk_widget_class_bind_template_child (wc, GvFramesView, timeline);
  gtk_widget_class_bind_template_child (wc, GvFramesView, scrubber);
  gtk_widget_class_bind_template_child (wc, GvFramesView, adjustment);
  gtk_widget_class_bind_template_child (wc, GvFramesView, frame_label);
  gtk_widget_class_bind_template_child (wc, GvFramesView, status_label);
  gtk_widget_class_bind_template_child (wc, GvFramesView, arrows_check);
  gtk_widget_class_bind_template_child (wc, GvFramesView, quad_check);
  gtk_widget_class_bind_template_child (wc, GvFramesView, frame_view);
  gtk_widget_class_bind_template_child (wc, GvFramesView, flow_view);
  gtk_widget_class_bind_template_child (wc, GvFramesView, legend);
  gtk_widget_class_set_layout_manager_type (wc, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_install_action (wc, "frames.next", NULL, step_action);
  gtk_widget_class_install_action (wc, "frames.previous", NULL, step_action);
  gtk_widget_class_install_action (wc, "frames.first", NULL, step_action);
  gtk_widget_class_install_action (wc, "frames.last", NULL, step_action);
  /* Captured by the view so the scale's own key handling cannot skip a frame. */
  gtk_widget_class_add_binding_action (wc, GDK_KEY_Right, 0, "frames.next", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_Left, 0, "frames.previous", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_Home, 0, "frames.first", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_End, 0, "frames.last", NULL);
}

static gboolean
key_capture (GtkEventControllerKey *k, guint keyval, guint keycode, GdkModifierType state,
             GvFramesView *self)
{
  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK))
    return FALSE;
  if (keyval == GDK_KEY_Right || keyval == GDK_KEY_KP_Right)
    gtk_widget_activate_action (GTK_WIDGET (self), "frames.next", NULL);
  else if (keyval == GDK_KEY_Left || keyval == GDK_KEY_KP_Left)
    gtk_widget_activate_action (GTK_WIDGET (self), "frames.previous", NULL);
  else
    return FALSE;
  return TRUE;
}

static void
gv_frames_view_init (GvFramesView *self)
{
  GtkEventController *keys = gtk_event_controller_key_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  self->frame = -1;
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (key_capture), self);
  gtk_widget_add_controller (GTK_WIDGET (self), keys);
  g_signal_connect (self->adjustment, "value-changed", G_CALLBACK (adjustment_changed), self);
  g_signal_connect (self->timeline, "frame-activated", G_CALLBACK (timeline_activated), self);
  g_signal_connect (self->arrows_check, "toggled", G_CALLBACK (toggled), self);
  g_signal_connect (self->quad_check, "toggled", G_CALLBACK (toggled), self);
  gv_image_view_set_overlay (self->frame_view, draw_arrows, self);
  gv_image_view_set_placeholder (self->frame_view, _("No frame shown"));
  gv_image_view_set_placeholder (self->flow_view, _("No flow computed"));
  gv_image_view_link (self->frame_view, self->flow_view);
  gtk_drawing_area_set_draw_func (self->legend, draw_legend, self, NULL);
  gtk_label_set_text (self->status_label, _("No analysis yet: open a scan and run it."));
}

gboolean
gv_frames_view_export_png (GvFramesView *self, const char *path, GError **error)
{
  return gv_surface_save_png (gv_image_view_render_pair (self->frame_view, self->flow_view), path, error);
}
