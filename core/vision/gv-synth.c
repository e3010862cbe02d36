/* gv-synth.c: synthetic comic scans with exact ground truth.
 *
 * Scene: a planar world (the table plane, z = 0) in cover-pixel units; the cover lies on it with
 * its texel (u, v) at world (u, v). A pinhole camera (focal f px, principal point at the frame
 * centre) looks at it from distance D with small tilts and a roll, so every frame is a pure
 * homography H = K [r1 r2 -R C] of the plane (Hartley & Zisserman, ch. 8.1): the same H maps
 * cover and table, and the true flow of every frame pixel is H_i H_{i-1}^-1 x - x.
 *
 * Camera path: a schedule of segments (still, slow move, burst) between random key poses with
 * smoothstep easing (zero velocity at the segment ends), plus hand tremor (small sinusoids).
 * Motion blur: the frame is the mean of n renders at times spread over the exposure interval,
 * n growing with the streak length. Defocus: separable Gaussian. Noise: a hash of (seed, frame,
 * pixel, channel), so bytes never depend on the thread split or the order frames are rendered.
 *
 * Rendering samples precomputed textures bilinearly: the cover (premultiplied RGBA, a
 * transparent one-texel border, 2x2 box mip levels) and a periodic table texture (power-of-two
 * side, wrap). The mip level is picked once per frame from the scale at the cover centre.
 *
 * Half-pixel convention: integer coordinates are pixel centres (see gv-synth.h); mip level L
 * texel centres sit at (u + 0.5) / 2^L - 0.5. */
#include "gv-synth.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gv-error.h"
#include "gv-threads.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define GV_SYNTH_MAX_LEVELS 8
#define GV_SYNTH_TABLE_SIDE 2048 /* power of two: wrap by mask */
#define GV_SYNTH_TABLE_SCALE 0.5 /* table texels per cover px */
#define GV_SYNTH_MAX_SAMPLES 32  /* cap on motion-blur sub-frames */

static const char *const defect_names[GV_DEFECT_N_TYPES] = {
  "crease", "corner_wear", "edge_chip", "tear", "stain", "scratch", "spine_stress",
};

const char *
gv_defect_type_name (GvDefectType t)
{
  if ((int) t < 0 || t >= GV_DEFECT_N_TYPES)
    return "unknown";
  return defect_names[t];
}

/* ---------------------------------------------------------------- random numbers */

typedef struct {
  uint64_t s;
} Rng;

