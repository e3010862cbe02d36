/* gv-cuda-grid.h: the CUDA backend's launch geometry and kernel bodies, in C that both a C
 * compiler and nvcc accept. Each __global__ wrapper in gv-backend-cuda.cu maps its thread to an
 * element of the launch domain with gv_launch_element() and calls one gv_k_* body here; the
 * emulator in gv-cuda-engine.c walks the same grid on the CPU in block and thread order and calls
 * the same bodies, so tests/test-grid.c checks coverage (every element exactly once) and the
 * results (bit-identical to the CPU backend) without a device.
 *
 * The bodies hold no arithmetic of their own beyond indexing: the per-pixel computations are the
 * GV_KERNEL functions of core/vision (gv-flow-kernels.h, gv-vision-kernels.h,
 * gv-geometry-kernels.h, gv-defect-maps.h). Two exceptions, copied from the CPU code because
 * that code keeps them static in a .c file, and checked bit for bit against it by
 * tests/test-grid.c: the area-resize pixel (gv-resize.c) and the quad row span (gv-sharpness.c). */
#pragma once

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "gv-defect-maps.h"
#include "gv-flow-kernels.h"
#include "gv-geometry-kernels.h"
#include "gv-kernel-common.h"
#include "gv-vision-kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Launch geometry ---------------------------------------------------------------------- */

/* Threads per block of the row reductions (one block per row, strided columns, then a tree). */
#define GV_ROW_THREADS 256
/* Columns of a row the |flow| reduction stages in shared memory at a time. */
#define GV_MAG_CHUNK 1024
/* Rows per vertical running-sum block: must equal gv-farneback.c's GV_FLOW_VBLOCK, since the
 * restart points are part of the result. */
#define GV_CUDA_VBLOCK 16

#ifdef __CUDA_ARCH__
#define GV_UNROLL _Pragma ("unroll")
#else
#define GV_UNROLL
#endif
/* Largest Farneback window the device handles (gv_box_row_px keeps 64 partial sums). */
#define GV_CUDA_MAX_WINSIZE 63

typedef enum {
  GV_K_AREA = 0, /* area resize, domain dw x dh */
  GV_K_LAP,      /* Laplacian row sums: one block of GV_ROW_THREADS per row, domain w x h */
  GV_K_PAD,      /* float copy with reflected border, domain (W + 2R) x (H + 2R) */
  GV_K_VBLUR,    /* vertical Gaussian of the padded image, domain (W + 2R) x H */
  GV_K_LEVEL,    /* horizontal Gaussian (+ bilinear resize), domain w x h of the level */
  GV_K_POLY_V,   /* polynomial expansion, vertical, domain (w + 2n) x h */
  GV_K_POLY_H,   /* polynomial expansion, horizontal, domain w x h */
  GV_K_MAT,      /* (initial flow and) matrices, domain (w + 2m) x h */
  GV_K_HBOX,     /* horizontal box sums of the 5 matrix planes, domain w x 5h */
  GV_K_VSUM,     /* vertical box sums from block starts, domain w x (5 * blocks) */
  GV_K_SOLVE,    /* 2x2 solve per pixel, domain w x h */
  GV_K_MAG,      /* |flow| sums per row (frame and roi): one block per row, domain w x h */
  GV_K_WARP,     /* perspective warp, domain dw x dh */
  GV_K_DMEDIAN,  /* stage 4: print estimate + glare bits of the margined covers, domain W x H */
  GV_K_DLINE,    /* stage 4: whitened-line evidence, domain w x h of the cover */
  GV_K_DSTAIN,   /* stage 4: stain-edge evidence and its darker side, domain w x h */
  GV_K_GRAY,     /* stage 4: gray copy of a golden frame, domain w x h of the frame */
  GV_K_LKROW,    /* stage 4: alignment terms of one row per thread, domain (rows) x 1 */
  GV_K_DINK,     /* stage 4, 3d: black-ink mask of the print, domain w x h of the cover */
  GV_K_DILH,     /* stage 4, 3d: its dilation, row pass, domain w x h */
  GV_K_DILV,     /* stage 4, 3d: column pass, clearing the line evidence under it, w x h */
  GV_K_DBOX,     /* stage 4, 3e': box mean of the margined print (descreened), domain W x H */
  GV_K_COUNT
} GvKernelId;

