/* gv-flow-kernels.h: per-pixel code of the Farneback dense optical flow, shared by the CPU
 * backend (gv-farneback.c) and the CUDA backend.
 *
 * Method: G. Farneback, "Two-Frame Motion Estimation Based on Polynomial Expansion" (SCIA 2003),
 * in the formulation of OpenCV 4.6 calcOpticalFlowFarneback (modules/video/src/optflowgf.cpp,
 * flags 0: box window, no initial flow). Plain float32 arithmetic in a fixed order; every
 * constant (Gaussian taps, inverse moment matrix) is computed on the host.
 *
 * Each computation comes in two forms with the same operation order per output element:
 *  - gv_*_px: one pixel (what a CUDA thread calls);
 *  - gv_*_x8: eight consecutive pixels, written as fixed-length lane loops so that GCC's -O2
 *    vectoriser (cheap cost model) turns them into SIMD code. The CPU loops call these.
 * tests/test-flow.c checks that both forms give identical bits. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gv-kernel-common.h"

#ifdef __cplusplus
#define GV_RESTRICT __restrict__
#else
#define GV_RESTRICT restrict
#endif

/* The CPU row loops rely on these being inlined (vectorisation, AVX2 clones). */
#if defined(__GNUC__) && !defined(__CUDACC__)
#define GV_FLOW_INLINE __attribute__ ((always_inline))
#else
#define GV_FLOW_INLINE
#endif

#define GV_FLOW_LANES 8
#define GV_FLOW_POLY_MAX 7 /* largest poly_n */

/* c ? a : b as a bitwise select: exactly a or b, and GCC's -O2 vectoriser accepts it where it
 * refuses the conditional expression. */
GV_KERNEL GV_FLOW_INLINE float
gv_selectf (int c, float a, float b)
{
  uint32_t ia, ib, m = (uint32_t) 0 - (uint32_t) (c != 0), r;
  float f;
  memcpy (&ia, &a, sizeof ia);
  memcpy (&ib, &b, sizeof ib);
  r = (ia & m) | (ib & ~m);
  memcpy (&f, &r, sizeof f);
  return f;
}

/* Polynomial expansion constants (FarnebackPrepareGaussian): 1-D Gaussian g and its first and
 * second moments x*g, x*x*g for x = 0..n, and four entries of the inverse moment matrix. */
typedef struct {
  int n;
  float g[GV_FLOW_POLY_MAX + 1];
  float xg[GV_FLOW_POLY_MAX + 1];
  float xxg[GV_FLOW_POLY_MAX + 1];
  float ig11, ig03, ig33, ig55;
} GvPolyTaps;

/* ---- Separable symmetric filter taps: k[0]*p[0] + sum_i k[i]*(p[-i*step] + p[i*step]). The
 * caller provides r elements of valid border (reflected or replicated) on each side. */
GV_KERNEL GV_FLOW_INLINE float
gv_fir_sym_px (const float *p, ptrdiff_t step, const float *k, int r)
{
  float s = k[0] * p[0];
  for (int i = 1; i <= r; i++)
    s = s + k[i] * (p[-i * step] + p[i * step]);
  return s;
}

GV_KERNEL GV_FLOW_INLINE void
gv_fir_sym_x8 (float *GV_RESTRICT d, const float *p, ptrdiff_t step, const float *k, int r)
{
  float s[GV_FLOW_LANES];
  for (int j = 0; j < GV_FLOW_LANES; j++)
    s[j] = k[0] * p[j];
  for (int i = 1; i <= r; i++)
    {
      const float *a = p - i * step, *b = p + i * step;
      float ki = k[i];
      for (int j = 0; j < GV_FLOW_LANES; j++)
        s[j] = s[j] + ki * (a[j] + b[j]);
    }
  for (int j = 0; j < GV_FLOW_LANES; j++)
    d[j] = s[j];
}

/* ---- Bilinear sample as cv::resize INTER_LINEAR computes it: horizontal then vertical. */
GV_KERNEL GV_FLOW_INLINE float
gv_bilinear_px (const float *src, ptrdiff_t stride, int x0, int x1, int y0, int y1, float a0,
                float a1, float b0, float b1)
{
  const float *r0 = src + y0 * stride, *r1 = src + y1 * stride;
  float d0 = r0[x0] * a0 + r0[x1] * a1;
  float d1 = r1[x0] * a0 + r1[x1] * a1;
  return d0 * b0 + d1 * b1;
}

