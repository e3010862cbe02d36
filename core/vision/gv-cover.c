/* gv-cover.c: the comic cover's four corners in a gray frame, to sub-pixel accuracy.
 *
 * Method (coarse search, then refinement):
 * 1. Search on a copy reduced by an integer box factor to ~640 px long side: Sobel gradient,
 *    thin edges (non-maximum suppression along the gradient), an orientation-restricted Hough
 *    transform (each edge pixel votes only for normals within 3 degrees of its gradient), peaks
 *    refitted by weighted total least squares on the edge pixels near each line.
 * 2. Each line gets a support profile: for every pixel step along it, whether an edge of the
 *    line's orientation lies within 1 px. Prefix sums make the support of any segment O(1).
 * 3. All combinations of two near-horizontal and two near-vertical lines are tried as the
 *    cover's top, bottom, left and right: convex, plausible angles, area >= min_area_frac,
 *    height/width within aspect_tol of the cover aspect, every side supported on at least half
 *    of its visible length; the score is the supported perimeter times the mean support, so
 *    the full border beats interior panels and title bands. A parallel line further out with a
 *    quiet outside then replaces a side if it ends at the corners (a table's grain line runs
 *    on), does not take the quad more than 3 % further from the cover's proportions, and is
 *    supported on half its length or, where the side has art beyond it, brings the quad nearer
 *    the cover's proportions; there the chroma planes' lines are candidates too (a dark cover's
 *    bottom on a dark table, above which a caption box's rule was taken).
 * 4. At full resolution each side is refined: gray profiles across the side at every ~2 px,
 *    the sub-pixel position of the derivative peak (3-point parabola), and a line fitted by
 *    iteratively reweighted total least squares with Tukey's biweight (occluded or glared parts
 *    of the side fall out as outliers). Corners are the intersections of adjacent sides. With
 *    other planes of the frame (gv_cover_detect_rgb: Cr, Cb), a side the gray plane cannot
 *    locate, or whose located edge is not the outermost there, is located on the next plane
 *    that can; the checks then run on each side's own plane.
 * The answer is "not found" whenever the evidence is weak: no quad passes, a side has too few
 * inliers, or the refined corners disagree with the coarse ones. */
#include "gv-geometry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gv-error.h"
#include "gv-geometry-kernels.h"
#include "gv-threads.h"

#define GV_PI 3.14159265358979323846

/* Search resolution: long side of the reduced copy. */
#define GV_COVER_SEARCH_SIDE 640
/* Hough: 1 degree bins; an edge votes +-3 degrees around its gradient direction. */
#define GV_HOUGH_NT 180
#define GV_HOUGH_SPREAD 3
/* An edge pixel supports a line when its orientation is within 12 degrees of the line's normal
 * (Sobel orientation error on antialiased edges stays below ~5 degrees, perspective does not
 * bend lines) and it lies within 1 px of the line. */
#define GV_SUPPORT_DEG 12
/* Candidate lines kept per orientation class (near-horizontal, near-vertical). */
#define GV_MAX_CLASS_LINES 32
#define GV_MAX_PEAKS 160
/* Clutter is counted 2..GV_CLUTTER_FAR reduced px outside a side (6..30 px at 1080p): far
 * enough to see the art beyond an interior line, near enough for small covers. */
#define GV_CLUTTER_FAR 10
/* Edge strength, in units of the edge threshold, that counts as printed detail beyond a side. */
#ifndef GV_BUSY_STRONG
#define GV_BUSY_STRONG 2.0
#endif
/* Edge candidates per refinement profile: halftone dots next to the border give several
 * stronger steps within a few pixels of it, and the border must still be among them. */
#define GV_SIDE_CANDS 6
/* An outer line replaces a side (the move-out step) only when at most this share of its samples
 * past the corners has support (see gv_line_beyond): the true edges of the benchmark scans
 * measure 0.00, the table's grain lines 0.27..0.29. */
#define GV_BEYOND_MAX 0.2
/* The proportions rule of the move-out step: the outer line must bring the quad at least
 * GV_MOVE_ASPECT_GAIN nearer the cover's proportions (|log(aspect / nominal)|; a caption box's
 * rule taken for the bottom is 0.086..0.107 off, perspective moves right quads by up to 0.074,
 * and a glare beside a right side once made it take a chroma line 8 px out for a gain of 0.014);
 * on the luma plane the line may be supported on as little as GV_MOVE_FAINT_FRAC of its length
 * (the bottom of a magenta cover on a brown table, held-out 3 seed 135, is a line of luma steps
 * of a few levels), on a chroma plane (blurred, at half resolution in video) on 0.3. */
#define GV_MOVE_ASPECT_GAIN 0.015
#define GV_MOVE_FAINT_FRAC 0.1
/* ... and no move may take the quad further from the cover's proportions than this more
 * (|log(aspect / nominal)|; perspective moves a right quad's by up to 0.074 over the eleven
 * benchmark sets, one grain line of the table beyond a right bottom side by 0.08) */
#define GV_MOVE_ASPECT_WORSE 0.03
/* Least inlier share of a side's weaker end third (see gv_refine_side). */
#define GV_END_SUPPORT 0.15

typedef struct {
  double nx, ny, c;   /* nx x + ny y = c, unit normal */
  int votes;
  /* support profile along p(t) = c n + t d, d = (-ny, nx); samples at t = t0 + k */
  int t0, n;
  int *pre;           /* n + 1 prefix counts */
  int *cneg, *cpos;   /* n + 1 prefix counts of edge pixels beside the line, each side */
  double key;         /* position across the frame for ordering */
} GvLine;

typedef struct {
  int rw, rh, f;
  uint8_t *small;
  short *gx, *gy;
  float *mag;
  uint8_t *ori;       /* orientation bin 0..179 of edges above threshold, 255 elsewhere */
  float thr;
} GvSearch;

typedef struct {
  const GvImage *gray;
  GvSearch *s;
} GvReduceCtx;

static void
gv_reduce_rows (void *data, int y0, int y1)
{
  GvReduceCtx *c = data;
  GvSearch *s = c->s;
  for (int y = y0; y < y1; y++)
    for (int x = 0; x < s->rw; x++)
      s->small[(size_t) y * s->rw + x] = gv_box_reduce_u8 ((const uint8_t *) c->gray->data,
                                                           (int) c->gray->stride, s->f, x, y);
}

static void
gv_gradient_rows (void *data, int y0, int y1)
{
  GvSearch *s = data;
  for (int y = y0; y < y1; y++)
    for (int x = 0; x < s->rw; x++)
      {
        size_t i = (size_t) y * s->rw + x;
        int gx, gy;
        gv_sobel_u8 (s->small, s->rw, s->rw, s->rh, x, y, &gx, &gy);
        s->gx[i] = (short) gx;
        s->gy[i] = (short) gy;
        /* The frame border is no edge of the scene. */
        if (x == 0 || y == 0 || x == s->rw - 1 || y == s->rh - 1)
          s->mag[i] = 0.0f;
        else
          s->mag[i] = sqrtf ((float) (gx * gx + gy * gy));
      }
}

static int
gv_ori_bin (int gx, int gy)
{
  double a = atan2 ((double) gy, (double) gx) * (180.0 / GV_PI);
  if (a < 0)
    a += 180.0;
  int b = (int) floor (a + 0.5);
  return b >= 180 ? b - 180 : b;
}

static int
gv_ang_diff (int a, int b)
{
  int d = abs (a - b) % 180;
  return d > 90 ? 180 - d : d;
}

static int
gv_line_ori (const GvLine *l)
{
  double a = atan2 (l->ny, l->nx) * (180.0 / GV_PI);
  if (a < 0)
    a += 180.0;
  int b = (int) floor (a + 0.5);
  return b >= 180 ? b - 180 : b;
}

