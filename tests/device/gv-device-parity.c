/* gv-device-parity.c: the CPU backend against the CUDA backend on synthetic scans (gv-synth),
 * GLib- and FFmpeg-free for the bare GPU machine. Per output of each kernel chain (area resize,
 * Laplacian sums, pyramid + Farneback flow, motion statistics, warp) and for whole pipeline
 * runs, it prints the values compared, max and mean |difference| and PASS/FAIL against the
 * contract (gv-cuda-compare.h). Stage 4's per-pixel maps (print estimate, glare bits, line and
 * stain evidence, the stain's darker side) on synthetic covers (gv-defect-covers.h) are compared
 * with the CPU row loops over the same per-pixel code, every value exactly. The CPU emulation
 * of the device launches is checked the same way first, so a failure on the device that the
 * emulator does not show points at the CUDA compiler or the wrappers rather than at the plan.
 *
 * With --y4m FILE, also the whole pipeline on that decoded video (tests/device/video-to-y4m.py
 * makes one from data/sample/scan.mp4 with OpenCV), CPU against CUDA.
 * Usage: gv-device-parity [--quick] [--summary FILE] [--y4m FILE]
 * Exit: 0 all PASS, 1 a FAIL, 77 no CUDA device (after the emulator part passed; meson's skip),
 * 2 an error. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gv-backend.h"
#include "gv-cuda-compare.h"
#include "gv-cuda-engine.h"
#include "gv-error.h"
#include "gv-pipeline.h"
#include "gv-synth.h"
#include "gv-threads.h"
#include "gv-y4m.h"

#include "gv-defect-covers.h"

typedef int (*BackendNew) (const GvParams *p, GvBackend **out);

typedef struct {
  int w, h, analysis, n;
} Case;

typedef struct {
  int n, w, h, M; /* covers, cover size, margin */
} MapsCase;

static FILE *summary;

