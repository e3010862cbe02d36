/* test-grid.c: the CUDA backend without a device. The launch geometry of every kernel covers
 * its domain exactly once; the row reductions' tree adds every partial once; and the device
 * path (gv-cuda-engine.c's plan and launch order, the kernel bodies of gv-cuda-grid.h, the
 * shared per-pixel code) run on the CPU emulator gives the CPU backend's results bit for bit:
 * analysis images, sharpness, flow fields and motion, warps, and whole pipeline runs; and
 * stage 4's per-pixel maps (print estimate, glare, line and stain evidence) on synthetic covers
 * against gv-defects.c's row loops.
 * The Y4M reader (core/vision/gv-y4m.c) is tested here too, as the GPU machine's input.
 * The same comparisons against the real CUDA backend skip with "no CUDA device" where there is
 * none (tolerance: none; the contract's 1e-4 is the validate command's bound, the aim and what
 * we test for is identical bits). */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gv-backend.h"
#include "gv-cuda-compare.h"
#include "gv-cuda-engine.h"
#include "gv-cuda-grid.h"
#include "gv-defect-maps.h"
#include "gv-error.h"
#include "gv-flow.h"
#include "gv-pipeline.h"
#include "gv-synth.h"
#include "gv-y4m.h"

#include "device/gv-defect-covers.h"

/* ---- Geometry --------------------------------------------------------------------------- */

static void
test_coverage (void)
{
  static const int sizes[][2] = {
    { 1, 1 }, { 7, 3 }, { 31, 9 }, { 32, 8 }, { 33, 17 }, { 129, 1 }, { 257, 5 }, { 640, 360 },
    { 660, 1800 }, { 1920, 1080 },
  };

  for (int id = 0; id < GV_K_COUNT; id++)
    for (size_t s = 0; s < G_N_ELEMENTS (sizes); s++)
      {
        int w = sizes[s][0], h = sizes[s][1];
        GvLaunch l = gv_launch_for (id, w, h);
        int *visits = g_new0 (int, (size_t) w * h);
        g_assert_cmpint (l.gx * l.bx, >=, l.row_block ? 1 : w);
        g_assert_cmpint (l.gy * (l.row_block ? 1 : l.by), >=, h);
        g_assert_cmpint (l.bx * l.by, <=, 1024); /* CUDA's threads per block */
        g_assert_cmpint (l.gy, <=, 65535);
        g_assert_cmpint (gv_cuda_emulate (id, NULL, &l, visits), ==, GV_OK);
        for (size_t i = 0; i < (size_t) w * h; i++)
          if (visits[i] != 1)
            g_error ("kernel %d on %dx%d: element (%zu, %zu) visited %d times", id, w, h, i % w,
                     i / w, visits[i]);
        g_free (visits);
      }
}

static void
test_reduction_tree (void)
{
  enum { NT = GV_ROW_THREADS };
  long long *s = g_new (long long, 6 * NT);
  GRand *rnd = g_rand_new_with_seed (7);
  long long want[6] = { 0 };

  for (int k = 0; k < 6; k++)
    for (int t = 0; t < NT; t++)
      {
        /* distinct powers-of-two marks would overflow; large random values check the adds */
        long long v = ((long long) g_rand_int (rnd) << 20) ^ g_rand_int (rnd);
        s[k * NT + t] = v;
        want[k] += v;
      }
  for (int half = NT / 2; half > 0; half /= 2)
    for (int t = 0; t < NT; t++)
      gv_k_tree_step (s, NT, t, half);
  for (int k = 0; k < 6; k++)
    g_assert_cmpint (s[k * NT], ==, want[k]);
  g_free (s);
  g_rand_free (rnd);
}

/* ---- Backends side by side ---------------------------------------------------------------- */

typedef int (*BackendNew) (const GvParams *p, GvBackend **out);

static void
assert_same_double (double a, double b, const char *what, int frame)
{
  if (memcmp (&a, &b, sizeof a) != 0)
    g_error ("%s differs at frame %d: %.17g vs %.17g", what, frame, a, b);
}

static void
assert_same_image (const GvImage *a, const GvImage *b, const char *what, int frame)
{
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_true (gv_image_same_shape (a, b));
  if (gv_image_compare (a, b) != 0)
    {
      size_t row = (size_t) a->width * a->channels * (a->depth == GV_F32 ? 4 : 1);
      for (int y = 0; y < a->height; y++)
        if (memcmp ((char *) a->data + y * a->stride, (char *) b->data + y * b->stride, row))
          g_error ("%s differs at frame %d, first in row %d", what, frame, y);
    }
}

/* Measures the loaded frame on both backends and compares every output bit for bit. */
static void
measure_same (GvBackend *a, GvBackend *b, const GvQuad *q, int i)
{
  GvFrameMetrics ma, mb;
  g_assert_cmpint (a->ops->measure (a, q, &ma), ==, GV_OK);
  g_assert_cmpint (b->ops->measure (b, q, &mb), ==, GV_OK);
  assert_same_double (ma.sharpness, mb.sharpness, "sharpness", i);
  assert_same_double (ma.sharpness_frame, mb.sharpness_frame, "sharpness (frame)", i);
  assert_same_double (ma.motion, mb.motion, "motion", i);
  assert_same_double (ma.motion_frame, mb.motion_frame, "motion (frame)", i);
  assert_same_double (ma.motion_max, mb.motion_max, "motion max", i);
  g_assert_cmpint (ma.roi_used, ==, mb.roi_used);
  if (i > 0)
    assert_same_image (a->ops->last_flow (a), b->ops->last_flow (b), "flow", i);
}

/* Renders n gray frames of a synthetic scan. */
static GvImage **
render_frames (int w, int h, int n, unsigned seed, GvImage **rgb_out)
{
  GvSynthParams sp;
  GvSynth *syn;
  GvImage **f = g_new0 (GvImage *, n);
  GvImage *rgb = gv_image_new (w, h, 3, GV_U8);
  GvSynthTruth t;

  gv_synth_params_init_default (&sp);
  sp.width = w;
  sp.height = h;
  sp.n_frames = n;
  sp.seed = seed;
  syn = gv_synth_new (&sp);
  g_assert_nonnull (syn);
  for (int i = 0; i < n; i++)
    {
      g_assert_cmpint (gv_synth_render (syn, i, rgb, &t, 0), ==, GV_OK);
      f[i] = gv_image_new (w, h, 1, GV_U8);
      gv_image_rgb_to_gray (rgb, f[i]);
    }
  if (rgb_out)
    *rgb_out = rgb;
  else
    gv_image_free (rgb);
  gv_synth_free (syn);
  return f;
}

/* Loads and measures the same frames on both backends (with and without a roi) and compares
 * every output bit for bit; then a warp. */
static void
compare_backends (BackendNew make_b, int w, int h, int analysis_size, int n, int winsize)
{
  GvParams p;
  GvBackend *a = NULL, *b = NULL;
  GvImage *rgb = NULL;
  GvImage **f = render_frames (w, h, n, 5, &rgb);
  GvQuad roi = { { w * 0.2, w * 0.8, w * 0.75, w * 0.25 }, { h * 0.1, h * 0.15, h * 0.9, h * 0.85 } };

  gv_params_init_default (&p);
  p.threads = 3;
  p.analysis_size = analysis_size;
  p.flow.winsize = winsize;
  g_assert_cmpint (gv_backend_cpu_new (&p, &a), ==, GV_OK);
  g_assert_cmpint (make_b (&p, &b), ==, GV_OK);
  for (int i = 0; i < n; i++)
    {
      const GvQuad *q = i % 2 ? &roi : NULL;
      g_assert_cmpint (a->ops->load (a, f[i]), ==, GV_OK);
      g_assert_cmpint (b->ops->load (b, f[i]), ==, GV_OK);
      assert_same_image (a->ops->analysis_image (a), b->ops->analysis_image (b), "analysis image", i);
      measure_same (a, b, q, i);
      if (i == 0)
        g_assert_null (b->ops->last_flow (b));
    }
  /* a perspective warp of the colour frame onto a small canonical cover */
  double H[9] = { 0.9, 0.12, w * 0.1, -0.05, 1.1, h * 0.05, 1e-4, 2e-4, 1.0 };
  GvImage *da = gv_image_new (131, 197, 3, GV_U8), *db = gv_image_new (131, 197, 3, GV_U8);
  g_assert_cmpint (a->ops->warp (a, rgb, H, da), ==, GV_OK);
  g_assert_cmpint (b->ops->warp (b, rgb, H, db), ==, GV_OK);
  assert_same_image (da, db, "warp", 0);
  gv_image_free (da);
  gv_image_free (db);
  gv_backend_free (a);
  gv_backend_free (b);
  for (int i = 0; i < n; i++)
    gv_image_free (f[i]);
  g_free (f);
  gv_image_free (rgb);
}

static void
test_emulated_integer_ratio (void)
{
  /* 480x270 -> 160x90: resizeAreaFast; 3 pyramid levels */
  compare_backends (gv_backend_emulated_new, 480, 270, 160, 4, 15);
}

static void
test_emulated_fractional_ratio (void)
{
  /* 300x200 -> 170x113: resizeArea_ weights; odd sizes; a wide window */
  compare_backends (gv_backend_emulated_new, 300, 200, 170, 3, 21);
}

