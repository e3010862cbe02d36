/* gv-timeline.c: see gv-timeline.h. Drawn with cairo: sharpness on a linear scale from 0 to the
 * run's largest value (left axis), motion on a fixed scale from 0 to 4x the gate (right axis),
 * so the gate line always sits at the same height. */
#include <glib/gi18n.h>
#include <math.h>

#include "gv-timeline.h"

struct _GvTimeline {
  GtkWidget parent_instance;
  GvAnalysis *analysis;
  int cursor;
};

G_DEFINE_FINAL_TYPE (GvTimeline, gv_timeline, GTK_TYPE_WIDGET)

enum { FRAME_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

#define PAD_L 56.0
#define PAD_R 110.0
#define PAD_T 22.0
#define PAD_B 22.0

double
gv_timeline_frame_x (GvTimeline *self, int frame)
{
  const GvResult *r = self->analysis ? gv_analysis_get_result (self->analysis) : NULL;
  double w = gtk_widget_get_width (GTK_WIDGET (self)) - PAD_L - PAD_R;

  if (!r || r->n_frames <= 1)
    return PAD_L;
  return PAD_L + w * frame / (r->n_frames - 1);
}

static int
frame_at (GvTimeline *self, double x)
{
  const GvResult *r = self->analysis ? gv_analysis_get_result (self->analysis) : NULL;
  double w = gtk_widget_get_width (GTK_WIDGET (self)) - PAD_L - PAD_R;

  if (!r || r->n_frames <= 0 || w <= 0)
    return -1;
  return CLAMP ((int) floor ((x - PAD_L) / w * (r->n_frames - 1) + 0.5), 0, r->n_frames - 1);
}

static void
text (cairo_t *cr, PangoLayout *layout, const char *s, double x, double y, double align)
{
  int tw, th;

  pango_layout_set_text (layout, s, -1);
  pango_layout_get_pixel_size (layout, &tw, &th);
  cairo_move_to (cr, x - align * tw, y - th / 2.0);
  pango_cairo_show_layout (cr, layout);
}

static void
gv_timeline_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  GvTimeline *self = GV_TIMELINE (widget);
  const GvResult *r = self->analysis ? gv_analysis_get_result (self->analysis) : NULL;
  double W = gtk_widget_get_width (widget), H = gtk_widget_get_height (widget);
  double pw = W - PAD_L - PAD_R, ph = H - PAD_T - PAD_B;
  PangoLayout *layout;
  GdkRGBA fg;
  cairo_t *cr;
  char buf[64];

  if (pw <= 10 || ph <= 10)
    return;
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, W, H));
  layout = gtk_widget_create_pango_layout (widget, NULL);
  cairo_set_line_width (cr, 1);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.35);
  cairo_rectangle (cr, PAD_L + 0.5, PAD_T + 0.5, pw, ph);
  cairo_stroke (cr);
  if (!r || r->n_frames < 1)
    {
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.7);
      text (cr, layout, _("No analysis yet"), W / 2, H / 2, 0.5);
      g_object_unref (layout);
      cairo_destroy (cr);
      return;
    }

  double smax = 1, gate = r->params.motion_gate, mmax = 4 * MAX (gate, 0.1);
  for (int i = 0; i < r->n_frames; i++)
    smax = MAX (smax, r->frames[i].sharpness);
  smax *= 1.05;