typedef struct {
  int w, h;         /* the domain */
  int bx, by;       /* block shape (threads) */
  int gx, gy;       /* grid shape (blocks) */
  int row_block;    /* 1: one block per row (gy = h, gx = 1), threads stride over the columns */
} GvLaunch;

GV_KERNEL int
gv_ceil_div (int a, int b)
{
  return (a + b - 1) / b;
}

/* The block shape of each kernel and the grid covering a w x h domain. */
GV_KERNEL GvLaunch
gv_launch_for (int id, int w, int h)
{
  GvLaunch l;
  l.w = w;
  l.h = h;
  l.row_block = 0;
  switch (id)
    {
    case GV_K_LAP:
    case GV_K_MAG:
      l.bx = GV_ROW_THREADS, l.by = 1, l.row_block = 1;
      break;
    case GV_K_VSUM:
      l.bx = 64, l.by = 4;
      break;
    case GV_K_LKROW:
      l.bx = 64, l.by = 1;
      break;
    default:
      l.bx = 32, l.by = 8;
      break;
    }
  if (l.row_block)
    l.gx = 1, l.gy = h;
  else
    l.gx = gv_ceil_div (w, l.bx), l.gy = gv_ceil_div (h, l.by);
  return l;
}

/* The element of thread (tx, ty) in block (bx, by); 0 when it lies outside the domain (the
 * grid's last blocks overhang it). Not for row-block launches. */
GV_KERNEL int
gv_launch_element (const GvLaunch *l, int bx, int by, int tx, int ty, int *x, int *y)
{
  *x = bx * l->bx + tx;
  *y = by * l->by + ty;
  return *x < l->w && *y < l->h;
}

/* ---- Kernel arguments (passed by value to the __global__ wrappers) ------------------------ */

typedef struct {
  const uint8_t *src;
  int sstride, sw, sh;
  uint8_t *dst;
  int dstride, dw, dh;
  int ix, iy; /* integer ratio (resizeAreaFast), or 0 */
  const int *xs, *xn, *xo, *ys, *yn, *yo; /* resizeArea_ tables: start, count, weight offset */
  const float *xw, *yw;
} GvKArea;

typedef struct {
  const uint8_t *src;
  int stride, w, h;
  float q[8];
  int has_q;
  long long *rows; /* 6 per row: n, sum, sum of squares (frame), then the same inside q */
} GvKLap;

typedef struct {
  const uint8_t *src;
  int sstride, W, H, R;
  float *P;
  int pstride;
} GvKPad;

typedef struct {
  const float *P; /* padded, origin at (R, R) */
  float *V;       /* vertically blurred, H rows of pstride, origin column R */
  int pstride, R;
  const float *k; /* half kernel, k[0] the centre */
  int r;
} GvKVBlur;

typedef struct {
  const float *V;
  int pstride, R;
  const float *k;
  int r;
  float *L;
  int lstride, w, h;
  int same; /* the level has the input size: blur only */
  const int *xo0, *xo1, *yo0, *yo1;
  const float *xa0, *xa1, *yb0, *yb1;
} GvKLevel;

typedef struct {
  const float *L;
  int lstride, w, h;
  GvPolyTaps t;
  float *T; /* 3 planes of h rows x tstride (w + 2n, border columns replicated) */
  int tstride;
  ptrdiff_t tplane;
} GvKPolyV;

typedef struct {
  const float *T;
  int tstride;
  ptrdiff_t tplane;
  int w, h;
  GvPolyTaps t;
  float *R; /* 5 planes */
  int stride;
  ptrdiff_t plane;
} GvKPolyH;

