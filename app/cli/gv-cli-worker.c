/* gv-cli-worker.c: worker mode of gvscan (issue 7): videos by URL for analyze, uploads of a stored
 * run to Supabase Storage (analyze --upload, gvscan publish RUN). Uploads always start from the
 * run store, so a failed upload loses nothing and publish can retry it later. The network work
 * itself is core/net's; this file maps runs to the worker's paths and turns errors into messages. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "gv-cli.h"
#include "gv-net.h"
#include "gv-report.h"
#include "gv-store.h"

#define GV_BUCKET "analysis-images"

#include "gv-cli-worker.h"
int gv_cli_publish (int argc, char **argv);
int gv_cli_serve (int argc, char **argv);

/* The local name keeps the URL's extension when it has a usual video one (FFmpeg probes the
 * content anyway; the name is for people). */
static char *
local_name (const char *url)
{
  static const char *exts[] = { ".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi", ".y4m" };
  g_autofree char *shown = gv_net_url_for_display (url);
  const char *dot = strrchr (shown, '.');
  const char *slash = strrchr (shown, '/');

  for (guint i = 0; dot && dot > slash && i < G_N_ELEMENTS (exts); i++)
    if (!g_ascii_strcasecmp (dot, exts[i]))
      return g_strconcat ("source-video", exts[i], NULL);
  return g_strdup ("source-video.mp4");
}

/* ---- a worker job: progress PATCHes, upload, webhook ---- */
struct _GvCliJob {
  GvSupabase *sb;     /* NULL without --progress-job and --upload */
  GvSupabase *sb_progress; /* the PATCHes' own, used by the pool's thread alone */
  gboolean progress_failing; /* a PATCH failed after its retries: later ones are tried once */
  char *job_id;       /* --progress-job */
  char *webhook;      /* --webhook */
  char *worker_json;  /* --worker-json */
  GThreadPool *pool;  /* one thread: PATCHes in order, never blocking the analysis */
  int last;           /* last percentage sent */
  char *published;    /* worker JSON with URLs after a successful upload */
  gint64 upload_failed_run; /* > 0: the run whose upload failed (kept for gvscan publish) */
  char *upload_failed_msg;
};

typedef struct {
  int percentage;
  char *step, *message;
} Patch;

static void
send_patch (gpointer data, gpointer ud)
{
  Patch *p = data;
  GvCliJob *job = ud;
  g_autoptr (GError) error = NULL;

  /* Progress is advisory: a failure is reported and the analysis goes on. Once the endpoint has
   * failed after its retries, later steps are tried once, so that a dead endpoint cannot hold the
   * job's end (which waits for the queued PATCHes) for minutes. */
  if (!gv_supabase_progress (job->sb_progress, job->job_id, p->percentage, p->step, p->message,
                             &error))
    {
      fprintf (stderr, "gvscan: warning: progress %d%% (%s) not recorded: %s%s\n", p->percentage,
               p->step, error->message,
               job->progress_failing ? "" : "; later steps are tried once");
      if (!job->progress_failing)
        gv_supabase_set_retry (job->sb_progress, 1, 1.0, 30);
      job->progress_failing = TRUE;
    }
  g_free (p->step);
  g_free (p->message);
  g_free (p);
}

GvCliJob *
gv_cli_job_new (const char *progress_job, const char *webhook, const char *worker_json,
                gboolean upload)
{
  g_autoptr (GError) error = NULL;
  GvCliJob *job = g_new0 (GvCliJob, 1);

  job->last = -1;
  job->webhook = g_strdup (webhook);
  job->worker_json = g_strdup (worker_json);
  if (progress_job || upload)
    {
      if (!(job->sb = gv_supabase_new_from_env (&error)))
        {
          fprintf (stderr, "gvscan analyze: %s for --upload and --progress-job\n", error->message);
          gv_cli_job_free (job);
          return NULL;
        }
      gv_supabase_set_retry (job->sb, 3, 1.0, 120);
    }
  if (progress_job)
    {
      job->sb_progress = gv_supabase_new_from_env (NULL);
      gv_supabase_set_retry (job->sb_progress, 3, 1.0, 30);
      job->job_id = g_strdup (progress_job);
      job->pool = g_thread_pool_new (send_patch, job, 1, FALSE, NULL);
    }
  return job;
}

void
gv_cli_job_step (GvCliJob *job, int percentage, const char *step, const char *message)
{
  Patch *p;

  if (!job || !job->pool || percentage <= job->last)
    return;
  job->last = percentage;
  p = g_new0 (Patch, 1);
  p->percentage = percentage;
  p->step = g_strdup (step);
  p->message = g_strdup (message);
  g_thread_pool_push (job->pool, p, NULL);
}

