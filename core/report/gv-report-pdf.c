/* gv-report-pdf.c: the grader's PDF of a stored run, drawn with cairo and laid out with Pango.
 * Sections: cover page (scan id, grade and its explanation, key figures, capture-quality flags),
 * golden frames, warped cover (mask and region boxes when present), region table, defect list with
 * crops, per-frame sharpness and motion with the gate, CPU vs GPU, parameters and versions.
 * Pictures are downsampled to about 150 dpi before they are embedded so a report stays small.
 * Strings go through _() (the app binds the gradevault-inspector domain); the core's English in
 * the result (grade lines, reasons, defect kind and region names) is translated through the
 * templates of gv-i18n.h, the result itself stays English. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <pango/pangocairo.h>
#include <sqlite3.h>

#include "gv-i18n.h"

#include "gv-report-private.h"

#define DPI 150.0
#define MARGIN 50.0
#define FONT "DejaVu Sans"

typedef struct {
  cairo_t *cr;
  double w, h;     /* page size, pt */
  double y;        /* next line */
  int page;
  const GvRun *run;
} Doc;

/* ---- PNG in memory ---- */

typedef struct {
  const guint8 *data;
  gsize len, pos;
} ReadCursor;

static cairo_status_t
read_png (void *closure, unsigned char *data, unsigned int length)
{
  ReadCursor *c = closure;
  if (c->pos + length > c->len)
    return CAIRO_STATUS_READ_ERROR;
  memcpy (data, c->data + c->pos, length);
  c->pos += length;
  return CAIRO_STATUS_SUCCESS;
}

cairo_surface_t *
_gv_png_surface (GBytes *png)
{
  ReadCursor c = { NULL, 0, 0 };
  cairo_surface_t *s;

  if (!png)
    return NULL;
  c.data = g_bytes_get_data (png, &c.len);
  s = cairo_image_surface_create_from_png_stream (read_png, &c);
  if (cairo_surface_status (s) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (s);
      return NULL;
    }
  return s;
}

/* ---- text ---- */

static PangoLayout *
layout_new (Doc *d, const char *text, double size, gboolean bold, double width, gboolean markup)
{
  PangoLayout *l = pango_cairo_create_layout (d->cr);
  PangoFontDescription *fd = pango_font_description_from_string (FONT);

  pango_font_description_set_absolute_size (fd, size * PANGO_SCALE);
  if (bold)
    pango_font_description_set_weight (fd, PANGO_WEIGHT_BOLD);
  pango_layout_set_font_description (l, fd);
  pango_font_description_free (fd);
  if (width > 0)
    {
      pango_layout_set_width (l, (int) (width * PANGO_SCALE));
      pango_layout_set_wrap (l, PANGO_WRAP_WORD_CHAR);
    }
  if (markup)
    pango_layout_set_markup (l, text, -1);
  else
    pango_layout_set_text (l, text, -1);
  return l;
}

/* Draws text at (x, y); returns its height. */
static double
text_at (Doc *d, double x, double y, const char *text, double size, gboolean bold, double width)
{
  PangoLayout *l = layout_new (d, text, size, bold, width, FALSE);
  int pw, ph;

  cairo_move_to (d->cr, x, y);
  pango_cairo_show_layout (d->cr, l);
  /* Leave no current point behind: the next path must not start from the text. */
  cairo_new_path (d->cr);
  pango_layout_get_size (l, &pw, &ph);
  g_object_unref (l);
  return (double) ph / PANGO_SCALE;
}

static double
text_width (Doc *d, const char *text, double size, gboolean bold)
{
  PangoLayout *l = layout_new (d, text, size, bold, 0, FALSE);
  int pw, ph;

  pango_layout_get_size (l, &pw, &ph);
  g_object_unref (l);
  return (double) pw / PANGO_SCALE;
}

static void
footer (Doc *d)
{
  g_autofree char *s = g_strdup_printf (_("GradeVault Inspector · scan %s · run %lld · page %d"),
                                        d->run->scan_id, (long long) d->run->id, d->page);
  cairo_save (d->cr);
  cairo_set_source_rgb (d->cr, 0.45, 0.45, 0.45);
  text_at (d, MARGIN, d->h - MARGIN + 18, s, 8, FALSE, 0);
  cairo_restore (d->cr);
}

static void
new_page (Doc *d)
{
  footer (d);
  cairo_show_page (d->cr);
  d->page++;
  d->y = MARGIN;
}

static void
need (Doc *d, double h)
{
  if (d->y + h > d->h - MARGIN)
    new_page (d);
}

static void
para (Doc *d, const char *text, double size, gboolean bold)
{
  PangoLayout *l = layout_new (d, text, size, bold, d->w - 2 * MARGIN, FALSE);
  int pw, ph;

  pango_layout_get_size (l, &pw, &ph);
  need (d, (double) ph / PANGO_SCALE);
  cairo_move_to (d->cr, MARGIN, d->y);
  pango_cairo_show_layout (d->cr, l);
  cairo_new_path (d->cr);
  d->y += (double) ph / PANGO_SCALE + size * 0.35;
  g_object_unref (l);
}

static void
heading (Doc *d, const char *text)
{
  /* A heading never ends a page: keep room for it and a few lines of its section. */
  need (d, 100);
  d->y += 6;
  cairo_set_source_rgb (d->cr, 0.10, 0.20, 0.40);
  para (d, text, 15, TRUE);
  cairo_set_line_width (d->cr, 0.8);
  cairo_move_to (d->cr, MARGIN, d->y - 2);
  cairo_line_to (d->cr, d->w - MARGIN, d->y - 2);
  cairo_stroke (d->cr);
  cairo_set_source_rgb (d->cr, 0, 0, 0);
  d->y += 6;
}

static void
muted (Doc *d, const char *text)
{
  cairo_set_source_rgb (d->cr, 0.4, 0.4, 0.4);
  para (d, text, 9.5, FALSE);
  cairo_set_source_rgb (d->cr, 0, 0, 0);
}

