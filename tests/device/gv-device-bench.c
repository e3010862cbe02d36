/* gv-device-bench.c: frame-analysis throughput of the CPU backend (all cores) and the CUDA
 * backend on synthetic 1080p frames at the default analysis size, GLib- and FFmpeg-free.
 *  - per stage on the CPU: the public CPU kernels one by one (area resize, pyramid, Laplacian
 *    sums, Farneback flow, motion statistics), frames per second each;
 *  - per stage on the GPU: the engine's stage timing (a device wait at each boundary);
 *  - end to end: load + measure per frame (upload included, no waits between stages), frames per
 *    second, and the speed-up; a 1060x1640 cover warp;
 *  - stage 4's per-pixel maps (print estimate and glare over 5 covers, line and stain evidence)
 *    on 5 covers of 1060x1640 + 42 px margin: the CPU row loops on all cores, the device path
 *    (upload, launches, download), and whether the two give the same bytes;
 *  - the whole of stage 4 (gv_defects_analyze: alignment, covers, maps and the host steps) on 5
 *    golden frames of the synthetic scan at 1080p, on both backends, and whether the reports
 *    agree (score map, mask, defect list).
 * With --y4m FILE ("-" for standard input) the frames are the first 12 of that video instead.
 * Usage: gv-device-bench [--frames N] [--seconds S] [--summary FILE] [--y4m FILE] */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gv-backend.h"
#include "gv-cuda-engine.h"
#include "gv-defects.h"
#include "gv-defect-covers.h"
#include "gv-error.h"
#include "gv-flow.h"
#include "gv-pipeline.h"
#include "gv-synth.h"
#include "gv-threads.h"
#include "gv-y4m.h"

static FILE *summary;

