/* gv-download.c: video download over libcurl with the checks libcurl leaves to its caller: the
 * HTTP status (libcurl succeeds on a 404), a byte cap in the write callback (CURLOPT_MAXFILESIZE
 * does not stop a chunked body without a length), the content type, retries with exponential
 * backoff on 5xx and dropped connections, and resumption with Range after a truncated body. */
#include <curl/curl.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gv-net.h"

G_DEFINE_QUARK (gv-net-error-quark, gv_net_error)

void
gv_download_options_init_default (GvDownloadOptions *o)
{
  o->connect_timeout_s = 10;
  o->total_timeout_s = 600;
  o->stall_timeout_s = 30;
  o->max_redirects = 5;
  o->max_bytes = G_GINT64_CONSTANT (4) << 30;
  o->max_attempts = 4;
  o->backoff_s = 1.0;
  o->progress = FALSE;
  o->progress_func = NULL;
  o->progress_data = NULL;
  o->cancellable = NULL;
}

void
gv_download_result_clear (GvDownloadResult *r)
{
  if (!r)
    return;
  g_clear_pointer (&r->sha256, g_free);
  g_clear_pointer (&r->content_type, g_free);
}

char *
gv_net_url_for_display (const char *url)
{
  gsize n = strcspn (url, "?#");
  return g_strndup (url, n);
}

static gpointer
curl_init_once (gpointer data)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
  return NULL;
}

typedef enum { BODY_UNDECIDED, BODY_FILE, BODY_ERROR } BodyMode;

typedef struct {
  CURL *curl;
  FILE *f;
  GChecksum *sum;
  gint64 offset;     /* bytes in the file (and in sum) */
  gint64 max_bytes;
  BodyMode mode;
  GString *err_body; /* first bytes of an error response */
  gboolean too_large, bad_type, io_error;
  char *content_type;
  gboolean progress;
  const GvDownloadOptions *opt;
  double last_print;
  gint64 resume_from; /* offset asked for with Range in this attempt */
} Transfer;

/* Text and JSON are what an expired link or a login page sends back instead of the video. */
static gboolean
content_type_is_page (const char *ct)
{
  return ct && (g_ascii_strncasecmp (ct, "text/", 5) == 0
                || g_ascii_strncasecmp (ct, "application/json", 16) == 0
                || g_ascii_strncasecmp (ct, "application/xhtml", 17) == 0);
}

