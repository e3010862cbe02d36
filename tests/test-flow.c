/* test-flow.c: Farneback optical flow (gv-farneback.c) against OpenCV 4.6 and against exact
 * ground truth, thread-count determinism, pyramid reuse, the shared kernels, area resize and
 * the analysis size. Fixtures: tests/data/flow/, made by tools/make-flow-fixtures.py. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gv-error.h"
#include "gv-flow-kernels.h"
#include "gv-flow.h"
#include "gv-image.h"
#include "gv-params.h"

/* Mean end-point difference allowed against OpenCV's flow. We compute in float32 with a fixed
 * summation order where OpenCV sums the windows and solves in double, so a few hundredths of a
 * pixel remain in the worst places (texture-poor windows); 0.05 px is the project's bound. */
#define GV_TOL_OPENCV_EPE 0.05
/* Our error against the exact ground truth may exceed OpenCV's by this much: the rounding
 * differences above move the mean either way by ~1e-4 px, never systematically. */
#define GV_TOL_GT_EPE 1e-3
#define GV_EPE_MARGIN 8 /* as EPE_MARGIN in tools/make-flow-fixtures.py */

static char *
fixture_dir (void)
{
  const char *src = g_getenv ("GV_SOURCE_DIR");
  if (!src)
    return NULL;
  return g_build_filename (src, "tests", "data", "flow", NULL);
}

/* Binary PGM (P5, maxval 255) as written by OpenCV. */
static GvImage *
read_pgm (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  int w = 0, h = 0, maxv = 0, pos = 0;
  GvImage *img;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return NULL;
  if (sscanf (data, "P5 %d %d %d%n", &w, &h, &maxv, &pos) != 3 || maxv != 255 || w < 1 || h < 1)
    return NULL;
  pos++; /* the single whitespace after maxval */
  if ((gsize) pos + (gsize) w * h > len)
    return NULL;
  img = gv_image_new (w, h, 1, GV_U8);
  g_assert_nonnull (img);
  for (int y = 0; y < h; y++)
    memcpy (gv_image_row_u8 (img, y), data + pos + (gsize) y * w, (size_t) w);
  return img;
}

static double
mean_epe_diff (const GvImage *a, const GvImage *b, int margin)
{
  double s = 0.0;
  long n = 0;
  for (int y = margin; y < a->height - margin; y++)
    {
      const float *pa = gv_image_row_f32 (a, y), *pb = gv_image_row_f32 (b, y);
      for (int x = margin; x < a->width - margin; x++, n++)
        s += hypot ((double) pa[2 * x] - pb[2 * x], (double) pa[2 * x + 1] - pb[2 * x + 1]);
    }
  return s / n;
}

static double
mean_epe_affine (const GvImage *f, const double A[6], int margin)
{
  double s = 0.0;
  long n = 0;
  for (int y = margin; y < f->height - margin; y++)
    {
      const float *p = gv_image_row_f32 (f, y);
      for (int x = margin; x < f->width - margin; x++, n++)
        {
          double gx = A[0] * x + A[1] * y + A[2] - x, gy = A[3] * x + A[4] * y + A[5] - y;
          s += hypot (p[2 * x] - gx, p[2 * x + 1] - gy);
        }
    }
  return s / n;
}

static void
params_worker (GvFlowParams *p)
{
  gv_flow_params_init_default (p);
  p->pyr_scale = 0.5;
  p->levels = 3;
  p->winsize = 15;
  p->iterations = 3;
  p->poly_n = 5;
  p->poly_sigma = 1.2;
}

