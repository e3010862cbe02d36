/* gv-cli-validate.c: gvscan validate VIDEO, the CPU and CUDA backends on the same video (decoded
 * once per backend), every output compared against the parity contract (gv-cuda-compare.h):
 * per-frame sharpness and motion, sampled flow fields, gate decisions, golden picks, cover
 * corners, warped covers and the defect analysis; both backends' stage timings and the speed-up.
 * Exit status: 0 within the contract, 1 outside it, 2 bad usage, 3 the analysis failed,
 * 4 cannot validate here (no CUDA in this build, no driver or no device). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gv-cli.h"
#include "gv-cuda-compare.h"
#include "gv-cuda-engine.h"
#include "gv-error.h"

#define GV_VALIDATE_NO_DEVICE 4

/* A backend that forwards to another, timing its calls and keeping a copy of the flow field of
 * every `every`-th measured frame. */
typedef struct {
  GvBackend base;
  GvBackend *inner;
  GvBackendOps ops;
  int every, measures, max_samples;
  GPtrArray *flows; /* GvImage copies (NULL when the frame had no flow) */
  GArray *flow_frames;
  double t_load, t_measure, t_warp;
  char decoding[200]; /* where the video was decoded (GvMediaInfo.hw_decode) */
} RecBackend;

static int
rec_load (GvBackend *be, const GvImage *luma)
{
  RecBackend *r = (RecBackend *) be;
  double t = gv_monotonic_seconds ();
  int rc = r->inner->ops->load (r->inner, luma);
  r->t_load += gv_monotonic_seconds () - t;
  return rc;
}

static int
rec_load_device (GvBackend *be, const void *d_luma, size_t pitch, int w, int h)
{
  RecBackend *r = (RecBackend *) be;
  double t = gv_monotonic_seconds ();
  int rc = r->inner->ops->load_device (r->inner, d_luma, pitch, w, h);
  r->t_load += gv_monotonic_seconds () - t;
  return rc;
}

static const GvImage *
rec_analysis_image (GvBackend *be)
{
  RecBackend *r = (RecBackend *) be;
  return r->inner->ops->analysis_image (r->inner);
}

/* After a measure: every `every`th frame's flow is kept for the comparison. */
static void
rec_sample_flow (RecBackend *r, int rc)
{
  if (rc == GV_OK && r->measures >= 1 && (r->measures - 1) % r->every == 0
      && (int) r->flows->len < r->max_samples)
    {
      const GvImage *fl = r->inner->ops->last_flow (r->inner);
      g_ptr_array_add (r->flows, fl ? gv_image_copy (fl) : NULL);
      g_array_append_val (r->flow_frames, r->measures);
    }
  r->measures++;
}

static int
rec_measure (GvBackend *be, const GvQuad *roi, GvFrameMetrics *out)
{
  RecBackend *r = (RecBackend *) be;
  double t = gv_monotonic_seconds ();
  int rc = r->inner->ops->measure (r->inner, roi, out);

  r->t_measure += gv_monotonic_seconds () - t;
  rec_sample_flow (r, rc);
  return rc;
}

static int
rec_measure_begin (GvBackend *be, const GvQuad *roi)
{
  RecBackend *r = (RecBackend *) be;
  double t = gv_monotonic_seconds ();
  int rc = r->inner->ops->measure_begin (r->inner, roi);
  r->t_measure += gv_monotonic_seconds () - t;
  return rc;
}

static int
rec_measure_end (GvBackend *be, GvFrameMetrics *out)
{
  RecBackend *r = (RecBackend *) be;
  double t = gv_monotonic_seconds ();
  int rc = r->inner->ops->measure_end (r->inner, out);

  r->t_measure += gv_monotonic_seconds () - t;
  rec_sample_flow (r, rc);
  return rc;
}

static int
rec_prefetch (GvBackend *be, const GvImage *luma)
{
  RecBackend *r = (RecBackend *) be;
  double t = gv_monotonic_seconds ();
  int rc = r->inner->ops->prefetch (r->inner, luma);
  r->t_load += gv_monotonic_seconds () - t;
  return rc;
}