/* Eight samples d[j] = gv_bilinear_px (src, stride, xo0[x + j], xo1[x + j], y0, y1, ...) * mul
 * (mul: the flow scale between pyramid levels). */
GV_KERNEL GV_FLOW_INLINE void
gv_bilinear_x8 (float *GV_RESTRICT d, const float *src, ptrdiff_t stride, int x, const int *xo0,
                const int *xo1, int y0, int y1, const float *xa0, const float *xa1, float b0,
                float b1, float mul)
{
  const float *r0 = src + y0 * stride, *r1 = src + y1 * stride;
  float p00[GV_FLOW_LANES], p01[GV_FLOW_LANES], p10[GV_FLOW_LANES], p11[GV_FLOW_LANES];
  for (int j = 0; j < GV_FLOW_LANES; j++)
    {
      p00[j] = r0[xo0[x + j]];
      p01[j] = r0[xo1[x + j]];
      p10[j] = r1[xo0[x + j]];
      p11[j] = r1[xo1[x + j]];
    }
  for (int j = 0; j < GV_FLOW_LANES; j++)
    {
      float a0 = xa0[x + j], a1 = xa1[x + j];
      float d0 = p00[j] * a0 + p01[j] * a1;
      float d1 = p10[j] * a0 + p11[j] * a1;
      d[j] = (d0 * b0 + d1 * b1) * mul;
    }
}

/* ---- Polynomial expansion (FarnebackPolyExp), vertical part at (x, y) of a single-channel
 * float image (replicated border): t0 ~ g*I, t1 ~ xg*I (odd), t2 ~ xxg*I. */
GV_KERNEL GV_FLOW_INLINE void
gv_polyexp_v_px (const float *src, ptrdiff_t stride, int x, int y, int h, const GvPolyTaps *t,
                 float *t0, float *t1, float *t2)
{
  float s0 = src[y * stride + x] * t->g[0], s1 = 0.0f, s2 = 0.0f;
  for (int k = 1; k <= t->n; k++)
    {
      float a = src[(y - k < 0 ? 0 : y - k) * stride + x];
      float b = src[(y + k > h - 1 ? h - 1 : y + k) * stride + x];
      float p = a + b;
      s0 = s0 + t->g[k] * p;
      s1 = s1 + t->xg[k] * (b - a);
      s2 = s2 + t->xxg[k] * p;
    }
  *t0 = s0;
  *t1 = s1;
  *t2 = s2;
}

GV_KERNEL GV_FLOW_INLINE void
gv_polyexp_v_x8 (const float *src, ptrdiff_t stride, int x, int y, int h, const GvPolyTaps *t,
                 float *GV_RESTRICT t0, float *GV_RESTRICT t1, float *GV_RESTRICT t2)
{
  float s0[GV_FLOW_LANES], s1[GV_FLOW_LANES], s2[GV_FLOW_LANES];
  const float *c = src + y * stride + x;
  for (int j = 0; j < GV_FLOW_LANES; j++)
    {
      s0[j] = c[j] * t->g[0];
      s1[j] = 0.0f;
      s2[j] = 0.0f;
    }
  for (int k = 1; k <= t->n; k++)
    {
      const float *a = src + (y - k < 0 ? 0 : y - k) * stride + x;
      const float *b = src + (y + k > h - 1 ? h - 1 : y + k) * stride + x;
      float gk = t->g[k], xgk = t->xg[k], xxgk = t->xxg[k];
      for (int j = 0; j < GV_FLOW_LANES; j++)
        {
          float p = a[j] + b[j];
          s0[j] = s0[j] + gk * p;
          s1[j] = s1[j] + xgk * (b[j] - a[j]);
          s2[j] = s2[j] + xxgk * p;
        }
    }
  for (int j = 0; j < GV_FLOW_LANES; j++)
    {
      t0[j] = s0[j];
      t1[j] = s1[j];
      t2[j] = s2[j];
    }
}

/* Horizontal part at x: t0..t2 are rows with n replicated elements before index 0 and after the
 * last. Writes the five coefficients r0..r4 in OpenCV's channel order (r0 ~ y, r1 ~ x,
 * r2 ~ x^2, r3 ~ y^2, r4 ~ xy). */