typedef struct {
  const float *R0, *R1; /* expansions of the first and second image at this level */
  int stride;
  ptrdiff_t plane;
  int w, h, m;
  float *FX, *FY;         /* this level's flow planes (row pitch stride) */
  int init;               /* 1: make the initial flow (from PX/PY, or zero) and store it */
  const float *PX, *PY;   /* coarser level's flow, or NULL */
  int pst;
  float up;               /* 1 / pyr_scale */
  const int *xo0, *xo1, *yo0, *yo1;
  const float *xa0, *xa1, *yb0, *yb1;
  float *M;               /* 5 planes of h rows x mstride (w + 2m, border columns replicated) */
  int mstride;
  ptrdiff_t mplane;
} GvKMat;

typedef struct {
  const float *M;
  int mstride;
  ptrdiff_t mplane;
  int w, h, win;
  float *H; /* 5 planes, row pitch stride */
  int stride;
  ptrdiff_t plane;
} GvKHBox;

typedef struct {
  const float *H; /* 5 planes of horizontal box sums */
  int stride;
  ptrdiff_t plane;
  int w, h, m, nblk;
  float *S;       /* 5 planes: the full window sums */
} GvKVSum;

typedef struct {
  const float *S;
  int stride;
  ptrdiff_t plane;
  int w, h;
  float scale; /* 1 / win^2 */
  float *FX, *FY;
  float *out;  /* interleaved dx, dy (the final flow), or NULL */
  int ostride; /* floats */
} GvKSolve;

typedef struct {
  const float *flow; /* interleaved dx, dy */
  int fstride, w, h; /* fstride in floats */
  float sx, sy;
  float q[8];
  int has_q;
  double *sum;  /* 2 per row: frame, roi */
  float *max;   /* 2 per row */
  int *n;       /* 2 per row */
} GvKMag;

/* A row's running |flow| statistics, kept by the block's first thread. */
typedef struct {
  double sf, sr;
  float mf, mr;
  int nr, lo, hi;
} GvMagRow;

typedef struct {
  float Hf[9];
  const uint8_t *src;
  int sstride, sw, sh, ch;
  uint8_t *dst;
  int dstride, dw, dh;
} GvKWarp;

/* Stage 4 (gv-defect-maps.h). The covers are n RGB images of W x H, one row pitch; the print
 * estimate is margined (W x H) and the evidence maps have the cover's size (W - 2M) x (H - 2M). */
typedef struct {
  const uint8_t *cov[GV_DM_MAX_COVERS]; /* cover k's first row */
  int n, stride, W, H;
  uint8_t *print; /* RGB */
  int pstride;
  uint8_t *glare;
  int gstride;
} GvKDMedian;

typedef struct {
  const uint8_t *P; /* margined print estimate, RGB */
  int pstride, W, H, M;
  float *line;
  int lstride; /* floats */
} GvKDLine;

typedef struct {
  const uint8_t *P;
  int pstride, W, H, M;
  float *stain;
  int sstride; /* floats */
  uint8_t *dark;
  int dstride;
} GvKDStain;

typedef struct {
  const uint8_t *src; /* RGB */
  int sstride;
  uint8_t *dst;
  int dstride;
} GvKGray;

typedef struct {
  const uint8_t *ref, *cur; /* gray, the margined cover's shape */
  int rstride, cstride;
  int x0, x1, y0, y1; /* the interior the terms are taken over */
  double *rows;       /* 5 per row */
} GvKLkRow;

typedef struct {
  const uint8_t *P; /* margined print estimate, RGB */
  int pstride, M;
  uint8_t *ink; /* w x h, row pitch w */
  int w;
} GvKDInk;

typedef struct {
  const uint8_t *src; /* margined print estimate, RGB, W x H */
  int sstride, W, H, r;
  uint8_t *dst; /* RGB, W x H */
  int dstride;
} GvKDBox;

typedef struct {
  const uint8_t *src; /* w x h, row pitch w */
  uint8_t *dst;
  int w, h, r;
  float *line; /* GV_K_DILV: cleared where the dilation is set (row pitch lstride floats) */
  int lstride;
} GvKDil;

