/* gv-window.c: see gv-window.h. The analysis runs through gv_analysis_run_async (a GTask in a
 * worker thread with a GCancellable); the window only shows its progress and its result. */
#include <glib/gi18n.h>
#include <errno.h>

#include "gv-cli.h"
#include "gv-error.h"
#include "gv-url-dialog.h"
#include "gv-window.h"

struct _GvWindow {
  GtkApplicationWindow parent_instance;
  GtkButton *open_button;
  GtkMenuButton *recent_button;
  GtkDropDown *backend_dropdown;
  GtkRevealer *message_revealer;
  GtkBox *message_box, *progress_box;
  GtkLabel *message_label, *progress_label;
  GtkProgressBar *progress_bar;
  GtkStack *stack;
  GtkGrid *params_grid;
  GvOverviewView *overview_view;
  GvFramesView *frames_view;
  GvCoverView *cover_view;
  GvCompareView *compare_view;
  GvHistoryView *history_view;

  GSettings *settings;
  GListStore *analyses;
  GvAnalysis *current;
  GFile *file;
  GCancellable *cancellable;
  gboolean busy;
  gboolean disposed; /* callbacks of tasks that outlive the window's widgets do nothing */
  GvParams params;
  GPtrArray *param_spins; /* GtkSpinButton* or GtkCheckButton*, in table order */
  int run_counter;
  double run_started;
};

G_DEFINE_FINAL_TYPE (GvWindow, gv_window, GTK_TYPE_APPLICATION_WINDOW)

enum { ANALYSIS_FINISHED, BUSY_CHANGED, RUN_STORED, EXPORT_FINISHED, DOWNLOAD_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

extern GResource *gv_get_resource (void);

void
gv_ui_init (void)
{
  static gsize once;

  if (g_once_init_enter (&once))
    {
      g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
      GdkDisplay *display = gdk_display_get_default ();
      /* Referencing the resource keeps it linked from the static library (it registers itself). */
      (void) gv_get_resource ();
      gtk_css_provider_load_from_resource (css, "/io/gradevault/Inspector/style.css");
      if (display)
        {
          gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (css),
                                                      GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
          gtk_icon_theme_add_resource_path (gtk_icon_theme_get_for_display (display),
                                            "/io/gradevault/Inspector/icons");
        }
      g_once_init_leave (&once, 1);
    }
}

GSettings *
gv_ui_settings_new (void)
{
  GSettingsSchemaSource *def = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = def ? g_settings_schema_source_lookup (def, GV_APP_ID, TRUE) : NULL;

  if (!schema)
    {
      /* Uninstalled: the schema compiled in the build tree. */
      g_autoptr (GSettingsSchemaSource) src =
        g_settings_schema_source_new_from_directory (GV_SCHEMA_BUILD_DIR, def, FALSE, NULL);
      if (src)
        schema = g_settings_schema_source_lookup (src, GV_APP_ID, FALSE);
    }
  return schema ? g_settings_new_full (schema, NULL, NULL) : NULL;
}

static void
show_message (GvWindow *self, const char *text, gboolean error)
{
  gtk_widget_remove_css_class (GTK_WIDGET (self->message_box), "gv-error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->message_box), "gv-note");
  gtk_widget_add_css_class (GTK_WIDGET (self->message_box), error ? "gv-error" : "gv-note");
  gtk_label_set_text (self->message_label, text ? text : "");
  gtk_revealer_set_reveal_child (self->message_revealer, text && *text);
}

const char *
gv_window_get_message (GvWindow *self)
{
  return gtk_revealer_get_reveal_child (self->message_revealer) ? gtk_label_get_text (self->message_label) : "";
}

const char *
gv_window_get_progress_text (GvWindow *self)
{
  return gtk_progress_bar_get_text (self->progress_bar);
}

static void store_done (GObject *source, GAsyncResult *res, gpointer user_data);

static void
update_actions (GvWindow *self)
{
  GActionMap *map = G_ACTION_MAP (self);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (map, "run")),
                               self->file && !self->busy);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (map, "cancel")), self->busy);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (map, "export")),
                               self->current != NULL && !self->busy);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (map, "export-report")),
                               self->current != NULL && !self->busy);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (map, "open")), !self->busy);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (map, "open-url")), !self->busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->backend_dropdown), !self->busy);
}

static void
set_busy (GvWindow *self, gboolean busy)
{
  self->busy = busy;
  gtk_widget_set_visible (GTK_WIDGET (self->progress_box), busy);
  update_actions (self);
  g_signal_emit (self, signals[BUSY_CHANGED], 0);
}