static inline uint64_t
mix64 (uint64_t z)
{
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static uint64_t
rng_next (Rng *r)
{
  r->s += 0x9E3779B97F4A7C15ULL;
  return mix64 (r->s);
}

static double
rng_uni (Rng *r)
{
  return (double) (rng_next (r) >> 11) * 0x1.0p-53;
}

static double
rng_range (Rng *r, double a, double b)
{
  return a + (b - a) * rng_uni (r);
}

static int
rng_int (Rng *r, int n)
{
  return (int) (rng_uni (r) * n);
}

static Rng
rng_for (unsigned seed, uint64_t purpose)
{
  Rng r = { mix64 ((uint64_t) seed * 0x9E3779B97F4A7C15ULL + purpose * 0xD1B54A32D192ED03ULL) };
  return r;
}

/* ---------------------------------------------------------------- textures */

typedef struct {
  int w, h;       /* texels without the border */
  int pw;         /* padded row length (w + 2 for the cover, w for the table) */
  uint8_t *px;    /* RGBA */
} Tex;

typedef struct {
  double tx, ty;  /* world point the camera aims at, relative to the cover centre */
  double dist;    /* camera distance */
  double ax, ay;  /* tilt about the x and y axes, radians */
  double rz;      /* roll, radians */
} Pose;

typedef enum { SEG_STILL, SEG_SLOW, SEG_BURST } SegType;

typedef struct {
  SegType type;
  double t0, t1;
  Pose p0, p1;
} Segment;

typedef struct {
  double t0, t1, peak;
} FocusEvent;

struct GvSynth {
  GvSynthParams p;
  double f, cx, cy, dist0;
  double exposure_time;
  Tex cover[GV_SYNTH_MAX_LEVELS];
  int n_cover_levels;
  Tex table[GV_SYNTH_MAX_LEVELS];
  int n_table_levels;
  double table_off_x, table_off_y;
  float table_mean[3];
  GvImage *cover_rgb;
  GvImage *mask;
  GvSynthDefect defects[GV_DEFECT_N_TYPES * 4];
  int n_defects;
  Segment *segs;
  int n_segs;
  FocusEvent focus[64];
  int n_focus;
  double jit_amp[6], jit_freq[6], jit_phase[6];
  double light_gx, light_gy;
  double expo_phase[2];
  double glare_phase[3];
  float *vig_x, *vig_y;
  double *times;
};

/* ---------------------------------------------------------------- small math */

static void
mat3_mul (const double a[9], const double b[9], double o[9])
{
  double t[9];
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      t[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
  memcpy (o, t, sizeof t);
}

static int
mat3_inv (const double m[9], double o[9])
{
  double c0 = m[4] * m[8] - m[5] * m[7];
  double c1 = m[5] * m[6] - m[3] * m[8];
  double c2 = m[3] * m[7] - m[4] * m[6];
  double det = m[0] * c0 + m[1] * c1 + m[2] * c2;
  if (fabs (det) < 1e-300)
    return -1;
  double id = 1.0 / det;
  o[0] = c0 * id;
  o[1] = (m[2] * m[7] - m[1] * m[8]) * id;
  o[2] = (m[1] * m[5] - m[2] * m[4]) * id;
  o[3] = c1 * id;
  o[4] = (m[0] * m[8] - m[2] * m[6]) * id;
  o[5] = (m[2] * m[3] - m[0] * m[5]) * id;
  o[6] = c2 * id;
  o[7] = (m[1] * m[6] - m[0] * m[7]) * id;
  o[8] = (m[0] * m[4] - m[1] * m[3]) * id;
  return 0;
}

static void
mat3_normalise (double m[9])
{
  double s = m[8];
  if (fabs (s) > 1e-300)
    for (int i = 0; i < 9; i++)
      m[i] /= s;
}

static inline void
hom_apply (const double H[9], double x, double y, double *ox, double *oy)
{
  double w = H[6] * x + H[7] * y + H[8];
  *ox = (H[0] * x + H[1] * y + H[2]) / w;
  *oy = (H[3] * x + H[4] * y + H[5]) / w;
}

static double
smoothstep01 (double s)
{
  if (s <= 0)
    return 0;
  if (s >= 1)
    return 1;
  return s * s * (3 - 2 * s);
}

static double
clampd (double v, double lo, double hi)
{
  return v < lo ? lo : (v > hi ? hi : v);
}

/* Cover texture px -> frame px for a camera pose. */
static void
pose_homography (const GvSynth *s, const Pose *ps, double H[9])
{
  double cw = s->p.cover_w, ch = s->p.cover_h;
  double ca = cos (ps->ax), sa = sin (ps->ax);
  double cb = cos (ps->ay), sb = sin (ps->ay);
  double cr = cos (ps->rz), sr = sin (ps->rz);
  double Rx[9] = { 1, 0, 0, 0, ca, -sa, 0, sa, ca };
  double Ry[9] = { cb, 0, sb, 0, 1, 0, -sb, 0, cb };
  double Rz[9] = { cr, -sr, 0, sr, cr, 0, 0, 0, 1 };
  double R[9], C[3], t[3];

  mat3_mul (Rz, Rx, R);
  mat3_mul (R, Ry, R);
  /* camera axis in world = R^T e_z; the camera sits dist back from the aim point */
  C[0] = ps->tx - ps->dist * R[6];
  C[1] = ps->ty - ps->dist * R[7];
  C[2] = 0.0 - ps->dist * R[8];
  for (int r = 0; r < 3; r++)
    t[r] = -(R[r * 3] * C[0] + R[r * 3 + 1] * C[1] + R[r * 3 + 2] * C[2]);
  double P[9] = { R[0], R[1], t[0], R[3], R[4], t[1], R[6], R[7], t[2] };
  double K[9] = { s->f, 0, s->cx, 0, s->f, s->cy, 0, 0, 1 };
  double A[9] = { 1, 0, -(cw - 1) * 0.5, 0, 1, -(ch - 1) * 0.5, 0, 0, 1 };
  mat3_mul (K, P, H);
  mat3_mul (H, A, H);
  mat3_normalise (H);
}

static void
cover_corners (const GvSynth *s, const double H[9], double c[8])
{
  double cw = s->p.cover_w, ch = s->p.cover_h;
  const double u[4] = { -0.5, cw - 0.5, cw - 0.5, -0.5 };
  const double v[4] = { -0.5, -0.5, ch - 0.5, ch - 0.5 };
  for (int k = 0; k < 4; k++)
    hom_apply (H, u[k], v[k], &c[2 * k], &c[2 * k + 1]);
}

/* ---------------------------------------------------------------- camera path */

static Pose
pose_lerp (const Pose *a, const Pose *b, double s)
{
  Pose o;
  o.tx = a->tx + (b->tx - a->tx) * s;
  o.ty = a->ty + (b->ty - a->ty) * s;
  o.dist = a->dist + (b->dist - a->dist) * s;
  o.ax = a->ax + (b->ax - a->ax) * s;
  o.ay = a->ay + (b->ay - a->ay) * s;
  o.rz = a->rz + (b->rz - a->rz) * s;
  return o;
}

static int
pose_inside (const GvSynth *s, const Pose *ps, double margin)
{
  double H[9], c[8];
  pose_homography (s, ps, H);
  cover_corners (s, H, c);
  for (int k = 0; k < 4; k++)
    if (c[2 * k] < margin || c[2 * k] > s->p.width - 1 - margin || c[2 * k + 1] < margin
        || c[2 * k + 1] > s->p.height - 1 - margin)
      return 0;
  return 1;
}

/* A key pose moved by about move_px frame pixels from prev, cover kept inside with a margin
 * along the whole move. */
static Pose
pick_pose (const GvSynth *s, Rng *r, const Pose *prev, double move_px, double ang)
{
  double margin = 0.03 * (s->p.width < s->p.height ? s->p.width : s->p.height);
  double wpp = s->dist0 / s->f; /* world units per frame px */

  for (int attempt = 0; attempt < 80; attempt++)
    {
      double scale = attempt < 40 ? 1.0 : 0.5;
      double th = rng_range (r, 0, 2 * M_PI);
      double m = move_px * scale * rng_range (r, 0.75, 1.25);
      Pose c = *prev;
      c.tx += cos (th) * m * wpp;
      c.ty += sin (th) * m * wpp;
      c.ax = clampd (prev->ax + rng_range (r, -ang, ang), -0.16 * s->p.motion, 0.16 * s->p.motion);
      c.ay = clampd (prev->ay + rng_range (r, -ang, ang), -0.16 * s->p.motion, 0.16 * s->p.motion);
      c.rz = clampd (prev->rz + rng_range (r, -ang, ang), -0.1 * s->p.motion, 0.1 * s->p.motion);
      c.dist = s->dist0 * clampd (prev->dist / s->dist0 + rng_range (r, -0.05, 0.05) * s->p.motion,
                                  0.92, 1.1);
      int ok = 1;
      for (int k = 1; k <= 8 && ok; k++)
        {
          Pose q = pose_lerp (prev, &c, k / 8.0);
          ok = pose_inside (s, &q, margin);
        }
      if (ok)
        return c;
    }
  return *prev;
}

static void
build_path (GvSynth *s)
{
  Rng r = rng_for (s->p.seed, 1);
  double fps = s->p.fps;
  double T = (s->p.n_frames + 2) / fps + 1.0;
  double res = s->p.height / 1080.0;
  double mot = s->p.motion;
  int cap = 16, n = 0, moves = 0;
  Pose cur = { 0, 0, s->dist0, 0, 0, 0 };
  double t = -1.0;

  /* rest pose: a little off-centre and tilted, as a hand holds a phone */
  cur.tx = rng_range (&r, -0.04, 0.04) * s->p.cover_w * mot;
  cur.ty = rng_range (&r, -0.03, 0.03) * s->p.cover_h * mot;
  cur.ax = rng_range (&r, -0.06, 0.06) * mot;
  cur.ay = rng_range (&r, -0.06, 0.06) * mot;
  cur.rz = rng_range (&r, -0.04, 0.04) * mot;
  if (!pose_inside (s, &cur, 0))
    cur = (Pose) { 0, 0, s->dist0, 0, 0, 0 };

  s->segs = malloc (cap * sizeof *s->segs);
  while (s->segs && t < T)
    {
      Segment sg;
      if (n + 2 > cap)
        {
          cap *= 2;
          Segment *ns = realloc (s->segs, cap * sizeof *ns);
          if (!ns)
            break;
          s->segs = ns;
        }
      /* still */
      sg.type = SEG_STILL;
      sg.t0 = t;
      sg.t1 = t + (n == 0 ? 1.0 + rng_range (&r, 0.4, 0.9) : rng_range (&r, 0.35, 0.9));
      sg.p0 = sg.p1 = cur;
      s->segs[n++] = sg;
      t = sg.t1;
      if (mot <= 0)
        {
          s->segs[n - 1].t1 = T + 1;
          break;
        }
      /* move: the second move is a burst so short scans have one; later ones by chance */
      int burst = s->p.bursts && (moves == 1 || (moves > 1 && rng_uni (&r) < 0.3));
      sg.type = burst ? SEG_BURST : SEG_SLOW;
      sg.t0 = t;
      sg.t1 = t + (burst ? rng_range (&r, 0.16, 0.3) : rng_range (&r, 0.5, 1.1));
      sg.p0 = cur;
      if (burst)
        sg.p1 = pick_pose (s, &r, &cur, rng_range (&r, 260, 420) * res * mot, 0.06 * mot);
      else
        sg.p1 = pick_pose (s, &r, &cur, rng_range (&r, 50, 170) * res * mot, 0.03 * mot);
      cur = sg.p1;
      s->segs[n++] = sg;
      t = sg.t1;
      if (burst && s->n_focus < 64 && rng_uni (&r) < 0.75)
        {
          /* focus hunting after fast motion */
          FocusEvent *fe = &s->focus[s->n_focus++];
          fe->t0 = t - 0.05;
          fe->t1 = t + rng_range (&r, 0.25, 0.5);
          fe->peak = rng_range (&r, 1.2, 2.6) * (res > 0.4 ? res : 0.4);
        }
      moves++;
    }
  s->n_segs = n;
  /* one focus breathing in the middle of a still period, away from the first */
  if (n > 4 && s->n_focus < 64)
    {
      const Segment *sg = &s->segs[4];
      FocusEvent *fe = &s->focus[s->n_focus++];
      fe->t0 = sg->t0 + 0.1;
      fe->t1 = fe->t0 + 0.3;
      fe->peak = rng_range (&r, 0.9, 1.8) * (res > 0.4 ? res : 0.4);
    }

  for (int k = 0; k < 6; k++)
    {
      /* tremor: k < 3 slow sway, k >= 3 faster shake; amplitudes in frame px */
      s->jit_amp[k] = (k < 3 ? 0.5 : 0.12) * mot * (res > 0.3 ? res : 0.3);
      s->jit_freq[k] = k < 3 ? rng_range (&r, 0.2, 0.6) : rng_range (&r, 2.0, 4.0);
      s->jit_phase[k] = rng_range (&r, 0, 2 * M_PI);
    }
  s->expo_phase[0] = rng_range (&r, 0, 2 * M_PI);
  s->expo_phase[1] = rng_range (&r, 0, 2 * M_PI);
  for (int k = 0; k < 3; k++)
    s->glare_phase[k] = rng_range (&r, 0, 2 * M_PI);
  s->light_gx = rng_range (&r, -0.08, 0.08);
  s->light_gy = rng_range (&r, -0.08, 0.08);
}

static Pose
pose_at (const GvSynth *s, double t)
{
  const Segment *sg = NULL;
  Pose ps;
  double wpp = s->dist0 / s->f;

  for (int k = 0; k < s->n_segs; k++)
    {
      sg = &s->segs[k];
      if (t < sg->t1)
        break;
    }
  if (!sg)
    ps = (Pose) { 0, 0, s->dist0, 0, 0, 0 };
  else if (t >= sg->t1)
    ps = sg->p1;
  else
    ps = pose_lerp (&sg->p0, &sg->p1, smoothstep01 ((t - sg->t0) / (sg->t1 - sg->t0)));
  /* hand tremor: translation (px -> world) and a little roll */
  double jx = 0, jy = 0, jr = 0;
  for (int k = 0; k < 6; k += 3)
    {
      jx += s->jit_amp[k] * sin (2 * M_PI * s->jit_freq[k] * t + s->jit_phase[k]);
      jy += s->jit_amp[k + 1] * sin (2 * M_PI * s->jit_freq[k + 1] * t + s->jit_phase[k + 1]);
      jr += s->jit_amp[k + 2] * sin (2 * M_PI * s->jit_freq[k + 2] * t + s->jit_phase[k + 2]);
    }
  ps.tx += jx * wpp;
  ps.ty += jy * wpp;
  ps.rz += jr / (0.5 * s->p.width); /* jr px of roll at the frame edge */
  return ps;
}

static double
defocus_at (const GvSynth *s, double t)
{
  double sig = 0;
  for (int k = 0; k < s->n_focus; k++)
    {
      const FocusEvent *fe = &s->focus[k];
      if (t > fe->t0 && t < fe->t1)
        {
          double a = sin (M_PI * (t - fe->t0) / (fe->t1 - fe->t0));
          double v = fe->peak * a * a;
          if (v > sig)
            sig = v;
        }
    }
  return sig < 0.3 ? 0.0 : sig; /* below 0.3 px a Gaussian changes almost nothing */
}

static double
exposure_at (const GvSynth *s, double t)
{
  return 1.0 + 0.06 * sin (2 * M_PI * t / 7.0 + s->expo_phase[0])
         + 0.03 * sin (2 * M_PI * t / 2.3 + s->expo_phase[1]);
}

/* Glare centre in cover px: a slow wander plus a shift against the camera's translation (a
 * fixed light's reflection moves as the viewpoint does). */
static void
glare_at (const GvSynth *s, double t, const Pose *ps, double *gu, double *gv, double *gi)
{
  double cw = s->p.cover_w, ch = s->p.cover_h;
  *gu = 0.5 * cw + 0.28 * cw * sin (2 * M_PI * t / 9.0 + s->glare_phase[0]) - 0.9 * ps->tx;
  *gv = 0.45 * ch + 0.25 * ch * sin (2 * M_PI * t / 6.5 + s->glare_phase[1]) - 0.9 * ps->ty;
  *gi = 0.5 + 0.22 * sin (2 * M_PI * t / 5.0 + s->glare_phase[2]);
}

/* ---------------------------------------------------------------- cover art */

typedef struct {
  int w, h;
  float *r, *g, *b, *a;
} Canvas;

static inline void
cv_blend (Canvas *c, int i, const float col[3], float cov)
{
  if (cov <= 0)
    return;
  if (cov > 1)
    cov = 1;
  c->r[i] += (col[0] - c->r[i]) * cov;
  c->g[i] += (col[1] - c->g[i]) * cov;
  c->b[i] += (col[2] - c->b[i]) * cov;
}

static inline float
cov_from_dist (double d)
{
  /* d: signed distance, negative inside; one-pixel anti-aliased edge */
  double c = 0.5 - d;
  return (float) (c < 0 ? 0 : (c > 1 ? 1 : c));
}

static void
bbox_clip (const Canvas *c, double x0, double y0, double x1, double y1, int *bx0, int *by0,
           int *bx1, int *by1)
{
  *bx0 = (int) floor (x0) - 1;
  *by0 = (int) floor (y0) - 1;
  *bx1 = (int) ceil (x1) + 1;
  *by1 = (int) ceil (y1) + 1;
  if (*bx0 < 0) *bx0 = 0;
  if (*by0 < 0) *by0 = 0;
  if (*bx1 > c->w - 1) *bx1 = c->w - 1;
  if (*by1 > c->h - 1) *by1 = c->h - 1;
}

static void
draw_rect (Canvas *c, double x0, double y0, double x1, double y1, const float col[3], float op)
{
  int bx0, by0, bx1, by1;
  bbox_clip (c, x0, y0, x1, y1, &bx0, &by0, &bx1, &by1);
  for (int y = by0; y <= by1; y++)
    for (int x = bx0; x <= bx1; x++)
      {
        double d = fmax (fmax (x0 - x, x - x1), fmax (y0 - y, y - y1));
        cv_blend (c, y * c->w + x, col, cov_from_dist (d) * op);
      }
}

static void
draw_ellipse (Canvas *c, double cx, double cy, double rx, double ry, double stroke,
              const float col[3], float op)
{
  int bx0, by0, bx1, by1;
  double m = fmin (rx, ry);
  bbox_clip (c, cx - rx - stroke, cy - ry - stroke, cx + rx + stroke, cy + ry + stroke, &bx0, &by0,
             &bx1, &by1);
  for (int y = by0; y <= by1; y++)
    for (int x = bx0; x <= bx1; x++)
      {
        double dx = (x - cx) / rx, dy = (y - cy) / ry;
        double d = (sqrt (dx * dx + dy * dy) - 1.0) * m;
        if (stroke > 0)
          d = fabs (d) - stroke * 0.5;
        cv_blend (c, y * c->w + x, col, cov_from_dist (d) * op);
      }
}

static double
seg_dist (double px, double py, double ax, double ay, double bx, double by, double *tpar)
{
  double ex = bx - ax, ey = by - ay, l2 = ex * ex + ey * ey;
  double t = l2 > 0 ? ((px - ax) * ex + (py - ay) * ey) / l2 : 0;
  t = clampd (t, 0, 1);
  if (tpar)
    *tpar = t;
  double dx = px - ax - t * ex, dy = py - ay - t * ey;
  return sqrt (dx * dx + dy * dy);
}

static void
draw_line (Canvas *c, double ax, double ay, double bx, double by, double width, const float col[3],
           float op)
{
  int bx0, by0, bx1, by1;
  double hw = width * 0.5;
  bbox_clip (c, fmin (ax, bx) - hw, fmin (ay, by) - hw, fmax (ax, bx) + hw, fmax (ay, by) + hw, &bx0,
             &by0, &bx1, &by1);
  for (int y = by0; y <= by1; y++)
    for (int x = bx0; x <= bx1; x++)
      cv_blend (c, y * c->w + x, col, cov_from_dist (seg_dist (x, y, ax, ay, bx, by, NULL) - hw) * op);
}

/* Filled polygon by the even-odd rule, 4x4 supersampled coverage. */
static void
draw_poly (Canvas *c, const double *pts, int n, const float col[3], float op)
{
  double x0 = 1e30, y0 = 1e30, x1 = -1e30, y1 = -1e30;
  int bx0, by0, bx1, by1;
  for (int k = 0; k < n; k++)
    {
      x0 = fmin (x0, pts[2 * k]);
      x1 = fmax (x1, pts[2 * k]);
      y0 = fmin (y0, pts[2 * k + 1]);
      y1 = fmax (y1, pts[2 * k + 1]);
    }
  bbox_clip (c, x0, y0, x1, y1, &bx0, &by0, &bx1, &by1);
  for (int y = by0; y <= by1; y++)
    for (int x = bx0; x <= bx1; x++)
      {
        int hits = 0;
        for (int sy = 0; sy < 4; sy++)
          for (int sx = 0; sx < 4; sx++)
            {
              double px = x - 0.375 + 0.25 * sx, py = y - 0.375 + 0.25 * sy;
              int in = 0;
              for (int i = 0, j = n - 1; i < n; j = i++)
                {
                  double xi = pts[2 * i], yi = pts[2 * i + 1], xj = pts[2 * j], yj = pts[2 * j + 1];
                  if ((yi > py) != (yj > py) && px < (xj - xi) * (py - yi) / (yj - yi) + xi)
                    in = !in;
                }
              hits += in;
            }
        if (hits)
          cv_blend (c, y * c->w + x, col, hits / 16.0f * op);
      }
}

static void
draw_starburst (Canvas *c, Rng *r, double cx, double cy, double r0, double r1, int spikes,
                const float col[3], float op)
{
  double pts[2 * 64];
  int n = spikes * 2 > 64 ? 64 : spikes * 2;
  double rot = rng_range (r, 0, M_PI);
  for (int k = 0; k < n; k++)
    {
      double a = rot + 2 * M_PI * k / n;
      double rr = (k & 1) ? r0 : r1 * rng_range (r, 0.85, 1.1);
      pts[2 * k] = cx + rr * cos (a);
      pts[2 * k + 1] = cy + rr * sin (a);
    }
  draw_poly (c, pts, n, col, op);
}

/* Ben-Day dots on a 45-degree grid inside a rectangle, radius following a tone ramp. */
static void
draw_halftone (Canvas *c, double x0, double y0, double x1, double y1, double pitch, double t0,
               double t1, int vertical, const float col[3])
{
  int bx0, by0, bx1, by1;
  bbox_clip (c, x0, y0, x1, y1, &bx0, &by0, &bx1, &by1);
  for (int y = by0; y <= by1; y++)
    for (int x = bx0; x <= bx1; x++)
      {
        if (x < x0 || x > x1 || y < y0 || y > y1)
          continue;
        double s = vertical ? (y - y0) / (y1 - y0) : (x - x0) / (x1 - x0);
        double tone = t0 + (t1 - t0) * s;
        double u = (x + y) * 0.70710678 / pitch, v = (x - y) * 0.70710678 / pitch;
        double du = u - floor (u + 0.5), dv = v - floor (v + 0.5);
        double d = sqrt (du * du + dv * dv) * pitch;
        double rad = 0.62 * pitch * sqrt (clampd (tone, 0, 1));
        cv_blend (c, y * c->w + x, col, cov_from_dist (d - rad));
      }
}

/* Lines of "words": small dark blocks of random lengths. */
static void
draw_text (Canvas *c, Rng *r, double x0, double y0, double x1, double y1, double lh,
           const float col[3])
{
  for (double y = y0; y + lh * 0.6 <= y1; y += lh * 1.5)
    {
      double x = x0 + rng_range (r, 0, lh);
      double end = x1 - rng_range (r, 0, (x1 - x0) * 0.25);
      while (x < end)
        {
          double wl = rng_range (r, 1.5, 6.0) * lh * 0.6;
          if (x + wl > end)
            wl = end - x;
          if (wl > 2)
            draw_rect (c, x, y, x + wl, y + lh * 0.6, col, 1.0f);
          x += wl + lh * 0.5;
        }
    }
}

/* A block letter from strokes on a 3x5 grid (like a display segment font), black outline. */
static void
draw_letter (Canvas *c, Rng *r, double x, double y, double w, double h, double stroke,
             const float fill[3], const float ink[3])
{
  static const int segs[][4] = {
    { 0, 0, 2, 0 }, { 0, 2, 2, 2 }, { 0, 4, 2, 4 }, { 0, 0, 0, 2 }, { 0, 2, 0, 4 },
    { 2, 0, 2, 2 }, { 2, 2, 2, 4 }, { 0, 0, 2, 4 }, { 1, 0, 1, 4 }, { 0, 4, 2, 0 },
  };
  int chosen[10], n = 0;
  for (int k = 0; k < 10; k++)
    if (rng_uni (r) < (k < 7 ? 0.55 : 0.12))
      chosen[n++] = k;
  if (n < 3)
    {
      chosen[0] = 3, chosen[1] = 4, chosen[2] = 0;
      n = 3;
    }
  for (int pass = 0; pass < 3; pass++)
    for (int k = 0; k < n; k++)
      {
        const int *sg = segs[chosen[k]];
        double ax = x + sg[0] * w / 2, ay = y + sg[1] * h / 4;
        double bx = x + sg[2] * w / 2, by = y + sg[3] * h / 4;
        if (pass == 0) /* drop shadow */
          draw_line (c, ax + stroke * 0.35, ay + stroke * 0.35, bx + stroke * 0.35,
                     by + stroke * 0.35, stroke * 1.4, ink, 1.0f);
        else if (pass == 1)
          draw_line (c, ax, ay, bx, by, stroke * 1.4, ink, 1.0f);
        else
          draw_line (c, ax, ay, bx, by, stroke, fill, 1.0f);
      }
}

static void
hsv_rgb (double h, double s, double v, float out[3])
{
  h = fmod (h, 1.0) * 6.0;
  int i = (int) h;
  double f = h - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double rr, gg, bb;
  switch (i)
    {
    case 0: rr = v, gg = t, bb = p; break;
    case 1: rr = q, gg = v, bb = p; break;
    case 2: rr = p, gg = v, bb = t; break;
    case 3: rr = p, gg = q, bb = v; break;
    case 4: rr = t, gg = p, bb = v; break;
    default: rr = v, gg = p, bb = q; break;
    }
  out[0] = (float) (rr * 255);
  out[1] = (float) (gg * 255);
  out[2] = (float) (bb * 255);
}

static void
paint_cover (Canvas *c, unsigned seed)
{
  Rng r = rng_for (seed, 2);
  int w = c->w, h = c->h;
  double sc = w / 1060.0; /* art laid out for 1060 px wide, scaled */
  const float black[3] = { 18, 16, 20 }, white[3] = { 246, 242, 232 };
  float ca[3], cb[3], cc[3], cd[3], ce[3];
  double hue = rng_uni (&r);

  hsv_rgb (hue, rng_range (&r, 0.6, 0.9), rng_range (&r, 0.75, 0.95), ca);
  hsv_rgb (hue + rng_range (&r, 0.08, 0.2), rng_range (&r, 0.7, 1.0), rng_range (&r, 0.35, 0.6), cb);
  hsv_rgb (hue + 0.5, rng_range (&r, 0.75, 1.0), rng_range (&r, 0.8, 1.0), cc);
  hsv_rgb (hue + rng_range (&r, 0.25, 0.4), rng_range (&r, 0.6, 0.9), rng_range (&r, 0.7, 0.95), cd);
  hsv_rgb (rng_uni (&r), rng_range (&r, 0.8, 1.0), 0.95, ce);

  /* background: diagonal gradient, then rays from a focal point */
  double fx = w * rng_range (&r, 0.3, 0.7), fy = h * rng_range (&r, 0.35, 0.6);
  int rays = 10 + rng_int (&r, 10);
  double rot = rng_range (&r, 0, M_PI);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int i = y * w + x;
        double s = clampd ((0.6 * x / w + 0.8 * y / h) / 1.4, 0, 1);
        c->r[i] = (float) (ca[0] + (cb[0] - ca[0]) * s);
        c->g[i] = (float) (ca[1] + (cb[1] - ca[1]) * s);
        c->b[i] = (float) (ca[2] + (cb[2] - ca[2]) * s);
        c->a[i] = 1.0f;
        double ang = atan2 (y - fy, x - fx) + rot;
        double ph = ang * rays / (2 * M_PI);
        double fr = ph - floor (ph);
        double edge = fmin (fr, 1 - fr) - 0.25; /* > 0 on alternate rays */
        double dpx = edge * 2 * M_PI / rays * hypot (x - fx, y - fy);
        float k = cov_from_dist (-dpx) * 0.35f;
        float dark[3] = { cb[0] * 0.6f, cb[1] * 0.6f, cb[2] * 0.6f };
        cv_blend (c, i, dark, k);
      }

  /* halftone panels */
  for (int k = 0; k < 3; k++)
    {
      double x0 = rng_range (&r, 0, w * 0.6), y0 = rng_range (&r, h * 0.2, h * 0.8);
      double x1 = x0 + rng_range (&r, 0.2, 0.45) * w, y1 = y0 + rng_range (&r, 0.1, 0.25) * h;
      draw_halftone (c, x0, y0, x1, y1, rng_range (&r, 6, 10) * sc, rng_range (&r, 0, 0.3),
                     rng_range (&r, 0.6, 1.0), k & 1, k == 1 ? black : cd);
    }

  /* big bold shapes: a sun/planet, a starburst "BAM" shape */
  double px = rng_range (&r, 0.2, 0.8) * w, py = rng_range (&r, 0.3, 0.5) * h;
  double pr = rng_range (&r, 0.15, 0.25) * w;
  draw_ellipse (c, px, py, pr + 5 * sc, pr + 5 * sc, 0, black, 1);
  draw_ellipse (c, px, py, pr, pr, 0, cc, 1);
  draw_halftone (c, px - pr, py - pr, px + pr, py + pr, 7 * sc, 0.0, 0.7, 1, cb);
  draw_ellipse (c, px, py, pr + 14 * sc, pr + 14 * sc, 4 * sc, white, 0.9f);

  double bx = rng_range (&r, 0.2, 0.8) * w, by = rng_range (&r, 0.55, 0.72) * h;
  draw_starburst (c, &r, bx + 6 * sc, by + 6 * sc, 70 * sc, 150 * sc, 12, black, 1);
  draw_starburst (c, &r, bx, by, 65 * sc, 140 * sc, 12, ce, 1);
  for (int k = 0; k < 3; k++)
    draw_letter (c, &r, bx - 70 * sc + k * 50 * sc, by - 30 * sc, 36 * sc, 60 * sc, 12 * sc, white,
                 black);

  /* a figure: capsules with ink outlines */
  {
    double hx = rng_range (&r, 0.3, 0.7) * w, hy = rng_range (&r, 0.4, 0.5) * h;
    double s = rng_range (&r, 0.9, 1.2) * sc;
    float skin[3] = { 232, 182, 140 }, suit[3], cape[3];
    hsv_rgb (hue + 0.6, 0.85, 0.7, suit);
    hsv_rgb (hue + 0.05, 0.9, 0.75, cape);
    double limbs[][4] = {
      { 0, 60, 0, 260 },       /* torso */
      { 0, 80, -130, 20 },     /* arm up */
      { 0, 80, 120, 170 },     /* arm down */
      { 0, 250, -80, 460 },    /* legs */
      { 0, 250, 90, 450 },
    };
    double cpts[8] = { hx - 20 * s, hy + 70 * s, hx + 20 * s, hy + 70 * s, hx + 170 * s,
                       hy + 430 * s, hx - 190 * s, hy + 400 * s };
    draw_poly (c, cpts, 4, cape, 1);
    for (int pass = 0; pass < 2; pass++)
      for (int k = 0; k < 5; k++)
        draw_line (c, hx + limbs[k][0] * s, hy + limbs[k][1] * s, hx + limbs[k][2] * s,
                   hy + limbs[k][3] * s, (k == 0 ? 95 : 42) * s + (pass ? 0 : 10 * s),
                   pass ? suit : black, 1);
    draw_ellipse (c, hx, hy, 40 * s + 5 * s, 48 * s + 5 * s, 0, black, 1);
    draw_ellipse (c, hx, hy, 40 * s, 48 * s, 0, skin, 1);
    draw_rect (c, hx - 30 * s, hy - 12 * s, hx + 30 * s, hy + 2 * s, black, 1); /* mask */
    draw_ellipse (c, hx, hy + 150 * s, 30 * s, 30 * s, 0, ce, 1);                /* emblem */
    for (int k = 0; k < 14; k++) /* speed lines */
      {
        double a = rng_range (&r, 0, 2 * M_PI), r0 = rng_range (&r, 260, 340) * s;
        double l = rng_range (&r, 40, 140) * s;
        draw_line (c, hx + r0 * cos (a), hy + 200 * s + r0 * sin (a), hx + (r0 + l) * cos (a),
                   hy + 200 * s + (r0 + l) * sin (a), 3 * sc, black, 1);
      }
  }

  /* speech balloon with text */
  {
    double ex = rng_range (&r, 0.25, 0.75) * w, ey = rng_range (&r, 0.62, 0.75) * h;
    double rx = 170 * sc, ry = 80 * sc;
    double tail[6] = { ex - 30 * sc, ey + 50 * sc, ex + 20 * sc, ey + 60 * sc, ex - 80 * sc,
                       ey + 150 * sc };
    draw_poly (c, tail, 3, black, 1);
    draw_ellipse (c, ex, ey, rx + 5 * sc, ry + 5 * sc, 0, black, 1);
    draw_ellipse (c, ex, ey, rx, ry, 0, white, 1);
    draw_text (c, &r, ex - rx * 0.65, ey - ry * 0.5, ex + rx * 0.65, ey + ry * 0.55, 16 * sc, black);
  }

  /* caption box */
  {
    double x0 = rng_range (&r, 0.05, 0.4) * w, y0 = 0.82 * h;
    double x1 = x0 + 0.5 * w, y1 = y0 + 0.08 * h;
    float yel[3] = { 250, 226, 90 };
    draw_rect (c, x0 - 4 * sc, y0 - 4 * sc, x1 + 4 * sc, y1 + 4 * sc, black, 1);
    draw_rect (c, x0, y0, x1, y1, yel, 1);
    draw_text (c, &r, x0 + 12 * sc, y0 + 12 * sc, x1 - 12 * sc, y1 - 8 * sc, 15 * sc, black);
  }

  /* title band (masthead) with block letters, issue/price box */
  {
    double th = 0.19 * h;
    float band[3];
    hsv_rgb (hue + 0.5, 0.2, 0.97, band);
    draw_rect (c, 0, 0, w, th, band, 1);
    draw_rect (c, 0, th, w, th + 8 * sc, black, 1);
    int nl = 5 + rng_int (&r, 3);
    double lw = (w * 0.78) / nl;
    for (int k = 0; k < nl; k++)
      draw_letter (c, &r, w * 0.2 + k * lw + lw * 0.12, th * 0.18, lw * 0.7, th * 0.62,
                   lw * 0.22, cc, black);
    draw_rect (c, 10 * sc, 10 * sc, 0.16 * w, th * 0.8, black, 1);
    draw_rect (c, 16 * sc, 16 * sc, 0.16 * w - 6 * sc, th * 0.8 - 6 * sc, white, 1);
    draw_text (c, &r, 24 * sc, 26 * sc, 0.16 * w - 14 * sc, th * 0.8 - 12 * sc, 12 * sc, black);
    draw_ellipse (c, 0.09 * w, th * 0.55, 26 * sc, 26 * sc, 5 * sc, ce, 1);
  }

  /* UPC box bottom left */
  {
    double x0 = 0.06 * w, y0 = 0.90 * h, x1 = x0 + 0.2 * w, y1 = y0 + 0.085 * h;
    draw_rect (c, x0, y0, x1, y1, white, 1);
    double x = x0 + 10 * sc;
    while (x < x1 - 12 * sc)
      {
        double bw = rng_range (&r, 1.5, 5.0) * sc;
        if (rng_uni (&r) < 0.55)
          draw_rect (c, x, y0 + 8 * sc, x + bw, y1 - 22 * sc, black, 1);
        x += bw + rng_range (&r, 1.5, 4.0) * sc;
      }
    draw_text (c, &r, x0 + 10 * sc, y1 - 18 * sc, x1 - 10 * sc, y1 - 4 * sc, 9 * sc, black);
  }

  /* paper grain and ink mottle */
  {
    Rng pr_ = rng_for (seed, 3);
    uint64_t base = rng_next (&pr_);
    for (int i = 0; i < w * h; i++)
      {
        uint64_t hsh = mix64 (base + (uint64_t) i);
        float n = ((float) (hsh & 0xff) + (float) ((hsh >> 8) & 0xff) - 255.0f) / 255.0f * 5.0f;
        c->r[i] += n;
        c->g[i] += n;
        c->b[i] += n * 0.9f;
      }
  }
}

/* ---------------------------------------------------------------- defects */

static void
mask_set (GvImage *mask, int x, int y, int label)
{
  if (x >= 0 && y >= 0 && x < mask->width && y < mask->height)
    gv_image_row_u8 (mask, y)[x] = (uint8_t) label;
}

static void
bbox_add (int bb[4], int x, int y)
{
  if (bb[2] == 0)
    {
      bb[0] = x, bb[1] = y, bb[2] = 1, bb[3] = 1;
      return;
    }
  int x1 = bb[0] + bb[2] - 1, y1 = bb[1] + bb[3] - 1;
  if (x < bb[0]) bb[0] = x;
  if (y < bb[1]) bb[1] = y;
  if (x > x1) x1 = x;
  if (y > y1) y1 = y;
  bb[2] = x1 - bb[0] + 1;
  bb[3] = y1 - bb[1] + 1;
}

/* Damage that exposes paper fibre: whitening by amount k. */
static void
whiten (Canvas *c, int i, float k)
{
  static const float paper[3] = { 238, 232, 215 };
  cv_blend (c, i, paper, k);
}

static void
mark (Canvas *c, GvImage *mask, GvSynthDefect *d, int x, int y)
{
  (void) c;
  mask_set (mask, x, y, 1 + (int) d->type);
  bbox_add (d->bbox, x, y);
}

static void
defect_line_like (Canvas *c, GvImage *mask, GvSynthDefect *d, const double *pts, int n,
                  double width, float k, int crease)
{
  /* polyline damage: scratch (bright thin line) or crease (fold shading + cracked ink) */
  double x0 = 1e30, y0 = 1e30, x1 = -1e30, y1 = -1e30;
  double reach = crease ? width * 3 : width + 1.5;
  int bx0, by0, bx1, by1;
  for (int i = 0; i < n; i++)
    {
      x0 = fmin (x0, pts[2 * i]), x1 = fmax (x1, pts[2 * i]);
      y0 = fmin (y0, pts[2 * i + 1]), y1 = fmax (y1, pts[2 * i + 1]);
    }
  bbox_clip (c, x0 - reach, y0 - reach, x1 + reach, y1 + reach, &bx0, &by0, &bx1, &by1);
  for (int y = by0; y <= by1; y++)
    for (int x = bx0; x <= bx1; x++)
      {
        double best = 1e30, side = 0, tpos = 0;
        for (int s = 0; s + 1 < n; s++)
          {
            double t, dd = seg_dist (x, y, pts[2 * s], pts[2 * s + 1], pts[2 * s + 2], pts[2 * s + 3], &t);
            if (dd < best)
              {
                best = dd;
                double ex = pts[2 * s + 2] - pts[2 * s], ey = pts[2 * s + 3] - pts[2 * s + 1];
                side = ex * (y - pts[2 * s + 1]) - ey * (x - pts[2 * s]);
                tpos = (s + t) / (n - 1);
              }
          }
        if (best > reach)
          continue;
        int i = y * c->w + x;
        if (crease)
          {
            /* fold: one flank lit, the other shaded, fading toward the crease ends */
            double fade = fmin (1.0, fmin (tpos, 1 - tpos) * 12 + 0.15);
            double fl = 1 - best / reach;
            double f = 1 + (side > 0 ? 0.22 : -0.28) * k * fl * fl * fade;
            c->r[i] *= (float) f, c->g[i] *= (float) f, c->b[i] *= (float) f;
            float crack = cov_from_dist (best - width * 0.5) * k * (float) fade;
            whiten (c, i, crack * 0.85f);
            if (fl * fade * k > 0.25 || crack > 0.2)
              mark (c, mask, d, x, y);
          }
        else
          {
            float cv = cov_from_dist (best - width * 0.5);
            whiten (c, i, cv * k);
            if (best <= width * 0.5 + 1.0)
              mark (c, mask, d, x, y);
          }
      }
}

static void
make_defect (Canvas *c, GvImage *mask, GvSynthDefect *d, Rng *r)
{
  int w = c->w, h = c->h;
  double sev = d->severity, sc = w / 1060.0;
  float k = (float) (0.45 + 0.55 * sev);

  switch (d->type)
    {
    case GV_DEFECT_CREASE:
      {
        /* from an edge, running across part of the cover */
        double pts[2 * 6];
        double len = (0.25 + 0.5 * sev) * h;
        double ax, ay, ang;
        if (rng_uni (r) < 0.5)
          ax = rng_uni (r) < 0.5 ? 0 : w - 1, ay = rng_range (r, 0.25, 0.85) * h,
          ang = (ax == 0 ? 0 : M_PI) + rng_range (r, -0.6, 0.6);
        else
          ax = rng_range (r, 0.2, 0.8) * w, ay = rng_uni (r) < 0.5 ? 0 : h - 1,
          ang = (ay == 0 ? M_PI / 2 : -M_PI / 2) + rng_range (r, -0.5, 0.5);
        for (int i = 0; i < 6; i++)
          {
            double t = len * i / 5.0, wob = (i == 0 ? 0 : rng_range (r, -3, 3) * sc);
            pts[2 * i] = ax + t * cos (ang) - wob * sin (ang);
            pts[2 * i + 1] = ay + t * sin (ang) + wob * cos (ang);
          }
        defect_line_like (c, mask, d, pts, 6, (1.5 + 1.5 * sev) * sc, k, 1);
        break;
      }
    case GV_DEFECT_SCRATCH:
      {
        double pts[2 * 8];
        double len = (60 + 300 * sev) * sc;
        double ax = rng_range (r, 0.15, 0.85) * w, ay = rng_range (r, 0.25, 0.85) * h;
        double ang = rng_range (r, 0, 2 * M_PI), bend = rng_range (r, -0.4, 0.4);
        for (int i = 0; i < 8; i++)
          {
            double t = len * i / 7.0, a = ang + bend * i / 7.0;
            pts[2 * i] = ax + t * cos (a);
            pts[2 * i + 1] = ay + t * sin (a);
          }
        defect_line_like (c, mask, d, pts, 8, (1.0 + 0.8 * sev) * sc, k, 0);
        break;
      }
    case GV_DEFECT_SPINE_STRESS:
      {
        int nl = 4 + (int) (10 * sev);
        double yc = rng_range (r, 0.2, 0.8) * h, band = (150 + 250 * sev) * sc;
        for (int l = 0; l < nl; l++)
          {
            double y = yc + rng_range (r, -0.5, 0.5) * band;
            double len = rng_range (r, 10, 20 + 30 * sev) * sc;
            double pts[4] = { 0.5, y, len, y + rng_range (r, -2, 2) * sc };
            defect_line_like (c, mask, d, pts, 2, 1.3 * sc, k, 0);
          }
        break;
      }
    case GV_DEFECT_STAIN:
      {
        double cx = rng_range (r, 0.15, 0.85) * w, cy = rng_range (r, 0.25, 0.85) * h;
        double R = (30 + 90 * sev) * sc, ph[3], am[3];
        float a = (float) (0.22 + 0.3 * sev);
        const float brown[3] = { 0.78f, 0.6f, 0.38f }; /* multiplicative tint */
        for (int j = 0; j < 3; j++)
          ph[j] = rng_range (r, 0, 2 * M_PI), am[j] = rng_range (r, 0.05, 0.15);
        int bx0, by0, bx1, by1;
        bbox_clip (c, cx - 1.5 * R, cy - 1.5 * R, cx + 1.5 * R, cy + 1.5 * R, &bx0, &by0, &bx1, &by1);
        for (int y = by0; y <= by1; y++)
          for (int x = bx0; x <= bx1; x++)
            {
              double th = atan2 (y - cy, x - cx);
              double rr = R * (1 + am[0] * sin (2 * th + ph[0]) + am[1] * sin (3 * th + ph[1])
                               + am[2] * sin (5 * th + ph[2]));
              double dd = hypot (x - cx, y - cy) - rr;
              float cov = cov_from_dist (dd);
              if (cov <= 0)
                continue;
              /* coffee ring: the rim holds more pigment */
              float ring = (float) (1.0 + 0.8 * exp (-(dd * dd) / (2 * 16.0 * sc * sc)));
              float aa = a * cov * ring;
              int i = y * w + x;
              c->r[i] *= 1 - aa * (1 - brown[0]);
              c->g[i] *= 1 - aa * (1 - brown[1]);
              c->b[i] *= 1 - aa * (1 - brown[2]);
              if (cov >= 0.5)
                mark (c, mask, d, x, y);
            }
        break;
      }
    case GV_DEFECT_CORNER_WEAR:
      {
        int corner = rng_int (r, 4);
        double rad = (10 + 45 * sev) * sc;
        double ox = (corner == 1 || corner == 2) ? w - 0.5 - rad : -0.5 + rad;
        double oy = (corner >= 2) ? h - 0.5 - rad : -0.5 + rad;
        double ph = rng_range (r, 0, 2 * M_PI);
        int bx0 = (corner == 1 || corner == 2) ? (int) floor (ox) : 0;
        int by0 = (corner >= 2) ? (int) floor (oy) : 0;
        int bx1 = (corner == 1 || corner == 2) ? w - 1 : (int) ceil (ox);
        int by1 = (corner >= 2) ? h - 1 : (int) ceil (oy);
        for (int y = by0; y <= by1; y++)
          for (int x = bx0; x <= bx1; x++)
            {
              double th = atan2 (y - oy, x - ox);
              double rr = rad * (1 + 0.06 * sin (7 * th + ph) + 0.04 * sin (13 * th + 2 * ph));
              double dd = hypot (x - ox, y - oy) - rr;
              int i = y * w + x;
              float keep = cov_from_dist (dd);
              float fray = cov_from_dist (dd + 4 * sc) < 1 ? 1 - cov_from_dist (dd + 4 * sc) : 0;
              whiten (c, i, (1 - fray * 0.0f) * (1 - cov_from_dist (dd + 5 * sc)) * k * 0.8f);
              c->a[i] *= keep;
              if (keep < 0.99f || dd > -5 * sc)
                mark (c, mask, d, x, y);
            }
        break;
      }
    case GV_DEFECT_EDGE_CHIP:
    case GV_DEFECT_TEAR:
      {
        int edge = rng_int (r, 4); /* 0 top, 1 right, 2 bottom, 3 left */
        int along_len = (edge & 1) ? h : w;
        double pos = rng_range (r, 0.15, 0.85) * along_len;
        double depth = d->type == GV_DEFECT_TEAR ? (20 + 80 * sev) * sc : (4 + 18 * sev) * sc;
        double halfw = d->type == GV_DEFECT_TEAR ? (0.8 + 0.7 * sev) * sc : depth * rng_range (r, 0.8, 1.4);
        double skew = d->type == GV_DEFECT_TEAR ? rng_range (r, -0.4, 0.4) : 0;
        double wig[4];
        for (int j = 0; j < 4; j++)
          wig[j] = rng_range (r, 0, 2 * M_PI);
        /* local frame: a along the edge, n inward */
        double reach = depth + halfw + 8 * sc + fabs (skew) * depth;
        for (double aa = pos - reach; aa <= pos + reach; aa += 1)
          for (double nn = 0; nn <= depth + 8 * sc; nn += 1)
            {
              int x, y;
              switch (edge)
                {
                case 0: x = (int) aa, y = (int) nn; break;
                case 1: x = w - 1 - (int) nn, y = (int) aa; break;
                case 2: x = (int) aa, y = h - 1 - (int) nn; break;
                default: x = (int) nn, y = (int) aa; break;
                }
              if (x < 0 || y < 0 || x >= w || y >= h)
                continue;
              double na = nn + 0.5; /* distance of the texel centre from the paper edge */
              double dd;
              if (d->type == GV_DEFECT_TEAR)
                {
                  double cen = pos + skew * na + 1.5 * sc * sin (na * 0.35 + wig[0]);
                  double hw = halfw * (1 - 0.8 * na / depth);
                  dd = na > depth ? 1e9 : fabs (aa - cen) - hw;
                }
              else
                {
                  double prof = depth * (1 - pow (fabs (aa - pos) / halfw, 2.0))
                                + 1.5 * sc * sin ((aa - pos) * 0.4 + wig[1]);
                  dd = na - prof;
                }
              int i = y * w + x;
              /* dd < 0 inside the cut (paper lost: keep is the paper's coverage, the table
               * shows through), then 3 px (at 1060 px width) of whitened fibre; the truth is
               * both */
              float keep = cov_from_dist (-dd);
              if (dd > 3 * sc + 0.5)
                continue;
              whiten (c, i, cov_from_dist (dd - 3 * sc) * k * 0.85f);
              c->a[i] *= keep;
              mark (c, mask, d, x, y);
            }
        break;
      }
    default:
      break;
    }
}

/* ---------------------------------------------------------------- table */

/* Periodic value noise with smooth interpolation: px x py lattice cells per texture period
 * (powers of two up to LAT), so the table tiles without seams. */
#define LAT 1024
static float
vnoise (const float *lat, int px, int py, double x, double y)
{
  int x0 = (int) floor (x), y0 = (int) floor (y);
  double fx = x - x0, fy = y - y0;
  fx = fx * fx * (3 - 2 * fx);
  fy = fy * fy * (3 - 2 * fy);
  int xa = x0 & (px - 1), xb = (x0 + 1) & (px - 1), ya = y0 & (py - 1), yb = (y0 + 1) & (py - 1);
  float a = lat[ya * LAT + xa], b = lat[ya * LAT + xb];
  float cc = lat[yb * LAT + xa], dd = lat[yb * LAT + xb];
  return (float) ((a + (b - a) * fx) * (1 - fy) + (cc + (dd - cc) * fx) * fy);
}

typedef struct {
  GvSynth *s;
  float *lat;
  int kind;
  float base[3], alt[3];
  double ring_freq, plank;
} TableCtx;

static void
table_rows (void *data, int y0, int y1)
{
  TableCtx *tc = data;
  const int N = GV_SYNTH_TABLE_SIDE;
  Tex *t = &tc->s->table[0];
  const float *lat = tc->lat;
  const size_t P1 = (size_t) LAT * LAT;
  for (int y = y0; y < y1; y++)
    for (int x = 0; x < N; x++)
      {
        double v;
        float col[3];
        if (tc->kind == 0)
          {
            /* wood: rings along x warped by noise, fibres stretched along x, plank seams */
            double warp = vnoise (lat, 8, 32, x / 256.0, y / 64.0) * 2.0
                          + vnoise (lat + P1, 32, 32, x / 64.0, y / 64.0) * 0.5;
            double ring = sin ((y / (double) N * tc->ring_freq + warp) * 2 * M_PI);
            double fib = vnoise (lat + 2 * P1, 16, 1024, x / 128.0, y / 2.0) - 0.5;
            double mot = vnoise (lat + 3 * P1, 128, 128, x / 16.0, y / 16.0) - 0.5;
            v = 0.5 + 0.32 * ring + 0.55 * fib + 0.4 * mot;
            double py = fmod (y, tc->plank);
            if (py < 2.0)
              v -= 1.6 * (1 - py / 2.0);
          }
        else
          {
            /* fabric / desk mat: fine weave and soft mottling */
            double weave = ((x & 3) < 2 ? 0.25 : -0.25) * ((y & 3) < 2 ? 1 : -1);
            double mot = vnoise (lat + 3 * P1, 128, 128, x / 16.0, y / 16.0) - 0.5;
            double fine = vnoise (lat + 2 * P1, 1024, 1024, x / 2.0, y / 2.0) - 0.5;
            v = 0.5 + 0.3 * weave + 0.8 * mot + 0.6 * fine;
          }
        float kf = (float) clampd (v, -1, 2);
        for (int ch = 0; ch < 3; ch++)
          col[ch] = tc->base[ch] + (tc->alt[ch] - tc->base[ch]) * kf;
        uint8_t *p = t->px + ((size_t) y * t->pw + x) * 4;
        for (int ch = 0; ch < 3; ch++)
          p[ch] = (uint8_t) clampd (col[ch] + 0.5, 0, 255);
        p[3] = 255;
      }
}

/* ---------------------------------------------------------------- mip levels */

static int
tex_alloc (Tex *t, int w, int h, int pad)
{
  t->w = w;
  t->h = h;
  t->pw = w + 2 * pad;
  t->px = calloc ((size_t) t->pw * (h + 2 * pad) * 4, 1);
  return t->px ? 0 : -1;
}

/* 2x2 box average of premultiplied RGBA; the cover has a one-texel transparent border. */
static int
cover_downsample (const Tex *a, Tex *b)
{
  int w = (a->w + 1) / 2, h = (a->h + 1) / 2;
  if (tex_alloc (b, w, h, 1) < 0)
    return -1;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 4; c++)
        {
          int sum = 0;
          for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++)
              sum += a->px[((size_t) (2 * y + dy + 1) * a->pw + (2 * x + dx + 1)) * 4 + c];
          b->px[((size_t) (y + 1) * b->pw + (x + 1)) * 4 + c] = (uint8_t) ((sum + 2) / 4);
        }
  return 0;
}