static const GvImage *
rec_last_flow (GvBackend *be)
{
  RecBackend *r = (RecBackend *) be;
  return r->inner->ops->last_flow (r->inner);
}

static int
rec_warp (GvBackend *be, const GvImage *rgb, const double H[9], GvImage *dst)
{
  RecBackend *r = (RecBackend *) be;
  double t = gv_monotonic_seconds ();
  int rc = r->inner->ops->warp (r->inner, rgb, H, dst);
  r->t_warp += gv_monotonic_seconds () - t;
  return rc;
}

static void
rec_reset (GvBackend *be)
{
  RecBackend *r = (RecBackend *) be;
  r->inner->ops->reset (r->inner);
}

static void
rec_free (GvBackend *be)
{
  RecBackend *r = (RecBackend *) be;
  g_ptr_array_unref (r->flows);
  g_array_unref (r->flow_frames);
  gv_backend_free (r->inner);
  g_free (r);
}

static void
free_image (gpointer p)
{
  gv_image_free (p);
}

static GvBackend *
rec_new (GvBackend *inner, int every)
{
  RecBackend *r = g_new0 (RecBackend, 1);

  r->inner = inner;
  r->ops = (GvBackendOps) { inner->ops->name, rec_load, rec_analysis_image, rec_measure,
                            rec_last_flow, rec_warp, rec_reset, rec_free,
                            inner->ops->load_device ? rec_load_device : NULL,
                            inner->ops->measure_begin ? rec_measure_begin : NULL,
                            inner->ops->measure_end ? rec_measure_end : NULL,
                            inner->ops->prefetch ? rec_prefetch : NULL };
  r->base = *inner;
  r->base.ops = &r->ops;
  r->every = every;
  r->max_samples = 64;
  r->flows = g_ptr_array_new_with_free_func (free_image);
  r->flow_frames = g_array_new (FALSE, FALSE, sizeof (int));
  return &r->base;
}

static int
run_backend (const char *video, const GvParams *p, GvBackend *be, gboolean gpu_decode,
             gboolean quiet, GvResult **out)
{
  GvFrameSource *src = NULL;
  GvSourceOptions so = { 0, 0, gpu_decode ? GV_HW_DECODE_REQUIRE : GV_HW_DECODE_OFF,
                         gpu_decode ? gv_backend_cuda_context (be) : NULL };
  GvSourceFeed sf;
  int rc;

  if (!quiet)
    fprintf (stderr, "gvscan validate: analysing with the %s backend (%s)\n", be->ops->name,
             be->device);
  if ((rc = gv_frame_source_open (video, &so, &src)) != GV_OK)
    {
      gv_cli_error (NULL);
      return rc;
    }
  /* be is always a RecBackend here (run_backend's callers wrap both backends) */
  snprintf (((RecBackend *) be)->decoding, sizeof ((RecBackend *) be)->decoding, "%s",
            gpu_decode ? gv_frame_source_info (src)->hw_decode : "cpu (FFmpeg)");
  if (gpu_decode && !quiet)
    fprintf (stderr, "gvscan validate: decoding for %s: %s\n", be->ops->name,
             gv_frame_source_info (src)->hw_decode);
  gv_source_feed_init (&sf, src);
  rc = gv_pipeline_run (be, p, &sf.feed, NULL, out);
  if (rc != GV_OK)
    fprintf (stderr, "gvscan validate: %s: analysis on %s failed: %s\n", video, be->ops->name,
             gv_error_message ());
  gv_frame_source_free (src);
  return rc;
}

static double
stage_seconds (const GvResult *r, const char *name)
{
  for (int i = 0; i < r->n_stages; i++)
    if (!strcmp (r->stages[i].name, name))
      return r->stages[i].seconds;
  return -1.0;
}