static void say (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static void
say (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  fflush (stdout);
  if (summary)
    {
      va_start (ap, fmt);
      vfprintf (summary, fmt, ap);
      va_end (ap);
    }
}

#define NDISTINCT 12

/* Loads frame i (cycling the distinct ones): from host memory, or kept on the device. */
static int
load_host (GvBackend *be, GvImage **gray, int i)
{
  return be->ops->load (be, gray[i % NDISTINCT]);
}

static int
load_kept (GvBackend *be, GvImage **gray, int i)
{
  return gv_cuda_engine_load_kept (be, i % NDISTINCT);
}

/* Rate of load + measure over n frames after 3 warm-up frames, within budget seconds; -1 on
 * failure. */
static double
timed_frames (GvBackend *be, int (*load) (GvBackend *, GvImage **, int), GvImage **gray, int n,
              const GvQuad *roi, double budget)
{
  GvFrameMetrics m;
  double t0;
  int i;

  be->ops->reset (be);
  for (i = 0; i < 3; i++) /* warm-up: allocations, first launches, recordings */
    if (load (be, gray, i) || be->ops->measure (be, roi, &m))
      return -1.0;
  t0 = gv_monotonic_seconds ();
  for (i = 0; i < n; i++)
    {
      if (load (be, gray, i) || be->ops->measure (be, roi, &m))
        return -1.0;
      if ((i & 7) == 7 && gv_monotonic_seconds () - t0 > budget)
        {
          i++;
          break;
        }
    }
  return i / (gv_monotonic_seconds () - t0);
}

/* End-to-end rate of load + measure over n frames (cycling the distinct ones). */
static double
run_backend (GvBackend *be, GvImage **gray, int n, const GvQuad *roi, double budget)
{
  return timed_frames (be, load_host, gray, n, roi, budget);
}

/* load + measure as the pipeline does it on a device: the measure in two halves, and between
 * them the next frame's upload (prefetch) beside the device's work, so that its load only
 * queues the launches. Frames/s, or -1; *same says whether every frame's metrics equal those of
 * plain load + measure (a first pass over 2 * NDISTINCT frames). */
static int
overlap_pass (GvBackend *be, GvImage **gray, int n, const GvQuad *roi, GvFrameMetrics *out,
              double t0, double budget, int *done)
{
  GvFrameMetrics m;
  int i;

  if (be->ops->load (be, gray[0]))
    return -1;
  for (i = 0; i < n; i++)
    {
      if (be->ops->measure_begin (be, roi))
        return -1;
      if (i + 1 < n && be->ops->prefetch (be, gray[(i + 1) % NDISTINCT]))
        return -1;
      if (be->ops->measure_end (be, out ? &out[i] : &m))
        return -1;
      if (i + 1 < n && be->ops->load (be, gray[(i + 1) % NDISTINCT]))
        return -1;
      if (budget > 0 && (i & 7) == 7 && gv_monotonic_seconds () - t0 > budget)
        {
          i++;
          break;
        }
    }
  *done = i;
  return 0;
}

static double
run_overlap (GvBackend *be, GvImage **gray, int n, const GvQuad *roi, double budget, int *same)
{
  GvFrameMetrics a[2 * NDISTINCT], b[2 * NDISTINCT];
  int done;

  if (!be->ops->measure_begin || !be->ops->measure_end || !be->ops->prefetch)
    return -1.0;
  *same = 1;
  be->ops->reset (be);
  for (int i = 0; i < 2 * NDISTINCT; i++)
    if (be->ops->load (be, gray[i % NDISTINCT]) || be->ops->measure (be, roi, &a[i]))
      return -1.0;
  be->ops->reset (be);
  if (overlap_pass (be, gray, 2 * NDISTINCT, roi, b, 0.0, 0.0, &done))
    return -1.0;
  for (int i = 0; i < 2 * NDISTINCT; i++)
    if (a[i].sharpness != b[i].sharpness || a[i].sharpness_frame != b[i].sharpness_frame
        || a[i].motion != b[i].motion || a[i].motion_frame != b[i].motion_frame
        || a[i].motion_max != b[i].motion_max)
      *same = 0;
  be->ops->reset (be);
  double t0 = gv_monotonic_seconds ();
  if (overlap_pass (be, gray, n, roi, NULL, t0, budget, &done))
    return -1.0;
  return done / (gv_monotonic_seconds () - t0);
}

/* Frame analysis from luma already in device memory: the frames are kept on the device once,
 * then each load is a device-to-device copy (gv_cuda_engine_load_kept). Returns frames/s, or
 * -1; *same says whether the metrics equal those of the upload path on the first frames. */
static double
run_kept (GvBackend *be, GvImage **gray, int n, const GvQuad *roi, double budget, int *same)
{
  GvFrameMetrics a[4], b[4];
  int i;

  if (gv_cuda_engine_keep_frames (be, gray, NDISTINCT))
    return -1.0;
  *same = 1;
  be->ops->reset (be);
  for (i = 0; i < 4; i++)
    if (be->ops->load (be, gray[i]) || be->ops->measure (be, roi, &a[i]))
      return -1.0;
  be->ops->reset (be);
  for (i = 0; i < 4; i++)
    if (gv_cuda_engine_load_kept (be, i) || be->ops->measure (be, roi, &b[i]))
      return -1.0;
  for (i = 0; i < 4; i++)
    if (a[i].sharpness != b[i].sharpness || a[i].sharpness_frame != b[i].sharpness_frame
        || a[i].motion != b[i].motion || a[i].motion_frame != b[i].motion_frame
        || a[i].motion_max != b[i].motion_max)
      *same = 0;
  return timed_frames (be, load_kept, gray, n, roi, budget);
}

/* Stage 4's maps: 5 synthetic covers (gv-defect-covers.h) at the canonical 1060x1640 cover,
 * the largest stage 4 works at, then step 3e' (the descreened print's stain evidence, radius 4)
 * from the print. be NULL: the CPU row loops on nthreads; else the device path (3e' re-uploads
 * the print here; stage 4 itself keeps it on the device). Returns ms per run (best of reps after
 * one warm-up), or -1; m->out, stain2 and dark2 keep the last run's maps for the comparison. */
#define MAPS_N 5
#define MAPS_W 1060
#define MAPS_H 1640
#define MAPS_M 42

typedef struct {
  GvImage *covers[MAPS_N];
  GvTcMapSet out;
  GvImage *stain2;
  uint8_t *dark2;
} MapsRun;

static int
maps_alloc (MapsRun *m)
{
  memset (m, 0, sizeof *m);
  for (int k = 0; k < MAPS_N; k++)
    if (!(m->covers[k] = gv_tc_cover (MAPS_W, MAPS_H, MAPS_M, k)))
      return 0;
  m->stain2 = gv_image_new (MAPS_W, MAPS_H, 1, GV_F32);
  m->dark2 = malloc ((size_t) MAPS_W * MAPS_H);
  return m->stain2 && m->dark2 && gv_tc_maps_alloc (MAPS_W, MAPS_H, MAPS_M, &m->out);
}

static void
maps_free (MapsRun *m)
{
  for (int k = 0; k < MAPS_N; k++)
    gv_image_free (m->covers[k]);
  gv_tc_maps_release (&m->out);
  gv_image_free (m->stain2);
  free (m->dark2);
}

static double
maps_time (GvBackend *be, int nthreads, MapsRun *m, int reps)
{
  const GvImage *const *cv = (const GvImage *const *) m->covers;
  GvTcMapSet *o = &m->out;
  double best = -1;
  for (int r = 0; r <= reps; r++)
    {
      double t0 = gv_monotonic_seconds ();
      if (be)
        {
          if (gv_defect_maps_device (be, cv, MAPS_N, MAPS_M, o->print, o->glare, o->line, o->stain,
                                     o->dark) != GV_OK
              || gv_defect_stain2_device (be, o->print, MAPS_M, 4, m->stain2, m->dark2) != GV_OK)
            return -1;
        }
      else
        {
          gv_tc_maps_cpu (cv, MAPS_N, MAPS_M, nthreads, o->print, o->glare, o->line, o->stain,
                          o->dark);
          if (!gv_tc_stain2_cpu (o->print, MAPS_M, 4, nthreads, m->stain2, m->dark2))
            return -1;
        }
      double dt = 1e3 * (gv_monotonic_seconds () - t0);
      if (r > 0 && (best < 0 || dt < best))
        best = dt;
    }
  return best;
}

static int
maps_same (const MapsRun *ma, const MapsRun *mb)
{
  const GvTcMapSet *a = &ma->out, *b = &mb->out;
  return !gv_image_compare (a->print, b->print) && !gv_image_compare (a->glare, b->glare)
         && !gv_image_compare (a->line, b->line) && !gv_image_compare (a->stain, b->stain)
         && !memcmp (a->dark, b->dark, (size_t) MAPS_W * MAPS_H)
         && !gv_image_compare (ma->stain2, mb->stain2)
         && !memcmp (ma->dark2, mb->dark2, (size_t) MAPS_W * MAPS_H);
}

/* The whole of stage 4 on GOLD_N frames of the synthetic scan: best of reps (after a warm-up)
 * in ms, or -1; *out keeps the last report. */
#define GOLD_N 5
typedef struct {
  GvImage *rgb[GOLD_N];
  GvQuad quad[GOLD_N];
  GvDefectInput in[GOLD_N];
} GoldRun;

static int
gold_init (GoldRun *g, GvSynth *syn, int W, int H)
{
  GvSynthTruth t;
  memset (g, 0, sizeof *g);
  for (int k = 0; k < GOLD_N; k++)
    {
      if (!(g->rgb[k] = gv_image_new (W, H, 3, GV_U8))
          || gv_synth_render (syn, 2 * k, g->rgb[k], &t, 0) != GV_OK)
        return 0;
      for (int c = 0; c < 4; c++)
        g->quad[k].x[c] = t.corners[2 * c], g->quad[k].y[c] = t.corners[2 * c + 1];
      g->in[k] = (GvDefectInput) { g->rgb[k], &g->quad[k], 0, k, 1.0 };
    }
  return 1;
}

static void
gold_free (GoldRun *g)
{
  for (int k = 0; k < GOLD_N; k++)
    gv_image_free (g->rgb[k]);
}

static double
gold_time (GvBackend *be, const GvParams *p, const GoldRun *g, int reps, GvDefectReport **out)
{
  double best = -1;
  for (int r = 0; r <= reps; r++)
    {
      GvDefectReport *rep = NULL;
      double t0 = gv_monotonic_seconds ();
      if (gv_defects_analyze (be, g->in, GOLD_N, p->cover.out_width, p->cover.out_height,
                              p->cover.width_mm, p->cover.height_mm, p->threads, NULL, NULL,
                              &rep) != GV_OK)
        return -1;
      double dt = 1e3 * (gv_monotonic_seconds () - t0);
      if (r > 0 && (best < 0 || dt < best))
        best = dt;
      gv_defect_report_free (*out);
      *out = rep;
    }
  return best;
}

static int
gold_same (const GvDefectReport *a, const GvDefectReport *b)
{
  if (!a || !b || a->n_defects != b->n_defects || a->n_covers != b->n_covers
      || gv_image_compare (a->score, b->score) || gv_image_compare (a->mask, b->mask)
      || gv_image_compare (a->print, b->print))
    return 0;
  for (int i = 0; i < a->n_defects; i++)
    if (a->defects[i].kind != b->defects[i].kind || a->defects[i].area_px != b->defects[i].area_px
        || a->defects[i].severity != b->defects[i].severity)
      return 0;
  for (int i = 0; i < a->n_covers && i < 8; i++)
    if (a->align_dx[i] != b->align_dx[i] || a->align_dy[i] != b->align_dy[i])
      return 0;
  return 1;
}

static void
cpu_stages (GvImage **gray, int n, const GvParams *p, int threads, double budget)
{
  int aw, ah, W = gray[0]->width, H = gray[0]->height;
  GvImage *small[NDISTINCT] = { 0 }, *flow;
  GvFlowPyramid *pyr[NDISTINCT] = { 0 };
  double t, vf, vr, mean, mx;
  GvQuad roi = { { W * 0.3, W * 0.7, W * 0.7, W * 0.3 }, { H * 0.1, H * 0.1, H * 0.9, H * 0.9 } };
  int reps;

  gv_analysis_dims (W, H, p->analysis_size, &aw, &ah);
  flow = gv_image_new (aw, ah, 2, GV_F32);
  for (int i = 0; i < NDISTINCT; i++)
    small[i] = gv_image_new (aw, ah, 1, GV_U8);
  reps = n < NDISTINCT ? NDISTINCT : n;
#define TIMED(label, body)                                                                       \
  do                                                                                             \
    {                                                                                            \
      int k_ = 0;                                                                                \
      double t0_ = gv_monotonic_seconds ();                                                      \
      for (; k_ < reps; k_++)                                                                    \
        {                                                                                        \
          int i = k_ % NDISTINCT;                                                                \
          (void) i;                                                                              \
          body;                                                                                  \
          if (gv_monotonic_seconds () - t0_ > budget)                                            \
            {                                                                                    \
              k_++;                                                                              \
              break;                                                                             \
            }                                                                                    \
        }                                                                                        \
      t = gv_monotonic_seconds () - t0_;                                                         \
      say ("  cpu  %-34s %9.2f ms/frame %9.1f frames/s\n", label, 1e3 * t / k_, k_ / t);        \
    }                                                                                            \
  while (0)
  TIMED ("area resize", gv_resize_area_u8 (gray[i], small[i], threads));
  TIMED ("pyramid + polynomial expansion", {
    gv_flow_pyramid_free (pyr[i]);
    pyr[i] = gv_flow_pyramid_new (small[i], &p->flow, threads);
  });
  TIMED ("sharpness (Laplacian sums, +roi)",
         gv_sharpness_laplacian_var2 (gray[i], &roi, threads, &vf, &vr));
  TIMED ("Farneback flow", {
    if (pyr[i] && pyr[(i + 1) % NDISTINCT])
      gv_flow_farneback_pyr (pyr[i], pyr[(i + 1) % NDISTINCT], &p->flow, threads, flow);
  });
  TIMED ("motion statistics", gv_flow_magnitude_stats_xy (flow, NULL, 3.0, 3.0, threads, &mean, &mx));
#undef TIMED
  for (int i = 0; i < NDISTINCT; i++)
    {
      gv_image_free (small[i]);
      gv_flow_pyramid_free (pyr[i]);
    }
  gv_image_free (flow);
}

int
main (int argc, char **argv)
{
  int n = 600, W = 1920, H = 1080;
  double budget = 20.0;
  GvSynthParams sp;
  GvSynth *syn;
  GvImage *gray[NDISTINCT], *rgb;
  GvSynthTruth truth;
  GvParams p;
  GvBackend *cpu = NULL, *cuda = NULL;
  char why[256] = "";
  const char *y4m = NULL;

  for (int i = 1; i < argc; i++)
    {
      if (!strcmp (argv[i], "--y4m") && i + 1 < argc)
        y4m = argv[++i];
      else if (!strcmp (argv[i], "--frames") && i + 1 < argc)
        n = atoi (argv[++i]);
      else if (!strcmp (argv[i], "--seconds") && i + 1 < argc)
        budget = atof (argv[++i]);
      else if (!strcmp (argv[i], "--summary") && i + 1 < argc)
        summary = fopen (argv[++i], "w");
      else
        {
          fprintf (stderr, "usage: gv-device-bench [--frames N] [--seconds S] [--summary FILE] "
                   "[--y4m FILE]\n");
          return 2;
        }
    }
  syn = NULL;
  if (y4m)
    {
      GvY4m *yr = NULL;
      GvImage view;
      int idx, got = 0;
      double pts;
      if (gv_y4m_open (y4m, &yr) != GV_OK)
        {
          fprintf (stderr, "gv-device-bench: %s\n", gv_error_message ());
          return 2;
        }
      W = gv_y4m_info (yr)->width;
      H = gv_y4m_info (yr)->height;
      for (; got < NDISTINCT && gv_y4m_next (yr, &view, &idx, &pts) == 1; got++)
        gray[got] = gv_image_copy (&view);
      rgb = got ? gv_y4m_to_rgb (yr) : NULL;
      for (int i = got; i < NDISTINCT && got > 0; i++)
        gray[i] = gv_image_copy (gray[i % got]);
      gv_y4m_free (yr);
      if (!got || !rgb)
        {
          fprintf (stderr, "gv-device-bench: %s has no frames\n", y4m);
          return 2;
        }
    }
  else
    {
      gv_synth_params_init_default (&sp);
      sp.width = W;
      sp.height = H;
      sp.n_frames = NDISTINCT;
      syn = gv_synth_new (&sp);
      rgb = gv_image_new (W, H, 3, GV_U8);
      if (!syn || !rgb)
        {
          fprintf (stderr, "gv-device-bench: %s\n", gv_error_message ());
          return 2;
        }
      for (int i = 0; i < NDISTINCT; i++)
        {
          gray[i] = gv_image_new (W, H, 1, GV_U8);
          if (!gray[i] || gv_synth_render (syn, i, rgb, &truth, 0) != GV_OK)
            return 2;
          gv_image_rgb_to_gray (rgb, gray[i]);
        }
    }
  gv_params_init_default (&p);
  p.threads = gv_threads_default ();
  GvQuad roi = { { W * 0.3, W * 0.7, W * 0.7, W * 0.3 }, { H * 0.1, H * 0.1, H * 0.9, H * 0.9 } };
  say ("benchmark: %dx%d %s frames, analysis size %d, Farneback levels %d winsize %d "
       "iterations %d, budget %.0f s per measurement\n", W, H, y4m ? y4m : "synthetic",
       p.analysis_size, p.flow.levels, p.flow.winsize, p.flow.iterations, budget);

  say ("\nCPU stages (%d threads):\n", p.threads);
  cpu_stages (gray, n, &p, p.threads, budget / 5);
  if (gv_backend_cpu_new (&p, &cpu) != GV_OK)
    return 2;
  double fc = run_backend (cpu, gray, n, &roi, budget);
  say ("  cpu  %-34s %9.2f ms/frame %9.1f frames/s\n", "frame analysis (load + measure)",
       1e3 / fc, fc);

  MapsRun maps_cpu, maps_dev;
  double mc = -1;
  if (maps_alloc (&maps_cpu))
    {
      mc = maps_time (NULL, p.threads, &maps_cpu, 2);
      say ("  cpu  %-34s %9.2f ms/run (%d covers of %dx%d)\n", "stage 4 maps", mc, MAPS_N, MAPS_W,
           MAPS_H);
    }
  else
    say ("  cpu  stage 4 maps: out of memory\n");
  GoldRun gold;
  GvDefectReport *gold_cpu = NULL, *gold_dev = NULL;
  double gc = -1;
  if (syn && gold_init (&gold, syn, W, H))
    {
      gc = gold_time (cpu, &p, &gold, 2, &gold_cpu);
      if (gc >= 0)
        say ("  cpu  %-34s %9.2f ms/run (%d golden frames of %dx%d, %d covers, %d defects)\n",
             "stage 4 whole (defect analysis)", gc, GOLD_N, W, H, gold_cpu->n_covers,
             gold_cpu->n_defects);
      else
        say ("  cpu  stage 4 whole failed: %s\n", gv_error_message ());
    }

  if (!gv_backend_cuda_available (why, sizeof why) || gv_backend_cuda_new (&p, &cuda) != GV_OK)
    {
      maps_free (&maps_cpu);
      if (syn)
        gold_free (&gold);
      gv_defect_report_free (gold_cpu);
      say ("\nCUDA: skipped, no CUDA device: %s\n", why[0] ? why : gv_error_message ());
      gv_backend_free (cpu);
      if (summary)
        fclose (summary);
      return 0;
    }
  say ("\nGPU: %s\n", cuda->device);
  double fg = run_backend (cuda, gray, n, &roi, budget);
  say ("  gpu  %-34s %9.3f ms/frame %9.1f frames/s\n", "frame analysis (load + measure)",
       1e3 / fg, fg);
  say ("  speed-up over the CPU backend on %d threads: %.1fx\n", p.threads, fg / fc);
  int same = 0;
  double fo = run_overlap (cuda, gray, n, &roi, budget, &same);
  if (fo > 0)
    {
      say ("  gpu  %-34s %9.3f ms/frame %9.1f frames/s\n", "frame analysis, upload overlapped",
           1e3 / fo, fo);
      say ("  (measure in two halves, the next frame's upload beside it: %.2fx plain load + "
           "measure; same metrics: %s)\n", fo / fg, same ? "yes" : "NO");
    }
  else
    say ("  gpu  frame analysis with the upload overlapped failed: %s\n", gv_error_message ());
  double fk = run_kept (cuda, gray, n, &roi, budget, &same);
  if (fk > 0)
    {
      say ("  gpu  %-34s %9.3f ms/frame %9.1f frames/s\n", "analysis, luma already on device",
           1e3 / fk, fk);
      say ("  speed-up (device-resident) over the CPU backend on %d threads: %.1fx\n", p.threads,
           fk / fc);
      say ("  device-resident path gives the upload path's metrics: %s\n", same ? "yes" : "NO");
    }
  else
    say ("  gpu  analysis from kept frames failed: %s\n", gv_error_message ());

  /* stage breakdown: waits at each boundary */
  double ph[GV_PH_COUNT];
  int nst = n < 200 ? n : 200;
  gv_cuda_engine_set_timing (cuda, 1);
  run_backend (cuda, gray, nst, &roi, budget / 4);
  GvImage *cover = gv_image_new (1060, 1640, 3, GV_U8);
  double Hm[9] = { 0.9, 0.12, 400, -0.05, 1.1, 60, 1e-5, 2e-5, 1.0 };
  for (int i = 0; i < 20; i++)
    cuda->ops->warp (cuda, rgb, Hm, cover);
  gv_cuda_engine_phase_seconds (cuda, ph);
  say ("  gpu stages (launches one by one, a device wait at each boundary, %d frames + 3 "
       "warm-up):\n", nst);
  for (int k = 0; k < GV_PH_COUNT; k++)
    say ("  gpu  %-34s %9.3f ms/%s\n", gv_cuda_phase_name (k),
         1e3 * ph[k] / (k == GV_PH_WARP ? 20 : nst + 3), k == GV_PH_WARP ? "warp" : "frame");
  /* the stages' sum without the upload: each launch issued alone, with waits */
  double dev = 0.0;
  for (int k = GV_PH_RESIZE; k <= GV_PH_STATS; k++)
    dev += ph[k];
  double fdev = dev > 0 ? (nst + 3) / dev : 0.0;
  say ("  gpu  %-34s %9.3f ms/frame %9.1f frames/s\n", "sum of the stages above but upload",
       1e3 / fdev, fdev);
  double t0 = gv_monotonic_seconds ();
  for (int i = 0; i < 5; i++)
    cpu->ops->warp (cpu, rgb, Hm, cover);
  say ("  cpu  %-34s %9.3f ms/warp\n", "warp 1060x1640", 1e3 * (gv_monotonic_seconds () - t0) / 5);
  if (mc >= 0 && maps_alloc (&maps_dev))
    {
      double md = maps_time (cuda, 1, &maps_dev, 5);
      if (md >= 0)
        say ("  gpu  %-34s %9.2f ms/run (upload, launches, download), %.1fx the CPU; same "
             "bytes as the CPU: %s\n", "stage 4 maps", md, mc / md,
             maps_same (&maps_cpu, &maps_dev) ? "yes" : "NO");
      else
        say ("  gpu  stage 4 maps failed: %s\n", gv_error_message ());
    }
  maps_free (&maps_dev);
  maps_free (&maps_cpu);
  if (gc >= 0)
    {
      double gd = gold_time (cuda, &p, &gold, 5, &gold_dev);
      if (gd >= 0)
        say ("  gpu  %-34s %9.2f ms/run, %.1fx the CPU; same report as the CPU: %s\n",
             "stage 4 whole (defect analysis)", gd, gc / gd,
             gold_same (gold_cpu, gold_dev) ? "yes" : "NO");
      else
        say ("  gpu  stage 4 whole failed: %s\n", gv_error_message ());
    }
  if (syn)
    gold_free (&gold);
  gv_defect_report_free (gold_cpu);
  gv_defect_report_free (gold_dev);
  long counts[GV_K_COUNT];
  if (gv_cuda_engine_launch_counts (cuda, counts))
    {
      long tot = 0;
      for (int k = 0; k < GV_K_COUNT; k++)
        tot += counts[k];
      say ("  kernel launches so far: %ld\n", tot);
    }
  double best = fk > fg ? fk : fg;
  say ("\ntarget (issue 4): >= 1000 frames/s from device-resident luma and >= 10x the CPU "
       "backend: %s (%.0f frames/s, %.1fx)\n", best >= 1000 && best >= 10 * fc ? "MET" : "NOT MET",
       best, best / fc);
  gv_image_free (cover);
  gv_backend_free (cpu);
  gv_backend_free (cuda);
  for (int i = 0; i < NDISTINCT; i++)
    gv_image_free (gray[i]);
  gv_image_free (rgb);
  gv_synth_free (syn);
  if (summary)
    fclose (summary);
  return 0;
}
