/* test-media.c: the FFmpeg frame source on fixtures generated at test time with the ffmpeg
 * command-line tool into a temporary directory (nothing committed): containers and codecs,
 * display-matrix rotation, variable frame rate, luma and RGB values, kept frames, and bad
 * input, each of which must give a negative code and a message naming the file and cause. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* realpath, O_CLOEXEC, S_ISSOCK, mkfifo with plain -std=c17 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <libavutil/log.h>

#include "gv-error.h"
#include "gv-media.h"

static char *tmpdir;
static char *ffmpeg_bin;
static char *ffprobe_bin;

/* ---- fixtures ------------------------------------------------------------------------ */

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

/* Runs ffmpeg with args (shell-quoted string) writing to tmpdir/name; NULL when ffmpeg fails
 * (e.g. encoder missing). Fixtures are built once and shared by the tests. */
static char *
make_fixture (const char *name, const char *args)
{
  g_autofree char *path = tmp_path (name);
  g_autofree char *cmd = NULL;
  g_autofree char *err = NULL;
  g_auto (GStrv) argv = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&path);
  cmd = g_strdup_printf ("'%s' -nostdin -hide_banner -loglevel error -y %s '%s'", ffmpeg_bin,
                         args, path);
  g_assert_true (g_shell_parse_argv (cmd, NULL, &argv, &error));
  if (!g_spawn_sync (tmpdir, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err, &status,
                     &error) || !g_spawn_check_wait_status (status, NULL))
    {
      g_test_message ("ffmpeg failed for %s: %s", name, err ? err : "");
      g_unlink (path);
      return NULL;
    }
  return g_steal_pointer (&path);
}

static gboolean
have_encoder (const char *enc)
{
  g_autofree char *out = NULL;
  g_autofree char *pat = g_strdup_printf (" %s ", enc);
  const char *argv[] = { ffmpeg_bin, "-hide_banner", "-encoders", NULL };

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                     NULL, NULL, NULL))
    return FALSE;
  return out && strstr (out, pat) != NULL;
}

/* ffprobe's best-effort timestamps of the first video stream, in seconds. */
static GArray *
probe_pts (const char *path)
{
  const char *argv[] = { ffprobe_bin, "-v", "error", "-select_streams", "v:0", "-show_entries",
                         "frame=best_effort_timestamp_time", "-of", "csv=p=0", path, NULL };
  g_autofree char *out = NULL;
  g_auto (GStrv) lines = NULL;
  GArray *a = g_array_new (FALSE, FALSE, sizeof (double));

  if (!ffprobe_bin || !g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                                     NULL, NULL, &out, NULL, NULL, NULL))
    return a;
  lines = g_strsplit (out, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      char *s = g_strstrip (lines[i]);
      if (*s)
        {
          double v = g_ascii_strtod (s, NULL);
          g_array_append_val (a, v);
        }
    }
  return a;
}

static gboolean
need_ffmpeg (void)
{
  if (!ffmpeg_bin)
    {
      g_test_skip ("ffmpeg not found");
      return FALSE;
    }
  return TRUE;
}

/* ---- decoding helpers ---------------------------------------------------------------- */

typedef struct {
  GvMediaInfo info;
  GvDecodeStats stats;
  GArray *pts;
  int last_rc;
} Decoded;

static void
decoded_clear (Decoded *d)
{
  if (d->pts)
    g_array_unref (d->pts);
  g_free (d->info.path);
  memset (d, 0, sizeof *d);
}

/* Decodes the whole file; returns open's code (0 on success). */
static int
decode_all (const char *path, int threads, Decoded *d)
{
  GvSourceOptions opts = { threads, 0, GV_HW_DECODE_OFF, NULL };
  GvFrameSource *src = NULL;
  const GvFrame *f;
  int rc;

  memset (d, 0, sizeof *d);
  d->pts = g_array_new (FALSE, FALSE, sizeof (double));
  rc = gv_frame_source_open (path, &opts, &src);
  if (rc < 0)
    {
      g_assert_null (src);
      return rc;
    }
  d->info = *gv_frame_source_info (src);
  d->info.path = g_strdup (d->info.path);
  while ((rc = gv_frame_source_next (src, &f)) == 1)
    {
      g_assert_cmpint (f->index, ==, (int) d->pts->len);
      g_assert_cmpint (f->luma.width, ==, d->info.width);
      g_assert_cmpint (f->luma.height, ==, d->info.height);
      g_assert_cmpint (f->luma.channels, ==, 1);
      g_assert_true (f->luma.depth == GV_U8);
      g_assert_nonnull (f->luma.data);
      g_array_append_val (d->pts, f->pts);
    }
  d->last_rc = rc;
  d->stats = *gv_frame_source_stats (src);
  gv_frame_source_free (src);
  return 0;
}

static void
assert_monotonic (const GArray *pts)
{
  g_assert_cmpfloat (g_array_index (pts, double, 0), ==, 0.0);
  for (guint i = 1; i < pts->len; i++)
    g_assert_cmpfloat (g_array_index (pts, double, i), >, g_array_index (pts, double, i - 1));
}

static double
mean_luma (const GvImage *y, int x0, int y0, int w, int h)
{
  double s = 0;
  for (int r = y0; r < y0 + h; r++)
    for (int c = x0; c < x0 + w; c++)
      s += gv_image_row_u8 (y, r)[c];
  return s / (w * h);
}

/* The bad-input contract: negative code, a message naming the file and the cause. */
static void
assert_refused (const char *path, const char *name_in_msg, const char *cause, int code)
{
  GvFrameSource *src = (GvFrameSource *) 0x1;
  int rc;

  gv_error_clear ();
  rc = gv_frame_source_open (path, NULL, &src);
  g_test_message ("%s -> %d: %s", path, rc, gv_error_message ());
  g_assert_cmpint (rc, <, 0);
  if (code)
    g_assert_cmpint (rc, ==, code);
  g_assert_null (src);
  g_assert_nonnull (strstr (gv_error_message (), name_in_msg));
  if (cause && !strstr (gv_error_message (), cause))
    g_error ("message \"%s\" lacks \"%s\"", gv_error_message (), cause);
}