static void
json_backend (JsonBuilder *b, const GvResult *r, const RecBackend *rec)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "backend");
  json_builder_add_string_value (b, r->backend);
  json_builder_set_member_name (b, "device");
  json_builder_add_string_value (b, r->device);
  json_builder_set_member_name (b, "stages");
  json_builder_begin_object (b);
  for (int i = 0; i < r->n_stages; i++)
    {
      json_builder_set_member_name (b, r->stages[i].name);
      json_builder_add_double_value (b, r->stages[i].seconds);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "decoding");
  json_builder_add_string_value (b, rec->decoding);
  json_builder_set_member_name (b, "decode_seconds");
  json_builder_add_double_value (b, r->decode_seconds);
  json_builder_set_member_name (b, "total_seconds");
  json_builder_add_double_value (b, r->total_seconds);
  json_builder_set_member_name (b, "backend_seconds");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "load");
  json_builder_add_double_value (b, rec->t_load);
  json_builder_set_member_name (b, "measure");
  json_builder_add_double_value (b, rec->t_measure);
  json_builder_set_member_name (b, "warp");
  json_builder_add_double_value (b, rec->t_warp);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static gboolean
write_json (const char *path, const char *video, const char *why, const GvCompareReport *c,
            const GvResult *ra, const GvResult *rb, const RecBackend *reca,
            const RecBackend *recb)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GError) error = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "video");
  json_builder_add_string_value (b, video);
  json_builder_set_member_name (b, "validated");
  json_builder_add_boolean_value (b, c != NULL);
  if (!c)
    {
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, why);
    }
  else
    {
      json_builder_set_member_name (b, "pass");
      json_builder_add_boolean_value (b, c->pass);
      json_builder_set_member_name (b, "contract");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "float_tolerance_relative");
      json_builder_add_double_value (b, GV_PARITY_FLOAT_TOL);
      json_builder_set_member_name (b, "image_tolerance_levels");
      json_builder_add_double_value (b, GV_PARITY_IMAGE_TOL);
      json_builder_set_member_name (b, "identical");
      json_builder_add_string_value (b, "golden picks, gate decisions, masks, defect list, grade");
      json_builder_end_object (b);
      json_builder_set_member_name (b, "outputs");
      json_builder_begin_array (b);
      for (int i = 0; i < c->n_rows; i++)
        {
          const GvCompareRow *r = &c->rows[i];
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, r->name);
          json_builder_set_member_name (b, "values");
          json_builder_add_int_value (b, r->n);
          json_builder_set_member_name (b, "differing");
          json_builder_add_int_value (b, r->n_differing);
          json_builder_set_member_name (b, "differing_share");
          json_builder_add_double_value (b, r->n ? (double) r->n_differing / (double) r->n : 0.0);
          json_builder_set_member_name (b, "max_abs_diff");
          json_builder_add_double_value (b, isfinite (r->max_abs) ? r->max_abs : 1e300);
          json_builder_set_member_name (b, "mean_abs_diff");
          json_builder_add_double_value (b, isfinite (r->sum_abs) ? gv_compare_row_mean (r) : 1e300);
          json_builder_set_member_name (b, "tolerance");
          json_builder_add_string_value (b, r->exact ? "identical"
                                            : (r->max_scaled < 0 ? "1 grey level" : "1e-4 relative"));
          json_builder_set_member_name (b, "pass");
          json_builder_add_boolean_value (b, r->pass);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "cpu");
      json_backend (b, ra, reca);
      json_builder_set_member_name (b, "cuda");
      json_backend (b, rb, recb);
      json_builder_set_member_name (b, "speedup");
      json_builder_begin_object (b);
      for (int i = 0; i < ra->n_stages; i++)
        {
          double tb = stage_seconds (rb, ra->stages[i].name);
          json_builder_set_member_name (b, ra->stages[i].name);
          json_builder_add_double_value (b, tb > 0 ? ra->stages[i].seconds / tb : 0.0);
        }
      json_builder_set_member_name (b, "backend_compute");
      json_builder_add_double_value (b, recb->t_load + recb->t_measure > 0
                                          ? (reca->t_load + reca->t_measure)
                                              / (recb->t_load + recb->t_measure)
                                          : 0.0);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  if (!gv_json_write_file (root, path, &error))
    {
      fprintf (stderr, "gvscan validate: cannot write %s: %s\n", path, error->message);
      return FALSE;
    }
  return TRUE;
}