/* Smooth deterministic texture sampled at (x - dx, y - dy). */
static GvImage *
make_texture (int w, int h, double dx, double dy, double contrast)
{
  GvImage *img = gv_image_new (w, h, 1, GV_U8);
  static const double k[6][3] = { { 0.31, 0.17, 0.3 },  { -0.12, 0.41, 1.1 }, { 0.53, -0.22, 2.0 },
                                   { 0.07, 0.26, 4.1 },  { 0.22, 0.61, 0.7 },  { -0.45, 0.09, 5.3 } };
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        double v = 0, sx = x - dx, sy = y - dy;
        for (int i = 0; i < 6; i++)
          v += sin (k[i][0] * sx + k[i][1] * sy + k[i][2]);
        double q = 128.0 + contrast * v / 3.0;
        gv_image_row_u8 (img, y)[x] = (uint8_t) (q < 0 ? 0 : q > 255 ? 255 : lrint (q));
      }
  return img;
}

static void
test_opencv_agreement (void)
{
  g_autofree char *dir = fixture_dir ();
  g_autofree char *manifest = NULL;
  g_auto (GStrv) lines = NULL;
  GvFlowParams p;
  int npairs = 0;

  if (!dir)
    {
      g_test_skip ("GV_SOURCE_DIR is not set");
      return;
    }
  g_autofree char *mpath = g_build_filename (dir, "manifest.txt", NULL);
  g_assert_true (g_file_get_contents (mpath, &manifest, NULL, NULL));
  params_worker (&p);
  lines = g_strsplit (manifest, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      char name[64];
      double A[6], cv_epe;
      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      g_assert_cmpint (sscanf (lines[i], "%63s %lf %lf %lf %lf %lf %lf %lf", name, &A[0], &A[1],
                               &A[2], &A[3], &A[4], &A[5], &cv_epe),
                       ==, 8);
      g_autofree char *f0 = g_strdup_printf ("%s/%s-0.pgm", dir, name);
      g_autofree char *f1 = g_strdup_printf ("%s/%s-1.pgm", dir, name);
      g_autofree char *fc = g_strdup_printf ("%s/%s-opencv.flo", dir, name);
      GvImage *a = read_pgm (f0), *b = read_pgm (f1), *cv = gv_flow_read_flo (fc);
      g_assert_nonnull (a);
      g_assert_nonnull (b);
      g_assert_nonnull (cv);
      GvImage *flow = gv_image_new (a->width, a->height, 2, GV_F32);
      g_assert_cmpint (gv_flow_farneback (a, b, &p, 2, flow), ==, GV_OK);
      double d_cv = mean_epe_diff (flow, cv, 0);
      double d_cv_in = mean_epe_diff (flow, cv, GV_EPE_MARGIN);
      double ours = mean_epe_affine (flow, A, GV_EPE_MARGIN);
      g_test_message ("%s: mean |ours - OpenCV| = %.2e px (interior %.2e); EPE vs truth: ours "
                      "%.5f, OpenCV %.5f",
                      name, d_cv, d_cv_in, ours, cv_epe);
      g_assert_cmpfloat (d_cv, <, GV_TOL_OPENCV_EPE);
      g_assert_cmpfloat (ours, <=, cv_epe + GV_TOL_GT_EPE);
      gv_image_free (a);
      gv_image_free (b);
      gv_image_free (cv);
      gv_image_free (flow);
      npairs++;
    }
  g_assert_cmpint (npairs, >=, 4);
}

static void
test_constant_shift (void)
{
  GvFlowParams p;
  GvImage *a = make_texture (192, 144, 0, 0, 90), *b = make_texture (192, 144, 2.0, -1.0, 90);
  GvImage *flow = gv_image_new (192, 144, 2, GV_F32);
  double sx = 0, sy = 0;
  long n = 0;

  params_worker (&p);
  g_assert_cmpint (gv_flow_farneback (a, b, &p, 1, flow), ==, GV_OK);
  for (int y = 16; y < 144 - 16; y++)
    for (int x = 16; x < 192 - 16; x++, n++)
      {
        sx += gv_image_row_f32 (flow, y)[2 * x];
        sy += gv_image_row_f32 (flow, y)[2 * x + 1];
      }
  /* 8-bit quantisation of the shifted texture limits the accuracy to a few hundredths */
  g_assert_cmpfloat (fabs (sx / n - 2.0), <, 0.03);
  g_assert_cmpfloat (fabs (sy / n + 1.0), <, 0.03);
  gv_image_free (a);
  gv_image_free (b);
  gv_image_free (flow);
}

