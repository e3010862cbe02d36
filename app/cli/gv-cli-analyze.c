/* gv-cli-analyze.c: gvscan analyze, flow and bench. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gv-cli.h"
#include "gv-error.h"
#include "gv-flow.h"
#include "gv-threads.h"
#if GV_HAVE_STORE
#include <glib/gstdio.h>

#include "gv-store.h"
#endif
#if GV_HAVE_NET
#include "gv-cli-worker.h"
#endif

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
  void *job; /* GvCliJob of worker mode, or NULL */
} CliProgress;

static void
cli_progress (void *ud, const char *stage, double frac)
{
  CliProgress *p = ud;
  double now = gv_monotonic_seconds ();

#if GV_HAVE_NET
  gv_cli_job_stage (p->job, stage, frac);
#endif
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
  char *decode;
  char **sets;
} CommonOpts;

static void
common_opts_clear (CommonOpts *o)
{
  g_clear_pointer (&o->sets, g_strfreev);
  g_clear_pointer (&o->backend, g_free);
  g_clear_pointer (&o->decode, g_free);
}

/* --decode (or GV_DECODE): where the video is decoded. */
typedef enum { DECODE_AUTO, DECODE_CPU, DECODE_GPU } DecodeWhere;
static DecodeWhere cli_decode = DECODE_AUTO;

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
  const char *d = o->decode ? o->decode : g_getenv ("GV_DECODE");
  if (!d || !*d || !strcmp (d, "auto"))
    cli_decode = DECODE_AUTO;
  else if (!strcmp (d, "cpu"))
    cli_decode = DECODE_CPU;
  else if (!strcmp (d, "gpu"))
    cli_decode = DECODE_GPU;
  else
    {
      fprintf (stderr, "gvscan: --decode (or GV_DECODE) is auto, cpu or gpu, not '%s'\n", d);
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
    "Any analysis parameter, e.g. --set motion-gate=0.8 (see --list-params)", "NAME=VALUE" },      \
  { "decode", 0, 0, G_OPTION_ARG_STRING, &(o).decode,                                             \
    "Where to decode the video: gpu (NVDEC through FFmpeg's CUDA hwaccel; frames stay on the "    \
    "device for the cuda backend), cpu, or auto = the GPU when the backend is cuda and it can "   \
    "(default: $GV_DECODE, else auto)", "WHERE" }

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