static void
print_timings (const GvResult *ra, const GvResult *rb, const RecBackend *reca,
               const RecBackend *recb)
{
  printf ("\n%-30s %12s %12s %10s\n", "timings (s)", ra->backend, rb->backend, "speed-up");
  for (int i = 0; i < ra->n_stages; i++)
    {
      double tb = stage_seconds (rb, ra->stages[i].name);
      printf ("%-30s %12.3f %12.3f %9.1fx\n", ra->stages[i].name, ra->stages[i].seconds, tb,
              tb > 0 ? ra->stages[i].seconds / tb : 0.0);
    }
  printf ("%-30s %12.3f %12.3f\n", "  of which decoding", ra->decode_seconds, rb->decode_seconds);
  double ca = reca->t_load + reca->t_measure, cb = recb->t_load + recb->t_measure;
  printf ("%-30s %12.3f %12.3f %9.1fx\n", "backend load + measure", ca, cb, cb > 0 ? ca / cb : 0.0);
  printf ("%-30s %12.1f %12.1f\n", "  frames/s", ca > 0 ? ra->n_frames / ca : 0.0,
          cb > 0 ? rb->n_frames / cb : 0.0);
  printf ("%-30s %12.3f %12.3f\n", "backend warp", reca->t_warp, recb->t_warp);
  printf ("%-30s %12.3f %12.3f\n", "total", ra->total_seconds, rb->total_seconds);
}