static void
test_zero_flow (void)
{
  GvFlowParams p;
  GvImage *a = make_texture (160, 120, 0, 0, 90);
  GvImage *flow = gv_image_new (160, 120, 2, GV_F32);

  params_worker (&p);
  GvImage *flat = gv_image_new (160, 120, 1, GV_U8);
  double mx = 0, mx_in = 0;

  /* a flat image has no structure at all: exactly zero flow */
  memset (flat->data, 77, flat->stride * 120);
  g_assert_cmpint (gv_flow_farneback (flat, flat, &p, 2, flow), ==, GV_OK);
  for (int y = 0; y < 120; y++)
    for (int x = 0; x < 2 * 160; x++)
      g_assert_cmpfloat (gv_image_row_f32 (flow, y)[x], ==, 0.0f);
  gv_image_free (flat);

  /* Identical textured frames: not exactly 0, in OpenCV either (0.12 px at most on the
   * subpixel fixture): the last row and column sample the second image outside its bilinear
   * support, which OpenCV (and we) treat as "no match"; the windows and the pyramid spread that
   * a little. Away from the border it is negligible. */
  g_assert_cmpint (gv_flow_farneback (a, a, &p, 2, flow), ==, GV_OK);
  for (int y = 0; y < 120; y++)
    for (int x = 0; x < 2 * 160; x++)
      {
        double v = fabs (gv_image_row_f32 (flow, y)[x]);
        mx = MAX (mx, v);
        if (y >= 16 && y < 120 - 16 && x >= 32 && x < 2 * 160 - 32)
          mx_in = MAX (mx_in, v);
      }
  g_test_message ("largest |flow| for identical frames: %g px, %g px inside", mx, mx_in);
  g_assert_cmpfloat (mx, <, 0.25);
  g_assert_cmpfloat (mx_in, <, 0.01);
  gv_image_free (a);
  gv_image_free (flow);
}

static void
test_determinism (void)
{
  static const int threads[] = { 1, 2, 3, 4, 7 };
  GvFlowParams p;
  int w = 333, h = 217; /* odd sizes: partial row blocks and lanes */
  GvImage *a = make_texture (w, h, 0, 0, 90), *b = make_texture (w, h, 1.7, 0.9, 90);
  GvImage *ref = gv_image_new (w, h, 2, GV_F32), *flow = gv_image_new (w, h, 2, GV_F32);

  params_worker (&p);
  g_assert_cmpint (gv_flow_farneback (a, b, &p, 1, ref), ==, GV_OK);
  for (guint i = 1; i < G_N_ELEMENTS (threads); i++)
    {
      memset (flow->data, 0xff, flow->stride * (size_t) h);
      g_assert_cmpint (gv_flow_farneback (a, b, &p, threads[i], flow), ==, GV_OK);
      g_assert_cmpint (gv_image_compare (ref, flow), ==, 0);
    }
  /* other parameters too: 7-point expansion, Gaussian sigma, more levels, a non-0.5 scale */
  p.poly_n = 7;
  p.poly_sigma = 1.5;
  p.pyr_scale = 0.7;
  p.levels = 5;
  p.winsize = 21;
  g_assert_cmpint (gv_flow_farneback (a, b, &p, 1, ref), ==, GV_OK);
  g_assert_cmpint (gv_flow_farneback (a, b, &p, 4, flow), ==, GV_OK);
  g_assert_cmpint (gv_image_compare (ref, flow), ==, 0);
  gv_image_free (a);
  gv_image_free (b);
  gv_image_free (ref);
  gv_image_free (flow);
}