static void
set_current (GvWindow *self, GvAnalysis *a)
{
  g_set_object (&self->current, a);
  gv_overview_view_set_analysis (self->overview_view, a);
  gv_frames_view_set_analysis (self->frames_view, a);
  gv_cover_view_set_analysis (self->cover_view, a);
  update_actions (self);
}


/* ---- parameters: one row per entry of the core's table (gv_params_table) ---- */

static void
param_changed (GtkWidget *w, GvWindow *self)
{
  const GvParamSpec *spec = g_object_get_data (G_OBJECT (w), "spec");
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (GTK_IS_CHECK_BUTTON (w))
    g_strlcpy (buf, gtk_check_button_get_active (GTK_CHECK_BUTTON (w)) ? "1" : "0", sizeof buf);
  else
    g_ascii_dtostr (buf, sizeof buf, gtk_spin_button_get_value (GTK_SPIN_BUTTON (w)));
  if (gv_params_set (&self->params, spec->name, buf) != GV_OK)
    show_message (self, gv_error_message (), TRUE);
  if (self->settings && g_str_equal (spec->name, "analysis-size"))
    g_settings_set_int (self->settings, "analysis-size", self->params.analysis_size);
}

static void
params_to_widgets (GvWindow *self)
{
  int n;
  const GvParamSpec *t = gv_params_table (&n);

  for (int i = 0; i < n && (guint) i < self->param_spins->len; i++)
    {
      GtkWidget *w = g_ptr_array_index (self->param_spins, i);
      double v = gv_params_get (&self->params, &t[i]);
      g_signal_handlers_block_by_func (w, param_changed, self);
      if (GTK_IS_CHECK_BUTTON (w))
        gtk_check_button_set_active (GTK_CHECK_BUTTON (w), v != 0);
      else
        gtk_spin_button_set_value (GTK_SPIN_BUTTON (w), v);
      g_signal_handlers_unblock_by_func (w, param_changed, self);
    }
}

static void
build_params (GvWindow *self)
{
  int n;
  const GvParamSpec *t = gv_params_table (&n);

  self->param_spins = g_ptr_array_new ();
  for (int i = 0; i < n; i++)
    {
      GtkWidget *name = gtk_label_new (t[i].name), *unit = gtk_label_new (t[i].unit), *w;
      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_label_set_xalign (GTK_LABEL (unit), 0);
      gtk_widget_add_css_class (unit, "gv-caption");
      gtk_widget_set_tooltip_text (name, t[i].help);
      if (t[i].type == GV_PARAM_BOOL)
        {
          w = gtk_check_button_new ();
          g_signal_connect (w, "toggled", G_CALLBACK (param_changed), self);
        }
      else
        {
          double step = t[i].type == GV_PARAM_INT ? 1 : 0.05;
          w = gtk_spin_button_new_with_range (t[i].min, t[i].max, step);
          gtk_spin_button_set_digits (GTK_SPIN_BUTTON (w), t[i].type == GV_PARAM_INT ? 0 : 3);
          g_signal_connect (w, "value-changed", G_CALLBACK (param_changed), self);
        }
      gtk_widget_set_tooltip_text (w, t[i].help);
      g_object_set_data (G_OBJECT (w), "spec", (gpointer) &t[i]);
      gtk_grid_attach (self->params_grid, name, 0, i, 1, 1);
      gtk_grid_attach (self->params_grid, w, 1, i, 1, 1);
      gtk_grid_attach (self->params_grid, unit, 2, i, 1, 1);
      g_ptr_array_add (self->param_spins, w);
    }
  params_to_widgets (self);
}

static void
reset_params_action (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  GvWindow *self = user_data;

  gv_params_init_default (&self->params);
  if (self->settings)
    g_settings_reset (self->settings, "analysis-size");
  if (self->settings)
    self->params.analysis_size = g_settings_get_int (self->settings, "analysis-size");
  params_to_widgets (self);
}

GvParams *
gv_window_get_params (GvWindow *self)
{
  return &self->params;
}

void
gv_window_params_changed (GvWindow *self)
{
  params_to_widgets (self);
}

/* ---- recent scans ---- */

static void
rebuild_recent (GvWindow *self)
{
  g_autoptr (GMenu) menu = g_menu_new ();
  g_auto (GStrv) recent = self->settings ? g_settings_get_strv (self->settings, "recent-scans") : NULL;

  for (int i = 0; recent && recent[i]; i++)
    {
      g_autofree char *base = g_path_get_basename (recent[i]);
      g_autoptr (GMenuItem) item = g_menu_item_new (base, NULL);
      g_menu_item_set_action_and_target_value (item, "win.open-recent", g_variant_new_string (recent[i]));
      g_menu_append_item (menu, item);
    }
  if (!recent || !recent[0])
    {
      g_autoptr (GMenuItem) item = g_menu_item_new (_("No recent scans"), "win.none");
      g_menu_append_item (menu, item);
    }
  gtk_menu_button_set_menu_model (self->recent_button, G_MENU_MODEL (menu));
}