GV_KERNEL GV_FLOW_INLINE void
gv_polyexp_h_px (const float *t0, const float *t1, const float *t2, int x, const GvPolyTaps *t,
                 float *r0, float *r1, float *r2, float *r3, float *r4)
{
  float g0 = t->g[0];
  float b1 = t0[x] * g0, b2 = 0.0f, b3 = t1[x] * g0, b4 = 0.0f, b5 = t2[x] * g0, b6 = 0.0f;
  for (int k = 1; k <= t->n; k++)
    {
      float tg = t0[x + k] + t0[x - k];
      b1 = b1 + tg * t->g[k];
      b4 = b4 + tg * t->xxg[k];
      b2 = b2 + (t0[x + k] - t0[x - k]) * t->xg[k];
      b3 = b3 + (t1[x + k] + t1[x - k]) * t->g[k];
      b6 = b6 + (t1[x + k] - t1[x - k]) * t->xg[k];
      b5 = b5 + (t2[x + k] + t2[x - k]) * t->g[k];
    }
  *r0 = b3 * t->ig11;
  *r1 = b2 * t->ig11;
  *r2 = b1 * t->ig03 + b5 * t->ig33;
  *r3 = b1 * t->ig03 + b4 * t->ig33;
  *r4 = b6 * t->ig55;
}

GV_KERNEL GV_FLOW_INLINE void
gv_polyexp_h_x8 (const float *t0, const float *t1, const float *t2, int x, const GvPolyTaps *t,
                 float *GV_RESTRICT r0, float *GV_RESTRICT r1, float *GV_RESTRICT r2,
                 float *GV_RESTRICT r3, float *GV_RESTRICT r4)
{
  float b1[GV_FLOW_LANES], b2[GV_FLOW_LANES], b3[GV_FLOW_LANES];
  float b4[GV_FLOW_LANES], b5[GV_FLOW_LANES], b6[GV_FLOW_LANES];
  float g0 = t->g[0];
  for (int j = 0; j < GV_FLOW_LANES; j++)
    {
      b1[j] = t0[x + j] * g0;
      b2[j] = 0.0f;
      b3[j] = t1[x + j] * g0;
      b4[j] = 0.0f;
      b5[j] = t2[x + j] * g0;
      b6[j] = 0.0f;
    }
  for (int k = 1; k <= t->n; k++)
    {
      const float *p0 = t0 + x + k, *m0 = t0 + x - k;
      const float *p1 = t1 + x + k, *m1 = t1 + x - k;
      const float *p2 = t2 + x + k, *m2 = t2 + x - k;
      float gk = t->g[k], xgk = t->xg[k], xxgk = t->xxg[k];
      for (int j = 0; j < GV_FLOW_LANES; j++)
        {
          float tg = p0[j] + m0[j];
          b1[j] = b1[j] + tg * gk;
          b4[j] = b4[j] + tg * xxgk;
          b2[j] = b2[j] + (p0[j] - m0[j]) * xgk;
          b3[j] = b3[j] + (p1[j] + m1[j]) * gk;
          b6[j] = b6[j] + (p1[j] - m1[j]) * xgk;
          b5[j] = b5[j] + (p2[j] + m2[j]) * gk;
        }
    }
  for (int j = 0; j < GV_FLOW_LANES; j++)
    {
      r0[j] = b3[j] * t->ig11;
      r1[j] = b2[j] * t->ig11;
      r2[j] = b1[j] * t->ig03 + b5[j] * t->ig33;
      r3[j] = b1[j] * t->ig03 + b4[j] * t->ig33;
      r4[j] = b6[j] * t->ig55;
    }
}

/* ---- Matrix update (FarnebackUpdateMatrices) at (x, y): R0 is the expansion of the first
 * image at (x, y) (5 planes, plane pitch `plane`, row pitch `stride`), R1 the expansion of the
 * second image sampled at (x + dx, y + dy); M receives G11, G12, G22, h1, h2 (5 planes). Pixels
 * within 5 of the image border are down-weighted as OpenCV does. */

/* OpenCV's border ramp: the weight is lo(x) * hi(x, w) * lo(y) * hi(y, h), multiplied left to
 * right, for pixels flagged as border ((unsigned)(i - 5) >= (unsigned)(n - 10), which differs
 * from "i < 5 || i >= n - 5" only for n < 10). */
GV_KERNEL GV_FLOW_INLINE float
gv_border_lo (int i)
{
  const float b[5] = { 0.14f, 0.14f, 0.4472f, 0.4472f, 0.4472f };
  return i < 5 ? b[i] : 1.0f;
}

GV_KERNEL GV_FLOW_INLINE float
gv_border_hi (int i, int n)
{
  const float b[5] = { 0.14f, 0.14f, 0.4472f, 0.4472f, 0.4472f };
  return i >= n - 5 ? b[n - i - 1] : 1.0f;
}