static void
test_emulated_full_resolution (void)
{
  /* analysis = input: the level-0 "blur only" path, no resize */
  compare_backends (gv_backend_emulated_new, 97, 75, 0, 3, 9);
  /* rows longer than GV_MAG_CHUNK: the |flow| sums staged in several chunks */
  compare_backends (gv_backend_emulated_new, 1300, 100, 0, 2, 7);
}

/* ---- Whole pipeline ------------------------------------------------------------------------ */

typedef struct {
  GvImage **frames;
  GvImage *rgb;
  GvSynth *synth;
  int n, next;
} MemFeed;

static int
mf_next (void *ud, GvImage *luma, int *index, double *pts)
{
  MemFeed *m = ud;
  if (m->next >= m->n)
    return 0;
  *luma = *m->frames[m->next];
  luma->owns_data = 0;
  *index = m->next;
  *pts = m->next / 30.0;
  m->next++;
  return 1;
}

static void *
mf_keep (void *ud)
{
  return GINT_TO_POINTER (((MemFeed *) ud)->next);
}

static GvImage *
mf_to_rgb (void *ud, void *kept)
{
  MemFeed *m = ud;
  const GvSynthParams *sp = gv_synth_params (m->synth);
  GvImage *rgb = gv_image_new (sp->width, sp->height, 3, GV_U8);
  GvSynthTruth t;
  if (rgb && gv_synth_render (m->synth, GPOINTER_TO_INT (kept) - 1, rgb, &t, 0) != GV_OK)
    {
      gv_image_free (rgb);
      return NULL;
    }
  return rgb;
}

static void
mf_release (void *ud, void *kept)
{
}

static GvResult *
run_on (GvBackend *be, const GvParams *p, MemFeed *m)
{
  GvFrameFeed feed = { m, m->n, mf_next, mf_keep, mf_to_rgb, mf_release, NULL, NULL };
  GvResult *r = NULL;
  m->next = 0;
  if (gv_pipeline_run (be, p, &feed, NULL, &r) != GV_OK)
    g_error ("pipeline on %s failed: %s", be->ops->name, gv_error_message ());
  return r;
}

static void
compare_pipelines (BackendNew make_b, int w, int h, int analysis_size, int n)
{
  GvSynthParams sp;
  MemFeed m = { 0 };
  GvParams p;
  GvBackend *a = NULL, *b = NULL;

  gv_synth_params_init_default (&sp);
  sp.width = w;
  sp.height = h;
  sp.n_frames = n;
  sp.seed = 3;
  m.synth = gv_synth_new (&sp);
  m.frames = render_frames (w, h, n, 3, NULL);
  m.n = n;
  gv_params_init_default (&p);
  p.threads = 2;
  p.analysis_size = analysis_size;
  p.max_golden = 2;
  p.min_gap = 2;
  g_assert_cmpint (gv_backend_cpu_new (&p, &a), ==, GV_OK);
  g_assert_cmpint (make_b (&p, &b), ==, GV_OK);
  GvResult *ra = run_on (a, &p, &m), *rb = run_on (b, &p, &m);
  g_assert_cmpint (ra->n_frames, ==, rb->n_frames);
  for (int i = 0; i < ra->n_frames; i++)
    {
      const GvFrameRecord *fa = &ra->frames[i], *fb = &rb->frames[i];
      assert_same_double (fa->sharpness, fb->sharpness, "sharpness", i);
      assert_same_double (fa->motion, fb->motion, "motion", i);
      assert_same_double (fa->motion_next, fb->motion_next, "motion to next", i);
      assert_same_double (fa->motion_gate, fb->motion_gate, "motion gate", i);
      g_assert_cmpint (fa->candidate, ==, fb->candidate);
      g_assert_cmpint (fa->cover_found, ==, fb->cover_found);
      g_assert_true (memcmp (&fa->cover, &fb->cover, sizeof fa->cover) == 0);
    }
  g_assert_cmpint (ra->n_golden, ==, rb->n_golden);
  for (int i = 0; i < ra->n_golden; i++)
    {
      g_assert_cmpint (ra->golden[i].frame_index, ==, rb->golden[i].frame_index);
      g_assert_true (memcmp (&ra->golden[i].cover.quad, &rb->golden[i].cover.quad,
                             sizeof ra->golden[i].cover.quad) == 0);
      g_assert_true ((ra->golden[i].warped == NULL) == (rb->golden[i].warped == NULL));
      if (ra->golden[i].warped)
        assert_same_image (ra->golden[i].warped, rb->golden[i].warped, "warped cover", i);
    }
  int covers = 0, warped = 0;
  for (int i = 0; i < ra->n_frames; i++)
    covers += ra->frames[i].cover_found;
  for (int i = 0; i < ra->n_golden; i++)
    warped += ra->golden[i].warped != NULL;
  g_test_message ("%d frames, %d golden (%d warped), %d with a cover", ra->n_frames, ra->n_golden,
                  warped, covers);
  /* and everything the two runs share, stage 4's report included (the parity contract of
   * `gvscan validate`; the emulated device path must meet it exactly) */
  {
    GvCompareReport cr;
    gv_compare_init (&cr);
    gv_compare_results (&cr, ra, rb);
    gv_compare_finish (&cr);
    if (!cr.pass || cr.n_rows == 0)
      {
        gv_compare_print (&cr, stderr);
        g_error ("%s backend outside the parity contract", b->ops->name);
      }
    for (int i = 0; i < cr.n_rows; i++)
      if (cr.rows[i].n_differing)
        g_error ("%s: %ld values differ", cr.rows[i].name, cr.rows[i].n_differing);
    g_assert_true ((ra->defects == NULL) == (rb->defects == NULL));
    if (ra->defects)
      g_test_message ("stage 4: %d covers, %d defects, grade %.1f, on both", ra->defects->n_covers,
                      ra->defects->n_defects, ra->defects->grade.grade_estimate);
  }
  gv_result_free (ra);
  gv_result_free (rb);
  gv_backend_free (a);
  gv_backend_free (b);
  for (int i = 0; i < n; i++)
    gv_image_free (m.frames[i]);
  g_free (m.frames);
  gv_synth_free (m.synth);
}

/* ---- measure in two halves ---------------------------------------------------------------- */

/* A backend that passes every call to `inner` and notes whether a measure is pending (between
 * measure_begin and measure_end); a feed that notes, at each next(), whether one is. */
typedef struct {
  GvBackend base;
  GvBackend *inner;
  GvBackendOps ops;
} SplitSpy;

static int spy_pending, spy_next_calls, spy_next_during, spy_prefetch_calls,
  spy_prefetch_during;

static int
spy_load (GvBackend *be, const GvImage *luma)
{
  SplitSpy *s = (SplitSpy *) be;
  return s->inner->ops->load (s->inner, luma);
}

static const GvImage *
spy_analysis_image (GvBackend *be)
{
  SplitSpy *s = (SplitSpy *) be;
  return s->inner->ops->analysis_image (s->inner);
}

static int
spy_measure (GvBackend *be, const GvQuad *roi, GvFrameMetrics *out)
{
  SplitSpy *s = (SplitSpy *) be;
  return s->inner->ops->measure (s->inner, roi, out);
}

static int
spy_measure_begin (GvBackend *be, const GvQuad *roi)
{
  SplitSpy *s = (SplitSpy *) be;
  int rc = s->inner->ops->measure_begin (s->inner, roi);
  spy_pending = rc == GV_OK;
  return rc;
}

static int
spy_measure_end (GvBackend *be, GvFrameMetrics *out)
{
  SplitSpy *s = (SplitSpy *) be;
  spy_pending = 0;
  return s->inner->ops->measure_end (s->inner, out);
}

static int
spy_prefetch (GvBackend *be, const GvImage *luma)
{
  SplitSpy *s = (SplitSpy *) be;
  spy_prefetch_calls++;
  spy_prefetch_during += spy_pending;
  return s->inner->ops->prefetch (s->inner, luma);
}

static const GvImage *
spy_last_flow (GvBackend *be)
{
  SplitSpy *s = (SplitSpy *) be;
  return s->inner->ops->last_flow (s->inner);
}

static int
spy_warp (GvBackend *be, const GvImage *rgb, const double H[9], GvImage *dst)
{
  SplitSpy *s = (SplitSpy *) be;
  return s->inner->ops->warp (s->inner, rgb, H, dst);
}

static void
spy_reset (GvBackend *be)
{
  SplitSpy *s = (SplitSpy *) be;
  s->inner->ops->reset (s->inner);
}

static void
spy_free (GvBackend *be)
{
  SplitSpy *s = (SplitSpy *) be;
  gv_backend_free (s->inner);
  g_free (s);
}

static GvBackend *
spy_new (GvBackend *inner)
{
  SplitSpy *s = g_new0 (SplitSpy, 1);
  s->inner = inner;
  s->ops = (GvBackendOps) { "spy", spy_load, spy_analysis_image, spy_measure, spy_last_flow,
                            spy_warp, spy_reset, spy_free, NULL,
                            inner->ops->measure_begin ? spy_measure_begin : NULL,
                            inner->ops->measure_end ? spy_measure_end : NULL,
                            inner->ops->prefetch ? spy_prefetch : NULL };
  s->base = *inner;
  s->base.ops = &s->ops;
  return &s->base;
}

