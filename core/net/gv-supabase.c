/* gv-supabase.c: small requests over libcurl (uploads, progress PATCHes, webhooks) and the
 * Supabase Storage and PostgREST calls of the production worker (seed-system.md). The key is only
 * ever put in request headers: it is never in a message, a log line or a file. */
#include <curl/curl.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "gv-net.h"

#define RESPONSE_CAP (1 << 20)

typedef struct {
  GByteArray *buf;
} Sink;

static size_t
on_body (char *data, size_t size, size_t nmemb, void *ud)
{
  Sink *s = ud;
  size_t len = size * nmemb;

  /* Responses are small JSON; more than the cap is kept to the cap, never grown without end. */
  if (s->buf->len < RESPONSE_CAP)
    g_byte_array_append (s->buf, (const guint8 *) data, MIN (len, RESPONSE_CAP - s->buf->len));
  return len;
}

static gpointer
curl_init_once (gpointer data)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
  return NULL;
}

/* Supabase Storage answers some refusals as HTTP 400 with {"statusCode": "403", ...}. */
static long
status_from_body (long code, GByteArray *body, char **message)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *o;
  long inner = 0;

  if (!body->len || !json_parser_load_from_data (parser, (const char *) body->data, body->len, NULL))
    return code;
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return code;
  o = json_node_get_object (root);
  if (json_object_has_member (o, "message") && JSON_NODE_HOLDS_VALUE (json_object_get_member (o, "message"))
      && json_node_get_value_type (json_object_get_member (o, "message")) == G_TYPE_STRING)
    *message = g_strdup (json_object_get_string_member (o, "message"));
  else if (json_object_has_member (o, "error")
           && JSON_NODE_HOLDS_VALUE (json_object_get_member (o, "error"))
           && json_node_get_value_type (json_object_get_member (o, "error")) == G_TYPE_STRING)
    *message = g_strdup (json_object_get_string_member (o, "error"));
  if (code == 400 && json_object_has_member (o, "statusCode"))
    {
      JsonNode *n = json_object_get_member (o, "statusCode");
      if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
        inner = strtol (json_node_get_string (n), NULL, 10);
      else if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64)
        inner = (long) json_node_get_int (n);
    }
  return inner >= 400 && inner < 600 ? inner : code;
}

gboolean
gv_net_request (const GvNetRequest *req, long *status, GBytes **response, GError **error)
{
  static GOnce once = G_ONCE_INIT;
  g_autofree char *shown = gv_net_url_for_display (req->url);
  struct curl_slist *headers = NULL;
  int max_attempts = req->max_attempts > 0 ? req->max_attempts : 3;
  double delay = req->backoff_s > 0 ? req->backoff_s : 1.0;
  long timeout = req->timeout_s > 0 ? req->timeout_s : 60;
  Sink sink = { g_byte_array_new () };
  gboolean ok = FALSE;
  CURL *curl;

  g_once (&once, curl_init_once, NULL);
  if (status)
    *status = 0;
  if (g_ascii_strncasecmp (req->url, "http://", 7) != 0 && g_ascii_strncasecmp (req->url, "https://", 8) != 0)
    {
      g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_INVALID, "%s: only http and https URLs are used",
                   shown);
      g_byte_array_unref (sink.buf);
      return FALSE;
    }
  curl = curl_easy_init ();
  for (const char *const *h = req->headers; h && *h; h++)
    headers = curl_slist_append (headers, *h);
  /* libcurl would send "Expect: 100-continue" for large bodies and wait a second for it. */
  headers = curl_slist_append (headers, "Expect:");
  curl_easy_setopt (curl, CURLOPT_URL, req->url);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, req->method);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
  curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, MIN (timeout, 10L));
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, timeout);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_USERAGENT, "gvscan (GradeVault Inspector)");
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, &sink);

  for (int attempt = 1;; attempt++)
    {
      char errbuf[CURL_ERROR_SIZE] = "";
      g_autofree char *msg = NULL;
      gboolean retry = FALSE;
      long code = 0;
      CURLcode rc;

      g_byte_array_set_size (sink.buf, 0);
      g_clear_error (error);
      curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
      rc = curl_easy_perform (curl);
      if (rc == CURLE_OK)
        {
          curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &code);
          if (code < 200 || code >= 300)
            code = status_from_body (code, sink.buf, &msg);
          if (status)
            *status = code;
          if (code >= 200 && code < 300)
            {
              ok = TRUE;
              break;
            }
          if (code == 401 || code == 403)
            g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_AUTH,
                         "%s: HTTP %ld: %s (check SUPABASE_KEY and the bucket's policies)", shown,
                         code, msg ? msg : "not authorised");
          else if (code == 413)
            g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_TOO_LARGE,
                         "%s: HTTP 413: the server refused %" G_GSIZE_FORMAT " bytes as too large%s%s",
                         shown, req->body_len, msg ? ": " : "", msg ? msg : "");
          else
            g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_HTTP, "%s: HTTP %ld%s%s", shown, code,
                         msg ? ": " : "", msg ? msg : "");
          retry = code == 408 || code == 429 || (code >= 500 && code != 501 && code != 505);
        }
      else
        {
          gboolean timed_out = rc == CURLE_OPERATION_TIMEDOUT;
          g_set_error (error, GV_NET_ERROR, timed_out ? GV_NET_ERROR_TIMEOUT : GV_NET_ERROR_NETWORK,
                       "%s: %s", shown, *errbuf ? errbuf : curl_easy_strerror (rc));
          retry = timed_out || rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR
                  || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE;
        }
      if (!retry || attempt >= max_attempts)
        {
          if (retry)
            g_prefix_error (error, "after %d attempts: ", attempt);
          break;
        }
      g_usleep ((gulong) (delay * G_USEC_PER_SEC));
      delay *= 2;
    }
  if (ok && response)
    *response = g_byte_array_free_to_bytes (g_steal_pointer (&sink.buf));
  if (sink.buf)
    g_byte_array_unref (sink.buf);
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
  return ok;
}

