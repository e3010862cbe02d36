/* gv-defect-kernels.h: per-pixel code of the defect analysis (stage 4), shared with the CUDA
 * backend. Plain float/int arithmetic in a fixed order; no libm transcendental. The thresholds
 * are absolute (0..255 colour units of the warped cover) and documented in docs/accuracy.md. */
#pragma once

#include <stdint.h>

#include "gv-kernel-common.h"

/* Exposed paper fibre (whitening of worn, scratched, creased or torn paper), RGB. */
#define GV_DK_PAPER_R 238.0f
#define GV_DK_PAPER_G 232.0f
#define GV_DK_PAPER_B 215.0f
/* Glare: brighter than the print estimate by this much (luma) ... */
#define GV_DK_GLARE_DLUMA 28
/* ... and nearly colourless (max - min channel) and bright. */
#define GV_DK_GLARE_MAXSAT 60
#define GV_DK_GLARE_MINLUMA 150
/* Whitened thin line: the line pixel moves towards paper by at least this share ... */
#define GV_DK_LINE_AMIN 0.16f
/* ... over a background at least this far from paper (else whitening is invisible) ... */
#define GV_DK_LINE_VMIN 45.0f
/* ... brighter than its sides by this much luma, sides not ink-black, sides alike. */
#define GV_DK_LINE_DLUMA 10.0f
#define GV_DK_LINE_SIDE_MINLUMA 45.0f
#define GV_DK_LINE_SIDE_MAXDIFF 60.0f
/* ... and the change must point at paper colour: residual within RES0 units, in quadrature
 * with RESK times the whitening (white ink, 246 242 232, is not paper fibre). */
/* ... its chroma change at least this share of its luma change's (4:2:0 video) ... */
#define GV_DK_LINE_CHMIN 0.1f
/* ... and the least whitening share it reports (spine lines only, 5c') */
#define GV_DK_LINE_VAMIN 0.10f
#define GV_DK_LINE_RES0 18.0f
#define GV_DK_LINE_RESK 0.20f
/* Table seen through the cover outline: every channel within this of the table beside it, or a
 * thin line whose colour moves towards the table's by at least GV_DK_CUT_AMIN (0.35 until
 * 2026-11-28, night: a tear thinner than a working pixel on light print, where its fibre's
 * whitening does not show, moves towards the table by 0.25..0.35; docs/accuracy.md). */
#define GV_DK_CUT_AMIN 0.25f
#define GV_DK_TABLE_TOL 22

/* Stain: a multiplicative brown tint. The stained colour is the clean one times (1 - t k_c):
 * channel c loses the share t k_c, k = GV_DK_STAIN_K* (red least, blue most; a coffee stain of
 * tint t). Across a stain's edge the brighter side hi and the darker lo then differ by exactly
 * d_c = t k_c hi_c. t is fitted by least squares in colour units (a dark channel, whose ratio
 * is noise, weighs little); the fit must explain the change within GV_DK_STAIN_RES0 units in
 * quadrature with GV_DK_STAIN_RESK of its size: grey shading (d proportional to hi) leaves
 * 0.3..0.37 of its size unexplained on neutral and yellow grounds. */
#define GV_DK_STAIN_KR 0.22f
#define GV_DK_STAIN_KG 0.40f
#define GV_DK_STAIN_KB 0.62f
/* t from a faint tint to the darkest a stain gets (blue down to 38 %; a darker step is ink) */
#define GV_DK_STAIN_TMIN 0.10f
#define GV_DK_STAIN_TMAX 1.00f
/* the fitted change t |k hi| at least this many colour units: below it, noise and coding */
#define GV_DK_STAIN_DMIN 12.0f
/* residual allowed: 2.5 units (noise on flat print) in quadrature with 15 % of the change */
#define GV_DK_STAIN_RES0 2.5f
#define GV_DK_STAIN_RESK 0.15f
/* Weight of blue in the fit: 4:2:0 video carries colour at half resolution and blue takes the
 * most of it (B = Y + 1.772 Cb), so across an edge blue is the least trustworthy channel (and
 * the darkest on yellow grounds, where its ratio is noise). */
#define GV_DK_STAIN_WB 0.3f
/* On a saturated ground (one channel carries the colour) a tint cannot be told from shading:
 * the stain direction k * hi must be at least this far (sine) from hi itself. */
