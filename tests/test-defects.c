/* test-defects.c: stage 4 (defects) and stage 5 (regions, grade) on synthetic scans with
 * exact ground truth (gv-synth), rendered in memory. Covers are found by gv_cover_detect on the
 * least blurred frames (by the renderer's truth) spread over the scan, as the pipeline's stages
 * 2 and 3 do; one test runs the whole pipeline. Accuracy targets (issue 3) are checked over a small
 * set; docs/accuracy.md has the larger set (bench/defects-accuracy.sh). With
 * GV_TEST_DEFECTS_DETAIL set, the accuracy test also lists each truth box and every defect found. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include <stdlib.h>

#include "gv-defects.h"
#include "gv-error.h"
#include "gv-geometry.h"
#include "gv-params.h"
#include "gv-pipeline.h"
#include "gv-synth.h"

/* Small scans keep the test fast (and usable under ASan): 1280x720 frames, a 530x820 canonical
 * cover (half the default; the renderer scales the defects with the cover). */
#define FW 1280
#define FH 720
#define CW 530
#define CH 820
#define NF 100

typedef struct {
  GvSynth *synth;
  GvDefectReport *rep;
} Scan;

static GvSynth *
make_synth (unsigned seed, int n_defects, int n_frames, int w, int h)
{
  GvSynthParams sp;
  gv_synth_params_init_default (&sp);
  sp.width = w;
  sp.height = h;
  sp.n_frames = n_frames;
  sp.seed = seed;
  sp.n_defects = n_defects;
  sp.cover_w = CW;
  sp.cover_h = CH;
  sp.bursts = 0; /* golden-frame selection is tested elsewhere */
  GvSynth *s = gv_synth_new (&sp);
  g_assert_nonnull (s);
  return s;
}

static Scan
scan_analyze (unsigned seed, int n_defects, int nthreads)
{
  Scan sc = { make_synth (seed, n_defects, NF, FW, FH), NULL };
  GvImage *fr = gv_image_new (FW, FH, 3, GV_U8), *gray = gv_image_new (FW, FH, 1, GV_U8);
  GvImage *rgb[5] = { 0 };
  GvQuad quads[5];
  GvDefectInput in[5];
  int pick[5], np = 0, n = 0;
  GvParams p;

  gv_params_init_default (&p);
  p.cover.out_width = CW;
  p.cover.out_height = CH;
  /* five picks spread over the scan, as the golden frames are (the glare moves between them):
   * in each fifth, the least blurred of its first 4 frames */
  for (int k = 0; k < 5; k++)
    {
      double best = 1e9;
      for (int j = 0; j < 4; j++)
        {
          GvSynthTruth t;
          int i = k * (NF / 5) + j;
          g_assert_cmpint (gv_synth_render (sc.synth, i, fr, &t, 2), ==, GV_OK);
          double v = t.motion_blur_px + 2 * t.defocus_sigma;
          if (v < best)
            {
              best = v;
              pick[np] = i;
            }
        }
      np++;
    }
  for (int k = 0; k < np; k++)
    {
      GvSynthTruth t;
      GvCoverDetection det;
      g_assert_cmpint (gv_synth_render (sc.synth, pick[k], fr, &t, 2), ==, GV_OK);
      gv_image_rgb_to_gray (fr, gray);
      if (gv_cover_detect (gray, &p.cover, 2, &det) != GV_OK)
        continue;
      rgb[n] = gv_image_copy (fr);
      quads[n] = det.quad;
      in[n] = (GvDefectInput) { rgb[n], &quads[n], det.touches_border, k, det.confidence };
      n++;
    }
  g_assert_cmpint (gv_defects_analyze (NULL, in, n, CW, CH, 168.275, 260.35, nthreads, NULL, NULL, &sc.rep),
                   ==, GV_OK);
  gv_defects_finish (sc.rep, nthreads);
  for (int k = 0; k < n; k++)
    gv_image_free (rgb[k]);
  gv_image_free (fr);
  gv_image_free (gray);
  return sc;
}

static void
scan_clear (Scan *sc)
{
  gv_defect_report_free (sc->rep);
  gv_synth_free (sc->synth);
}

/* Seeds whose scenes the cover detector handles in NF frames (seed 2's table has a second edge
 * along a side and no cover is found: that is stage 3's business). */
static const unsigned clean_seeds[] = { 1, 3, 5 };
static const unsigned damaged_seeds[] = { 101, 103, 104, 106 };

static void
test_clean_empty (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (clean_seeds); i++)
    {
      Scan sc = scan_analyze (clean_seeds[i], 0, 2);
      g_assert_nonnull (sc.rep->mask);
      GString *list = g_string_new (NULL);
      for (int k = 0; k < sc.rep->n_defects; k++)
        g_string_append_printf (list, " %s %.2f", gv_defect_kind_name (sc.rep->defects[k].kind),
                                sc.rep->defects[k].severity);
      g_test_message ("clean seed %u: %d covers, %.3f %% flagged, %d defects, grade %.1f;%s",
                      clean_seeds[i], sc.rep->n_covers, sc.rep->defect_percentage,
                      sc.rep->n_defects, sc.rep->grade.grade_estimate, list->str);
      g_string_free (list, TRUE);
      /* issue 3: at most 0.5 % of a clean cover (the worker flags about a third) */
      g_assert_cmpfloat (sc.rep->defect_percentage, <=, 0.5);
      scan_clear (&sc);
    }
}

static int
boxes_touch (const int a[4], const int b[4], int pad)
{
  return a[0] <= b[0] + b[2] + pad && b[0] <= a[0] + a[2] + pad && a[1] <= b[1] + b[3] + pad
         && b[1] <= a[1] + a[3] + pad;
}

/* Ranks with ties averaged (0-based). */
static void
ranks (const double *v, int n, double *r)
{
  for (int i = 0; i < n; i++)
    {
      int below = 0, same = 0;
      for (int j = 0; j < n; j++)
        {
          below += v[j] < v[i];
          same += v[j] == v[i];
        }
      r[i] = below + 0.5 * (same - 1);
    }
}

/* Spearman's rank correlation: Pearson's on the ranks (ties averaged). */
static double
spearman (const double *a, const double *b, int n)
{
  double ra[64], rb[64], ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
  g_assert_cmpint (n, <=, 64);
  ranks (a, n, ra);
  ranks (b, n, rb);
  for (int i = 0; i < n; i++)
    ma += ra[i] / n, mb += rb[i] / n;
  for (int i = 0; i < n; i++)
    {
      sab += (ra[i] - ma) * (rb[i] - mb);
      saa += (ra[i] - ma) * (ra[i] - ma);
      sbb += (rb[i] - mb) * (rb[i] - mb);
    }
  return saa > 0 && sbb > 0 ? sab / sqrt (saa * sbb) : 0;
}

static void
test_accuracy (void)
{
  long inter = 0, uni = 0;
  int big = 0, found = 0, typed = 0, nreg = 0;
  double rscore[64], rtrue[64];

  for (guint i = 0; i < G_N_ELEMENTS (damaged_seeds); i++)
    {
      Scan sc = scan_analyze (damaged_seeds[i], GV_DEFECT_N_TYPES, 2);
      const GvImage *tm = gv_synth_defect_mask (sc.synth);
      g_assert_nonnull (sc.rep->mask);
      for (int y = 0; y < CH; y++)
        for (int x = 0; x < CW; x++)
          {
            int a = gv_image_row_u8 (sc.rep->mask, y)[x] != 0, b = gv_image_row_u8 (tm, y)[x] != 0;
            inter += a && b;
            uni += a || b;
          }
      /* region scores against the true damage: % of the region in the truth mask */
      for (int k = 0; k < GV_REGION_N; k++)
        {
          const GvRegionDef *rd = gv_region_def ((GvRegionId) k);
          long n = 0, in = 0;
          for (int y = 0; y < CH; y++)
            for (int x = 0; x < CW; x++)
              if (x >= rd->x0 * CW && x < rd->x1 * CW && y >= rd->y0 * CH && y < rd->y1 * CH)
                {
                  n++;
                  in += gv_image_row_u8 (tm, y)[x] != 0;
                }
          rscore[nreg] = sc.rep->regions[k].score;
          rtrue[nreg++] = n ? 100.0 * in / n : 0;
        }
      for (int k = 0; k < gv_synth_n_defects (sc.synth); k++)
        {
          const GvSynthDefect *t = gv_synth_defect (sc.synth, k);
          int f = 0, ty = 0;
          if (t->severity < 0.5)
            continue;
          big++;
          for (int j = 0; j < sc.rep->n_defects; j++)
            if (boxes_touch (t->bbox, sc.rep->defects[j].bbox, 4))
              {
                f = 1;
                ty |= (int) sc.rep->defects[j].kind == (int) t->type;
              }
          found += f;
          typed += ty;
          g_test_message ("seed %u: %s severity %.2f %s", damaged_seeds[i],
                          gv_defect_type_name (t->type), t->severity,
                          ty ? "found, right type" : f ? "found, wrong type" : "missed");
          if (g_getenv ("GV_TEST_DEFECTS_DETAIL"))
            g_test_message ("   truth box %d %d %d %d", t->bbox[0], t->bbox[1], t->bbox[2], t->bbox[3]);
        }
      if (g_getenv ("GV_TEST_DEFECTS_DETAIL"))
        for (int j = 0; j < sc.rep->n_defects; j++)
          g_test_message ("   ours: %s %.2f box %d %d %d %d", gv_defect_kind_name (sc.rep->defects[j].kind),
                          sc.rep->defects[j].severity, sc.rep->defects[j].bbox[0], sc.rep->defects[j].bbox[1],
                          sc.rep->defects[j].bbox[2], sc.rep->defects[j].bbox[3]);
      scan_clear (&sc);
    }
  double iou = uni ? (double) inter / uni : 0, rho = spearman (rscore, rtrue, nreg);
  g_test_message ("IoU %.3f; severity >= 0.5: found %d/%d, right type %d/%d; region Spearman %.3f",
                  iou, found, big, typed, big, rho);
  /* Issue 3's targets, all met by this set since 2026-11-28 (stop 18: IoU 0.562, found 20/22,
   * right type 19/22, Spearman 0.813; found was 19/22 until a chip's shaded part was measured
   * from the outline); the analysis is deterministic, so a drop below them is a change of
   * method, not noise. */
  g_assert_cmpfloat (iou, >=, 0.5);
  g_assert_cmpint (found * 10, >=, big * 9);
  g_assert_cmpint (typed * 10, >=, big * 8);
  g_assert_cmpfloat (rho, >=, 0.8);
}