/* Weighted total least squares line through edge pixels near l; 0 when too few. */
static int
gv_line_refit (const GvSearch *s, GvLine *l, double band)
{
  int lo = gv_line_ori (l);
  double dx = -l->ny, dy = l->nx, px = l->c * l->nx, py = l->c * l->ny;
  double sw = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  double diag = hypot (s->rw, s->rh);
  int nb = (int) ceil (band);
  int count = 0;

  for (double t = -diag; t <= diag; t += 1.0)
    {
      double cx = px + t * dx, cy = py + t * dy;
      if (cx < -band || cy < -band || cx > s->rw + band || cy > s->rh + band)
        continue;
      for (int k = -nb; k <= nb; k++)
        {
          int x = (int) floor (cx + k * l->nx + 0.5), y = (int) floor (cy + k * l->ny + 0.5);
          if (x < 1 || y < 1 || x >= s->rw - 1 || y >= s->rh - 1)
            continue;
          size_t i = (size_t) y * s->rw + x;
          if (s->ori[i] == 255 || gv_ang_diff (s->ori[i], lo) > GV_SUPPORT_DEG)
            continue;
          double r = x * l->nx + y * l->ny - l->c;
          if (fabs (r) > band)
            continue;
          double w = s->mag[i];
          sw += w;
          sx += w * x;
          sy += w * y;
          sxx += w * x * x;
          syy += w * y * y;
          sxy += w * x * y;
          count++;
        }
    }
  if (count < 8 || !(sw > 0))
    return 0;
  double mx = sx / sw, my = sy / sw;
  double cxx = sxx / sw - mx * mx, cyy = syy / sw - my * my, cxy = sxy / sw - mx * my;
  /* normal = eigenvector of the smaller eigenvalue of the scatter matrix */
  double th = 0.5 * atan2 (2 * cxy, cxx - cyy); /* direction of the larger */
  double nx = -sin (th), ny = cos (th);
  if (nx * l->nx + ny * l->ny < 0)
    {
      nx = -nx;
      ny = -ny;
    }
  l->nx = nx;
  l->ny = ny;
  l->c = nx * mx + ny * my;
  return 1;
}

/* Support profile: sample the line at unit steps inside the reduced frame. */
static int
gv_line_profile (const GvSearch *s, GvLine *l)
{
  double dx = -l->ny, dy = l->nx, px = l->c * l->nx, py = l->c * l->ny;
  double diag = hypot (s->rw, s->rh) + 2;
  int lo = gv_line_ori (l);
  int tmin = 1 << 30, tmax = -(1 << 30);

  for (int t = (int) -diag; t <= (int) diag; t++)
    {
      double x = px + t * dx, y = py + t * dy;
      if (x >= 0 && y >= 0 && x <= s->rw - 1 && y <= s->rh - 1)
        {
          if (t < tmin)
            tmin = t;
          tmax = t;
        }
    }
  if (tmax < tmin)
    {
      l->t0 = 0;
      l->n = 0;
      l->pre = calloc (1, sizeof (int));
      l->cneg = calloc (1, sizeof (int));
      l->cpos = calloc (1, sizeof (int));
      return l->pre && l->cneg && l->cpos;
    }
  l->t0 = tmin;
  l->n = tmax - tmin + 1;
  l->pre = malloc ((size_t) (l->n + 1) * sizeof (int));
  l->cneg = malloc ((size_t) (l->n + 1) * sizeof (int));
  l->cpos = malloc ((size_t) (l->n + 1) * sizeof (int));
  if (!l->pre || !l->cneg || !l->cpos)
    return 0;
  l->pre[0] = l->cneg[0] = l->cpos[0] = 0;
  for (int k = 0; k < l->n; k++)
    {
      double x = px + (tmin + k) * dx, y = py + (tmin + k) * dy;
      int ok = 0;
      for (int o = -1; o <= 1 && !ok; o++)
          {
            int xi = (int) floor (x + o * l->nx + 0.5), yi = (int) floor (y + o * l->ny + 0.5);
            if (xi < 0 || yi < 0 || xi >= s->rw || yi >= s->rh)
              continue;
            uint8_t a = s->ori[(size_t) yi * s->rw + xi];
            ok = a != 255 && gv_ang_diff (a, lo) <= GV_SUPPORT_DEG;
          }
      l->pre[k + 1] = l->pre[k] + ok;
      /* clutter beside the line: the table outside a cover is quiet, printed art is not */
      int cn = 0, cp = 0;
      for (int o = 2; o <= GV_CLUTTER_FAR; o++)
          for (int sg = -1; sg <= 1; sg += 2)
            {
              int xi = (int) floor (x + sg * o * l->nx + 0.5), yi = (int) floor (y + sg * o * l->ny + 0.5);
              if (xi < 0 || yi < 0 || xi >= s->rw || yi >= s->rh)
                continue;
              if (s->ori[(size_t) yi * s->rw + xi] != 255)
                {
                  if (sg < 0)
                    cn++;
                  else
                    cp++;
                }
            }
      l->cneg[k + 1] = l->cneg[k] + cn;
      l->cpos[k + 1] = l->cpos[k] + cp;
    }
  return 1;
}

static double
gv_line_t (const GvLine *l, double x, double y)
{
  return -l->ny * x + l->nx * y;
}

/* Supported samples and in-frame samples of l between parameters ta and tb. */
static void
gv_line_support (const GvLine *l, double ta, double tb, int outward, int *sup, int *inframe,
                 int *clutter)
{
  if (ta > tb)
    {
      double t = ta;
      ta = tb;
      tb = t;
    }
  int a = (int) ceil (ta) - l->t0, b = (int) floor (tb) - l->t0 + 1;
  if (a < 0)
    a = 0;
  if (b > l->n)
    b = l->n;
  if (b <= a)
    {
      *sup = *inframe = *clutter = 0;
      return;
    }
  *sup = l->pre[b] - l->pre[a];
  *clutter = outward > 0 ? l->cpos[b] - l->cpos[a] : l->cneg[b] - l->cneg[a];
  *inframe = b - a;
}

/* Share of in-frame samples of l with support beyond its segment ta..tb, over GV_BEYOND_GAP ..
 * GV_BEYOND_GAP + a quarter of the segment's length past each end; -1 when fewer than 10 of
 * them are in the frame. A cover's side ends at its corners, the table beyond them is quiet; a
 * line that runs on (a grain line of the table, a frame border) is no side. */
#define GV_BEYOND_GAP 3.0
static double
gv_line_beyond (const GvLine *l, double ta, double tb)
{
  if (ta > tb)
    {
      double t = ta;
      ta = tb;
      tb = t;
    }
  double ext = 0.25 * (tb - ta);
  int s1, i1, c1, s2, i2, c2;
  gv_line_support (l, ta - GV_BEYOND_GAP - ext, ta - GV_BEYOND_GAP, 1, &s1, &i1, &c1);
  gv_line_support (l, tb + GV_BEYOND_GAP, tb + GV_BEYOND_GAP + ext, 1, &s2, &i2, &c2);
  if (i1 + i2 < 10)
    return -1;
  return (double) (s1 + s2) / (i1 + i2);
}

static int
gv_intersect (const GvLine *a, const GvLine *b, double *x, double *y)
{
  double det = a->nx * b->ny - a->ny * b->nx;
  if (fabs (det) < 1e-6)
    return 0;
  *x = (a->c * b->ny - a->ny * b->c) / det;
  *y = (a->nx * b->c - a->c * b->nx) / det;
  return 1;
}

typedef struct {
  double score;
  double x[4], y[4];
  double frac[4], pen[4];
  int lines[4];       /* indices: T, R, B, L */
} GvQuadCand;

static double
gv_quad_area (const double x[4], const double y[4])
{
  double a = 0;
  for (int i = 0; i < 4; i++)
    {
      int j = (i + 1) & 3;
      a += x[i] * y[j] - x[j] * y[i];
    }
  return 0.5 * a;
}

/* Sides in order T (TL->TR), R (TR->BR), B (BR->BL), L (BL->TL). */
static int
gv_quad_shape_ok (const double x[4], const double y[4], double len[4])
{
  for (int i = 0; i < 4; i++)
    {
      int j = (i + 1) & 3;
      len[i] = hypot (x[j] - x[i], y[j] - y[i]);
      if (len[i] < 4)
        return 0;
    }
  for (int i = 0; i < 4; i++)
    {
      int h = (i + 3) & 3, j = (i + 1) & 3;
      double ax = x[i] - x[h], ay = y[i] - y[h], bx = x[j] - x[i], by = y[j] - y[i];
      double cr = ax * by - ay * bx;
      if (cr <= 0)
        return 0; /* not convex clockwise */
      /* interior angle between 45 and 135 degrees: |cos| < 0.7071 */
      double cs = (ax * bx + ay * by) / (len[h] * len[i]);
      if (fabs (cs) > 0.7071)
        return 0;
    }
  return 1;
}


typedef struct {
  double amin, amax, min_area;
  double min_frac;    /* least supported share of a side's visible length */
} GvQuadRules;

