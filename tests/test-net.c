/* test-net.c: core/net and gvscan's worker mode against a loopback HTTP server
 * (tests/gv-net-server.py on 127.0.0.1) that injects the faults a worker meets: error statuses,
 * 500 then success, redirect loops, an endless chunked body, truncated bodies with and without
 * Range, a slow drip, a web page; Storage refusals (401, 400 carrying 403 or 409, 413) and checks
 * of every header, path and body of the uploads and progress PATCHes. */
#include <curl/curl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "gv-net.h"

static GSubprocess *server;
static char *base;      /* http://127.0.0.1:PORT */
static char *video;     /* the file the server serves */
static char *video_sha;
static char *tmpdir;
#define KEY "sk-test-SECRET-4f2a9c"

static char *
url (const char *path)
{
  return g_strconcat (base, path, NULL);
}

static void
fast_options (GvDownloadOptions *o)
{
  gv_download_options_init_default (o);
  o->backoff_s = 0.05;
  o->max_attempts = 3;
  o->total_timeout_s = 20;
}

/* Downloads path; checks the outcome and that nothing is left behind on failure. */
static gboolean
fetch (const char *path, const GvDownloadOptions *o, GvDownloadResult *res, GError **error)
{
  g_autofree char *u = url (path);
  g_autofree char *dest = g_build_filename (tmpdir, "video.mp4", NULL);
  g_autofree char *part = g_strconcat (dest, ".part", NULL);
  gboolean ok;

  g_unlink (dest);
  ok = gv_download_file (u, dest, o, res, error);
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_file_test (dest, G_FILE_TEST_EXISTS), ==, ok);
  return ok;
}

static void
expect_video (const char *path, int attempts, gboolean resumed)
{
  GvDownloadOptions o;
  GvDownloadResult res = { 0 };
  g_autoptr (GError) error = NULL;

  fast_options (&o);
  g_assert_true (fetch (path, &o, &res, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (res.sha256, ==, video_sha);
  g_assert_cmpint (res.attempts, ==, attempts);
  g_assert_cmpint (res.resumed, ==, resumed);
  g_assert_cmpstr (res.content_type, ==, "video/mp4");
  gv_download_result_clear (&res);
}

static void
expect_error (const char *path, const GvDownloadOptions *o, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  GvDownloadResult res = { 0 };

  g_assert_false (fetch (path, o, &res, &error));
  g_assert_error (error, GV_NET_ERROR, code);
  if (g_test_verbose ())
    g_printerr ("%s: %s\n", path, error->message);
  g_assert_nonnull (strstr (error->message, needle));
  g_assert_null (res.sha256);
  gv_download_result_clear (&res);
}

static void
test_ok (void)
{
  expect_video ("/video.mp4", 1, FALSE);
  expect_video ("/redirect", 1, FALSE);
}

static void
test_status (void)
{
  GvDownloadOptions o;

  fast_options (&o);
  expect_error ("/missing.mp4?token=secret", &o, GV_NET_ERROR_HTTP, "HTTP 404");
  expect_error ("/always500", &o, GV_NET_ERROR_HTTP, "after 3 attempts: ");
  expect_error ("/always500", &o, GV_NET_ERROR_HTTP, "HTTP 500");
  {
    /* The query (a signed URL's token) never appears in messages. */
    g_autoptr (GError) error = NULL;
    g_assert_false (fetch ("/missing.mp4?token=secret", &o, NULL, &error));
    g_assert_null (strstr (error->message, "secret"));
  }
}

static void
test_retry (void)
{
  expect_video ("/flaky.mp4", 3, FALSE);
}

static void
test_resume (void)
{
  expect_video ("/truncate-once.mp4", 2, TRUE);
  /* A server without Range support: the second attempt starts over. */
  expect_video ("/norange.mp4", 2, FALSE);
  {
    GvDownloadOptions o;
    fast_options (&o);
    expect_error ("/truncate-always.mp4", &o, GV_NET_ERROR_NETWORK, "after 3 attempts");
  }
}

static void
test_redirect_loop (void)
{
  GvDownloadOptions o;

  fast_options (&o);
  expect_error ("/loop", &o, GV_NET_ERROR_REDIRECTS, "redirect");
}

static void
test_too_large (void)
{
  GvDownloadOptions o;

  fast_options (&o);
  o.max_bytes = 1 << 20;
  expect_error ("/endless", &o, GV_NET_ERROR_TOO_LARGE, "limit");
  /* A Content-Length over the limit fails before the body. */
  o.max_bytes = 1000;
  expect_error ("/video.mp4", &o, GV_NET_ERROR_TOO_LARGE, "limit");
}

static void
test_timeout (void)
{
  GvDownloadOptions o;
  gint64 t0 = g_get_monotonic_time ();

  fast_options (&o);
  o.total_timeout_s = 1;
  expect_error ("/drip", &o, GV_NET_ERROR_TIMEOUT, "timed out");
  /* A total timeout is not retried. */
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 4 * G_USEC_PER_SEC);
}

/* A server that sends a few bytes and then nothing: a stall (retried), told apart from a slow
 * drip; a refused connection (retried). */
static void
test_stall (void)
{
  GvDownloadOptions o;
  gint64 t0 = g_get_monotonic_time ();

  g_autoptr (GError) error = NULL;

  fast_options (&o);
  o.stall_timeout_s = 1;
  o.max_attempts = 2;
  g_assert_false (fetch ("/stall", &o, NULL, &error));
  g_assert_error (error, GV_NET_ERROR, GV_NET_ERROR_TIMEOUT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "after 2 attempts: "));
  g_assert_nonnull (strstr (error->message, "the transfer stalled"));
  /* libcurl averages the speed over a few seconds: a stall is seen within about 5 s, far
   * before the 20 s total timeout. */
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 15 * G_USEC_PER_SEC);
}

