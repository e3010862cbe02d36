/* gv-cli-worker.h: worker mode (download, upload, progress, webhook) as gvscan analyze and
 * gvscan serve/publish use it. */
#pragma once

#include <glib.h>
#include <signal.h>

#include "gv-store.h"

typedef struct _GvCliJob GvCliJob;
GvCliJob *gv_cli_job_new (const char *progress_job, const char *webhook, const char *worker_json,
                          gboolean upload);
void gv_cli_job_step (GvCliJob *job, int percentage, const char *step, const char *message);
void gv_cli_job_stage (GvCliJob *job, const char *stage, double frac);
gboolean gv_cli_job_upload (GvCliJob *job, GvStore *store, gint64 run_id, gboolean quiet);
void gv_cli_job_finish (GvCliJob *job, GvStore *store, gint64 run_id, gboolean ok,
                        const char *error_message);
void gv_cli_job_free (GvCliJob *job);
/* Downloads into dir; NULL after printing why (the webhook gets the error). *interrupted (may be
 * NULL), set by a SIGINT handler, cancels the download within 0.1 s, leaving nothing behind. */
char *gv_cli_download_video (const char *url, const char *dir, gboolean quiet, GvCliJob *job,
                             volatile sig_atomic_t *interrupted);
char *gv_cli_publish_run (GvStore *store, gint64 run_id, gboolean quiet, GError **error);
