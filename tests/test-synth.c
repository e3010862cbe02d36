/* test-synth.c: the synthetic scan renderer: determinism (repeat, thread count, render order),
 * exact truth (corners, flow means against the dense field), the camera path's still and burst
 * periods, defect masks. Small scans (640x360) keep it quick. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "gv-error.h"
#include "gv-synth.h"

#define FW 640
#define FH 360
#define N 90

static void
small_params (GvSynthParams *p, unsigned seed)
{
  gv_synth_params_init_default (p);
  p->width = FW;
  p->height = FH;
  p->n_frames = N;
  p->seed = seed;
}

typedef struct {
  GvSynthParams p;
  GvSynth *s;
  GvImage *img;
  GvSynthTruth truth[N];
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  small_params (&f->p, 7);
  f->s = gv_synth_new (&f->p);
  g_assert_nonnull (f->s);
  f->img = gv_image_new (FW, FH, 3, GV_U8);
  for (int i = 0; i < N; i++)
    g_assert_cmpint (gv_synth_render (f->s, i, f->img, &f->truth[i], 2), ==, GV_OK);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  gv_image_free (f->img);
  gv_synth_free (f->s);
}

static int
find_frame (const Fixture *f, int want_blur, int want_defocus)
{
  for (int i = 1; i < N; i++)
    if ((!want_blur || f->truth[i].motion_blur_px > 3) && (!want_defocus || f->truth[i].defocus_sigma > 0))
      return i;
  return -1;
}

static void
test_determinism (Fixture *f, gconstpointer data)
{
  int frames[4] = { 0, find_frame (f, 0, 0), find_frame (f, 1, 0), find_frame (f, 0, 1) };
  GvImage *a = gv_image_new (FW, FH, 3, GV_U8), *b = gv_image_new (FW, FH, 3, GV_U8);
  GvSynth *fresh = gv_synth_new (&f->p);

  g_assert_cmpint (frames[2], >, 0); /* a blurred frame exists */
  g_assert_cmpint (frames[3], >, 0); /* a defocused frame exists */
  for (int k = 0; k < 4; k++)
    {
      GvSynthTruth ta, tb;
      int i = frames[k];
      g_assert_cmpint (gv_synth_render (f->s, i, a, &ta, 1), ==, GV_OK);
      g_assert_cmpint (gv_synth_render (f->s, i, b, &tb, 3), ==, GV_OK);
      g_assert_cmpint (gv_image_compare (a, b), ==, 0);
      g_assert_cmpint (memcmp (&ta, &tb, sizeof ta), ==, 0);
      /* same bytes from a scan that rendered nothing before (order independence) */
      g_assert_cmpint (gv_synth_render (fresh, i, b, &tb, 0), ==, GV_OK);
      g_assert_cmpint (gv_image_compare (a, b), ==, 0);
      g_assert_cmpint (memcmp (&ta, &tb, sizeof ta), ==, 0);
    }
  /* different frames differ (noise at least) */
  gv_synth_render (f->s, 1, b, NULL, 1);
  gv_synth_render (f->s, 2, a, NULL, 1);
  g_assert_cmpint (gv_image_compare (a, b), !=, 0);
  gv_synth_free (fresh);
  gv_image_free (a);
  gv_image_free (b);
}

static void
apply (const double M[9], double x, double y, double *ox, double *oy)
{
  double w = M[6] * x + M[7] * y + M[8];
  *ox = (M[0] * x + M[1] * y + M[2]) / w;
  *oy = (M[3] * x + M[4] * y + M[5]) / w;
}

static void
test_corners (Fixture *f, gconstpointer data)
{
  double cw = f->p.cover_w, ch = f->p.cover_h;
  const double u[4] = { -0.5, cw - 0.5, cw - 0.5, -0.5 }, v[4] = { -0.5, -0.5, ch - 0.5, ch - 0.5 };
  for (int i = 0; i < N; i++)
    for (int k = 0; k < 4; k++)
      {
        double x, y;
        apply (f->truth[i].H, u[k], v[k], &x, &y);
        g_assert_cmpfloat_with_epsilon (x, f->truth[i].corners[2 * k], 1e-9);
        g_assert_cmpfloat_with_epsilon (y, f->truth[i].corners[2 * k + 1], 1e-9);
        /* the cover stays inside the frame */
        g_assert_cmpfloat (x, >=, 0);
        g_assert_cmpfloat (y, >=, 0);
        g_assert_cmpfloat (x, <=, FW - 1);
        g_assert_cmpfloat (y, <=, FH - 1);
      }
  /* TL, TR, BR, BL run clockwise on screen */
  const double *c = f->truth[0].corners;
  g_assert_cmpfloat (c[2], >, c[0]);
  g_assert_cmpfloat (c[5], >, c[3]);
  g_assert_cmpfloat (c[6], <, c[4]);
}