#define X(i) (PAD_L + pw * ((r->n_frames > 1) ? (double) (i) / (r->n_frames - 1) : 0.5))
#define YS(v) (PAD_T + ph * (1 - (v) / smax))
#define YM(v) (PAD_T + ph * (1 - MIN ((v), mmax) / mmax))

  /* Candidates: a green band along the bottom. */
  cairo_set_source_rgba (cr, 0.2, 0.7, 0.3, 0.25);
  for (int i = 0; i < r->n_frames; i++)
    if (r->frames[i].candidate)
      cairo_rectangle (cr, X (i) - pw / MAX (r->n_frames - 1, 1) / 2, PAD_T, pw / MAX (r->n_frames - 1, 1), ph);
  cairo_fill (cr);

  /* Golden frames. */
  cairo_set_source_rgba (cr, 0.95, 0.7, 0.1, 0.95);
  cairo_set_line_width (cr, 2);
  for (int g = 0; g < r->n_golden; g++)
    {
      double x = X (r->golden[g].frame_index);
      cairo_move_to (cr, x, PAD_T);
      cairo_line_to (cr, x, PAD_T + ph);
      cairo_stroke (cr);
      cairo_move_to (cr, x - 5, PAD_T - 8);
      cairo_line_to (cr, x + 5, PAD_T - 8);
      cairo_line_to (cr, x, PAD_T - 1);
      cairo_close_path (cr);
      cairo_fill (cr);
    }

  /* Sharpness (blue) and motion (red). */
  cairo_set_line_width (cr, 1.5);
  cairo_set_source_rgb (cr, 0.2, 0.45, 0.9);
  for (int i = 0; i < r->n_frames; i++)
    (i ? cairo_line_to : cairo_move_to) (cr, X (i), YS (r->frames[i].sharpness));
  cairo_stroke (cr);
  cairo_set_source_rgb (cr, 0.85, 0.25, 0.2);
  gboolean pen = FALSE;
  for (int i = 0; i < r->n_frames; i++)
    {
      if (!r->frames[i].measured)
        {
          pen = FALSE;
          continue;
        }
      (pen ? cairo_line_to : cairo_move_to) (cr, X (i), YM (r->frames[i].motion_gate));
      pen = TRUE;
    }
  cairo_stroke (cr);

  /* The gate. */
  double dash[] = { 6, 4 };
  cairo_set_dash (cr, dash, 2, 0);
  cairo_set_source_rgb (cr, 0.85, 0.25, 0.2);
  cairo_move_to (cr, PAD_L, YM (gate));
  cairo_line_to (cr, PAD_L + pw, YM (gate));
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);

  /* Cursor. */
  if (self->cursor >= 0 && self->cursor < r->n_frames)
    {
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.9);
      cairo_set_line_width (cr, 1);
      cairo_move_to (cr, floor (X (self->cursor)) + 0.5, PAD_T);
      cairo_line_to (cr, floor (X (self->cursor)) + 0.5, PAD_T + ph);
      cairo_stroke (cr);
    }

  /* Axes and legend. */
  cairo_set_source_rgb (cr, 0.2, 0.45, 0.9);
  g_snprintf (buf, sizeof buf, "%.0f", smax);
  text (cr, layout, buf, PAD_L - 4, PAD_T, 1);
  text (cr, layout, "0", PAD_L - 4, PAD_T + ph, 1);
  cairo_set_source_rgb (cr, 0.85, 0.25, 0.2);
  g_snprintf (buf, sizeof buf, _("%.1f px"), mmax);
  text (cr, layout, buf, PAD_L + pw + 4, PAD_T, 0);
  g_snprintf (buf, sizeof buf, _("gate %.1f px"), gate);
  text (cr, layout, buf, PAD_L + pw + 4, YM (gate), 0);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.8);
  g_autofree char *legend = g_strdup_printf (
    _("blue: sharpness   red: motion (px)   dashed: gate   green: candidates   gold: golden frames"));
  text (cr, layout, legend, PAD_L, PAD_T + ph + PAD_B / 2 + 2, 0);
  g_snprintf (buf, sizeof buf, _("frame %d"), r->n_frames - 1);
  text (cr, layout, buf, PAD_L + pw, PAD_T + ph + PAD_B / 2 + 2, 1);
#undef X
#undef YS
#undef YM
  g_object_unref (layout);
  cairo_destroy (cr);
}

static void
gv_timeline_measure (GtkWidget *widget, GtkOrientation o, int for_size, int *min, int *nat,
                     int *min_baseline, int *nat_baseline)
{
  *min = o == GTK_ORIENTATION_HORIZONTAL ? 200 : 120;
  *nat = o == GTK_ORIENTATION_HORIZONTAL ? 800 : 170;
}

static void
activate_at (GvTimeline *self, double x)
{
  int f = frame_at (self, x);

  if (f >= 0)
    g_signal_emit (self, signals[FRAME_ACTIVATED], 0, f);
}

static void
pressed_cb (GtkGestureClick *g, int n, double x, double y, GvTimeline *self)
{
  activate_at (self, x);
}

static void
drag_cb (GtkGestureDrag *g, double dx, double dy, GvTimeline *self)
{
  double x0, y0;

  gtk_gesture_drag_get_start_point (g, &x0, &y0);
  activate_at (self, x0 + dx);
}

static void
gv_timeline_dispose (GObject *object)
{
  g_clear_object (&GV_TIMELINE (object)->analysis);
  G_OBJECT_CLASS (gv_timeline_parent_class)->dispose (object);
}

static void
gv_timeline_class_init (GvTimelineClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = gv_timeline_dispose;
  wc->snapshot = gv_timeline_snapshot;
  wc->measure = gv_timeline_measure;
  signals[FRAME_ACTIVATED] = g_signal_new ("frame-activated", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                           1, G_TYPE_INT);
  gtk_widget_class_set_css_name (wc, "gv-timeline");
}

static void
gv_timeline_init (GvTimeline *self)
{
  GtkGesture *click = gtk_gesture_click_new ();
  GtkGesture *drag = gtk_gesture_drag_new ();

  self->cursor = -1;
  g_signal_connect (click, "pressed", G_CALLBACK (pressed_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
}

GtkWidget *
gv_timeline_new (void)
{
  return g_object_new (GV_TYPE_TIMELINE, NULL);
}

void
gv_timeline_set_analysis (GvTimeline *self, GvAnalysis *analysis)
{
  g_set_object (&self->analysis, analysis);
  self->cursor = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
gv_timeline_set_cursor (GvTimeline *self, int frame)
{
  self->cursor = frame;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