GV_KERNEL GV_FLOW_INLINE int
gv_border_flag (int i, int n)
{
  return (unsigned) (i - 5) >= (unsigned) (n - 10);
}

/* Target of (x + dx, y + dy): integer corner, fractions and whether the 2x2 support is inside.
 * Values far outside (or NaN) are clamped first so that the float-to-int conversion is defined;
 * they land outside either way. */
GV_KERNEL GV_FLOW_INLINE int
gv_flow_target (int x, int y, int w, int h, float dx, float dy, int *x1, int *y1, float *ffx,
                float *ffy)
{
  float fx = (float) x + dx, fy = (float) y + dy;
  int ix, iy;
  fx = fx > -2.0f ? fx : -2.0f;
  fx = fx < (float) w + 1.0f ? fx : (float) w + 1.0f;
  fy = fy > -2.0f ? fy : -2.0f;
  fy = fy < (float) h + 1.0f ? fy : (float) h + 1.0f;
  ix = (int) fx;
  ix -= (float) ix > fx; /* floor */
  iy = (int) fy;
  iy -= (float) iy > fy;
  *ffx = fx - (float) ix;
  *ffy = fy - (float) iy;
  *x1 = ix;
  *y1 = iy;
  return (unsigned) ix < (unsigned) (w - 1) && (unsigned) iy < (unsigned) (h - 1);
}

/* The matrices from R0 at the pixel (c0..c4), R1 sampled (s0..s4, used when inb), the flow and
 * the border weight (applied when border). */
GV_KERNEL GV_FLOW_INLINE void
gv_matrices_from (float c0, float c1, float c2, float c3, float c4, float s0, float s1, float s2,
                  float s3, float s4, int inb, float dx, float dy, int border, float scale,
                  float *m0, float *m1, float *m2, float *m3, float *m4)
{
  float r2 = inb ? s0 : 0.0f, r3 = inb ? s1 : 0.0f;
  float r4 = inb ? (c2 + s2) * 0.5f : c2;
  float r5 = inb ? (c3 + s3) * 0.5f : c3;
  float r6 = inb ? (c4 + s4) * 0.25f : c4 * 0.5f;
  r2 = (c0 - r2) * 0.5f;
  r3 = (c1 - r3) * 0.5f;
  r2 = r2 + (r4 * dy + r6 * dx);
  r3 = r3 + (r6 * dy + r5 * dx);
  if (border)
    {
      r2 *= scale;
      r3 *= scale;
      r4 *= scale;
      r5 *= scale;
      r6 *= scale;
    }
  *m0 = r4 * r4 + r6 * r6;
  *m1 = (r4 + r5) * r6;
  *m2 = r5 * r5 + r6 * r6;
  *m3 = r4 * r2 + r6 * r3;
  *m4 = r6 * r2 + r5 * r3;
}

GV_KERNEL GV_FLOW_INLINE void
gv_update_matrices_px (const float *R0, const float *R1, ptrdiff_t stride, ptrdiff_t plane,
                       int x, int y, int w, int h, float dx, float dy, float *m0, float *m1,
                       float *m2, float *m3, float *m4)
{
  const float *c = R0 + y * stride + x;
  float fx, fy, s[5] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };
  int x1, y1, inb = gv_flow_target (x, y, w, h, dx, dy, &x1, &y1, &fx, &fy);
  int border = gv_border_flag (x, w) | gv_border_flag (y, h);
  float scale = 1.0f;

  if (inb)
    {
      const float *p = R1 + y1 * stride + x1;
      float a00 = (1.0f - fx) * (1.0f - fy), a01 = fx * (1.0f - fy);
      float a10 = (1.0f - fx) * fy, a11 = fx * fy;
      for (int k = 0; k < 5; k++)
        {
          const float *q = p + k * plane;
          s[k] = a00 * q[0] + a01 * q[1] + a10 * q[stride] + a11 * q[stride + 1];
        }
    }
  if (border)
    scale = ((gv_border_lo (x) * gv_border_hi (x, w)) * gv_border_lo (y)) * gv_border_hi (y, h);
  gv_matrices_from (c[0], c[plane], c[2 * plane], c[3 * plane], c[4 * plane], s[0], s[1], s[2],
                    s[3], s[4], inb, dx, dy, border, scale, m0, m1, m2, m3, m4);
}

/* Eight pixels x..x+7 of row y. colw[x] = lo(x) * hi(x, w) and colb[x] = the column's border
 * flag are tables the host fills once per level (RUP8(w) entries); the flow is read from
 * dxr[x..x+7], dyr[x..x+7]. Lanes past the image width compute harmless values. */
