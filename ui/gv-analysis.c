/* gv-analysis.c: the analysis model and the GTask bridge to the core (see gv-analysis.h).
 * Progress from the worker is stored under a mutex and shown by one low-priority idle, so a fast
 * pipeline cannot flood the main loop; cancellation is polled by the core every frame. */
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "gv-analysis.h"
#include "gv-cli.h"
#include "gv-config.h"
#include "gv-error.h"
#include "gv-flow.h"

G_DEFINE_QUARK (gv-ui-error-quark, gv_ui_error)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvFrameSource, gv_frame_source_free)

struct _GvAnalysis {
  GObject parent_instance;
  GvResult *result;
  GvMediaInfo info;
  GvDecodeStats stats;
  char *why, *label;
  gint64 run_id;
  GPtrArray *golden_tex, *warped_tex; /* GdkTexture* or NULL, per golden frame */
  GdkTexture *mask_tex, *heat_tex, *print_tex;
  GBytes *heat_png; /* stored runs: the heatmap as the store keeps it (the score map is not) */
};

G_DEFINE_FINAL_TYPE (GvAnalysis, gv_analysis, G_TYPE_OBJECT)

static void
gv_analysis_finalize (GObject *object)
{
  GvAnalysis *self = GV_ANALYSIS (object);

  gv_result_free (self->result);
  g_free (self->info.path);
  g_free (self->why);
  g_free (self->label);
  g_clear_pointer (&self->golden_tex, g_ptr_array_unref);
  g_clear_pointer (&self->warped_tex, g_ptr_array_unref);
  g_clear_object (&self->mask_tex);
  g_clear_object (&self->heat_tex);
  g_clear_object (&self->print_tex);
  g_clear_pointer (&self->heat_png, g_bytes_unref);
  G_OBJECT_CLASS (gv_analysis_parent_class)->finalize (object);
}

static void
gv_analysis_class_init (GvAnalysisClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gv_analysis_finalize;
}

static void
gv_analysis_init (GvAnalysis *self)
{
}

static void
clear_texture (gpointer p)
{
  if (p)
    g_object_unref (p);
}

GvAnalysis *
gv_analysis_new (GvResult *r, const GvMediaInfo *info, const GvDecodeStats *st, const char *why,
                 const char *label)
{
  GvAnalysis *self = g_object_new (GV_TYPE_ANALYSIS, NULL);

  self->result = r;
  if (info)
    {
      self->info = *info;
      self->info.path = g_strdup (info->path);
    }
  if (st)
    self->stats = *st;
  self->why = g_strdup (why ? why : "");
  self->label = g_strdup (label ? label : "");
  self->golden_tex = g_ptr_array_new_full (r->n_golden, clear_texture);
  self->warped_tex = g_ptr_array_new_full (r->n_golden, clear_texture);
  g_ptr_array_set_size (self->golden_tex, r->n_golden);
  g_ptr_array_set_size (self->warped_tex, r->n_golden);
  return self;
}

const GvResult *gv_analysis_get_result (GvAnalysis *self) { return self->result; }
const GvMediaInfo *gv_analysis_get_info (GvAnalysis *self) { return &self->info; }
const GvDecodeStats *gv_analysis_get_stats (GvAnalysis *self) { return &self->stats; }
const char *gv_analysis_get_video_path (GvAnalysis *self) { return self->info.path; }
const char *gv_analysis_get_label (GvAnalysis *self) { return self->label; }
const char *gv_analysis_get_why (GvAnalysis *self) { return self->why; }

gint64
gv_analysis_get_run_id (GvAnalysis *self)
{
  return self->run_id;
}

void
gv_analysis_set_run_id (GvAnalysis *self, gint64 id)
{
  self->run_id = id;
}

void
gv_analysis_set_heatmap_png (GvAnalysis *self, GBytes *png)
{
  g_clear_pointer (&self->heat_png, g_bytes_unref);
  self->heat_png = png ? g_bytes_ref (png) : NULL;
}