/* Scores the quad of lines side[] = T, R, B, L; 0 when it is no plausible cover. */
static int
gv_quad_eval (const GvLine *const side[4], const GvQuadRules *r, GvQuadCand *q)
{
  const GvLine *T = side[0], *R = side[1], *B = side[2], *L = side[3];
  double x[4], y[4], len[4];

  if (!gv_intersect (T, L, &x[0], &y[0]) || !gv_intersect (T, R, &x[1], &y[1])
      || !gv_intersect (B, R, &x[2], &y[2]) || !gv_intersect (B, L, &x[3], &y[3]))
    return 0;
  if (!gv_quad_shape_ok (x, y, len))
    return 0;
  double area = gv_quad_area (x, y);
  if (area < r->min_area)
    return 0;
  double asp = (len[1] + len[3]) / (len[0] + len[2]);
  if (asp < r->amin || asp > r->amax)
    return 0;
  /* perspective: opposite sides within a factor 2 */
  if (fmin (len[0], len[2]) < 0.5 * fmax (len[0], len[2])
      || fmin (len[1], len[3]) < 0.5 * fmax (len[1], len[3]))
    return 0;
  double tot = 0, fsum = 0;
  for (int k = 0; k < 4; k++)
    {
      int j = (k + 1) & 3, sup, inf, clut;
      /* outward: -n for the top and left lines, +n for right and bottom */
      int outward = (k == 1 || k == 2) ? 1 : -1;
      gv_line_support (side[k], gv_line_t (side[k], x[k], y[k]), gv_line_t (side[k], x[j], y[j]),
                       outward, &sup, &inf, &clut);
      /* a side must be mostly visible and supported on half its visible part (a finger or
       * glare may hide the rest) */
      if (inf < 0.5 * len[k] || sup < r->min_frac * inf)
        return 0;
      /* edge pixels beside the line on its outer side, per pixel examined: a line of printed
       * art inside the cover has art outside it, the true border has the table */
      double cl = (double) clut / ((GV_CLUTTER_FAR - 1.0) * inf);
      q->pen[k] = 1.0 - fmin (0.9, 2.0 * cl);
      q->frac[k] = (double) sup / inf;
      tot += sup * q->pen[k];
      fsum += q->frac[k] * q->pen[k];
    }
  q->score = tot * fsum / 4;
  memcpy (q->x, x, sizeof x);
  memcpy (q->y, y, sizeof y);
  return 1;
}

/* 1 when dense edges run along a frame border for at least half a cover side: the table is
 * quiet, so that is most likely a cover (or its art) cut by the border. Edge density is taken
 * in a band 2..12 px inside the border, per position along it. */
static int
gv_busy_border (const GvSearch *s, double min_side)
{
  for (int b = 0; b < 4; b++)
    {
      int along = (b < 2) ? s->rw : s->rh, start = 0, last = -100, best = 0;
      for (int i = 0; i < along; i++)
        {
          int hits = 0;
          for (int o = 2; o <= 12; o++)
            {
              int x, y;
              if (b == 0)
                x = i, y = o;
              else if (b == 1)
                x = i, y = s->rh - 1 - o;
              else if (b == 2)
                x = o, y = i;
              else
                x = s->rw - 1 - o, y = i;
              if (x >= 0 && y >= 0 && x < s->rw && y < s->rh && s->ori[(size_t) y * s->rw + x] != 255)
                hits++;
            }
          /* smooth over gaps of plain print: a position counts when it has any edge, the run
           * breaks after 8 positions without */
          if (hits == 0)
            continue;
          if (i - last > 8)
            start = i;
          last = i;
          best = i - start + 1 > best ? i - start + 1 : best;
        }
      if (best >= 0.5 * min_side)
        return 1;
    }
  return 0;
}

static void
gv_search_free (GvSearch *s)
{
  free (s->small);
  free (s->gx);
  free (s->gy);
  free (s->mag);
  free (s->ori);
}

static int
gv_cmp_votes (const void *a, const void *b)
{
  const GvLine *la = a, *lb = b;
  if (la->votes != lb->votes)
    return lb->votes - la->votes;
  return (la->c < lb->c) ? -1 : (la->c > lb->c);
}

static int
gv_cmp_key (const void *a, const void *b)
{
  const GvLine *la = a, *lb = b;
  return (la->key < lb->key) ? -1 : (la->key > lb->key);
}

/* --- full-resolution refinement ------------------------------------------------------- */

typedef struct {
  double x, y;
  double w;           /* step height across the side, gray levels */
  int sg;             /* step polarity going inward: +1 brighter inside, -1 darker */
} GvPt;

/* Tukey-IRLS total least squares; returns the inlier share (|r| < 1.5 px). */
static double
gv_fit_line_robust (const GvPt *p, int n, double *nx, double *ny, double *c, double cmax,
                    double cmin, double *rms)
{
  double lnx = *nx, lny = *ny, lc = *c;
  double cut = cmax;
  *rms = 0;
  if (n < 4)
    return 0.0;
  for (int it = 0; it < 12; it++)
    {
      double sw = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (int i = 0; i < n; i++)
        {
          double r = p[i].x * lnx + p[i].y * lny - lc;
          if (fabs (r) >= cut)
            continue;
          double u = r / cut, w = (1 - u * u) * (1 - u * u);
          sw += w;
          sx += w * p[i].x;
          sy += w * p[i].y;
          sxx += w * p[i].x * p[i].x;
          syy += w * p[i].y * p[i].y;
          sxy += w * p[i].x * p[i].y;
        }
      if (!(sw > 2))
        return 0.0;
      double mx = sx / sw, my = sy / sw;
      double cxx = sxx / sw - mx * mx, cyy = syy / sw - my * my, cxy = sxy / sw - mx * my;
      double th = 0.5 * atan2 (2 * cxy, cxx - cyy);
      double tnx = -sin (th), tny = cos (th);
      if (tnx * lnx + tny * lny < 0)
        {
          tnx = -tnx;
          tny = -tny;
        }
      lnx = tnx;
      lny = tny;
      lc = tnx * mx + tny * my;
      cut = fmax (cmin, cut * 0.7);
    }
  int in = 0;
  double ss = 0;
  for (int i = 0; i < n; i++)
    {
      double r = p[i].x * lnx + p[i].y * lny - lc;
      if (fabs (r) < 1.5)
        {
          in++;
          ss += r * r;
        }
    }
  *nx = lnx;
  *ny = lny;
  *c = lc;
  *rms = in ? sqrt (ss / in) : 0;
  return (double) in;
}

/* Consensus line (RANSAC with a fixed pseudo-random sequence, so results are reproducible):
 * the pair of points whose line has the most points within 1 px, among lines within 10 degrees
 * of the prior normal. Where a side is half hidden and half doubled by an art edge next to it,
 * the majority wins instead of a compromise between the two. */
static int
gv_ransac_line (const GvPt *p, int n, double *nx, double *ny, double *c, double *score)
{
  unsigned st = 12345u;
  double best = -1;
  double bnx = *nx, bny = *ny, bc = *c;

  if (n < 6)
    return 0;
  double span = hypot (p[n - 1].x - p[0].x, p[n - 1].y - p[0].y);
  /* the prior line's point nearest the centroid: candidates far from the prior lose ties */
  double mx = 0, my = 0;
  for (int k = 0; k < n; k++)
    {
      mx += p[k].x;
      my += p[k].y;
    }
  mx /= n;
  my /= n;
  double r0 = mx * *nx + my * *ny - *c;
  mx -= r0 * *nx;
  my -= r0 * *ny;
  for (int it = 0; it < 400; it++)
    {
      st = st * 1664525u + 1013904223u;
      int i = (int) ((st >> 8) % (unsigned) n);
      st = st * 1664525u + 1013904223u;
      int j = (int) ((st >> 8) % (unsigned) n);
      double dx = p[j].x - p[i].x, dy = p[j].y - p[i].y, l = hypot (dx, dy);
      /* points far apart along the side condition the line well */
      if (!(l > 0.25 * span))
        continue;
      double tnx = -dy / l, tny = dx / l;
      if (tnx * *nx + tny * *ny < 0)
        {
          tnx = -tnx;
          tny = -tny;
        }
      if (tnx * *nx + tny * *ny < 0.985)
        continue;
      double tc = tnx * p[i].x + tny * p[i].y;
      /* consensus weighted by the step height capped at 12 gray levels: the border's step
       * outvotes the shallow ramps of a soft shadow beside it, while strong print edges
       * (title bands, 100+ levels) count no more than the border */
      double cnt = 0;
      for (int k = 0; k < n; k++)
        if (fabs (p[k].x * tnx + p[k].y * tny - tc) < 1.0)
          cnt += fmin (p[k].w, 12.0);
      /* A parallel print line (title band) a dozen px inside can tie with the border; the
       * coarse search already chose the side by its quiet outside, so ties go to the line
       * nearer the prior: 3 % per px, small against the soft shadow's few px. */
      cnt /= 1.0 + 0.03 * fabs (tnx * mx + tny * my - tc);
      if (cnt > best)
        {
          best = cnt;
          bnx = tnx;
          bny = tny;
          bc = tc;
        }
    }
  *score = best;
  if (best <= 0)
    return 0;
  *nx = bnx;
  *ny = bny;
  *c = bc;
  return 1;
}

/* Edge points across the side from (ax, ay) to (bx, by) of the line (nx, ny, c); half search
 * width R px. Returns the number of points, *tried the number of in-frame positions. */
