/* gv-cli-util.c: the frame feed over FFmpeg, result.json, flow pictures. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gv-cli.h"
#include "gv-config.h"
#include "gv-error.h"

static int
feed_next (void *ud, GvImage *luma, int *index, double *pts)
{
  GvSourceFeed *sf = ud;
  const GvFrame *fr = NULL;
  int rc = gv_frame_source_next (sf->src, &fr);

  sf->cur = rc > 0 ? fr : NULL;
  if (rc <= 0)
    return rc;
  *luma = fr->luma;
  *index = fr->index;
  *pts = fr->pts;
  return 1;
}

static const void *
feed_device_luma (void *ud, size_t *pitch)
{
  GvSourceFeed *sf = ud;
  const GvFrame *fr = sf->cur;
  *pitch = fr ? fr->device_pitch : 0;
  return fr ? fr->device_luma : NULL;
}

static int
feed_host_luma (void *ud, GvImage *luma)
{
  GvSourceFeed *sf = ud;
  return gv_frame_source_host_luma (sf->src, luma);
}

static void *
feed_keep (void *ud)
{
  GvSourceFeed *sf = ud;
  return gv_frame_source_keep (sf->src);
}

static GvImage *
feed_to_rgb (void *ud, void *kept)
{
  return gv_kept_frame_to_rgb (kept);
}

static void
feed_release (void *ud, void *kept)
{
  gv_kept_frame_free (kept);
}

void
gv_source_feed_init (GvSourceFeed *sf, GvFrameSource *src)
{
  const GvMediaInfo *info = gv_frame_source_info (src);

  sf->src = src;
  sf->feed.ud = sf;
  sf->feed.frames_hint = info->declared_frames > 0 && info->declared_frames < G_MAXINT
                           ? (int) info->declared_frames
                           : (int) (info->fps * info->duration + 0.5);
  sf->feed.next = feed_next;
  sf->feed.keep = feed_keep;
  sf->feed.to_rgb = feed_to_rgb;
  sf->feed.release = feed_release;
  sf->feed.device_luma = feed_device_luma;
  sf->feed.host_luma = feed_host_luma;
  sf->cur = NULL;
}

void
gv_cli_error (const char *what)
{
  fprintf (stderr, "gvscan: %s%s%s\n", what ? what : "", what ? ": " : "", gv_error_message ());
}

GPtrArray *
gv_result_flags (const GvResult *r, const GvDecodeStats *st)
{
  GPtrArray *flags = g_ptr_array_new_with_free_func (g_free);
  int covers = 0, border = 0;

  for (int i = 0; i < r->n_golden; i++)
    {
      covers += r->golden[i].cover.found;
      border += r->golden[i].cover.touches_border;
    }
  if (st && st->partial)
    g_ptr_array_add (flags, g_strdup ("partial_video"));
  if (st && st->decode_errors > 0)
    g_ptr_array_add (flags, g_strdup ("decode_errors"));
  if (r->n_golden < r->params.max_golden)
    g_ptr_array_add (flags, g_strdup ("too_few_sharp_frames"));
  if (r->n_golden > 0 && covers == 0)
    g_ptr_array_add (flags, g_strdup ("cover_not_found"));
  else if (covers < r->n_golden)
    g_ptr_array_add (flags, g_strdup ("cover_not_found_in_some_frames"));
  if (border > 0)
    g_ptr_array_add (flags, g_strdup ("cover_partly_out_of_frame"));
  if (r->kept_limit_hit)
    g_ptr_array_add (flags, g_strdup ("frame_retention_limited"));
  if (r->defects)
    {
      const GvDefectReport *d = r->defects;
      /* enough sharp frames, but too few covers agreeing: cover_outline_disagrees says it */
      if ((d->flags & GV_QF_TOO_FEW_SHARP) && r->n_golden >= r->params.max_golden
          && !(d->flags & GV_QF_OUTLINE_DISAGREES))
        g_ptr_array_add (flags, g_strdup ("too_few_sharp_frames"));
      for (int k = 0; k < GV_REGION_N; k++)
        if (d->regions[k].glare > 2.0)
          g_ptr_array_add (flags, g_strdup_printf ("glare_over_%s", gv_region_def (k)->name));
      if (d->flags & GV_QF_ALIGN_POOR)
        g_ptr_array_add (flags, g_strdup ("cover_alignment_poor"));
      if (d->flags & GV_QF_OUTLINE_DISAGREES)
        g_ptr_array_add (flags, g_strdup ("cover_outline_disagrees"));
      if (d->grade.needs_review)
        g_ptr_array_add (flags, g_strdup ("needs_review"));
    }
  return flags;
}