/* ---- Bodies --------------------------------------------------------------------------------- */

/* cv::resize INTER_AREA pixel, as gv-resize.c computes it (fast integer path or weighted). */
GV_KERNEL void
gv_k_area (const GvKArea *a, int x, int y)
{
  uint8_t *d = a->dst + (ptrdiff_t) y * a->dstride + x;
  if (a->ix)
    {
      int area = a->ix * a->iy, sum = area / 2;
      for (int j = 0; j < a->iy; j++)
        {
          const uint8_t *s = a->src + (ptrdiff_t) (y * a->iy + j) * a->sstride + x * a->ix;
          for (int i = 0; i < a->ix; i++)
            sum += s[i];
        }
      *d = (uint8_t) (sum / area);
      return;
    }
  int xs = a->xs[x], xn = a->xn[x], ys = a->ys[y], yn = a->yn[y];
  const float *wx = a->xw + a->xo[x], *wy = a->yw + a->yo[y];
  float acc = 0.0f;
  for (int j = 0; j < yn; j++)
    {
      const uint8_t *s = a->src + (ptrdiff_t) (ys + j) * a->sstride + xs;
      float row = 0.0f;
      for (int i = 0; i < xn; i++)
        row = row + wx[i] * (float) s[i];
      acc = acc + wy[j] * row;
    }
  int v = (int) lrintf (acc);
  *d = (uint8_t) (v < 0 ? 0 : (v > 255 ? 255 : v));
}

/* Thread tid of nt in row y's block: its share of the six row sums (columns tid, tid + nt, ...).
 * Integer sums: exact in any order. */
GV_KERNEL void
gv_k_lap_partial (const GvKLap *a, int y, int tid, int nt, long long acc[6])
{
  const uint8_t *r0 = a->src + (ptrdiff_t) gv_reflect101 (y - 1, a->h) * a->stride;
  const uint8_t *r1 = a->src + (ptrdiff_t) y * a->stride;
  const uint8_t *r2 = a->src + (ptrdiff_t) gv_reflect101 (y + 1, a->h) * a->stride;
  int lo = 1, hi = 0;

  if (a->has_q)
    gv_quad_row_span (a->q, y, a->w, &lo, &hi);
  for (int k = 0; k < 6; k++)
    acc[k] = 0;
  for (int x = tid; x < a->w; x += nt)
    {
      long long v = gv_laplacian3_at (r0, r1, r2, x, a->w);
      acc[1] += v;
      acc[2] += v * v;
      if (x >= lo && x <= hi)
        {
          acc[4] += v;
          acc[5] += v * v;
        }
    }
  if (tid == 0)
    {
      acc[0] = a->w;
      acc[3] = lo <= hi ? hi - lo + 1 : 0;
    }
}

/* One step of the block's tree: s holds 6 planes of nt partial sums; threads tid < half add the
 * element half above. The wrapper runs half = nt/2, nt/4, ..., 1 with a barrier between. */
GV_KERNEL void
gv_k_tree_step (long long *s, int nt, int tid, int half)
{
  if (tid < half)
    for (int k = 0; k < 6; k++)
      s[k * nt + tid] += s[k * nt + tid + half];
}

GV_KERNEL void
gv_k_pad (const GvKPad *a, int x, int y)
{
  int sy = gv_reflect101 (y - a->R, a->H), sx = gv_reflect101 (x - a->R, a->W);
  a->P[(ptrdiff_t) y * a->pstride + x] = (float) a->src[(ptrdiff_t) sy * a->sstride + sx];
}

GV_KERNEL void
gv_k_vblur (const GvKVBlur *a, int x, int y)
{
  const float *p = a->P + (ptrdiff_t) (y + a->R) * a->pstride + x;
  a->V[(ptrdiff_t) y * a->pstride + x] = gv_fir_sym_px (p, a->pstride, a->k, a->r);
}