static int
gv_side_points (const GvImage *g, double ax, double ay, double bx, double by, double nx,
                double ny, double c, int R, GvPt *pts, int maxp, int *tried)
{
  const uint8_t *src = g->data;
  int stride = (int) g->stride, W = g->width, H = g->height;
  double len = hypot (bx - ax, by - ay);
  double dx = (bx - ax) / len, dy = (by - ay) / len;
  int np = (int) (len * 0.92 / 2.0);
  int n = 0;
  float prof[64], der[64];

  if (np > maxp)
    np = maxp;
  if (R > 28)
    R = 28;
  *tried = 0;
  for (int k = 0; k < np; k++)
    {
      /* positions between 4% and 96% of the side: corners are left to the intersection */
      double s = len * (0.04 + 0.92 * (k + 0.5) / np);
      double qx = ax + s * dx, qy = ay + s * dy;
      /* project on the current line */
      double r0 = qx * nx + qy * ny - c;
      qx -= r0 * nx;
      qy -= r0 * ny;
      double m = R + 3;
      if (qx - m * fabs (nx) - 2 < 0 || qy - m * fabs (ny) - 2 < 0 || qx + m * fabs (nx) + 2 > W - 1
          || qy + m * fabs (ny) + 2 > H - 1)
        continue;
      (*tried)++;
      for (int j = -R - 1; j <= R + 1; j++)
        {
          float acc = 0.0f;
          for (int a = -1; a <= 1; a++)
            acc += gv_sample_clamped_f (src, stride, W, H, (float) (qx + j * nx + a * dx),
                                        (float) (qy + j * ny + a * dy));
          prof[j + R + 1] = acc / 3.0f;
        }
      /* One-pixel differences, der[i] between prof[i] and prof[i + 1] (offset j + 0.5): the
       * paper's cut edge is a step of about one pixel even after the analysis downscale, while
       * a soft shadow beside the cover or a blurred art edge ramps over several pixels, so the
       * narrow difference ranks the border above them where a 2 px difference would not. */
      float dmax = 0.0f;
      for (int j = -R - 1; j <= R; j++)
        {
          int i = j + R + 1;
          der[i] = fabsf (prof[i + 1] - prof[i]);
          dmax = fmaxf (dmax, der[i]);
        }
      /* Every clear local maximum of the derivative is a candidate (at most GV_SIDE_CANDS, strongest
       * first): where the border is faint next to a strong art edge, the border's own weak
       * peak is still offered, and the consensus fit picks the line most profiles agree on.
       * A candidate needs a step of 4 gray levels over 1 px and a quarter of the strongest. */
      float thr = fmaxf (4.0f, 0.25f * dmax);
      int cand[GV_SIDE_CANDS], ncand = 0;
      for (int pass = 0; pass < GV_SIDE_CANDS; pass++)
        {
          int bj = 0;
          float bv = 0.0f;
          for (int j = -R; j <= R - 1; j++)
            {
              int i = j + R + 1, used = 0;
              for (int u = 0; u < ncand; u++)
                used |= cand[u] == j;
              if (used || der[i] < thr || der[i] < der[i - 1] || der[i] < der[i + 1])
                continue;
              if (der[i] > bv)
                {
                  bv = der[i];
                  bj = j;
                }
            }
          if (bv <= 0.0f)
            break;
          cand[ncand++] = bj;
        }
      for (int u = 0; u < ncand && n < maxp; u++)
        {
          int i = cand[u] + R + 1;
          double a = der[i - 1], b = der[i], cc = der[i + 1];
          double den = a - 2 * b + cc;
          double off = den < 0 ? 0.5 * (a - cc) / den : 0.0;
          off = off > 0.5 ? 0.5 : (off < -0.5 ? -0.5 : off);
          pts[n].x = qx + (cand[u] + 0.5 + off) * nx;
          pts[n].y = qy + (cand[u] + 0.5 + off) * ny;
          pts[n].w = b;
          pts[n].sg = prof[i + 1] > prof[i] ? 1 : -1;
          n++;
        }
    }
  return n;
}

typedef struct {
  double nx, ny, c;
  double inl, rms;
  double end_support; /* inlier share of the weaker end third of the side */
  int conflict;       /* the two step polarities make lines apart by > 0.5 px */
  int pol_inl[2];     /* points of each polarity (dark inside, bright inside) near the line */
} GvSideFit;

/* Copies the points of polarity sg into dst; returns their number. */
static int
gv_keep_polarity (const GvPt *p, int n, int sg, GvPt *dst)
{
  int m = 0;
  for (int i = 0; i < n; i++)
    if (p[i].sg == sg)
      dst[m++] = p[i];
  return m;
}

static int
gv_refine_side_pol (const GvImage *g, double ax, double ay, double bx, double by, int R0,
                    int pol, GvSideFit *out, GvPt *pts, GvPt *scratch, int maxp)
{
  double len = hypot (bx - ax, by - ay);
  if (!(len > 8))
    return 0;
  double nx = -(by - ay) / len, ny = (bx - ax) / len, c = nx * ax + ny * ay;
  int tried = 0, n;
  double rms = 0, inl = 0;

  n = gv_side_points (g, ax, ay, bx, by, nx, ny, c, R0, pts, maxp, &tried);
  if (tried < 8)
    return 0;
  if (pol)
    {
      n = gv_keep_polarity (pts, n, pol, scratch);
      memcpy (pts, scratch, (size_t) n * sizeof *pts);
    }
  {
    double sc;
    if (!gv_ransac_line (pts, n, &nx, &ny, &c, &sc))
      return 0;
  }
  inl = gv_fit_line_robust (pts, n, &nx, &ny, &c, 1.5, 1.0, &rms);
  if (inl <= 0)
    return 0;
  /* second pass: narrow profiles centred on the fitted line */
  n = gv_side_points (g, ax, ay, bx, by, nx, ny, c, 4, pts, maxp, &tried);
  if (tried < 8)
    return 0;
  if (pol)
    {
      n = gv_keep_polarity (pts, n, pol, scratch);
      memcpy (pts, scratch, (size_t) n * sizeof *pts);
    }
  /* consensus again: parallel print (halftone rows) 2..3 px inside the border otherwise pulls
   * the Tukey fit into a tilted compromise between the two */
  {
    double sc;
    if (!gv_ransac_line (pts, n, &nx, &ny, &c, &sc))
      return 0;
  }
  inl = gv_fit_line_robust (pts, n, &nx, &ny, &c, 1.5, 0.8, &rms);
  /* The corners are extrapolated from the side: where either end third has little support
   * the side's angle rests on the other part alone (a border lost against the table there),
   * and a small angle error becomes pixels at the corner. Occluders (finger, glare) sit
   * mid-side in practice; an end hidden by one makes this a "not found". */
  int third[3] = { 0, 0, 0 };
  for (int i = 0; i < n; i++)
    if (fabs (pts[i].x * nx + pts[i].y * ny - c) < 1.0)
      {
        double u = ((pts[i].x - ax) * (bx - ax) + (pts[i].y - ay) * (by - ay)) / (len * len);
        third[u < 1.0 / 3 ? 0 : (u < 2.0 / 3 ? 1 : 2)]++;
      }
  out->end_support = fmin (third[0], third[2]) / fmax (1.0, tried / 3.0);
  /* Polarity agreement: where the steps of each polarity near the line make lines of their
   * own that part by more than 0.5 px at an end of the side, the fit mixes two edges (the
   * paper's cut edge and the outer edge of its contact shadow) into a tilted compromise. */
  out->conflict = 0;
  out->pol_inl[0] = out->pol_inl[1] = 0;
  if (!pol)
    {
      double ln[2][3];
      int ok[2] = { 0, 0 };
      for (int q = 0; q < 2; q++)
        {
          int m = 0;
          for (int i = 0; i < n; i++)
            if (pts[i].sg == (q ? 1 : -1) && fabs (pts[i].x * nx + pts[i].y * ny - c) < 1.5)
              scratch[m++] = pts[i];
          out->pol_inl[q] = m;
          double qnx = nx, qny = ny, qc = c, qr;
          if (m >= 8 && m >= 0.15 * tried
              && gv_fit_line_robust (scratch, m, &qnx, &qny, &qc, 1.5, 0.8, &qr) >= 8)
            {
              ln[q][0] = qnx;
              ln[q][1] = qny;
              ln[q][2] = qc;
              ok[q] = 1;
            }
        }
      if (ok[0] && ok[1])
        {
          double da = (ax * ln[0][0] + ay * ln[0][1] - ln[0][2]) - (ax * ln[1][0] + ay * ln[1][1] - ln[1][2]);
          double db = (bx * ln[0][0] + by * ln[0][1] - ln[0][2]) - (bx * ln[1][0] + by * ln[1][1] - ln[1][2]);
          out->conflict = fmax (fabs (da), fabs (db)) > 0.5;
        }
    }
  out->nx = nx;
  out->ny = ny;
  out->c = c;
  out->inl = tried ? fmin (1.0, inl / tried) : 0;
  out->rms = rms;
  return out->inl > 0;
}

