/* test-pipeline.c: stages 1 to 3 on synthetic scans with exact ground truth (gv-synth), fed
 * from memory: golden frames are truly sharp and still, motion follows the true flow, cover
 * corners land within 2 px at 1080p, and the result is identical for any thread count. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "gv-backend.h"
#include "gv-error.h"
#include "gv-pipeline.h"
#include "gv-synth.h"

typedef struct {
  GvSynth *synth;
  int n, next;
  GvImage *rgb, *gray;
  GvSynthTruth *truth;
} SynthFeed;

static int
sf_next (void *ud, GvImage *luma, int *index, double *pts)
{
  SynthFeed *s = ud;

  if (s->next >= s->n)
    return 0;
  if (gv_synth_render (s->synth, s->next, s->rgb, &s->truth[s->next], 2) != GV_OK)
    return gv_error_code ();
  gv_image_rgb_to_gray (s->rgb, s->gray);
  *luma = *s->gray;
  luma->owns_data = 0;
  *index = s->next;
  *pts = s->next / gv_synth_params (s->synth)->fps;
  s->next++;
  return 1;
}

static void *
sf_keep (void *ud)
{
  SynthFeed *s = ud;
  return GINT_TO_POINTER (s->next); /* index + 1, never NULL */
}

static GvImage *
sf_to_rgb (void *ud, void *kept)
{
  SynthFeed *s = ud;
  const GvSynthParams *sp = gv_synth_params (s->synth);
  GvImage *rgb = gv_image_new (sp->width, sp->height, 3, GV_U8);
  GvSynthTruth t;

  if (rgb && gv_synth_render (s->synth, GPOINTER_TO_INT (kept) - 1, rgb, &t, 2) != GV_OK)
    {
      gv_image_free (rgb);
      return NULL;
    }
  return rgb;
}

static void
sf_release (void *ud, void *kept)
{
}

static SynthFeed *
synth_feed_new (int w, int h, int n, unsigned seed)
{
  SynthFeed *s = g_new0 (SynthFeed, 1);
  GvSynthParams sp;

  gv_synth_params_init_default (&sp);
  sp.width = w;
  sp.height = h;
  sp.n_frames = n;
  sp.seed = seed;
  s->synth = gv_synth_new (&sp);
  g_assert_nonnull (s->synth);
  s->n = n;
  s->rgb = gv_image_new (w, h, 3, GV_U8);
  s->gray = gv_image_new (w, h, 1, GV_U8);
  s->truth = g_new0 (GvSynthTruth, n);
  return s;
}

static void
synth_feed_free (SynthFeed *s)
{
  gv_synth_free (s->synth);
  gv_image_free (s->rgb);
  gv_image_free (s->gray);
  g_free (s->truth);
  g_free (s);
}

static GvResult *
run_pipeline (SynthFeed *s, GvParams *p)
{
  GvFrameFeed feed = { s, s->n, sf_next, sf_keep, sf_to_rgb, sf_release, NULL, NULL };
  GvBackend *be = NULL;
  GvResult *r = NULL;
  int rc;

  s->next = 0;
  g_assert_cmpint (gv_backend_cpu_new (p, &be), ==, GV_OK);
  rc = gv_pipeline_run (be, p, &feed, NULL, &r);
  if (rc != GV_OK)
    g_error ("pipeline failed: %s", gv_error_message ());
  gv_backend_free (be);
  return r;
}

static void
test_golden_truly_sharp_and_still (void)
{
  SynthFeed *s = synth_feed_new (640, 360, 120, 11);
  GvParams p;
  GvResult *r;
  double err = 0;
  int n_err = 0;

  gv_params_init_default (&p);
  p.threads = 2;
  r = run_pipeline (s, &p);
  g_assert_cmpint (r->n_frames, ==, 120);
  g_assert_cmpint (r->n_golden, >=, 1);
  for (int i = 0; i < r->n_golden; i++)
    {
      const GvSynthTruth *t = &s->truth[r->golden[i].frame_index];
      g_test_message ("golden %d: frame %d true flow %.3f px blur %.2f defocus %.2f sharp %d",
                      i, r->golden[i].frame_index, t->true_flow_cover, t->motion_blur_px,
                      t->defocus_sigma, t->sharp);
      g_assert_true (t->sharp);
      g_assert_cmpfloat (t->true_flow_cover, <, 1.0);
      g_assert_nonnull (r->golden[i].rgb);
    }
  /* Stage 1 motion against the true flow over the cover, where the cover was found. */
  for (int i = 1; i < r->n_frames; i++)
    if (r->frames[i].cover_found && s->truth[i].true_flow_cover < 4.0)
      {
        err += fabs (r->frames[i].motion - s->truth[i].true_flow_cover);
        n_err++;
      }
  g_assert_cmpint (n_err, >, r->n_frames / 3);
  g_test_message ("mean |motion - true flow| on the cover: %.3f px over %d frames", err / n_err,
                  n_err);
  g_assert_cmpfloat (err / n_err, <, 0.35);
  /* Every frame but the first has a measured motion; the first gets its forward flow. */
  for (int i = 0; i < r->n_frames; i++)
    g_assert_true (r->frames[i].measured);
  gv_result_free (r);
  synth_feed_free (s);
}