static void
test_refused (void)
{
  GvDownloadOptions o;
  g_autoptr (GError) error = NULL;
  g_autofree char *dest = g_build_filename (tmpdir, "refused.mp4", NULL);

  fast_options (&o);
  /* Port 1 on loopback: nothing listens there. */
  g_assert_false (gv_download_file ("http://127.0.0.1:1/v.mp4", dest, &o, NULL, &error));
  g_assert_error (error, GV_NET_ERROR, GV_NET_ERROR_NETWORK);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "after 3 attempts: http://127.0.0.1:1/v.mp4"));
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
}

static void
test_content_type (void)
{
  GvDownloadOptions o;

  fast_options (&o);
  expect_error ("/page", &o, GV_NET_ERROR_CONTENT_TYPE, "text/html");
}

static void
test_invalid (void)
{
  GvDownloadOptions o;
  g_autoptr (GError) error = NULL;
  g_autofree char *dest = g_build_filename (tmpdir, "x.mp4", NULL);

  fast_options (&o);
  g_assert_false (gv_download_file ("file:///etc/passwd", dest, &o, NULL, &error));
  g_assert_error (error, GV_NET_ERROR, GV_NET_ERROR_INVALID);
  g_clear_error (&error);
  /* Nothing listens on port 1: refused, retried, then reported. */
  g_assert_false (gv_download_file ("http://127.0.0.1:1/v.mp4", dest, &o, NULL, &error));
  g_assert_error (error, GV_NET_ERROR, GV_NET_ERROR_NETWORK);
}

static char *
sha256_of (const char *path)
{
  g_autofree char *data = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
}

/* ---- Storage, PostgREST, webhooks ---- */

/* The server's request log (and clears it). */
static JsonArray *
server_log (JsonParser **keep)
{
  g_autofree char *u = url ("/log?clear");
  g_autofree char *dest = g_build_filename (tmpdir, "log.json", NULL);
  g_autoptr (GError) error = NULL;
  GvDownloadOptions o;

  fast_options (&o);
  g_assert_true (gv_download_file (u, dest, &o, NULL, &error));
  *keep = json_parser_new ();
  g_assert_true (json_parser_load_from_file (*keep, dest, &error));
  g_unlink (dest);
  return json_node_get_array (json_parser_get_root (*keep));
}

static JsonObject *
log_entry (JsonArray *log, guint i)
{
  g_assert_cmpuint (i, <, json_array_get_length (log));
  return json_array_get_object_element (log, i);
}

static GvSupabase *
supabase (void)
{
  g_autoptr (GError) error = NULL;
  GvSupabase *sb = gv_supabase_new_from_env (&error);

  g_assert_no_error (error);
  gv_supabase_set_retry (sb, 3, 0.05, 10);
  return sb;
}

static GBytes *
fake_png (void)
{
  static const char png[] = "\x89PNG\r\n\x1a\nnot really an image";
  return g_bytes_new_static (png, sizeof png - 1);
}

static void
test_upload (void)
{
  g_autoptr (GvSupabase) sb = supabase ();
  g_autoptr (GBytes) png = fake_png ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) p = NULL;
  g_autofree char *pub = NULL, *want = NULL;
  JsonArray *log;
  JsonObject *e;

  server_log (&p);
  g_clear_object (&p);
  g_assert_true (gv_supabase_upload (sb, "analysis-images", "scan-a/frames/golden_frame_00_f00001.png",
                                     "image/png", png, &pub, &error));
  g_assert_no_error (error);
  want = g_strconcat (base, "/storage/v1/object/public/analysis-images/scan-a/frames/"
                      "golden_frame_00_f00001.png", NULL);
  g_assert_cmpstr (pub, ==, want);
  log = server_log (&p);
  g_assert_cmpuint (json_array_get_length (log), ==, 1);
  e = log_entry (log, 0);
  g_assert_cmpstr (json_object_get_string_member (e, "method"), ==, "POST");
  g_assert_cmpstr (json_object_get_string_member (e, "path"), ==,
                   "/storage/v1/object/analysis-images/scan-a/frames/golden_frame_00_f00001.png");
  g_assert_cmpint (json_object_get_int_member (e, "status"), ==, 200);
  g_assert_cmpstr (json_object_get_string_member (e, "content_type"), ==, "image/png");
  g_assert_cmpstr (json_object_get_string_member (e, "upsert"), ==, "true");
  g_assert_cmpint (json_object_get_int_member (e, "body_len"), ==, g_bytes_get_size (png));
  g_assert_true (json_object_get_boolean_member (e, "png"));
}

/* Uploads to path, expecting failure with code and needle, after n requests. */
static void
upload_fails (GvSupabase *sb, const char *path, int code, const char *needle, guint n)
{
  g_autoptr (GBytes) png = fake_png ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) p = NULL;
  char *pub = NULL;

  g_assert_false (gv_supabase_upload (sb, "analysis-images", path, "image/png", png, &pub, &error));
  g_assert_null (pub);
  g_assert_error (error, GV_NET_ERROR, code);
  if (g_test_verbose ())
    g_printerr ("%s: %s\n", path, error->message);
  g_assert_nonnull (strstr (error->message, needle));
  g_assert_null (strstr (error->message, KEY));
  g_assert_cmpuint (json_array_get_length (server_log (&p)), ==, n);
}