static void
inv3 (const double m[9], double o[9])
{
  double c0 = m[4] * m[8] - m[5] * m[7], c1 = m[5] * m[6] - m[3] * m[8],
         c2 = m[3] * m[7] - m[4] * m[6];
  double id = 1.0 / (m[0] * c0 + m[1] * c1 + m[2] * c2);
  o[0] = c0 * id, o[1] = (m[2] * m[7] - m[1] * m[8]) * id, o[2] = (m[1] * m[5] - m[2] * m[4]) * id;
  o[3] = c1 * id, o[4] = (m[0] * m[8] - m[2] * m[6]) * id, o[5] = (m[2] * m[3] - m[0] * m[5]) * id;
  o[6] = c2 * id, o[7] = (m[1] * m[6] - m[0] * m[7]) * id, o[8] = (m[0] * m[4] - m[1] * m[3]) * id;
}

static void
test_true_flow (Fixture *f, gconstpointer data)
{
  GvImage *flow = gv_image_new (FW, FH, 2, GV_F32);
  int frames[3] = { 1, find_frame (f, 1, 0), N - 1 };

  g_assert_cmpint (gv_synth_true_flow (f->s, 0, flow), <, 0); /* no previous frame */
  for (int k = 0; k < 3; k++)
    {
      int i = frames[k];
      double sum = 0, sumc = 0, Pinv[9];
      long n = 0;
      g_assert_cmpint (gv_synth_true_flow (f->s, i, flow), ==, GV_OK);
      inv3 (f->truth[i - 1].H, Pinv);
      for (int y = 0; y < FH; y++)
        {
          const float *r = gv_image_row_f32 (flow, y);
          for (int x = 0; x < FW; x++)
            {
              double m = hypot (r[2 * x], r[2 * x + 1]), u, v, x2, y2;
              sum += m;
              apply (Pinv, x, y, &u, &v);
              if (u >= -0.5 && v >= -0.5 && u < f->p.cover_w - 0.5 && v < f->p.cover_h - 0.5)
                sumc += m, n++;
              /* the field maps frame i-1 onto frame i through the two homographies */
              if ((x % 97) == 0 && (y % 89) == 0)
                {
                  apply (f->truth[i].H, u, v, &x2, &y2);
                  g_assert_cmpfloat (fabs (x2 - x - r[2 * x]), <, 1e-3);
                  g_assert_cmpfloat (fabs (y2 - y - r[2 * x + 1]), <, 1e-3);
                }
            }
        }
      /* the dense field is stored as float: 1e-4 px relative covers its rounding */
      g_assert_cmpfloat (fabs (sum / ((double) FW * FH) - f->truth[i].true_flow_frame), <,
                         1e-4 * (1 + f->truth[i].true_flow_frame));
      g_assert_cmpfloat (fabs (sumc / n - f->truth[i].true_flow_cover), <,
                         1e-4 * (1 + f->truth[i].true_flow_cover));
    }
  g_assert_cmpfloat (f->truth[0].true_flow_frame, ==, 0);
  gv_image_free (flow);
}

static void
test_still_and_bursts (Fixture *f, gconstpointer data)
{
  int still = 0, fast = 0, blurred = 0;
  double max_flow = 0;
  for (int i = 1; i < N; i++)
    {
      const GvSynthTruth *t = &f->truth[i];
      if (t->true_flow_cover < 1.0 && t->sharp)
        still++;
      if (t->true_flow_cover > 5.0 && t->motion_blur_px > 3.0)
        fast++;
      if (!t->sharp)
        blurred++;
      g_assert_cmpint (t->sharp, ==, t->motion_blur_px < 1.0 && t->defocus_sigma < 0.6);
      g_assert_cmpfloat (t->exposure, >, 0.8);
      g_assert_cmpfloat (t->exposure, <, 1.2);
      max_flow = fmax (max_flow, t->true_flow_cover);
    }
  g_test_message ("still+sharp %d, fast %d, not sharp %d, max flow %.1f px", still, fast, blurred,
                  max_flow);
  g_assert_cmpint (still, >=, N / 5);
  g_assert_cmpint (fast, >=, 1);
  g_assert_cmpint (blurred, <, N / 2);

  /* without bursts the fastest motion is much slower */
  GvSynthParams p;
  small_params (&p, 7);
  p.bursts = 0;
  GvSynth *s = gv_synth_new (&p);
  GvImage *img = gv_image_new (FW, FH, 3, GV_U8);
  double max_slow = 0;
  for (int i = 1; i < N; i++)
    {
      GvSynthTruth t;
      g_assert_cmpint (gv_synth_render (s, i, img, &t, 0), ==, GV_OK);
      max_slow = fmax (max_slow, t.true_flow_cover);
      g_assert_cmpfloat (t.glare_x, >=, 0);
    }
  g_assert_cmpfloat (max_slow, <, max_flow * 0.5);

  /* motion 0: a tripod, every frame still */
  p.motion = 0;
  p.n_frames = 10;
  gv_synth_free (s);
  s = gv_synth_new (&p);
  for (int i = 1; i < 10; i++)
    {
      GvSynthTruth t;
      gv_synth_render (s, i, img, &t, 0);
      g_assert_cmpfloat (t.true_flow_frame, <, 1e-9);
    }
  gv_synth_free (s);
  gv_image_free (img);
}

