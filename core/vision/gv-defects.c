/* gv-defects.c: stage 4, defect analysis on the golden covers (method and every threshold:
 * docs/accuracy.md). It runs at the scale the cover has in the frames (gv_defects_analyze at the
 * end of the file), then brings the maps back to the canonical cover.
 * 1. Each golden cover is warped again with a margin (the table just outside the outline) and
 *    aligned to the first by a translation found with Lucas-Kanade (inverse compositional,
 *    reference gradients, 4 iterations) on the cover's interior; the corners are already within
 *    about 0.3 px, the translation removes what is left of the common shift.
 * 2. The per-pixel median over the aligned covers is the print estimate; a cover's pixel much
 *    brighter and colourless than it is glare (moves between covers) and is left out of a second
 *    median; where half the covers or more have glare the pixel is excluded and flagged.
 * 3. Evidence on the print estimate, with absolute thresholds (gv-defect-kernels.h):
 *    - table seen inside the ideal outline, connected to the outside (corner wear, chips, tears);
 *    - thin lines whitened towards exposed paper fibre (creases, scratches, spine stress, tears);
 *    - stain edges: a multiplicative brown tint fitted across the edge, with the side it darkens;
 *    then connected components filtered by shape and classified by where they lie; straight
 *    lines of leftover line evidence standing clear of texture (Hough) are creases the texture
 *    hid; a stain is the region its edges enclose facing inwards (darker side in) all round,
 *    or the rim found by voting for its centre.
 * Every per-pixel step runs rows through gv_parallel_for; reductions are per row, summed in row
 * order, so the result is identical for any thread count. */
#include "gv-defects.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gv-defect-kernels.h"
#include "gv-defect-maps.h"
#include "gv-error.h"
#include "gv-threads.h"

static const char *const kind_names[GV_DK_N_KINDS] = {
  "crease", "corner_wear", "edge_chip", "tear", "stain", "scratch", "spine_stress",
};

const char *
gv_defect_kind_name (GvDefectKind k)
{
  return (k >= 0 && k < GV_DK_N_KINDS) ? kind_names[k] : "unknown";
}

void
gv_defects_finish (GvDefectReport *r, int nthreads)
{
  gv_regions_measure (r, nthreads);
  gv_grade_compute (r);
}

void
gv_defect_report_free (GvDefectReport *r)
{
  if (!r)
    return;
  gv_image_free (r->print);
  gv_image_free (r->score);
  gv_image_free (r->mask);
  gv_image_free (r->glare);
  free (r->defects);
  free (r);
}

/* ------------------------------------------------------------------ alignment */

typedef struct {
  const GvImage *ref, *cur;
  int x0, x1, y0, y1;
  double *rows; /* 5 per row: a11 a12 a22 b1 b2 */
} LkCtx;

static void
lk_rows (void *data, int b, int e)
{
  LkCtx *c = data;
  for (int y = b; y < e; y++)
    gv_dk_lk_row (gv_image_row_u8 (c->ref, 0), (int) c->ref->stride, gv_image_row_u8 (c->cur, 0),
                  (int) c->cur->stride, y, c->x0, c->x1, c->y0, c->y1, c->rows + 5 * (size_t) y);
}

/* H of the margined cover: margined px (X, Y) -> cover px (X - M + tx, Y - M + ty) -> frame. */
static void
margined_h (const double H[9], int M, double tx, double ty, double out[9])
{
  double ox = tx - M, oy = ty - M;
  for (int r = 0; r < 3; r++)
    {
      out[3 * r + 0] = H[3 * r + 0];
      out[3 * r + 1] = H[3 * r + 1];
      out[3 * r + 2] = H[3 * r + 0] * ox + H[3 * r + 1] * oy + H[3 * r + 2];
    }
}

/* Sub-pixel translation (tx, ty) of a golden cover against the reference (the first cover's
 * gray warp): Gauss-Newton on the interior's terms (gv_dk_lk_row), at most 4 steps. On a device
 * (dev not NULL) the warps and the terms run there on the frame it holds (ref and gray unused);
 * this control and the rows' sum are the same for both. */
static int
align_translation (const GvImage *ref, const GvImage *gray_frame, GvDmDevice *dev,
                   const double H[9], int M, int w, int h, int nthreads, double *tx, double *ty)
{
  int W = w + 2 * M, Hh = h + 2 * M;
  GvImage *cur = dev ? NULL : gv_image_new (W, Hh, 1, GV_U8);
  double *rows = calloc ((size_t) Hh * 5, sizeof (double));
  double Hm[9];
  int rc = GV_OK;
  /* the interior, 3 % in from the outline: no table, no damaged border */
  int x0 = M + w * 3 / 100, x1 = M + w - 1 - w * 3 / 100, y0 = M + h * 3 / 100,
      y1 = M + h - 1 - h * 3 / 100;

  *tx = *ty = 0;
  if ((!dev && !cur) || !rows)
    {
      rc = gv_error_set (GV_ENOMEM, "out of memory");
      goto out;
    }
  for (int it = 0; it < 4; it++)
    {
      double s[5] = { 0, 0, 0, 0, 0 };
      margined_h (H, M, *tx, *ty, Hm);
      if (dev)
        {
          if ((rc = gv_dm_device_lk_rows (dev, Hm, x0, x1, y0, y1, rows)))
            goto out;
        }
      else
        {
          if ((rc = gv_warp_perspective (gray_frame, Hm, cur, nthreads)))
            goto out;
          LkCtx c = { ref, cur, x0, x1, y0, y1, rows };
          gv_parallel_for (nthreads, Hh, 16, lk_rows, &c);
        }
      for (int y = 0; y < Hh; y++)
        for (int k = 0; k < 5; k++)
          s[k] += rows[5 * (size_t) y + k];
      double det = s[0] * s[2] - s[1] * s[1];
      if (!(det > 1e-9))
        break;
      double dx = -(s[2] * s[3] - s[1] * s[4]) / det;
      double dy = -(s[0] * s[4] - s[1] * s[3]) / det;
      *tx += dx;
      *ty += dy;
      if (fabs (*tx) > 3 || fabs (*ty) > 3)
        {
          *tx = *ty = 0; /* not a small residual: keep the geometry as detected */
          break;
        }
      if (fabs (dx) < 0.005 && fabs (dy) < 0.005)
        break;
    }
out:
  gv_image_free (cur);
  free (rows);
  return rc;
}

/* ------------------------------------------------------------------ outline check */

/* Stage 3 finds each golden frame's outline on its own, and on busy covers it sometimes takes a
 * printed line near a side (a title band's edge) for the paper's: that cover's warp is then
 * stretched, its print tens of px off the others', and the print estimate (a median) and every
 * thin defect with it are lost when several covers share the error. Before stage 4 each cover
 * is warped small (GV_DK_CONS_W px wide) and compared with the reference's (the most confident
 * cover, ties: the first; see consistent_covers for when another is taken) in a
 * GV_DK_CONS_GRID x GV_DK_CONS_GRID grid over its interior: per cell with print
 * detail (mean |gradient| >= GV_DK_CONS_TEX grey levels), the integer shift within
 * +-GV_DK_CONS_SHIFT px that best matches it (least mean absolute difference, cell means
 * removed: exposure and glare move the level, not the print), counted as a move only when it
 * leaves at most GV_DK_CONS_GAIN of the unshifted difference. A cover whose cells move by
 * GV_DK_CONS_MOVE px or more (10 px at 1060 px width) in GV_DK_CONS_CELLS cells or more is left
 * out (its outline disagrees); the translation alignment of step 1 handles the rest. */
#define GV_DK_CONS_W 212
#define GV_DK_CONS_GRID 4
#define GV_DK_CONS_TEX 4.0
#define GV_DK_CONS_SHIFT 6
#define GV_DK_CONS_MOVE 2
#define GV_DK_CONS_CELLS 4
#define GV_DK_CONS_GAIN 0.85

static int
cell_shift (const GvImage *R, const GvImage *C, const double *ic, int x0, int y0, int x1, int y1,
            int *bdx, int *bdy)
{
  int iw = C->width + 1;
  double mr = 0, tex = 0;
  long n = 0;
  for (int y = y0; y < y1; y++)
    {
      const uint8_t *r = gv_image_row_u8 ((GvImage *) R, y);
      for (int x = x0; x < x1; x++)
        {
          mr += r[x];
          tex += abs ((int) r[x + 1] - (int) r[x])
                 + abs ((int) gv_image_row_u8 ((GvImage *) R, y + 1)[x] - (int) r[x]);
          n++;
        }
    }
  if (n == 0 || tex / n < GV_DK_CONS_TEX)
    return 0;
  mr /= n;
  double best = 1e30, at0 = 0;
  *bdx = *bdy = 0;
  for (int dy = -GV_DK_CONS_SHIFT; dy <= GV_DK_CONS_SHIFT; dy++)
    for (int dx = -GV_DK_CONS_SHIFT; dx <= GV_DK_CONS_SHIFT; dx++)
      {
        /* the shifted window's mean from C's integral image (ic: (w + 1) x (h + 1)) */
        int xa = x0 + dx, xb = x1 + dx, ya = y0 + dy, yb = y1 + dy;
        double sad = 0, mc = (ic[(size_t) yb * iw + xb] - ic[(size_t) ya * iw + xb] - ic[(size_t) yb * iw + xa]
                              + ic[(size_t) ya * iw + xa])
                             / n;
        for (int y = y0; y < y1; y++)
          {
            const uint8_t *r = gv_image_row_u8 ((GvImage *) R, y);
            const uint8_t *c = gv_image_row_u8 ((GvImage *) C, y + dy);
            for (int x = x0; x < x1; x++)
              sad += fabs ((c[x + dx] - mc) - (r[x] - mr));
          }
        if (dx == 0 && dy == 0)
          at0 = sad;
        /* ties: the smaller shift (scan order from the corner would favour one side) */
        if (sad < best - 1e-9
            || (fabs (sad - best) <= 1e-9 && abs (dx) + abs (dy) < abs (*bdx) + abs (*bdy)))
          best = sad, *bdx = dx, *bdy = dy;
      }
  /* a shift that explains the cell only a little better than none is the print repeating
   * itself (halftone, hatching) or noise: no move */
  if (best > GV_DK_CONS_GAIN * at0)
    *bdx = *bdy = 0;
  return 1;
}

typedef struct {
  const GvImage *R, *C;
  const double *ic;
  int m, cw, ch;
  uint8_t moved[GV_DK_CONS_GRID * GV_DK_CONS_GRID];
} CellCtx;

static void
cell_rows (void *data, int b, int e)
{
  CellCtx *c = data;
  for (int k = b; k < e; k++)
    {
      int dx, dy, x0 = c->m + (k % GV_DK_CONS_GRID) * c->cw, y0 = c->m + (k / GV_DK_CONS_GRID) * c->ch;
      c->moved[k] = cell_shift (c->R, c->C, c->ic, x0, y0, x0 + c->cw, y0 + c->ch, &dx, &dy)
                    && (abs (dx) >= GV_DK_CONS_MOVE || abs (dy) >= GV_DK_CONS_MOVE);
    }
}

/* Cells of C (small gray cover) that move against R; ic: scratch for C's integral image. */
static int
cover_moves (const GvImage *R, const GvImage *C, double *ic, int m, int cw, int ch, int nthreads)
{
  int sw = C->width, sh = C->height;
  for (int x = 0; x <= sw; x++)
    ic[x] = 0;
  for (int y = 0; y < sh; y++)
    {
      const uint8_t *c = gv_image_row_u8 ((GvImage *) C, y);
      double run = 0;
      ic[(size_t) (y + 1) * (sw + 1)] = 0;
      for (int x = 0; x < sw; x++)
        {
          run += c[x];
          ic[(size_t) (y + 1) * (sw + 1) + x + 1] = ic[(size_t) y * (sw + 1) + x + 1] + run;
        }
    }
  CellCtx cc = { R, C, ic, m, cw, ch, { 0 } };
  gv_parallel_for (nthreads, GV_DK_CONS_GRID * GV_DK_CONS_GRID, 1, cell_rows, &cc);
  int moved = 0;
  for (int k = 0; k < GV_DK_CONS_GRID * GV_DK_CONS_GRID; k++)
    moved += cc.moved[k];
  return moved;
}

/* keep[i]: 1 for the covers to use (those with a frame and an outline that agree with the
 * reference's: the most confident cover's, or where most disagree with it, that of the cover
 * whose quad has the proportions nearest the cover's), else 0. Returns how many were left out
 * for disagreeing, or a negative code. */
static int
consistent_covers (const GvDefectInput *in, int n, int cover_w, int cover_h, int nthreads, int *keep)
{
  int sw = GV_DK_CONS_W, sh = (int) lround ((double) cover_h * sw / cover_w), ref = -1, left = 0;
  GvImage *small[GV_DEFECTS_MAX_COVERS] = { NULL };
  GvImage *warp = NULL;
  double *ic = NULL;
  int rc = 0, nv = 0;
  for (int i = 0; i < n; i++)
    {
      double H[9];
      keep[i] = in[i].rgb && in[i].quad && gv_homography_cover_to_frame (in[i].quad, cover_w, cover_h, H) == GV_OK;
      nv += keep[i];
      if (keep[i] && (ref < 0 || in[i].confidence > in[ref].confidence))
        ref = i;
    }
  if (nv < 2 || n > GV_DEFECTS_MAX_COVERS)
    return 0;
  for (int i = 0; i < n; i++)
    {
      double H[9];
      if (!keep[i])
        continue;
      if (gv_homography_cover_to_frame (in[i].quad, sw, sh, H) != GV_OK)
        {
          keep[i] = 0;
          continue;
        }
      /* warped small in colour, then gray (cheaper than the whole frame's gray) */
      if (!warp)
        warp = gv_image_new (sw, sh, 3, GV_U8);
      small[i] = gv_image_new (sw, sh, 1, GV_U8);
      if (!warp || !small[i])
        {
          rc = gv_error_set (GV_ENOMEM, "out of memory");
          goto out;
        }
      if ((rc = gv_warp_perspective (in[i].rgb, H, warp, nthreads)) || (rc = gv_image_rgb_to_gray (warp, small[i])))
        goto out;
    }
  nv = 0;
  for (int i = 0; i < n; i++)
    nv += keep[i];
  if (!keep[ref])
    goto out;
  /* cells over the interior, GV_DK_CONS_SHIFT + 1 px in from the outline at least */
  int m = GV_DK_CONS_SHIFT + 1 + sw * 4 / 100;
  int cw = (sw - 2 * m) / GV_DK_CONS_GRID, ch = (sh - 2 * m) / GV_DK_CONS_GRID;
  if (!(ic = malloc (sizeof (double) * (size_t) (sw + 1) * (sh + 1))))
    {
      rc = gv_error_set (GV_ENOMEM, "out of memory");
      goto out;
    }
  /* moves[i]: cells of cover i that move against the reference */
  int moves[GV_DEFECTS_MAX_COVERS] = { 0 }, agree = 1;
  for (int i = 0; i < n; i++)
    if (keep[i] && i != ref
        && (moves[i] = cover_moves (small[ref], small[i], ic, m, cw, ch, nthreads)) < GV_DK_CONS_CELLS)
      agree++;
  /* Most covers disagree with the most confident one: it may be the wrong one (stage 3 took a
   * printed line for a side, which changes the quad's proportions by 2..13 % where the error
   * matters). The reference is then the cover whose quad is nearest the cover's proportions
   * (ties: the first); the outline check is run against it. */
  if (2 * agree <= nv)
    {
      double best_dev = 1e30, nominal = (double) cover_h / cover_w;
      int ref2 = ref;
      for (int i = 0; i < n; i++)
        {
          if (!keep[i])
            continue;
          double dev = fabs (log (gv_quad_aspect (in[i].quad->x, in[i].quad->y) / nominal));
          if (dev < best_dev)
            best_dev = dev, ref2 = i;
        }
      if (ref2 != ref)
        {
          ref = ref2;
          for (int i = 0; i < n; i++)
            if (keep[i] && i != ref)
              moves[i] = cover_moves (small[ref], small[i], ic, m, cw, ch, nthreads);
        }
    }
  for (int i = 0; i < n; i++)
    {
      if (!keep[i] || i == ref)
        continue;
      if (moves[i] >= GV_DK_CONS_CELLS)
        keep[i] = 0, left++;
    }
out:
  free (ic);
  gv_image_free (warp);
  for (int i = 0; i < n; i++)
    gv_image_free (small[i]);
  return rc < 0 ? rc : left;
}

/* ------------------------------------------------------------------ median, glare */

typedef struct {
  GvImage **covers;
  int n;
  GvImage *print, *glare;
} MedCtx;

static void
median_rows (void *data, int b, int e)
{
  MedCtx *c = data;
  int W = c->print->width;
  for (int y = b; y < e; y++)
    {
      const uint8_t *rows[GV_DEFECTS_MAX_COVERS], *px[GV_DEFECTS_MAX_COVERS];
      uint8_t *o = gv_image_row_u8 (c->print, y), *g = gv_image_row_u8 (c->glare, y);
      for (int k = 0; k < c->n; k++)
        rows[k] = gv_image_row_u8 (c->covers[k], y);
      for (int x = 0; x < W; x++)
        {
          for (int k = 0; k < c->n; k++)
            px[k] = rows[k] + 3 * x;
          gv_dm_median_px (px, c->n, o + 3 * x, g + x);
        }
    }
}

/* ------------------------------------------------------------------ line and stain evidence */

/* Whitened-line (unless line is NULL) and stain-edge evidence of one row band (the device path
 * runs the same per-pixel functions as two launches). */
typedef struct {
  const GvImage *print;
  GvImage *line, *stain; /* F32, cover size */
  uint8_t *dark;         /* cover size: towards the darker side, gv_dk_stain_at */
  int M;
} EvidenceCtx;

static void
evidence_rows (void *data, int b, int e)
{
  EvidenceCtx *c = data;
  const GvImage *P = c->print;
  const uint8_t *px = (const uint8_t *) P->data;
  for (int y = b; y < e; y++)
    {
      float *ol = c->line ? gv_image_row_f32 (c->line, y) : NULL;
      float *os = gv_image_row_f32 (c->stain, y);
      uint8_t *dk = c->dark + (size_t) y * c->stain->width;
      for (int x = 0; x < c->stain->width; x++)
        {
          if (ol)
            ol[x] = gv_dm_line_at (px, P->width, P->height, (int) P->stride, c->M, x, y);
          os[x] = gv_dm_stain_at (px, P->width, P->height, (int) P->stride, c->M, x, y, dk + x);
        }
    }
}

/* The descreened print (gv_dk_box_px) of one row band. */
typedef struct {
  const GvImage *print;
  GvImage *out;
  int r;
} DescreenCtx;

static void
descreen_rows (void *data, int b, int e)
{
  DescreenCtx *c = data;
  const GvImage *P = c->print;
  for (int y = b; y < e; y++)
    {
      uint8_t *o = gv_image_row_u8 (c->out, y);
      for (int x = 0; x < P->width; x++)
        gv_dk_box_px ((const uint8_t *) P->data, P->width, P->height, (int) P->stride, x, y, c->r,
                      o + 3 * x);
    }
}

