/* test-analyze.c: gvscan end to end on synthetic scans with ground truth (gvscan synth), and
 * bad input through the command line: a clear message naming the file, a non-zero exit, never a
 * crash or a hang. */
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "gv-media.h"

static char *gvscan;
static char *tmpdir;

/* A full disk, as the program sees it: writes past this many bytes of a file fail (EFBIG)
 * instead of raising SIGXFSZ. 0 = no limit. */
static rlim_t file_size_limit;

static void
limit_file_size (gpointer data)
{
  if (file_size_limit)
    {
      struct rlimit rl = { file_size_limit, file_size_limit };
      signal (SIGXFSZ, SIG_IGN);
      setrlimit (RLIMIT_FSIZE, &rl);
    }
}

/* Runs gvscan with args; returns the exit status, stdout and stderr. */
static int
run_gvscan (char **out, char **err, const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int status = -1;
  va_list ap;

  g_ptr_array_add (argv, gvscan);
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (tmpdir, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, limit_file_size, NULL,
                     out, err, &status, &error))
    g_error ("cannot run gvscan: %s", error->message);
  if (WIFSIGNALED (status))
    g_error ("gvscan died of signal %d: %s", WTERMSIG (status), err && *err ? *err : "");
  return WEXITSTATUS (status);
}

static JsonNode *
load_json (const char *path)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;

  if (!json_parser_load_from_file (p, path, &error))
    g_error ("%s: %s", path, error->message);
  return json_node_copy (json_parser_get_root (p));
}

/* One synthetic scan shared by the tests: 640x360, 90 frames. */
static const char *
scan_dir (void)
{
  static char *dir;

  if (!dir)
    {
      g_autofree char *out = NULL, *err = NULL;
      dir = g_build_filename (tmpdir, "scan", NULL);
      int st = run_gvscan (&out, &err, "synth", "--out", dir, "--seed", "4", "--frames", "90",
                           "--width", "640", "--height", "360", "--quiet", NULL);
      if (st != 0)
        g_error ("gvscan synth failed (%d): %s", st, err);
    }
  return dir;
}

static void
test_analyze_synthetic (void)
{
  const char *dir = scan_dir ();
  g_autofree char *video = g_build_filename (dir, "scan.mp4", NULL);
  g_autofree char *outdir = g_build_filename (tmpdir, "out1", NULL);
  g_autofree char *json = g_build_filename (outdir, "result.json", NULL);
  g_autofree char *truth_path = g_build_filename (dir, "truth.json", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) root = NULL, truth = NULL;
  JsonObject *o;
  JsonArray *golden, *frames, *tframes;

  int st = run_gvscan (&out, &err, "analyze", video, "--out", outdir, NULL);
  g_test_message ("%s", out);
  g_assert_cmpint (st, ==, 0);
  g_assert_nonnull (strstr (out, "Frame Analysis"));
  root = load_json (json);
  truth = load_json (truth_path);
  o = json_node_get_object (root);
  frames = json_object_get_array_member (o, "frames");
  tframes = json_object_get_array_member (json_node_get_object (truth), "frames");
  g_assert_cmpint (json_array_get_length (frames), ==, 90);
  g_assert_cmpint (json_array_get_length (tframes), ==, 90);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (o, "video"), "width"),
                   ==, 640);
  golden = json_object_get_array_member (o, "golden_frames");
  g_assert_cmpint (json_array_get_length (golden), >=, 1);
  for (guint i = 0; i < json_array_get_length (golden); i++)
    {
      JsonObject *g = json_array_get_object_element (golden, i);
      int idx = (int) json_object_get_int_member (g, "index");
      JsonObject *t = json_array_get_object_element (tframes, idx);
      g_autofree char *img = g_build_filename (outdir, json_object_get_string_member (g, "image"), NULL);
      g_assert_true (g_file_test (img, G_FILE_TEST_IS_REGULAR));
      g_assert_true (json_object_get_boolean_member (t, "sharp"));
      g_assert_cmpfloat (json_object_get_double_member (t, "true_flow_cover"), <, 1.0);
      /* Timestamps come from the container and match the synthetic ones. */
      g_assert_cmpfloat (fabs (json_object_get_double_member (g, "pts")
                               - json_object_get_double_member (t, "pts")), <, 1e-3);
      JsonObject *c = json_object_get_object_member (g, "cover");
      if (json_object_get_boolean_member (c, "found"))
        {
          g_autofree char *wp = g_build_filename (outdir, json_object_get_string_member (c, "warped"), NULL);
          g_assert_true (g_file_test (wp, G_FILE_TEST_IS_REGULAR));
        }
    }
}