/* The pipeline's stages as the worker's steps (seed-system.md). */
void
gv_cli_job_stage (GvCliJob *job, const char *stage, double frac)
{
  if (!job || !stage)
    return;
  if (!strcmp (stage, "frame_analysis"))
    {
      if (frac >= 1.0)
        gv_cli_job_step (job, 50, "frame_analysis_complete", "Frame analysis complete");
      else
        gv_cli_job_step (job, 25, "frame_analysis", "Analysing frames");
    }
  else if (!strcmp (stage, "golden_frames") && frac >= 1.0)
    gv_cli_job_step (job, 60, "frames_selected", "Golden frames selected");
  else if (!strcmp (stage, "defect_analysis"))
    gv_cli_job_step (job, 70, "defect_analysis", "Analysing defects");
}

/* The worker's error object: {"error": message, "type": type} (and "run" when run > 0). */
static char *
error_json (const char *message, const char *type, gint64 run)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, message);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  if (run > 0)
    {
      json_builder_set_member_name (b, "run");
      json_builder_add_int_value (b, run);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

gboolean
gv_cli_job_upload (GvCliJob *job, GvStore *store, gint64 run_id, gboolean quiet)
{
  g_autoptr (GError) error = NULL;

  g_free (job->published);
  if (!(job->published = gv_cli_publish_run (store, run_id, quiet, &error)))
    {
      fprintf (stderr, "gvscan analyze: upload failed: %s\n"
               "gvscan: the analysis is kept as run %" G_GINT64_FORMAT
               "; 'gvscan publish %" G_GINT64_FORMAT "' uploads it again\n",
               error->message, run_id, run_id);
      job->upload_failed_run = run_id;
      g_free (job->upload_failed_msg);
      job->upload_failed_msg = g_strdup_printf ("the analysis is stored as run %" G_GINT64_FORMAT
                                                " but its upload failed: %s; 'gvscan publish %"
                                                G_GINT64_FORMAT "' uploads it again",
                                                run_id, error->message, run_id);
      return FALSE;
    }
  gv_cli_job_step (job, 95, "upload_complete", "Upload complete");
  return TRUE;
}

void
gv_cli_job_finish (GvCliJob *job, GvStore *store, gint64 run_id, gboolean ok,
                   const char *error_message)
{
  g_autofree char *body = NULL;
  g_autoptr (GError) error = NULL;

  if (!job)
    return;
  if (ok)
    gv_cli_job_step (job, 100, "complete", "Analysis complete");
  if (!job->webhook && !job->worker_json)
    return;
  if (ok && job->published)
    body = g_strdup (job->published);
  else if (ok && store && run_id > 0)
    {
      g_autoptr (GvRun) run = gv_store_load_run (store, run_id, &error);
      g_autoptr (JsonNode) w = run ? gv_report_worker_json (run) : NULL;
      if (w)
        body = json_to_string (w, FALSE);
      g_clear_error (&error);
    }
  if (!body)
    {
      body = error_json (error_message && *error_message ? error_message : "failed",
                         "analysis_error", 0);
    }
  if (job->worker_json)
    {
      /* gvscan serve answers from this file: after a failed upload, the worker's error shape
       * with the run to publish later (the webhook still gets the analysis) */
      g_autofree char *upload_error = NULL;
      if (job->upload_failed_run > 0)
        upload_error = error_json (job->upload_failed_msg, "upload_error", job->upload_failed_run);
      if (!g_file_set_contents (job->worker_json, upload_error ? upload_error : body, -1, &error))
        {
          fprintf (stderr, "gvscan: cannot write %s: %s\n", job->worker_json, error->message);
          g_clear_error (&error);
        }
    }
  if (job->webhook && !gv_net_post_json (job->webhook, body, &error))
    fprintf (stderr, "gvscan: warning: webhook not delivered: %s\n", error->message);
}

void
gv_cli_job_free (GvCliJob *job)
{
  if (!job)
    return;
  if (job->pool)
    g_thread_pool_free (job->pool, FALSE, TRUE);
  gv_supabase_free (job->sb);
  gv_supabase_free (job->sb_progress);
  g_free (job->job_id);
  g_free (job->webhook);
  g_free (job->worker_json);
  g_free (job->published);
  g_free (job->upload_failed_msg);
  g_free (job);
}

/* Ctrl-C arrives as a flag set by a signal handler; a watcher thread turns it into a cancel of
 * the download (GCancellable cannot be cancelled from the handler itself). */
typedef struct {
  volatile sig_atomic_t *interrupted;
  GCancellable *cancellable;
  gint done;
} Watch;

static gpointer
watch_interrupt (gpointer data)
{
  Watch *w = data;

  while (!g_atomic_int_get (&w->done))
    {
      if (*w->interrupted)
        {
          g_cancellable_cancel (w->cancellable);
          break;
        }
      g_usleep (50000);
    }
  return NULL;
}

char *
gv_cli_download_video (const char *url, const char *dir, gboolean quiet, GvCliJob *job,
                       volatile sig_atomic_t *interrupted)
{
  GvDownloadOptions opt;
  GvDownloadResult res = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *name = local_name (url);
  g_autofree char *dest = g_build_filename (dir, name, NULL);
  g_autofree char *shown = gv_net_url_for_display (url);
  Watch w = { interrupted, cancellable, 0 };
  GThread *watcher = NULL;
  gboolean ok;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      fprintf (stderr, "gvscan: cannot create the output directory %s\n", dir);
      return NULL;
    }
  gv_download_options_init_default (&opt);
  opt.progress = !quiet;
  opt.cancellable = cancellable;
  if (interrupted)
    watcher = g_thread_new ("gv-interrupt", watch_interrupt, &w);
  ok = gv_download_file (url, dest, &opt, &res, &error);
  g_atomic_int_set (&w.done, 1);
  if (watcher)
    g_thread_join (watcher);
  if (!ok)
    {
      gboolean cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_autofree char *msg = cancelled ? g_strdup_printf ("download of %s cancelled", shown)
                                       : g_strdup_printf ("download failed: %s", error->message);
      fprintf (stderr, "gvscan analyze: %s%s\n", msg, cancelled ? "; nothing was written" : "");
      gv_cli_job_finish (job, NULL, 0, FALSE, msg);
      gv_download_result_clear (&res);
      return NULL;
    }
  if (!quiet)
    fprintf (stderr, "gvscan: downloaded %s: %" G_GINT64_FORMAT " bytes, SHA-256 %s%s\n", shown,
             res.size, res.sha256, res.attempts > 1 ? " (after retries)" : "");
  gv_download_result_clear (&res);
  gv_cli_job_step (job, 15, "download_complete", "Video downloaded");
  return g_steal_pointer (&dest);
}

