/* gv-cuda-engine.c: the device backend's host side (plan, buffers, launch order) over an
 * executor, and the CPU emulator of the launches.
 *
 * The constant tables (Gaussian taps, FarnebackPrepareGaussian's inverse moments, cv::resize
 * INTER_LINEAR and INTER_AREA coefficients, the pyramid level sizes) are computed here exactly as
 * gv-farneback.c and gv-resize.c compute them, because those keep them static; tests/test-grid.c
 * fails on any drift, since the emulated backend must match the CPU backend bit for bit.
 * Frames stay in device memory; per frame only the row sums of the measures come back, and the
 * analysis image, the flow and warped covers only when asked for. */
#include "gv-cuda-engine.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gv-defect-maps.h"
#include "gv-defects.h"
#include "gv-error.h"
#include "gv-flow.h"
#include "gv-flow-private.h"
#include "gv-geometry.h"
#include "gv-pipeline.h"
#include "gv-threads.h"

_Static_assert (GV_DM_MAX_COVERS == GV_DEFECTS_MAX_COVERS,
                "the device's median takes as many covers as stage 4 uses");

#define GV_MIN_LEVEL_SIZE 32 /* gv-farneback.c's GV_FLOW_MIN_SIZE */
#define GV_MAX_LEVELS 65
#define RUP8(n) (((n) + 7) & ~7)

typedef union {
  int i;
  float f;
} GvWord;

typedef struct {
  int w, h, stride;
  ptrdiff_t plane, off; /* floats per plane; offset of the level's 5 planes in a pyramid */
  int r, taps, same;
  int rx0, rx1, ry0, ry1, rxa0, rxa1, ryb0, ryb1; /* resize from the input (word offsets) */
  int ux0, ux1, uy0, uy1, uxa0, uxa1, uyb0, uyb1; /* flow from level k + 1 (k < nlev - 1) */
} GvLev;

typedef struct {
  GvBackend base;
  GvCudaExec *ex;
  char name[32];
  long counts[GV_K_COUNT];
  /* configuration for the current frame size */
  int fw, fh, aw, ah, nlev, R, pstride, n, m, win;
  GvPolyTaps poly;
  GvLev lv[GV_MAX_LEVELS];
  size_t pyr_floats;
  GvWord *tab;
  size_t ntab;
  int ax, ay, axs, axn, axo, axw, ays, ayn, ayo, ayw;
  /* device memory */
  GvWord *d_tab;
  /* the luma of the current frame is d_lumab[cur] (d_luma); the next frame's goes into the
   * other one, so that it can be uploaded while the device still reads the current one */
  uint8_t *d_lumab[2], *d_luma, *d_small;
  int small_alias; /* no resize: d_small is d_luma */
  float *d_P, *d_V, *d_L, *d_T, *d_M, *d_Ha, *d_Hb, *d_F, *d_flow, *d_pyr[2];
  /* the per-frame statistics in one block (one read-back): Laplacian row sums, then the
   * |flow| row sums, maxima and counts */
  void *d_stats;
  size_t stats_bytes, stats_lap_bytes;
  long long *d_lap;
  double *d_msum;
  float *d_mmax;
  int *d_mn;
  uint8_t *d_wsrc, *d_wdst;
  size_t wsrc_bytes, wdst_bytes;
  /* state */
  int cur, have_cur, have_prev, flow_valid, flow_host_valid, small_valid;
  int pend, pend_roi; /* a measure begun (eng_measure_begin), with or without a roi */
  /* a prefetched next frame (eng_prefetch): in d_lumab[cur ^ 1] once the side queue is joined */
  int pre_valid, pre_w, pre_h;
  const void *pre_data;
  size_t pre_stride;
  /* host mirrors */
  void *h_stats;
  long long *h_lap;
  double *h_msum;
  float *h_mmax;
  int *h_mn;
  GvImage *h_small, *h_flow;
  int timing;
  double t0, phase[GV_PH_COUNT];
  /* recorded launch sequences: slot REC_LOAD + cur (area resize + pyramid into d_pyr[cur]) and
   * REC_FLOW + cur (the flow between d_pyr[cur ^ 1] and d_pyr[cur]); their arguments depend only
   * on the configuration, so a recording stays valid until the next configure */
  unsigned rec_valid;
  long rec_counts[GV_CUDA_REC_SLOTS][GV_K_COUNT];
  /* frames kept in device memory (gv_cuda_engine_keep_frames) */
  uint8_t *d_kept;
  int kept_n, kept_w, kept_h;
} GvEngine;

enum { REC_LOAD = 0, REC_FLOW = 2 };



/* Stage boundaries (benchmarks only): wait for the device, charge the time since the last mark. */
static void
phase_mark (GvEngine *e)
{
  if (e->timing)
    {
      e->ex->sync (e->ex);
      e->t0 = gv_monotonic_seconds ();
    }
}