/* ---- normal files -------------------------------------------------------------------- */

static void
test_mp4_basic (void)
{
  g_autofree char *p = NULL;
  Decoded d;

  if (!need_ffmpeg ())
    return;
  p = make_fixture ("basic.mp4", "-f lavfi -i testsrc2=size=160x120:rate=30 -frames:v 12 "
                    "-c:v libx264 -pix_fmt yuv420p");
  g_assert_nonnull (p);
  for (int threads = 0; threads <= 3; threads += 3)
    {
      g_assert_cmpint (decode_all (p, threads, &d), ==, 0);
      g_assert_cmpint (d.last_rc, ==, 0);
      g_assert_cmpint (d.stats.frames_decoded, ==, 12);
      g_assert_cmpint (d.pts->len, ==, 12);
      g_assert_cmpint (d.stats.partial, ==, 0);
      g_assert_cmpint (d.stats.decode_errors, ==, 0);
      g_assert_cmpint (d.info.width, ==, 160);
      g_assert_cmpint (d.info.height, ==, 120);
      g_assert_cmpint (d.info.rotation, ==, 0);
      g_assert_cmpint (d.info.declared_frames, ==, 12);
      g_assert_cmpfloat_with_epsilon (d.info.fps, 30.0, 1e-6);
      g_assert_cmpfloat_with_epsilon (d.info.duration, 0.4, 0.02);
      g_assert_cmpstr (d.info.codec, ==, "h264");
      g_assert_cmpstr (d.info.pix_fmt, ==, "yuv420p");
      g_assert_cmpint (d.info.bit_depth, ==, 8);
      g_assert_true (g_path_is_absolute (d.info.path));
      g_assert_cmpint (d.info.file_size, >, 0);
      assert_monotonic (d.pts);
      for (guint i = 0; i < d.pts->len; i++)
        g_assert_cmpfloat_with_epsilon (g_array_index (d.pts, double, i), i / 30.0, 1e-6);
      decoded_clear (&d);
    }
}

/* GPU decoding (FFmpeg's CUDA hwaccel). Without a CUDA device (CI, this VM) auto falls back to
 * the CPU and says why, and require fails with that reason; with one, the Y plane stays on the
 * device and its host copy equals the CPU decoder's (H.264 decoding is exact). */
static void
test_hw_decode (void)
{
  g_autofree char *p = NULL;
  GvFrameSource *cpu = NULL, *hw = NULL;
  const GvFrame *fa, *fb;
  GvSourceOptions oc = { 0, 0, GV_HW_DECODE_OFF, NULL }, oa = { 0, 0, GV_HW_DECODE_AUTO, NULL };
  GvSourceOptions orq = { 0, 0, GV_HW_DECODE_REQUIRE, NULL };
  int n = 0, on_gpu;

  if (!need_ffmpeg ())
    return;
  p = make_fixture ("hw.mp4", "-f lavfi -i testsrc2=size=320x240:rate=30 -frames:v 8 "
                    "-c:v libx264 -pix_fmt yuv420p");
  g_assert_nonnull (p);
  g_assert_cmpint (gv_frame_source_open (p, &oc, &cpu), ==, GV_OK);
  g_assert_cmpstr (gv_frame_source_info (cpu)->hw_decode, ==, "off: not asked for");
  g_assert_cmpint (gv_frame_source_open (p, &oa, &hw), ==, GV_OK);
  const char *how = gv_frame_source_info (hw)->hw_decode;
  on_gpu = g_str_has_prefix (how, "cuda");
  if (!on_gpu)
    {
      g_test_message ("GPU decoding not available here: %s", how);
      g_assert_true (g_str_has_prefix (how, "off: "));
      GvFrameSource *req = NULL;
      int rc = gv_frame_source_open (p, &orq, &req);
      g_assert_cmpint (rc, !=, GV_OK);
      g_assert_null (req);
      g_assert_nonnull (strstr (gv_error_message (), "GPU decoding was asked for but is off"));
    }
  while (gv_frame_source_next (cpu, &fa) == 1)
    {
      GvImage hl;
      g_assert_cmpint (gv_frame_source_next (hw, &fb), ==, 1);
      g_assert_null (fa->device_luma);
      if (on_gpu)
        {
          g_assert_nonnull (fb->device_luma);
          g_assert_null (fb->luma.data);
          g_assert_cmpuint (fb->device_pitch, >=, 320);
        }
      else
        g_assert_null (fb->device_luma);
      g_assert_cmpint (gv_frame_source_host_luma (hw, &hl), ==, GV_OK);
      g_assert_cmpint (hl.width, ==, fa->luma.width);
      g_assert_cmpint (hl.height, ==, fa->luma.height);
      for (int y = 0; y < hl.height; y++)
        g_assert_cmpmem (gv_image_row_u8 (&hl, y), hl.width, gv_image_row_u8 (&fa->luma, y),
                         fa->luma.width);
      /* kept frames come back as host RGB either way */
      GvKeptFrame *ka = gv_frame_source_keep (cpu), *kb = gv_frame_source_keep (hw);
      GvImage *ra = gv_kept_frame_to_rgb (ka), *rb = gv_kept_frame_to_rgb (kb);
      g_assert_nonnull (ra);
      g_assert_nonnull (rb);
      g_assert_cmpmem (ra->data, ra->stride * ra->height, rb->data, rb->stride * rb->height);
      gv_image_free (ra);
      gv_image_free (rb);
      gv_kept_frame_free (ka);
      gv_kept_frame_free (kb);
      n++;
    }
  g_assert_cmpint (n, ==, 8);
  g_assert_cmpint (gv_frame_source_next (hw, &fb), ==, 0);
  gv_frame_source_free (cpu);
  gv_frame_source_free (hw);
}

typedef struct {
  const char *name, *encoder, *args, *codec;
  int bit_depth;
} Variant;