static void
test_grade_monotonic (void)
{
  double prev = 11;
  static const int steps[] = { 0, 2, 4, GV_DEFECT_N_TYPES };
  for (guint si = 0; si < G_N_ELEMENTS (steps); si++)
    {
      int nd = steps[si];
      Scan sc = scan_analyze (103, nd, 2);
      double g = sc.rep->grade.grade_estimate;
      g_test_message ("seed 103 with %d defects: %d found, grade %.1f", nd, sc.rep->n_defects, g);
      g_assert_cmpfloat (g, <=, prev);
      prev = g;
      scan_clear (&sc);
    }
}

static int
reports_equal (const GvDefectReport *a, const GvDefectReport *b)
{
  if (gv_image_compare (a->mask, b->mask) || gv_image_compare (a->score, b->score)
      || gv_image_compare (a->print, b->print) || gv_image_compare (a->glare, b->glare))
    return 0;
  if (a->n_defects != b->n_defects || memcmp (a->defects, b->defects, sizeof (GvDefect) * a->n_defects))
    return 0;
  if (memcmp (a->regions, b->regions, sizeof a->regions) || a->damage_score != b->damage_score)
    return 0;
  return a->grade.grade_estimate == b->grade.grade_estimate && a->grade.n_lines == b->grade.n_lines;
}

static void
test_threads_identical (void)
{
  Scan s1 = scan_analyze (104, GV_DEFECT_N_TYPES, 1);
  for (int t = 3; t <= 3; t++)
    {
      Scan st = scan_analyze (104, GV_DEFECT_N_TYPES, t);
      g_assert_true (reports_equal (s1.rep, st.rep));
      scan_clear (&st);
    }
  scan_clear (&s1);
}

static void
test_grade_rule (void)
{
  GvDefectReport r;

  g_assert_cmpfloat (gv_grade_floor_cgc (10.0), ==, 10.0);
  g_assert_cmpfloat (gv_grade_floor_cgc (9.95), ==, 9.9);
  g_assert_cmpfloat (gv_grade_floor_cgc (9.9), ==, 9.9);
  g_assert_cmpfloat (gv_grade_floor_cgc (9.85), ==, 9.8);
  g_assert_cmpfloat (gv_grade_floor_cgc (1.9), ==, 1.8);
  g_assert_cmpfloat (gv_grade_floor_cgc (0.2), ==, 0.5);

  /* a pristine, well-captured cover: 9.9 (never 10.0 from a video) */
  memset (&r, 0, sizeof r);
  r.n_covers = 5;
  gv_grade_compute (&r);
  g_assert_cmpfloat (r.grade.grade, ==, 9.9);

  /* a crease in the spine and a worn corner: the lines add up to the grade */
  GvDefect d[2] = { { .kind = GV_DK_CREASE, .region = GV_REGION_SPINE, .severity = 0.7 },
                    { .kind = GV_DK_CORNER_WEAR, .region = GV_REGION_CORNER_TL, .severity = 0.3 } };
  r.defects = d;
  r.n_defects = 2;
  gv_grade_compute (&r);
  double sum = 0;
  for (int i = 0; i < r.grade.n_lines; i++)
    {
      sum += r.grade.lines[i].delta;
      g_test_message ("%-70s %+.2f = %.2f", r.grade.lines[i].text, r.grade.lines[i].delta,
                      r.grade.lines[i].running);
    }
  g_assert_cmpfloat (fabs (sum - r.grade.grade), <, 1e-9);
  /* 10 - 1.5*(0.5+0.7)*1.5 - 0.6*(0.5+0.3)*1.2 = 10 - 2.70 - 0.58 = 6.72, under the crease cap
   * of 6.0? no: 6.72 > 6.0, so the cap gives 6.0 */
  g_assert_cmpfloat (fabs (r.grade.raw_points - 6.72), <, 1e-9);
  g_assert_cmpfloat (r.grade.grade, ==, 6.0);

  /* weak evidence: needs review, no grade */
  r.n_covers = 2;
  r.flags = GV_QF_TOO_FEW_SHARP;
  gv_grade_compute (&r);
  g_assert_true (r.grade.needs_review);
  g_assert_cmpfloat (r.grade.grade, ==, -1.0);
  g_assert_cmpfloat (r.grade.grade_estimate, ==, 6.0);
}

static void
test_no_cover (void)
{
  GvDefectReport *r = NULL;
  g_assert_cmpint (gv_defects_analyze (NULL, NULL, 0, CW, CH, 168.275, 260.35, 1, NULL, NULL, &r), ==, GV_OK);
  gv_defects_finish (r, 1);
  g_assert_true (r->flags & GV_QF_COVER_NOT_FOUND);
  g_assert_null (r->mask);
  g_assert_true (r->grade.needs_review);
  gv_defect_report_free (r);
}

/* ---- a stain whose rim runs into a print edge of a stain's own colour change (5e) ---- */

/* A flat cover (tan print, a brown-tinted printed band crossing it diagonally: its edges pass
 * the stain-edge test, as the brown rays of held-out seed 131 do) on a grey table, seen
 * head-on in 5 identical frames; with a round stain (gv-synth's: brown tint 0.37, coffee ring) or
 * without. The stain's rim touches the band, so its edges and the band's form one contour
 * that faces both ways and the contour tests of 5d refuse it. */
#define ST_FW 640
#define ST_FH 640
#define ST_X0 150.0
#define ST_Y0 50.0
#define ST_S 0.66 /* frame px per canonical cover px: a 350 px wide cover, as in 720p video */

static void
stain_cover_px (double u, double v, int stain, double cu, double cv, double rad, float *rgb)
{
  const float k[3] = { 0.22f, 0.40f, 0.62f };
  float c[3] = { 215.0f, 190.0f, 150.0f };
  /* the band: 80 px wide, its edges at 45 degrees */
  double b = (u - v + 300.0) / sqrt (2.0);
  float t = fabs (b) < 40.0 ? 0.45f : 0.0f;
  if (stain)
    {
      double d = hypot (u - cu, v - cv) - rad;
      if (d < 0)
        t = 1.0f - (1.0f - t) * (1.0f - (float) (0.37 * (1.0 + 0.8 * exp (-d * d / 8.0))));
    }
  for (int i = 0; i < 3; i++)
    rgb[i] = c[i] * (1.0f - t * k[i]);
}

/* A spine-stress cover: flat magenta print with n short lines across the spine (each 30 px
 * long, 2 px at 1060 px width, brightened evenly by spine_lines_gain (45) in every channel, as 4:2:0 video shows
 * such a thin line: its colour weakened, its luma not). */
static int spine_lines_n;
static float spine_lines_gain = 45.0f;

static void
spine_cover_px (double u, double v, float *rgb)
{
  rgb[0] = 190.0f, rgb[1] = 60.0f, rgb[2] = 190.0f;
  for (int i = 0; i < spine_lines_n; i++)
    {
      double yl = 300.0 + 22.0 * i;
      if (u < 30.0 && fabs (v - yl) < 1.0)
        for (int c = 0; c < 3; c++)
          rgb[c] += spine_lines_gain;
    }
}

/* A worn corner (a quarter disc of 20 px at 530 px width, 40 at 1060, table seen through it)
 * or a strip of the table's colour printed along the bottom edge from the corner (55 x 4 px,
 * 110 x 8 at 1060): both at the bottom-left corner of a flat light-blue cover. Case 2: specks;
 * case 3: a worn corner deeper than wide whose table lies in the cover's shadow. */
static int corner_case;

/* corner_case 4: a quarter ellipse of tiny_a x tiny_b px at the bottom-left corner */
static double tiny_a, tiny_b;

static void
corner_cover_px (double u, double v, float *rgb)
{
  rgb[0] = 150.0f, rgb[1] = 185.0f, rgb[2] = 215.0f;
  int lost = corner_case == 0   ? hypot (u - 20.0, v - (CH - 1 - 20.0)) > 20.0 && u < 20.0 && v > CH - 1 - 20.0
             : corner_case == 1 ? u < 55.0 && v > CH - 1 - 4.0
                                /* specks of the table's colour at the corner, 3 px every 8 px
                                 * along the bottom edge (30 px) and up the side (18 px): a worn
                                 * corner's box, a tenth of it lost */
             : corner_case == 2 ? ((v > CH - 1 - 3.0 && u < 30.0 && fmod (u, 8.0) < 3.0)
                                      || (u < 3.0 && v > CH - 1 - 18.0 && fmod (CH - 1 - v, 8.0) < 3.0))
                                   /* a bite deeper up the side than along the bottom edge (a
                                    * quarter ellipse 12 x 18 px), the table seen through it in
                                    * the cover's shadow, whitened fibre 3 px wide round it */
                                   : corner_case == 3 ? hypot (u / 12.0, (CH - 1 - v) / 18.0) < 1.0
                                   : hypot (u / tiny_a, (CH - 1 - v) / tiny_b) < 1.0;
  if (corner_case == 3 && !lost && hypot (u / 12.0, (CH - 1 - v) / 18.0) < 1.2)
    rgb[0] = 238.0f, rgb[1] = 232.0f, rgb[2] = 215.0f;
  if (lost && corner_case == 3)
    rgb[0] = 45.0f, rgb[1] = 46.0f, rgb[2] = 50.0f; /* 0.64 of the table beside the cover */
  else if (lost)
    rgb[0] = 70.0f, rgb[1] = 72.0f, rgb[2] = 78.0f;
}

