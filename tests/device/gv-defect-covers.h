/* gv-defect-covers.h: synthetic margined covers for the tests of stage 4's per-pixel maps on the
 * device path (tests/test-grid.c, tests/device/gv-device-parity.c), and their CPU reference: the
 * per-pixel functions of gv-defect-maps.h in row loops over gv_parallel_for, the way
 * gv-defects.c runs them. GLib-free (the GPU machine has no GLib); header-only, static.
 *
 * A cover is w x h inside a margin of M px of table. The print has four grounds (blue, red, a
 * light neutral, yellow), black ink bars, thin lines whitened towards paper fibre (one across
 * the blue and red grounds, a vertical and a diagonal one; a short one across the spine
 * brightened evenly, as video shows a thin line) and a brown-tinted disc on the
 * neutral ground (the multiplicative tint of gv-defect-kernels.h, t = 0.45). Each of the n
 * covers adds its own noise (+-2), a glare disc (bright, colourless) where no other cover has
 * one, and its own frame edge: 0,0,0 outside it (a left band and bottom rows that grow with k;
 * the top-left 4x4 corner is outside every frame). */
#pragma once

#include <stdint.h>
#include <stdlib.h>

#include "gv-defect-maps.h"
#include "gv-image.h"
#include "gv-threads.h"

static uint32_t
gv_tc_rand (uint32_t *s)
{
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

static uint8_t
gv_tc_clamp (int v)
{
  return (uint8_t) (v < 0 ? 0 : (v > 255 ? 255 : v));
}

/* The clean print (and table) at margined pixel (X, Y), RGB. */
static void
gv_tc_print (int X, int Y, int w, int h, int M, int out[3])
{
  static const int table[3] = { 62, 70, 84 }, blue[3] = { 50, 80, 160 }, red[3] = { 180, 50, 40 };
  static const int neutral[3] = { 190, 185, 175 }, yellow[3] = { 205, 175, 70 };
  static const float paper[3] = { 238.0f, 232.0f, 215.0f }, tint[3] = { 0.22f, 0.40f, 0.62f };
  int x = X - M, y = Y - M;
  const int *g;

  if (x < 0 || y < 0 || x >= w || y >= h)
    {
      for (int c = 0; c < 3; c++)
        out[c] = table[c];
      return;
    }
  g = y < h / 2 ? (x < w / 2 ? blue : red) : (x < w / 2 ? neutral : yellow);
  for (int c = 0; c < 3; c++)
    out[c] = g[c] + (x + 2 * y) % 9 - 4; /* a gentle texture */
  /* black ink bars on the yellow ground */
  if (y >= h / 2 + 6 && x >= w / 2 + 6 && (y / 4) % 3 == 0 && (x / 7) % 2 == 0)
    {
      out[0] = 22, out[1] = 20, out[2] = 25;
      return;
    }
  /* brown tint on the neutral ground: a disc of radius h / 8 */
  int cx = w / 4, cy = 3 * h / 4, r = h / 8;
  if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r)
    for (int c = 0; c < 3; c++)
      out[c] = (int) ((float) out[c] * (1.0f - 0.45f * tint[c]) + 0.5f);
  /* a line across the spine brightened evenly (+40 every channel: video carries a thin
   * line's colour weakened), which only the video colour model takes for whitening: the
   * negative evidence of gv_dk_line_at */
  if (y == h / 8 && x < w / 24)
    {
      for (int c = 0; c < 3; c++)
        out[c] += 40;
      return;
    }
  /* whitened lines: half-way towards paper fibre */
  if (y == h / 4 || (x == 3 * w / 8 && y < h / 2) || (x == 5 * w / 8 && y < h / 2)
      || (x == y && y < h / 2))
    for (int c = 0; c < 3; c++)
      out[c] = (int) ((float) out[c] + 0.5f * (paper[c] - (float) out[c]) + 0.5f);
}

/* Cover k of n at margin M (W x H = (w + 2M) x (h + 2M), RGB U8), or NULL when out of memory. */
static GvImage *
gv_tc_cover (int w, int h, int M, int k)
{
  int W = w + 2 * M, H = h + 2 * M;
  GvImage *im = gv_image_new (W, H, 3, GV_U8);
  uint32_t s = 0x9e3779b9u ^ (uint32_t) (k * 7919 + w * 31 + h);
  /* this cover's glare disc: a place of its own along the upper grounds */
  int gx = M + (w / 9) * (1 + k % 8), gy = M + h / 8 + (k % 2) * (h / 6), gr = 5;

  if (!im)
    return NULL;
  for (int Y = 0; Y < H; Y++)
    {
      uint8_t *row = gv_image_row_u8 (im, Y);
      for (int X = 0; X < W; X++)
        {
          int v[3];
          uint8_t *p = row + 3 * X;
          gv_tc_print (X, Y, w, h, M, v);
          for (int c = 0; c < 3; c++)
            p[c] = gv_tc_clamp (v[c] + (int) (gv_tc_rand (&s) % 5) - 2);
          if ((X - gx) * (X - gx) + (Y - gy) * (Y - gy) <= gr * gr)
            p[0] = 246, p[1] = 244, p[2] = 238;
          /* outside this cover's frame; never 0,0,0 inside it (noise cannot reach 0 here) */
          if (X < 2 * k || Y >= H - 1 - k % 3 || (X < 4 && Y < 4))
            p[0] = p[1] = p[2] = 0;
        }
    }
  return im;
}