static int
spy_next (void *ud, GvImage *luma, int *index, double *pts)
{
  spy_next_calls++;
  spy_next_during += spy_pending;
  return mf_next (ud, luma, index, pts);
}

/* The device's measure in two halves gives what measure gives, bit for bit, and refuses misuse
 * (an end without a begin; a load between them drops the begun measure). In the pipeline the
 * next frame is decoded while the device measures (every next() but the first comes between a
 * measure_begin and its measure_end), and the results equal the CPU backend's, which measures
 * in one call (never between). */
static void
test_emulated_split_measure (void)
{
  enum { W = 480, H = 270, N = 8 };
  GvParams p;
  GvBackend *a = NULL, *b = NULL;
  GvImage **f = render_frames (W, H, N, 9, NULL);
  GvQuad q = { { 60, 420, 440, 40 }, { 30, 20, 250, 240 } };

  gv_params_init_default (&p);
  p.threads = 2;
  p.analysis_size = 160;
  g_assert_cmpint (gv_backend_emulated_new (&p, &a), ==, GV_OK);
  g_assert_cmpint (gv_backend_emulated_new (&p, &b), ==, GV_OK);
  g_assert_nonnull (b->ops->measure_begin);
  g_assert_nonnull (b->ops->measure_end);
  for (int i = 0; i < N; i++)
    {
      GvFrameMetrics ma, mb;
      const GvQuad *roi = i % 2 ? &q : NULL;
      g_assert_cmpint (a->ops->load (a, f[i]), ==, GV_OK);
      g_assert_cmpint (b->ops->load (b, f[i]), ==, GV_OK);
      g_assert_cmpint (a->ops->measure (a, roi, &ma), ==, GV_OK);
      g_assert_cmpint (b->ops->measure_begin (b, roi), ==, GV_OK);
      g_assert_cmpint (b->ops->measure_end (b, &mb), ==, GV_OK);
      g_assert_cmpmem (&ma, sizeof ma, &mb, sizeof mb);
      if (i > 0)
        assert_same_image (a->ops->last_flow (a), b->ops->last_flow (b), "flow", i);
    }
  GvFrameMetrics m;
  g_assert_cmpint (b->ops->measure_end (b, &m), ==, GV_EINVAL); /* already ended */
  g_assert_cmpint (b->ops->measure_begin (b, NULL), ==, GV_OK);
  g_assert_cmpint (b->ops->load (b, f[0]), ==, GV_OK);
  g_assert_cmpint (b->ops->measure_end (b, &m), ==, GV_EINVAL); /* a load came between */
  gv_backend_free (a);
  gv_backend_free (b);

  /* The next frame's upload beside the measure (prefetch, on the emulator's side queue, which
   * makes the copy only at the join: a load that used the buffer without joining would see the
   * frame before). Bit for bit what load + measure give; a prefetched image is not uploaded
   * again (its pixels changed after the prefetch do not reach the device, which is why they may
   * not change); a load of another image, a reset or another size drops the prefetch. */
  g_assert_cmpint (gv_backend_emulated_new (&p, &a), ==, GV_OK);
  g_assert_cmpint (gv_backend_emulated_new (&p, &b), ==, GV_OK);
  g_assert_nonnull (b->ops->prefetch);
  GvImage *g = gv_image_copy (f[3]);
  for (int i = 0; i < N; i++)
    {
      GvFrameMetrics ma, mb;
      const GvQuad *roi = i % 2 ? &q : NULL;
      g_assert_cmpint (a->ops->load (a, f[i]), ==, GV_OK);
      g_assert_cmpint (a->ops->measure (a, roi, &ma), ==, GV_OK);
      if (i == 0)
        g_assert_cmpint (b->ops->load (b, f[0]), ==, GV_OK);
      else if (i == 3)
        {
          /* g was prefetched with f[3]'s pixels; they change before the load */
          memset (g->data, 0x80, (size_t) g->stride * H);
          g_assert_cmpint (b->ops->load (b, g), ==, GV_OK);
        }
      else if (i == 5)
        g_assert_cmpint (b->ops->load (b, f[5]), ==, GV_OK); /* f[6] was prefetched */
      else
        g_assert_cmpint (b->ops->load (b, f[i]), ==, GV_OK);
      g_assert_cmpint (b->ops->measure_begin (b, roi), ==, GV_OK);
      if (i + 1 < N)
        g_assert_cmpint (b->ops->prefetch (b, i == 2 ? g : i == 4 ? f[6] : f[i + 1]), ==, GV_OK);
      g_assert_cmpint (b->ops->measure_end (b, &mb), ==, GV_OK);
      g_assert_cmpmem (&ma, sizeof ma, &mb, sizeof mb);
      if (i > 0)
        assert_same_image (a->ops->last_flow (a), b->ops->last_flow (b), "flow", i);
      assert_same_image (a->ops->analysis_image (a), b->ops->analysis_image (b), "analysis image",
                         i);
    }
  /* dropped by a reset, and by a frame of another size */
  GvImage *other = gv_image_new (W / 2, H / 2, 1, GV_U8);
  GvFrameMetrics m1, m2;
  g_assert_cmpint (b->ops->prefetch (b, f[1]), ==, GV_OK);
  b->ops->reset (b);
  a->ops->reset (a);
  g_assert_cmpint (b->ops->prefetch (b, other), ==, GV_OK); /* another size: left for load */
  g_assert_cmpint (b->ops->load (b, f[2]), ==, GV_OK);
  g_assert_cmpint (a->ops->load (a, f[2]), ==, GV_OK);
  g_assert_cmpint (b->ops->measure (b, NULL, &m2), ==, GV_OK);
  g_assert_cmpint (a->ops->measure (a, NULL, &m1), ==, GV_OK);
  g_assert_cmpmem (&m1, sizeof m1, &m2, sizeof m2);
  g_assert_cmpint (b->ops->prefetch (b, NULL), ==, GV_EINVAL);
  gv_image_free (other);
  gv_image_free (g);
  gv_backend_free (a);
  gv_backend_free (b);

  /* the pipeline, on the CPU backend and through a spy on the emulated device */
  GvSynthParams sp;
  MemFeed mem = { 0 };
  GvResult *r[2];
  gv_synth_params_init_default (&sp);
  sp.width = W, sp.height = H, sp.n_frames = N, sp.seed = 9;
  mem.synth = gv_synth_new (&sp);
  mem.frames = f;
  mem.n = N;
  p.max_golden = 2;
  p.min_gap = 2;
  for (int k = 0; k < 2; k++)
    {
      GvBackend *be = NULL;
      GvFrameFeed feed = { &mem, N, spy_next, mf_keep, mf_to_rgb, mf_release, NULL, NULL };
      g_assert_cmpint (k ? gv_backend_emulated_new (&p, &be) : gv_backend_cpu_new (&p, &be), ==,
                       GV_OK);
      be = spy_new (be);
      spy_pending = spy_next_calls = spy_next_during = 0;
      spy_prefetch_calls = spy_prefetch_during = 0;
      mem.next = 0;
      r[k] = NULL;
      g_assert_cmpint (gv_pipeline_run (be, &p, &feed, NULL, &r[k]), ==, GV_OK);
      g_test_message ("%s: %d next() calls, %d while a measure was pending", k ? "device" : "cpu",
                      spy_next_calls, spy_next_during);
      g_assert_cmpint (spy_next_calls, ==, N + 1);
      g_assert_cmpint (spy_next_during, ==, k ? N : 0);
      /* every frame but the first is uploaded while the device measures the one before */
      g_assert_cmpint (spy_prefetch_calls, ==, k ? N - 1 : 0);
      g_assert_cmpint (spy_prefetch_during, ==, spy_prefetch_calls);
      g_assert_false (spy_pending);
      gv_backend_free (be);
    }
  GvCompareReport cr;
  gv_compare_init (&cr);
  gv_compare_results (&cr, r[0], r[1]);
  gv_compare_finish (&cr);
  g_assert_cmpint (cr.n_rows, >, 0);
  for (int i = 0; i < cr.n_rows; i++)
    if (cr.rows[i].n_differing)
      g_error ("%s: %ld values differ", cr.rows[i].name, cr.rows[i].n_differing);
  g_assert_cmpint (r[0]->n_frames, ==, N);
  g_assert_cmpint (r[1]->n_golden, ==, r[0]->n_golden);
  gv_result_free (r[0]);
  gv_result_free (r[1]);
  for (int i = 0; i < N; i++)
    gv_image_free (f[i]);
  g_free (f);
  gv_synth_free (mem.synth);
}

static void
test_emulated_pipeline (void)
{
  compare_pipelines (gv_backend_emulated_new, 640, 360, 320, 10);
}


/* The device path replays recorded launch sequences (CUDA graphs on a device): a change of frame
 * size mid-stream must drop them, frames kept in device memory must give what uploaded frames
 * give, and the launch counts must be those of launches issued one by one. */