/* gv-farneback.c's gv_level_same / gv_level_resize for one output pixel. */
GV_KERNEL void
gv_k_level (const GvKLevel *a, int x, int y)
{
  float *d = a->L + (ptrdiff_t) y * a->lstride + x;
  if (a->same)
    {
      *d = gv_fir_sym_px (a->V + (ptrdiff_t) y * a->pstride + a->R + x, 1, a->k, a->r);
      return;
    }
  const float *c0 = a->V + (ptrdiff_t) a->yo0[y] * a->pstride + a->R;
  const float *c1 = a->V + (ptrdiff_t) a->yo1[y] * a->pstride + a->R;
  int x0 = a->xo0[x], x1 = a->xo1[x];
  float a0 = a->xa0[x], a1 = a->xa1[x];
  float d0 = gv_fir_sym_px (c0 + x0, 1, a->k, a->r) * a0 + gv_fir_sym_px (c0 + x1, 1, a->k, a->r) * a1;
  float d1 = gv_fir_sym_px (c1 + x0, 1, a->k, a->r) * a0 + gv_fir_sym_px (c1 + x1, 1, a->k, a->r) * a1;
  *d = d0 * a->yb0[y] + d1 * a->yb1[y];
}

/* Column x of the padded row holds the vertical sums at column clamp(x - n): the replicated
 * border the horizontal pass reads. */
GV_KERNEL void
gv_k_poly_v (const GvKPolyV *a, int x, int y)
{
  int n = a->t.n, xc = gv_clampi (x - n, 0, a->w - 1);
  float t0, t1, t2;
  ptrdiff_t o = (ptrdiff_t) y * a->tstride + x;
  gv_polyexp_v_px (a->L, a->lstride, xc, y, a->h, &a->t, &t0, &t1, &t2);
  a->T[o] = t0;
  a->T[a->tplane + o] = t1;
  a->T[2 * a->tplane + o] = t2;
}

GV_KERNEL void
gv_k_poly_h (const GvKPolyH *a, int x, int y)
{
  const float *t0 = a->T + (ptrdiff_t) y * a->tstride + a->t.n;
  float *r = a->R + (ptrdiff_t) y * a->stride + x;
  gv_polyexp_h_px (t0, t0 + a->tplane, t0 + 2 * a->tplane, x, &a->t, r, r + a->plane,
                   r + 2 * a->plane, r + 3 * a->plane, r + 4 * a->plane);
}

/* Matrices of pixel clamp(x - m) written to padded column x (the horizontal box sums read the
 * replicated border from there). With init, the pixel's flow is made first: the coarser level's
 * flow resized bilinearly and scaled by 1/pyr_scale (gv_bilinear_x8's order), or zero. */
GV_KERNEL void
gv_k_mat (const GvKMat *a, int x, int y)
{
  int xc = gv_clampi (x - a->m, 0, a->w - 1);
  ptrdiff_t fo = (ptrdiff_t) y * a->stride + xc;
  float dx, dy, m0, m1, m2, m3, m4;

  if (a->init)
    {
      if (a->PX)
        {
          dx = gv_bilinear_px (a->PX, a->pst, a->xo0[xc], a->xo1[xc], a->yo0[y], a->yo1[y],
                               a->xa0[xc], a->xa1[xc], a->yb0[y], a->yb1[y]) * a->up;
          dy = gv_bilinear_px (a->PY, a->pst, a->xo0[xc], a->xo1[xc], a->yo0[y], a->yo1[y],
                               a->xa0[xc], a->xa1[xc], a->yb0[y], a->yb1[y]) * a->up;
        }
      else
        dx = dy = 0.0f;
      if (xc == x - a->m)
        {
          a->FX[fo] = dx;
          a->FY[fo] = dy;
        }
    }
  else
    {
      dx = a->FX[fo];
      dy = a->FY[fo];
    }
  gv_update_matrices_px (a->R0, a->R1, a->stride, a->plane, xc, y, a->w, a->h, dx, dy, &m0, &m1,
                         &m2, &m3, &m4);
  float *o = a->M + (ptrdiff_t) y * a->mstride + x;
  o[0] = m0;
  o[a->mplane] = m1;
  o[2 * a->mplane] = m2;
  o[3 * a->mplane] = m3;
  o[4 * a->mplane] = m4;
}