static void
test_upload_faults (void)
{
  g_autoptr (GvSupabase) sb = supabase ();
  g_autoptr (GBytes) png = fake_png ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) p = NULL;

  server_log (&p);
  g_clear_object (&p);
  /* 500 then success: retried. */
  g_assert_true (gv_supabase_upload (sb, "analysis-images", "s/fail500once.png", "image/png", png,
                                     NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (server_log (&p)), ==, 2);
  /* Refusals are not retried; a 400 carrying the real status is read as that status. */
  upload_fails (sb, "s/deny.png", GV_NET_ERROR_AUTH, "HTTP 403: new row violates row-level security", 1);
  upload_fails (sb, "s/dup.png", GV_NET_ERROR_HTTP, "HTTP 409: The resource already exists", 1);
  upload_fails (sb, "s/huge.png", GV_NET_ERROR_TOO_LARGE, "HTTP 413", 1);
  {
    g_autoptr (GvSupabase) wrong = NULL;
    g_setenv ("SUPABASE_KEY", "sk-wrong", TRUE);
    wrong = supabase ();
    g_setenv ("SUPABASE_KEY", KEY, TRUE);
    upload_fails (wrong, "s/ok.png", GV_NET_ERROR_AUTH, "HTTP 401: Invalid JWT", 1);
  }
  {
    /* Storage that answers too late: retried, then a timeout naming the object. */
    g_autoptr (GError) e2 = NULL;
    gint64 t0 = g_get_monotonic_time ();
    gv_supabase_set_retry (sb, 2, 0.05, 1);
    g_assert_false (gv_supabase_upload (sb, "analysis-images", "s/slow.png", "image/png", png, NULL,
                                        &e2));
    g_assert_error (e2, GV_NET_ERROR, GV_NET_ERROR_TIMEOUT);
    g_test_message ("%s", e2->message);
    g_assert_nonnull (strstr (e2->message, "after 2 attempts: "));
    g_assert_nonnull (strstr (e2->message, "/analysis-images/s/slow.png"));
    g_assert_cmpint (g_get_monotonic_time () - t0, <, 6 * G_USEC_PER_SEC);
    server_log (&p);
    g_clear_object (&p);
  }
  g_unsetenv ("SUPABASE_KEY");
  g_assert_null (gv_supabase_new_from_env (&error));
  g_assert_error (error, GV_NET_ERROR, GV_NET_ERROR_NOT_CONFIGURED);
  g_setenv ("SUPABASE_KEY", KEY, TRUE);
}

static void
test_progress (void)
{
  g_autoptr (GvSupabase) sb = supabase ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) p = NULL;
  JsonArray *log;
  JsonObject *e, *body;

  server_log (&p);
  g_clear_object (&p);
  g_assert_true (gv_supabase_progress (sb, "job-1", 25, "frame_analysis", "Analysing frames", &error));
  g_assert_no_error (error);
  log = server_log (&p);
  e = log_entry (log, 0);
  g_assert_cmpstr (json_object_get_string_member (e, "method"), ==, "PATCH");
  g_assert_cmpstr (json_object_get_string_member (e, "path"), ==, "/rest/v1/analysis_jobs?id=eq.job-1");
  g_assert_cmpint (json_object_get_int_member (e, "status"), ==, 204);
  body = json_object_get_object_member (e, "json");
  g_assert_cmpint (json_object_get_int_member (body, "progress_percentage"), ==, 25);
  g_assert_cmpstr (json_object_get_string_member (body, "progress_step"), ==, "frame_analysis");
  g_clear_object (&p);
  g_assert_false (gv_supabase_progress (sb, "failjob", 5, "init", "x", &error));
  g_assert_error (error, GV_NET_ERROR, GV_NET_ERROR_HTTP);
  g_assert_cmpuint (json_array_get_length (server_log (&p)), ==, 3);
}

static void
test_webhook (void)
{
  g_autofree char *u = url ("/webhook");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) p = NULL;
  JsonObject *e;

  server_log (&p);
  g_clear_object (&p);
  g_assert_true (gv_net_post_json (u, "{\"scanId\": \"w\"}", &error));
  g_assert_no_error (error);
  e = log_entry (server_log (&p), 0);
  g_assert_cmpstr (json_object_get_string_member (e, "content_type"), ==, "application/json");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (e, "json"),
                                                  "scanId"), ==, "w");
}

/* ---- gvscan end to end ---- */
#ifdef GV_TEST_CLI

static int
gvscan (const char *key, char **out, char **err, ...)
{
  const char *build = g_getenv ("GV_BUILD_DIR");
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                                 | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  const char *a;
  va_list ap;

  g_ptr_array_add (args, g_build_filename (build, "app", "gvscan", NULL));
  va_start (ap, err);
  while ((a = va_arg (ap, const char *)))
    g_ptr_array_add (args, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (args, NULL);
  g_subprocess_launcher_setenv (l, "SUPABASE_KEY", key, TRUE);
  proc = g_subprocess_launcher_spawnv (l, (const char *const *) args->pdata, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, NULL, NULL, out, err, &error));
  g_assert_no_error (error);
  if (g_test_verbose ())
    g_printerr ("%s", *err);
  /* The key is never printed. */
  g_assert_null (strstr (*out, KEY));
  g_assert_null (strstr (*err, KEY));
  return g_subprocess_get_exit_status (proc);
}

static gboolean
file_contains (const char *path, const char *needle)
{
  g_autofree char *data = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return FALSE;
  return g_strstr_len (data, len, needle) != NULL;
}

