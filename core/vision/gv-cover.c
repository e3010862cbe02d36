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
 *    the full border beats interior panels and title bands.
 * 4. At full resolution each side is refined: gray profiles across the side at every ~2 px,
 *    the sub-pixel position of the derivative peak (3-point parabola), and a line fitted by
 *    iteratively reweighted total least squares with Tukey's biweight (occluded or glared parts
 *    of the side fall out as outliers). Corners are the intersections of adjacent sides.
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

typedef struct {
  double nx, ny, c;   /* nx x + ny y = c, unit normal */
  int votes;
  int virt;           /* a frame border, not an image line */
  /* support profile along p(t) = c n + t d, d = (-ny, nx); samples at t = t0 + k */
  int t0, n;
  int *pre;           /* n + 1 prefix counts */
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
      return l->pre != NULL;
    }
  l->t0 = tmin;
  l->n = tmax - tmin + 1;
  l->pre = malloc ((size_t) (l->n + 1) * sizeof (int));
  if (!l->pre)
    return 0;
  l->pre[0] = 0;
  for (int k = 0; k < l->n; k++)
    {
      double x = px + (tmin + k) * dx, y = py + (tmin + k) * dy;
      int ok = 0;
      if (!l->virt)
        for (int o = -1; o <= 1 && !ok; o++)
          {
            int xi = (int) floor (x + o * l->nx + 0.5), yi = (int) floor (y + o * l->ny + 0.5);
            if (xi < 0 || yi < 0 || xi >= s->rw || yi >= s->rh)
              continue;
            uint8_t a = s->ori[(size_t) yi * s->rw + xi];
            ok = a != 255 && gv_ang_diff (a, lo) <= GV_SUPPORT_DEG;
          }
      l->pre[k + 1] = l->pre[k] + ok;
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
gv_line_support (const GvLine *l, double ta, double tb, int *sup, int *inframe)
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
      *sup = *inframe = 0;
      return;
    }
  *sup = l->pre[b] - l->pre[a];
  *inframe = b - a;
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
  double frac[4];
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
  return (double) in / n;
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
      int best = -1;
      float bestv = 0.0f;
      for (int j = -R; j <= R; j++)
        {
          int i = j + R + 1;
          der[i] = fabsf (prof[i + 1] - prof[i - 1]);
          /* mild preference for the predicted position: an art edge next to the border must
           * be clearly stronger to win */
          float w = 1.0f - 0.3f * (float) (j * j) / (float) (R * R);
          if (der[i] * w > bestv)
            {
              bestv = der[i] * w;
              best = j;
            }
        }
      /* a step of at least 6 gray levels over 2 px */
      if (best < -R + 1 || best > R - 1 || der[best + R + 1] < 6.0f)
        continue;
      int i = best + R + 1;
      double a = der[i - 1], b = der[i], cc = der[i + 1];
      double den = a - 2 * b + cc;
      double off = den < 0 ? 0.5 * (a - cc) / den : 0.0;
      if (off > 0.5)
        off = 0.5;
      if (off < -0.5)
        off = -0.5;
      if (n < maxp)
        {
          pts[n].x = qx + (best + off) * nx;
          pts[n].y = qy + (best + off) * ny;
          n++;
        }
    }
  return n;
}

typedef struct {
  double nx, ny, c;
  double inl, rms;
} GvSideFit;

static int
gv_refine_side (const GvImage *g, double ax, double ay, double bx, double by, int R0,
                GvSideFit *out, GvPt *pts, int maxp)
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
  inl = gv_fit_line_robust (pts, n, &nx, &ny, &c, R0 * 0.75 + 1.0, 1.5, &rms);
  if (inl <= 0)
    return 0;
  /* second pass: narrow profiles centred on the fitted line */
  n = gv_side_points (g, ax, ay, bx, by, nx, ny, c, 3, pts, maxp, &tried);
  if (tried < 8)
    return 0;
  inl = gv_fit_line_robust (pts, n, &nx, &ny, &c, 2.0, 1.0, &rms);
  out->nx = nx;
  out->ny = ny;
  out->c = c;
  out->inl = tried ? inl * n / tried : 0;
  out->rms = rms;
  return out->inl > 0;
}

/* --- the detector ---------------------------------------------------------------------- */

