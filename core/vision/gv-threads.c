/* gv-threads.c: fork-join over row chunks on a persistent pthread pool. Chunks are handed out
 * by an atomic counter and each is computed by exactly one thread, so any per-row computation
 * gives the same bytes whatever the thread count. The pool serves one gv_parallel_for at a
 * time; a concurrent caller (another analysis in the same process) runs its loop on its own
 * thread rather than waiting, which changes the speed, never the result. */
#include "gv-threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define GV_POOL_MAX 64

typedef struct {
  GvRangeFunc fn;
  void *ctx;
  int n, grain;
  atomic_int next;
} GvJob;

static struct {
  pthread_mutex_t busy;   /* held by the caller that owns the pool for one loop */
  pthread_mutex_t lock;   /* guards the fields below */
  pthread_cond_t wake, done;
  pthread_t tids[GV_POOL_MAX];
  int n_workers;
  unsigned generation;
  int wanted;             /* workers that take part in the current loop */
  int active;             /* workers still running the current loop */
  GvJob *job;
} pool = { .busy = PTHREAD_MUTEX_INITIALIZER, .lock = PTHREAD_MUTEX_INITIALIZER,
           .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER };

static void
gv_run_chunks (GvJob *job)
{
  for (;;)
    {
      int b = atomic_fetch_add (&job->next, job->grain);
      if (b >= job->n)
        break;
      int e = b + job->grain < job->n ? b + job->grain : job->n;
      job->fn (job->ctx, b, e);
    }
}

static void *
gv_pool_worker (void *data)
{
  int id = (int) (intptr_t) data;
  unsigned seen = 0;

  pthread_mutex_lock (&pool.lock);
  for (;;)
    {
      while (pool.generation == seen)
        pthread_cond_wait (&pool.wake, &pool.lock);
      seen = pool.generation;
      if (id >= pool.wanted)
        continue;
      GvJob *job = pool.job;
      pthread_mutex_unlock (&pool.lock);
      gv_run_chunks (job);
      pthread_mutex_lock (&pool.lock);
      if (--pool.active == 0)
        pthread_cond_signal (&pool.done);
    }
  return NULL;
}

int
gv_threads_default (void)
{
  const char *env = getenv ("GV_THREADS");
  long n;

  if (env && (n = strtol (env, NULL, 10)) > 0 && n <= 256)
    return (int) (n > GV_POOL_MAX ? GV_POOL_MAX : n);
  n = sysconf (_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int) (n > GV_POOL_MAX ? GV_POOL_MAX : n) : 1;
}

static void
gv_run_serial (int n, int grain, GvRangeFunc fn, void *ctx)
{
  for (int b = 0; b < n; b += grain)
    fn (ctx, b, b + grain < n ? b + grain : n);
}

void
gv_parallel_for (int nthreads, int n, int grain, GvRangeFunc fn, void *ctx)
{
  GvJob job;
  int chunks, helpers;

  if (n <= 0)
    return;
  if (grain <= 0)
    grain = 1;
  if (nthreads <= 0)
    nthreads = gv_threads_default ();
  if (nthreads > GV_POOL_MAX)
    nthreads = GV_POOL_MAX;
  chunks = (n + grain - 1) / grain;
  if (nthreads > chunks)
    nthreads = chunks;
  if (nthreads <= 1 || pthread_mutex_trylock (&pool.busy) != 0)
    {
      gv_run_serial (n, grain, fn, ctx);
      return;
    }
  helpers = nthreads - 1;
  pthread_mutex_lock (&pool.lock);
  while (pool.n_workers < helpers)
    {
      if (pthread_create (&pool.tids[pool.n_workers], NULL, gv_pool_worker,
                          (void *) (intptr_t) pool.n_workers) != 0)
        break;
      pthread_detach (pool.tids[pool.n_workers]);
      pool.n_workers++;
    }
  if (helpers > pool.n_workers)
    helpers = pool.n_workers;
  job.fn = fn;
  job.ctx = ctx;
  job.n = n;
  job.grain = grain;
  atomic_init (&job.next, 0);
  pool.job = &job;
  pool.wanted = helpers;
  pool.active = helpers;
  pool.generation++;
  pthread_cond_broadcast (&pool.wake);
  pthread_mutex_unlock (&pool.lock);

  gv_run_chunks (&job);

  pthread_mutex_lock (&pool.lock);
  while (pool.active > 0)
    pthread_cond_wait (&pool.done, &pool.lock);
  pool.job = NULL;
  pthread_mutex_unlock (&pool.lock);
  pthread_mutex_unlock (&pool.busy);
}