/* A table: columns by relative width; first row is the header. */
static void
table (Doc *d, GPtrArray *rows, const double *widths, int ncol, double size)
{
  double total = 0, x, tw = d->w - 2 * MARGIN;

  for (int c = 0; c < ncol; c++)
    total += widths[c];
  for (guint r = 0; r < rows->len; r++)
    {
      char **cells = g_ptr_array_index (rows, r);
      double rh = 0;
      for (int c = 0; c < ncol; c++)
        {
          PangoLayout *l = layout_new (d, cells[c] ? cells[c] : "", size, r == 0,
                                       tw * widths[c] / total - 6, FALSE);
          int pw, ph;
          pango_layout_get_size (l, &pw, &ph);
          rh = MAX (rh, (double) ph / PANGO_SCALE);
          g_object_unref (l);
        }
      rh += 4;
      need (d, rh);
      if (r == 0)
        {
          cairo_set_source_rgb (d->cr, 0.90, 0.92, 0.96);
          cairo_rectangle (d->cr, MARGIN, d->y, tw, rh);
          cairo_fill (d->cr);
        }
      else if (r % 2 == 0)
        {
          cairo_set_source_rgb (d->cr, 0.97, 0.97, 0.97);
          cairo_rectangle (d->cr, MARGIN, d->y, tw, rh);
          cairo_fill (d->cr);
        }
      cairo_set_source_rgb (d->cr, 0, 0, 0);
      x = MARGIN;
      for (int c = 0; c < ncol; c++)
        {
          text_at (d, x + 3, d->y + 2, cells[c] ? cells[c] : "", size, r == 0,
                   tw * widths[c] / total - 6);
          x += tw * widths[c] / total;
        }
      d->y += rh;
    }
  d->y += 8;
}

static void
row_add (GPtrArray *rows, int ncol, ...)
{
  char **cells = g_new0 (char *, ncol + 1);
  va_list ap;

  va_start (ap, ncol);
  for (int c = 0; c < ncol; c++)
    cells[c] = g_strdup (va_arg (ap, const char *));
  va_end (ap);
  g_ptr_array_add (rows, cells);
}

static GPtrArray *
rows_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
}

/* Shortest plain rendering of a number for a table. */
static char *
num (double v, int decimals)
{
  if (isnan (v))
    return g_strdup ("–");
  return g_strdup_printf ("%.*f", decimals, v);
}

/* ---- pictures ---- */

/* Paints img scaled into the box (x, y, w, h) (aspect kept, top-left aligned), through a copy
 * downsampled to DPI; returns the scale from image px to pt and the drawn size. */
static double
picture (Doc *d, cairo_surface_t *img, double x, double y, double w, double h, double *dw, double *dh)
{
  int iw = cairo_image_surface_get_width (img), ih = cairo_image_surface_get_height (img);
  double s = MIN (w / iw, h / ih);
  int tw = MAX (1, (int) ceil (iw * s * DPI / 72.0)), th = MAX (1, (int) ceil (ih * s * DPI / 72.0));
  cairo_surface_t *small = cairo_image_surface_create (CAIRO_FORMAT_RGB24, MIN (tw, iw), MIN (th, ih));
  cairo_t *c = cairo_create (small);
  double ds = (double) cairo_image_surface_get_width (small) / iw;

  cairo_scale (c, ds, ds);
  cairo_set_source_surface (c, img, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (c), CAIRO_FILTER_GOOD);
  cairo_paint (c);
  cairo_destroy (c);

  cairo_save (d->cr);
  cairo_translate (d->cr, x, y);
  cairo_scale (d->cr, s / ds, s / ds);
  cairo_set_source_surface (d->cr, small, 0, 0);
  cairo_paint (d->cr);
  cairo_restore (d->cr);
  cairo_surface_destroy (small);
  *dw = iw * s;
  *dh = ih * s;
  return s;
}

/* Red translucent overlay where a gray mask (any channel > 127) is set, scaled like picture(). */
static void
mask_overlay (Doc *d, cairo_surface_t *mask, double x, double y, double s, int cover_w)
{
  int mw = cairo_image_surface_get_width (mask), mh = cairo_image_surface_get_height (mask);
  cairo_surface_t *a8 = cairo_image_surface_create (CAIRO_FORMAT_A8, mw, mh);
  double ms = s * cover_w / (double) mw;

  cairo_surface_flush (mask);
  cairo_surface_flush (a8);
  for (int yy = 0; yy < mh; yy++)
    {
      const guint32 *src = (const guint32 *) (cairo_image_surface_get_data (mask)
                                              + (gsize) yy * cairo_image_surface_get_stride (mask));
      guint8 *dst = cairo_image_surface_get_data (a8) + (gsize) yy * cairo_image_surface_get_stride (a8);
      for (int xx = 0; xx < mw; xx++)
        dst[xx] = ((src[xx] >> 8) & 0xff) > 127 ? 140 : 0;
    }
  cairo_surface_mark_dirty (a8);
  cairo_save (d->cr);
  cairo_translate (d->cr, x, y);
  cairo_scale (d->cr, ms, ms);
  cairo_set_source_rgb (d->cr, 0.9, 0.05, 0.05);
  cairo_mask_surface (d->cr, a8, 0, 0);
  cairo_restore (d->cr);
  cairo_surface_destroy (a8);
}

/* ---- sections ---- */

static const char *
flag_text (const char *flag)
{
  static const struct { const char *flag, *text; } t[] = {
    { "partial_video", N_("The video could only be read in part: the stream ended on an error.") },
    { "decode_errors", N_("Some frames had decoding errors (concealed by the decoder).") },
    { "too_few_sharp_frames", N_("Fewer sharp, still frames than wanted: hold the book still longer.") },
    { "cover_not_found", N_("The cover was not found in any golden frame.") },
    { "cover_not_found_in_some_frames", N_("The cover was not found in some golden frames.") },
    { "cover_partly_out_of_frame", N_("The cover touches the picture's border in some frames.") },
    { "frame_retention_limited", N_("The frame-retention limit cut some candidates.") },
    { "glare", N_("Glare over part of the cover.") },
    { "cover_outline_disagrees",
      N_("A golden frame's cover outline disagreed with the others' and was left out of the defect analysis.") },
  };
  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    if (!strcmp (flag, t[i].flag))
      return _(t[i].text);
  return NULL;
}

static const char *
tr_core (const char *msgid, void *data)
{
  return _(msgid);
}

/* The core's English in the reader's language (owned by the caller). */
static char *
core_text (const char *english)
{
  size_t n;
  char *out;

  if (!english)
    return NULL;
  n = gv_i18n_translate_line (english, tr_core, NULL, NULL, 0);
  out = g_malloc (n + 1);
  gv_i18n_translate_line (english, tr_core, NULL, out, n + 1);
  return out;
}