/* A bar code as covers print it (bottom left): black bars of 1.5 to 2.5 px (3 to 5 at 1060
 * px width) on white ink, 1.5 to 4 px apart, 60 px tall, on a flat teal cover. At 350 px of
 * cover width the bars read as dark grey, not black, and the white gaps between them as thin
 * light lines. (Bars of 1 px read as light grey, and the gap between two such still passes
 * for a scratch: docs/accuracy.md.) */
static void
barcode_cover_px (double u, double v, float *rgb)
{
  static const double bar[] = { 1.5, 2.5, 1.5, 2.0, 2.0, 1.5, 2.5, 1.5, 2.0, 2.0, 1.5, 2.5 };
  static const double gap[] = { 1.5, 3.0, 2.0, 4.0, 1.5, 2.5, 2.0, 3.5, 1.5, 2.0, 3.0, 2.0 };
  rgb[0] = 40.0f, rgb[1] = 150.0f, rgb[2] = 150.0f;
  if (u < 80.0 || u > 170.0 || v < 680.0 || v > 760.0)
    return;
  rgb[0] = 246.0f, rgb[1] = 242.0f, rgb[2] = 232.0f;
  if (v < 690.0 || v > 750.0)
    return;
  double x = 90.0;
  for (int i = 0; x < 160.0; i = (i + 1) % 12)
    {
      if (u >= x && u < x + bar[i])
        {
          rgb[0] = 25.0f, rgb[1] = 25.0f, rgb[2] = 25.0f;
          return;
        }
      x += bar[i] + gap[i];
    }
}

/* A crease through printed texture: a flat teal cover with a patch of light hatching (dashes
 * of 5 x 1.5 px at 530 px width, across and down in turn, 8 px apart) in its middle, and with
 * crease_case 1 a straight line as light, 1.5 px wide, from the spine (v = 300) to the right
 * edge (v = 480), across the patch; crease_case 2: instead of both, light specks of 2.8 px
 * every 6 px in a band 300 x 40 px from the spine. */
static int crease_case;

static void
crease_cover_px (double u, double v, float *rgb)
{
  const float paper[3] = { 238.0f, 232.0f, 215.0f };
  int light = 0;
  rgb[0] = 40.0f, rgb[1] = 150.0f, rgb[2] = 150.0f;
  if (crease_case == 2)
    {
      /* specks of 2.8 px every 6 px in a band from the spine (halftone as video shows it) */
      double du = fmod (u, 6.0) - 3.0, dv = fmod (v, 6.0) - 3.0;
      light = u < 300.0 && v > 335.0 && v < 375.0 && du * du + dv * dv < 2.0;
    }
  else if (crease_case >= 3)
    {
      /* the same specks in a patch at the right edge (u from 380, v 300..500); case 3: with a
       * chip there, the table seen through a notch 10 px deep and 22 px along the edge */
      double du = fmod (u, 6.0) - 3.0, dv = fmod (v, 6.0) - 3.0;
      light = u > 380.0 && v > 300.0 && v < 500.0 && du * du + dv * dv < 2.0;
      if (crease_case == 3 && u > CW - 1 - 10.0 && v > 390.0 && v < 412.0)
        {
          rgb[0] = 70.0f, rgb[1] = 72.0f, rgb[2] = 78.0f;
          return;
        }
    }
  else if (u > 150.0 && u < 350.0 && v > 250.0 && v < 560.0)
    {
      /* hatching: in each 8 px cell a light dash of 5 x 1.5 px, across or down */
      int ci = (int) (u / 8.0), cj = (int) (v / 8.0);
      double du = u - 8.0 * ci - 4.0, dv = v - 8.0 * cj - 4.0;
      light = (ci + cj) % 2 ? fabs (du) < 2.5 && fabs (dv) < 0.75 : fabs (dv) < 2.5 && fabs (du) < 0.75;
    }
  /* distance to the line through (0, 300) and (529, 480) */
  if (crease_case == 1 && fabs ((v - 300.0) * 529.0 - u * 180.0) / hypot (529.0, 180.0) < 0.75)
    light = 1;
  if (light)
    for (int c = 0; c < 3; c++)
      rgb[c] += 0.6f * (paper[c] - rgb[c]);
}

/* A stain over halftone: brown dots of 1.9 px radius every 5 px (10 at 1060 px width: the
 * renderer's coarsest) on yellow print, from 60 px off the spine (the gaps between dot rows
 * reaching the spine read as stress lines). Dot and gap differ as a tint does, so the print
 * itself is full of stain edges. halftone_case 1: gv-synth's stain (brown tint 0.37, coffee
 * ring) of radius 55 px (110 at 1060 px width) centred at (300, 420); 0: the halftone alone;
 * 2: a printed disc of radius 120 (240 at 1060 px width, as the renderer's planets) centred at
 * (300, 420) instead, the same dots on orange ground inside a black outline of 2.5 px. */
static int halftone_case;

static void
halftone_cover_px (double u, double v, float *rgb)
{
  const float k[3] = { 0.22f, 0.40f, 0.62f };
  double du = fmod (u, 5.0) - 2.5, dv = fmod (v, 5.0) - 2.5;
  double d = hypot (u - 300.0, v - 420.0) - (halftone_case == 2 ? 120.0 : 55.0);
  rgb[0] = 225.0f, rgb[1] = 215.0f, rgb[2] = 110.0f;
  if (u < 60.0)
    return;
  if (halftone_case == 2 && d < 0)
    rgb[0] = 235.0f, rgb[1] = 140.0f, rgb[2] = 40.0f;
  if (du * du + dv * dv < 1.9 * 1.9)
    rgb[0] = 190.0f, rgb[1] = 140.0f, rgb[2] = 50.0f;
  if (halftone_case == 2 && fabs (d) < 1.25)
    rgb[0] = rgb[1] = rgb[2] = 20.0f;
  if (halftone_case == 1 && d < 0)
    {
      float t = (float) (0.37 * (1.0 + 0.8 * exp (-d * d / 8.0)));
      for (int i = 0; i < 3; i++)
        rgb[i] *= 1.0f - t * k[i];
    }
}

/* A tear from the top edge as 720p video shows a thin one: its cut (under 1 px at 1060 px
 * width) is lost in the blur and what shows is its whitened fibre, a light line 3 px wide
 * (6 at 1060 px width) running 45 px into the cover, skewed by 0.3 rad and wiggling by 3 px
 * (gv-synth's tears wiggle and skew; benchmark seed 109's spread 6 px across its axis), on a
 * flat light-blue cover. */
static void
tear_cover_px (double u, double v, float *rgb)
{
  const float paper[3] = { 238.0f, 232.0f, 215.0f };
  rgb[0] = 150.0f, rgb[1] = 185.0f, rgb[2] = 215.0f;
  double centre = 200.0 + v * tan (0.3) + 3.0 * sin (v / 5.0);
  if (v <= 45.0 && fabs (u - centre) < 1.5)
    for (int c = 0; c < 3; c++)
      rgb[c] += 0.6f * (paper[c] - rgb[c]);
}

/* A horizontal rule across a light cyan cover (v = 160..166 at 530 px width) whose colour is
 * the table's at both edges and darkens inwards by 0.8 levels a px (the light's gradient over a
 * printed rule): table-like only for its last ~25 px at each edge, so the loss map holds a
 * band there that stops short of the border zone's end. With rule_tear, a real tear too: the
 * table seen through a wedge 4 px wide running 40 px down from the top edge at u = 300. */
static int rule_tear;

static void
rule_cover_px (double u, double v, float *rgb)
{
  const float table[3] = { 70.0f, 72.0f, 78.0f };
  rgb[0] = 200.0f, rgb[1] = 248.0f, rgb[2] = 246.0f;
  if (v >= 160.0 && v < 166.0)
    {
      double in = fmin (u, CW - 1 - u), dk = fmin (0.8 * in, 50.0);
      for (int c = 0; c < 3; c++)
        rgb[c] = table[c] - (float) dk;
    }
  if (rule_tear && v < 40.0 && fabs (u - 300.0) < 2.0 * (1.0 - v / 40.0) + 0.5)
    for (int c = 0; c < 3; c++)
      rgb[c] = table[c];
}

/* A light line 1.5 px wide (at 530 px width) from u = 60 to 470 on a flat light-blue cover,
 * at v = edge_line_v: along the top edge (v = 4) it is what a wavering warped outline leaves
 * (mixed pixels, a light strip of the table); at v = 60, a line across the print. */
static double edge_line_v;

static void
edge_line_cover_px (double u, double v, float *rgb)
{
  rgb[0] = 150.0f, rgb[1] = 185.0f, rgb[2] = 215.0f;
  if (u >= 60.0 && u <= 470.0 && fabs (v - edge_line_v) < 0.75)
    for (int c = 0; c < 3; c++)
      rgb[c] += 0.6f * (240.0f - rgb[c]);
}

