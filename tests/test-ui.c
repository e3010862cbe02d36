/* test-ui.c: the app's window under a display (Xvfb in CI): opens the bundled sample, runs it,
 * switches every view and checks what the widgets show, steps frames exactly, compares two runs,
 * cancels within a second, and shows plain-words errors for a bad video and a missing GPU.
 * Open URL against tests/gv-net-server.py (the loopback server of test-net, 127.0.0.1 only):
 * the sample by URL, a 404, a web page instead of a video, a cancelled download. Full-resolution PNG exports of Cover, Frames
 * and Compare. Skips, saying why, when there is no display. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>

#include "gv-i18n.h"
#include "gv-url-dialog.h"
#include "gv-window.h"

static GSubprocess *server; /* tests/gv-net-server.py, started by the first test that needs it */
static char *server_base;   /* http://127.0.0.1:PORT */
static char *cache_dir;     /* XDG_CACHE_HOME of this process: downloads go there */

typedef struct {
  GvWindow *win;
  gboolean finished, ok;
  gboolean saw_progress;
  gint64 stored_id;
  gboolean export_done, export_ok;
  gboolean download_done, download_ok;
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
on_downloaded (GvWindow *win, gboolean ok, Fixture *f)
{
  f->download_done = TRUE;
  f->download_ok = ok;
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
  g_signal_connect (f->win, "download-finished", G_CALLBACK (on_downloaded), f);
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

/* The cache folder has subfolders (gradevault-inspector/downloads). */
static void
rm_rf_tree (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        rm_rf_tree (p);
      else
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

/* Writes the shown view with gv_window_save_view and reads it back (RGBA, 4 bytes a pixel). */
static guchar *
export_view (Fixture *f, const char *name, int *w, int *h)
{
  g_autofree char *file = g_strdup_printf ("export-%s.png", name);
  g_autofree char *path = g_build_filename (f->tmpdir, file, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) tex = NULL;
  guchar *px;

  g_assert_true (gv_window_save_view (f->win, path, &error));
  g_assert_no_error (error);
  tex = gdk_texture_new_from_filename (path, &error);
  g_assert_no_error (error);
  *w = gdk_texture_get_width (tex);
  *h = gdk_texture_get_height (tex);
  px = g_malloc ((gsize) *w * *h * 4);
  gdk_texture_download (tex, px, (gsize) *w * 4);
  if (g_getenv ("GV_TEST_SCREENSHOTS"))
    {
      g_autofree char *dst = g_build_filename (g_getenv ("GV_TEST_SCREENSHOTS"), file, NULL);
      g_mkdir_with_parents (g_getenv ("GV_TEST_SCREENSHOTS"), 0755);
      g_assert_true (gdk_texture_save_to_png (tex, dst));
    }
  return px;
}

static gboolean
pixel_differs (const guchar *a, const guchar *b)
{
  /* 24 levels: the mask is drawn at 55 % opacity in magenta, far more than PNG round-off. */
  for (int c = 0; c < 3; c++)
    if (ABS ((int) a[c] - (int) b[c]) > 24)
      return TRUE;
  return FALSE;
}

/* Cover export: the warped cover's own size, and the mask toggle changes exactly the defect
 * pixels. */
static void
check_cover_export (Fixture *f, GvAnalysis *a)
{
  GvCoverView *cv = GV_COVER_VIEW (gv_window_get_view (f->win, "cover"));
  const GvResult *r = gv_analysis_get_result (a);
  const GvDefectReport *d = r->defects && r->defects->n_covers > 0 ? r->defects : NULL;
  GdkTexture *warped = gv_analysis_warped_texture (a, 0);
  g_autofree guchar *on = NULL, *off = NULL;
  int w, h, w2, h2;
  long in_mask = 0, changed_in = 0, changed_out = 0;

  if (!warped)
    {
      g_test_message ("golden frame 1 has no cover: the cover export is not checked");
      return;
    }
  gv_cover_view_set_overlays (cv, TRUE, FALSE, TRUE);
  on = export_view (f, "cover-mask-on", &w, &h);
  g_assert_cmpint (w, ==, gdk_texture_get_width (warped));
  g_assert_cmpint (h, ==, gdk_texture_get_height (warped));
  g_test_message ("cover export %dx%d", w, h);
  gv_cover_view_set_overlays (cv, FALSE, FALSE, TRUE);
  off = export_view (f, "cover-mask-off", &w2, &h2);
  g_assert_cmpint (w2, ==, w);
  g_assert_cmpint (h2, ==, h);
  gv_cover_view_set_overlays (cv, TRUE, FALSE, TRUE);
  if (!d || !d->mask)
    {
      g_test_message ("no defect mask in this run: only the size is checked");
      return;
    }
  g_assert_cmpint (d->mask->width, ==, w);
  g_assert_cmpint (d->mask->height, ==, h);
  for (int y = 0; y < h; y++)
    {
      const guint8 *m = gv_image_row_u8 (d->mask, y);
      for (int x = 0; x < w; x++)
        {
          gboolean diff = pixel_differs (on + ((gsize) y * w + x) * 4, off + ((gsize) y * w + x) * 4);
          if (m[x])
            in_mask++, changed_in += diff;
          else
            changed_out += diff;
        }
    }
  g_test_message ("mask: %ld px, %ld changed by the toggle; %ld changed outside", in_mask,
                  changed_in, changed_out);
  /* The defect boxes (3 px strokes) are drawn over the mask in both pictures and hide part of a
   * small mask, so only most mask pixels change; nothing else may. */
  g_assert_cmpint (in_mask, >, 0);
  g_assert_cmpint (changed_in, >=, in_mask / 2);
  g_assert_cmpint (changed_out, ==, 0);
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
  /* Frames export: the frame at full resolution with its flow, and the flow picture beside it. */
  {
    const GvMediaInfo *info = gv_analysis_get_info (gv_window_get_current (f->win));
    int w, h;
    g_autofree guchar *px = export_view (f, "frames", &w, &h);
    g_test_message ("frames export %dx%d (frame %dx%d)", w, h, info->width, info->height);
    g_assert_cmpint (h, ==, info->height);
    g_assert_cmpint (w, ==, 2 * info->width + 8);
  }

  gv_window_show_view (f->win, "cover");
  check_screenshot (f, "cover");
  check_cover_export (f, gv_window_get_current (f->win));

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
  /* Compare export (output: golden frame 1): the split picture and the difference heatmap at the
   * frame's resolution, A and B side by side at twice its width. */
  {
    const GvMediaInfo *info = gv_analysis_get_info (gv_window_get_current (f->win));
    int w, h;
    g_autofree guchar *split = NULL, *diff = NULL, *pair = NULL;
    gv_compare_view_set_mode (cv, 2);
    diff = export_view (f, "compare-diff", &w, &h);
    g_assert_cmpint (w, ==, info->width);
    g_assert_cmpint (h, ==, info->height);
    gv_compare_view_set_mode (cv, 0);
    pair = export_view (f, "compare-pair", &w, &h);
    g_assert_cmpint (w, ==, 2 * info->width + 8);
    g_assert_cmpint (h, ==, info->height);
    gv_compare_view_set_mode (cv, 1);
    split = export_view (f, "compare-split", &w, &h);
    g_assert_cmpint (w, ==, info->width);
    g_assert_cmpint (h, ==, info->height);
  }
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

/* A stand-in catalogue: reordered arguments, translated names, and one translation whose
 * conversions do not fit its template (the English must come back). */
static const char *
fake_tr (const char *msgid, void *data)
{
  static const char *const map[][2] = {
    { GV_GRADE_T_DEDUCTION, "[%2$s|%1$s] %3$.2f %4$.2f %5$.2f %6$.1f %7$.2f" },
    { GV_GRADE_T_CAP, "Obergrenze %.1f: %s" },
    { GV_GRADE_T_ROUNDED, "abgerundet: %.1f" },
    { GV_GRADE_T_FURTHER, "kaputt %s" },
    { GV_GRADE_CAP_CREASE, "KNICK" },
    { GV_GRADE_REVIEW_GLARE, "SPIEGELUNG" },
    { GV_GRADE_REVIEW_OUTLINE, "UMRISS" },
    { "corner wear", "Eckenabrieb" },
    { "top-left corner", "Ecke oben links" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_str_equal (msgid, map[i][0]))
      return map[i][1];
  return msgid;
}

static char *
translate (const char *english, GvTranslateFunc tr)
{
  size_t n = gv_i18n_translate_line (english, tr, NULL, NULL, 0);
  char *out = g_malloc (n + 1);
  g_assert_cmpuint (gv_i18n_translate_line (english, tr, NULL, out, n + 1), ==, n);
  return out;
}

static const char *
identity_tr (const char *msgid, void *data)
{
  return msgid;
}

/* The core's English lines come back apart (template + arguments) and in translation; every line
 * gv_grade_compute writes matches a template, so the app can translate all of them. */
static void
test_core_text (void)
{
  GvDefect defs[4] = {
    { .kind = GV_DK_CREASE, .region = GV_REGION_SPINE, .severity = 0.7 },
    { .kind = GV_DK_CORNER_WEAR, .region = GV_REGION_CORNER_TL, .severity = 0.3 },
    { .kind = GV_DK_TEAR, .region = GV_REGION_SURFACE, .severity = 0.55 },
    { .kind = GV_DK_STAIN, .region = GV_REGION_CORNER_BR, .severity = 0.1 },
  };
  GvDefectReport *rep = g_new0 (GvDefectReport, 1);
  GvI18nLine line;
  char *t;

  g_assert_true (gv_i18n_parse_line ("corner_wear in corner_tl, severity 0.30: 0.60 x (0.5 + 0.30) x 1.2 = -0.58", &line));
  g_assert_cmpstr (line.template_, ==, GV_GRADE_T_DEDUCTION);
  g_assert_cmpint (line.n_args, ==, 7);
  g_assert_cmpstr (line.text[0], ==, "corner_wear");
  g_assert_cmpstr (line.text[1], ==, "corner_tl");
  g_assert_cmpstr (line.text[6], ==, "0.58");
  t = translate ("corner_wear in corner_tl, severity 0.30: 0.60 x (0.5 + 0.30) x 1.2 = -0.58", fake_tr);
  g_assert_cmpstr (t, ==, "[Ecke oben links|Eckenabrieb] 0.30 0.60 0.30 1.2 0.58");
  g_free (t);
  /* A core that ran under a decimal-comma locale. */
  t = translate ("rounded down to the CGC scale: 6,5", fake_tr);
  g_assert_cmpstr (t, ==, "abgerundet: 6.5");
  g_free (t);
  t = translate ("cap 6.0: " GV_GRADE_CAP_CREASE, fake_tr);
  g_assert_cmpstr (t, ==, "Obergrenze 6.0: KNICK");
  g_free (t);
  t = translate (GV_GRADE_REVIEW_PARTLY_OUT GV_GRADE_REVIEW_SEP GV_GRADE_REVIEW_GLARE, fake_tr);
  g_assert_cmpstr (t, ==, GV_GRADE_REVIEW_PARTLY_OUT "; SPIEGELUNG");
  g_free (t);
  /* a reason with the separator inside would be split and never translated */
  t = translate (GV_GRADE_REVIEW_OUTLINE GV_GRADE_REVIEW_SEP GV_GRADE_REVIEW_GLARE, fake_tr);
  g_assert_cmpstr (t, ==, "UMRISS; SPIEGELUNG");
  g_free (t);
  {
    const char *reasons[] = { GV_GRADE_REVIEW_NO_COVER, GV_GRADE_REVIEW_TOO_FEW,
                              GV_GRADE_REVIEW_PARTLY_OUT, GV_GRADE_REVIEW_GLARE,
                              GV_GRADE_REVIEW_ALIGN,    GV_GRADE_REVIEW_OUTLINE };
    for (guint i = 0; i < G_N_ELEMENTS (reasons); i++)
      g_assert_null (strstr (reasons[i], GV_GRADE_REVIEW_SEP));
  }
  t = translate ("(3 further deductions counted above in the running total)", fake_tr);
  g_assert_cmpstr (t, ==, "(3 further deductions counted above in the running total)");
  g_free (t);
  t = translate ("corner_wear", fake_tr);
  g_assert_cmpstr (t, ==, "Eckenabrieb");
  g_free (t);
  /* The app's views show names, not identifiers, even in English. */
  {
    char buf[256];
    gv_i18n_translate_line_full ("corner_wear in corner_tl, severity 0.30: 0.60 x (0.5 + 0.30) x 1.2 = -0.58",
                                 identity_tr, NULL, 1, buf, sizeof buf);
    g_assert_cmpstr (buf, ==, "corner wear in top-left corner, severity 0.30: 0.60 x (0.5 + 0.30) x 1.2 = -0.58");
    g_assert_cmpuint (gv_i18n_translate_line_full ("corner_wear", identity_tr, NULL, 1, buf, 4), ==, 11);
    g_assert_cmpstr (buf, ==, "cor");
  }
  t = translate ("something else entirely", fake_tr);
  g_assert_cmpstr (t, ==, "something else entirely");
  g_free (t);
  g_assert_false (gv_i18n_parse_line ("start: 10.00 points and more", &line));
  for (int k = 0; k < GV_DK_N_KINDS; k++)
    g_assert_nonnull (gv_i18n_kind_label (gv_defect_kind_name (k)));
  for (int r = 0; r < GV_REGION_N; r++)
    g_assert_nonnull (gv_i18n_region_label (gv_region_def (r)->name));

  rep->defects = defs;
  rep->n_defects = G_N_ELEMENTS (defs);
  rep->flags = GV_QF_GLARE | GV_QF_COVER_PARTLY_OUT;
  gv_grade_compute (rep);
  g_assert_cmpint (rep->grade.n_lines, >=, 6);
  for (int i = 0; i < rep->grade.n_lines; i++)
    {
      g_autofree char *same = translate (rep->grade.lines[i].text, identity_tr);
      g_test_message ("%s", rep->grade.lines[i].text);
      g_assert_true (gv_i18n_parse_line (rep->grade.lines[i].text, &line));
      /* Without a catalogue every line reads back exactly (names stay identifiers). */
      g_assert_cmpstr (same, ==, rep->grade.lines[i].text);
    }
  g_assert_true (rep->grade.needs_review);
  t = translate (rep->grade.review_reason, fake_tr);
  g_assert_nonnull (strstr (t, "SPIEGELUNG"));
  g_free (t);
  g_free (rep);
}

/* The loopback server of test-net (it serves the sample at /video.mp4, a 404 for unknown paths
 * and a slow body at /drip); FALSE when python3 is missing. It exits when our end of its stdin
 * closes, so it never outlives the test. */
static gboolean
start_server (void)
{
  const char *src = g_getenv ("GV_SOURCE_DIR");
  g_autofree char *python = g_find_program_in_path ("python3");
  g_autofree char *script = NULL, *video = NULL, *line = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) in = NULL;

  if (server)
    return TRUE;
  if (!python)
    return FALSE;
  script = g_build_filename (src ? src : ".", "tests", "gv-net-server.py", NULL);
  video = sample_path ();
  server = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDIN_PIPE, &error,
                             python, script, video, "test-key", NULL);
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server));
  line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  server_base = g_strdup_printf ("http://127.0.0.1:%s", line);
  return TRUE;
}

/* A window as drawn, for looking at it (GV_TEST_SCREENSHOTS). */
static void
save_widget_png (GtkWidget *w, const char *path)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (w);
  GtkSnapshot *snap = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) tex = NULL;
  int width = gtk_widget_get_width (w), height = gtk_widget_get_height (w);

  gdk_paintable_snapshot (paintable, snap, width, height);
  node = gtk_snapshot_free_to_node (snap);
  if (!node || width <= 0)
    return;
  tex = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (w)), node,
                                     &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_mkdir_with_parents (g_getenv ("GV_TEST_SCREENSHOTS"), 0755);
  g_assert_true (gdk_texture_save_to_png (tex, path));
}