static void
test_containers (void)
{
  static const Variant v[] = {
    { "x264.mkv", "libx264", "-c:v libx264 -pix_fmt yuv420p", "h264", 8 },
    { "x264.mov", "libx264", "-c:v libx264 -pix_fmt yuv420p", "h264", 8 },
    { "x264-444.mp4", "libx264", "-c:v libx264 -pix_fmt yuv444p", "h264", 8 },
    { "vp9.webm", "libvpx-vp9", "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 200k",
      "vp9", 8 },
    { "hevc10.mp4", "libx265", "-c:v libx265 -pix_fmt yuv420p10le -x265-params log-level=error",
      "hevc", 10 },
    { "hevc10.mkv", "libx265", "-c:v libx265 -pix_fmt yuv420p10le -x265-params log-level=error",
      "hevc", 10 },
  };

  if (!need_ffmpeg ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (v); i++)
    {
      g_autofree char *args = NULL;
      g_autofree char *p = NULL;
      Decoded d;

      if (!have_encoder (v[i].encoder))
        {
          g_test_message ("%s: encoder %s missing, not tested", v[i].name, v[i].encoder);
          continue;
        }
      args = g_strdup_printf ("-f lavfi -i testsrc2=size=160x120:rate=25 -frames:v 10 %s",
                              v[i].args);
      p = make_fixture (v[i].name, args);
      g_assert_nonnull (p);
      g_assert_cmpint (decode_all (p, 0, &d), ==, 0);
      g_test_message ("%s: %s %s, %lld frames, fps %.3f, duration %.3f", v[i].name,
                      d.info.codec, d.info.pix_fmt, (long long) d.stats.frames_decoded,
                      d.info.fps, d.info.duration);
      g_assert_cmpint (d.last_rc, ==, 0);
      g_assert_cmpint (d.stats.frames_decoded, ==, 10);
      g_assert_cmpint (d.stats.partial, ==, 0);
      g_assert_cmpint (d.stats.decode_errors, ==, 0);
      g_assert_cmpstr (d.info.codec, ==, v[i].codec);
      g_assert_cmpint (d.info.bit_depth, ==, v[i].bit_depth);
      g_assert_cmpint (d.info.width, ==, 160);
      g_assert_cmpint (d.info.height, ==, 120);
      g_assert_cmpfloat_with_epsilon (d.info.fps, 25.0, 1e-3);
      assert_monotonic (d.pts);
      for (guint k = 0; k < d.pts->len; k++)
        g_assert_cmpfloat_with_epsilon (g_array_index (d.pts, double, k), k / 25.0, 1.5e-3);
      decoded_clear (&d);
    }
}

static void
test_av1 (void)
{
  const char *enc = NULL;
  g_autofree char *args = NULL;
  g_autofree char *p = NULL;
  Decoded d;

  if (!need_ffmpeg ())
    return;
  if (have_encoder ("libsvtav1"))
    enc = "-c:v libsvtav1 -preset 12 -pix_fmt yuv420p";
  else if (have_encoder ("libaom-av1"))
    enc = "-c:v libaom-av1 -cpu-used 8 -row-mt 1 -pix_fmt yuv420p";
  if (!enc)
    {
      g_test_skip ("no AV1 encoder in this ffmpeg");
      return;
    }
  args = g_strdup_printf ("-f lavfi -i testsrc2=size=160x128:rate=30 -frames:v 6 %s", enc);
  p = make_fixture ("av1.mp4", args);
  if (!p)
    {
      g_test_skip ("the AV1 encoder failed on this machine");
      return;
    }
  if (decode_all (p, 0, &d) == GV_EUNSUPPORTED)
    {
      g_test_skip ("no AV1 decoder in this FFmpeg");
      decoded_clear (&d);
      return;
    }
  g_assert_cmpint (d.last_rc, ==, 0);
  g_assert_cmpstr (d.info.codec, ==, "av1");
  g_assert_cmpint (d.stats.frames_decoded, ==, 6);
  g_assert_cmpint (d.stats.partial, ==, 0);
  assert_monotonic (d.pts);
  decoded_clear (&d);
}

/* ---- rotation ------------------------------------------------------------------------ */

/* ffmpeg's own autorotated decode, as gray: the reference for what "upright" means. */
static guint8 *
ffmpeg_upright_gray (const char *path, int w, int h)
{
  const char *argv[] = { ffmpeg_bin, "-nostdin", "-v", "error", "-i", path, "-frames:v", "1",
                         "-f", "rawvideo", "-pix_fmt", "gray", "-", NULL };
  gsize len = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) sp = NULL;
  g_autoptr (GBytes) bytes = NULL;

  sp = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                          &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate (sp, NULL, NULL, &bytes, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  len = g_bytes_get_size (bytes);
  g_assert_cmpuint (len, ==, (gsize) w * h);
  return g_memdup2 (g_bytes_get_data (bytes, NULL), len);
}