static void
remember_recent (GvWindow *self, const char *path)
{
  g_auto (GStrv) old = NULL;
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_auto (GStrv) now = NULL;
  int n = 1;

  if (!self->settings)
    return;
  old = g_settings_get_strv (self->settings, "recent-scans");
  g_strv_builder_add (b, path);
  for (int i = 0; old[i] && n < 8; i++)
    if (g_strcmp0 (old[i], path) != 0)
      {
        g_strv_builder_add (b, old[i]);
        n++;
      }
  now = g_strv_builder_end (b);
  g_settings_set_strv (self->settings, "recent-scans", (const char *const *) now);
  rebuild_recent (self);
}

/* ---- running ---- */

static void
progress_cb (const char *stage, double frac, gpointer user_data)
{
  GvWindow *self = user_data;
  g_autofree char *t = NULL;

  if (!self->busy || self->disposed)
    return;
  if (frac >= 0)
    {
      t = g_strdup_printf (_("%s: %.0f %%"), gv_stage_label (stage), 100.0 * CLAMP (frac, 0, 1));
      gtk_progress_bar_set_fraction (self->progress_bar, CLAMP (frac, 0, 1));
    }
  else
    {
      t = g_strdup_printf ("%s…", gv_stage_label (stage));
      gtk_progress_bar_pulse (self->progress_bar);
    }
  gtk_progress_bar_set_text (self->progress_bar, t);
}

static void
run_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GvWindow *self = GV_WINDOW (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *note = NULL;
  g_autoptr (GPtrArray) out = gv_analysis_run_finish (res, &note, &error);

  if (self->disposed)
    return;
  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);
  if (!out)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_message (self, _("The analysis was cancelled; nothing was kept."), FALSE);
      else
        show_message (self, error->message, TRUE);
      g_signal_emit (self, signals[ANALYSIS_FINISHED], 0, FALSE);
      return;
    }
  for (guint i = 0; i < out->len; i++)
    {
      GvAnalysis *a = g_ptr_array_index (out, i);
      g_autofree char *base = g_path_get_basename (gv_analysis_get_video_path (a));
      g_autofree char *label = g_strdup_printf ("%s #%d · %s", gv_analysis_get_label (a),
                                                ++self->run_counter, base);
      gv_analysis_set_label (a, label);
      g_list_store_append (self->analyses, a);
      if (gv_run_store_available ())
        gv_run_store_save_async (G_OBJECT (self), a, NULL, store_done, g_object_ref (a));
    }
  set_current (self, g_ptr_array_index (out, 0));
  {
    const GvResult *r = gv_analysis_get_result (self->current);
    const GvDecodeStats *st = gv_analysis_get_stats (self->current);
    g_autofree char *t = NULL;
    if (st->partial)
      t = g_strdup_printf (_("Only part of the video could be read (%s); the result covers the "
                             "first %d frames."), st->partial_reason, r->n_frames);
    else if (note)
      t = g_strdup (note);
    else if (out->len == 2)
      t = g_strdup (_("CPU and GPU both ran: see Compare for the differences."));
    if (t)
      show_message (self, t, st->partial);
    else
      show_message (self, NULL, FALSE);
    if (out->len == 2)
      gv_window_show_view (self, "compare");
  }
  g_signal_emit (self, signals[ANALYSIS_FINISHED], 0, TRUE);
}

void
gv_window_run (GvWindow *self)
{
  g_autofree char *path = NULL;
  GvParams p;
  GvRunMode mode = gtk_drop_down_get_selected (self->backend_dropdown);

  if (self->busy || !self->file)
    return;
  path = g_file_get_path (self->file);
  if (!path)
    {
      show_message (self, _("Only local files can be analysed."), TRUE);
      return;
    }
  p = self->params;
  if (gv_params_validate (&p) != GV_OK)
    {
      show_message (self, gv_error_message (), TRUE);
      return;
    }
  self->cancellable = g_cancellable_new ();
  show_message (self, NULL, FALSE);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_progress_bar_set_text (self->progress_bar, gv_stage_label ("opening"));
  {
    g_autofree char *base = g_path_get_basename (path);
    g_autofree char *t = g_strdup_printf (_("Analysing %s"), base);
    gtk_label_set_text (self->progress_label, t);
  }
  set_busy (self, TRUE);
  gv_analysis_run_async (G_OBJECT (self), path, mode, &p, self->cancellable, progress_cb, self,
                         run_done, NULL);
}