static void
test_emulated_recordings (void)
{
  GvParams p;
  GvBackend *a = NULL, *b = NULL, *c = NULL;
  GvImage **f1 = render_frames (480, 270, 4, 3, NULL), **f2 = render_frames (300, 200, 4, 4, NULL);
  GvQuad roi = { { 100, 380, 360, 120 }, { 30, 40, 240, 230 } };

  gv_params_init_default (&p);
  p.threads = 2;
  p.analysis_size = 160;
  g_assert_cmpint (gv_backend_cpu_new (&p, &a), ==, GV_OK);
  g_assert_cmpint (gv_backend_emulated_new (&p, &b), ==, GV_OK);
  g_assert_cmpint (gv_backend_emulated_new (&p, &c), ==, GV_OK);
  g_assert_cmpint (gv_cuda_engine_set_timing (c, 1), ==, 1); /* c issues launches one by one */
  for (int i = 0; i < 8; i++)
    {
      GvImage *fr = i < 4 ? f1[i] : f2[i - 4]; /* the size changes at frame 4 */
      GvFrameMetrics mc;
      if (i == 4)
        a->ops->reset (a);
      g_assert_cmpint (a->ops->load (a, fr), ==, GV_OK);
      g_assert_cmpint (b->ops->load (b, fr), ==, GV_OK);
      g_assert_cmpint (c->ops->load (c, fr), ==, GV_OK);
      measure_same (a, b, i < 4 ? &roi : NULL, i == 4 ? 0 : i);
      g_assert_cmpint (c->ops->measure (c, i < 4 ? &roi : NULL, &mc), ==, GV_OK);
    }
  long nb[GV_K_COUNT], nc[GV_K_COUNT];
  g_assert_cmpint (gv_cuda_engine_launch_counts (b, nb), ==, 1);
  g_assert_cmpint (gv_cuda_engine_launch_counts (c, nc), ==, 1);
  for (int k = 0; k < GV_K_COUNT; k++)
    g_assert_cmpint (nb[k], ==, nc[k]);
  g_assert_cmpint (nb[GV_K_SOLVE], >, 0);

  /* kept frames: loads without uploads, the same results */
  g_assert_cmpint (gv_cuda_engine_keep_frames (b, f1, 4), ==, GV_OK);
  a->ops->reset (a);
  b->ops->reset (b);
  for (int i = 0; i < 4; i++)
    {
      g_assert_cmpint (a->ops->load (a, f1[i]), ==, GV_OK);
      g_assert_cmpint (gv_cuda_engine_load_kept (b, i), ==, GV_OK);
      assert_same_image (a->ops->analysis_image (a), b->ops->analysis_image (b), "analysis image", i);
      measure_same (a, b, i % 2 ? &roi : NULL, i);
    }
  g_assert_cmpint (gv_cuda_engine_load_kept (b, 4), ==, GV_EINVAL);
  /* an external device luma with a row pitch wider than the frame (the emulator's device
   * memory is host memory): the same results as the upload */
  {
    int w = f2[0]->width, h = f2[0]->height, pitch = w + 24;
    uint8_t *plane = g_malloc0 ((size_t) pitch * h);
    a->ops->reset (a);
    b->ops->reset (b);
    for (int i = 0; i < 3; i++)
      {
        for (int y = 0; y < h; y++)
          memcpy (plane + (size_t) y * pitch, f2[i]->data + (size_t) y * f2[i]->stride, (size_t) w);
        g_assert_cmpint (a->ops->load (a, f2[i]), ==, GV_OK);
        g_assert_cmpint (gv_cuda_engine_load_device (b, plane, (size_t) pitch, w, h), ==, GV_OK);
        measure_same (a, b, NULL, i);
      }
    g_assert_cmpint (gv_cuda_engine_load_device (b, plane, (size_t) w - 1, w, h), ==, GV_EINVAL);
    g_free (plane);
  }
  g_assert_cmpint (gv_cuda_engine_keep_frames (a, f1, 4), ==, GV_EINVAL); /* not a device */
  GvImage *mixed[2] = { f1[0], f2[0] };
  g_assert_cmpint (gv_cuda_engine_keep_frames (b, mixed, 2), ==, GV_EINVAL);
  gv_backend_free (a);
  gv_backend_free (b);
  gv_backend_free (c);
  for (int i = 0; i < 4; i++)
    {
      gv_image_free (f1[i]);
      gv_image_free (f2[i]);
    }
  g_free (f1);
  g_free (f2);
}

static void
test_emulated_refuses_wide_window (void)
{
  GvParams p;
  GvBackend *b = NULL;

  gv_params_init_default (&p);
  p.flow.winsize = 101;
  g_assert_cmpint (gv_backend_emulated_new (&p, &b), ==, GV_EUNSUPPORTED);
  g_assert_null (b);
}

/* ---- Stage 4's per-pixel maps ----------------------------------------------------------- */

/* gv-defects.c's median_rows, one pixel of row `rows` (cover k's row rows[k]), as it stood
 * before gv_dm_median_px: the reference that function must reproduce. */
static void
legacy_median_px (const uint8_t *const *rows, int n, int x, uint8_t *o, uint8_t *g)
{
  uint8_t v[GV_DM_MAX_COVERS], m0[3];
  int nv = 0, idx[GV_DM_MAX_COVERS];
  for (int k = 0; k < n; k++)
    {
      const uint8_t *p = rows[k] + 3 * x;
      if (p[0] | p[1] | p[2])
        idx[nv++] = k; /* 0,0,0: outside the frame */
    }
  g[x] = 0;
  if (nv == 0)
    {
      o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = 0;
      return;
    }
  for (int ch = 0; ch < 3; ch++)
    {
      for (int j = 0; j < nv; j++)
        v[j] = rows[idx[j]][3 * x + ch];
      m0[ch] = gv_dk_median_u8 (v, nv);
    }
  int keep[GV_DM_MAX_COVERS], nk = 0;
  uint8_t gl = 0;
  for (int j = 0; j < nv; j++)
    {
      if (gv_dk_is_glare (rows[idx[j]] + 3 * x, m0))
        gl |= (uint8_t) (1u << idx[j]);
      else
        keep[nk++] = idx[j];
    }
  g[x] = gl;
  for (int ch = 0; ch < 3; ch++)
    {
      if (nk == 0)
        {
          o[3 * x + ch] = m0[ch];
          continue;
        }
      for (int j = 0; j < nk; j++)
        v[j] = rows[keep[j]][3 * x + ch];
      o[3 * x + ch] = gv_dk_median_u8 (v, nk);
    }
}

typedef struct {
  int n, w, h, M, W, H;
  GvImage *covers[GV_DM_MAX_COVERS];
  GvImage *print, *glare, *line, *stain;
  uint8_t *dark;
} MapsCase;

/* n synthetic covers and their maps on the CPU (three threads). */
static void
maps_case_init (MapsCase *c, int n, int w, int h, int M)
{
  memset (c, 0, sizeof *c);
  c->n = n, c->w = w, c->h = h, c->M = M, c->W = w + 2 * M, c->H = h + 2 * M;
  GvTcMapSet ms;
  for (int k = 0; k < n; k++)
    g_assert_nonnull (c->covers[k] = gv_tc_cover (w, h, M, k));
  g_assert_true (gv_tc_maps_alloc (w, h, M, &ms));
  c->print = ms.print, c->glare = ms.glare, c->line = ms.line, c->stain = ms.stain, c->dark = ms.dark;
  gv_tc_maps_cpu ((const GvImage *const *) c->covers, n, M, 3, c->print, c->glare, c->line,
                  c->stain, c->dark);
}

static void
maps_case_clear (MapsCase *c)
{
  GvTcMapSet ms = { c->print, c->glare, c->line, c->stain, c->dark };
  for (int k = 0; k < c->n; k++)
    gv_image_free (c->covers[k]);
  gv_tc_maps_release (&ms);
}

/* Empty outputs of the case's shapes (filled with a pattern no map gives everywhere). */
static void
maps_outputs (const MapsCase *c, GvImage **print, GvImage **glare, GvImage **line,
              GvImage **stain, uint8_t **dark)
{
  GvTcMapSet ms;
  g_assert_true (gv_tc_maps_alloc (c->w, c->h, c->M, &ms));
  *print = ms.print, *glare = ms.glare, *line = ms.line, *stain = ms.stain, *dark = ms.dark;
  memset ((*print)->data, 0xa5, (*print)->stride * c->H);
  memset ((*glare)->data, 0xa5, (*glare)->stride * c->H);
  memset ((*line)->data, 0xa5, (*line)->stride * c->h);
  memset ((*stain)->data, 0xa5, (*stain)->stride * c->h);
  memset (*dark, 0xa5, (size_t) c->w * c->h);
}

static void
maps_same (const MapsCase *c, const GvImage *print, const GvImage *glare, const GvImage *line,
           const GvImage *stain, const uint8_t *dark, int n)
{
  assert_same_image (c->print, print, "print estimate", n);
  assert_same_image (c->glare, glare, "glare bits", n);
  if (line)
    assert_same_image (c->line, line, "line evidence", n);
  if (stain)
    {
      assert_same_image (c->stain, stain, "stain evidence", n);
      g_assert_true (memcmp (c->dark, dark, (size_t) c->w * c->h) == 0);
    }
}

static void
maps_free (GvImage *print, GvImage *glare, GvImage *line, GvImage *stain, uint8_t *dark)
{
  GvTcMapSet ms = { print, glare, line, stain, dark };
  gv_tc_maps_release (&ms);
}