#define GV_DK_STAIN_MINSIN 0.15f

/* BT.601 luma in fixed point (as gv_image_rgb_to_gray). */
GV_KERNEL int
gv_dk_luma (const uint8_t *p)
{
  return (77 * (int) p[0] + 150 * (int) p[1] + 29 * (int) p[2] + 128) >> 8;
}

GV_KERNEL float
gv_dk_lumaf (float r, float g, float b)
{
  return 0.299f * r + 0.587f * g + 0.114f * b;
}

/* Median of n (1..8) bytes: insertion sort, the mean of the two middle values rounded up when
 * n is even. */
GV_KERNEL uint8_t
gv_dk_median_u8 (const uint8_t *v, int n)
{
  uint8_t s[8];
  for (int i = 0; i < n; i++)
    {
      uint8_t x = v[i];
      int j = i;
      while (j > 0 && s[j - 1] > x)
        {
          s[j] = s[j - 1];
          j--;
        }
      s[j] = x;
    }
  if (n & 1)
    return s[n / 2];
  return (uint8_t) (((int) s[n / 2 - 1] + (int) s[n / 2] + 1) >> 1);
}

/* max - min of p's channels in *spread, the max returned */
GV_KERNEL int
gv_dk_chmax (const uint8_t *p, int *spread)
{
  int mx = p[0] > p[1] ? p[0] : p[1], mn = p[0] < p[1] ? p[0] : p[1];
  mx = p[2] > mx ? p[2] : mx;
  mn = p[2] < mn ? p[2] : mn;
  *spread = mx - mn;
  return mx;
}

/* 1 when cover pixel f (one frame) is glare over the print estimate m. */
GV_KERNEL int
gv_dk_is_glare (const uint8_t *f, const uint8_t *m)
{
  int lf = gv_dk_luma (f), lm = gv_dk_luma (m), spread;
  gv_dk_chmax (f, &spread);
  return lf - lm >= GV_DK_GLARE_DLUMA && spread <= GV_DK_GLARE_MAXSAT && lf >= GV_DK_GLARE_MINLUMA;
}

/* Strength (0 = none, else the share a in 0..1) with which pixel p, against its two sides sa
 * and sb across a thin line, moves towards the colour `paper`: p - mean(sa, sb) must be
 * a * (paper - mean(sa, sb)) with a small residual. brighter: p must also be brighter than its
 * sides, which must not be dark (whitening). */
GV_KERNEL float
gv_dk_toward (const uint8_t *p, const uint8_t *sa, const uint8_t *sb, const float *paper, int brighter)
{
  float bk[3], d[3], v[3], dv = 0.0f, vv = 0.0f, sd = 0.0f;
  for (int c = 0; c < 3; c++)
    {
      float x = (float) sa[c] - (float) sb[c];
      sd += x < 0.0f ? -x : x;
      bk[c] = 0.5f * ((float) sa[c] + (float) sb[c]);
      d[c] = (float) p[c] - bk[c];
      v[c] = paper[c] - bk[c];
      dv += d[c] * v[c];
      vv += v[c] * v[c];
    }
  if (sd > GV_DK_LINE_SIDE_MAXDIFF || vv < GV_DK_LINE_VMIN * GV_DK_LINE_VMIN)
    return 0.0f;
  float lb = gv_dk_lumaf (bk[0], bk[1], bk[2]);
  if (brighter && lb < GV_DK_LINE_SIDE_MINLUMA)
    return 0.0f;
  if (brighter && gv_dk_lumaf ((float) p[0], (float) p[1], (float) p[2]) - lb < GV_DK_LINE_DLUMA)
    return 0.0f;
  float a = dv / vv, r2 = 0.0f;
  if (brighter == 2)
    {
      /* video carries a thin line's colour at half resolution (4:2:0) and blurred: the line
       * shows in luma at full strength and in chroma weakened. The change is fitted as
       * alpha times the luma part of (paper - sides) plus beta times its chroma part, beta
       * between GV_DK_LINE_CHMIN and 1 times alpha; alpha is the whitening share. */
      float yv = gv_dk_lumaf (v[0], v[1], v[2]), yd = gv_dk_lumaf (d[0], d[1], d[2]);
      if (yv < GV_DK_LINE_DLUMA)
        return 0.0f;
      a = yd / yv;
      float cdv = 0.0f, cvv = 0.0f;
      for (int c = 0; c < 3; c++)
        cdv += (d[c] - yd) * (v[c] - yv), cvv += (v[c] - yv) * (v[c] - yv);
      float b = cvv > 1.0f ? cdv / cvv : a;
      b = b < GV_DK_LINE_CHMIN * a ? GV_DK_LINE_CHMIN * a : (b > a ? a : b);
      if (a < GV_DK_LINE_VAMIN)
        return 0.0f;
      for (int c = 0; c < 3; c++)
        {
          float r = (d[c] - yd) - b * (v[c] - yv);
          r2 += r * r;
        }
      if (a > 1.0f)
        a = 1.0f;
    }
  else
    {
      if (a < GV_DK_LINE_AMIN)
        return 0.0f;
      if (a > 1.0f)
        a = 1.0f;
      for (int c = 0; c < 3; c++)
        {
          float r = d[c] - a * v[c];
          r2 += r * r;
        }
    }
  /* residual allowed: RES0 units in quadrature with RESK of the whitening (exposure drift) */
  float av2 = a * a * vv;
  if (r2 > GV_DK_LINE_RES0 * GV_DK_LINE_RES0 + GV_DK_LINE_RESK * GV_DK_LINE_RESK * av2)
    return 0.0f;
  return a;
}

