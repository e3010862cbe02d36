/* test-ui.c: the app's window under a display (Xvfb in CI): opens the bundled sample, runs it,
 * switches every view and checks what the widgets show, steps frames exactly, compares two runs,
 * cancels within a second, and shows plain-words errors for a bad video and a missing GPU.
 * Skips, saying why, when there is no display. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>

#include "gv-window.h"

typedef struct {
  GvWindow *win;
  gboolean finished, ok;
  gboolean saw_progress;
  gint64 stored_id;
  gboolean export_done, export_ok;
  char *tmpdir;
} Fixture;

static gboolean
display_available (void)
{
  return g_getenv ("DISPLAY") || g_getenv ("WAYLAND_DISPLAY");
}

static void
on_finished (GvWindow *win, gboolean ok, Fixture *f)
{
  f->finished = TRUE;
  f->ok = ok;
}

static void
on_stored (GvWindow *win, gint64 id, Fixture *f)
{
  f->stored_id = id;
}

static void
on_exported (GvWindow *win, gboolean ok, Fixture *f)
{
  f->export_done = TRUE;
  f->export_ok = ok;
}

static void
iterate (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (2000);
}

/* Runs the main loop until the analysis ends; FALSE on timeout. */
static gboolean
wait_finished (Fixture *f, double timeout)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC);

  while (!f->finished && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      if (gv_window_is_busy (f->win))
        {
          const char *t = gv_window_get_progress_text (f->win);
          if (t && strchr (t, '%'))
            f->saw_progress = TRUE;
        }
      g_usleep (1000);
    }
  return f->finished;
}

static void
run_and_wait (Fixture *f, const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);

  f->finished = FALSE;
  gv_window_open (f->win, file, TRUE);
  g_assert_true (gv_window_is_busy (f->win) || f->finished);
  g_assert_true (wait_finished (f, 900));
}

static char *
sample_path (void)
{
  const char *src = g_getenv ("GV_SOURCE_DIR");
  return g_build_filename (src ? src : ".", "data", "sample", "scan.mp4", NULL);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  if (!display_available ())
    return;
  f->win = gv_window_new (NULL);
  f->tmpdir = g_dir_make_tmp ("gv-test-ui-XXXXXX", NULL);
  g_signal_connect (f->win, "analysis-finished", G_CALLBACK (on_finished), f);
  g_signal_connect (f->win, "run-stored", G_CALLBACK (on_stored), f);
  g_signal_connect (f->win, "export-finished", G_CALLBACK (on_exported), f);
  gtk_window_set_default_size (GTK_WINDOW (f->win), 1400, 900);
  gtk_window_present (GTK_WINDOW (f->win));
  iterate (0.3);
}

static void
rm_rf (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_remove (p);
    }
  g_rmdir (dir);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  if (!f->win)
    return;
  gv_window_cancel (f->win);
  if (gv_window_is_busy (f->win))
    wait_finished (f, 30);
  gtk_window_destroy (GTK_WINDOW (f->win));
  iterate (0.1);
  rm_rf (f->tmpdir);
  g_free (f->tmpdir);
}

static void
check_screenshot (Fixture *f, const char *name)
{
  g_autofree char *file = g_strdup_printf ("%s.png", name);
  g_autofree char *path = g_build_filename (f->tmpdir, file, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) tex = NULL;
  const char *keep = g_getenv ("GV_TEST_SCREENSHOTS");

  /* The first frame after a switch may not be drawn yet: give it a few tries. */
  for (int i = 0; i < 20; i++)
    {
      iterate (0.2);
      g_clear_error (&error);
      if (gv_window_save_screenshot (f->win, path, &error))
        break;
    }
  g_assert_no_error (error);
  tex = gdk_texture_new_from_filename (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_width (tex), >, 600);
  if (keep)
    {
      g_autofree char *dst = g_build_filename (keep, file, NULL);
      g_mkdir_with_parents (keep, 0755);
      g_assert_true (gdk_texture_save_to_png (tex, dst));
    }
}