static void
assert_visited_once (const int *visits, int w, int h, const char *what)
{
  for (size_t i = 0; i < (size_t) w * h; i++)
    if (visits[i] != 1)
      g_error ("%s on %dx%d: element (%zu, %zu) visited %d times", what, w, h, i % w, i / w,
               visits[i]);
}

/* For n = 1..8 covers (odd and even sizes, two margins): the shared per-pixel median is
 * median_rows' pixel; the three launches, emulated one by one on host memory, visit every
 * domain pixel once and give the CPU row loops' maps bit for bit; so do the executor entry
 * and the emulated backend's. The covers give evidence of every kind. */
static void
test_emulated_defect_maps (void)
{
  for (int n = 1; n <= GV_DM_MAX_COVERS; n++)
    {
      MapsCase c;
      GvImage *print, *glare, *line, *stain;
      uint8_t *dark;
      maps_case_init (&c, n, 96 + 7 * n, 140 + 5 * n, n % 2 ? 8 : 11);

      /* median_rows, pixel by pixel */
      {
        GvImage *lp = gv_image_new (c.W, c.H, 3, GV_U8), *lg = gv_image_new (c.W, c.H, 1, GV_U8);
        for (int y = 0; y < c.H; y++)
          {
            const uint8_t *rows[GV_DM_MAX_COVERS];
            for (int k = 0; k < n; k++)
              rows[k] = gv_image_row_u8 (c.covers[k], y);
            for (int x = 0; x < c.W; x++)
              legacy_median_px (rows, n, x, gv_image_row_u8 (lp, y), gv_image_row_u8 (lg, y));
          }
        assert_same_image (lp, c.print, "print estimate (median_rows)", n);
        assert_same_image (lg, c.glare, "glare bits (median_rows)", n);
        gv_image_free (lp);
        gv_image_free (lg);
      }

      /* the launches on host memory, with their visits */
      maps_outputs (&c, &print, &glare, &line, &stain, &dark);
      {
        GvKDMedian med = { { NULL }, n, (int) c.covers[0]->stride, c.W, c.H, print->data,
                           (int) print->stride, glare->data, (int) glare->stride };
        GvKDLine ln = { print->data, (int) print->stride, c.W, c.H, c.M, (float *) line->data,
                        (int) (line->stride / sizeof (float)) };
        GvKDStain st = { print->data, (int) print->stride, c.W, c.H, c.M, (float *) stain->data,
                         (int) (stain->stride / sizeof (float)), dark, c.w };
        GvLaunch l;
        int *visits = g_new0 (int, (size_t) c.W * c.H);
        for (int k = 0; k < n; k++)
          {
            g_assert_cmpuint (c.covers[k]->stride, ==, c.covers[0]->stride);
            med.cov[k] = c.covers[k]->data;
          }
        l = gv_launch_for (GV_K_DMEDIAN, c.W, c.H);
        g_assert_cmpint (gv_cuda_emulate (GV_K_DMEDIAN, &med, &l, visits), ==, GV_OK);
        assert_visited_once (visits, c.W, c.H, "GV_K_DMEDIAN");
        memset (visits, 0, sizeof (int) * (size_t) c.W * c.H);
        l = gv_launch_for (GV_K_DLINE, c.w, c.h);
        g_assert_cmpint (gv_cuda_emulate (GV_K_DLINE, &ln, &l, visits), ==, GV_OK);
        assert_visited_once (visits, c.w, c.h, "GV_K_DLINE");
        memset (visits, 0, sizeof (int) * (size_t) c.W * c.H);
        l = gv_launch_for (GV_K_DSTAIN, c.w, c.h);
        g_assert_cmpint (gv_cuda_emulate (GV_K_DSTAIN, &st, &l, visits), ==, GV_OK);
        assert_visited_once (visits, c.w, c.h, "GV_K_DSTAIN");
        g_free (visits);
      }
      maps_same (&c, print, glare, line, stain, dark, n);
      maps_free (print, glare, line, stain, dark);

      /* step 3e': the box launch over the margined print and the stain launch on its result,
       * against the CPU's descreening and stain row loops (radius 1..4) */
      const int br = 1 + n % 4;
      GvImage *s2_cpu = gv_image_new (c.w, c.h, 1, GV_F32);
      GvImage *s2 = gv_image_new (c.w, c.h, 1, GV_F32);
      uint8_t *d2_cpu = g_malloc ((size_t) c.w * c.h), *d2 = g_malloc ((size_t) c.w * c.h);
      g_assert_true (gv_tc_stain2_cpu (c.print, c.M, br, 2, s2_cpu, d2_cpu));
      {
        GvImage *desc = gv_image_new (c.W, c.H, 3, GV_U8);
        GvKDBox bx = { c.print->data, (int) c.print->stride, c.W, c.H, br, desc->data,
                       (int) desc->stride };
        GvKDStain st = { desc->data, (int) desc->stride, c.W, c.H, c.M, (float *) s2->data,
                         (int) (s2->stride / sizeof (float)), d2, c.w };
        int *visits = g_new0 (int, (size_t) c.W * c.H);
        GvLaunch l = gv_launch_for (GV_K_DBOX, c.W, c.H);
        g_assert_cmpint (gv_cuda_emulate (GV_K_DBOX, &bx, &l, visits), ==, GV_OK);
        assert_visited_once (visits, c.W, c.H, "GV_K_DBOX");
        l = gv_launch_for (GV_K_DSTAIN, c.w, c.h);
        g_assert_cmpint (gv_cuda_emulate (GV_K_DSTAIN, &st, &l, NULL), ==, GV_OK);
        assert_same_image (s2_cpu, s2, "descreened stain evidence (launches)", n);
        g_assert_cmpmem (d2_cpu, (size_t) c.w * c.h, d2, (size_t) c.w * c.h);
        g_free (visits);
        gv_image_free (desc);
      }

      /* the executor entry: upload, three launches, download */
      GvCudaExec *ex = gv_cuda_emulator_new ();
      g_assert_nonnull (ex);
      maps_outputs (&c, &print, &glare, &line, &stain, &dark);
      g_assert_cmpint (gv_cuda_defect_maps (ex, (const GvImage *const *) c.covers, n, c.M, print,
                                            glare, line, stain, dark), ==, GV_OK);
      maps_same (&c, print, glare, line, stain, dark, n);
      maps_free (print, glare, line, stain, dark);
      /* the median alone */
      maps_outputs (&c, &print, &glare, &line, &stain, &dark);
      g_assert_cmpint (gv_cuda_defect_maps (ex, (const GvImage *const *) c.covers, n, c.M, print,
                                            glare, NULL, NULL, NULL), ==, GV_OK);
      maps_same (&c, print, glare, NULL, NULL, NULL, n);
      maps_free (print, glare, line, stain, dark);
      ex->destroy (ex);

      /* the emulated backend's entry, and its launch counts */
      GvParams p;
      GvBackend *be = NULL;
      long counts[GV_K_COUNT];
      gv_params_init_default (&p);
      g_assert_cmpint (gv_backend_emulated_new (&p, &be), ==, GV_OK);
      g_assert_true (gv_cuda_engine_exec (be) != NULL);
      maps_outputs (&c, &print, &glare, &line, &stain, &dark);
      g_assert_cmpint (gv_defect_maps_device (be, (const GvImage *const *) c.covers, n, c.M,
                                              print, glare, line, stain, dark), ==, GV_OK);
      maps_same (&c, print, glare, line, stain, dark, n);
      maps_free (print, glare, line, stain, dark);
      g_assert_cmpint (gv_cuda_engine_launch_counts (be, counts), ==, 1);
      g_assert_cmpint (counts[GV_K_DMEDIAN], ==, 1);
      g_assert_cmpint (counts[GV_K_DLINE], ==, 1);
      g_assert_cmpint (counts[GV_K_DSTAIN], ==, 1);
      g_assert_cmpint (counts[GV_K_DBOX], ==, 0);
      memset (s2->data, 0xa5, s2->stride * c.h);
      memset (d2, 0xa5, (size_t) c.w * c.h);
      g_assert_cmpint (gv_defect_stain2_device (be, c.print, c.M, br, s2, d2), ==, GV_OK);
      assert_same_image (s2_cpu, s2, "descreened stain evidence (backend)", n);
      g_assert_cmpmem (d2_cpu, (size_t) c.w * c.h, d2, (size_t) c.w * c.h);
      g_assert_cmpint (gv_cuda_engine_launch_counts (be, counts), ==, 1);
      g_assert_cmpint (counts[GV_K_DBOX], ==, 1);
      g_assert_cmpint (counts[GV_K_DSTAIN], ==, 2);
      gv_backend_free (be);

      /* evidence of every kind, and pixels no cover sees; descreening changes the stain
       * evidence (the covers' noise and print average out) */
      long n_line = 0, n_loose = 0, n_stain = 0, n_dark = 0, n_glare = 0, n_unseen = 0;
      long n_stain2 = 0, n_differ = 0;
      for (int y = 0; y < c.h; y++)
        for (int x = 0; x < c.w; x++)
          {
            float a = gv_image_row_f32 (c.stain, y)[x], b = gv_image_row_f32 (s2_cpu, y)[x];
            n_stain2 += b > 0.0f;
            n_differ += a != b;
          }
      g_test_message ("%d covers, box radius %d: descreened stain evidence at %ld px, %ld px "
                      "differ from the print's", n, br, n_stain2, n_differ);
      g_assert_cmpint (n_stain2, >, 0);
      g_assert_cmpint (n_differ, >, 0);
      gv_image_free (s2_cpu);
      gv_image_free (s2);
      g_free (d2_cpu);
      g_free (d2);
      for (int y = 0; y < c.h; y++)
        for (int x = 0; x < c.w; x++)
          {
            n_line += gv_image_row_f32 (c.line, y)[x] > 0.0f;
            n_loose += gv_image_row_f32 (c.line, y)[x] < 0.0f;
            n_stain += gv_image_row_f32 (c.stain, y)[x] > 0.0f;
            n_dark += c.dark[(size_t) y * c.w + x] != 24;
          }
      for (int y = 0; y < c.H; y++)
        for (int x = 0; x < c.W; x++)
          {
            const uint8_t *q = gv_image_row_u8 (c.print, y) + 3 * x;
            n_glare += gv_image_row_u8 (c.glare, y)[x] != 0;
            n_unseen += !(q[0] | q[1] | q[2]);
          }
      g_test_message ("%d covers, %dx%d + %d: line %ld (video model only %ld), stain %ld (dark "
                      "side %ld), glare %ld, unseen %ld px", n, c.w, c.h, c.M, n_line, n_loose,
                      n_stain, n_dark, n_glare, n_unseen);
      g_assert_cmpint (n_line, >, 0);
      g_assert_cmpint (n_loose, >, 0);
      g_assert_cmpint (n_stain, >, 0);
      g_assert_cmpint (n_dark, ==, n_stain);
      g_assert_cmpint (n_unseen, >=, c.W + 16); /* the last row and the top-left corner */
      if (n >= 2) /* one cover alone is its own median */
        g_assert_cmpint (n_glare, >, 0);
      else
        g_assert_cmpint (n_glare, ==, 0);
      maps_case_clear (&c);
    }
}

