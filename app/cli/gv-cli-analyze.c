/* gv-cli-analyze.c: gvscan analyze, flow and bench. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gv-cli.h"
#include "gv-error.h"
#include "gv-flow.h"

static volatile sig_atomic_t gv_interrupted;

static void
on_sigint (int sig)
{
  gv_interrupted = 1;
}

typedef struct {
  gboolean quiet;
  gboolean tty;
  double last;
  const char *last_stage;
} CliProgress;

static void
cli_progress (void *ud, const char *stage, double frac)
{
  CliProgress *p = ud;
  double now = gv_monotonic_seconds ();

  if (p->quiet)
    return;
  if (frac < 1.0 && now - p->last < (p->tty ? 0.1 : 2.0) && p->last_stage == stage)
    return;
  p->last = now;
  p->last_stage = stage;
  if (frac >= 0)
    fprintf (stderr, "%s%-16s %5.1f%%%s", p->tty ? "\r" : "", stage, 100.0 * (frac > 1 ? 1 : frac),
             p->tty ? "" : "\n");
  else
    fprintf (stderr, "%s%-16s ...%s", p->tty ? "\r" : "", stage, p->tty ? "" : "\n");
  if (p->tty && frac >= 1.0)
    fputc ('\n', stderr);
}

static int
cli_cancelled (void *ud)
{
  return gv_interrupted;
}

/* Options shared by analyze and bench. */
typedef struct {
  int threads;
  int analysis_size;
  char *backend;
  char **sets;
} CommonOpts;

static void
common_opts_clear (CommonOpts *o)
{
  g_clear_pointer (&o->sets, g_strfreev);
  g_clear_pointer (&o->backend, g_free);
}

/* Frees the options before an early return. */
#define RETURN_WITH(o, v)                                                                          \
  do                                                                                               \
    {                                                                                              \
      common_opts_clear (&(o));                                                                    \
      return (v);                                                                                  \
    }                                                                                              \
  while (0)

static gboolean
common_params (const CommonOpts *o, GvParams *p, GvBackendKind *kind)
{
  gv_params_init_default (p);
  if (o->threads >= 0)
    p->threads = o->threads;
  if (o->analysis_size >= 0)
    p->analysis_size = o->analysis_size;
  for (char **s = o->sets; s && *s; s++)
    {
      g_auto (GStrv) kv = g_strsplit (*s, "=", 2);
      if (!kv[0] || !kv[1])
        {
          fprintf (stderr, "gvscan: --set wants NAME=VALUE, not '%s'\n", *s);
          return FALSE;
        }
      if (gv_params_set (p, kv[0], kv[1]) != GV_OK)
        {
          gv_cli_error (NULL);
          return FALSE;
        }
    }
  if (gv_params_validate (p) != GV_OK)
    {
      gv_cli_error (NULL);
      return FALSE;
    }
  *kind = gv_backend_kind_default ();
  if (o->backend && gv_backend_kind_parse (o->backend, kind) != GV_OK)
    {
      gv_cli_error (NULL);
      return FALSE;
    }
  return TRUE;
}

#define COMMON_ENTRIES(o)                                                                          \
  { "threads", 't', 0, G_OPTION_ARG_INT, &(o).threads, "Worker threads (0 = all cores)", "N" },   \
  { "backend", 'b', 0, G_OPTION_ARG_STRING, &(o).backend,                                         \
    "auto, cpu or cuda (default: $GV_BACKEND, else auto)", "NAME" },                               \
  { "analysis-size", 's', 0, G_OPTION_ARG_INT, &(o).analysis_size,                                \
    "Long side of the optical-flow image (0 = full resolution)", "PX" },                          \
  { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &(o).sets,                                            \
    "Any analysis parameter, e.g. --set motion-gate=0.8 (see --list-params)", "NAME=VALUE" }

static void
print_params (void)
{
  int n;
  const GvParamSpec *t = gv_params_table (&n);
  GvParams d;

  gv_params_init_default (&d);
  printf ("%-18s %10s %-14s %s\n", "parameter", "default", "range", "meaning");
  for (int i = 0; i < n; i++)
    {
      char range[32];
      snprintf (range, sizeof range, "%g..%g", t[i].min, t[i].max);
      printf ("%-18s %10g %-14s %s%s%s%s\n", t[i].name, gv_params_get (&d, &t[i]), range,
              t[i].help, t[i].unit[0] ? " [" : "", t[i].unit, t[i].unit[0] ? "]" : "");
    }
}