static void
test_pyramid_reuse (void)
{
  GvFlowParams p;
  int w = 200, h = 150;
  GvImage *f[3] = { make_texture (w, h, 0, 0, 90), make_texture (w, h, 1.2, 0.4, 90),
                    make_texture (w, h, 2.1, 1.0, 90) };
  GvFlowPyramid *pyr[3];
  GvImage *a = gv_image_new (w, h, 2, GV_F32), *b = gv_image_new (w, h, 2, GV_F32);

  params_worker (&p);
  for (int i = 0; i < 3; i++)
    {
      pyr[i] = gv_flow_pyramid_new (f[i], &p, 3);
      g_assert_nonnull (pyr[i]);
    }
  for (int i = 0; i < 2; i++)
    {
      g_assert_cmpint (gv_flow_farneback_pyr (pyr[i], pyr[i + 1], &p, 2, a), ==, GV_OK);
      g_assert_cmpint (gv_flow_farneback (f[i], f[i + 1], &p, 1, b), ==, GV_OK);
      g_assert_cmpint (gv_image_compare (a, b), ==, 0);
    }
  /* an F32 input gives the same pyramid as the U8 one */
  GvImage *ff = gv_image_new (w, h, 1, GV_F32);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      gv_image_row_f32 (ff, y)[x] = gv_image_row_u8 (f[1], y)[x];
  GvFlowPyramid *pf = gv_flow_pyramid_new (ff, &p, 2);
  g_assert_nonnull (pf);
  g_assert_cmpint (gv_flow_farneback_pyr (pyr[0], pf, &p, 2, a), ==, GV_OK);
  g_assert_cmpint (gv_flow_farneback_pyr (pyr[0], pyr[1], &p, 2, b), ==, GV_OK);
  g_assert_cmpint (gv_image_compare (a, b), ==, 0);
  gv_flow_pyramid_free (pf);
  gv_image_free (ff);
  for (int i = 0; i < 3; i++)
    {
      gv_flow_pyramid_free (pyr[i]);
      gv_image_free (f[i]);
    }
  gv_image_free (a);
  gv_image_free (b);
}

/* The eight-lane forms used by the CPU must give the bits of the per-pixel forms the CUDA
 * backend uses. */