void
gv_analysis_set_label (GvAnalysis *self, const char *label)
{
  g_free (self->label);
  self->label = g_strdup (label);
}

JsonNode *
gv_analysis_to_json (GvAnalysis *self)
{
  return gv_result_to_json (self->result, self->info.path ? &self->info : NULL, &self->stats,
                            self->why, NULL, NULL);
}

GdkTexture *
gv_texture_new_from_image (const GvImage *img)
{
  g_autoptr (GBytes) bytes = NULL;
  gsize stride = (gsize) img->width * 3;
  guint8 *buf;

  if (!img || img->depth != GV_U8 || (img->channels != 1 && img->channels != 3))
    return NULL;
  buf = g_malloc (stride * img->height);
  for (int y = 0; y < img->height; y++)
    {
      const guint8 *s = gv_image_row_u8 (img, y);
      guint8 *d = buf + stride * y;
      if (img->channels == 3)
        memcpy (d, s, stride);
      else
        for (int x = 0; x < img->width; x++)
          d[3 * x] = d[3 * x + 1] = d[3 * x + 2] = s[x];
    }
  bytes = g_bytes_new_take (buf, stride * img->height);
  return gdk_memory_texture_new (img->width, img->height, GDK_MEMORY_R8G8B8, bytes, stride);
}

static GdkTexture *
cached (GPtrArray *arr, int i, const GvImage *img)
{
  if (i < 0 || (guint) i >= arr->len || !img)
    return NULL;
  if (!g_ptr_array_index (arr, i))
    g_ptr_array_index (arr, i) = gv_texture_new_from_image (img);
  return g_ptr_array_index (arr, i);
}

GdkTexture *
gv_analysis_golden_texture (GvAnalysis *self, int i)
{
  return cached (self->golden_tex, i, i >= 0 && i < self->result->n_golden
                                        ? self->result->golden[i].rgb : NULL);
}

GdkTexture *
gv_analysis_warped_texture (GvAnalysis *self, int i)
{
  return cached (self->warped_tex, i, i >= 0 && i < self->result->n_golden
                                        ? self->result->golden[i].warped : NULL);
}

GdkTexture *
gv_analysis_mask_texture (GvAnalysis *self)
{
  const GvDefectReport *d = self->result->defects;

  if (!self->mask_tex && d && d->mask)
    self->mask_tex = gv_texture_new_from_image (d->mask);
  return self->mask_tex;
}

GdkTexture *
gv_analysis_print_texture (GvAnalysis *self)
{
  const GvDefectReport *d = self->result->defects;

  if (!self->print_tex && d && d->print)
    self->print_tex = gv_texture_new_from_image (d->print);
  return self->print_tex;
}

GdkTexture *
gv_analysis_heatmap_texture (GvAnalysis *self)
{
  const GvDefectReport *d = self->result->defects;

  if (!self->heat_tex && self->heat_png)
    self->heat_tex = gdk_texture_new_from_bytes (self->heat_png, NULL);
  if (!self->heat_tex && d && d->score)
    {
      GvImage *rgb = gv_image_new (d->score->width, d->score->height, 3, GV_U8);
      if (!rgb)
        return NULL;
      for (int y = 0; y < rgb->height; y++)
        {
          const float *s = gv_image_row_f32 (d->score, y);
          guint8 *o = gv_image_row_u8 (rgb, y);
          for (int x = 0; x < rgb->width; x++)
            gv_heat_colour (s[x], o + 3 * x);
        }
      self->heat_tex = gv_texture_new_from_image (rgb);
      gv_image_free (rgb);
    }
  return self->heat_tex;
}

const char *
gv_stage_label (const char *stage)
{
  if (!stage)
    return "";
  if (!strcmp (stage, "frame_analysis"))
    return _("Frame analysis");
  if (!strcmp (stage, "golden_frames"))
    return _("Golden frame extraction");
  if (!strcmp (stage, "cover_geometry"))
    return _("Cover geometry");
  if (!strcmp (stage, "defect_analysis"))
    return _("Defect analysis");
  if (!strcmp (stage, "grading"))
    return _("Regions and grade");
  if (!strcmp (stage, "opening"))
    return _("Opening the video");
  return stage;
}