/* ------------------------------------------------------------------ components */

typedef struct {
  int x0, y0, x1, y1;
  long area;
  double sx, sy, sxx, syy, sxy;
  long n_missing;
} Comp;

/* Counts pixel (x, y) into c's box, area and moments. */
static inline void
comp_add (Comp *c, int x, int y)
{
  c->area++;
  c->sx += x;
  c->sy += y;
  c->sxx += (double) x * x;
  c->syy += (double) y * y;
  c->sxy += (double) x * y;
  if (x < c->x0) c->x0 = x;
  if (x > c->x1) c->x1 = x;
  if (y < c->y0) c->y0 = y;
  if (y > c->y1) c->y1 = y;
}

typedef struct {
  int kind;          /* 0 none, 1 paper missing, 2 line, 3 line at the spine */
  double mx, my;     /* centroid */
  double dx, dy;     /* main axis */
  double half;       /* half-length along it */
  double minor;      /* spread across it */
  int stack;         /* a loss or line at the spine among others (5a') */
  int lone;          /* a spine line standing alone: a tear (5a') */
} LineFeat;

/* 8-connected labels of mask != 0 (w x h bytes), by a sequential flood fill: deterministic.
 * The statistics (bbox, area, moments) count only pixels where core != 0 (the mask is the
 * core dilated to join pieces). Returns the number of components; labels are 1-based in lab. */
static int
label_components (const uint8_t *mask, const uint8_t *core, int w, int h, int *lab, Comp **comps_out)
{
  int n = 0, cap = 64;
  Comp *comps = malloc (sizeof (Comp) * (size_t) cap);
  int *stack = malloc (sizeof (int) * (size_t) w * h);
  if (!comps || !stack)
    {
      free (comps);
      free (stack);
      return -1;
    }
  memset (lab, 0, sizeof (int) * (size_t) w * h);
  for (int i = 0; i < w * h; i++)
    {
      if (!mask[i] || lab[i])
        continue;
      if (n == cap)
        {
          Comp *nc = realloc (comps, sizeof (Comp) * (size_t) (cap *= 2));
          if (!nc)
            {
              free (comps);
              free (stack);
              return -1;
            }
          comps = nc;
        }
      Comp *c = &comps[n++];
      *c = (Comp) { w, h, -1, -1, 0, 0, 0, 0, 0, 0, 0 };
      int sp = 0;
      stack[sp++] = i;
      lab[i] = n;
      while (sp)
        {
          int j = stack[--sp], x = j % w, y = j / w;
          if (core[j])
            comp_add (c, x, y);
          for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
              {
                int xx = x + dx, yy = y + dy;
                if (xx < 0 || yy < 0 || xx >= w || yy >= h)
                  continue;
                int k = yy * w + xx;
                if (mask[k] && !lab[k])
                  {
                    lab[k] = n;
                    stack[sp++] = k;
                  }
              }
        }
    }
  free (stack);
  *comps_out = comps;
  return n;
}

/* Square dilation by r of a byte mask (separable max), in place through tmp. */
static void
dilate (uint8_t *m, int w, int h, int r, uint8_t *tmp)
{
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      tmp[(size_t) y * w + x] = gv_dk_dilate_h_at (m, w, r, x, y);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      m[(size_t) y * w + x] = gv_dk_dilate_v_at (tmp, w, h, r, x, y);
}

/* Step 3d's reach around black ink: 10 px at 1060 px width, at least 2 (working px). */
#define INK_R(sc) ((int) lround (10 * (sc)) > 2 ? (int) lround (10 * (sc)) : 2)

/* Step 3e''s descreening box radius: 4 px at 1060 px width (the halftone pitch is 6..10 px), at
 * least 1 (gv_dk_box_px's box is 2r + 1 px). */
#define DESCREEN_R(sc) ((int) lround (4 * (sc)) > 1 ? (int) lround (4 * (sc)) : 1)

/* A loss at the outline must be deeper than this (working px; sc = working width / 1060): the
 * outline's own mixed pixels and the cover's shadow, 3 px, and 2 px at 1060 px width. A chip of
 * 13 px (at 1060 px width) in a 350 px wide cover shows 4 px of table. */
#define LOSS_MIN_DEPTH(sc) (3 + 2 * (sc))

/* The band along each edge where a line running with the edge is the outline's own mixed
 * pixels and shadow (the warped outline wavers by a few px): 14 px at 1060 px width, + 1. */
#define EDGE_BAND(sc) ((int) lround (14 * (sc)) + 1)

/* Where the box x0..x1, y0..y1 (working px) lies wholly within EDGE_BAND of an edge: bit 0 the
 * top or bottom edge's band, bit 1 the left or right edge's; 0 when in neither. */
static int
along_edge (int x0, int y0, int x1, int y1, int w, int h, double sc)
{
  int e = EDGE_BAND (sc);
  return (y1 <= e || y0 >= h - 1 - e) | (x1 <= e || x0 >= w - 1 - e) << 1;
}

/* Pixel dd px in from edge `touch` (0 top, 1 right, 2 bottom, 3 left) at position a along it. */
static void
edge_px (int touch, int a, int dd, int w, int h, int *X, int *Y)
{
  *X = touch == 0 || touch == 2 ? a : (touch == 1 ? w - 1 - dd : dd);
  *Y = touch == 1 || touch == 3 ? a : (touch == 0 ? dd : h - 1 - dd);
}

/* A stain's outline (gv_dk_stain_at gives each edge pixel its darker side): of its edge
 * pixels facing in or out, at least this share faces in, darker side inside and brighter
 * outside (print edges joined to a contour face either way: 0.8..0.85 on the synthetic covers;
 * stains 0.95..0.99) ... */
#define GV_DK_STAIN_POLARITY 0.85
/* ... and such inward edges lie within 2 px of this share of the filled region's boundary
 * (stains 0.48..0.87; a printed box whose one side happens to look tinted, 0.28). */
#define GV_DK_STAIN_CLOSED 0.45
/* ... and there are at least this many of them per boundary pixel (a stain's rim is a
 * continuous band of tint, 0.6..1.7 on the synthetic covers; print edges that happen to
 * enclose something are sparse, 0.1..0.37) */
#define GV_DK_STAIN_DENSE 0.5
/* A stain's inside fills at least this share of its box (a blob) ... */
#define GV_DK_STAIN_FILL 0.3
/* ... and its rim is round: at least this share of its inward rim pixels lie within 30 % of the
 * radius of the circle fitted to them (stains of the six benchmark sets 0.78..1.00; outlines
 * closed by print edges, a wedge of printed rays or a box, 0.29..0.67) ... */
#define GV_DK_STAIN_ROUND 0.7
/* ... or, where the tint is lost along part of the outline (a stain across a speech balloon's
 * outline and text: the fill stops short, 0.25 of the box, and inward edges cover 0.32 of the
 * filled boundary), the looser inside and outline below hold with a rim this round (those
 * stains 0.98..1.00; print 0.29..0.67 at the same limits). */
#define GV_DK_STAIN_FILL_LOOSE 0.2
#define GV_DK_STAIN_CLOSED_LOOSE 0.3
#define GV_DK_STAIN_ROUND_LOOSE 0.9

/* Rays (bits: left, right, up, down) that met an inward-facing stain edge: 3 of 4, or an
 * opposite pair. */
static int
enclosed (int b)
{
  return __builtin_popcount ((unsigned) b) >= 3 || (b & 3) == 3 || (b & 12) == 12;
}

static double
clamp01 (double v)
{
  return v < 0 ? 0 : (v > 1 ? 1 : v);
}

/* A stain's outline per direction: GV_DK_STAR_BINS sectors around the centre of the circle
 * fitted (algebraic least squares) to its rim pixels; each sector's radius is the mean distance
 * of its rim pixels (at least GV_DK_STAR_MIN of them), sectors without one are interpolated
 * along the circle between the nearest sectors that have one (across a gap of more than 3
 * sectors they take the fitted circle's radius). 0 (use the fill) when fewer
 * than 12 rim pixels, fewer than a third of the sectors hold rim, or the fit is degenerate. */
#define GV_DK_STAR_BINS 32
#define GV_DK_STAR_MIN 2

static int
stain_star (const int *rim, int x0, int y0, int bw, int bh, double *rad, double *cx, double *cy,
            double *round)
{
  double ccx = 0, ccy = 0, rr = -1;
  if (round)
    *round = -1;
  /* two fits: the second without rim pixels off the first circle by more than 30 % of its
   * radius (a print edge joined to the rim) */
  for (int it = 0; it < 2; it++)
    {
      double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, sz = 0, sxz = 0, syz = 0, n = 0;
      for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++)
          if (rim[y * bw + x])
            {
              double X = x, Y = y, Z = X * X + Y * Y;
              if (rr > 0 && fabs (sqrt ((X - ccx) * (X - ccx) + (Y - ccy) * (Y - ccy)) - rr) > 0.3 * rr)
                continue;
              sx += X, sy += Y, sxx += X * X, syy += Y * Y, sxy += X * Y;
              sz += Z, sxz += X * Z, syz += Y * Z, n++;
            }
      if (n < 12)
        return 0;
      /* x^2 + y^2 = a x + b y + c: normal equations, Cramer's rule */
      double A[3][3] = { { sxx, sxy, sx }, { sxy, syy, sy }, { sx, sy, n } }, B[3] = { sxz, syz, sz };
      double det = A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1])
                   - A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0])
                   + A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0]);
      if (fabs (det) < 1e-9)
        return 0;
      double da = B[0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1])
                  - A[0][1] * (B[1] * A[2][2] - A[1][2] * B[2])
                  + A[0][2] * (B[1] * A[2][1] - A[1][1] * B[2]);
      double db = A[0][0] * (B[1] * A[2][2] - A[1][2] * B[2])
                  - B[0] * (A[1][0] * A[2][2] - A[1][2] * A[2][0])
                  + A[0][2] * (A[1][0] * B[2] - B[1] * A[2][0]);
      double dc = A[0][0] * (A[1][1] * B[2] - B[1] * A[2][1])
                  - A[0][1] * (A[1][0] * B[2] - B[1] * A[2][0])
                  + B[0] * (A[1][0] * A[2][1] - A[1][1] * A[2][0]);
      ccx = 0.5 * da / det, ccy = 0.5 * db / det;
      double r2 = dc / det + ccx * ccx + ccy * ccy;
      if (r2 <= 1)
        return 0;
      rr = sqrt (r2);
    }
  double sum[GV_DK_STAR_BINS] = { 0 };
  int cnt[GV_DK_STAR_BINS] = { 0 };
  long tot = 0, kept = 0;
  for (int y = 0; y < bh; y++)
    for (int x = 0; x < bw; x++)
      if (rim[y * bw + x])
        {
          double dx = x - ccx, dy = y - ccy;
          tot++;
          if (fabs (sqrt (dx * dx + dy * dy) - rr) > 0.3 * rr)
            continue;
          kept++;
          int b = (int) floor ((atan2 (dy, dx) + M_PI) / (2 * M_PI) * GV_DK_STAR_BINS);
          b = b < 0 ? 0 : (b >= GV_DK_STAR_BINS ? GV_DK_STAR_BINS - 1 : b);
          sum[b] += sqrt (dx * dx + dy * dy);
          cnt[b]++;
        }
  if (round) /* the share of rim pixels the second fit kept */
    *round = tot ? kept / (double) tot : 0;
  int have = 0;
  for (int b = 0; b < GV_DK_STAR_BINS; b++)
    {
      rad[b] = cnt[b] >= GV_DK_STAR_MIN ? sum[b] / cnt[b] : -1;
      have += rad[b] >= 0;
    }
  if (3 * have < GV_DK_STAR_BINS)
    return 0;
  for (int b = 0; b < GV_DK_STAR_BINS; b++)
    {
      if (cnt[b] >= GV_DK_STAR_MIN)
        continue;
      int lo = 1, hi = 1;
      while (cnt[(b - lo + GV_DK_STAR_BINS) % GV_DK_STAR_BINS] < GV_DK_STAR_MIN)
        lo++;
      while (cnt[(b + hi) % GV_DK_STAR_BINS] < GV_DK_STAR_MIN)
        hi++;
      double ra = sum[(b - lo + GV_DK_STAR_BINS) % GV_DK_STAR_BINS] / cnt[(b - lo + GV_DK_STAR_BINS) % GV_DK_STAR_BINS];
      double rb = sum[(b + hi) % GV_DK_STAR_BINS] / cnt[(b + hi) % GV_DK_STAR_BINS];
      /* a short gap follows its neighbours; across a long one (more than 3 sectors) the
       * fitted circle is the better guess */
      rad[b] = lo + hi - 1 <= 3 ? ra + (rb - ra) * lo / (double) (lo + hi) : rr;
    }
  *cx = x0 + ccx;
  *cy = y0 + ccy;
  return 1;
}

/* Inside the star outline (radii times k: k < 1 shrinks it): radius interpolated between the
 * sector centres. */
static int
star_inside_k (const double *rad, double cx, double cy, int x, int y, double k)
{
  double dx = (x - cx) / k, dy = (y - cy) / k;
  double t = (atan2 (dy, dx) + M_PI) / (2 * M_PI) * GV_DK_STAR_BINS - 0.5;
  int b = (int) floor (t);
  double f = t - b;
  double ra = rad[(b + GV_DK_STAR_BINS) % GV_DK_STAR_BINS], rb = rad[(b + 1) % GV_DK_STAR_BINS];
  double rr = ra + (rb - ra) * f;
  return dx * dx + dy * dy <= rr * rr;
}

static int
star_inside (const double *rad, double cx, double cy, int x, int y)
{
  return star_inside_k (rad, cx, cy, x, y, 1.0);
}

/* 5c''. Long straight lines hidden in texture. A crease across halftone or busy print is
 * joined by step 5's gap bridging with the texture's own line evidence into blobs that are not
 * line-shaped, and dropped. Here every line-evidence pixel not yet in a defect votes for the
 * straight lines through it (Hough: 1 degree, rho in bins of 1 + 2 px at 1060 px width); the
 * strongest lines are walked across the cover. A step is clean when the line has evidence
 * within the bin's half-width across it and none 2..8 px (at 1060 px width; at least 3 working
 * px) beyond on either side (texture has evidence all around; a crease stands alone). A span
 * at least GV_DK_LL_MINLEN of the height long (a crease's length, step 5c), whose steps are
 * clean at least GV_DK_LL_DENSITY of the time, is a crease; its band is the mask. At most
 * GV_DK_LL_TRIES peaks are tried, strongest first (ties: lowest index): deterministic. */
#define GV_DK_LL_MINLEN 0.22
#define GV_DK_LL_DENSITY 0.40
#define GV_DK_LL_TRIES 12

static int
long_lines (const GvImage *line, const GvImage *glare, int half, const uint8_t *missing,
            uint8_t *final, int w, int h, double sc, GvDefectReport *r)
{
  size_t npx = (size_t) w * h;
  const int nth = 180;
  double diag = hypot (w, h);
  int rs = 1 + (int) lround (2 * sc); /* rho bin, px */
  int nr = (int) (2 * diag / rs) + 3;
  int dr = rs; /* on the line: within dr px across */
  int o0 = dr + 2, o1 = dr + 2 + ((int) lround (8 * sc) > 3 ? (int) lround (8 * sc) : 3);
  int band = (int) lround (3 * sc) > 1 ? (int) lround (3 * sc) : 1;
  int steps = (int) (2 * diag) + 2;
  uint8_t *ev = calloc (npx, 1);
  int *acc = calloc ((size_t) nth * nr, sizeof (int));
  uint8_t *clean = malloc ((size_t) steps);
  int *pre = malloc (sizeof (int) * ((size_t) steps + 1));
  double cs[180], sn[180];
  int rc = 0;
  if (!ev || !acc || !clean || !pre)
    {
      rc = gv_error_set (GV_ENOMEM, "out of memory");
      goto done;
    }
  for (int t = 0; t < nth; t++)
    cs[t] = cos (t * M_PI / nth), sn[t] = sin (t * M_PI / nth);
  for (int y = 0; y < h; y++)
    {
      const float *l = gv_image_row_f32 (line, y);
      const uint8_t *g = gv_image_row_u8 (glare, y);
      for (int x = 0; x < w; x++)
        {
          size_t k = (size_t) y * w + x;
          if (l[x] < GV_DK_LINE_AMIN || missing[k] || final[k] || __builtin_popcount (g[x]) >= half)
            continue;
          ev[k] = 1;
          for (int t = 0; t < nth; t++)
            acc[t * nr + (int) ((x * cs[t] + y * sn[t] + diag) / rs)]++;
        }
    }
  for (int tries = 0; tries < GV_DK_LL_TRIES && r->n_defects < 250; tries++)
    {
      int best = 0, bi = -1;
      for (int i = 0; i < nth * nr; i++)
        if (acc[i] > best)
          best = acc[i], bi = i;
      /* a crease needs clean steps over GV_DK_LL_DENSITY of its length */
      if (bi < 0 || best < GV_DK_LL_DENSITY * GV_DK_LL_MINLEN * h / 2)
        break;
      int t = bi / nr, rb = bi % nr;
      double rho = (rb + 0.5) * rs - diag;
      double nx = cs[t], ny = sn[t], ux = -sn[t], uy = cs[t];
      /* suppress this peak's neighbourhood whatever the outcome */
      for (int dt = -3; dt <= 3; dt++)
        for (int db = -(o0 / rs + 1); db <= o0 / rs + 1; db++)
          {
            int tt = t + dt, bb = rb + db;
            if (tt < 0)
              tt += nth, bb = nr - 1 - bb;
            else if (tt >= nth)
              tt -= nth, bb = nr - 1 - bb;
            if (bb >= 0 && bb < nr)
              acc[tt * nr + bb] = 0;
          }
      /* walk the line: steps of 1 px from -diag */
      int n = 0, first = -1;
      for (int i = 0; i < steps; i++)
        {
          double sdist = i - diag;
          double px = nx * rho + ux * sdist, py = ny * rho + uy * sdist;
          int xi = (int) lround (px), yi = (int) lround (py);
          if (xi < 0 || yi < 0 || xi >= w || yi >= h)
            {
              if (first >= 0)
                break;
              continue;
            }
          if (first < 0)
            first = i;
          int on = 0, off = 0;
          for (int d = -o1; d <= o1 && !off; d++)
            {
              int ad = d < 0 ? -d : d;
              if (ad > dr && ad < o0)
                continue;
              int xx = (int) lround (px + nx * d), yy = (int) lround (py + ny * d);
              if (xx < 0 || yy < 0 || xx >= w || yy >= h || !ev[(size_t) yy * w + xx])
                continue;
              if (ad <= dr)
                on = 1;
              else
                off = 1;
            }
          clean[n++] = (uint8_t) (on && !off);
        }
      if (first < 0 || n < GV_DK_LL_MINLEN * h)
        continue;
      pre[0] = 0;
      for (int i = 0; i < n; i++)
        pre[i + 1] = pre[i] + clean[i];
      /* the longest span from a clean step to a clean step, long and dense enough */
      int a0 = -1, a1 = -1;
      for (int a = 0; a < n; a++)
        {
          if (!clean[a])
            continue;
          for (int b = n - 1; b >= a + (int) (GV_DK_LL_MINLEN * h) - 1 && b - a > a1 - a0; b--)
            if (clean[b] && pre[b + 1] - pre[a] >= GV_DK_LL_DENSITY * (b - a + 1))
              {
                a0 = a, a1 = b;
                break;
              }
        }
      if (a0 < 0)
        continue;
      /* a span along an edge, both ends within 14 px of it (at 1060 px width): the outline's
       * mixed pixels where the warped outline wavers, as in 5c */
      {
        double ta = first + a0 - diag, tb = first + a1 - diag;
        double xa = nx * rho + ux * ta, ya = ny * rho + uy * ta;
        double xb = nx * rho + ux * tb, yb = ny * rho + uy * tb;
        if (along_edge ((int) lround (fmin (xa, xb)), (int) lround (fmin (ya, yb)),
                        (int) lround (fmax (xa, xb)), (int) lround (fmax (ya, yb)), w, h, sc))
          continue;
      }
      int index = r->n_defects++;
      long area = 0;
      r->defects[index].kind = GV_DK_CREASE;
      r->defects[index].severity = clamp01 (((double) (a1 - a0 + 1) / h - 0.25) / 0.5);
      for (int i = a0; i <= a1; i++)
        {
          double sdist = first + i - diag;
          double px = nx * rho + ux * sdist, py = ny * rho + uy * sdist;
          for (int d = -o1; d <= o1; d++)
            {
              int xx = (int) lround (px + nx * d), yy = (int) lround (py + ny * d);
              size_t k = (size_t) yy * w + xx;
              if (xx < 0 || yy < 0 || xx >= w || yy >= h)
                continue;
              /* the line's evidence and its surroundings no longer vote (no second line
               * along the same crease) */
              if (ev[k])
                {
                  ev[k] = 0;
                  for (int tt = 0; tt < nth; tt++)
                    acc[tt * nr + (int) ((xx * cs[tt] + yy * sn[tt] + diag) / rs)]--;
                }
              if (d < -band || d > band || final[k] || missing[k])
                continue;
              final[k] = (uint8_t) (index + 1);
              area++;
            }
        }
      if (area == 0)
        r->n_defects--;
    }
done:
  free (ev);
  free (acc);
  free (clean);
  free (pre);
  return rc;
}

