/* gv-url-download.c: Open URL's download (issue 7). The video is fetched by core/net's
 * gv_download_file, the same code as `gvscan analyze --video-url` (status, size cap, content type,
 * retries, resume), in a GTask thread; progress is coalesced under a mutex into one low-priority
 * idle, as the analysis bridge does, and the task's GCancellable stops the transfer. */
#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

#include "gv-analysis.h"
#ifdef GV_HAVE_NET
#include "gv-net.h"
#endif

gboolean
gv_url_download_available (void)
{
#ifdef GV_HAVE_NET
  return TRUE;
#else
  return FALSE;
#endif
}

gboolean
gv_url_check (const char *url, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local = NULL;
  const char *scheme;

  if (!url || !*url)
    {
      g_set_error_literal (error, GV_UI_ERROR, GV_UI_ERROR_DOWNLOAD, _("Type the address of a scan video."));
      return FALSE;
    }
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, &local);
  scheme = uri ? g_uri_get_scheme (uri) : NULL;
  if (!uri || !scheme || (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0))
    {
      g_set_error (error, GV_UI_ERROR, GV_UI_ERROR_DOWNLOAD,
                   _("“%s” is not an http or https address: only those can be opened."), url);
      return FALSE;
    }
  if (!g_uri_get_host (uri) || !*g_uri_get_host (uri))
    {
      g_set_error (error, GV_UI_ERROR, GV_UI_ERROR_DOWNLOAD, _("“%s” names no server."), url);
      return FALSE;
    }
  return TRUE;
}

char *
gv_url_download_dir (void)
{
  return g_build_filename (g_get_user_cache_dir (), "gradevault-inspector", "downloads", NULL);
}

/* The last path segment (letters, digits, '-', '_', '.') prefixed with a hash of the whole URL,
 * so two scans called video.mp4 on different servers do not overwrite each other. */
char *
gv_url_download_dest (const char *url)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const char *path = uri ? g_uri_get_path (uri) : NULL;
  const char *slash = path ? strrchr (path, '/') : NULL;
  g_autofree char *base = g_strdup (slash ? slash + 1 : path ? path : "");
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, url, -1);
  g_autofree char *dir = gv_url_download_dir ();
  g_autofree char *name = NULL;

  g_strcanon (base, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", '_');
  if (!*base || base[0] == '.' || !strchr (base, '.'))
    {
      g_free (base);
      base = g_strdup ("video.mp4");
    }
  hash[10] = '\0';
  name = g_strdup_printf ("%s-%s", hash, base);
  return g_build_filename (dir, name, NULL);
}

#ifdef GV_HAVE_NET
typedef struct {
  gatomicrefcount ref;
  GMutex lock;
  gint64 done, total;
  gboolean idle_pending;
  GvUrlProgressFunc func;
  gpointer func_data;
  GWeakRef source; /* func_data's owner: progress stops when it is gone */
  GCancellable *cancellable;
} Share;

static Share *
share_ref (Share *s)
{
  g_atomic_ref_count_inc (&s->ref);
  return s;
}

static void
share_unref (gpointer p)
{
  Share *s = p;

  if (!g_atomic_ref_count_dec (&s->ref))
    return;
  g_mutex_clear (&s->lock);
  g_weak_ref_clear (&s->source);
  g_clear_object (&s->cancellable);
  g_free (s);
}

static gboolean
share_idle (gpointer p)
{
  Share *s = p;
  gint64 done, total;
  g_autoptr (GObject) source = g_weak_ref_get (&s->source);

  g_mutex_lock (&s->lock);
  s->idle_pending = FALSE;
  done = s->done;
  total = s->total;
  g_mutex_unlock (&s->lock);
  if (s->func && source && !g_cancellable_is_cancelled (s->cancellable))
    s->func (done, total, s->func_data);
  return G_SOURCE_REMOVE;
}

/* In the downloading thread. */
static void
share_post (gint64 done, gint64 total, gpointer p)
{
  Share *s = p;
  gboolean schedule;

  g_mutex_lock (&s->lock);
  s->done = done;
  s->total = total;
  schedule = !s->idle_pending;
  s->idle_pending = TRUE;
  g_mutex_unlock (&s->lock);
  if (schedule)
    g_idle_add_full (G_PRIORITY_LOW, share_idle, share_ref (s), share_unref);
}

typedef struct {
  char *url, *dest;
  Share *share;
} Job;

static void
job_free (gpointer p)
{
  Job *j = p;

  g_free (j->url);
  g_free (j->dest);
  share_unref (j->share);
  g_free (j);
}