static void
test_rotation (void)
{
  g_autofree char *coded = NULL;
  int seen[4] = { 0 };

  if (!need_ffmpeg ())
    return;
  /* Coded picture: a bright block in the top-left corner of a black 160x120 frame. */
  coded = make_fixture ("block.mp4", "-f lavfi -i color=black:size=160x120:rate=30,"
                        "drawbox=x=0:y=0:w=40:h=30:color=white:t=fill -frames:v 3 "
                        "-c:v libx264 -pix_fmt yuv420p");
  g_assert_nonnull (coded);
  for (int r = 90; r <= 270; r += 90)
    {
      g_autofree char *name = g_strdup_printf ("rot%d.mp4", r);
      g_autofree char *args = g_strdup_printf ("-i '%s' -metadata:s:v rotate=%d -c copy",
                                               coded, r);
      g_autofree char *p = make_fixture (name, args);
      g_autofree guint8 *ref = NULL;
      GvFrameSource *src = NULL;
      const GvFrame *f = NULL;
      const GvMediaInfo *info;
      int rot, bw, bh, maxdiff = 0;
      double corner[4];

      g_assert_nonnull (p);
      g_assert_cmpint (gv_frame_source_open (p, NULL, &src), ==, 0);
      info = gv_frame_source_info (src);
      rot = info->rotation;
      g_test_message ("%s: rotation %d, upright %dx%d", name, rot, info->width, info->height);
      g_assert_true (rot == 90 || rot == 180 || rot == 270);
      seen[rot / 90] = 1;
      g_assert_cmpint (info->coded_width, ==, 160);
      g_assert_cmpint (info->coded_height, ==, 120);
      if (rot == 180)
        {
          g_assert_cmpint (info->width, ==, 160);
          g_assert_cmpint (info->height, ==, 120);
        }
      else
        {
          g_assert_cmpint (info->width, ==, 120);
          g_assert_cmpint (info->height, ==, 160);
        }
      g_assert_cmpint (gv_frame_source_next (src, &f), ==, 1);
      g_assert_cmpint (f->luma.width, ==, info->width);
      g_assert_cmpint (f->luma.height, ==, info->height);
      /* The block (40x30 coded) rotated clockwise by rot lands in one known corner. */
      bw = rot == 180 ? 40 : 30;
      bh = rot == 180 ? 30 : 40;
      corner[0] = mean_luma (&f->luma, 2, 2, bw - 4, bh - 4);
      corner[1] = mean_luma (&f->luma, info->width - bw + 2, 2, bw - 4, bh - 4);
      corner[2] = mean_luma (&f->luma, info->width - bw + 2, info->height - bh + 2, bw - 4, bh - 4);
      corner[3] = mean_luma (&f->luma, 2, info->height - bh + 2, bw - 4, bh - 4);
      for (int c = 0; c < 4; c++)
        {
          if (c == rot / 90)
            g_assert_cmpfloat (corner[c], >, 200);
          else
            g_assert_cmpfloat (corner[c], <, 40);
        }
      /* And the picture is the one ffmpeg itself shows upright. Its gray output is full
       * range, our luma the coded limited range: compare after expanding ours (+-3 for
       * the two roundings). */
      ref = ffmpeg_upright_gray (p, info->width, info->height);
      for (int y = 0; y < info->height; y++)
        for (int x = 0; x < info->width; x++)
          {
            int l = gv_image_row_u8 (&f->luma, y)[x];
            int full = CLAMP ((l - 16) * 255 / 219, 0, 255);
            maxdiff = MAX (maxdiff, ABS ((int) ref[y * info->width + x] - full));
          }
      g_assert_cmpint (maxdiff, <=, 3);

      /* Kept frames rotate the same way. */
      {
        GvKeptFrame *kf = gv_frame_source_keep (src);
        GvImage *rgb;
        g_assert_nonnull (kf);
        gv_frame_source_free (src);
        rgb = gv_kept_frame_to_rgb (kf);
        g_assert_nonnull (rgb);
        g_assert_cmpint (rgb->width, ==, info == NULL ? 0 : (rot == 180 ? 160 : 120));
        g_assert_cmpint (rgb->height, ==, rot == 180 ? 120 : 160);
        for (int y = 0; y < rgb->height; y += 7)
          for (int x = 0; x < rgb->width; x += 7)
            {
              int g = gv_image_row_u8 (rgb, y)[3 * x + 1];
              /* Green of a black/white picture equals its full-range gray. */
              g_assert_cmpint (ABS (g - (int) ref[y * rgb->width + x]), <=, 6);
            }
        gv_image_free (rgb);
        gv_kept_frame_free (kf);
      }
    }
  /* 90 and 270 tags must map to the two different quarter turns. */
  g_assert_true (seen[1] && seen[2] && seen[3]);
}

/* ---- timestamps and values ----------------------------------------------------------- */

static void
test_vfr (void)
{
  g_autofree char *p = NULL;
  g_autoptr (GArray) ref = NULL;
  Decoded d;

  if (!need_ffmpeg ())
    return;
  /* Frame n at n(n+1)/2 / 30 s: intervals of 1, 2, 3... frame periods, a true variable
   * frame rate (whole periods, so the encoder's 1/30 time base holds them exactly). */
  p = make_fixture ("vfr.mkv", "-f lavfi -i testsrc2=size=160x120:rate=30 -frames:v 12 "
                    "-vf setpts=N*(N+1)/2/30/TB -fps_mode passthrough -c:v libx264 "
                    "-pix_fmt yuv420p -bf 2");
  g_assert_nonnull (p);
  g_assert_cmpint (decode_all (p, 0, &d), ==, 0);
  g_assert_cmpint (d.stats.frames_decoded, ==, 12);
  g_assert_cmpint (d.stats.partial, ==, 0);
  assert_monotonic (d.pts);
  for (guint n = 0; n < d.pts->len; n++)
    {
      double want = n * (n + 1) / 2 / 30.0;
      /* Matroska stores milliseconds: 1 ms tolerance. */
      g_assert_cmpfloat_with_epsilon (g_array_index (d.pts, double, n), want, 1.01e-3);
    }
  ref = probe_pts (p);
  if (ref->len == d.pts->len)
    for (guint n = 0; n < ref->len; n++)
      g_assert_cmpfloat_with_epsilon (g_array_index (d.pts, double, n),
                                      g_array_index (ref, double, n) - g_array_index (ref, double, 0),
                                      1e-6);
  decoded_clear (&d);
}

