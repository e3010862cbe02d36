/* test-threads.c: the fork-join helper, sharpness and flow statistics: known answers and
 * identical results for any thread count. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "gv-backend.h"
#include "gv-image.h"
#include "gv-kernel-common.h"
#include "gv-vision-kernels.h"
#include "gv-pipeline.h"
#include "gv-threads.h"

typedef struct {
  int *hits;
} HitCtx;

static void
hit_rows (void *data, int b, int e)
{
  HitCtx *c = data;
  for (int i = b; i < e; i++)
    g_atomic_int_inc (&c->hits[i]);
}

static void
test_cover_all (void)
{
  for (int threads = 1; threads <= 5; threads++)
    for (int grain = 1; grain <= 7; grain += 3)
      {
        int hits[101] = { 0 };
        HitCtx c = { hits };
        gv_parallel_for (threads, 101, grain, hit_rows, &c);
        for (int i = 0; i < 101; i++)
          g_assert_cmpint (hits[i], ==, 1);
      }
}

static GvImage *
noise_image (int w, int h, guint32 seed)
{
  GvImage *img = gv_image_new (w, h, 1, GV_U8);
  GRand *r = g_rand_new_with_seed (seed);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      gv_image_row_u8 (img, y)[x] = (guint8) g_rand_int_range (r, 0, 256);
  g_rand_free (r);
  return img;
}

/* Reference: the variance of the Laplacian in double, as numpy computes it (two passes). */
static double
ref_lap_var (const GvImage *img)
{
  int w = img->width, h = img->height;
  double *v = g_new (double, (gsize) w * h), mean = 0, var = 0;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int ym = y > 0 ? y - 1 : 1, yp = y < h - 1 ? y + 1 : h - 2;
        int xm = x > 0 ? x - 1 : 1, xp = x < w - 1 ? x + 1 : w - 2;
        double l = gv_image_row_u8 (img, ym)[x] + gv_image_row_u8 (img, yp)[x]
                   + gv_image_row_u8 (img, y)[xm] + gv_image_row_u8 (img, y)[xp]
                   - 4.0 * gv_image_row_u8 (img, y)[x];
        v[y * w + x] = l;
        mean += l;
      }
  mean /= (double) w * h;
  for (int i = 0; i < w * h; i++)
    var += (v[i] - mean) * (v[i] - mean);
  g_free (v);
  return var / ((double) w * h);
}

static void
test_sharpness (void)
{
  GvImage *img = noise_image (97, 61, 7), *flat = gv_image_new (40, 30, 1, GV_U8);
  double ref = ref_lap_var (img), first = gv_sharpness_laplacian_var (img, NULL, 1);

  g_assert_cmpfloat (fabs (first - ref), <, 1e-9 * ref);
  for (int t = 2; t <= 6; t++)
    g_assert_cmpfloat (gv_sharpness_laplacian_var (img, NULL, t), ==, first);
  /* A flat image has no Laplacian. */
  g_assert_cmpfloat (gv_sharpness_laplacian_var (flat, NULL, 2), ==, 0.0);
  /* A roi covering the whole image equals no roi. */
  GvQuad all = { { -1, 97, 97, -1 }, { -1, -1, 61, 61 } };
  g_assert_cmpfloat (gv_sharpness_laplacian_var (img, &all, 3), ==, first);
  /* A roi over the flat half of an image sees no texture. */
  for (int y = 0; y < img->height; y++)
    for (int x = 50; x < img->width; x++)
      gv_image_row_u8 (img, y)[x] = 100;
  GvQuad right = { { 60, 90, 90, 60 }, { 10, 10, 50, 50 } };
  g_assert_cmpfloat (gv_sharpness_laplacian_var (img, &right, 2), ==, 0.0);
  gv_image_free (img);
  gv_image_free (flat);
}