struct _GvSupabase {
  char *url; /* without a trailing slash */
  char *key;
  int max_attempts;
  double backoff_s;
  long timeout_s;
};

GvSupabase *
gv_supabase_new_from_env (GError **error)
{
  const char *url = g_getenv ("SUPABASE_URL");
  const char *key = g_getenv ("SUPABASE_KEY");
  GvSupabase *sb;

  if (!url || !*url || !key || !*key)
    {
      g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_NOT_CONFIGURED,
                   "SUPABASE_URL and SUPABASE_KEY must both be set in the environment");
      return NULL;
    }
  if (g_ascii_strncasecmp (url, "http://", 7) != 0 && g_ascii_strncasecmp (url, "https://", 8) != 0)
    {
      g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_NOT_CONFIGURED,
                   "SUPABASE_URL must start with http:// or https://");
      return NULL;
    }
  sb = g_new0 (GvSupabase, 1);
  sb->url = g_strdup (url);
  while (*sb->url && sb->url[strlen (sb->url) - 1] == '/')
    sb->url[strlen (sb->url) - 1] = '\0';
  sb->key = g_strdup (key);
  sb->max_attempts = 3;
  sb->backoff_s = 1.0;
  sb->timeout_s = 120;
  return sb;
}

void
gv_supabase_free (GvSupabase *sb)
{
  if (!sb)
    return;
  g_free (sb->url);
  /* The key does not outlive its use in memory either. */
  memset (sb->key, 0, strlen (sb->key));
  g_free (sb->key);
  g_free (sb);
}

void
gv_supabase_set_retry (GvSupabase *sb, int max_attempts, double backoff_s, long timeout_s)
{
  sb->max_attempts = max_attempts;
  sb->backoff_s = backoff_s;
  sb->timeout_s = timeout_s;
}

gboolean
gv_supabase_upload (GvSupabase *sb, const char *bucket, const char *path, const char *content_type,
                    GBytes *data, char **public_url, GError **error)
{
  g_autofree char *epath = g_uri_escape_string (path, "/", FALSE);
  g_autofree char *ebucket = g_uri_escape_string (bucket, NULL, FALSE);
  g_autofree char *url = g_strdup_printf ("%s/storage/v1/object/%s/%s", sb->url, ebucket, epath);
  g_autofree char *h_key = g_strdup_printf ("apikey: %s", sb->key);
  g_autofree char *h_auth = g_strdup_printf ("Authorization: Bearer %s", sb->key);
  g_autofree char *h_type = g_strdup_printf ("Content-Type: %s", content_type);
  const char *headers[] = { h_key, h_auth, h_type, "x-upsert: true", NULL };
  gsize len = 0;
  GvNetRequest req = { "POST", url, headers, g_bytes_get_data (data, &len), 0,
                       sb->timeout_s, sb->max_attempts, sb->backoff_s };
  gboolean ok;

  req.body_len = len;
  ok = gv_net_request (&req, NULL, NULL, error);
  memset (h_key, 0, strlen (h_key));
  memset (h_auth, 0, strlen (h_auth));
  if (ok && public_url)
    *public_url = g_strdup_printf ("%s/storage/v1/object/public/%s/%s", sb->url, ebucket, epath);
  return ok;
}

static char *
iso_now (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

gboolean
gv_supabase_progress (GvSupabase *sb, const char *job_id, int percentage, const char *step,
                      const char *message, GError **error)
{
  g_autofree char *eid = g_uri_escape_string (job_id, NULL, FALSE);
  g_autofree char *url = g_strdup_printf ("%s/rest/v1/analysis_jobs?id=eq.%s", sb->url, eid);
  g_autofree char *h_key = g_strdup_printf ("apikey: %s", sb->key);
  g_autofree char *h_auth = g_strdup_printf ("Authorization: Bearer %s", sb->key);
  const char *headers[] = { h_key, h_auth, "Content-Type: application/json",
                            "Prefer: return=minimal", NULL };
  g_autofree char *now = iso_now ();
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *body = NULL;
  GvNetRequest req = { "PATCH", url, headers, NULL, 0, MIN (sb->timeout_s, 30L), sb->max_attempts,
                       sb->backoff_s };
  gboolean ok;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "progress_percentage");
  json_builder_add_int_value (b, percentage);
  json_builder_set_member_name (b, "progress_message");
  json_builder_add_string_value (b, message);
  json_builder_set_member_name (b, "progress_step");
  json_builder_add_string_value (b, step);
  json_builder_set_member_name (b, "progress_updated_at");
  json_builder_add_string_value (b, now);
  json_builder_set_member_name (b, "updated_at");
  json_builder_add_string_value (b, now);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  body = json_to_string (root, FALSE);
  req.body = body;
  req.body_len = strlen (body);
  ok = gv_net_request (&req, NULL, NULL, error);
  memset (h_key, 0, strlen (h_key));
  memset (h_auth, 0, strlen (h_auth));
  return ok;
}