GV_KERNEL float
gv_dk_whiten (const uint8_t *p, const uint8_t *sa, const uint8_t *sb, int video)
{
  const float paper[3] = { GV_DK_PAPER_R, GV_DK_PAPER_G, GV_DK_PAPER_B };
  return gv_dk_toward (p, sa, sb, paper, video ? 2 : 1);
}

/* Table seen through a thin cut (chips, tears): pixel p against its sides moves towards the
 * table colour t by a share a; the strongest a over four directions at 2 px. */
GV_KERNEL float
gv_dk_cut_at (const uint8_t *img, int w, int h, int stride, int x, int y, const float *t)
{
  const int dirs[4][2] = { { 1, 0 }, { 0, 1 }, { 1, 1 }, { 1, -1 } };
  float best = 0.0f;
  const uint8_t *p = img + (long) y * stride + 3 * x;
  if (x < 2 || y < 2 || x >= w - 2 || y >= h - 2)
    return 0.0f;
  /* a cut shows the table, or paper and table mixed: never much darker than the table (black
   * ink lines running to the edge are print) */
  if (gv_dk_lumaf ((float) p[0], (float) p[1], (float) p[2]) < gv_dk_lumaf (t[0], t[1], t[2]) - 25.0f)
    return 0.0f;
  for (int k = 0; k < 4; k++)
    {
      int dx = dirs[k][0] * 2, dy = dirs[k][1] * 2;
      float v = gv_dk_toward (p, img + (long) (y - dy) * stride + 3 * (x - dx),
                              img + (long) (y + dy) * stride + 3 * (x + dx), t, 0);
      if (v > best)
        best = v;
    }
  return best;
}

/* Line evidence at (x, y) of an RGB image: the strongest whitening over four directions (sides
 * at 2 px, or 2.8 px diagonally: lines up to about 3 px wide). No side sample out to 4
 * px may be a black stroke (gv_dk_is_stroke): the gaps between printed black strokes (text,
 * bar codes) are white ink, not damage. Sides outside the image give 0. With spine set, a
 * line across the spine (sides above and below) that only the video colour model passes
 * (gv_dk_toward, brighter 2) gives minus its strength: evidence for spine stress lines only. */
#define GV_DK_LINE_INK 70
/* Blurred black ink: a black stroke of a pixel or two reads in video as dark grey; neutral
 * (channels within GV_DK_LINE_NEUTRAL) and every channel below GV_DK_LINE_INK_GREY is ink too. */
#define GV_DK_LINE_INK_GREY 100
#define GV_DK_LINE_NEUTRAL 30
/* A black stroke thinner than a pixel reads lighter still: a neutral pixel at least
 * GV_DK_LINE_STROKE luma darker than the light pixel beside it (the white gaps of a bar code). */
#define GV_DK_LINE_STROKE 60.0f

/* Black ink: every channel below GV_DK_LINE_INK (navy or deep red print is colour, and a
 * crease whitening across it shows best), or blurred to dark neutral grey. */