static int
table_downsample (const Tex *a, Tex *b)
{
  int w = a->w / 2, h = a->h / 2;
  if (tex_alloc (b, w, h, 0) < 0)
    return -1;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 4; c++)
        {
          int sum = 0;
          for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++)
              sum += a->px[((size_t) (2 * y + dy) * a->pw + (2 * x + dx)) * 4 + c];
          b->px[((size_t) y * b->pw + x) * 4 + c] = (uint8_t) ((sum + 2) / 4);
        }
  return 0;
}

/* ---------------------------------------------------------------- construction */

void
gv_synth_params_init_default (GvSynthParams *p)
{
  memset (p, 0, sizeof *p);
  p->width = 1920;
  p->height = 1080;
  p->n_frames = 150;
  p->fps = 30.0;
  p->seed = 1;
  p->n_defects = 3;
  p->cover_fill = 0.8;
  p->motion = 1.0;
  p->bursts = 1;
  p->glare = 1;
  p->cover_w = 1060;
  p->cover_h = 1640;
  p->vfr = 0;
}

int
gv_synth_params_validate (const GvSynthParams *p)
{
  if (!p)
    return gv_error_set (GV_EINVAL, "no synthetic scan parameters given");
  if (p->width < 32 || p->height < 32 || p->width > 8192 || p->height > 8192)
    return gv_error_set (GV_EINVAL, "frame size %dx%d is outside 32..8192 px a side", p->width,
                         p->height);
  if (p->n_frames < 1 || p->n_frames > 1000000)
    return gv_error_set (GV_EINVAL, "frame count %d is outside 1..1000000", p->n_frames);
  if (!(p->fps >= 1 && p->fps <= 480))
    return gv_error_set (GV_EINVAL, "frame rate %g is outside 1..480", p->fps);
  if (p->n_defects < 0 || p->n_defects > 4 * GV_DEFECT_N_TYPES)
    return gv_error_set (GV_EINVAL, "defect count %d is outside 0..%d", p->n_defects,
                         4 * GV_DEFECT_N_TYPES);
  if (!(p->cover_fill >= 0.3 && p->cover_fill <= 0.95))
    return gv_error_set (GV_EINVAL, "cover fill %g is outside 0.3..0.95", p->cover_fill);
  if (!(p->motion >= 0 && p->motion <= 4))
    return gv_error_set (GV_EINVAL, "motion scale %g is outside 0..4", p->motion);
  if (p->cover_w < 64 || p->cover_h < 64 || p->cover_w > 8192 || p->cover_h > 8192)
    return gv_error_set (GV_EINVAL, "cover size %dx%d is outside 64..8192 px a side", p->cover_w,
                         p->cover_h);
  return GV_OK;
}