static void
grade_explanation (Doc *d, JsonObject *g)
{
  JsonArray *lines = gv_json_arr (g, "explanation") ? gv_json_arr (g, "explanation")
                                                     : gv_json_arr (g, "lines");
  const char *expl = gv_json_str (g, "explanation");

  if (expl)
    para (d, expl, 10, FALSE);
  if (lines && json_array_get_length (lines))
    {
      g_autoptr (GPtrArray) rows = rows_new ();
      static const double w[] = { 6, 1.2, 1.2 };
      row_add (rows, 3, _("Why (grade receipt)"), _("Points"), _("Running"));
      for (guint i = 0; i < json_array_get_length (lines); i++)
        {
          JsonNode *n = json_array_get_element (lines, i);
          if (JSON_NODE_HOLDS_VALUE (n))
            {
              g_autofree char *text = core_text (json_node_get_string (n));
              row_add (rows, 3, text, "", "");
            }
          else if (JSON_NODE_HOLDS_OBJECT (n))
            {
              JsonObject *o = json_node_get_object (n);
              double delta = gv_json_num (o, "delta", 0);
              g_autofree char *ds = delta != 0 ? g_strdup_printf ("%+.2f", delta) : g_strdup ("");
              g_autofree char *rs = num (gv_json_num (o, "running", NAN), 2);
              g_autofree char *text = core_text (gv_json_str (o, "text"));
              row_add (rows, 3, text, ds, rs);
            }
        }
      table (d, rows, w, 3, 9);
    }
}

static void
cover_page (Doc *d, JsonObject *root)
{
  const GvRun *run = d->run;
  JsonObject *video = gv_json_obj (root, "video"), *summary = gv_json_obj (root, "summary");
  JsonObject *backend = gv_json_obj (root, "backend");
  JsonNode *gn = root ? json_object_get_member (root, "grade") : NULL;
  JsonArray *flags = gv_json_arr (root, "flags");
  g_autoptr (GPtrArray) rows = rows_new ();
  static const double kw[] = { 1.3, 3 };

  cairo_set_source_rgb (d->cr, 0.10, 0.20, 0.40);
  d->y += text_at (d, MARGIN, d->y, _("GradeVault Inspector"), 11, FALSE, 0) + 2;
  d->y += text_at (d, MARGIN, d->y, _("Scan report"), 26, TRUE, 0) + 8;
  cairo_set_source_rgb (d->cr, 0, 0, 0);
  {
    g_autofree char *s = g_strdup_printf (_("Scan %s · run %lld · %s · analysed %s"),
                                          run->scan_id, (long long) run->id, gv_run_status_name (run->status),
                                          run->started_at ? run->started_at : "?");
    para (d, s, 11, FALSE);
  }
  d->y += 10;

  /* The grade box. */
  {
    double bx = MARGIN, bw = d->w - 2 * MARGIN, bh = 74;
    g_autofree char *big = NULL, *sub = NULL;
    JsonObject *g = gn && JSON_NODE_HOLDS_OBJECT (gn) ? json_node_get_object (gn) : NULL;
    gboolean review = g && gv_json_num (g, "needs_review", 0) != 0;

    if (!isnan (run->grade) && run->grade >= 0)
      {
        big = g_strdup_printf ("%.1f", run->grade);
        sub = run->grade_label ? g_strdup_printf (_("CGC grade · %s"), run->grade_label)
                               : g_strdup (_("CGC grade"));
      }
    else if (review)
      {
        double est = gv_json_num (g, "estimate", gv_json_num (g, "grade_estimate", NAN));
        big = g_strdup (_("Review"));
        g_autofree char *reason = core_text (gv_json_str (g, "review_reason"));
        sub = !isnan (est) ? g_strdup_printf (_("needs a person's review (estimate %.1f): %s"), est,
                                              reason ? reason : "")
                           : g_strdup (_("needs a person's review"));
      }
    else
      {
        big = g_strdup ("–");
        sub = g_strdup (_("No grade: this run has no defect analysis or grading (not available)."));
      }
    /* the line beside the big word starts after it, and the box grows with a long line (a
     * review reason can take three) */
    double tx = bx + 14 + text_width (d, big, 38, TRUE) + 18, sub_h, ds_h = 0;
    g_autofree char *ds = NULL;
    tx = tx < bx + 150 ? bx + 150 : tx;
    if (!isnan (run->damage_score) || !isnan (run->defect_percentage))
      {
        g_autofree char *a = num (run->damage_score, 1), *b = num (run->defect_percentage, 2);
        ds = g_strdup_printf (_("damage score %s / 100 · defects cover %s %% of the cover"), a, b);
      }
    for (int k = 0; k < (ds ? 2 : 1); k++)
      {
        PangoLayout *l = layout_new (d, k ? ds : sub, k ? 9.5 : 11, FALSE, bx + bw - 20 - tx, FALSE);
        int pw, ph;
        pango_layout_get_size (l, &pw, &ph);
        g_object_unref (l);
        *(k ? &ds_h : &sub_h) = (double) ph / PANGO_SCALE;
      }
    if (18 + (sub_h > 28 ? sub_h : 28) + ds_h + 12 > bh)
      bh = 18 + (sub_h > 28 ? sub_h : 28) + ds_h + 12;
    cairo_set_source_rgb (d->cr, 0.94, 0.95, 0.98);
    cairo_rectangle (d->cr, bx, d->y, bw, bh);
    cairo_fill (d->cr);
    cairo_set_source_rgb (d->cr, 0.10, 0.20, 0.40);
    text_at (d, bx + 14, d->y + 10, big, 38, TRUE, 0);
    cairo_set_source_rgb (d->cr, 0.2, 0.2, 0.2);
    text_at (d, tx, d->y + 18, sub, 11, FALSE, bx + bw - 20 - tx);
    if (ds)
      text_at (d, tx, d->y + 18 + (sub_h > 28 ? sub_h : 28), ds, 9.5, FALSE, bx + bw - 20 - tx);
    cairo_set_source_rgb (d->cr, 0, 0, 0);
    d->y += bh + 12;
    if (g)
      grade_explanation (d, g);
  }

  /* Key figures. */
  row_add (rows, 2, _("Key figure"), _("Value"));
  {
    g_autofree char *base = run->video_path ? g_path_get_basename (run->video_path) : g_strdup ("?");
    g_autofree char *v = g_strdup_printf ("%s (%dx%d, %.3g fps, %.2f s, %s)", base,
                                          (int) gv_json_num (video, "width", 0),
                                          (int) gv_json_num (video, "height", 0),
                                          gv_json_num (video, "fps", run->fps),
                                          gv_json_num (video, "duration", run->duration),
                                          gv_json_str (video, "codec") ? gv_json_str (video, "codec") : "?");
    row_add (rows, 2, _("Video"), v);
  }
  row_add (rows, 2, _("Video path"), run->video_path ? run->video_path : "?");
  {
    g_autofree char *sz = run->video_size >= 0 ? g_format_size (run->video_size) : g_strdup ("?");
    g_autofree char *v = g_strdup_printf ("%s · SHA-256 %s", sz, run->video_sha256 ? run->video_sha256 : "?");
    row_add (rows, 2, _("File"), v);
  }
  {
    g_autofree char *v = g_strdup_printf ("%s (%s)", run->backend ? run->backend : "?",
                                          run->device ? run->device : "?");
    row_add (rows, 2, _("Backend"), v);
  }
  if (summary)
    {
      int frames = (int) gv_json_num (summary, "frames", 0), cand = (int) gv_json_num (summary, "candidates", 0);
      g_autofree char *v = g_strdup_printf (_("%d frames analysed, %d passed the motion gate (%.0f %%)"),
                                            frames, cand, frames ? 100.0 * cand / frames : 0.0);
      g_autofree char *g = g_strdup_printf (_("%d golden frames, cover found in %d"),
                                            (int) gv_json_num (summary, "golden_frames", 0),
                                            (int) gv_json_num (summary, "covers_found", 0));
      row_add (rows, 2, _("Frames"), v);
      row_add (rows, 2, _("Golden frames"), g);
    }
  if (run->total_seconds >= 0)
    {
      g_autofree char *v = g_strdup_printf (_("%.2f s on %s"), run->total_seconds,
                                            gv_json_str (backend, "name") ? gv_json_str (backend, "name") : "?");
      row_add (rows, 2, _("Analysis time"), v);
    }
  if (run->error)
    row_add (rows, 2, _("Error"), run->error);
  heading (d, _("Key figures"));
  table (d, rows, kw, 2, 9.5);

  heading (d, _("Capture quality"));
  if (!flags || !json_array_get_length (flags))
    para (d, run->result ? _("No capture-quality flags: the video was read in full and the cover was found in every golden frame.")
                         : _("Not available: the run did not finish."), 10, FALSE);
  for (guint i = 0; flags && i < json_array_get_length (flags); i++)
    {
      const char *f = json_array_get_string_element (flags, i);
      const char *t = f ? flag_text (f) : NULL;
      g_autofree char *s = g_strdup_printf ("•  %s (%s)", t ? t : f, f);
      para (d, s, 10, FALSE);
    }
}

