/* gv-threads.c: fork-join over row chunks with pthreads. Chunks are handed out by an atomic
 * counter; each chunk is computed by exactly one thread, so any per-row computation gives the
 * same bytes whatever the thread count. */
#include "gv-threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct {
  GvRangeFunc fn;
  void *ctx;
  int n, grain;
  atomic_int next;
} GvJob;

static void *
gv_worker (void *data)
{
  GvJob *job = data;

  for (;;)
    {
      int b = atomic_fetch_add (&job->next, job->grain);
      if (b >= job->n)
        break;
      int e = b + job->grain < job->n ? b + job->grain : job->n;
      job->fn (job->ctx, b, e);
    }
  return NULL;
}

int
gv_threads_default (void)
{
  const char *env = getenv ("GV_THREADS");
  long n;

  if (env && (n = strtol (env, NULL, 10)) > 0 && n <= 256)
    return (int) n;
  n = sysconf (_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int) (n > 64 ? 64 : n) : 1;
}

void
gv_parallel_for (int nthreads, int n, int grain, GvRangeFunc fn, void *ctx)
{
  GvJob job;
  pthread_t tids[64];
  int started = 0, chunks;

  if (n <= 0)
    return;
  if (grain <= 0)
    grain = 1;
  if (nthreads <= 0)
    nthreads = gv_threads_default ();
  if (nthreads > 64)
    nthreads = 64;
  chunks = (n + grain - 1) / grain;
  if (nthreads > chunks)
    nthreads = chunks;
  if (nthreads <= 1)
    {
      for (int b = 0; b < n; b += grain)
        fn (ctx, b, b + grain < n ? b + grain : n);
      return;
    }
  job.fn = fn;
  job.ctx = ctx;
  job.n = n;
  job.grain = grain;
  atomic_init (&job.next, 0);
  for (int i = 0; i < nthreads - 1; i++)
    if (pthread_create (&tids[started], NULL, gv_worker, &job) == 0)
      started++;
  gv_worker (&job);
  for (int i = 0; i < started; i++)
    pthread_join (tids[i], NULL);
}