void
gv_window_cancel (GvWindow *self)
{
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
}

gboolean
gv_window_is_busy (GvWindow *self)
{
  return self->busy;
}

void
gv_window_set_mode (GvWindow *self, GvRunMode mode)
{
  gtk_drop_down_set_selected (self->backend_dropdown, mode);
}

static gboolean
is_video (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *type = g_content_type_guess (name, NULL, 0, NULL);
  g_autofree char *mime = type ? g_content_type_get_mime_type (type) : NULL;

  return mime && (g_str_has_prefix (mime, "video/") || g_str_equal (mime, "application/mp4"));
}

void
gv_window_open (GvWindow *self, GFile *file, gboolean run)
{
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *base = g_file_get_basename (file);
  g_autofree char *title = NULL;

  if (self->busy)
    {
      show_message (self, _("An analysis is running: cancel it before opening another video."), TRUE);
      return;
    }
  if (!path || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *t = g_strdup_printf (_("%s is not a file that can be opened."),
                                            path ? path : base);
      show_message (self, t, TRUE);
      return;
    }
  g_set_object (&self->file, file);
  title = g_strdup_printf (_("%s — GradeVault Inspector"), base);
  gtk_window_set_title (GTK_WINDOW (self), title);
  remember_recent (self, path);
  update_actions (self);
  {
    g_autofree char *t = g_strdup_printf (_("%s is open: press Run (Ctrl+R) to analyse it."), base);
    show_message (self, t, FALSE);
  }
  if (run)
    gv_window_run (self);
}

/* ---- Open URL: download with core/net in a thread, then open the file ---- */

static void
download_progress (gint64 done, gint64 total, gpointer user_data)
{
  GvWindow *self = user_data;
  g_autofree char *t = NULL;

  if (!self->busy || self->disposed)
    return;
  if (total > 0)
    {
      double frac = CLAMP ((double) done / (double) total, 0, 1);
      t = g_strdup_printf (_("Download: %.1f of %.1f MB (%.0f %%)"), done / 1e6, total / 1e6, 100 * frac);
      gtk_progress_bar_set_fraction (self->progress_bar, frac);
    }
  else
    {
      t = g_strdup_printf (_("Download: %.1f MB"), done / 1e6);
      gtk_progress_bar_pulse (self->progress_bar);
    }
  gtk_progress_bar_set_text (self->progress_bar, t);
}

static void
download_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GvWindow *self = GV_WINDOW (source);
  gboolean run = GPOINTER_TO_INT (user_data);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = gv_url_download_finish (res, &error);

  if (self->disposed)
    return;
  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);
  if (!path)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_message (self, _("The download was cancelled; nothing was kept."), FALSE);
      else
        show_message (self, error->message, TRUE);
      g_signal_emit (self, signals[DOWNLOAD_FINISHED], 0, FALSE);
      return;
    }
  g_signal_emit (self, signals[DOWNLOAD_FINISHED], 0, TRUE);
  {
    g_autoptr (GFile) file = g_file_new_for_path (path);
    gv_window_open (self, file, run);
  }
}

void
gv_window_open_url (GvWindow *self, const char *url, gboolean run)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dest = NULL, *shown = NULL;

  if (self->busy)
    {
      show_message (self, _("An analysis is running: cancel it before opening another video."), TRUE);
      return;
    }
  if (!gv_url_check (url, &error))
    {
      show_message (self, error->message, TRUE);
      return;
    }
  if (!gv_url_download_available ())
    {
      show_message (self, _("This build cannot download: it was made without libcurl (core/net)."), TRUE);
      return;
    }
  dest = gv_url_download_dest (url);
  /* The query may carry a token: never shown. */
  shown = g_strndup (url, strcspn (url, "?#"));
  self->cancellable = g_cancellable_new ();
  show_message (self, NULL, FALSE);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_progress_bar_set_text (self->progress_bar, _("Connecting…"));
  {
    g_autofree char *t = g_strdup_printf (_("Downloading %s"), shown);
    gtk_label_set_text (self->progress_label, t);
  }
  set_busy (self, TRUE);
  gv_url_download_async (G_OBJECT (self), url, dest, self->cancellable, download_progress, self,
                         download_done, GINT_TO_POINTER (run));
}

static void
url_dialog_open (GvUrlDialog *dialog, const char *url, GvWindow *self)
{
  gv_window_open_url (self, url, TRUE);
}

