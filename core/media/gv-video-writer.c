/* gv-video-writer.c: encodes upright RGB frames to a video file (libavformat + libavcodec).
 *
 * Timestamps: the encoder and the stream use a 1/90000 time base and each frame's pts is the
 * caller's time in seconds rounded to it, so variable frame rates survive exactly (to 11 us).
 * Rotation: opts->rotation is the clockwise angle a player must turn the coded picture to show
 * it upright (the legacy `rotate` tag's meaning). We store the upright picture turned
 * counter-clockwise by that angle and write a display matrix built with
 * av_display_rotation_set (+rotation): with FFmpeg 5.1, passing -rotation (as its header's
 * "counterclockwise" wording suggests) makes `ffmpeg` autorotate the wrong way; +rotation gives
 * the upright picture and ffprobe's usual "rotation=-90" for a 90 (as phone videos show).
 * The file is written under "<path>.part" and renamed on a successful close. */
#include "gv-media.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "gv-error.h"

#define GV_VW_TIMEBASE 90000

struct GvVideoWriter {
  char *path, *tmp;
  AVFormatContext *oc;
  AVCodecContext *enc;
  AVStream *st;
  AVFrame *frame;
  AVPacket *pkt;
  struct SwsContext *sws;
  uint8_t *rot;        /* rotated RGB scratch (coded size) */
  int width, height;   /* upright */
  int cw, ch;          /* coded */
  int rotation;
  int64_t last_pts;
  int64_t n_frames;
  int header_written;
};

static void
writer_free (GvVideoWriter *w)
{
  if (!w)
    return;
  if (w->oc && w->oc->pb && !(w->oc->oformat->flags & AVFMT_NOFILE))
    avio_closep (&w->oc->pb);
  avformat_free_context (w->oc);
  avcodec_free_context (&w->enc);
  av_frame_free (&w->frame);
  av_packet_free (&w->pkt);
  sws_freeContext (w->sws);
  free (w->rot);
  free (w->path);
  free (w->tmp);
  free (w);
}