/* be: the backend the frames go to (NULL: none), which decides --decode auto. */
static int
open_source (const char *path, int threads, GvBackend *be, GvFrameSource **src)
{
  GvSourceOptions so = { threads, 0, GV_HW_DECODE_OFF, NULL };
  int gpu_backend = be && be->ops->load_device;

  if (gpu_backend)
    so.cuda_context = gv_backend_cuda_context (be);
  if (cli_decode == DECODE_GPU)
    so.hw_decode = GV_HW_DECODE_REQUIRE;
  else if (cli_decode == DECODE_AUTO && gpu_backend)
    so.hw_decode = GV_HW_DECODE_AUTO;
  int rc = gv_frame_source_open (path, &so, src);
  if (rc != GV_OK)
    gv_cli_error (NULL);
  else if (so.hw_decode != GV_HW_DECODE_OFF)
    fprintf (stderr, "gvscan: decoding: %s\n", gv_frame_source_info (*src)->hw_decode);
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
  if ((rc = open_source (video, 0, be, &src)) != GV_OK)
    return rc;
  gv_source_feed_init (&sf, src);
  rc = gv_pipeline_run (be, p, &sf.feed, &prog, result);
  if (rc != GV_OK)
    {
      if (rc == GV_ECANCELLED)
        fprintf (stderr, "\ngvscan: cancelled; nothing was written\n");
      else
        fprintf (stderr, "\ngvscan: %s: analysis failed: %s\n",
                 strcmp (video, "-") ? video : "standard input", gv_error_message ());
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
    { "defect_analysis", "Defect Analysis" },
    { "grading", "Regions and Grade" },
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

#if GV_HAVE_STORE
/* The run store side of analyze: every run is visible as running from its start and completed
 * (or marked failed or cancelled) at its end. */
typedef struct {
  GvStore *store;
  gint64 id;
} CliRun;

static gboolean
cli_run_begin (CliRun *cr, const char *db, const char *scan_id, const char *video,
               const char *backend, const GvParams *p)
{
  g_autofree char *path = db ? g_strdup (db) : gv_store_default_path ();
  g_autofree char *sha = NULL, *abs = NULL, *pj = NULL, *sid = NULL;
  g_autoptr (GError) error = NULL;
  GStatBuf st;
  GvRunStart start = { 0 };
  gboolean is_stdin;

  if (!(cr->store = gv_store_open (path, GV_STORE_OPEN_READ_WRITE, &error)))
    {
      fprintf (stderr, "gvscan analyze: %s\n(use --db FILE to store elsewhere, or --no-store)\n",
               error->message);
      return FALSE;
    }
  is_stdin = !strcmp (video, "-");
  abs = is_stdin ? g_strdup ("-") : g_canonicalize_filename (video, NULL);
  /* A video that cannot be read is stored as a failed run below; no checksum then (nor for
   * standard input, which is read once, by the analysis). */
  sha = is_stdin ? NULL : gv_sha256_file (video, NULL);
  if (!scan_id && is_stdin)
    sid = g_strdup ("stdin");
  else if (!scan_id)
    {
      /* The video's name without its extension. */
      g_autofree char *base = g_path_get_basename (video);
      char *dot = strrchr (base, '.');
      if (dot && dot != base)
        *dot = 0;
      sid = g_strdup (base);
    }
  pj = gv_params_to_json_string (p);
  start.scan_id = scan_id ? scan_id : sid;
  start.video_path = abs;
  start.video_size = !is_stdin && g_stat (video, &st) == 0 ? (gint64) st.st_size : -1;
  start.video_sha256 = sha;
  start.backend = backend;
  start.parameters = pj;
  if (!(cr->id = gv_store_run_begin (cr->store, &start, &error)))
    {
      fprintf (stderr, "gvscan analyze: %s\n(use --db FILE to store elsewhere, or --no-store)\n",
               error->message);
      return FALSE;
    }
  return TRUE;
}

/* Marks the run failed or cancelled unless it was completed; closes the store. */
static void
cli_run_end (CliRun *cr, int status, const char *message)
{
  g_autoptr (GError) error = NULL;

  if (cr->store && cr->id > 0
      && !gv_store_run_fail (cr->store, cr->id, status == 130 ? GV_RUN_CANCELLED : GV_RUN_FAILED,
                             message && *message ? message : "failed", &error))
    fprintf (stderr, "gvscan analyze: %s\n", error->message);
  gv_store_close (cr->store);
  cr->store = NULL;
}

static gboolean
cli_run_finish (CliRun *cr, JsonNode *root, const char *out_dir, gboolean quiet)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) images = gv_run_images_from_dir (root, out_dir, &error);

  if (!images || !gv_store_run_finish (cr->store, cr->id, root, images, &error))
    {
      fprintf (stderr, "gvscan analyze: the result was written but not stored: %s\n", error->message);
      return FALSE;
    }
  if (!quiet)
    fprintf (stderr, "gvscan: stored as run %" G_GINT64_FORMAT " in %s\n", cr->id,
             gv_store_path (cr->store));
  cr->id = 0;
  return TRUE;
}
#endif

/* A crop of img (x, y, w, h clipped to it). */
static GvImage *
crop_image (const GvImage *img, int x, int y, int w, int h)
{
  int x0 = MAX (x, 0), y0 = MAX (y, 0), x1 = MIN (x + w, img->width), y1 = MIN (y + h, img->height);
  GvImage *c;

  if (x1 <= x0 || y1 <= y0 || !(c = gv_image_new (x1 - x0, y1 - y0, img->channels, GV_U8)))
    return NULL;
  for (int yy = y0; yy < y1; yy++)
    memcpy (gv_image_row_u8 (c, yy - y0), gv_image_row_u8 (img, yy) + (size_t) x0 * img->channels,
            (size_t) (x1 - x0) * img->channels);
  return c;
}