static void
open_url_action (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  GvWindow *self = user_data;
  GvUrlDialog *dlg = gv_url_dialog_new (GTK_WINDOW (self));

  g_signal_connect_object (dlg, "open", G_CALLBACK (url_dialog_open), self, 0);
  gtk_window_present (GTK_WINDOW (dlg));
}

/* ---- file chooser, drag and drop ---- */

static void
chooser_response (GtkNativeDialog *dialog, int response, GvWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      if (GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "export")) == 3)
        {
          g_autofree char *path = g_file_get_path (file);
          g_autoptr (GError) error = NULL;
          if (!gv_window_save_view (self, path, &error))
            show_message (self, error->message, TRUE);
          else
            {
              g_autofree char *t = g_strdup_printf (_("Saved the view as %s."), path);
              show_message (self, t, FALSE);
            }
        }
      else if (GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "export")) == 2)
        {
          g_autofree char *dir = g_file_get_path (file);
          gv_window_export_report (self, dir);
        }
      else if (g_object_get_data (G_OBJECT (dialog), "export"))
        {
          g_autofree char *dir = g_file_get_path (file);
          g_autoptr (GError) error = NULL;
          if (!gv_window_export_to (self, dir, &error))
            show_message (self, error->message, TRUE);
          else
            {
              g_autofree char *t = g_strdup_printf (_("Exported result.json and the images to %s."), dir);
              show_message (self, t, FALSE);
            }
        }
      else
        gv_window_open (self, file, TRUE);
    }
  g_object_unref (dialog);
}

static void
open_action (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  GvWindow *self = user_data;
  GtkFileChooserNative *dlg = gtk_file_chooser_native_new (_("Open a Scan Video"), GTK_WINDOW (self),
                                                           GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"),
                                                           _("_Cancel"));
  g_autoptr (GtkFileFilter) videos = gtk_file_filter_new ();
  g_autoptr (GtkFileFilter) all = gtk_file_filter_new ();

  gtk_file_filter_set_name (videos, _("Videos"));
  gtk_file_filter_add_mime_type (videos, "video/*");
  gtk_file_filter_add_suffix (videos, "mp4");
  gtk_file_filter_add_suffix (videos, "mov");
  gtk_file_filter_add_suffix (videos, "mkv");
  gtk_file_filter_add_suffix (videos, "webm");
  gtk_file_filter_set_name (all, _("All files"));
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dlg), videos);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dlg), all);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dlg), TRUE);
  g_signal_connect (dlg, "response", G_CALLBACK (chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dlg));
}

static void
open_recent_action (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  g_autoptr (GFile) file = g_file_new_for_path (g_variant_get_string (p, NULL));
  gv_window_open (GV_WINDOW (user_data), file, TRUE);
}

static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, GvWindow *self)
{
  GSList *files;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  files = g_value_get_boxed (value);
  for (GSList *l = files; l; l = l->next)
    if (g_file_has_uri_scheme (l->data, "http") || g_file_has_uri_scheme (l->data, "https"))
      {
        /* A link dragged from a browser: Open URL. */
        g_autofree char *uri = g_file_get_uri (l->data);
        gv_window_open_url (self, uri, TRUE);
        return TRUE;
      }
    else if (is_video (l->data))
      {
        gv_window_open (self, l->data, TRUE);
        return TRUE;
      }
  show_message (self, _("That is not a video file: drop an MP4, MOV, MKV or WebM scan."), TRUE);
  return FALSE;
}

static void
run_action (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  gv_window_run (user_data);
}

static void
cancel_action (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  GvWindow *self = user_data;
  gv_window_cancel (self);
  gtk_progress_bar_set_text (self->progress_bar, _("Cancelling…"));
}

static void
dismiss_action (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  show_message (user_data, NULL, FALSE);
}

static void
view_action (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  gv_window_show_view (user_data, g_variant_get_string (p, NULL));
}

gboolean
gv_window_export_to (GvWindow *self, const char *dir, GError **error)
{
  if (!self->current)
    {
      g_set_error_literal (error, GV_UI_ERROR, GV_UI_ERROR_ANALYSIS, _("There is no result to export yet."));
      return FALSE;
    }
  return gv_analysis_write_dir (self->current, dir, error);
}

static void
report_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GvWindow *self = GV_WINDOW (source);
  g_autofree char *dir = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = gv_run_store_export_finish (res, &error);

  if (self->disposed)
    return;
  if (!ok)
    {
      g_autofree char *t = g_strdup_printf (_("The report could not be written: %s"), error->message);
      show_message (self, t, TRUE);
    }
  else
    {
      g_autofree char *t = g_strdup_printf (_("Wrote report.pdf, result.json, worker.json, the CSV "
                                              "files and the images to %s."), dir);
      show_message (self, t, FALSE);
    }
  g_signal_emit (self, signals[EXPORT_FINISHED], 0, ok);
}

