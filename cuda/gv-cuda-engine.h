/* gv-cuda-engine.h: the device backend's host side, written once in C over an executor. The
 * engine plans the buffers and constant tables, and issues the launches of gv-cuda-grid.h in a
 * fixed order; the executor owns memory and runs launches. Two executors exist: CUDA
 * (gv-backend-cuda.cu) and the CPU emulator here, which walks every grid in block and thread
 * order so that tests/test-grid.c can check the whole device path, launch by launch, against
 * the CPU backend without a device. GLib-free. */
#pragma once

#include <stddef.h>

#include "gv-backend.h"
#include "gv-cuda-grid.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct GvCudaExec GvCudaExec;
struct GvCudaExec {
  const char *name;
  void *ud;
  /* Device memory (zero-filled is not promised); NULL with gv_error set on failure. */
  void *(*alloc) (GvCudaExec *e, size_t bytes);
  void (*free) (GvCudaExec *e, void *p);
  /* 2-D copies of `rows` rows of `width` bytes. */
  int (*upload) (GvCudaExec *e, void *dst, size_t dpitch, const void *src, size_t spitch,
                 size_t width, size_t rows);
  int (*download) (GvCudaExec *e, void *dst, size_t dpitch, const void *src, size_t spitch,
                   size_t width, size_t rows);
  /* Queues one launch; args is the kernel's Gv K* struct. */
  int (*launch) (GvCudaExec *e, int id, const void *args, const GvLaunch *l);
  int (*sync) (GvCudaExec *e);
  void (*destroy) (GvCudaExec *e);
};

/* A GvBackend over ex (taken over, destroyed with the backend even on failure). */
int gv_cuda_engine_new (GvCudaExec *ex, const GvParams *params, const char *name,
                        const char *device, GvBackend **out);

/* Runs one launch on host memory, block by block and thread by thread in the grid's order. When
 * visits is not NULL it counts the calls per domain element (w * h ints; row-block launches
 * count each row's threads' column visits). */
int gv_cuda_emulate (int id, const void *args, const GvLaunch *l, int *visits);
/* The executor that emulates the device on the CPU (host memory, gv_cuda_emulate). */
GvCudaExec *gv_cuda_emulator_new (void);
/* The device backend's engine on the emulator: name "cuda-emulated". */
int gv_backend_emulated_new (const GvParams *params, GvBackend **out);

/* Number of launches of each kind the backend has issued (for tests and benchmarks);
 * counts[GV_K_COUNT]. NULL-safe: returns 0 when be is not an engine backend. */
int gv_cuda_engine_launch_counts (GvBackend *be, long counts[GV_K_COUNT]);

/* Stage timing for benchmarks: when on, the engine waits for the device at each stage boundary
 * (which costs some overlap) and adds the wall time of each stage to seconds[GV_PH_COUNT]. */
typedef enum {
  GV_PH_UPLOAD = 0, GV_PH_RESIZE, GV_PH_PYRAMID, GV_PH_SHARPNESS, GV_PH_FLOW, GV_PH_STATS,
  GV_PH_WARP, GV_PH_COUNT
} GvCudaPhase;
const char *gv_cuda_phase_name (int phase);
int gv_cuda_engine_set_timing (GvBackend *be, int on);
int gv_cuda_engine_phase_seconds (GvBackend *be, double seconds[GV_PH_COUNT]);

#ifdef __cplusplus
}
#endif