static void
test_cli_end_to_end (void)
{
  g_autofree char *video_url = url ("/video.mp4");
  g_autofree char *hook = url ("/webhook");
  g_autofree char *db = g_build_filename (tmpdir, "runs.db", NULL);
  g_autofree char *dir = g_build_filename (tmpdir, "out", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *prefix = g_strconcat (base, "/storage/v1/object/public/analysis-images/e2e/", NULL);
  g_autoptr (JsonParser) p = NULL;
  static const int steps[] = { 5, 15, 25, 50, 60, 70, 85, 95, 100 };
  JsonObject *result = NULL, *hooked = NULL;
  guint n_png = 0, n_patch = 0;
  JsonArray *log, *golden;

  server_log (&p);
  g_clear_object (&p);
  g_assert_cmpint (gvscan (KEY, &out, &err, "analyze", "--video-url", video_url, "--scan-id", "e2e",
                           "--upload", "--progress-job", "job-7", "--webhook", hook, "--db", db,
                           "-o", dir, "--analysis-size", "240", "-q", NULL), ==, 0);
  log = server_log (&p);
  for (guint i = 0; i < json_array_get_length (log); i++)
    {
      JsonObject *e = log_entry (log, i);
      const char *path = json_object_get_string_member (e, "path");
      if (g_str_has_suffix (path, ".png"))
        {
          g_assert_true (g_str_has_prefix (path, "/storage/v1/object/analysis-images/e2e/"));
          g_assert_cmpint (json_object_get_int_member (e, "status"), ==, 200);
          n_png++;
        }
      else if (g_str_has_suffix (path, "/e2e/result.json"))
        result = json_object_get_object_member (e, "json");
      else if (!strcmp (path, "/webhook"))
        hooked = json_object_get_object_member (e, "json");
      else if (g_str_has_prefix (path, "/rest/v1/analysis_jobs?id=eq.job-7"))
        {
          JsonObject *b = json_object_get_object_member (e, "json");
          g_assert_cmpint (json_object_get_int_member (e, "status"), ==, 204);
          g_assert_cmpuint (n_patch, <, G_N_ELEMENTS (steps));
          g_assert_cmpint (json_object_get_int_member (b, "progress_percentage"), ==, steps[n_patch]);
          n_patch++;
        }
    }
  g_assert_cmpuint (n_patch, ==, G_N_ELEMENTS (steps));
  /* 5 golden frames, mask, heatmap, overlay, 6 region crops. */
  g_assert_cmpuint (n_png, ==, 14);
  g_assert_nonnull (result);
  g_assert_nonnull (hooked);
  g_assert_cmpstr (json_object_get_string_member (result, "scanId"), ==, "e2e");
  golden = json_object_get_array_member (result, "goldenFrames");
  g_assert_cmpuint (json_array_get_length (golden), ==, 5);
  g_assert_true (g_str_has_prefix (json_array_get_string_element (golden, 0), prefix));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (result, "defectMask"), prefix));
  g_assert_cmpstr (json_object_get_string_member (hooked, "defectMask"), ==,
                   json_object_get_string_member (result, "defectMask"));
  g_assert_false (file_contains (db, KEY));
}

/* Runs of the store by status, from gvscan runs list. */
static int
count_runs (const char *db, const char *status, const char *scan)
{
  g_autofree char *out = NULL, *err = NULL;
  g_auto (GStrv) lines = NULL;
  g_autofree char *word = g_strdup_printf (" %s ", status);
  int n = 0;

  if (!g_file_test (db, G_FILE_TEST_EXISTS))
    return 0;
  g_assert_cmpint (gvscan (KEY, &out, &err, "runs", "list", "--db", db, NULL), ==, 0);
  lines = g_strsplit (out, "\n", -1);
  for (char **l = lines; *l; l++)
    n += strstr (*l, word) && (!scan || strstr (*l, scan));
  return n;
}

static gboolean
dir_is_empty (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)))
    {
      g_test_message ("left behind: %s/%s", path, name);
      return FALSE;
    }
  return TRUE;
}

/* Download faults through gvscan analyze --video-url: exit 1, the cause in the message and in the
 * webhook's error object, nothing left in the output directory, no run stored. */
static void
test_cli_download_faults (void)
{
  static const struct { const char *path, *needle; } faults[] = {
    { "/missing.mp4?token=secret", "HTTP 404" },
    { "/loop", "redirect loop" },
    { "/page", "text/html" },
  };
  g_autofree char *hook = url ("/webhook");
  g_autofree char *db = g_build_filename (tmpdir, "faults.db", NULL);
  g_autofree char *dir = g_build_filename (tmpdir, "out-faults", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (faults); i++)
    {
      g_autofree char *u = url (faults[i].path), *out = NULL, *err = NULL;
      g_autoptr (JsonParser) p = NULL;
      JsonObject *e;

      server_log (&p);
      g_clear_object (&p);
      g_assert_cmpint (gvscan (KEY, &out, &err, "analyze", "--video-url", u, "--scan-id", "fault",
                               "--webhook", hook, "--db", db, "-o", dir, "-q", NULL), ==, 1);
      g_test_message ("%s: %s", faults[i].path, err);
      g_assert_nonnull (strstr (err, "download failed"));
      g_assert_nonnull (strstr (err, faults[i].needle));
      g_assert_null (strstr (err, "secret"));
      g_assert_true (dir_is_empty (dir));
      e = json_object_get_object_member (log_entry (server_log (&p), 0), "json");
      g_assert_nonnull (strstr (json_object_get_string_member (e, "error"), faults[i].needle));
      g_assert_cmpstr (json_object_get_string_member (e, "type"), ==, "analysis_error");
    }
  /* The download fails before the store is opened. */
  g_assert_false (g_file_test (db, G_FILE_TEST_EXISTS));
}

