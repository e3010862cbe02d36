/* gv-threads.h: a tiny fork-join helper. Work is split in fixed chunks of rows; kernels
 * must compute each row independently so results never depend on the split. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*GvRangeFunc) (void *ctx, int begin, int end);

/* Calls fn(ctx, b, e) over [0, n) in chunks of `grain` items on up to nthreads threads
 * (the caller's thread included). nthreads <= 0 means gv_threads_default(). */
void gv_parallel_for (int nthreads, int n, int grain, GvRangeFunc fn, void *ctx);
/* Number of online CPUs (at least 1), or GV_THREADS from the environment. */
int gv_threads_default (void);

#ifdef __cplusplus
}
#endif