static gboolean
decide_body (Transfer *t)
{
  long code = 0;
  char *ct = NULL;

  curl_easy_getinfo (t->curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo (t->curl, CURLINFO_CONTENT_TYPE, &ct);
  g_free (t->content_type);
  t->content_type = g_strdup (ct);
  if (code == 206 && t->resume_from > 0)
    t->mode = BODY_FILE;
  else if (code >= 200 && code < 300)
    {
      /* A full body (the server ignored Range): start over. */
      if (t->offset > 0)
        {
          if (fflush (t->f) != 0 || ftruncate (fileno (t->f), 0) != 0 || fseek (t->f, 0, SEEK_SET) != 0)
            {
              t->io_error = TRUE;
              return FALSE;
            }
          g_checksum_reset (t->sum);
          t->offset = 0;
        }
      if (content_type_is_page (ct))
        {
          t->bad_type = TRUE;
          t->mode = BODY_ERROR;
          return TRUE;
        }
      t->mode = BODY_FILE;
    }
  else
    t->mode = BODY_ERROR;
  return TRUE;
}

static size_t
on_write (char *data, size_t size, size_t nmemb, void *ud)
{
  Transfer *t = ud;
  size_t len = size * nmemb;

  if (t->mode == BODY_UNDECIDED && !decide_body (t))
    return 0;
  if (t->mode == BODY_ERROR)
    {
      if (t->err_body->len < 4096)
        g_string_append_len (t->err_body, data, MIN (len, 4096 - t->err_body->len));
      /* A web page instead of the video: no need to read it all. */
      return t->bad_type ? 0 : len;
    }
  if (t->offset + (gint64) len > t->max_bytes)
    {
      t->too_large = TRUE;
      return 0;
    }
  if (fwrite (data, 1, len, t->f) != len)
    {
      t->io_error = TRUE;
      return 0;
    }
  g_checksum_update (t->sum, (const guchar *) data, len);
  t->offset += len;
  return len;
}

static int
on_progress (void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  Transfer *t = ud;
  double now;

  /* A non-zero return aborts the transfer (CURLE_ABORTED_BY_CALLBACK). */
  if (g_cancellable_is_cancelled (t->opt->cancellable))
    return 1;
  if (t->opt->progress_func && t->mode == BODY_FILE)
    t->opt->progress_func (t->resume_from + dlnow, dltotal > 0 ? t->resume_from + dltotal : -1,
                           t->opt->progress_data);
  if (!t->progress || t->mode != BODY_FILE)
    return 0;
  now = g_get_monotonic_time () / 1e6;
  if (now - t->last_print < 0.5)
    return 0;
  t->last_print = now;
  if (dltotal > 0)
    fprintf (stderr, "download         %5.1f%%  %.1f of %.1f MB\n",
             100.0 * (double) (t->resume_from + dlnow) / (double) (t->resume_from + dltotal),
             (t->resume_from + dlnow) / 1e6, (t->resume_from + dltotal) / 1e6);
  else
    fprintf (stderr, "download         %.1f MB\n", (t->resume_from + dlnow) / 1e6);
  return 0;
}

static gboolean
status_is_retryable (long code)
{
  return code == 408 || code == 429 || (code >= 500 && code != 501 && code != 505);
}

static gboolean
curl_is_retryable (CURLcode rc)
{
  switch (rc)
    {
    case CURLE_COULDNT_CONNECT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return TRUE;
    case CURLE_OPERATION_TIMEDOUT:
      return FALSE; /* the stall case is told apart by the caller */
    default:
      return FALSE;
    }
}

gboolean
gv_download_file (const char *url, const char *dest, const GvDownloadOptions *opt,
                  GvDownloadResult *res, GError **error)
{
  static GOnce once = G_ONCE_INIT;
  GvDownloadOptions defaults;
  g_autofree char *shown = gv_net_url_for_display (url);
  g_autofree char *part = g_strconcat (dest, ".part", NULL);
  Transfer t = { 0 };
  gboolean ok = FALSE;
  double delay;
  int attempt;

  g_once (&once, curl_init_once, NULL);
  if (!opt)
    {
      gv_download_options_init_default (&defaults);
      opt = &defaults;
    }
  if (g_ascii_strncasecmp (url, "http://", 7) != 0 && g_ascii_strncasecmp (url, "https://", 8) != 0)
    {
      g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_INVALID,
                   "%s: only http and https URLs can be downloaded", shown);
      return FALSE;
    }
  if (!(t.f = g_fopen (part, "w+b")))
    {
      int e = errno;
      g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_IO, "cannot create %s: %s", part, g_strerror (e));
      return FALSE;
    }
  t.curl = curl_easy_init ();
  t.sum = g_checksum_new (G_CHECKSUM_SHA256);
  t.err_body = g_string_new (NULL);
  t.max_bytes = opt->max_bytes;
  t.progress = opt->progress;
  t.opt = opt;
  if (!t.curl)
    {
      g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_NETWORK, "libcurl could not start");
      goto out;
    }
  curl_easy_setopt (t.curl, CURLOPT_URL, url);
  curl_easy_setopt (t.curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (t.curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (t.curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (t.curl, CURLOPT_MAXREDIRS, (long) opt->max_redirects);
  curl_easy_setopt (t.curl, CURLOPT_CONNECTTIMEOUT, opt->connect_timeout_s);
  curl_easy_setopt (t.curl, CURLOPT_TIMEOUT, opt->total_timeout_s);
  curl_easy_setopt (t.curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (t.curl, CURLOPT_LOW_SPEED_TIME, opt->stall_timeout_s);
  curl_easy_setopt (t.curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) opt->max_bytes);
  curl_easy_setopt (t.curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (t.curl, CURLOPT_USERAGENT, "gvscan (GradeVault Inspector)");
  curl_easy_setopt (t.curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt (t.curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt (t.curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt (t.curl, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt (t.curl, CURLOPT_NOPROGRESS, 0L);

  delay = opt->backoff_s;
  for (attempt = 1;; attempt++)
    {
      char errbuf[CURL_ERROR_SIZE] = "";
      char range[64];
      gboolean retry = FALSE, stalled;
      long code = 0;
      CURLcode rc;
      double elapsed = 0;

      t.mode = BODY_UNDECIDED;
      t.too_large = t.bad_type = t.io_error = FALSE;
      g_string_truncate (t.err_body, 0);
      t.resume_from = t.offset;
      curl_easy_setopt (t.curl, CURLOPT_ERRORBUFFER, errbuf);
      /* CURLOPT_RANGE rather than RESUME_FROM: a server that ignores it sends a 200, and
       * decide_body starts the file over instead of libcurl failing the attempt. */
      g_snprintf (range, sizeof range, "%" G_GINT64_FORMAT "-", t.offset);
      curl_easy_setopt (t.curl, CURLOPT_RANGE, t.offset > 0 ? range : NULL);
      rc = curl_easy_perform (t.curl);
      curl_easy_getinfo (t.curl, CURLINFO_RESPONSE_CODE, &code);
      curl_easy_getinfo (t.curl, CURLINFO_TOTAL_TIME, &elapsed);
      g_clear_error (error);
      if (g_cancellable_set_error_if_cancelled (opt->cancellable, error))
        goto out;
      if (res)
        {
          res->http_status = code;
          res->attempts = attempt;
          if (t.resume_from > 0 && t.mode == BODY_FILE && code == 206)
            res->resumed = TRUE;
        }
      if (t.io_error)
        {
          int e = errno;
          g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_IO, "cannot write %s: %s", part, g_strerror (e));
          goto out;
        }
      if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED)
        {
          g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_TOO_LARGE,
                       "%s: the video is larger than the limit of %" G_GINT64_FORMAT " bytes",
                       shown, opt->max_bytes);
          goto out;
        }
      if (t.bad_type)
        {
          g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_CONTENT_TYPE,
                       "%s: the server sent %s (HTTP %ld), not a video; is the link expired or "
                       "behind a login?", shown, t.content_type, code);
          goto out;
        }
      if (rc == CURLE_OK && code >= 200 && code < 300)
        {
          ok = TRUE;
          break;
        }
      if (rc == CURLE_OK)
        {
          /* The status, and the start of the body when it is short text (Storage's JSON). */
          g_autofree char *body = g_utf8_make_valid (t.err_body->str, t.err_body->len);
          g_strstrip (body);
          if (strlen (body) > 200 || strchr (body, '<'))
            body[0] = '\0';
          g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_HTTP, "%s: HTTP %ld%s%s", shown, code,
                       *body ? ": " : "", body);
          retry = status_is_retryable (code);
        }
      else if (rc == CURLE_TOO_MANY_REDIRECTS)
        {
          g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_REDIRECTS,
                       "%s: more than %d redirects (a redirect loop?)", shown, opt->max_redirects);
          goto out;
        }
      else if (rc == CURLE_OPERATION_TIMEDOUT)
        {
          /* The low-speed check fires before the total timeout: a stalled server is retried,
           * a transfer that ran out of its whole time is not. */
          stalled = elapsed + 0.5 < (double) opt->total_timeout_s;
          g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_TIMEOUT, "%s: %s after %.1f s (%s)", shown,
                       stalled ? "the transfer stalled" : "timed out", elapsed,
                       *errbuf ? errbuf : curl_easy_strerror (rc));
          retry = stalled;
        }
      else
        {
          g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_NETWORK, "%s: %s", shown,
                       *errbuf ? errbuf : curl_easy_strerror (rc));
          retry = curl_is_retryable (rc);
        }
      if (!retry || attempt >= opt->max_attempts)
        {
          if (retry)
            g_prefix_error (error, "after %d attempts: ", attempt);
          goto out;
        }
      if (opt->progress)
        fprintf (stderr, "download: %s; retrying in %.1f s\n", (*error)->message, delay);
      for (double waited = 0; waited < delay && !g_cancellable_is_cancelled (opt->cancellable);
           waited += 0.05)
        g_usleep (50000);
      if (g_cancellable_is_cancelled (opt->cancellable))
        {
          g_clear_error (error);
          g_cancellable_set_error_if_cancelled (opt->cancellable, error);
          goto out;
        }
      delay *= 2;
    }

out:
  if (t.f && fclose (t.f) != 0 && ok)
    {
      int e = errno;
      g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_IO, "cannot write %s: %s", part, g_strerror (e));
      ok = FALSE;
    }
  if (ok && g_rename (part, dest) != 0)
    {
      int e = errno;
      g_set_error (error, GV_NET_ERROR, GV_NET_ERROR_IO, "cannot rename %s to %s: %s", part, dest,
                   g_strerror (e));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (part);
  else if (res)
    {
      g_free (res->sha256);
      res->sha256 = g_strdup (g_checksum_get_string (t.sum));
      res->size = t.offset;
      g_free (res->content_type);
      res->content_type = g_strdup (t.content_type);
    }
  if (t.curl)
    curl_easy_cleanup (t.curl);
  g_checksum_free (t.sum);
  g_string_free (t.err_body, TRUE);
  g_free (t.content_type);
  return ok;
}