void
gv_synth_free (GvSynth *s)
{
  if (!s)
    return;
  for (int k = 0; k < GV_SYNTH_MAX_LEVELS; k++)
    {
      free (s->cover[k].px);
      free (s->table[k].px);
    }
  gv_image_free (s->cover_rgb);
  gv_image_free (s->mask);
  free (s->segs);
  free (s->vig_x);
  free (s->vig_y);
  free (s->times);
  free (s);
}

static int
build_table (GvSynth *s)
{
  Rng r = rng_for (s->p.seed, 4);
  TableCtx tc = { 0 };
  const int N = GV_SYNTH_TABLE_SIDE;
  float *lat = malloc ((size_t) 4 * LAT * LAT * sizeof *lat);
  if (!lat || tex_alloc (&s->table[0], N, N, 0) < 0)
    {
      free (lat);
      return -1;
    }
  for (int i = 0; i < 4 * LAT * LAT; i++)
    lat[i] = (float) rng_uni (&r);
  tc.s = s;
  tc.lat = lat;
  tc.kind = rng_uni (&r) < 0.7 ? 0 : 1;
  tc.ring_freq = 24 + rng_int (&r, 16);
  tc.plank = N / (double) (2 + rng_int (&r, 2));
  if (tc.kind == 0)
    {
      /* wood tones: light oak to walnut, low contrast */
      double l = rng_range (&r, 0.45, 0.85);
      tc.base[0] = (float) (150 * l + 20), tc.base[1] = (float) (105 * l + 15), tc.base[2] = (float) (70 * l + 10);
      for (int c = 0; c < 3; c++)
        tc.alt[c] = tc.base[c] * 0.86f;
    }
  else
    {
      /* grey/green/blue desk mat */
      float hues[3][3] = { { 96, 100, 104 }, { 70, 96, 82 }, { 66, 80, 104 } };
      int k = rng_int (&r, 3);
      for (int c = 0; c < 3; c++)
        tc.base[c] = hues[k][c], tc.alt[c] = hues[k][c] * 0.84f;
    }
  gv_parallel_for (0, N, 32, table_rows, &tc);
  free (lat);
  s->n_table_levels = 1;
  while (s->n_table_levels < GV_SYNTH_MAX_LEVELS)
    {
      if (table_downsample (&s->table[s->n_table_levels - 1], &s->table[s->n_table_levels]) < 0)
        return -1;
      s->n_table_levels++;
    }
  double sum[3] = { 0 };
  const Tex *t = &s->table[s->n_table_levels - 1];
  for (int i = 0; i < t->w * t->h; i++)
    for (int c = 0; c < 3; c++)
      sum[c] += t->px[i * 4 + c];
  for (int c = 0; c < 3; c++)
    s->table_mean[c] = (float) (sum[c] / (t->w * t->h));
  s->table_off_x = rng_range (&r, 0, N);
  s->table_off_y = rng_range (&r, 0, N);
  return 0;
}