static void
test_defects (void)
{
  GvSynthParams p;
  small_params (&p, 3);
  p.n_frames = 2;
  p.n_defects = GV_DEFECT_N_TYPES;
  GvSynth *s = gv_synth_new (&p);
  const GvImage *m = gv_synth_defect_mask (s);
  long count[GV_DEFECT_N_TYPES + 1] = { 0 };

  g_assert_nonnull (s);
  g_assert_cmpint (m->width, ==, p.cover_w);
  g_assert_cmpint (m->height, ==, p.cover_h);
  g_assert_cmpint (gv_synth_n_defects (s), ==, GV_DEFECT_N_TYPES);
  for (int y = 0; y < m->height; y++)
    for (int x = 0; x < m->width; x++)
      {
        int v = gv_image_row_u8 (m, y)[x];
        g_assert_cmpint (v, <=, GV_DEFECT_N_TYPES);
        count[v]++;
      }
  for (int k = 0; k < GV_DEFECT_N_TYPES; k++)
    {
      const GvSynthDefect *d = gv_synth_defect (s, k);
      g_assert_nonnull (d);
      g_test_message ("%s: bbox %d,%d %dx%d severity %.2f, %ld mask px",
                      gv_defect_type_name (d->type), d->bbox[0], d->bbox[1], d->bbox[2],
                      d->bbox[3], d->severity, count[1 + d->type]);
      g_assert_cmpint (count[1 + d->type], >, 0);
      g_assert_cmpint (d->bbox[2], >, 0);
      g_assert_cmpint (d->bbox[0] + d->bbox[2], <=, p.cover_w);
      g_assert_cmpint (d->bbox[1] + d->bbox[3], <=, p.cover_h);
      g_assert_cmpfloat (d->severity, >=, 0);
      g_assert_cmpfloat (d->severity, <=, 1);
    }
  g_assert_null (gv_synth_defect (s, GV_DEFECT_N_TYPES));
  gv_synth_free (s);

  p.n_defects = 0;
  s = gv_synth_new (&p);
  m = gv_synth_defect_mask (s);
  for (int y = 0; y < m->height; y++)
    for (int x = 0; x < m->width; x++)
      g_assert_cmpint (gv_image_row_u8 (m, y)[x], ==, 0);
  g_assert_cmpint (gv_synth_n_defects (s), ==, 0);
  gv_synth_free (s);
}

static void
test_params (void)
{
  GvSynthParams p;
  GvImage *img = gv_image_new (FW, FH, 3, GV_U8);
  small_params (&p, 1);
  g_assert_cmpint (gv_synth_params_validate (&p), ==, GV_OK);
  p.cover_fill = 2;
  g_assert_null (gv_synth_new (&p));
  g_assert_cmpint (gv_error_code (), ==, GV_EINVAL);
  g_assert_nonnull (strstr (gv_error_message (), "cover fill"));
  small_params (&p, 1);
  p.n_frames = 0;
  g_assert_cmpint (gv_synth_params_validate (&p), ==, GV_EINVAL);
  small_params (&p, 1);
  p.n_frames = 3;
  p.vfr = 1;
  GvSynth *s = gv_synth_new (&p);
  g_assert_cmpint (gv_synth_render (s, 3, img, NULL, 1), ==, GV_EINVAL);
  g_assert_cmpfloat (gv_synth_frame_time (s, 0), ==, 0);
  g_assert_cmpfloat (gv_synth_frame_time (s, 1), >, 0);
  g_assert_cmpfloat (gv_synth_frame_time (s, 2), >, gv_synth_frame_time (s, 1));
  GvImage *wrong = gv_image_new (FW / 2, FH, 3, GV_U8);
  g_assert_cmpint (gv_synth_render (s, 0, wrong, NULL, 1), ==, GV_EINVAL);
  gv_image_free (wrong);
  gv_synth_free (s);
  gv_image_free (img);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/gv/synth/determinism", Fixture, NULL, fixture_setup, test_determinism, fixture_teardown);
  g_test_add ("/gv/synth/corners", Fixture, NULL, fixture_setup, test_corners, fixture_teardown);
  g_test_add ("/gv/synth/true-flow", Fixture, NULL, fixture_setup, test_true_flow, fixture_teardown);
  g_test_add ("/gv/synth/still-and-bursts", Fixture, NULL, fixture_setup, test_still_and_bursts,
              fixture_teardown);
  g_test_add_func ("/gv/synth/defects", test_defects);
  g_test_add_func ("/gv/synth/params", test_params);
  return g_test_run ();
}