static void
golden_section (Doc *d, JsonObject *root)
{
  JsonArray *golden = gv_json_arr (root, "golden_frames");
  guint n = golden ? json_array_get_length (golden) : 0;
  double colw = (d->w - 2 * MARGIN - 16) / 2, imgh = 150;

  new_page (d);
  heading (d, _("Golden frames"));
  if (!n)
    {
      para (d, _("No golden frames: no frame passed the motion gate."), 10, FALSE);
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      JsonObject *g = json_array_get_object_element (golden, i);
      JsonObject *c = gv_json_obj (g, "cover");
      const GvRunImage *img = gv_run_find_image_by_name (d->run, gv_json_str (g, "image"));
      double x = MARGIN + (i % 2) * (colw + 16);
      g_autofree char *cap = NULL;
      if (i % 2 == 0)
        need (d, imgh + 50);
      if (img)
        {
          cairo_surface_t *s = _gv_png_surface (img->png);
          if (s)
            {
              double dw, dh, sc = picture (d, s, x, d->y, colw, imgh, &dw, &dh);
              JsonArray *q = gv_json_arr (c, "corners");
              if (q && json_array_get_length (q) == 4)
                {
                  cairo_save (d->cr);
                  cairo_set_source_rgb (d->cr, 0.1, 0.9, 0.2);
                  cairo_set_line_width (d->cr, 1.2);
                  for (int k = 0; k < 4; k++)
                    {
                      JsonArray *p = json_array_get_array_element (q, k);
                      cairo_line_to (d->cr, x + sc * json_array_get_double_element (p, 0),
                                     d->y + sc * json_array_get_double_element (p, 1));
                    }
                  cairo_close_path (d->cr);
                  cairo_stroke (d->cr);
                  cairo_restore (d->cr);
                }
              cairo_surface_destroy (s);
            }
        }
      else
        {
          cairo_set_source_rgb (d->cr, 0.92, 0.92, 0.92);
          cairo_rectangle (d->cr, x, d->y, colw, imgh);
          cairo_fill (d->cr);
          cairo_set_source_rgb (d->cr, 0.3, 0.3, 0.3);
          text_at (d, x + 8, d->y + 8, _("image not stored (run with --no-images)"), 9, FALSE, colw - 16);
          cairo_set_source_rgb (d->cr, 0, 0, 0);
        }
      cap = g_strdup_printf (_("Frame %d · t = %.3f s · sharpness %.1f · motion %.2f px · %s"),
                             (int) gv_json_num (g, "index", -1), gv_json_num (g, "pts", 0),
                             gv_json_num (g, "sharpness", 0), gv_json_num (g, "motion", 0),
                             gv_json_num (c, "found", 0) ? _("cover found") : _("cover not found"));
      text_at (d, x, d->y + imgh + 4, cap, 8.5, FALSE, colw);
      if (i % 2 == 1 || i + 1 == n)
        d->y += imgh + 40;
    }
  muted (d, _("Green outline: the cover's detected outer corners."));
}

/* Region box in cover px: from the region's own box (fractions when all <= 1), else the worker's
 * region table (seed-system.md). */
static gboolean
region_box (GvReportRegion *r, int cw, int ch, double b[4])
{
  static const struct { const char *name; double x0, y0, x1, y1; } std[] = {
    { "corner_tl", 0, 0, 0.12, 0.12 }, { "corner_tr", 0.88, 0, 1, 0.12 },
    { "corner_bl", 0, 0.88, 0.12, 1 }, { "corner_br", 0.88, 0.88, 1, 1 },
    { "spine", 0, 0.12, 0.08, 0.88 }, { "surface", 0.12, 0.12, 0.88, 0.88 },
  };
  if (_gv_json_box (r->obj, b))
    {
      if (b[0] <= 1 && b[1] <= 1 && b[2] <= 1 && b[3] <= 1)
        {
          b[0] *= cw;
          b[2] *= cw;
          b[1] *= ch;
          b[3] *= ch;
        }
      return TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (std); i++)
    if (!strcmp (r->name, std[i].name))
      {
        b[0] = std[i].x0 * cw;
        b[1] = std[i].y0 * ch;
        b[2] = (std[i].x1 - std[i].x0) * cw;
        b[3] = (std[i].y1 - std[i].y0) * ch;
        return TRUE;
      }
  return FALSE;
}

