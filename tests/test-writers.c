/* test-writers.c: PNG write/read round trip and the video writer (frame count, size, VFR times,
 * display-matrix rotation), checked with libavformat directly (independent of the frame
 * source), plus errors for bad arguments. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/log.h>

#include "gv-error.h"
#include "gv-media.h"

static GvImage *
pattern (int w, int h, int ch, int seed)
{
  GvImage *img = gv_image_new (w, h, ch, GV_U8);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w * ch; x++)
      gv_image_row_u8 (img, y)[x] = (uint8_t) ((x * 7 + y * 13 + seed * 31 + (x * y) % 17) & 0xff);
  return img;
}

static void
test_png_roundtrip (void)
{
  g_autofree char *dir = g_dir_make_tmp ("gv-writers-XXXXXX", NULL);
  for (int ch = 1; ch <= 3; ch += 2)
    {
      g_autofree char *path = g_build_filename (dir, ch == 1 ? "gray.png" : "rgb.png", NULL);
      GvImage *img = pattern (37, 23, ch, ch);
      g_assert_cmpint (gv_png_write (img, path), ==, GV_OK);
      GvImage *back = gv_png_read (path);
      g_assert_nonnull (back);
      g_assert_cmpint (back->channels, ==, ch);
      g_assert_cmpint (gv_image_compare (img, back), ==, 0);
      gv_image_free (back);
      gv_image_free (img);
      g_unlink (path);
    }
  /* nothing left behind: no temporary names */
  GDir *d = g_dir_open (dir, 0, NULL);
  g_assert_null (g_dir_read_name (d));
  g_dir_close (d);
  g_rmdir (dir);
}

static void
test_png_errors (void)
{
  GvImage *img = pattern (8, 8, 3, 0);
  GvImage *f = gv_image_new (8, 8, 3, GV_F32);
  g_autofree char *dir = g_dir_make_tmp ("gv-writers-XXXXXX", NULL);
  g_autofree char *junk = g_build_filename (dir, "junk.png", NULL);

  g_assert_cmpint (gv_png_write (img, "/nonexistent-dir/x/y.png"), ==, GV_EIO);
  g_assert_nonnull (strstr (gv_error_message (), "/nonexistent-dir/x/y.png"));
  g_assert_cmpint (gv_png_write (f, junk), ==, GV_EINVAL);
  g_assert_null (gv_png_read ("/nonexistent-dir/none.png"));
  g_assert_cmpint (gv_error_code (), ==, GV_EIO);
  g_file_set_contents (junk, "not a png at all", -1, NULL);
  g_assert_null (gv_png_read (junk));
  g_assert_cmpint (gv_error_code (), ==, GV_EFORMAT);
  g_unlink (junk);
  g_rmdir (dir);
  gv_image_free (img);
  gv_image_free (f);
}

/* Opens path with libavformat and counts decoded frames; returns the display-matrix rotation
 * as av_display_rotation_get reports it. */
