/* main.c: the GradeVault Inspector application (io.gradevault.Inspector). Opening a video (a file,
 * or an http(s) URL that is downloaded first) from the command line analyses it at once; --screenshots DIR writes each view as a PNG after the
 * analysis and quits (docs/screenshots, tools/screenshots.sh). */
#include <glib/gi18n.h>
#include <locale.h>
#include <stdlib.h>

#include "gv-config.h"
#include "gv-window.h"

static char *opt_backend;
static char *opt_screenshots;
static gboolean opt_no_run;
static gboolean opt_dark;
static gboolean opt_twice;

static const GOptionEntry options[] = {
  { "backend", 'b', 0, G_OPTION_ARG_STRING, &opt_backend, N_("Backend for this session: cpu, gpu or both"), "BACKEND" },
  { "no-run", 0, 0, G_OPTION_ARG_NONE, &opt_no_run, N_("Open the video without analysing it"), NULL },
  { "screenshots", 0, 0, G_OPTION_ARG_FILENAME, &opt_screenshots, N_("Write a PNG of each view to DIR after the analysis, then quit"), "DIR" },
  { "twice", 0, 0, G_OPTION_ARG_NONE, &opt_twice, N_("With --screenshots: analyse twice so Compare has two results"), NULL },
  { "dark", 0, 0, G_OPTION_ARG_NONE, &opt_dark, N_("Use the dark style"), NULL },
  { NULL }
};

static gboolean system_dark;

static void
apply_color_scheme (GSettings *settings)
{
  GtkSettings *gs = gtk_settings_get_default ();
  int scheme = settings ? g_settings_get_enum (settings, "color-scheme") : 0;

  if (gs)
    g_object_set (gs, "gtk-application-prefer-dark-theme",
                  opt_dark || (scheme == 0 ? system_dark : scheme == 2), NULL);
}

static void
scheme_changed (GSettings *s, const char *key, gpointer data)
{
  apply_color_scheme (s);
}

static void
about_action (GSimpleAction *a, GVariant *p, gpointer app)
{
  static const char *authors[] = { "GradeVault", NULL };
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (app));

  gtk_show_about_dialog (parent, "program-name", _("GradeVault Inspector"),
                         "logo-icon-name", GV_APP_ID, "version", GV_VERSION,
                         "comments", _("Inspect and validate comic book scan videos"),
                         "license-type", GTK_LICENSE_MIT_X11, "authors", authors, NULL);
}

static void
quit_action (GSimpleAction *a, GVariant *p, gpointer app)
{
  g_application_quit (G_APPLICATION (app));
}

