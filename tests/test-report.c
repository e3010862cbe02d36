/* test-report.c: reports of runs loaded from the store: the PDF (page count and size, text with
 * pdftotext, images with pdfimages), the CPU-vs-GPU comparison, CSV (per-frame metrics, defect
 * list with a header only when there are none), the full and the worker's flat JSON, and that
 * every file is written through a temporary name (nothing left behind, nothing on failure). */
#include <string.h>
#include <sys/wait.h>

#include <cairo.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "gv-report.h"
#include "gv-store-fixture.h"

static char *tmpdir;
static GvStore *store;

static cairo_status_t
png_append (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

/* Real PNGs: golden frames 320x180 (table and a cover), warped covers 212x328, a mask. */
static GBytes *
make_png (const char *name, const char *kind, void *ud)
{
  gboolean warped = !strcmp (kind, "warped"), mask = strstr (kind, "mask") != NULL;
  int w = warped || mask ? 212 : 320, h = warped || mask ? 328 : 180;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  cairo_t *cr = cairo_create (s);
  GByteArray *out = g_byte_array_new ();

  if (mask)
    {
      cairo_set_source_rgb (cr, 0, 0, 0);
      cairo_paint (cr);
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_rectangle (cr, 4, 6, 14, 12);
      cairo_rectangle (cr, 90, 150, 40, 8);
      cairo_fill (cr);
    }
  else if (warped)
    {
      cairo_set_source_rgb (cr, 0.85, 0.2, 0.15);
      cairo_paint (cr);
      cairo_set_source_rgb (cr, 0.2, 0.7, 0.9);
      cairo_rectangle (cr, 10, 10, w - 20, 60);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      cairo_set_line_width (cr, 2);
      cairo_move_to (cr, 90, 154);
      cairo_line_to (cr, 130, 154);
      cairo_stroke (cr);
    }
  else
    {
      cairo_set_source_rgb (cr, 0.45, 0.3, 0.2);
      cairo_paint (cr);
      cairo_set_source_rgb (cr, 0.85, 0.2, 0.15);
      cairo_move_to (cr, 60, 20);
      cairo_line_to (cr, 250, 25);
      cairo_line_to (cr, 245, 170);
      cairo_line_to (cr, 55, 165);
      cairo_fill (cr);
    }
  cairo_destroy (cr);
  g_assert_cmpint (cairo_surface_write_to_png_stream (s, png_append, out), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (s);
  return g_byte_array_free_to_bytes (out);
}

/* Stores a fixture run and loads it back: reports are made from what the store returns. */
static GvRun *
stored_run (guint32 seed, const GvFixtureOpts *o)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = gv_fixture_result (seed, o);
  g_autoptr (GPtrArray) images = gv_fixture_images (result, make_png, NULL);
  GvRunStart st = { "scan-7f3a", "/videos/scan-fixture.mp4", 1234567,
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                    o->backend, NULL, "{\"motion-gate\":1.0,\"threads\":0}" };
  gint64 id = gv_store_run_begin (store, &st, &error);
  GvRun *run;

  g_assert_no_error (error);
  g_assert_true (gv_store_run_finish (store, id, result, images, &error));
  g_assert_no_error (error);
  run = gv_store_load_run (store, id, &error);
  g_assert_no_error (error);
  return run;
}

/* stdout of a poppler tool: pdfinfo FILE, pdfimages -list FILE, pdftotext -enc UTF-8 FILE -. */
static char *
tool_output (const char *tool, const char *file)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  char *out = NULL;
  int status;

  g_ptr_array_add (argv, (char *) tool);
  if (!strcmp (tool, "pdfimages"))
    g_ptr_array_add (argv, (char *) "-list");
  if (!strcmp (tool, "pdftotext"))
    {
      g_ptr_array_add (argv, (char *) "-enc");
      g_ptr_array_add (argv, (char *) "UTF-8");
    }
  g_ptr_array_add (argv, (char *) file);
  if (!strcmp (tool, "pdftotext"))
    g_ptr_array_add (argv, (char *) "-");
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, &out, NULL, &status, &error))
    g_error ("%s: %s", tool, error->message);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  return out;
}

