/* gv-geometry.c: homographies and the perspective warp.
 *
 * Convention: pixel centres lie at integer coordinates everywhere (frame and canonical cover);
 * pixel (i, j) covers [i - 0.5, i + 0.5] x [j - 0.5, j + 0.5]. The canonical cover's corner
 * pixel centres (0, 0), (w-1, 0), (w-1, h-1), (0, h-1) map onto the quad's TL, TR, BR, BL.
 *
 * Homography from 4 correspondences: the direct linear transform with h33 = 1 after Hartley's
 * normalisation of both point sets (centroid at 0, mean distance sqrt 2), solved as an 8x8
 * system by Gaussian elimination with partial pivoting (Hartley & Zisserman, Multiple View
 * Geometry, 2nd ed., 4.4). The warp's per-pixel code is in gv-geometry-kernels.h. */
#include "gv-geometry.h"

#include <math.h>
#include <string.h>

#include "gv-error.h"
#include "gv-geometry-kernels.h"
#include "gv-threads.h"

/* Solves A x = b (n <= 8) in place; 0 when the matrix is (numerically) singular. */
static int
gv_solve (double A[8][8], double b[8], int n, double x[8])
{
  double scale = 0.0;

  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      scale = fmax (scale, fabs (A[i][j]));
  if (!(scale > 0.0))
    return 0;
  for (int k = 0; k < n; k++)
    {
      int p = k;
      for (int i = k + 1; i < n; i++)
        if (fabs (A[i][k]) > fabs (A[p][k]))
          p = i;
      /* Normalised data has entries of order 1: a pivot below 1e-10 of the largest entry means
       * three of the points are (nearly) collinear. */
      if (fabs (A[p][k]) < 1e-10 * scale)
        return 0;
      if (p != k)
        {
          for (int j = 0; j < n; j++)
            {
              double t = A[k][j];
              A[k][j] = A[p][j];
              A[p][j] = t;
            }
          double t = b[k];
          b[k] = b[p];
          b[p] = t;
        }
      for (int i = k + 1; i < n; i++)
        {
          double f = A[i][k] / A[k][k];
          for (int j = k; j < n; j++)
            A[i][j] -= f * A[k][j];
          b[i] -= f * b[k];
        }
    }
  for (int i = n - 1; i >= 0; i--)
    {
      double s = b[i];
      for (int j = i + 1; j < n; j++)
        s -= A[i][j] * x[j];
      x[i] = s / A[i][i];
    }
  return 1;
}

/* Similarity T with T p = normalised p; 0 when the points coincide. */
static int
gv_normaliser (const double p[8], double T[9])
{
  double cx = 0, cy = 0, d = 0;

  for (int i = 0; i < 4; i++)
    {
      if (!isfinite (p[2 * i]) || !isfinite (p[2 * i + 1]))
        return 0;
      cx += p[2 * i] / 4;
      cy += p[2 * i + 1] / 4;
    }
  for (int i = 0; i < 4; i++)
    d += hypot (p[2 * i] - cx, p[2 * i + 1] - cy) / 4;
  if (!(d > 0.0))
    return 0;
  double s = 1.4142135623730951 / d;
  double t[9] = { s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1 };
  memcpy (T, t, sizeof t);
  return 1;
}