int
gv_cli_validate (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (
    "VIDEO - run the CPU and CUDA backends on VIDEO and compare every output");
  g_autoptr (GError) error = NULL;
  g_autofree char *json_path = NULL;
  char **sets = NULL;
  int threads = -1, analysis_size = -1, every = 10, status = 3;
  gboolean quiet = FALSE, emulated = FALSE, gpu_decode = FALSE;
  GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json_path, "Write the comparison as JSON", "FILE" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "CPU backend threads (0 = all cores)", "N" },
    { "analysis-size", 's', 0, G_OPTION_ARG_INT, &analysis_size,
      "Long side of the optical-flow image (0 = full resolution)", "PX" },
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Any analysis parameter", "NAME=VALUE" },
    { "flow-every", 0, 0, G_OPTION_ARG_INT, &every,
      "Compare the whole flow field of every N-th frame (default 10, at most 64 fields)", "N" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Only the table", NULL },
    { "gpu-decode", 0, 0, G_OPTION_ARG_NONE, &gpu_decode,
      "Decode on the GPU (NVDEC) for the CUDA run, on the CPU for the CPU run: checks that frames "
      "decoded and kept on the device give the same results (fails if GPU decoding is not "
      "available)", NULL },
    { "emulated", 0, 0, G_OPTION_ARG_NONE, &emulated,
      "Compare with the CPU emulation of the CUDA launches instead of a device (slow; checks the "
      "device path's plan and launch order where there is no GPU)", NULL },
    { NULL }
  };
  GvParams p;
  GvBackend *cpu = NULL, *cuda = NULL;
  GvResult *ra = NULL, *rb = NULL;
  char why[512] = "";
  GvCompareReport c;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Contract: golden picks, gate decisions, masks, defect list and grade identical; every float\n"
    "within 1e-4 of max(1, |value|); warped covers within one grey level.\n"
    "Exit status: 0 within the contract, 1 outside it, 2 bad usage, 3 the analysis failed,\n"
    "4 cannot validate here (no CUDA in this build, no driver or no device).\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "gvscan validate: %s\n", error->message);
      g_strfreev (sets);
      return 2;
    }
  if (argc != 2 || every < 1)
    {
      fprintf (stderr, "gvscan validate: give exactly one VIDEO (see --help)\n");
      g_strfreev (sets);
      return 2;
    }
  gv_params_init_default (&p);
  if (threads >= 0)
    p.threads = threads;
  if (analysis_size >= 0)
    p.analysis_size = analysis_size;
  for (char **s = sets; s && *s; s++)
    {
      g_auto (GStrv) kv = g_strsplit (*s, "=", 2);
      if (!kv[0] || !kv[1] || gv_params_set (&p, kv[0], kv[1]) != GV_OK)
        {
          fprintf (stderr, "gvscan validate: bad --set '%s': %s\n", *s, gv_error_message ());
          g_strfreev (sets);
          return 2;
        }
    }
  g_strfreev (sets);
  if (gv_params_validate (&p) != GV_OK)
    {
      gv_cli_error (NULL);
      return 2;
    }

  if (!emulated && !gv_backend_cuda_available (why, sizeof why))
    {
      fprintf (stderr, "gvscan validate: cannot validate %s: it compares the CPU and CUDA "
               "backends, and the CUDA backend cannot run here: %s\n", argv[1], why);
      if (json_path)
        write_json (json_path, argv[1], why, NULL, NULL, NULL, NULL, NULL);
      return GV_VALIDATE_NO_DEVICE;
    }
  if (gv_backend_cpu_new (&p, &cpu) != GV_OK)
    {
      gv_cli_error (NULL);
      goto out;
    }
  if ((emulated ? gv_backend_emulated_new (&p, &cuda) : gv_backend_cuda_new (&p, &cuda)) != GV_OK)
    {
      fprintf (stderr, "gvscan validate: cannot validate %s: the CUDA backend cannot start: %s\n",
               argv[1], gv_error_message ());
      if (json_path)
        write_json (json_path, argv[1], gv_error_message (), NULL, NULL, NULL, NULL, NULL);
      status = GV_VALIDATE_NO_DEVICE;
      goto out;
    }
  cpu = rec_new (cpu, every);
  cuda = rec_new (cuda, every);
  if (run_backend (argv[1], &p, cpu, FALSE, quiet, &ra) != GV_OK
      || run_backend (argv[1], &p, cuda, gpu_decode && !emulated, quiet, &rb) != GV_OK)
    goto out;

  gv_compare_init (&c);
  gv_compare_results (&c, ra, rb);
  {
    RecBackend *a = (RecBackend *) cpu, *b = (RecBackend *) cuda;
    GvCompareRow *fr = gv_compare_row (&c, "flow fields (sampled)", 0);
    for (guint i = 0; i < a->flows->len && i < b->flows->len; i++)
      gv_compare_images (fr, g_ptr_array_index (a->flows, i), g_ptr_array_index (b->flows, i));
    if (a->flows->len != b->flows->len)
      gv_compare_mismatch (fr);
  }
  gv_compare_finish (&c);
  printf ("%s: %d frames, CPU (%s) vs %s (%s)\n\n", argv[1], ra->n_frames, ra->device,
          emulated ? "emulated CUDA" : "CUDA", rb->device);
  gv_compare_print (&c, stdout);
  if (!quiet)
    print_timings (ra, rb, (RecBackend *) cpu, (RecBackend *) cuda);
  printf ("\n%s: %s\n", c.pass ? "PASS" : "FAIL",
          c.pass ? "the CUDA backend is within the parity contract"
                 : "the CUDA backend is outside the parity contract");
  if (json_path && !write_json (json_path, argv[1], NULL, &c, ra, rb, (RecBackend *) cpu,
                                (RecBackend *) cuda))
    goto out;
  status = c.pass ? 0 : 1;
out:
  gv_result_free (ra);
  gv_result_free (rb);
  gv_backend_free (cpu);
  gv_backend_free (cuda);
  return status;
}
