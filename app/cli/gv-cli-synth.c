/* gv-cli-synth.c: `gvscan synth`: renders a synthetic comic scan with exact ground truth.
 *
 * Writes DIR/scan.<ext> (the video), DIR/truth.json (parameters, per-frame truth, defects),
 * DIR/cover.png (the printed cover with its defects; paper torn away shows the table's mean
 * colour), DIR/defect_mask.png (0 clean, 255 damaged) and DIR/defect_labels.png (0 clean,
 * 1 + defect type index, the order of "defect_types" in truth.json).
 * Frame coordinates in truth.json are upright frame pixels (pixel centres at integer
 * coordinates) whatever --rotate says: a reader that applies the display matrix sees them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libavutil/log.h>

#include "gv-cli.h"
#include "gv-error.h"
#include "gv-media.h"
#include "gv-synth.h"



static void
add_doubles (JsonBuilder *b, const char *name, const double *v, int n)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    json_builder_add_double_value (b, v[i]);
  json_builder_end_array (b);
}

static void
set_double (JsonBuilder *b, const char *name, double v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, v);
}

static void
set_int (JsonBuilder *b, const char *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

static void
set_string (JsonBuilder *b, const char *name, const char *v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, v);
}

static int
fail (const char *what)
{
  fprintf (stderr, "gvscan synth: %s%s%s\n", what ? what : "", what ? ": " : "",
           gv_error_message ());
  return 1;
}

int
gv_cli_synth (int argc, char **argv)
{
  g_autofree char *out_dir = NULL, *codec = NULL, *container = NULL;
  int seed = 1, frames = 150, width = 1920, height = 1080, defects = 3, crf = 0, rotate = 0;
  int threads = 0;
  double fps = 30, motion = 1, cover_fill = 0.8;
  gboolean clean = FALSE, no_glare = FALSE, no_bursts = FALSE, vfr = FALSE, ten_bit = FALSE;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir, "Output directory (created if missing)", "DIR" },
    { "seed", 's', 0, G_OPTION_ARG_INT, &seed, "Random seed (default 1)", "N" },
    { "frames", 'n', 0, G_OPTION_ARG_INT, &frames, "Number of frames (default 150)", "N" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "Upright frame width (default 1920)", "PX" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "Upright frame height (default 1080)", "PX" },
    { "fps", 0, 0, G_OPTION_ARG_DOUBLE, &fps, "Frame rate (default 30)", "FPS" },
    { "defects", 0, 0, G_OPTION_ARG_INT, &defects, "Number of cover defects (default 3; 0 = clean)", "N" },
    { "clean", 0, 0, G_OPTION_ARG_NONE, &clean, "Clean cover (same as --defects 0)", NULL },
    { "no-glare", 0, 0, G_OPTION_ARG_NONE, &no_glare, "No moving specular glare", NULL },
    { "no-bursts", 0, 0, G_OPTION_ARG_NONE, &no_bursts, "No bursts of fast camera motion", NULL },
    { "motion", 0, 0, G_OPTION_ARG_DOUBLE, &motion, "Camera motion scale, 0..4 (default 1 = phone-like; 0 = tripod)", "SCALE" },
    { "cover-fill", 0, 0, G_OPTION_ARG_DOUBLE, &cover_fill, "Share of the frame height the cover spans, 0.3..0.95 (default 0.8)", "F" },
    { "codec", 0, 0, G_OPTION_ARG_STRING, &codec, "Encoder: libx264 (default), libx265, libvpx-vp9, libaom-av1, libsvtav1", "NAME" },
    { "crf", 0, 0, G_OPTION_ARG_INT, &crf, "Encoder quality, the codec's crf scale (0 = codec default)", "N" },
    { "rotate", 0, 0, G_OPTION_ARG_INT, &rotate, "Display rotation a player applies clockwise: 0, 90, 180, 270", "DEG" },
    { "vfr", 0, 0, G_OPTION_ARG_NONE, &vfr, "Jittered frame times (variable frame rate, mean rate kept)", NULL },
    { "ten-bit", 0, 0, G_OPTION_ARG_NONE, &ten_bit, "10-bit 4:2:0 video", NULL },
    { "container", 0, 0, G_OPTION_ARG_STRING, &container, "mp4 (default), mkv, mov or webm", "EXT" },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &threads, "Render threads (0 = all cores)", "N" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on stderr", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) octx = g_option_context_new ("--out DIR - render a synthetic comic scan with ground truth");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonGenerator) gen = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *video_path = NULL, *truth_path = NULL, *tmp_path = NULL;
  GvSynthParams p;
  GvSynth *s = NULL;
  GvImage *rgb = NULL, *mask255 = NULL;
  GvVideoWriter *vw = NULL;
  GvVideoWriterOptions vo = { 0 };
  int ret = 1;
  gint64 t_start = g_get_monotonic_time ();

  g_option_context_set_summary (octx, "Writes DIR/scan.<ext>, DIR/truth.json, DIR/cover.png, "
                                "DIR/defect_mask.png (0/255) and DIR/defect_labels.png "
                                "(0 clean, 1 + defect type).");
  g_option_context_add_main_entries (octx, entries, NULL);
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    {
      fprintf (stderr, "gvscan synth: %s (see gvscan synth --help)\n", error->message);
      return 1;
    }
  if (argc > 1)
    {
      fprintf (stderr, "gvscan synth: unexpected argument '%s' (see gvscan synth --help)\n", argv[1]);
      return 1;
    }
  if (!out_dir)
    {
      fprintf (stderr, "gvscan synth: --out DIR is required (see gvscan synth --help)\n");
      return 1;
    }
  if (!container)
    container = g_strdup ("mp4");
  if (strcmp (container, "mp4") && strcmp (container, "mkv") && strcmp (container, "mov")
      && strcmp (container, "webm"))
    {
      fprintf (stderr, "gvscan synth: --container must be mp4, mkv, mov or webm (got '%s')\n", container);
      return 1;
    }
  if (seed < 0 || threads < 0 || threads > 256)
    {
      fprintf (stderr, "gvscan synth: %s must not be negative%s\n", seed < 0 ? "--seed" : "--threads",
               threads > 256 ? " or above 256" : "");
      return 1;
    }

  gv_synth_params_init_default (&p);
  p.width = width;
  p.height = height;
  p.n_frames = frames;
  p.fps = fps;
  p.seed = (unsigned) seed;
  p.n_defects = clean ? 0 : defects;
  p.cover_fill = cover_fill;
  p.motion = motion;
  p.bursts = !no_bursts;
  p.glare = !no_glare;
  p.vfr = vfr;
  if (gv_synth_params_validate (&p) < 0)
    return fail ("bad parameters");

  vo.codec = codec ? codec : "libx264";
  vo.crf = crf;
  vo.rotation = rotate;
  vo.ten_bit = ten_bit;

  if (g_mkdir_with_parents (out_dir, 0777) < 0)
    {
      fprintf (stderr, "gvscan synth: cannot create directory '%s': %s\n", out_dir, g_strerror (errno));
      return 1;
    }
  video_path = g_strdup_printf ("%s/scan.%s", out_dir, container);
  truth_path = g_build_filename (out_dir, "truth.json", NULL);

  /* SVT-AV1 logs its banner on its own, outside av_log; 1 = errors only */
  g_setenv ("SVT_LOG", "1", FALSE);
  if (quiet)
    av_log_set_level (AV_LOG_QUIET);
  else
    av_log_set_level (AV_LOG_ERROR);

  s = gv_synth_new (&p);
  if (!s)
    return fail ("cannot set up the synthetic scan");
  rgb = gv_image_new (p.width, p.height, 3, GV_U8);
  if (!rgb)
    {
      fail (NULL);
      goto out;
    }
  if (gv_video_writer_open (video_path, p.width, p.height, p.fps, &vo, &vw) < 0)
    {
      fail (NULL);
      goto out;
    }

  b = json_builder_new ();
  json_builder_begin_object (b);
  set_string (b, "generator", "gvscan synth");
  {
    g_autofree char *base = g_path_get_basename (video_path);
    set_string (b, "video", base);
  }
  set_string (b, "coordinates", "upright frame pixels, pixel centres at integer coordinates; "
              "cover texture pixels likewise; corners are the paper's outer corners, H applied to "
              "(-0.5,-0.5), (w-0.5,-0.5), (w-0.5,h-0.5), (-0.5,h-0.5); H maps cover texture px to "
              "upright frame px at the exposure midpoint; flow is from the previous frame");
  json_builder_set_member_name (b, "params");
  json_builder_begin_object (b);
  set_int (b, "seed", p.seed);
  set_int (b, "frames", p.n_frames);
  set_int (b, "width", p.width);
  set_int (b, "height", p.height);
  set_double (b, "fps", p.fps);
  set_int (b, "defects", p.n_defects);
  set_double (b, "cover_fill", p.cover_fill);
  set_double (b, "motion", p.motion);
  json_builder_set_member_name (b, "bursts");
  json_builder_add_boolean_value (b, p.bursts);
  json_builder_set_member_name (b, "glare");
  json_builder_add_boolean_value (b, p.glare);
  json_builder_set_member_name (b, "vfr");
  json_builder_add_boolean_value (b, p.vfr);
  set_int (b, "cover_w", p.cover_w);
  set_int (b, "cover_h", p.cover_h);
  set_string (b, "codec", vo.codec);
  set_int (b, "crf", vo.crf);
  set_int (b, "rotation", vo.rotation);
  json_builder_set_member_name (b, "ten_bit");
  json_builder_add_boolean_value (b, vo.ten_bit);
  set_string (b, "container", container);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "defect_types");
  json_builder_begin_array (b);
  for (int k = 0; k < GV_DEFECT_N_TYPES; k++)
    json_builder_add_string_value (b, gv_defect_type_name ((GvDefectType) k));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "defects");
  json_builder_begin_array (b);
  for (int k = 0; k < gv_synth_n_defects (s); k++)
    {
      const GvSynthDefect *d = gv_synth_defect (s, k);
      double bb[4] = { d->bbox[0], d->bbox[1], d->bbox[2], d->bbox[3] };
      json_builder_begin_object (b);
      set_string (b, "type", gv_defect_type_name (d->type));
      set_int (b, "label", 1 + (int) d->type);
      json_builder_set_member_name (b, "bbox");
      json_builder_begin_array (b);
      for (int j = 0; j < 4; j++)
        json_builder_add_int_value (b, (gint64) bb[j]);
      json_builder_end_array (b);
      set_double (b, "severity", d->severity);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "frames");
  json_builder_begin_array (b);
  for (int i = 0; i < p.n_frames; i++)
    {
      GvSynthTruth t;
      double pts = gv_synth_frame_time (s, i);
      if (gv_synth_render (s, i, rgb, &t, threads) < 0)
        {
          fail ("rendering failed");
          goto out;
        }
      if (gv_video_writer_add (vw, rgb, pts) < 0)
        {
          fail (NULL);
          goto out;
        }
      json_builder_begin_object (b);
      set_int (b, "index", i);
      set_double (b, "pts", pts);
      add_doubles (b, "H", t.H, 9);
      add_doubles (b, "corners", t.corners, 8);
      set_double (b, "motion_blur_px", t.motion_blur_px);
      set_double (b, "defocus_sigma", t.defocus_sigma);
      set_double (b, "true_flow_cover", t.true_flow_cover);
      set_double (b, "true_flow_frame", t.true_flow_frame);
      json_builder_set_member_name (b, "sharp");
      json_builder_add_boolean_value (b, t.sharp);
      set_double (b, "exposure", t.exposure);
      json_builder_set_member_name (b, "glare");
      if (p.glare)
        {
          double g[2] = { t.glare_x, t.glare_y };
          json_builder_begin_array (b);
          json_builder_add_double_value (b, g[0]);
          json_builder_add_double_value (b, g[1]);
          json_builder_end_array (b);
        }
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
      if (!quiet)
        {
          double el = (g_get_monotonic_time () - t_start) / 1e6;
          fprintf (stderr, "\rgvscan synth: frame %d/%d  %.1f s", i + 1, p.n_frames, el);
          fflush (stderr);
        }
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  if (!quiet)
    fprintf (stderr, "\n");

  {
    int r = gv_video_writer_close (vw);
    vw = NULL;
    if (r < 0)
      {
        fail (NULL);
        goto out;
      }
  }

  {
    g_autofree char *cover_path = g_build_filename (out_dir, "cover.png", NULL);
    g_autofree char *mask_path = g_build_filename (out_dir, "defect_mask.png", NULL);
    g_autofree char *labels_path = g_build_filename (out_dir, "defect_labels.png", NULL);
    const GvImage *m = gv_synth_defect_mask (s);
    mask255 = gv_image_new (m->width, m->height, 1, GV_U8);
    if (!mask255)
      {
        fail (NULL);
        goto out;
      }
    for (int y = 0; y < m->height; y++)
      for (int x = 0; x < m->width; x++)
        gv_image_row_u8 (mask255, y)[x] = gv_image_row_u8 (m, y)[x] ? 255 : 0;
    if (gv_png_write (gv_synth_cover (s), cover_path) < 0 || gv_png_write (mask255, mask_path) < 0
        || gv_png_write (m, labels_path) < 0)
      {
        fail (NULL);
        goto out;
      }
  }

  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  tmp_path = g_strdup_printf ("%s.part", truth_path);
  if (!json_generator_to_file (gen, tmp_path, &error) || g_rename (tmp_path, truth_path) < 0)
    {
      fprintf (stderr, "gvscan synth: cannot write '%s': %s\n", truth_path,
               error ? error->message : g_strerror (errno));
      g_unlink (tmp_path);
      goto out;
    }
  if (!quiet)
    fprintf (stderr, "gvscan synth: wrote %s and truth.json, cover.png, defect_mask.png, "
             "defect_labels.png in %s (%.1f s)\n", video_path, out_dir,
             (g_get_monotonic_time () - t_start) / 1e6);
  ret = 0;

out:
  if (vw)
    {
      /* a failed scan must not leave a video that looks complete */
      gv_video_writer_close (vw);
      g_unlink (video_path);
    }
  gv_image_free (mask255);
  gv_image_free (rgb);
  gv_synth_free (s);
  return ret;
}