/* A light line 1.5 px wide (at 530 px width) on a flat light-blue cover, 80 px long around
 * (265, 330): with arc_turn 0 straight, else an arc turning by arc_turn radians over its length
 * (a printed ring's piece: gv-synth's cream rings outside its planets). With arc_dash > 0, a
 * straight dash that long at v = arc_dv beyond each end, arc_gap px off it. With arc_ring > 0,
 * the line runs on for arc_ring px beyond each end in yellow, 2.5 px wide (a printed ring whose
 * colour there is not the whitening of a scratch): along the arc's circle, or along a straight line's axis. */
static double arc_turn, arc_dash, arc_gap, arc_dv, arc_ring;
/* With arc_len > 0: the line is that long, around u = arc_cu (at the cover's edge when
 * arc_cu is half of arc_len). */
static double arc_len, arc_cu;

static void
arc_cover_px (double u, double v, float *rgb)
{
  const double len = arc_len > 0 ? arc_len : 80.0, cu = arc_len > 0 ? arc_cu : 265.0;
  double d, dr = 1e9;
  rgb[0] = 150.0f, rgb[1] = 185.0f, rgb[2] = 215.0f;
  if (arc_turn == 0.0)
    {
      double t = fabs (u - cu);
      d = t <= len / 2 ? fabs (v - 330.0) : 1e9;
      if (t > len / 2 && t <= len / 2 + arc_ring)
        dr = fabs (v - 330.0);
    }
  else
    {
      double R = len / arc_turn, cx = cu, cy = 330.0 + R; /* the arc's top at (cu, 330) */
      double a = atan2 (u - cx, cy - v);
      d = fabs (a) <= arc_turn / 2 ? fabs (hypot (u - cx, v - cy) - R) : 1e9;
      if (fabs (a) > arc_turn / 2 && fabs (a) <= arc_turn / 2 + arc_ring / R)
        dr = fabs (hypot (u - cx, v - cy) - R);
    }
  if (dr < 1.25)
    rgb[0] = 255.0f, rgb[1] = 240.0f, rgb[2] = 60.0f;
  if (arc_dash > 0 && fabs (v - arc_dv) < 0.75
      && fabs (u - 265.0) >= 40.0 + arc_gap && fabs (u - 265.0) <= 40.0 + arc_gap + arc_dash)
    d = 0;
  if (d < 0.75)
    for (int c = 0; c < 3; c++)
      rgb[c] += 0.6f * (240.0f - rgb[c]);
}

/* A light line 1.5 px wide on a flat cover, 311 px long (at 530 px width) from (120, 300) to
 * (420, 380): solid (dash_step 0) or in dashes of dash_len px every dash_step px. */
static double dash_step, dash_len;

static void
dashed_cover_px (double u, double v, float *rgb)
{
  const double x0 = 120.0, y0 = 300.0, x1 = 420.0, y1 = 380.0;
  double L = hypot (x1 - x0, y1 - y0), ux = (x1 - x0) / L, uy = (y1 - y0) / L;
  double t = (u - x0) * ux + (v - y0) * uy, n = -(u - x0) * uy + (v - y0) * ux;
  int on = 0;
  rgb[0] = 150.0f, rgb[1] = 185.0f, rgb[2] = 215.0f;
  if (t < 0 || t > L)
    return;
  if (dash_step == 0.0)
    on = fabs (n) < 0.75;
  else
    {
      double a = t - dash_step * floor (t / dash_step);
      on = a < dash_len && fabs (n) < 0.75;
    }
  if (on)
    for (int c = 0; c < 3; c++)
      rgb[c] += 0.6f * (240.0f - rgb[c]);
}

/* A light line 1.8 px wide (at 530 px width), 90 px long around (265, 330), wobbling across its
 * axis by wobble_amp px (period 30 px): with 5 px its spread is 6.7 px at 1060 px width, a band
 * of print rather than a thin scratch. */
static double wobble_amp;

static void
wobble_cover_px (double u, double v, float *rgb)
{
  rgb[0] = 150.0f, rgb[1] = 185.0f, rgb[2] = 215.0f;
  if (fabs (u - 265.0) > 45.0)
    return;
  if (fabs (v - 330.0 - wobble_amp * sin (2 * M_PI * (u - 220.0) / 30.0)) < 0.9)
    for (int c = 0; c < 3; c++)
      rgb[c] += 0.6f * (240.0f - rgb[c]);
}

/* The table seen along the bottom edge from u = 60 to 470 in a strip 2 px deep (at 530 px
 * width: what a wavering warped outline leaves, shallower than any loss) with strip_case & 1,
 * and through a tear with strip_case & 2: a wedge 4 px wide at the edge running 40 px up at
 * u = 300 (80 px deep at 1060 px width), on a flat light-blue cover. */
static int strip_case;

static void
strip_cover_px (double u, double v, float *rgb)
{
  rgb[0] = 150.0f, rgb[1] = 185.0f, rgb[2] = 215.0f;
  double up = CH - 1 - v;
  int lost = ((strip_case & 1) && u >= 60.0 && u <= 470.0 && up < 2.0)
             || ((strip_case & 2) && up < 40.0 && fabs (u - 300.0) < 2.0 * (1.0 - up / 40.0) + 0.5);
  if (lost)
    rgb[0] = 70.0f, rgb[1] = 72.0f, rgb[2] = 78.0f;
}

/* A thin tear from the top edge on light pink print (a ground within 45 of paper, where the
 * torn fibre's whitening does not show): the table seen through a cut thin_cut_w px wide (at
 * 530 px width) running 40 px down at u = 300, narrowing to nothing; what video shows is a
 * faint dark line. */
static double thin_cut_w = 1.0;

static void
thin_tear_cover_px (double u, double v, float *rgb)
{
  rgb[0] = 236.0f, rgb[1] = 205.0f, rgb[2] = 215.0f;
  if (v < 40.0 && fabs (u - 300.0 - 0.15 * v) < 0.5 * thin_cut_w * (1.0 - v / 40.0) + 0.25)
    rgb[0] = 70.0f, rgb[1] = 72.0f, rgb[2] = 78.0f;
}

static unsigned scene_bad_covers; /* bit k: cover k's outline is off */
static double scene_bad_dy;
static double scene_bad_conf = 1.0; /* stage 3's confidence in those (the others: 0.9) */

/* A line bending along its length: an arc of radius bent_R px (at 530 px width; 333: 666 at
 * 1060) whose middle is at (265, 330), 150 px long (a turn of 150 / bent_R rad), light and 1.5
 * px wide, seen only over arc lengths 0..60 and 85..150 (print hides the rest: with 333, two
 * pieces 15 degrees apart); bent_full: the whole arc. */
static int bent_full;
static double bent_R = 333.0;

static void
bent_cover_px (double u, double v, float *rgb)
{
  const double R = bent_R, cx = 265.0, cy = 330.0 + R;
  rgb[0] = 150.0f, rgb[1] = 185.0f, rgb[2] = 215.0f;
  double a = atan2 (u - cx, cy - v), s = (a + 75.0 / R) * R; /* arc length from the left end */
  if (s < 0 || s > 150.0 || (!bent_full && s > 60.0 && s < 85.0))
    return;
  if (fabs (hypot (u - cx, v - cy) - R) < 0.75)
    for (int c = 0; c < 3; c++)
      rgb[c] += 0.6f * (240.0f - rgb[c]);
}

static GvDefectReport *
scene_analyze (void (*cover_px) (double u, double v, float *rgb), int stain, double cu, double cv,
               double rad)
{
  GvImage *fr = gv_image_new (ST_FW, ST_FH, 3, GV_U8);
  GvQuad q;
  GvDefectInput in[5];
  GvDefectReport *rep = NULL;
  double x1 = ST_X0 + CW * ST_S, y1 = ST_Y0 + CH * ST_S;

  g_assert_nonnull (fr);
  for (int y = 0; y < ST_FH; y++)
    {
      uint8_t *row = gv_image_row_u8 (fr, y);
      for (int x = 0; x < ST_FW; x++)
        {
          float acc[3] = { 0, 0, 0 };
          /* 2 x 2 supersampling: the outline and the edges are mixed as a camera would */
          for (int sy = 0; sy < 2; sy++)
            for (int sx = 0; sx < 2; sx++)
              {
                double fx = x - 0.25 + 0.5 * sx, fy = y - 0.25 + 0.5 * sy;
                float c[3] = { 70.0f, 72.0f, 78.0f };
                if (fx >= ST_X0 - 0.5 && fx < x1 - 0.5 && fy >= ST_Y0 - 0.5 && fy < y1 - 0.5)
                  {
                    double u = (fx - ST_X0 + 0.5) / ST_S - 0.5, v = (fy - ST_Y0 + 0.5) / ST_S - 0.5;
                    if (cover_px)
                      cover_px (u, v, c);
                    else
                      stain_cover_px (u, v, stain, cu, cv, rad, c);
                  }
                for (int i = 0; i < 3; i++)
                  acc[i] += c[i];
              }
          for (int i = 0; i < 3; i++)
            row[3 * x + i] = (uint8_t) lroundf (acc[i] / 4.0f);
        }
    }
  /* the lens: a [1 2 1] / 4 blur across and down (video is never sharper) */
  for (int pass = 0; pass < 2; pass++)
    {
      GvImage *src = gv_image_copy (fr);
      g_assert_nonnull (src);
      for (int y = 1; y < ST_FH - 1; y++)
        for (int x = 1; x < ST_FW - 1; x++)
          for (int i = 0; i < 3; i++)
            {
              const uint8_t *a = gv_image_row_u8 (src, pass ? y - 1 : y) + 3 * (pass ? x : x - 1);
              const uint8_t *b = gv_image_row_u8 (src, y) + 3 * x;
              const uint8_t *c = gv_image_row_u8 (src, pass ? y + 1 : y) + 3 * (pass ? x : x + 1);
              gv_image_row_u8 (fr, y)[3 * x + i] = (uint8_t) ((a[i] + 2 * b[i] + c[i] + 2) / 4);
            }
      gv_image_free (src);
    }
  q.x[0] = ST_X0 - 0.5, q.y[0] = ST_Y0 - 0.5;
  q.x[1] = x1 - 0.5, q.y[1] = ST_Y0 - 0.5;
  q.x[2] = x1 - 0.5, q.y[2] = y1 - 0.5;
  q.x[3] = ST_X0 - 0.5, q.y[3] = y1 - 0.5;
  /* the outlines of scene_bad_covers with their top side scene_bad_dy frame px too low (a
   * printed line taken for the paper's edge) */
  GvQuad bad = q;
  bad.y[0] += scene_bad_dy, bad.y[1] += scene_bad_dy;
  for (int k = 0; k < 5; k++)
    in[k] = (GvDefectInput) { fr, (scene_bad_covers >> k) & 1 ? &bad : &q, 0, k,
                              (scene_bad_covers >> k) & 1 ? scene_bad_conf : 0.9 };
  g_assert_cmpint (gv_defects_analyze (NULL, in, 5, CW, CH, 168.275, 260.35, 2, NULL, NULL, &rep), ==, GV_OK);
  gv_image_free (fr);
  return rep;
}

