/* gv-pipeline.c: stages 1 to 3 over one sequential pass of the frames.
 * RGB is only made for golden frames: during the pass the feed keeps references to the
 * sharpest candidates, at most gv_golden_keep_bound() of them. That bound is exact: a frame
 * the greedy selection picks has at most (max_golden - 1) sharper picks before it, and every
 * sharper candidate it skipped lies within min_gap of one of them, so it ranks within the
 * max_golden * (2 * min_gap + 1) sharpest candidates. */
#include "gv-pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gv-error.h"
#include "gv-flow.h"
#include "gv-threads.h"

/* Long side of the image the per-frame cover detection runs on (see gv-cover.c). */
#define GV_DETECT_SIZE 960

double
gv_monotonic_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
  int rec;        /* index into frames */
  double sharpness;
  void *handle;
} GvKept;

typedef struct {
  const GvFrameFeed *feed;
  GvKept *kept;
  int n_kept, cap;
  int limit_hit;
} GvKeepSet;

static void
keep_offer (GvKeepSet *ks, int rec, double sharpness, void *handle)
{
  int worst = -1;

  if (!handle)
    return;
  if (ks->n_kept < ks->cap)
    {
      ks->kept[ks->n_kept++] = (GvKept) { rec, sharpness, handle };
      return;
    }
  /* Full: replace the least sharp (latest on ties) when the new one is sharper. */
  for (int i = 0; i < ks->n_kept; i++)
    if (worst < 0 || ks->kept[i].sharpness < ks->kept[worst].sharpness
        || (ks->kept[i].sharpness == ks->kept[worst].sharpness && ks->kept[i].rec > ks->kept[worst].rec))
      worst = i;
  ks->limit_hit = 1;
  if (sharpness > ks->kept[worst].sharpness)
    {
      ks->feed->release (ks->feed->ud, ks->kept[worst].handle);
      ks->kept[worst] = (GvKept) { rec, sharpness, handle };
    }
  else
    ks->feed->release (ks->feed->ud, handle);
}

/* Decides frame r's gate once its neighbours' flows are known. */
static void
gate_frame (GvFrameRecord *f)
{
  int back = f->motion >= 0, fwd = f->motion_next >= 0;

  f->measured = back || fwd;
  if (back && fwd)
    f->motion_gate = f->motion > f->motion_next ? f->motion : f->motion_next;
  else if (back)
    f->motion_gate = f->motion;
  else if (fwd)
    f->motion_gate = f->motion_next;
  else
    f->motion_gate = -1.0;
}

/* Moves each corner of q (full-res px) by the mean flow in a small window just inside the quad
 * near that corner. flow is at the analysis resolution. -1 when a window has no flow. */
static int
gv_quad_carry (GvQuad *q, const GvImage *flow, int full_w, int full_h)
{
  double sx = (double) flow->width / full_w, sy = (double) flow->height / full_h;
  double cx = 0, cy = 0;
  GvQuad out;

  for (int k = 0; k < 4; k++)
    {
      cx += q->x[k] / 4;
      cy += q->y[k] / 4;
    }
  for (int k = 0; k < 4; k++)
    {
      /* A point 12 % of the way to the centre, in flow px. */
      double px = ((q->x[k] + (cx - q->x[k]) * 0.12) + 0.5) * sx - 0.5;
      double py = ((q->y[k] + (cy - q->y[k]) * 0.12) + 0.5) * sy - 0.5;
      int x0 = (int) px - 4, y0 = (int) py - 4, n = 0;
      double dx = 0, dy = 0;
      for (int y = y0; y <= y0 + 8; y++)
        for (int x = x0; x <= x0 + 8; x++)
          if (x >= 0 && y >= 0 && x < flow->width && y < flow->height)
            {
              const float *f = gv_image_row_f32 (flow, y) + 2 * x;
              dx += f[0];
              dy += f[1];
              n++;
            }
      if (n == 0)
        return -1;
      out.x[k] = q->x[k] + dx / n / sx;
      out.y[k] = q->y[k] + dy / n / sy;
    }
  *q = out;
  return 0;
}

static void
add_stage (GvResult *r, const char *name, double s)
{
  if (r->n_stages < GV_STAGE_MAX)
    r->stages[r->n_stages++] = (GvStageTime) { name, s };
}

void
gv_result_free (GvResult *r)
{
  if (!r)
    return;
  for (int i = 0; i < r->n_golden; i++)
    {
      gv_image_free (r->golden[i].rgb);
      gv_image_free (r->golden[i].warped);
    }
  free (r->golden);
  free (r->frames);
  gv_defect_report_free (r->defects);
  free (r);
}