/* A side refined with steps of both polarities (print running into the border flips the step
 * along it); where the two polarities disagree (a contact shadow's outer edge), again with the
 * stronger polarity alone, whose fit may rest on less of the side. 1 when the side is located
 * (fit in out), 0 when not. */
static int
gv_refine_side (const GvImage *g, double ax, double ay, double bx, double by, int R0,
                double min_end, GvSideFit *out, GvPt *pts, GvPt *scratch, int maxp)
{
  int ok = gv_refine_side_pol (g, ax, ay, bx, by, R0, 0, out, pts, scratch, maxp);
  if (ok && !out->conflict && out->inl >= 0.35 && out->end_support >= 0.3)
    return 1;
  if (!ok || !out->conflict)
    return 0;
  GvSideFit mixed = *out;
  int pol = out->pol_inl[1] > out->pol_inl[0] ? 1 : -1;
  ok = gv_refine_side_pol (g, ax, ay, bx, by, R0, pol, out, pts, scratch, maxp);
  if (ok && out->inl >= 0.35 && out->end_support >= min_end)
    return 1;
  /* the stronger polarity alone is too thin: the mixed fit stands when it is clearly
   * consistent (an occluder's edge of the other polarity crossing the side) */
  *out = mixed;
  /* (not without reduction: there the shadow's edge lies within the fit's tolerance) */
  return min_end < 0.3 && out->inl >= 0.6 && out->end_support >= 0.5 && out->rms < 0.5;
}

/* --- the detector ---------------------------------------------------------------------- */

/* Share of positions along the side from (ax, ay) to (bx, by) (reduced px; 10..90 % of it) with
 * an edge pixel 4..GV_CLUTTER_FAR + 2 px beyond it (past the contact shadow's outer edge) on the side away from (ox, oy), a point inside
 * the quad. The table outside a cover is quiet; printed art beyond a side means the side is a
 * line of the art (or the true border lies further out). */
static double
gv_outside_busy (const GvSearch *s, double ax, double ay, double bx, double by, double ox,
                 double oy)
{
  double len = hypot (bx - ax, by - ay);
  if (!(len > 4))
    return 1.0;
  double dx = (bx - ax) / len, dy = (by - ay) / len, nx = -dy, ny = dx;
  if ((ox - ax) * nx + (oy - ay) * ny > 0)
    {
      nx = -nx;
      ny = -ny;
    }
  int pos = 0, busy = 0;
  for (double t = 0.1 * len; t <= 0.9 * len; t += 1.0)
    {
      double px = ax + t * dx, py = ay + t * dy;
      int hit = 0, in = 0;
      for (int o = 4; o <= GV_CLUTTER_FAR + 2 && !hit; o++)
        {
          int xi = (int) floor (px + o * nx + 0.5), yi = (int) floor (py + o * ny + 0.5);
          if (xi < 1 || yi < 1 || xi >= s->rw - 1 || yi >= s->rh - 1)
            continue;
          in = 1;
          /* Only strong edges count: printed art is high contrast, a table's grain is not. */
          hit = s->ori[(size_t) yi * s->rw + xi] != 255
                && s->mag[(size_t) yi * s->rw + xi] > GV_BUSY_STRONG * s->thr;
        }
      if (!in)
        continue;
      pos++;
      busy += hit;
    }
  return pos ? (double) busy / pos : 0.0;
}

static int
gv_not_found (GvCoverDetection *out, const char *reason)
{
  out->found = 0;
  snprintf (out->reason, sizeof out->reason, "%s", reason);
  return gv_error_set (GV_ENOTFOUND, "cover not found: %s", reason);
}


/* Mean intensity step across the line n.p = c at signed distance d along the outward normal
 * (I(d + 1) - I(d - 1)), over the middle 80 % of the side a-b. */
static double
gv_side_step_range (const GvImage *gray, double ax, double ay, double bx, double by, double onx,
                    double ony, double d, double f0, double f1);


static double
gv_side_step_range (const GvImage *gray, double ax, double ay, double bx, double by, double onx,
                    double ony, double d, double f0, double f1)
{
  const uint8_t *g = gray->data;
  int st = (int) gray->stride, w = gray->width, h = gray->height;
  double len = hypot (bx - ax, by - ay), sum = 0;
  int n = 0;

  for (double t = f0 * len; t <= f1 * len; t += 2.0)
    {
      double px = ax + (bx - ax) * t / len, py = ay + (by - ay) * t / len;
      float o = gv_sample_clamped_f (g, st, w, h, (float) (px + (d + 1) * onx),
                                     (float) (py + (d + 1) * ony));
      float i = gv_sample_clamped_f (g, st, w, h, (float) (px + (d - 1) * onx),
                                     (float) (py + (d - 1) * ony));
      sum += (double) o - (double) i;
      n++;
    }
  return n ? sum / n : 0.0;
}

/* The paper's edge is the outermost step of its polarity: a step of the same sign and at least
 * half the strength 2.5..6 px further out means the fit locked onto a line inside the cover
 * (a print border, a shade change) and the true edge is ambiguous. */
static int
gv_side_is_outermost (const GvImage *gray, double ax, double ay, double bx, double by,
                      double cx, double cy)
{
  double len = hypot (bx - ax, by - ay);
  if (!(len > 8))
    return 1;
  double nx = -(by - ay) / len, ny = (bx - ax) / len;
  if ((cx - ax) * nx + (cy - ay) * ny > 0)
    {
      nx = -nx;
      ny = -ny;
    }
  /* Per third of the side, since the cover may be brighter than the table along one part of
   * a side and darker along another. */
  for (int third = 0; third < 3; third++)
    {
      double f0 = 0.05 + 0.3 * third, f1 = f0 + 0.3, best = 0, bestd = 0;
      double a0 = gv_side_step_range (gray, ax, ay, bx, by, nx, ny, 0.0, f0, f1);
      double pol = a0 > 0 ? 1.0 : -1.0;
      if (fabs (a0) < 4.0)
        continue; /* no visible edge here (hidden or faint): the other thirds decide */
      /* Another step of the same polarity 2.5..6 px further out: the fit took a line inside
       * the cover (a print border) and the paper's edge is ambiguous. */
      for (double d = 2.5; d <= 6.0; d += 0.5)
        if (pol * gv_side_step_range (gray, ax, ay, bx, by, nx, ny, d, f0, f1) >= 0.5 * fabs (a0))
          return 0;
      /* The strongest step nearby lies clearly outside the line: the line is tilted onto print
       * where the edge fades (dark art against a dark shadow). */
      for (double d = 0.0; d <= 3.5; d += 0.25)
        {
          double sd = pol * gv_side_step_range (gray, ax, ay, bx, by, nx, ny, d, f0, f1);
          if (sd > best)
            {
              best = sd;
              bestd = d;
            }
        }
      if (bestd > 1.25 && best > 1.5 * fabs (a0))
        return 0;
    }
  return 1;
}

static int
gv_not_found (GvCoverDetection *out, const char *reason);

/* Side k of the coarse quad (fx, fy: full-resolution corners) located precisely on the first of
 * plane[from .. nplanes - 1] that can (gv_refine_side): 1 with *fit and *which set, else 0. */
static int
locate_side (const GvImage *const *plane, int nplanes, int from, const double *fx,
             const double *fy, int k, int R0, double min_end, GvSideFit *fit, GvPt *pts, int maxp,
             int *which)
{
  int j = (k + 1) & 3;
  for (int a = from; a < nplanes; a++)
    if (gv_refine_side (plane[a], fx[k], fy[k], fx[j], fy[j], R0, min_end, fit, pts, pts + maxp,
                        maxp))
      {
        *which = a;
        return 1;
      }
  return 0;
}

/* The detector on gray; alt (nalt planes of gray's size, or none) are tried, in order, for a side
 * that gray cannot locate precisely at full resolution (step 4), and that side's outermost test
 * then runs on the plane that located it. */
static int
cover_detect_planes (const GvImage *gray, const GvImage *const *alt, int nalt,
                     const GvCoverParams *p, int nthreads, GvCoverDetection *out);

int
gv_cover_detect (const GvImage *gray, const GvCoverParams *p, int nthreads,
                 GvCoverDetection *out)
{
  return cover_detect_planes (gray, NULL, 0, p, nthreads, out);
}

/* The coarse search's candidate lines on one plane (steps 1 and 2 of the method): the reduced
 * copy and its edges in pl->s, the refitted lines of each orientation class with their support
 * profiles in pl->hl and pl->vl, sorted by key. GV_OK or an error code; free with
 * gv_plane_lines_free (which frees pl too) in either case. */