/* 5e. stains whose rim is joined to print edges (a ray's boundary, halftone) fail the contour
 * tests of 5d however clearly their rim shows. Here connectivity plays no part: every stain-edge
 * pixel not yet in a defect votes along its normal towards its darker side (the tint is inside
 * a stain) at distances of GV_DK_VOTE_RMIN..GV_DK_VOTE_RMAX px (at 1060 px width); a stain's
 * rim meets near its centre, a print edge's votes spread along a band. The best-supported
 * centre's rim (the pixels whose normal passes near it) is then held to a stain's shape: rim in
 * at least GV_DK_VOTE_SECTORS of the 32 sectors around it, at least GV_DK_VOTE_RIM rim pixels
 * per px of its mean circumference, an outline from stain_star 60..600 px across, at most a
 * quarter of it already a defect, stain edges on at most GV_DK_VOTE_INSIDE of the pixels inside
 * 0.7 of the outline (clean tint; halftone's false centres 19..55 %), and of the edges in the
 * band 0.7..1.3 of the outline whose normal points within 60 degrees of the centre or away from
 * it, at least GV_DK_VOTE_POLARITY towards it (true stains 0.86..0.99, halftone 0.53..0.72).
 * A centre's rim pixels vote no more, found or not; GV_DK_VOTE_TRIES centres, best first:
 * deterministic. */
#define GV_DK_VOTE_RMIN 25
#define GV_DK_VOTE_RMAX 200
#define GV_DK_VOTE_SECTORS 20
#define GV_DK_VOTE_RIM 1.0
#define GV_DK_VOTE_INSIDE 0.2
#define GV_DK_VOTE_POLARITY 0.85
#define GV_DK_VOTE_TRIES 8
/* The second stain pass (on the descreened print, 5d and 5e) takes stains from this radius (px at
 * 1060 px width; the first pass from 30): smaller rims on the descreened print are letters and
 * dot clusters of the print (radius 37..57 px on the eight benchmark sets; severe stains there
 * 75 px and more). */
#define GV_DK_STAIN2_RMIN 60

static int
stains_by_vote (const GvImage *P, int M, int w, int h, double sc, const uint8_t *edge,
                const uint8_t *sdark, uint8_t *final, GvDefectReport *r, double rmin_r)
{
  int cell = (int) lround (8 * sc) > 2 ? (int) lround (8 * sc) : 2;
  int gw = w / cell + 1, gh = h / cell + 1, found = 0;
  double rmin = GV_DK_VOTE_RMIN * sc, rmax = GV_DK_VOTE_RMAX * sc;
  size_t npx = (size_t) w * h;
  float *nx = malloc (sizeof (float) * npx), *ny = malloc (sizeof (float) * npx);
  int *acc = malloc (sizeof (int) * (size_t) gw * gh);
  uint8_t *used = calloc (npx, 1);
  if (!nx || !ny || !acc || !used)
    {
      free (nx), free (ny), free (acc), free (used);
      return gv_error_set (GV_ENOMEM, "out of memory");
    }
  /* normals: the luma gradient (Sobel) of the print, towards its darker side, which must agree
   * with the side the tint fit found darker */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        size_t k = (size_t) y * w + x;
        nx[k] = ny[k] = 0.0f;
        if (!edge[k] || final[k] || x < 1 || y < 1 || x >= w - 1 || y >= h - 1)
          continue;
        int L[3][3];
        for (int j = -1; j <= 1; j++)
          for (int i = -1; i <= 1; i++)
            L[j + 1][i + 1] = gv_dk_luma (gv_image_row_u8 (P, y + j + M) + 3 * (x + i + M));
        double gx = (L[0][2] + 2 * L[1][2] + L[2][2]) - (L[0][0] + 2 * L[1][0] + L[2][0]);
        double gy = (L[2][0] + 2 * L[2][1] + L[2][2]) - (L[0][0] + 2 * L[0][1] + L[0][2]);
        double gn = sqrt (gx * gx + gy * gy);
        int ddx = sdark[k] % 7 - 3, ddy = sdark[k] / 7 - 3;
        if (gn < 1e-6 || -(gx * ddx + gy * ddy) <= 0)
          continue;
        nx[k] = (float) (-gx / gn), ny[k] = (float) (-gy / gn);
      }
  for (int it = 0; it < GV_DK_VOTE_TRIES && r->n_defects < 250; it++)
    {
      memset (acc, 0, sizeof (int) * (size_t) gw * gh);
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            size_t k = (size_t) y * w + x;
            if ((nx[k] == 0.0f && ny[k] == 0.0f) || used[k] || final[k])
              continue;
            int last = -1;
            for (double t = rmin; t <= rmax; t += 1.0)
              {
                int cx = (int) floor ((x + t * nx[k]) / cell), cy = (int) floor ((y + t * ny[k]) / cell);
                if (cx < 0 || cy < 0 || cx >= gw || cy >= gh)
                  break;
                if (cy * gw + cx != last) /* one vote per pixel and cell */
                  acc[cy * gw + cx]++, last = cy * gw + cx;
              }
          }
      /* the best centre: the most votes over 3 x 3 cells (first in row order on ties) */
      long best = 0;
      int bx = -1, by = -1;
      for (int cy = 1; cy < gh - 1; cy++)
        for (int cx = 1; cx < gw - 1; cx++)
          {
            long s = 0;
            for (int j = -1; j <= 1; j++)
              for (int i = -1; i <= 1; i++)
                s += acc[(cy + j) * gw + cx + i];
            if (s > best)
              best = s, bx = cx, by = cy;
          }
      if (bx < 0)
        break;
      double ccx = (bx + 0.5) * cell, ccy = (by + 0.5) * cell;
      /* its rim: pixels whose normal passes within 1.5 cells (or 30 % of the distance) of it,
       * the centre on their darker side */
      int x0 = (int) floor (ccx - rmax - 1), y0 = (int) floor (ccy - rmax - 1);
      int x1 = (int) ceil (ccx + rmax + 1), y1 = (int) ceil (ccy + rmax + 1);
      x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0, x1 = x1 >= w ? w - 1 : x1, y1 = y1 >= h ? h - 1 : y1;
      int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
      int *rim = calloc ((size_t) bw * bh, sizeof (int));
      if (!rim)
        {
          free (nx), free (ny), free (acc), free (used);
          return gv_error_set (GV_ENOMEM, "out of memory");
        }
      long nrim = 0;
      double dsum = 0;
      for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
          {
            size_t k = (size_t) y * w + x;
            if ((nx[k] == 0.0f && ny[k] == 0.0f) || used[k] || final[k])
              continue;
            double vx = ccx - x, vy = ccy - y;
            double along = vx * nx[k] + vy * ny[k], across = fabs (vx * ny[k] - vy * nx[k]);
            if (along < rmin || along > rmax || across > fmax (1.5 * cell, 0.3 * along))
              continue;
            rim[(y - y0) * bw + (x - x0)] = 1;
            nrim++;
            dsum += sqrt (vx * vx + vy * vy);
          }
      int ok = 0;
      double star_r[GV_DK_STAR_BINS], scx = 0, scy = 0;
      if (nrim >= 12)
        {
          double rbar = dsum / nrim;
          /* sectors around the centre holding rim */
          int sec[GV_DK_STAR_BINS] = { 0 }, nsec = 0;
          for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
              if (rim[(y - y0) * bw + (x - x0)])
                {
                  int b = (int) floor ((atan2 (y - ccy, x - ccx) + M_PI) / (2 * M_PI) * GV_DK_STAR_BINS);
                  b = b < 0 ? 0 : (b >= GV_DK_STAR_BINS ? GV_DK_STAR_BINS - 1 : b);
                  sec[b]++;
                }
          for (int b = 0; b < GV_DK_STAR_BINS; b++)
            nsec += sec[b] >= GV_DK_STAR_MIN;
          ok = nsec >= GV_DK_VOTE_SECTORS && nrim >= GV_DK_VOTE_RIM * 2 * M_PI * rbar
               && stain_star (rim, x0, y0, bw, bh, star_r, &scx, &scy, NULL);
        }
      if (ok)
        {
          /* clean tint inside: few other edges within the rim (a textured patch is print) */
          long inside = 0, other = 0, area = 0, core = 0, fin = 0, fout = 0;
          double rm = 0;
          for (int b = 0; b < GV_DK_STAR_BINS; b++)
            rm = star_r[b] > rm ? star_r[b] : rm;
          for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
              if (star_inside (star_r, scx, scy, x, y))
                {
                  size_t k = (size_t) y * w + x;
                  inside++;
                  area += final[k] != 0;
                  if (star_inside_k (star_r, scx, scy, x, y, 0.7))
                    core++, other += edge[k];
                }
          /* the rim's band (0.7 .. 1.3 of the outline): edges facing in (darker side towards
           * the centre) against those facing out */
          for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
              {
                size_t k = (size_t) y * w + x;
                if (!(nx[k] != 0.0f || ny[k] != 0.0f) || !star_inside_k (star_r, scx, scy, x, y, 1.3)
                    || star_inside_k (star_r, scx, scy, x, y, 0.7))
                  continue;
                double vx = scx - x, vy = scy - y, vn = sqrt (vx * vx + vy * vy);
                double c = vn > 0 ? (vx * nx[k] + vy * ny[k]) / vn : 0;
                fin += c > 0.5, fout += c < -0.5;
              }
          ok = core > 0 && other <= GV_DK_VOTE_INSIDE * core && fin >= GV_DK_VOTE_POLARITY * (fin + fout) && area * 4 < inside
               && rm >= rmin_r * sc && 2 * rm <= 600 * sc;
        }
      /* its rim pixels vote no more, found or not */
      for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
          if (rim[(y - y0) * bw + (x - x0)])
            used[(size_t) y * w + x] = 1;
      free (rim);
      if (!ok)
        continue;
      int index = r->n_defects++;
      long area = 0;
      for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
          if (!final[(size_t) y * w + x] && star_inside (star_r, scx, scy, x, y))
            {
              final[(size_t) y * w + x] = (uint8_t) (index + 1);
              area++;
            }
      r->defects[index].kind = GV_DK_STAIN;
      r->defects[index].severity = clamp01 ((sqrt (area / M_PI) / sc - 30) / 90);
      found++;
    }
  free (nx), free (ny), free (acc), free (used);
  return found;
}

/* A worn corner's loss pixels fill at least this share of its box. Measured on every corner
 * decision of the eleven benchmark sets (90, golden covers of 131 scans): the true worn corners
 * fill 0.15..0.88, the three false ones of any size 0.09, 0.10 and 0.12 (benchmark clean 1 and
 * seed 106, held-out 3 seed 131: severities 0.53, 1.0 and 0.65). */
#define GV_DK_CORNER_FILL 0.13

/* A short line from an edge is a tear when its spread across its axis is at most this (px at
 * 1060 px width): a tear runs skewed and wiggles, and its whitened fibre widens it (benchmark
 * seed 109's, 88 px from the spine: 6.15 px; held-out 6 seed 167's from the top edge). Until
 * 2026-11-28 the limit was 4 px and both were dropped as lines under 100 px. */
#define GV_DK_TEAR_MINOR 8

/* A loss at the spine taller than deep that fills at least this share of its box is a chip,
 * not the end of a stress line (5a'): on the eleven benchmark sets the chips beside spine
 * stress fill 0.36..0.58 of their box, the losses where the bridging joined the ends of
 * several stress lines 0.15..0.17 (benchmark seed 106, held-out 4 seed 141). */
#define GV_DK_NOTCH_FILL 0.25

/* A chip in the cover's shadow fills at least this share of its box (3b). */
#define GV_DK_SHADE_FILL 0.35

/* A worn corner's bite spans at least this many working px along both edges (5c): 2 x 2 and
 * 4 x 2 px pieces at clean corners are the outline's mixed pixels; the smallest true wear of
 * eleven sets shows 4 x 3 (docs/accuracy.md). */
#define GV_DK_CORNER_MIN 3

/* A scratch or crease turns by at most this much (radians) over its length; a printed ring's
 * arc more (5c). Measured as the angle between the chords joining the centroids of the first,
 * middle and last third of the line (2/3 of the turn for a circular arc). */
#define GV_DK_LINE_MAXTURN 0.3

/* ... and a line under 200 px (at 1060 px width) at most this as line_bend measures it (the
 * limit above measures 0.2): the pieces of the renderer's printed rings that pass for short
 * scratches measure 0.16..0.2, the short true scratches of nine sets at most 0.14 but one
 * (0.17); see docs/accuracy.md. */
#define GV_DK_SHORT_LINE_MAXBEND 0.17

/* A line of 200 px or more (at 1060 px width) may also turn by up to its length over
 * GV_DK_LINE_MINRADIUS (a circle of that radius, 450 px at 1060 px width, 71 mm: a scratch made
 * by a sweeping hand; the renderer's printed rings are 173..279 px in radius, its scratches
 * turn by up to 0.4 rad over 210..360 px). line_bend measures 2/3 of an arc's turn. */
#define GV_DK_LINE_MINRADIUS 450.0

/* A short line that is a piece of a printed ring (5c): the circle fitted through its pixels,
 * followed on beyond its ends for as long again, finds print along it (at GV_DK_ARC_MIN_SAMPLES
 * or more points, 2.5 px or more off the line's tangent there): a bright line across the circle
 * (GV_DK_ARC_RIDGE luma levels over both sides, 3 px off at 1060 px width) at GV_DK_ARC_RIDGE_SHARE
 * of the points and GV_DK_ARC_LEAD more than along the tangents, or any step or line across it
 * (GV_DK_ARC_EDGE levels) at GV_DK_ARC_EDGE_SHARE of them and GV_DK_ARC_EDGE_LEAD more. The ring
 * runs on where its colour against the print is not the whitening a scratch shows; a scratch's
 * piece runs on, if at all, along its tangent. On eleven sets: 0.58..1.0 of the points (ridges)
 * or 0.95..1.0 (steps) on 10 false scratches, at most 0.74 of either threshold on the true
 * lines (docs/accuracy.md). */
#define GV_DK_ARC_MIN_SAMPLES 20
#define GV_DK_ARC_RIDGE 8.0
#define GV_DK_ARC_RIDGE_SHARE 0.5
#define GV_DK_ARC_RIDGE_LEAD 0.4
#define GV_DK_ARC_EDGE 20.0
#define GV_DK_ARC_EDGE_SHARE 0.8
#define GV_DK_ARC_EDGE_LEAD 0.3

/* A line's candidate pixels per px of its length (at working scale) at least this (5c): 0.36 and
 * more on the true scratches and creases of eleven sets (0.36..0.5 where print hides part of a
 * crease), 0.26..0.27 on halftone specks and a ring's broken arc joined into one (docs/accuracy.md). */
#define GV_DK_LINE_MINFILL 0.3

/* 5b: pieces of one line may differ in direction by up to GV_DK_JOIN_BENT_DEG (beyond the 12
 * degrees of straight pieces) when the gap between them along the pair's axis is at most
 * GV_DK_JOIN_BENT_GAP px (at 1060 px width): a bending scratch broken where the print hides it. */
#define GV_DK_JOIN_BENT_DEG 20.0
#define GV_DK_JOIN_BENT_GAP 60.0

/* A loss touching edge `touch` (0 top, 1 right, 2 bottom, 3 left) within box g of the loss map
 * whose colour runs on inwards past it: in more than half of its rows (or columns) across the
 * edge, the print 3..6 px beyond the row's deepest loss pixel is within GV_DK_TABLE_TOL of the
 * row's own loss colour (its pixels from 3 px in, past the outline's mixed ones). A rule or
 * frame line of about the table's colour meets the edge so, each row of its band in its own
 * shade; a chip or tear is a notch, paper beyond its tip. P is the margined print (margin M). */