static void
draw_rect_outline (GvImage *img, int x, int y, int w, int h, const uint8_t col[3])
{
  for (int k = 0; k < 2; k++) /* 2 px wide */
    for (int i = 0; i < w + 2 * k; i++)
      for (int side = 0; side < 2; side++)
        {
          int xx = x - k + i, yy = side ? y + h - 1 + k : y - k;
          if (xx >= 0 && yy >= 0 && xx < img->width && yy < img->height)
            memcpy (gv_image_row_u8 (img, yy) + 3 * xx, col, 3);
        }
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < h + 2 * k; i++)
      for (int side = 0; side < 2; side++)
        {
          int yy = y - k + i, xx = side ? x + w - 1 + k : x - k;
          if (xx >= 0 && yy >= 0 && xx < img->width && yy < img->height)
            memcpy (gv_image_row_u8 (img, yy) + 3 * xx, col, 3);
        }
}

/* Stage 4/5 images (names as in gv_result_to_json): the mask, the heatmap on the fixed colour
 * scale (gv_heat_colour), the mask over the print estimate with each defect's box, a crop per
 * region and per defect from that overlay. */
static int
write_defect_images (const GvDefectReport *d, const char *out_dir)
{
  static const uint8_t red[3] = { 255, 32, 32 }, yellow[3] = { 255, 220, 0 }, cyan[3] = { 0, 200, 255 };
  g_autofree char *mp = g_build_filename (out_dir, "defect_mask.png", NULL);
  g_autofree char *hp = g_build_filename (out_dir, "defect_heatmap.png", NULL);
  g_autofree char *op = g_build_filename (out_dir, "defect_overlay.png", NULL);
  GvImage *heat = NULL, *ov = NULL;
  int rc = GV_OK;

  if (!d->mask)
    return GV_OK;
  heat = gv_image_new (d->width, d->height, 3, GV_U8);
  ov = gv_image_copy (d->print);
  if (!heat || !ov)
    {
      rc = GV_ENOMEM;
      goto out;
    }
  for (int y = 0; y < d->height; y++)
    {
      const float *s = gv_image_row_f32 (d->score, y);
      const uint8_t *m = gv_image_row_u8 (d->mask, y);
      uint8_t *h = gv_image_row_u8 (heat, y), *o = gv_image_row_u8 (ov, y);
      for (int x = 0; x < d->width; x++)
        {
          gv_heat_colour (s[x], h + 3 * x);
          if (m[x])
            for (int c = 0; c < 3; c++)
              o[3 * x + c] = (uint8_t) ((o[3 * x + c] * 2 + red[c] * 3) / 5);
        }
    }
  for (int i = 0; i < d->n_defects; i++)
    draw_rect_outline (ov, d->defects[i].bbox[0] - 2, d->defects[i].bbox[1] - 2,
                       d->defects[i].bbox[2] + 4, d->defects[i].bbox[3] + 4, yellow);
  if ((rc = gv_png_write (d->mask, mp)) || (rc = gv_png_write (heat, hp)))
    goto out;
  for (int k = 0; k < GV_REGION_N && !rc; k++)
    {
      const GvRegionDef *rd = gv_region_def (k);
      int x0 = (int) ceil (rd->x0 * d->width), y0 = (int) ceil (rd->y0 * d->height);
      int x1 = (int) ceil (rd->x1 * d->width), y1 = (int) ceil (rd->y1 * d->height);
      g_autofree char *name = g_strdup_printf ("region_crop_%s.png", rd->name);
      g_autofree char *path = g_build_filename (out_dir, name, NULL);
      GvImage *c = crop_image (ov, x0, y0, x1 - x0, y1 - y0);
      rc = c ? gv_png_write (c, path) : GV_ENOMEM;
      gv_image_free (c);
    }
  for (int i = 0; i < d->n_defects && !rc; i++)
    {
      const GvDefect *e = &d->defects[i];
      int pad = 24;
      g_autofree char *name = g_strdup_printf ("defect_crop_%02d_%s.png", i, gv_defect_kind_name (e->kind));
      g_autofree char *path = g_build_filename (out_dir, name, NULL);
      GvImage *c = crop_image (ov, e->bbox[0] - pad, e->bbox[1] - pad, e->bbox[2] + 2 * pad,
                               e->bbox[3] + 2 * pad);
      rc = c ? gv_png_write (c, path) : GV_ENOMEM;
      gv_image_free (c);
    }
  /* the region outlines go on the full overlay only, after the crops */
  for (int k = 0; k < GV_REGION_N && !rc; k++)
    {
      const GvRegionDef *rd = gv_region_def (k);
      int x0 = (int) ceil (rd->x0 * d->width), y0 = (int) ceil (rd->y0 * d->height);
      draw_rect_outline (ov, x0, y0, (int) ceil (rd->x1 * d->width) - x0,
                         (int) ceil (rd->y1 * d->height) - y0, cyan);
    }
  if (!rc)
    rc = gv_png_write (ov, op);
out:
  gv_image_free (heat);
  gv_image_free (ov);
  return rc;
}