static gboolean
have_poppler (void)
{
  static const char *tools[] = { "pdfinfo", "pdftotext", "pdfimages" };
  for (guint i = 0; i < G_N_ELEMENTS (tools); i++)
    {
      g_autofree char *p = g_find_program_in_path (tools[i]);
      if (!p)
        {
          g_test_skip ("poppler-utils (pdfinfo, pdftotext, pdfimages) not installed");
          return FALSE;
        }
    }
  return TRUE;
}

static int
pdf_pages (const char *pdf, char **size)
{
  g_autofree char *info = tool_output ("pdfinfo", pdf);
  const char *p = strstr (info, "Pages:"), *s = strstr (info, "Page size:");

  g_assert_nonnull (p);
  if (size && s)
    *size = g_strndup (s, strcspn (s, "\n"));
  return atoi (p + 6);
}

static int
pdf_image_count (const char *pdf)
{
  g_autofree char *list = tool_output ("pdfimages", pdf);
  g_auto (GStrv) lines = g_strsplit (list, "\n", -1);
  int n = 0;

  /* Two header lines, then one line per image. */
  for (guint i = 2; lines[i]; i++)
    n += lines[i][0] != 0;
  return n;
}

/* No temporary files left in dir. */
static void
assert_no_temporaries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)))
    {
      const char *dot = strrchr (name, '.');
      g_assert_true (dot && (!strcmp (dot, ".pdf") || !strcmp (dot, ".json") || !strcmp (dot, ".csv")
                             || !strcmp (dot, ".png")));
    }
}

static void
test_pdf_full (void)
{
  GvFixtureOpts o = { 150, 5, TRUE, "cpu", 0 }, og = { 150, 5, TRUE, "cuda", 0 };
  g_autoptr (GvRun) run = stored_run (11, &o), gpu = stored_run (11, &og);
  g_autoptr (GvComparison) cmp = gv_report_compare (run, gpu);
  g_autofree char *dir = g_build_filename (tmpdir, "pdf-full", NULL);
  g_autofree char *pdf = g_build_filename (dir, "report.pdf", NULL);
  g_autofree char *text = NULL, *size = NULL;
  g_autoptr (GError) error = NULL;
  static const char *expect[] = {
    "Scan report", "scan-7f3a", "8.5", "crease on the surface", "Key figures",
    "Capture quality", "touches the picture", "Golden frames", "Frame 25", "sharpness 1500.0",
    "Warped cover", "Regions", "corner_tl", "surface", "Defects", "corner_wear", "crease",
    "Sharpness and motion per frame", "gate 1 px", "CPU versus GPU", "frames.motion", "pass",
    "Speed-up", "5.00×", "3.46×", "Parameters", "motion-gate", "Software", "cairo", "SQLite",
  };

  if (!have_poppler ())
    return;
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (cmp->pass);
  g_assert_true (gv_report_write_pdf (run, cmp, GV_PAPER_A4, pdf, &error));
  g_assert_no_error (error);
  assert_no_temporaries (dir);
  g_assert_cmpint (pdf_pages (pdf, &size), ==, 7);
  g_assert_nonnull (strstr (size, "595.276 x 841.89"));
  text = tool_output ("pdftotext", pdf);
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    if (!strstr (text, expect[i]))
      g_error ("'%s' is not in the PDF's text:\n%s", expect[i], text);
  /* 5 golden frames, the cover, 2 defect crops (the mask is an alpha mask, not an image). */
  g_assert_cmpint (pdf_image_count (pdf), >=, 8);
  g_test_message ("PDF at %s", pdf);
}

static void
test_pdf_minimal_letter (void)
{
  GvFixtureOpts o = { 40, 2, FALSE, "cpu", 0 };
  g_autoptr (GvRun) run = stored_run (12, &o);
  g_autofree char *pdf = g_build_filename (tmpdir, "minimal.pdf", NULL);
  g_autofree char *text = NULL, *size = NULL;
  g_autoptr (GError) error = NULL;

  if (!have_poppler ())
    return;
  g_assert_true (gv_report_write_pdf (run, NULL, GV_PAPER_LETTER, pdf, &error));
  g_assert_no_error (error);
  g_assert_cmpint (pdf_pages (pdf, &size), ==, 5);
  g_assert_nonnull (strstr (size, "612 x 792"));
  text = tool_output ("pdftotext", pdf);
  g_assert_nonnull (strstr (text, "No grade"));
  g_assert_nonnull (strstr (text, "Not available: this run has no region analysis"));
  g_assert_nonnull (strstr (text, "Not available: this run has no defect analysis"));
  g_assert_nonnull (strstr (text, "Not available: no finished run of this video on the other backend"));
  g_assert_cmpint (pdf_image_count (pdf), ==, 3);
}