GV_KERNEL GV_FLOW_INLINE void
gv_update_matrices_x8 (const float *R0, const float *R1, ptrdiff_t stride, ptrdiff_t plane, int x,
                       int y, int w, int h, const float *dxr, const float *dyr, const float *colw,
                       const int *colb, float *GV_RESTRICT m0, float *GV_RESTRICT m1,
                       float *GV_RESTRICT m2, float *GV_RESTRICT m3, float *GV_RESTRICT m4)
{
  enum { L = GV_FLOW_LANES };
  float a00[L], a01[L], a10[L], a11[L], v[5][4][L];
  int idx[L], inb[L];
  float ylo = gv_border_lo (y), yhi = gv_border_hi (y, h);
  int yb = gv_border_flag (y, h);
  const float *c = R0 + y * stride + x;

  for (int j = 0; j < L; j++)
    {
      float fx = (float) (x + j) + dxr[x + j], fy = (float) y + dyr[x + j];
      int ix, iy;
      fx = fx > -2.0f ? fx : -2.0f;
      fx = fx < (float) w + 1.0f ? fx : (float) w + 1.0f;
      fy = fy > -2.0f ? fy : -2.0f;
      fy = fy < (float) h + 1.0f ? fy : (float) h + 1.0f;
      ix = (int) fx;
      ix -= (float) ix > fx;
      iy = (int) fy;
      iy -= (float) iy > fy;
      fx = fx - (float) ix;
      fy = fy - (float) iy;
      inb[j] = (unsigned) ix < (unsigned) (w - 1) && (unsigned) iy < (unsigned) (h - 1);
      idx[j] = inb[j] ? iy * (int) stride + ix : 0;
      a00[j] = (1.0f - fx) * (1.0f - fy);
      a01[j] = fx * (1.0f - fy);
      a10[j] = (1.0f - fx) * fy;
      a11[j] = fx * fy;
    }
  for (int k = 0; k < 5; k++)
    for (int j = 0; j < L; j++)
      {
        const float *q = R1 + k * plane + idx[j];
        v[k][0][j] = q[0];
        v[k][1][j] = q[1];
        v[k][2][j] = q[stride];
        v[k][3][j] = q[stride + 1];
      }
  float s[5][L];
  for (int k = 0; k < 5; k++)
    for (int j = 0; j < L; j++)
      s[k][j] = a00[j] * v[k][0][j] + a01[j] * v[k][1][j] + a10[j] * v[k][2][j]
                + a11[j] * v[k][3][j];
  for (int j = 0; j < L; j++)
    {
      int border = colb[x + j] | yb;
      float scale = (colw[x + j] * ylo) * yhi;
      float dx = dxr[x + j], dy = dyr[x + j];
      int in = inb[j];
      float c0 = c[j], c1 = c[plane + j], c2 = c[2 * plane + j], c3 = c[3 * plane + j];
      float c4 = c[4 * plane + j];
      float i4 = (c2 + s[2][j]) * 0.5f, i5 = (c3 + s[3][j]) * 0.5f, i6 = (c4 + s[4][j]) * 0.25f;
      float o6 = c4 * 0.5f;
      float r2 = gv_selectf (in, s[0][j], 0.0f), r3 = gv_selectf (in, s[1][j], 0.0f);
      float r4 = gv_selectf (in, i4, c2), r5 = gv_selectf (in, i5, c3);
      float r6 = gv_selectf (in, i6, o6);
      r2 = (c0 - r2) * 0.5f;
      r3 = (c1 - r3) * 0.5f;
      r2 = r2 + (r4 * dy + r6 * dx);
      r3 = r3 + (r6 * dy + r5 * dx);
      scale = gv_selectf (border, scale, 1.0f); /* x * 1.0f == x: as if not scaled */
      r2 *= scale;
      r3 *= scale;
      r4 *= scale;
      r5 *= scale;
      r6 *= scale;
      m0[j] = r4 * r4 + r6 * r6;
      m1[j] = (r4 + r5) * r6;
      m2[j] = r5 * r5 + r6 * r6;
      m3[j] = r4 * r2 + r6 * r3;
      m4[j] = r6 * r2 + r5 * r3;
    }
}

/* ---- Flow from the window sums of G and h (FarnebackUpdateFlow): solve the regularised 2x2
 * system. `scale` is 1 / winsize^2 (the box average). */