/* Uploads the stored image named by *member (a string node) to path and replaces the node's value
 * with its public URL; a name the run does not hold becomes null. */
static gboolean
upload_member (GvSupabase *sb, const GvRun *run, JsonNode *member, const char *path,
               gboolean quiet, GError **error)
{
  const GvRunImage *img;
  g_autofree char *url = NULL;

  if (!member || !JSON_NODE_HOLDS_VALUE (member) || json_node_get_value_type (member) != G_TYPE_STRING)
    return TRUE;
  if (!(img = gv_run_find_image_by_name (run, json_node_get_string (member))))
    {
      json_node_init_null (member);
      return TRUE;
    }
  if (!gv_supabase_upload (sb, GV_BUCKET, path, "image/png", img->png, &url, error))
    return FALSE;
  if (!quiet)
    fprintf (stderr, "gvscan: uploaded %s\n", path);
  json_node_set_string (member, url);
  return TRUE;
}

char *
gv_cli_publish_run (GvStore *store, gint64 run_id, gboolean quiet, GError **error)
{
  g_autoptr (GvSupabase) sb = gv_supabase_new_from_env (error);
  g_autoptr (GvRun) run = NULL;
  g_autoptr (JsonNode) worker = NULL;
  g_autofree char *text = NULL;
  g_autofree char *json_path = NULL;
  g_autoptr (GBytes) json_bytes = NULL;
  JsonObject *o;
  JsonArray *golden;
  const char *sid;
  static const struct { const char *member, *file; } singles[] = {
    { "defectMask", "defect_mask.png" },
    { "varianceHeatmap", "variance_heatmap.png" },
    { "defectOverlay", "defect_overlay.png" },
  };

  if (!sb || !(run = gv_store_load_run (store, run_id, error)))
    return NULL;
  if (run->status != GV_RUN_DONE)
    {
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_FAILED,
                   "run %" G_GINT64_FORMAT " is %s: there is nothing to publish", run_id,
                   gv_run_status_name (run->status));
      return NULL;
    }
  sid = run->scan_id && *run->scan_id ? run->scan_id : "unnamed";
  worker = gv_report_worker_json (run);
  o = json_node_get_object (worker);
  golden = json_object_get_array_member (o, "goldenFrames");
  for (guint i = 0; golden && i < json_array_get_length (golden); i++)
    {
      JsonNode *n = json_array_get_element (golden, i);
      g_autofree char *path = NULL;
      if (!JSON_NODE_HOLDS_VALUE (n))
        continue;
      path = g_strdup_printf ("%s/frames/%s", sid, json_node_get_string (n));
      if (!upload_member (sb, run, n, path, quiet, error))
        return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (singles); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s", sid, singles[i].file);
      if (json_object_has_member (o, singles[i].member)
          && !upload_member (sb, run, json_object_get_member (o, singles[i].member), path, quiet,
                             error))
        return NULL;
    }
  if (json_object_has_member (o, "regionCrops"))
    {
      JsonObject *crops = json_object_get_object_member (o, "regionCrops");
      g_autoptr (GList) names = crops ? json_object_get_members (crops) : NULL;
      for (GList *l = names; l; l = l->next)
        {
          g_autofree char *path = g_strdup_printf ("%s/crops/%s.png", sid, (const char *) l->data);
          if (!upload_member (sb, run, json_object_get_member (crops, l->data), path, quiet, error))
            return NULL;
        }
    }
  text = json_to_string (worker, FALSE);
  json_bytes = g_bytes_new (text, strlen (text));
  json_path = g_strdup_printf ("%s/result.json", sid);
  if (!gv_supabase_upload (sb, GV_BUCKET, json_path, "application/json", json_bytes, NULL, error))
    return NULL;
  if (!quiet)
    fprintf (stderr, "gvscan: uploaded %s\n", json_path);
  return g_steal_pointer (&text);
}

