/* gv-cuda-engine.h: the device backend's host side, written once in C over an executor. The
 * engine plans the buffers and constant tables, and issues the launches of gv-cuda-grid.h in a
 * fixed order; the executor owns memory and runs launches. Two executors exist: CUDA
 * (gv-backend-cuda.cu) and the CPU emulator here, which walks every grid in block and thread
 * order so that tests/test-grid.c can check the whole device path, launch by launch, against
 * the CPU backend without a device. GLib-free. */
#pragma once

#include <stddef.h>
#include <stdint.h>

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
  /* Device-to-device 2-D copy, queued like a launch. */
  int (*copy) (GvCudaExec *e, void *dst, size_t dpitch, const void *src, size_t spitch,
               size_t width, size_t rows);
  /* Recorded launch sequences (optional: all NULL when the executor cannot record). Between
   * record_begin and record_end the launches are recorded, not run; replay runs recording
   * `slot` (0 .. GV_CUDA_REC_SLOTS - 1) exactly as recorded, arguments included; forget drops
   * them all. CUDA: stream capture into an instantiated graph (one launch instead of ~60 per
   * frame); emulator: a list of launches with copies of their arguments. */
  int (*record_begin) (GvCudaExec *e);
  int (*record_end) (GvCudaExec *e, int slot);
  int (*replay) (GvCudaExec *e, int slot);
  void (*forget) (GvCudaExec *e);
  /* Optional: waits for work that other code (a decoder's copies on the default stream) queued
   * on the device, before the engine reads memory it did not write itself. */
  int (*wait_external) (GvCudaExec *e);
  /* Optional, all three or none: a second queue for uploads beside the launches. fence marks the
   * work queued so far; side_upload queues an upload (as upload) that starts once the work before
   * the last fence is done and runs beside whatever was queued after it (src may be reused when
   * it returns); side_join makes the work queued from then on wait for the side uploads. CUDA: a
   * second stream and two events; emulator: the copy is held back until side_join or sync, the
   * latest moment a device could make it. */
  int (*fence) (GvCudaExec *e);
  int (*side_upload) (GvCudaExec *e, void *dst, size_t dpitch, const void *src, size_t spitch,
                      size_t width, size_t rows);
  int (*side_join) (GvCudaExec *e);
};

#define GV_CUDA_REC_SLOTS 4

/* Size of kernel `id`'s argument struct (0 for an unknown id). */
size_t gv_cuda_kernel_args_size (int id);

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

/* Frames kept in device memory (benchmarks, and the entry for frames decoded on the device):
 * keep_frames uploads n 8-bit gray frames of one size once; load_kept(i) then does what load
 * does with frame i without any host-to-device transfer (a device-to-device copy of the luma). */
int gv_cuda_engine_keep_frames (GvBackend *be, GvImage *const *frames, int n);
int gv_cuda_engine_load_kept (GvBackend *be, int i);
/* load from an 8-bit luma plane that already lies in this device's memory (e.g. the Y plane of
 * a frame decoded on the GPU), `pitch` bytes per row; it is copied device to device, so the
 * caller may reuse it when the call returns. */
int gv_cuda_engine_load_device (GvBackend *be, const void *d_luma, size_t pitch, int w, int h);

/* The executor of a device backend (CUDA or its emulation), or NULL for any other backend (NULL
 * is allowed). The backend owns it: do not destroy it. */
GvCudaExec *gv_cuda_engine_exec (GvBackend *be);

/* Stage 4's per-pixel maps (print estimate + glare, line and stain evidence) on executor ex:
 * the covers are uploaded once, then GV_K_DMEDIAN, GV_K_DLINE and GV_K_DSTAIN run and the maps
 * come back. Arguments, results and errors as gv_defect_maps_device (gv-defect-maps.h), which is
 * this on a backend's executor (and counts the launches with the backend's). */
int gv_cuda_defect_maps (GvCudaExec *ex, const GvImage *const *covers, int n, int M,
                         GvImage *print, GvImage *glare, GvImage *line, GvImage *stain,
                         uint8_t *dark);

/* Stage timing for benchmarks: when on, the engine waits for the device at each stage boundary
 * (which costs some overlap), issues every launch itself (no recorded sequences) and adds the wall time of each stage to seconds[GV_PH_COUNT]. */
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