static int
gv_not_found (GvCoverDetection *out, const char *reason)
{
  out->found = 0;
  snprintf (out->reason, sizeof out->reason, "%s", reason);
  return gv_error_set (GV_ENOTFOUND, "cover not found: %s", reason);
}

int
gv_cover_detect (const GvImage *gray, const GvCoverParams *p, int nthreads,
                 GvCoverDetection *out)
{
  GvSearch s;
  int *acc = NULL, ret = GV_OK;
  GvLine *lines = NULL;
  GvPt *pts = NULL;
  int nlines = 0;
  GvLine hl[GV_MAX_CLASS_LINES + 4], vl[GV_MAX_CLASS_LINES + 4];
  int nh = 0, nv = 0;
  double cosT[GV_HOUGH_NT], sinT[GV_HOUGH_NT];

  memset (&s, 0, sizeof s);
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

  int W = gray->width, H = gray->height, longside = W > H ? W : H;
  s.f = (longside + GV_COVER_SEARCH_SIDE / 2) / GV_COVER_SEARCH_SIDE;
  if (s.f < 1)
    s.f = 1;
  s.rw = W / s.f;
  s.rh = H / s.f;
  size_t np = (size_t) s.rw * s.rh;
  s.small = malloc (np);
  s.gx = malloc (np * sizeof (short));
  s.gy = malloc (np * sizeof (short));
  s.mag = malloc (np * sizeof (float));
  s.ori = malloc (np);
  if (!s.small || !s.gx || !s.gy || !s.mag || !s.ori)
    {
      ret = gv_error_set (GV_ENOMEM, "cover detection: out of memory");
      goto out;
    }
  GvReduceCtx rc = { gray, &s };
  gv_parallel_for (nthreads, s.rh, 16, gv_reduce_rows, &rc);
  gv_parallel_for (nthreads, s.rh, 16, gv_gradient_rows, &s);

  /* Edge threshold: the table dominates the frame, so the median gradient measures its
   * texture; 3x median, at least 40 (a step of ~10 gray levels under Sobel's gain of 4). */
  {
    int hist[512] = { 0 };
    for (size_t i = 0; i < np; i++)
      {
        int b = (int) s.mag[i];
        hist[b > 511 ? 511 : b]++;
      }
    size_t cum = 0;
    int med = 0;
    for (med = 0; med < 512; med++)
      if ((cum += hist[med]) * 2 >= np)
        break;
    s.thr = fmaxf (40.0f, 3.0f * (float) med);
  }
  for (int y = 0; y < s.rh; y++)
    for (int x = 0; x < s.rw; x++)
      {
        size_t i = (size_t) y * s.rw + x;
        s.ori[i] = s.mag[i] >= s.thr ? (uint8_t) gv_ori_bin (s.gx[i], s.gy[i]) : 255;
      }

  /* Hough on thinned edges */
  int diag = (int) ceil (hypot (s.rw, s.rh));
  int nr = 2 * diag + 1;
  acc = calloc ((size_t) GV_HOUGH_NT * nr, sizeof (int));
  if (!acc)
    {
      ret = gv_error_set (GV_ENOMEM, "cover detection: out of memory");
      goto out;
    }
  for (int t = 0; t < GV_HOUGH_NT; t++)
    {
      cosT[t] = cos (t * GV_PI / GV_HOUGH_NT);
      sinT[t] = sin (t * GV_PI / GV_HOUGH_NT);
    }
  for (int y = 1; y < s.rh - 1; y++)
    for (int x = 1; x < s.rw - 1; x++)
      {
        size_t i = (size_t) y * s.rw + x;
        int o = s.ori[i];
        if (o == 255)
          continue;
        /* non-maximum suppression along the gradient, quantised to 4 directions */
        float m = s.mag[i], m1, m2;
        int q = ((o + 22) / 45) & 3;
        if (q == 0)
          m1 = s.mag[i - 1], m2 = s.mag[i + 1];
        else if (q == 2)
          m1 = s.mag[i - s.rw], m2 = s.mag[i + s.rw];
        else if (q == 1)
          m1 = s.mag[i - s.rw - 1], m2 = s.mag[i + s.rw + 1];
        else
          m1 = s.mag[i - s.rw + 1], m2 = s.mag[i + s.rw - 1];
        if (m < m1 || m < m2)
          continue;
        for (int d = -GV_HOUGH_SPREAD; d <= GV_HOUGH_SPREAD; d++)
          {
            int t = (o + d + GV_HOUGH_NT) % GV_HOUGH_NT;
            int r = (int) floor (x * cosT[t] + y * sinT[t] + 0.5) + diag;
            acc[(size_t) t * nr + r]++;
          }
      }

  double frame_area = (double) s.rw * s.rh;
  double amax = p->aspect * (1 + p->aspect_tol);
  double min_side = sqrt (p->min_area_frac * frame_area / amax);
  int min_votes = (int) fmax (10.0, 0.35 * min_side);

  lines = calloc (GV_MAX_PEAKS + 4, sizeof (GvLine));
  if (!lines)
    {
      ret = gv_error_set (GV_ENOMEM, "cover detection: out of memory");
      goto out;
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
        GvLine l = { cosT[t], sinT[t], (double) (r - diag), v, 0, 0, 0, NULL, 0 };
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
      if (!gv_line_refit (&s, &l, 2.5) || !gv_line_refit (&s, &l, 1.5))
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
      double cx = s.rw * 0.5, cy = s.rh * 0.5;
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
  /* the frame borders as virtual lines, for "cover partly out of frame" */
  {
    GvLine t = { 0, 1, 0, 0, 1, 0, 0, NULL, 0 }, b = { 0, 1, s.rh - 1, 0, 1, 0, 0, NULL, s.rh - 1 };
    GvLine lft = { 1, 0, 0, 0, 1, 0, 0, NULL, 0 }, rgt = { 1, 0, s.rw - 1, 0, 1, 0, 0, NULL, s.rw - 1 };
    t.key = -1e9;
    b.key = 1e9;
    lft.key = -1e9;
    rgt.key = 1e9;
    hl[nh++] = t;
    hl[nh++] = b;
    vl[nv++] = lft;
    vl[nv++] = rgt;
  }
  for (int k = 0; k < nh; k++)
    if (!gv_line_profile (&s, &hl[k]))
      {
        ret = gv_error_set (GV_ENOMEM, "cover detection: out of memory");
        goto out;
      }
  for (int k = 0; k < nv; k++)
    if (!gv_line_profile (&s, &vl[k]))
      {
        ret = gv_error_set (GV_ENOMEM, "cover detection: out of memory");
        goto out;
      }
  qsort (hl, nh, sizeof (GvLine), gv_cmp_key);
  qsort (vl, nv, sizeof (GvLine), gv_cmp_key);

  /* quad search */
  GvQuadCand best = { -1, { 0 }, { 0 }, { 0 }, { 0 } }, bestv = best;
  double amin = p->aspect / (1 + p->aspect_tol);
  double min_area = p->min_area_frac * frame_area;
  for (int a = 0; a < nh; a++)
    for (int b = a + 1; b < nh; b++)
      {
        const GvLine *T = &hl[a], *B = &hl[b];
        if (T->virt && B->virt)
          continue;
        if (B->key - T->key < min_side)
          continue;
        for (int c = 0; c < nv; c++)
          for (int d = c + 1; d < nv; d++)
            {
              const GvLine *L = &vl[c], *R = &vl[d];
              int nvirt = T->virt + B->virt + L->virt + R->virt;
              if (nvirt > 1 || R->key - L->key < 0.5 * min_side)
                continue;
              double x[4], y[4], len[4];
              if (!gv_intersect (T, L, &x[0], &y[0]) || !gv_intersect (T, R, &x[1], &y[1])
                  || !gv_intersect (B, R, &x[2], &y[2]) || !gv_intersect (B, L, &x[3], &y[3]))
                continue;
              if (!gv_quad_shape_ok (x, y, len))
                continue;
              double area = gv_quad_area (x, y);
              if (area < (nvirt ? 0.5 : 1.0) * min_area)
                continue;
              if (!nvirt)
                {
                  double asp = (len[1] + len[3]) / (len[0] + len[2]);
                  if (asp < amin || asp > amax)
                    continue;
                  /* perspective: opposite sides within a factor 2 */
                  if (fmin (len[0], len[2]) < 0.5 * fmax (len[0], len[2])
                      || fmin (len[1], len[3]) < 0.5 * fmax (len[1], len[3]))
                    continue;
                }
              const GvLine *side[4] = { T, R, B, L };
              double frac[4], tot = 0, fsum = 0;
              int ok = 1;
              for (int k = 0; k < 4 && ok; k++)
                {
                  int i = k, j = (k + 1) & 3, sup, inf;
                  if (side[k]->virt)
                    {
                      frac[k] = 0;
                      continue;
                    }
                  gv_line_support (side[k], gv_line_t (side[k], x[i], y[i]),
                                   gv_line_t (side[k], x[j], y[j]), &sup, &inf);
                  /* a side must be mostly visible and supported on half its visible part
                   * (a finger or glare may hide the rest) */
                  if (inf < 0.5 * len[k] || sup < 0.5 * inf)
                    {
                      ok = 0;
                      break;
                    }
                  frac[k] = (double) sup / inf;
                  tot += sup;
                  fsum += frac[k];
                }
              if (!ok)
                continue;
              double score = tot * fsum / (4 - nvirt);
              GvQuadCand *dst = nvirt ? &bestv : &best;
              if (nvirt)
                {
                  int strong = 1;
                  for (int k = 0; k < 4; k++)
                    if (!side[k]->virt && frac[k] < 0.75)
                      strong = 0;
                  if (!strong)
                    continue;
                }
              if (score > dst->score)
                {
                  dst->score = score;
                  memcpy (dst->x, x, sizeof x);
                  memcpy (dst->y, y, sizeof y);
                  memcpy (dst->frac, frac, sizeof frac);
                }
            }
      }

  if (best.score < 0)
    {
      if (bestv.score > 0)
        {
          out->touches_border = 1;
          ret = gv_not_found (out, "cover partly out of frame");
        }
      else
        ret = gv_not_found (out, "no quadrilateral with cover proportions found");
      goto out;
    }

  /* refinement at full resolution */
  {
    double fx[4], fy[4], off = (s.f - 1) * 0.5;
    for (int k = 0; k < 4; k++)
      {
        fx[k] = best.x[k] * s.f + off;
        fy[k] = best.y[k] * s.f + off;
      }
    int maxp = 4096;
    pts = malloc ((size_t) maxp * sizeof (GvPt));
    if (!pts)
      {
        ret = gv_error_set (GV_ENOMEM, "cover detection: out of memory");
        goto out;
      }
    GvSideFit fit[4];
    GvLine fl[4];
    double inl_sum = 0, rms_max = 0;
    int R0 = 2 * s.f + 3;
    for (int k = 0; k < 4; k++)
      {
        int j = (k + 1) & 3;
        if (!gv_refine_side (gray, fx[k], fy[k], fx[j], fy[j], R0, &fit[k], pts, maxp)
            || fit[k].inl < 0.35)
          {
            ret = gv_not_found (out, "a side of the cover could not be located precisely");
            goto out;
          }
        fl[k].nx = fit[k].nx;
        fl[k].ny = fit[k].ny;
        fl[k].c = fit[k].c;
        inl_sum += fit[k].inl;
        rms_max = fmax (rms_max, fit[k].rms);
      }
    GvQuad q;
    for (int k = 0; k < 4; k++)
      {
        /* corner k joins side k-1 (incoming) and side k (outgoing) */
        double cx, cy;
        if (!gv_intersect (&fl[(k + 3) & 3], &fl[k], &cx, &cy)
            || hypot (cx - fx[k], cy - fy[k]) > 3.0 * s.f + 4.0)
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
        if (m < -1.0)
          outside = 1;
        if (m < 2.0)
          near = 1;
      }
    out->touches_border = near;
    if (outside)
      {
        ret = gv_not_found (out, "cover partly out of frame");
        goto out;
      }
    out->found = 1;
    out->reason[0] = 0;
    ret = GV_OK;
  }

out:
  if (lines)
    free (lines);
  for (int k = 0; k < nh; k++)
    free (hl[k].pre);
  for (int k = 0; k < nv; k++)
    free (vl[k].pre);
  free (acc);
  free (pts);
  gv_search_free (&s);
  return ret;
}