/* gvscan publish RUN: uploads a stored run (again), e.g. after analyze --upload failed. */
int
gv_cli_publish (int argc, char **argv)
{
  g_autofree char *db = NULL, *out = NULL;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "Run database (default: the user's data directory)", "FILE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Write the worker JSON with the URLs to FILE (default: stdout)", "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (
    "RUN - upload a stored run's images and worker JSON to Supabase Storage");
  g_autoptr (GError) error = NULL;
  g_autoptr (GvStore) store = NULL;
  g_autofree char *path = NULL, *text = NULL;
  gint64 id;
  char *end = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx, "Credentials come from SUPABASE_URL and SUPABASE_KEY.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "gvscan publish: %s\n", error->message);
      return 2;
    }
  if (argc != 2 || (id = g_ascii_strtoll (argv[1], &end, 10)) <= 0 || *end)
    {
      fprintf (stderr, "gvscan publish: give one RUN number (see gvscan runs)\n");
      return 2;
    }
  path = db ? g_strdup (db) : gv_store_default_path ();
  if (!(store = gv_store_open (path, GV_STORE_OPEN_READ_ONLY, &error)))
    {
      fprintf (stderr, "gvscan publish: %s\n", error->message);
      return 1;
    }
  if (!(text = gv_cli_publish_run (store, id, quiet, &error)))
    {
      fprintf (stderr, "gvscan publish: run %" G_GINT64_FORMAT ": %s\n", id, error->message);
      return 1;
    }
  if (out)
    {
      if (!g_file_set_contents (out, text, -1, &error))
        {
          fprintf (stderr, "gvscan publish: %s\n", error->message);
          return 1;
        }
    }
  else
    printf ("%s\n", text);
  return 0;
}

#if GV_HAVE_SOUP
/* ---- gvscan serve: the worker's HTTP endpoint over libsoup 3 ----
 * Each job runs as a child `gvscan analyze --video-url ... --worker-json FILE`, so a crash or a
 * leak in one analysis cannot take the server down. One job at a time per backend; a bounded
 * queue behind each; 503 when it is full. Everything runs on the main loop: no locks.
 *
 * Shutdown (SIGINT, SIGTERM): new requests get 503 "shutting_down" and queued jobs are answered
 * so at once; a running job may finish within the grace period (--shutdown-grace, 30 s), after
 * which (or on a second signal) it is cancelled: SIGINT to the child, which stops within a frame,
 * writes nothing and marks its run cancelled in the store; a child still alive 10 s later is
 * killed (its run is then marked failed the next time the store is opened). The server exits 0
 * once every answer has been sent. Children run in their own process group so that a Ctrl-C on
 * the terminal reaches the server alone and the grace period holds. */
#include <glib-unix.h>
#include <libsoup/soup.h>
#include <unistd.h>

#define SERVE_BODY_LIMIT (64 * 1024)

#define SERVE_KILL_AFTER_S 10

typedef struct _ServeJob ServeJob;

typedef struct {
  const char *backend;
  gboolean busy;
  ServeJob *running;
  GQueue pending; /* ServeJob* */
} Lane;

struct _ServeJob {
  SoupServerMessage *msg;
  Lane *lane;
  char *video_url, *scan_id;
  char *dir;
  GSubprocess *proc;
  gboolean cancelled; /* SIGINT sent at shutdown */
};

static struct {
  Lane lanes[2]; /* cpu, cuda */
  int max_queue;
  double gpu_share;
  char *self, *db, *analysis_size;
  gboolean upload;
  const char *default_backend;
  GRand *rand;
  GMainLoop *loop;
  gboolean stopping;
  int grace_s;
  guint grace_id, kill_id, linger_id;
  int open_msgs; /* requests whose answer is not yet written */
} S;