static gboolean
wait_download (Fixture *f, double timeout)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC);

  while (!f->download_done && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  return f->download_done;
}

static void
test_open_url (Fixture *f, gconstpointer data)
{
  g_autofree char *ok_url = NULL, *missing_url = NULL, *drip_url = NULL;
  g_autofree char *ok_dest = NULL, *missing_dest = NULL, *drip_dest = NULL;
  g_autofree char *dir = gv_url_download_dir ();
  const GvResult *r;
  gint64 t0;

  if (!display_available ())
    {
      g_test_skip ("no display (run under xvfb-run)");
      return;
    }
  if (!gv_url_download_available ())
    {
      g_test_skip ("this build has no core/net (libcurl)");
      return;
    }
  if (!start_server ())
    {
      g_test_skip ("no python3 for the loopback server");
      return;
    }
  /* Downloads land in this process's cache folder, never the user's. */
  g_assert_true (g_str_has_prefix (dir, cache_dir));

  /* Only http(s): the dialog says why and does not open; the window refuses too. */
  {
    GvUrlDialog *dlg = gv_url_dialog_new (GTK_WINDOW (f->win));
    gv_url_dialog_set_url (dlg, "file:///etc/passwd");
    gtk_window_present (GTK_WINDOW (dlg));
    g_assert_false (gv_url_dialog_accept (dlg));
    g_test_message ("dialog: %s", gv_url_dialog_get_error (dlg));
    g_assert_nonnull (strstr (gv_url_dialog_get_error (dlg), "http"));
    if (g_getenv ("GV_TEST_SCREENSHOTS"))
      {
        g_autofree char *path = g_build_filename (g_getenv ("GV_TEST_SCREENSHOTS"), "url-dialog.png", NULL);
        iterate (0.5);
        save_widget_png (GTK_WIDGET (dlg), path);
      }
    gtk_window_destroy (GTK_WINDOW (dlg));
    gv_window_open_url (f->win, "ftp://127.0.0.1/scan.mp4", TRUE);
    g_assert_false (gv_window_is_busy (f->win));
    g_assert_nonnull (strstr (gv_window_get_message (f->win), "http"));
  }

  /* A 404: the window says the server has no such file, and nothing is kept. */
  missing_url = g_strconcat (server_base, "/missing.mp4?token=SECRET", NULL);
  missing_dest = gv_url_download_dest (missing_url);
  f->download_done = FALSE;
  gv_window_open_url (f->win, missing_url, TRUE);
  g_assert_true (gv_window_is_busy (f->win));
  g_assert_true (wait_download (f, 60));
  g_assert_false (f->download_ok);
  g_assert_false (gv_window_is_busy (f->win));
  g_test_message ("404: %s", gv_window_get_message (f->win));
  g_assert_nonnull (strstr (gv_window_get_message (f->win), "HTTP 404"));
  g_assert_nonnull (strstr (gv_window_get_message (f->win), "not found"));
  g_assert_nonnull (strstr (gv_window_get_message (f->win), "/missing.mp4"));
  g_assert_null (strstr (gv_window_get_message (f->win), "SECRET"));
  g_assert_false (g_file_test (missing_dest, G_FILE_TEST_EXISTS));
  g_assert_null (gv_window_get_current (f->win));

  /* A web page instead of the video (an expired link, a login page): said so. */
  {
    g_autofree char *page_url = g_strconcat (server_base, "/page", NULL);
    g_autofree char *page_dest = gv_url_download_dest (page_url);
    f->download_done = FALSE;
    gv_window_open_url (f->win, page_url, TRUE);
    g_assert_true (wait_download (f, 60));
    g_assert_false (f->download_ok);
    g_test_message ("page: %s", gv_window_get_message (f->win));
    g_assert_nonnull (strstr (gv_window_get_message (f->win), "not a video"));
    g_assert_false (g_file_test (page_dest, G_FILE_TEST_EXISTS));
  }

  /* Cancel during a slow body: stops within a second and leaves nothing. */
  drip_url = g_strconcat (server_base, "/drip", NULL);
  drip_dest = gv_url_download_dest (drip_url);
  f->download_done = FALSE;
  gv_window_open_url (f->win, drip_url, TRUE);
  iterate (0.8);
  g_assert_true (gv_window_is_busy (f->win));
  t0 = g_get_monotonic_time ();
  g_action_group_activate_action (G_ACTION_GROUP (f->win), "cancel", NULL);
  g_assert_true (wait_download (f, 10));
  g_test_message ("download cancelled in %.3f s: %s", (g_get_monotonic_time () - t0) / 1e6,
                  gv_window_get_message (f->win));
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 2 * G_USEC_PER_SEC);
  g_assert_false (f->download_ok);
  g_assert_nonnull (strstr (gv_window_get_message (f->win), "cancelled"));
  g_assert_false (g_file_test (drip_dest, G_FILE_TEST_EXISTS));

  /* The sample by URL: downloaded into the cache folder, then analysed like a local file. */
  ok_url = g_strconcat (server_base, "/video.mp4", NULL);
  ok_dest = gv_url_download_dest (ok_url);
  g_assert_true (g_str_has_prefix (ok_dest, dir));
  f->download_done = FALSE;
  f->finished = FALSE;
  g_action_group_activate_action (G_ACTION_GROUP (f->win), "open-url", NULL);
  gv_window_open_url (f->win, ok_url, TRUE);
  g_assert_true (wait_download (f, 120));
  g_assert_true (f->download_ok);
  g_assert_true (g_file_test (ok_dest, G_FILE_TEST_IS_REGULAR));
  g_assert_true (wait_finished (f, 900));
  g_assert_true (f->ok);
  r = gv_analysis_get_result (gv_window_get_current (f->win));
  g_assert_cmpint (r->n_frames, ==, 180);
  g_assert_cmpint (r->n_golden, >, 0);
  g_assert_cmpstr (gv_analysis_get_video_path (gv_window_get_current (f->win)), ==, ok_dest);
  /* The dialog the action opened is still there: close it with the window. */
}