static int
loss_runs_on (const GvImage *P, int M, const uint8_t *missing, int w, int h, const Comp *g,
              int touch)
{
  int horiz = touch == 0 || touch == 2; /* rows of the loss run down from the top or bottom */
  int a0 = horiz ? g->x0 : g->y0, a1 = horiz ? g->x1 : g->y1, X, Y;
  int dmax = horiz ? g->y1 - g->y0 + 1 : g->x1 - g->x0 + 1;
  int rows = 0, runs = 0;

  for (int a = a0; a <= a1; a++)
    {
      int deep = -1;
      double m[3] = { 0, 0, 0 };
      int n = 0;
      for (int dd = 0; dd <= dmax + 2; dd++)
        {
          edge_px (touch, a, dd, w, h, &X, &Y);
          if (X < 0 || Y < 0 || X >= w || Y >= h || !missing[(size_t) Y * w + X])
            continue;
          deep = dd;
          if (dd >= 3)
            {
              const uint8_t *q = gv_image_row_u8 (P, Y + M) + 3 * (X + M);
              m[0] += q[0], m[1] += q[1], m[2] += q[2];
              n++;
            }
        }
      if (deep < 0 || n == 0)
        continue;
      rows++;
      int like = 1;
      for (int dd = deep + 3; dd <= deep + 6 && like; dd++)
        {
          edge_px (touch, a, dd, w, h, &X, &Y);
          if (X < 0 || Y < 0 || X >= w || Y >= h)
            continue;
          const uint8_t *q = gv_image_row_u8 (P, Y + M) + 3 * (X + M);
          for (int c = 0; c < 3; c++)
            like &= fabs ((double) q[c] - m[c] / n) <= GV_DK_TABLE_TOL;
        }
      runs += like;
    }
  return rows > 0 && 2 * runs > rows;
}

/* Box g touches a corner of the w x h cover: within 2 px of a side and of the top or bottom. */
static inline int
at_corner (const Comp *g, int w, int h)
{
  return (g->x0 <= 2 || g->x1 >= w - 3) && (g->y0 <= 2 || g->y1 >= h - 3);
}

/* A worn corner's shape (5c): a rounded bite, at most 100 px (at 1060 px width; the widest wear
 * is 55 px, its fibre and the outline's mixed pixels grow it) and within 2.5 x as wide as deep. */
static inline int
worn_corner_shape (int bw, int bh, double sc)
{
  int ext = bw > bh ? bw : bh, nar = bw > bh ? bh : bw;
  return ext <= 100 * sc && ext <= 2.5 * nar;
}

/* Pixel k is a candidate of a component in group gi (steps 5b, 5c). */
static inline int
group_px (const uint8_t *cand, const int *lab, const int *grp, int gi, size_t k)
{
  return cand[k] && lab[k] > 0 && grp[lab[k] - 1] == gi;
}

/* A loss that step 5's gap bridging joined to the outline's own shallow strip along the same
 * edge (its mixed pixels, where the warped outline wavers) reads as a loss far longer than any
 * chip and was dropped as print (5c). The columns (rows, at a side edge) where the group reaches
 * at least LOSS_MIN_DEPTH into the cover, gaps of up to 3 px bridged: the deepest such run, when
 * at most 150 px (at 1060 px width) along the edge, is the loss, and g's box is narrowed to it
 * (from the edge to its deepest pixel). Returns 1 when narrowed. */
static int
loss_spike (const int *lab, const uint8_t *cand, const int *grp, int gi, Comp *g, int touch,
            int w, int h, double sc)
{
  int a0 = (touch & 1) ? g->y0 : g->x0, a1 = (touch & 1) ? g->y1 : g->x1, n = a1 - a0 + 1;
  int *dep = calloc ((size_t) n, sizeof (int));
  if (!dep)
    return 0;
  for (int y = g->y0; y <= g->y1; y++)
    for (int x = g->x0; x <= g->x1; x++)
      {
        if (!group_px (cand, lab, grp, gi, (size_t) y * w + x))
          continue;
        int d = touch == 0 ? y + 1 : touch == 1 ? w - x : touch == 2 ? h - y : x + 1;
        int a = ((touch & 1) ? y : x) - a0;
        dep[a] = d > dep[a] ? d : dep[a];
      }
  int best0 = -1, best1 = -1, bestd = 0;
  for (int a = 0; a < n;)
    {
      if (dep[a] < LOSS_MIN_DEPTH (sc))
        {
          a++;
          continue;
        }
      int b = a, md = dep[a];
      for (int c = a + 1; c < n && c <= b + 3; c++)
        if (dep[c] >= LOSS_MIN_DEPTH (sc))
          {
            b = c;
            md = dep[c] > md ? dep[c] : md;
          }
      if (md > bestd)
        bestd = md, best0 = a, best1 = b;
      a = b + 1;
    }
  free (dep);
  if (best0 < 0 || best1 - best0 + 1 > 150 * sc)
    return 0;
  if (touch & 1)
    g->y0 = a0 + best0, g->y1 = a0 + best1;
  else
    g->x0 = a0 + best0, g->x1 = a0 + best1;
  if (touch == 0)
    g->y1 = bestd - 1;
  else if (touch == 1)
    g->x0 = w - bestd;
  else if (touch == 2)
    g->y0 = h - bestd;
  else
    g->x1 = bestd - 1;
  return 1;
}

/* A printed panel of halftone (dots on a flat ground) is, on the descreened print, a flat
 * region of a tint-like colour whose edge passes 5d's contour tests; a stain over halftone has
 * the same texture on both sides of its rim, and one on flat print none. Per direction of the
 * outline (its GV_DK_STAR_BINS bins) the halftone texture (|luma - luma of the box mean
 * (DESCREEN_R)| over that mean's luma + 10) is averaged 0.75..1 of the outline inside and
 * 1..1.25 outside; the texture starts at the rim where it is over GV_DK_STAIN_TEX_MIN inside
 * and over GV_DK_STAIN_TEX_JUMP times (outside + 0.01). Returns the share of the directions
 * (with 4 px or more each side) where it does. */
#define GV_DK_STAIN_TEX_MIN 0.06
#define GV_DK_STAIN_TEX_JUMP 2.5
/* ... and a second-pass stain is print when that share is GV_DK_STAIN_PANEL or more (true
 * stains of ten sets: at most 0.22; halftone panels taken for stains 0.41..0.69) */
#define GV_DK_STAIN_PANEL 0.25

static double
stain_tex_jump (const GvImage *P, int M, int w, int h, double sc, const double *rad, double cx, double cy)
{
  double si[GV_DK_STAR_BINS] = { 0 }, so[GV_DK_STAR_BINS] = { 0 }, rmax = 0;
  long ni[GV_DK_STAR_BINS] = { 0 }, no[GV_DK_STAR_BINS] = { 0 };
  int rr = DESCREEN_R (sc);
  for (int b = 0; b < GV_DK_STAR_BINS; b++)
    rmax = rad[b] > rmax ? rad[b] : rmax;
  int x0 = (int) floor (cx - 1.25 * rmax - 1), x1 = (int) ceil (cx + 1.25 * rmax + 1);
  int y0 = (int) floor (cy - 1.25 * rmax - 1), y1 = (int) ceil (cy + 1.25 * rmax + 1);
  x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0, x1 = x1 > w - 1 ? w - 1 : x1, y1 = y1 > h - 1 ? h - 1 : y1;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++)
      {
        int in1 = star_inside_k (rad, cx, cy, x, y, 1.0);
        int in = in1 && !star_inside_k (rad, cx, cy, x, y, 0.75);
        int out = !in1 && star_inside_k (rad, cx, cy, x, y, 1.25);
        if (!in && !out)
          continue;
        double t = (atan2 (y - cy, x - cx) + M_PI) / (2 * M_PI) * GV_DK_STAR_BINS;
        int b = (int) floor (t);
        b = b < 0 ? 0 : (b >= GV_DK_STAR_BINS ? GV_DK_STAR_BINS - 1 : b);
        uint8_t bm[3];
        const uint8_t *p = gv_image_row_u8 ((GvImage *) P, y + M) + 3 * (x + M);
        gv_dk_box_px ((const uint8_t *) P->data, P->width, P->height, (int) P->stride, x + M, y + M, rr, bm);
        double lb = gv_dk_luma (bm), d = fabs ((double) gv_dk_luma (p) - lb) / (lb + 10);
        if (in)
          si[b] += d, ni[b]++;
        else
          so[b] += d, no[b]++;
      }
  int n = 0, j = 0;
  for (int b = 0; b < GV_DK_STAR_BINS; b++)
    {
      if (ni[b] < 4 || no[b] < 4)
        continue;
      double a = si[b] / ni[b], c = so[b] / no[b];
      n++;
      j += a > GV_DK_STAIN_TEX_MIN && a > GV_DK_STAIN_TEX_JUMP * (c + 0.01);
    }
  return n ? (double) j / n : 0;
}

/* The angle between the chords through the centroids of a line group's three thirds along its
 * axis (ux, uy) (pixels at t in [tmin, tmax] along it from (ox, oy)); 0 when a third is empty.
 * With grp NULL: component gi alone. */
static double
line_bend (const int *lab, const uint8_t *cand, const int *grp, int gi, const Comp *g, int w,
           double ox, double oy, double ux, double uy, double tmin, double tmax)
{
  double cx[3] = { 0, 0, 0 }, cy[3] = { 0, 0, 0 };
  long n[3] = { 0, 0, 0 };
  double span = tmax - tmin;
  if (span <= 0)
    return 0;
  for (int y = g->y0; y <= g->y1; y++)
    for (int x = g->x0; x <= g->x1; x++)
      {
        size_t k = (size_t) y * w + x;
        if (grp ? !group_px (cand, lab, grp, gi, k) : !(cand[k] && lab[k] == gi + 1))
          continue;
        double t = (x - ox) * ux + (y - oy) * uy;
        int third = (int) floor ((t - tmin) / span * 3);
        third = third < 0 ? 0 : (third > 2 ? 2 : third);
        cx[third] += x, cy[third] += y, n[third]++;
      }
  if (!n[0] || !n[1] || !n[2])
    return 0;
  for (int i = 0; i < 3; i++)
    cx[i] /= n[i], cy[i] /= n[i];
  double ax = cx[1] - cx[0], ay = cy[1] - cy[0], bx = cx[2] - cx[1], by = cy[2] - cy[1];
  double na = sqrt (ax * ax + ay * ay), nb = sqrt (bx * bx + by * by);
  if (na <= 0 || nb <= 0)
    return 0;
  double c = (ax * bx + ay * by) / (na * nb);
  c = c > 1 ? 1 : (c < -1 ? -1 : c);
  return acos (c);
}

/* The print's luma (gv_dk_luma) at the nearest pixel to (x, y), cover coordinates (the margin
 * M around the cover is print too; beyond it, clamped). */
static double
print_luma (const GvImage *P, int M, int w, int h, double x, double y)
{
  int xi = (int) lround (x), yi = (int) lround (y);
  xi = xi < -M ? -M : (xi >= w + M ? w + M - 1 : xi);
  yi = yi < -M ? -M : (yi >= h + M ? h + M - 1 : yi);
  return gv_dk_luma (gv_image_row_u8 (P, yi + M) + 3 * (xi + M));
}

/* Print across unit normal (nx, ny) at (x, y), the best of the points -1, 0, 1 px along it:
 * *ridge, how much brighter the point is than both sides d px away; *any, the largest of that,
 * the same for a dark line, and the step between the two sides. */
static void
print_across (const GvImage *P, int M, int w, int h, double x, double y, double nx, double ny,
              double d, double *ridge, double *any)
{
  *ridge = *any = -1e9;
  for (int o = -1; o <= 1; o++)
    {
      double cx = x + o * nx, cy = y + o * ny;
      double c = print_luma (P, M, w, h, cx, cy);
      double p1 = print_luma (P, M, w, h, cx + d * nx, cy + d * ny);
      double m1 = print_luma (P, M, w, h, cx - d * nx, cy - d * ny);
      double bright = fmin (c - p1, c - m1), dark = fmin (p1 - c, m1 - c);
      double v = fmax (fabs (p1 - m1), fmax (bright, dark));
      *ridge = fmax (*ridge, bright);
      *any = fmax (*any, v);
    }
}

/* Whether the pixels of line group gi (grp NULL: component gi alone) within box g lie on a
 * circle that print follows on beyond their ends, more than it follows their tangents (the
 * GV_DK_ARC_* rule). P: the print estimate with margin M; w x h the cover at scale sc. */
static int
ring_continues (const int *lab, const uint8_t *cand, const int *grp, int gi, const Comp *g, int w,
                int h, const GvImage *P, int M, double sc)
{
#define ARC_PX(k) (grp ? group_px (cand, lab, grp, gi, (k)) : (cand[k] && lab[k] == gi + 1))
  double n = 0, sx = 0, sy = 0;
  for (int y = g->y0; y <= g->y1; y++)
    for (int x = g->x0; x <= g->x1; x++)
      if (ARC_PX ((size_t) y * w + x))
        n++, sx += x, sy += y;
  if (n < 10)
    return 0;
  /* the circle: from the parabola n = a t^2 + b t + c fitted (least squares) to the pixels in
   * the frame of their principal axis (t along it, n across, about the centroid): its vertex's
   * osculating circle, radius 1 / |2a| (a fit of the circle itself degenerates on a nearly
   * straight line) */
  double mx = sx / n, my = sy / n, cxx = 0, cyy = 0, cxy = 0;
  for (int y = g->y0; y <= g->y1; y++)
    for (int x = g->x0; x <= g->x1; x++)
      if (ARC_PX ((size_t) y * w + x))
        cxx += (x - mx) * (x - mx), cyy += (y - my) * (y - my), cxy += (x - mx) * (y - my);
  double th = 0.5 * atan2 (2 * cxy, cxx - cyy), ux = cos (th), uy = sin (th);
  double s1 = 0, s2 = 0, s3 = 0, s4 = 0, q0 = 0, q1 = 0, q2 = 0;
  for (int y = g->y0; y <= g->y1; y++)
    for (int x = g->x0; x <= g->x1; x++)
      if (ARC_PX ((size_t) y * w + x))
        {
          double t = (x - mx) * ux + (y - my) * uy, v = -(x - mx) * uy + (y - my) * ux;
          s1 += t, s2 += t * t, s3 += t * t * t, s4 += t * t * t * t;
          q0 += v, q1 += v * t, q2 += v * t * t;
        }
  /* [s4 s3 s2; s3 s2 s1; s2 s1 n] [a b c] = [q2 q1 q0], by Cramer's rule */
  double det = s4 * (s2 * n - s1 * s1) - s3 * (s3 * n - s1 * s2) + s2 * (s3 * s1 - s2 * s2);
  if (fabs (det) < 1e-9)
    return 0;
  double pa = (q2 * (s2 * n - s1 * s1) - s3 * (q1 * n - s1 * q0) + s2 * (q1 * s1 - s2 * q0)) / det;
  double pb = (s4 * (q1 * n - s1 * q0) - q2 * (s3 * n - s1 * s2) + s2 * (s3 * q0 - q1 * s2)) / det;
  double pc = (s4 * (s2 * q0 - q1 * s1) - s3 * (s3 * q0 - q1 * s2) + q2 * (s3 * s1 - s2 * s2)) / det;
  if (fabs (pa) < 1e-6)
    return 0;
  double R = 1.0 / fabs (2 * pa), tv = -pb / (2 * pa), nv0 = pc - pb * pb / (4 * pa);
  double ct = tv, cn = nv0 + 1.0 / (2 * pa);
  double cx = mx + ct * ux - cn * uy, cy = my + ct * uy + cn * ux;
  double uc = cx - mx, vc = cy - my;
  /* the pixels' angles about the centre, from the centroid's */
  double a0 = atan2 (-vc, -uc), ta = 1e30, tb = -1e30;
  for (int y = g->y0; y <= g->y1; y++)
    for (int x = g->x0; x <= g->x1; x++)
      if (ARC_PX ((size_t) y * w + x))
        {
          double t = atan2 (y - cy, x - cx) - a0;
          t = t > M_PI ? t - 2 * M_PI : (t <= -M_PI ? t + 2 * M_PI : t);
          ta = t < ta ? t : ta;
          tb = t > tb ? t : tb;
        }
#undef ARC_PX
  double len = (tb - ta) * R, d = 3 * sc + 0.5;
  int nv = 0, rc = 0, rt = 0, ec = 0, et = 0;
  for (int side = -1; side <= 1; side += 2)
    {
      double te = a0 + (side > 0 ? tb : ta);
      double ex = cx + R * cos (te), ey = cy + R * sin (te);
      double tx = -sin (te) * side, ty = cos (te) * side;
      for (double s = 1; s <= len; s += 1)
        {
          double tc = te + side * s / R;
          double px = cx + R * cos (tc), py = cy + R * sin (tc), qx = ex + s * tx, qy = ey + s * ty;
          if (hypot (px - qx, py - qy) < 2.5 || px < 3 || py < 3 || px > w - 4 || py > h - 4
              || qx < 3 || qy < 3 || qx > w - 4 || qy > h - 4)
            continue;
          double ridge, any;
          nv++;
          print_across (P, M, w, h, px, py, cos (tc), sin (tc), d, &ridge, &any);
          rc += ridge >= GV_DK_ARC_RIDGE, ec += any >= GV_DK_ARC_EDGE;
          print_across (P, M, w, h, qx, qy, cos (te), sin (te), d, &ridge, &any);
          rt += ridge >= GV_DK_ARC_RIDGE, et += any >= GV_DK_ARC_EDGE;
        }
    }
  if (nv < GV_DK_ARC_MIN_SAMPLES)
    return 0;
  double fc = (double) rc / nv, ft = (double) rt / nv, gc = (double) ec / nv, gt = (double) et / nv;
  return (fc >= GV_DK_ARC_RIDGE_SHARE && fc - ft >= GV_DK_ARC_RIDGE_LEAD)
         || (gc >= GV_DK_ARC_EDGE_SHARE && gc - gt >= GV_DK_ARC_EDGE_LEAD);
}

/* The most a line of length len (working px) may measure by line_bend (5c): GV_DK_LINE_MAXTURN's
 * 2/3 (GV_DK_SHORT_LINE_MAXBEND under 200 px at 1060 px width), or from 200 px the turn of a
 * circle of GV_DK_LINE_MINRADIUS over its length, whichever is more. */
static double
bend_limit (double len, double sc)
{
  double maxbend = len < 200 * sc ? GV_DK_SHORT_LINE_MAXBEND : GV_DK_LINE_MAXTURN * 2.0 / 3.0;
  if (len >= 200 * sc && 2.0 / 3.0 * len / (GV_DK_LINE_MINRADIUS * sc) > maxbend)
    maxbend = 2.0 / 3.0 * len / (GV_DK_LINE_MINRADIUS * sc);
  return maxbend;
}

/* ------------------------------------------------------------------ the stage */