/* ---- The maps of one cover, shaped as gv_defect_maps_device wants them ------------------- */

typedef struct {
  GvImage *print, *glare; /* W x H = (w + 2M) x (h + 2M): RGB U8, U8 */
  GvImage *line, *stain;  /* w x h, F32 */
  uint8_t *dark;          /* w * h bytes, row pitch w */
} GvTcMapSet;

/* Allocates the maps of a w x h cover at margin M; 1 when all are there (release with
 * gv_tc_maps_release either way). */
static int
gv_tc_maps_alloc (int w, int h, int M, GvTcMapSet *m)
{
  m->print = gv_image_new (w + 2 * M, h + 2 * M, 3, GV_U8);
  m->glare = gv_image_new (w + 2 * M, h + 2 * M, 1, GV_U8);
  m->line = gv_image_new (w, h, 1, GV_F32);
  m->stain = gv_image_new (w, h, 1, GV_F32);
  m->dark = malloc ((size_t) w * h);
  return m->print && m->glare && m->line && m->stain && m->dark;
}

static void
gv_tc_maps_release (GvTcMapSet *m)
{
  gv_image_free (m->print);
  gv_image_free (m->glare);
  gv_image_free (m->line);
  gv_image_free (m->stain);
  free (m->dark);
  m->print = m->glare = m->line = m->stain = NULL;
  m->dark = NULL;
}

/* ---- CPU reference: gv-defects.c's row loops over the shared per-pixel functions ---------- */

typedef struct {
  const GvImage *const *covers;
  int n, M;
  const GvImage *P;
  GvImage *print, *glare, *line, *stain;
  uint8_t *dark;
} GvTcMaps;

static void
gv_tc_median_rows (void *data, int b, int e)
{
  GvTcMaps *c = data;
  for (int y = b; y < e; y++)
    {
      const uint8_t *rows[GV_DM_MAX_COVERS], *px[GV_DM_MAX_COVERS];
      uint8_t *o = gv_image_row_u8 (c->print, y), *g = gv_image_row_u8 (c->glare, y);
      for (int k = 0; k < c->n; k++)
        rows[k] = gv_image_row_u8 (c->covers[k], y);
      for (int x = 0; x < c->print->width; x++)
        {
          for (int k = 0; k < c->n; k++)
            px[k] = rows[k] + 3 * x;
          gv_dm_median_px (px, c->n, o + 3 * x, g + x);
        }
    }
}

static void
gv_tc_line_rows (void *data, int b, int e)
{
  GvTcMaps *c = data;
  const GvImage *P = c->P;
  for (int y = b; y < e; y++)
    {
      float *o = gv_image_row_f32 (c->line, y);
      for (int x = 0; x < c->line->width; x++)
        o[x] = gv_dm_line_at ((const uint8_t *) P->data, P->width, P->height, (int) P->stride,
                              c->M, x, y);
    }
}

static void
gv_tc_stain_rows (void *data, int b, int e)
{
  GvTcMaps *c = data;
  const GvImage *P = c->P;
  for (int y = b; y < e; y++)
    {
      float *o = gv_image_row_f32 (c->stain, y);
      for (int x = 0; x < c->stain->width; x++)
        o[x] = gv_dm_stain_at ((const uint8_t *) P->data, P->width, P->height, (int) P->stride,
                               c->M, x, y, c->dark + (size_t) y * c->stain->width + x);
    }
}

typedef struct {
  const GvImage *P;
  GvImage *out;
  int r;
} GvTcBox;

static void
gv_tc_box_rows (void *data, int b, int e)
{
  GvTcBox *c = data;
  const GvImage *P = c->P;
  for (int y = b; y < e; y++)
    for (int x = 0; x < P->width; x++)
      gv_dk_box_px ((const uint8_t *) P->data, P->width, P->height, (int) P->stride, x, y, c->r,
                    gv_image_row_u8 (c->out, y) + 3 * x);
}

/* Step 3e' on the CPU, shapes as gv_defect_stain2_device: the margined print P descreened with
 * radius r (gv-defects.c's descreen_rows), then its stain evidence (the stain row loop); 1 when
 * done, 0 out of memory. */
static int
gv_tc_stain2_cpu (const GvImage *P, int M, int r, int nthreads, GvImage *stain2, uint8_t *dark2)
{
  GvImage *d = gv_image_new (P->width, P->height, 3, GV_U8);
  if (!d)
    return 0;
  GvTcBox bc = { P, d, r };
  gv_parallel_for (nthreads, P->height, 8, gv_tc_box_rows, &bc);
  GvTcMaps c = { NULL, 0, M, d, NULL, NULL, NULL, stain2, dark2 };
  gv_parallel_for (nthreads, stain2->height, 8, gv_tc_stain_rows, &c);
  gv_image_free (d);
  return 1;
}

/* The maps on the CPU, shapes as gv_defect_maps_device; line and stain may be NULL. */
static void
gv_tc_maps_cpu (const GvImage *const *covers, int n, int M, int nthreads, GvImage *print,
                GvImage *glare, GvImage *line, GvImage *stain, uint8_t *dark)
{
  GvTcMaps c = { covers, n, M, print, print, glare, line, stain, dark };
  gv_parallel_for (nthreads, print->height, 8, gv_tc_median_rows, &c);
  if (line)
    gv_parallel_for (nthreads, line->height, 8, gv_tc_line_rows, &c);
  if (stain)
    gv_parallel_for (nthreads, stain->height, 8, gv_tc_stain_rows, &c);
}
