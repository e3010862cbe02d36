/* gv-image-view.c: see gv-image-view.h. */
#include <glib/gi18n.h>
#include <math.h>

#include "gv-image-view.h"

struct _GvImageView {
  GtkWidget parent_instance;
  GdkTexture *texture, *split_texture;
  int img_w, img_h;
  double split;
  double zoom, cx, cy;
  GvOverlayFunc overlay;
  gpointer overlay_data;
  char *placeholder;
  double drag_cx, drag_cy;
  double last_x, last_y; /* pointer in widget px, -1 outside */
  gboolean syncing;
};

G_DEFINE_FINAL_TYPE (GvImageView, gv_image_view, GTK_TYPE_WIDGET)

enum { VIEW_CHANGED, PROBE, CLICKED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
image_size (GvImageView *self, double *w, double *h)
{
  *w = self->img_w > 0 ? self->img_w : self->texture ? gdk_texture_get_width (self->texture) : 0;
  *h = self->img_h > 0 ? self->img_h : self->texture ? gdk_texture_get_height (self->texture) : 0;
}

/* Screen px per image px and the image origin on screen. */
static gboolean
transform (GvImageView *self, double *scale, double *ox, double *oy)
{
  double iw, ih, ww = gtk_widget_get_width (GTK_WIDGET (self)),
                 wh = gtk_widget_get_height (GTK_WIDGET (self));

  image_size (self, &iw, &ih);
  if (iw <= 0 || ih <= 0 || ww <= 0 || wh <= 0)
    return FALSE;
  *scale = MIN (ww / iw, wh / ih) * self->zoom;
  *ox = ww / 2 - self->cx * *scale;
  *oy = wh / 2 - self->cy * *scale;
  return TRUE;
}

static void
to_image (GvImageView *self, double wx, double wy, double *x, double *y)
{
  double s, ox, oy;

  if (!transform (self, &s, &ox, &oy))
    {
      *x = *y = -1;
      return;
    }
  *x = (wx - ox) / s;
  *y = (wy - oy) / s;
}

static void
changed (GvImageView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[VIEW_CHANGED], 0);
}

static void
clamp_view (GvImageView *self)
{
  double iw, ih;

  image_size (self, &iw, &ih);
  self->zoom = CLAMP (self->zoom, 1.0, 64.0);
  self->cx = CLAMP (self->cx, 0, iw);
  self->cy = CLAMP (self->cy, 0, ih);
}

void
gv_image_view_set_view (GvImageView *self, double zoom, double cx, double cy)
{
  if (self->zoom == zoom && self->cx == cx && self->cy == cy)
    return;
  self->zoom = zoom;
  self->cx = cx;
  self->cy = cy;
  clamp_view (self);
  changed (self);
}

void
gv_image_view_get_view (GvImageView *self, double *zoom, double *cx, double *cy)
{
  *zoom = self->zoom;
  *cx = self->cx;
  *cy = self->cy;
}

void
gv_image_view_reset (GvImageView *self)
{
  double iw, ih;

  image_size (self, &iw, &ih);
  gv_image_view_set_view (self, 1.0, iw / 2, ih / 2);
}

void
gv_image_view_zoom_to (GvImageView *self, double x, double y, double w, double h)
{
  double iw, ih;

  image_size (self, &iw, &ih);
  if (w <= 0 || h <= 0 || iw <= 0)
    return;
  gv_image_view_set_view (self, MIN (iw / w, ih / h), x + w / 2, y + h / 2);
}