char *
gv_gpu_unavailable_reason (void)
{
  char why[256] = "";

  if (gv_backend_cuda_available (why, sizeof why))
    return NULL;
#if GV_HAVE_CUDA
  return g_strdup (_("no CUDA device on this machine"));
#else
  return g_strdup (_("this build has no CUDA backend"));
#endif
}

/* ---- the analysis task ---- */

typedef struct {
  gatomicrefcount ref;
  GMutex lock;
  char stage[32];
  double frac;
  gboolean idle_pending;
  GvAnalysisProgressFunc func;
  gpointer func_data;
  GWeakRef source; /* func_data's owner: progress stops when it is gone */
  GCancellable *cancellable;
} ProgressShare;

static ProgressShare *
progress_share_ref (ProgressShare *ps)
{
  g_atomic_ref_count_inc (&ps->ref);
  return ps;
}

static void
progress_share_unref (gpointer p)
{
  ProgressShare *ps = p;

  if (!g_atomic_ref_count_dec (&ps->ref))
    return;
  g_mutex_clear (&ps->lock);
  g_weak_ref_clear (&ps->source);
  g_clear_object (&ps->cancellable);
  g_free (ps);
}

static gboolean
progress_idle (gpointer p)
{
  ProgressShare *ps = p;
  char stage[32];
  double frac;

  g_mutex_lock (&ps->lock);
  ps->idle_pending = FALSE;
  memcpy (stage, ps->stage, sizeof stage);
  frac = ps->frac;
  g_mutex_unlock (&ps->lock);
  {
    g_autoptr (GObject) source = g_weak_ref_get (&ps->source);
    if (ps->func && source && !g_cancellable_is_cancelled (ps->cancellable))
      ps->func (stage, frac, ps->func_data);
  }
  return G_SOURCE_REMOVE;
}

static void
progress_post (ProgressShare *ps, const char *stage, double frac)
{
  gboolean schedule;

  g_mutex_lock (&ps->lock);
  g_strlcpy (ps->stage, stage, sizeof ps->stage);
  ps->frac = frac;
  schedule = !ps->idle_pending;
  ps->idle_pending = TRUE;
  g_mutex_unlock (&ps->lock);
  if (schedule)
    g_idle_add_full (G_PRIORITY_LOW, progress_idle, progress_share_ref (ps),
                     progress_share_unref);
}

typedef struct {
  char *path;
  GvRunMode mode;
  GvParams params;
  ProgressShare *ps;
  GPtrArray *out; /* GvAnalysis* */
  char *note;
} RunData;

static void
run_data_free (gpointer p)
{
  RunData *d = p;

  g_free (d->path);
  g_clear_pointer (&d->ps, progress_share_unref);
  g_clear_pointer (&d->out, g_ptr_array_unref);
  g_free (d->note);
  g_free (d);
}

static void
core_progress (void *ud, const char *stage, double frac)
{
  progress_post (ud, stage, frac);
}

static int
core_cancelled (void *ud)
{
  ProgressShare *ps = ud;
  return g_cancellable_is_cancelled (ps->cancellable);
}