static int
analyze_at (GvBackend *be, const GvDefectInput *in, int n, int cover_w, int cover_h, double width_mm,
            double height_mm, int nthreads, int (*cancelled) (void *), void *cancel_ud,
            GvDefectReport **out)
{
  GvDefectReport *r = calloc (1, sizeof *r);
  GvImage *covers[GV_DEFECTS_MAX_COVERS] = { 0 };
  GvImage *ref = NULL, *gray = NULL, *line = NULL, *stain = NULL, *descreened = NULL, *stain2 = NULL;
  uint8_t *missing = NULL, *cand = NULL, *tmp = NULL, *final = NULL, *sdark = NULL, *sdark2 = NULL;
  int *lab = NULL, *grp = NULL;
  Comp *comps = NULL, *gsum = NULL;
  LineFeat *feat = NULL;
  float *tab[4] = { 0 };
  int rc = GV_OK, nc = 0, on_device = 0;
  GvDmDevice *dev = NULL;
  int w = cover_w, h = cover_h, M = (int) lround (0.04 * w) < 8 ? 8 : (int) lround (0.04 * w);
  int W = w + 2 * M, Hh = h + 2 * M;
  double sc = w / 1060.0;
  double Hs[GV_DEFECTS_MAX_COVERS][9];

  *out = NULL;
  if (!r)
    return gv_error_set (GV_ENOMEM, "out of memory");
  r->width = w;
  r->height = h;
  r->mm_per_px_x = width_mm / w;
  r->mm_per_px_y = height_mm / h;
  for (int i = 0; i < n && r->n_covers < GV_DEFECTS_MAX_COVERS; i++)
    {
      if (!in[i].rgb || !in[i].quad)
        continue;
      if (gv_homography_cover_to_frame (in[i].quad, w, h, Hs[r->n_covers]) != GV_OK)
        continue;
      if (in[i].touches_border)
        r->flags |= GV_QF_COVER_PARTLY_OUT;
      r->cover_index[r->n_covers++] = in[i].golden_index;
    }
  if (r->n_covers == 0)
    r->flags |= GV_QF_COVER_NOT_FOUND;
  if (r->n_covers < GV_DEFECTS_MIN_FRAMES)
    r->flags |= GV_QF_TOO_FEW_SHARP;
  if (r->n_covers == 0)
    goto out;

  /* 1. margined warps, aligned to the first cover. On a device backend each golden frame goes
   * up once; its gray copy, the alignment warps and the cover warps run there, and the covers
   * stay there for step 2. */
  if (be)
    {
      rc = gv_dm_device_new (be, W, Hh, &dev);
      if (rc == GV_EUNSUPPORTED)
        {
          gv_error_clear ();
          rc = GV_OK;
        }
      else if (rc)
        goto out;
    }
  if (!dev && !(ref = gv_image_new (W, Hh, 1, GV_U8)))
    {
      rc = gv_error_code ();
      goto out;
    }
  for (int k = 0, used = 0; k < n && used < r->n_covers; k++)
    {
      if (!in[k].rgb || !in[k].quad || in[k].golden_index != r->cover_index[used])
        continue;
      double Hm[9], tx = 0, ty = 0;
      if (cancelled && cancelled (cancel_ud))
        {
          rc = gv_error_set (GV_ECANCELLED, "analysis cancelled");
          goto out;
        }
      if (dev)
        rc = gv_dm_device_frame (dev, in[k].rgb);
      else if ((gray = gv_image_new (in[k].rgb->width, in[k].rgb->height, 1, GV_U8)))
        rc = gv_image_rgb_to_gray (in[k].rgb, gray);
      else
        rc = gv_error_code ();
      if (rc)
        goto out;
      if (used == 0)
        {
          margined_h (Hs[0], M, 0, 0, Hm);
          if ((rc = dev ? gv_dm_device_ref (dev, Hm) : gv_warp_perspective (gray, Hm, ref, nthreads)))
            goto out;
        }
      else if ((rc = align_translation (ref, gray, dev, Hs[used], M, w, h, nthreads, &tx, &ty)))
        goto out;
      gv_image_free (gray);
      gray = NULL;
      r->align_dx[used] = tx;
      r->align_dy[used] = ty;
      if (fabs (tx) > 1.0 || fabs (ty) > 1.0)
        r->flags |= GV_QF_ALIGN_POOR;
      margined_h (Hs[used], M, tx, ty, Hm);
      if (dev)
        rc = gv_dm_device_cover (dev, used, Hm);
      else if ((covers[used] = gv_image_new (W, Hh, 3, GV_U8)))
        rc = gv_warp_perspective (in[k].rgb, Hm, covers[used], nthreads);
      else
        rc = gv_error_code ();
      if (rc)
        goto out;
      used++;
    }

  /* 2. print estimate and glare (and on a device, 3c, 3e and 3e' with them) */
  sdark = calloc ((size_t) w * h, 1);
  line = gv_image_new (w, h, 1, GV_F32);
  stain = gv_image_new (w, h, 1, GV_F32);
  sdark2 = calloc ((size_t) w * h, 1);
  stain2 = gv_image_new (w, h, 1, GV_F32);
  if (!sdark || !line || !stain || !sdark2 || !stain2)
    {
      rc = gv_error_set (GV_ENOMEM, "out of memory");
      goto out;
    }
  {
    GvImage *mp = gv_image_new (W, Hh, 3, GV_U8), *mg = gv_image_new (W, Hh, 1, GV_U8);
    if (!mp || !mg)
      {
        gv_image_free (mp);
        gv_image_free (mg);
        rc = gv_error_code ();
        goto out;
      }
    if (dev)
      {
        rc = gv_dm_device_maps (dev, r->n_covers, M, INK_R (sc), mp, mg, line, stain, sdark);
        if (rc == GV_OK)
          rc = gv_dm_device_stain2 (dev, M, DESCREEN_R (sc), stain2, sdark2);
        gv_dm_device_free (dev);
        dev = NULL;
        if (rc)
          {
            gv_image_free (mp);
            gv_image_free (mg);
            goto out;
          }
        on_device = 1;
      }
    else
      {
        MedCtx mc = { covers, r->n_covers, mp, mg };
        gv_parallel_for (nthreads, Hh, 8, median_rows, &mc);
      }
    /* the report keeps them in cover coordinates */
    r->print = gv_image_new (w, h, 3, GV_U8);
    r->glare = gv_image_new (w, h, 1, GV_U8);
    if (r->print && r->glare)
      for (int y = 0; y < h; y++)
        {
          memcpy (gv_image_row_u8 (r->print, y), gv_image_row_u8 (mp, y + M) + 3 * M, 3 * (size_t) w);
          memcpy (gv_image_row_u8 (r->glare, y), gv_image_row_u8 (mg, y + M) + M, (size_t) w);
        }
    gv_image_free (mg);
    for (int k = 0; k < r->n_covers; k++)
      gv_image_free (covers[k]), covers[k] = NULL;
    covers[0] = mp; /* the margined print, freed at out */
    if (!r->print || !r->glare)
      {
        rc = gv_error_code ();
        goto out;
      }
  }
  if (cancelled && cancelled (cancel_ud))
    {
      rc = gv_error_set (GV_ECANCELLED, "analysis cancelled");
      goto out;
    }

  const GvImage *P = covers[0];
  int half = (r->n_covers + 1) / 2;
  size_t npx = (size_t) w * h;
  missing = calloc (npx, 1);
  cand = calloc (npx, 1);
  tmp = calloc (npx, 1);
  final = calloc (npx, 1);
  lab = malloc (sizeof (int) * npx);
  r->score = gv_image_new (w, h, 1, GV_F32);
  r->mask = gv_image_new (w, h, 1, GV_U8);
  for (int s = 0; s < 4; s++)
    tab[s] = calloc ((size_t) ((s & 1) ? h : w) * 3, sizeof (float));
  if (!missing || !cand || !tmp || !final || !sdark || !lab || !line || !stain || !r->score || !r->mask || !tab[0]
      || !tab[1] || !tab[2] || !tab[3])
    {
      rc = gv_error_set (GV_ENOMEM, "out of memory");
      goto out;
    }

  /* 3a. the table beside each side (0 top, 1 right, 2 bottom, 3 left): the mean of the strip 2
   * to 6 px outside the outline, over +-12 px along the side, skipping pixels outside the frame */
  for (int s = 0; s < 4; s++)
    {
      int len = (s & 1) ? h : w;
      for (int a = 0; a < len; a++)
        {
          double sum[3] = { 0, 0, 0 };
          int cnt = 0;
          for (int t = a - 12; t <= a + 12; t++)
            for (int d = 2; d <= 6 && d < M; d++)
              {
                int X, Y;
                if (t < 0 || t >= len)
                  continue;
                switch (s)
                  {
                  case 0: X = M + t, Y = M - 1 - d; break;
                  case 1: X = M + w + d, Y = M + t; break;
                  case 2: X = M + t, Y = M + h + d; break;
                  default: X = M - 1 - d, Y = M + t; break;
                  }
                const uint8_t *p = gv_image_row_u8 (P, Y) + 3 * X;
                if (!(p[0] | p[1] | p[2]))
                  continue;
                sum[0] += p[0], sum[1] += p[1], sum[2] += p[2];
                cnt++;
              }
          for (int c = 0; c < 3; c++)
            tab[s][3 * a + c] = cnt ? (float) (sum[c] / cnt) : -1000.0f;
        }
    }

  /* 3b. table inside the outline (wide losses) or seen through a thin cut, grown from the
   * outline through such pixels within the border zone (depth 10 % of the width) */
  {
    int Dz = (int) lround (0.10 * w);
    int *stack = malloc (sizeof (int) * npx);
    if (!stack)
      {
        rc = gv_error_set (GV_ENOMEM, "out of memory");
        goto out;
      }
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          int dist[4] = { y, w - 1 - x, h - 1 - y, x };
          int dmin = dist[0];
          for (int s = 1; s < 4; s++)
            dmin = dist[s] < dmin ? dist[s] : dmin;
          if (dmin > Dz || (gv_image_row_u8 (r->glare, y)[x] && __builtin_popcount (gv_image_row_u8 (r->glare, y)[x]) >= half))
            continue;
          const uint8_t *p = gv_image_row_u8 (P, y + M) + 3 * (x + M);
          int like = 0;
          for (int s = 0; s < 4 && !like; s++)
            if (dist[s] <= Dz)
              {
                const float *t = &tab[s][3 * ((s & 1) ? y : x)];
                like = gv_dk_tablelike (p, t)
                       || gv_dk_cut_at ((const uint8_t *) P->data, W, Hh, (int) P->stride, x + M,
                                        y + M, t) >= GV_DK_CUT_AMIN;
              }
          /* 2: table-like only in the cover's shadow */
          for (int s = 0; s < 4 && !like; s++)
            if (dist[s] <= Dz)
              like = 2 * gv_dk_tablelike_shaded (p, &tab[s][3 * ((s & 1) ? y : x)], GV_DK_TABLE_SHADE);
          cand[(size_t) y * w + x] = (uint8_t) like;
        }
    int sp = 0;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        if ((x < 2 || y < 2 || x >= w - 2 || y >= h - 2) && cand[(size_t) y * w + x] == 1)
          {
            missing[(size_t) y * w + x] = 1;
            stack[sp++] = y * w + x;
          }
    while (sp)
      {
        int j = stack[--sp], x = j % w, y = j / w;
        for (int dy = -1; dy <= 1; dy++)
          for (int dx = -1; dx <= 1; dx++)
            {
              int xx = x + dx, yy = y + dy;
              if (xx < 0 || yy < 0 || xx >= w || yy >= h)
                continue;
              int k = yy * w + xx;
              if (cand[k] == 1 && !missing[k])
                {
                  missing[k] = 1;
                  stack[sp++] = k;
                }
            }
      }
    /* Table in the cover's shadow: pieces of pixels table-like only when shaded, reaching the
     * outline or a loss above, are a chip when chip-sized and compact: at most 64 px along
     * the edge and 32 px deep (at 1060 px width; a chip is a few mm) and filling at least
     * GV_DK_SHADE_FILL of their box. Longer or sparse pieces are print of a darker
     * table-like colour (a brown ray at the spine) and are left alone, apart from the
     * lines and losses beside them. */
    {
      uint8_t *seen = final; /* free until step 3d */
      memset (seen, 0, npx);
      for (int y0 = 0; y0 < h; y0++)
        for (int x0 = 0; x0 < w; x0++)
          {
            size_t k0 = (size_t) y0 * w + x0;
            if (cand[k0] != 2 || seen[k0])
              continue;
            int bx0 = x0, by0 = y0, bx1 = x0, by1 = y0, touch = 0, n0 = 0;
            sp = 0;
            seen[k0] = 1;
            stack[sp++] = (int) k0;
            for (int i = 0; i < sp; i++)
              {
                int j = stack[i], x = j % w, y = j / w;
                bx0 = x < bx0 ? x : bx0, bx1 = x > bx1 ? x : bx1;
                by0 = y < by0 ? y : by0, by1 = y > by1 ? y : by1;
                touch |= x < 2 || y < 2 || x >= w - 2 || y >= h - 2;
                for (int dy = -1; dy <= 1; dy++)
                  for (int dx = -1; dx <= 1; dx++)
                    {
                      int xx = x + dx, yy = y + dy;
                      if (xx < 0 || yy < 0 || xx >= w || yy >= h)
                        continue;
                      int k = yy * w + xx;
                      touch |= missing[k] == 1;
                      if (cand[k] == 2 && !seen[k])
                        {
                          seen[k] = 1;
                          stack[sp++] = k;
                        }
                    }
              }
            n0 = sp;
            /* the losses it touches are the same chip: each whole (flood-filled through
             * its loss pixels), their extent joins the piece's for the isolation test below;
             * their marks are undone after, as other pieces may touch them too */
            int ex0 = bx0, ey0 = by0, ex1 = bx1, ey1 = by1;
            for (int i = 0; i < sp; i++)
              {
                int j = stack[i], x = j % w, y = j / w;
                for (int dy = -1; dy <= 1; dy++)
                  for (int dx = -1; dx <= 1; dx++)
                    {
                      int xx = x + dx, yy = y + dy;
                      if (xx < 0 || yy < 0 || xx >= w || yy >= h)
                        continue;
                      int k = yy * w + xx;
                      if (missing[k] == 1 && !seen[k])
                        {
                          seen[k] = 3;
                          stack[sp++] = k;
                          ex0 = xx < ex0 ? xx : ex0, ex1 = xx > ex1 ? xx : ex1;
                          ey0 = yy < ey0 ? yy : ey0, ey1 = yy > ey1 ? yy : ey1;
                        }
                    }
              }
            for (int i = n0; i < sp; i++)
              seen[stack[i]] = 0; /* losses may touch other pieces too */
            int bw = bx1 - bx0 + 1, bh = by1 - by0 + 1;
            /* along the nearest edge, and deep into the cover */
            int dtop = by0, dbot = h - 1 - by1, dlft = bx0, drgt = w - 1 - bx1;
            int dmin = dtop < dbot ? dtop : dbot;
            int dh = dlft < drgt ? dlft : drgt;
            int along = dmin <= dh ? bw : bh, depth = dmin <= dh ? bh : bw;
            /* a worn corner is cut by two edges: along and deep are either of its sides */
            int corner = (bx0 <= 2 || bx1 >= w - 3) && (by0 <= 2 || by1 >= h - 3);
            if (corner && along < depth)
              {
                int t = along;
                along = depth, depth = t;
              }
            /* deeper than the outline's own mixed pixels (4 + 2 px, as 5c asks of a loss),
             * measured from the outline: a piece beyond a shallow loss it touches (the lit rim
             * of a chip) reaches as deep as its far side; beside a corner's loss, the worn
             * corner's own shape decides (5c), so there the piece's own depth counts */
            int ecorner = (ex0 <= 2 || ex1 >= w - 3) && (ey0 <= 2 || ey1 >= h - 3), reach = depth;
            if (!corner && !ecorner)
              reach = dmin <= dh ? (dtop <= dbot ? by1 + 1 : h - by0) : (dlft <= drgt ? bx1 + 1 : w - bx0);
            int ok = touch && along <= 64 * sc && depth <= 32 * sc && reach >= 6 * sc + 1 && n0 >= 4
                     && n0 >= GV_DK_SHADE_FILL * bw * bh;
            /* a chip is wider along the edge than deep (a broken-off bite); a band of print
             * meeting the edge (a rule's end) is deeper than wide */
            ok = ok && along >= depth;
            /* a chip stands alone: no loss within 40 px along the edge on either side (spine
             * lines whiten to the table's colour at the edge and cut a dark ray into such
             * pieces); a corner's wear is one piece with the loss beside it */
            if (ok && !corner)
              {
                int horiz = dmin <= dh, r40 = (int) lround (40 * sc), d32 = (int) lround (32 * sc);
                int a0 = horiz ? ex0 : ey0, a1 = horiz ? ex1 : ey1;
                for (int a = a0 - r40; a <= a1 + r40 && ok; a++)
                  {
                    if (a >= a0 && a <= a1)
                      continue;
                    for (int dd = 0; dd <= d32 && ok; dd++)
                      {
                        int X = horiz ? a : (dlft <= drgt ? dd : w - 1 - dd);
                        int Y = horiz ? (dtop <= dbot ? dd : h - 1 - dd) : a;
                        if (X >= 0 && Y >= 0 && X < w && Y < h && missing[(size_t) Y * w + X] == 1)
                          ok = 0;
                      }
                  }
              }
            /* a chip is a notch: beyond its depth lies paper. A band of print that runs on
             * inwards past the piece (a rule or frame line reaching the edge, darker than
             * the table) continues in the piece's own colour: in most rows (or columns)
             * across it, the pixels 3..6 px deeper (past the mixed pixels at a chip's inner
             * edge) are all within the tolerance of the piece's mean
             * (a worn corner is cut by two edges: not tested) */
            if (ok && !corner)
              {
                double mc[3] = { 0, 0, 0 };
                for (int i = 0; i < n0; i++)
                  {
                    const uint8_t *q = gv_image_row_u8 (P, stack[i] / w + M) + 3 * (stack[i] % w + M);
                    mc[0] += q[0], mc[1] += q[1], mc[2] += q[2];
                  }
                float mf[3] = { (float) (mc[0] / n0), (float) (mc[1] / n0), (float) (mc[2] / n0) };
                int horiz = dmin <= dh, top = dtop <= dbot, lft = dlft <= drgt;
                int a0 = horiz ? bx0 : by0, a1 = horiz ? bx1 : by1, runs = 0, rows = 0;
                for (int a = a0; a <= a1; a++)
                  {
                    /* the piece's deepest pixel in this row or column */
                    int deep = -1;
                    for (int dd = 0; dd <= depth + 1; dd++)
                      {
                        int X = horiz ? a : (lft ? dd : w - 1 - dd);
                        int Y = horiz ? (top ? dd : h - 1 - dd) : a;
                        if (X >= 0 && Y >= 0 && X < w && Y < h && cand[(size_t) Y * w + X] == 2
                            && seen[(size_t) Y * w + X])
                          deep = dd;
                      }
                    if (deep < 0)
                      continue;
                    rows++;
                    int like = 1;
                    for (int dd = deep + 3; dd <= deep + 6 && like; dd++)
                      {
                        int X = horiz ? a : (lft ? dd : w - 1 - dd);
                        int Y = horiz ? (top ? dd : h - 1 - dd) : a;
                        if (X < 0 || Y < 0 || X >= w || Y >= h)
                          continue;
                        const uint8_t *q = gv_image_row_u8 (P, Y + M) + 3 * (X + M);
                        for (int c = 0; c < 3; c++)
                          like &= fabsf ((float) q[c] - mf[c]) <= (float) GV_DK_TABLE_TOL;
                      }
                    runs += like;
                  }
                if (2 * runs > rows)
                  ok = 0;
              }
            if (ok)
              for (int i = 0; i < n0; i++)
                missing[stack[i]] = 2; /* apart until every piece is judged */
          }
      for (size_t k = 0; k < npx; k++)
        missing[k] = missing[k] != 0;
    }
    free (stack);
  }

  /* 3c. whitened thin lines, 3e. stain edges (computed with the print on a device) */
  if (!on_device)
    {
      EvidenceCtx ec = { P, line, stain, sdark, M };
      gv_parallel_for (nthreads, h, 8, evidence_rows, &ec);
    }

  /* 3e'. stain edges on the descreened print, for the second stain pass (5d, 5e): the mean over
   * a box of 2r + 1 px (DESCREEN_R; on a device, computed with the maps) */
  if (!on_device)
    {
      if (!(descreened = gv_image_new (W, Hh, 3, GV_U8)))
        {
          rc = gv_error_set (GV_ENOMEM, "out of memory");
          goto out;
        }
      DescreenCtx dc = { P, descreened, DESCREEN_R (sc) };
      gv_parallel_for (nthreads, Hh, 8, descreen_rows, &dc);
      EvidenceCtx ec = { descreened, NULL, stain2, sdark2, M };
      gv_parallel_for (nthreads, h, 8, evidence_rows, &ec);
    }

  /* 3d. no line evidence within 10 px (at 1060 px width) of black ink (gv_dk_is_ink): the white
   * gaps in text, bar codes and inked outlines are print (on a device, done with the maps) */
  if (!on_device)
    {
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          final[(size_t) y * w + x] = gv_dm_ink_at (gv_image_row_u8 (P, 0), (int) P->stride, M, x, y);
      dilate (final, w, h, INK_R (sc), tmp);
      for (int y = 0; y < h; y++)
        {
          float *l = gv_image_row_f32 (line, y);
          for (int x = 0; x < w; x++)
            if (final[(size_t) y * w + x])
              l[x] = 0.0f;
        }
    }

  /* 4. score map: 1 for table inside the outline, 2a (capped at 1) for whitened lines; 0 under
   * glare in half the covers or more */
  for (int y = 0; y < h; y++)
    {
      float *s = gv_image_row_f32 (r->score, y);
      const float *l = gv_image_row_f32 (line, y);
      const uint8_t *g = gv_image_row_u8 (r->glare, y);
      for (int x = 0; x < w; x++)
        {
          /* (negative line evidence: only the video colour model sees it, 5c') */
          float lv = l[x] > 0.0f ? l[x] : 0.0f;
          float v = missing[(size_t) y * w + x] ? 1.0f : (lv * 2.0f > 1.0f ? 1.0f : lv * 2.0f);
          if (__builtin_popcount (g[x]) >= half)
            v = 0.0f;
          s[x] = v;
          cand[(size_t) y * w + x] = (uint8_t) (v >= 2.0f * GV_DK_LINE_AMIN || missing[(size_t) y * w + x]);
        }
    }

  /* 5. components: candidates joined across gaps of 12 px (at 1060 px width): the pieces of
   * one crease or scratch, where the print hides it, are one defect */
  memcpy (final, cand, npx);
  dilate (final, w, h, (int) lround (6 * sc) > 1 ? (int) lround (6 * sc) : 1, tmp);
  nc = label_components (final, cand, w, h, lab, &comps);
  if (nc < 0)
    {
      rc = gv_error_set (GV_ENOMEM, "out of memory");
      goto out;
    }
  for (int i = 0; i < (int) npx; i++)
    if (lab[i] && missing[i])
      comps[lab[i] - 1].n_missing++;

  r->defects = calloc ((size_t) nc + 251, sizeof (GvDefect)); /* + stains */
  grp = malloc (sizeof (int) * ((size_t) nc + 1));
  feat = calloc ((size_t) nc + 1, sizeof (LineFeat));
  if (!r->defects || !grp || !feat)
    {
      rc = gv_error_set (GV_ENOMEM, "out of memory");
      goto out;
    }
  memset (final, 0, npx);

  /* 5a. features: a line's direction and half-length from its second moments (a uniform bar
   * of length L has variance L^2 / 12 along it) */
  for (int ci = 0; ci < nc; ci++)
    {
      Comp *c = &comps[ci];
      LineFeat *f = &feat[ci];
      grp[ci] = ci;
      if (c->area <= 0)
        continue;
      f->mx = c->sx / c->area;
      f->my = c->sy / c->area;
      double cxx = c->sxx / c->area - f->mx * f->mx, cyy = c->syy / c->area - f->my * f->my;
      double cxy = c->sxy / c->area - f->mx * f->my;
      double tr = 0.5 * (cxx + cyy), dd = sqrt (0.25 * (cxx - cyy) * (cxx - cyy) + cxy * cxy);
      double l1 = tr + dd;
      f->minor = tr - dd > 0 ? sqrt (tr - dd) : 0;
      f->half = sqrt (3 * l1);
      /* main axis: the eigenvector of l1 */
      double ex = cxy, ey = l1 - cxx;
      if (fabs (ex) + fabs (ey) < 1e-12)
        ex = cxx >= cyy ? 1 : 0, ey = cxx >= cyy ? 0 : 1;
      double en = sqrt (ex * ex + ey * ey);
      f->dx = ex / en;
      f->dy = ey / en;
      int bw = c->x1 - c->x0 + 1, bh = c->y1 - c->y0 + 1;
      double len = sqrt ((double) bw * bw + (double) bh * bh);
      f->kind = 0;
      int linelike = len >= 14 * sc && c->area >= 8 && c->area / len <= 6.0;
      /* paper missing at the outline; a crease-long line that only starts at the outline
       * (its first pixels read as table) stays a line */
      if (c->n_missing >= (long) lround (6 * sc * sc) + 2
          && !(linelike && c->n_missing * 5 < c->area && len >= 0.22 * h))
        f->kind = 1;
      else if (linelike)
        {
          /* a spine line or a line; a piece of 8 or 9 px is too small for a spine line but
           * counts as a line (reported only when joined into one of 100 px or more, 5b) */
          f->kind = (c->x0 <= 3 * sc + 1 && c->x1 < 0.07 * w) ? 3 : 2;
          if (f->kind == 3 && c->area < 10)
            f->kind = 0;
        }
    }
  /* 5a'. spine stress that reaches the outline: its short lines, stacked along the spine,
   * whiten to the table's colour at the edge and read as losses. A loss at the spine of a
   * line's depth (4 + 2 .. 60 px at 1060 px width: the longest stress line, 50 px, and its
   * fibre) with at least two other such losses or spine lines within 150 px along the spine is
   * one of them; a chip or tear stands alone. Marked first, changed after: deterministic. */
  {
    int edge = (int) lround (3 * sc) + 1;
    for (int ci = 0; ci < nc; ci++)
      {
        Comp *c = &comps[ci];
        int bw = c->x1 - c->x0 + 1;
        /* (a notch taller along the spine than deep and filling GV_DK_NOTCH_FILL of its box
         * or more is a chip, standing alone: stress lines' losses run into the cover, and
         * where the bridging joins the ends of several they are sparse) */
        int bh = c->y1 - c->y0 + 1, notch = bh > bw && c->area >= GV_DK_NOTCH_FILL * bw * bh;
        feat[ci].stack = feat[ci].kind == 3
                         || (feat[ci].kind == 1 && c->area > 0 && c->x0 <= edge && bw >= LOSS_MIN_DEPTH (sc)
                             && bw <= 60 * sc && c->y0 > 2 && c->y1 < h - 3 && !notch);
      }
    for (int ci = 0; ci < nc; ci++)
      {
        if (feat[ci].kind != 1 || !feat[ci].stack)
          continue;
        int near = 0;
        for (int cj = 0; cj < nc; cj++)
          near += cj != ci && feat[cj].stack && fabs (feat[cj].my - feat[ci].my) <= 150 * sc;
        if (near >= 2)
          feat[ci].stack = 2;
      }
    for (int ci = 0; ci < nc; ci++)
      if (feat[ci].stack == 2)
        feat[ci].kind = 3;
    /* a spine line that stands alone (no other spine line or stacked loss within 150 px along
     * the spine) and runs at least 40 px into the cover is a tear from the spine: stress lines
     * come in stacks of 4 or more */
    for (int ci = 0; ci < nc; ci++)
      {
        if (feat[ci].kind != 3 || comps[ci].x1 - comps[ci].x0 + 1 < 40 * sc)
          continue;
        int near = 0;
        for (int cj = 0; cj < nc; cj++)
          near += cj != ci && feat[cj].kind == 3 && fabs (feat[cj].my - feat[ci].my) <= 150 * sc;
        if (near == 0)
          feat[ci].lone = 1;
      }
  }
  /* moments of each group while pieces are joined (5b) */
  gsum = malloc (sizeof (Comp) * ((size_t) nc + 1));
  if (!gsum)
    {
      rc = gv_error_set (GV_ENOMEM, "out of memory");
      goto out;
    }
  if (nc > 0)
    memcpy (gsum, comps, sizeof (Comp) * (size_t) nc);
  /* 5b. pieces of one line: nearly parallel (12 degrees), one centre within 3 + 12 px (at 1060
   * px width) of the line through the other along the pair's axis (their directions weighted
   * by length), the gap along it under 30 % of the height (a crease hides under dark print).
   * Pairs in index order: deterministic. */
  for (int i = 0; i < nc; i++)
    for (int j = i + 1; j < nc; j++)
      {
        LineFeat *a = &feat[i], *b = &feat[j];
        if (a->kind != 2 || b->kind != 2)
          continue;
        double cosang = fabs (a->dx * b->dx + a->dy * b->dy);
        /* pieces of a bending scratch (the line turns along its length) may differ by up
         * to 20 degrees when nearly end to end (below) */
        int bent = cosang < cos (12 * M_PI / 180);
        if (cosang < cos (GV_DK_JOIN_BENT_DEG * M_PI / 180))
          continue;
        double vx = b->mx - a->mx, vy = b->my - a->my;
        /* the axis of the pair: the directions weighted by length (a short piece's own
         * direction is poorly defined, a long one's is not) */
        double sg = a->dx * b->dx + a->dy * b->dy < 0 ? -1 : 1;
        double ux = a->half * a->dx + sg * b->half * b->dx, uy = a->half * a->dy + sg * b->half * b->dy;
        double un = sqrt (ux * ux + uy * uy);
        if (un <= 0)
          continue;
        ux /= un, uy /= un;
        double perp = fabs (vx * -uy + vy * ux);
        double along = fabs (vx * ux + vy * uy) - a->half - b->half;
        if (perp > 3 + 12 * sc || along > 0.30 * h || (bent && along > GV_DK_JOIN_BENT_GAP * sc))
          continue;
        int ri = i, rj = j;
        while (grp[ri] != ri)
          ri = grp[ri];
        while (grp[rj] != rj)
          rj = grp[rj];
        if (ri == rj)
          continue;
        /* the joined line must stay straight: a piece of print texture lying along a crease
         * would bend it into a "printed curve" (5c) and lose the crease with it */
        {
          const Comp *A = &gsum[ri], *B = &gsum[rj];
          double ar = (double) (A->area + B->area);
          double mx = (A->sx + B->sx) / ar, my = (A->sy + B->sy) / ar;
          double cxx = (A->sxx + B->sxx) / ar - mx * mx, cyy = (A->syy + B->syy) / ar - my * my;
          double cxy = (A->sxy + B->sxy) / ar - mx * my;
          double tr = 0.5 * (cxx + cyy), dd = sqrt (0.25 * (cxx - cyy) * (cxx - cyy) + cxy * cxy);
          if (tr - dd > 64 * sc * sc) /* minor spread over 8 px (at 1060 px width) */
            continue;
        }
        int lo = ri < rj ? ri : rj, hi = ri < rj ? rj : ri;
        grp[hi] = lo;
        gsum[lo].area += gsum[hi].area;
        gsum[lo].sx += gsum[hi].sx, gsum[lo].sy += gsum[hi].sy;
        gsum[lo].sxx += gsum[hi].sxx, gsum[lo].syy += gsum[hi].syy, gsum[lo].sxy += gsum[hi].sxy;
      }
  for (int i = 0; i < nc; i++)
    {
      int rt = i;
      while (grp[rt] != rt)
        rt = grp[rt];
      grp[i] = rt;
    }

  /* 5c. one defect per group (all spine lines together), classified by where and how long */
  {
    int spine = -1, spine_lines = 0;
    for (int gi = 0; gi < nc && r->n_defects < 250; gi++)
      {
        if (grp[gi] != gi || feat[gi].kind == 0)
          continue;
        Comp g = comps[gi];
        int members = 0;
        double tmin = 1e30, tmax = -1e30;
        for (int ci = gi; ci < nc; ci++)
          if (grp[ci] == gi)
            {
              Comp *c = &comps[ci];
              members++;
              if (ci != gi)
                {
                  g.x0 = c->x0 < g.x0 ? c->x0 : g.x0;
                  g.y0 = c->y0 < g.y0 ? c->y0 : g.y0;
                  g.x1 = c->x1 > g.x1 ? c->x1 : g.x1;
                  g.y1 = c->y1 > g.y1 ? c->y1 : g.y1;
                  g.area += c->area, g.sx += c->sx, g.sy += c->sy;
                  g.sxx += c->sxx, g.syy += c->syy, g.sxy += c->sxy;
                }
              double t = (feat[ci].mx - feat[gi].mx) * feat[gi].dx + (feat[ci].my - feat[gi].my) * feat[gi].dy;
              tmin = t - feat[ci].half < tmin ? t - feat[ci].half : tmin;
              tmax = t + feat[ci].half > tmax ? t + feat[ci].half : tmax;
            }
        /* a loss that step 5's bridging joined into a blob of texture (not line-shaped: over
         * 6 px of pixels per px of its diagonal, as 5a measures it), the loss under a fifth of
         * it: the loss alone is judged, and only its pixels are the defect. (A tear's loss with
         * its whitened line is line-shaped and judged whole.) */
        int loss_only = 0;
        if (feat[gi].kind == 1 && g.n_missing * 5 < g.area
            && g.area > 6.0 * hypot (g.x1 - g.x0 + 1, g.y1 - g.y0 + 1))
          {
            Comp l = { w, h, -1, -1, 0, 0, 0, 0, 0, 0, 0 };
            for (int y = g.y0; y <= g.y1; y++)
              for (int x = g.x0; x <= g.x1; x++)
                {
                  size_t k = (size_t) y * w + x;
                  if (missing[k] && lab[k] && grp[lab[k] - 1] == gi)
                    comp_add (&l, x, y);
                }
            if (l.area > 0)
              {
                l.n_missing = l.area;
                g = l;
                loss_only = 1;
              }
          }
        int bw = g.x1 - g.x0 + 1, bh = g.y1 - g.y0 + 1;
        double len = tmax - tmin;
        int edge_gap[4] = { g.y0, w - 1 - g.x1, h - 1 - g.y1, g.x0 };
        int touch = -1;
        for (int s2 = 0; s2 < 4; s2++)
          if (edge_gap[s2] <= (int) lround (3 * sc) + 1 && (touch < 0 || edge_gap[s2] < edge_gap[touch]))
            touch = s2;
        GvDefectKind kind;
        double sev;
        int grow = 0, index;

        if (feat[gi].kind == 1)
          {
            int corner = at_corner (&g, w, h) && bw < 0.12 * w && bh < 0.12 * w;
            double depth = (touch == 0 || touch == 2) ? bh : bw;
            double alongx = (touch == 0 || touch == 2) ? bw : bh;
            /* a loss joined to the outline's shallow strip along its edge (loss_spike): the
             * loss alone, when it is a corner's or a cut 40 px deep or more (at 1060 px width)
             * and at least 1.6 times deeper than wide (a tear); a shallower notch in the strip
             * is the outline's waver */
            Comp g0 = g;
            if (!corner && touch >= 0 && (alongx > 150 * sc || at_corner (&g, w, h))
                && loss_spike (lab, cand, grp, gi, &g, touch, w, h, sc))
              {
                int nbw = g.x1 - g.x0 + 1, nbh = g.y1 - g.y0 + 1;
                double nd = (touch == 0 || touch == 2) ? nbh : nbw, na = (touch == 0 || touch == 2) ? nbw : nbh;
                /* a corner only when its shape is a worn corner's (below) */
                int ncorner = at_corner (&g, w, h) && nbw < 0.12 * w && nbh < 0.12 * w
                              && worn_corner_shape (nbw, nbh, sc);
                if (ncorner || (alongx > 150 * sc && nd >= 40 * sc && nd >= 1.6 * na))
                  bw = nbw, bh = nbh, depth = nd, alongx = na, corner = ncorner;
                else
                  g = g0; /* as it was: dropped below when too long, else a chip or tear */
              }
            /* the outline's own mixed pixels (and the cover's shadow) are not a loss; a
             * table-coloured stretch longer than 150 px (at 1060 px width) along an edge is
             * print of the table's colour, not a chip or tear */
            if (!corner && (depth < LOSS_MIN_DEPTH (sc) || alongx > 150 * sc || depth > 110 * sc))
              continue;
            /* a loss that reaches the end of the border zone (10 % of the width) and whose
             * table colour runs on beyond it is print of the table's colour (a rule, a frame
             * line), cut off by the zone: the pixels 1..4 px deeper are table-like in most of
             * its rows or columns */
            if (!corner && touch >= 0 && depth >= (int) lround (0.10 * w) - 1)
              {
                int a0 = (touch & 1) ? g.y0 : g.x0, a1 = (touch & 1) ? g.y1 : g.x1, runs = 0;
                for (int a = a0; a <= a1; a++)
                  {
                    const float *t = &tab[touch][3 * a];
                    int like = 0;
                    for (int dd = (int) depth + 1; dd <= (int) depth + 4 && !like; dd++)
                      {
                        int X, Y;
                        edge_px (touch, a, dd, w, h, &X, &Y);
                        if (X >= 0 && Y >= 0 && X < w && Y < h)
                          like = gv_dk_tablelike_shaded (gv_image_row_u8 (P, Y + M) + 3 * (X + M), t,
                                                         GV_DK_TABLE_SHADE);
                      }
                    runs += like;
                  }
                if (2 * runs > a1 - a0 + 1)
                  continue;
              }
            /* ... and one that stops short of the zone's end where the print's colour drifts
             * from the table's (a rule's end in the light's gradient) still runs on inwards in
             * its own colour, row by row */
            if (!corner && touch >= 0 && loss_runs_on (P, M, missing, w, h, &g, touch))
              continue;
            /* a worn corner is a rounded bite, about as wide as deep (within 2.5 x) and at most
             * 100 px (at 1060 px width; the widest wear is 55 px, its fibre and the outline's
             * mixed pixels grow it): a strip along one edge from the corner, or a larger patch,
             * is print of the table's colour there */
            if (corner && !worn_corner_shape (bw, bh, sc))
              continue;
            /* ... and a bite, not specks: loss pixels on GV_DK_CORNER_FILL of its box or more
             * (where the outline runs a fraction of a pixel outside the paper at a corner, a few
             * of its mixed pixels read as loss and step 5's bridging joins them) */
            if (corner && g.area < GV_DK_CORNER_FILL * bw * bh)
              continue;
            /* ... at least GV_DK_CORNER_MIN working px along both edges: a smaller bite is the
             * outline's own mixed pixels where the warped corner is off by a pixel */
            if (corner && (bw < GV_DK_CORNER_MIN || bh < GV_DK_CORNER_MIN))
              continue;
            if (corner)
              {
                kind = GV_DK_CORNER_WEAR;
                sev = clamp01 (((bw > bh ? bw : bh) / sc - 15) / 45);
              }
            else if (depth >= 16 * sc && depth >= 1.6 * alongx)
              {
                kind = GV_DK_TEAR;
                sev = clamp01 ((depth / sc - 26) / 80);
              }
            else
              {
                kind = GV_DK_EDGE_CHIP;
                sev = clamp01 ((depth / sc - 10) / 18);
              }
            grow = (int) lround (4 * sc); /* the whitened fibre around the loss */
          }
        else if (feat[gi].kind == 3 && feat[gi].lone)
          {
            kind = GV_DK_TEAR;
            sev = clamp01 ((bw / sc - 20) / 80);
            grow = (int) lround (3 * sc);
          }
        else if (feat[gi].kind == 3)
          {
            /* short lines starting at the spine, within 7 % of the width of it: one defect */
            spine_lines++;
            if (spine < 0)
              {
                spine = r->n_defects++;
                r->defects[spine].kind = GV_DK_SPINE_STRESS;
              }
            for (int y = g.y0; y <= g.y1; y++)
              for (int x = g.x0; x <= g.x1; x++)
                if (lab[(size_t) y * w + x] == gi + 1 && cand[(size_t) y * w + x])
                  final[(size_t) y * w + x] = (uint8_t) (1 + spine);
            continue;
          }
        else
          {
            double mx = g.sx / g.area, my = g.sy / g.area;
            double cxx = g.sxx / g.area - mx * mx, cyy = g.syy / g.area - my * my;
            double cxy = g.sxy / g.area - mx * my;
            double tr = 0.5 * (cxx + cyy), dd = sqrt (0.25 * (cxx - cyy) * (cxx - cyy) + cxy * cxy);
            double minor = tr - dd > 0 ? sqrt (tr - dd) : 0;
            /* a short straight line running into the cover from an edge (its first pixels
             * lost in the outline's mixed pixels and the cut's own taper: within 16 px, at 1060 px width): a tear.
             * Tested before the 100 px limit below, which would drop most tears */
            int near = -1;
            for (int s2 = 0; s2 < 4; s2++)
              if (edge_gap[s2] <= (int) lround (16 * sc) + 1 && (near < 0 || edge_gap[s2] < edge_gap[near]))
                near = s2;
            if (near >= 0 && len >= 40 * sc && len < 0.08 * h && minor <= GV_DK_TEAR_MINOR * sc
                && ((near & 1) ? bw >= 2 * bh : bh >= 2 * bw))
              {
                kind = GV_DK_TEAR;
                sev = clamp01 ((len / sc - 20) / 80);
                grow = (int) lround (3 * sc);
                goto add;
              }
            /* a line along an edge, within 14 px of it (at 1060 px width) over all its length
             * and four times longer than its spread across: the outline's own mixed pixels and
             * shadow where the warped outline wavers. Creases and scratches cross the cover;
             * spine lines are perpendicular to the spine */
            {
              int band = along_edge (g.x0, g.y0, g.x1, g.y1, w, h, sc);
              if (((band & 1) && bw >= 4 * bh) || ((band & 2) && bh >= 4 * bw))
                continue;
            }
            /* shorter than 100 px (at 1060 px width, 16 mm): too short to tell from print */
            if (len < 100 * sc)
              continue;
            /* scattered pieces, not a line: a scratch or crease is at least one working pixel
             * wide where it shows, so its candidates cover GV_DK_LINE_MINFILL of its length or
             * more; specks and a broken printed ring that 5b joined into one "line" do not */
            if (g.area < GV_DK_LINE_MINFILL * len)
              continue;
            /* printed outlines curve (rings, balloons); scratches and creases run nearly
             * straight: a line whose spread across its axis exceeds 8 px (at 1060 px width)
             * away from the outline is print */
            if (touch < 0 && minor > 8 * sc)
              continue;
            /* ... and at the outline, where a crease's first pixels may mix with the
             * outline's, one whose spread exceeds 16 px (texture reaching the edge) */
            if (touch >= 0 && minor > 16 * sc)
              continue;
            /* ... and a short line (under 250 px) whose spread exceeds 6 px is a band of print
             * (the light edge of a patch of large halftone dots): a short scratch is thin, and
             * its bend spreads it by less (at most 5.5 px on nine sets' true defects) */
            if (touch < 0 && len < 250 * sc && minor > 6 * sc)
              continue;
            /* ... and a short arc of a printed ring is straight enough for that test: a line
             * that turns by more than GV_DK_LINE_MAXTURN over its length is print too
             * (GV_DK_SHORT_LINE_MAXBEND under 200 px; from 200 px it may turn as fast as a
             * circle of GV_DK_LINE_MINRADIUS: bend_limit) */
            if (touch < 0
                && line_bend (lab, cand, grp, gi, &g, w, feat[gi].mx, feat[gi].my, feat[gi].dx,
                              feat[gi].dy, tmin, tmax) > bend_limit (len, sc))
              continue;
            /* ... and so is a group whose longest piece, 100 px or more (at 1060 px width),
             * turns so by itself: a ring's arc that 5b joined with specks or another piece of
             * print, which straightens the group's own thirds */
            if (touch < 0 && members > 1)
              {
                int lp = -1;
                for (int ci = gi; ci < nc; ci++)
                  if (grp[ci] == gi && feat[ci].kind == 2 && (lp < 0 || feat[ci].half > feat[lp].half))
                    lp = ci;
                double plen = lp >= 0 ? 2 * feat[lp].half : 0;
                if (plen >= 100 * sc
                    && line_bend (lab, cand, NULL, lp, &comps[lp], w, feat[lp].mx, feat[lp].my,
                                  feat[lp].dx, feat[lp].dy, -feat[lp].half, feat[lp].half)
                           > bend_limit (plen, sc))
                  continue;
              }
            if (len >= 0.22 * h)
              {
                kind = GV_DK_CREASE;
                sev = clamp01 ((len / h - 0.25) / 0.5);
                grow = (int) lround (4 * sc);
              }
            else if (touch >= 0 && len < 0.08 * h && ((touch & 1) ? bw >= bh : bh >= bw))
              {
                kind = GV_DK_TEAR;
                sev = clamp01 ((len / sc - 20) / 80);
                grow = (int) lround (3 * sc);
              }
            else
              {
                /* ... and a short line that a printed ring's print continues beyond its ends
                 * (ring_continues; at the outline, beyond its inner end) is a piece of that
                 * ring */
                if (ring_continues (lab, cand, grp, gi, &g, w, h, P, M, sc))
                  continue;
                kind = GV_DK_SCRATCH;
                sev = clamp01 ((len / sc - 60) / 300);
                grow = 1;
              }
          }
      add:
        index = r->n_defects++;
        GvDefect *d = &r->defects[index];
        d->kind = kind;
        d->severity = sev;
        /* the defect's pixels: its members' candidates, grown by `grow` inside the cover */
        int gx0 = g.x0 - grow < 0 ? 0 : g.x0 - grow, gy0 = g.y0 - grow < 0 ? 0 : g.y0 - grow;
        int gx1 = g.x1 + grow >= w ? w - 1 : g.x1 + grow, gy1 = g.y1 + grow >= h ? h - 1 : g.y1 + grow;
        long area = 0;
        for (int y = gy0; y <= gy1; y++)
          for (int x = gx0; x <= gx1; x++)
            {
              int hit = 0;
              if (final[(size_t) y * w + x])
                continue;
              for (int dy = -grow; dy <= grow && !hit; dy++)
                for (int dx = -grow; dx <= grow && !hit; dx++)
                  {
                    int xx = x + dx, yy = y + dy;
                    if (xx >= 0 && yy >= 0 && xx < w && yy < h
                        && (loss_only ? missing[(size_t) yy * w + xx] : cand[(size_t) yy * w + xx])
                        && lab[(size_t) yy * w + xx] > 0 && grp[lab[(size_t) yy * w + xx] - 1] == gi)
                      hit = 1;
                  }
              if (hit)
                {
                  final[(size_t) y * w + x] = (uint8_t) (index + 1);
                  area++;
                }
            }
        if (area == 0)
          r->n_defects--;
      }
    /* 5c'. spine lines that only the video colour model sees (gv_dk_line_at's negative
     * evidence, within 55 px of the spine), traced with the strict evidence that no defect
     * above took (a faint line passes the strict test in its middle only): 8-connected
     * pieces starting at the spine (within 3 px + 1 at 1060 px width), ending within 7 % of
     * the width, of 6 working px or more and at least twice as wide as tall, are stress lines
     * when stacked: at least two other such pieces or lines of the spine stress found above
     * within 150 px along the spine. */
    {
      int xmax = (int) (0.07 * w), nstk = 0, npc = 0;
      uint8_t *lm = cand; /* free from here until 5d */
      int *stk = malloc (sizeof (int) * npx), *pc = malloc (sizeof (int) * 4 * (size_t) (h + 1));
      if (!stk || !pc)
        {
          free (stk);
          free (pc);
          rc = gv_error_set (GV_ENOMEM, "out of memory");
          goto out;
        }
      memset (lm, 0, npx);
      for (int y = 0; y < h; y++)
        {
          const float *l = gv_image_row_f32 (line, y);
          const uint8_t *g = gv_image_row_u8 (r->glare, y);
          for (int x = 0; x < xmax; x++)
            lm[(size_t) y * w + x] = l[x] != 0.0f && !final[(size_t) y * w + x] && __builtin_popcount (g[x]) < half;
        }
      /* the pieces: pc[4 i ..] = first and end in stk, centre row, accepted */
      for (int y0 = 0; y0 < h && npc <= h; y0++)
        for (int x0 = 0; x0 < xmax && npc <= h; x0++)
          {
            if (lm[(size_t) y0 * w + x0] != 1)
              continue;
            int first = nstk, bx0 = x0, bx1 = x0, by0 = y0, by1 = y0;
            lm[(size_t) y0 * w + x0] = 2;
            stk[nstk++] = y0 * w + x0;
            for (int i = first; i < nstk; i++)
              {
                int x = stk[i] % w, y = stk[i] / w;
                bx0 = x < bx0 ? x : bx0, bx1 = x > bx1 ? x : bx1;
                by0 = y < by0 ? y : by0, by1 = y > by1 ? y : by1;
                for (int dy = -1; dy <= 1; dy++)
                  for (int dx = -1; dx <= 1; dx++)
                    {
                      int xx = x + dx, yy = y + dy;
                      if (xx < 0 || yy < 0 || xx >= xmax || yy >= h || lm[(size_t) yy * w + xx] != 1)
                        continue;
                      lm[(size_t) yy * w + xx] = 2;
                      stk[nstk++] = yy * w + xx;
                    }
              }
            if (bx0 > 3 * sc + 1 || nstk - first < 6 || bx1 - bx0 + 1 < 2 * (by1 - by0 + 1))
              {
                nstk = first;
                continue;
              }
            pc[4 * npc] = first, pc[4 * npc + 1] = nstk, pc[4 * npc + 2] = (by0 + by1) / 2;
            pc[4 * npc + 3] = 0;
            npc++;
          }
      /* stacked: other pieces and the spine stress's rows within 150 px */
      for (int i = 0; i < npc; i++)
        {
          int near = 0, yc = pc[4 * i + 2], d150 = (int) lround (150 * sc);
          for (int j = 0; j < npc; j++)
            near += j != i && abs (pc[4 * j + 2] - yc) <= d150;
          if (spine >= 0)
            for (int y = yc - d150 > 0 ? yc - d150 : 0; y <= yc + d150 && y < h && near < 2; y++)
              for (int x = 0; x < xmax; x++)
                if (final[(size_t) y * w + x] == spine + 1)
                  {
                    near++;
                    y += (int) lround (6 * sc); /* one line counts once */
                    break;
                  }
          pc[4 * i + 3] = near >= 2;
        }
      for (int i = 0; i < npc; i++)
        {
          if (!pc[4 * i + 3])
            continue;
          if (spine < 0)
            {
              spine = r->n_defects++;
              r->defects[spine].kind = GV_DK_SPINE_STRESS;
            }
          for (int j = pc[4 * i]; j < pc[4 * i + 1]; j++)
            {
              int x = stk[j] % w, y = stk[j] / w;
              float a = fabsf (gv_image_row_f32 (line, y)[x]);
              final[stk[j]] = (uint8_t) (1 + spine);
              gv_image_row_f32 (r->score, y)[x] = 2.0f * a > 1.0f ? 1.0f : 2.0f * a;
            }
        }
      free (stk);
      free (pc);
    }
    if (spine >= 0)
      {
        /* severity from the length of spine the lines cover: 100 px (at 1060 px width) is 0,
         * 300 px is 1 */
        int y0 = h, y1 = -1;
        for (int y = 0; y < h; y++)
          for (int x = 0; x < (int) (0.07 * w); x++)
            if (final[(size_t) y * w + x] == spine + 1)
              {
                y0 = y < y0 ? y : y0;
                y1 = y;
                break;
              }
        r->defects[spine].severity = clamp01 (((y1 - y0 + 1) / sc - 100) / 200);
        (void) spine_lines;
      }
  }
  if (long_lines (line, r->glare, half, missing, final, w, h, sc, r) < 0)
    {
      rc = gv_error_code ();
      goto out;
    }
  /* 5d and 5e run twice: on the stain edges of the print (3e), then on those of the descreened
   * print (3e'), where a rim over halftone is a clean step. The second pass takes stains from
   * GV_DK_STAIN2_RMIN px in radius; in 5d only those whose outline is known all round (star),
   * at most GV_DK_VOTE_RMAX px in radius and mostly not found by the first pass */
  for (int pass = 0; pass < 2; pass++)
    {
      const GvImage *stain_p = pass ? stain2 : stain;
      const uint8_t *sdark_p = pass ? sdark2 : sdark;
      /* 5d. stains: a closed contour of stain edges 60 to 600 px across (at 1060 px width),
       * filled; open contours are print */
      {
        uint8_t *e = cand; /* reused: stain edges, then joined */
        for (int y = 0; y < h; y++)
          {
            const float *st = gv_image_row_f32 (stain_p, y);
            const uint8_t *g = gv_image_row_u8 (r->glare, y);
            for (int x = 0; x < w; x++)
              e[(size_t) y * w + x] = st[x] > 0.0f && __builtin_popcount (g[x]) < half;
          }
        memcpy (missing, e, npx); /* reused: the edges before joining */
        dilate (e, w, h, (int) lround (6 * sc) > 1 ? (int) lround (6 * sc) : 1, tmp);
        free (comps);
        comps = NULL;
        int ns = label_components (e, missing, w, h, lab, &comps);
        int *q = malloc (sizeof (int) * npx), *fstack = malloc (sizeof (int) * npx);
        if (ns < 0 || !q || !fstack)
          {
            free (q);
            free (fstack);
            rc = gv_error_set (GV_ENOMEM, "out of memory");
            goto out;
          }
        for (int ci = 0; ci < ns && r->n_defects < 250; ci++)
          {
            Comp *c = &comps[ci];
            int bw = c->x1 - c->x0 + 1, bh = c->y1 - c->y0 + 1;
            if (c->area <= 0 || bw < 60 * sc || bh < 60 * sc || bw > 600 * sc || bh > 600 * sc)
              continue;
            /* an outline, not a textured patch: on average at most a 20 px (at 1060 px width)
             * band of edges around the box's inscribed ellipse */
            if (c->area > 20 * sc * M_PI * 0.5 * (bw + bh))
              continue;
            /* inside: at least 3 of the 4 rays from the pixel (left, right, up, down), or two
             * opposite ones, first meet an edge pixel of the contour whose darker side faces the
             * pixel (tolerates gaps where the tint is invisible on the print; print edges joined to
             * the outline face either way and enclose nothing); bits of q: left, right, up, down */
            int x0 = c->x0, y0 = c->y0, x1 = c->x1, y1 = c->y1;
            int star_ok = 0;
            double star_r[GV_DK_STAR_BINS], star_cx = 0, star_cy = 0;
            memset (q, 0, sizeof (int) * (size_t) bw * bh);
            for (int y = y0; y <= y1; y++)
              for (int dir = 0; dir < 2; dir++)
                {
                  int facing = 0;
                  for (int i = 0; i < bw; i++)
                    {
                      int x = dir ? x1 - i : x0 + i;
                      size_t kk = (size_t) y * w + x;
                      q[(y - y0) * bw + (x - x0)] |= facing << dir;
                      if (lab[kk] == ci + 1 && missing[kk])
                        {
                          int ddx = sdark_p[kk] % 7 - 3;
                          if (ddx != 0) /* an edge across the scan changes nothing */
                            facing = dir ? ddx < 0 : ddx > 0;
                        }
                    }
                }
            for (int x = x0; x <= x1; x++)
              for (int dir = 0; dir < 2; dir++)
                {
                  int facing = 0;
                  for (int i = 0; i < bh; i++)
                    {
                      int y = dir ? y1 - i : y0 + i;
                      size_t kk = (size_t) y * w + x;
                      q[(y - y0) * bw + (x - x0)] |= facing << (2 + dir);
                      if (lab[kk] == ci + 1 && missing[kk])
                        {
                          int ddy = sdark_p[kk] / 7 - 3;
                          if (ddy != 0)
                            facing = dir ? ddy < 0 : ddy > 0;
                        }
                    }
                }
            /* holes in it (print edges inside the stain break the rays) are inside too: outside
             * is what the box border reaches through pixels not inside */
            for (int y = y0; y <= y1; y++)
              for (int x = x0; x <= x1; x++)
                tmp[(size_t) y * w + x] = 0;
            {
              int sp = 0;
              for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                  if ((x == x0 || x == x1 || y == y0 || y == y1) && !enclosed (q[(y - y0) * bw + (x - x0)]))
                    {
                      tmp[(size_t) y * w + x] = 1;
                      fstack[sp++] = y * w + x;
                    }
              while (sp)
                {
                  int j = fstack[--sp], x = j % w, y = j / w;
                  for (int k4 = 0; k4 < 4; k4++)
                    {
                      int xx = x + (k4 == 0) - (k4 == 1), yy = y + (k4 == 2) - (k4 == 3);
                      if (xx < x0 || xx > x1 || yy < y0 || yy > y1 || tmp[(size_t) yy * w + xx]
                          || enclosed (q[(yy - y0) * bw + (xx - x0)]))
                        continue;
                      tmp[(size_t) yy * w + xx] = 1;
                      fstack[sp++] = yy * w + xx;
                    }
                }
            }
            /* the largest 4-connected piece inside is the stain; specks where a print edge
             * happens to face inwards are not */
            {
              int best_id = 0, nid = 0;
              long best_n = 0;
              for (int j = 0; j < bw * bh; j++)
                q[j] = 0;
              for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                  {
                    if (tmp[(size_t) y * w + x] || q[(y - y0) * bw + (x - x0)])
                      continue;
                    int sp = 0;
                    long cnt = 0;
                    nid++;
                    q[(y - y0) * bw + (x - x0)] = nid;
                    fstack[sp++] = y * w + x;
                    while (sp)
                      {
                        int j = fstack[--sp], xj = j % w, yj = j / w;
                        cnt++;
                        for (int k4 = 0; k4 < 4; k4++)
                          {
                            int xx = xj + (k4 == 0) - (k4 == 1), yy = yj + (k4 == 2) - (k4 == 3);
                            if (xx < x0 || xx > x1 || yy < y0 || yy > y1 || tmp[(size_t) yy * w + xx]
                                || q[(yy - y0) * bw + (xx - x0)])
                              continue;
                            q[(yy - y0) * bw + (xx - x0)] = nid;
                            fstack[sp++] = yy * w + xx;
                          }
                      }
                    if (cnt > best_n)
                      best_n = cnt, best_id = nid;
                  }
              for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                  if (q[(y - y0) * bw + (x - x0)] != best_id)
                    tmp[(size_t) y * w + x] = 1;
              /* a stain is a blob: where the outline has a gap the outside floods in; fill the
               * piece's row spans within its column spans (orthogonally convex) */
              int *rs = q, *cs = q + 2 * bh; /* q is free again: first, last per row and column */
              for (int i = 0; i < bh; i++)
                rs[2 * i] = -1;
              for (int i = 0; i < bw; i++)
                cs[2 * i] = -1;
              for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                  if (!tmp[(size_t) y * w + x])
                    {
                      int *r2 = rs + 2 * (y - y0), *c2 = cs + 2 * (x - x0);
                      if (r2[0] < 0)
                        r2[0] = x;
                      r2[1] = x;
                      if (c2[0] < 0)
                        c2[0] = y;
                      c2[1] = y;
                    }
              for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                  {
                    const int *r2 = rs + 2 * (y - y0), *c2 = cs + 2 * (x - x0);
                    if (r2[0] >= 0 && x >= r2[0] && x <= r2[1] && c2[0] >= 0 && y >= c2[0] && y <= c2[1])
                      tmp[(size_t) y * w + x] = 0;
                  }
            }
            long inside = 0, inside_edges = 0;
            int ix0 = w, iy0 = h, ix1 = -1, iy1 = -1;
            for (int y = y0; y <= y1; y++)
              for (int x = x0; x <= x1; x++)
                {
                  int in = !tmp[(size_t) y * w + x];
                  if (!in)
                    continue;
                  inside++;
                  inside_edges += missing[(size_t) y * w + x] != 0;
                  ix0 = x < ix0 ? x : ix0, ix1 = x > ix1 ? x : ix1;
                  iy0 = y < iy0 ? y : iy0, iy1 = y > iy1 ? y : iy1;
                }
            if (ix1 < 0)
              continue;
            /* a stain is a closed outline around clean tint, 60 px across or more: not a patch of
             * print texture */
            if (ix1 - ix0 + 1 < 60 * sc || iy1 - iy0 + 1 < 60 * sc
                || inside < GV_DK_STAIN_FILL_LOOSE * (ix1 - ix0 + 1) * (iy1 - iy0 + 1)
                || inside_edges > 0.35 * inside)
              continue;
            int loose = inside < GV_DK_STAIN_FILL * (ix1 - ix0 + 1) * (iy1 - iy0 + 1);
            x0 = ix0, y0 = iy0, x1 = ix1, y1 = iy1;
            /* the tint is inside: most edge pixels of the outline have their darker side inside
             * and their brighter side outside (print edges face either way) */
            {
              long agree = 0, against = 0, nb = 0, cov = 0;
              int cbw = c->x1 - c->x0 + 1;
              for (int j = 0; j < cbw * (c->y1 - c->y0 + 1); j++)
                q[j] = 0;
              for (int y = c->y0; y <= c->y1; y++)
                for (int x = c->x0; x <= c->x1; x++)
                  {
                    size_t kk = (size_t) y * w + x;
                    if (lab[kk] != ci + 1 || !missing[kk])
                      continue;
                    int ddx = sdark_p[kk] % 7 - 3, ddy = sdark_p[kk] / 7 - 3;
                    int xa = x + ddx, ya = y + ddy, xb = x - ddx, yb = y - ddy;
                    int ina = xa >= x0 && xa <= x1 && ya >= y0 && ya <= y1 && !tmp[(size_t) ya * w + xa];
                    int inb = xb >= x0 && xb <= x1 && yb >= y0 && yb <= y1 && !tmp[(size_t) yb * w + xb];
                    agree += ina && !inb;
                    against += inb && !ina;
                    if (ina && !inb)
                      q[(y - c->y0) * cbw + (x - c->x0)] = 1;
                  }
              /* closed: the share of the filled outline's boundary with such an edge pixel within
               * 2 px */
              for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                  {
                    if (tmp[(size_t) y * w + x])
                      continue;
                    int border = x == x0 || x == x1 || y == y0 || y == y1 || tmp[(size_t) y * w + x - 1]
                                 || tmp[(size_t) y * w + x + 1] || tmp[(size_t) (y - 1) * w + x]
                                 || tmp[(size_t) (y + 1) * w + x];
                    if (!border)
                      continue;
                    nb++;
                    int hit = 0;
                    for (int yy = y - 2; yy <= y + 2 && !hit; yy++)
                      for (int xx = x - 2; xx <= x + 2 && !hit; xx++)
                        hit = xx >= c->x0 && xx <= c->x1 && yy >= c->y0 && yy <= c->y1
                              && q[(yy - c->y0) * cbw + (xx - c->x0)];
                    cov += hit;
                  }
              if (agree < GV_DK_STAIN_POLARITY * (agree + against) || cov < GV_DK_STAIN_CLOSED_LOOSE * nb
                  || agree < GV_DK_STAIN_DENSE * nb)
                continue;
              loose |= cov < GV_DK_STAIN_CLOSED * nb;
              /* the stain's shape from its rim: where the tint crosses dark or saturated print its
               * edge is lost and the fill above stops short. A stain is a blob around a centre
               * (a drop spreads from where it fell): the inward-facing rim pixels give its radius
               * per direction from the centre of a circle fitted to them; directions without rim
               * take the radius interpolated from their neighbours */
              double round;
              star_ok = stain_star (q, c->x0, c->y0, cbw, c->y1 - c->y0 + 1, star_r, &star_cx, &star_cy,
                                    &round);
              /* a round rim (when the circle could be fitted at all); with the looser limits, a
               * very round one */
              if ((round >= 0 && round < GV_DK_STAIN_ROUND)
                  || (loose && !(star_ok && round >= GV_DK_STAIN_ROUND_LOOSE)))
                continue;
              /* on the descreened print: an outline known all round (from its rim), 60 to 200
               * px in radius (at 1060 px width; 5e's reach), mostly not found already */
              if (pass)
                {
                  double rmx = 0;
                  long all = 0, done = 0;
                  if (!star_ok)
                    continue;
                  for (int b = 0; b < GV_DK_STAR_BINS; b++)
                    rmx = star_r[b] > rmx ? star_r[b] : rmx;
                  if (rmx < GV_DK_STAIN2_RMIN * sc || rmx > GV_DK_VOTE_RMAX * sc)
                    continue;
                  int sy0 = (int) ceil (star_cy - rmx - 1), sy1 = (int) floor (star_cy + rmx + 1);
                  int sx0 = (int) ceil (star_cx - rmx - 1), sx1 = (int) floor (star_cx + rmx + 1);
                  for (int y = sy0 < 0 ? 0 : sy0; y <= sy1 && y < h; y++)
                    for (int x = sx0 < 0 ? 0 : sx0; x <= sx1 && x < w; x++)
                      if (star_inside (star_r, star_cx, star_cy, x, y))
                        all++, done += final[(size_t) y * w + x] != 0;
                  if (4 * done >= all)
                    continue;
                  /* a printed panel of halftone, not a stain over it */
                  if (stain_tex_jump (P, M, w, h, sc, star_r, star_cx, star_cy) >= GV_DK_STAIN_PANEL)
                    continue;
                }
            }
            int index = r->n_defects++;
            long area = 0;
            if (star_ok)
              {
                double rmax = 0;
                for (int b = 0; b < GV_DK_STAR_BINS; b++)
                  rmax = star_r[b] > rmax ? star_r[b] : rmax;
                int sx0 = (int) floor (star_cx - rmax - 1), sx1 = (int) ceil (star_cx + rmax + 1);
                int sy0 = (int) floor (star_cy - rmax - 1), sy1 = (int) ceil (star_cy + rmax + 1);
                sx0 = sx0 < 0 ? 0 : sx0, sy0 = sy0 < 0 ? 0 : sy0;
                sx1 = sx1 > w - 1 ? w - 1 : sx1, sy1 = sy1 > h - 1 ? h - 1 : sy1;
                for (int y = sy0; y <= sy1; y++)
                  for (int x = sx0; x <= sx1; x++)
                    if (!final[(size_t) y * w + x] && star_inside (star_r, star_cx, star_cy, x, y))
                      {
                        final[(size_t) y * w + x] = (uint8_t) (index + 1);
                        area++;
                      }
              }
            else
              for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                  if (!tmp[(size_t) y * w + x] && !final[(size_t) y * w + x])
                    {
                      final[(size_t) y * w + x] = (uint8_t) (index + 1);
                      area++;
                    }
            if (area == 0)
              {
                r->n_defects--;
                continue;
              }
            r->defects[index].kind = GV_DK_STAIN;
            r->defects[index].severity = clamp01 ((sqrt (area / M_PI) / sc - 30) / 90);
          }
        free (q);
        free (fstack);
      }
      /* 5e. stains from their rim alone, connectivity aside */
      if (stains_by_vote (P, M, w, h, sc, missing, sdark_p, final, r, pass ? GV_DK_STAIN2_RMIN : 30) < 0)
        {
          rc = gv_error_code ();
          goto out;
        }
    }

  /* bounding boxes from the final pixels */
  for (int i = 0; i < r->n_defects; i++)
    {
      GvDefect *d = &r->defects[i];
      d->bbox[0] = w, d->bbox[1] = h, d->bbox[2] = -1, d->bbox[3] = -1;
    }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int v = final[(size_t) y * w + x];
        if (!v)
          continue;
        int *bb = r->defects[v - 1].bbox;
        if (x < bb[0]) bb[0] = x;
        if (y < bb[1]) bb[1] = y;
        if (x > bb[2]) bb[2] = x;
        if (y > bb[3]) bb[3] = y;
      }
  for (int i = 0; i < r->n_defects; i++)
    {
      int *bb = r->defects[i].bbox;
      if (bb[2] < 0)
        bb[0] = bb[1] = bb[2] = bb[3] = 0;
      else
        bb[2] = bb[2] - bb[0] + 1, bb[3] = bb[3] - bb[1] + 1;
    }

  /* 6. the mask, then per defect: region, mm, which covers show it, confidence */
  {
    long in_mask = 0;
    for (int y = 0; y < h; y++)
      {
        uint8_t *m = gv_image_row_u8 (r->mask, y);
        for (int x = 0; x < w; x++)
          {
            m[x] = final[(size_t) y * w + x] ? 255 : 0;
            in_mask += m[x] != 0;
          }
      }
    r->defect_percentage = 100.0 * in_mask / (double) npx;
  }
  for (int i = 0; i < r->n_defects; i++)
    {
      GvDefect *d = &r->defects[i];
      double cx = 0, cy = 0, ev = 0;
      long cnt = 0, glare_px[GV_DEFECTS_MAX_COVERS] = { 0 };
      for (int y = d->bbox[1]; y < d->bbox[1] + d->bbox[3]; y++)
        for (int x = d->bbox[0]; x < d->bbox[0] + d->bbox[2]; x++)
          if (final[(size_t) y * w + x] == i + 1)
            {
              uint8_t g = gv_image_row_u8 (r->glare, y)[x];
              cx += x, cy += y, cnt++;
              ev += gv_image_row_f32 (r->score, y)[x];
              for (int k = 0; k < r->n_covers; k++)
                glare_px[k] += (g >> k) & 1;
            }
      if (cnt == 0)
        cnt = 1;
      d->area_px = cnt;
      d->region = gv_region_of ((int) (cx / cnt), (int) (cy / cnt), w, h);
      d->bbox_mm[0] = d->bbox[0] * r->mm_per_px_x;
      d->bbox_mm[1] = d->bbox[1] * r->mm_per_px_y;
      d->bbox_mm[2] = d->bbox[2] * r->mm_per_px_x;
      d->bbox_mm[3] = d->bbox[3] * r->mm_per_px_y;
      d->area_mm2 = cnt * r->mm_per_px_x * r->mm_per_px_y;
      int shown = 0;
      for (int k = 0; k < r->n_covers; k++)
        if (glare_px[k] * 2 < cnt)
          {
            d->frames |= 1u << k;
            shown++;
          }
      /* seen in every cover without glare, and how strong the evidence is */
      d->confidence = clamp01 (0.35 + 0.1 * shown + 0.3 * (ev / cnt));
      if (d->confidence > 0.95)
        d->confidence = 0.95;
    }