GV_KERNEL int
gv_dk_is_ink (const uint8_t *p)
{
  int spread, mx = gv_dk_chmax (p, &spread);
  return mx < GV_DK_LINE_INK || (mx < GV_DK_LINE_INK_GREY && spread < GV_DK_LINE_NEUTRAL);
}

/* A thin black stroke beside a light pixel of luma lp (gv_dk_is_ink, or neutral and at least
 * GV_DK_LINE_STROKE darker than lp). */
GV_KERNEL int
gv_dk_is_stroke (const uint8_t *q, float lp)
{
  int spread;
  gv_dk_chmax (q, &spread);
  return gv_dk_is_ink (q)
         || (spread < GV_DK_LINE_NEUTRAL
             && gv_dk_lumaf ((float) q[0], (float) q[1], (float) q[2]) <= lp - GV_DK_LINE_STROKE);
}

GV_KERNEL float
gv_dk_line_at (const uint8_t *img, int w, int h, int stride, int x, int y, int spine)
{
  const int dirs[4][2] = { { 1, 0 }, { 0, 1 }, { 1, 1 }, { 1, -1 } };
  float best = 0.0f, loose = 0.0f;
  const uint8_t *p = img + (long) y * stride + 3 * x;
  if (x < 4 || y < 4 || x >= w - 4 || y >= h - 4)
    return 0.0f;
  float lp = gv_dk_lumaf ((float) p[0], (float) p[1], (float) p[2]);
  for (int k = 0; k < 4; k++)
    {
      int dx = dirs[k][0], dy = dirs[k][1];
      int ink = 0;
      /* ink check out to 4 px: steps 2..4 along an axis, 1..3 along a diagonal */
      for (int m = 2; m <= 4 && !ink; m++)
        {
          int mm = k < 2 ? m : m - 1;
          const uint8_t *qa = img + (long) (y - dy * mm) * stride + 3 * (x - dx * mm);
          const uint8_t *qb = img + (long) (y + dy * mm) * stride + 3 * (x + dx * mm);
          ink = gv_dk_is_stroke (qa, lp) || gv_dk_is_stroke (qb, lp);
        }
      if (ink)
        continue;
      int m = 2; /* 2 px along an axis, 2.8 px along a diagonal */
      const uint8_t *sa = img + (long) (y - dy * m) * stride + 3 * (x - dx * m);
      const uint8_t *sb = img + (long) (y + dy * m) * stride + 3 * (x + dx * m);
      float v = gv_dk_whiten (p, sa, sb, 0);
      if (v > best)
        best = v;
      if (spine && k == 1 && v <= 0.0f)
        loose = gv_dk_whiten (p, sa, sb, 1);
    }
  return best > 0.0f ? best : -loose;
}

/* Stain-edge evidence at (x, y): the largest tint t fitted (weighted least squares, weights
 * 1 1 GV_DK_STAIN_WB) over four directions at +-3 px (0 when none passes). A clipped channel
 * (>= 252) carries no ratio: no evidence there. *dark: the offset (dx, dy) towards the darker
 * (stained) side of the best direction, as (dx + 3) + 7 (dy + 3). */