static void
test_kernels_lanes (void)
{
  enum { N = 64, S = 80 };
  float img[S * 40], o8[5][8], o1[5];
  float t0[S], t1[S], t2[S];
  float k[4] = { 0.4f, 0.2f, 0.07f, 0.03f };
  GvPolyTaps pt = { 5, { 0.3f, 0.2f, 0.1f, 0.05f, 0.02f, 0.01f }, { 0, 0.2f, 0.2f, 0.15f, 0.08f, 0.05f },
                    { 0, 0.2f, 0.4f, 0.45f, 0.32f, 0.25f }, 1.7f, -0.3f, 0.9f, 2.1f };
  GRand *r = g_rand_new_with_seed (7);

  for (int i = 0; i < S * 40; i++)
    img[i] = (float) g_rand_double_range (r, -100, 300);
  for (int i = 0; i < S; i++)
    {
      t0[i] = (float) g_rand_double_range (r, -50, 50);
      t1[i] = (float) g_rand_double_range (r, -50, 50);
      t2[i] = (float) g_rand_double_range (r, -50, 50);
    }
  for (int y = 0; y < 40; y += 3)
    for (int x = 8; x < N; x += 8)
      {
        if (y >= 3 && y < 37)
          {
            gv_fir_sym_x8 (o8[0], img + y * S + x, S, k, 3);
            for (int j = 0; j < 8; j++)
              g_assert_true (o8[0][j] == gv_fir_sym_px (img + y * S + x + j, S, k, 3));
          }
        gv_polyexp_v_x8 (img, S, x, y, 40, &pt, o8[0], o8[1], o8[2]);
        for (int j = 0; j < 8; j++)
          {
            gv_polyexp_v_px (img, S, x + j, y, 40, &pt, &o1[0], &o1[1], &o1[2]);
            g_assert_true (o8[0][j] == o1[0] && o8[1][j] == o1[1] && o8[2][j] == o1[2]);
          }
        gv_polyexp_h_x8 (t0, t1, t2, x, &pt, o8[0], o8[1], o8[2], o8[3], o8[4]);
        for (int j = 0; j < 8; j++)
          {
            gv_polyexp_h_px (t0, t1, t2, x + j, &pt, &o1[0], &o1[1], &o1[2], &o1[3], &o1[4]);
            for (int c = 0; c < 5; c++)
              g_assert_true (o8[c][j] == o1[c]);
          }
        gv_solve_flow_x8 (img + x, img + S + x, img + 2 * S + x, img + 3 * S + x,
                          img + 4 * S + x, 1.0f / 225.0f, o8[0], o8[1]);
        for (int j = 0; j < 8; j++)
          {
            gv_solve_flow_px (img[x + j], img[S + x + j], img[2 * S + x + j], img[3 * S + x + j],
                              img[4 * S + x + j], 1.0f / 225.0f, &o1[0], &o1[1]);
            g_assert_true (memcmp (&o8[0][j], &o1[0], 4) == 0 && memcmp (&o8[1][j], &o1[1], 4) == 0);
          }
      }

  /* matrix update: R0, R1 five planes of 40 x 21 (row pitch S), flows in and out of range */
  {
    enum { MW = 40, MH = 21 };
    static float R0[5 * S * MH], R1[5 * S * MH], fx[S], fy[S], colw[S];
    static int colb[S];
    for (int i = 0; i < 5 * S * MH; i++)
      {
        R0[i] = (float) g_rand_double_range (r, -20, 20);
        R1[i] = (float) g_rand_double_range (r, -20, 20);
      }
    for (int x = 0; x < S; x++)
      {
        colb[x] = x < MW ? gv_border_flag (x, MW) : 0;
        colw[x] = x < MW ? gv_border_lo (x) * gv_border_hi (x, MW) : 1.0f;
      }
    for (int y = 0; y < MH; y++)
      {
        for (int x = 0; x < S; x++)
          {
            fx[x] = (float) g_rand_double_range (r, -4, 4) * (x % 7 == 0 ? 10.0f : 1.0f);
            fy[x] = (float) g_rand_double_range (r, -4, 4);
          }
        fx[3] = NAN;
        for (int x = 0; x < MW; x += 8)
          {
            gv_update_matrices_x8 (R0, R1, S, S * MH, x, y, MW, MH, fx, fy, colw, colb, o8[0],
                                   o8[1], o8[2], o8[3], o8[4]);
            for (int j = 0; j < 8 && x + j < MW; j++)
              {
                gv_update_matrices_px (R0, R1, S, S * MH, x + j, y, MW, MH, fx[x + j], fy[x + j],
                                       &o1[0], &o1[1], &o1[2], &o1[3], &o1[4]);
                for (int c = 0; c < 5; c++)
                  g_assert_true (memcmp (&o8[c][j], &o1[c], 4) == 0);
              }
          }
      }
  }
  g_rand_free (r);
}