/* The scene of cover_px with its case switch *which set to value first. */
static GvDefectReport *
scene_case (void (*cover_px) (double u, double v, float *rgb), int *which, int value)
{
  *which = value;
  return scene_analyze (cover_px, 0, 0, 0, 0);
}

static void
test_stain_joined_to_print (void)
{
  /* the band's upper edge (u - v + 300 = 40 sqrt 2) passes 10 px from the stain's rim */
  double cu = 180.0, cv = 560.0, rad = 80.0;
  GvDefectReport *with = scene_analyze (NULL, 1, cu, cv, rad), *without = scene_analyze (NULL, 0, cu, cv, rad);
  int n_stain = 0;
  for (int i = 0; i < with->n_defects; i++)
    {
      const GvDefect *d = &with->defects[i];
      if (d->kind != GV_DK_STAIN)
        continue;
      n_stain++;
      /* its box against the stain's (cover px): overlap over union */
      double ax0 = d->bbox[0], ay0 = d->bbox[1], ax1 = ax0 + d->bbox[2], ay1 = ay0 + d->bbox[3];
      double bx0 = cu - rad, by0 = cv - rad, bx1 = cu + rad, by1 = cv + rad;
      double ix = fmin (ax1, bx1) - fmax (ax0, bx0), iy = fmin (ay1, by1) - fmax (ay0, by0);
      double inter = ix > 0 && iy > 0 ? ix * iy : 0;
      double uni = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter;
      if (g_test_verbose ())
        g_test_message ("stain box %d %d %d %d, IoU with the drawn one %.2f", d->bbox[0], d->bbox[1],
                        d->bbox[2], d->bbox[3], inter / uni);
      g_assert_cmpfloat (inter / uni, >=, 0.6);
    }
  g_assert_cmpint (n_stain, ==, 1);
  /* the band alone is print: nothing at all */
  g_assert_cmpint (without->n_defects, ==, 0);
  gv_defect_report_free (with);
  gv_defect_report_free (without);
}

/* With --verbose, what a scene gave. */
static void
scene_log (const char *what, const GvDefectReport *r)
{
  if (!g_test_verbose ())
    return;
  for (int i = 0; i < r->n_defects; i++)
    g_test_message ("%s: %s box %d %d %d %d", what, gv_defect_kind_name (r->defects[i].kind),
                    r->defects[i].bbox[0], r->defects[i].bbox[1], r->defects[i].bbox[2],
                    r->defects[i].bbox[3]);
}

static const GvDefect *sole_defect (const GvDefectReport *r, GvDefectKind kind);

/* A worn corner is a rounded bite about as wide as deep; a strip of the table's colour along
 * one edge from the corner is print, not wear; specks of it over a corner's box (a tenth
 * lost: the outline's mixed pixels where it runs a little outside the paper) are nothing, and
 * so is a bite 2 working px across. */
static void
test_corner_wear_shape (void)
{
  GvDefectReport *worn = scene_case (corner_cover_px, &corner_case, 0);
  GvDefectReport *strip = scene_case (corner_cover_px, &corner_case, 1);
  GvDefectReport *specks = scene_case (corner_cover_px, &corner_case, 2);
  GvDefectReport *shaded = scene_case (corner_cover_px, &corner_case, 3);
  scene_log ("specks", specks);
  scene_log ("worn", worn);
  scene_log ("strip", strip);
  scene_log ("shaded, deeper than wide", shaded);
  GvDefectReport *wear[2] = { worn, shaded };
  for (int k = 0; k < 2; k++)
    {
      int n_worn = 0;
      for (int i = 0; i < wear[k]->n_defects; i++)
        {
          const GvDefect *d = &wear[k]->defects[i];
          if (d->kind == GV_DK_CORNER_WEAR && d->bbox[0] == 0 && d->bbox[1] + d->bbox[3] == CH)
            n_worn++;
        }
      g_assert_cmpint (n_worn, ==, 1);
    }
  for (int i = 0; i < strip->n_defects; i++)
    g_assert_cmpint (strip->defects[i].kind, !=, GV_DK_CORNER_WEAR);
  g_assert_cmpint (specks->n_defects, ==, 0);
  /* a bite of 4 x 4 px (8 at 1060 px width, 2 px of the 350 px frame cover: the outline's own
   * mixed pixels where the warped corner is off by a pixel) is nothing; 6 x 6 px is wear */
  tiny_a = tiny_b = 4.0;
  GvDefectReport *tiny = scene_case (corner_cover_px, &corner_case, 4);
  tiny_a = tiny_b = 6.0;
  GvDefectReport *small = scene_case (corner_cover_px, &corner_case, 4);
  scene_log ("4 px bite", tiny);
  scene_log ("6 px bite", small);
  g_assert_cmpint (tiny->n_defects, ==, 0);
  const GvDefect *d = sole_defect (small, GV_DK_CORNER_WEAR);
  g_assert_cmpint (d->bbox[0], ==, 0);
  g_assert_cmpint (d->bbox[1] + d->bbox[3], ==, CH);
  gv_defect_report_free (tiny);
  gv_defect_report_free (small);
  gv_defect_report_free (worn);
  gv_defect_report_free (strip);
  gv_defect_report_free (specks);
  gv_defect_report_free (shaded);
}

/* The one defect a scene gave: every defect listed is of this kind, and there is one. */
static const GvDefect *
sole_defect (const GvDefectReport *r, GvDefectKind kind)
{
  for (int i = 0; i < r->n_defects; i++)
    g_assert_cmpint (r->defects[i].kind, ==, kind);
  g_assert_cmpint (r->n_defects, ==, 1);
  return &r->defects[0];
}

/* Six stacked spine lines are one spine_stress defect over their rows */
static void
assert_spine_stack (const GvDefectReport *six)
{
  const GvDefect *d = sole_defect (six, GV_DK_SPINE_STRESS);
  /* the lines run from v = 300 to 410 (cover px at 530 px width), from the spine */
  g_assert_cmpint (d->bbox[0], <=, 2);
  g_assert_cmpint (d->bbox[1], >=, 290);
  g_assert_cmpint (d->bbox[1] + d->bbox[3], <=, 420);
  g_assert_cmpint (d->bbox[3], >=, 80);
}

/* Spine stress lines that only the video colour model sees (5c'): six stacked ones are one
 * spine_stress defect over their rows, also when faint (brightened by 30: after the lens a
 * whitening share under the line test's 0.16, over GV_DK_LINE_VAMIN); two are not a stack and
 * give nothing. */
static void
test_spine_lines_video (void)
{
  spine_lines_n = 6;
  GvDefectReport *six = scene_analyze (spine_cover_px, 0, 0, 0, 0);
  spine_lines_gain = 30.0f;
  GvDefectReport *faint = scene_analyze (spine_cover_px, 0, 0, 0, 0);
  spine_lines_gain = 45.0f;
  spine_lines_n = 2;
  GvDefectReport *two = scene_analyze (spine_cover_px, 0, 0, 0, 0);
  scene_log ("six lines", six);
  scene_log ("six faint lines", faint);
  assert_spine_stack (six);
  assert_spine_stack (faint);
  g_assert_cmpint (two->n_defects, ==, 0);
  gv_defect_report_free (six);
  gv_defect_report_free (faint);
  gv_defect_report_free (two);
}

/* Spine stress whitened towards paper fibre (six lines of 20 x 2 px at 530 px width, 22 px
 * apart from v = 300, reaching the spine, where they read as lost paper) and, 40 px below the
 * last, a chip at the spine: a notch 10 px deep and 24 px along the spine showing the table.
 * The stress lines' losses run into the cover; the chip's is taller than deep and fills its box. */
static int spine_chip;