static void
add_quad (JsonBuilder *b, const GvQuad *q)
{
  json_builder_begin_array (b);
  for (int i = 0; i < 4; i++)
    {
      json_builder_begin_array (b);
      json_builder_add_double_value (b, q->x[i]);
      json_builder_add_double_value (b, q->y[i]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
}

#define KV_INT(b, k, v) (json_builder_set_member_name (b, k), json_builder_add_int_value (b, v))
#define KV_DBL(b, k, v) (json_builder_set_member_name (b, k), json_builder_add_double_value (b, v))
#define KV_STR(b, k, v) (json_builder_set_member_name (b, k), json_builder_add_string_value (b, v))
#define KV_BOOL(b, k, v) (json_builder_set_member_name (b, k), json_builder_add_boolean_value (b, v))

/* Stages 4 and 5 (docs/result-schema.md): the worker's flat members (defectPercentage,
 * damageScore, regionScores, regionDetails, defectMask, defectHeatmap, defectOverlay,
 * regionCrops), then ours (defects, grade). Image names are the ones gvscan analyze writes. */
static void
add_defects (JsonBuilder *b, const GvDefectReport *d)
{
  int have = d->mask != NULL;

  KV_DBL (b, "defectPercentage", d->defect_percentage);
  KV_DBL (b, "damageScore", d->damage_score);
  if (have)
    {
      KV_STR (b, "defectMask", "defect_mask.png");
      KV_STR (b, "defectHeatmap", "defect_heatmap.png");
      KV_STR (b, "defectOverlay", "defect_overlay.png");
    }
  json_builder_set_member_name (b, "regionScores");
  json_builder_begin_object (b);
  for (int k = 0; k < GV_REGION_N; k++)
    KV_DBL (b, gv_region_def (k)->name, d->regions[k].score);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "regionDetails");
  json_builder_begin_object (b);
  for (int k = 0; k < GV_REGION_N; k++)
    {
      const GvRegionReport *q = &d->regions[k];
      const GvRegionDef *rd = gv_region_def (k);
      json_builder_set_member_name (b, rd->name);
      json_builder_begin_object (b);
      KV_DBL (b, "defect_coverage", q->defect_coverage);
      KV_DBL (b, "mean_intensity", q->mean_intensity);
      KV_DBL (b, "max_intensity", q->max_intensity);
      KV_DBL (b, "edge_density", q->edge_density);
      KV_DBL (b, "quality_score", q->quality_score);
      KV_DBL (b, "score", q->score);
      KV_DBL (b, "glare", q->glare);
      KV_INT (b, "defects", q->n_defects);
      KV_DBL (b, "weight", rd->weight);
      json_builder_set_member_name (b, "bounds");
      json_builder_begin_array (b);
      json_builder_add_double_value (b, rd->x0);
      json_builder_add_double_value (b, rd->y0);
      json_builder_add_double_value (b, rd->x1);
      json_builder_add_double_value (b, rd->y1);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  if (have)
    {
      json_builder_set_member_name (b, "regionCrops");
      json_builder_begin_object (b);
      for (int k = 0; k < GV_REGION_N; k++)
        {
          g_autofree char *name = g_strdup_printf ("region_crop_%s.png", gv_region_def (k)->name);
          KV_STR (b, gv_region_def (k)->name, name);
        }
      json_builder_end_object (b);
    }

  json_builder_set_member_name (b, "defects");
  json_builder_begin_object (b);
  KV_INT (b, "covers_used", d->n_covers);
  json_builder_set_member_name (b, "cover_size");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, d->width);
  json_builder_add_int_value (b, d->height);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "alignment");
  json_builder_begin_array (b);
  for (int k = 0; k < d->n_covers; k++)
    {
      json_builder_begin_object (b);
      KV_INT (b, "golden", d->cover_index[k]);
      KV_DBL (b, "dx", d->align_dx[k]);
      KV_DBL (b, "dy", d->align_dy[k]);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "list");
  json_builder_begin_array (b);
  for (int i = 0; i < d->n_defects; i++)
    {
      const GvDefect *e = &d->defects[i];
      json_builder_begin_object (b);
      KV_STR (b, "type", gv_defect_kind_name (e->kind));
      KV_STR (b, "region", gv_region_def (e->region)->name);
      json_builder_set_member_name (b, "bbox");
      json_builder_begin_array (b);
      for (int c = 0; c < 4; c++)
        json_builder_add_int_value (b, e->bbox[c]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "bbox_mm");
      json_builder_begin_array (b);
      for (int c = 0; c < 4; c++)
        json_builder_add_double_value (b, e->bbox_mm[c]);
      json_builder_end_array (b);
      KV_INT (b, "area_px", e->area_px);
      KV_DBL (b, "area_mm2", e->area_mm2);
      KV_DBL (b, "severity", e->severity);
      KV_DBL (b, "confidence", e->confidence);
      json_builder_set_member_name (b, "frames");
      json_builder_begin_array (b);
      for (int k = 0; k < d->n_covers; k++)
        if (e->frames & (1u << k))
          json_builder_add_int_value (b, d->cover_index[k]);
      json_builder_end_array (b);
      if (have)
        {
          g_autofree char *name = g_strdup_printf ("defect_crop_%02d_%s.png", i,
                                                   gv_defect_kind_name (e->kind));
          KV_STR (b, "crop", name);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  const GvGrade *g = &d->grade;
  json_builder_set_member_name (b, "grade");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "grade");
  if (g->needs_review)
    json_builder_add_null_value (b);
  else
    json_builder_add_double_value (b, g->grade);
  KV_DBL (b, "estimate", g->grade_estimate);
  KV_BOOL (b, "needs_review", g->needs_review);
  if (g->needs_review)
    KV_STR (b, "review_reason", g->review_reason);
  KV_DBL (b, "raw_points", g->raw_points);
  KV_DBL (b, "cap", g->cap);
  KV_STR (b, "cap_reason", g->cap_reason ? g->cap_reason : "none");
  KV_STR (b, "scale", "CGC 25-point: 10.0 9.9 9.8 9.6 9.4 9.2 9.0 8.5 8.0 7.5 7.0 6.5 6.0 5.5 5.0 "
                      "4.5 4.0 3.5 3.0 2.5 2.0 1.8 1.5 1.0 0.5");
  json_builder_set_member_name (b, "explanation");
  json_builder_begin_array (b);
  for (int i = 0; i < g->n_lines; i++)
    {
      json_builder_begin_object (b);
      KV_STR (b, "text", g->lines[i].text);
      KV_DBL (b, "delta", g->lines[i].delta);
      KV_DBL (b, "running", g->lines[i].running);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

JsonNode *
gv_params_to_json (const GvParams *p)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  int n;
  const GvParamSpec *t = gv_params_table (&n);

  json_builder_begin_object (b);
  for (int i = 0; i < n; i++)
    {
      double v = gv_params_get (p, &t[i]);
      json_builder_set_member_name (b, t[i].name);
      if (t[i].type == GV_PARAM_DOUBLE)
        json_builder_add_double_value (b, v);
      else if (t[i].type == GV_PARAM_BOOL)
        json_builder_add_boolean_value (b, v != 0);
      else
        json_builder_add_int_value (b, (gint64) v);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

char *
gv_params_to_json_string (const GvParams *p)
{
  g_autoptr (JsonNode) root = gv_params_to_json (p);
  return json_to_string (root, FALSE);
}

JsonNode *
gv_result_to_json (const GvResult *r, const GvMediaInfo *info, const GvDecodeStats *st,
                   const char *backend_why, char **golden_names, char **warped_names)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GPtrArray) flags = gv_result_flags (r, st);

  json_builder_begin_object (b);
  KV_STR (b, "schema", "gradevault-inspector/result/1");
  json_builder_set_member_name (b, "tool");
  json_builder_begin_object (b);
  KV_STR (b, "name", "gvscan");
  KV_STR (b, "version", GV_VERSION);
  json_builder_end_object (b);

  if (info)
    {
      json_builder_set_member_name (b, "video");
      json_builder_begin_object (b);
      KV_STR (b, "path", info->path);
      KV_INT (b, "file_size", info->file_size);
      KV_INT (b, "width", info->width);
      KV_INT (b, "height", info->height);
      KV_INT (b, "coded_width", info->coded_width);
      KV_INT (b, "coded_height", info->coded_height);
      KV_INT (b, "rotation", info->rotation);
      KV_DBL (b, "fps", info->fps);
      KV_DBL (b, "duration", info->duration);
      KV_INT (b, "declared_frames", info->declared_frames);
      KV_STR (b, "codec", info->codec);
      KV_STR (b, "pix_fmt", info->pix_fmt);
      KV_INT (b, "bit_depth", info->bit_depth);
      if (st)
        {
          KV_INT (b, "frames_decoded", st->frames_decoded);
          KV_INT (b, "decode_errors", st->decode_errors);
          KV_BOOL (b, "partial", st->partial);
          if (st->partial)
            KV_STR (b, "partial_reason", st->partial_reason);
        }
      json_builder_end_object (b);
    }

  json_builder_set_member_name (b, "parameters");
  json_builder_add_value (b, gv_params_to_json (&r->params));

  json_builder_set_member_name (b, "backend");
  json_builder_begin_object (b);
  KV_STR (b, "name", r->backend);
  KV_STR (b, "device", r->device);
  if (backend_why)
    KV_STR (b, "selection", backend_why);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "analysis_resolution");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, r->analysis_width);
  json_builder_add_int_value (b, r->analysis_height);
  json_builder_end_array (b);

  json_builder_set_member_name (b, "summary");
  json_builder_begin_object (b);
  KV_INT (b, "frames", r->n_frames);
  KV_INT (b, "candidates", r->n_candidates);
  KV_INT (b, "golden_frames", r->n_golden);
  int covers = 0;
  for (int i = 0; i < r->n_golden; i++)
    covers += r->golden[i].cover.found;
  KV_INT (b, "covers_found", covers);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "flags");
  json_builder_begin_array (b);
  for (guint i = 0; i < flags->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (flags, i));
  json_builder_end_array (b);

  json_builder_set_member_name (b, "timings");
  json_builder_begin_object (b);
  for (int i = 0; i < r->n_stages; i++)
    KV_DBL (b, r->stages[i].name, r->stages[i].seconds);
  KV_DBL (b, "decode", r->decode_seconds);
  KV_DBL (b, "total", r->total_seconds);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "golden_frames");
  json_builder_begin_array (b);
  for (int i = 0; i < r->n_golden; i++)
    {
      const GvGolden *g = &r->golden[i];
      json_builder_begin_object (b);
      KV_INT (b, "index", g->frame_index);
      KV_DBL (b, "pts", g->pts);
      KV_DBL (b, "sharpness", g->sharpness);
      KV_DBL (b, "motion", g->motion);
      if (golden_names && golden_names[i])
        KV_STR (b, "image", golden_names[i]);
      json_builder_set_member_name (b, "cover");
      json_builder_begin_object (b);
      KV_BOOL (b, "found", g->cover.found);
      if (g->cover.found)
        {
          json_builder_set_member_name (b, "corners");
          add_quad (b, &g->cover.quad);
          KV_DBL (b, "confidence", g->cover.confidence);
          KV_BOOL (b, "touches_border", g->cover.touches_border);
          if (warped_names && warped_names[i])
            KV_STR (b, "warped", warped_names[i]);
        }
      else
        KV_STR (b, "reason", g->cover.reason);
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  if (r->defects)
    add_defects (b, r->defects);

  json_builder_set_member_name (b, "frames");
  json_builder_begin_array (b);
  for (int i = 0; i < r->n_frames; i++)
    {
      const GvFrameRecord *f = &r->frames[i];
      json_builder_begin_object (b);
      KV_INT (b, "index", f->index);
      KV_DBL (b, "pts", f->pts);
      KV_DBL (b, "sharpness", f->sharpness);
      KV_DBL (b, "sharpness_frame", f->sharpness_frame);
      KV_DBL (b, "motion", f->motion);
      KV_DBL (b, "motion_next", f->motion_next);
      KV_DBL (b, "motion_frame", f->motion_frame);
      KV_DBL (b, "motion_gate", f->motion_gate);
      KV_BOOL (b, "measured", f->measured);
      KV_BOOL (b, "candidate", f->candidate);
      KV_BOOL (b, "cover_found", f->cover_found);
      if (f->cover_found)
        {
          json_builder_set_member_name (b, "cover");
          add_quad (b, &f->cover);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
gv_json_write_file (JsonNode *root, const char *path, GError **error)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  /* g_file_set_contents writes a temporary file and renames it. */
  return g_file_set_contents (path, text, -1, error);
}

/* The Middlebury colour wheel (Baker et al., "A Database and Evaluation Methodology for Optical
 * Flow", 2007): 55 hues in six ramps. */
static void
wheel_color (int k, double rgb[3])
{
  static const int seg[6] = { 15, 6, 4, 11, 13, 6 };
  int s = 0;

  while (k >= seg[s])
    k -= seg[s++];
  double t = (double) k / seg[s];
  switch (s)
    {
    case 0: rgb[0] = 1; rgb[1] = t; rgb[2] = 0; break;       /* red -> yellow */
    case 1: rgb[0] = 1 - t; rgb[1] = 1; rgb[2] = 0; break;   /* yellow -> green */
    case 2: rgb[0] = 0; rgb[1] = 1; rgb[2] = t; break;       /* green -> cyan */
    case 3: rgb[0] = 0; rgb[1] = 1 - t; rgb[2] = 1; break;   /* cyan -> blue */
    case 4: rgb[0] = t; rgb[1] = 0; rgb[2] = 1; break;       /* blue -> magenta */
    default: rgb[0] = 1; rgb[1] = 0; rgb[2] = 1 - t; break;  /* magenta -> red */
    }
}

GvImage *
gv_flow_to_color (const GvImage *flow, double max_flow)
{
  const int ncols = 55;
  GvImage *out = gv_image_new (flow->width, flow->height, 3, GV_U8);

  if (!out)
    return NULL;
  for (int y = 0; y < flow->height; y++)
    {
      const float *f = gv_image_row_f32 (flow, y);
      uint8_t *d = gv_image_row_u8 (out, y);
      for (int x = 0; x < flow->width; x++)
        {
          double u = f[2 * x], v = f[2 * x + 1], c0[3], c1[3];
          if (!isfinite (u) || !isfinite (v))
            {
              d[3 * x] = d[3 * x + 1] = d[3 * x + 2] = 0;
              continue;
            }
          double rad = sqrt (u * u + v * v) / max_flow;
          double a = atan2 (-v, -u) / M_PI;
          double fk = (a + 1.0) / 2.0 * (ncols - 1);
          int k0 = (int) floor (fk), k1 = (k0 + 1) % ncols;
          double t = fk - k0;
          wheel_color (k0 % ncols, c0);
          wheel_color (k1, c1);
          for (int c = 0; c < 3; c++)
            {
              double col = (1 - t) * c0[c] + t * c1[c];
              col = rad <= 1.0 ? 1 - rad * (1 - col) : col * 0.75;
              d[3 * x + c] = (uint8_t) floor (255.0 * col + 0.5);
            }
        }
    }
  return out;
}

gboolean
gv_flow_write_flo_file (const GvImage *flow, const char *path, GError **error)
{
  gsize n = 12 + (gsize) flow->width * flow->height * 8;
  g_autofree guint8 *buf = g_malloc (n);
  gint32 wh[2] = { flow->width, flow->height };
  guint8 *p = buf + 12;

  /* Middlebury .flo: "PIEH" (202021.25 as float), width, height, then u v floats, little
   * endian (this machine's order; x86 and ARM Linux are little endian). */
  memcpy (buf, "PIEH", 4);
  memcpy (buf + 4, wh, 8);
  for (int y = 0; y < flow->height; y++)
    {
      memcpy (p, gv_image_row_f32 (flow, y), (size_t) flow->width * 8);
      p += (size_t) flow->width * 8;
    }
  return g_file_set_contents (path, (const char *) buf, (gssize) n, error);
}

static void
png_job_run (gpointer data, gpointer user_data)
{
  GvPngJob *j = data;

  j->rc = gv_png_write (j->img, j->path);
  if (j->rc != GV_OK)
    g_strlcpy (j->message, gv_error_message (), sizeof j->message);
}

int
gv_png_write_many (GvPngJob *jobs, int n, int threads)
{
  GThreadPool *pool;

  if (n <= 0)
    return GV_OK;
  /* Encoding (zlib) is the cost: independent images go to separate cores. */
  pool = g_thread_pool_new (png_job_run, NULL, MAX (1, MIN (threads, n)), TRUE, NULL);
  for (int i = 0; i < n; i++)
    {
      jobs[i].rc = GV_OK;
      jobs[i].message[0] = '\0';
      if (!pool)
        png_job_run (&jobs[i], NULL);
      else
        g_thread_pool_push (pool, &jobs[i], NULL);
    }
  if (pool)
    g_thread_pool_free (pool, FALSE, TRUE);
  for (int i = 0; i < n; i++)
    if (jobs[i].rc != GV_OK)
      return gv_error_set (jobs[i].rc, "%s", jobs[i].message);
  return GV_OK;
}