/* A progress endpoint that fails and a webhook that is refused never stop or lose the analysis:
 * warnings, exit 0, the run stored, and the dead endpoint does not hold the end for long. */
static void
test_cli_advisory_failures (void)
{
  g_autofree char *video_url = url ("/video.mp4"), *hook = url ("/no-such-hook");
  g_autofree char *db = g_build_filename (tmpdir, "advisory.db", NULL);
  g_autofree char *dir = g_build_filename (tmpdir, "out-advisory", NULL);
  g_autofree char *json = g_build_filename (dir, "result.json", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) p = NULL;
  JsonArray *log;
  guint n_patch = 0;
  gint64 last = -1;

  server_log (&p);
  g_clear_object (&p);
  g_assert_cmpint (gvscan (KEY, &out, &err, "analyze", "--video-url", video_url, "--scan-id", "adv",
                           "--progress-job", "failjob", "--webhook", hook, "--db", db, "-o", dir,
                           "--analysis-size", "240", "-q", NULL), ==, 0);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "progress 5% (init) not recorded"));
  g_assert_nonnull (strstr (err, "later steps are tried once"));
  g_assert_nonnull (strstr (err, "webhook not delivered"));
  g_assert_nonnull (strstr (err, "HTTP 404"));
  g_assert_true (g_file_test (json, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (count_runs (db, "done", "adv"), ==, 1);
  /* The dead endpoint does not hold the end: 3 attempts of the first PATCH (1 s + 2 s of
   * backoff), then one attempt for each later step, in order (counted in the server's log, not
   * timed: a busy machine must not fail this). */
  log = server_log (&p);
  for (guint i = 0; i < json_array_get_length (log); i++)
    {
      JsonObject *e = log_entry (log, i);
      if (strcmp (json_object_get_string_member (e, "path"), "/rest/v1/analysis_jobs?id=eq.failjob"))
        continue;
      gint64 pct = json_object_get_int_member (json_object_get_object_member (e, "json"),
                                               "progress_percentage");
      if (n_patch < 3)
        g_assert_cmpint (pct, ==, 5);
      else
        g_assert_cmpint (pct, >, last);
      last = pct;
      n_patch++;
    }
  g_test_message ("%u PATCH requests to the failing progress endpoint", n_patch);
  g_assert_cmpuint (n_patch, >=, 4);
  g_assert_cmpint (last, ==, 100);
}

static void
test_cli_publish_later (void)
{
  g_autofree char *video_url = url ("/video.mp4");
  g_autofree char *missing = url ("/missing.mp4");
  g_autofree char *hook = url ("/webhook");
  g_autofree char *db = g_build_filename (tmpdir, "runs2.db", NULL);
  g_autofree char *dir = g_build_filename (tmpdir, "out2", NULL);
  g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL, *out3 = NULL, *err3 = NULL;
  g_autofree char *run = NULL;
  g_autoptr (JsonParser) p = NULL;
  const char *at;
  JsonObject *e;

  /* A wrong key: the analysis is kept, the upload fails clearly (exit 5), publish retries it. */
  g_assert_cmpint (gvscan ("sk-wrong", &out, &err, "analyze", "--video-url", video_url,
                           "--scan-id", "later", "--upload", "--db", db, "-o", dir,
                           "--analysis-size", "240", "-q", NULL), ==, 5);
  g_assert_nonnull (strstr (err, "HTTP 401"));
  g_assert_nonnull ((at = strstr (err, "gvscan publish ")));
  run = g_strndup (at + strlen ("gvscan publish "), strspn (at + strlen ("gvscan publish "), "0123456789"));
  g_assert_cmpint (gvscan (KEY, &out2, &err2, "publish", "--db", db, "-q", run, NULL), ==, 0);
  g_assert_nonnull (strstr (out2, "\"scanId\":\"later\""));
  g_assert_nonnull (strstr (out2, "/storage/v1/object/public/analysis-images/later/frames/"));
  /* A download failure reaches the webhook as the worker's error object. */
  server_log (&p);
  g_clear_object (&p);
  g_assert_cmpint (gvscan (KEY, &out3, &err3, "analyze", "--video-url", missing, "--webhook", hook,
                           "--db", db, "-o", dir, "-q", NULL), ==, 1);
  e = json_object_get_object_member (log_entry (server_log (&p), 0), "json");
  g_assert_nonnull (strstr (json_object_get_string_member (e, "error"), "HTTP 404"));
  g_assert_cmpstr (json_object_get_string_member (e, "type"), ==, "analysis_error");
}

#endif

#ifdef GV_HAVE_SERVE
/* ---- gvscan serve ---- */
typedef struct {
  const char *url, *body;
  long status;
  char *response;
} Post;

static size_t
on_post_body (char *data, size_t size, size_t nmemb, void *ud)
{
  g_string_append_len (ud, data, (gssize) (size * nmemb));
  return size * nmemb;
}

/* One POST without retries; the response body whatever the status (the error objects are
 * checked), or libcurl's message when no answer came (status 0). */
static gpointer
post_thread (gpointer data)
{
  Post *p = data;
  CURL *c = curl_easy_init ();
  struct curl_slist *h = curl_slist_append (NULL, "Content-Type: application/json");
  GString *body = g_string_new (NULL);
  CURLcode rc;

  curl_easy_setopt (c, CURLOPT_URL, p->url);
  curl_easy_setopt (c, CURLOPT_POSTFIELDS, p->body);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt (c, CURLOPT_TIMEOUT, 120L);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, on_post_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, body);
  rc = curl_easy_perform (c);
  if (rc == CURLE_OK)
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &p->status);
  else
    g_string_assign (body, curl_easy_strerror (rc));
  p->response = g_string_free (body, FALSE);
  curl_slist_free_all (h);
  curl_easy_cleanup (c);
  return NULL;
}