GV_KERNEL float
gv_dk_stain_at (const uint8_t *img, int w, int h, int stride, int x, int y, uint8_t *dark)
{
  const int dirs[4][2] = { { 3, 0 }, { 0, 3 }, { 2, 2 }, { 2, -2 } };
  const float kk[3] = { GV_DK_STAIN_KR, GV_DK_STAIN_KG, GV_DK_STAIN_KB };
  const float wt[3] = { 1.0f, 1.0f, GV_DK_STAIN_WB };
  float best = 0.0f;
  *dark = 24; /* (0, 0) */
  if (x < 3 || y < 3 || x >= w - 3 || y >= h - 3)
    return 0.0f;
  for (int k = 0; k < 4; k++)
    {
      const uint8_t *a = img + (long) (y - dirs[k][1]) * stride + 3 * (x - dirs[k][0]);
      const uint8_t *b = img + (long) (y + dirs[k][1]) * stride + 3 * (x + dirs[k][0]);
      const uint8_t *hi = a, *lo = b;
      int sg = 1;
      if (gv_dk_luma (b) > gv_dk_luma (a))
        hi = b, lo = a, sg = -1;
      if (hi[0] >= 252 || hi[1] >= 252 || hi[2] >= 252)
        continue;
      float pd = 0.0f, pp = 0.0f, dd = 0.0f, hp = 0.0f, hh = 0.0f, pu = 0.0f;
      for (int c = 0; c < 3; c++)
        {
          float p = kk[c] * (float) hi[c], d = (float) hi[c] - (float) lo[c];
          pd += wt[c] * p * d;
          pp += wt[c] * p * p;
          dd += wt[c] * d * d;
          hp += p * (float) hi[c];
          hh += (float) hi[c] * (float) hi[c];
          pu += p * p;
        }
      if (pp <= 0.0f)
        continue;
      /* sin^2 (hi, k hi) = 1 - (hi.p)^2 / (|hi|^2 |p|^2), unweighted */
      if (hp * hp > (1.0f - GV_DK_STAIN_MINSIN * GV_DK_STAIN_MINSIN) * hh * pu)
        continue;
      float t = pd / pp;
      if (t < GV_DK_STAIN_TMIN || t > GV_DK_STAIN_TMAX)
        continue;
      float e2 = t * t * pp; /* squared size of the fitted change */
      if (e2 < GV_DK_STAIN_DMIN * GV_DK_STAIN_DMIN)
        continue;
      /* residual of the fit: |d|^2 - (d.p)^2 / |p|^2 */
      float r2 = dd - t * pd;
      if (r2 > GV_DK_STAIN_RES0 * GV_DK_STAIN_RES0 + GV_DK_STAIN_RESK * GV_DK_STAIN_RESK * e2)
        continue;
      if (t > best)
        {
          best = t;
          *dark = (uint8_t) ((sg * dirs[k][0] + 3) + 7 * (sg * dirs[k][1] + 3));
        }
    }
  return best;
}

/* Descreened print for the second stain pass (gv-defects.c, 5d and 5e on it): a stain over
 * halftone has dot and gap on either side of its rim at +-3 px, so the tint fit above meets the
 * print's own contrast; averaged over about one halftone period the print is flat and the rim a
 * clean step. Per channel the mean of the (2r + 1) x (2r + 1) pixels around (x, y) that lie in
 * the w x h image, rounded half up (integer sums: identical on every backend). */
GV_KERNEL void
gv_dk_box_px (const uint8_t *img, int w, int h, int stride, int x, int y, int r, uint8_t *out)
{
  int s[3] = { 0, 0, 0 }, n = 0;
  int ya = y - r < 0 ? 0 : y - r, yb = y + r > h - 1 ? h - 1 : y + r;
  int xa = x - r < 0 ? 0 : x - r, xb = x + r > w - 1 ? w - 1 : x + r;
  for (int yy = ya; yy <= yb; yy++)
    {
      const uint8_t *row = img + (long) yy * stride;
      for (int xx = xa; xx <= xb; xx++)
        {
          s[0] += row[3 * xx], s[1] += row[3 * xx + 1], s[2] += row[3 * xx + 2];
          n++;
        }
    }
  for (int c = 0; c < 3; c++)
    out[c] = (uint8_t) ((s[c] + n / 2) / n);
}

/* Table seen through a loss may lie in the cover's own shadow, while the strip beside the
 * cover where t is measured (outside the outline) is lit, as beside the sides facing the
 * light: the table colour times a shade from GV_DK_TABLE_SHADE (a flat cover's darkest
 * shadow) to 1. */
#define GV_DK_TABLE_SHADE 0.6f

/* 1 when p looks like the table t times the shade sh: every channel within the tolerance of
 * sh t, and never much darker (black ink at the outline is print). */
GV_KERNEL int
gv_dk_tablelike_at (const uint8_t *p, const float *t, float sh)
{
  if ((float) gv_dk_luma (p) < sh * gv_dk_lumaf (t[0], t[1], t[2]) - 15.0f)
    return 0;
  for (int c = 0; c < 3; c++)
    {
      float d = (float) p[c] - sh * t[c];
      if (d > (float) GV_DK_TABLE_TOL || d < -(float) GV_DK_TABLE_TOL)
        return 0;
    }
  return 1;
}

/* 1 when p looks like the table t beside the cover (every channel within the tolerance). */
GV_KERNEL int
gv_dk_tablelike (const uint8_t *p, const float *t)
{
  return gv_dk_tablelike_at (p, t, 1.0f);
}

