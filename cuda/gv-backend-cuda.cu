/* gv-backend-cuda.cu: the CUDA executor of the device backend. Only memory movement, launch
 * shapes and device queries live here: each __global__ wrapper maps its thread to a domain
 * element (gv_launch_element) and calls the kernel body of gv-cuda-grid.h, which calls the
 * shared per-pixel code of core/vision; the launch order is gv-cuda-engine.c's, the same code
 * the CPU emulator runs in tests/test-grid.c. Runtime API only, linked statically: a machine
 * without a driver gets a clear "no driver" and the CPU backend. Errors are returned as
 * GV_EDEVICE with the CUDA message; nothing here exits or aborts. */
#include <cuda.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gv-backend.h"
#include "gv-cuda-engine.h"
#include "gv-cuda-grid.h"
#include "gv-error.h"

/* The one check: returns GV_EDEVICE with what failed and why. */
#define GV_CUDA_CHECK(call)                                                                      \
  do                                                                                             \
    {                                                                                            \
      cudaError_t gv_err_ = (call);                                                              \
      if (gv_err_ != cudaSuccess)                                                                \
        {                                                                                        \
          cudaGetLastError ();                                                                   \
          return gv_error_set (GV_EDEVICE, "CUDA: %s failed: %s (%s)", #call,                    \
                               cudaGetErrorString (gv_err_), cudaGetErrorName (gv_err_));        \
        }                                                                                        \
    }                                                                                            \
  while (0)

/* ---- Kernels ------------------------------------------------------------------------------- */

#define GV_PIXEL_KERNEL(fn, T)                                                                   \
  __global__ void k_##fn (const T a, const GvLaunch l)                                           \
  {                                                                                              \
    int x, y;                                                                                    \
    if (gv_launch_element (&l, (int) blockIdx.x, (int) blockIdx.y, (int) threadIdx.x,           \
                           (int) threadIdx.y, &x, &y))                                           \
      gv_k_##fn (&a, x, y);                                                                      \
  }

GV_PIXEL_KERNEL (area, GvKArea)
GV_PIXEL_KERNEL (pad, GvKPad)
GV_PIXEL_KERNEL (vblur, GvKVBlur)
GV_PIXEL_KERNEL (level, GvKLevel)
GV_PIXEL_KERNEL (poly_v, GvKPolyV)
GV_PIXEL_KERNEL (poly_h, GvKPolyH)
GV_PIXEL_KERNEL (mat, GvKMat)
GV_PIXEL_KERNEL (hbox, GvKHBox)
GV_PIXEL_KERNEL (vsum, GvKVSum)
GV_PIXEL_KERNEL (solve, GvKSolve)
GV_PIXEL_KERNEL (warp, GvKWarp)
GV_PIXEL_KERNEL (dmedian, GvKDMedian)
GV_PIXEL_KERNEL (dline, GvKDLine)
GV_PIXEL_KERNEL (dstain, GvKDStain)
GV_PIXEL_KERNEL (gray, GvKGray)
GV_PIXEL_KERNEL (lkrow, GvKLkRow)
GV_PIXEL_KERNEL (dink, GvKDInk)
GV_PIXEL_KERNEL (dilh, GvKDil)
GV_PIXEL_KERNEL (dilv, GvKDil)
GV_PIXEL_KERNEL (dbox, GvKDBox)

/* One block per row: strided partial sums, then the tree of gv_k_tree_step (exact int64). */
__global__ void __launch_bounds__ (GV_ROW_THREADS)
k_lap (const GvKLap a, const GvLaunch l)
{
  __shared__ long long s[6 * GV_ROW_THREADS];
  int row = (int) blockIdx.y, tid = (int) threadIdx.x;
  long long acc[6];

  gv_k_lap_partial (&a, row, tid, GV_ROW_THREADS, acc);
  for (int k = 0; k < 6; k++)
    s[k * GV_ROW_THREADS + tid] = acc[k];
  __syncthreads ();
  for (int half = GV_ROW_THREADS / 2; half > 0; half /= 2)
    {
      gv_k_tree_step (s, GV_ROW_THREADS, tid, half);
      __syncthreads ();
    }
  if (tid == 0)
    for (int k = 0; k < 6; k++)
      a.rows[6 * (size_t) row + k] = s[k * GV_ROW_THREADS];
}