out:
  for (int k = 0; k < GV_DEFECTS_MAX_COVERS; k++)
    gv_image_free (covers[k]);
  gv_image_free (ref);
  gv_dm_device_free (dev);
  gv_image_free (gray);
  free (gsum);
  gv_image_free (line);
  gv_image_free (stain);
  gv_image_free (descreened);
  gv_image_free (stain2);
  free (sdark2);
  for (int s = 0; s < 4; s++)
    free (tab[s]);
  free (missing);
  free (cand);
  free (tmp);
  free (final);
  free (sdark);
  free (lab);
  free (comps);
  free (grp);
  free (feat);
  if (rc < 0)
    {
      gv_defect_report_free (r);
      return rc;
    }
  *out = r;
  return GV_OK;
}

/* Nearest-neighbour resize of a U8 or F32 image (the working scale back to the canonical cover):
 * dst pixel x takes src pixel floor((x + 0.5) * sw / dw). */
static GvImage *
resize_nearest (const GvImage *src, int dw, int dh)
{
  GvImage *d = gv_image_new (dw, dh, src->channels, src->depth);
  size_t ps = gv_image_pixel_size (src);
  if (!d)
    return NULL;
  for (int y = 0; y < dh; y++)
    {
      int sy = (int) (((long) y * 2 + 1) * src->height / (2L * dh));
      const uint8_t *sr = gv_image_row_u8 (src, sy);
      uint8_t *dr = gv_image_row_u8 (d, y);
      for (int x = 0; x < dw; x++)
        {
          int sx = (int) (((long) x * 2 + 1) * src->width / (2L * dw));
          memcpy (dr + ps * x, sr + ps * sx, ps);
        }
    }
  return d;
}