static void
test_thread_invariance (void)
{
  SynthFeed *s = synth_feed_new (320, 180, 40, 5);
  GvParams p;
  GvResult *r1, *r2;

  gv_params_init_default (&p);
  p.analysis_size = 0;
  p.min_gap = 5;
  p.threads = 1;
  r1 = run_pipeline (s, &p);
  for (int t = 2; t <= 3; t++)
    {
      p.threads = t;
      r2 = run_pipeline (s, &p);
      g_assert_cmpint (r1->n_frames, ==, r2->n_frames);
      g_assert_cmpint (memcmp (r1->frames, r2->frames, sizeof (GvFrameRecord) * r1->n_frames),
                       ==, 0);
      g_assert_cmpint (r1->n_golden, ==, r2->n_golden);
      for (int i = 0; i < r1->n_golden; i++)
        {
          g_assert_cmpint (r1->golden[i].frame_index, ==, r2->golden[i].frame_index);
          g_assert_cmpint (memcmp (&r1->golden[i].cover.quad, &r2->golden[i].cover.quad,
                                   sizeof (GvQuad)), ==, 0);
          g_assert_true ((r1->golden[i].warped == NULL) == (r2->golden[i].warped == NULL));
          if (r1->golden[i].warped)
            g_assert_cmpint (gv_image_compare (r1->golden[i].warped, r2->golden[i].warped), ==, 0);
        }
      gv_result_free (r2);
    }
  gv_result_free (r1);
  synth_feed_free (s);
}

static void
test_corners_1080p (void)
{
  SynthFeed *s = synth_feed_new (1920, 1080, 40, 3);
  GvParams p;
  GvResult *r;
  int found = 0;

  gv_params_init_default (&p);
  p.min_gap = 8;
  r = run_pipeline (s, &p);
  g_assert_cmpint (r->n_golden, >=, 1);
  for (int i = 0; i < r->n_golden; i++)
    {
      const GvGolden *g = &r->golden[i];
      const GvSynthTruth *t = &s->truth[g->frame_index];
      double worst = 0;
      if (!g->cover.found)
        {
          g_test_message ("golden %d: cover not found: %s", i, g->cover.reason);
          continue;
        }
      found++;
      for (int k = 0; k < 4; k++)
        {
          double e = hypot (g->cover.quad.x[k] - t->corners[2 * k],
                            g->cover.quad.y[k] - t->corners[2 * k + 1]);
          worst = e > worst ? e : worst;
        }
      g_test_message ("golden %d (frame %d): worst corner error %.3f px", i, g->frame_index, worst);
      g_assert_cmpfloat (worst, <, 2.0);
      g_assert_nonnull (g->warped);
      g_assert_cmpint (g->warped->width, ==, 1060);
      g_assert_cmpint (g->warped->height, ==, 1640);
    }
  g_assert_cmpint (found, ==, r->n_golden);
  gv_result_free (r);
  synth_feed_free (s);
}

static int
cancel_now (void *ud)
{
  int *calls = ud;
  return ++*calls > 5;
}

static void
test_cancel (void)
{
  SynthFeed *s = synth_feed_new (160, 90, 30, 2);
  GvParams p;
  int calls = 0;
  GvProgress prog = { &calls, NULL, cancel_now };
  GvFrameFeed feed = { s, s->n, sf_next, sf_keep, sf_to_rgb, sf_release, NULL, NULL };
  GvBackend *be = NULL;
  GvResult *r = (GvResult *) 1;

  gv_params_init_default (&p);
  g_assert_cmpint (gv_backend_cpu_new (&p, &be), ==, GV_OK);
  g_assert_cmpint (gv_pipeline_run (be, &p, &feed, &prog, &r), ==, GV_ECANCELLED);
  g_assert_null (r);
  g_assert_cmpint (s->next, <, 10);
  gv_backend_free (be);
  synth_feed_free (s);
}

static void
test_backend_selection (void)
{
  GvParams p;
  GvBackend *be = NULL;
  GvBackendKind k;
  char why[256];

  gv_params_init_default (&p);
  g_assert_cmpint (gv_backend_kind_parse ("cpu", &k), ==, GV_OK);
  g_assert_cmpint (k, ==, GV_BACKEND_CPU);
  g_assert_cmpint (gv_backend_kind_parse ("tpu", &k), ==, GV_EINVAL);
  g_assert_cmpint (gv_backend_new (GV_BACKEND_AUTO, &p, &be, why, sizeof why), ==, GV_OK);
  g_assert_nonnull (be);
  g_test_message ("auto: %s", why);
  if (!gv_backend_cuda_available (NULL, 0))
    {
      g_assert_cmpstr (be->ops->name, ==, "cpu");
      gv_backend_free (be);
      be = NULL;
      g_assert_cmpint (gv_backend_new (GV_BACKEND_CUDA, &p, &be, why, sizeof why), ==, GV_ENODEV);
      g_assert_null (be);
      g_assert_nonnull (strstr (gv_error_message (), "CUDA"));
    }
  gv_backend_free (be);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gv/pipeline/golden-sharp-and-still", test_golden_truly_sharp_and_still);
  g_test_add_func ("/gv/pipeline/thread-invariance", test_thread_invariance);
  g_test_add_func ("/gv/pipeline/corners-1080p", test_corners_1080p);
  g_test_add_func ("/gv/pipeline/cancel", test_cancel);
  g_test_add_func ("/gv/pipeline/backend-selection", test_backend_selection);
  return g_test_run ();
}