static int
build_cover (GvSynth *s)
{
  int w = s->p.cover_w, h = s->p.cover_h;
  Canvas c = { w, h, NULL, NULL, NULL, NULL };
  size_t n = (size_t) w * h;
  int ret = -1;

  c.r = malloc (n * sizeof (float));
  c.g = malloc (n * sizeof (float));
  c.b = malloc (n * sizeof (float));
  c.a = malloc (n * sizeof (float));
  s->cover_rgb = gv_image_new (w, h, 3, GV_U8);
  s->mask = gv_image_new (w, h, 1, GV_U8);
  if (!c.r || !c.g || !c.b || !c.a || !s->cover_rgb || !s->mask)
    goto out;
  paint_cover (&c, s->p.seed);

  /* defects: distinct types while there are types left, then repeats */
  {
    Rng r = rng_for (s->p.seed, 5);
    int order[GV_DEFECT_N_TYPES];
    for (int k = 0; k < GV_DEFECT_N_TYPES; k++)
      order[k] = k;
    for (int k = GV_DEFECT_N_TYPES - 1; k > 0; k--)
      {
        int j = rng_int (&r, k + 1), t = order[k];
        order[k] = order[j];
        order[j] = t;
      }
    s->n_defects = s->p.n_defects;
    for (int k = 0; k < s->n_defects; k++)
      {
        GvSynthDefect *d = &s->defects[k];
        memset (d, 0, sizeof *d);
        d->type = (GvDefectType) order[k % GV_DEFECT_N_TYPES];
        d->severity = rng_range (&r, 0.3, 1.0);
        make_defect (&c, s->mask, d, &r);
      }
  }

  if (tex_alloc (&s->cover[0], w, h, 1) < 0)
    goto out;
  for (int y = 0; y < h; y++)
    {
      uint8_t *o = gv_image_row_u8 (s->cover_rgb, y);
      uint8_t *t = s->cover[0].px + ((size_t) (y + 1) * s->cover[0].pw + 1) * 4;
      for (int x = 0; x < w; x++)
        {
          size_t i = (size_t) y * w + x;
          float a = c.a[i] < 0 ? 0 : (c.a[i] > 1 ? 1 : c.a[i]);
          float rgb[3] = { c.r[i], c.g[i], c.b[i] };
          for (int ch = 0; ch < 3; ch++)
            {
              float v = rgb[ch] < 0 ? 0 : (rgb[ch] > 255 ? 255 : rgb[ch]);
              t[x * 4 + ch] = (uint8_t) (v * a + 0.5f);
              o[x * 3 + ch] = (uint8_t) (v * a + s->table_mean[ch] * (1 - a) + 0.5f);
            }
          t[x * 4 + 3] = (uint8_t) (a * 255 + 0.5f);
        }
    }
  s->n_cover_levels = 1;
  while (s->n_cover_levels < GV_SYNTH_MAX_LEVELS && s->cover[s->n_cover_levels - 1].w > 16
         && s->cover[s->n_cover_levels - 1].h > 16)
    {
      if (cover_downsample (&s->cover[s->n_cover_levels - 1], &s->cover[s->n_cover_levels]) < 0)
        goto out;
      s->n_cover_levels++;
    }
  ret = 0;
out:
  free (c.r);
  free (c.g);
  free (c.b);
  free (c.a);
  return ret;
}