/* Row y5 of the domain is row y5 % h of plane y5 / h. */
GV_KERNEL void
gv_k_hbox (const GvKHBox *a, int x, int y5)
{
  int ch = y5 / a->h, y = y5 - ch * a->h;
  const float *s = a->M + ch * a->mplane + (ptrdiff_t) y * a->mstride;
  a->H[ch * a->plane + (ptrdiff_t) y * a->stride + x] = gv_box_row_px (s, x, a->win);
}

/* Channel ch, column x, rows of block blk (yb = ch * nblk + blk): running vertical sums
 * restarted at the block's first row, as gv-farneback.c's gv_flow_iter_blocks. */
GV_KERNEL void
gv_k_vsum (const GvKVSum *a, int x, int yb)
{
  int ch = yb / a->nblk, blk = yb - ch * a->nblk;
  int y0 = blk * GV_CUDA_VBLOCK, y1 = y0 + GV_CUDA_VBLOCK < a->h ? y0 + GV_CUDA_VBLOCK : a->h;
  const float *Hc = a->H + ch * a->plane;
  float *Sc = a->S + ch * a->plane;
  float acc = gv_box_col_start_px (Hc, a->stride, x, y0, a->h, a->m);

  Sc[(ptrdiff_t) y0 * a->stride + x] = acc;
  /* unrolled so that the device issues the block's loads together (they do not depend on acc) */
  GV_UNROLL
  for (int i = 1; i < GV_CUDA_VBLOCK; i++)
    if (y0 + i < y1)
      {
        acc = gv_box_col_next_px (acc, Hc, a->stride, x, y0 + i, a->h, a->m);
        Sc[(ptrdiff_t) (y0 + i) * a->stride + x] = acc;
      }
}

GV_KERNEL void
gv_k_solve (const GvKSolve *a, int x, int y)
{
  ptrdiff_t o = (ptrdiff_t) y * a->stride + x;
  float fx, fy;

  gv_solve_flow_px (a->S[o], a->S[a->plane + o], a->S[2 * a->plane + o], a->S[3 * a->plane + o],
                    a->S[4 * a->plane + o], a->scale, &fx, &fy);
  a->FX[o] = fx;
  a->FY[o] = fy;
  if (a->out)
    {
      a->out[(ptrdiff_t) y * a->ostride + 2 * x] = fx;
      a->out[(ptrdiff_t) y * a->ostride + 2 * x + 1] = fy;
    }
}

/* Row y's |flow| statistics, as gv-sharpness.c's mag_rows: the block's threads stage the
 * magnitudes of GV_MAG_CHUNK columns at a time (gv_k_mag_fill), then its first thread adds them
 * left to right in double (gv_k_mag_sum): the CPU's order. */
GV_KERNEL void
gv_k_mag_begin (const GvKMag *a, int y, GvMagRow *s)
{
  s->sf = s->sr = 0.0;
  s->mf = s->mr = 0.0f;
  s->nr = 0;
  s->lo = 0;
  s->hi = a->w - 1;
  if (a->has_q)
    gv_quad_row_span (a->q, y, a->w, &s->lo, &s->hi);
}

GV_KERNEL void
gv_k_mag_fill (const GvKMag *a, int y, int base, int tid, int nt, float *sh)
{
  const float *f = a->flow + (ptrdiff_t) y * a->fstride;
  for (int i = tid; i < GV_MAG_CHUNK && base + i < a->w; i += nt)
    sh[i] = gv_flow_mag_at (f[2 * (base + i)], f[2 * (base + i) + 1], a->sx, a->sy);
}