static void
test_luma_grey (void)
{
  /* Limited-range BT.601 Y of RGB grey 128: 16 + 219 * 128 / 255 = 125.9; x264 is near
   * lossless on a flat frame, so +-2. The 10-bit file goes through swscale. */
  static const char *const files[][2] = {
    { "grey.mp4", "-c:v libx264 -pix_fmt yuv420p" },
    { "grey10.mkv", "-c:v libx265 -pix_fmt yuv420p10le -x265-params log-level=error" },
  };

  if (!need_ffmpeg ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *args = g_strdup_printf ("-f lavfi -i color=0x808080:size=128x96:rate=30 "
                                               "-frames:v 3 %s", files[i][1]);
      g_autofree char *p = NULL;
      GvFrameSource *src = NULL;
      const GvFrame *f;
      int n = 0;

      if (i == 1 && !have_encoder ("libx265"))
        continue;
      p = make_fixture (files[i][0], args);
      g_assert_nonnull (p);
      g_assert_cmpint (gv_frame_source_open (p, NULL, &src), ==, 0);
      while (gv_frame_source_next (src, &f) == 1)
        {
          for (int y = 0; y < f->luma.height; y++)
            for (int x = 0; x < f->luma.width; x++)
              {
                int v = gv_image_row_u8 (&f->luma, y)[x];
                if (ABS (v - 126) > 2)
                  g_error ("%s frame %d: luma %d at (%d,%d), want 126 +- 2", files[i][0],
                           f->index, v, x, y);
              }
          n++;
        }
      g_assert_cmpint (n, ==, 3);
      gv_frame_source_free (src);
    }
}

static void
check_rgb (const GvImage *rgb, int r, int g, int b, int tol)
{
  for (int y = 0; y < rgb->height; y++)
    for (int x = 0; x < rgb->width; x++)
      {
        const guint8 *p = gv_image_row_u8 (rgb, y) + 3 * x;
        if (ABS (p[0] - r) > tol || ABS (p[1] - g) > tol || ABS (p[2] - b) > tol)
          g_error ("rgb (%d,%d,%d) at (%d,%d), want (%d,%d,%d) +- %d", p[0], p[1], p[2], x, y,
                   r, g, b, tol);
      }
}

static void
test_kept_rgb (void)
{
  /* Limited range (x264 default), full range (yuvj420p) and BT.709-tagged HD-less frames:
   * each must come back as the colour that was encoded. 4:2:0 chroma and 8-bit rounding
   * allow +-10 on saturated colours. */
  static const char *const files[][2] = {
    { "red.mp4", "-c:v libx264 -pix_fmt yuv420p" },
    { "red-full.mp4", "-c:v libx264 -pix_fmt yuvj420p" },
    { "red709.mp4", "-vf scale=out_color_matrix=bt709 -c:v libx264 -pix_fmt yuv420p "
      "-colorspace bt709 -color_primaries bt709 -color_trc bt709" },
  };

  if (!need_ffmpeg ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *args = g_strdup_printf ("-f lavfi -i color=0xff0000:size=128x96:rate=30 "
                                               "-frames:v 4 %s", files[i][1]);
      g_autofree char *p = make_fixture (files[i][0], args);
      GvFrameSource *src = NULL;
      GvKeptFrame *k0, *k2;
      const GvFrame *f;
      GvImage *rgb;

      g_assert_nonnull (p);
      g_assert_cmpint (gv_frame_source_open (p, NULL, &src), ==, 0);
      g_assert_null (gv_frame_source_keep (src)); /* nothing handed out yet */
      g_assert_cmpint (gv_frame_source_next (src, &f), ==, 1);
      k0 = gv_frame_source_keep (src);
      g_assert_cmpint (gv_frame_source_next (src, &f), ==, 1);
      g_assert_cmpint (gv_frame_source_next (src, &f), ==, 1);
      k2 = gv_frame_source_keep (src);
      while (gv_frame_source_next (src, &f) == 1)
        ;
      gv_frame_source_free (src);
      g_assert_nonnull (k0);
      g_assert_nonnull (k2);
      g_assert_cmpint (gv_kept_frame_index (k0), ==, 0);
      g_assert_cmpint (gv_kept_frame_index (k2), ==, 2);
      g_assert_cmpfloat_with_epsilon (gv_kept_frame_pts (k2), 2 / 30.0, 1e-6);
      for (int k = 0; k < 2; k++)
        {
          rgb = gv_kept_frame_to_rgb (k == 0 ? k0 : k2);
          g_assert_nonnull (rgb);
          g_assert_cmpint (rgb->width, ==, 128);
          g_assert_cmpint (rgb->height, ==, 96);
          g_assert_cmpint (rgb->channels, ==, 3);
          g_assert_true (rgb->depth == GV_U8);
          check_rgb (rgb, 255, 0, 0, 10);
          gv_image_free (rgb);
        }
      gv_kept_frame_free (k0);
      gv_kept_frame_free (k2);
    }
}

static void
test_few_frames (void)
{
  if (!need_ffmpeg ())
    return;
  for (int n = 1; n <= 2; n++)
    {
      g_autofree char *name = g_strdup_printf ("frames%d.mp4", n);
      g_autofree char *args = g_strdup_printf ("-f lavfi -i testsrc2=size=160x120:rate=30 "
                                               "-frames:v %d -c:v libx264 -pix_fmt yuv420p", n);
      g_autofree char *p = make_fixture (name, args);
      Decoded d;

      g_assert_nonnull (p);
      g_assert_cmpint (decode_all (p, 0, &d), ==, 0);
      g_assert_cmpint (d.last_rc, ==, 0);
      g_assert_cmpint (d.stats.frames_decoded, ==, n);
      g_assert_cmpint (d.stats.partial, ==, 0);
      assert_monotonic (d.pts);
      decoded_clear (&d);
    }
}

/* ---- bad input ----------------------------------------------------------------------- */

static void
test_bad_empty (void)
{
  g_autofree char *p = tmp_path ("empty.mp4");

  g_assert_true (g_file_set_contents (p, "", 0, NULL));
  assert_refused (p, "empty.mp4", "empty (0 bytes)", GV_EFORMAT);
}

static void
test_bad_text (void)
{
  g_autofree char *p = tmp_path ("notes.mp4");
  g_autofree char *q = tmp_path ("notes.txt");
  const char *txt = "This is not a video.\nJust some notes about a comic book.\n";

  g_assert_true (g_file_set_contents (p, txt, -1, NULL));
  g_assert_true (g_file_set_contents (q, txt, -1, NULL));
  assert_refused (p, "notes.mp4", "not a video file", GV_EFORMAT);
  assert_refused (q, "notes.txt", "not a video file", GV_EFORMAT);
}