/* One pass of the pipeline on one backend; NULL with error set. */
static GvAnalysis *
run_one (RunData *d, GvBackendKind kind, const char *label, GError **error)
{
  g_autoptr (GvFrameSource) src = NULL;
  GvBackend *be = NULL;
  GvResult *r = NULL;
  GvSourceFeed sf;
  GvSourceOptions so = { 0 }; /* every field 0: CPU decoding, defaults */
  GvProgress prog = { d->ps, core_progress, core_cancelled };
  char why[512] = "";
  int rc;

  progress_post (d->ps, "opening", 0);
  if (gv_frame_source_open (d->path, &so, &src) != GV_OK)
    {
      g_set_error (error, GV_UI_ERROR, GV_UI_ERROR_VIDEO, _("This video cannot be read: %s"),
                   gv_error_message ());
      return NULL;
    }
  if ((rc = gv_backend_new (kind, &d->params, &be, why, sizeof why)) != GV_OK)
    {
      g_set_error (error, GV_UI_ERROR, rc == GV_ENODEV ? GV_UI_ERROR_NO_DEVICE : GV_UI_ERROR_ANALYSIS,
                   _("The %s backend cannot start: %s"), label, gv_error_message ());
      return NULL;
    }
  gv_source_feed_init (&sf, src);
  rc = gv_pipeline_run (be, &d->params, &sf.feed, &prog, &r);
  gv_backend_free (be);
  if (rc == GV_ECANCELLED || g_cancellable_is_cancelled (d->ps->cancellable))
    {
      gv_result_free (r);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The analysis was cancelled"));
      return NULL;
    }
  if (rc != GV_OK)
    {
      g_set_error (error, GV_UI_ERROR,
                   rc == GV_EFORMAT || rc == GV_EIO ? GV_UI_ERROR_VIDEO : GV_UI_ERROR_ANALYSIS,
                   _("The analysis failed: %s"), gv_error_message ());
      return NULL;
    }
  return gv_analysis_new (r, gv_frame_source_info (src), gv_frame_source_stats (src), why, label);
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RunData *d = task_data;
  GError *error = NULL;
  GvAnalysis *a;

  d->out = g_ptr_array_new_with_free_func (g_object_unref);
  if (d->mode == GV_RUN_GPU)
    {
      g_autofree char *reason = gv_gpu_unavailable_reason ();
      if (reason)
        {
          g_task_return_new_error (task, GV_UI_ERROR, GV_UI_ERROR_NO_DEVICE,
                                   _("The GPU backend is not available: %s."), reason);
          return;
        }
    }
  a = run_one (d, d->mode == GV_RUN_GPU ? GV_BACKEND_CUDA : GV_BACKEND_CPU,
               d->mode == GV_RUN_GPU ? "GPU" : "CPU", &error);
  if (!a)
    {
      g_task_return_error (task, error);
      return;
    }
  g_ptr_array_add (d->out, a);
  if (d->mode == GV_RUN_BOTH)
    {
      g_autofree char *reason = gv_gpu_unavailable_reason ();
      if (reason)
        d->note = g_strdup_printf (_("Only the CPU ran: %s. Compare two CPU runs instead."), reason);
      else if (!(a = run_one (d, GV_BACKEND_CUDA, "GPU", &error)))
        {
          g_task_return_error (task, error);
          return;
        }
      else
        g_ptr_array_add (d->out, a);
    }
  g_task_return_boolean (task, TRUE);
}

void
gv_analysis_run_async (GObject *source, const char *path, GvRunMode mode, const GvParams *params,
                       GCancellable *cancellable, GvAnalysisProgressFunc progress,
                       gpointer progress_data, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (source, cancellable, callback, user_data);
  RunData *d = g_new0 (RunData, 1);

  d->path = g_strdup (path);
  d->mode = mode;
  d->params = *params;
  d->ps = g_new0 (ProgressShare, 1);
  g_atomic_ref_count_init (&d->ps->ref);
  g_mutex_init (&d->ps->lock);
  d->ps->func = progress;
  d->ps->func_data = progress_data;
  g_weak_ref_init (&d->ps->source, source);
  d->ps->cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  g_task_set_source_tag (task, gv_analysis_run_async);
  g_task_set_task_data (task, d, run_data_free);
  g_task_run_in_thread (task, run_thread);
}

GPtrArray *
gv_analysis_run_finish (GAsyncResult *result, char **note, GError **error)
{
  GTask *task = G_TASK (result);
  RunData *d = g_task_get_task_data (task);

  g_return_val_if_fail (g_task_get_source_tag (task) == gv_analysis_run_async, NULL);
  if (!g_task_propagate_boolean (task, error))
    return NULL;
  if (note)
    *note = g_steal_pointer (&d->note);
  return g_steal_pointer (&d->out);
}