/* The warped cover shown: the sharpest golden frame whose cover was found. */
static const GvRunImage *
best_cover (const GvRun *run, JsonObject *root, int *ordinal)
{
  JsonArray *golden = gv_json_arr (root, "golden_frames");
  const GvRunImage *best = NULL;
  double bs = -1;

  for (guint i = 0; golden && i < json_array_get_length (golden); i++)
    {
      JsonObject *g = json_array_get_object_element (golden, i);
      const GvRunImage *img = gv_run_find_image_by_name (run, gv_json_str (gv_json_obj (g, "cover"), "warped"));
      if (img && gv_json_num (g, "sharpness", 0) > bs)
        {
          bs = gv_json_num (g, "sharpness", 0);
          best = img;
          *ordinal = (int) i;
        }
    }
  return best;
}

static const GvRunImage *
image_like (const GvRun *run, const char *word)
{
  for (guint i = 0; run->images && i < run->images->len; i++)
    {
      const GvRunImage *img = g_ptr_array_index (run->images, i);
      g_autofree char *kind = g_ascii_strdown (img->kind, -1);
      if (strstr (kind, word) || strstr (img->name, word))
        return img;
    }
  return NULL;
}

static void
cover_section (Doc *d, JsonObject *root, GPtrArray *regions, cairo_surface_t **cover_out)
{
  int ord = -1;
  const GvRunImage *cover = best_cover (d->run, root, &ord);
  const GvRunImage *mask = image_like (d->run, "mask");
  cairo_surface_t *s;
  double dw, dh, sc;

  new_page (d);
  heading (d, _("Warped cover"));
  if (!cover || !(s = _gv_png_surface (cover->png)))
    {
      para (d, _("No warped cover: the cover was not found in any golden frame, or images were not stored."), 10, FALSE);
      return;
    }
  {
    g_autofree char *t = g_strdup_printf (_("Golden frame %d flattened to %dx%d px%s%s."), ord,
                                          cairo_image_surface_get_width (s),
                                          cairo_image_surface_get_height (s),
                                          mask ? _("; red: defect mask, yellow: numbered defects") : "",
                                          regions->len ? _("; boxes: regions") : "");
    muted (d, t);
  }
  /* About half the page so the region table and defects can follow on the same page. */
  sc = picture (d, s, MARGIN, d->y, d->w - 2 * MARGIN, 0.5 * (d->h - 2 * MARGIN), &dw, &dh);
  if (mask)
    {
      cairo_surface_t *m = _gv_png_surface (mask->png);
      if (m)
        {
          mask_overlay (d, m, MARGIN, d->y, sc, cairo_image_surface_get_width (s));
          cairo_surface_destroy (m);
        }
    }
  for (guint i = 0; i < regions->len; i++)
    {
      GvReportRegion *r = g_ptr_array_index (regions, i);
      double b[4];
      if (!region_box (r, cairo_image_surface_get_width (s), cairo_image_surface_get_height (s), b))
        continue;
      cairo_set_source_rgb (d->cr, 0.1, 0.4, 0.95);
      cairo_set_line_width (d->cr, 1);
      cairo_rectangle (d->cr, MARGIN + sc * b[0], d->y + sc * b[1], sc * b[2], sc * b[3]);
      cairo_stroke (d->cr);
      {
        g_autofree char *name = core_text (r->name);
        text_at (d, MARGIN + sc * b[0] + 2, d->y + sc * b[1] + 2, name, 7, TRUE, 0);
      }
    }
  /* Defect boxes (cover px) with their numbers in the defect list: the mask alone is often too
   * small to see at page scale. */
  {
    JsonArray *defects = _gv_run_defects (d->run);
    for (guint i = 0; defects && i < json_array_get_length (defects); i++)
      {
        double b[4];
        g_autofree char *lab = g_strdup_printf ("%u", i + 1);
        if (!_gv_json_box (json_array_get_object_element (defects, i), b))
          continue;
        cairo_set_source_rgb (d->cr, 1.0, 0.85, 0.0);
        cairo_set_line_width (d->cr, 1.5);
        cairo_rectangle (d->cr, MARGIN + sc * b[0] - 2, d->y + sc * b[1] - 2, sc * b[2] + 4, sc * b[3] + 4);
        cairo_stroke (d->cr);
        cairo_set_source_rgb (d->cr, 0.9, 0.0, 0.0);
        text_at (d, MARGIN + sc * (b[0] + b[2]) + 3, d->y + sc * b[1] - 4, lab, 8, TRUE, 0);
      }
  }
  cairo_set_source_rgb (d->cr, 0, 0, 0);
  d->y += dh + 10;
  *cover_out = s;
}

static void
regions_section (Doc *d, GPtrArray *regions)
{
  static const double w[] = { 1.6, 1.2, 1.2, 1.2, 1.2, 1.2 };
  g_autoptr (GPtrArray) rows = rows_new ();

  heading (d, _("Regions"));
  if (!regions->len)
    {
      para (d, _("Not available: this run has no region analysis."), 10, FALSE);
      return;
    }
  row_add (rows, 6, _("Region"), _("Defect coverage %"), _("Mean intensity"), _("Max intensity"),
           _("Edge density %"), _("Quality score"));
  for (guint i = 0; i < regions->len; i++)
    {
      GvReportRegion *r = g_ptr_array_index (regions, i);
      g_autofree char *a = num (gv_json_num (r->obj, "defect_coverage", NAN), 2);
      g_autofree char *b = num (gv_json_num (r->obj, "mean_intensity", NAN), 3);
      g_autofree char *c = num (gv_json_num (r->obj, "max_intensity", NAN), 3);
      g_autofree char *e = num (gv_json_num (r->obj, "edge_density", NAN), 2);
      g_autofree char *q = num (gv_json_num (r->obj, "quality_score", NAN), 2);
      g_autofree char *name = core_text (r->name);
      row_add (rows, 6, name, a, b, c, e, q);
    }
  table (d, rows, w, 6, 9);
  muted (d, _("Quality score: higher means more damage (the worker's formula)."));
}