int
gv_pipeline_run (GvBackend *be, const GvParams *p, const GvFrameFeed *feed,
                 const GvProgress *progress, GvResult **out)
{
  GvResult *r = NULL;
  GvKeepSet ks = { feed, NULL, 0, 0, 0 };
  void *pending = NULL, *kept_cur = NULL;
  /* the next frame, decoded ahead while the device measured the current one */
  GvImage luma_next = { 0 };
  int index_next = 0, have_next = 0, rc_next = 0;
  double pts_next = 0;
  int cap = 0, rc = GV_OK, threads;
  int have_quad = 0, last_detect = 0, last_found = 0;
  GvQuad quad;
  GvImage *detect_img = NULL;
  int *picks = NULL;
  double t0 = gv_monotonic_seconds (), t1, t2;

  *out = NULL;
  if ((rc = gv_params_validate (p)))
    return rc;
  threads = p->threads > 0 ? p->threads : gv_threads_default ();
  r = calloc (1, sizeof *r);
  if (!r)
    return gv_error_set (GV_ENOMEM, "out of memory");
  r->params = *p;
  snprintf (r->backend, sizeof r->backend, "%s", be->ops->name);
  snprintf (r->device, sizeof r->device, "%s", be->device);
  ks.cap = gv_golden_keep_bound (p);
  ks.kept = calloc ((size_t) ks.cap, sizeof (GvKept));
  if (!ks.kept)
    {
      rc = gv_error_set (GV_ENOMEM, "out of memory");
      goto out;
    }
  be->ops->reset (be);

  /* Stage 1: frame analysis. */
  for (;;)
    {
      GvImage luma;
      GvFrameMetrics m;
      GvFrameRecord *f;
      GvQuad roi;
      int index = 0, have_roi = 0, split = 0;
      double pts = 0, td = gv_monotonic_seconds ();

      if (progress && progress->cancelled && progress->cancelled (progress->ud))
        {
          rc = gv_error_set (GV_ECANCELLED, "analysis cancelled");
          goto out;
        }
      if (have_next)
        {
          luma = luma_next, index = index_next, pts = pts_next, rc = rc_next;
          have_next = 0;
        }
      else
        {
          rc = feed->next (feed->ud, &luma, &index, &pts);
          r->decode_seconds += gv_monotonic_seconds () - td;
        }
      if (rc < 0)
        goto out;
      if (rc == 0)
        break;
      rc = GV_OK;
      if (r->n_frames == cap)
        {
          int ncap = cap ? cap * 2 : 256;
          GvFrameRecord *nf = realloc (r->frames, sizeof *nf * (size_t) ncap);
          if (!nf)
            {
              rc = gv_error_set (GV_ENOMEM, "out of memory after %d frames", r->n_frames);
              goto out;
            }
          r->frames = nf;
          cap = ncap;
        }
      {
        /* a GPU-decoded frame goes to a device backend without leaving the device */
        size_t dpitch = 0;
        const void *dl = feed->device_luma && be->ops->load_device
                           ? feed->device_luma (feed->ud, &dpitch) : NULL;
        if (dl)
          rc = be->ops->load_device (be, dl, dpitch, luma.width, luma.height);
        else if (!luma.data && (!feed->host_luma || (rc = feed->host_luma (feed->ud, &luma))))
          rc = rc ? rc : gv_error_set (GV_EINVAL, "frame %d has no luma in host memory", index);
        if (!rc && !dl)
          rc = be->ops->load (be, &luma);
        if (rc)
          goto out;
        /* a frame from host memory is on the device once loaded: the next one can be decoded
         * while the device measures it (a GPU-decoded frame's surface belongs to the decoder) */
        split = !dl && be->ops->measure_begin && be->ops->measure_end;
      }
      f = &r->frames[r->n_frames];
      memset (f, 0, sizeof *f);
      f->index = index;
      f->pts = pts;
      f->motion_next = -1.0;
      if (p->cover_roi && (r->n_frames == 0 || r->n_frames - last_detect >= p->cover_interval))
        {
          const GvImage *small = be->ops->analysis_image (be);
          GvCoverDetection det;
          if (!luma.data && (!feed->host_luma || (rc = feed->host_luma (feed->ud, &luma))))
            {
              rc = rc ? rc : gv_error_set (GV_EINVAL, "frame %d has no luma in host memory", index);
              goto out;
            }
          /* A carried quad outlives a failed re-detection (a blurred frame, glare) for a few
           * intervals; the flow keeps it on the cover meanwhile. */
          if (r->n_frames - last_found > 5 * p->cover_interval)
            have_quad = 0;
          /* The detector wants about GV_DETECT_SIZE px on the long side, whatever the flow's
           * analysis size: below that it sees too little of the cover's edges. */
          int llong = luma.width > luma.height ? luma.width : luma.height;
          int target = llong < GV_DETECT_SIZE ? llong : GV_DETECT_SIZE;
          if (small && (small->width > small->height ? small->width : small->height) < target)
            {
              if (target == llong)
                small = &luma;
              else
                {
                  int dw, dh;
                  gv_analysis_dims (luma.width, luma.height, target, &dw, &dh);
                  if (detect_img && (detect_img->width != dw || detect_img->height != dh))
                    {
                      gv_image_free (detect_img);
                      detect_img = NULL;
                    }
                  if (!detect_img && !(detect_img = gv_image_new (dw, dh, 1, GV_U8)))
                    {
                      rc = gv_error_code ();
                      goto out;
                    }
                  if ((rc = gv_resize_area_u8 (&luma, detect_img, threads)))
                    goto out;
                  small = detect_img;
                }
            }
          if (small && gv_cover_detect (small, &p->cover, threads, &det) == GV_OK && det.found)
            {
              gv_quad_scale (&det.quad, (double) luma.width / small->width,
                             (double) luma.height / small->height, &quad);
              have_quad = 1;
              f->cover_detected = 1;
              last_found = r->n_frames;
            }
          last_detect = r->n_frames;
        }
      if (have_quad)
        {
          f->cover_found = 1;
          f->cover = quad;
          /* Measure inside the cover, away from its border with the table. */
          gv_quad_shrink (&quad, 0.04, &roi);
          have_roi = 1;
        }
      if (split)
        {
          if ((rc = be->ops->measure_begin (be, have_roi ? &roi : NULL)))
            goto out;
          kept_cur = feed->keep (feed->ud);
          td = gv_monotonic_seconds ();
          rc_next = feed->next (feed->ud, &luma_next, &index_next, &pts_next);
          r->decode_seconds += gv_monotonic_seconds () - td;
          have_next = 1;
          /* and its upload runs beside the device's work on this one */
          if (rc_next > 0 && luma_next.data && be->ops->prefetch
              && (rc = be->ops->prefetch (be, &luma_next)))
            goto out;
          if ((rc = be->ops->measure_end (be, &m)))
            goto out;
        }
      else if ((rc = be->ops->measure (be, have_roi ? &roi : NULL, &m)))
        goto out;
      r->analysis_width = be->ops->analysis_image (be)->width;
      r->analysis_height = be->ops->analysis_image (be)->height;
      if (have_quad && !f->cover_detected)
        {
          /* The quad was the previous frame's: carry it to this frame with this pair's flow,
           * which is defined on the previous frame's grid. (The measures above used it one
           * frame stale, well inside the 4 % margin for the still frames that matter.) */
          const GvImage *fl = be->ops->last_flow (be);
          if (!fl || gv_quad_carry (&quad, fl, luma.width, luma.height) != 0)
            have_quad = 0;
          f->cover_found = have_quad;
          f->cover = quad;
        }
      f->sharpness = m.sharpness;
      f->sharpness_frame = m.sharpness_frame;
      f->motion = m.motion;
      f->motion_frame = m.motion_frame;
      r->n_frames++;
      if (r->n_frames >= 2)
        {
          GvFrameRecord *pf = &r->frames[r->n_frames - 2];
          pf->motion_next = m.motion;
          if (r->n_frames == 2)
            pf->motion_frame = m.motion_frame; /* frame 0: the flow to frame 1 */
          gate_frame (pf);
          if (pf->measured && pf->motion_gate <= p->motion_gate)
            keep_offer (&ks, r->n_frames - 2, pf->sharpness, pending);
          else if (pending)
            feed->release (feed->ud, pending);
          pending = NULL;
        }
      pending = split ? kept_cur : feed->keep (feed->ud);
      kept_cur = NULL;
      if (progress && progress->progress && (r->n_frames & 7) == 0)
        progress->progress (progress->ud, "frame_analysis",
                            feed->frames_hint > 0 ? (double) r->n_frames / feed->frames_hint : -1.0);
    }
  if (r->n_frames > 0)
    {
      GvFrameRecord *lf = &r->frames[r->n_frames - 1];
      gate_frame (lf);
      if (lf->measured && lf->motion_gate <= p->motion_gate)
        keep_offer (&ks, r->n_frames - 1, lf->sharpness, pending);
      else if (pending)
        feed->release (feed->ud, pending);
      pending = NULL;
    }
  if (r->n_frames == 0)
    {
      rc = gv_error_set (GV_EFORMAT, "no frame to analyse");
      goto out;
    }
  r->kept_limit_hit = ks.limit_hit;
  t1 = gv_monotonic_seconds ();
  add_stage (r, "frame_analysis", t1 - t0);
  if (progress && progress->progress)
    progress->progress (progress->ud, "frame_analysis", 1.0);

  /* Stage 2: golden frames. */
  picks = malloc (sizeof (int) * (size_t) p->max_golden);
  r->golden = calloc ((size_t) p->max_golden, sizeof (GvGolden));
  if (!picks || !r->golden)
    {
      rc = gv_error_set (GV_ENOMEM, "out of memory");
      goto out;
    }
  int np = gv_golden_select (r->frames, r->n_frames, p, picks);
  for (int i = 0; i < r->n_frames; i++)
    r->n_candidates += r->frames[i].candidate;
  for (int k = 0; k < np; k++)
    {
      GvGolden *g = &r->golden[r->n_golden];
      void *h = NULL;
      for (int j = 0; j < ks.n_kept; j++)
        if (ks.kept[j].rec == picks[k])
          h = ks.kept[j].handle;
      if (!h)
        continue; /* only when the retention bound was cut; reported by kept_limit_hit */
      g->frame_index = r->frames[picks[k]].index;
      g->pts = r->frames[picks[k]].pts;
      g->sharpness = r->frames[picks[k]].sharpness;
      g->motion = r->frames[picks[k]].motion_gate;
      g->rgb = feed->to_rgb (feed->ud, h);
      if (!g->rgb)
        {
          rc = gv_error_code () ? gv_error_code () : GV_ENOMEM;
          goto out;
        }
      r->n_golden++;
    }
  t2 = gv_monotonic_seconds ();
  add_stage (r, "golden_frames", t2 - t1);
  if (progress && progress->progress)
    progress->progress (progress->ud, "golden_frames", 1.0);

  /* Stage 3: cover geometry and warp. */
  for (int k = 0; k < r->n_golden; k++)
    {
      GvGolden *g = &r->golden[k];
      double H[9];

      if (progress && progress->cancelled && progress->cancelled (progress->ud))
        {
          rc = gv_error_set (GV_ECANCELLED, "analysis cancelled");
          goto out;
        }
      rc = gv_cover_detect_rgb (g->rgb, &p->cover, threads, &g->cover);
      if (rc != GV_OK && rc != GV_ENOTFOUND)
        goto out;
      rc = GV_OK;
      if (g->cover.found
          && gv_homography_cover_to_frame (&g->cover.quad, p->cover.out_width,
                                           p->cover.out_height, H) == GV_OK)
        {
          g->warped = gv_image_new (p->cover.out_width, p->cover.out_height, 3, GV_U8);
          if (!g->warped)
            {
              rc = gv_error_code ();
              goto out;
            }
          if ((rc = be->ops->warp (be, g->rgb, H, g->warped)))
            goto out;
        }
      if (progress && progress->progress)
        progress->progress (progress->ud, "cover_geometry", (double) (k + 1) / r->n_golden);
    }
  add_stage (r, "cover_geometry", gv_monotonic_seconds () - t2);

  /* Stage 4: defect analysis on the golden covers. */
  {
    GvDefectInput din[GV_DEFECTS_MAX_COVERS];
    int nin = 0;
    double t3 = gv_monotonic_seconds (), t4;
    for (int k = 0; k < r->n_golden && nin < GV_DEFECTS_MAX_COVERS; k++)
      if (r->golden[k].warped)
        din[nin++] = (GvDefectInput) { r->golden[k].rgb, &r->golden[k].cover.quad,
                                       r->golden[k].cover.touches_border, k,
                                       r->golden[k].cover.confidence };
    if (progress && progress->progress)
      progress->progress (progress->ud, "defect_analysis", 0.0);
    rc = gv_defects_analyze (be, din, nin, p->cover.out_width, p->cover.out_height, p->cover.width_mm,
                             p->cover.height_mm, threads,
                             progress ? progress->cancelled : NULL, progress ? progress->ud : NULL,
                             &r->defects);
    if (rc < 0)
      goto out;
    t4 = gv_monotonic_seconds ();
    add_stage (r, "defect_analysis", t4 - t3);
    if (progress && progress->progress)
      progress->progress (progress->ud, "defect_analysis", 1.0);
    /* Stage 5: regions and grade. */
    if (progress && progress->cancelled && progress->cancelled (progress->ud))
      {
        rc = gv_error_set (GV_ECANCELLED, "analysis cancelled");
        goto out;
      }
    gv_defects_finish (r->defects, threads);
    add_stage (r, "grading", gv_monotonic_seconds () - t4);
    if (progress && progress->progress)
      progress->progress (progress->ud, "grading", 1.0);
  }
  r->total_seconds = gv_monotonic_seconds () - t0;

out:
  gv_image_free (detect_img);
  if (pending)
    feed->release (feed->ud, pending);
  if (kept_cur)
    feed->release (feed->ud, kept_cur);
  for (int j = 0; j < ks.n_kept; j++)
    feed->release (feed->ud, ks.kept[j].handle);
  free (ks.kept);
  free (picks);
  if (rc < 0)
    {
      gv_result_free (r);
      return rc;
    }
  *out = r;
  return GV_OK;
}