static int
open_source (const char *path, int threads, GvFrameSource **src)
{
  GvSourceOptions so = { threads, 0 };
  int rc = gv_frame_source_open (path, &so, src);

  if (rc != GV_OK)
    gv_cli_error (NULL);
  return rc;
}

/* One analysis; the caller owns *result and *src. */
static int
run_once (const char *video, const GvParams *p, GvBackend *be, CliProgress *cp,
          GvFrameSource **src_out, GvResult **result)
{
  GvFrameSource *src = NULL;
  GvSourceFeed sf;
  GvProgress prog = { cp, cli_progress, cli_cancelled };
  int rc;

  *src_out = NULL;
  if ((rc = open_source (video, 0, &src)) != GV_OK)
    return rc;
  gv_source_feed_init (&sf, src);
  rc = gv_pipeline_run (be, p, &sf.feed, &prog, result);
  if (rc != GV_OK)
    {
      if (rc == GV_ECANCELLED)
        fprintf (stderr, "\ngvscan: cancelled; nothing was written\n");
      else
        fprintf (stderr, "\ngvscan: %s: analysis failed: %s\n", video, gv_error_message ());
      gv_frame_source_free (src);
      return rc;
    }
  *src_out = src;
  return GV_OK;
}

static void
print_timings (const GvResult *r)
{
  static const struct { const char *key, *label; } labels[] = {
    { "frame_analysis", "Frame Analysis" },
    { "golden_frames", "Golden Frame Extraction" },
    { "cover_geometry", "Cover Geometry" },
  };

  printf ("\nStage timings (%s, %s):\n", r->backend, r->device);
  for (int i = 0; i < r->n_stages; i++)
    {
      const char *label = r->stages[i].name;
      for (size_t k = 0; k < G_N_ELEMENTS (labels); k++)
        if (!strcmp (labels[k].key, label))
          label = labels[k].label;
      printf ("  %-26s %8.3f s\n", label, r->stages[i].seconds);
      if (!strcmp (r->stages[i].name, "frame_analysis"))
        printf ("    %-24s %8.3f s\n", "of which decoding", r->decode_seconds);
    }
  printf ("  %-26s %8.3f s  (%.1f frames/s)\n", "Total", r->total_seconds,
          r->total_seconds > 0 ? r->n_frames / r->total_seconds : 0.0);
}