void
gv_window_export_report (GvWindow *self, const char *dir)
{
  if (!gv_run_store_available ())
    {
      show_message (self, _("Export needs the run store (issue 6), which this build does not have. "
                            "Export Results writes result.json and the images."), FALSE);
      g_signal_emit (self, signals[EXPORT_FINISHED], 0, FALSE);
      return;
    }
  if (!self->current || gv_analysis_get_run_id (self->current) <= 0)
    {
      show_message (self, _("This run is not in the run store yet: wait until it is stored, then export."), TRUE);
      g_signal_emit (self, signals[EXPORT_FINISHED], 0, FALSE);
      return;
    }
  show_message (self, _("Writing the report…"), FALSE);
  gv_run_store_export_async (G_OBJECT (self), gv_analysis_get_run_id (self->current), dir, NULL,
                             report_done, g_strdup (dir));
}

static void
store_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GvWindow *self = GV_WINDOW (source);
  g_autoptr (GvAnalysis) a = user_data;
  g_autoptr (GError) error = NULL;
  gint64 id = gv_run_store_save_finish (res, &error);

  if (id > 0)
    gv_analysis_set_run_id (a, id);
  if (self->disposed)
    return;
  if (id <= 0)
    {
      g_autofree char *t = g_strdup_printf (_("The result is shown but was not stored: %s"), error->message);
      show_message (self, t, TRUE);
      return;
    }
  gv_analysis_set_run_id (a, id);
  if (self->history_view)
    gv_history_view_reload (self->history_view);
  if (self->compare_view)
    gv_compare_view_refresh (self->compare_view);
  g_signal_emit (self, signals[RUN_STORED], 0, (gint64) id);
}

static void
export_action (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  GvWindow *self = user_data;
  GtkFileChooserNative *dlg = gtk_file_chooser_native_new (_("Export Results to a Folder"), GTK_WINDOW (self),
                                                           GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                                           _("_Export"), _("_Cancel"));
  g_object_set_data (G_OBJECT (dlg), "export", GINT_TO_POINTER (1));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dlg), TRUE);
  g_signal_connect (dlg, "response", G_CALLBACK (chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dlg));
}

static void
save_view_action (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  GvWindow *self = user_data;
  GtkFileChooserNative *dlg = gtk_file_chooser_native_new (_("Save the View as PNG"), GTK_WINDOW (self),
                                                           GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"),
                                                           _("_Cancel"));
  g_autofree char *name = g_strdup_printf ("%s.png", gtk_stack_get_visible_child_name (self->stack));

  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dlg), name);
  g_object_set_data (G_OBJECT (dlg), "export", GINT_TO_POINTER (3));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dlg), TRUE);
  g_signal_connect (dlg, "response", G_CALLBACK (chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dlg));
}

static void
export_report_action (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  GvWindow *self = user_data;
  GtkFileChooserNative *dlg;

  if (!gv_run_store_available ())
    {
      gv_window_export_report (self, NULL);
      return;
    }
  dlg = gtk_file_chooser_native_new (_("Export the Report to a Folder"), GTK_WINDOW (self),
                                     GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Export"), _("_Cancel"));
  g_object_set_data (G_OBJECT (dlg), "export", GINT_TO_POINTER (2));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dlg), TRUE);
  g_signal_connect (dlg, "response", G_CALLBACK (chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dlg));
}

void
gv_window_show_view (GvWindow *self, const char *name)
{
  if (gtk_stack_get_child_by_name (self->stack, name))
    gtk_stack_set_visible_child_name (self->stack, name);
}

GtkWidget *
gv_window_get_view (GvWindow *self, const char *name)
{
  return gtk_stack_get_child_by_name (self->stack, name);
}

GListModel *
gv_window_get_analyses (GvWindow *self)
{
  return G_LIST_MODEL (self->analyses);
}

GvAnalysis *
gv_window_get_current (GvWindow *self)
{
  return self->current;
}

gboolean
gv_window_save_screenshot (GvWindow *self, const char *path, GError **error)
{
  GtkWidget *w = GTK_WIDGET (self);
  int width = gtk_widget_get_width (w), height = gtk_widget_get_height (w);
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (w);
  GtkSnapshot *snap = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) tex = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (self));

  gdk_paintable_snapshot (paintable, snap, width, height);
  node = gtk_snapshot_free_to_node (snap);
  if (!node || !renderer)
    {
      g_set_error_literal (error, GV_UI_ERROR, GV_UI_ERROR_ANALYSIS, _("The window is not drawn yet."));
      return FALSE;
    }
  tex = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (tex, path))
    {
      g_set_error (error, GV_UI_ERROR, GV_UI_ERROR_ANALYSIS, _("%s cannot be written."), path);
      return FALSE;
    }
  return TRUE;
}