/* Bad shapes are refused, and a backend without a device path says so. */
static void
test_emulated_defect_maps_refuse (void)
{
  MapsCase c;
  GvImage *print, *glare, *line, *stain, *odd = gv_image_new (50, 60, 3, GV_U8);
  uint8_t *dark;
  GvCudaExec *ex = gv_cuda_emulator_new ();
  GvParams p;
  GvBackend *cpu = NULL;
  const GvImage *const *cv;

  maps_case_init (&c, 3, 64, 80, 8);
  cv = (const GvImage *const *) c.covers;
  maps_outputs (&c, &print, &glare, &line, &stain, &dark);
  g_assert_cmpint (gv_cuda_defect_maps (ex, cv, 0, c.M, print, glare, line, stain, dark), ==,
                   GV_EINVAL);
  g_assert_cmpint (gv_cuda_defect_maps (ex, cv, GV_DM_MAX_COVERS + 1, c.M, print, glare, line,
                                        stain, dark), ==, GV_EINVAL);
  g_assert_cmpint (gv_cuda_defect_maps (ex, cv, 3, c.M + 1, print, glare, line, stain, dark), ==,
                   GV_EINVAL); /* the evidence maps no longer have the cover's size */
  g_assert_cmpint (gv_cuda_defect_maps (ex, cv, 3, c.M, print, glare, line, stain, NULL), ==,
                   GV_EINVAL);
  g_assert_cmpint (gv_cuda_defect_maps (ex, cv, 3, c.M, glare, print, line, stain, dark), ==,
                   GV_EINVAL);
  g_assert_cmpint (gv_cuda_defect_maps (ex, cv, 3, 100, print, glare, NULL, NULL, NULL), ==,
                   GV_EINVAL);
  {
    const GvImage *mixed[3] = { c.covers[0], odd, c.covers[2] };
    g_assert_cmpint (gv_cuda_defect_maps (ex, mixed, 3, c.M, print, glare, line, stain, dark), ==,
                     GV_EINVAL);
  }
  gv_params_init_default (&p);
  g_assert_cmpint (gv_backend_cpu_new (&p, &cpu), ==, GV_OK);
  g_assert_null (gv_cuda_engine_exec (cpu));
  g_assert_null (gv_cuda_engine_exec (NULL));
  g_assert_cmpint (gv_defect_maps_device (cpu, cv, 3, c.M, print, glare, line, stain, dark), ==,
                   GV_EUNSUPPORTED);
  g_assert_cmpint (gv_defect_stain2_device (cpu, c.print, c.M, 2, stain, dark), ==,
                   GV_EUNSUPPORTED);
  {
    GvBackend *emu = NULL;
    g_assert_cmpint (gv_backend_emulated_new (&p, &emu), ==, GV_OK);
    g_assert_cmpint (gv_defect_stain2_device (emu, c.print, c.M, 0, stain, dark), ==, GV_EINVAL);
    g_assert_cmpint (gv_defect_stain2_device (emu, c.print, c.M, 2, stain, NULL), ==, GV_EINVAL);
    g_assert_cmpint (gv_defect_stain2_device (emu, c.print, c.M + 1, 2, stain, dark), ==,
                     GV_EINVAL);
    g_assert_cmpint (gv_defect_stain2_device (emu, c.glare, c.M, 2, stain, dark), ==, GV_EINVAL);
    g_assert_cmpint (gv_defect_stain2_device (emu, NULL, c.M, 2, stain, dark), ==, GV_EINVAL);
    g_assert_cmpint (gv_defect_stain2_device (emu, c.print, c.M, 2, stain, dark), ==, GV_OK);
    gv_backend_free (emu);
  }
  gv_backend_free (cpu);
  ex->destroy (ex);
  gv_image_free (odd);
  maps_free (print, glare, line, stain, dark);
  maps_case_clear (&c);
}

/* Stage 4's steps 1 and 2 from the frames (gv_dm_device_*), on the emulated backend: a frame's
 * gray copy, the reference warp, the alignment terms, the cover warps and the maps from the
 * covers kept in device memory equal the CPU's (gv_image_rgb_to_gray, gv_warp_perspective,
 * gv_dk_lk_row, the maps' row loops) bit for bit, with one launch of each kind per call. */