static void
gv_image_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  GvImageView *self = GV_IMAGE_VIEW (widget);
  double s, ox, oy, iw, ih;
  int ww = gtk_widget_get_width (widget), wh = gtk_widget_get_height (widget);

  if (!transform (self, &s, &ox, &oy) || (!self->texture && !self->overlay))
    {
      if (self->placeholder)
        {
          PangoLayout *layout = gtk_widget_create_pango_layout (widget, self->placeholder);
          int lw, lh;
          GdkRGBA fg;
          pango_layout_get_pixel_size (layout, &lw, &lh);
          gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
          fg.alpha *= 0.7f;
          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((ww - lw) / 2.f, (wh - lh) / 2.f));
          gtk_snapshot_append_layout (snapshot, layout, &fg);
          gtk_snapshot_restore (snapshot);
          g_object_unref (layout);
        }
      return;
    }
  image_size (self, &iw, &ih);
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, ww, wh));
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (ox, oy, iw * s, ih * s);
  if (self->texture)
    {
      if (self->split_texture)
        {
          double sx = ww * self->split;
          gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, sx, wh));
          gtk_snapshot_append_texture (snapshot, self->texture, &bounds);
          gtk_snapshot_pop (snapshot);
          gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (sx, 0, ww - sx, wh));
          gtk_snapshot_append_texture (snapshot, self->split_texture, &bounds);
          gtk_snapshot_pop (snapshot);
          gtk_snapshot_append_color (snapshot, &(GdkRGBA){ 1, 0.85f, 0.2f, 1 },
                                     &GRAPHENE_RECT_INIT (sx - 1, 0, 2, wh));
        }
      else
        gtk_snapshot_append_texture (snapshot, self->texture, &bounds);
    }
  if (self->overlay)
    {
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, ww, wh));
      cairo_translate (cr, ox, oy);
      cairo_scale (cr, s, s);
      self->overlay (self, cr, s, self->overlay_data);
      cairo_destroy (cr);
    }
  gtk_snapshot_pop (snapshot);
}

static void
gv_image_view_measure (GtkWidget *widget, GtkOrientation o, int for_size, int *min, int *nat,
                       int *min_baseline, int *nat_baseline)
{
  *min = 64;
  *nat = 320;
}

static void
on_scroll_zoom (GvImageView *self, double wx, double wy, double factor)
{
  double x, y, s, ox, oy;

  to_image (self, wx, wy, &x, &y);
  if (x < 0 && y < 0)
    return;
  double nz = CLAMP (self->zoom * factor, 1.0, 64.0);
  self->zoom = nz;
  /* Keep the point under the pointer fixed. */
  if (transform (self, &s, &ox, &oy))
    {
      double ww = gtk_widget_get_width (GTK_WIDGET (self)), wh = gtk_widget_get_height (GTK_WIDGET (self));
      self->cx = x - (wx - ww / 2) / s;
      self->cy = y - (wy - wh / 2) / s;
    }
  clamp_view (self);
  changed (self);
}

static gboolean
scroll_cb (GtkEventControllerScroll *c, double dx, double dy, GvImageView *self)
{
  double wx = self->last_x, wy = self->last_y;

  if (wx < 0)
    {
      wx = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      wy = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
    }
  on_scroll_zoom (self, wx, wy, pow (1.2, -dy));
  return TRUE;
}

static void
drag_begin_cb (GtkGestureDrag *g, double x, double y, GvImageView *self)
{
  self->drag_cx = self->cx;
  self->drag_cy = self->cy;
}

static void
drag_update_cb (GtkGestureDrag *g, double dx, double dy, GvImageView *self)
{
  double s, ox, oy;

  if (!transform (self, &s, &ox, &oy))
    return;
  self->cx = self->drag_cx - dx / s;
  self->cy = self->drag_cy - dy / s;
  clamp_view (self);
  changed (self);
}

static void
click_cb (GtkGestureClick *g, int n, double wx, double wy, GvImageView *self)
{
  double x, y;

  to_image (self, wx, wy, &x, &y);
  if (n == 2)
    gv_image_view_reset (self);
  else
    g_signal_emit (self, signals[CLICKED], 0, x, y);
}

static void
motion_cb (GtkEventControllerMotion *m, double wx, double wy, GvImageView *self)
{
  double x, y, iw, ih;

  self->last_x = wx;
  self->last_y = wy;
  to_image (self, wx, wy, &x, &y);
  image_size (self, &iw, &ih);
  if (x < 0 || y < 0 || x >= iw || y >= ih)
    x = y = -1;
  g_signal_emit (self, signals[PROBE], 0, x, y);
}

static void
leave_cb (GtkEventControllerMotion *m, GvImageView *self)
{
  self->last_x = self->last_y = -1;
  g_signal_emit (self, signals[PROBE], 0, -1.0, -1.0);
}