int
main (int argc, char **argv)
{
  int rc;

  /* Before anything asks GLib for the cache folder: Open URL's downloads go under it. */
  cache_dir = g_dir_make_tmp ("gv-test-ui-cache-XXXXXX", NULL);
  g_setenv ("XDG_CACHE_HOME", cache_dir, TRUE);
  g_test_init (&argc, &argv, NULL);
  if (display_available ())
    {
      gtk_init ();
      gv_ui_init ();
    }
  g_test_add ("/gv/ui/sample-every-view", Fixture, NULL, fixture_setup, test_sample, fixture_teardown);
  g_test_add ("/gv/ui/cancel-within-a-second", Fixture, NULL, fixture_setup, test_cancel, fixture_teardown);
  g_test_add ("/gv/ui/errors-in-plain-words", Fixture, NULL, fixture_setup, test_errors, fixture_teardown);
  g_test_add_func ("/gv/ui/core-text", test_core_text);
  g_test_add ("/gv/ui/open-url", Fixture, NULL, fixture_setup, test_open_url, fixture_teardown);
  rc = g_test_run ();
  if (server)
    {
      g_subprocess_force_exit (server);
      g_subprocess_wait (server, NULL, NULL);
      g_clear_object (&server);
    }
  g_free (server_base);
  rm_rf_tree (cache_dir);
  g_free (cache_dir);
  return rc;
}