static void
test_truncated_is_partial (void)
{
  const char *dir = scan_dir ();
  g_autofree char *video = g_build_filename (dir, "scan.mp4", NULL);
  g_autofree char *cut = g_build_filename (tmpdir, "cut.mp4", NULL);
  g_autofree char *outdir = g_build_filename (tmpdir, "out-cut", NULL);
  g_autofree char *json = g_build_filename (outdir, "result.json", NULL);
  g_autofree char *data = NULL, *out = NULL, *err = NULL;
  g_autoptr (JsonNode) root = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (video, &data, &len, NULL));
  g_assert_true (g_file_set_contents (cut, data, (gssize) (len * 6 / 10), NULL));
  int st = run_gvscan (&out, &err, "analyze", cut, "--out", outdir, "--quiet", NULL);
  g_test_message ("exit %d: %s", st, err);
  if (st == 1)
    {
      /* Nothing decodable at all is acceptable only with a message naming the file. */
      g_assert_nonnull (strstr (err, "cut.mp4"));
      return;
    }
  g_assert_cmpint (st, ==, 3);
  g_assert_nonnull (strstr (err, "partial"));
  root = load_json (json);
  JsonObject *v = json_object_get_object_member (json_node_get_object (root), "video");
  g_assert_true (json_object_get_boolean_member (v, "partial"));
  g_assert_cmpint (json_object_get_int_member (v, "frames_decoded"), <, 90);
  g_assert_cmpint (json_object_get_int_member (v, "frames_decoded"), >, 0);
}

static void
check_bad (const char *path, const char *name_in_message)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *outdir = g_build_filename (tmpdir, "out-bad", NULL);
  int st = run_gvscan (&out, &err, "analyze", path, "--out", outdir, "--quiet", NULL);

  g_test_message ("%s -> exit %d: %s", path, st, err);
  g_assert_cmpint (st, ==, 1);
  g_assert_nonnull (strstr (err, name_in_message));
}

static void
test_bad_input (void)
{
  g_autofree char *empty = g_build_filename (tmpdir, "empty.mp4", NULL);
  g_autofree char *text = g_build_filename (tmpdir, "notes.mp4", NULL);
  g_autofree char *fifo = g_build_filename (tmpdir, "fifo.mp4", NULL);
  g_autofree char *dir = g_build_filename (tmpdir, "adir.mp4", NULL);

  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  g_assert_true (g_file_set_contents (text, "this is not a video\n", -1, NULL));
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  check_bad (empty, "empty.mp4");
  check_bad (text, "notes.mp4");
  check_bad (fifo, "fifo.mp4");
  check_bad (dir, "adir.mp4");
  check_bad ("/nonexistent/scan.mp4", "scan.mp4");
  check_bad ("concat:nothing.mp4", "nothing.mp4");
}

static void
test_bad_usage (void)
{
  g_autofree char *out = NULL, *err = NULL;

  g_assert_cmpint (run_gvscan (&out, &err, "analyze", NULL), ==, 2);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_gvscan (&out, &err, "analyze", "x.mp4", "--set", "levels=99", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "levels"));
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_gvscan (&out, &err, "analyze", "x.mp4", "--backend", "tpu", NULL), ==, 2);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_gvscan (&out, &err, "frobnicate", NULL), ==, 2);
}

