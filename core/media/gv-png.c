/* gv-png.c: PNG files through libavcodec's PNG encoder and decoder. Writes go to a temporary
 * name in the target directory and are renamed into place, so a reader never sees a
 * half-written file under the final name. */
#include "gv-media.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "gv-error.h"

#define GV_PNG_MAX_BYTES (512LL * 1024 * 1024)

static int
write_all (int fd, const uint8_t *buf, size_t n)
{
  while (n > 0)
    {
      ssize_t w = write (fd, buf, n);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      buf += w;
      n -= (size_t) w;
    }
  return 0;
}

int
gv_png_write (const GvImage *img, const char *path)
{
  const AVCodec *codec;
  AVCodecContext *ctx = NULL;
  AVFrame *frame = NULL;
  AVPacket *pkt = NULL;
  char *tmp = NULL;
  int fd = -1, ret = GV_OK, r;

  if (!img || !path || !*path)
    return gv_error_set (GV_EINVAL, "PNG write needs an image and a path");
  if (img->depth != GV_U8 || (img->channels != 1 && img->channels != 3))
    return gv_error_set (GV_EINVAL, "cannot write '%s': PNG writer takes U8 gray or RGB images "
                         "(got %d channels, %s)", path, img->channels,
                         img->depth == GV_U8 ? "U8" : "F32");
  codec = avcodec_find_encoder (AV_CODEC_ID_PNG);
  if (!codec)
    return gv_error_set (GV_EUNSUPPORTED, "cannot write '%s': this FFmpeg has no PNG encoder", path);
  ctx = avcodec_alloc_context3 (codec);
  frame = av_frame_alloc ();
  pkt = av_packet_alloc ();
  if (!ctx || !frame || !pkt)
    {
      ret = gv_error_set (GV_ENOMEM, "out of memory encoding '%s'", path);
      goto out;
    }
  ctx->width = img->width;
  ctx->height = img->height;
  ctx->pix_fmt = img->channels == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24;
  ctx->time_base = (AVRational) { 1, 1 };
  /* zlib level 1: several times faster than the default on frames and covers, files ~15 % larger. */
  ctx->compression_level = 1;
  if ((r = avcodec_open2 (ctx, codec, NULL)) < 0)
    {
      ret = gv_error_set (GV_EFORMAT, "cannot write '%s': PNG encoder refused %dx%d: %s", path,
                          img->width, img->height, av_err2str (r));
      goto out;
    }
  frame->width = img->width;
  frame->height = img->height;
  frame->format = ctx->pix_fmt;
  if (av_frame_get_buffer (frame, 0) < 0)
    {
      ret = gv_error_set (GV_ENOMEM, "out of memory encoding '%s'", path);
      goto out;
    }
  for (int y = 0; y < img->height; y++)
    memcpy (frame->data[0] + (size_t) y * frame->linesize[0], gv_image_row_u8 (img, y),
            (size_t) img->width * img->channels);
  if ((r = avcodec_send_frame (ctx, frame)) < 0 || (r = avcodec_send_frame (ctx, NULL)) < 0
      || (r = avcodec_receive_packet (ctx, pkt)) < 0)
    {
      ret = gv_error_set (GV_EFORMAT, "cannot write '%s': PNG encoding failed: %s", path,
                          av_err2str (r));
      goto out;
    }

  tmp = malloc (strlen (path) + 16);
  if (!tmp)
    {
      ret = gv_error_set (GV_ENOMEM, "out of memory writing '%s'", path);
      goto out;
    }
  sprintf (tmp, "%s.tmp-XXXXXX", path);
  fd = mkstemp (tmp);
  if (fd < 0)
    {
      ret = gv_error_set (GV_EIO, "cannot create '%s': %s", path, strerror (errno));
      free (tmp);
      tmp = NULL;
      goto out;
    }
  /* mkstemp makes 0600; a PNG is an ordinary shared artifact */
  {
    mode_t um = umask (0);
    umask (um);
    fchmod (fd, 0666 & ~um);
  }
  if (write_all (fd, pkt->data, (size_t) pkt->size) < 0)
    {
      ret = gv_error_set (GV_EIO, "cannot write '%s': %s", path, strerror (errno));
      goto out;
    }
  if (close (fd) < 0)
    {
      fd = -1;
      ret = gv_error_set (GV_EIO, "cannot write '%s': %s", path, strerror (errno));
      goto out;
    }
  fd = -1;
  if (rename (tmp, path) < 0)
    {
      ret = gv_error_set (GV_EIO, "cannot move the finished PNG into place as '%s': %s", path,
                          strerror (errno));
      goto out;
    }
  free (tmp);
  tmp = NULL;

out:
  if (fd >= 0)
    close (fd);
  if (tmp)
    {
      unlink (tmp);
      free (tmp);
    }
  av_packet_free (&pkt);
  av_frame_free (&frame);
  avcodec_free_context (&ctx);
  return ret;
}