static void
test_bad_input (void)
{
  GvFlowParams p;
  GvImage *a = gv_image_new (64, 48, 1, GV_U8), *b = gv_image_new (64, 40, 1, GV_U8);
  GvImage *rgb = gv_image_new (64, 48, 3, GV_U8), *flow = gv_image_new (64, 48, 2, GV_F32);
  GvImage *flow1 = gv_image_new (64, 48, 1, GV_F32);

  params_worker (&p);
  g_assert_cmpint (gv_flow_farneback (a, b, &p, 1, flow), ==, GV_EINVAL);
  g_assert_cmpint (gv_flow_farneback (a, rgb, &p, 1, flow), ==, GV_EINVAL);
  g_assert_cmpint (gv_flow_farneback (a, a, &p, 1, flow1), ==, GV_EINVAL);
  g_assert_cmpint (gv_flow_farneback (a, a, &p, 1, NULL), ==, GV_EINVAL);
  g_assert_cmpint (gv_flow_farneback (NULL, a, &p, 1, flow), ==, GV_EINVAL);
  g_assert_null (gv_flow_pyramid_new (rgb, &p, 1));
  g_assert_cmpint (gv_error_code (), ==, GV_EINVAL);
  p.poly_n = 6;
  g_assert_cmpint (gv_flow_farneback (a, a, &p, 1, flow), ==, GV_EINVAL);
  params_worker (&p);
  GvFlowPyramid *pa = gv_flow_pyramid_new (a, &p, 1), *pb = gv_flow_pyramid_new (b, &p, 1);
  g_assert_nonnull (pa);
  g_assert_nonnull (pb);
  g_assert_cmpint (gv_flow_farneback_pyr (pa, pb, &p, 1, flow), ==, GV_EINVAL);
  g_assert_cmpint (gv_flow_farneback_pyr (pa, NULL, &p, 1, flow), ==, GV_EINVAL);
  p.levels = 2;
  g_assert_cmpint (gv_flow_farneback_pyr (pa, pa, &p, 1, flow), ==, GV_EINVAL);
  gv_flow_pyramid_free (pa);
  gv_flow_pyramid_free (pb);
  gv_flow_pyramid_free (NULL);
  g_assert_cmpint (gv_resize_area_u8 (a, rgb, 1), ==, GV_EINVAL);
  g_assert_cmpint (gv_resize_area_u8 (b, a, 1), ==, GV_EINVAL); /* upscale */
  g_assert_null (gv_flow_read_flo ("/nonexistent/x.flo"));
  gv_image_free (a);
  gv_image_free (b);
  gv_image_free (rgb);
  gv_image_free (flow);
  gv_image_free (flow1);
}

static void
test_tiny_images (void)
{
  GvFlowParams p;

  params_worker (&p);
  for (int s = 1; s <= 40; s += 13)
    {
      GvImage *a = make_texture (s, s + 2, 0, 0, 90), *b = make_texture (s, s + 2, 0.5, 0, 90);
      GvImage *flow = gv_image_new (s, s + 2, 2, GV_F32);
      g_assert_cmpint (gv_flow_farneback (a, b, &p, 2, flow), ==, GV_OK);
      gv_image_free (a);
      gv_image_free (b);
      gv_image_free (flow);
    }
}

static void
test_flo_roundtrip (void)
{
  GvImage *f = gv_image_new (7, 5, 2, GV_F32), *g;
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "gv-test-flow.flo", NULL);

  for (int y = 0; y < 5; y++)
    for (int x = 0; x < 14; x++)
      gv_image_row_f32 (f, y)[x] = (float) (y * 100 + x) / 7.0f;
  g_assert_cmpint (gv_flow_write_flo (f, path), ==, GV_OK);
  g = gv_flow_read_flo (path);
  g_assert_nonnull (g);
  g_assert_cmpint (gv_image_compare (f, g), ==, 0);
  g_remove (path);
  gv_image_free (f);
  gv_image_free (g);
}