/* The analysis runs at the scale the cover has in the frames (never above the canonical size):
 * warping up to the canonical cover only blurs thin damage, and every size-dependent constant
 * is in px at 1060 px width scaled by the working width. The maps are then brought back to the
 * canonical cover (nearest neighbour), boxes and areas scaled. */
int
gv_defects_analyze (GvBackend *be, const GvDefectInput *in, int n, int cover_w, int cover_h,
                    double width_mm, double height_mm, int nthreads, int (*cancelled) (void *),
                    void *cancel_ud, GvDefectReport **out)
{
  double hsum = 0;
  int hn = 0, left = 0;
  GvDefectInput sel[GV_DEFECTS_MAX_COVERS];
  if (n > 0 && n <= GV_DEFECTS_MAX_COVERS)
    {
      /* the outline check: covers whose outline disagrees are left out */
      int keep[GV_DEFECTS_MAX_COVERS], ns = 0;
      if ((left = consistent_covers (in, n, cover_w, cover_h, nthreads, keep)) < 0)
        return left;
      for (int i = 0; i < n; i++)
        if (keep[i] || !in[i].rgb || !in[i].quad)
          sel[ns++] = in[i];
      in = sel;
      n = ns;
    }
  for (int i = 0; i < n; i++)
    if (in[i].quad)
      {
        const GvQuad *q = in[i].quad;
        hsum += 0.5 * (hypot (q->x[3] - q->x[0], q->y[3] - q->y[0])
                       + hypot (q->x[2] - q->x[1], q->y[2] - q->y[1]));
        hn++;
      }
  double s = hn ? hsum / hn / cover_h : 1.0;
  s = s > 1.0 ? 1.0 : (s < 0.25 ? 0.25 : s);
  int ww = (int) lround (cover_w * s), hh = (int) lround (cover_h * s);
  GvDefectReport *r = NULL;
  int full = ww == cover_w || hn == 0;
  int rc = analyze_at (be, in, n, full ? cover_w : ww, full ? cover_h : hh, width_mm, height_mm,
                       nthreads, cancelled, cancel_ud, &r);
  if (rc < 0)
    return rc;
  if (left > 0)
    r->flags |= GV_QF_OUTLINE_DISAGREES;
  if (full)
    {
      *out = r;
      return GV_OK;
    }
  double fx = (double) cover_w / ww, fy = (double) cover_h / hh;
  GvImage **imgs[4] = { &r->print, &r->score, &r->mask, &r->glare };
  for (int k = 0; k < 4; k++)
    if (*imgs[k])
      {
        GvImage *big = resize_nearest (*imgs[k], cover_w, cover_h);
        if (!big)
          {
            gv_defect_report_free (r);
            return gv_error_set (GV_ENOMEM, "out of memory");
          }
        gv_image_free (*imgs[k]);
        *imgs[k] = big;
      }
  r->width = cover_w;
  r->height = cover_h;
  r->mm_per_px_x = width_mm / cover_w;
  r->mm_per_px_y = height_mm / cover_h;
  for (int i = 0; i < r->n_defects; i++)
    {
      GvDefect *d = &r->defects[i];
      int x1 = (int) lround ((d->bbox[0] + d->bbox[2]) * fx), y1 = (int) lround ((d->bbox[1] + d->bbox[3]) * fy);
      d->bbox[0] = (int) lround (d->bbox[0] * fx);
      d->bbox[1] = (int) lround (d->bbox[1] * fy);
      d->bbox[2] = x1 - d->bbox[0];
      d->bbox[3] = y1 - d->bbox[1];
      d->area_px = lround (d->area_px * fx * fy);
      /* mm were computed at the working scale: unchanged */
    }
  *out = r;
  return GV_OK;
}