int
gv_cli_analyze (int argc, char **argv)
{
  CommonOpts co = { -1, -1, NULL, NULL, NULL };
  g_autofree char *out_dir = NULL, *json_path = NULL;
  gboolean quiet = FALSE, list_params = FALSE, no_images = FALSE;
#if GV_HAVE_STORE
  g_autofree char *db = NULL, *scan_id = NULL, *fail_msg = NULL;
  gboolean no_store = FALSE;
  CliRun crun = { NULL, 0 };
#endif
#if GV_HAVE_NET
  g_autofree char *video_url = NULL, *downloaded = NULL, *progress_job = NULL, *webhook = NULL;
  g_autofree char *worker_json = NULL;
  gboolean upload = FALSE, upload_failed = FALSE;
  gint64 stored_id = 0; /* the run once completed (crun.id is cleared then) */
  GvCliJob *job = NULL;
  char *url_argv[3] = { NULL, NULL, NULL };
#endif
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir, "Output directory (default: gvscan-out)", "DIR" },
    { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json_path, "Result JSON (default: DIR/result.json)", "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress or summary", NULL },
    { "no-images", 0, 0, G_OPTION_ARG_NONE, &no_images, "Do not write PNG images", NULL },
    { "list-params", 0, 0, G_OPTION_ARG_NONE, &list_params, "List every analysis parameter", NULL },
#if GV_HAVE_STORE
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db,
      "Run database (default: the user's data directory/gradevault-inspector/runs.db)", "FILE" },
    { "no-store", 0, 0, G_OPTION_ARG_NONE, &no_store, "Do not keep this run in the run database", NULL },
    { "scan-id", 0, 0, G_OPTION_ARG_STRING, &scan_id, "Scan id stored with the run (default: the video's name)", "ID" },
#endif
#if GV_HAVE_NET
    { "video-url", 0, 0, G_OPTION_ARG_STRING, &video_url,
      "Download the video from an http(s) URL into DIR and analyse it (instead of VIDEO)", "URL" },
    { "upload", 0, 0, G_OPTION_ARG_NONE, &upload,
      "Upload the images and worker JSON to Supabase Storage (SUPABASE_URL, SUPABASE_KEY)", NULL },
    { "progress-job", 0, 0, G_OPTION_ARG_STRING, &progress_job,
      "Record progress in Supabase's analysis_jobs row ID", "ID" },
    { "webhook", 0, 0, G_OPTION_ARG_STRING, &webhook, "POST the worker JSON to URL when done", "URL" },
    { "worker-json", 0, 0, G_OPTION_ARG_FILENAME, &worker_json,
      "Write the worker JSON (or its error object) to FILE when done", "FILE" },
#endif
    COMMON_ENTRIES (co),
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("VIDEO|- - analyse a scan video");
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
  const char *shown = NULL; /* the video as messages name it */

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "VIDEO is a video file; - reads a YUV4MPEG2 stream from standard input in one pass, e.g.\n"
    "  ffmpeg -i scan.mp4 -f yuv4mpegpipe - | gvscan analyze -\n"
    "Exit status: 0 written, 1 error, 2 usage, 3 written from a partly readable video,\n"
    "5 analysed and stored but the upload failed (gvscan publish RUN), 130 interrupted.");
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
#if GV_HAVE_NET
  if ((upload || webhook || worker_json) && no_store)
    {
      fprintf (stderr, "gvscan analyze: --upload, --webhook and --worker-json send the stored run: "
               "drop --no-store\n");
      RETURN_WITH (co, 2);
    }
  if ((upload || progress_job || webhook || worker_json)
      && !(job = gv_cli_job_new (progress_job, webhook, worker_json, upload)))
    RETURN_WITH (co, 2);
  cp.job = job;
  gv_cli_job_step (job, 5, "init", "Starting analysis");
  if (video_url)
    {
      if (argc != 1)
        {
          fprintf (stderr, "gvscan analyze: give either VIDEO or --video-url, not both\n");
          gv_cli_job_free (job);
          RETURN_WITH (co, 2);
        }
      /* Ctrl-C (or gvscan serve shutting down) cancels the download too. */
      signal (SIGINT, on_sigint);
      if (!(downloaded = gv_cli_download_video (video_url, out_dir ? out_dir : "gvscan-out", quiet,
                                                job, &gv_interrupted)))
        {
          gv_cli_job_free (job);
          RETURN_WITH (co, gv_interrupted ? 130 : 1);
        }
      /* From here on the downloaded file is the VIDEO argument. */
      url_argv[0] = argv[0];
      url_argv[1] = downloaded;
      argv = url_argv;
      argc = 2;
    }