/* One block per row: the threads stage GV_MAG_CHUNK magnitudes in shared memory, the first
 * thread adds them in column order (double), as the CPU does. */
__global__ void __launch_bounds__ (GV_ROW_THREADS)
k_mag (const GvKMag a, const GvLaunch l)
{
  __shared__ float sh[GV_MAG_CHUNK];
  int row = (int) blockIdx.y, tid = (int) threadIdx.x;
  GvMagRow st;

  if (tid == 0)
    gv_k_mag_begin (&a, row, &st);
  for (int base = 0; base < a.w; base += GV_MAG_CHUNK)
    {
      __syncthreads ();
      gv_k_mag_fill (&a, row, base, tid, GV_ROW_THREADS, sh);
      __syncthreads ();
      if (tid == 0)
        gv_k_mag_sum (&a, base, sh, &st);
    }
  if (tid == 0)
    gv_k_mag_end (&a, row, &st);
}

/* ---- Executor ------------------------------------------------------------------------------ */

/* Uploads from pageable memory go through two pinned staging buffers: the host copies one chunk
 * while the copy engine moves the other (a plain cudaMemcpy from pageable memory stages
 * internally and does not overlap). */
#define GV_CUDA_STAGE_BYTES (512u * 1024u)
#define GV_CUDA_STAGE_MIN (256u * 1024u) /* smaller uploads go directly */

typedef struct {
  GvCudaExec base;
  cudaStream_t stream;
  /* the side queue for uploads beside the launches (fence, side_upload, side_join) */
  cudaStream_t side;
  cudaEvent_t fence_ev, side_ev;
  unsigned char *stage[2];
  cudaEvent_t stage_done[2];
  int stage_ok;
  int capturing;
  cudaGraphExec_t rec[GV_CUDA_REC_SLOTS];
} GvCudaExecImpl;

static void *
cu_alloc (GvCudaExec *ex, size_t bytes)
{
  void *p = NULL;
  cudaError_t err = cudaMalloc (&p, bytes ? bytes : 1);
  if (err != cudaSuccess)
    {
      cudaGetLastError ();
      gv_error_set (err == cudaErrorMemoryAllocation ? GV_ENOMEM : GV_EDEVICE,
                    "CUDA: cudaMalloc of %zu bytes failed: %s", bytes, cudaGetErrorString (err));
      return NULL;
    }
  return p;
}

static void
cu_free (GvCudaExec *ex, void *p)
{
  cudaFree (p);
}

static int
cu_copy_on (cudaStream_t st, void *dst, size_t dpitch, const void *src, size_t spitch,
            size_t width, size_t rows, cudaMemcpyKind kind)
{
  if (rows == 1 || (dpitch == width && spitch == width))
    GV_CUDA_CHECK (cudaMemcpyAsync (dst, src, width * rows, kind, st));
  else
    GV_CUDA_CHECK (cudaMemcpy2DAsync (dst, dpitch, src, spitch, width, rows, kind, st));
  if (kind == cudaMemcpyDeviceToHost)
    GV_CUDA_CHECK (cudaStreamSynchronize (st));
  return GV_OK;
}

static int
cu_copy (GvCudaExec *ex, void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
         size_t rows, cudaMemcpyKind kind)
{
  return cu_copy_on (((GvCudaExecImpl *) ex)->stream, dst, dpitch, src, spitch, width, rows, kind);
}