static void
zoom_action (GtkWidget *widget, const char *name, GVariant *param)
{
  GvImageView *self = GV_IMAGE_VIEW (widget);

  if (g_str_equal (name, "view.zoom-in"))
    gv_image_view_set_view (self, self->zoom * 1.5, self->cx, self->cy);
  else if (g_str_equal (name, "view.zoom-out"))
    gv_image_view_set_view (self, self->zoom / 1.5, self->cx, self->cy);
  else
    gv_image_view_reset (self);
}

static void
gv_image_view_dispose (GObject *object)
{
  GvImageView *self = GV_IMAGE_VIEW (object);

  g_clear_object (&self->texture);
  g_clear_object (&self->split_texture);
  g_clear_pointer (&self->placeholder, g_free);
  G_OBJECT_CLASS (gv_image_view_parent_class)->dispose (object);
}

static void
gv_image_view_class_init (GvImageViewClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = gv_image_view_dispose;
  wc->snapshot = gv_image_view_snapshot;
  wc->measure = gv_image_view_measure;
  signals[VIEW_CHANGED] = g_signal_new ("view-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[PROBE] = g_signal_new ("probe", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  signals[CLICKED] = g_signal_new ("clicked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                   NULL, NULL, G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  gtk_widget_class_install_action (wc, "view.zoom-in", NULL, zoom_action);
  gtk_widget_class_install_action (wc, "view.zoom-out", NULL, zoom_action);
  gtk_widget_class_install_action (wc, "view.zoom-fit", NULL, zoom_action);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_plus, GDK_CONTROL_MASK, "view.zoom-in", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_equal, GDK_CONTROL_MASK, "view.zoom-in", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_minus, GDK_CONTROL_MASK, "view.zoom-out", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_0, GDK_CONTROL_MASK, "view.zoom-fit", NULL);
  gtk_widget_class_set_css_name (wc, "gv-image-view");
}

static void
gv_image_view_init (GvImageView *self)
{
  GtkEventController *scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  GtkGesture *drag = gtk_gesture_drag_new ();
  GtkGesture *click = gtk_gesture_click_new ();
  GtkEventController *motion = gtk_event_controller_motion_new ();

  self->zoom = 1.0;
  self->split = 0.5;
  self->last_x = self->last_y = -1;
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (click, "released", G_CALLBACK (click_cb), self);
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
}

GtkWidget *
gv_image_view_new (void)
{
  return g_object_new (GV_TYPE_IMAGE_VIEW, NULL);
}