typedef struct {
  GvSearch s;
  GvLine hl[GV_MAX_CLASS_LINES + 4], vl[GV_MAX_CLASS_LINES + 4];
  int nh, nv;
} GvPlaneLines;

static void
gv_plane_lines_free (GvPlaneLines *pl)
{
  if (!pl)
    return;
  for (int k = 0; k < pl->nh; k++)
    {
      free (pl->hl[k].pre);
      free (pl->hl[k].cneg);
      free (pl->hl[k].cpos);
    }
  for (int k = 0; k < pl->nv; k++)
    {
      free (pl->vl[k].pre);
      free (pl->vl[k].cneg);
      free (pl->vl[k].cpos);
    }
  gv_search_free (&pl->s);
  free (pl);
}

static int
gv_plane_lines (const GvImage *gray, const GvCoverParams *p, int nthreads, GvPlaneLines *pl)
{
  GvSearch *s = &pl->s;
  GvLine *hl = pl->hl, *vl = pl->vl, *lines = NULL;
  int *acc = NULL, rc = GV_OK, nlines = 0, nh = 0, nv = 0;
  double cosT[GV_HOUGH_NT], sinT[GV_HOUGH_NT];

  memset (pl, 0, sizeof *pl);
  int W = gray->width, H = gray->height, longside = W > H ? W : H;
  s->f = (longside + GV_COVER_SEARCH_SIDE / 2) / GV_COVER_SEARCH_SIDE;
  if (s->f < 1)
    s->f = 1;
  s->rw = W / s->f;
  s->rh = H / s->f;
  size_t np = (size_t) s->rw * s->rh;
  s->small = malloc (np);
  s->gx = malloc (np * sizeof (short));
  s->gy = malloc (np * sizeof (short));
  s->mag = malloc (np * sizeof (float));
  s->ori = malloc (np);
  if (!s->small || !s->gx || !s->gy || !s->mag || !s->ori)
    {
      rc = gv_error_set (GV_ENOMEM, "cover detection: out of memory");
      goto done;
    }
  GvReduceCtx rctx = { gray, s };
  gv_parallel_for (nthreads, s->rh, 16, gv_reduce_rows, &rctx);
  gv_parallel_for (nthreads, s->rh, 16, gv_gradient_rows, s);

  /* Edge threshold: the table dominates the frame, so the median gradient measures its
   * texture; 3x median, at least 40 (a step of ~10 gray levels under Sobel's gain of 4). */
  {
    int hist[512] = { 0 };
    for (size_t i = 0; i < np; i++)
      {
        int b = (int) s->mag[i];
        hist[b > 511 ? 511 : b]++;
      }
    size_t cum = 0;
    int med = 0;
    for (med = 0; med < 512; med++)
      if ((cum += hist[med]) * 2 >= np)
        break;
    s->thr = fmaxf (40.0f, 3.0f * (float) med);
  }
  for (int y = 0; y < s->rh; y++)
    for (int x = 0; x < s->rw; x++)
      {
        size_t i = (size_t) y * s->rw + x;
        s->ori[i] = s->mag[i] >= s->thr ? (uint8_t) gv_ori_bin (s->gx[i], s->gy[i]) : 255;
      }

  /* Hough on thinned edges */
  int diag = (int) ceil (hypot (s->rw, s->rh));
  int nr = 2 * diag + 1;
  acc = calloc ((size_t) GV_HOUGH_NT * nr, sizeof (int));
  if (!acc)
    {
      rc = gv_error_set (GV_ENOMEM, "cover detection: out of memory");
      goto done;
    }
  for (int t = 0; t < GV_HOUGH_NT; t++)
    {
      cosT[t] = cos (t * GV_PI / GV_HOUGH_NT);
      sinT[t] = sin (t * GV_PI / GV_HOUGH_NT);
    }
  for (int y = 1; y < s->rh - 1; y++)
    for (int x = 1; x < s->rw - 1; x++)
      {
        size_t i = (size_t) y * s->rw + x;
        int o = s->ori[i];
        if (o == 255)
          continue;
        /* non-maximum suppression along the gradient, quantised to 4 directions */
        float m = s->mag[i], m1, m2;
        int q = ((o + 22) / 45) & 3;
        if (q == 0)
          m1 = s->mag[i - 1], m2 = s->mag[i + 1];
        else if (q == 2)
          m1 = s->mag[i - s->rw], m2 = s->mag[i + s->rw];
        else if (q == 1)
          m1 = s->mag[i - s->rw - 1], m2 = s->mag[i + s->rw + 1];
        else
          m1 = s->mag[i - s->rw + 1], m2 = s->mag[i + s->rw - 1];
        if (m < m1 || m < m2)
          continue;
        for (int d = -GV_HOUGH_SPREAD; d <= GV_HOUGH_SPREAD; d++)
          {
            int t = (o + d + GV_HOUGH_NT) % GV_HOUGH_NT;
            int r = (int) floor (x * cosT[t] + y * sinT[t] + 0.5) + diag;
            acc[(size_t) t * nr + r]++;
          }
      }

  double frame_area = (double) s->rw * s->rh;
  double amax = p->aspect * (1 + p->aspect_tol);
  double min_side = sqrt (p->min_area_frac * frame_area / amax);
  int min_votes = (int) fmax (10.0, 0.35 * min_side);

  lines = calloc (GV_MAX_PEAKS + 4, sizeof (GvLine));
  if (!lines)
    {
      rc = gv_error_set (GV_ENOMEM, "cover detection: out of memory");
      goto done;
    }
  /* peaks: local maxima over +-2 degrees and +-3 px; the GV_MAX_PEAKS strongest */
  for (int t = 0; t < GV_HOUGH_NT; t++)
    for (int r = 0; r < nr; r++)
      {
        int v = acc[(size_t) t * nr + r];
        if (v < min_votes)
          continue;
        int ismax = 1;
        for (int dt = -2; dt <= 2 && ismax; dt++)
          for (int dr = -3; dr <= 3; dr++)
            {
              int tt = t + dt, rr = r + dr;
              if ((dt == 0 && dr == 0) || tt < 0 || tt >= GV_HOUGH_NT || rr < 0 || rr >= nr)
                continue;
              int u = acc[(size_t) tt * nr + rr];
              /* ties: the earlier bin wins */
              if (u > v || (u == v && (dt < 0 || (dt == 0 && dr < 0))))
                {
                  ismax = 0;
                  break;
                }
            }
        if (!ismax)
          continue;
        GvLine l = { cosT[t], sinT[t], (double) (r - diag), v, 0, 0, NULL, NULL, NULL, 0 };
        if (nlines < GV_MAX_PEAKS)
          lines[nlines++] = l;
        else
          {
            int wi = 0;
            for (int k = 1; k < nlines; k++)
              if (lines[k].votes < lines[wi].votes)
                wi = k;
            if (lines[wi].votes < v)
              lines[wi] = l;
          }
      }
  qsort (lines, nlines, sizeof (GvLine), gv_cmp_votes);

  /* refit, drop duplicates, split in classes */
  for (int k = 0; k < nlines; k++)
    {
      GvLine l = lines[k];
      if (!gv_line_refit (s, &l, 2.5) || !gv_line_refit (s, &l, 1.5))
        continue;
      int horiz = fabs (l.ny) > fabs (l.nx);
      GvLine *cls = horiz ? hl : vl;
      int *nc = horiz ? &nh : &nv;
      if (*nc >= GV_MAX_CLASS_LINES)
        continue;
      /* orient normals consistently within a class: +y for horizontal, +x for vertical */
      if ((horiz && l.ny < 0) || (!horiz && l.nx < 0))
        {
          l.nx = -l.nx;
          l.ny = -l.ny;
          l.c = -l.c;
        }
      double cx = s->rw * 0.5, cy = s->rh * 0.5;
      l.key = horiz ? (l.c - l.nx * cx) / l.ny : (l.c - l.ny * cy) / l.nx;
      int dup = 0;
      for (int j = 0; j < *nc && !dup; j++)
        {
          double dot = cls[j].nx * l.nx + cls[j].ny * l.ny;
          if (dot > cos (1.5 * GV_PI / 180) && fabs (cls[j].key - l.key) < 1.5)
            dup = 1;
        }
      if (!dup)
        cls[(*nc)++] = l;
    }
  for (int k = 0; k < nh; k++)
    if (!gv_line_profile (s, &hl[k]))
      {
        rc = gv_error_set (GV_ENOMEM, "cover detection: out of memory");
        goto done;
      }
  for (int k = 0; k < nv; k++)
    if (!gv_line_profile (s, &vl[k]))
      {
        rc = gv_error_set (GV_ENOMEM, "cover detection: out of memory");
        goto done;
      }
  qsort (hl, nh, sizeof (GvLine), gv_cmp_key);
  qsort (vl, nv, sizeof (GvLine), gv_cmp_key);
done:
  pl->nh = nh;
  pl->nv = nv;
  free (lines);
  free (acc);
  return rc;
}