static void
defects_section (Doc *d, JsonObject *root, cairo_surface_t *cover)
{
  JsonArray *defects = _gv_run_defects (d->run);
  const GvRunImage *stored;
  double rowh = 58, cropw = 70;

  heading (d, _("Defects"));
  if (!defects)
    {
      para (d, _("Not available: this run has no defect analysis."), 10, FALSE);
      return;
    }
  if (!json_array_get_length (defects))
    {
      para (d, _("No defects found."), 10, FALSE);
      return;
    }
  for (guint i = 0; i < json_array_get_length (defects); i++)
    {
      JsonObject *o = json_array_get_object_element (defects, i);
      double b[4];
      const char *kind = gv_json_str (o, "kind") ? gv_json_str (o, "kind") : gv_json_str (o, "type");
      g_autofree char *line = NULL;
      need (d, rowh);
      /* The crop the analysis stored for the defect, else one cut from the cover shown. */
      stored = gv_run_find_image_by_name (d->run, gv_json_str (o, "crop"));
      if (stored)
        {
          cairo_surface_t *img = _gv_png_surface (stored->png);
          if (img)
            {
              double dw, dh;
              picture (d, img, MARGIN, d->y, cropw, rowh - 6, &dw, &dh);
              cairo_surface_destroy (img);
            }
        }
      else if (cover && _gv_json_box (o, b) && b[2] > 0 && b[3] > 0)
        {
          /* The defect with a margin of half its size, at least 24 px, clamped to the cover. */
          int cw = cairo_image_surface_get_width (cover), ch = cairo_image_surface_get_height (cover);
          double pad = MAX (24, 0.5 * MAX (b[2], b[3]));
          int x0 = (int) MAX (0, b[0] - pad), y0 = (int) MAX (0, b[1] - pad);
          int x1 = (int) MIN (cw, b[0] + b[2] + pad), y1 = (int) MIN (ch, b[1] + b[3] + pad);
          if (x1 > x0 && y1 > y0)
            {
              cairo_surface_t *crop = cairo_surface_create_for_rectangle (cover, x0, y0, x1 - x0, y1 - y0);
              cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, x1 - x0, y1 - y0);
              cairo_t *c = cairo_create (img);
              double dw, dh, sc;
              cairo_set_source_surface (c, crop, 0, 0);
              cairo_paint (c);
              cairo_destroy (c);
              sc = picture (d, img, MARGIN, d->y, cropw, rowh - 6, &dw, &dh);
              cairo_set_source_rgb (d->cr, 0.95, 0.1, 0.1);
              cairo_set_line_width (d->cr, 1);
              cairo_rectangle (d->cr, MARGIN + sc * (b[0] - x0), d->y + sc * (b[1] - y0), sc * b[2], sc * b[3]);
              cairo_stroke (d->cr);
              cairo_set_source_rgb (d->cr, 0, 0, 0);
              cairo_surface_destroy (img);
              cairo_surface_destroy (crop);
            }
        }
      {
        g_autofree char *box = _gv_json_box (o, b) ? g_strdup_printf ("%.0f, %.0f, %.0f x %.0f px", b[0], b[1], b[2], b[3])
                                                   : g_strdup ("–");
        g_autofree char *sev = num (gv_json_num (o, "severity", NAN), 2);
        g_autofree char *area = num (gv_json_num (o, "area_mm2", NAN), 2);
        g_autofree char *conf = num (gv_json_num (o, "confidence", NAN), 2);
        g_autofree char *kind_t = core_text (kind);
        g_autofree char *region_t = core_text (gv_json_str (o, "region"));
        line = g_strdup_printf (_("#%u  %s in %s\nbox %s · area %s mm² · severity %s · confidence %s"),
                                i + 1, kind_t ? kind_t : _("defect"), region_t ? region_t : "?", box,
                                area, sev, conf);
      }
      text_at (d, MARGIN + cropw + 12, d->y + 4, line, 9, FALSE, d->w - 2 * MARGIN - cropw - 12);
      d->y += rowh;
    }
}