static void
test_bad_random (void)
{
  g_autofree char *p = tmp_path ("noise.mp4");
  guint8 buf[8192];
  GRand *r = g_rand_new_with_seed (7);

  for (gsize i = 0; i < sizeof buf; i++)
    buf[i] = (guint8) g_rand_int (r);
  g_rand_free (r);
  g_assert_true (g_file_set_contents (p, (char *) buf, sizeof buf, NULL));
  assert_refused (p, "noise.mp4", NULL, 0);
}

static void
test_bad_directory (void)
{
  g_autofree char *p = tmp_path ("folder.mp4");

  g_assert_cmpint (g_mkdir (p, 0755), ==, 0);
  assert_refused (p, "folder.mp4", "directory", GV_EIO);
  g_rmdir (p);
}

static void
test_bad_missing (void)
{
  g_autofree char *p = tmp_path ("missing.mp4");

  assert_refused (p, "missing.mp4", "no such file", GV_EIO);
}

static void
test_bad_unreadable (void)
{
  g_autofree char *src = NULL;
  g_autofree char *p = tmp_path ("locked.mp4");
  g_autofree char *data = NULL;
  gsize len;

  if (!need_ffmpeg ())
    return;
  if (geteuid () == 0)
    {
      g_test_skip ("running as root: chmod 000 does not stop root from reading the file");
      return;
    }
  src = make_fixture ("frames2.mp4", "-f lavfi -i testsrc2=size=160x120:rate=30 -frames:v 2 "
                      "-c:v libx264 -pix_fmt yuv420p");
  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  g_assert_true (g_file_set_contents (p, data, len, NULL));
  g_assert_cmpint (g_chmod (p, 0), ==, 0);
  assert_refused (p, "locked.mp4", "permission denied", GV_EIO);
  g_chmod (p, 0644);
}

static void
test_bad_audio_only (void)
{
  static const char *const names[] = { "tone.m4a", "tone.wav", "tone.mka" };

  if (!need_ffmpeg ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = make_fixture (names[i], "-f lavfi -i sine=frequency=440:duration=0.3");
      g_assert_nonnull (p);
      assert_refused (p, names[i], "only audio", GV_EFORMAT);
    }
}

static void
test_bad_still_image (void)
{
  static const char *const names[] = { "cover.png", "cover.jpg", "cover-png.mp4" };

  if (!need_ffmpeg ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = make_fixture (names[i], i == 2 ?
        "-f lavfi -i testsrc2=size=160x120 -frames:v 1 -c:v png -f image2" :
        "-f lavfi -i testsrc2=size=160x120 -frames:v 1 -update 1");
      g_assert_nonnull (p);
      assert_refused (p, names[i], "still", GV_EFORMAT);
    }
}

/* Binary-safe search (fixtures hold NUL bytes, so no strstr). */
static char *
find_bytes (char *data, gsize len, const char *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (data + i, needle, n) == 0)
      return data + i;
  return NULL;
}

static void
write_bytes (const char *path, const void *data, gsize len)
{
  g_assert_true (g_file_set_contents (path, data, (gssize) len, NULL));
}

static void
test_bad_huge_dims (void)
{
  g_autofree char *p = tmp_path ("huge.y4m");
  g_autofree char *q = NULL;
  g_autofree char *m = tmp_path ("huge.mp4");
  g_autofree char *data = NULL;
  GString *s = g_string_new ("YUV4MPEG2 W100000 H100000 F30:1 Ip A1:1 C420jpeg\nFRAME\n");
  GvSourceOptions small = { 0, 100 * 100, GV_HW_DECODE_OFF, NULL };
  GvFrameSource *src = NULL;
  gsize len;

  for (int i = 0; i < 4096; i++)
    g_string_append_c (s, (char) (i & 0x7f));
  write_bytes (p, s->str, s->len);
  g_string_free (s, TRUE);
  assert_refused (p, "huge.y4m", "100000x100000", GV_EFORMAT);

  if (!need_ffmpeg ())
    return;
  /* An mp4 whose sample description claims 65535x65535: refused from the header. */
  q = make_fixture ("frames2.mp4", "-f lavfi -i testsrc2=size=160x120:rate=30 -frames:v 2 "
                    "-c:v libx264 -pix_fmt yuv420p");
  g_assert_true (g_file_get_contents (q, &data, &len, NULL));
  {
    /* The sample entry after "stsd" (ftyp also names the avc1 brand). */
    char *stsd = find_bytes (data, len, "stsd");
    char *avc1;
    g_assert_nonnull (stsd);
    avc1 = find_bytes (stsd, len - (gsize) (stsd - data), "avc1");
    g_assert_nonnull (avc1);
    memset (avc1 + 28, 0xff, 4);
  }
  write_bytes (m, data, len);
  assert_refused (m, "huge.mp4", "refused", 0);

  /* opts->max_pixels lowers the limit. */
  gv_error_clear ();
  g_assert_cmpint (gv_frame_source_open (q, &small, &src), ==, GV_EFORMAT);
  g_assert_null (src);
  g_assert_nonnull (strstr (gv_error_message (), "160x120"));
}

static void
on_alarm (int sig)
{
  (void) sig;
  /* Only async-signal-safe calls here. */
  static const char msg[] = "Bail out! opening a FIFO blocked\n";
  if (write (1, msg, sizeof msg - 1) < 0)
    _exit (2);
  _exit (1);
}

static void
test_bad_fifo (void)
{
  g_autofree char *p = tmp_path ("pipe.mp4");

  g_assert_cmpint (mkfifo (p, 0600), ==, 0);
  signal (SIGALRM, on_alarm);
  alarm (10);
  assert_refused (p, "pipe.mp4", "FIFO", GV_EIO);
  alarm (0);
  signal (SIGALRM, SIG_DFL);
  g_unlink (p);
}