static long
post (const char *u, const char *body, char **response)
{
  Post p = { u, body, 0, NULL };

  post_thread (&p);
  *response = p.response;
  return p.status;
}

static int
cmp_long (gconstpointer a, gconstpointer b)
{
  return (int) (*(const long *) a - *(const long *) b);
}

static void
test_serve (void)
{
  const char *build = g_getenv ("GV_BUILD_DIR");
  g_autofree char *exe = g_build_filename (build, "app", "gvscan", NULL);
  g_autofree char *db = g_build_filename (tmpdir, "serve.db", NULL);
  g_autofree char *line = NULL, *u = NULL, *big = NULL, *video_url = url ("/video.mp4");
  g_autofree char *ok_body = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  g_autoptr (GError) error = NULL;
  Post posts[3];
  GThread *threads[3];
  long statuses[3];
  char *r = NULL;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, exe, "serve", "--listen",
                           "127.0.0.1:0", "--max-queue", "1", "--db", db, "--analysis-size", "240",
                           NULL);
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "listening on http://127.0.0.1:"));
  u = g_strdup (line + strlen ("listening on "));

  /* Malformed requests: 400 with the reason, the body limit, only POST. */
  g_assert_cmpint (post (u, "nope", &r), ==, 400);
  g_assert_nonnull (strstr (r, "not a JSON object"));
  g_free (r);
  g_assert_cmpint (post (u, "{\"videoUrl\": \"http://127.0.0.1:1/v.mp4\"}", &r), ==, 400);
  g_assert_nonnull (strstr (r, "scanId"));
  g_free (r);
  g_assert_cmpint (post (u, "{\"videoUrl\": \"file:///etc/passwd\", \"scanId\": \"x\"}", &r), ==, 400);
  g_free (r);
  g_assert_cmpint (post (u, "{\"videoUrl\": \"http://127.0.0.1:1/v\", \"scanId\": \"../x\"}", &r), ==, 400);
  g_free (r);
  big = g_strnfill (100 * 1024, ' ');
  g_assert_cmpint (post (u, big, &r), ==, 413);
  g_free (r);

  /* Three at once with one job running and a queue of one: two results, one 503. */
  ok_body = g_strdup_printf ("{\"videoUrl\": \"%s\", \"scanId\": \"served\", \"itemType\": \"comic\"}",
                             video_url);
  for (int i = 0; i < 3; i++)
    {
      posts[i] = (Post) { u, ok_body, 0, NULL };
      threads[i] = g_thread_new ("post", post_thread, &posts[i]);
    }
  for (int i = 0; i < 3; i++)
    {
      g_thread_join (threads[i]);
      statuses[i] = posts[i].status;
      if (posts[i].status == 200)
        {
          g_assert_nonnull (strstr (posts[i].response, "\"scanId\":\"served\""));
          g_assert_nonnull (strstr (posts[i].response, "/storage/v1/object/public/analysis-images/served/"));
        }
      g_free (posts[i].response);
    }
  qsort (statuses, 3, sizeof (long), (int (*) (const void *, const void *)) cmp_long);
  g_assert_cmpint (statuses[0], ==, 200);
  g_assert_cmpint (statuses[1], ==, 200);
  g_assert_cmpint (statuses[2], ==, 503);

  g_subprocess_send_signal (proc, SIGTERM);
  g_subprocess_wait (proc, NULL, NULL);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
}

/* gvscan serve in a private TMPDIR (its job directories) with extra arguments; returns its URL. */
static GSubprocess *
serve_start (const char *jobs_tmp, GDataInputStream **in, char **u, ...)
{
  const char *build = g_getenv ("GV_BUILD_DIR");
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  GSubprocess *proc;
  const char *a;
  va_list ap;

  g_assert_cmpint (g_mkdir_with_parents (jobs_tmp, 0700), ==, 0);
  g_ptr_array_add (args, g_build_filename (build, "app", "gvscan", NULL));
  g_ptr_array_add (args, g_strdup ("serve"));
  g_ptr_array_add (args, g_strdup ("--listen"));
  g_ptr_array_add (args, g_strdup ("127.0.0.1:0"));
  va_start (ap, u);
  while ((a = va_arg (ap, const char *)))
    g_ptr_array_add (args, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (args, NULL);
  g_subprocess_launcher_setenv (l, "TMPDIR", jobs_tmp, TRUE);
  /* One analysis thread: the cancelled job below is still analysing when the signal comes. */
  g_subprocess_launcher_setenv (l, "GV_THREADS", "1", TRUE);
  proc = g_subprocess_launcher_spawnv (l, (const char *const *) args->pdata, &error);
  g_assert_no_error (error);
  *in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  line = g_data_input_stream_read_line (*in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "listening on http://127.0.0.1:"));
  *u = g_strdup (line + strlen ("listening on "));
  return proc;
}

static void
expect_shutting_down (const Post *p)
{
  g_test_message ("%ld %s", p->status, p->response);
  g_assert_cmpint (p->status, ==, 503);
  g_assert_nonnull (strstr (p->response, "\"type\":\"shutting_down\""));
  g_assert_nonnull (strstr (p->response, "\"error\":\"the server is shutting down"));
}

