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
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_gvscan (&out, &err, "analyze", "x.mp4", "--decode", "tpu", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--decode"));
}

/* --decode gpu where GPU decoding is not possible (no CUDA device, as in CI) stops with the
 * reason and writes nothing; --decode auto on the CPU backend decodes on the CPU silently. */
static void
test_decode_where (void)
{
  g_autofree char *out = NULL, *err = NULL, *dir = g_build_filename (tmpdir, "dec", NULL);
  g_autofree char *json = g_build_filename (dir, "result.json", NULL);
  g_autofree char *scan = g_build_filename (scan_dir (), "scan.mp4", NULL);
  int rc = run_gvscan (&out, &err, "analyze", scan, "--decode", "gpu", "--out", dir, NULL);

  if (rc == 0)
    {
      g_test_skip ("GPU decoding works on this machine; the refusal is not testable here");
      return;
    }
  g_assert_cmpint (rc, ==, 1);
  g_assert_nonnull (strstr (err, "GPU decoding was asked for but is off"));
  g_assert_false (g_file_test (json, G_FILE_TEST_EXISTS));
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_gvscan (&out, &err, "analyze", scan, "--backend", "cpu", "--decode", "auto",
                               "--out", dir, NULL), ==, 0);
  g_assert_null (strstr (err, "decoding:"));
  g_assert_true (g_file_test (json, G_FILE_TEST_EXISTS));
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

/* The synthetic scan as YUV4MPEG2 (4:2:0, BT.601 limited range: what ffmpeg -f yuv4mpegpipe
 * writes): the Y plane as decoded, chroma from the decoded RGB averaged over 2x2. */
static const char *
scan_y4m (gsize *size)
{
  static char *path;
  static gsize len;

  if (!path)
    {
      g_autofree char *video = g_build_filename (scan_dir (), "scan.mp4", NULL);
      GString *y4m = g_string_new (NULL);
      GvFrameSource *src = NULL;
      const GvFrame *fr;
      const GvMediaInfo *info;
      int w, h, rc;

      g_assert_cmpint (gv_frame_source_open (video, NULL, &src), ==, 0);
      info = gv_frame_source_info (src);
      w = info->width;
      h = info->height;
      g_string_append_printf (y4m, "YUV4MPEG2 W%d H%d F%ld:1000 Ip A1:1 C420jpeg XYSCSS=420JPEG\n",
                              w, h, lround (info->fps * 1000));
      while ((rc = gv_frame_source_next (src, &fr)) == 1)
        {
          GvKeptFrame *kf = gv_frame_source_keep (src);
          GvImage *rgb = gv_kept_frame_to_rgb (kf);
          g_autofree guint8 *u = g_malloc ((gsize) (w / 2) * (h / 2));
          g_autofree guint8 *v = g_malloc ((gsize) (w / 2) * (h / 2));
          g_assert_nonnull (rgb);
          g_string_append (y4m, "FRAME\n");
          for (int y = 0; y < h; y++)
            g_string_append_len (y4m, (const char *) gv_image_row_u8 (&fr->luma, y), w);
          for (int y = 0; y < h / 2; y++)
            for (int x = 0; x < w / 2; x++)
              {
                double r = 0, g = 0, b = 0;
                for (int k = 0; k < 4; k++)
                  {
                    const guint8 *px = gv_image_row_u8 (rgb, 2 * y + k / 2) + 3 * (2 * x + k % 2);
                    r += px[0] / 4.0;
                    g += px[1] / 4.0;
                    b += px[2] / 4.0;
                  }
                u[y * (w / 2) + x] = (guint8) CLAMP (lround (128 + (-0.1687 * r - 0.3313 * g + 0.5 * b) * 224 / 255), 16, 240);
                v[y * (w / 2) + x] = (guint8) CLAMP (lround (128 + (0.5 * r - 0.4187 * g - 0.0813 * b) * 224 / 255), 16, 240);
              }
          g_string_append_len (y4m, (const char *) u, (w / 2) * (h / 2));
          g_string_append_len (y4m, (const char *) v, (w / 2) * (h / 2));
          gv_image_free (rgb);
          gv_kept_frame_free (kf);
        }
      g_assert_cmpint (rc, ==, 0);
      gv_frame_source_free (src);
      path = g_build_filename (tmpdir, "scan.y4m", NULL);
      len = y4m->len;
      g_assert_true (g_file_set_contents (path, y4m->str, (gssize) y4m->len, NULL));
      g_string_free (y4m, TRUE);
    }
  if (size)
    *size = len;
  return path;
}