GV_KERNEL GV_FLOW_INLINE void
gv_solve_flow_px (float s11, float s12, float s22, float sh1, float sh2, float scale, float *fx,
                  float *fy)
{
  float g11 = s11 * scale, g12 = s12 * scale, g22 = s22 * scale;
  float h1 = sh1 * scale, h2 = sh2 * scale;
  float idet = 1.0f / (g11 * g22 - g12 * g12 + 1e-3f);
  *fx = (g11 * h2 - g12 * h1) * idet;
  *fy = (g22 * h1 - g12 * h2) * idet;
}

GV_KERNEL GV_FLOW_INLINE void
gv_solve_flow_x8 (const float *s11, const float *s12, const float *s22, const float *sh1,
                  const float *sh2, float scale, float *GV_RESTRICT fx, float *GV_RESTRICT fy)
{
  for (int j = 0; j < GV_FLOW_LANES; j++)
    {
      float g11 = s11[j] * scale, g12 = s12[j] * scale, g22 = s22[j] * scale;
      float h1 = sh1[j] * scale, h2 = sh2[j] * scale;
      float idet = 1.0f / (g11 * g22 - g12 * g12 + 1e-3f);
      fx[j] = (g11 * h2 - g12 * h1) * idet;
      fy[j] = (g22 * h1 - g12 * h2) * idet;
    }
}

/* ---- Box window sums. Vertical sums run down a column from a fixed block start (the block
 * split is part of the algorithm, not of the thread split): the first row of a block is summed
 * directly, each next one adds the row entering and removes the row leaving. */
GV_KERNEL GV_FLOW_INLINE float
gv_box_col_start_px (const float *src, ptrdiff_t stride, int x, int y, int h, int m)
{
  float s = src[(y - m < 0 ? 0 : y - m) * stride + x];
  for (int i = -m + 1; i <= m; i++)
    {
      int yy = y + i < 0 ? 0 : (y + i > h - 1 ? h - 1 : y + i);
      s = s + src[yy * stride + x];
    }
  return s;
}

GV_KERNEL GV_FLOW_INLINE float
gv_box_col_next_px (float prev, const float *src, ptrdiff_t stride, int x, int y, int h, int m)
{
  int yin = y + m > h - 1 ? h - 1 : y + m;
  int yout = y - m - 1 < 0 ? 0 : y - m - 1;
  return prev + (src[yin * stride + x] - src[yout * stride + x]);
}

/* Horizontal window sum of w elements starting at s[x] (the caller replicates the border),
 * summed as a binary tree of power-of-two partial sums (lowest bit first): for each set bit n of
 * w, from the lowest, the pairwise tree sum of the next n elements, gv_box_tree<n>, is added to
 * the running sum. The CPU builds the partial sums for a whole row at once; this per-pixel form
 * gives the same bits. Written as fixed trees (no array indexed at run time, which a GPU would
 * keep in local memory); w < 256. */
GV_KERNEL GV_FLOW_INLINE float
gv_box_tree1 (const float *p)
{
  return p[0];
}

#define GV_BOX_TREE(n, h)                                                                        \
  GV_KERNEL GV_FLOW_INLINE float gv_box_tree##n (const float *p)                                 \
  {                                                                                              \
    return gv_box_tree##h (p) + gv_box_tree##h (p + h);                                          \
  }
GV_BOX_TREE (2, 1)
GV_BOX_TREE (4, 2)
GV_BOX_TREE (8, 4)
GV_BOX_TREE (16, 8)
GV_BOX_TREE (32, 16)
GV_BOX_TREE (64, 32)
GV_BOX_TREE (128, 64)
#undef GV_BOX_TREE

GV_KERNEL GV_FLOW_INLINE float
gv_box_row_px (const float *s, int x, int w)
{
  const float *p = s + x;
  float acc = 0.0f;
  int first = 1;
#define GV_BOX_BIT(n)                                                                            \
  if (w & n)                                                                                     \
    {                                                                                            \
      float v = gv_box_tree##n (p);                                                              \
      acc = first ? v : acc + v;                                                                 \
      first = 0;                                                                                 \
      p += n;                                                                                    \
    }
  GV_BOX_BIT (1)
  GV_BOX_BIT (2)
  GV_BOX_BIT (4)
  GV_BOX_BIT (8)
  GV_BOX_BIT (16)
  GV_BOX_BIT (32)
  GV_BOX_BIT (64)
  GV_BOX_BIT (128)
#undef GV_BOX_BIT
  return acc;
}