static void
gv_mat3_mul (const double A[9], const double B[9], double C[9])
{
  double R[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      R[3 * i + j] = A[3 * i] * B[j] + A[3 * i + 1] * B[3 + j] + A[3 * i + 2] * B[6 + j];
  memcpy (C, R, sizeof R);
}

/* 1 when no three of the four points are collinear (relative to their spread). */
static int
gv_points_general (const double p[8])
{
  double ext = 0.0;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      ext = fmax (ext, hypot (p[2 * i] - p[2 * j], p[2 * i + 1] - p[2 * j + 1]));
  if (!(ext > 0.0))
    return 0;
  for (int a = 0; a < 4; a++)
    {
      int i = (a + 1) & 3, j = (a + 2) & 3, k = (a + 3) & 3;
      double cr = (p[2 * j] - p[2 * i]) * (p[2 * k + 1] - p[2 * i + 1])
                  - (p[2 * j + 1] - p[2 * i + 1]) * (p[2 * k] - p[2 * i]);
      /* Triangle area below 1e-9 of the squared extent: collinear to double precision. */
      if (fabs (cr) < 1e-9 * ext * ext)
        return 0;
    }
  return 1;
}

int
gv_homography_from_points (const double src[8], const double dst[8], double H[9])
{
  double Ts[9], Td[9], Tdinv[9], A[8][8], b[8], h[8], Hn[9], s[8], d[8];

  if (!src || !dst || !H)
    return gv_error_set (GV_EINVAL, "homography: NULL argument");
  if (!gv_normaliser (src, Ts) || !gv_normaliser (dst, Td) || !gv_points_general (src)
      || !gv_points_general (dst))
    return gv_error_set (GV_EINVAL, "homography: degenerate points (coincident or collinear)");
  for (int i = 0; i < 4; i++)
    {
      s[2 * i] = Ts[0] * src[2 * i] + Ts[2];
      s[2 * i + 1] = Ts[4] * src[2 * i + 1] + Ts[5];
      d[2 * i] = Td[0] * dst[2 * i] + Td[2];
      d[2 * i + 1] = Td[4] * dst[2 * i + 1] + Td[5];
    }
  for (int i = 0; i < 4; i++)
    {
      double x = s[2 * i], y = s[2 * i + 1], u = d[2 * i], v = d[2 * i + 1];
      double r0[8] = { x, y, 1, 0, 0, 0, -u * x, -u * y };
      double r1[8] = { 0, 0, 0, x, y, 1, -v * x, -v * y };
      memcpy (A[2 * i], r0, sizeof r0);
      memcpy (A[2 * i + 1], r1, sizeof r1);
      b[2 * i] = u;
      b[2 * i + 1] = v;
    }
  if (!gv_solve (A, b, 8, h))
    return gv_error_set (GV_EINVAL, "homography: singular system (degenerate points)");
  memcpy (Hn, h, sizeof h);
  Hn[8] = 1.0;
  /* H = Td^-1 Hn Ts */
  double id = 1.0 / Td[0];
  double ti[9] = { id, 0, -Td[2] * id, 0, id, -Td[5] * id, 0, 0, 1 };
  memcpy (Tdinv, ti, sizeof ti);
  gv_mat3_mul (Hn, Ts, Hn);
  gv_mat3_mul (Tdinv, Hn, H);
  if (fabs (H[8]) > 1e-300)
    {
      double k = 1.0 / H[8];
      for (int i = 0; i < 9; i++)
        H[i] *= k;
    }
  for (int i = 0; i < 9; i++)
    if (!isfinite (H[i]))
      return gv_error_set (GV_EINVAL, "homography: not finite (degenerate points)");
  return GV_OK;
}

double
gv_quad_aspect (const double x[4], const double y[4])
{
  double len[4];
  for (int j = 0; j < 4; j++)
    len[j] = hypot (x[(j + 1) & 3] - x[j], y[(j + 1) & 3] - y[j]);
  return (len[1] + len[3]) / (len[0] + len[2]);
}

int
gv_homography_cover_to_frame (const GvQuad *quad, int cover_w, int cover_h, double H[9])
{
  if (!quad || !H || cover_w < 2 || cover_h < 2)
    return gv_error_set (GV_EINVAL, "cover homography: bad arguments (cover %dx%d)", cover_w,
                         cover_h);
  /* the quad is the paper's outer boundary: it meets the outer corners of the corner texels */
  double W = cover_w - 0.5, Hh = cover_h - 0.5;
  double src[8] = { -0.5, -0.5, W, -0.5, W, Hh, -0.5, Hh };
  double dst[8];
  for (int i = 0; i < 4; i++)
    {
      dst[2 * i] = quad->x[i];
      dst[2 * i + 1] = quad->y[i];
    }
  return gv_homography_from_points (src, dst, H);
}

void
gv_homography_apply (const double H[9], double x, double y, double *ox, double *oy)
{
  double w = H[6] * x + H[7] * y + H[8];
  double X = H[0] * x + H[1] * y + H[2];
  double Y = H[3] * x + H[4] * y + H[5];
  if (w == 0.0)
    {
      *ox = *oy = HUGE_VAL;
      return;
    }
  *ox = X / w;
  *oy = Y / w;
}

int
gv_homography_invert (const double H[9], double Hinv[9])
{
  double a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7],
         i = H[8];
  double A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  double det = a * A + b * B + c * C;
  double norm = 0.0;
  for (int k = 0; k < 9; k++)
    norm = fmax (norm, fabs (H[k]));
  /* Relative to the entries' scale cubed: below 1e-14 the inverse has no correct digit left. */
  if (!isfinite (det) || !(norm > 0.0) || fabs (det) < 1e-14 * norm * norm * norm)
    return gv_error_set (GV_EINVAL, "homography is singular");
  double R[9] = { A, -(b * i - c * h), b * f - c * e,
                  B, a * i - c * g, -(a * f - c * d),
                  C, -(a * h - b * g), a * e - b * d };
  double k = 1.0 / det;
  if (fabs (R[8]) > 1e-300 * fabs (det))
    k = 1.0 / R[8];
  for (int n = 0; n < 9; n++)
    Hinv[n] = R[n] * k;
  return GV_OK;
}