static int
cover_detect_planes (const GvImage *gray, const GvImage *const *alt, int nalt,
                     const GvCoverParams *p, int nthreads, GvCoverDetection *out)
{
  const GvSearch *s = NULL; /* the luma plane's, in pl0 */
  int ret = GV_OK;
  GvPt *pts = NULL;
  GvPlaneLines *pl0 = NULL, *pla[2] = { NULL, NULL };

  if (out)
    memset (out, 0, sizeof *out);
  if (!gray || !p || !out || !gray->data)
    return gv_error_set (GV_EINVAL, "cover detection: NULL argument");
  if (gray->depth != GV_U8 || gray->channels != 1)
    return gv_error_set (GV_EINVAL, "cover detection needs a gray U8 frame (got %d channels)",
                         gray->channels);
  if (!(p->min_area_frac > 0 && p->min_area_frac <= 1) || !(p->aspect > 0)
      || !(p->aspect_tol >= 0 && p->aspect_tol < 1))
    return gv_error_set (GV_EINVAL, "cover detection: bad parameters (min area %g, aspect %g, "
                         "tolerance %g)", p->min_area_frac, p->aspect, p->aspect_tol);
  if (gray->width < 32 || gray->height < 32)
    return gv_not_found (out, "frame too small to search for a cover");

  if (!(pl0 = calloc (1, sizeof *pl0)))
    return gv_error_set (GV_ENOMEM, "cover detection: out of memory");
  if ((ret = gv_plane_lines (gray, p, nthreads, pl0)) != GV_OK)
    goto out;
  s = &pl0->s;
  int W = gray->width, H = gray->height;
  GvLine *hl = pl0->hl, *vl = pl0->vl;
  int nh = pl0->nh, nv = pl0->nv;
  double frame_area = (double) s->rw * s->rh;
  double amax = p->aspect * (1 + p->aspect_tol);
  double min_side = sqrt (p->min_area_frac * frame_area / amax);

  /* quad search */
  GvQuadCand best;
  memset (&best, 0, sizeof best);
  best.score = -1;
  GvQuadRules qr;
  qr.amin = p->aspect / (1 + p->aspect_tol);
  qr.amax = amax;
  qr.min_area = p->min_area_frac * frame_area;
  qr.min_frac = 0.5;
  for (int a = 0; a < nh; a++)
    for (int b = a + 1; b < nh; b++)
      {
        const GvLine *T = &hl[a], *B = &hl[b];
        if (B->key - T->key < min_side)
          continue;
        for (int c = 0; c < nv; c++)
          for (int d = c + 1; d < nv; d++)
            {
              const GvLine *L = &vl[c], *R = &vl[d];
              if (R->key - L->key < 0.5 * min_side)
                continue;
              const GvLine *side[4] = { T, R, B, L };
              int idx[4] = { a, d, b, c };
              GvQuadCand q;
              if (!gv_quad_eval (side, &qr, &q))
                continue;
              memcpy (q.lines, idx, sizeof idx);
              if (q.score > best.score)
                best = q;
            }
      }

  /* The highest score can belong to a line of printed art parallel to the border (a title
   * band, a caption box's rule) when part of the true border has little contrast against the
   * table. A cover has nothing of itself outside its border: while a parallel line further out
   * (on the luma plane, or where the side has art beyond it, on a chroma plane) also makes a
   * valid quad with a quiet outside, ends at the corners and keeps the quad's proportions,
   * move that side out. */
  const GvLine *bl[4] = { NULL, NULL, NULL, NULL }; /* best's lines, T R B L */
  if (best.score > 0)
    for (int j = 0; j < 4; j++)
      bl[j] = ((j & 1) ? vl : hl) + best.lines[j];
  /* the chroma planes' lines (computed when first needed): a border luma hardly sees (a dark
   * cover on a dark table) is often a clear line there */
  int npla = nalt < 2 ? nalt : 2, pla_done = 0;
  for (int pass = 0; pass < 8 && best.score > 0; pass++)
    {
      int moved = 0;
      for (int k = 0; k < 4 && !moved; k++)
        {
          int sign = (k == 1 || k == 2) ? 1 : -1; /* outward in key order */
          const GvLine *pick = NULL;
          GvQuadCand pickq = best;
          double dev_b = fabs (log (gv_quad_aspect (best.x, best.y) / p->aspect));
          if (best.pen[k] < 0.6 && !pla_done)
            {
              pla_done = 1;
              for (int a = 0; a < npla && ret == GV_OK; a++)
                if (!(pla[a] = calloc (1, sizeof *pla[a])))
                  ret = gv_error_set (GV_ENOMEM, "cover detection: out of memory");
                else
                  ret = gv_plane_lines (alt[a], p, nthreads, pla[a]);
              if (ret != GV_OK)
                goto out;
            }
          for (int a = 0; a <= npla; a++)
            {
              /* plane a: 0 luma, then the chroma planes (only where the side has art beyond) */
              const GvPlaneLines *pa = a ? pla[a - 1] : NULL;
              if (a > 0 && (!pa || best.pen[k] >= 0.6))
                continue;
              const GvLine *cls = pa ? ((k & 1) ? pa->vl : pa->hl) : ((k & 1) ? vl : hl);
              int ncls = pa ? ((k & 1) ? pa->nv : pa->nh) : ((k & 1) ? nv : nh);
              for (int m = 0; m < ncls; m++)
                {
                  const GvLine *cand = &cls[m];
                  if ((cand->key - bl[k]->key) * sign <= 1.0)
                    continue;
                  const GvLine *side[4] = { bl[0], bl[1], bl[2], bl[3] };
                  side[k] = cand;
                  GvQuadCand q;
                  /* When the current side has art beyond it (busy outside), an outer line with a
                   * quiet outside may be fainter: parts of the border can match the table. */
                  GvQuadRules relaxed = qr;
                  relaxed.min_frac = 0.3;
                  int faint = 0;
                  if (!gv_quad_eval (side, &relaxed, &q))
                    {
                      /* a fainter one still, for the proportions rule below only */
                      relaxed.min_frac = GV_MOVE_FAINT_FRAC;
                      if (!gv_quad_eval (side, &relaxed, &q))
                        continue;
                      faint = 1;
                    }
                  if (q.pen[k] < 0.7)
                    continue;
                  /* ... but it must end at the corners */
                  if (gv_line_beyond (cand, gv_line_t (cand, q.x[k], q.y[k]),
                                      gv_line_t (cand, q.x[(k + 1) & 3], q.y[(k + 1) & 3]))
                      > GV_BEYOND_MAX)
                    continue;
                  /* ... and not make the quad much less like a cover (a grain line of the table
                   * beyond a side that was right) */
                  double dev_q = fabs (log (gv_quad_aspect (q.x, q.y) / p->aspect));
                  if (dev_q > dev_b + GV_MOVE_ASPECT_WORSE)
                    continue;
                  int others_ok = 1;
                  for (int j = 0; j < 4; j++)
                    if (j != k && q.frac[j] < 0.5)
                      others_ok = 0;
                  /* A faint outer line also wins where the current side has art beyond it and the
                   * outer one brings the quad nearer the cover's aspect (a caption box's lower rule
                   * taken for the bottom of a dark cover on a dark table) */
                  int nearer = q.pen[k] >= 0.7 && best.pen[k] < 0.6
                               && dev_q < dev_b - GV_MOVE_ASPECT_GAIN && (!faint || a == 0);
                  if (!others_ok
                      || !((!faint && (q.frac[k] >= 0.5 || (q.pen[k] >= 0.8 && best.pen[k] < 0.7)))
                           || nearer))
                    continue;
                  if (!pick || (cand->key - pick->key) * sign > 0)
                    {
                      pick = cand;
                      pickq = q;
                    }
                }
            }
          if (pick)
            {
              best = pickq;
              bl[k] = pick;
              moved = 1;
            }
        }
      if (!moved)
        break;
    }

  if (best.score < 0)
    {
      if (gv_busy_border (s, min_side))
        {
          out->touches_border = 1;
          ret = gv_not_found (out, "cover partly out of frame (no full quadrilateral, printed "
                              "detail runs into the frame border)");
        }
      else
        ret = gv_not_found (out, "no quadrilateral with cover proportions found");
      goto out;
    }

  /* refinement at full resolution */
  {
    double fx[4], fy[4], off = (s->f - 1) * 0.5;
    for (int k = 0; k < 4; k++)
      {
        fx[k] = best.x[k] * s->f + off;
        fy[k] = best.y[k] * s->f + off;
      }
    int maxp = 4096;
    pts = malloc ((size_t) 2 * maxp * sizeof (GvPt));
    if (!pts)
      {
        ret = gv_error_set (GV_ENOMEM, "cover detection: out of memory");
        goto out;
      }
    GvSideFit fit[4];
    GvLine fl[4];
    /* the planes a side may be located on: gray, then each alt plane in order. A border that
     * luma hardly sees along part of its length (dark blue print on a brown table), or where
     * luma takes a contact shadow's edge, can stand out in a chroma plane. */
    const GvImage *plane[3] = { gray, NULL, NULL };
    int nplanes = 1 + (nalt < 2 ? nalt : 2), side_plane[4];
    for (int a = 0; a + 1 < nplanes; a++)
      plane[a + 1] = alt[a];
    double inl_sum = 0, rms_max = 0;
    int R0 = 3 * s->f + 8;
    /* without reduction the contact shadow lies within 1..2 px and a one-polarity fit needs
     * both ends */
    double min_end = s->f > 1 ? GV_END_SUPPORT : 0.3;
    for (int k = 0; k < 4; k++)
      if (!locate_side (plane, nplanes, 0, fx, fy, k, R0, min_end, &fit[k], pts, maxp, &side_plane[k]))
        {
          ret = gv_not_found (out, "a side of the cover could not be located precisely");
          goto out;
        }
    GvQuad q;
    for (int attempt = 0;; attempt++)
      {
        inl_sum = rms_max = 0;
        for (int k = 0; k < 4; k++)
          {
            fl[k].nx = fit[k].nx;
            fl[k].ny = fit[k].ny;
            fl[k].c = fit[k].c;
            inl_sum += fit[k].inl;
            rms_max = fmax (rms_max, fit[k].rms);
          }
        for (int k = 0; k < 4; k++)
          {
            /* corner k joins side k-1 (incoming) and side k (outgoing) */
            double cx, cy;
            if (!gv_intersect (&fl[(k + 3) & 3], &fl[k], &cx, &cy)
                || hypot (cx - fx[k], cy - fy[k]) > 1.5 * R0 + 2.0)
              {
                ret = gv_not_found (out, "the refined corners disagree with the coarse search");
                goto out;
              }
            q.x[k] = cx;
            q.y[k] = cy;
          }
        double len[4];
        if (!gv_quad_shape_ok (q.x, q.y, len))
          {
            ret = gv_not_found (out, "the refined corners do not form a convex quadrilateral");
            goto out;
          }
        /* Verification on evidence the side fits did not use: the art must not continue beyond
         * any side. */
        {
          double cx = 0, cy = 0, rx[4], ry[4], inv = 1.0 / s->f, off2 = (s->f - 1) * 0.5;
          for (int k = 0; k < 4; k++)
            {
              rx[k] = (q.x[k] - off2) * inv;
              ry[k] = (q.y[k] - off2) * inv;
              cx += 0.25 * rx[k];
              cy += 0.25 * ry[k];
            }
          for (int k = 0; k < 4; k++)
            {
              int j = (k + 1) & 3;
              double b = gv_outside_busy (s, rx[k], ry[k], rx[j], ry[j], cx, cy);
              if (b > 0.7)
                {
                  ret = gv_not_found (out, "printed detail continues beyond a side of the candidate");
                  goto out;
                }
            }
        }
        /* the paper's edge is the outermost one on the plane that located the side; where it is
         * not, the side is located again on the next plane (at most once per side and plane) */
        int again = 0;
        {
          double cx = 0.25 * (q.x[0] + q.x[1] + q.x[2] + q.x[3]);
          double cy = 0.25 * (q.y[0] + q.y[1] + q.y[2] + q.y[3]);
          for (int k = 0; k < 4 && !again; k++)
            {
              int j = (k + 1) & 3;
              if (gv_side_is_outermost (plane[side_plane[k]], q.x[k], q.y[k], q.x[j], q.y[j], cx,
                                        cy))
                continue;
              if (attempt >= 4
                  || !locate_side (plane, nplanes, side_plane[k] + 1, fx, fy, k, R0, min_end,
                                   &fit[k], pts, maxp, &side_plane[k]))
                {
                  ret = gv_not_found (out, "the cover's edge is ambiguous (a second edge runs just "
                                           "outside a side)");
                  goto out;
                }
              again = 1;
            }
        }
        if (!again)
          break;
      }
    out->quad = q;
    double fsum = 0;
    for (int k = 0; k < 4; k++)
      fsum += best.frac[k];
    double conf = (fsum / 4) * (inl_sum / 4) / (1.0 + rms_max * rms_max);
    out->confidence = fmin (1.0, fmax (0.0, conf));
    int outside = 0, near = 0;
    for (int k = 0; k < 4; k++)
      {
        double mx = fmin (q.x[k] + 0.5, W - 0.5 - q.x[k]), my = fmin (q.y[k] + 0.5, H - 0.5 - q.y[k]);
        double m = fmin (mx, my);
        /* m: distance of the corner inside the frame's outer boundary; a convex quad's side
         * comes nearest the boundary at a corner */
        if (m < 0.0)
          outside = 1;
        if (m < 1.5)
          near = 1;
      }
    out->touches_border = near;
    if (outside)
      {
        out->touches_border = 1;
        ret = gv_not_found (out, "cover partly out of frame");
        goto out;
      }
    out->found = 1;
    out->reason[0] = 0;
    ret = GV_OK;
  }

out:
  free (pts);
  gv_plane_lines_free (pl0);
  gv_plane_lines_free (pla[0]);
  gv_plane_lines_free (pla[1]);
  return ret;
}