static void
spine_chip_px (double u, double v, float *rgb)
{
  rgb[0] = 190.0f, rgb[1] = 60.0f, rgb[2] = 190.0f;
  for (int i = 0; i < 6; i++)
    if (u < 20.0 && fabs (v - (300.0 + 22.0 * i)) < 1.0)
      {
        /* whitened towards paper fibre, to the table's colour at the spine */
        const float paper[3] = { 238.0f, 232.0f, 215.0f }, table[3] = { 70.0f, 72.0f, 78.0f };
        for (int c = 0; c < 3; c++)
          rgb[c] = u < 3.0 ? table[c] : rgb[c] + 0.7f * (paper[c] - rgb[c]);
      }
  if (spine_chip && u < 10.0 && v > 450.0 && v < 474.0)
    rgb[0] = 70.0f, rgb[1] = 72.0f, rgb[2] = 78.0f;
}

static void
test_chip_beside_spine_stress (void)
{
  GvDefectReport *lines = scene_case (spine_chip_px, &spine_chip, 0);
  GvDefectReport *chip = scene_case (spine_chip_px, &spine_chip, 1);
  scene_log ("stress lines", lines);
  scene_log ("stress lines and a chip", chip);
  int n_spine = 0, n_chip = 0;
  for (int i = 0; i < lines->n_defects; i++)
    n_spine += lines->defects[i].kind == GV_DK_SPINE_STRESS;
  g_assert_cmpint (n_spine, ==, 1);
  n_spine = 0;
  for (int i = 0; i < chip->n_defects; i++)
    {
      const GvDefect *d = &chip->defects[i];
      n_spine += d->kind == GV_DK_SPINE_STRESS;
      if (d->kind == GV_DK_EDGE_CHIP && d->bbox[0] == 0 && d->bbox[1] <= 452 && d->bbox[1] + d->bbox[3] >= 472)
        n_chip++;
    }
  g_assert_cmpint (n_spine, ==, 1);
  g_assert_cmpint (n_chip, ==, 1);
  gv_defect_report_free (lines);
  gv_defect_report_free (chip);
}

/* A stain over halftone: on the print the tint fit at +-3 px meets dot and gap; on the
 * descreened print (3e') its rim is a clean step: one stain where it was drawn. The halftone
 * alone: no defect; with a printed disc of a tint-like colour larger than any stain the
 * second pass takes (200 px in radius at 1060 px width): no defect. */
static void
test_stain_over_halftone (void)
{
  GvDefectReport *stain = scene_case (halftone_cover_px, &halftone_case, 1);
  GvDefectReport *plain = scene_case (halftone_cover_px, &halftone_case, 0);
  GvDefectReport *disc = scene_case (halftone_cover_px, &halftone_case, 2);
  scene_log ("stain over halftone", stain);
  scene_log ("halftone", plain);
  scene_log ("printed disc", disc);
  const GvDefect *d = sole_defect (stain, GV_DK_STAIN);
  /* its box against the drawn one (u 245..355, v 365..475) */
  g_assert_cmpint (abs (d->bbox[0] - 245), <=, 8);
  g_assert_cmpint (abs (d->bbox[1] - 365), <=, 8);
  g_assert_cmpint (abs (d->bbox[0] + d->bbox[2] - 355), <=, 8);
  g_assert_cmpint (abs (d->bbox[1] + d->bbox[3] - 475), <=, 8);
  g_assert_cmpint (plain->n_defects, ==, 0);
  g_assert_cmpint (disc->n_defects, ==, 0);
  gv_defect_report_free (stain);
  gv_defect_report_free (plain);
  gv_defect_report_free (disc);
}

/* A short tear from an edge, skewed and wiggling (its spread across its axis above 4 px at
 * 1060 px width): one tear where it was drawn (u 200..215, v 0..45). */
static void
test_tear_skewed (void)
{
  GvDefectReport *r = scene_analyze (tear_cover_px, 0, 0, 0, 0);
  scene_log ("skewed tear", r);
  const GvDefect *d = sole_defect (r, GV_DK_TEAR);
  g_assert_cmpint (d->bbox[1], <=, 2);
  g_assert_cmpint (d->bbox[0], >=, 190);
  g_assert_cmpint (d->bbox[0] + d->bbox[2], <=, 225);
  g_assert_cmpint (d->bbox[3], >=, 25);
  gv_defect_report_free (r);
}

/* A printed rule of about the table's colour meeting both side edges is print: nothing listed
 * (held-out covers' masthead rules gave tears and chips there); with a tear from the top edge
 * beside it, the tear alone. */
static void
test_rule_at_edge (void)
{
  rule_tear = 0;
  GvDefectReport *rule = scene_analyze (rule_cover_px, 0, 0, 0, 0);
  rule_tear = 1;
  GvDefectReport *tear = scene_analyze (rule_cover_px, 0, 0, 0, 0);
  scene_log ("rule", rule);
  scene_log ("rule and tear", tear);
  g_assert_cmpint (rule->n_defects, ==, 0);
  const GvDefect *d = sole_defect (tear, GV_DK_TEAR);
  g_assert_cmpint (d->bbox[1], <=, 2);
  g_assert_cmpint (d->bbox[0], >=, 285);
  g_assert_cmpint (d->bbox[0] + d->bbox[2], <=, 315);
  gv_defect_report_free (rule);
  gv_defect_report_free (tear);
}

/* A line running along an edge within its band (14 px at 1060 px width) is the outline's, not
 * damage: nothing listed; the same line 60 px in is listed. */
static void
test_line_along_edge (void)
{
  edge_line_v = 4.0;
  GvDefectReport *edge = scene_analyze (edge_line_cover_px, 0, 0, 0, 0);
  edge_line_v = 60.0;
  GvDefectReport *inside = scene_analyze (edge_line_cover_px, 0, 0, 0, 0);
  scene_log ("line along the top edge", edge);
  scene_log ("line 60 px in", inside);
  g_assert_cmpint (edge->n_defects, ==, 0);
  g_assert_cmpint (inside->n_defects, ==, 1);
  g_assert_true (inside->defects[0].kind == GV_DK_CREASE
                 || inside->defects[0].kind == GV_DK_SCRATCH);
  g_assert_cmpint (inside->defects[0].bbox[2], >=, 380);
  gv_defect_report_free (edge);
  gv_defect_report_free (inside);
}

/* A short line (80 px at 530 px width, 160 at 1060) is a scratch when straight; as a piece of
 * a printed ring, turning by 0.55 rad over its length (line_bend measures 0.188 on it: under
 * the 0.2 that longer lines may turn, over the 0.17 allowed below 200 px), it is print:
 * nothing listed. */
static void
test_short_arc_not_scratch (void)
{
  arc_turn = 0.0;
  GvDefectReport *line = scene_analyze (arc_cover_px, 0, 0, 0, 0);
  arc_turn = 0.55;
  GvDefectReport *arc = scene_analyze (arc_cover_px, 0, 0, 0, 0);
  scene_log ("straight", line);
  scene_log ("ring arc", arc);
  const GvDefect *d = sole_defect (line, GV_DK_SCRATCH);
  g_assert_cmpint (d->bbox[2], >=, 70);
  g_assert_cmpint (arc->n_defects, ==, 0);
  /* the arc with a straight dash beyond each end (20 px, 8 px off, along its chord): step 5b
   * joins the three into one line whose thirds hardly turn; the arc, its longest piece, still
   * turns as a ring's does, so nothing. The straight line so: one scratch */
  arc_dash = 20.0, arc_gap = 8.0, arc_dv = 333.0;
  GvDefectReport *joined = scene_analyze (arc_cover_px, 0, 0, 0, 0);
  arc_turn = 0.0, arc_dv = 330.0;
  GvDefectReport *broken = scene_analyze (arc_cover_px, 0, 0, 0, 0);
  arc_dash = 0.0;
  scene_log ("ring arc and dashes", joined);
  scene_log ("line and dashes", broken);
  g_assert_cmpint (joined->n_defects, ==, 0);
  d = sole_defect (broken, GV_DK_SCRATCH);
  g_assert_cmpint (d->bbox[2], >=, 130);
  gv_defect_report_free (joined);
  gv_defect_report_free (broken);
  gv_defect_report_free (line);
  gv_defect_report_free (arc);

  /* an arc that turns too little for the bend tests (0.2 rad over 80 px): a scratch; the same
   * arc where the ring it belongs to runs on for 80 px beyond each end in yellow: nothing (the
   * print follows its circle, ring_continues); a straight line that runs on so: a scratch (the
   * print follows its tangent) */
  arc_turn = 0.2;
  GvDefectReport *flat = scene_analyze (arc_cover_px, 0, 0, 0, 0);
  arc_ring = 80.0;
  GvDefectReport *ring = scene_analyze (arc_cover_px, 0, 0, 0, 0);
  arc_turn = 0.0;
  GvDefectReport *ruled = scene_analyze (arc_cover_px, 0, 0, 0, 0);
  arc_ring = 0.0;
  scene_log ("flat arc", flat);
  scene_log ("flat arc of a ring", ring);
  scene_log ("line of a rule", ruled);
  d = sole_defect (flat, GV_DK_SCRATCH);
  g_assert_cmpint (d->bbox[2], >=, 70);
  g_assert_cmpint (ring->n_defects, ==, 0);
  d = sole_defect (ruled, GV_DK_SCRATCH);
  g_assert_cmpint (d->bbox[2], >=, 70);
  gv_defect_report_free (flat);
  gv_defect_report_free (ring);
  gv_defect_report_free (ruled);

  /* the same at the outline: an arc 120 px long turning 0.3 rad from the left edge, a scratch;
   * with its ring running on into the cover for 130 px beyond its other end, nothing */
  arc_len = 120.0, arc_cu = 60.0, arc_turn = 0.3;
  GvDefectReport *edge = scene_analyze (arc_cover_px, 0, 0, 0, 0);
  arc_ring = 130.0;
  GvDefectReport *edge_ring = scene_analyze (arc_cover_px, 0, 0, 0, 0);
  arc_ring = 0.0, arc_len = 0.0, arc_turn = 0.0;
  scene_log ("arc from the edge", edge);
  scene_log ("arc of a ring from the edge", edge_ring);
  d = sole_defect (edge, GV_DK_SCRATCH);
  g_assert_cmpint (d->bbox[0], <=, 4);
  g_assert_cmpint (d->bbox[2], >=, 100);
  g_assert_cmpint (edge_ring->n_defects, ==, 0);
  gv_defect_report_free (edge);
  gv_defect_report_free (edge_ring);
}