static void
reply_json (SoupServerMessage *msg, guint status, const char *json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, json, strlen (json));
}

static void
reply_error (SoupServerMessage *msg, guint status, const char *type, const char *message)
{
  g_autofree char *text = error_json (message, type, 0);

  reply_json (msg, status, text);
}

static void serve_start_next (Lane *lane);

static gboolean
serve_quit (gpointer data)
{
  S.linger_id = 0;
  g_main_loop_quit (S.loop);
  return G_SOURCE_REMOVE;
}

/* Quits once stopping, with no job left and every answer written (or after 5 s for a client
 * that stopped reading). */
static void
serve_maybe_quit (void)
{
  if (!S.stopping || S.lanes[0].busy || S.lanes[1].busy)
    return;
  if (S.open_msgs == 0)
    {
      g_clear_handle_id (&S.linger_id, g_source_remove);
      g_main_loop_quit (S.loop);
    }
  else if (!S.linger_id)
    S.linger_id = g_timeout_add_seconds (5, serve_quit, NULL);
}

static void
on_msg_finished (SoupServerMessage *msg, gpointer ud)
{
  S.open_msgs--;
  serve_maybe_quit ();
}

/* Counts a request until its answer is written (once, whichever handler sees it first). */
static void
serve_track (SoupServerMessage *msg)
{
  if (g_object_get_data (G_OBJECT (msg), "gv-tracked"))
    return;
  g_object_set_data (G_OBJECT (msg), "gv-tracked", GINT_TO_POINTER (1));
  S.open_msgs++;
  g_signal_connect (msg, "finished", G_CALLBACK (on_msg_finished), NULL);
}

static void
serve_job_free (ServeJob *j)
{
  if (j->dir)
    {
      g_autoptr (GDir) d = g_dir_open (j->dir, 0, NULL);
      const char *n;
      while (d && (n = g_dir_read_name (d)))
        {
          g_autofree char *f = g_build_filename (j->dir, n, NULL);
          g_unlink (f);
        }
      g_rmdir (j->dir);
    }
  g_clear_object (&j->msg);
  g_clear_object (&j->proc);
  g_free (j->video_url);
  g_free (j->scan_id);
  g_free (j->dir);
  g_free (j);
}

static void
on_job_done (GObject *source, GAsyncResult *res, gpointer ud)
{
  ServeJob *j = ud;
  GSubprocess *proc = G_SUBPROCESS (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (j->dir, "worker.json", NULL);
  g_autofree char *text = NULL;
  int rc = -1;

  if (g_subprocess_wait_finish (proc, res, &error) && g_subprocess_get_if_exited (proc))
    rc = g_subprocess_get_exit_status (proc);
  if (j->cancelled && rc != 0 && rc != 3 && rc != 5)
    reply_error (j->msg, 503, "shutting_down",
                 "the server is shutting down: the analysis was cancelled and nothing was kept; "
                 "send the request again");
  else if (!g_file_get_contents (path, &text, NULL, NULL))
    reply_error (j->msg, 500, "analysis_error", "the analysis ended without a result");
  else if (rc == 0 || rc == 3)
    reply_json (j->msg, 200, text);
  else if (rc == 5 && strstr (text, "\"upload_error\""))
    reply_json (j->msg, 502, text); /* with the run number for gvscan publish */
  else if (rc == 5)
    reply_error (j->msg, 502, "upload_error", "the analysis is stored but its upload failed");
  else if (strstr (text, "\"download failed"))
    reply_json (j->msg, 502, text); /* the video's server failed, not this one */
  else
    reply_json (j->msg, 500, text);
  soup_server_message_unpause (j->msg);
  j->lane->busy = FALSE;
  j->lane->running = NULL;
  serve_start_next (j->lane);
  serve_job_free (j);
  serve_maybe_quit ();
}

static void
own_process_group (gpointer data)
{
  setpgid (0, 0);
}

static void
serve_start_next (Lane *lane)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *wj = NULL;
  ServeJob *j;
  GSubprocess *proc;

  if (lane->busy || S.stopping || !(j = g_queue_pop_head (&lane->pending)))
    return;
  wj = g_build_filename (j->dir, "worker.json", NULL);
  g_ptr_array_add (argv, S.self);
  g_ptr_array_add (argv, (char *) "analyze");
  g_ptr_array_add (argv, (char *) "-q");
  g_ptr_array_add (argv, (char *) "--video-url");
  g_ptr_array_add (argv, j->video_url);
  g_ptr_array_add (argv, (char *) "--scan-id");
  g_ptr_array_add (argv, j->scan_id);
  g_ptr_array_add (argv, (char *) "--backend");
  g_ptr_array_add (argv, (char *) lane->backend);
  g_ptr_array_add (argv, (char *) "-o");
  g_ptr_array_add (argv, j->dir);
  g_ptr_array_add (argv, (char *) "--worker-json");
  g_ptr_array_add (argv, wj);
  if (S.db)
    {
      g_ptr_array_add (argv, (char *) "--db");
      g_ptr_array_add (argv, S.db);
    }
  if (S.upload)
    g_ptr_array_add (argv, (char *) "--upload");
  if (S.analysis_size)
    {
      g_ptr_array_add (argv, (char *) "--analysis-size");
      g_ptr_array_add (argv, S.analysis_size);
    }
  g_ptr_array_add (argv, NULL);
  {
    g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_child_setup (l, own_process_group, NULL, NULL);
    /* the only SIGINT a job gets is serve's at shutdown: its run says so */
    g_subprocess_launcher_setenv (l, "GV_CANCEL_REASON", "the worker server was shutting down",
                                  TRUE);
    proc = g_subprocess_launcher_spawnv (l, (const char *const *) argv->pdata, &error);
  }
  if (!proc)
    {
      reply_error (j->msg, 500, "server_error", error->message);
      soup_server_message_unpause (j->msg);
      serve_job_free (j);
      serve_start_next (lane);
      return;
    }
  lane->busy = TRUE;
  lane->running = j;
  j->lane = lane;
  j->proc = proc;
  g_subprocess_wait_async (proc, NULL, on_job_done, j);
}