static void
test_emulated_defect_frames (void)
{
  enum { FW = 300, FH = 220, NF = 3 };
  const int w = 96, h = 140, M = 8, W = w + 2 * M, H = h + 2 * M;
  GvImage *frames[NF], *gray = gv_image_new (FW, FH, 1, GV_U8);
  GvImage *ref = gv_image_new (W, H, 1, GV_U8), *cur = gv_image_new (W, H, 1, GV_U8);
  GvImage *want[NF], *got = gv_image_new (W, H, 3, GV_U8);
  double *rows = g_new (double, 5 * (size_t) H), *rows_cpu = g_new (double, 5 * (size_t) H);
  GvParams p;
  GvBackend *be = NULL, *cpu = NULL;
  GvDmDevice *d = NULL;
  long before[GV_K_COUNT], after[GV_K_COUNT];
  int x0 = M + 3, x1 = M + w - 4, y0 = M + 4, y1 = M + h - 5;

  gv_params_init_default (&p);
  g_assert_cmpint (gv_backend_emulated_new (&p, &be), ==, GV_OK);
  g_assert_cmpint (gv_backend_cpu_new (&p, &cpu), ==, GV_OK);
  g_assert_cmpint (gv_dm_device_new (cpu, W, H, &d), ==, GV_EUNSUPPORTED);
  g_assert_null (d);
  g_assert_cmpint (gv_dm_device_new (be, W, H, &d), ==, GV_OK);
  /* nothing to warp yet, no reference to align to, covers only in order */
  double Hm0[9] = { 1.9, 0.08, 30.0, -0.05, 1.3, 12.0, 0.0002, -0.0001, 1.0 };
  g_assert_cmpint (gv_dm_device_ref (d, Hm0), ==, GV_EINVAL);
  g_assert_cmpint (gv_dm_device_lk_rows (d, Hm0, x0, x1, y0, y1, rows), ==, GV_EINVAL);
  g_assert_cmpint (gv_dm_device_cover (d, 1, Hm0), ==, GV_EINVAL);
  {
    GvImage *s2 = gv_image_new (w, h, 1, GV_F32);
    uint8_t *d2 = g_malloc ((size_t) w * h);
    g_assert_cmpint (gv_dm_device_stain2 (d, M, 2, s2, d2), ==, GV_EINVAL); /* no maps yet */
    gv_image_free (s2);
    g_free (d2);
  }
  for (int k = 0; k < NF; k++)
    {
      frames[k] = gv_tc_cover (FW - 16, FH - 16, 8, k); /* textured, with glare and lines */
      g_assert_nonnull (frames[k]);
      /* and black ink across it: a row and a column of 2 px (step 3d's) */
      for (int y = 0; y < FH; y++)
        for (int x = 0; x < FW; x++)
          if ((y >= 110 && y < 112) || (x >= 150 && x < 152))
            memset (gv_image_row_u8 (frames[k], y) + 3 * x, 12, 3);
    }
  for (int k = 0; k < NF; k++)
    {
      /* each frame sees the cover a little shifted, as a hand-held video does */
      double Hm[9];
      memcpy (Hm, Hm0, sizeof Hm);
      Hm[2] += 0.37 * k;
      Hm[5] -= 0.21 * k;
      g_assert_cmpint (gv_cuda_engine_launch_counts (be, before), ==, 1);
      g_assert_cmpint (gv_dm_device_frame (d, frames[k]), ==, GV_OK);
      g_assert_cmpint (gv_image_rgb_to_gray (frames[k], gray), ==, GV_OK);
      if (k == 0)
        {
          g_assert_cmpint (gv_dm_device_ref (d, Hm), ==, GV_OK);
          g_assert_cmpint (gv_warp_perspective (gray, Hm, ref, 1), ==, GV_OK);
        }
      else
        {
          /* the terms at the frame's own shift and at the first frame's */
          for (int t = 0; t < 2; t++)
            {
              const double *Ht = t ? Hm0 : Hm;
              g_assert_cmpint (gv_dm_device_lk_rows (d, Ht, x0, x1, y0, y1, rows), ==, GV_OK);
              g_assert_cmpint (gv_warp_perspective (gray, Ht, cur, 1), ==, GV_OK);
              double s = 0;
              for (int y = 0; y < H; y++)
                {
                  gv_dk_lk_row (gv_image_row_u8 (ref, 0), (int) ref->stride,
                                gv_image_row_u8 (cur, 0), (int) cur->stride, y, x0, x1, y0, y1,
                                rows_cpu + 5 * (size_t) y);
                  s += fabs (rows_cpu[5 * (size_t) y + 3]) + fabs (rows_cpu[5 * (size_t) y + 4]);
                }
              g_assert_cmpmem (rows, 5 * sizeof (double) * H, rows_cpu, 5 * sizeof (double) * H);
              g_assert_cmpfloat (s, >, 0); /* the frames differ: the terms are not all zero */
            }
        }
      g_assert_cmpint (gv_dm_device_cover (d, k, Hm), ==, GV_OK);
      g_assert_cmpint (gv_cuda_engine_launch_counts (be, after), ==, 1);
      g_assert_cmpint (after[GV_K_GRAY] - before[GV_K_GRAY], ==, 1);
      g_assert_cmpint (after[GV_K_LKROW] - before[GV_K_LKROW], ==, k ? 2 : 0);
      g_assert_cmpint (after[GV_K_WARP] - before[GV_K_WARP], ==, k ? 3 : 2);
      want[k] = gv_image_new (W, H, 3, GV_U8);
      g_assert_cmpint (gv_warp_perspective (frames[k], Hm, want[k], 1), ==, GV_OK);
      g_assert_cmpint (gv_dm_device_download_cover (d, k, got), ==, GV_OK);
      assert_same_image (want[k], got, "device cover", k);
    }
  /* the maps from the kept covers equal the CPU's row loops on the CPU's warps; with step 3d,
   * the line evidence equals theirs cleared within r px of ink as gv-defects.c's step 3d does
   * (the ink mask dilated by the shared row and column passes) */
  {
    GvTcMapSet m[2];
    const int r = 3;
    g_assert_true (gv_tc_maps_alloc (w, h, M, &m[0]));
    g_assert_true (gv_tc_maps_alloc (w, h, M, &m[1]));
    gv_tc_maps_cpu ((const GvImage *const *) want, NF, M, 2, m[0].print, m[0].glare, m[0].line,
                    m[0].stain, m[0].dark);
    g_assert_cmpint (gv_dm_device_maps (d, NF + 1, M, 0, m[1].print, m[1].glare, m[1].line,
                                        m[1].stain, m[1].dark), ==, GV_EINVAL);
    g_assert_cmpint (gv_dm_device_maps (d, NF, M, 0, m[1].print, m[1].glare, m[1].line,
                                        m[1].stain, m[1].dark), ==, GV_OK);
    assert_same_image (m[0].print, m[1].print, "print estimate", NF);
    assert_same_image (m[0].glare, m[1].glare, "glare bits", NF);
    assert_same_image (m[0].line, m[1].line, "line evidence", NF);
    assert_same_image (m[0].stain, m[1].stain, "stain evidence", NF);
    g_assert_cmpmem (m[0].dark, (size_t) w * h, m[1].dark, (size_t) w * h);

    guint8 *ink = g_new (guint8, (size_t) w * h), *tmp = g_new (guint8, (size_t) w * h);
    long n_ink = 0, n_cleared = 0;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          ink[(size_t) y * w + x] = gv_dm_ink_at (m[0].print->data, (int) m[0].print->stride, M, x, y);
          n_ink += ink[(size_t) y * w + x] != 0;
        }
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        tmp[(size_t) y * w + x] = gv_dk_dilate_h_at (ink, w, r, x, y);
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          float *l = gv_image_row_f32 (m[0].line, y) + x;
          if (gv_dk_dilate_v_at (tmp, w, h, r, x, y))
            {
              n_cleared += *l != 0.0f;
              *l = 0.0f;
            }
        }
    g_assert_cmpint (gv_dm_device_maps (d, NF, M, r, m[1].print, m[1].glare, m[1].line,
                                        m[1].stain, m[1].dark), ==, GV_OK);
    g_test_message ("step 3d: %ld ink pixels, %ld line-evidence pixels cleared", n_ink, n_cleared);
    g_assert_cmpint (n_ink, >, 0);
    g_assert_cmpint (n_cleared, >, 0);
    assert_same_image (m[0].line, m[1].line, "line evidence after step 3d", NF);
    assert_same_image (m[0].stain, m[1].stain, "stain evidence (step 3d leaves it)", NF);
    /* step 3e' from the print the maps left in device memory */
    {
      GvImage *s2[2] = { gv_image_new (w, h, 1, GV_F32), gv_image_new (w, h, 1, GV_F32) };
      uint8_t *d2[2] = { g_malloc ((size_t) w * h), g_malloc ((size_t) w * h) };
      g_assert_true (gv_tc_stain2_cpu (m[0].print, M, 3, 2, s2[0], d2[0]));
      g_assert_cmpint (gv_cuda_engine_launch_counts (be, before), ==, 1);
      g_assert_cmpint (gv_dm_device_stain2 (d, M, 3, s2[1], d2[1]), ==, GV_OK);
      g_assert_cmpint (gv_cuda_engine_launch_counts (be, after), ==, 1);
      g_assert_cmpint (after[GV_K_DBOX] - before[GV_K_DBOX], ==, 1);
      g_assert_cmpint (after[GV_K_DMEDIAN] - before[GV_K_DMEDIAN], ==, 0);
      assert_same_image (s2[0], s2[1], "descreened stain evidence (session)", NF);
      g_assert_cmpmem (d2[0], (size_t) w * h, d2[1], (size_t) w * h);
      g_assert_cmpint (gv_dm_device_stain2 (d, M, 0, s2[1], d2[1]), ==, GV_EINVAL);
      for (int i = 0; i < 2; i++)
        {
          gv_image_free (s2[i]);
          g_free (d2[i]);
        }
    }
    g_free (ink);
    g_free (tmp);
    gv_tc_maps_release (&m[0]);
    gv_tc_maps_release (&m[1]);
  }
  g_assert_cmpint (gv_dm_device_download_cover (d, NF, got), ==, GV_EINVAL);
  gv_dm_device_free (d);
  for (int k = 0; k < NF; k++)
    {
      gv_image_free (frames[k]);
      gv_image_free (want[k]);
    }
  gv_image_free (gray);
  gv_image_free (ref);
  gv_image_free (cur);
  gv_image_free (got);
  g_free (rows);
  g_free (rows_cpu);
  gv_backend_free (be);
  gv_backend_free (cpu);
}

/* ---- Y4M input (the GPU machine's way in, no FFmpeg) ---------------------------------------- */

static char *
write_y4m (GvImage **f, int n, const char *extra, int truncate_last)
{
  char *path = NULL;
  int fd = g_file_open_tmp ("gv-grid-XXXXXX.y4m", &path, NULL);
  FILE *o = fdopen (fd, "wb");
  int w = f[0]->width, h = f[0]->height, cs = ((w + 1) / 2) * ((h + 1) / 2);
  guint8 *chroma = g_malloc (2 * (size_t) cs);

  g_assert_nonnull (o);
  memset (chroma, 128, 2 * (size_t) cs);
  fprintf (o, "YUV4MPEG2 W%d H%d F30000:1001 Ip A1:1 %s\n", w, h, extra);
  for (int i = 0; i < n; i++)
    {
      fputs (i % 2 ? "FRAME Ixyz\n" : "FRAME\n", o);
      for (int y = 0; y < h; y++)
        fwrite (gv_image_row_u8 (f[i], y), 1, (size_t) w, o);
      fwrite (chroma, 1, truncate_last && i == n - 1 ? (size_t) cs : 2 * (size_t) cs, o);
    }
  fclose (o);
  g_free (chroma);
  return path;
}