/* ---- frames on demand ---- */

struct _GvFrameCursor {
  gatomicrefcount ref;
  GMutex lock;
  char *path;
  GvParams params;
  GvFrameSource *src;
  int pos;           /* index of the last decoded frame, -1 before the first */
  GvImage *prev;     /* copy of the frame before pos (luma) */
  GvImage *cur;      /* copy of frame pos */
  GvKeptFrame *kept; /* frame pos for RGB */
  double pts;
};

GvFrameCursor *
gv_frame_cursor_new (const char *path, const GvParams *params)
{
  GvFrameCursor *c = g_new0 (GvFrameCursor, 1);

  g_atomic_ref_count_init (&c->ref);
  g_mutex_init (&c->lock);
  c->path = g_strdup (path);
  c->params = *params;
  c->pos = -1;
  return c;
}

GvFrameCursor *
gv_frame_cursor_ref (GvFrameCursor *c)
{
  g_atomic_ref_count_inc (&c->ref);
  return c;
}

static void
cursor_rewind (GvFrameCursor *c)
{
  g_clear_pointer (&c->src, gv_frame_source_free);
  g_clear_pointer (&c->prev, gv_image_free);
  g_clear_pointer (&c->cur, gv_image_free);
  g_clear_pointer (&c->kept, gv_kept_frame_free);
  c->pos = -1;
}

void
gv_frame_cursor_unref (GvFrameCursor *c)
{
  if (!c || !g_atomic_ref_count_dec (&c->ref))
    return;
  cursor_rewind (c);
  g_mutex_clear (&c->lock);
  g_free (c->path);
  g_free (c);
}

void
gv_frame_data_free (GvFrameData *fd)
{
  if (!fd)
    return;
  g_clear_object (&fd->frame);
  g_clear_object (&fd->flow_color);
  gv_image_free (fd->flow);
  g_free (fd);
}

/* Decodes forward to frame index; 1 ok, 0 past the end, < 0 error. Needs c->lock. */
static int
cursor_seek (GvFrameCursor *c, int index, GCancellable *cancellable)
{
  if (index < c->pos || (index == c->pos && !c->kept))
    cursor_rewind (c);
  if (!c->src)
    {
      GvSourceOptions so = { 0 }; /* every field 0: CPU decoding, defaults */
      if (gv_frame_source_open (c->path, &so, &c->src) != GV_OK)
        return -1;
    }
  while (c->pos < index)
    {
      const GvFrame *fr = NULL;
      int rc;
      if (g_cancellable_is_cancelled (cancellable))
        return GV_ECANCELLED;
      if ((rc = gv_frame_source_next (c->src, &fr)) <= 0)
        return rc;
      gv_image_free (c->prev);
      c->prev = c->cur;
      c->cur = gv_image_copy (&fr->luma);
      c->pos = fr->index;
      c->pts = fr->pts;
      if (c->pos >= index - 1)
        {
          g_clear_pointer (&c->kept, gv_kept_frame_free);
          c->kept = gv_frame_source_keep (c->src);
        }
      if (!c->cur)
        return GV_ENOMEM;
    }
  return 1;
}

static GvImage *
analysis_copy (const GvImage *luma, int size, int nthreads)
{
  int w, h;
  GvImage *a;

  gv_analysis_dims (luma->width, luma->height, size, &w, &h);
  if (!(a = gv_image_new (w, h, 1, GV_U8)))
    return NULL;
  if (gv_resize_area_u8 (luma, a, nthreads) != GV_OK)
    g_clear_pointer (&a, gv_image_free);
  return a;
}