static gboolean
valid_scan_id (const char *s)
{
  size_t n = strlen (s);

  if (n == 0 || n > 128 || s[0] == '.')
    return FALSE;
  for (const char *c = s; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_' && *c != '.')
      return FALSE;
  return TRUE;
}

static const char *
member_string (JsonObject *o, const char *name, gboolean *bad)
{
  JsonNode *n = json_object_get_member (o, name);

  if (!n)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      *bad = TRUE;
      return NULL;
    }
  return json_node_get_string (n);
}

/* Runs once the headers are in, before libsoup reads the body: a declared body over the limit,
 * or one without a declared length, is refused without reading it. */
static void
on_request_headers (SoupServer *server, SoupServerMessage *msg, const char *path,
                    GHashTable *query, gpointer ud)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  SoupEncoding enc = soup_message_headers_get_encoding (h);

  if (enc == SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (h) <= SERVE_BODY_LIMIT)
    return;
  if (enc == SOUP_ENCODING_NONE)
    return;
  serve_track (msg);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
  if (enc == SOUP_ENCODING_CONTENT_LENGTH)
    reply_error (msg, 413, "request_too_large", "the request body is larger than 64 KiB");
  else
    reply_error (msg, 411, "length_required",
                 "send the request body with a Content-Length (at most 64 KiB)");
}

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer ud)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  const char *url, *scan_id, *item, *tier;
  gboolean bad = FALSE;
  JsonObject *o;
  Lane *lane;
  ServeJob *j;
  gboolean gpu;

  serve_track (msg);
  if (S.stopping)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                    "close");
      reply_error (msg, 503, "shutting_down", "the server is shutting down; send the request to "
                   "another worker or again later");
      return;
    }
  if (strcmp (soup_server_message_get_method (msg), "POST") != 0)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "POST");
      reply_error (msg, 405, "method_not_allowed", "POST a JSON request {videoUrl, scanId, itemType}");
      return;
    }
  if (body->length > SERVE_BODY_LIMIT)
    {
      reply_error (msg, 413, "request_too_large", "the request body is larger than 64 KiB");
      return;
    }
  bytes = soup_message_body_flatten (body);
  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                   &error)
      || !json_parser_get_root (parser) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_autofree char *m = g_strdup_printf ("the body is not a JSON object%s%s", error ? ": " : "",
                                            error ? error->message : "");
      reply_error (msg, 400, "invalid_request", m);
      return;
    }
  o = json_node_get_object (json_parser_get_root (parser));
  url = member_string (o, "videoUrl", &bad);
  scan_id = member_string (o, "scanId", &bad);
  item = member_string (o, "itemType", &bad);
  tier = member_string (o, "tier", &bad);
  if (bad)
    {
      reply_error (msg, 400, "invalid_request", "videoUrl, scanId, itemType and tier must be strings");
      return;
    }
  if (!url || (g_ascii_strncasecmp (url, "http://", 7) != 0 && g_ascii_strncasecmp (url, "https://", 8) != 0))
    {
      reply_error (msg, 400, "invalid_request", "videoUrl must be an http or https URL");
      return;
    }
  if (!scan_id || !valid_scan_id (scan_id))
    {
      reply_error (msg, 400, "invalid_request",
                   "scanId must be 1 to 128 characters of letters, digits, '-', '_' and '.'");
      return;
    }
  if (item && strcmp (item, "comic") != 0 && strcmp (item, "card") != 0)
    {
      reply_error (msg, 400, "invalid_request", "itemType must be \"comic\" or \"card\"");
      return;
    }
  if (tier && strcmp (tier, "premium") != 0 && strcmp (tier, "standard") != 0)
    {
      reply_error (msg, 400, "invalid_request", "tier must be \"premium\" or \"standard\"");
      return;
    }
  /* Backend policy (migration guide): premium tier to the GPU, else a canary share, else the
   * GV_BACKEND default. */
  gpu = !g_strcmp0 (S.default_backend, "cuda");
  if (tier && !strcmp (tier, "premium"))
    gpu = TRUE;
  else if (S.gpu_share > 0 && g_rand_double (S.rand) < S.gpu_share)
    gpu = TRUE;
  lane = &S.lanes[gpu ? 1 : 0];
  if (lane->busy && (int) g_queue_get_length (&lane->pending) >= S.max_queue)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "30");
      reply_error (msg, 503, "busy", "the queue for this backend is full; retry later");
      return;
    }
  j = g_new0 (ServeJob, 1);
  j->msg = g_object_ref (msg);
  j->video_url = g_strdup (url);
  j->scan_id = g_strdup (scan_id);
  if (!(j->dir = g_dir_make_tmp ("gvscan-job-XXXXXX", &error)))
    {
      reply_error (msg, 500, "server_error", error->message);
      serve_job_free (j);
      return;
    }
  soup_server_message_pause (msg);
  g_queue_push_tail (&lane->pending, j);
  serve_start_next (lane);
}