typedef struct {
  const GvImage *src;
  GvImage *dst;
  float Hf[9];
} GvWarpCtx;

static void
gv_warp_rows (void *data, int y0, int y1)
{
  GvWarpCtx *c = data;
  const GvImage *s = c->src;
  int ch = s->channels;

  for (int y = y0; y < y1; y++)
    {
      uint8_t *out = gv_image_row_u8 (c->dst, y);
      for (int x = 0; x < c->dst->width; x++)
        gv_warp_pixel_u8 (c->Hf, (const uint8_t *) s->data, (int) s->stride, s->width, s->height,
                          ch, x, y, out + (size_t) x * ch);
    }
}

int
gv_warp_prepare (const GvImage *src, const GvImage *dst, const double H[9], float Hf[9])
{
  double norm = 0.0;

  if (!src || !dst || !H || !src->data || !dst->data)
    return gv_error_set (GV_EINVAL, "warp: NULL argument");
  if (src->depth != GV_U8 || dst->depth != GV_U8 || src->channels != dst->channels
      || (src->channels != 1 && src->channels != 3))
    return gv_error_set (GV_EINVAL, "warp: src and dst must be U8 with 1 or 3 channels each "
                         "(got %d and %d)", src->channels, dst->channels);
  if (src->stride > 0x7fffffff)
    return gv_error_set (GV_EINVAL, "warp: source stride too large");
  for (int i = 0; i < 9; i++)
    {
      if (!isfinite (H[i]))
        return gv_error_set (GV_EINVAL, "warp: homography is not finite");
      norm = fmax (norm, fabs (H[i]));
    }
  if (!(norm > 0.0))
    return gv_error_set (GV_EINVAL, "warp: homography is zero");
  /* The warp is invariant to the scale of H; scaling so that H[8] is 1 (when it is usable)
   * keeps float conversion identical for equivalent inputs. */
  double k = fabs (H[8]) > 1e-12 * norm ? 1.0 / H[8] : 1.0 / norm;
  for (int i = 0; i < 9; i++)
    Hf[i] = (float) (H[i] * k);
  return GV_OK;
}

int
gv_warp_perspective (const GvImage *src, const double H[9], GvImage *dst, int nthreads)
{
  GvWarpCtx c;
  int rc;

  if ((rc = gv_warp_prepare (src, dst, H, c.Hf)))
    return rc;
  c.src = src;
  c.dst = dst;
  gv_parallel_for (nthreads, dst->height, 16, gv_warp_rows, &c);
  return GV_OK;
}