/* An upload queued on stream st (the launches' or the side queue). */
static int
upload_on (GvCudaExecImpl *c, cudaStream_t st, void *dst, size_t dpitch, const void *src,
           size_t spitch, size_t width, size_t rows)
{
  /* From pageable memory the copy has finished reading src when the call returns; the staged
   * path copies src into pinned memory before returning, so the same holds. */
  if (!c->stage_ok || width * rows < GV_CUDA_STAGE_MIN || width > GV_CUDA_STAGE_BYTES)
    return cu_copy_on (st, dst, dpitch, src, spitch, width, rows, cudaMemcpyHostToDevice);
  size_t per = GV_CUDA_STAGE_BYTES / width, r0 = 0;
  for (int k = 0; r0 < rows; k ^= 1)
    {
      size_t nr = rows - r0 < per ? rows - r0 : per;
      GV_CUDA_CHECK (cudaEventSynchronize (c->stage_done[k])); /* its last transfer is done */
      for (size_t r = 0; r < nr; r++)
        memcpy (c->stage[k] + r * width, (const unsigned char *) src + (r0 + r) * spitch, width);
      GV_CUDA_CHECK (cudaMemcpy2DAsync ((unsigned char *) dst + r0 * dpitch, dpitch, c->stage[k],
                                        width, width, nr, cudaMemcpyHostToDevice, st));
      GV_CUDA_CHECK (cudaEventRecord (c->stage_done[k], st));
      r0 += nr;
    }
  return GV_OK;
}

static int
cu_upload (GvCudaExec *ex, void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
           size_t rows)
{
  GvCudaExecImpl *c = (GvCudaExecImpl *) ex;
  return upload_on (c, c->stream, dst, dpitch, src, spitch, width, rows);
}

/* The side queue: a second stream that waits for the last fence on the launches' stream. */
static int
cu_fence (GvCudaExec *ex)
{
  GvCudaExecImpl *c = (GvCudaExecImpl *) ex;
  GV_CUDA_CHECK (cudaEventRecord (c->fence_ev, c->stream));
  return GV_OK;
}

static int
cu_side_upload (GvCudaExec *ex, void *dst, size_t dpitch, const void *src, size_t spitch,
                size_t width, size_t rows)
{
  GvCudaExecImpl *c = (GvCudaExecImpl *) ex;
  int rc;
  GV_CUDA_CHECK (cudaStreamWaitEvent (c->side, c->fence_ev, 0));
  if ((rc = upload_on (c, c->side, dst, dpitch, src, spitch, width, rows)))
    return rc;
  GV_CUDA_CHECK (cudaEventRecord (c->side_ev, c->side));
  return GV_OK;
}

static int
cu_side_join (GvCudaExec *ex)
{
  GvCudaExecImpl *c = (GvCudaExecImpl *) ex;
  GV_CUDA_CHECK (cudaStreamWaitEvent (c->stream, c->side_ev, 0));
  return GV_OK;
}

static int
cu_copy_d2d (GvCudaExec *ex, void *dst, size_t dpitch, const void *src, size_t spitch,
             size_t width, size_t rows)
{
  return cu_copy (ex, dst, dpitch, src, spitch, width, rows, cudaMemcpyDeviceToDevice);
}

/* Frames decoded by FFmpeg's NVDEC path are copied into its pool on the legacy default stream
 * (the primary context's), which a non-blocking stream does not wait for. */
static int
cu_wait_external (GvCudaExec *ex)
{
  GV_CUDA_CHECK (cudaStreamSynchronize (cudaStreamLegacy));
  return GV_OK;
}

/* Recordings: stream capture into a graph, instantiated once and replayed per frame. */
static int
cu_record_begin (GvCudaExec *ex)
{
  GvCudaExecImpl *c = (GvCudaExecImpl *) ex;
  GV_CUDA_CHECK (cudaStreamBeginCapture (c->stream, cudaStreamCaptureModeThreadLocal));
  c->capturing = 1;
  return GV_OK;
}