int
gv_cli_analyze (int argc, char **argv)
{
  CommonOpts co = { -1, -1, NULL, NULL };
  g_autofree char *out_dir = NULL, *json_path = NULL;
  gboolean quiet = FALSE, list_params = FALSE, no_images = FALSE;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir, "Output directory (default: gvscan-out)", "DIR" },
    { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json_path, "Result JSON (default: DIR/result.json)", "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress or summary", NULL },
    { "no-images", 0, 0, G_OPTION_ARG_NONE, &no_images, "Do not write PNG images", NULL },
    { "list-params", 0, 0, G_OPTION_ARG_NONE, &list_params, "List every analysis parameter", NULL },
    COMMON_ENTRIES (co),
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("VIDEO - analyse a scan video");
  g_autoptr (GError) error = NULL;
  GvParams p;
  GvBackendKind kind;
  GvBackend *be = NULL;
  GvFrameSource *src = NULL;
  GvResult *r = NULL;
  CliProgress cp = { 0 };
  char why[512] = "";
  int status = 1;
  char **golden_names = NULL, **warped_names = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "gvscan analyze: %s\n", error->message);
      RETURN_WITH (co, 2);
    }
  if (list_params)
    {
      print_params ();
      RETURN_WITH (co, 0);
    }
  if (argc != 2)
    {
      fprintf (stderr, "gvscan analyze: give exactly one VIDEO (see --help)\n");
      RETURN_WITH (co, 2);
    }
  if (!common_params (&co, &p, &kind))
    RETURN_WITH (co, 2);
  if (!out_dir)
    out_dir = g_strdup ("gvscan-out");
  if (!json_path)
    json_path = g_build_filename (out_dir, "result.json", NULL);
  cp.quiet = quiet;
  cp.tty = isatty (2);
  signal (SIGINT, on_sigint);

  if (gv_backend_new (kind, &p, &be, why, sizeof why) != GV_OK)
    {
      gv_cli_error (NULL);
      goto out;
    }
  if (!quiet)
    fprintf (stderr, "gvscan: %s\n", why);
  if (run_once (argv[1], &p, be, &cp, &src, &r) != GV_OK)
    {
      status = gv_interrupted ? 130 : 1;
      goto out;
    }
  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      fprintf (stderr, "gvscan: cannot create the output directory %s: %s\n", out_dir,
               g_strerror (errno));
      goto out;
    }
  golden_names = g_new0 (char *, r->n_golden + 1);
  warped_names = g_new0 (char *, r->n_golden + 1);
  for (int i = 0; i < r->n_golden && !no_images; i++)
    {
      GvGolden *g = &r->golden[i];
      g_autofree char *gp = NULL;
      golden_names[i] = g_strdup_printf ("golden_frame_%02d_f%05d.png", i, g->frame_index);
      gp = g_build_filename (out_dir, golden_names[i], NULL);
      if (gv_png_write (g->rgb, gp) != GV_OK)
        {
          gv_cli_error (NULL);
          goto out;
        }
      if (g->warped)
        {
          g_autofree char *wp = NULL;
          warped_names[i] = g_strdup_printf ("cover_%02d_f%05d.png", i, g->frame_index);
          wp = g_build_filename (out_dir, warped_names[i], NULL);
          if (gv_png_write (g->warped, wp) != GV_OK)
            {
              gv_cli_error (NULL);
              goto out;
            }
        }
    }
  {
    const GvDecodeStats *st = gv_frame_source_stats (src);
    g_autoptr (JsonNode) root = gv_result_to_json (r, gv_frame_source_info (src), st, why,
                                                   golden_names, warped_names);
    if (!gv_json_write_file (root, json_path, &error))
      {
        fprintf (stderr, "gvscan: cannot write %s: %s\n", json_path, error->message);
        goto out;
      }
    status = 0;
    if (st->partial)
      {
        fprintf (stderr, "gvscan: warning: %s: partial result, only %" G_GINT64_FORMAT
                 " frames could be read (%s)\n", argv[1], st->frames_decoded, st->partial_reason);
        status = 3;
      }
    else if (st->decode_errors > 0)
      fprintf (stderr, "gvscan: warning: %s: %" G_GINT64_FORMAT " decode errors were concealed\n",
               argv[1], st->decode_errors);
  }
  if (!quiet)
    {
      g_autoptr (GPtrArray) flags = gv_result_flags (r, gv_frame_source_stats (src));
      printf ("%s: %d frames (%dx%d), analysis at %dx%d, %d candidates, %d golden frames\n",
              argv[1], r->n_frames, gv_frame_source_info (src)->width,
              gv_frame_source_info (src)->height, r->analysis_width, r->analysis_height,
              r->n_candidates, r->n_golden);
      for (int i = 0; i < r->n_golden; i++)
        {
          GvGolden *g = &r->golden[i];
          printf ("  golden %d: frame %5d  t=%7.3f s  sharpness %8.1f  motion %5.2f px  cover %s\n",
                  i, g->frame_index, g->pts, g->sharpness, g->motion,
                  g->cover.found ? "found" : g->cover.reason);
        }
      for (guint i = 0; i < flags->len; i++)
        printf ("  flag: %s\n", (char *) g_ptr_array_index (flags, i));
      print_timings (r);
      printf ("\nResult: %s\n", json_path);
    }
out:
  g_strfreev (golden_names);
  g_strfreev (warped_names);
  gv_result_free (r);
  gv_frame_source_free (src);
  gv_backend_free (be);
  common_opts_clear (&co);
  return status;
}