/* The row-span shortcut equals the per-pixel rule the CUDA backend applies. */
static void
test_roi_matches_per_pixel_rule (void)
{
  GvImage *img = noise_image (120, 90, 3);
  GRand *r = g_rand_new_with_seed (17);

  for (int trial = 0; trial < 40; trial++)
    {
      GvQuad q;
      float qf[8];
      double cx = g_rand_double_range (r, 20, 100), cy = g_rand_double_range (r, 20, 70);
      double a = g_rand_double_range (r, 0, 6.28), rx = g_rand_double_range (r, 5, 70);
      double ry = g_rand_double_range (r, 5, 60);
      /* A convex quad, clockwise in image coordinates (TL, TR, BR, BL), possibly cut. */
      static const double ux[4] = { -1, 1, 1, -1 }, uy[4] = { -1, -1, 1, 1 };
      for (int k = 0; k < 4; k++)
        {
          q.x[k] = cx + rx * ux[k] * cos (a) - ry * uy[k] * sin (a);
          q.y[k] = cy + rx * ux[k] * sin (a) + ry * uy[k] * cos (a);
        }
      gv_quad_to_float (&q, 1.0, 1.0, qf);
      gint64 n = 0, s = 0, sq = 0;
      for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++)
          if (gv_point_in_quad (qf, (float) x, (float) y))
            {
              int ym = y > 0 ? y - 1 : 1, yp = y < img->height - 1 ? y + 1 : img->height - 2;
              int v = gv_laplacian3_at (gv_image_row_u8 (img, ym), gv_image_row_u8 (img, y),
                                        gv_image_row_u8 (img, yp), x, img->width);
              n++, s += v, sq += (gint64) v * v;
            }
      double ref = n ? (double) (n * sq - s * s) / ((double) n * n) : 0.0;
      double got = gv_sharpness_laplacian_var (img, &q, 1 + trial % 3);
      g_assert_cmpfloat (got, ==, ref);
    }
  g_rand_free (r);
  gv_image_free (img);
}

static void
test_flow_stats (void)
{
  GvImage *flow = gv_image_new (64, 48, 2, GV_F32);
  double mean, mx, mean2, mx2;

  for (int y = 0; y < 48; y++)
    for (int x = 0; x < 64; x++)
      {
        float *f = gv_image_row_f32 (flow, y) + 2 * x;
        f[0] = x < 32 ? 3.0f : 0.0f;
        f[1] = x < 32 ? 4.0f : 0.0f;
      }
  g_assert_cmpint (gv_flow_magnitude_stats (flow, NULL, 1.0, 1, &mean, &mx), ==, 64 * 48);
  g_assert_cmpfloat (fabs (mean - 2.5), <, 1e-12);
  g_assert_cmpfloat (mx, ==, 5.0);
  /* Scaled to full resolution (2x): 10 px. */
  gv_flow_magnitude_stats (flow, NULL, 2.0, 3, &mean2, &mx2);
  g_assert_cmpfloat (fabs (mean2 - 5.0), <, 1e-12);
  g_assert_cmpfloat (mx2, ==, 10.0);
  /* Only the moving left half. */
  GvQuad left = { { 0, 31, 31, 0 }, { 0, 0, 47, 47 } };
  long n = gv_flow_magnitude_stats (flow, &left, 1.0, 2, &mean, &mx);
  g_assert_cmpint (n, ==, 32 * 48);
  g_assert_cmpfloat (fabs (mean - 5.0), <, 1e-12);
  gv_image_free (flow);
}

static void
test_golden_select (void)
{
  GvParams p;
  GvFrameRecord f[100];
  int picks[5], n;

  gv_params_init_default (&p);
  memset (f, 0, sizeof f);
  for (int i = 0; i < 100; i++)
    {
      f[i].index = i;
      f[i].sharpness = 100 + (i * 37) % 101; /* a permutation of sharpness values */
      f[i].measured = 1;
      f[i].motion_gate = (i % 10 == 3) ? 5.0 : 0.5; /* every 10th+3 frame moves */
    }
  f[0].measured = 0; /* unmeasured never passes, even with a small value */
  f[0].motion_gate = 0.0;
  f[0].sharpness = 1e9;
  n = gv_golden_select (f, 100, &p, picks);
  g_assert_cmpint (n, ==, 5);
  for (int k = 0; k < n; k++)
    {
      g_assert_true (f[picks[k]].candidate);
      g_assert_cmpint (picks[k], !=, 0);
      g_assert_cmpint (picks[k] % 10, !=, 3);
      if (k)
        g_assert_cmpint (f[picks[k]].index - f[picks[k - 1]].index, >=, 15);
    }
  /* The sharpest candidate is always picked. */
  int best = -1;
  for (int i = 0; i < 100; i++)
    if (f[i].candidate && (best < 0 || f[i].sharpness > f[best].sharpness))
      best = i;
  gboolean found = FALSE;
  for (int k = 0; k < n; k++)
    found |= picks[k] == best;
  g_assert_true (found);
  /* No candidates: no picks. */
  for (int i = 0; i < 100; i++)
    f[i].motion_gate = 2.0;
  g_assert_cmpint (gv_golden_select (f, 100, &p, picks), ==, 0);
  g_assert_cmpint (gv_golden_keep_bound (&p), ==, 155);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gv/threads/cover-all", test_cover_all);
  g_test_add_func ("/gv/threads/sharpness", test_sharpness);
  g_test_add_func ("/gv/threads/flow-stats", test_flow_stats);
  g_test_add_func ("/gv/threads/roi-per-pixel-rule", test_roi_matches_per_pixel_rule);
  g_test_add_func ("/gv/golden/select", test_golden_select);
  return g_test_run ();
}