static void
probe (const char *path, int *n_frames, int *w, int *h, double *rot, double *pts, int max_pts)
{
  AVFormatContext *ic = NULL;
  AVCodecContext *dc = NULL;
  AVPacket *pkt = av_packet_alloc ();
  AVFrame *fr = av_frame_alloc ();
  int si;

  g_assert_cmpint (avformat_open_input (&ic, path, NULL, NULL), ==, 0);
  g_assert_cmpint (avformat_find_stream_info (ic, NULL), >=, 0);
  si = av_find_best_stream (ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
  g_assert_cmpint (si, >=, 0);
  AVStream *st = ic->streams[si];
  *w = st->codecpar->width;
  *h = st->codecpar->height;
  *rot = 0;
#if LIBAVFORMAT_VERSION_MAJOR >= 61
  const AVPacketSideData *sd = av_packet_side_data_get (st->codecpar->coded_side_data,
                                                        st->codecpar->nb_coded_side_data,
                                                        AV_PKT_DATA_DISPLAYMATRIX);
  const int32_t *m = sd ? (const int32_t *) sd->data : NULL;
#else
  const int32_t *m = (const int32_t *) av_stream_get_side_data (st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
#endif
  if (m)
    *rot = av_display_rotation_get (m);
  const AVCodec *codec = avcodec_find_decoder (st->codecpar->codec_id);
  dc = avcodec_alloc_context3 (codec);
  avcodec_parameters_to_context (dc, st->codecpar);
  g_assert_cmpint (avcodec_open2 (dc, codec, NULL), ==, 0);
  *n_frames = 0;
  for (int eof = 0; !eof;)
    {
      int r = av_read_frame (ic, pkt);
      if (r < 0)
        {
          eof = 1;
          avcodec_send_packet (dc, NULL);
        }
      else if (pkt->stream_index == si)
        avcodec_send_packet (dc, pkt);
      av_packet_unref (pkt);
      while (avcodec_receive_frame (dc, fr) == 0)
        {
          if (*n_frames < max_pts)
            pts[*n_frames] = fr->best_effort_timestamp * av_q2d (st->time_base);
          (*n_frames)++;
        }
    }
  av_frame_free (&fr);
  av_packet_free (&pkt);
  avcodec_free_context (&dc);
  avformat_close_input (&ic);
}

static void
test_video_roundtrip (void)
{
  g_autofree char *dir = g_dir_make_tmp ("gv-writers-XXXXXX", NULL);
  const char *exts[3] = { "mp4", "mkv", "mov" };
  const int rots[3] = { 90, 0, 270 };

  for (int k = 0; k < 3; k++)
    {
      g_autofree char *name = g_strdup_printf ("v.%s", exts[k]);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      GvVideoWriterOptions o = { "libx264", 28, rots[k], 0 };
      GvVideoWriter *w = NULL;
      double want[10], got[10], rot;
      int n, cw, ch;

      g_assert_cmpint (gv_video_writer_open (path, 160, 96, 30, &o, &w), ==, GV_OK);
      for (int i = 0; i < 10; i++)
        {
          GvImage *img = pattern (160, 96, 3, i);
          want[i] = i / 30.0 + (i % 3) * 0.004; /* variable frame rate */
          g_assert_cmpint (gv_video_writer_add (w, img, want[i]), ==, GV_OK);
          gv_image_free (img);
        }
      /* still under its temporary name until closed */
      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
      g_assert_cmpint (gv_video_writer_close (w), ==, GV_OK);
      probe (path, &n, &cw, &ch, &rot, got, 10);
      g_test_message ("%s: %d frames, coded %dx%d, display matrix %g", exts[k], n, cw, ch, rot);
      g_assert_cmpint (n, ==, 10);
      g_assert_cmpint (cw, ==, rots[k] % 180 ? 96 : 160);
      g_assert_cmpint (ch, ==, rots[k] % 180 ? 160 : 96);
      if (strcmp (exts[k], "mkv") != 0)
        {
          /* a player turns the picture clockwise by rotation: the matrix reads -rotation
           * (mod 360), as ffprobe shows rotation=-90 for a phone's rotate=90 */
          double r = fmod (-rot + 720.0, 360.0);
          g_assert_cmpfloat (fabs (r - rots[k]), <, 0.01);
        }
      /* mkv stores milliseconds; mp4/mov keep the 1/90000 time base */
      double tol = strcmp (exts[k], "mkv") ? 1.0 / 90000 + 1e-9 : 0.0005 + 1e-9;
      for (int i = 0; i < 10; i++)
        g_assert_cmpfloat (fabs ((got[i] - got[0]) - want[i]), <=, tol);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
test_video_errors (void)
{
  GvVideoWriterOptions o = { 0 };
  GvVideoWriter *w = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gv-writers-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "e.mp4", NULL);
  GvImage *img = pattern (64, 64, 3, 0);

  g_assert_cmpint (gv_video_writer_open ("/nonexistent-dir/sub/v.mp4", 64, 64, 30, &o, &w), ==, GV_EIO);
  g_assert_null (w);
  g_assert_nonnull (strstr (gv_error_message (), "/nonexistent-dir/sub/v.mp4"));
  g_assert_cmpint (gv_video_writer_open (path, 63, 64, 30, &o, &w), ==, GV_EINVAL);
  g_assert_cmpint (gv_video_writer_open (path, 64, 64, 0, &o, &w), ==, GV_EINVAL);
  o.rotation = 45;
  g_assert_cmpint (gv_video_writer_open (path, 64, 64, 30, &o, &w), ==, GV_EINVAL);
  o.rotation = 0;
  o.codec = "no-such-codec";
  g_assert_cmpint (gv_video_writer_open (path, 64, 64, 30, &o, &w), ==, GV_EUNSUPPORTED);
  o.codec = NULL;
  g_assert_cmpint (gv_video_writer_open ("/tmp/x.unknownext", 64, 64, 30, &o, &w), ==, GV_EINVAL);
  g_assert_cmpint (gv_video_writer_open (path, 64, 64, 30, &o, &w), ==, GV_OK);
  g_assert_cmpint (gv_video_writer_add (w, img, 0.1), ==, GV_OK);
  g_assert_cmpint (gv_video_writer_add (w, img, 0.1), ==, GV_EINVAL); /* times must increase */
  GvImage *small = pattern (32, 32, 3, 0);
  g_assert_cmpint (gv_video_writer_add (w, small, 0.2), ==, GV_EINVAL);
  gv_image_free (small);
  g_assert_cmpint (gv_video_writer_close (w), ==, GV_OK);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_unlink (path);
  g_rmdir (dir);
  gv_image_free (img);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  av_log_set_level (AV_LOG_ERROR);
  g_test_add_func ("/gv/writers/png-roundtrip", test_png_roundtrip);
  g_test_add_func ("/gv/writers/png-errors", test_png_errors);
  if (avcodec_find_encoder_by_name ("libx264"))
    {
      g_test_add_func ("/gv/writers/video-roundtrip", test_video_roundtrip);
      g_test_add_func ("/gv/writers/video-errors", test_video_errors);
    }
  return g_test_run ();
}