static void
test_sample (Fixture *f, gconstpointer data)
{
  g_autofree char *sample = sample_path ();
  const GvResult *r;
  GvFramesView *fv;
  GvCompareView *cv;
  int rows, failed;

  if (!display_available ())
    {
      g_test_skip ("no display (run under xvfb-run)");
      return;
    }
  run_and_wait (f, sample);
  g_assert_true (f->ok);
  g_assert_true (f->saw_progress);
  g_assert_nonnull (gv_window_get_current (f->win));
  r = gv_analysis_get_result (gv_window_get_current (f->win));
  g_assert_cmpint (r->n_frames, ==, 180);
  g_assert_cmpint (r->n_golden, >, 0);

  /* Overview: one card per golden frame, and a grade when the run has one. */
  gv_window_show_view (f->win, "overview");
  g_assert_cmpint (gv_overview_view_count_golden (GV_OVERVIEW_VIEW (gv_window_get_view (f->win, "overview"))),
                   ==, r->n_golden);
  if (r->defects && r->defects->n_covers > 0)
    g_assert_cmpstr (gv_overview_view_get_grade_text (GV_OVERVIEW_VIEW (gv_window_get_view (f->win, "overview"))),
                     !=, "–");
  check_screenshot (f, "overview");

  /* Frames: jump, then step one frame at a time; the decoded frame is the one asked for. */
  gv_window_show_view (f->win, "frames");
  fv = GV_FRAMES_VIEW (gv_window_get_view (f->win, "frames"));
  gv_frames_view_show_frame (fv, 40);
  for (int i = 0; i < 3000 && gv_frames_view_get_loaded_frame (fv) != 40; i++)
    iterate (0.01);
  g_assert_cmpint (gv_frames_view_get_loaded_frame (fv), ==, 40);
  g_assert_cmpfloat (fabs (gv_frames_view_get_loaded_pts (fv) - r->frames[40].pts), <, 1e-6);
  gtk_widget_activate_action (GTK_WIDGET (fv), "frames.next", NULL);
  gtk_widget_activate_action (GTK_WIDGET (fv), "frames.next", NULL);
  gtk_widget_activate_action (GTK_WIDGET (fv), "frames.previous", NULL);
  g_assert_cmpint (gv_frames_view_get_frame (fv), ==, 41);
  for (int i = 0; i < 3000 && gv_frames_view_get_loaded_frame (fv) != 41; i++)
    iterate (0.01);
  g_assert_cmpint (gv_frames_view_get_loaded_frame (fv), ==, 41);
  g_assert_cmpfloat (fabs (gv_frames_view_get_loaded_pts (fv) - r->frames[41].pts), <, 1e-6);
  check_screenshot (f, "frames");

  gv_window_show_view (f->win, "cover");
  check_screenshot (f, "cover");

  /* Compare: a second CPU run with another analysis size. */
  gv_window_show_view (f->win, "compare");
  cv = GV_COMPARE_VIEW (gv_window_get_view (f->win, "compare"));
  g_assert_cmpint (gv_compare_view_count_rows (cv, NULL), ==, 0);
  gv_window_get_params (f->win)->analysis_size = 480;
  gv_window_params_changed (f->win);
  f->finished = FALSE;
  gv_window_run (f->win);
  g_assert_true (wait_finished (f, 900));
  g_assert_true (f->ok);
  g_assert_cmpint (g_list_model_get_n_items (gv_window_get_analyses (f->win)), ==, 2);
  rows = gv_compare_view_count_rows (cv, &failed);
  g_assert_cmpint (rows, >=, 4);
  /* Another flow resolution moves the motion figures: the parity check must say so. */
  g_assert_cmpint (failed, >, 0);
  for (guint mode = 0; mode < 4; mode++)
    {
      gv_compare_view_set_mode (cv, mode);
      iterate (0.05);
    }
  /* The same run against itself passes everything. */
  gv_compare_view_select (cv, 1, 1);
  rows = gv_compare_view_count_rows (cv, &failed);
  g_assert_cmpint (rows, >=, 4);
  g_assert_cmpint (failed, ==, 0);
  gv_compare_view_select (cv, 0, 1);
  gv_compare_view_set_mode (cv, 1);
  check_screenshot (f, "compare");

  /* Both runs are stored (as gvscan stores them); History lists them; Export writes the report. */
  for (int i = 0; i < 6000 && gv_analysis_get_run_id (gv_window_get_current (f->win)) <= 0; i++)
    iterate (0.01);
  if (gv_run_store_available ())
    {
      g_autofree char *dir = g_build_filename (f->tmpdir, "report", NULL);
      g_autofree char *pdf = g_build_filename (dir, "report.pdf", NULL);
      g_autofree char *csv = g_build_filename (dir, "frames.csv", NULL);
      GStatBuf st;
      g_assert_cmpint (gv_analysis_get_run_id (gv_window_get_current (f->win)), >, 0);
      gv_window_show_view (f->win, "history");
      GvHistoryView *hv = GV_HISTORY_VIEW (gv_window_get_view (f->win, "history"));
      g_assert_cmpint (gv_history_view_count_runs (hv), >=, 2);
      gv_history_view_compare_first_two (hv);
      g_test_message ("history compare:\n%s", gv_history_view_get_compare_text (hv));
      g_assert_cmpuint (strlen (gv_history_view_get_compare_text (hv)), >, 40);
      gv_window_export_report (f->win, dir);
      for (int i = 0; i < 12000 && !f->export_done; i++)
        iterate (0.01);
      g_test_message ("export: %s", gv_window_get_message (f->win));
      g_assert_true (f->export_ok);
      g_assert_cmpint (g_stat (pdf, &st), ==, 0);
      g_assert_cmpint (st.st_size, >, 1000);
      g_assert_true (g_file_test (csv, G_FILE_TEST_IS_REGULAR));
      rm_rf (dir);

      /* Reopen the newest stored run: the views show it as they showed the live one. */
      {
        int n_golden = r->n_golden;
        const GvResult *rr;
        f->finished = FALSE;
        gv_history_view_open_first (hv);
        g_assert_true (wait_finished (f, 120));
        g_assert_true (f->ok);
        g_assert_cmpint (g_list_model_get_n_items (gv_window_get_analyses (f->win)), ==, 3);
        rr = gv_analysis_get_result (gv_window_get_current (f->win));
        g_assert_cmpint (rr->n_frames, ==, 180);
        g_assert_cmpint (rr->n_golden, ==, n_golden);
        g_assert_nonnull (rr->golden[0].rgb);
        g_assert_cmpint (gv_overview_view_count_golden (GV_OVERVIEW_VIEW (gv_window_get_view (f->win, "overview"))),
                         ==, n_golden);
        /* Stored run B against the live run B: the same numbers. */
        gv_compare_view_select (cv, 1, 2);
        rows = gv_compare_view_count_rows (cv, &failed);
        g_test_message ("live vs reopened: %d rows, %d failed", rows, failed);
        g_assert_cmpint (failed, ==, 0);
      }
    }
  gv_window_show_view (f->win, "history");
  check_screenshot (f, "history");

  /* Export writes result.json and the golden frames. */
  {
    g_autofree char *dir = g_build_filename (f->tmpdir, "export", NULL);
    g_autofree char *json = g_build_filename (dir, "result.json", NULL);
    g_autoptr (GError) error = NULL;
    g_assert_true (gv_window_export_to (f->win, dir, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_test (json, G_FILE_TEST_IS_REGULAR));
    rm_rf (dir);
  }
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autofree char *sample = sample_path ();
  g_autoptr (GFile) file = g_file_new_for_path (sample);
  gint64 t0;

  if (!display_available ())
    {
      g_test_skip ("no display (run under xvfb-run)");
      return;
    }
  gv_window_open (f->win, file, TRUE);
  g_assert_true (gv_window_is_busy (f->win));
  iterate (0.5);
  g_assert_true (gv_window_is_busy (f->win));
  t0 = g_get_monotonic_time ();
  g_action_group_activate_action (G_ACTION_GROUP (f->win), "cancel", NULL);
  g_assert_true (wait_finished (f, 10));
  g_test_message ("cancelled in %.3f s", (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, G_USEC_PER_SEC);
  g_assert_false (f->ok);
  g_assert_nonnull (strstr (gv_window_get_message (f->win), "cancel"));
  g_assert_null (gv_window_get_current (f->win));
}

static void
test_errors (Fixture *f, gconstpointer data)
{
  g_autofree char *bad = g_build_filename (f->tmpdir, "not-a-video.mp4", NULL);
  g_autofree char *reason = gv_gpu_unavailable_reason ();

  if (!display_available ())
    {
      g_test_skip ("no display (run under xvfb-run)");
      return;
    }
  g_assert_true (g_file_set_contents (bad, "this is text, not a video\n", -1, NULL));
  run_and_wait (f, bad);
  g_assert_false (f->ok);
  g_test_message ("bad video: %s", gv_window_get_message (f->win));
  g_assert_nonnull (strstr (gv_window_get_message (f->win), "not-a-video.mp4"));

  if (!reason)
    {
      g_test_message ("a CUDA device is present: the no-device message is not checked");
      return;
    }
  {
    g_autofree char *sample = sample_path ();
    gv_window_set_mode (f->win, GV_RUN_GPU);
    g_assert_nonnull (strstr (gv_window_get_message (f->win), reason));
    run_and_wait (f, sample);
    g_assert_false (f->ok);
    g_test_message ("GPU: %s", gv_window_get_message (f->win));
    g_assert_nonnull (strstr (gv_window_get_message (f->win), reason));
    gv_window_set_mode (f->win, GV_RUN_CPU);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (display_available ())
    {
      gtk_init ();
      gv_ui_init ();
    }
  g_test_add ("/gv/ui/sample-every-view", Fixture, NULL, fixture_setup, test_sample, fixture_teardown);
  g_test_add ("/gv/ui/cancel-within-a-second", Fixture, NULL, fixture_setup, test_cancel, fixture_teardown);
  g_test_add ("/gv/ui/errors-in-plain-words", Fixture, NULL, fixture_setup, test_errors, fixture_teardown);
  return g_test_run ();
}