/* SIGTERM with a job analysing and one queued, no grace: the queued job and the running one are
 * answered 503 shutting_down, the server exits 0, the cancelled run is marked so in the store,
 * the earlier runs are intact and no job directory is left. */
static void
test_serve_shutdown (void)
{
  g_autofree char *db = g_build_filename (tmpdir, "serve-stop.db", NULL);
  g_autofree char *jobs = g_build_filename (tmpdir, "serve-stop-tmp", NULL);
  g_autofree char *u = NULL, *video_url = url ("/video.mp4"), *line = NULL;
  g_autofree char *body_a = NULL, *body_b = NULL, *body_0 = NULL, *r = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  Post a, b;
  GThread *ta, *tb;
  gint64 deadline, t0;

  proc = serve_start (jobs, &in, &u, "--max-queue", "1", "--db", db, "--analysis-size", "240",
                      "--shutdown-grace", "0", NULL);
  /* An earlier job, completed: it must survive the shutdown. */
  body_0 = g_strdup_printf ("{\"videoUrl\": \"%s\", \"scanId\": \"stop-0\"}", video_url);
  g_assert_cmpint (post (u, body_0, &r), ==, 200);
  g_assert_cmpint (count_runs (db, "done", "stop-0"), ==, 1);

  body_a = g_strdup_printf ("{\"videoUrl\": \"%s\", \"scanId\": \"stop-a\"}", video_url);
  body_b = g_strdup_printf ("{\"videoUrl\": \"%s\", \"scanId\": \"stop-b\"}", video_url);
  a = (Post) { u, body_a, 0, NULL };
  ta = g_thread_new ("post-a", post_thread, &a);
  /* Wait for job a to be analysing (its run is in the store) before queueing b and signalling. */
  deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  while (count_runs (db, "running", "stop-a") == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_assert_cmpint (a.status, ==, 0);
      g_usleep (50000);
    }
  b = (Post) { u, body_b, 0, NULL };
  tb = g_thread_new ("post-b", post_thread, &b);
  g_usleep (300000);
  t0 = g_get_monotonic_time ();
  g_subprocess_send_signal (proc, SIGTERM);
  line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%s", line);
  g_assert_nonnull (strstr (line, "shutting down (SIGTERM): 1 queued job(s) answered 503, "
                                  "1 running job(s)"));
  g_thread_join (tb);
  expect_shutting_down (&b);
  g_thread_join (ta);
  expect_shutting_down (&a);
  g_assert_true (g_subprocess_wait (proc, NULL, &error));
  g_test_message ("SIGTERM to exit, cancelling an analysis: %.2f s",
                  (g_get_monotonic_time () - t0) / 1e6);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  /* The store: the earlier run done, the cancelled one marked so, b never started. */
  g_assert_cmpint (count_runs (db, "done", "stop-0"), ==, 1);
  g_assert_cmpint (count_runs (db, "cancelled", "stop-a"), ==, 1);
  {
    /* the cancelled run says why: the shutdown, not a user */
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (gvscan (KEY, &out, &err, "runs", "show", "latest", "--db", db, NULL), ==, 0);
    g_assert_nonnull (strstr (out, "stop-a"));
    g_assert_nonnull (strstr (out, "cancelled: the worker server was shutting down"));
  }
  g_assert_cmpint (count_runs (db, "running", NULL), ==, 0);
  g_assert_cmpint (count_runs (db, "failed", NULL), ==, 0);
  g_assert_cmpint (count_runs (db, "stop-b", NULL), ==, 0);
  g_assert_true (dir_is_empty (jobs));
  g_free (a.response);
  g_free (b.response);
}

/* SIGTERM with a job still downloading and the default grace: new requests get 503
 * shutting_down while it may finish; a second signal cancels it at once (the download stops,
 * nothing is left) and the server exits 0. */
static void
test_serve_shutdown_grace (void)
{
  g_autofree char *db = g_build_filename (tmpdir, "serve-grace.db", NULL);
  g_autofree char *jobs = g_build_filename (tmpdir, "serve-grace-tmp", NULL);
  g_autofree char *u = NULL, *drip = url ("/drip"), *line = NULL, *body = NULL, *r = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  Post a;
  GThread *ta;
  gint64 t0;

  proc = serve_start (jobs, &in, &u, "--db", db, NULL);
  body = g_strdup_printf ("{\"videoUrl\": \"%s\", \"scanId\": \"grace-a\"}", drip);
  a = (Post) { u, body, 0, NULL };
  ta = g_thread_new ("post-a", post_thread, &a);
  g_usleep (500000);
  g_subprocess_send_signal (proc, SIGTERM);
  line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (line, "0 queued job(s) answered 503, 1 running job(s) get 30 s"));
  /* During the grace period the server answers, but takes nothing new. */
  g_assert_cmpint (post (u, body, &r), ==, 503);
  g_assert_nonnull (strstr (r, "\"type\":\"shutting_down\""));
  g_assert_cmpint (a.status, ==, 0);
  t0 = g_get_monotonic_time ();
  g_subprocess_send_signal (proc, SIGINT);
  g_thread_join (ta);
  expect_shutting_down (&a);
  g_assert_true (g_subprocess_wait (proc, NULL, &error));
  g_test_message ("second signal to exit: %.2f s", (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 5 * G_USEC_PER_SEC);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  g_assert_cmpint (count_runs (db, "running", NULL), ==, 0);
  g_assert_true (dir_is_empty (jobs));
  g_free (a.response);
}

/* A job whose upload fails (a wrong key): 502 upload_error naming the stored run, which
 * gvscan publish then uploads with the right key. */