/* A dashed light line (dashes of 3 px every 8 px at 530 px width, 38 % of its length: a
 * printed cut line, or the pieces of a ring's highlight that the ink rule left) is print, not a
 * crease: step 5's bridging joins the dashes into one component, whose pixels cover too little of
 * its length. The same line drawn solid is a crease. */
static void
test_dashed_not_line (void)
{
  dash_step = 0.0;
  GvDefectReport *solid = scene_analyze (dashed_cover_px, 0, 0, 0, 0);
  dash_step = 8.0, dash_len = 3.0;
  GvDefectReport *dashed = scene_analyze (dashed_cover_px, 0, 0, 0, 0);
  scene_log ("solid", solid);
  scene_log ("dashed", dashed);
  const GvDefect *d = sole_defect (solid, GV_DK_CREASE);
  g_assert_cmpint (d->bbox[2], >=, 280);
  g_assert_cmpint (dashed->n_defects, ==, 0);
  gv_defect_report_free (solid);
  gv_defect_report_free (dashed);
}

/* A short line spreading 6.7 px across its axis (at 1060 px width) is a band of print: nothing
 * listed; the same line wobbling by 3 px (spread 3.5 px) is a scratch. */
static void
test_band_not_scratch (void)
{
  wobble_amp = 3.0;
  GvDefectReport *thin = scene_analyze (wobble_cover_px, 0, 0, 0, 0);
  wobble_amp = 5.0;
  GvDefectReport *band = scene_analyze (wobble_cover_px, 0, 0, 0, 0);
  scene_log ("thin wobble", thin);
  scene_log ("band", band);
  sole_defect (thin, GV_DK_SCRATCH);
  g_assert_cmpint (band->n_defects, ==, 0);
  gv_defect_report_free (thin);
  gv_defect_report_free (band);
}

/* A tear joined to the outline's shallow strip along the same edge is still a tear (the loss
 * alone, loss_spike): the strip had made it a loss 410 px long, dropped as print. The strip
 * alone: nothing; the tear alone: a tear where it was drawn. */
static void
test_tear_beside_strip (void)
{
  GvDefectReport *strip = scene_case (strip_cover_px, &strip_case, 1);
  GvDefectReport *tear = scene_case (strip_cover_px, &strip_case, 2);
  GvDefectReport *both = scene_case (strip_cover_px, &strip_case, 3);
  scene_log ("strip", strip);
  scene_log ("tear", tear);
  scene_log ("strip and tear", both);
  g_assert_cmpint (strip->n_defects, ==, 0);
  const GvDefectReport *rs[2] = { tear, both };
  for (int k = 0; k < 2; k++)
    {
      const GvDefect *d = sole_defect (rs[k], GV_DK_TEAR);
      g_assert_cmpint (d->bbox[1] + d->bbox[3], >=, CH - 2);
      g_assert_cmpint (d->bbox[3], >=, 30);
      g_assert_cmpint (d->bbox[0], >=, 285);
      g_assert_cmpint (d->bbox[0] + d->bbox[2], <=, 315);
    }
  gv_defect_report_free (strip);
  gv_defect_report_free (tear);
  gv_defect_report_free (both);
}

/* The outline check: a golden cover whose outline took a printed line 20 frame px below the
 * paper's top edge (30 px at 530 px width) has its print off the others' and is left out
 * (covers used: the other four, flag set); with 2 px (3 px at 530: within what step 1's
 * alignment absorbs) it is used. On a halftone cover: nothing listed either way. With three of
 * five off, two are left: the grade is withheld for that reason. With the two most confident
 * covers off, the three right ones are used (the reference is then the cover nearest the
 * cover's proportions). */
static void
test_outline_disagrees (void)
{
  halftone_case = 0;
  scene_bad_covers = 1u << 2;
  scene_bad_dy = 20.0;
  GvDefectReport *off = scene_analyze (halftone_cover_px, 0, 0, 0, 0);
  scene_bad_covers = 7u << 2;
  scene_bad_conf = 0.8;
  GvDefectReport *most = scene_analyze (halftone_cover_px, 0, 0, 0, 0);
  scene_bad_conf = 1.0;
  /* the two most confident covers share the wrong outline: the three others agree with each
   * other, not with them, and their quads have the cover's proportions */
  scene_bad_covers = 3u;
  GvDefectReport *conf = scene_analyze (halftone_cover_px, 0, 0, 0, 0);
  scene_bad_covers = 1u << 2;
  scene_bad_dy = 2.0;
  GvDefectReport *near = scene_analyze (halftone_cover_px, 0, 0, 0, 0);
  scene_bad_covers = 0;
  g_assert_cmpint (conf->n_covers, ==, 3);
  for (int i = 0; i < conf->n_covers; i++)
    g_assert_cmpint (conf->cover_index[i], >=, 2);
  g_assert_true (conf->flags & GV_QF_OUTLINE_DISAGREES);
  gv_defect_report_free (conf);
  scene_log ("outline 20 px off", off);
  scene_log ("outline 2 px off", near);
  g_assert_cmpint (off->n_covers, ==, 4);
  for (int i = 0; i < off->n_covers; i++)
    g_assert_cmpint (off->cover_index[i], !=, 2);
  g_assert_true (off->flags & GV_QF_OUTLINE_DISAGREES);
  g_assert_cmpint (off->n_defects, ==, 0);
  g_assert_cmpint (near->n_covers, ==, 5);
  g_assert_false (near->flags & GV_QF_OUTLINE_DISAGREES);
  g_assert_cmpint (near->n_defects, ==, 0);
  /* three of five off: two covers left, the grade withheld, and the reason says why */
  g_assert_cmpint (most->n_covers, ==, 2);
  g_assert_true (most->flags & GV_QF_OUTLINE_DISAGREES);
  gv_defects_finish (most, 2);
  g_assert_true (most->grade.needs_review);
  g_assert_nonnull (strstr (most->grade.review_reason, "outline disagrees"));
  gv_defect_report_free (off);
  gv_defect_report_free (most);
  gv_defect_report_free (near);
}

/* A printed panel of halftone is not a stain: held-out 8 seed 188 (7 defects) rendered at
 * 530 px width has one (at about 157, 605) that the descreened print (3e') turns into a flat
 * tint-like patch whose rim passed 5d's tests; the halftone texture starts at its rim on 28 % of
 * its directions (GV_DK_STAIN_PANEL 0.25). Every stain listed must be the drawn one, and it is
 * found. */
static void
test_panel_not_stain (void)
{
  Scan sc = scan_analyze (188, 7, 2);
  const GvSynthDefect *truth = NULL;
  int found = 0;
  for (int k = 0; k < gv_synth_n_defects (sc.synth); k++)
    if (gv_synth_defect (sc.synth, k)->type == GV_DEFECT_STAIN)
      truth = gv_synth_defect (sc.synth, k);
  g_assert_nonnull (truth);
  for (int j = 0; j < sc.rep->n_defects; j++)
    {
      const GvDefect *d = &sc.rep->defects[j];
      if (d->kind != GV_DK_STAIN)
        continue;
      g_test_message ("stain %.2f box %d %d %d %d", d->severity, d->bbox[0], d->bbox[1], d->bbox[2], d->bbox[3]);
      g_assert_true (boxes_touch (truth->bbox, d->bbox, 4));
      found++;
    }
  g_assert_cmpint (found, ==, 1);
  scan_clear (&sc);
}

/* A scratch that bends is one scratch: in two pieces 15 degrees apart with a gap of 50 px (at
 * 1060 px width) between (an arc of radius 666 px at 1060, turning 0.45 rad over 300 px), and
 * whole turning 0.6 rad over 300 px (a radius of 500 px: line_bend measures about 0.4, over the
 * 0.2 of GV_DK_LINE_MAXTURN, within GV_DK_LINE_MINRADIUS's allowance). The same length of a
 * printed ring of 240 px radius (the renderer's are 173..279): nothing. */
static void
test_bent_scratch (void)
{
  const struct { int full; double R; int scratch; } cases[] = { { 0, 333.0, 1 }, { 1, 250.0, 1 }, { 1, 120.0, 0 } };
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      bent_full = cases[k].full;
      bent_R = cases[k].R;
      GvDefectReport *r = scene_analyze (bent_cover_px, 0, 0, 0, 0);
      g_test_message ("arc of radius %.0f px (at 530 px width), %s:", bent_R, bent_full ? "whole" : "two pieces");
      scene_log ("bent line", r);
      if (cases[k].scratch)
        {
          const GvDefect *d = sole_defect (r, GV_DK_SCRATCH);
          g_assert_cmpint (d->bbox[0], <=, 195);
          g_assert_cmpint (d->bbox[0] + d->bbox[2], >=, 335);
        }
      else
        g_assert_cmpint (r->n_defects, ==, 0);
      gv_defect_report_free (r);
    }
  bent_R = 333.0;
}