static gboolean
serve_kill (gpointer data)
{
  S.kill_id = 0;
  for (int i = 0; i < 2; i++)
    if (S.lanes[i].running)
      {
        fprintf (stderr, "gvscan serve: job %s did not stop; killing it\n", S.lanes[i].running->scan_id);
        g_subprocess_force_exit (S.lanes[i].running->proc);
      }
  return G_SOURCE_REMOVE;
}

/* Cancels the running jobs: the child stops at its next frame and marks its run cancelled. */
static void
serve_cancel_running (void)
{
  gboolean any = FALSE;

  g_clear_handle_id (&S.grace_id, g_source_remove);
  for (int i = 0; i < 2; i++)
    {
      ServeJob *j = S.lanes[i].running;
      if (!j || j->cancelled)
        continue;
      fprintf (stderr, "gvscan serve: cancelling job %s\n", j->scan_id);
      j->cancelled = TRUE;
      g_subprocess_send_signal (j->proc, SIGINT);
      any = TRUE;
    }
  if (any && !S.kill_id)
    S.kill_id = g_timeout_add_seconds (SERVE_KILL_AFTER_S, serve_kill, NULL);
}

static gboolean
serve_grace_over (gpointer data)
{
  S.grace_id = 0;
  serve_cancel_running ();
  return G_SOURCE_REMOVE;
}

static gboolean
on_stop_signal (gpointer data)
{
  int sig = GPOINTER_TO_INT (data);
  int queued = 0, running = 0;

  if (S.stopping)
    {
      /* A second signal: no more waiting. */
      serve_cancel_running ();
      return G_SOURCE_CONTINUE;
    }
  S.stopping = TRUE;
  for (int i = 0; i < 2; i++)
    {
      ServeJob *j;
      while ((j = g_queue_pop_head (&S.lanes[i].pending)))
        {
          reply_error (j->msg, 503, "shutting_down",
                       "the server is shutting down; the job was not started: send it again");
          soup_server_message_unpause (j->msg);
          serve_job_free (j);
          queued++;
        }
      running += S.lanes[i].running != NULL;
    }
  printf ("shutting down (%s): %d queued job(s) answered 503, %d running job(s) get %d s to "
          "finish\n", sig == SIGINT ? "SIGINT" : "SIGTERM", queued, running, S.grace_s);
  fflush (stdout);
  if (running && S.grace_s == 0)
    serve_cancel_running ();
  else if (running)
    S.grace_id = g_timeout_add_seconds ((guint) S.grace_s, serve_grace_over, NULL);
  serve_maybe_quit ();
  return G_SOURCE_CONTINUE;
}