int
gv_cli_flow (int argc, char **argv)
{
  int frame = 1, threads = 0, analysis_size = 0;
  double max_flow = 8.0;
  g_autofree char *flo = NULL, *png = NULL;
  GOptionEntry entries[] = {
    { "frame", 'n', 0, G_OPTION_ARG_INT, &frame, "Flow from frame N-1 to N (N >= 1)", "N" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &flo, "Middlebury .flo output", "F.flo" },
    { "png", 0, 0, G_OPTION_ARG_FILENAME, &png, "Colour-wheel picture", "F.png" },
    { "max-flow", 0, 0, G_OPTION_ARG_DOUBLE, &max_flow, "Flow (px) at full colour saturation (default 8)", "PX" },
    { "analysis-size", 's', 0, G_OPTION_ARG_INT, &analysis_size,
      "Compute at this long side and scale up (default 0 = full resolution)", "PX" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Worker threads", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("VIDEO - optical flow of one frame pair");
  g_autoptr (GError) error = NULL;
  GvFrameSource *src = NULL;
  GvImage *prev = NULL, *flow = NULL;
  const GvFrame *fr = NULL;
  GvFlowParams fp;
  int status = 1, rc;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "gvscan flow: %s\n", error->message);
      return 2;
    }
  if (argc != 2 || frame < 1 || (!flo && !png) || max_flow <= 0 || analysis_size < 0)
    {
      fprintf (stderr, "gvscan flow: give one VIDEO, --frame N >= 1 and --out and/or --png\n");
      return 2;
    }
  gv_flow_params_init_default (&fp);
  if (open_source (argv[1], threads, &src) != GV_OK)
    return 1;
  while ((rc = gv_frame_source_next (src, &fr)) == 1 && fr->index < frame)
    {
      gv_image_free (prev);
      if (!(prev = gv_image_copy (&fr->luma)))
        goto fail;
    }
  if (rc < 0)
    goto fail;
  if (rc == 0 || !prev)
    {
      fprintf (stderr, "gvscan flow: %s has no frame %d (it holds %" G_GINT64_FORMAT " frames)\n",
               argv[1], frame, gv_frame_source_stats (src)->frames_decoded);
      goto out;
    }
  {
    int w = fr->luma.width, h = fr->luma.height, aw, ah;
    gv_analysis_dims (w, h, analysis_size, &aw, &ah);
    if (!(flow = gv_image_new (w, h, 2, GV_F32)))
      goto fail;
    if (aw == w && ah == h)
      rc = gv_flow_farneback (prev, &fr->luma, &fp, threads, flow);
    else
      {
        GvImage *a = gv_image_new (aw, ah, 1, GV_U8), *b = gv_image_new (aw, ah, 1, GV_U8);
        GvImage *sf = gv_image_new (aw, ah, 2, GV_F32);
        rc = (!a || !b || !sf) ? GV_ENOMEM : GV_OK;
        if (!rc)
          rc = gv_resize_area_u8 (prev, a, threads);
        if (!rc)
          rc = gv_resize_area_u8 (&fr->luma, b, threads);
        if (!rc)
          rc = gv_flow_farneback (a, b, &fp, threads, sf);
        if (!rc)
          {
            /* Nearest-neighbour upsampling, vectors scaled to full-resolution px. */
            double sx = (double) w / aw, sy = (double) h / ah;
            for (int y = 0; y < h; y++)
              {
                int ys = (int) ((y + 0.5) / sy);
                const float *s = gv_image_row_f32 (sf, ys < ah ? ys : ah - 1);
                float *d = gv_image_row_f32 (flow, y);
                for (int x = 0; x < w; x++)
                  {
                    int xs = (int) ((x + 0.5) / sx);
                    xs = xs < aw ? xs : aw - 1;
                    d[2 * x] = (float) (s[2 * xs] * sx);
                    d[2 * x + 1] = (float) (s[2 * xs + 1] * sy);
                  }
              }
          }
        gv_image_free (a);
        gv_image_free (b);
        gv_image_free (sf);
      }
    if (rc)
      goto fail;
  }
  if (flo && !gv_flow_write_flo_file (flow, flo, &error))
    {
      fprintf (stderr, "gvscan flow: cannot write %s: %s\n", flo, error->message);
      goto out;
    }
  if (png)
    {
      GvImage *col = gv_flow_to_color (flow, max_flow);
      rc = col ? gv_png_write (col, png) : GV_ENOMEM;
      gv_image_free (col);
      if (rc)
        goto fail;
    }
  {
    double mean, mx;
    gv_flow_magnitude_stats (flow, NULL, 1.0, threads, &mean, &mx);
    printf ("flow %d -> %d: mean |flow| %.3f px, max %.3f px\n", frame - 1, frame, mean, mx);
  }
  status = 0;
  goto out;
fail:
  gv_cli_error ("gvscan flow");
out:
  gv_image_free (prev);
  gv_image_free (flow);
  gv_frame_source_free (src);
  return status;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
stat_line (const char *label, GArray *v, int n_frames)
{
  double mn, med;

  g_array_sort (v, cmp_double);
  mn = g_array_index (v, double, 0);
  med = v->len % 2 ? g_array_index (v, double, v->len / 2)
                   : 0.5 * (g_array_index (v, double, v->len / 2 - 1) + g_array_index (v, double, v->len / 2));
  printf ("  %-22s min %8.3f s  median %8.3f s", label, mn, med);
  if (n_frames > 0 && mn > 0)
    printf ("  %8.1f frames/s (best)", n_frames / mn);
  printf ("\n");
}

int
gv_cli_bench (int argc, char **argv)
{
  CommonOpts co = { -1, -1, NULL, NULL };
  int repeat = 3;
  gboolean decode_only = FALSE;
  GOptionEntry entries[] = {
    { "repeat", 'r', 0, G_OPTION_ARG_INT, &repeat, "Runs (default 3)", "N" },
    { "decode-only", 0, 0, G_OPTION_ARG_NONE, &decode_only, "Time decoding alone (the floor)", NULL },
    COMMON_ENTRIES (co),
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("VIDEO - time every stage");
  g_autoptr (GError) error = NULL;
  GvParams p;
  GvBackendKind kind;
  GvBackend *be = NULL;
  CliProgress cp = { TRUE, FALSE, 0, NULL };
  char why[512];
  int status = 1, n_frames = 0;
  GArray *t[GV_STAGE_MAX + 2];
  const char *names[GV_STAGE_MAX + 2] = { 0 };
  int n_names = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "gvscan bench: %s\n", error->message);
      RETURN_WITH (co, 2);
    }
  if (argc != 2 || repeat < 1)
    {
      fprintf (stderr, "gvscan bench: give one VIDEO and --repeat N >= 1\n");
      RETURN_WITH (co, 2);
    }
  if (!common_params (&co, &p, &kind))
    RETURN_WITH (co, 2);
  for (int i = 0; i < GV_STAGE_MAX + 2; i++)
    t[i] = g_array_new (FALSE, FALSE, sizeof (double));
  signal (SIGINT, on_sigint);
  if (decode_only)
    {
      for (int k = 0; k < repeat; k++)
        {
          GvFrameSource *src = NULL;
          const GvFrame *fr;
          double t0 = gv_monotonic_seconds ();
          int rc;
          if (open_source (argv[1], p.threads, &src) != GV_OK)
            goto out;
          n_frames = 0;
          while ((rc = gv_frame_source_next (src, &fr)) == 1)
            n_frames++;
          gv_frame_source_free (src);
          if (rc < 0)
            {
              gv_cli_error (argv[1]);
              goto out;
            }
          double dt = gv_monotonic_seconds () - t0;
          g_array_append_val (t[0], dt);
        }
      printf ("%s: decoding alone, %d frames, %d runs\n", argv[1], n_frames, repeat);
      stat_line ("decode", t[0], n_frames);
      status = 0;
      goto out;
    }
  if (gv_backend_new (kind, &p, &be, why, sizeof why) != GV_OK)
    {
      gv_cli_error (NULL);
      goto out;
    }
  fprintf (stderr, "gvscan: %s\n", why);
  for (int k = 0; k < repeat; k++)
    {
      GvFrameSource *src = NULL;
      GvResult *r = NULL;
      if (run_once (argv[1], &p, be, &cp, &src, &r) != GV_OK)
        goto out;
      n_frames = r->n_frames;
      n_names = 0;
      for (int i = 0; i < r->n_stages; i++)
        {
          names[n_names] = r->stages[i].name;
          g_array_append_val (t[n_names++], r->stages[i].seconds);
        }
      names[n_names] = "of which decoding";
      g_array_append_val (t[n_names++], r->decode_seconds);
      names[n_names] = "total";
      g_array_append_val (t[n_names++], r->total_seconds);
      gv_result_free (r);
      gv_frame_source_free (src);
    }
  printf ("%s: %d frames, %d runs, backend %s (%s), analysis size %d\n", argv[1], n_frames, repeat,
          be->ops->name, be->device, p.analysis_size);
  for (int i = 0; i < n_names; i++)
    stat_line (names[i], t[i], strcmp (names[i], "total") ? 0 : n_frames);
  status = 0;
out:
  for (int i = 0; i < GV_STAGE_MAX + 2; i++)
    g_array_unref (t[i]);
  gv_backend_free (be);
  common_opts_clear (&co);
  return status;
}