static void
startup (GApplication *app, gpointer data)
{
  static const GActionEntry entries[] = {
    { "about", about_action, NULL, NULL, NULL, { 0 } },
    { "quit", quit_action, NULL, NULL, NULL, { 0 } },
  };
  static const struct { const char *action; const char *accels[3]; } accels[] = {
    { "win.open", { "<Control>o", NULL } },
    { "win.open-url", { "<Control>l", NULL } },
    { "win.run", { "<Control>r", "F5", NULL } },
    { "win.cancel", { "Escape", NULL } },
    { "win.export-report", { "<Control>e", NULL } },
    { "win.export", { "<Control><Shift>e", NULL } },
    { "win.show-help-overlay", { "<Control>question", NULL } },
    { "app.quit", { "<Control>q", NULL } },
    { "win.view::overview", { "<Alt>1", NULL } },
    { "win.view::frames", { "<Alt>2", NULL } },
    { "win.view::cover", { "<Alt>3", NULL } },
    { "win.view::compare", { "<Alt>4", NULL } },
    { "win.view::history", { "<Alt>5", NULL } },
  };
  GSettings *settings;

  /* Numbers in the C locale (gtk_init has just set every category from the environment): the
   * core reads parameters with strtod and writes its English lines (result.json) with printf,
   * and the German catalogue writes '.' decimals to match. */
  setlocale (LC_NUMERIC, "C");
  gv_ui_init ();
  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  for (gsize i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action, accels[i].accels);
  gtk_window_set_default_icon_name (GV_APP_ID);
  g_object_get (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", &system_dark, NULL);
  settings = gv_ui_settings_new ();
  if (settings)
    {
      g_action_map_add_action (G_ACTION_MAP (app), g_settings_create_action (settings, "color-scheme"));
      g_action_map_add_action (G_ACTION_MAP (app), g_settings_create_action (settings, "units"));
      g_signal_connect (settings, "changed::color-scheme", G_CALLBACK (scheme_changed), NULL);
      /* Lives as long as the application. */
      g_object_set_data_full (G_OBJECT (app), "gv-settings", settings, g_object_unref);
    }
  apply_color_scheme (settings);
}

static GvWindow *
get_window (GApplication *app)
{
  GtkWindow *w = gtk_application_get_active_window (GTK_APPLICATION (app));
  GvWindow *win;

  if (w && GV_IS_WINDOW (w))
    return GV_WINDOW (w);
  win = gv_window_new (GTK_APPLICATION (app));
  if (opt_backend)
    gv_window_set_mode (win, g_str_equal (opt_backend, "gpu") || g_str_equal (opt_backend, "cuda") ? GV_RUN_GPU
                             : g_str_equal (opt_backend, "both") ? GV_RUN_BOTH : GV_RUN_CPU);
  return win;
}

/* ---- --screenshots: each view once the analysis is done ---- */

typedef struct {
  GvWindow *win;
  int step;
  int runs;
} Shots;

static const char *shot_views[] = { "overview", "frames", "cover", "compare", "history" };

static gboolean
shot_step (gpointer data)
{
  Shots *s = data;
  g_autoptr (GError) error = NULL;

  if (s->step > 0)
    {
      const char *name = shot_views[s->step - 1];
      g_autofree char *file = g_strdup_printf ("%s.png", name);
      g_autofree char *path = g_build_filename (opt_screenshots, file, NULL);
      /* Frames fetch their flow in a thread: wait until it is shown. */
      GvFramesView *fv = GV_FRAMES_VIEW (gv_window_get_view (s->win, "frames"));
      if (g_str_equal (name, "frames")
          && gv_frames_view_get_loaded_frame (fv) != gv_frames_view_get_frame (fv))
        return G_SOURCE_CONTINUE;
      if (!gv_window_save_screenshot (s->win, path, &error))
        g_printerr ("gradevault-inspector: %s\n", error->message);
      else
        g_print ("%s\n", path);
    }
  if (s->step == G_N_ELEMENTS (shot_views))
    {
      g_application_quit (G_APPLICATION (gtk_window_get_application (GTK_WINDOW (s->win))));
      g_free (s);
      return G_SOURCE_REMOVE;
    }
  gv_window_show_view (s->win, shot_views[s->step]);
  if (g_str_equal (shot_views[s->step], "frames"))
    {
      /* A frame in motion, so the flow has something to show. */
      const GvResult *r = gv_analysis_get_result (gv_window_get_current (s->win));
      int best = 0;
      for (int i = 0; i < r->n_frames; i++)
        if (r->frames[i].measured && r->frames[i].motion_gate <= 3.0
            && r->frames[i].motion_gate > r->frames[best].motion_gate)
          best = i;
      gv_frames_view_show_frame (GV_FRAMES_VIEW (gv_window_get_view (s->win, "frames")), best);
    }
  if (g_str_equal (shot_views[s->step], "history"))
    gv_history_view_compare_first_two (GV_HISTORY_VIEW (gv_window_get_view (s->win, "history")));
  if (g_str_equal (shot_views[s->step], "compare"))
    gv_compare_view_set_mode (GV_COMPARE_VIEW (gv_window_get_view (s->win, "compare")), 1);
  s->step++;
  return G_SOURCE_CONTINUE;
}

static void
analysis_finished (GvWindow *win, gboolean ok, Shots *s)
{
  if (opt_twice && ++s->runs < 2 && ok)
    {
      /* A second parameter set, so Compare has differences to show without a GPU. */
      GvParams *p = gv_window_get_params (win);
      p->analysis_size = p->analysis_size == 480 ? 640 : 480;
      gv_window_params_changed (win);
      gv_window_run (win);
      return;
    }
  g_signal_handlers_disconnect_by_func (win, analysis_finished, s);
  /* Give the views a moment to lay out before the first picture. */
  g_timeout_add (1500, shot_step, s);
}

static void
activate (GApplication *app, gpointer data)
{
  gtk_window_present (GTK_WINDOW (get_window (app)));
}

static void
open_files (GApplication *app, GFile **files, int n, const char *hint, gpointer data)
{
  GvWindow *win = get_window (app);

  gtk_window_present (GTK_WINDOW (win));
  if (opt_screenshots)
    {
      Shots *s = g_new0 (Shots, 1);
      s->win = win;
      g_mkdir_with_parents (opt_screenshots, 0755);
      g_signal_connect (win, "analysis-finished", G_CALLBACK (analysis_finished), s);
    }
  if (n > 0 && (g_file_has_uri_scheme (files[0], "http") || g_file_has_uri_scheme (files[0], "https")))
    {
      /* Open URL from the command line: downloaded with core/net, then opened. */
      g_autofree char *uri = g_file_get_uri (files[0]);
      gv_window_open_url (win, uri, !opt_no_run);
    }
  else if (n > 0)
    gv_window_open (win, files[0], !opt_no_run);
}

int
main (int argc, char **argv)
{
  g_autoptr (GtkApplication) app = NULL;
  const char *localedir = GV_LOCALEDIR;

  setlocale (LC_ALL, "");
  /* Uninstalled: the catalogues compiled in the build tree. */
  if (!g_file_test (GV_LOCALEDIR "/de/LC_MESSAGES/" GETTEXT_PACKAGE ".mo", G_FILE_TEST_EXISTS))
    localedir = GV_BUILD_LOCALEDIR;
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = gtk_application_new (GV_APP_ID, G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
  g_application_add_main_option_entries (G_APPLICATION (app), options);
  g_application_set_option_context_parameter_string (G_APPLICATION (app), _("[VIDEO]"));
  g_application_set_option_context_summary (G_APPLICATION (app),
                                            _("Inspect a comic book scan video: golden frames, optical flow, the cover, CPU and GPU side by side."));
  g_signal_connect (app, "startup", G_CALLBACK (startup), NULL);
  g_signal_connect (app, "activate", G_CALLBACK (activate), NULL);
  g_signal_connect (app, "open", G_CALLBACK (open_files), NULL);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