/* A 1-2-5 tick step giving about n intervals over [0, vmax]. */
static double
nice_step (double vmax, int n)
{
  double raw = vmax / n, p = pow (10, floor (log10 (raw))), f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/* Per-frame sharpness (top) and motion against the gate (bottom), sharing the frame axis. */
static void
chart_section (Doc *d, JsonObject *root)
{
  JsonArray *frames = gv_json_arr (root, "frames"), *golden = gv_json_arr (root, "golden_frames");
  double gate = gv_json_num (gv_json_obj (root, "parameters"), "motion-gate", 1.0);
  guint n = frames ? json_array_get_length (frames) : 0;
  double x0 = MARGIN + 34, x1 = d->w - MARGIN - 5, ph = 185, smax = 0, mmax = 0;
  cairo_t *cr = d->cr;

  new_page (d);
  heading (d, _("Sharpness and motion per frame"));
  if (n < 2)
    {
      para (d, _("Not available: fewer than two frames."), 10, FALSE);
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      JsonObject *f = json_array_get_object_element (frames, i);
      smax = MAX (smax, gv_json_num (f, "sharpness", 0));
      mmax = MAX (mmax, gv_json_num (f, "motion_gate", 0));
    }
  /* The motion axis shows the gate clearly: at least 2x gate, clipped at 8x gate. */
  mmax = CLAMP (mmax * 1.05, 2 * gate, 8 * gate);
  smax = smax > 0 ? smax * 1.05 : 1;

  for (int panel = 0; panel < 2; panel++)
    {
      double top = d->y + 14, bot = top + ph, vmax = panel ? mmax : smax;
      const char *key = panel ? "motion_gate" : "sharpness";
      text_at (d, MARGIN, d->y, panel ? _("Motion tested by the gate (px, full resolution)")
                                      : _("Sharpness (Laplacian variance on the cover)"), 9.5, TRUE, 0);
      /* Candidates: frames that passed the gate, shaded. */
      cairo_set_source_rgba (cr, 0.2, 0.75, 0.3, 0.18);
      for (guint i = 0; i < n; i++)
        if (gv_json_num (json_array_get_object_element (frames, i), "candidate", 0))
          {
            double xa = x0 + (x1 - x0) * ((double) i - 0.5) / (n - 1), xb = x0 + (x1 - x0) * ((double) i + 0.5) / (n - 1);
            cairo_rectangle (cr, MAX (x0, xa), top, MIN (x1, xb) - MAX (x0, xa), ph);
          }
      cairo_fill (cr);
      /* Golden frames. */
      cairo_set_source_rgb (cr, 0.85, 0.6, 0.0);
      cairo_set_line_width (cr, 1.2);
      for (guint k = 0; golden && k < json_array_get_length (golden); k++)
        {
          double gi = gv_json_num (json_array_get_object_element (golden, k), "index", -1);
          double x = x0 + (x1 - x0) * gi / (n - 1);
          cairo_move_to (cr, x, top);
          cairo_line_to (cr, x, bot);
        }
      cairo_stroke (cr);
      /* Axes and ticks. */
      cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
      cairo_set_line_width (cr, 0.6);
      cairo_rectangle (cr, x0, top, x1 - x0, ph);
      cairo_stroke (cr);
      double step = nice_step (vmax, 4);
      for (double v = 0; v <= vmax * 1.0001; v += step)
        {
          double y = bot - ph * v / vmax;
          g_autofree char *lab = g_strdup_printf (step < 1 ? "%.1f" : "%.0f", v);
          text_at (d, x0 - 4 - text_width (d, lab, 7, FALSE), y - 5, lab, 7, FALSE, 0);
          cairo_set_source_rgba (cr, 0.3, 0.3, 0.3, 0.25);
          cairo_move_to (cr, x0, y);
          cairo_line_to (cr, x1, y);
          cairo_stroke (cr);
          cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
        }
      /* The series (clipped at the top; frames not measured are gaps). */
      cairo_save (cr);
      cairo_rectangle (cr, x0, top, x1 - x0, ph);
      cairo_clip (cr);
      cairo_set_source_rgb (cr, panel ? 0.75 : 0.1, panel ? 0.2 : 0.3, panel ? 0.1 : 0.75);
      cairo_set_line_width (cr, 0.9);
      cairo_new_path (cr);
      for (guint i = 0; i < n; i++)
        {
          JsonObject *f = json_array_get_object_element (frames, i);
          double v = gv_json_num (f, key, NAN);
          if (isnan (v) || v < 0 || (panel && !gv_json_num (f, "measured", 1)))
            {
              cairo_new_sub_path (cr);
              continue;
            }
          cairo_line_to (cr, x0 + (x1 - x0) * i / (n - 1), bot - ph * MIN (v, vmax * 1.01) / vmax);
        }
      cairo_stroke (cr);
      if (panel)
        {
          double y = bot - ph * gate / vmax;
          static const double dash[] = { 5, 3 };
          g_autofree char *lab = g_strdup_printf (_("gate %.2g px"), gate);
          cairo_set_source_rgb (cr, 0.85, 0.0, 0.0);
          cairo_set_dash (cr, dash, 2, 0);
          cairo_set_line_width (cr, 1.2);
          cairo_move_to (cr, x0, y);
          cairo_line_to (cr, x1, y);
          cairo_stroke (cr);
          cairo_set_dash (cr, NULL, 0, 0);
          {
            double lw = text_width (d, lab, 8, TRUE);
            cairo_set_source_rgba (cr, 1, 1, 1, 0.85);
            cairo_rectangle (cr, x1 - lw - 6, y - 13, lw + 4, 11);
            cairo_fill (cr);
            cairo_set_source_rgb (cr, 0.85, 0.0, 0.0);
            text_at (d, x1 - lw - 4, y - 13, lab, 8, TRUE, 0);
          }
        }
      cairo_restore (cr);
      /* Frame-index ticks under each panel. */
      cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
      {
        double fstep = nice_step (n - 1, 8);
        for (double f = 0; f <= n - 1; f += fstep)
          {
            g_autofree char *lab = g_strdup_printf ("%.0f", f);
            double x = x0 + (x1 - x0) * f / (n - 1);
            text_at (d, x - text_width (d, lab, 7, FALSE) / 2, bot + 2, lab, 7, FALSE, 0);
          }
      }
      d->y = bot + 24;
    }
  {
    JsonObject *last = json_array_get_object_element (frames, n - 1);
    g_autofree char *lab = g_strdup_printf (_("frame index (the video lasts %.2f s over %u frames)"),
                                            gv_json_num (last, "pts", 0), n);
    cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
    text_at (d, x0, d->y - 8, lab, 8, FALSE, 0);
    d->y += 10;
  }
  cairo_set_source_rgb (cr, 0, 0, 0);
  muted (d, _("Green bands: frames that passed the motion gate (candidates). Orange lines: golden "
              "frames. Red dashed line: the motion gate; motion above the top of the chart is clipped."));
}

static void
compare_section (Doc *d, const GvComparison *cmp)
{
  /* The section reads as one table: start a page unless it fits whole. */
  if (cmp)
    need (d, 130 + 15.0 * (cmp->outputs->len + cmp->stages->len));
  heading (d, _("CPU versus GPU"));
  if (!cmp)
    {
      para (d, _("Not available: no finished run of this video on the other backend with the same "
                 "parameters is in the store (run gvscan analyze with --backend cpu and --backend cuda)."),
            10, FALSE);
      return;
    }
  {
    g_autofree char *s = g_strdup_printf (_("A: run %lld on %s (%s). B: run %lld on %s (%s). Result: %s."),
                                          (long long) cmp->run_a, cmp->backend_a, cmp->device_a,
                                          (long long) cmp->run_b,
                                          cmp->backend_b, cmp->device_b,
                                          cmp->pass ? _("every output within tolerance")
                                                    : _("some outputs differ beyond tolerance"));
    para (d, s, 10, FALSE);
  }
  {
    static const double w[] = { 2.2, 1.2, 1.2, 0.8, 2.4 };
    g_autoptr (GPtrArray) rows = rows_new ();
    row_add (rows, 5, _("Output"), _("Largest difference"), _("Tolerance"), _("Result"), _("Note"));
    for (guint i = 0; i < cmp->outputs->len; i++)
      {
        GvCompareOutput *o = g_ptr_array_index (cmp->outputs, i);
        g_autofree char *dv = o->compared ? g_strdup_printf ("%.3g %s", o->difference, o->unit) : g_strdup ("–");
        g_autofree char *tv = o->compared ? g_strdup_printf ("%.3g", o->tolerance) : g_strdup ("–");
        row_add (rows, 5, o->name, dv, tv, !o->compared ? _("n/a") : o->pass ? _("pass") : _("FAIL"),
                 o->note ? o->note : "");
      }
    table (d, rows, w, 5, 8.5);
  }
  {
    static const double w[] = { 2, 1, 1, 1 };
    g_autoptr (GPtrArray) rows = rows_new ();
    g_autofree char *ha = g_strdup_printf (_("A %s (s)"), cmp->backend_a);
    g_autofree char *hb = g_strdup_printf (_("B %s (s)"), cmp->backend_b);
    row_add (rows, 4, _("Stage"), ha, hb, _("Speed-up A/B"));
    for (guint i = 0; i < cmp->stages->len; i++)
      {
        GvCompareStage *s = g_ptr_array_index (cmp->stages, i);
        g_autofree char *a = num (s->seconds_a, 3), *b = num (s->seconds_b, 3);
        g_autofree char *sp = s->seconds_a > 0 && s->seconds_b > 0
                                ? g_strdup_printf ("%.2f×", s->seconds_a / s->seconds_b) : g_strdup ("–");
        row_add (rows, 4, s->stage, a, b, sp);
      }
    table (d, rows, w, 4, 9);
  }
}

/* A parameter for people: doubles with up to 6 significant digits. */
static char *
param_text (JsonNode *n)
{
  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_DOUBLE)
    return g_strdup_printf ("%.6g", json_node_get_double (n));
  return n ? json_to_string (n, FALSE) : g_strdup ("");
}