static void
download_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *j = data;
  GvDownloadOptions opt;
  GvDownloadResult res = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (j->dest);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int e = errno;
      g_task_return_new_error (task, GV_UI_ERROR, GV_UI_ERROR_DOWNLOAD,
                               _("The download folder %s cannot be created: %s."), dir, g_strerror (e));
      return;
    }
  gv_download_options_init_default (&opt);
  opt.progress_func = share_post;
  opt.progress_data = j->share;
  opt.cancellable = cancellable;
  if (!gv_download_file (j->url, j->dest, &opt, &res, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        {
          g_autofree char *t = gv_url_error_text (j->url, error, res.http_status);
          g_task_return_new_error (task, GV_UI_ERROR, GV_UI_ERROR_DOWNLOAD, "%s", t);
        }
      gv_download_result_clear (&res);
      return;
    }
  gv_download_result_clear (&res);
  g_task_return_pointer (task, g_strdup (j->dest), g_free);
}
#endif

void
gv_url_download_async (GObject *source, const char *url, const char *dest,
                       GCancellable *cancellable, GvUrlProgressFunc progress,
                       gpointer progress_data, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (source, cancellable, callback, user_data);

  g_task_set_source_tag (task, gv_url_download_async);
#ifdef GV_HAVE_NET
  {
    Job *j = g_new0 (Job, 1);
    j->url = g_strdup (url);
    j->dest = g_strdup (dest);
    j->share = g_new0 (Share, 1);
    g_atomic_ref_count_init (&j->share->ref);
    g_mutex_init (&j->share->lock);
    j->share->func = progress;
    j->share->func_data = progress_data;
    g_weak_ref_init (&j->share->source, source);
    j->share->cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
    g_task_set_task_data (task, j, job_free);
    g_task_run_in_thread (task, download_thread);
  }
#else
  g_task_return_new_error (task, GV_UI_ERROR, GV_UI_ERROR_DOWNLOAD,
                           _("This build cannot download: it was made without libcurl (core/net)."));
#endif
}

char *
gv_url_download_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == gv_url_download_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

char *
gv_url_error_text (const char *url, const GError *error, long http_status)
{
#ifdef GV_HAVE_NET
  g_autofree char *shown = gv_net_url_for_display (url);
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const char *host = uri && g_uri_get_host (uri) ? g_uri_get_host (uri) : shown;
  /* core/net's messages start with the URL, which ours name already. */
  const char *detail = error->message;
  gsize sl = strlen (shown);

  if (strncmp (detail, shown, sl) == 0 && detail[sl] == ':' && detail[sl + 1] == ' ')
    detail += sl + 2;

  if (error->domain == GV_NET_ERROR)
    switch ((GvNetError) error->code)
      {
      case GV_NET_ERROR_HTTP:
        if (http_status == 404 || http_status == 410)
          return g_strdup_printf (_("The download of %s failed: the server %s has no such file "
                                    "(HTTP %ld, not found)."), shown, host, http_status);
        return g_strdup_printf (_("The download of %s failed: the server %s answered with an error (%s)."),
                                shown, host, detail);
      case GV_NET_ERROR_TOO_LARGE:
        return g_strdup_printf (_("The download of %s failed: the file is too large (%s)."), shown,
                                detail);
      case GV_NET_ERROR_TIMEOUT:
        return g_strdup_printf (_("The download of %s failed: the server %s stopped answering (%s)."),
                                shown, host, detail);
      case GV_NET_ERROR_REDIRECTS:
        return g_strdup_printf (_("The download of %s failed: too many redirects (%s)."), shown,
                                detail);
      case GV_NET_ERROR_CONTENT_TYPE:
        return g_strdup_printf (_("The download of %s failed: the server sent a web page or text, "
                                  "not a video; is the link expired or behind a login?"), shown);
      case GV_NET_ERROR_NETWORK:
        return g_strdup_printf (_("The download of %s failed: the server %s cannot be reached (%s)."),
                                shown, host, detail);
      case GV_NET_ERROR_IO:
        return g_strdup_printf (_("The download of %s failed: the file cannot be saved (%s)."), shown,
                                detail);
      case GV_NET_ERROR_INVALID:
        return g_strdup_printf (_("“%s” is not an http or https address: only those can be opened."), url);
      default:
        break;
      }
  return g_strdup_printf (_("The download of %s failed: %s"), shown, detail);
#else
  return g_strdup (error->message);
#endif
}