static void
test_flow_command (void)
{
  const char *dir = scan_dir ();
  g_autofree char *video = g_build_filename (dir, "scan.mp4", NULL);
  g_autofree char *flo = g_build_filename (tmpdir, "f.flo", NULL);
  g_autofree char *png = g_build_filename (tmpdir, "f.png", NULL);
  g_autofree char *out = NULL, *err = NULL, *data = NULL;
  gsize len;
  gint32 wh[2];

  int st = run_gvscan (&out, &err, "flow", video, "--frame", "5", "--out", flo, "--png", png, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (st, ==, 0);
  g_assert_true (g_file_get_contents (flo, &data, &len, NULL));
  g_assert_cmpint (len, ==, 12 + 640 * 360 * 8);
  g_assert_cmpint (memcmp (data, "PIEH", 4), ==, 0);
  memcpy (wh, data + 4, 8);
  g_assert_cmpint (wh[0], ==, 640);
  g_assert_cmpint (wh[1], ==, 360);
  g_assert_true (g_file_test (png, G_FILE_TEST_IS_REGULAR));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_gvscan (&out, &err, "flow", video, "--frame", "5000", "--out", flo, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "5000"));
}

static void
test_rotated_and_vfr (void)
{
  g_autofree char *dir = g_build_filename (tmpdir, "rot", NULL);
  g_autofree char *video = g_build_filename (dir, "scan.mp4", NULL);
  g_autofree char *outdir = g_build_filename (tmpdir, "out-rot", NULL);
  g_autofree char *json = g_build_filename (outdir, "result.json", NULL);
  g_autofree char *tpath = g_build_filename (dir, "truth.json", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) root = NULL, truth = NULL;

  int st = run_gvscan (&out, &err, "synth", "--out", dir, "--seed", "9", "--frames", "30",
                       "--width", "360", "--height", "640", "--rotate", "90", "--vfr", "--quiet",
                       NULL);
  g_assert_cmpint (st, ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  st = run_gvscan (&out, &err, "analyze", video, "--out", outdir, "--quiet", "--set", "min-gap=5",
                   NULL);
  g_assert_cmpint (st, ==, 0);
  root = load_json (json);
  truth = load_json (tpath);
  JsonObject *v = json_object_get_object_member (json_node_get_object (root), "video");
  g_assert_cmpint (json_object_get_int_member (v, "rotation"), ==, 90);
  g_assert_cmpint (json_object_get_int_member (v, "width"), ==, 360);
  g_assert_cmpint (json_object_get_int_member (v, "height"), ==, 640);
  JsonArray *fr = json_object_get_array_member (json_node_get_object (root), "frames");
  JsonArray *tf = json_object_get_array_member (json_node_get_object (truth), "frames");
  g_assert_cmpint (json_array_get_length (fr), ==, 30);
  double t0 = json_object_get_double_member (json_array_get_object_element (tf, 0), "pts");
  for (guint i = 0; i < 30; i++)
    g_assert_cmpfloat (fabs (json_object_get_double_member (json_array_get_object_element (fr, i), "pts")
                             - (json_object_get_double_member (json_array_get_object_element (tf, i), "pts") - t0)),
                       <, 1e-3);
  /* Upright: the golden frames' corners match the truth, which is in upright coordinates. */
  JsonArray *golden = json_object_get_array_member (json_node_get_object (root), "golden_frames");
  for (guint i = 0; i < json_array_get_length (golden); i++)
    {
      JsonObject *g = json_array_get_object_element (golden, i);
      JsonObject *c = json_object_get_object_member (g, "cover");
      if (!json_object_get_boolean_member (c, "found"))
        continue;
      JsonArray *corners = json_object_get_array_member (c, "corners");
      JsonObject *t = json_array_get_object_element (tf, (guint) json_object_get_int_member (g, "index"));
      JsonArray *tc = json_object_get_array_member (t, "corners");
      for (guint k = 0; k < 4; k++)
        {
          JsonArray *pt = json_array_get_array_element (corners, k);
          double ex = json_array_get_double_element (pt, 0) - json_array_get_double_element (tc, 2 * k);
          double ey = json_array_get_double_element (pt, 1) - json_array_get_double_element (tc, 2 * k + 1);
          g_assert_cmpfloat (hypot (ex, ey), <, 3.0);
        }
    }
}

/* A disk that fills during the output: a clear error naming the file, exit 1, no file that
 * looks complete but is not, the run marked failed and the earlier run intact. */
static void
test_full_disk (void)
{
  const char *dir = scan_dir ();
  g_autofree char *video = g_build_filename (dir, "scan.mp4", NULL);
  g_autofree char *db = g_build_filename (tmpdir, "full.db", NULL);
  g_autofree char *ok_dir = g_build_filename (tmpdir, "out-full-ok", NULL);
  g_autofree char *out_dir = g_build_filename (tmpdir, "out-full", NULL);
  g_autofree char *out = NULL, *err = NULL, *list = NULL, *lerr = NULL;
  g_autoptr (GDir) d = NULL;
  const char *name;
  int n_png = 0;

  g_assert_cmpint (run_gvscan (&out, &err, "analyze", video, "--out", ok_dir, "--db", db,
                               "--quiet", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* 640x360 golden frames fit in 1 MB; the 1060x1640 warped covers do not. */
  file_size_limit = 1 << 20;
  int st = run_gvscan (&out, &err, "analyze", video, "--out", out_dir, "--db", db, "--quiet",
                       NULL);
  file_size_limit = 0;
  g_test_message ("exit %d: %s", st, err);
  g_assert_cmpint (st, ==, 1);
  /* Whichever write hits the limit first (a PNG, the JSON or the database), the message names
   * that file. */
  g_assert_true (strstr (err, out_dir) != NULL || strstr (err, db) != NULL);
  /* Every file left in the output directory is complete: PNGs decode, no temporary names. */
  d = g_dir_open (out_dir, 0, NULL);
  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (out_dir, name, NULL);
      g_test_message ("left: %s", name);
      if (g_str_equal (name, "result.json"))
        {
          g_autoptr (JsonNode) j = load_json (path); /* aborts when truncated */
          continue;
        }
      g_assert_true (g_str_has_suffix (name, ".png"));
      GvImage *img = gv_png_read (path);
      g_assert_nonnull (img);
      gv_image_free (img);
      n_png++;
    }
  g_assert_cmpint (n_png, >=, 1);
  /* The store: the first run done and intact, the second failed. */
  g_assert_cmpint (run_gvscan (&list, &lerr, "runs", "list", "--db", db, NULL), ==, 0);
  g_test_message ("%s", list);
  g_auto (GStrv) lines = g_strsplit (list, "\n", -1);
  int done = 0, failed = 0;
  for (char **l = lines; *l; l++)
    {
      done += strstr (*l, " done ") != NULL;
      failed += strstr (*l, " failed ") != NULL;
    }
  g_assert_cmpint (done, ==, 1);
  g_assert_cmpint (failed, ==, 1);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  const char *build = g_getenv ("GV_BUILD_DIR");
  int rc;

  g_test_init (&argc, &argv, NULL);
  gvscan = g_build_filename (build ? build : ".", "app", "gvscan", NULL);
  tmpdir = g_dir_make_tmp ("gv-analyze-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_add_func ("/gv/analyze/synthetic", test_analyze_synthetic);
  g_test_add_func ("/gv/analyze/truncated-is-partial", test_truncated_is_partial);
  g_test_add_func ("/gv/analyze/bad-input", test_bad_input);
  g_test_add_func ("/gv/analyze/bad-usage", test_bad_usage);
  g_test_add_func ("/gv/analyze/flow", test_flow_command);
  g_test_add_func ("/gv/analyze/rotated-vfr", test_rotated_and_vfr);
  g_test_add_func ("/gv/analyze/full-disk", test_full_disk);
  rc = g_test_run ();
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", tmpdir);
  }
  g_free (gvscan);
  g_free (tmpdir);
  return rc;
}