static void
parameters_section (Doc *d, JsonObject *root)
{
  JsonObject *p = gv_json_obj (root, "parameters"), *tool = gv_json_obj (root, "tool");
  JsonObject *backend = gv_json_obj (root, "backend");
  g_autoptr (GPtrArray) rows = rows_new ();
  g_autoptr (GPtrArray) sw = rows_new ();
  static const double w[] = { 1, 1, 1, 1 };
  static const double w2[] = { 1.2, 3 };
  g_autoptr (GList) names = p ? json_object_get_members (p) : NULL;
  guint k = 0, half;

  new_page (d);
  heading (d, _("Parameters"));
  if (!names)
    para (d, _("Not recorded."), 10, FALSE);
  else
    {
      half = (g_list_length (names) + 1) / 2;
      GList *l = names, *r = g_list_nth (names, half);
      row_add (rows, 4, _("Parameter"), _("Value"), _("Parameter"), _("Value"));
      for (k = 0; k < half; k++, l = l->next)
        {
          g_autofree char *lv = param_text (json_object_get_member (p, l->data));
          g_autofree char *rv = r ? param_text (json_object_get_member (p, r->data)) : NULL;
          row_add (rows, 4, l->data, lv, r ? (char *) r->data : "", rv ? rv : "");
          if (r)
            r = r->next;
        }
      table (d, rows, w, 4, 9);
    }
  heading (d, _("Software"));
  {
    g_autofree char *t = g_strdup_printf ("%s %s", gv_json_str (tool, "name") ? gv_json_str (tool, "name") : "gvscan",
                                          gv_json_str (tool, "version") ? gv_json_str (tool, "version") : "?");
    g_autofree char *st = g_strdup_printf ("%d", GV_STORE_SCHEMA_VERSION);
    g_autofree char *libs = g_strdup_printf ("cairo %s · Pango %s · SQLite %s · GLib %u.%u.%u",
                                             cairo_version_string (), pango_version_string (),
                                             sqlite3_libversion (), glib_major_version,
                                             glib_minor_version, glib_micro_version);
    row_add (sw, 2, _("Item"), _("Version"));
    row_add (sw, 2, _("Analysis"), t);
    row_add (sw, 2, _("Result schema"), d->run->result_schema ? d->run->result_schema : "?");
    row_add (sw, 2, _("Run store schema"), st);
    row_add (sw, 2, _("Backend selection"), gv_json_str (backend, "selection") ? gv_json_str (backend, "selection") : "?");
    row_add (sw, 2, _("Libraries (report)"), libs);
    g_autofree char *when = g_strdup_printf ("%s / %s", d->run->started_at ? d->run->started_at : "?",
                                             d->run->finished_at ? d->run->finished_at : "–");
    row_add (sw, 2, _("Run started / finished"), when);
    table (d, sw, w2, 2, 9);
  }
}

/* ---- the document ---- */

typedef struct {
  FILE *f;
  gboolean failed;
} WriteCursor;

static cairo_status_t
write_pdf (void *closure, const unsigned char *data, unsigned int length)
{
  WriteCursor *c = closure;
  if (fwrite (data, 1, length, c->f) != length)
    {
      c->failed = TRUE;
      return CAIRO_STATUS_WRITE_ERROR;
    }
  return CAIRO_STATUS_SUCCESS;
}

gboolean
gv_report_write_pdf (const GvRun *run, const GvComparison *cmp, GvPaper paper, const char *path,
                     GError **error)
{
  /* A4 210 x 297 mm, Letter 8.5 x 11 in, in pt. */
  double w = paper == GV_PAPER_LETTER ? 612 : 595.276, h = paper == GV_PAPER_LETTER ? 792 : 841.89;
  g_autofree char *tmp = g_strdup_printf ("%s.XXXXXX", path);
  JsonObject *root = run->result ? json_node_get_object (run->result) : NULL;
  g_autoptr (GPtrArray) regions = _gv_run_regions (run);
  cairo_surface_t *surface, *cover = NULL;
  WriteCursor wc = { NULL, FALSE };
  cairo_status_t status;
  Doc d = { 0 };
  int fd = g_mkstemp (tmp), e;

  if (fd < 0)
    {
      e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot create %s: %s", tmp,
                   g_strerror (e));
      return FALSE;
    }
  wc.f = fdopen (fd, "wb");
  surface = cairo_pdf_surface_create_for_stream (write_pdf, &wc, w, h);
  {
    g_autofree char *title = g_strdup_printf (_("Scan report %s (run %lld)"),
                                              run->scan_id, (long long) run->id);
    cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "GradeVault Inspector");
  }
  d.cr = cairo_create (surface);
  d.w = w;
  d.h = h;
  d.y = MARGIN;
  d.page = 1;
  d.run = run;

  cover_page (&d, root);
  if (root)
    {
      golden_section (&d, root);
      cover_section (&d, root, regions, &cover);
      regions_section (&d, regions);
      defects_section (&d, root, cover);
      chart_section (&d, root);
      compare_section (&d, cmp);
      parameters_section (&d, root);
    }
  footer (&d);
  cairo_show_page (d.cr);
  if (cover)
    cairo_surface_destroy (cover);
  cairo_destroy (d.cr);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (fflush (wc.f) != 0 || fsync (fileno (wc.f)) != 0)
    wc.failed = TRUE;
  e = errno;
  if (fclose (wc.f) != 0)
    wc.failed = TRUE;
  if (status != CAIRO_STATUS_SUCCESS || wc.failed)
    {
      g_unlink (tmp);
      g_set_error (error, G_FILE_ERROR, wc.failed ? g_file_error_from_errno (e) : G_FILE_ERROR_FAILED,
                   "cannot write %s: %s", path,
                   wc.failed ? g_strerror (e) : cairo_status_to_string (status));
      return FALSE;
    }
  if (g_chmod (tmp, 0644) != 0 || g_rename (tmp, path) != 0)
    {
      e = errno;
      g_unlink (tmp);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot write %s: %s", path,
                   g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

void
gv_report_shutdown (void)
{
  pango_cairo_font_map_set_default (NULL);
  cairo_debug_reset_static_data ();
  FcFini ();
}