static void
test_resize_area (void)
{
  GvImage *src = gv_image_new (8, 6, 1, GV_U8), *dst = gv_image_new (4, 3, 1, GV_U8);

  /* 2x2 blocks: sum + 2, divided by 4 (OpenCV's resizeAreaFast) */
  for (int y = 0; y < 6; y++)
    for (int x = 0; x < 8; x++)
      gv_image_row_u8 (src, y)[x] = (uint8_t) (x * 10 + y * 3 + ((x + y) & 1));
  g_assert_cmpint (gv_resize_area_u8 (src, dst, 2), ==, GV_OK);
  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 4; x++)
      {
        int s = 0;
        for (int j = 0; j < 2; j++)
          for (int i = 0; i < 2; i++)
            s += gv_image_row_u8 (src, 2 * y + j)[2 * x + i];
        g_assert_cmpint (gv_image_row_u8 (dst, y)[x], ==, (s + 2) / 4);
      }
  g_assert_cmpint (gv_image_row_u8 (dst, 0)[0], ==, (0 + 11 + 4 + 13 + 2) / 4);
  gv_image_free (dst);

  /* constant images stay constant for integer and fractional ratios */
  int sizes[][2] = { { 8, 6 }, { 3, 2 }, { 5, 4 }, { 7, 5 }, { 1, 1 } };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      GvImage *big = gv_image_new (37, 23, 1, GV_U8), *d;
      memset (big->data, 173, big->stride * 23);
      d = gv_image_new (sizes[i][0], sizes[i][1], 1, GV_U8);
      g_assert_cmpint (gv_resize_area_u8 (big, d, 3), ==, GV_OK);
      for (int y = 0; y < d->height; y++)
        for (int x = 0; x < d->width; x++)
          g_assert_cmpint (gv_image_row_u8 (d, y)[x], ==, 173);
      gv_image_free (d);
      gv_image_free (big);
    }

  /* a 1.5x ratio: each output averages a 1.5 x 1.5 cell (weights 2/3 and 1/3) */
  GvImage *s3 = gv_image_new (3, 3, 1, GV_U8), *d2 = gv_image_new (2, 2, 1, GV_U8);
  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 3; x++)
      gv_image_row_u8 (s3, y)[x] = (uint8_t) (x == 1 ? 90 : 0);
  g_assert_cmpint (gv_resize_area_u8 (s3, d2, 1), ==, GV_OK);
  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 2; x++)
      g_assert_cmpint (gv_image_row_u8 (d2, y)[x], ==, 30); /* 90 * 1/3 */
  gv_image_free (s3);
  gv_image_free (d2);

  /* same result whatever the thread count */
  GvImage *t = make_texture (301, 211, 0, 0, 90);
  GvImage *r1 = gv_image_new (113, 79, 1, GV_U8), *r4 = gv_image_new (113, 79, 1, GV_U8);
  g_assert_cmpint (gv_resize_area_u8 (t, r1, 1), ==, GV_OK);
  g_assert_cmpint (gv_resize_area_u8 (t, r4, 4), ==, GV_OK);
  g_assert_cmpint (gv_image_compare (r1, r4), ==, 0);
  gv_image_free (t);
  gv_image_free (r1);
  gv_image_free (r4);
  gv_image_free (src);
}

static void
test_analysis_dims (void)
{
  static const int cases[][5] = {
    { 1920, 1080, 640, 640, 360 }, { 1080, 1920, 640, 360, 640 }, { 1920, 1080, 0, 1920, 1080 },
    { 1920, 1080, 1920, 1920, 1080 }, { 1920, 1080, 4000, 1920, 1080 }, { 1000, 999, 500, 500, 500 },
    { 1280, 720, 480, 480, 270 }, { 100, 33, 50, 50, 17 }, { 640, 480, 320, 320, 240 },
    { 3, 1000, 100, 1, 100 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      int w = -1, h = -1;
      gv_analysis_dims (cases[i][0], cases[i][1], cases[i][2], &w, &h);
      g_assert_cmpint (w, ==, cases[i][3]);
      g_assert_cmpint (h, ==, cases[i][4]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gv/flow/opencv-agreement", test_opencv_agreement);
  g_test_add_func ("/gv/flow/constant-shift", test_constant_shift);
  g_test_add_func ("/gv/flow/zero-flow", test_zero_flow);
  g_test_add_func ("/gv/flow/determinism", test_determinism);
  g_test_add_func ("/gv/flow/pyramid-reuse", test_pyramid_reuse);
  g_test_add_func ("/gv/flow/kernels-lanes", test_kernels_lanes);
  g_test_add_func ("/gv/flow/bad-input", test_bad_input);
  g_test_add_func ("/gv/flow/tiny-images", test_tiny_images);
  g_test_add_func ("/gv/flow/flo-roundtrip", test_flo_roundtrip);
  g_test_add_func ("/gv/resize/area", test_resize_area);
  g_test_add_func ("/gv/resize/analysis-dims", test_analysis_dims);
  return g_test_run ();
}