static void
phase_end (GvEngine *e, int ph)
{
  if (e->timing)
    {
      e->ex->sync (e->ex);
      double t = gv_monotonic_seconds ();
      e->phase[ph] += t - e->t0;
      e->t0 = t;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Host constants, as gv-farneback.c and gv-resize.c make them                                 */

/* The tables come from gv-farneback.c and gv-resize.c (gv-flow-private.h); here they are only
 * copied into the device's word table. */

static void
gauss_taps (GvWord *k, int ksize, double sigma)
{
  float half[513];
  int r = _gv_flow_gauss_taps (half, ksize, sigma);

  for (int i = 0; i <= r; i++)
    k[i].f = half[i];
}

static int
linear_tab (int sn, int dn, int zero_border, GvWord *o0, GvWord *o1, GvWord *w0, GvWord *w1)
{
  int *i0 = malloc (sizeof (int) * 2 * (size_t) dn);
  float *f0 = malloc (sizeof (float) * 2 * (size_t) dn);
  int rc = -1;

  if (i0 && f0)
    {
      _gv_flow_linear_tab (sn, dn, zero_border, i0, i0 + dn, f0, f0 + dn);
      for (int d = 0; d < dn; d++)
        {
          o0[d].i = i0[d];
          o1[d].i = i0[dn + d];
          w0[d].f = f0[d];
          w1[d].f = f0[dn + d];
        }
      rc = 0;
    }
  free (i0);
  free (f0);
  return rc;
}

/* resizeArea_ coefficients along one axis (gv-resize.c's gv_area_tab): words needed, or fill. */
static int
area_tab_words (int sn, int dn)
{
  return 3 * dn + dn * ((int) ceil ((double) sn / dn) + 2);
}

static int
area_tab (int sn, int dn, GvWord *start, GvWord *count, GvWord *offset, GvWord *wt)
{
  GvAreaTab t;
  int rc = _gv_area_tab (sn, dn, &t);

  if (rc == 0)
    for (int d = 0; d < dn; d++)
      {
        start[d].i = t.start[d];
        count[d].i = t.count[d];
        offset[d].i = t.offset[d];
        for (int k = 0; k < t.count[d]; k++)
          wt[t.offset[d] + k].f = t.wt[t.offset[d] + k];
      }
  _gv_area_tab_free (&t);
  return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Configuration                                                                                */

#define DALLOC(ptr, n)                                                                           \
  do                                                                                             \
    {                                                                                            \
      if (!((ptr) = e->ex->alloc (e->ex, (size_t) (n) * sizeof *(ptr))))                          \
        return gv_error_code () ? gv_error_code () : GV_ENOMEM;                                  \
    }                                                                                            \
  while (0)

#define DFREE(ptr)                                                                               \
  do                                                                                             \
    {                                                                                            \
      if (ptr)                                                                                   \
        e->ex->free (e->ex, (ptr));                                                              \
      (ptr) = NULL;                                                                              \
    }                                                                                            \
  while (0)

/* Drops a prefetched frame: later work (and freeing) waits for its upload. */
static void
prefetch_drop (GvEngine *e)
{
  if (e->pre_valid)
    e->ex->side_join (e->ex);
  e->pre_valid = 0;
}

static void
engine_unconfigure (GvEngine *e)
{
  prefetch_drop (e);
  if (e->ex->forget)
    e->ex->forget (e->ex);
  e->rec_valid = 0;
  if (!e->small_alias)
    DFREE (e->d_small);
  e->d_small = e->d_luma = NULL;
  e->small_alias = 0;
  DFREE (e->d_lumab[0]);
  DFREE (e->d_lumab[1]);
  DFREE (e->d_tab);
  DFREE (e->d_P);
  DFREE (e->d_V);
  DFREE (e->d_L);
  DFREE (e->d_T);
  DFREE (e->d_M);
  DFREE (e->d_Ha);
  DFREE (e->d_Hb);
  DFREE (e->d_F);
  DFREE (e->d_flow);
  DFREE (e->d_pyr[0]);
  DFREE (e->d_pyr[1]);
  DFREE (e->d_stats);
  e->d_lap = NULL;
  e->d_msum = NULL;
  e->d_mmax = NULL;
  e->d_mn = NULL;
  free (e->tab);
  free (e->h_stats);
  e->h_stats = NULL;
  e->tab = NULL;
  e->h_lap = NULL;
  e->h_msum = NULL;
  e->h_mmax = NULL;
  e->h_mn = NULL;
  gv_image_free (e->h_small);
  gv_image_free (e->h_flow);
  e->h_small = e->h_flow = NULL;
  e->fw = e->fh = e->aw = e->ah = 0;
  e->have_cur = e->have_prev = e->flow_valid = e->flow_host_valid = e->small_valid = 0;
}

static int
engine_configure (GvEngine *e, int fw, int fh)
{
  const GvFlowParams *p = &e->base.params.flow;
  int aw, ah, W, H, nlev, ksz[GV_MAX_LEVELS];
  double sig[GV_MAX_LEVELS], scale = 1.0;
  size_t words = 0, pyr = 0;

  engine_unconfigure (e);
  gv_analysis_dims (fw, fh, e->base.params.analysis_size, &aw, &ah);
  W = aw;
  H = ah;
  for (nlev = 0; nlev < p->levels; nlev++)
    {
      scale *= p->pyr_scale;
      if (W * scale < GV_MIN_LEVEL_SIZE || H * scale < GV_MIN_LEVEL_SIZE)
        break;
    }
  nlev++;
  if (nlev > GV_MAX_LEVELS)
    return gv_error_set (GV_EINVAL, "flow pyramid: too many levels");
  e->nlev = nlev;
  e->R = 0;
  scale = 1.0;
  for (int k = 0; k < nlev; k++)
    {
      GvLev *lv = &e->lv[k];
      int rc = _gv_flow_level_geometry (p, W, H, k, &scale, &sig[k], &ksz[k], &lv->w, &lv->h);
      if (rc)
        return rc;
      lv->r = ksz[k] / 2;
      if (lv->r > e->R)
        e->R = lv->r;
      lv->stride = RUP8 (lv->w) + 8;
      lv->plane = (ptrdiff_t) lv->stride * lv->h;
      lv->off = (ptrdiff_t) pyr;
      pyr += 5 * (size_t) lv->plane;
      lv->same = lv->w == W && lv->h == H;
      /* table words: taps, resize tables, flow upsampling tables */
      lv->taps = (int) words;
      words += (size_t) lv->r + 1;
      if (!lv->same)
        {
          lv->rx0 = (int) words, lv->rx1 = lv->rx0 + lv->w, lv->rxa0 = lv->rx1 + lv->w;
          lv->rxa1 = lv->rxa0 + lv->w, lv->ry0 = lv->rxa1 + lv->w, lv->ry1 = lv->ry0 + lv->h;
          lv->ryb0 = lv->ry1 + lv->h, lv->ryb1 = lv->ryb0 + lv->h;
          words += 4 * (size_t) (lv->w + lv->h);
        }
      if (k + 1 < nlev)
        {
          lv->ux0 = (int) words, lv->ux1 = lv->ux0 + lv->w, lv->uxa0 = lv->ux1 + lv->w;
          lv->uxa1 = lv->uxa0 + lv->w, lv->uy0 = lv->uxa1 + lv->w, lv->uy1 = lv->uy0 + lv->h;
          lv->uyb0 = lv->uy1 + lv->h, lv->uyb1 = lv->uyb0 + lv->h;
          words += 4 * (size_t) (lv->w + lv->h);
        }
    }
  e->ax = e->ay = 0;
  if (aw != fw || ah != fh)
    {
      if (fw % aw == 0 && fh % ah == 0)
        e->ax = fw / aw, e->ay = fh / ah;
      else
        {
          e->axs = (int) words, e->axn = e->axs + aw, e->axo = e->axn + aw, e->axw = e->axo + aw;
          words += (size_t) area_tab_words (fw, aw);
          e->ays = (int) words, e->ayn = e->ays + ah, e->ayo = e->ayn + ah, e->ayw = e->ayo + ah;
          words += (size_t) area_tab_words (fh, ah);
        }
    }
  e->ntab = words ? words : 1;
  e->tab = calloc (e->ntab, sizeof *e->tab);
  if (!e->tab)
    return gv_error_set (GV_ENOMEM, "out of memory");
  for (int k = 0; k < nlev; k++)
    {
      GvLev *lv = &e->lv[k];
      GvWord *t = e->tab;
      gauss_taps (t + lv->taps, ksz[k], k == 0 ? 0.0 : sig[k]);
      if (!lv->same
          && (linear_tab (W, lv->w, 1, t + lv->rx0, t + lv->rx1, t + lv->rxa0, t + lv->rxa1)
              || linear_tab (H, lv->h, 0, t + lv->ry0, t + lv->ry1, t + lv->ryb0, t + lv->ryb1)))
        return gv_error_set (GV_ENOMEM, "CUDA backend: out of memory for resize tables");
      if (k + 1 < nlev)
        {
          int pw = e->lv[k + 1].w, ph = e->lv[k + 1].h;
          if (linear_tab (pw, lv->w, 1, t + lv->ux0, t + lv->ux1, t + lv->uxa0, t + lv->uxa1)
              || linear_tab (ph, lv->h, 0, t + lv->uy0, t + lv->uy1, t + lv->uyb0, t + lv->uyb1))
            return gv_error_set (GV_ENOMEM, "CUDA backend: out of memory for resize tables");
        }
    }
  if ((aw != fw || ah != fh) && !e->ax)
    {
      GvWord *t = e->tab;
      if (area_tab (fw, aw, t + e->axs, t + e->axn, t + e->axo, t + e->axw)
          || area_tab (fh, ah, t + e->ays, t + e->ayn, t + e->ayo, t + e->ayw))
        return gv_error_set (GV_ENOMEM, "CUDA backend: out of memory for resize tables");
    }
  _gv_flow_poly_taps_init (&e->poly, p->poly_n, p->poly_sigma);
  e->n = p->poly_n;
  e->win = p->winsize;
  e->m = p->winsize / 2;
  e->pstride = W + 2 * e->R;
  e->pyr_floats = pyr;

  const GvLev *l0 = &e->lv[0];
  DALLOC (e->d_tab, e->ntab);
  DALLOC (e->d_lumab[0], (size_t) fw * fh);
  DALLOC (e->d_lumab[1], (size_t) fw * fh);
  e->d_luma = e->d_lumab[e->cur];
  e->small_alias = aw == fw && ah == fh;
  if (!e->small_alias)
    DALLOC (e->d_small, (size_t) aw * ah);
  else
    e->d_small = e->d_luma;
  DALLOC (e->d_P, (size_t) e->pstride * (H + 2 * e->R));
  DALLOC (e->d_V, (size_t) e->pstride * H);
  DALLOC (e->d_L, (size_t) l0->plane);
  DALLOC (e->d_T, 3 * (size_t) (l0->w + 2 * e->n) * l0->h);
  DALLOC (e->d_M, 5 * (size_t) (l0->w + 2 * e->m) * l0->h);
  DALLOC (e->d_Ha, 5 * (size_t) l0->plane);
  DALLOC (e->d_Hb, 5 * (size_t) l0->plane);
  DALLOC (e->d_F, 4 * (size_t) l0->plane);
  DALLOC (e->d_flow, 2 * (size_t) aw * ah);
  DALLOC (e->d_pyr[0], pyr);
  DALLOC (e->d_pyr[1], pyr);
  /* offsets keep each array aligned: 8-byte elements first */
  size_t o_sum = 6 * sizeof (long long) * (size_t) fh;
  size_t o_max = o_sum + 2 * sizeof (double) * (size_t) ah;
  size_t o_n = o_max + 2 * sizeof (float) * (size_t) ah;
  e->stats_lap_bytes = o_sum;
  e->stats_bytes = o_n + 2 * sizeof (int) * (size_t) ah;
  DALLOC (e->d_stats, e->stats_bytes);
  e->d_lap = (long long *) e->d_stats;
  e->d_msum = (double *) (void *) ((char *) e->d_stats + o_sum);
  e->d_mmax = (float *) (void *) ((char *) e->d_stats + o_max);
  e->d_mn = (int *) (void *) ((char *) e->d_stats + o_n);
  e->h_stats = malloc (e->stats_bytes);
  if (e->h_stats)
    {
      e->h_lap = (long long *) e->h_stats;
      e->h_msum = (double *) (void *) ((char *) e->h_stats + o_sum);
      e->h_mmax = (float *) (void *) ((char *) e->h_stats + o_max);
      e->h_mn = (int *) (void *) ((char *) e->h_stats + o_n);
    }
  e->h_small = gv_image_new (aw, ah, 1, GV_U8);
  e->h_flow = gv_image_new (aw, ah, 2, GV_F32);
  if (!e->h_stats || !e->h_small || !e->h_flow)
    return gv_error_set (GV_ENOMEM, "out of memory");
  int rc = e->ex->upload (e->ex, e->d_tab, 0, e->tab, 0, e->ntab * sizeof *e->tab, 1);
  if (rc)
    return rc;
  e->fw = fw;
  e->fh = fh;
  e->aw = aw;
  e->ah = ah;
  return GV_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Launch order                                                                                 */

static int
launch (GvEngine *e, int id, const void *args, int w, int h)
{
  GvLaunch l = gv_launch_for (id, w, h);
  if (w < 1 || h < 1)
    return GV_OK;
  e->counts[id]++;
  return e->ex->launch (e->ex, id, args, &l);
}

/* Runs issue(e) through the executor's recording in `slot`: recorded on first use after a
 * configure, replayed from then on (the launch counts grow by the recorded launches). Without
 * recording support, or while timing stages, the launches are issued one by one. */
static int
run_recorded (GvEngine *e, int slot, int (*issue) (GvEngine *))
{
  int rc;

  if (e->timing || !e->ex->record_begin)
    return issue (e);
  if (!(e->rec_valid & (1u << slot)))
    {
      long before[GV_K_COUNT];
      memcpy (before, e->counts, sizeof before);
      if ((rc = e->ex->record_begin (e->ex)))
        return rc;
      rc = issue (e);
      int rc2 = e->ex->record_end (e->ex, slot); /* ends the capture even after a failure */
      if (rc || rc2)
        return rc ? rc : rc2;
      for (int k = 0; k < GV_K_COUNT; k++)
        {
          e->rec_counts[slot][k] = e->counts[k] - before[k];
          e->counts[k] = before[k];
        }
      e->rec_valid |= 1u << slot;
    }
  if ((rc = e->ex->replay (e->ex, slot)))
    return rc;
  for (int k = 0; k < GV_K_COUNT; k++)
    e->counts[k] += e->rec_counts[slot][k];
  return GV_OK;
}

#define TI(off) (&e->d_tab[off].i)
#define TF(off) (&e->d_tab[off].f)

static int
engine_pyramid (GvEngine *e, float *pyr)
{
  int W = e->aw, H = e->ah, R = e->R, rc;
  GvKPad pad = { e->d_small, W, W, H, R, e->d_P, e->pstride };

  if ((rc = launch (e, GV_K_PAD, &pad, W + 2 * R, H + 2 * R)))
    return rc;
  for (int k = 0; k < e->nlev; k++)
    {
      const GvLev *lv = &e->lv[k];
      GvKVBlur vb = { e->d_P, e->d_V, e->pstride, R, TF (lv->taps), lv->r };
      GvKLevel lc = { e->d_V, e->pstride, R, TF (lv->taps), lv->r, e->d_L, lv->stride, lv->w,
                      lv->h, lv->same, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL };
      if (!lv->same)
        {
          lc.xo0 = TI (lv->rx0), lc.xo1 = TI (lv->rx1), lc.yo0 = TI (lv->ry0);
          lc.yo1 = TI (lv->ry1), lc.xa0 = TF (lv->rxa0), lc.xa1 = TF (lv->rxa1);
          lc.yb0 = TF (lv->ryb0), lc.yb1 = TF (lv->ryb1);
        }
      int ts = lv->w + 2 * e->n;
      GvKPolyV pv = { e->d_L, lv->stride, lv->w, lv->h, e->poly, e->d_T, ts,
                      (ptrdiff_t) ts * lv->h };
      GvKPolyH ph = { e->d_T, ts, (ptrdiff_t) ts * lv->h, lv->w, lv->h, e->poly, pyr + lv->off,
                      lv->stride, lv->plane };
      if ((rc = launch (e, GV_K_VBLUR, &vb, W + 2 * R, H))
          || (rc = launch (e, GV_K_LEVEL, &lc, lv->w, lv->h))
          || (rc = launch (e, GV_K_POLY_V, &pv, ts, lv->h))
          || (rc = launch (e, GV_K_POLY_H, &ph, lv->w, lv->h)))
        return rc;
    }
  return GV_OK;
}

static int
engine_flow (GvEngine *e)
{
  const GvFlowParams *p = &e->base.params.flow;
  const float *pyr0 = e->d_pyr[e->cur ^ 1], *pyr1 = e->d_pyr[e->cur];
  ptrdiff_t pl0 = e->lv[0].plane;
  float *FX = e->d_F, *FY = FX + pl0, *PX = FY + pl0, *PY = PX + pl0;
  int have = 0, pst = 0, rc;

  for (int k = e->nlev - 1; k >= 0; k--)
    {
      const GvLev *lv = &e->lv[k];
      int w = lv->w, h = lv->h, ms = w + 2 * e->m;
      float *Hin = e->d_Ha, *Hout = e->d_Hb;
      GvKMat mat = {
        pyr0 + lv->off, pyr1 + lv->off, lv->stride, lv->plane, w, h, e->m, FX, FY, 1,
        NULL, NULL, 0, (float) (1.0 / p->pyr_scale),
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        e->d_M, ms, (ptrdiff_t) ms * h,
      };
      if (have)
        {
          mat.PX = PX, mat.PY = PY, mat.pst = pst;
          mat.xo0 = TI (lv->ux0), mat.xo1 = TI (lv->ux1), mat.yo0 = TI (lv->uy0);
          mat.yo1 = TI (lv->uy1), mat.xa0 = TF (lv->uxa0), mat.xa1 = TF (lv->uxa1);
          mat.yb0 = TF (lv->uyb0), mat.yb1 = TF (lv->uyb1);
        }
      GvKHBox hb = { e->d_M, ms, (ptrdiff_t) ms * h, w, h, e->win, Hin, lv->stride, lv->plane };
      if ((rc = launch (e, GV_K_MAT, &mat, ms, h)) || (rc = launch (e, GV_K_HBOX, &hb, w, 5 * h)))
        return rc;
      mat.init = 0;
      for (int it = 0; it < p->iterations; it++)
        {
          int update = it < p->iterations - 1;
          int nblk = gv_ceil_div (h, GV_CUDA_VBLOCK);
          /* the window sums go to Hout: the solve reads them before the matrices' update
           * overwrites it */
          GvKVSum vsum = { Hin, lv->stride, lv->plane, w, h, e->m, nblk, Hout };
          GvKSolve so = { Hout, lv->stride, lv->plane, w, h,
                          (float) (1.0 / ((double) e->win * e->win)), FX, FY,
                          k == 0 && !update ? e->d_flow : NULL, 2 * e->aw };
          if ((rc = launch (e, GV_K_VSUM, &vsum, w, 5 * nblk))
              || (rc = launch (e, GV_K_SOLVE, &so, w, h)))
            return rc;
          if (update)
            {
              hb.H = Hout;
              if ((rc = launch (e, GV_K_MAT, &mat, ms, h))
                  || (rc = launch (e, GV_K_HBOX, &hb, w, 5 * h)))
                return rc;
              float *t = Hin;
              Hin = Hout;
              Hout = t;
            }
        }
      float *t = PX;
      PX = FX, FX = t;
      t = PY;
      PY = FY, FY = t;
      pst = lv->stride;
      have = 1;
    }
  return GV_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* GvBackendOps                                                                                 */

/* Configures the engine for frames of w x h unless it already is (a failed configure leaves it
 * unconfigured). */
static int
engine_size (GvEngine *e, int w, int h)
{
  int rc;

  if (w == e->fw && h == e->fh)
    return GV_OK;
  if ((rc = engine_configure (e, w, h)))
    engine_unconfigure (e);
  return rc;
}

/* The area resize and the pyramid of the frame now in d_luma, into d_pyr[cur]. */
static int
issue_load (GvEngine *e)
{
  int rc;

  if (e->d_small != e->d_luma)
    {
      GvKArea a = { e->d_luma, e->fw, e->fw, e->fh, e->d_small, e->aw, e->aw, e->ah, e->ax, e->ay,
                    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL };
      if (!e->ax)
        {
          a.xs = TI (e->axs), a.xn = TI (e->axn), a.xo = TI (e->axo), a.xw = TF (e->axw);
          a.ys = TI (e->ays), a.yn = TI (e->ayn), a.yo = TI (e->ayo), a.yw = TF (e->ayw);
        }
      if ((rc = launch (e, GV_K_AREA, &a, e->aw, e->ah)))
        return rc;
      phase_end (e, GV_PH_RESIZE);
    }
  if ((rc = engine_pyramid (e, e->d_pyr[e->cur])))
    return rc;
  phase_end (e, GV_PH_PYRAMID);
  return GV_OK;
}

/* What load does once the frame's luma is in d_luma. */
static int
load_luma_done (GvEngine *e)
{
  int rc;

  e->cur ^= 1;
  e->d_luma = e->d_lumab[e->cur];
  if (e->small_alias)
    e->d_small = e->d_luma;
  e->pend = 0;
  e->have_prev = e->have_cur;
  e->have_cur = 0;
  e->flow_valid = e->flow_host_valid = e->small_valid = 0;
  if ((rc = run_recorded (e, REC_LOAD + e->cur, issue_load)))
    return rc;
  /* what reads the other luma buffer is queued by now: a prefetch may overwrite it after this */
  if (e->ex->fence && (rc = e->ex->fence (e->ex)))
    return rc;
  e->have_cur = 1;
  return GV_OK;
}

/* load and prefetch take 8-bit gray frames in host memory. */
static int
check_luma (const GvEngine *e, const GvImage *luma)
{
  if (!luma || !luma->data || luma->depth != GV_U8 || luma->channels != 1)
    return gv_error_set (GV_EINVAL, "the %s backend takes 8-bit gray frames", e->name);
  return GV_OK;
}

static int
eng_load (GvBackend *be, const GvImage *luma)
{
  GvEngine *e = (GvEngine *) be;
  int rc;

  if ((rc = check_luma (e, luma)))
    return rc;
  if ((rc = engine_size (e, luma->width, luma->height)))
    return rc;
  phase_mark (e);
  if (e->pre_valid && e->pre_data == luma->data && e->pre_stride == luma->stride
      && e->pre_w == luma->width && e->pre_h == luma->height)
    {
      /* prefetched: the next launches wait for its upload on the side queue */
      e->pre_valid = 0;
      if ((rc = e->ex->side_join (e->ex)))
        return rc;
    }
  else
    {
      prefetch_drop (e);
      if ((rc = e->ex->upload (e->ex, e->d_lumab[e->cur ^ 1], (size_t) e->fw, luma->data,
                               luma->stride, (size_t) e->fw, (size_t) e->fh)))
        return rc;
    }
  phase_end (e, GV_PH_UPLOAD);
  return load_luma_done (e);
}

/* The next frame's luma into the luma buffer the current frame does not use, on the side queue
 * (after the fence of the last load, so after everything that read that buffer). Not in timing
 * mode: the stages are timed one by one there. */
static int
eng_prefetch (GvBackend *be, const GvImage *luma)
{
  GvEngine *e = (GvEngine *) be;
  int rc;

  if ((rc = check_luma (e, luma)))
    return rc;
  if (!e->ex->side_upload || e->timing || !e->fw || luma->width != e->fw
      || luma->height != e->fh)
    return GV_OK;
  prefetch_drop (e);
  if ((rc = e->ex->side_upload (e->ex, e->d_lumab[e->cur ^ 1], (size_t) e->fw, luma->data,
                                luma->stride, (size_t) e->fw, (size_t) e->fh)))
    return rc;
  e->pre_valid = 1;
  e->pre_data = luma->data, e->pre_stride = luma->stride;
  e->pre_w = luma->width, e->pre_h = luma->height;
  return GV_OK;
}

static const GvImage *
eng_analysis_image (GvBackend *be)
{
  GvEngine *e = (GvEngine *) be;

  if (!e->have_cur)
    return NULL;
  if (!e->small_valid)
    {
      if (e->ex->download (e->ex, e->h_small->data, e->h_small->stride, e->d_small,
                           (size_t) e->aw, (size_t) e->aw, (size_t) e->ah))
        return NULL;
      e->small_valid = 1;
    }
  return e->h_small;
}

static double
var_from_sums (__int128 n, __int128 s, __int128 sq)
{
  if (n == 0)
    return 0.0;
  return (double) (n * sq - s * s) / ((double) n * (double) n);
}

/* The first half of measure: the launches, queued without a wait (the host may decode the next
 * frame meanwhile); eng_measure_end reads the sums back and makes the metrics. */
static int
eng_measure_begin (GvBackend *be, const GvQuad *roi)
{
  GvEngine *e = (GvEngine *) be;
  GvKLap lap = { e->d_luma, e->fw, e->fw, e->fh, { 0 }, roi != NULL, e->d_lap };
  double sx, sy;
  int rc;

  e->pend = 0;
  if (!e->have_cur)
    return gv_error_set (GV_EINVAL, "measure called before load");
  if (roi)
    gv_quad_to_float (roi, 1.0, 1.0, lap.q);
  phase_mark (e);
  if ((rc = launch (e, GV_K_LAP, &lap, e->fw, e->fh)))
    return rc;
  phase_end (e, GV_PH_SHARPNESS);
  sx = (double) e->fw / e->aw;
  sy = (double) e->fh / e->ah;
  GvKMag mag = { e->d_flow, 2 * e->aw, e->aw, e->ah, (float) sx, (float) sy, { 0 }, roi != NULL,
                 e->d_msum, e->d_mmax, e->d_mn };
  if (e->have_prev)
    {
      if ((rc = run_recorded (e, REC_FLOW + e->cur, engine_flow)))
        return rc;
      phase_end (e, GV_PH_FLOW);
      if (roi)
        {
          GvQuad q;
          gv_quad_scale (roi, 1.0 / sx, 1.0 / sy, &q);
          gv_quad_to_float (&q, 1.0, 1.0, mag.q);
        }
      if ((rc = launch (e, GV_K_MAG, &mag, e->aw, e->ah)))
        return rc;
    }
  e->pend = 1;
  e->pend_roi = roi != NULL;
  return GV_OK;
}

static int
eng_measure_end (GvBackend *be, GvFrameMetrics *out)
{
  GvEngine *e = (GvEngine *) be;
  int rc, roi = e->pend_roi;

  memset (out, 0, sizeof *out);
  if (!e->pend)
    return gv_error_set (GV_EINVAL, "measure_end without measure_begin");
  e->pend = 0;
  /* one read-back: the Laplacian sums, and the |flow| statistics when there was a flow */
  if ((rc = e->ex->download (e->ex, e->h_stats, 0, e->d_stats, 0,
                             e->have_prev ? e->stats_bytes : e->stats_lap_bytes, 1)))
    return rc;

  phase_end (e, GV_PH_STATS);
  __int128 t[6] = { 0 };
  for (int y = 0; y < e->fh; y++)
    for (int k = 0; k < 6; k++)
      t[k] += e->h_lap[6 * (size_t) y + k];
  out->sharpness_frame = var_from_sums (t[0], t[1], t[2]);
  out->sharpness = roi ? var_from_sums (t[3], t[4], t[5]) : out->sharpness_frame;
  out->roi_used = roi;
  out->motion = out->motion_frame = -1.0;
  if (!e->have_prev)
    return GV_OK;
  e->flow_valid = 1;

  /* rows combined in order, as gv_flow_magnitude_stats_xy */
  double s[2] = { 0.0, 0.0 };
  float mx[2] = { 0.0f, 0.0f };
  long n[2] = { 0, 0 };
  for (int y = 0; y < e->ah; y++)
    for (int k = 0; k < 2; k++)
      {
        s[k] += e->h_msum[2 * y + k];
        n[k] += e->h_mn[2 * y + k];
        if (e->h_mmax[2 * y + k] > mx[k])
          mx[k] = e->h_mmax[2 * y + k];
      }
  out->motion_frame = n[0] > 0 ? s[0] / (double) n[0] : 0.0;
  out->motion_max = mx[0];
  if (roi)
    {
      if (n[1] > 0)
        {
          out->motion = s[1] / (double) n[1];
          out->motion_max = mx[1];
        }
      else
        out->motion = out->motion_frame, out->roi_used = 0;
    }
  else
    out->motion = out->motion_frame;
  return GV_OK;
}

static int
eng_measure (GvBackend *be, const GvQuad *roi, GvFrameMetrics *out)
{
  int rc = eng_measure_begin (be, roi);
  if (rc)
    {
      memset (out, 0, sizeof *out);
      return rc;
    }
  return eng_measure_end (be, out);
}

static const GvImage *
eng_last_flow (GvBackend *be)
{
  GvEngine *e = (GvEngine *) be;

  if (!e->flow_valid)
    return NULL;
  if (!e->flow_host_valid)
    {
      if (e->ex->download (e->ex, e->h_flow->data, e->h_flow->stride, e->d_flow,
                           2 * sizeof (float) * (size_t) e->aw, 2 * sizeof (float) * (size_t) e->aw,
                           (size_t) e->ah))
        return NULL;
      e->flow_host_valid = 1;
    }
  return e->h_flow;
}

static int
eng_warp (GvBackend *be, const GvImage *src, const double H[9], GvImage *dst)
{
  GvEngine *e = (GvEngine *) be;
  GvKWarp a;
  int rc;

  /* the CPU warp's checks and float conversion */
  if ((rc = gv_warp_prepare (src, dst, H, a.Hf)))
    return rc;

  size_t srow = (size_t) src->width * src->channels, drow = (size_t) dst->width * dst->channels;
  size_t sb = srow * src->height, db = drow * dst->height;
  if (sb > e->wsrc_bytes)
    {
      DFREE (e->d_wsrc);
      e->wsrc_bytes = 0;
      DALLOC (e->d_wsrc, sb);
      e->wsrc_bytes = sb;
    }
  if (db > e->wdst_bytes)
    {
      DFREE (e->d_wdst);
      e->wdst_bytes = 0;
      DALLOC (e->d_wdst, db);
      e->wdst_bytes = db;
    }
  a.src = e->d_wsrc;
  a.sstride = (int) srow;
  a.sw = src->width;
  a.sh = src->height;
  a.ch = src->channels;
  a.dst = e->d_wdst;
  a.dstride = (int) drow;
  a.dw = dst->width;
  a.dh = dst->height;
  phase_mark (e);
  if ((rc = e->ex->upload (e->ex, e->d_wsrc, srow, src->data, src->stride, srow,
                           (size_t) src->height))
      || (rc = launch (e, GV_K_WARP, &a, dst->width, dst->height)))
    return rc;
  rc = e->ex->download (e->ex, dst->data, dst->stride, e->d_wdst, drow, drow,
                        (size_t) dst->height);
  phase_end (e, GV_PH_WARP);
  return rc;
}

static void
eng_reset (GvBackend *be)
{
  GvEngine *e = (GvEngine *) be;
  e->have_cur = e->have_prev = e->flow_valid = e->flow_host_valid = e->small_valid = 0;
  e->pend = 0;
  prefetch_drop (e);
}

static void
eng_free (GvBackend *be)
{
  GvEngine *e = (GvEngine *) be;

  engine_unconfigure (e);
  DFREE (e->d_kept);
  DFREE (e->d_wsrc);
  DFREE (e->d_wdst);
  if (e->ex && e->ex->destroy)
    e->ex->destroy (e->ex);
  free (e);
}

static const GvBackendOps engine_ops_cuda = {
  "cuda", eng_load, eng_analysis_image, eng_measure, eng_last_flow, eng_warp, eng_reset, eng_free,
  gv_cuda_engine_load_device, eng_measure_begin, eng_measure_end, eng_prefetch,
};
static const GvBackendOps engine_ops_emulated = {
  "cuda-emulated", eng_load, eng_analysis_image, eng_measure, eng_last_flow, eng_warp, eng_reset,
  eng_free, NULL, /* the emulator's "device memory" is host memory: frames come through load */
  eng_measure_begin, eng_measure_end, eng_prefetch,
};

int
gv_cuda_engine_new (GvCudaExec *ex, const GvParams *params, const char *name, const char *device,
                    GvBackend **out)
{
  GvEngine *e;
  int rc;

  *out = NULL;
  if ((rc = gv_params_validate (params)) == GV_OK && params->flow.winsize > GV_CUDA_MAX_WINSIZE)
    rc = gv_error_set (GV_EUNSUPPORTED, "the %s backend handles Farneback windows up to %d px, "
                       "not %d", name, GV_CUDA_MAX_WINSIZE, params->flow.winsize);
  if (rc)
    {
      ex->destroy (ex);
      return rc;
    }
  e = calloc (1, sizeof *e);
  if (!e)
    {
      ex->destroy (ex);
      return gv_error_set (GV_ENOMEM, "out of memory");
    }
  e->ex = ex;
  snprintf (e->name, sizeof e->name, "%s", name);
  e->base.ops = strcmp (name, "cuda") ? &engine_ops_emulated : &engine_ops_cuda;
  e->base.params = *params;
  /* host threads for the pipeline's CPU stages; the device work ignores it */
  e->base.threads = params->threads > 0 ? params->threads : gv_threads_default ();
  snprintf (e->base.device, sizeof e->base.device, "%s", device);
  *out = &e->base;
  return GV_OK;
}

int
gv_cuda_engine_keep_frames (GvBackend *be, GvImage *const *frames, int n)
{
  GvEngine *e = (GvEngine *) be;
  int w, h, rc;

  if (!be || (be->ops != &engine_ops_cuda && be->ops != &engine_ops_emulated))
    return gv_error_set (GV_EINVAL, "not a device backend");
  if (n < 1 || !frames[0])
    return gv_error_set (GV_EINVAL, "no frames to keep");
  w = frames[0]->width, h = frames[0]->height;
  for (int i = 0; i < n; i++)
    if (!frames[i] || !frames[i]->data || frames[i]->depth != GV_U8 || frames[i]->channels != 1
        || frames[i]->width != w || frames[i]->height != h)
      return gv_error_set (GV_EINVAL, "kept frames must be 8-bit gray frames of one size");
  DFREE (e->d_kept);
  e->kept_n = 0;
  DALLOC (e->d_kept, (size_t) n * w * h);
  for (int i = 0; i < n; i++)
    if ((rc = e->ex->upload (e->ex, e->d_kept + (size_t) i * w * h, (size_t) w, frames[i]->data,
                             frames[i]->stride, (size_t) w, (size_t) h)))
      return rc;
  if ((rc = e->ex->sync (e->ex)))
    return rc;
  e->kept_n = n, e->kept_w = w, e->kept_h = h;
  return GV_OK;
}

/* load from device memory: external memory (a decoder's) waits for the work queued on it */
static int
engine_load_from (GvEngine *e, const void *d_luma, size_t pitch, int w, int h, int external)
{
  int rc;

  if (!d_luma || w < 1 || h < 1 || pitch < (size_t) w)
    return gv_error_set (GV_EINVAL, "no device luma of %dx%d (pitch %zu)", w, h, pitch);
  if ((rc = engine_size (e, w, h)))
    return rc;
  phase_mark (e);
  prefetch_drop (e);
  if (external && e->ex->wait_external && (rc = e->ex->wait_external (e->ex)))
    return rc;
  if ((rc = e->ex->copy (e->ex, e->d_lumab[e->cur ^ 1], (size_t) e->fw, d_luma, pitch,
                         (size_t) w, (size_t) h)))
    return rc;
  phase_end (e, GV_PH_UPLOAD);
  return load_luma_done (e);
}

int
gv_cuda_engine_load_device (GvBackend *be, const void *d_luma, size_t pitch, int w, int h)
{
  if (!be || (be->ops != &engine_ops_cuda && be->ops != &engine_ops_emulated))
    return gv_error_set (GV_EINVAL, "not a device backend");
  return engine_load_from ((GvEngine *) be, d_luma, pitch, w, h, 1);
}

int
gv_cuda_engine_load_kept (GvBackend *be, int i)
{
  GvEngine *e = (GvEngine *) be;

  if (!be || (be->ops != &engine_ops_cuda && be->ops != &engine_ops_emulated))
    return gv_error_set (GV_EINVAL, "not a device backend");
  if (i < 0 || i >= e->kept_n)
    return gv_error_set (GV_EINVAL, "no kept frame %d (%d kept)", i, e->kept_n);
  return engine_load_from (e, e->d_kept + (size_t) i * e->kept_w * e->kept_h, (size_t) e->kept_w,
                           e->kept_w, e->kept_h, 0);
}

int
gv_cuda_engine_launch_counts (GvBackend *be, long counts[GV_K_COUNT])
{
  if (!be || (be->ops != &engine_ops_cuda && be->ops != &engine_ops_emulated))
    return 0;
  memcpy (counts, ((GvEngine *) be)->counts, sizeof ((GvEngine *) be)->counts);
  return 1;
}

GvCudaExec *
gv_cuda_engine_exec (GvBackend *be)
{
  if (!be || (be->ops != &engine_ops_cuda && be->ops != &engine_ops_emulated))
    return NULL;
  return ((GvEngine *) be)->ex;
}

/* ------------------------------------------------------------------------------------------ */
/* Stage 4's per-pixel maps                                                                     */

static int
check_image (const GvImage *im, int w, int h, int ch, GvDepth depth, const char *what)
{
  if (!im || !im->data || im->width != w || im->height != h || im->channels != ch
      || im->depth != depth)
    return gv_error_set (GV_EINVAL, "defect maps: %s must be %dx%d, %d channel(s), %s", what, w,
                         h, ch, depth == GV_U8 ? "8-bit" : "float");
  return GV_OK;
}

/* The outputs' shapes for n covers of W x H with margin M. */
static int
maps_check (int n, int W, int H, int M, const GvImage *print, const GvImage *glare,
            const GvImage *line, const GvImage *stain, const uint8_t *dark)
{
  int w = W - 2 * M, h = H - 2 * M, rc;

  if (n < 1 || n > GV_DM_MAX_COVERS)
    return gv_error_set (GV_EINVAL, "defect maps: 1 to %d covers, not %d", GV_DM_MAX_COVERS, n);
  if (M < 0 || w < 1 || h < 1 || W > (1 << 28) / 3)
    return gv_error_set (GV_EINVAL, "defect maps: a margin of %d px on %dx%d covers", M, W, H);
  if ((rc = check_image (print, W, H, 3, GV_U8, "the print estimate"))
      || (rc = check_image (glare, W, H, 1, GV_U8, "the glare bits"))
      || (line && (rc = check_image (line, w, h, 1, GV_F32, "the line evidence")))
      || (stain && (rc = check_image (stain, w, h, 1, GV_F32, "the stain evidence"))))
    return rc;
  if (stain && !dark)
    return gv_error_set (GV_EINVAL, "defect maps: the stain evidence needs its dark sides");
  return GV_OK;
}

/* The three launches on covers already in device memory (cover k at d_cov[k], rows 3 W bytes
 * apart), then the downloads; the outputs are checked (maps_check). Waits for the device before
 * returning, also on failure. */
static int
maps_on_device (GvCudaExec *ex, long *counts, uint8_t *const *d_cov, int n, int W, int H, int M,
                int ink_r, GvImage *print, GvImage *glare, GvImage *line, GvImage *stain,
                uint8_t *dark, uint8_t **keep_print)
{
  uint8_t *d_print = NULL, *d_glare = NULL, *d_dark = NULL, *d_ink = NULL, *d_dil = NULL;
  float *d_line = NULL, *d_stain = NULL;
  int w = W - 2 * M, h = H - 2 * M, rc = GV_OK;
  size_t crow = 3 * (size_t) W, npx = (size_t) w * h;

#define MAPS_ALLOC(ptr, bytes)                                                                   \
  if (!((ptr) = ex->alloc (ex, (bytes))))                                                        \
    {                                                                                            \
      rc = gv_error_code () ? gv_error_code () : GV_ENOMEM;                                      \
      goto out;                                                                                  \
    }
  MAPS_ALLOC (d_print, crow * (size_t) H);
  MAPS_ALLOC (d_glare, (size_t) W * H);
  if (line)
    MAPS_ALLOC (d_line, npx * sizeof (float));
  if (line && ink_r > 0)
    {
      MAPS_ALLOC (d_ink, npx);
      MAPS_ALLOC (d_dil, npx);
    }
  if (stain)
    {
      MAPS_ALLOC (d_stain, npx * sizeof (float));
      MAPS_ALLOC (d_dark, npx);
    }
#undef MAPS_ALLOC
  {
    GvKDMedian med = { { NULL }, n, (int) crow, W, H, d_print, (int) crow, d_glare, W };
    GvKDLine ln = { d_print, (int) crow, W, H, M, d_line, w };
    GvKDStain st = { d_print, (int) crow, W, H, M, d_stain, w, d_dark, w };
    GvLaunch lm = gv_launch_for (GV_K_DMEDIAN, W, H), lc = gv_launch_for (GV_K_DLINE, w, h);
    GvLaunch ls = gv_launch_for (GV_K_DSTAIN, w, h);

    for (int k = 0; k < n; k++)
      med.cov[k] = d_cov[k];
    if ((rc = ex->launch (ex, GV_K_DMEDIAN, &med, &lm)))
      goto out;
    counts[GV_K_DMEDIAN]++;
    if (line)
      {
        if ((rc = ex->launch (ex, GV_K_DLINE, &ln, &lc)))
          goto out;
        counts[GV_K_DLINE]++;
      }
    if (line && ink_r > 0)
      {
        GvKDInk ik = { d_print, (int) crow, M, d_ink, w };
        GvKDil dh = { d_ink, d_dil, w, h, ink_r, NULL, 0 }, dv = { d_dil, NULL, w, h, ink_r, d_line, w };
        GvLaunch li = gv_launch_for (GV_K_DINK, w, h), lh = gv_launch_for (GV_K_DILH, w, h);
        GvLaunch lv = gv_launch_for (GV_K_DILV, w, h);
        if ((rc = ex->launch (ex, GV_K_DINK, &ik, &li)) || (rc = ex->launch (ex, GV_K_DILH, &dh, &lh))
            || (rc = ex->launch (ex, GV_K_DILV, &dv, &lv)))
          goto out;
        counts[GV_K_DINK]++;
        counts[GV_K_DILH]++;
        counts[GV_K_DILV]++;
      }
    if (stain)
      {
        if ((rc = ex->launch (ex, GV_K_DSTAIN, &st, &ls)))
          goto out;
        counts[GV_K_DSTAIN]++;
      }
  }
  if ((rc = ex->download (ex, print->data, print->stride, d_print, crow, crow, (size_t) H))
      || (rc = ex->download (ex, glare->data, glare->stride, d_glare, (size_t) W, (size_t) W,
                             (size_t) H))
      || (line && (rc = ex->download (ex, line->data, line->stride, d_line, w * sizeof (float),
                                      w * sizeof (float), (size_t) h)))
      || (stain && (rc = ex->download (ex, stain->data, stain->stride, d_stain,
                                       w * sizeof (float), w * sizeof (float), (size_t) h)))
      || (stain && (rc = ex->download (ex, dark, (size_t) w, d_dark, (size_t) w, (size_t) w,
                                       (size_t) h))))
    goto out;
out:
  /* nothing queued may still use the buffers (a failed launch leaves earlier work queued) */
  {
    int rs = ex->sync (ex);
    if (rc == GV_OK)
      rc = rs;
  }
  if (d_print && keep_print && rc == GV_OK)
    *keep_print = d_print; /* the caller's now */
  else if (d_print)
    ex->free (ex, d_print);
  if (d_glare)
    ex->free (ex, d_glare);
  if (d_line)
    ex->free (ex, d_line);
  if (d_stain)
    ex->free (ex, d_stain);
  if (d_dark)
    ex->free (ex, d_dark);
  if (d_ink)
    ex->free (ex, d_ink);
  if (d_dil)
    ex->free (ex, d_dil);
  return rc;
}

static int
defect_maps (GvCudaExec *ex, long *counts, const GvImage *const *covers, int n, int M,
             GvImage *print, GvImage *glare, GvImage *line, GvImage *stain, uint8_t *dark)
{
  uint8_t *d_cov = NULL, *d_covk[GV_DM_MAX_COVERS];
  int W, H, rc;

  if (!ex || !covers || n < 1 || n > GV_DM_MAX_COVERS || !covers[0])
    return gv_error_set (GV_EINVAL, "defect maps: 1 to %d covers, not %d", GV_DM_MAX_COVERS, n);
  W = covers[0]->width, H = covers[0]->height;
  if ((rc = maps_check (n, W, H, M, print, glare, line, stain, dark)))
    return rc;
  for (int k = 0; k < n; k++)
    if ((rc = check_image (covers[k], W, H, 3, GV_U8, "every cover")))
      return rc;

  size_t crow = 3 * (size_t) W, cplane = crow * (size_t) H;
  if (!(d_cov = ex->alloc (ex, cplane * (size_t) n)))
    return gv_error_code () ? gv_error_code () : GV_ENOMEM;
  for (int k = 0; k < n; k++)
    {
      d_covk[k] = d_cov + (size_t) k * cplane;
      if ((rc = ex->upload (ex, d_covk[k], crow, covers[k]->data, covers[k]->stride, crow,
                            (size_t) H)))
        break;
    }
  if (rc == GV_OK)
    rc = maps_on_device (ex, counts, d_covk, n, W, H, M, 0, print, glare, line, stain, dark,
                         NULL);
  else
    ex->sync (ex);
  ex->free (ex, d_cov);
  return rc;
}

int
gv_cuda_defect_maps (GvCudaExec *ex, const GvImage *const *covers, int n, int M, GvImage *print,
                     GvImage *glare, GvImage *line, GvImage *stain, uint8_t *dark)
{
  long counts[GV_K_COUNT] = { 0 };
  return defect_maps (ex, counts, covers, n, M, print, glare, line, stain, dark);
}

int
gv_defect_maps_device (GvBackend *be, const GvImage *const *covers, int n, int M, GvImage *print,
                       GvImage *glare, GvImage *line, GvImage *stain, uint8_t *dark)
{
  GvCudaExec *ex = gv_cuda_engine_exec (be);

  if (!ex)
    return gv_error_set (GV_EUNSUPPORTED, "the %s backend has no device path for the defect maps",
                         be ? be->ops->name : "(none)");
  return defect_maps (ex, ((GvEngine *) be)->counts, covers, n, M, print, glare, line, stain,
                      dark);
}

/* Step 3e' on a margined print already in device memory (rows 3 W bytes apart): GV_K_DBOX
 * into a descreened copy, GV_K_DSTAIN on that, then the downloads. Waits for the device before
 * returning, also on failure. */
static int
stain2_on_device (GvCudaExec *ex, long *counts, const uint8_t *d_print, int W, int H, int M,
                  int box_r, GvImage *stain2, uint8_t *dark2)
{
  uint8_t *d_desc = NULL, *d_dark = NULL;
  float *d_stain = NULL;
  int w = W - 2 * M, h = H - 2 * M, rc = GV_OK;
  size_t crow = 3 * (size_t) W, npx = (size_t) w * h;

  if (!(d_desc = ex->alloc (ex, crow * (size_t) H))
      || !(d_stain = ex->alloc (ex, npx * sizeof (float))) || !(d_dark = ex->alloc (ex, npx)))
    {
      rc = gv_error_code () ? gv_error_code () : GV_ENOMEM;
      goto out;
    }
  {
    GvKDBox bx = { d_print, (int) crow, W, H, box_r, d_desc, (int) crow };
    GvKDStain st = { d_desc, (int) crow, W, H, M, d_stain, w, d_dark, w };
    GvLaunch lb = gv_launch_for (GV_K_DBOX, W, H), ls = gv_launch_for (GV_K_DSTAIN, w, h);
    if ((rc = ex->launch (ex, GV_K_DBOX, &bx, &lb)))
      goto out;
    counts[GV_K_DBOX]++;
    if ((rc = ex->launch (ex, GV_K_DSTAIN, &st, &ls)))
      goto out;
    counts[GV_K_DSTAIN]++;
  }
  if ((rc = ex->download (ex, stain2->data, stain2->stride, d_stain, w * sizeof (float),
                          w * sizeof (float), (size_t) h))
      || (rc = ex->download (ex, dark2, (size_t) w, d_dark, (size_t) w, (size_t) w, (size_t) h)))
    goto out;
out:
  {
    int rs = ex->sync (ex);
    if (rc == GV_OK)
      rc = rs;
  }
  if (d_desc)
    ex->free (ex, d_desc);
  if (d_stain)
    ex->free (ex, d_stain);
  if (d_dark)
    ex->free (ex, d_dark);
  return rc;
}

static int
stain2_check (int W, int H, int M, int box_r, const GvImage *stain2, const uint8_t *dark2)
{
  int w = W - 2 * M, h = H - 2 * M, rc;

  if (M < 0 || w < 1 || h < 1 || W > (1 << 28) / 3 / H)
    return gv_error_set (GV_EINVAL, "defect maps: a margin of %d px on %dx%d covers", M, W, H);
  if (box_r < 1 || box_r > 64)
    return gv_error_set (GV_EINVAL, "defect maps: a descreening box radius of %d px", box_r);
  if ((rc = check_image (stain2, w, h, 1, GV_F32, "the descreened stain evidence")))
    return rc;
  if (!dark2)
    return gv_error_set (GV_EINVAL, "defect maps: the stain evidence needs its dark sides");
  return GV_OK;
}

int
gv_defect_stain2_device (GvBackend *be, const GvImage *print, int M, int box_r, GvImage *stain2,
                         uint8_t *dark2)
{
  GvCudaExec *ex = gv_cuda_engine_exec (be);
  uint8_t *d_print;
  int rc;

  if (!ex)
    return gv_error_set (GV_EUNSUPPORTED, "the %s backend has no device path for the defect maps",
                         be ? be->ops->name : "(none)");
  if (!print || !print->data || print->channels != 3 || print->depth != GV_U8)
    return gv_error_set (GV_EINVAL, "defect maps: the print estimate must be an 8-bit RGB image");
  if ((rc = stain2_check (print->width, print->height, M, box_r, stain2, dark2)))
    return rc;
  size_t crow = 3 * (size_t) print->width;
  if (!(d_print = ex->alloc (ex, crow * (size_t) print->height)))
    return gv_error_code () ? gv_error_code () : GV_ENOMEM;
  if ((rc = ex->upload (ex, d_print, crow, print->data, print->stride, crow,
                        (size_t) print->height)))
    ex->sync (ex);
  else
    rc = stain2_on_device (ex, ((GvEngine *) be)->counts, d_print, print->width, print->height, M,
                           box_r, stain2, dark2);
  ex->free (ex, d_print);
  return rc;
}

/* Steps 1 and 2 of stage 4 on the device (gv-defect-maps.h): the frame goes up once, its gray
 * copy, the alignment warps and terms and the margined cover warps run there, and the covers
 * stay for the maps. */
struct GvDmDevice {
  GvEngine *e;
  int W, H;              /* the margined cover */
  int fw, fh;            /* the current frame */
  size_t frame_px;       /* capacity of d_rgb and d_gray, pixels */
  uint8_t *d_rgb, *d_gray, *d_ref, *d_cur;
  uint8_t *d_cov[GV_DM_MAX_COVERS];
  uint8_t *d_print; /* the margined print of the last maps, kept for stain2 */
  double *d_rows;
  int have_frame, have_ref, ncov;
};

int
gv_dm_device_new (GvBackend *be, int W, int H, GvDmDevice **out)
{
  GvCudaExec *ex = gv_cuda_engine_exec (be);
  GvDmDevice *d;

  *out = NULL;
  if (!ex)
    return gv_error_set (GV_EUNSUPPORTED, "the %s backend has no device path for the defect maps",
                         be ? be->ops->name : "(none)");
  if (W < 3 || H < 3 || W > (1 << 28) / 3 / H)
    return gv_error_set (GV_EINVAL, "defect maps: a margined cover of %dx%d", W, H);
  if (!(d = calloc (1, sizeof *d)))
    return gv_error_set (GV_ENOMEM, "out of memory");
  d->e = (GvEngine *) be;
  d->W = W;
  d->H = H;
  if (!(d->d_ref = ex->alloc (ex, (size_t) W * H)) || !(d->d_cur = ex->alloc (ex, (size_t) W * H))
      || !(d->d_rows = ex->alloc (ex, 5 * sizeof (double) * (size_t) H)))
    {
      int rc = gv_error_code () ? gv_error_code () : GV_ENOMEM;
      gv_dm_device_free (d);
      return rc;
    }
  *out = d;
  return GV_OK;
}

void
gv_dm_device_free (GvDmDevice *d)
{
  if (!d)
    return;
  GvCudaExec *ex = d->e->ex;
  ex->sync (ex); /* nothing queued may still use the buffers */
  uint8_t *bufs[] = { d->d_rgb, d->d_gray, d->d_ref, d->d_cur, (uint8_t *) d->d_rows, d->d_print };
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    if (bufs[i])
      ex->free (ex, bufs[i]);
  for (int k = 0; k < GV_DM_MAX_COVERS; k++)
    if (d->d_cov[k])
      ex->free (ex, d->d_cov[k]);
  free (d);
}

int
gv_dm_device_frame (GvDmDevice *d, const GvImage *rgb)
{
  GvCudaExec *ex = d->e->ex;
  int rc;

  d->have_frame = 0;
  if (!rgb || !rgb->data || rgb->depth != GV_U8 || rgb->channels != 3 || rgb->width < 1
      || rgb->height < 1 || rgb->width > (1 << 28) / 3 / rgb->height)
    return gv_error_set (GV_EINVAL, "defect maps: a golden frame must be an 8-bit RGB image");
  size_t px = (size_t) rgb->width * rgb->height;
  if (px > d->frame_px)
    {
      if ((rc = ex->sync (ex)))
        return rc;
      if (d->d_rgb)
        ex->free (ex, d->d_rgb);
      if (d->d_gray)
        ex->free (ex, d->d_gray);
      d->d_gray = NULL;
      d->frame_px = 0;
      if (!(d->d_rgb = ex->alloc (ex, 3 * px)) || !(d->d_gray = ex->alloc (ex, px)))
        return gv_error_code () ? gv_error_code () : GV_ENOMEM;
      d->frame_px = px;
    }
  d->fw = rgb->width;
  d->fh = rgb->height;
  size_t row = 3 * (size_t) d->fw;
  if ((rc = ex->upload (ex, d->d_rgb, row, rgb->data, rgb->stride, row, (size_t) d->fh)))
    return rc;
  GvKGray g = { d->d_rgb, (int) row, d->d_gray, d->fw };
  if ((rc = launch (d->e, GV_K_GRAY, &g, d->fw, d->fh)))
    return rc;
  d->have_frame = 1;
  return GV_OK;
}

/* The current frame (ch 1: its gray copy, 3: RGB) warped with Hm into dst (W x H x ch). */
static int
dm_warp (GvDmDevice *d, int ch, const double Hm[9], uint8_t *dst)
{
  const uint8_t *src = ch == 1 ? d->d_gray : d->d_rgb;
  GvImage sv = gv_image_view ((void *) src, d->fw, d->fh, ch, GV_U8, (size_t) d->fw * ch);
  GvImage dv = gv_image_view (dst, d->W, d->H, ch, GV_U8, (size_t) d->W * ch);
  GvKWarp a;
  int rc;

  if (!d->have_frame)
    return gv_error_set (GV_EINVAL, "defect maps: no golden frame on the device");
  if ((rc = gv_warp_prepare (&sv, &dv, Hm, a.Hf)))
    return rc;
  a.src = src;
  a.sstride = d->fw * ch;
  a.sw = d->fw;
  a.sh = d->fh;
  a.ch = ch;
  a.dst = dst;
  a.dstride = d->W * ch;
  a.dw = d->W;
  a.dh = d->H;
  return launch (d->e, GV_K_WARP, &a, d->W, d->H);
}

int
gv_dm_device_ref (GvDmDevice *d, const double Hm[9])
{
  int rc = dm_warp (d, 1, Hm, d->d_ref);
  d->have_ref = rc == GV_OK;
  return rc;
}

int
gv_dm_device_lk_rows (GvDmDevice *d, const double Hm[9], int x0, int x1, int y0, int y1,
                      double *rows)
{
  GvCudaExec *ex = d->e->ex;
  int rc;

  if (!d->have_ref)
    return gv_error_set (GV_EINVAL, "defect maps: no reference cover on the device");
  if (x0 < 1 || x1 > d->W - 2 || y0 < 1 || y1 > d->H - 2)
    return gv_error_set (GV_EINVAL, "defect maps: alignment interior outside the cover");
  if ((rc = dm_warp (d, 1, Hm, d->d_cur)))
    return rc;
  GvKLkRow a = { d->d_ref, d->d_cur, d->W, d->W, x0, x1, y0, y1, d->d_rows };
  if ((rc = launch (d->e, GV_K_LKROW, &a, d->H, 1)))
    return rc;
  return ex->download (ex, rows, 5 * sizeof (double), d->d_rows, 5 * sizeof (double),
                       5 * sizeof (double), (size_t) d->H);
}

int
gv_dm_device_cover (GvDmDevice *d, int k, const double Hm[9])
{
  GvCudaExec *ex = d->e->ex;

  if (k < 0 || k >= GV_DM_MAX_COVERS || k > d->ncov)
    return gv_error_set (GV_EINVAL, "defect maps: cover %d of at most %d, in order", k,
                         GV_DM_MAX_COVERS);
  if (!d->d_cov[k] && !(d->d_cov[k] = ex->alloc (ex, 3 * (size_t) d->W * d->H)))
    return gv_error_code () ? gv_error_code () : GV_ENOMEM;
  int rc = dm_warp (d, 3, Hm, d->d_cov[k]);
  if (rc == GV_OK && k == d->ncov)
    d->ncov++;
  return rc;
}

int
gv_dm_device_maps (GvDmDevice *d, int n, int M, int ink_r, GvImage *print, GvImage *glare,
                   GvImage *line, GvImage *stain, uint8_t *dark)
{
  int rc;

  if (n > d->ncov)
    return gv_error_set (GV_EINVAL, "defect maps: %d covers asked for, %d on the device", n,
                         d->ncov);
  if ((rc = maps_check (n, d->W, d->H, M, print, glare, line, stain, dark)))
    return rc;
  if (d->d_print)
    {
      d->e->ex->free (d->e->ex, d->d_print);
      d->d_print = NULL;
    }
  return maps_on_device (d->e->ex, d->e->counts, d->d_cov, n, d->W, d->H, M, ink_r, print, glare,
                         line, stain, dark, &d->d_print);
}

int
gv_dm_device_stain2 (GvDmDevice *d, int M, int box_r, GvImage *stain2, uint8_t *dark2)
{
  int rc;

  if (!d->d_print)
    return gv_error_set (GV_EINVAL, "defect maps: no print estimate on the device (run the maps "
                                    "first)");
  if ((rc = stain2_check (d->W, d->H, M, box_r, stain2, dark2)))
    return rc;
  return stain2_on_device (d->e->ex, d->e->counts, d->d_print, d->W, d->H, M, box_r, stain2,
                           dark2);
}

int
gv_dm_device_download_cover (GvDmDevice *d, int k, GvImage *rgb)
{
  int rc;

  if (k < 0 || k >= d->ncov)
    return gv_error_set (GV_EINVAL, "defect maps: no cover %d on the device", k);
  if ((rc = check_image (rgb, d->W, d->H, 3, GV_U8, "the cover")))
    return rc;
  size_t row = 3 * (size_t) d->W;
  return d->e->ex->download (d->e->ex, rgb->data, rgb->stride, d->d_cov[k], row, row,
                             (size_t) d->H);
}

static const char *const phase_names[GV_PH_COUNT] = {
  "upload", "area resize", "pyramid + polynomial expansion", "sharpness (Laplacian sums)",
  "Farneback flow", "motion statistics + read-back", "warp (up, kernel, down)",
};

const char *
gv_cuda_phase_name (int phase)
{
  return phase >= 0 && phase < GV_PH_COUNT ? phase_names[phase] : "?";
}

int
gv_cuda_engine_set_timing (GvBackend *be, int on)
{
  if (!be || (be->ops != &engine_ops_cuda && be->ops != &engine_ops_emulated))
    return 0;
  ((GvEngine *) be)->timing = on;
  memset (((GvEngine *) be)->phase, 0, sizeof ((GvEngine *) be)->phase);
  return 1;
}

int
gv_cuda_engine_phase_seconds (GvBackend *be, double seconds[GV_PH_COUNT])
{
  if (!be || (be->ops != &engine_ops_cuda && be->ops != &engine_ops_emulated))
    return 0;
  memcpy (seconds, ((GvEngine *) be)->phase, sizeof ((GvEngine *) be)->phase);
  return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* The emulator                                                                                 */

typedef void (*GvBody) (const void *args, int x, int y);

#define BODY(fn, T)                                                                              \
  static void b_##fn (const void *a, int x, int y)                                                \
  {                                                                                              \
    gv_k_##fn ((const T *) a, x, y);                                                             \
  }
BODY (area, GvKArea)
BODY (pad, GvKPad)
BODY (vblur, GvKVBlur)
BODY (level, GvKLevel)
BODY (poly_v, GvKPolyV)
BODY (poly_h, GvKPolyH)
BODY (mat, GvKMat)
BODY (hbox, GvKHBox)
BODY (vsum, GvKVSum)
BODY (solve, GvKSolve)
BODY (warp, GvKWarp)
BODY (dmedian, GvKDMedian)
BODY (dline, GvKDLine)
BODY (dstain, GvKDStain)
BODY (gray, GvKGray)
BODY (lkrow, GvKLkRow)
BODY (dink, GvKDInk)
BODY (dilh, GvKDil)
BODY (dilv, GvKDil)
BODY (dbox, GvKDBox)

static GvBody
body_for (int id)
{
  switch (id)
    {
    case GV_K_AREA: return b_area;
    case GV_K_PAD: return b_pad;
    case GV_K_VBLUR: return b_vblur;
    case GV_K_LEVEL: return b_level;
    case GV_K_POLY_V: return b_poly_v;
    case GV_K_POLY_H: return b_poly_h;
    case GV_K_MAT: return b_mat;
    case GV_K_HBOX: return b_hbox;
    case GV_K_VSUM: return b_vsum;
    case GV_K_SOLVE: return b_solve;
    case GV_K_WARP: return b_warp;
    case GV_K_DMEDIAN: return b_dmedian;
    case GV_K_GRAY: return b_gray;
    case GV_K_LKROW: return b_lkrow;
    case GV_K_DINK: return b_dink;
    case GV_K_DILH: return b_dilh;
    case GV_K_DILV: return b_dilv;
    case GV_K_DLINE: return b_dline;
    case GV_K_DSTAIN: return b_dstain;
    case GV_K_DBOX: return b_dbox;
    default: return NULL;
    }
}

int
gv_cuda_emulate (int id, const void *args, const GvLaunch *l, int *visits)
{
  if (l->row_block)
    {
      int nt = l->bx;
      long long *s = malloc (6 * sizeof *s * (size_t) nt);
      float *sh = malloc (GV_MAG_CHUNK * sizeof *sh);
      if (!s || !sh)
        {
          free (s);
          free (sh);
          return gv_error_set (GV_ENOMEM, "out of memory");
        }
      for (int row = 0; row < l->gy; row++)
        {
          if (visits) /* both kernels: thread tid takes columns tid, tid + nt, ... */
            for (int tid = 0; tid < nt; tid++)
              for (int x = tid; x < l->w; x += nt)
                visits[(size_t) row * l->w + x]++;
          if (!args)
            continue;
          if (id == GV_K_LAP)
            {
              const GvKLap *a = args;
              long long acc[6];
              for (int tid = 0; tid < nt; tid++)
                {
                  gv_k_lap_partial (a, row, tid, nt, acc);
                  for (int k = 0; k < 6; k++)
                    s[k * nt + tid] = acc[k];
                }
              for (int half = nt / 2; half > 0; half /= 2)
                for (int tid = 0; tid < nt; tid++) /* every thread, then the barrier */
                  gv_k_tree_step (s, nt, tid, half);
              for (int k = 0; k < 6; k++)
                a->rows[6 * (size_t) row + k] = s[k * nt];
            }
          else if (id == GV_K_MAG)
            {
              const GvKMag *a = args;
              GvMagRow st;
              gv_k_mag_begin (a, row, &st);
              for (int base = 0; base < a->w; base += GV_MAG_CHUNK)
                {
                  for (int tid = 0; tid < nt; tid++)
                    gv_k_mag_fill (a, row, base, tid, nt, sh);
                  gv_k_mag_sum (a, base, sh, &st);
                }
              gv_k_mag_end (a, row, &st);
            }
        }
      free (s);
      free (sh);
      return GV_OK;
    }
  GvBody body = body_for (id);
  if (!body && !visits)
    return gv_error_set (GV_EINVAL, "emulator: unknown kernel %d", id);
  for (int by = 0; by < l->gy; by++)
    for (int bx = 0; bx < l->gx; bx++)
      for (int ty = 0; ty < l->by; ty++)
        for (int tx = 0; tx < l->bx; tx++)
          {
            int x, y;
            if (!gv_launch_element (l, bx, by, tx, ty, &x, &y))
              continue;
            if (visits)
              visits[(size_t) y * l->w + x]++;
            if (body && args)
              body (args, x, y);
          }
  return GV_OK;
}

size_t
gv_cuda_kernel_args_size (int id)
{
  switch (id)
    {
    case GV_K_AREA: return sizeof (GvKArea);
    case GV_K_LAP: return sizeof (GvKLap);
    case GV_K_PAD: return sizeof (GvKPad);
    case GV_K_VBLUR: return sizeof (GvKVBlur);
    case GV_K_LEVEL: return sizeof (GvKLevel);
    case GV_K_POLY_V: return sizeof (GvKPolyV);
    case GV_K_POLY_H: return sizeof (GvKPolyH);
    case GV_K_MAT: return sizeof (GvKMat);
    case GV_K_HBOX: return sizeof (GvKHBox);
    case GV_K_VSUM: return sizeof (GvKVSum);
    case GV_K_SOLVE: return sizeof (GvKSolve);
    case GV_K_MAG: return sizeof (GvKMag);
    case GV_K_WARP: return sizeof (GvKWarp);
    case GV_K_DMEDIAN: return sizeof (GvKDMedian);
    case GV_K_GRAY: return sizeof (GvKGray);
    case GV_K_LKROW: return sizeof (GvKLkRow);
    case GV_K_DINK: return sizeof (GvKDInk);
    case GV_K_DILH:
    case GV_K_DILV: return sizeof (GvKDil);
    case GV_K_DLINE: return sizeof (GvKDLine);
    case GV_K_DSTAIN: return sizeof (GvKDStain);
    case GV_K_DBOX: return sizeof (GvKDBox);
    default: return 0;
    }
}

/* The emulator's recordings: launches with copies of their arguments, as a graph would hold
 * them (a recorded launch must not depend on host memory the engine changes later). */
typedef struct {
  int id;
  GvLaunch l;
  void *args;
} GvEmuRec;

typedef struct {
  GvCudaExec base;
  int recording;
  GvEmuRec *pending;
  int n_pending, cap_pending;
  GvEmuRec *slot[GV_CUDA_REC_SLOTS];
  int n_slot[GV_CUDA_REC_SLOTS];
  /* side uploads not yet made: the source rows (copied, as src may be reused) and where they go */
  struct {
    uint8_t *dst, *rows;
    size_t dpitch, width, n;
  } side[2];
  int n_side;
} GvEmuExec;

static void
emu_recs_free (GvEmuRec *r, int n)
{
  for (int i = 0; i < n; i++)
    free (r[i].args);
  free (r);
}

static void *
emu_alloc (GvCudaExec *ex, size_t bytes)
{
  void *p = aligned_alloc (64, (bytes + 63) & ~(size_t) 63);
  if (!p)
    gv_error_set (GV_ENOMEM, "emulator: out of memory for %zu bytes", bytes);
  return p;
}

static void
emu_free (GvCudaExec *ex, void *p)
{
  free (p);
}

static int
emu_copy (GvCudaExec *ex, void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
          size_t rows)
{
  for (size_t r = 0; r < rows; r++)
    memcpy ((uint8_t *) dst + r * dpitch, (const uint8_t *) src + r * spitch, width);
  return GV_OK;
}

static int
emu_launch (GvCudaExec *ex, int id, const void *args, const GvLaunch *l)
{
  GvEmuExec *x = (GvEmuExec *) ex;
  size_t sz = gv_cuda_kernel_args_size (id);

  if (!x->recording)
    return gv_cuda_emulate (id, args, l, NULL);
  if (!sz)
    return gv_error_set (GV_EINVAL, "emulator: unknown kernel %d", id);
  if (x->n_pending == x->cap_pending)
    {
      int cap = x->cap_pending ? 2 * x->cap_pending : 64;
      GvEmuRec *r = realloc (x->pending, (size_t) cap * sizeof *r);
      if (!r)
        return gv_error_set (GV_ENOMEM, "emulator: out of memory");
      x->pending = r, x->cap_pending = cap;
    }
  GvEmuRec *r = &x->pending[x->n_pending];
  if (!(r->args = malloc (sz)))
    return gv_error_set (GV_ENOMEM, "emulator: out of memory");
  memcpy (r->args, args, sz);
  r->id = id, r->l = *l;
  x->n_pending++;
  return GV_OK;
}

static int
emu_record_begin (GvCudaExec *ex)
{
  GvEmuExec *x = (GvEmuExec *) ex;
  if (x->recording)
    return gv_error_set (GV_EINVAL, "emulator: already recording");
  x->recording = 1;
  x->pending = NULL, x->n_pending = x->cap_pending = 0;
  return GV_OK;
}

static int
emu_record_end (GvCudaExec *ex, int slot)
{
  GvEmuExec *x = (GvEmuExec *) ex;
  if (!x->recording)
    return gv_error_set (GV_EINVAL, "emulator: not recording");
  x->recording = 0;
  if (slot < 0 || slot >= GV_CUDA_REC_SLOTS)
    {
      emu_recs_free (x->pending, x->n_pending);
      return gv_error_set (GV_EINVAL, "emulator: no recording slot %d", slot);
    }
  emu_recs_free (x->slot[slot], x->n_slot[slot]);
  x->slot[slot] = x->pending, x->n_slot[slot] = x->n_pending;
  x->pending = NULL, x->n_pending = x->cap_pending = 0;
  return GV_OK;
}

static int
emu_replay (GvCudaExec *ex, int slot)
{
  GvEmuExec *x = (GvEmuExec *) ex;
  if (slot < 0 || slot >= GV_CUDA_REC_SLOTS || !x->slot[slot])
    return gv_error_set (GV_EINVAL, "emulator: nothing recorded in slot %d", slot);
  for (int i = 0; i < x->n_slot[slot]; i++)
    {
      int rc = gv_cuda_emulate (x->slot[slot][i].id, x->slot[slot][i].args, &x->slot[slot][i].l,
                                NULL);
      if (rc)
        return rc;
    }
  return GV_OK;
}

static void
emu_forget (GvCudaExec *ex)
{
  GvEmuExec *x = (GvEmuExec *) ex;
  for (int k = 0; k < GV_CUDA_REC_SLOTS; k++)
    {
      emu_recs_free (x->slot[k], x->n_slot[k]);
      x->slot[k] = NULL, x->n_slot[k] = 0;
    }
}

/* A side upload is held back until side_join or sync: the latest a device could make it, so
 * that an engine that reads the buffer without joining first sees the old pixels. */
static int
emu_side_upload (GvCudaExec *ex, void *dst, size_t dpitch, const void *src, size_t spitch,
                 size_t width, size_t rows)
{
  GvEmuExec *x = (GvEmuExec *) ex;
  if (x->n_side == (int) (sizeof x->side / sizeof x->side[0]))
    return gv_error_set (GV_EINVAL, "emulator: more than %d side uploads before a join",
                         x->n_side);
  size_t bytes = width * rows;
  uint8_t *copy = malloc (bytes ? bytes : 1);
  if (!copy)
    return gv_error_set (GV_ENOMEM, "emulator: out of memory");
  emu_copy (ex, copy, width, src, spitch, width, rows);
  x->side[x->n_side].dst = dst, x->side[x->n_side].rows = copy;
  x->side[x->n_side].dpitch = dpitch, x->side[x->n_side].width = width;
  x->side[x->n_side].n = rows;
  x->n_side++;
  return GV_OK;
}

static int
emu_side_join (GvCudaExec *ex)
{
  GvEmuExec *x = (GvEmuExec *) ex;
  for (int k = 0; k < x->n_side; k++)
    {
      emu_copy (ex, x->side[k].dst, x->side[k].dpitch, x->side[k].rows, x->side[k].width,
                x->side[k].width, x->side[k].n);
      free (x->side[k].rows);
    }
  x->n_side = 0;
  return GV_OK;
}

static int
emu_fence (GvCudaExec *ex)
{
  return GV_OK;
}

static int
emu_sync (GvCudaExec *ex)
{
  return emu_side_join (ex);
}

static void
emu_destroy (GvCudaExec *ex)
{
  GvEmuExec *x = (GvEmuExec *) ex;
  for (int k = 0; k < x->n_side; k++)
    free (x->side[k].rows);
  emu_forget (ex);
  emu_recs_free (x->pending, x->n_pending);
  free (ex);
}

GvCudaExec *
gv_cuda_emulator_new (void)
{
  GvEmuExec *x = calloc (1, sizeof *x);
  if (!x)
    {
      gv_error_set (GV_ENOMEM, "out of memory");
      return NULL;
    }
  GvCudaExec *ex = &x->base;
  ex->name = "emulator";
  ex->alloc = emu_alloc;
  ex->free = emu_free;
  ex->upload = emu_copy;
  ex->download = emu_copy;
  ex->launch = emu_launch;
  ex->sync = emu_sync;
  ex->destroy = emu_destroy;
  ex->copy = emu_copy;
  ex->record_begin = emu_record_begin;
  ex->record_end = emu_record_end;
  ex->replay = emu_replay;
  ex->forget = emu_forget;
  ex->fence = emu_fence;
  ex->side_upload = emu_side_upload;
  ex->side_join = emu_side_join;
  return ex;
}

int
gv_backend_emulated_new (const GvParams *params, GvBackend **out)
{
  GvCudaExec *ex = gv_cuda_emulator_new ();

  *out = NULL;
  if (!ex)
    return gv_error_code ();
  return gv_cuda_engine_new (ex, params, "cuda-emulated",
                             "CPU emulation of the CUDA backend's launches (one thread)", out);
}
