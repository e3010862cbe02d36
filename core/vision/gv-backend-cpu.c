/* gv-backend-cpu.c: the CPU backend. Rows are split over a small pool (gv_parallel_for);
 * every kernel computes a row the same way whatever the split, so results are bit-identical
 * for any thread count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gv-backend.h"
#include "gv-error.h"
#include "gv-flow.h"
#include "gv-threads.h"

typedef struct {
  GvBackend base;
  const GvImage *luma;    /* current full-res frame (caller's memory, valid until next load) */
  GvImage *small;         /* current analysis image (owned; NULL when analysis = full res) */
  GvImage small_view;     /* what analysis_image returns */
  GvFlowPyramid *prev, *cur;
  GvImage *flow;
  int flow_valid;
  int aw, ah, fw, fh;
} GvCpuBackend;

static int
cpu_load (GvBackend *be, const GvImage *luma)
{
  GvCpuBackend *c = (GvCpuBackend *) be;
  int aw, ah;

  if (luma->depth != GV_U8 || luma->channels != 1)
    return gv_error_set (GV_EINVAL, "the CPU backend takes 8-bit gray frames");
  gv_analysis_dims (luma->width, luma->height, be->params.analysis_size, &aw, &ah);
  if (c->prev && (aw != c->aw || ah != c->ah || luma->width != c->fw || luma->height != c->fh))
    {
      /* The frame size changed mid-stream: start a new sequence. */
      gv_flow_pyramid_free (c->prev);
      c->prev = NULL;
    }
  if (c->small && (c->small->width != aw || c->small->height != ah))
    {
      gv_image_free (c->small);
      c->small = NULL;
    }
  c->luma = luma;
  c->fw = luma->width;
  c->fh = luma->height;
  c->aw = aw;
  c->ah = ah;
  if (aw == luma->width && ah == luma->height)
    c->small_view = *luma;
  else
    {
      if (!c->small && !(c->small = gv_image_new (aw, ah, 1, GV_U8)))
        return gv_error_code ();
      int rc = gv_resize_area_u8 (luma, c->small, be->threads);
      if (rc)
        return rc;
      c->small_view = *c->small;
    }
  c->small_view.owns_data = 0;
  gv_flow_pyramid_free (c->prev);
  c->prev = c->cur;
  c->cur = gv_flow_pyramid_new (&c->small_view, &be->params.flow, be->threads);
  c->flow_valid = 0;
  if (!c->cur)
    return gv_error_code () ? gv_error_code () : GV_ENOMEM;
  return GV_OK;
}

static const GvImage *
cpu_analysis_image (GvBackend *be)
{
  GvCpuBackend *c = (GvCpuBackend *) be;
  return c->cur ? &c->small_view : NULL;
}

static int
cpu_measure (GvBackend *be, const GvQuad *roi, GvFrameMetrics *out)
{
  GvCpuBackend *c = (GvCpuBackend *) be;
  double sx, sy, mean, mx;

  memset (out, 0, sizeof *out);
  if (!c->cur)
    return gv_error_set (GV_EINVAL, "measure called before load");
  if (gv_sharpness_laplacian_var2 (c->luma, roi, be->threads, &out->sharpness_frame,
                                   &out->sharpness) != 0)
    return gv_error_set (GV_ENOMEM, "out of memory measuring sharpness");
  out->roi_used = roi != NULL;
  out->motion = out->motion_frame = -1.0;
  if (!c->prev)
    return GV_OK;
  if (!c->flow || c->flow->width != c->aw || c->flow->height != c->ah)
    {
      gv_image_free (c->flow);
      if (!(c->flow = gv_image_new (c->aw, c->ah, 2, GV_F32)))
        return gv_error_code ();
    }
  int rc = gv_flow_farneback_pyr (c->prev, c->cur, &be->params.flow, be->threads, c->flow);
  if (rc)
    return rc;
  c->flow_valid = 1;
  sx = (double) c->fw / c->aw;
  sy = (double) c->fh / c->ah;
  gv_flow_magnitude_stats_xy (c->flow, NULL, sx, sy, be->threads, &mean, &mx);
  out->motion_frame = mean;
  out->motion_max = mx;
  if (roi)
    {
      GvQuad q;
      gv_quad_scale (roi, 1.0 / sx, 1.0 / sy, &q);
      if (gv_flow_magnitude_stats_xy (c->flow, &q, sx, sy, be->threads, &mean, &mx) > 0)
        {
          out->motion = mean;
          out->motion_max = mx;
        }
      else
        out->motion = out->motion_frame, out->roi_used = 0;
    }
  else
    out->motion = mean;
  return GV_OK;
}

static const GvImage *
cpu_last_flow (GvBackend *be)
{
  GvCpuBackend *c = (GvCpuBackend *) be;
  return c->flow_valid ? c->flow : NULL;
}

static int
cpu_warp (GvBackend *be, const GvImage *rgb, const double H[9], GvImage *dst)
{
  return gv_warp_perspective (rgb, H, dst, be->threads);
}

static void
cpu_reset (GvBackend *be)
{
  GvCpuBackend *c = (GvCpuBackend *) be;

  gv_flow_pyramid_free (c->prev);
  gv_flow_pyramid_free (c->cur);
  c->prev = c->cur = NULL;
  c->flow_valid = 0;
}

static void
cpu_free (GvBackend *be)
{
  GvCpuBackend *c = (GvCpuBackend *) be;

  cpu_reset (be);
  gv_image_free (c->small);
  gv_image_free (c->flow);
  free (c);
}

static const GvBackendOps cpu_ops = {
  "cpu", cpu_load, cpu_analysis_image, cpu_measure, cpu_last_flow, cpu_warp, cpu_reset, cpu_free,
  NULL, /* frames come from host memory */
  NULL, NULL, /* measure is one call: nothing runs while the host decodes */
  NULL,       /* nothing to upload */
};

int
gv_backend_cpu_new (const GvParams *params, GvBackend **out)
{
  GvCpuBackend *c;
  int rc;

  *out = NULL;
  if ((rc = gv_params_validate (params)))
    return rc;
  c = calloc (1, sizeof *c);
  if (!c)
    return gv_error_set (GV_ENOMEM, "out of memory");
  c->base.ops = &cpu_ops;
  c->base.params = *params;
  c->base.threads = params->threads > 0 ? params->threads : gv_threads_default ();
  snprintf (c->base.device, sizeof c->base.device, "CPU, %d thread%s", c->base.threads,
            c->base.threads == 1 ? "" : "s");
  *out = &c->base;
  return GV_OK;
}