static void
test_bad_device (void)
{
  signal (SIGALRM, on_alarm);
  alarm (10);
  assert_refused ("/dev/zero", "/dev/zero", "device", GV_EIO);
  if (g_file_test ("/dev/null", G_FILE_TEST_EXISTS))
    assert_refused ("/dev/null", "/dev/null", "device", GV_EIO);
  alarm (0);
  signal (SIGALRM, SIG_DFL);
  assert_refused ("", "", NULL, GV_EINVAL);
}

static void
test_protocol_names (void)
{
  static const char *const names[] = { "concat:x.mp4", "pipe:x.mp4", "file:x.mp4",
                                        "subfile:x.mp4" };
  g_autofree char *orig = g_get_current_dir ();
  g_autofree char *src = NULL;
  g_autofree char *data = NULL;
  gsize len;

  if (!need_ffmpeg ())
    return;
  src = make_fixture ("frames2.mp4", "-f lavfi -i testsrc2=size=160x120:rate=30 -frames:v 2 "
                      "-c:v libx264 -pix_fmt yuv420p");
  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  g_assert_cmpint (g_chdir (tmpdir), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      Decoded d;
      write_bytes (names[i], data, len);
      g_assert_cmpint (decode_all (names[i], 0, &d), ==, 0);
      g_assert_cmpint (d.stats.frames_decoded, ==, 2);
      g_assert_true (g_str_has_suffix (d.info.path, names[i]));
      g_assert_true (g_path_is_absolute (d.info.path));
      decoded_clear (&d);
    }
  /* "x.mp4" alone must not exist: the protocols above would have read it. */
  g_assert_false (g_file_test ("x.mp4", G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_chdir (orig), ==, 0);
}

/* ---- damaged files ------------------------------------------------------------------- */

static char *
damaged_copy (const char *src, const char *name, double at, gsize n, guint32 seed)
{
  g_autofree char *data = NULL;
  char *p = tmp_path (name);
  GRand *r = g_rand_new_with_seed (seed);
  gsize len, off;

  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  off = (gsize) (len * at);
  g_assert_cmpuint (off + n, <, len);
  for (gsize i = 0; i < n; i++)
    data[off + i] = (char) g_rand_int (r);
  g_rand_free (r);
  write_bytes (p, data, len);
  return p;
}

static void
test_corrupt_middle (void)
{
  g_autofree char *src = NULL;
  g_autofree char *p = NULL;
  Decoded d;

  if (!need_ffmpeg ())
    return;
  src = make_fixture ("long.mp4", "-f lavfi -i testsrc2=size=160x120:rate=30 -frames:v 30 "
                      "-c:v libx264 -pix_fmt yuv420p -g 10");
  g_assert_nonnull (src);
  p = damaged_copy (src, "corrupt.mp4", 0.5, 2048, 1);
  g_assert_cmpint (decode_all (p, 0, &d), ==, 0);
  g_test_message ("corrupt.mp4: %lld frames, %lld decode errors, partial %d (%s)",
                  (long long) d.stats.frames_decoded, (long long) d.stats.decode_errors,
                  d.stats.partial, d.stats.partial_reason);
  g_assert_cmpint (d.last_rc, ==, 0);
  g_assert_cmpint (d.stats.frames_decoded, >=, 10);
  g_assert_true (d.stats.decode_errors > 0 || d.stats.partial);
  if (d.stats.partial)
    g_assert_cmpstr (d.stats.partial_reason, !=, "");
  assert_monotonic (d.pts);
  decoded_clear (&d);
}

static void
test_concealed (void)
{
  g_autofree char *src = NULL;
  g_autofree char *p = tmp_path ("concealed.mp4");
  g_autofree char *data = NULL;
  gsize len;
  GRand *r = g_rand_new_with_seed (3);
  Decoded d;

  if (!need_ffmpeg ())
    return;
  /* Small damage inside the coded slices (the sample table intact): the decoder conceals
   * it and still outputs every frame; each hit must be counted, at every thread count. */
  src = make_fixture ("long320.mp4", "-f lavfi -i testsrc2=size=320x240:rate=30 -frames:v 30 "
                      "-c:v libx264 -pix_fmt yuv420p -g 30");
  g_assert_nonnull (src);
  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  for (int k = 1; k <= 6; k++)
    for (gsize i = 0; i < 16; i++)
      data[len * k / 10 + i] = (char) g_rand_int (r);
  g_rand_free (r);
  write_bytes (p, data, len);
  for (int threads = 1; threads <= 4; threads += 3)
    {
      g_assert_cmpint (decode_all (p, threads, &d), ==, 0);
      g_test_message ("concealed.mp4 (%d threads): %lld frames, %lld decode errors, partial %d "
                      "(%s)", threads, (long long) d.stats.frames_decoded,
                      (long long) d.stats.decode_errors, d.stats.partial, d.stats.partial_reason);
      g_assert_cmpint (d.last_rc, ==, 0);
      g_assert_cmpint (d.stats.decode_errors, >, 0);
      g_assert_cmpint (d.stats.frames_decoded, >=, 28);
      assert_monotonic (d.pts);
      decoded_clear (&d);
    }
}

static void
test_truncated (void)
{
  static const char *const kinds[][2] = {
    { "fast.mp4", "-movflags +faststart" },
    { "cut.mkv", "" },
  };

  if (!need_ffmpeg ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *args = g_strdup_printf ("-f lavfi -i testsrc2=size=160x120:rate=30 "
                                               "-frames:v 30 -c:v libx264 -pix_fmt yuv420p %s",
                                               kinds[i][1]);
      g_autofree char *src = make_fixture (kinds[i][0], args);
      g_autofree char *name = g_strdup_printf ("half-%s", kinds[i][0]);
      g_autofree char *p = tmp_path (name);
      g_autofree char *data = NULL;
      gsize len;
      Decoded d;

      g_assert_nonnull (src);
      g_assert_true (g_file_get_contents (src, &data, &len, NULL));
      write_bytes (p, data, len / 2);
      g_assert_cmpint (decode_all (p, 0, &d), ==, 0);
      g_test_message ("%s: %lld frames, partial %d (%s)", name,
                      (long long) d.stats.frames_decoded, d.stats.partial,
                      d.stats.partial_reason);
      g_assert_cmpint (d.last_rc, ==, 0);
      g_assert_cmpint (d.stats.partial, ==, 1);
      g_assert_cmpstr (d.stats.partial_reason, !=, "");
      g_assert_cmpint (d.stats.frames_decoded, >, 0);
      g_assert_cmpint (d.stats.frames_decoded, <, 30);
      g_assert_cmpint ((gint64) d.pts->len, ==, d.stats.frames_decoded);
      decoded_clear (&d);
    }

  /* A default mp4 cut in half has lost its index (moov at the end): refused clearly. */
  {
    g_autofree char *src = make_fixture ("long.mp4", "-f lavfi -i testsrc2=size=160x120:rate=30 "
                                         "-frames:v 30 -c:v libx264 -pix_fmt yuv420p -g 10");
    g_autofree char *p = tmp_path ("nomoov.mp4");
    g_autofree char *data = NULL;
    gsize len;

    g_assert_true (g_file_get_contents (src, &data, &len, NULL));
    write_bytes (p, data, len / 2);
    assert_refused (p, "nomoov.mp4", "moov", GV_EFORMAT);
  }
}

static void
test_declared_count (void)
{
  g_autofree char *src = NULL;
  g_autofree char *p = tmp_path ("count40.avi");
  g_autofree char *data = NULL;
  gsize len;
  Decoded d;
  char *strh, *avih;
  guint32 forty = GUINT32_TO_LE (40);

  if (!need_ffmpeg ())
    return;
  src = make_fixture ("count.avi", "-f lavfi -i testsrc2=size=160x120:rate=30 -frames:v 12 "
                      "-c:v mpeg4");
  g_assert_nonnull (src);
  g_assert_cmpint (decode_all (src, 0, &d), ==, 0);
  g_assert_cmpint (d.info.declared_frames, ==, 12);
  g_assert_cmpint (d.stats.frames_decoded, ==, 12);
  g_assert_cmpint (d.stats.partial, ==, 0);
  decoded_clear (&d);

  /* The headers now claim 40 frames; the file holds 12. Trust what decodes, and say so. */
  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  strh = find_bytes (data, len, "strh");
  avih = find_bytes (data, len, "avih");
  g_assert_nonnull (strh);
  g_assert_nonnull (avih);
  memcpy (strh + 40, &forty, 4);
  memcpy (avih + 24, &forty, 4);
  write_bytes (p, data, len);
  g_assert_cmpint (decode_all (p, 0, &d), ==, 0);
  g_test_message ("count40.avi: declared %lld, %lld frames, partial %d (%s)",
                  (long long) d.info.declared_frames, (long long) d.stats.frames_decoded,
                  d.stats.partial, d.stats.partial_reason);
  g_assert_cmpint (d.info.declared_frames, ==, 40);
  g_assert_cmpint (d.stats.frames_decoded, ==, 12);
  g_assert_cmpint (d.stats.partial, ==, 1);
  g_assert_nonnull (strstr (d.stats.partial_reason, "40"));
  decoded_clear (&d);
}

/* ---- main ---------------------------------------------------------------------------- */

static void
rm_rf (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *n;

  if (!d)
    return;
  while ((n = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (dir, n, NULL);
      g_chmod (p, 0644);
      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        rm_rf (p);
      else
        g_unlink (p);
    }
  g_dir_close (d);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  av_log_set_level (g_test_verbose () ? AV_LOG_WARNING : AV_LOG_QUIET);
  ffmpeg_bin = g_find_program_in_path ("ffmpeg");
  ffprobe_bin = g_find_program_in_path ("ffprobe");
  tmpdir = g_dir_make_tmp ("gv-test-media-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);

  g_test_add_func ("/gv/media/mp4-basic", test_mp4_basic);
  g_test_add_func ("/gv/media/containers", test_containers);
  g_test_add_func ("/gv/media/av1", test_av1);
  g_test_add_func ("/gv/media/rotation", test_rotation);
  g_test_add_func ("/gv/media/vfr", test_vfr);
  g_test_add_func ("/gv/media/luma-grey", test_luma_grey);
  g_test_add_func ("/gv/media/kept-rgb", test_kept_rgb);
  g_test_add_func ("/gv/media/few-frames", test_few_frames);
  g_test_add_func ("/gv/media/bad/empty", test_bad_empty);
  g_test_add_func ("/gv/media/bad/text", test_bad_text);
  g_test_add_func ("/gv/media/bad/random", test_bad_random);
  g_test_add_func ("/gv/media/bad/directory", test_bad_directory);
  g_test_add_func ("/gv/media/bad/missing", test_bad_missing);
  g_test_add_func ("/gv/media/bad/unreadable", test_bad_unreadable);
  g_test_add_func ("/gv/media/bad/audio-only", test_bad_audio_only);
  g_test_add_func ("/gv/media/bad/still-image", test_bad_still_image);
  g_test_add_func ("/gv/media/bad/huge-dims", test_bad_huge_dims);
  g_test_add_func ("/gv/media/bad/fifo", test_bad_fifo);
  g_test_add_func ("/gv/media/bad/device", test_bad_device);
  g_test_add_func ("/gv/media/protocol-names", test_protocol_names);
  g_test_add_func ("/gv/media/damaged/corrupt-middle", test_corrupt_middle);
  g_test_add_func ("/gv/media/damaged/concealed", test_concealed);
  g_test_add_func ("/gv/media/damaged/truncated", test_truncated);
  g_test_add_func ("/gv/media/damaged/declared-count", test_declared_count);
  g_test_add_func ("/gv/media/hw-decode", test_hw_decode);

  rc = g_test_run ();
  rm_rf (tmpdir);
  g_free (tmpdir);
  g_free (ffmpeg_bin);
  g_free (ffprobe_bin);
  return rc;
}