static int
cu_record_end (GvCudaExec *ex, int slot)
{
  GvCudaExecImpl *c = (GvCudaExecImpl *) ex;
  cudaGraph_t g = NULL;
  cudaGraphExec_t x = NULL;

  c->capturing = 0;
  cudaError_t err = cudaStreamEndCapture (c->stream, &g);
  if (err == cudaSuccess && (slot < 0 || slot >= GV_CUDA_REC_SLOTS))
    err = cudaErrorInvalidValue;
  if (err == cudaSuccess)
    err = cudaGraphInstantiate (&x, g, 0);
  if (g)
    cudaGraphDestroy (g);
  if (err != cudaSuccess)
    {
      cudaGetLastError ();
      return gv_error_set (GV_EDEVICE, "CUDA: recording the launches failed: %s",
                           cudaGetErrorString (err));
    }
  if (c->rec[slot])
    cudaGraphExecDestroy (c->rec[slot]);
  c->rec[slot] = x;
  return GV_OK;
}

static int
cu_replay (GvCudaExec *ex, int slot)
{
  GvCudaExecImpl *c = (GvCudaExecImpl *) ex;
  if (slot < 0 || slot >= GV_CUDA_REC_SLOTS || !c->rec[slot])
    return gv_error_set (GV_EINVAL, "CUDA: nothing recorded in slot %d", slot);
  GV_CUDA_CHECK (cudaGraphLaunch (c->rec[slot], c->stream));
  return GV_OK;
}

static void
cu_forget (GvCudaExec *ex)
{
  GvCudaExecImpl *c = (GvCudaExecImpl *) ex;
  for (int k = 0; k < GV_CUDA_REC_SLOTS; k++)
    if (c->rec[k])
      {
        cudaGraphExecDestroy (c->rec[k]);
        c->rec[k] = NULL;
      }
}

static int
cu_download (GvCudaExec *ex, void *dst, size_t dpitch, const void *src, size_t spitch,
             size_t width, size_t rows)
{
  return cu_copy (ex, dst, dpitch, src, spitch, width, rows, cudaMemcpyDeviceToHost);
}

static int
cu_launch (GvCudaExec *ex, int id, const void *args, const GvLaunch *l)
{
  cudaStream_t st = ((GvCudaExecImpl *) ex)->stream;
  dim3 grid ((unsigned) l->gx, (unsigned) l->gy), block ((unsigned) l->bx, (unsigned) l->by);

  switch (id)
    {
#define CASE(ID, fn, T)                                                                          \
  case ID:                                                                                       \
    k_##fn<<<grid, block, 0, st>>> (*(const T *) args, *l);                                       \
    break;
      CASE (GV_K_AREA, area, GvKArea)
      CASE (GV_K_LAP, lap, GvKLap)
      CASE (GV_K_PAD, pad, GvKPad)
      CASE (GV_K_VBLUR, vblur, GvKVBlur)
      CASE (GV_K_LEVEL, level, GvKLevel)
      CASE (GV_K_POLY_V, poly_v, GvKPolyV)
      CASE (GV_K_POLY_H, poly_h, GvKPolyH)
      CASE (GV_K_MAT, mat, GvKMat)
      CASE (GV_K_HBOX, hbox, GvKHBox)
      CASE (GV_K_VSUM, vsum, GvKVSum)
      CASE (GV_K_SOLVE, solve, GvKSolve)
      CASE (GV_K_MAG, mag, GvKMag)
      CASE (GV_K_WARP, warp, GvKWarp)
      CASE (GV_K_DMEDIAN, dmedian, GvKDMedian)
      CASE (GV_K_DLINE, dline, GvKDLine)
      CASE (GV_K_DSTAIN, dstain, GvKDStain)
      CASE (GV_K_GRAY, gray, GvKGray)
      CASE (GV_K_LKROW, lkrow, GvKLkRow)
      CASE (GV_K_DINK, dink, GvKDInk)
      CASE (GV_K_DILH, dilh, GvKDil)
      CASE (GV_K_DILV, dilv, GvKDil)
      CASE (GV_K_DBOX, dbox, GvKDBox)
#undef CASE
    default:
      return gv_error_set (GV_EINVAL, "CUDA: unknown kernel %d", id);
    }
  GV_CUDA_CHECK (cudaGetLastError ());
  return GV_OK;
}

