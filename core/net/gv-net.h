/* gv-net.h: the network side of worker mode over libcurl. Downloads go to a temporary file next to
 * the destination and are renamed only when complete, checked (HTTP status, size limit, content
 * type) and hashed. Owners: gv-download.c (downloads), gv-supabase.c (requests, Storage, PostgREST),
 * gv-webhook.c (webhooks). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define GV_NET_ERROR (gv_net_error_quark ())
GQuark gv_net_error_quark (void);

typedef enum {
  GV_NET_ERROR_HTTP,         /* the server answered with an error status (in the message) */
  GV_NET_ERROR_TOO_LARGE,    /* the body went past the size limit */
  GV_NET_ERROR_TIMEOUT,      /* connect or total timeout, or the transfer stalled */
  GV_NET_ERROR_REDIRECTS,    /* more redirects than allowed */
  GV_NET_ERROR_CONTENT_TYPE, /* the server sent a web page or JSON, not a video */
  GV_NET_ERROR_NETWORK,      /* connection refused or dropped, truncated body, DNS, TLS */
  GV_NET_ERROR_IO,           /* the local file could not be written */
  GV_NET_ERROR_INVALID,      /* bad URL or scheme */
  GV_NET_ERROR_AUTH,         /* 401 or 403: the key is wrong or lacks the right; never retried */
  GV_NET_ERROR_NOT_CONFIGURED, /* SUPABASE_URL or SUPABASE_KEY missing */
} GvNetError;

typedef struct {
  long connect_timeout_s; /* 10 */
  long total_timeout_s;   /* whole transfer, per attempt: 600 */
  long stall_timeout_s;   /* less than 1 byte/s for this long is a stall: 30 */
  int max_redirects;      /* 5 */
  gint64 max_bytes;       /* 4 GiB */
  int max_attempts;       /* 4 (retries on 5xx, 408, 429, dropped connections, stalls) */
  double backoff_s;       /* first retry delay, doubled each time: 1.0 */
  gboolean progress;      /* progress lines on stderr */
  /* The app's download (Open URL): called in the downloading thread as the body arrives with the
   * bytes so far and the total (-1 when unknown); NULL by default. */
  void (*progress_func) (gint64 done, gint64 total, gpointer user_data);
  gpointer progress_data;
  /* NULL by default; once cancelled the transfer (or the wait before a retry) stops within about
   * a second and the call fails with G_IO_ERROR_CANCELLED, leaving nothing behind. */
  GCancellable *cancellable;
} GvDownloadOptions;

void gv_download_options_init_default (GvDownloadOptions *o);

typedef struct {
  char *sha256;       /* lower-case hex of the bytes written */
  gint64 size;
  long http_status;   /* of the last attempt */
  char *content_type; /* as the server sent it, may be NULL */
  int attempts;
  gboolean resumed;   /* a later attempt continued with Range where the last one stopped */
} GvDownloadResult;

void gv_download_result_clear (GvDownloadResult *r);

/* Downloads url (http or https only) to dest; res may be NULL. On failure nothing is left at dest
 * or at the temporary name, and the message names the URL's host and path, never its query. */
gboolean gv_download_file (const char *url, const char *dest, const GvDownloadOptions *opt,
                           GvDownloadResult *res, GError **error);

/* The URL without query and fragment (which may carry tokens), for messages. */
char *gv_net_url_for_display (const char *url);

/* ---- requests with small bodies: uploads, progress, webhooks ---- */
typedef struct {
  const char *method;          /* "POST", "PATCH", "PUT" */
  const char *url;
  const char *const *headers;  /* "Name: value", NULL-terminated; may carry the key: never logged */
  const void *body;
  gsize body_len;
  long timeout_s;              /* per attempt, connect included: 60 when 0 */
  int max_attempts;            /* 3 when 0 */
  double backoff_s;            /* 1.0 when 0 */
} GvNetRequest;

/* Sends a request; retries on 5xx, 408, 429, timeouts and dropped connections with exponential
 * backoff, never on other 4xx. A 400 whose JSON body names another status ("statusCode": "403",
 * as Supabase Storage does) counts as that status. TRUE for 2xx. status (may be NULL) gets the
 * effective status, 0 when no answer came; messages name the URL without its query. */
gboolean gv_net_request (const GvNetRequest *req, long *status, GBytes **response, GError **error);

/* Supabase (Storage and PostgREST) with credentials from the environment only. */
typedef struct _GvSupabase GvSupabase;
/* SUPABASE_URL and SUPABASE_KEY; GV_NET_ERROR_NOT_CONFIGURED when either is missing. */
GvSupabase *gv_supabase_new_from_env (GError **error);
void gv_supabase_free (GvSupabase *sb);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvSupabase, gv_supabase_free)
/* Retry policy of later requests (tests shorten it). */
void gv_supabase_set_retry (GvSupabase *sb, int max_attempts, double backoff_s, long timeout_s);
/* POST {url}/storage/v1/object/{bucket}/{path} with apikey, Bearer, the content type and
 * x-upsert: true. public_url (may be NULL) gets {url}/storage/v1/object/public/{bucket}/{path}. */
gboolean gv_supabase_upload (GvSupabase *sb, const char *bucket, const char *path,
                             const char *content_type, GBytes *data, char **public_url,
                             GError **error);
/* PATCH {url}/rest/v1/analysis_jobs?id=eq.{job_id} with the worker's progress fields. */
gboolean gv_supabase_progress (GvSupabase *sb, const char *job_id, int percentage,
                               const char *step, const char *message, GError **error);

/* POST JSON text to url (webhooks): Content-Type application/json, same retries. */
gboolean gv_net_post_json (const char *url, const char *json, GError **error);

G_END_DECLS