GV_KERNEL void
gv_k_mag_sum (const GvKMag *a, int base, const float *sh, GvMagRow *s)
{
  int n = a->w - base < GV_MAG_CHUNK ? a->w - base : GV_MAG_CHUNK;
  for (int i = 0; i < n; i++)
    {
      int x = base + i;
      float m = sh[i];
      s->sf += m;
      if (m > s->mf)
        s->mf = m;
      if (x >= s->lo && x <= s->hi)
        {
          s->sr += m;
          if (m > s->mr)
            s->mr = m;
          s->nr++;
        }
    }
}

GV_KERNEL void
gv_k_mag_end (const GvKMag *a, int y, const GvMagRow *s)
{
  a->sum[2 * y] = s->sf;
  a->sum[2 * y + 1] = s->sr;
  a->max[2 * y] = s->mf;
  a->max[2 * y + 1] = s->mr;
  a->n[2 * y] = a->w;
  a->n[2 * y + 1] = s->nr;
}

GV_KERNEL void
gv_k_warp (const GvKWarp *a, int x, int y)
{
  gv_warp_pixel_u8 (a->Hf, a->src, a->sstride, a->sw, a->sh, a->ch, x, y,
                    a->dst + (ptrdiff_t) y * a->dstride + (ptrdiff_t) x * a->ch);
}

GV_KERNEL void
gv_k_dmedian (const GvKDMedian *a, int x, int y)
{
  gv_dm_median_at (a->cov, a->n, a->stride, x, y, a->print + (ptrdiff_t) y * a->pstride + 3 * x,
                   a->glare + (ptrdiff_t) y * a->gstride + x);
}

GV_KERNEL void
gv_k_dline (const GvKDLine *a, int x, int y)
{
  a->line[(ptrdiff_t) y * a->lstride + x]
      = gv_dm_line_at (a->P, a->W, a->H, a->pstride, a->M, x, y);
}

GV_KERNEL void
gv_k_dstain (const GvKDStain *a, int x, int y)
{
  a->stain[(ptrdiff_t) y * a->sstride + x]
      = gv_dm_stain_at (a->P, a->W, a->H, a->pstride, a->M, x, y,
                        a->dark + (ptrdiff_t) y * a->dstride + x);
}

GV_KERNEL void
gv_k_gray (const GvKGray *a, int x, int y)
{
  const uint8_t *p = a->src + (ptrdiff_t) y * a->sstride + 3 * (ptrdiff_t) x;
  a->dst[(ptrdiff_t) y * a->dstride + x] = gv_gray_u8 (p[0], p[1], p[2]);
}

GV_KERNEL void
gv_k_dink (const GvKDInk *a, int x, int y)
{
  a->ink[(ptrdiff_t) y * a->w + x] = gv_dm_ink_at (a->P, a->pstride, a->M, x, y);
}

GV_KERNEL void
gv_k_dbox (const GvKDBox *a, int x, int y)
{
  gv_dk_box_px (a->src, a->W, a->H, a->sstride, x, y, a->r,
                a->dst + (ptrdiff_t) y * a->dstride + 3 * (ptrdiff_t) x);
}

GV_KERNEL void
gv_k_dilh (const GvKDil *a, int x, int y)
{
  a->dst[(ptrdiff_t) y * a->w + x] = gv_dk_dilate_h_at (a->src, a->w, a->r, x, y);
}

GV_KERNEL void
gv_k_dilv (const GvKDil *a, int x, int y)
{
  if (gv_dk_dilate_v_at (a->src, a->w, a->h, a->r, x, y))
    a->line[(ptrdiff_t) y * a->lstride + x] = 0.0f;
}

/* Thread x takes row x (the domain is rows x 1). */
GV_KERNEL void
gv_k_lkrow (const GvKLkRow *a, int x, int y)
{
  (void) y;
  gv_dk_lk_row (a->ref, a->rstride, a->cur, a->cstride, x, a->x0, a->x1, a->y0, a->y1,
                a->rows + 5 * (ptrdiff_t) x);
}

#ifdef __cplusplus
}
#endif