GvSynth *
gv_synth_new (const GvSynthParams *p)
{
  GvSynth *s;

  if (gv_synth_params_validate (p) < 0)
    return NULL;
  s = calloc (1, sizeof *s);
  if (!s)
    goto nomem;
  s->p = *p;
  /* a phone's main camera: about 66 degrees across the long side */
  s->f = 0.77 * (p->width > p->height ? p->width : p->height);
  s->cx = (p->width - 1) * 0.5;
  s->cy = (p->height - 1) * 0.5;
  s->dist0 = s->f * p->cover_h / (p->cover_fill * p->height);
  s->exposure_time = 0.5 / p->fps;

  s->vig_x = malloc (p->width * sizeof (float));
  s->vig_y = malloc (p->height * sizeof (float));
  s->times = malloc ((size_t) p->n_frames * sizeof (double));
  if (!s->vig_x || !s->vig_y || !s->times)
    goto nomem;
  {
    double half = 0.5 * sqrt ((double) p->width * p->width + (double) p->height * p->height);
    for (int x = 0; x < p->width; x++)
      {
        double d = (x - s->cx) / half;
        s->vig_x[x] = (float) (1 - 0.22 * d * d);
      }
    for (int y = 0; y < p->height; y++)
      {
        double d = (y - s->cy) / half;
        s->vig_y[y] = (float) (1 - 0.22 * d * d);
      }
  }
  {
    Rng r = rng_for (p->seed, 6);
    for (int i = 0; i < p->n_frames; i++)
      {
        double j = rng_range (&r, -0.3, 0.3);
        s->times[i] = (i == 0 || !p->vfr) ? i / p->fps : (i + j) / p->fps;
      }
  }
  if (build_table (s) < 0 || build_cover (s) < 0)
    goto nomem;
  build_path (s);
  if (!s->segs)
    goto nomem;
  return s;

nomem:
  gv_synth_free (s);
  gv_error_set (GV_ENOMEM, "out of memory for a synthetic scan of %dx%d px", p->width, p->height);
  return NULL;
}

const GvSynthParams *
gv_synth_params (const GvSynth *s)
{
  return &s->p;
}

double
gv_synth_frame_time (const GvSynth *s, int i)
{
  if (i < 0)
    return 0;
  if (i < s->p.n_frames)
    return s->times[i];
  return i / s->p.fps;
}

const GvImage *
gv_synth_cover (const GvSynth *s)
{
  return s->cover_rgb;
}

const GvImage *
gv_synth_defect_mask (const GvSynth *s)
{
  return s->mask;
}

