/* test-net.c: core/net and gvscan's worker mode against a loopback HTTP server
 * (tests/gv-net-server.py on 127.0.0.1) that injects the faults a worker meets: error statuses,
 * 500 then success, redirect loops, an endless chunked body, truncated bodies with and without
 * Range, a slow drip, a web page; Storage refusals (401, 400 carrying 403 or 409, 413) and checks
 * of every header, path and body of the uploads and progress PATCHes. */
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

static gpointer
post_thread (gpointer data)
{
  Post *p = data;
  const char *headers[] = { "Content-Type: application/json", NULL };
  GvNetRequest req = { "POST", p->url, headers, p->body, strlen (p->body), 120, 1, 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) resp = NULL;

  gv_net_request (&req, &p->status, &resp, &error);
  p->response = error ? g_strdup (error->message)
                      : g_strndup (g_bytes_get_data (resp, NULL), g_bytes_get_size (resp));
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
#ifdef GV_HAVE_SERVE
      g_test_add_func ("/gv/net/cli/serve", test_serve);
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