gboolean
gv_window_save_view (GvWindow *self, const char *path, GError **error)
{
  const char *name = gtk_stack_get_visible_child_name (self->stack);

  if (g_strcmp0 (name, "cover") == 0)
    return gv_cover_view_export_png (self->cover_view, path, error);
  if (g_strcmp0 (name, "frames") == 0)
    return gv_frames_view_export_png (self->frames_view, path, error);
  if (g_strcmp0 (name, "compare") == 0)
    return gv_compare_view_export_png (self->compare_view, path, error);
  return gv_window_save_screenshot (self, path, error);
}

static void
backend_changed (GtkDropDown *dd, GParamSpec *pspec, GvWindow *self)
{
  guint mode = gtk_drop_down_get_selected (dd);

  if (self->settings && mode <= GV_RUN_BOTH)
    g_settings_set_enum (self->settings, "backend", (int) mode);
  if (mode != GV_RUN_CPU)
    {
      g_autofree char *reason = gv_gpu_unavailable_reason ();
      if (reason)
        {
          g_autofree char *t = mode == GV_RUN_GPU
            ? g_strdup_printf (_("GPU: %s. Choose CPU, or Both to run the CPU and say so."), reason)
            : g_strdup_printf (_("Both: validate: %s, so only the CPU will run; compare two CPU runs instead."), reason);
          show_message (self, t, mode == GV_RUN_GPU);
        }
    }
}

static void
reopen_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GvWindow *self = GV_WINDOW (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (GvAnalysis) a = gv_run_store_open_finish (res, &error);

  if (self->disposed)
    return;
  if (!a)
    {
      g_autofree char *t = g_strdup_printf (_("The run cannot be reopened: %s"), error->message);
      show_message (self, t, TRUE);
      g_signal_emit (self, signals[ANALYSIS_FINISHED], 0, FALSE);
      return;
    }
  g_list_store_append (self->analyses, a);
  set_current (self, a);
  {
    g_autofree char *t = g_strdup_printf (_("Reopened %s from the run store."), gv_analysis_get_label (a));
    show_message (self, t, FALSE);
  }
  gv_window_show_view (self, "overview");
  g_signal_emit (self, signals[ANALYSIS_FINISHED], 0, TRUE);
}

static void
open_run (GvHistoryView *view, gint64 id, GvWindow *self)
{
  if (self->busy)
    {
      show_message (self, _("An analysis is running: cancel it before opening another video."), TRUE);
      return;
    }
  gv_run_store_open_async (G_OBJECT (self), id, NULL, reopen_done, NULL);
}

static void
page_changed (GtkStack *stack, GParamSpec *pspec, GvWindow *self)
{
  const char *name = gtk_stack_get_visible_child_name (stack);

  /* The arrow keys step frames as soon as Frames shows, wherever the focus was. */
  if (g_strcmp0 (name, "frames") == 0)
    gv_frames_view_focus (self->frames_view);
  else if (g_strcmp0 (name, "history") == 0)
    gv_history_view_reload (self->history_view);
}

static void
units_changed (GSettings *s, const char *key, GvWindow *self)
{
  gv_cover_view_set_units_inch (self->cover_view, g_settings_get_enum (s, "units") == 1);
}

static void
gv_window_dispose (GObject *object)
{
  GvWindow *self = GV_WINDOW (object);

  self->disposed = TRUE;
  if (self->stack)
    g_signal_handlers_disconnect_by_func (self->stack, page_changed, self);
  /* Stop the worker; its callback still runs (the task holds the window) and finds it closed. */
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_clear_object (&self->analyses);
  g_clear_object (&self->current);
  g_clear_object (&self->file);
  g_clear_pointer (&self->param_spins, g_ptr_array_unref);
  /* GtkWindow destroys its child and titlebar itself. */
  G_OBJECT_CLASS (gv_window_parent_class)->dispose (object);
}