static void say (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static void
say (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  if (summary)
    {
      va_start (ap, fmt);
      vfprintf (summary, fmt, ap);
      va_end (ap);
    }
}

static void
report (const char *title, GvCompareReport *c)
{
  gv_compare_finish (c);
  say ("\n== %s: %s\n", title, c->pass ? "PASS" : "FAIL");
  gv_compare_print (c, stdout);
  if (summary)
    gv_compare_print (c, summary);
}

/* ---- synthetic frames ---- */

typedef struct {
  GvSynth *synth;
  GvImage **gray;
  GvImage *rgb;
  int n, next;
} Frames;

static int
frames_init (Frames *f, int w, int h, int n, unsigned seed)
{
  GvSynthParams sp;
  GvSynthTruth t;

  memset (f, 0, sizeof *f);
  gv_synth_params_init_default (&sp);
  sp.width = w;
  sp.height = h;
  sp.n_frames = n;
  sp.seed = seed;
  if (!(f->synth = gv_synth_new (&sp)))
    return -1;
  f->n = n;
  f->gray = calloc ((size_t) n, sizeof *f->gray);
  f->rgb = gv_image_new (w, h, 3, GV_U8);
  if (!f->gray || !f->rgb)
    return -1;
  for (int i = 0; i < n; i++)
    {
      if (gv_synth_render (f->synth, i, f->rgb, &t, 0) != GV_OK)
        return -1;
      if (!(f->gray[i] = gv_image_new (w, h, 1, GV_U8)))
        return -1;
      gv_image_rgb_to_gray (f->rgb, f->gray[i]);
    }
  return 0;
}

static void
frames_clear (Frames *f)
{
  for (int i = 0; f->gray && i < f->n; i++)
    gv_image_free (f->gray[i]);
  free (f->gray);
  gv_image_free (f->rgb);
  gv_synth_free (f->synth);
}

static int
feed_next (void *ud, GvImage *luma, int *index, double *pts)
{
  Frames *f = ud;
  if (f->next >= f->n)
    return 0;
  *luma = *f->gray[f->next];
  luma->owns_data = 0;
  *index = f->next;
  *pts = f->next / 30.0;
  f->next++;
  return 1;
}

static void *
feed_keep (void *ud)
{
  return (void *) (intptr_t) ((Frames *) ud)->next;
}

static GvImage *
feed_to_rgb (void *ud, void *kept)
{
  Frames *f = ud;
  GvImage *rgb = gv_image_new (f->rgb->width, f->rgb->height, 3, GV_U8);
  GvSynthTruth t;
  if (rgb && gv_synth_render (f->synth, (int) (intptr_t) kept - 1, rgb, &t, 0) != GV_OK)
    {
      gv_image_free (rgb);
      return NULL;
    }
  return rgb;
}

static void
feed_release (void *ud, void *kept)
{
}

/* ---- the comparisons ---- */

static int
compare_kernels (const char *title, BackendNew make_b, const Case *cs)
{
  Frames f;
  GvParams p;
  GvBackend *a = NULL, *b = NULL;
  GvCompareReport c;
  int w = cs->w, h = cs->h, rc = 2;
  GvQuad roi = { { w * 0.2, w * 0.8, w * 0.75, w * 0.25 },
                 { h * 0.1, h * 0.15, h * 0.9, h * 0.85 } };

  if (frames_init (&f, w, h, cs->n, 5) != 0)
    {
      fprintf (stderr, "gv-device-parity: cannot render frames: %s\n", gv_error_message ());
      frames_clear (&f);
      return 2;
    }
  gv_params_init_default (&p);
  p.analysis_size = cs->analysis;
  if (gv_backend_cpu_new (&p, &a) != GV_OK || make_b (&p, &b) != GV_OK)
    {
      fprintf (stderr, "gv-device-parity: %s\n", gv_error_message ());
      goto out;
    }
  gv_compare_init (&c);
  for (int i = 0; i < f.n; i++)
    {
      GvFrameMetrics ma, mb;
      const GvQuad *q = i % 2 ? &roi : NULL;
      if (a->ops->load (a, f.gray[i]) || b->ops->load (b, f.gray[i])
          || a->ops->measure (a, q, &ma) || b->ops->measure (b, q, &mb))
        {
          fprintf (stderr, "gv-device-parity: frame %d: %s\n", i, gv_error_message ());
          goto out;
        }
      gv_compare_images (gv_compare_row (&c, "area resize (analysis image)", 1),
                         a->ops->analysis_image (a), b->ops->analysis_image (b));
      GvCompareRow *sh = gv_compare_row (&c, "Laplacian variance", 0);
      gv_compare_add (sh, ma.sharpness, mb.sharpness);
      gv_compare_add (sh, ma.sharpness_frame, mb.sharpness_frame);
      if (i > 0)
        {
          gv_compare_images (gv_compare_row (&c, "pyramid + Farneback flow", 0),
                             a->ops->last_flow (a), b->ops->last_flow (b));
          GvCompareRow *mo = gv_compare_row (&c, "flow magnitude statistics", 0);
          gv_compare_add (mo, ma.motion, mb.motion);
          gv_compare_add (mo, ma.motion_frame, mb.motion_frame);
          gv_compare_add (mo, ma.motion_max, mb.motion_max);
          gv_compare_add (gv_compare_row (&c, "roi used", 1), ma.roi_used, mb.roi_used);
        }
    }
  {
    double H[9] = { 0.9, 0.12, w * 0.1, -0.05, 1.1, h * 0.05, 1e-4, 2e-4, 1.0 };
    GvImage *da = gv_image_new (1060, 1640, 3, GV_U8), *db = gv_image_new (1060, 1640, 3, GV_U8);
    if (!da || !db || a->ops->warp (a, f.rgb, H, da) || b->ops->warp (b, f.rgb, H, db))
      fprintf (stderr, "gv-device-parity: warp: %s\n", gv_error_message ());
    gv_compare_images (gv_compare_row (&c, "perspective warp", 2), da, db);
    gv_image_free (da);
    gv_image_free (db);
  }
  char t[160];
  snprintf (t, sizeof t, "%s, kernels, %dx%d -> analysis %d, %d frames", title, w, h, cs->analysis,
            cs->n);
  report (t, &c);
  rc = c.pass ? 0 : 1;
out:
  gv_backend_free (a);
  gv_backend_free (b);
  frames_clear (&f);
  return rc;
}

static int
compare_pipeline (const char *title, BackendNew make_b, const Case *cs)
{
  Frames f;
  GvParams p;
  GvBackend *a = NULL, *b = NULL;
  GvResult *ra = NULL, *rb = NULL;
  GvCompareReport c;
  int rc = 2;

  if (frames_init (&f, cs->w, cs->h, cs->n, 3) != 0)
    {
      frames_clear (&f);
      return 2;
    }
  gv_params_init_default (&p);
  p.analysis_size = cs->analysis;
  p.max_golden = 3;
  p.min_gap = 2;
  GvFrameFeed feed = { &f, f.n, feed_next, feed_keep, feed_to_rgb, feed_release, NULL,
                      NULL };
  if (gv_backend_cpu_new (&p, &a) != GV_OK || make_b (&p, &b) != GV_OK)
    goto out;
  f.next = 0;
  if (gv_pipeline_run (a, &p, &feed, NULL, &ra) != GV_OK)
    goto out;
  f.next = 0;
  if (gv_pipeline_run (b, &p, &feed, NULL, &rb) != GV_OK)
    goto out;
  gv_compare_init (&c);
  gv_compare_results (&c, ra, rb);
  char t[160];
  snprintf (t, sizeof t, "%s, whole pipeline, %dx%d -> analysis %d, %d frames (%d golden)", title,
            cs->w, cs->h, cs->analysis, cs->n, ra->n_golden);
  report (t, &c);
  rc = c.pass ? 0 : 1;
out:
  if (rc == 2)
    fprintf (stderr, "gv-device-parity: pipeline: %s\n", gv_error_message ());
  gv_result_free (ra);
  gv_result_free (rb);
  gv_backend_free (a);
  gv_backend_free (b);
  frames_clear (&f);
  return rc;
}

/* Stage 4's maps through the backend's device path against the CPU row loops. Every value must
 * be identical, floats included: the maps are thresholded into the mask, and the contract wants
 * identical masks, so a last-bit difference is a failure here, not noise. */
static int
compare_defect_maps (const char *title, BackendNew make_b, const MapsCase *cs)
{
  GvImage *covers[GV_DM_MAX_COVERS] = { NULL };
  GvTcMapSet m[2] = { { NULL } }; /* the CPU's maps, then the device's */
  GvParams p;
  GvBackend *b = NULL;
  GvCompareReport c;
  int rc = 2;

  for (int k = 0; k < cs->n; k++)
    if (!(covers[k] = gv_tc_cover (cs->w, cs->h, cs->M, k)))
      goto out;
  for (int s = 0; s < 2; s++)
    if (!gv_tc_maps_alloc (cs->w, cs->h, cs->M, &m[s]))
      goto out;
  gv_params_init_default (&p);
  if (make_b (&p, &b) != GV_OK)
    goto out;
  gv_tc_maps_cpu ((const GvImage *const *) covers, cs->n, cs->M, gv_threads_default (), m[0].print,
                  m[0].glare, m[0].line, m[0].stain, m[0].dark);
  if (gv_defect_maps_device (b, (const GvImage *const *) covers, cs->n, cs->M, m[1].print, m[1].glare,
                             m[1].line, m[1].stain, m[1].dark) != GV_OK)
    goto out;
  gv_compare_init (&c);
  gv_compare_images (gv_compare_row (&c, "defect maps: print estimate", 1), m[0].print, m[1].print);
  gv_compare_images (gv_compare_row (&c, "defect maps: glare bits", 1), m[0].glare, m[1].glare);
  gv_compare_images (gv_compare_row (&c, "defect maps: line evidence", 1), m[0].line, m[1].line);
  gv_compare_images (gv_compare_row (&c, "defect maps: stain evidence", 1), m[0].stain, m[1].stain);
  {
    GvImage da = gv_image_view (m[0].dark, cs->w, cs->h, 1, GV_U8, (size_t) cs->w);
    GvImage db = gv_image_view (m[1].dark, cs->w, cs->h, 1, GV_U8, (size_t) cs->w);
    gv_compare_images (gv_compare_row (&c, "defect maps: stain dark side", 1), &da, &db);
  }
  /* step 3e': the stain evidence of the descreened print (radius 4, as at 1060 px width) */
  {
    GvImage *s2[2] = { gv_image_new (cs->w, cs->h, 1, GV_F32),
                       gv_image_new (cs->w, cs->h, 1, GV_F32) };
    uint8_t *d2[2] = { malloc ((size_t) cs->w * cs->h), malloc ((size_t) cs->w * cs->h) };
    int ok = s2[0] && s2[1] && d2[0] && d2[1]
             && gv_tc_stain2_cpu (m[0].print, cs->M, 4, gv_threads_default (), s2[0], d2[0])
             && gv_defect_stain2_device (b, m[0].print, cs->M, 4, s2[1], d2[1]) == GV_OK;
    if (ok)
      {
        GvImage da = gv_image_view (d2[0], cs->w, cs->h, 1, GV_U8, (size_t) cs->w);
        GvImage db = gv_image_view (d2[1], cs->w, cs->h, 1, GV_U8, (size_t) cs->w);
        gv_compare_images (gv_compare_row (&c, "defect maps: descreened stain evidence", 1), s2[0],
                           s2[1]);
        gv_compare_images (gv_compare_row (&c, "defect maps: descreened stain dark side", 1), &da,
                           &db);
      }
    for (int i = 0; i < 2; i++)
      {
        gv_image_free (s2[i]);
        free (d2[i]);
      }
    if (!ok)
      goto out;
  }
  char t[160];
  snprintf (t, sizeof t, "%s, stage 4 maps, %d covers of %dx%d + %d px margin", title, cs->n,
            cs->w, cs->h, cs->M);
  report (t, &c);
  rc = c.pass ? 0 : 1;
out:
  if (rc == 2)
    fprintf (stderr, "gv-device-parity: defect maps: %s\n", gv_error_message ());
  gv_backend_free (b);
  for (int k = 0; k < GV_DM_MAX_COVERS; k++)
    gv_image_free (covers[k]);
  gv_tc_maps_release (&m[0]);
  gv_tc_maps_release (&m[1]);
  return rc;
}

static int
compare_y4m (const char *title, BackendNew make_b, const char *path)
{
  GvY4m *ya = NULL, *yb = NULL;
  GvFrameFeed fa, fb;
  GvParams p;
  GvBackend *a = NULL, *b = NULL;
  GvResult *ra = NULL, *rb = NULL;
  GvCompareReport c;
  int rc = 2;

  gv_params_init_default (&p);
  if (gv_y4m_open (path, &ya) != GV_OK || gv_y4m_open (path, &yb) != GV_OK)
    goto out;
  gv_y4m_feed_init (ya, &fa);
  gv_y4m_feed_init (yb, &fb);
  if (gv_backend_cpu_new (&p, &a) != GV_OK || make_b (&p, &b) != GV_OK)
    goto out;
  if (gv_pipeline_run (a, &p, &fa, NULL, &ra) != GV_OK
      || gv_pipeline_run (b, &p, &fb, NULL, &rb) != GV_OK)
    goto out;
  gv_compare_init (&c);
  gv_compare_results (&c, ra, rb);
  char t[400];
  snprintf (t, sizeof t, "%s, whole pipeline on %s, %dx%d, %d frames (%d golden)", title, path,
            gv_y4m_info (ya)->width, gv_y4m_info (ya)->height, ra->n_frames, ra->n_golden);
  report (t, &c);
  rc = c.pass ? 0 : 1;
out:
  if (rc == 2)
    fprintf (stderr, "gv-device-parity: %s: %s\n", path, gv_error_message ());
  gv_result_free (ra);
  gv_result_free (rb);
  gv_backend_free (a);
  gv_backend_free (b);
  gv_y4m_free (ya);
  gv_y4m_free (yb);
  return rc;
}

static int
worst (int a, int b)
{
  return a == 2 || b == 2 ? 2 : (a || b);
}

int
main (int argc, char **argv)
{
  int quick = 0, status = 0;
  char why[256] = "";
  const char *y4m = NULL;

  for (int i = 1; i < argc; i++)
    {
      if (!strcmp (argv[i], "--quick"))
        quick = 1;
      else if (!strcmp (argv[i], "--y4m") && i + 1 < argc)
        y4m = argv[++i];
      else if (!strcmp (argv[i], "--summary") && i + 1 < argc)
        {
          if (!(summary = fopen (argv[++i], "w")))
            {
              fprintf (stderr, "gv-device-parity: cannot write %s\n", argv[i]);
              return 2;
            }
        }
      else
        {
          fprintf (stderr, "usage: gv-device-parity [--quick] [--summary FILE] [--y4m FILE]\n");
          return 2;
        }
    }
  /* The emulator (one CPU thread) on small cases: the plan and launch order. */
  const Case emu_k = { 480, 270, 160, 4 }, emu_p = { 640, 360, 320, 8 };
  status = worst (status, compare_kernels ("emulated", gv_backend_emulated_new, &emu_k));
  status = worst (status, compare_pipeline ("emulated", gv_backend_emulated_new, &emu_p));
  const MapsCase emu_m = { 5, 131, 197, 8 };
  status = worst (status, compare_defect_maps ("emulated", gv_backend_emulated_new, &emu_m));

  if (!gv_backend_cuda_available (why, sizeof why))
    {
      say ("\nCUDA: skipped, no CUDA device: %s\n", why);
      if (summary)
        fclose (summary);
      return status ? status : 77;
    }
  say ("\nCUDA device: %s\n", why);
  const Case dev_k[] = { { 1920, 1080, 640, 6 }, { 1280, 720, 500, 4 }, { 97, 75, 0, 3 },
                         { 3840, 2160, 640, 3 } };
  const Case dev_p[] = { { 1920, 1080, 640, 24 }, { 1280, 720, 0, 10 } };
  for (size_t i = 0; i < (quick ? 2 : sizeof dev_k / sizeof dev_k[0]); i++)
    status = worst (status, compare_kernels ("cuda", gv_backend_cuda_new, &dev_k[i]));
  for (size_t i = 0; i < (quick ? 1 : sizeof dev_p / sizeof dev_p[0]); i++)
    status = worst (status, compare_pipeline ("cuda", gv_backend_cuda_new, &dev_p[i]));
  /* the working scale of a 1080p scan, the canonical cover with every cover, odd and tiny */
  const MapsCase dev_m[] = { { 3, 424, 656, 17 }, { 8, 1060, 1640, 42 }, { 5, 331, 517, 13 },
                             { 1, 33, 41, 8 } };
  for (size_t i = 0; i < (quick ? 2 : sizeof dev_m / sizeof dev_m[0]); i++)
    status = worst (status, compare_defect_maps ("cuda", gv_backend_cuda_new, &dev_m[i]));
  if (y4m)
    status = worst (status, compare_y4m ("cuda", gv_backend_cuda_new, y4m));
  say ("\nparity: %s\n", status == 0 ? "PASS" : (status == 1 ? "FAIL" : "ERROR"));
  if (summary)
    fclose (summary);
  return status;
}