static void
test_y4m_reader (void)
{
  GvImage **f = render_frames (161, 91, 4, 9, NULL);
  char *path = write_y4m (f, 4, "C420jpeg XYSCSS=420JPEG", 1);
  GvY4m *y = NULL;
  GvImage luma;
  int idx, n = 0;
  double pts;

  g_assert_cmpint (gv_y4m_open (path, &y), ==, GV_OK);
  g_assert_cmpint (gv_y4m_info (y)->width, ==, 161);
  g_assert_cmpint (gv_y4m_info (y)->height, ==, 91);
  while (gv_y4m_next (y, &luma, &idx, &pts) == 1)
    {
      g_assert_cmpint (idx, ==, n);
      g_assert_cmpfloat_with_epsilon (pts, n * 1001.0 / 30000.0, 1e-12);
      assert_same_image (&luma, f[n], "y4m luma", n);
      GvImage *rgb = gv_y4m_to_rgb (y);
      g_assert_nonnull (rgb);
      /* neutral chroma: grey, limited range expanded */
      const guint8 *p = gv_image_row_u8 (rgb, 5), *l = gv_image_row_u8 (f[n], 5);
      g_assert_cmpint (p[0], ==, p[1]);
      g_assert_cmpint (p[1], ==, p[2]);
      g_assert_cmpint (abs ((int) p[0] - (int) CLAMP ((l[0] - 16) * 255.0 / 219.0 + 0.5, 0, 255)), <=, 1);
      gv_image_free (rgb);
      n++;
    }
  g_assert_cmpint (n, ==, 3); /* the last frame was cut short */
  g_assert_true (gv_y4m_info (y)->truncated);
  gv_y4m_free (y);
  g_unlink (path);
  g_free (path);

  path = write_y4m (f, 1, "C422", 0);
  g_assert_cmpint (gv_y4m_open (path, &y), ==, GV_EUNSUPPORTED);
  g_assert_nonnull (strstr (gv_error_message (), "yuv420p"));
  g_unlink (path);
  g_free (path);
  for (int i = 0; i < 4; i++)
    gv_image_free (f[i]);
  g_free (f);
}

/* The pipeline fed from a Y4M file gives the same frame records as from memory. */
static void
test_y4m_pipeline (void)
{
  int n = 6;
  GvImage **f = render_frames (320, 180, n, 4, NULL);
  char *path = write_y4m (f, n, "", 0);
  GvY4m *y = NULL;
  GvFrameFeed feed;
  GvParams p;
  GvBackend *be = NULL;
  GvResult *r = NULL;

  gv_params_init_default (&p);
  p.threads = 2;
  g_assert_cmpint (gv_y4m_open (path, &y), ==, GV_OK);
  gv_y4m_feed_init (y, &feed);
  g_assert_cmpint (gv_backend_cpu_new (&p, &be), ==, GV_OK);
  g_assert_cmpint (gv_pipeline_run (be, &p, &feed, NULL, &r), ==, GV_OK);
  g_assert_cmpint (r->n_frames, ==, n);
  be->ops->reset (be);
  for (int i = 0; i < n; i++)
    {
      GvFrameMetrics m;
      g_assert_cmpint (be->ops->load (be, f[i]), ==, GV_OK);
      g_assert_cmpint (be->ops->measure (be, NULL, &m), ==, GV_OK);
      assert_same_double (m.sharpness_frame, r->frames[i].sharpness_frame, "y4m sharpness", i);
    }
  for (int i = 0; i < r->n_golden; i++)
    g_assert_nonnull (r->golden[i].rgb);
  gv_result_free (r);
  gv_backend_free (be);
  gv_y4m_free (y);
  g_unlink (path);
  g_free (path);
  for (int i = 0; i < n; i++)
    gv_image_free (f[i]);
  g_free (f);
}

/* ---- The real device -------------------------------------------------------------------- */

static int
need_device (void)
{
  char why[256] = "";
  if (gv_backend_cuda_available (why, sizeof why))
    {
      g_test_message ("device: %s", why);
      return 1;
    }
  g_test_message ("%s", why);
  g_test_skip ("no CUDA device");
  return 0;
}

static void
test_cuda_backend (void)
{
  if (!need_device ())
    return;
  compare_backends (gv_backend_cuda_new, 480, 270, 160, 4, 15);
  compare_backends (gv_backend_cuda_new, 300, 200, 170, 3, 21);
  compare_backends (gv_backend_cuda_new, 97, 75, 0, 3, 9);
  compare_backends (gv_backend_cuda_new, 1920, 1080, 640, 3, 15);
}

static void
test_cuda_pipeline (void)
{
  if (!need_device ())
    return;
  compare_pipelines (gv_backend_cuda_new, 640, 360, 320, 10);
  compare_pipelines (gv_backend_cuda_new, 1920, 1080, 640, 12);
}

/* Stage 4's maps on the device against the CPU row loops, bit for bit. */
static void
test_cuda_defect_maps (void)
{
  static const int cases[][4] = { { 3, 424, 656, 17 }, { 8, 1060, 1640, 42 }, { 1, 33, 41, 8 } };
  GvParams p;
  GvBackend *be = NULL;

  if (!need_device ())
    return;
  gv_params_init_default (&p);
  g_assert_cmpint (gv_backend_cuda_new (&p, &be), ==, GV_OK);
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      MapsCase c;
      GvImage *print, *glare, *line, *stain;
      uint8_t *dark;
      maps_case_init (&c, cases[i][0], cases[i][1], cases[i][2], cases[i][3]);
      maps_outputs (&c, &print, &glare, &line, &stain, &dark);
      g_assert_cmpint (gv_defect_maps_device (be, (const GvImage *const *) c.covers, c.n, c.M,
                                              print, glare, line, stain, dark), ==, GV_OK);
      maps_same (&c, print, glare, line, stain, dark, c.n);
      /* step 3e' (radius 4, as at 1060 px width) */
      {
        GvImage *s2c = gv_image_new (c.w, c.h, 1, GV_F32), *s2 = gv_image_new (c.w, c.h, 1, GV_F32);
        uint8_t *d2c = g_malloc ((size_t) c.w * c.h), *d2 = g_malloc ((size_t) c.w * c.h);
        g_assert_true (gv_tc_stain2_cpu (c.print, c.M, 4, 2, s2c, d2c));
        g_assert_cmpint (gv_defect_stain2_device (be, c.print, c.M, 4, s2, d2), ==, GV_OK);
        assert_same_image (s2c, s2, "descreened stain evidence", c.n);
        g_assert_cmpmem (d2c, (size_t) c.w * c.h, d2, (size_t) c.w * c.h);
        gv_image_free (s2c);
        gv_image_free (s2);
        g_free (d2c);
        g_free (d2);
      }
      maps_free (print, glare, line, stain, dark);
      maps_case_clear (&c);
    }
  gv_backend_free (be);
}

static void
test_cuda_selection (void)
{
  GvParams p;
  GvBackend *be = NULL;
  char why[512] = "";

  gv_params_init_default (&p);
  g_assert_cmpint (gv_backend_new (GV_BACKEND_AUTO, &p, &be, why, sizeof why), ==, GV_OK);
  g_test_message ("auto: %s", why);
  g_assert_cmpuint (strlen (why), >, 10);
  if (gv_backend_cuda_available (NULL, 0))
    g_assert_cmpstr (be->ops->name, ==, "cuda");
  else
    {
      g_assert_cmpstr (be->ops->name, ==, "cpu");
      gv_backend_free (be);
      be = NULL;
      g_assert_cmpint (gv_backend_new (GV_BACKEND_CUDA, &p, &be, why, sizeof why), ==, GV_ENODEV);
      g_assert_null (be);
      g_test_message ("cuda: %s", gv_error_message ());
    }
  gv_backend_free (be);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gv/grid/coverage", test_coverage);
  g_test_add_func ("/gv/grid/reduction-tree", test_reduction_tree);
  g_test_add_func ("/gv/grid/emulated/integer-ratio", test_emulated_integer_ratio);
  g_test_add_func ("/gv/grid/emulated/fractional-ratio", test_emulated_fractional_ratio);
  g_test_add_func ("/gv/grid/emulated/full-resolution", test_emulated_full_resolution);
  g_test_add_func ("/gv/grid/emulated/pipeline", test_emulated_pipeline);
  g_test_add_func ("/gv/grid/emulated/split-measure", test_emulated_split_measure);
  g_test_add_func ("/gv/grid/emulated/wide-window", test_emulated_refuses_wide_window);
  g_test_add_func ("/gv/grid/emulated/recordings", test_emulated_recordings);
  g_test_add_func ("/gv/grid/emulated/defect-maps", test_emulated_defect_maps);
  g_test_add_func ("/gv/grid/emulated/defect-maps-refuse", test_emulated_defect_maps_refuse);
  g_test_add_func ("/gv/grid/emulated/defect-frames", test_emulated_defect_frames);
  g_test_add_func ("/gv/y4m/reader", test_y4m_reader);
  g_test_add_func ("/gv/y4m/pipeline", test_y4m_pipeline);
  g_test_add_func ("/gv/cuda/selection", test_cuda_selection);
  g_test_add_func ("/gv/cuda/parity/backend", test_cuda_backend);
  g_test_add_func ("/gv/cuda/parity/pipeline", test_cuda_pipeline);
  g_test_add_func ("/gv/cuda/parity/defect-maps", test_cuda_defect_maps);
  return g_test_run ();
}