static int
codec_supports (const AVCodec *c, enum AVPixelFormat f)
{
  if (!c->pix_fmts)
    return 1;
  for (const enum AVPixelFormat *p = c->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
    if (*p == f)
      return 1;
  return 0;
}

int
gv_video_writer_open (const char *path, int width, int height, double fps,
                      const GvVideoWriterOptions *opts, GvVideoWriter **out)
{
  GvVideoWriterOptions def = { 0 };
  const AVOutputFormat *ofmt;
  const AVCodec *codec;
  GvVideoWriter *w = NULL;
  AVDictionary *eopts = NULL;
  const char *cname;
  enum AVPixelFormat pixfmt;
  int r, ret;

  if (out)
    *out = NULL;
  if (!path || !*path || !out)
    return gv_error_set (GV_EINVAL, "video writer needs a path and an output pointer");
  if (!opts)
    opts = &def;
  cname = opts->codec && *opts->codec ? opts->codec : "libx264";
  if (width < 16 || height < 16 || width > 8192 || height > 8192)
    return gv_error_set (GV_EINVAL, "cannot write '%s': frame size %dx%d is outside 16..8192",
                         path, width, height);
  if ((width | height) & 1)
    return gv_error_set (GV_EINVAL, "cannot write '%s': frame size %dx%d must be even for 4:2:0 "
                         "video", path, width, height);
  if (!(fps > 0 && fps <= 1000))
    return gv_error_set (GV_EINVAL, "cannot write '%s': frame rate %g is outside 0..1000", path, fps);
  if (opts->rotation != 0 && opts->rotation != 90 && opts->rotation != 180 && opts->rotation != 270)
    return gv_error_set (GV_EINVAL, "cannot write '%s': rotation %d is not 0, 90, 180 or 270",
                         path, opts->rotation);
  if (opts->crf < 0 || opts->crf > 63)
    return gv_error_set (GV_EINVAL, "cannot write '%s': crf %d is outside 0..63", path, opts->crf);

  ofmt = av_guess_format (NULL, path, NULL);
  if (!ofmt)
    return gv_error_set (GV_EINVAL, "cannot write '%s': no container for its file extension "
                         "(use .mp4, .mov, .mkv or .webm)", path);
  codec = avcodec_find_encoder_by_name (cname);
  if (!codec || codec->type != AVMEDIA_TYPE_VIDEO)
    return gv_error_set (GV_EUNSUPPORTED, "cannot write '%s': this FFmpeg has no video encoder "
                         "named '%s'", path, cname);
  if (avformat_query_codec (ofmt, codec->id, FF_COMPLIANCE_NORMAL) != 1)
    return gv_error_set (GV_EUNSUPPORTED, "cannot write '%s': the %s container cannot hold %s",
                         path, ofmt->name, cname);
  pixfmt = opts->ten_bit ? AV_PIX_FMT_YUV420P10LE : AV_PIX_FMT_YUV420P;
  if (!codec_supports (codec, pixfmt))
    return gv_error_set (GV_EUNSUPPORTED, "cannot write '%s': encoder %s has no %s pixel format",
                         path, cname, av_get_pix_fmt_name (pixfmt));

  w = calloc (1, sizeof *w);
  if (!w)
    return gv_error_set (GV_ENOMEM, "out of memory opening '%s'", path);
  w->path = strdup (path);
  w->tmp = malloc (strlen (path) + 8);
  if (!w->path || !w->tmp)
    {
      ret = gv_error_set (GV_ENOMEM, "out of memory opening '%s'", path);
      goto fail;
    }
  sprintf (w->tmp, "%s.part", path);
  w->width = width;
  w->height = height;
  w->rotation = opts->rotation;
  w->cw = (opts->rotation == 90 || opts->rotation == 270) ? height : width;
  w->ch = (opts->rotation == 90 || opts->rotation == 270) ? width : height;
  w->last_pts = INT64_MIN;

  if ((r = avformat_alloc_output_context2 (&w->oc, ofmt, NULL, path)) < 0 || !w->oc)
    {
      ret = gv_error_set (GV_ENOMEM, "cannot write '%s': %s", path, av_err2str (r));
      goto fail;
    }
  w->enc = avcodec_alloc_context3 (codec);
  w->frame = av_frame_alloc ();
  w->pkt = av_packet_alloc ();
  w->rot = malloc ((size_t) width * height * 3);
  if (!w->enc || !w->frame || !w->pkt || !w->rot)
    {
      ret = gv_error_set (GV_ENOMEM, "out of memory opening '%s'", path);
      goto fail;
    }
  w->enc->width = w->cw;
  w->enc->height = w->ch;
  w->enc->pix_fmt = pixfmt;
  w->enc->time_base = (AVRational) { 1, GV_VW_TIMEBASE };
  w->enc->framerate = av_d2q (fps, 1000000);
  w->enc->gop_size = (int) ceil (fps * 2);
  w->enc->color_range = AVCOL_RANGE_MPEG;
  w->enc->colorspace = AVCOL_SPC_SMPTE170M; /* what swscale's default RGB->YUV matrix is */
  w->enc->color_primaries = AVCOL_PRI_BT709;
  w->enc->color_trc = AVCOL_TRC_BT709;
  w->enc->thread_count = 0;
  if (w->oc->oformat->flags & AVFMT_GLOBALHEADER)
    w->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

  /* speed-oriented presets: these files are test fixtures and synthetic scans */
  if (!strcmp (cname, "libx264") || !strcmp (cname, "libx265"))
    {
      av_dict_set (&eopts, "preset", "veryfast", 0);
      if (opts->crf > 0)
        av_dict_set_int (&eopts, "crf", opts->crf, 0);
      if (!strcmp (cname, "libx265"))
        av_dict_set (&eopts, "x265-params", "log-level=error", 0);
    }
  else if (!strcmp (cname, "libvpx-vp9"))
    {
      av_dict_set (&eopts, "deadline", "realtime", 0);
      av_dict_set (&eopts, "cpu-used", "8", 0);
      av_dict_set_int (&eopts, "crf", opts->crf > 0 ? opts->crf : 32, 0);
      w->enc->bit_rate = 0;
    }
  else if (!strcmp (cname, "libaom-av1"))
    {
      av_dict_set (&eopts, "cpu-used", "8", 0);
      av_dict_set (&eopts, "usage", "realtime", 0);
      av_dict_set_int (&eopts, "crf", opts->crf > 0 ? opts->crf : 32, 0);
      w->enc->bit_rate = 0;
    }
  else if (!strcmp (cname, "libsvtav1"))
    {
      av_dict_set (&eopts, "preset", "12", 0);
      if (opts->crf > 0)
        av_dict_set_int (&eopts, "crf", opts->crf, 0);
    }
  else if (opts->crf > 0)
    av_dict_set_int (&eopts, "crf", opts->crf, 0);

  r = avcodec_open2 (w->enc, codec, &eopts);
  av_dict_free (&eopts);
  if (r < 0)
    {
      ret = gv_error_set (GV_EFORMAT, "cannot write '%s': encoder %s refused %dx%d %s: %s", path,
                          cname, w->cw, w->ch, av_get_pix_fmt_name (pixfmt), av_err2str (r));
      goto fail;
    }
  w->st = avformat_new_stream (w->oc, NULL);
  if (!w->st || avcodec_parameters_from_context (w->st->codecpar, w->enc) < 0)
    {
      ret = gv_error_set (GV_ENOMEM, "out of memory opening '%s'", path);
      goto fail;
    }
  w->st->time_base = w->enc->time_base;
  w->st->avg_frame_rate = w->enc->framerate;
  if (opts->rotation)
    {
      int32_t *m;
#if LIBAVFORMAT_VERSION_MAJOR >= 61
      AVPacketSideData *sd = av_packet_side_data_new (&w->st->codecpar->coded_side_data,
                                                      &w->st->codecpar->nb_coded_side_data,
                                                      AV_PKT_DATA_DISPLAYMATRIX,
                                                      sizeof (int32_t) * 9, 0);
      m = sd ? (int32_t *) sd->data : NULL;
#else
      m = (int32_t *) av_stream_new_side_data (w->st, AV_PKT_DATA_DISPLAYMATRIX,
                                               sizeof (int32_t) * 9);
#endif
      if (!m)
        {
          ret = gv_error_set (GV_ENOMEM, "out of memory opening '%s'", path);
          goto fail;
        }
      /* checked against ffmpeg's autorotate and ffprobe (which then reports rotation=-90 for a
       * 90, as for phone videos tagged rotate=90): the display matrix takes +rotation here */
      av_display_rotation_set (m, (double) opts->rotation);
    }

  w->frame->format = pixfmt;
  w->frame->width = w->cw;
  w->frame->height = w->ch;
  if (av_frame_get_buffer (w->frame, 0) < 0)
    {
      ret = gv_error_set (GV_ENOMEM, "out of memory opening '%s'", path);
      goto fail;
    }
  w->sws = sws_getContext (w->cw, w->ch, AV_PIX_FMT_RGB24, w->cw, w->ch, pixfmt,
                           SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
  if (!w->sws)
    {
      ret = gv_error_set (GV_EUNSUPPORTED, "cannot write '%s': no RGB to %s conversion", path,
                          av_get_pix_fmt_name (pixfmt));
      goto fail;
    }

  if (!(w->oc->oformat->flags & AVFMT_NOFILE))
    {
      if ((r = avio_open (&w->oc->pb, w->tmp, AVIO_FLAG_WRITE)) < 0)
        {
          ret = gv_error_set (GV_EIO, "cannot create '%s': %s", path, av_err2str (r));
          goto fail;
        }
    }
  if ((r = avformat_write_header (w->oc, NULL)) < 0)
    {
      ret = gv_error_set (GV_EIO, "cannot write the header of '%s': %s", path, av_err2str (r));
      goto fail;
    }
  w->header_written = 1;
  *out = w;
  return GV_OK;

fail:
  if (w && w->oc && w->oc->pb)
    {
      avio_closep (&w->oc->pb);
      unlink (w->tmp);
    }
  writer_free (w);
  return ret;
}

/* Sends frame (or NULL to flush) and writes what the encoder hands back. */
static int
encode (GvVideoWriter *w, AVFrame *frame)
{
  int r = avcodec_send_frame (w->enc, frame);
  if (r < 0)
    return gv_error_set (GV_EFORMAT, "cannot write '%s': encoding failed: %s", w->path,
                         av_err2str (r));
  for (;;)
    {
      r = avcodec_receive_packet (w->enc, w->pkt);
      if (r == AVERROR (EAGAIN) || r == AVERROR_EOF)
        return GV_OK;
      if (r < 0)
        return gv_error_set (GV_EFORMAT, "cannot write '%s': encoding failed: %s", w->path,
                             av_err2str (r));
      av_packet_rescale_ts (w->pkt, w->enc->time_base, w->st->time_base);
      w->pkt->stream_index = w->st->index;
      r = av_interleaved_write_frame (w->oc, w->pkt);
      if (r < 0)
        return gv_error_set (GV_EIO, "cannot write '%s': %s", w->path, av_err2str (r));
    }
}

int
gv_video_writer_add (GvVideoWriter *w, const GvImage *rgb, double pts)
{
  const uint8_t *src;
  int src_stride, r;
  int64_t ipts;

  if (!w || !rgb)
    return gv_error_set (GV_EINVAL, "video writer add needs a writer and an image");
  if (rgb->depth != GV_U8 || rgb->channels != 3 || rgb->width != w->width
      || rgb->height != w->height)
    return gv_error_set (GV_EINVAL, "cannot write '%s': frame must be %dx%d U8 RGB (got %dx%dx%d)",
                         w->path, w->width, w->height, rgb->width, rgb->height, rgb->channels);
  if (!isfinite (pts) || pts < 0 || pts > 1e7)
    return gv_error_set (GV_EINVAL, "cannot write '%s': time %g s is not valid", w->path, pts);
  ipts = llround (pts * GV_VW_TIMEBASE);
  if (ipts <= w->last_pts)
    return gv_error_set (GV_EINVAL, "cannot write '%s': frame times must increase (%.6f s after "
                         "%.6f s)", w->path, pts, (double) w->last_pts / GV_VW_TIMEBASE);

  if (w->rotation == 0)
    {
      src = rgb->data;
      src_stride = (int) rgb->stride;
    }
  else
    {
      /* coded(cx, cy) = upright turned counter-clockwise by the rotation */
      int W = w->width, H = w->height;
      for (int cy = 0; cy < w->ch; cy++)
        {
          uint8_t *o = w->rot + (size_t) cy * w->cw * 3;
          for (int cx = 0; cx < w->cw; cx++)
            {
              int ux, uy;
              if (w->rotation == 90)
                ux = W - 1 - cy, uy = cx;
              else if (w->rotation == 180)
                ux = W - 1 - cx, uy = H - 1 - cy;
              else
                ux = cy, uy = H - 1 - cx;
              memcpy (o + 3 * cx, gv_image_row_u8 (rgb, uy) + 3 * ux, 3);
            }
        }
      src = w->rot;
      src_stride = w->cw * 3;
    }
  if ((r = av_frame_make_writable (w->frame)) < 0)
    return gv_error_set (GV_ENOMEM, "cannot write '%s': %s", w->path, av_err2str (r));
  sws_scale (w->sws, &src, &src_stride, 0, w->ch, w->frame->data, w->frame->linesize);
  w->frame->pts = ipts;
  w->last_pts = ipts;
  r = encode (w, w->frame);
  if (r == GV_OK)
    w->n_frames++;
  return r;
}

int
gv_video_writer_close (GvVideoWriter *w)
{
  int ret = GV_OK, r;

  if (!w)
    return GV_OK;
  if (w->header_written)
    {
      ret = encode (w, NULL);
      if ((r = av_write_trailer (w->oc)) < 0 && ret == GV_OK)
        ret = gv_error_set (GV_EIO, "cannot finish '%s': %s", w->path, av_err2str (r));
    }
  if (w->oc->pb && !(w->oc->oformat->flags & AVFMT_NOFILE))
    {
      if ((r = avio_closep (&w->oc->pb)) < 0 && ret == GV_OK)
        ret = gv_error_set (GV_EIO, "cannot finish '%s': %s", w->path, av_err2str (r));
    }
  if (ret == GV_OK && w->n_frames == 0)
    ret = gv_error_set (GV_EINVAL, "'%s' not written: no frames were added", w->path);
  if (ret == GV_OK)
    {
      if (rename (w->tmp, w->path) < 0)
        ret = gv_error_set (GV_EIO, "cannot move the finished video into place as '%s': %s",
                            w->path, strerror (errno));
    }
  else
    unlink (w->tmp);
  writer_free (w);
  return ret;
}