static void
gv_window_class_init (GvWindowClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = gv_window_dispose;
  g_type_ensure (GV_TYPE_OVERVIEW_VIEW);
  g_type_ensure (GV_TYPE_FRAMES_VIEW);
  g_type_ensure (GV_TYPE_COVER_VIEW);
  g_type_ensure (GV_TYPE_COMPARE_VIEW);
  g_type_ensure (GV_TYPE_HISTORY_VIEW);
  g_type_ensure (GV_TYPE_URL_DIALOG);
  gtk_widget_class_set_template_from_resource (wc, "/io/gradevault/Inspector/ui/gv-window.ui");
  gtk_widget_class_bind_template_child (wc, GvWindow, open_button);
  gtk_widget_class_bind_template_child (wc, GvWindow, recent_button);
  gtk_widget_class_bind_template_child (wc, GvWindow, backend_dropdown);
  gtk_widget_class_bind_template_child (wc, GvWindow, message_revealer);
  gtk_widget_class_bind_template_child (wc, GvWindow, message_box);
  gtk_widget_class_bind_template_child (wc, GvWindow, message_label);
  gtk_widget_class_bind_template_child (wc, GvWindow, progress_box);
  gtk_widget_class_bind_template_child (wc, GvWindow, progress_label);
  gtk_widget_class_bind_template_child (wc, GvWindow, progress_bar);
  gtk_widget_class_bind_template_child (wc, GvWindow, stack);
  gtk_widget_class_bind_template_child (wc, GvWindow, params_grid);
  gtk_widget_class_bind_template_child (wc, GvWindow, overview_view);
  gtk_widget_class_bind_template_child (wc, GvWindow, frames_view);
  gtk_widget_class_bind_template_child (wc, GvWindow, cover_view);
  gtk_widget_class_bind_template_child (wc, GvWindow, compare_view);
  gtk_widget_class_bind_template_child (wc, GvWindow, history_view);
  signals[ANALYSIS_FINISHED] = g_signal_new ("analysis-finished", G_TYPE_FROM_CLASS (klass),
                                             G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                             G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  signals[RUN_STORED] = g_signal_new ("run-stored", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                      0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  signals[EXPORT_FINISHED] = g_signal_new ("export-finished", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                           G_TYPE_BOOLEAN);
  signals[DOWNLOAD_FINISHED] = g_signal_new ("download-finished", G_TYPE_FROM_CLASS (klass),
                                             G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                             1, G_TYPE_BOOLEAN);
  signals[BUSY_CHANGED] = g_signal_new ("busy-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static const GActionEntry win_entries[] = {
  { "open", open_action, NULL, NULL, NULL, { 0 } },
  { "open-recent", open_recent_action, "s", NULL, NULL, { 0 } },
  { "open-url", open_url_action, NULL, NULL, NULL, { 0 } },
  { "run", run_action, NULL, NULL, NULL, { 0 } },
  { "cancel", cancel_action, NULL, NULL, NULL, { 0 } },
  { "export", export_action, NULL, NULL, NULL, { 0 } },
  { "export-report", export_report_action, NULL, NULL, NULL, { 0 } },
  { "dismiss", dismiss_action, NULL, NULL, NULL, { 0 } },
  { "view", view_action, "s", NULL, NULL, { 0 } },
  { "reset-params", reset_params_action, NULL, NULL, NULL, { 0 } },
  { "save-view", save_view_action, NULL, NULL, NULL, { 0 } },
};

static void
gv_window_init (GvWindow *self)
{
  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

  gv_ui_init ();
  gtk_widget_init_template (GTK_WIDGET (self));
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_entries, G_N_ELEMENTS (win_entries), self);
  self->analyses = g_list_store_new (GV_TYPE_ANALYSIS);
  self->settings = gv_ui_settings_new ();
  gv_params_init_default (&self->params);
  if (self->settings)
    self->params.analysis_size = g_settings_get_int (self->settings, "analysis-size");
  build_params (self);
  if (self->settings)
    {
      int mode = g_settings_get_enum (self->settings, "backend");
      gtk_drop_down_set_selected (self->backend_dropdown, (guint) mode);
      g_signal_connect_object (self->settings, "changed::units", G_CALLBACK (units_changed), self, 0);
      units_changed (self->settings, "units", self);
    }
  g_signal_connect (self->backend_dropdown, "notify::selected", G_CALLBACK (backend_changed), self);
  g_signal_connect (self->stack, "notify::visible-child-name", G_CALLBACK (page_changed), self);
  g_signal_connect (self->history_view, "open-run", G_CALLBACK (open_run), self);
  g_signal_connect (drop, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
  gv_compare_view_set_model (self->compare_view, G_LIST_MODEL (self->analyses));
  rebuild_recent (self);
  set_current (self, NULL);
  update_actions (self);
  /* Else the first selectable label of Overview takes the focus and shows a caret. */
  gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->open_button));
}

GvWindow *
gv_window_new (GtkApplication *app)
{
  return g_object_new (GV_TYPE_WINDOW, "application", app, NULL);
}