/* Colour planes for detection: BT.601 full-range Cb and Cr, the chroma a luma-only detector
 * cannot see (a dark red cover on a dark blue table has almost the same luma). */
static void
gv_rgb_to_chroma (const GvImage *rgb, GvImage *cb, GvImage *cr)
{
  for (int y = 0; y < rgb->height; y++)
    {
      const uint8_t *s = gv_image_row_u8 (rgb, y);
      uint8_t *b = gv_image_row_u8 (cb, y), *r = gv_image_row_u8 (cr, y);
      for (int x = 0; x < rgb->width; x++)
        {
          int R = s[3 * x], G = s[3 * x + 1], B = s[3 * x + 2];
          /* Fixed point (16 bits) with rounding: integer, so exact everywhere. */
          int vb = (128 << 16) + (-11059 * R - 21709 * G + 32768 * B) + (1 << 15);
          int vr = (128 << 16) + (32768 * R - 27439 * G - 5329 * B) + (1 << 15);
          vb >>= 16;
          vr >>= 16;
          b[x] = (uint8_t) (vb < 0 ? 0 : vb > 255 ? 255 : vb);
          r[x] = (uint8_t) (vr < 0 ? 0 : vr > 255 ? 255 : vr);
        }
    }
}

int
gv_cover_detect_rgb (const GvImage *rgb, const GvCoverParams *p, int nthreads,
                     GvCoverDetection *out)
{
  GvImage *planes[3] = { NULL, NULL, NULL };
  GvCoverDetection first;
  int rc = GV_ENOMEM;

  if (rgb->depth != GV_U8 || rgb->channels != 3)
    return gv_error_set (GV_EINVAL, "cover detection: an RGB image is needed");
  for (int i = 0; i < 3; i++)
    if (!(planes[i] = gv_image_new (rgb->width, rgb->height, 1, GV_U8)))
      goto out;
  gv_image_rgb_to_gray (rgb, planes[0]);
  gv_rgb_to_chroma (rgb, planes[2], planes[1]);
  /* Luma first (where the edges are sharpest), a side luma cannot locate from a chroma plane;
   * the chroma planes alone only when that finds nothing. Each answer passes the same
   * verification, so a plane never adds a weaker quad. */
  for (int i = 0; i < 3; i++)
    {
      const GvImage *alt[2] = { planes[1], planes[2] };
      rc = cover_detect_planes (planes[i], alt, i == 0 ? 2 : 0, p, nthreads,
                                i == 0 ? &first : out);
      if (i == 0)
        *out = first;
      if (rc == GV_OK && out->found)
        {
          if (i > 0)
            out->confidence *= 0.9; /* found on a chroma plane only */
          goto out;
        }
      if (rc != GV_OK && rc != GV_ENOTFOUND)
        goto out;
    }
  /* Nothing on any plane: report the luma reason (the most informative). */
  *out = first;
  rc = GV_ENOTFOUND;
  gv_error_set (GV_ENOTFOUND, "cover not found: %s", first.reason);
out:
  for (int i = 0; i < 3; i++)
    gv_image_free (planes[i]);
  return rc;
}