static int
cu_sync (GvCudaExec *ex)
{
  GvCudaExecImpl *c = (GvCudaExecImpl *) ex;
  if (c->side)
    GV_CUDA_CHECK (cudaStreamSynchronize (c->side));
  GV_CUDA_CHECK (cudaStreamSynchronize (c->stream));
  return GV_OK;
}

static void
cu_destroy (GvCudaExec *ex)
{
  GvCudaExecImpl *c = (GvCudaExecImpl *) ex;
  cu_forget (ex);
  if (c->side)
    {
      cudaStreamSynchronize (c->side);
      cudaStreamDestroy (c->side);
    }
  if (c->stream)
    {
      cudaStreamSynchronize (c->stream);
      cudaStreamDestroy (c->stream);
    }
  if (c->fence_ev)
    cudaEventDestroy (c->fence_ev);
  if (c->side_ev)
    cudaEventDestroy (c->side_ev);
  for (int k = 0; k < 2; k++)
    {
      if (c->stage_done[k])
        cudaEventDestroy (c->stage_done[k]);
      if (c->stage[k])
        cudaFreeHost (c->stage[k]);
    }
  free (c);
}

/* ---- Device queries and the backend -------------------------------------------------------- */

static int
cuda_describe (char *out, size_t len)
{
  cudaDeviceProp prop;
  int dev = 0, drv = 0, rt = 0;

  GV_CUDA_CHECK (cudaGetDevice (&dev));
  GV_CUDA_CHECK (cudaGetDeviceProperties (&prop, dev));
  cudaDriverGetVersion (&drv);
  cudaRuntimeGetVersion (&rt);
  snprintf (out, len,
            "%.120s (device %d), compute capability %d.%d, %.1f GiB, %d SMs, driver %d.%d, "
            "runtime %d.%d",
            prop.name, dev, prop.major, prop.minor, (double) prop.totalGlobalMem / 1073741824.0,
            prop.multiProcessorCount, drv / 1000, (drv % 1000) / 10, rt / 1000, (rt % 1000) / 10);
  return GV_OK;
}

extern "C" int
gv_backend_cuda_available (char *why, size_t why_len)
{
  int n = 0;
  cudaError_t err = cudaGetDeviceCount (&n);
  char desc[256];

  if (err != cudaSuccess)
    {
      cudaGetLastError ();
      if (why)
        {
          if (err == cudaErrorInsufficientDriver)
            snprintf (why, why_len, "no usable NVIDIA driver (libcuda.so.1 is missing or older "
                                    "than this build's CUDA runtime)");
          else if (err == cudaErrorNoDevice)
            snprintf (why, why_len, "no CUDA device is present");
          else
            snprintf (why, why_len, "the CUDA runtime cannot start: %s (%s)",
                      cudaGetErrorString (err), cudaGetErrorName (err));
        }
      return 0;
    }
  if (n < 1)
    {
      if (why)
        snprintf (why, why_len, "no CUDA device is present");
      return 0;
    }
  /* The build carries machine code for gv_cuda_arch and PTX of the newest: an older card has
   * no image to run. */
  cudaFuncAttributes fa;
  err = cudaFuncGetAttributes (&fa, k_solve);
  if (err != cudaSuccess)
    {
      cudaGetLastError ();
      if (why)
        snprintf (why, why_len, "the CUDA device cannot run this build's kernels: %s (rebuild "
                  "with -Dgv_cuda_arch naming its architecture)", cudaGetErrorString (err));
      return 0;
    }
  if (why && cuda_describe (desc, sizeof desc) == GV_OK)
    snprintf (why, why_len, "%s", desc);
  return 1;
}