static void
fetch_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GvFrameCursor *c = g_task_get_task_data (task);
  int index = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (task), "index"));
  g_autoptr (GvFrameData) fd = g_new0 (GvFrameData, 1);
  GvImage *a = NULL, *b = NULL, *rgb = NULL, *color = NULL;
  int rc, first = index == 0;

  g_mutex_lock (&c->lock);
  if (g_cancellable_is_cancelled (cancellable))
    {
      g_mutex_unlock (&c->lock);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
      return;
    }
  /* Frame 0 has no previous frame: its flow is the one to frame 1, as in the pipeline. */
  rc = cursor_seek (c, first ? 1 : index, cancellable);
  if (rc <= 0 || !c->kept || !c->prev)
    {
      g_mutex_unlock (&c->lock);
      if (rc == GV_ECANCELLED)
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
      else
        g_task_return_new_error (task, GV_UI_ERROR, GV_UI_ERROR_VIDEO,
                                 _("Frame %d cannot be read: %s"), index,
                                 rc == 0 ? _("the video ends before it") : gv_error_message ());
      return;
    }
  fd->index = index;
  fd->pts = c->pts;
  rgb = first ? NULL : gv_kept_frame_to_rgb (c->kept);
  a = analysis_copy (c->prev, c->params.analysis_size, c->params.threads);
  b = analysis_copy (c->cur, c->params.analysis_size, c->params.threads);
  if (first)
    {
      /* The picture is frame 0: decode it again from the start (cheap, and rare). */
      GvSourceOptions so = { 0 }; /* every field 0: CPU decoding, defaults */
      GvFrameSource *s0 = NULL;
      const GvFrame *fr;
      if (gv_frame_source_open (c->path, &so, &s0) == GV_OK && gv_frame_source_next (s0, &fr) > 0)
        {
          GvKeptFrame *k = gv_frame_source_keep (s0);
          rgb = k ? gv_kept_frame_to_rgb (k) : NULL;
          fd->pts = fr->pts;
          gv_kept_frame_free (k);
        }
      gv_frame_source_free (s0);
    }
  g_mutex_unlock (&c->lock);

  if (a && b)
    {
      fd->flow = gv_image_new (a->width, a->height, 2, GV_F32);
      if (fd->flow && gv_flow_farneback (a, b, &c->params.flow, c->params.threads, fd->flow) != GV_OK)
        g_clear_pointer (&fd->flow, gv_image_free);
    }
  if (fd->flow && rgb)
    {
      double mean = 0, mx = 0;
      fd->flow_scale_x = (double) rgb->width / fd->flow->width;
      fd->flow_scale_y = (double) rgb->height / fd->flow->height;
      gv_flow_magnitude_stats_xy (fd->flow, NULL, fd->flow_scale_x, fd->flow_scale_y,
                                  c->params.threads, &mean, &mx);
      fd->mean_motion = mean;
      /* The wheel's scale is in full-resolution px; flow is in analysis px. */
      color = gv_flow_to_color (fd->flow, GV_FLOW_VIEW_MAX_PX / fd->flow_scale_x);
    }
  if (rgb)
    fd->frame = gv_texture_new_from_image (rgb);
  if (color)
    fd->flow_color = gv_texture_new_from_image (color);
  gv_image_free (a);
  gv_image_free (b);
  gv_image_free (rgb);
  gv_image_free (color);
  if (!fd->frame || !fd->flow)
    {
      g_task_return_new_error (task, GV_UI_ERROR, GV_UI_ERROR_ANALYSIS,
                               _("The flow of frame %d cannot be computed: %s"), index,
                               gv_error_message ());
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&fd), (GDestroyNotify) gv_frame_data_free);
}

void
gv_frame_fetch_async (GObject *source, GvFrameCursor *cursor, int index,
                      GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (source, cancellable, callback, user_data);

  g_task_set_source_tag (task, gv_frame_fetch_async);
  g_task_set_task_data (task, gv_frame_cursor_ref (cursor), (GDestroyNotify) gv_frame_cursor_unref);
  g_object_set_data (G_OBJECT (task), "index", GINT_TO_POINTER (index));
  g_task_run_in_thread (task, fetch_thread);
}

GvFrameData *
gv_frame_fetch_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