#endif
  if (argc != 2)
    {
      fprintf (stderr, "gvscan analyze: give exactly one VIDEO, or - for a Y4M stream on standard "
               "input (see --help)\n");
#if GV_HAVE_NET
      gv_cli_job_free (job);
#endif
      RETURN_WITH (co, 2);
    }
  if (!common_params (&co, &p, &kind))
    {
#if GV_HAVE_NET
      gv_cli_job_free (job);
#endif
      RETURN_WITH (co, 2);
    }
  if (!out_dir)
    out_dir = g_strdup ("gvscan-out");
  if (!json_path)
    json_path = g_build_filename (out_dir, "result.json", NULL);
  cp.quiet = quiet;
  cp.tty = isatty (2);
  shown = strcmp (argv[1], "-") ? argv[1] : "standard input";
  signal (SIGINT, on_sigint);
#if GV_HAVE_STORE
  if (!no_store && !cli_run_begin (&crun, db, scan_id, argv[1], co.backend ? co.backend : "auto", &p))
    goto out;
#endif

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
#if GV_HAVE_STORE
      fail_msg = g_strdup_printf ("cannot create the output directory %s: %s", out_dir, g_strerror (errno));
#endif
      goto out;
    }
  golden_names = g_new0 (char *, r->n_golden + 1);
  warped_names = g_new0 (char *, r->n_golden + 1);
  if (!no_images)
    {
      g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
      g_autofree GvPngJob *jobs = g_new0 (GvPngJob, 2 * (gsize) r->n_golden + 1);
      int nj = 0;
      for (int i = 0; i < r->n_golden; i++)
        {
          GvGolden *g = &r->golden[i];
          golden_names[i] = g_strdup_printf ("golden_frame_%02d_f%05d.png", i, g->frame_index);
          g_ptr_array_add (paths, g_build_filename (out_dir, golden_names[i], NULL));
          jobs[nj].img = g->rgb;
          jobs[nj++].path = g_ptr_array_index (paths, paths->len - 1);
          if (g->warped)
            {
              warped_names[i] = g_strdup_printf ("cover_%02d_f%05d.png", i, g->frame_index);
              g_ptr_array_add (paths, g_build_filename (out_dir, warped_names[i], NULL));
              jobs[nj].img = g->warped;
              jobs[nj++].path = g_ptr_array_index (paths, paths->len - 1);
            }
        }
      if (gv_png_write_many (jobs, nj, p.threads > 0 ? p.threads : gv_threads_default ()) != GV_OK)
        {
          gv_cli_error (NULL);
          goto out;
        }
    }
  if (!no_images && r->defects && write_defect_images (r->defects, out_dir) != GV_OK)
    {
      gv_cli_error (NULL);
      goto out;
    }
  {
    const GvDecodeStats *st = gv_frame_source_stats (src);
    g_autoptr (JsonNode) root = gv_result_to_json (r, gv_frame_source_info (src), st, why,
                                                   golden_names, warped_names);
    if (!gv_json_write_file (root, json_path, &error))
      {
        fprintf (stderr, "gvscan: cannot write %s: %s\n", json_path, error->message);
#if GV_HAVE_STORE
        fail_msg = g_strdup_printf ("cannot write %s: %s", json_path, error->message);
#endif
        goto out;
      }
#if GV_HAVE_STORE
    if (crun.store)
      {
        /* Images are stored from the files just written; the result JSON names them. */
#if GV_HAVE_NET
        stored_id = crun.id;
#endif
        if (!cli_run_finish (&crun, root, out_dir, quiet))
          {
            fail_msg = g_strdup ("the result could not be stored");
            goto out;
          }
      }
#endif
#if GV_HAVE_NET
    gv_cli_job_step (job, 85, "analysis_complete", "Analysis complete");
    /* A failed upload keeps the run (exit 5); gvscan publish retries it. */
    if (upload && !gv_cli_job_upload (job, crun.store, stored_id, quiet))
      upload_failed = TRUE;
#endif
    status = 0;
    if (st->partial)
      {
        fprintf (stderr, "gvscan: warning: %s: partial result, only %" G_GINT64_FORMAT
                 " frames could be read (%s)\n", shown, st->frames_decoded, st->partial_reason);
        status = 3;
      }
    else if (st->decode_errors > 0)
      fprintf (stderr, "gvscan: warning: %s: %" G_GINT64_FORMAT " decode errors were concealed\n",
               shown, st->decode_errors);
  }
  if (!quiet)
    {
      g_autoptr (GPtrArray) flags = gv_result_flags (r, gv_frame_source_stats (src));
      printf ("%s: %d frames (%dx%d), analysis at %dx%d, %d candidates, %d golden frames\n",
              shown, r->n_frames, gv_frame_source_info (src)->width,
              gv_frame_source_info (src)->height, r->analysis_width, r->analysis_height,
              r->n_candidates, r->n_golden);
      for (int i = 0; i < r->n_golden; i++)
        {
          GvGolden *g = &r->golden[i];
          printf ("  golden %d: frame %5d  t=%7.3f s  sharpness %8.1f  motion %5.2f px  cover %s\n",
                  i, g->frame_index, g->pts, g->sharpness, g->motion,
                  g->cover.found ? "found" : g->cover.reason);
        }
      if (r->defects && r->defects->mask)
        {
          const GvDefectReport *d = r->defects;
          printf ("  defects: %d on %d aligned covers, %.2f %% of the cover, damage score %.1f\n",
                  d->n_defects, d->n_covers, d->defect_percentage, d->damage_score);
          for (int i = 0; i < d->n_defects; i++)
            {
              const GvDefect *e = &d->defects[i];
              printf ("    %-12s %-9s severity %.2f confidence %.2f  at %.1f,%.1f mm  %.1fx%.1f mm\n",
                      gv_defect_kind_name (e->kind), gv_region_def (e->region)->name, e->severity,
                      e->confidence, e->bbox_mm[0], e->bbox_mm[1], e->bbox_mm[2], e->bbox_mm[3]);
            }
        }
      if (r->defects)
        {
          const GvGrade *g = &r->defects->grade;
          for (int i = 0; i < g->n_lines; i++)
            printf ("    %-78s %+6.2f  = %5.2f\n", g->lines[i].text, g->lines[i].delta, g->lines[i].running);
          if (g->needs_review)
            printf ("  grade: needs review (%s); the rule would give %.1f\n", g->review_reason,
                    g->grade_estimate);
          else
            printf ("  grade: %.1f (CGC scale)\n", g->grade);
        }
      for (guint i = 0; i < flags->len; i++)
        printf ("  flag: %s\n", (char *) g_ptr_array_index (flags, i));
      print_timings (r);
      printf ("\nResult: %s\n", json_path);
    }
out:
#if GV_HAVE_STORE
  if (!fail_msg)
    {
      const char *why = g_getenv ("GV_CANCEL_REASON"); /* set by gvscan serve for its jobs */
      fail_msg = status == 130 ? (why && *why ? g_strdup_printf ("cancelled: %s", why)
                                              : g_strdup ("cancelled by the user"))
                               : g_strdup (*gv_error_message () ? gv_error_message () : "failed");
    }
#if GV_HAVE_NET
  if (job)
    {
      gv_cli_job_finish (job, crun.store, stored_id, status == 0 || status == 3, fail_msg);
      gv_cli_job_free (job);
    }
  if (upload_failed && (status == 0 || status == 3))
    status = 5;
#endif
  cli_run_end (&crun, status, fail_msg);
#endif
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
  if (open_source (argv[1], threads, NULL, &src) != GV_OK)
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
  CommonOpts co = { -1, -1, NULL, NULL, NULL };
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
  CliProgress cp = { TRUE, FALSE, 0, NULL, NULL };
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
          if (open_source (argv[1], p.threads, NULL, &src) != GV_OK)
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