extern "C" void *
gv_backend_cuda_context (GvBackend *be)
{
  void *fn = NULL;
  CUcontext ctx = NULL;
  cudaDriverEntryPointQueryResult q;

  if (!be || !be->ops->load_device || strcmp (be->ops->name, "cuda"))
    return NULL;
  /* the runtime's (primary) context, current on this thread */
  if (cudaSetDevice (0) != cudaSuccess || cudaFree (0) != cudaSuccess
      || cudaGetDriverEntryPointByVersion ("cuCtxGetCurrent", &fn, 12000, cudaEnableDefault, &q)
             != cudaSuccess
      || q != cudaDriverEntryPointSuccess || !fn
      || ((CUresult (*) (CUcontext *)) fn) (&ctx) != CUDA_SUCCESS)
    {
      cudaGetLastError ();
      return NULL;
    }
  return ctx;
}

extern "C" int
gv_backend_cuda_new (const GvParams *params, GvBackend **out)
{
  char why[256], desc[256];
  GvCudaExecImpl *c;

  *out = NULL;
  if (!gv_backend_cuda_available (why, sizeof why))
    return gv_error_set (GV_ENODEV, "%s", why);
  GV_CUDA_CHECK (cudaSetDevice (0));
  int rc = cuda_describe (desc, sizeof desc);
  if (rc)
    return rc;
  c = (GvCudaExecImpl *) calloc (1, sizeof *c);
  if (!c)
    return gv_error_set (GV_ENOMEM, "out of memory");
  cudaError_t err = cudaStreamCreateWithFlags (&c->stream, cudaStreamNonBlocking);
  if (err != cudaSuccess)
    {
      cudaGetLastError ();
      free (c);
      return gv_error_set (GV_EDEVICE, "CUDA: cannot create a stream: %s",
                           cudaGetErrorString (err));
    }
  /* pinned staging for uploads; without it uploads go directly (slower, same results) */
  c->stage_ok = 1;
  for (int k = 0; k < 2 && c->stage_ok; k++)
    if (cudaHostAlloc ((void **) &c->stage[k], GV_CUDA_STAGE_BYTES, cudaHostAllocDefault)
            != cudaSuccess
        || cudaEventCreateWithFlags (&c->stage_done[k], cudaEventDisableTiming) != cudaSuccess)
      {
        cudaGetLastError ();
        c->stage_ok = 0;
      }
  c->base.name = "cuda";
  c->base.alloc = cu_alloc;
  c->base.free = cu_free;
  c->base.upload = cu_upload;
  c->base.download = cu_download;
  c->base.launch = cu_launch;
  c->base.sync = cu_sync;
  c->base.destroy = cu_destroy;
  c->base.copy = cu_copy_d2d;
  c->base.record_begin = cu_record_begin;
  c->base.record_end = cu_record_end;
  c->base.replay = cu_replay;
  c->base.forget = cu_forget;
  c->base.wait_external = cu_wait_external;
  /* the side queue; without it every upload is queued with the launches (same results) */
  if (cudaStreamCreateWithFlags (&c->side, cudaStreamNonBlocking) == cudaSuccess
      && cudaEventCreateWithFlags (&c->fence_ev, cudaEventDisableTiming) == cudaSuccess
      && cudaEventCreateWithFlags (&c->side_ev, cudaEventDisableTiming) == cudaSuccess)
    {
      c->base.fence = cu_fence;
      c->base.side_upload = cu_side_upload;
      c->base.side_join = cu_side_join;
    }
  else
    cudaGetLastError ();
  return gv_cuda_engine_new (&c->base, params, "cuda", desc, out);
}