void
gv_image_view_set_texture (GvImageView *self, GdkTexture *texture)
{
  gboolean resized = !self->texture || !texture || self->img_w > 0
                     || gdk_texture_get_width (self->texture) != gdk_texture_get_width (texture)
                     || gdk_texture_get_height (self->texture) != gdk_texture_get_height (texture);

  g_set_object (&self->texture, texture);
  if (resized && self->img_w <= 0)
    {
      self->zoom = 1.0;
      if (texture)
        {
          self->cx = gdk_texture_get_width (texture) / 2.0;
          self->cy = gdk_texture_get_height (texture) / 2.0;
        }
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

GdkTexture *
gv_image_view_get_texture (GvImageView *self)
{
  return self->texture;
}

void
gv_image_view_set_image_size (GvImageView *self, int width, int height)
{
  if (self->img_w == width && self->img_h == height)
    return;
  self->img_w = width;
  self->img_h = height;
  self->zoom = 1.0;
  self->cx = width / 2.0;
  self->cy = height / 2.0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
gv_image_view_set_split_texture (GvImageView *self, GdkTexture *texture)
{
  g_set_object (&self->split_texture, texture);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
gv_image_view_set_split (GvImageView *self, double frac)
{
  self->split = CLAMP (frac, 0, 1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
gv_image_view_set_overlay (GvImageView *self, GvOverlayFunc func, gpointer data)
{
  self->overlay = func;
  self->overlay_data = data;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
gv_image_view_set_placeholder (GvImageView *self, const char *text)
{
  g_free (self->placeholder);
  self->placeholder = g_strdup (text);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
follow (GvImageView *src, GvImageView *dst)
{
  if (src->syncing || dst->syncing)
    return;
  dst->syncing = TRUE;
  gv_image_view_set_view (dst, src->zoom, src->cx, src->cy);
  dst->syncing = FALSE;
}

void
gv_image_view_link (GvImageView *a, GvImageView *b)
{
  g_signal_connect_object (a, "view-changed", G_CALLBACK (follow), b, 0);
  g_signal_connect_object (b, "view-changed", G_CALLBACK (follow), a, 0);
}

/* ---- export ---- */

static cairo_surface_t *
texture_surface (GdkTexture *t)
{
  int w = gdk_texture_get_width (t), h = gdk_texture_get_height (t);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);

  /* GDK's default download format is cairo's ARGB32 (premultiplied, native endian). */
  gdk_texture_download (t, cairo_image_surface_get_data (s), cairo_image_surface_get_stride (s));
  cairo_surface_mark_dirty (s);
  return s;
}

static void
paint_texture (cairo_t *cr, GdkTexture *t, double iw, double ih)
{
  cairo_surface_t *s = texture_surface (t);

  cairo_save (cr);
  cairo_scale (cr, iw / gdk_texture_get_width (t), ih / gdk_texture_get_height (t));
  cairo_set_source_surface (cr, s, 0, 0);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (s);
}

cairo_surface_t *
gv_image_view_render (GvImageView *self)
{
  double iw, ih;
  cairo_surface_t *out;
  cairo_t *cr;

  image_size (self, &iw, &ih);
  if (iw <= 0 || ih <= 0 || (!self->texture && !self->overlay))
    return NULL;
  out = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) iw, (int) ih);
  cr = cairo_create (out);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_paint (cr);
  if (self->texture)
    paint_texture (cr, self->texture, iw, ih);
  if (self->texture && self->split_texture)
    {
      double sx = round (iw * self->split);
      cairo_save (cr);
      cairo_rectangle (cr, sx, 0, iw - sx, ih);
      cairo_clip (cr);
      paint_texture (cr, self->split_texture, iw, ih);
      cairo_restore (cr);
      cairo_set_source_rgb (cr, 1, 0.85, 0.2);
      cairo_rectangle (cr, sx - 1, 0, 2, ih);
      cairo_fill (cr);
    }
  if (self->overlay)
    {
      cairo_save (cr);
      self->overlay (self, cr, MIN (1.0, 1000.0 / MAX (iw, ih)), self->overlay_data);
      cairo_restore (cr);
    }
  cairo_destroy (cr);
  return out;
}

cairo_surface_t *
gv_image_view_render_pair (GvImageView *a, GvImageView *b)
{
  cairo_surface_t *sa = gv_image_view_render (a), *sb, *out;
  int wa, ha, wb;
  double k;
  cairo_t *cr;

  if (!sa || !b || !(sb = gv_image_view_render (b)))
    return sa;
  wa = cairo_image_surface_get_width (sa);
  ha = cairo_image_surface_get_height (sa);
  k = (double) ha / cairo_image_surface_get_height (sb);
  wb = (int) lround (cairo_image_surface_get_width (sb) * k);
  /* An 8 px gap, as the panes have on screen. */
  out = cairo_image_surface_create (CAIRO_FORMAT_RGB24, wa + 8 + wb, ha);
  cr = cairo_create (out);
  cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
  cairo_paint (cr);
  cairo_set_source_surface (cr, sa, 0, 0);
  cairo_paint (cr);
  cairo_translate (cr, wa + 8, 0);
  cairo_scale (cr, k, k);
  cairo_set_source_surface (cr, sb, 0, 0);
  cairo_paint (cr);
  cairo_destroy (cr);
  cairo_surface_destroy (sa);
  cairo_surface_destroy (sb);
  return out;
}

gboolean
gv_surface_save_png (cairo_surface_t *surface, const char *path, GError **error)
{
  cairo_status_t st;

  if (!surface)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("This view shows no picture yet: nothing to export."));
      return FALSE;
    }
  st = cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
  if (st != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("%s cannot be written: %s."), path,
                   cairo_status_to_string (st));
      return FALSE;
    }
  return TRUE;
}