static void
test_pdf_failed_run (void)
{
  g_autoptr (GError) error = NULL;
  GvRunStart st = { "scan-bad", "/videos/missing.mp4", -1, NULL, "auto", NULL, NULL };
  gint64 id = gv_store_run_begin (store, &st, &error);
  g_autoptr (GvRun) run = NULL;
  g_autofree char *pdf = g_build_filename (tmpdir, "failed.pdf", NULL);
  g_autofree char *wj = g_build_filename (tmpdir, "failed-worker.json", NULL);
  g_autofree char *text = NULL;

  g_assert_true (gv_store_run_fail (store, id, GV_RUN_FAILED, "/videos/missing.mp4: no such file", &error));
  run = gv_store_load_run (store, id, &error);
  g_assert_no_error (error);
  /* The worker's error shape. */
  g_assert_true (gv_report_write_worker_json (run, wj, &error));
  g_assert_true (g_file_get_contents (wj, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\"error\" : \"/videos/missing.mp4: no such file\""));
  g_assert_nonnull (strstr (text, "\"type\" : \"failed\""));
  g_assert_false (gv_report_write_json (run, wj, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  if (!have_poppler ())
    return;
  g_assert_true (gv_report_write_pdf (run, NULL, GV_PAPER_A4, pdf, &error));
  g_assert_no_error (error);
  g_assert_cmpint (pdf_pages (pdf, NULL), ==, 1);
  g_free (text);
  text = tool_output ("pdftotext", pdf);
  g_assert_nonnull (strstr (text, "no such file"));
}

static void
test_pdf_write_failure (void)
{
  GvFixtureOpts o = { 20, 1, FALSE, "cpu", 0 };
  g_autoptr (GvRun) run = stored_run (13, &o);
  g_autoptr (GError) error = NULL;

  g_assert_false (gv_report_write_pdf (run, NULL, GV_PAPER_A4, "/nonexistent-dir/r.pdf", &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent-dir/r.pdf"));
  g_clear_error (&error);
  g_assert_false (gv_report_write_csv (run, "/proc/version/x", &error));
  g_assert_nonnull (error);
}

static void
test_compare (void)
{
  GvFixtureOpts a = { 90, 3, TRUE, "cpu", 0 }, b = { 90, 3, TRUE, "cuda", 0 }, c = { 90, 3, TRUE, "cuda", 0.1 };
  g_autoptr (GvRun) ra = stored_run (21, &a), rb = stored_run (21, &b), rc = stored_run (21, &c);
  g_autoptr (GvComparison) same = gv_report_compare (ra, rb), diff = gv_report_compare (ra, rc);
  g_autofree char *text = gv_comparison_to_text (diff);
  gboolean saw_motion = FALSE;

  g_assert_true (same->pass);
  g_assert_true (same->same_video);
  g_assert_true (same->same_parameters);
  g_assert_false (diff->pass);
  for (guint i = 0; i < diff->outputs->len; i++)
    {
      GvCompareOutput *o = g_ptr_array_index (diff->outputs, i);
      if (!strcmp (o->name, "frames.motion"))
        {
          saw_motion = TRUE;
          g_assert_false (o->pass);
          g_assert_cmpfloat_with_epsilon (o->difference, 0.1, 1e-9);
        }
      if (!strcmp (o->name, "frames.sharpness") || !strcmp (o->name, "covers.warped")
          || !strcmp (o->name, "golden_frames.picks"))
        {
          g_assert_true (o->compared);
          g_assert_true (o->pass);
        }
    }
  g_assert_true (saw_motion);
  g_assert_nonnull (strstr (text, "FAIL"));
  g_assert_nonnull (strstr (text, "frame_analysis"));
  /* Stage timings side by side: 2.0 s vs 0.4 s. */
  g_assert_nonnull (strstr (text, "5.00x"));
}

static guint
count_lines (const char *path)
{
  g_autofree char *text = NULL;
  guint n = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

static void
test_csv (void)
{
  GvFixtureOpts full = { 75, 3, TRUE, "cpu", 0 }, bare = { 30, 2, FALSE, "cpu", 0 };
  g_autoptr (GvRun) a = stored_run (31, &full), b = stored_run (32, &bare);
  g_autofree char *da = g_build_filename (tmpdir, "csv-a", NULL), *db = g_build_filename (tmpdir, "csv-b", NULL);
  g_autofree char *frames = g_build_filename (da, "frames.csv", NULL);
  g_autofree char *defects = g_build_filename (da, "defects.csv", NULL);
  g_autofree char *regions = g_build_filename (da, "regions.csv", NULL);
  g_autofree char *defects_b = g_build_filename (db, "defects.csv", NULL);
  g_autofree char *regions_b = g_build_filename (db, "regions.csv", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (gv_report_write_csv (a, da, &error));
  g_assert_no_error (error);
  g_assert_true (gv_report_write_csv (b, db, &error));
  g_assert_no_error (error);
  assert_no_temporaries (da);
  g_assert_cmpuint (count_lines (frames), ==, 76);
  g_assert_cmpuint (count_lines (defects), ==, 3);
  g_assert_cmpuint (count_lines (regions), ==, 7);
  g_assert_cmpuint (count_lines (defects_b), ==, 1);
  g_assert_cmpuint (count_lines (regions_b), ==, 1);
  g_assert_true (g_file_get_contents (frames, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "index,pts,sharpness,sharpness_frame,motion,motion_next,"
                                         "motion_frame,motion_gate,measured,candidate,cover_found\n0,0,"));
  g_free (text);
  g_assert_true (g_file_get_contents (defects, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "1,crease,surface,90,150,40,8,180,4.5,0.6,0.8\n"));
}

static void
test_json (void)
{
  GvFixtureOpts o = { 60, 3, TRUE, "cpu", 0 };
  g_autoptr (GvRun) run = stored_run (41, &o);
  g_autofree char *full = g_build_filename (tmpdir, "full.json", NULL);
  g_autofree char *images = g_build_filename (tmpdir, "images", NULL);
  g_autoptr (JsonNode) worker = gv_report_worker_json (run);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *w = json_node_get_object (worker);
  static const char *keys[] = { "scanId", "goldenFrames", "frameTimestamps", "defectMask",
                                "varianceHeatmap", "defectOverlay", "regionCrops",
                                "defectPercentage", "damageScore", "regionScores", "regionDetails" };

  /* The worker's flat shape, exactly its members. */
  g_assert_cmpuint (json_object_get_size (w), ==, G_N_ELEMENTS (keys));
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    g_assert_true (json_object_has_member (w, keys[i]));
  g_assert_cmpstr (json_object_get_string_member (w, "scanId"), ==, "scan-7f3a");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (w, "goldenFrames")), ==, 3);
  g_assert_cmpfloat (json_array_get_double_element (json_object_get_array_member (w, "frameTimestamps"), 0), ==, 0.5);
  g_assert_cmpstr (json_object_get_string_member (w, "defectMask"), ==, "defect_mask.png");
  g_assert_true (json_object_get_null_member (w, "varianceHeatmap"));
  g_assert_cmpfloat (json_object_get_double_member (w, "damageScore"), ==, 23.5);
  g_assert_cmpfloat (json_object_get_double_member (w, "defectPercentage"), ==, 1.25);
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (w, "regionScores")), ==, 6);
  g_assert_cmpfloat (json_object_get_double_member (
                       json_object_get_object_member (json_object_get_object_member (w, "regionDetails"), "spine"),
                       "quality_score"), ==, 9.0);

  /* The full result reads back as the stored document. */
  g_assert_true (gv_report_write_json (run, full, &error));
  g_assert_no_error (error);
  g_assert_true (json_parser_load_from_file (p, full, &error));
  g_assert_true (json_node_equal (json_parser_get_root (p), run->result));

  /* Every stored image, under its own name, byte for byte. */
  g_assert_true (gv_report_write_images (run, images, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < run->images->len; i++)
    {
      GvRunImage *img = g_ptr_array_index (run->images, i);
      g_autofree char *path = g_build_filename (images, img->name, NULL);
      g_autofree char *data = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      g_assert_cmpmem (data, len, g_bytes_get_data (img->png, NULL), g_bytes_get_size (img->png));
    }
}

/* ---- gvscan: analyze stores every run; runs, export, compare ---- */

static int
gvscan (char **out, const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL, *stdout_text = NULL;
  const char *build = g_getenv ("GV_BUILD_DIR");
  int status = -1;
  va_list ap;

  g_ptr_array_add (argv, g_build_filename (build ? build : ".", "app", "gvscan", NULL));
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  /* stdout is always captured: the test's own stdout is TAP. */
  if (!g_spawn_sync (tmpdir, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &stdout_text,
                     &err, &status, &error))
    g_error ("cannot run gvscan: %s", error->message);
  g_assert_false (WIFSIGNALED (status));
  if (WEXITSTATUS (status) != 0)
    g_test_message ("gvscan %s: exit %d: %s", first, WEXITSTATUS (status), err);
  if (out)
    *out = g_steal_pointer (&stdout_text);
  return WEXITSTATUS (status);
}

static void
test_cli (void)
{
  const char *build = g_getenv ("GV_BUILD_DIR");
  g_autofree char *exe = g_build_filename (build ? build : ".", "app", "gvscan", NULL);
  g_autofree char *db = g_build_filename (tmpdir, "cli.db", NULL);
  g_autofree char *scan = g_build_filename (tmpdir, "cli-scan", NULL);
  g_autofree char *video = g_build_filename (scan, "scan.mp4", NULL);
  g_autofree char *moved = g_build_filename (tmpdir, "moved.mp4", NULL);
  g_autofree char *out1 = g_build_filename (tmpdir, "cli-out1", NULL);
  g_autofree char *exp = g_build_filename (tmpdir, "cli-export", NULL);
  g_autofree char *letter = g_build_filename (tmpdir, "cli-letter.pdf", NULL);
  g_autofree char *text = NULL;
  g_autoptr (JsonParser) pa = json_parser_new (), pb = json_parser_new ();

  if (!g_file_test (exe, G_FILE_TEST_IS_EXECUTABLE) || gvscan (NULL, "runs", "--help", NULL) != 0)
    {
      g_test_skip ("gvscan was built without the run store");
      return;
    }
  g_assert_cmpint (gvscan (NULL, "synth", "--out", scan, "--seed", "3", "--frames", "45", "--width",
                           "480", "--height", "270", "--quiet", NULL), ==, 0);
  /* No database yet: list says so. */
  g_assert_cmpint (gvscan (&text, "runs", "--db", db, "list", NULL), ==, 0);
  g_assert_nonnull (strstr (text, "does not exist"));
  g_clear_pointer (&text, g_free);

  g_assert_cmpint (gvscan (NULL, "analyze", video, "--db", db, "--out", out1, "--scan-id", "scan-cli",
                           "-q", NULL), ==, 0);
  /* Other parameters: a new run, never an overwrite. */
  g_assert_cmpint (gvscan (NULL, "analyze", video, "--db", db, "--out", "cli-out2", "--set",
                           "motion-gate=0.8", "-q", NULL), ==, 0);
  g_assert_cmpint (gvscan (NULL, "analyze", video, "--no-store", "--out", "cli-out3", "-q", NULL), ==, 0);
  g_assert_cmpint (gvscan (NULL, "analyze", "no-such-video.mp4", "--db", db, "--out", "cli-out4", "-q", NULL), ==, 1);
  g_assert_cmpint (gvscan (&text, "runs", "--db", db, "list", NULL), ==, 0);
  g_assert_nonnull (strstr (text, "scan-cli"));
  g_assert_nonnull (strstr (text, "failed"));
  g_assert_null (strstr (text, "    4  "));
  g_clear_pointer (&text, g_free);
  g_assert_cmpint (gvscan (&text, "runs", "--db", db, "show", "3", NULL), ==, 0);
  g_assert_nonnull (strstr (text, "failed"));
  g_assert_nonnull (strstr (text, "no-such-video.mp4"));
  g_clear_pointer (&text, g_free);
  g_assert_cmpint (gvscan (&text, "runs", "--db", db, "show", "1", NULL), ==, 0);
  g_assert_nonnull (strstr (text, "sha-256"));
  g_assert_nonnull (strstr (text, "golden_frame_00"));
  g_clear_pointer (&text, g_free);

  /* The video moves away; the run still exports in full from the store. */
  g_assert_cmpint (g_rename (video, moved), ==, 0);
  g_assert_cmpint (gvscan (NULL, "runs", "--db", db, "export", "1", "--out", exp, NULL), ==, 0);
  {
    static const char *files[] = { "report.pdf", "result.json", "worker.json", "frames.csv",
                                   "defects.csv", "regions.csv" };
    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *p = g_build_filename (exp, files[i], NULL);
        g_assert_true (g_file_test (p, G_FILE_TEST_IS_REGULAR));
      }
    assert_no_temporaries (exp);
  }
  /* Reopened, the run is what analyze wrote: the same result.json, the same images. */
  {
    g_autofree char *a = g_build_filename (out1, "result.json", NULL);
    g_autofree char *b = g_build_filename (exp, "result.json", NULL);
    g_autoptr (GDir) d = g_dir_open (out1, 0, NULL);
    const char *name;
    g_assert_true (json_parser_load_from_file (pa, a, NULL));
    g_assert_true (json_parser_load_from_file (pb, b, NULL));
    g_assert_true (json_node_equal (json_parser_get_root (pa), json_parser_get_root (pb)));
    while ((name = g_dir_read_name (d)))
      if (g_str_has_suffix (name, ".png"))
        {
          g_autofree char *x = g_build_filename (out1, name, NULL), *y = g_build_filename (exp, name, NULL);
          g_autofree char *dx = NULL, *dy = NULL;
          gsize nx, ny;
          g_assert_true (g_file_get_contents (x, &dx, &nx, NULL));
          g_assert_true (g_file_get_contents (y, &dy, &ny, NULL));
          g_assert_cmpmem (dx, nx, dy, ny);
        }
  }
  g_assert_cmpint (gvscan (NULL, "export", "latest", "--db", db, "--pdf", letter, "--letter", NULL), ==, 0);
  g_assert_true (g_file_test (letter, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (gvscan (NULL, "export", "3", "--db", db, "--json", "x.json", NULL), ==, 1);
  g_assert_cmpint (gvscan (NULL, "export", "99", "--db", db, "--json", "x.json", NULL), ==, 1);

  g_assert_cmpint (gvscan (&text, "compare", "1", "1", "--db", db, NULL), ==, 0);
  g_assert_nonnull (strstr (text, "frames.sharpness"));
  g_assert_nonnull (strstr (text, "all outputs within tolerance"));
  g_clear_pointer (&text, g_free);

  g_assert_cmpint (gvscan (&text, "runs", "--db", db, "delete", "2", NULL), ==, 0);
  g_clear_pointer (&text, g_free);
  g_assert_cmpint (gvscan (NULL, "runs", "--db", db, "show", "2", NULL), ==, 1);
  g_assert_cmpint (gvscan (NULL, "runs", "--db", db, "frobnicate", "2", NULL), ==, 2);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *db = NULL;
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("gv-test-report-XXXXXX", &error);
  g_assert_no_error (error);
  db = g_build_filename (tmpdir, "runs.db", NULL);
  store = gv_store_open (db, GV_STORE_OPEN_READ_WRITE, &error);
  g_assert_no_error (error);

  g_test_add_func ("/gv/report/pdf-full", test_pdf_full);
  g_test_add_func ("/gv/report/pdf-minimal-letter", test_pdf_minimal_letter);
  g_test_add_func ("/gv/report/pdf-failed-run", test_pdf_failed_run);
  g_test_add_func ("/gv/report/write-failure", test_pdf_write_failure);
  g_test_add_func ("/gv/report/compare", test_compare);
  g_test_add_func ("/gv/report/csv", test_csv);
  g_test_add_func ("/gv/report/json", test_json);
  g_test_add_func ("/gv/report/cli", test_cli);
  rc = g_test_run ();
  gv_store_close (store);
  gv_report_shutdown ();
  if (!g_getenv ("GV_KEEP_TEST_FILES"))
    {
      g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", tmpdir);
      (void) !system (rm);
    }
  else
    g_printerr ("# kept %s\n", tmpdir);
  g_free (tmpdir);
  return rc;
}