int
gv_synth_n_defects (const GvSynth *s)
{
  return s->n_defects;
}

const GvSynthDefect *
gv_synth_defect (const GvSynth *s, int i)
{
  if (i < 0 || i >= s->n_defects)
    return NULL;
  return &s->defects[i];
}

/* ---------------------------------------------------------------- rendering */

typedef struct {
  double Hinv[9];   /* frame px -> cover px */
} SubFrame;

typedef struct {
  const GvSynth *s;
  const SubFrame *sub;
  int nsub;
  int cl, tl;               /* cover and table mip levels */
  double gu, gv, gi, grad2; /* glare in cover px: centre, intensity, 1 / radius^2 */
  double csc, tsc, tox, toy; /* per-level texture scales and table offsets */
  double lu, lv, l0;         /* lighting gradient: light = l0 + lu u + lv v */
  float gain;
  uint64_t noise_key;
  GvImage *out;             /* U8 RGB, when no defocus */
  float *buf;               /* float RGB frame (defocus path) */
  float *buf2;
  const float *taps;
  int radius;
  int frame_w, frame_h;
} RenderCtx;

static inline int
ifloor (double x)
{
  /* floor without a libm call (x86-64 without SSE4.1 has no inline floor); |x| < 2^31 */
  int i = (int) x;
  return i - (x < i);
}

/* Bilinear blend of four RGBA8 texels into float RGBA, weights summed left to right in the
 * order p00, p01, p10, p11; the SSE2 path does the same operations lane by lane (no FMA under
 * -ffp-contract=off), so both paths give identical floats. */
static inline void
bilerp4 (const uint8_t *p00, const uint8_t *p01, const uint8_t *p10, const uint8_t *p11, float ax,
         float ay, float out[4])
{
  float w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay;
#ifdef __SSE2__
  __m128i z = _mm_setzero_si128 ();
  uint32_t q00, q01, q10, q11;
  memcpy (&q00, p00, 4);
  memcpy (&q01, p01, 4);
  memcpy (&q10, p10, 4);
  memcpy (&q11, p11, 4);
#define GV_U8X4_PS(q)                                                                              \
  _mm_cvtepi32_ps (_mm_unpacklo_epi16 (_mm_unpacklo_epi8 (_mm_cvtsi32_si128 ((int) (q)), z), z))
  __m128 acc = _mm_mul_ps (GV_U8X4_PS (q00), _mm_set1_ps (w00));
  acc = _mm_add_ps (acc, _mm_mul_ps (GV_U8X4_PS (q01), _mm_set1_ps (w01)));
  acc = _mm_add_ps (acc, _mm_mul_ps (GV_U8X4_PS (q10), _mm_set1_ps (w10)));
  acc = _mm_add_ps (acc, _mm_mul_ps (GV_U8X4_PS (q11), _mm_set1_ps (w11)));
#undef GV_U8X4_PS
  _mm_storeu_ps (out, acc);
#else
  for (int c = 0; c < 4; c++)
    out[c] = p00[c] * w00 + p01[c] * w01 + p10[c] * w10 + p11[c] * w11;
#endif
}

static inline double
maxd (double a, double b)
{
  return a > b ? a : b;
}

/* Scene radiance (0..255 scale, before gain and vignette) at cover coordinates (u, v). */
static inline void
scene_at (const RenderCtx *rc, double u, double v, float out[3])
{
  const GvSynth *s = rc->s;
  const Tex *ct = &s->cover[rc->cl];
  const Tex *tt = &s->table[rc->tl];
  double cw = s->p.cover_w, ch = s->p.cover_h;
  float cov[4] = { 0, 0, 0, 0 };
  double ul = (u + 0.5) * rc->csc - 0.5, vl = (v + 0.5) * rc->csc - 0.5;

  if (ul > -1.0 && vl > -1.0 && ul < ct->w && vl < ct->h)
    {
      int ix0 = ifloor (ul), iy0 = ifloor (vl);
      double fu = ix0, fv = iy0;
      int ix = ix0 + 1, iy = iy0 + 1;
      float ax = (float) (ul - fu), ay = (float) (vl - fv);
      const uint8_t *p0 = ct->px + ((size_t) iy * ct->pw + ix) * 4;
      const uint8_t *p1 = p0 + (size_t) ct->pw * 4;
      bilerp4 (p0, p0 + 4, p1, p1 + 4, ax, ay, cov);
    }
  float alpha = cov[3] * (1.0f / 255.0f);
  float tab[4] = { 0, 0, 0, 0 };
  if (alpha < 0.999f)
    {
      double tu = u * rc->tsc + rc->tox, tv = v * rc->tsc + rc->toy;
      int ix0 = ifloor (tu), iy0 = ifloor (tv);
      double fu = ix0, fv = iy0;
      int m = tt->w - 1;
      int x0 = ix0 & m, y0 = iy0 & m;
      int x1 = (x0 + 1) & m, y1 = (y0 + 1) & m;
      float ax = (float) (tu - fu), ay = (float) (tv - fv);
      const uint8_t *r0 = tt->px + (size_t) y0 * tt->pw * 4, *r1 = tt->px + (size_t) y1 * tt->pw * 4;
      bilerp4 (r0 + x0 * 4, r0 + x1 * 4, r1 + x0 * 4, r1 + x1 * 4, ax, ay, tab);
      /* the cover's soft shadow on the table, light from the upper left */
      double su = u - 5.0, sv = v - 7.0;
      double dx = maxd (maxd (-0.5 - su, su - (cw - 0.5)), 0.0);
      double dy = maxd (maxd (-0.5 - sv, sv - (ch - 0.5)), 0.0);
      double dd = maxd (dx, dy);
      if (dd < 40.0)
        {
          double q = 1.0 - dd / 40.0;
          float sh = (float) (1.0 - 0.35 * q * q);
          tab[0] *= sh, tab[1] *= sh, tab[2] *= sh;
        }
    }
  float light = (float) (rc->l0 + rc->lu * u + rc->lv * v);
  for (int c = 0; c < 3; c++)
    out[c] = (cov[c] + tab[c] * (1 - alpha)) * light;
  if (rc->gi > 0)
    {
      double du = u - rc->gu, dv = v - rc->gv;
      double q = (du * du + dv * dv) * rc->grad2;
      if (q < 1.0)
        {
          /* soft polynomial blob, strongest on the glossy cover */
          double f = (1 - q) * (1 - q) * (1 - q);
          float add = (float) (255.0 * rc->gi * f) * (0.25f + 0.75f * alpha);
          out[0] += add;
          out[1] += add * 0.98f;
          out[2] += add * 0.93f;
        }
    }
}

static inline uint8_t
finish_px (float v, uint64_t h, int c)
{
  /* sensor noise: triangular from two hash bytes, sigma growing with the signal */
  float n = (float) ((int) ((h >> (16 * c)) & 0xff) + (int) ((h >> (16 * c + 8)) & 0xff) - 255)
            * (1.0f / 255.0f);
  float vv = v < 0 ? 0 : (v > 255 ? 255 : v);
  float sig = 0.9f + 0.012f * vv;
  v += n * sig * 2.45f; /* 2.45 = 1 / std of the triangular variable */
  v = v < 0 ? 0 : (v > 255 ? 255 : v);
  return (uint8_t) (v + 0.5f);
}

static inline uint64_t
noise_hash (uint64_t key, int x, int y)
{
  return mix64 (key ^ (((uint64_t) (uint32_t) y << 32) | (uint32_t) x));
}

static void
render_rows (void *data, int y0, int y1)
{
  RenderCtx *rc = data;
  const GvSynth *s = rc->s;
  int W = rc->frame_w;
  float *acc = malloc ((size_t) W * 3 * sizeof (float));
  if (!acc)
    return; /* cannot happen in practice: a row of floats */
  float inv = 1.0f / (float) rc->nsub;

  for (int y = y0; y < y1; y++)
    {
      memset (acc, 0, (size_t) W * 3 * sizeof (float));
      for (int k = 0; k < rc->nsub; k++)
        {
          const double *Hi = rc->sub[k].Hinv;
          double bu = Hi[1] * y + Hi[2], bv = Hi[4] * y + Hi[5], bw = Hi[7] * y + Hi[8];
          for (int x = 0; x < W; x++)
            {
              double iw = 1.0 / (Hi[6] * x + bw);
              double u = (Hi[0] * x + bu) * iw, v = (Hi[3] * x + bv) * iw;
              float px[3];
              scene_at (rc, u, v, px);
              acc[3 * x] += px[0];
              acc[3 * x + 1] += px[1];
              acc[3 * x + 2] += px[2];
            }
        }
      float vy = s->vig_y[y] * rc->gain * inv;
      if (rc->buf)
        {
          float *o = rc->buf + (size_t) y * W * 3;
          for (int x = 0; x < W; x++)
            {
              float g = vy * s->vig_x[x];
              o[3 * x] = acc[3 * x] * g;
              o[3 * x + 1] = acc[3 * x + 1] * g;
              o[3 * x + 2] = acc[3 * x + 2] * g;
            }
        }
      else
        {
          uint8_t *o = gv_image_row_u8 (rc->out, y);
          for (int x = 0; x < W; x++)
            {
              float g = vy * s->vig_x[x];
              uint64_t h = noise_hash (rc->noise_key, x, y);
              for (int c = 0; c < 3; c++)
                o[3 * x + c] = finish_px (acc[3 * x + c] * g, h, c);
            }
        }
    }
  free (acc);
}

static void
blur_h_rows (void *data, int y0, int y1)
{
  RenderCtx *rc = data;
  int W = rc->frame_w, R = rc->radius;
  for (int y = y0; y < y1; y++)
    {
      const float *in = rc->buf + (size_t) y * W * 3;
      float *o = rc->buf2 + (size_t) y * W * 3;
      for (int x = 0; x < W; x++)
        for (int c = 0; c < 3; c++)
          {
            float sum = 0;
            for (int k = -R; k <= R; k++)
              {
                int xx = x + k;
                xx = xx < 0 ? -xx : (xx >= W ? 2 * W - 2 - xx : xx);
                xx = xx < 0 ? 0 : (xx >= W ? W - 1 : xx);
                sum += in[3 * xx + c] * rc->taps[k + R];
              }
            o[3 * x + c] = sum;
          }
    }
}

static void
blur_v_rows (void *data, int y0, int y1)
{
  RenderCtx *rc = data;
  int W = rc->frame_w, Hh = rc->frame_h, R = rc->radius;
  for (int y = y0; y < y1; y++)
    {
      uint8_t *o = gv_image_row_u8 (rc->out, y);
      for (int x = 0; x < W; x++)
        {
          float sum[3] = { 0, 0, 0 };
          for (int k = -R; k <= R; k++)
            {
              int yy = y + k;
              yy = yy < 0 ? -yy : (yy >= Hh ? 2 * Hh - 2 - yy : yy);
              yy = yy < 0 ? 0 : (yy >= Hh ? Hh - 1 : yy);
              const float *in = rc->buf2 + ((size_t) yy * W + x) * 3;
              for (int c = 0; c < 3; c++)
                sum[c] += in[c] * rc->taps[k + R];
            }
          uint64_t h = noise_hash (rc->noise_key, x, y);
          for (int c = 0; c < 3; c++)
            o[3 * x + c] = finish_px (sum[c], h, c);
        }
    }
}