/* 1 when p looks like the table t, unshaded or shaded by s from smin to 1 (s fitted by least
 * squares and clamped). */
GV_KERNEL int
gv_dk_tablelike_shaded (const uint8_t *p, const float *t, float smin)
{
  float pt = 0.0f, tt = 0.0f;
  if (gv_dk_tablelike (p, t))
    return 1;
  for (int c = 0; c < 3; c++)
    {
      pt += (float) p[c] * t[c];
      tt += t[c] * t[c];
    }
  float sh = tt > 0.0f ? pt / tt : 1.0f;
  sh = sh < smin ? smin : (sh > 1.0f ? 1.0f : sh);
  return gv_dk_tablelike_at (p, t, sh);
}

/* |Sobel| of luma (L1), for the edge density of a region. */
GV_KERNEL int
gv_dk_sobel_l1 (const uint8_t *g, int w, int h, int stride, int x, int y)
{
  int xl = x > 0 ? x - 1 : x, xr = x < w - 1 ? x + 1 : x;
  int yu = y > 0 ? y - 1 : y, yd = y < h - 1 ? y + 1 : y;
  const uint8_t *ru = g + (long) yu * stride, *r = g + (long) y * stride, *rd = g + (long) yd * stride;
  int gx = (ru[xr] + 2 * r[xr] + rd[xr]) - (ru[xl] + 2 * r[xl] + rd[xl]);
  int gy = (rd[xl] + 2 * rd[x] + rd[xr]) - (ru[xl] + 2 * ru[x] + ru[xr]);
  return (gx < 0 ? -gx : gx) + (gy < 0 ? -gy : gy);
}

/* Sub-pixel alignment of a golden cover to the first (gv-defects.c, step 1): one row's terms of
 * the Lucas-Kanade normal equations between the reference ref and the current warp cur (gray,
 * the margined cover's shape), o = { sum gx gx, gx gy, gy gy, gx e, gy e }, gradients of ref by
 * central differences, e = cur - ref, every other pixel of every other row inside the interior
 * [x0, x1] x [y0, y1] (zeros elsewhere). Exact in double (quarter-integer terms), so any
 * order of the rows' sums gives the same bits; the rows are added on the host in row order. */
GV_KERNEL void
gv_dk_lk_row (const uint8_t *ref, int rstride, const uint8_t *cur, int cstride, int y, int x0,
              int x1, int y0, int y1, double o[5])
{
  o[0] = o[1] = o[2] = o[3] = o[4] = 0;
  if (y < y0 || y > y1 || (y & 1))
    return;
  const uint8_t *r = ref + (long) y * rstride, *ru = r - rstride, *rd = r + rstride;
  const uint8_t *k = cur + (long) y * cstride;
  for (int x = x0; x <= x1; x += 2)
    {
      double gx = 0.5 * ((int) r[x + 1] - (int) r[x - 1]);
      double gy = 0.5 * ((int) rd[x] - (int) ru[x]);
      double ee = (int) k[x] - (int) r[x];
      o[0] += gx * gx;
      o[1] += gx * gy;
      o[2] += gy * gy;
      o[3] += gx * ee;
      o[4] += gy * ee;
    }
}

/* Binary dilation by a (2r + 1) square, as two passes (gv-defects.c's dilate, and on a device
 * the ink mask of step 3d): the first non-zero value of the row span [x - r, x + r] of m (w x h,
 * row pitch w), then of the column span [y - r, y + r] of that pass; 0 when none. */
GV_KERNEL uint8_t
gv_dk_dilate_h_at (const uint8_t *m, int w, int r, int x, int y)
{
  const uint8_t *row = m + (long) y * w;
  for (int k = -r; k <= r; k++)
    {
      int xx = x + k;
      if (xx >= 0 && xx < w && row[xx])
        return row[xx];
    }
  return 0;
}

GV_KERNEL uint8_t
gv_dk_dilate_v_at (const uint8_t *t, int w, int h, int r, int x, int y)
{
  for (int k = -r; k <= r; k++)
    {
      int yy = y + k;
      if (yy >= 0 && yy < h && t[(long) yy * w + x])
        return t[(long) yy * w + x];
    }
  return 0;
}