int
gv_cli_serve (int argc, char **argv)
{
  g_autofree char *listen = NULL, *db = NULL;
  int max_queue = 4, analysis_size = -1, grace = 30;
  double gpu_share = 0;
  GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen, "Address and port (default 127.0.0.1:8080; port 0 picks one)", "HOST:PORT" },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "Run database for the jobs (default: the user's data directory)", "FILE" },
    { "max-queue", 0, 0, G_OPTION_ARG_INT, &max_queue, "Jobs waiting per backend before 503 (default 4)", "N" },
    { "analysis-size", 's', 0, G_OPTION_ARG_INT, &analysis_size, "Passed to every analysis", "PX" },
    { "gpu-share", 0, 0, G_OPTION_ARG_DOUBLE, &gpu_share, "Share of standard requests sent to the GPU (canary, 0..1)", "F" },
    { "shutdown-grace", 0, 0, G_OPTION_ARG_INT, &grace,
      "On SIGINT/SIGTERM, seconds a running job may take to finish before it is cancelled (default 30)", "S" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- the production worker's HTTP endpoint");
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupServer) server = NULL;
  g_autoptr (GInetSocketAddress) addr = NULL;
  guint sig_int, sig_term;
  GSList *uris;
  const char *colon;
  guint64 port;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "POST {\"videoUrl\", \"scanId\", \"itemType\"[, \"tier\"]} -> the worker's result JSON.\n"
    "Uploads go to Supabase Storage when SUPABASE_URL and SUPABASE_KEY are set.\n"
    "GV_BACKEND=cuda sends every job to the GPU; tier \"premium\" always does.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "gvscan serve: %s\n", error->message);
      return 2;
    }
  if (!listen)
    listen = g_strdup ("127.0.0.1:8080");
  if (!(colon = strrchr (listen, ':')) || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL)
      || max_queue < 0 || gpu_share < 0 || gpu_share > 1 || grace < 0 || grace > 3600)
    {
      fprintf (stderr, "gvscan serve: --listen HOST:PORT, --max-queue >= 0, --gpu-share 0..1, "
               "--shutdown-grace 0..3600\n");
      return 2;
    }
  {
    g_autofree char *host = g_strndup (listen, colon - listen);
    g_autoptr (GInetAddress) ia = g_inet_address_new_from_string (host);
    if (!ia)
      {
        fprintf (stderr, "gvscan serve: %s is not an IP address\n", host);
        return 2;
      }
    addr = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (ia, (guint16) port));
  }
  S.lanes[0].backend = "cpu";
  S.lanes[1].backend = "cuda";
  g_queue_init (&S.lanes[0].pending);
  g_queue_init (&S.lanes[1].pending);
  S.max_queue = max_queue;
  S.gpu_share = gpu_share;
  S.self = g_file_read_link ("/proc/self/exe", NULL);
  if (!S.self)
    S.self = g_strdup (argv[0]);
  S.db = g_steal_pointer (&db);
  S.analysis_size = analysis_size >= 0 ? g_strdup_printf ("%d", analysis_size) : NULL;
  S.default_backend = g_getenv ("GV_BACKEND");
  S.upload = g_getenv ("SUPABASE_URL") && g_getenv ("SUPABASE_KEY");
  S.rand = g_rand_new ();
  S.grace_s = grace;

  server = soup_server_new ("server-header", "gvscan", NULL);
  soup_server_add_early_handler (server, NULL, on_request_headers, NULL, NULL);
  soup_server_add_handler (server, NULL, on_request, NULL, NULL);
  if (!soup_server_listen (server, G_SOCKET_ADDRESS (addr), 0, &error))
    {
      fprintf (stderr, "gvscan serve: cannot listen on %s: %s\n", listen, error->message);
      return 1;
    }
  uris = soup_server_get_uris (server);
  for (GSList *l = uris; l; l = l->next)
    {
      g_autofree char *u = g_uri_to_string (l->data);
      printf ("listening on %s\n", u);
    }
  fflush (stdout);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  S.loop = g_main_loop_new (NULL, FALSE);
  sig_int = g_unix_signal_add (SIGINT, on_stop_signal, GINT_TO_POINTER (SIGINT));
  sig_term = g_unix_signal_add (SIGTERM, on_stop_signal, GINT_TO_POINTER (SIGTERM));
  g_main_loop_run (S.loop);
  soup_server_disconnect (server);
  g_source_remove (sig_int);
  g_source_remove (sig_term);
  g_clear_handle_id (&S.grace_id, g_source_remove);
  g_clear_handle_id (&S.kill_id, g_source_remove);
  g_clear_handle_id (&S.linger_id, g_source_remove);
  g_clear_pointer (&S.loop, g_main_loop_unref);
  g_clear_pointer (&S.rand, g_rand_free);
  g_clear_pointer (&S.self, g_free);
  g_clear_pointer (&S.db, g_free);
  g_clear_pointer (&S.analysis_size, g_free);
  printf ("stopped\n");
  fflush (stdout);
  return 0;
}
#endif