static uint8_t *
read_file (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  uint8_t *buf = NULL;
  long n;

  if (!f)
    {
      gv_error_set (GV_EIO, "cannot open '%s': %s", path, strerror (errno));
      return NULL;
    }
  if (fseek (f, 0, SEEK_END) < 0 || (n = ftell (f)) < 0 || fseek (f, 0, SEEK_SET) < 0)
    {
      gv_error_set (GV_EIO, "cannot read '%s': %s", path, strerror (errno));
      goto out;
    }
  if (n == 0 || n > GV_PNG_MAX_BYTES)
    {
      gv_error_set (GV_EFORMAT, "cannot read '%s': %s", path,
                    n == 0 ? "the file is empty" : "the file is too large for a PNG");
      goto out;
    }
  buf = av_malloc ((size_t) n + AV_INPUT_BUFFER_PADDING_SIZE);
  if (!buf)
    {
      gv_error_set (GV_ENOMEM, "out of memory reading '%s'", path);
      goto out;
    }
  if (fread (buf, 1, (size_t) n, f) != (size_t) n)
    {
      gv_error_set (GV_EIO, "cannot read '%s': short read", path);
      av_freep (&buf);
      goto out;
    }
  memset (buf + n, 0, AV_INPUT_BUFFER_PADDING_SIZE);
  *len = (size_t) n;
out:
  fclose (f);
  return buf;
}

GvImage *
gv_png_read (const char *path)
{
  const AVCodec *codec;
  AVCodecContext *ctx = NULL;
  AVFrame *frame = NULL;
  AVPacket *pkt = NULL;
  struct SwsContext *sws = NULL;
  GvImage *img = NULL;
  uint8_t *buf = NULL;
  size_t len = 0;
  int r;

  if (!path || !*path)
    {
      gv_error_set (GV_EINVAL, "PNG read needs a path");
      return NULL;
    }
  buf = read_file (path, &len);
  if (!buf)
    return NULL;
  if (len < 8 || memcmp (buf, "\x89PNG\r\n\x1a\n", 8) != 0)
    {
      gv_error_set (GV_EFORMAT, "cannot read '%s': not a PNG file", path);
      goto out;
    }
  codec = avcodec_find_decoder (AV_CODEC_ID_PNG);
  ctx = codec ? avcodec_alloc_context3 (codec) : NULL;
  frame = av_frame_alloc ();
  pkt = av_packet_alloc ();
  if (!codec || !ctx || !frame || !pkt)
    {
      gv_error_set (codec ? GV_ENOMEM : GV_EUNSUPPORTED, "cannot read '%s': %s", path,
                    codec ? "out of memory" : "this FFmpeg has no PNG decoder");
      goto out;
    }
  if ((r = avcodec_open2 (ctx, codec, NULL)) < 0)
    {
      gv_error_set (GV_EFORMAT, "cannot read '%s': %s", path, av_err2str (r));
      goto out;
    }
  pkt->data = buf;
  pkt->size = (int) len;
  if ((r = avcodec_send_packet (ctx, pkt)) < 0 || (r = avcodec_receive_frame (ctx, frame)) < 0)
    {
      gv_error_set (GV_EFORMAT, "cannot read '%s': corrupt or unsupported PNG (%s)", path,
                    av_err2str (r));
      goto out;
    }
  {
    enum AVPixelFormat fmt = frame->format;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get (fmt);
    int gray = d && d->nb_components <= 2 && !(d->flags & AV_PIX_FMT_FLAG_PAL);
    int ch = gray ? 1 : 3;
    enum AVPixelFormat want = gray ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24;

    img = gv_image_new (frame->width, frame->height, ch, GV_U8);
    if (!img)
      goto out;
    if (fmt == want)
      {
        for (int y = 0; y < frame->height; y++)
          memcpy (gv_image_row_u8 (img, y), frame->data[0] + (size_t) y * frame->linesize[0],
                  (size_t) frame->width * ch);
      }
    else
      {
        uint8_t *dst[4] = { img->data, NULL, NULL, NULL };
        int dls[4] = { (int) img->stride, 0, 0, 0 };
        sws = sws_getContext (frame->width, frame->height, fmt, frame->width, frame->height, want,
                              SWS_POINT, NULL, NULL, NULL);
        if (!sws)
          {
            gv_error_set (GV_EUNSUPPORTED, "cannot read '%s': cannot convert pixel format %s",
                          path, av_get_pix_fmt_name (fmt));
            gv_image_free (img);
            img = NULL;
            goto out;
          }
        sws_scale (sws, (const uint8_t *const *) frame->data, frame->linesize, 0, frame->height,
                   dst, dls);
      }
  }

out:
  sws_freeContext (sws);
  av_packet_free (&pkt);
  av_frame_free (&frame);
  avcodec_free_context (&ctx);
  av_free (buf);
  return img;
}