/* A thin cut showing the table: a tear traced at least 25 of its 40 px down (the cut's pixels
 * move towards the table by a share of 0.25..0.35 for much of its length: with
 * GV_DK_CUT_AMIN 0.35 it was traced 17 px, 0.25 traces 27). */
static void
test_thin_tear (void)
{
  GvDefectReport *r = scene_analyze (thin_tear_cover_px, 0, 0, 0, 0);
  scene_log ("thin tear", r);
  const GvDefect *d = sole_defect (r, GV_DK_TEAR);
  g_assert_cmpint (d->bbox[1], <=, 2);
  g_assert_cmpint (d->bbox[3], >=, 25);
  g_assert_cmpint (d->bbox[0], >=, 290);
  g_assert_cmpint (d->bbox[0] + d->bbox[2], <=, 320);
  gv_defect_report_free (r);
}

/* The gaps between a bar code's bars are white ink between blurred black strokes, not
 * scratches: no defect. */
static void
test_barcode_not_scratch (void)
{
  GvDefectReport *r = scene_analyze (barcode_cover_px, 0, 0, 0, 0);
  scene_log ("bar code", r);
  g_assert_cmpint (r->n_defects, ==, 0);
  gv_defect_report_free (r);
}

/* A crease across texture, whose line evidence the texture's joins into a blob (5c''): one
 * crease along most of the line; the same cover without it: no defect. A band of light specks
 * from the spine (halftone as video shows it), its spread across its axis 22 px at 1060 px
 * width: no defect (a crease from the edge before the 16 px limit at the outline). */
static void
test_crease_through_texture (void)
{
  GvDefectReport *with = scene_case (crease_cover_px, &crease_case, 1);
  GvDefectReport *without = scene_case (crease_cover_px, &crease_case, 0);
  int n_crease = 0;
  scene_log ("crease", with);
  scene_log ("texture alone", without);
  for (int i = 0; i < with->n_defects; i++)
    {
      const GvDefect *d = &with->defects[i];
      if (d->kind != GV_DK_CREASE)
        continue;
      n_crease++;
      /* the line spans u 0..529, v 300..480 */
      g_assert_cmpint (d->bbox[2], >=, 400);
      g_assert_cmpint (d->bbox[1], >=, 290);
      g_assert_cmpint (d->bbox[1] + d->bbox[3], <=, 490);
    }
  g_assert_cmpint (n_crease, ==, 1);
  g_assert_cmpint (without->n_defects, ==, 0);
  GvDefectReport *edge = scene_case (crease_cover_px, &crease_case, 2);
  scene_log ("specks at the spine", edge);
  g_assert_cmpint (edge->n_defects, ==, 0);
  gv_defect_report_free (edge);
  /* a chip inside a patch of texture at the edge: step 5's bridging joins them into one blob;
   * the chip is judged alone (without it, the patch gives nothing) */
  GvDefectReport *chip = scene_case (crease_cover_px, &crease_case, 3);
  GvDefectReport *patch = scene_case (crease_cover_px, &crease_case, 4);
  scene_log ("chip in texture", chip);
  scene_log ("texture at the edge", patch);
  const GvDefect *d = sole_defect (chip, GV_DK_EDGE_CHIP);
  g_assert_cmpint (d->bbox[0] + d->bbox[2], ==, CW);
  g_assert_cmpint (d->bbox[1], >=, 380);
  g_assert_cmpint (d->bbox[1] + d->bbox[3], <=, 422);
  g_assert_cmpint (patch->n_defects, ==, 0);
  gv_defect_report_free (chip);
  gv_defect_report_free (patch);
  gv_defect_report_free (with);
  gv_defect_report_free (without);
}

/* ---- the whole pipeline on a small scan (stages 4 and 5 run, report stage names) ---- */

typedef struct {
  GvSynth *synth;
  int n, next;
  GvImage *rgb, *gray;
} Feed;

static int
f_next (void *ud, GvImage *luma, int *index, double *pts)
{
  Feed *s = ud;
  GvSynthTruth t;
  if (s->next >= s->n)
    return 0;
  if (gv_synth_render (s->synth, s->next, s->rgb, &t, 2) != GV_OK)
    return gv_error_code ();
  gv_image_rgb_to_gray (s->rgb, s->gray);
  *luma = *s->gray;
  luma->owns_data = 0;
  *index = s->next;
  *pts = s->next / 30.0;
  s->next++;
  return 1;
}

static void *
f_keep (void *ud)
{
  return GINT_TO_POINTER (((Feed *) ud)->next);
}

static GvImage *
f_to_rgb (void *ud, void *kept)
{
  Feed *s = ud;
  GvImage *rgb = gv_image_new (s->rgb->width, s->rgb->height, 3, GV_U8);
  GvSynthTruth t;
  if (rgb && gv_synth_render (s->synth, GPOINTER_TO_INT (kept) - 1, rgb, &t, 2) != GV_OK)
    {
      gv_image_free (rgb);
      return NULL;
    }
  return rgb;
}

static void
f_release (void *ud, void *kept)
{
  (void) ud;
  (void) kept;
}

static const char *seen_stages[8];
static int n_seen;

static void
on_progress (void *ud, const char *stage, double frac)
{
  (void) ud;
  (void) frac;
  if (n_seen == 0 || strcmp (seen_stages[n_seen - 1], stage))
    if (n_seen < 8)
      seen_stages[n_seen++] = stage;
}

static void
test_pipeline_stages (void)
{
  Feed f = { make_synth (104, 3, 40, 960, 540), 40, 0, gv_image_new (960, 540, 3, GV_U8),
             gv_image_new (960, 540, 1, GV_U8) };
  GvFrameFeed feed = { .ud = &f, .frames_hint = f.n, .next = f_next, .keep = f_keep,
                       .to_rgb = f_to_rgb, .release = f_release };
  GvProgress prog = { NULL, on_progress, NULL };
  GvParams p;
  GvBackend *be = NULL;
  GvResult *r = NULL;

  gv_params_init_default (&p);
  p.threads = 2;
  p.max_golden = 3;
  p.min_gap = 4;
  p.cover.out_width = CW;
  p.cover.out_height = CH;
  g_assert_cmpint (gv_backend_cpu_new (&p, &be), ==, GV_OK);
  g_assert_cmpint (gv_pipeline_run (be, &p, &feed, &prog, &r), ==, GV_OK);
  g_assert_nonnull (r->defects);
  int has_def = 0, has_grade = 0;
  for (int i = 0; i < r->n_stages; i++)
    {
      has_def |= !strcmp (r->stages[i].name, "defect_analysis");
      has_grade |= !strcmp (r->stages[i].name, "grading");
    }
  g_assert_true (has_def && has_grade);
  g_assert_cmpstr (seen_stages[n_seen - 1], ==, "grading");
  g_test_message ("pipeline: %d golden, %d covers used, %d defects, grade %.1f%s", r->n_golden,
                  r->defects->n_covers, r->defects->n_defects, r->defects->grade.grade_estimate,
                  r->defects->grade.needs_review ? " (needs review)" : "");
  gv_result_free (r);
  gv_backend_free (be);
  gv_synth_free (f.synth);
  gv_image_free (f.rgb);
  gv_image_free (f.gray);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gv/defects/grade-rule", test_grade_rule);
  g_test_add_func ("/gv/defects/no-cover", test_no_cover);
  g_test_add_func ("/gv/defects/clean-empty", test_clean_empty);
  g_test_add_func ("/gv/defects/accuracy", test_accuracy);
  g_test_add_func ("/gv/defects/grade-monotonic", test_grade_monotonic);
  g_test_add_func ("/gv/defects/threads-identical", test_threads_identical);
  g_test_add_func ("/gv/defects/stain-joined-to-print", test_stain_joined_to_print);
  g_test_add_func ("/gv/defects/stain-over-halftone", test_stain_over_halftone);
  g_test_add_func ("/gv/defects/spine-lines-video", test_spine_lines_video);
  g_test_add_func ("/gv/defects/chip-beside-spine-stress", test_chip_beside_spine_stress);
  g_test_add_func ("/gv/defects/corner-wear-shape", test_corner_wear_shape);
  g_test_add_func ("/gv/defects/tear-skewed", test_tear_skewed);
  g_test_add_func ("/gv/defects/rule-at-edge", test_rule_at_edge);
  g_test_add_func ("/gv/defects/line-along-edge", test_line_along_edge);
  g_test_add_func ("/gv/defects/short-arc-not-scratch", test_short_arc_not_scratch);
  g_test_add_func ("/gv/defects/band-not-scratch", test_band_not_scratch);
  g_test_add_func ("/gv/defects/dashed-not-line", test_dashed_not_line);
  g_test_add_func ("/gv/defects/tear-beside-strip", test_tear_beside_strip);
  g_test_add_func ("/gv/defects/outline-disagrees", test_outline_disagrees);
  g_test_add_func ("/gv/defects/panel-not-stain", test_panel_not_stain);
  g_test_add_func ("/gv/defects/bent-scratch", test_bent_scratch);
  g_test_add_func ("/gv/defects/thin-tear", test_thin_tear);
  g_test_add_func ("/gv/defects/barcode-not-scratch", test_barcode_not_scratch);
  g_test_add_func ("/gv/defects/crease-through-texture", test_crease_through_texture);
  g_test_add_func ("/gv/defects/pipeline-stages", test_pipeline_stages);
  return g_test_run ();
}