/* cat FILE | gvscan analyze - --out outdir --db db, FILE holding len bytes of data: a real pipe,
 * never seekable. Returns gvscan's exit status and its stderr. */
static int
pipe_gvscan (const char *data, gsize len, const char *outdir, const char *db, char **err)
{
  g_autofree char *file = g_build_filename (tmpdir, "stdin.bin", NULL);
  const char *argv[] = { "/bin/sh", "-c", "cat \"$1\" | \"$2\" analyze - --out \"$3\" --db \"$4\" --quiet",
                         "sh", file, gvscan, outdir, db, NULL };
  g_autoptr (GError) error = NULL;
  int status = -1;

  g_assert_true (g_file_set_contents (file, data, (gssize) len, NULL));
  if (!g_spawn_sync (tmpdir, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                     err, &status, &error))
    g_error ("cannot run gvscan: %s", error->message);
  g_unlink (file);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static char *
json_member_text (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  g_assert_nonnull (n);
  return json_to_string (n, FALSE);
}

/* ffmpeg -i scan.mp4 -f yuv4mpegpipe - | gvscan analyze -: the same frames, metrics, golden
 * frames (bytes of their PNGs), covers, defects and grade as analysing the same Y4M file; a
 * stream cut inside a frame is a partial result naming the cause; a foreign or empty stream a
 * clear error, exit 1 and nothing written. */
static void
test_stdin (void)
{
  gsize len;
  const char *y4m = scan_y4m (&len);
  g_autofree char *fdir = g_build_filename (tmpdir, "out-y4m-file", NULL);
  g_autofree char *pdir = g_build_filename (tmpdir, "out-y4m-pipe", NULL);
  g_autofree char *tdir = g_build_filename (tmpdir, "out-y4m-cut", NULL);
  g_autofree char *gdir = g_build_filename (tmpdir, "out-y4m-garbage", NULL);
  g_autofree char *db = g_build_filename (tmpdir, "stdin.db", NULL);
  g_autofree char *fjson = g_build_filename (fdir, "result.json", NULL);
  g_autofree char *pjson = g_build_filename (pdir, "result.json", NULL);
  g_autofree char *tjson = g_build_filename (tdir, "result.json", NULL);
  g_autofree char *gjson = g_build_filename (gdir, "result.json", NULL);
  g_autofree char *out = NULL, *err = NULL, *data = NULL, *list = NULL, *lerr = NULL;
  g_autofree char *mp4 = g_build_filename (scan_dir (), "scan.mp4", NULL);
  g_autoptr (JsonNode) froot = NULL, proot = NULL, troot = NULL;
  static const char *same[] = { "parameters", "backend", "analysis_resolution", "summary", "flags",
                                "golden_frames", "frames", "defectPercentage", "damageScore",
                                "regionScores", "regionDetails", "defects", "grade" };
  JsonObject *fo, *po, *fv, *pv;
  JsonArray *golden;
  gsize frame_bytes;
  int st;

  g_assert_true (g_file_get_contents (y4m, &data, &len, NULL));
  st = run_gvscan (&out, &err, "analyze", y4m, "--out", fdir, "--db", db, "--quiet", NULL);
  g_assert_cmpint (st, ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  st = pipe_gvscan (data, len, pdir, db, &err);
  g_test_message ("stdin: exit %d: %s", st, err);
  g_assert_cmpint (st, ==, 0);
  g_clear_pointer (&err, g_free);
  froot = load_json (fjson);
  proot = load_json (pjson);
  fo = json_node_get_object (froot);
  po = json_node_get_object (proot);
  for (guint i = 0; i < G_N_ELEMENTS (same); i++)
    {
      g_autofree char *a = json_member_text (fo, same[i]);
      g_autofree char *b = json_member_text (po, same[i]);
      if (g_strcmp0 (a, b))
        g_error ("%s differs between the file and standard input", same[i]);
    }
  fv = json_object_get_object_member (fo, "video");
  pv = json_object_get_object_member (po, "video");
  g_assert_cmpstr (json_object_get_string_member (pv, "path"), ==, "-");
  g_assert_cmpint (json_object_get_int_member (pv, "file_size"), ==, (gint64) len);
  g_assert_cmpint (json_object_get_int_member (pv, "frames_decoded"), ==, 90);
  g_assert_cmpint (json_object_get_int_member (fv, "frames_decoded"), ==, 90);
  g_assert_false (json_object_get_boolean_member (pv, "partial"));
  golden = json_object_get_array_member (po, "golden_frames");
  g_assert_cmpuint (json_array_get_length (golden), >=, 1);
  for (guint i = 0; i < json_array_get_length (golden); i++)
    {
      const char *name = json_object_get_string_member (json_array_get_object_element (golden, i), "image");
      g_autofree char *a = g_build_filename (fdir, name, NULL), *b = g_build_filename (pdir, name, NULL);
      g_autofree char *da = NULL, *dbb = NULL;
      gsize la, lb;
      g_assert_true (g_file_get_contents (a, &da, &la, NULL));
      g_assert_true (g_file_get_contents (b, &dbb, &lb, NULL));
      g_assert_true (la == lb && memcmp (da, dbb, la) == 0);
    }

  /* Cut inside frame 40: the 40 whole frames are analysed, the result says why it is partial. */
  frame_bytes = 6 + 640 * 360 * 3 / 2;
  st = pipe_gvscan (data, (gsize) (strchr (data, '\n') - data + 1) + 40 * frame_bytes + 1000, tdir,
                    db, &err);
  g_test_message ("cut: exit %d: %s", st, err);
  g_assert_cmpint (st, ==, 3);
  g_assert_nonnull (strstr (err, "standard input"));
  g_assert_nonnull (strstr (err, "the stream ends inside frame 40"));
  troot = load_json (tjson);
  fv = json_object_get_object_member (json_node_get_object (troot), "video");
  g_assert_true (json_object_get_boolean_member (fv, "partial"));
  g_assert_cmpint (json_object_get_int_member (fv, "frames_decoded"), ==, 40);
  g_clear_pointer (&err, g_free);

  /* An MP4 piped in by mistake, and an empty stream. */
  {
    g_autofree char *m = NULL;
    gsize ml;
    g_assert_true (g_file_get_contents (mp4, &m, &ml, NULL));
    st = pipe_gvscan (m, ml, gdir, db, &err);
    g_test_message ("mp4: exit %d: %s", st, err);
    g_assert_cmpint (st, ==, 1);
    g_assert_nonnull (strstr (err, "standard input: not a YUV4MPEG2 stream"));
    g_assert_false (g_file_test (gjson, G_FILE_TEST_EXISTS));
    g_clear_pointer (&err, g_free);
  }
  st = pipe_gvscan ("", 0, gdir, db, &err);
  g_test_message ("empty: exit %d: %s", st, err);
  g_assert_cmpint (st, ==, 1);
  g_assert_nonnull (strstr (err, "standard input: no data arrived"));
  g_assert_false (g_file_test (gjson, G_FILE_TEST_EXISTS));
  g_clear_pointer (&err, g_free);
  /* Garbage after three good frames. */
  {
    gsize head = (gsize) (strchr (data, '\n') - data + 1) + 3 * frame_bytes;
    g_autofree char *bad = g_malloc (head + 5000);
    memcpy (bad, data, head);
    memset (bad + head, 'x', 5000);
    st = pipe_gvscan (bad, head + 5000, gdir, db, &err);
    g_test_message ("garbage: exit %d: %s", st, err);
    g_assert_cmpint (st, ==, 3);
    g_assert_nonnull (strstr (err, "frame 3 does not start with a FRAME line"));
    g_clear_pointer (&err, g_free);
  }
  /* The store holds the stdin runs under the scan id "stdin", with no path to a file. */
  g_assert_cmpint (run_gvscan (&list, &lerr, "runs", "list", "--db", db, NULL), ==, 0);
  g_test_message ("%s", list);
  g_assert_nonnull (strstr (list, " stdin "));
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
  g_test_add_func ("/gv/analyze/stdin", test_stdin);
  g_test_add_func ("/gv/analyze/decode-where", test_decode_where);
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