static int
pick_level (double texels_per_px, int n_levels)
{
  int L = 0;
  /* minify by up to 1.25x at level 0 before averaging texels; keeps detail near 1:1 */
  while (L + 1 < n_levels && texels_per_px / (double) (1 << (L + 1)) >= 1.25)
    L++;
  return L;
}

static double
local_scale (const double Hinv[9], double x, double y)
{
  /* sqrt |det J| of frame px -> cover px at (x, y): cover texels per frame px */
  double u0, v0, u1, v1, u2, v2;
  hom_apply (Hinv, x, y, &u0, &v0);
  hom_apply (Hinv, x + 1, y, &u1, &v1);
  hom_apply (Hinv, x, y + 1, &u2, &v2);
  return sqrt (fabs ((u1 - u0) * (v2 - v0) - (v1 - v0) * (u2 - u0)));
}

static void
frame_homography (const GvSynth *s, double t, double H[9])
{
  Pose ps = pose_at (s, t);
  pose_homography (s, &ps, H);
}

typedef struct {
  double G[9];      /* frame i-1 px -> frame i px */
  double Pinv[9];   /* frame i-1 px -> cover px */
  double cw, ch;
  int W;
  double *row_all, *row_cov;
  long long *row_n;
  GvImage *flow;
} FlowCtx;

static void
flow_rows (void *data, int y0, int y1)
{
  FlowCtx *fc = data;
  const double *G = fc->G, *P = fc->Pinv;
  for (int y = y0; y < y1; y++)
    {
      double sa = 0, sc = 0;
      long long n = 0;
      float *fr = fc->flow ? gv_image_row_f32 (fc->flow, y) : NULL;
      for (int x = 0; x < fc->W; x++)
        {
          double w = G[6] * x + G[7] * y + G[8];
          double dx = (G[0] * x + G[1] * y + G[2]) / w - x;
          double dy = (G[3] * x + G[4] * y + G[5]) / w - y;
          double m = sqrt (dx * dx + dy * dy);
          sa += m;
          double pw = P[6] * x + P[7] * y + P[8];
          double u = (P[0] * x + P[1] * y + P[2]) / pw, v = (P[3] * x + P[4] * y + P[5]) / pw;
          if (u >= -0.5 && v >= -0.5 && u < fc->cw - 0.5 && v < fc->ch - 0.5)
            {
              sc += m;
              n++;
            }
          if (fr)
            {
              fr[2 * x] = (float) dx;
              fr[2 * x + 1] = (float) dy;
            }
        }
      fc->row_all[y] = sa;
      fc->row_cov[y] = sc;
      fc->row_n[y] = n;
    }
}

/* Flow from frame i-1 to frame i: dense field (when flow != NULL) and the two means. */
static int
true_flow (const GvSynth *s, int i, GvImage *flow, double *mean_cover, double *mean_frame,
           int nthreads)
{
  FlowCtx fc;
  double Ha[9], Hb[9], Hainv[9];
  int W = s->p.width, Hh = s->p.height;

  *mean_cover = *mean_frame = 0;
  if (i < 1)
    {
      if (flow)
        for (int y = 0; y < Hh; y++)
          memset (gv_image_row_f32 (flow, y), 0, (size_t) W * 2 * sizeof (float));
      return GV_OK;
    }
  frame_homography (s, gv_synth_frame_time (s, i - 1), Ha);
  frame_homography (s, gv_synth_frame_time (s, i), Hb);
  if (mat3_inv (Ha, Hainv) < 0)
    return gv_error_set (GV_EINVAL, "degenerate camera pose at frame %d", i - 1);
  mat3_mul (Hb, Hainv, fc.G);
  memcpy (fc.Pinv, Hainv, sizeof fc.Pinv);
  fc.cw = s->p.cover_w;
  fc.ch = s->p.cover_h;
  fc.W = W;
  fc.flow = flow;
  fc.row_all = malloc (Hh * sizeof (double));
  fc.row_cov = malloc (Hh * sizeof (double));
  fc.row_n = malloc (Hh * sizeof (long long));
  if (!fc.row_all || !fc.row_cov || !fc.row_n)
    {
      free (fc.row_all), free (fc.row_cov), free (fc.row_n);
      return gv_error_set (GV_ENOMEM, "out of memory for the true flow");
    }
  gv_parallel_for (nthreads, Hh, 16, flow_rows, &fc);
  double sa = 0, sc = 0;
  long long n = 0;
  for (int y = 0; y < Hh; y++)
    {
      sa += fc.row_all[y];
      sc += fc.row_cov[y];
      n += fc.row_n[y];
    }
  *mean_frame = sa / ((double) W * Hh);
  *mean_cover = n > 0 ? sc / (double) n : 0;
  free (fc.row_all), free (fc.row_cov), free (fc.row_n);
  return GV_OK;
}

int
gv_synth_true_flow (GvSynth *s, int i, GvImage *flow)
{
  double a, b;
  if (!s || !flow || i < 1 || i >= s->p.n_frames)
    return gv_error_set (GV_EINVAL, "true flow needs a frame index in 1..n_frames-1 (got %d)", i);
  if (flow->width != s->p.width || flow->height != s->p.height || flow->channels != 2
      || flow->depth != GV_F32)
    return gv_error_set (GV_EINVAL, "true flow needs a %dx%d F32 2-channel image", s->p.width,
                         s->p.height);
  return true_flow (s, i, flow, &a, &b, 0);
}

int
gv_synth_render (GvSynth *s, int i, GvImage *rgb, GvSynthTruth *truth, int nthreads)
{
  const GvSynthParams *p;
  RenderCtx rc;
  SubFrame sub[GV_SYNTH_MAX_SAMPLES];
  GvSynthTruth tr;
  double t, Hs[9], He[9], Hinv[9];
  int ret = GV_OK;

  if (!s || !rgb)
    return gv_error_set (GV_EINVAL, "synthetic render needs a scan and an output image");
  p = &s->p;
  if (i < 0 || i >= p->n_frames)
    return gv_error_set (GV_EINVAL, "frame %d is outside 0..%d", i, p->n_frames - 1);
  if (rgb->width != p->width || rgb->height != p->height || rgb->channels != 3
      || rgb->depth != GV_U8)
    return gv_error_set (GV_EINVAL, "synthetic render needs a %dx%d U8 RGB image", p->width,
                         p->height);

  memset (&tr, 0, sizeof tr);
  memset (&rc, 0, sizeof rc);
  t = gv_synth_frame_time (s, i);
  Pose ps = pose_at (s, t);
  pose_homography (s, &ps, tr.H);
  cover_corners (s, tr.H, tr.corners);

  /* streak: the largest corner travel over the exposure */
  double te = s->exposure_time;
  frame_homography (s, t - te * 0.5, Hs);
  frame_homography (s, t + te * 0.5, He);
  {
    double ca[8], cb[8], mx = 0;
    cover_corners (s, Hs, ca);
    cover_corners (s, He, cb);
    for (int k = 0; k < 4; k++)
      mx = fmax (mx, hypot (cb[2 * k] - ca[2 * k], cb[2 * k + 1] - ca[2 * k + 1]));
    tr.motion_blur_px = mx;
  }
  int nsub = tr.motion_blur_px < 0.25 ? 1 : 1 + (int) ceil (tr.motion_blur_px / 1.5);
  if (nsub > GV_SYNTH_MAX_SAMPLES)
    nsub = GV_SYNTH_MAX_SAMPLES;
  for (int k = 0; k < nsub; k++)
    {
      double Hk[9];
      if (nsub == 1)
        memcpy (Hk, tr.H, sizeof Hk);
      else
        frame_homography (s, t + te * ((k + 0.5) / nsub - 0.5), Hk);
      if (mat3_inv (Hk, sub[k].Hinv) < 0)
        return gv_error_set (GV_EINVAL, "degenerate camera pose at frame %d", i);
    }
  mat3_inv (tr.H, Hinv);

  tr.defocus_sigma = defocus_at (s, t);
  tr.exposure = exposure_at (s, t);
  tr.sharp = tr.motion_blur_px < 1.0 && tr.defocus_sigma < 0.6;
  if (p->glare)
    {
      double gi;
      glare_at (s, t, &ps, &rc.gu, &rc.gv, &gi);
      rc.gi = gi;
      /* radius: about a fifth of the cover height */
      double R = 0.2 * p->cover_h;
      rc.grad2 = 1.0 / (R * R);
      hom_apply (tr.H, rc.gu, rc.gv, &tr.glare_x, &tr.glare_y);
    }
  else
    {
      tr.glare_x = tr.glare_y = -1;
      rc.gi = 0;
    }

  ret = true_flow (s, i, NULL, &tr.true_flow_cover, &tr.true_flow_frame, nthreads);
  if (ret < 0)
    return ret;

  double sc_cover = local_scale (Hinv, tr.corners[0] * 0.5 + tr.corners[4] * 0.5,
                                 tr.corners[1] * 0.5 + tr.corners[5] * 0.5);
  rc.s = s;
  rc.sub = sub;
  rc.nsub = nsub;
  rc.cl = pick_level (sc_cover, s->n_cover_levels);
  rc.tl = pick_level (sc_cover * GV_SYNTH_TABLE_SCALE, s->n_table_levels);
  rc.gain = (float) tr.exposure;
  rc.csc = 1.0 / (double) (1 << rc.cl);
  /* table texel at level tl: ((u * scale + off) + 0.5) / 2^tl - 0.5 */
  rc.tsc = GV_SYNTH_TABLE_SCALE / (double) (1 << rc.tl);
  rc.tox = (s->table_off_x + 0.5) / (double) (1 << rc.tl) - 0.5;
  rc.toy = (s->table_off_y + 0.5) / (double) (1 << rc.tl) - 0.5;
  rc.lu = s->light_gx / p->cover_w;
  rc.lv = s->light_gy / p->cover_h;
  rc.l0 = 1.0 - 0.5 * s->light_gx - 0.5 * s->light_gy;
  rc.noise_key = mix64 (((uint64_t) p->seed << 32) ^ (uint64_t) (uint32_t) i ^ 0xA5A5ULL);
  rc.out = rgb;
  rc.frame_w = p->width;
  rc.frame_h = p->height;

  if (tr.defocus_sigma > 0)
    {
      size_t n = (size_t) p->width * p->height * 3;
      float taps[128];
      double sig = tr.defocus_sigma, sum = 0;
      int R = (int) ceil (3.0 * sig);
      if (R > 63)
        R = 63;
      for (int k = -R; k <= R; k++)
        sum += taps[k + R] = (float) exp (-(k * k) / (2 * sig * sig));
      for (int k = 0; k <= 2 * R; k++)
        taps[k] = (float) (taps[k] / sum);
      rc.taps = taps;
      rc.radius = R;
      rc.buf = malloc (n * sizeof (float));
      rc.buf2 = malloc (n * sizeof (float));
      if (!rc.buf || !rc.buf2)
        {
          free (rc.buf), free (rc.buf2);
          return gv_error_set (GV_ENOMEM, "out of memory for a defocused frame");
        }
      gv_parallel_for (nthreads, p->height, 8, render_rows, &rc);
      gv_parallel_for (nthreads, p->height, 8, blur_h_rows, &rc);
      gv_parallel_for (nthreads, p->height, 8, blur_v_rows, &rc);
      free (rc.buf);
      free (rc.buf2);
    }
  else
    gv_parallel_for (nthreads, p->height, 8, render_rows, &rc);

  if (truth)
    *truth = tr;
  return GV_OK;
}