static void
test_serve_upload_error (void)
{
  g_autofree char *db = g_build_filename (tmpdir, "serve-upload.db", NULL);
  g_autofree char *jobs = g_build_filename (tmpdir, "serve-upload-tmp", NULL);
  g_autofree char *u = NULL, *video_url = url ("/video.mp4"), *body = NULL, *r = NULL;
  g_autofree char *run = NULL, *out = NULL, *err = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *o;

  g_setenv ("SUPABASE_KEY", "sk-wrong", TRUE);
  proc = serve_start (jobs, &in, &u, "--db", db, "--analysis-size", "240", NULL);
  g_setenv ("SUPABASE_KEY", KEY, TRUE);
  body = g_strdup_printf ("{\"videoUrl\": \"%s\", \"scanId\": \"upl\"}", video_url);
  g_assert_cmpint (post (u, body, &r), ==, 502);
  g_assert_true (json_parser_load_from_data (p, r, -1, &error));
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (p));
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "upload_error");
  g_assert_cmpint (json_object_get_int_member (o, "run"), >, 0);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "error"), "HTTP 401"));
  g_assert_nonnull (strstr (json_object_get_string_member (o, "error"), "gvscan publish"));
  g_assert_null (strstr (r, "sk-wrong"));
  g_assert_cmpint (count_runs (db, "done", "upl"), ==, 1);
  run = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (o, "run"));
  g_assert_cmpint (gvscan (KEY, &out, &err, "publish", "--db", db, "-q", run, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "/storage/v1/object/public/analysis-images/upl/frames/"));
  g_subprocess_send_signal (proc, SIGTERM);
  g_assert_true (g_subprocess_wait (proc, NULL, &error));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  g_assert_true (dir_is_empty (jobs));
}
#endif

static void
rm_rf (GFile *f)
{
  g_autoptr (GFileEnumerator) en = g_file_enumerate_children (f, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                                              G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                                              NULL, NULL);
  GFileInfo *info;

  while (en && (info = g_file_enumerator_next_file (en, NULL, NULL)))
    {
      g_autoptr (GFile) c = g_file_get_child (f, g_file_info_get_name (info));
      rm_rf (c);
      g_object_unref (info);
    }
  g_file_delete (f, NULL, NULL);
}

int
main (int argc, char **argv)
{
  const char *src = g_getenv ("GV_SOURCE_DIR");
  g_autoptr (GError) error = NULL;
  g_autofree char *script = NULL, *line = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  int rc;

  g_test_init (&argc, &argv, NULL);
  g_assert_nonnull (src);
  script = g_build_filename (src, "tests", "gv-net-server.py", NULL);
  video = g_build_filename (src, "data", "sample", "scan.mp4", NULL);
  video_sha = sha256_of (video);
  tmpdir = g_dir_make_tmp ("gv-net-XXXXXX", &error);
  g_assert_no_error (error);
  /* The server exits when its stdin closes, so it never outlives a test that aborted. */
  server = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDIN_PIPE, &error, GV_PYTHON3, script,
                             video, KEY, NULL);
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server));
  line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  base = g_strdup_printf ("http://127.0.0.1:%s", line);
  g_setenv ("SUPABASE_URL", base, TRUE);
  g_setenv ("SUPABASE_KEY", KEY, TRUE);

  g_test_add_func ("/gv/net/download/ok", test_ok);
  g_test_add_func ("/gv/net/download/status", test_status);
  g_test_add_func ("/gv/net/download/retry", test_retry);
  g_test_add_func ("/gv/net/download/resume", test_resume);
  g_test_add_func ("/gv/net/download/redirect-loop", test_redirect_loop);
  g_test_add_func ("/gv/net/download/too-large", test_too_large);
  g_test_add_func ("/gv/net/download/timeout", test_timeout);
  g_test_add_func ("/gv/net/download/content-type", test_content_type);
  g_test_add_func ("/gv/net/download/stall", test_stall);
  g_test_add_func ("/gv/net/download/refused", test_refused);
  g_test_add_func ("/gv/net/download/invalid", test_invalid);
  g_test_add_func ("/gv/net/supabase/upload", test_upload);
  g_test_add_func ("/gv/net/supabase/upload-faults", test_upload_faults);
  g_test_add_func ("/gv/net/supabase/progress", test_progress);
  g_test_add_func ("/gv/net/webhook", test_webhook);
#ifdef GV_TEST_CLI
  if (g_getenv ("GV_BUILD_DIR"))
    {
      g_test_add_func ("/gv/net/cli/end-to-end", test_cli_end_to_end);
      g_test_add_func ("/gv/net/cli/publish-later", test_cli_publish_later);
      g_test_add_func ("/gv/net/cli/download-faults", test_cli_download_faults);
      g_test_add_func ("/gv/net/cli/advisory-failures", test_cli_advisory_failures);
#ifdef GV_HAVE_SERVE
      g_test_add_func ("/gv/net/cli/serve", test_serve);
      g_test_add_func ("/gv/net/cli/serve-shutdown", test_serve_shutdown);
      g_test_add_func ("/gv/net/cli/serve-shutdown-grace", test_serve_shutdown_grace);
      g_test_add_func ("/gv/net/cli/serve-upload-error", test_serve_upload_error);
#endif
    }
#endif
  rc = g_test_run ();

  g_subprocess_force_exit (server);
  g_subprocess_wait (server, NULL, NULL);
  g_clear_object (&server);
  {
    g_autoptr (GFile) d = g_file_new_for_path (tmpdir);
    rm_rf (d);
  }
  g_free (tmpdir);
  g_free (base);
  g_free (video);
  g_free (video_sha);
  return rc;
}
