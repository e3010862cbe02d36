/* gv-frame-source.c: the FFmpeg frame source.
 *
 * One sequential demux/decode pass (never a seek per frame) with the decoder's own frame and
 * slice threads. Input is checked before FFmpeg sees it: regular files only (stat, so a FIFO
 * never blocks us), opened by absolute path through the `file` protocol alone, with still
 * images, text files and absurd frame sizes refused in plain words. The display matrix is
 * applied to the luma (and to kept frames' RGB) because libavcodec hands out coded pictures;
 * 8-bit YUV luma is a view on the decoder's Y plane, other formats go through swscale.
 * Mid-stream damage is counted (GvDecodeStats.decode_errors) and a stream that ends early
 * (truncated or unreadable data) is marked partial with a reason: never a silent success.
 * The path "-" reads a YUV4MPEG2 stream from standard input in one pass (a pipe never seeks):
 * the yuv4mpegpipe demuxer over our own read callback, so that an empty or foreign stream is
 * told apart in the message and a frame cut short at the end is seen (the demuxer drops it). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* realpath, O_CLOEXEC, S_ISSOCK, mkfifo with plain -std=c17 */
#endif
#include "gv-media.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/hwcontext.h>
/* libavutil/hwcontext_cuda.h wants cuda.h for two handle types; declared here so that this
 * file builds without the CUDA toolkit (FFmpeg loads the driver at run time). */
#ifndef CUDA_VERSION
#define CUDA_VERSION 0
typedef struct CUctx_st *CUcontext;
typedef struct CUstream_st *CUstream;
#endif
#include <libavutil/hwcontext_cuda.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "gv-error.h"

/* Consecutive decoder failures after which the stream is treated as unreadable: a decoder
 * that rejects this many packets in a row is not going to recover. */
#define GV_MAX_CONSECUTIVE_ERRORS 256

struct GvFrameSource {
  GvMediaInfo info;
  GvDecodeStats stats;
  char *name;                 /* the path as the caller gave it, for messages */
  int64_t max_pixels;

  AVFormatContext *fmt;
  AVCodecContext *dec;
  AVStream *st;
  int stream_index;
  AVPacket *pkt;
  AVFrame *frame;             /* the current decoded picture */

  struct SwsContext *sws;     /* to GRAY8, only for formats without an 8-bit Y plane */
  uint8_t *gray;
  int gray_stride;
  size_t gray_size;
  uint8_t *rot;
  size_t rot_size;

  AVBufferRef *hwdev;         /* CUDA device for GPU decoding, or NULL */
  int hw_mode;                /* GV_HW_DECODE_* asked for */
  int hw_refused;             /* get_format found no CUDA surface format for this stream */
  AVFrame *swframe;           /* a GPU-decoded frame brought to host memory */
  int swframe_current;        /* swframe holds the current frame (downloaded once per frame) */

  GvFrame out;
  int have_current;           /* out / frame describe a frame handed out (or primed) */
  int primed;                 /* frame decoded by open, not yet handed out */
  int decoding_done;          /* decoder drained (or stopped) */
  int eof_sent;
  int consecutive_errors;
  int read_error;
  char read_error_text[128];

  atomic_int logged_errors;   /* error lines the decoder logged (see gv_log_hook) */
  int seen_logged_errors;
  int registered;

  AVIOContext *stdin_pb;      /* standard input ("-"), ours to free */
  int64_t stdin_bytes;
  uint8_t stdin_head[128];      /* the first bytes, for messages */
  int stdin_head_n;
  int64_t y4m_data_offset;    /* YUV4MPEG2: where the first FRAME starts (0: not Y4M) */

  int64_t first_ts;
  int64_t last_ts;
  double last_pts;
  int64_t packets_read;
  int64_t packets_discarded;
  int first_w, first_h;
};

struct GvKeptFrame {
  AVFrame *frame;
  int rotation;
  int index;
  double pts;
  char *name;
};

static void
gv_av_reason (int err, char *buf, size_t size)
{
  if (av_strerror (err, buf, size) < 0)
    snprintf (buf, size, "error %d", err);
}

/* ---- concealed damage ----------------------------------------------------------------
 * FFmpeg 5.1 loses FF_DECODE_ERROR_CONCEALMENT_ACTIVE on frame-threaded H.264, so damage the
 * decoder hides is seen only in its log. A process-wide av_log callback (installed once,
 * forwarding everything to av_log_default_callback) counts error lines from the codec
 * contexts of live sources, found through AVCodecContext.opaque (copied to frame-thread
 * contexts) in a registry; gv_receive turns "errors logged since the last frame" into one
 * decode error per affected frame. */

#define GV_MAX_SOURCES 64
static pthread_mutex_t gv_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static GvFrameSource *gv_reg[GV_MAX_SOURCES];
static pthread_once_t gv_log_once = PTHREAD_ONCE_INIT;

static void
gv_log_hook (void *avcl, int level, const char *fmt, va_list vl)
{
  if (avcl && level <= AV_LOG_ERROR && *(const AVClass *const *) avcl == avcodec_get_class ())
    {
      const void *op = ((const AVCodecContext *) avcl)->opaque;
      int i;
      if (op)
        {
          pthread_mutex_lock (&gv_reg_lock);
          for (i = 0; i < GV_MAX_SOURCES; i++)
            if (gv_reg[i] && (const void *) gv_reg[i] == op)
              atomic_fetch_add (&gv_reg[i]->logged_errors, 1);
          pthread_mutex_unlock (&gv_reg_lock);
        }
    }
  av_log_default_callback (avcl, level, fmt, vl);
}

static void
gv_log_install (void)
{
  av_log_set_callback (gv_log_hook);
}

static void
gv_register (GvFrameSource *src, int on)
{
  int i;

  pthread_once (&gv_log_once, gv_log_install);
  pthread_mutex_lock (&gv_reg_lock);
  for (i = 0; i < GV_MAX_SOURCES; i++)
    if (on ? gv_reg[i] == NULL : gv_reg[i] == src)
      {
        gv_reg[i] = on ? src : NULL;
        src->registered = on;
        break;
      }
  pthread_mutex_unlock (&gv_reg_lock);
}

/* ---- checks before FFmpeg sees the file ---------------------------------------------- */

static int
gv_check_path (const char *name, struct stat *st)
{
  if (stat (name, st) != 0)
    {
      int e = errno;
      if (e == ENOENT)
        return gv_error_set (GV_EIO, "%s: no such file", name);
      if (e == EACCES)
        return gv_error_set (GV_EIO, "%s: cannot be read (permission denied)", name);
      return gv_error_set (GV_EIO, "%s: cannot be read (%s)", name, strerror (e));
    }
  if (S_ISDIR (st->st_mode))
    return gv_error_set (GV_EIO, "%s: is a directory, not a video file", name);
  if (S_ISFIFO (st->st_mode))
    return gv_error_set (GV_EIO, "%s: is a named pipe (FIFO), not a regular file; "
                         "only regular video files can be analysed", name);
  if (S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode))
    return gv_error_set (GV_EIO, "%s: is a device, not a regular file; "
                         "only regular video files can be analysed", name);
  if (S_ISSOCK (st->st_mode))
    return gv_error_set (GV_EIO, "%s: is a socket, not a regular file", name);
  if (!S_ISREG (st->st_mode))
    return gv_error_set (GV_EIO, "%s: is not a regular file", name);
  if (st->st_size == 0)
    return gv_error_set (GV_EFORMAT, "%s: the file is empty (0 bytes)", name);
  return 0;
}

static int
gv_looks_like_text (const uint8_t *b, size_t n)
{
  size_t i;

  if (n == 0)
    return 0;
  for (i = 0; i < n; i++)
    {
      uint8_t c = b[i];
      if (c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x1b)
        continue;
      if (c < 0x20 || c == 0x7f)
        return 0;
    }
  return 1;
}

/* Reads the head of the file through a descriptor opened non-blocking and re-checked with
 * fstat, so a file swapped for a FIFO after stat still cannot block us. */
static int
gv_sniff (const char *name, const char *abspath, uint8_t *head, size_t *n)
{
  struct stat st;
  ssize_t r;
  int fd = open (abspath, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

  if (fd < 0)
    {
      int e = errno;
      if (e == EACCES || e == EPERM)
        return gv_error_set (GV_EIO, "%s: cannot be read (permission denied)", name);
      return gv_error_set (GV_EIO, "%s: cannot be opened (%s)", name, strerror (e));
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return gv_error_set (GV_EIO, "%s: is not a regular file", name);
    }
  r = read (fd, head, *n);
  if (r < 0)
    {
      int e = errno;
      close (fd);
      return gv_error_set (GV_EIO, "%s: cannot be read (%s)", name, strerror (e));
    }
  close (fd);
  *n = (size_t) r;
  if (r == 0)
    return gv_error_set (GV_EFORMAT, "%s: the file is empty (0 bytes)", name);
  return 0;
}

static const char *
gv_still_image_kind (const uint8_t *b, size_t n)
{
  static const uint8_t png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

  if (n >= 8 && memcmp (b, png, 8) == 0)
    return "PNG";
  if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
    return "JPEG";
  if (n >= 12 && memcmp (b, "RIFF", 4) == 0 && memcmp (b + 8, "WEBP", 4) == 0)
    return "WebP";
  if (n >= 2 && b[0] == 'B' && b[1] == 'M')
    return "BMP";
  if (n >= 4 && (memcmp (b, "II*\0", 4) == 0 || memcmp (b, "MM\0*", 4) == 0))
    return "TIFF";
  return NULL;
}

static int
gv_is_mp4_family (const uint8_t *b, size_t n)
{
  return n >= 8 && (memcmp (b + 4, "ftyp", 4) == 0 || memcmp (b + 4, "mdat", 4) == 0 ||
                    memcmp (b + 4, "wide", 4) == 0 || memcmp (b + 4, "free", 4) == 0);
}

static int
gv_dims_refused (const GvFrameSource *src, int w, int h)
{
  return w <= 0 || h <= 0 || w > GV_IMAGE_MAX_SIDE || h > GV_IMAGE_MAX_SIDE ||
         (int64_t) w * h > src->max_pixels;
}

static int
gv_refuse_dims (const GvFrameSource *src, int w, int h, const char *where)
{
  return gv_error_set (GV_EFORMAT, "%s: %s frame size %dx%d is refused (the limit is "
                       "%lld pixels and %d pixels a side); the file is damaged or not a "
                       "phone video", src->name, where, w, h, (long long) src->max_pixels,
                       GV_IMAGE_MAX_SIDE);
}

/* Demuxers and codecs FFmpeg uses for things that are not videos of the world. */
static int
gv_is_text_art (const AVFormatContext *fmt, enum AVCodecID id)
{
  static const char *const demuxers[] = { "tty", "bin", "xbin", "adf", "idf", NULL };
  int i;

  for (i = 0; demuxers[i]; i++)
    if (strcmp (fmt->iformat->name, demuxers[i]) == 0)
      return 1;
  return id == AV_CODEC_ID_ANSI || id == AV_CODEC_ID_BINTEXT || id == AV_CODEC_ID_XBIN ||
         id == AV_CODEC_ID_IDF;
}

static int
gv_is_image_demuxer (const AVFormatContext *fmt)
{
  const char *n = fmt->iformat->name;
  size_t len = strlen (n);

  return strcmp (n, "image2") == 0 || strcmp (n, "image2pipe") == 0 ||
         (len > 5 && strcmp (n + len - 5, "_pipe") == 0);
}

static int
gv_rotation_of (const AVStream *st)
{
  size_t size = 0;
  const uint8_t *sd = av_stream_get_side_data (st, AV_PKT_DATA_DISPLAYMATRIX, &size);
  double theta;
  long q;

  if (!sd || size < 9 * sizeof (int32_t))
    return 0;
  /* av_display_rotation_get is counter-clockwise; frames need the clockwise angle. */
  theta = -av_display_rotation_get ((const int32_t *) (const void *) sd);
  if (!isfinite (theta))
    return 0;
  q = lround (theta / 90.0);
  q %= 4;
  if (q < 0)
    q += 4;
  return (int) q * 90;
}

static const AVCodec *
gv_find_decoder (enum AVCodecID id)
{
  const AVCodec *c = NULL;

  /* The native AV1 decoder only drives hardware; prefer the software ones. */
  if (id == AV_CODEC_ID_AV1)
    {
      c = avcodec_find_decoder_by_name ("libdav1d");
      if (!c)
        c = avcodec_find_decoder_by_name ("libaom-av1");
    }
  if (!c)
    c = avcodec_find_decoder (id);
  return c;
}

static int
gv_is_8bit_y_plane (enum AVPixelFormat f)
{
  const AVPixFmtDescriptor *d = av_pix_fmt_desc_get (f);

  if (!d || d->nb_components < 1)
    return 0;
  if (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL |
                  AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_BE | AV_PIX_FMT_FLAG_FLOAT |
                  AV_PIX_FMT_FLAG_BAYER))
    return 0;
  return d->comp[0].plane == 0 && d->comp[0].depth == 8 && d->comp[0].step == 1 &&
         d->comp[0].shift == 0 && d->comp[0].offset == 0;
}

/* ---- standard input ------------------------------------------------------------------ */

#define GV_STDIN_BUFFER (1 << 16)

static int
gv_stdin_read (void *opaque, uint8_t *buf, int size)
{
  GvFrameSource *src = opaque;
  ssize_t r;

  do
    r = read (STDIN_FILENO, buf, (size_t) size);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return AVERROR (errno);
  if (r == 0)
    return AVERROR_EOF;
  if (src->stdin_head_n < (int) sizeof src->stdin_head)
    {
      int n = (int) sizeof src->stdin_head - src->stdin_head_n;
      n = n < r ? n : (int) r;
      memcpy (src->stdin_head + src->stdin_head_n, buf, (size_t) n);
      src->stdin_head_n += n;
    }
  src->stdin_bytes += r;
  return (int) r;
}

/* Opens standard input as a YUV4MPEG2 stream. */
static int
gv_open_stdin (GvFrameSource *src, const char *name)
{
  const AVInputFormat *y4m = av_find_input_format ("yuv4mpegpipe");
  uint8_t *buf;
  char reason[128];
  int ret, i;

  if (isatty (STDIN_FILENO))
    return gv_error_set (GV_EIO, "%s is a terminal: pipe a YUV4MPEG2 stream into it, e.g. "
                         "ffmpeg -i scan.mp4 -f yuv4mpegpipe - | gvscan analyze -", name);
  if (!y4m)
    return gv_error_set (GV_EUNSUPPORTED, "%s: this FFmpeg build has no YUV4MPEG2 demuxer", name);
  if (!(src->fmt = avformat_alloc_context ()) || !(buf = av_malloc (GV_STDIN_BUFFER)))
    return gv_error_set (GV_ENOMEM, "%s: out of memory", name);
  src->stdin_pb = avio_alloc_context (buf, GV_STDIN_BUFFER, 0, src, gv_stdin_read, NULL, NULL);
  if (!src->stdin_pb)
    {
      av_free (buf);
      return gv_error_set (GV_ENOMEM, "%s: out of memory", name);
    }
  src->fmt->pb = src->stdin_pb;
  src->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  ret = avformat_open_input (&src->fmt, "pipe:", y4m, NULL);
  if (ret >= 0)
    return 0;
  gv_av_reason (ret, reason, sizeof reason);
  if (src->stdin_bytes == 0)
    return gv_error_set (GV_EFORMAT, "%s: no data arrived (an empty stream; did the command "
                         "before the | fail?)", name);
  if (src->stdin_head_n < 10 || memcmp (src->stdin_head, "YUV4MPEG2 ", 10) != 0)
    return gv_error_set (GV_EFORMAT, "%s: not a YUV4MPEG2 stream (it does not start with "
                         "\"YUV4MPEG2 \"); convert the video first: ffmpeg -i VIDEO -f "
                         "yuv4mpegpipe - | gvscan analyze -", name);
  if (ret == AVERROR (ENOMEM))
    return gv_error_set (GV_ENOMEM, "%s: out of memory while opening", name);
  {
    /* The header line as sent (printable ASCII only) tells what the demuxer refused. */
    char line[100];
    int n = 0;
    for (i = 0; i < src->stdin_head_n && n < (int) sizeof line - 1; i++)
      {
        uint8_t c = src->stdin_head[i];
        if (c == '\n')
          break;
        line[n++] = c >= 0x20 && c < 0x7f ? (char) c : '?';
      }
    line[n] = 0;
    return gv_error_set (GV_EFORMAT, "%s: the YUV4MPEG2 header \"%s\" is invalid or unsupported "
                         "(%s)", name, line, reason);
  }
}

/* ---- open ---------------------------------------------------------------------------- */

static int gv_decode_next (GvFrameSource *src);
static int gv_hw_setup (GvFrameSource *src, const AVCodec *codec, int mode, void *cuda_ctx);
static int gv_hw_check (GvFrameSource *src);

int
gv_frame_source_open (const char *path, const GvSourceOptions *opts, GvFrameSource **out)
{
  GvFrameSource *src = NULL;
  struct stat sb;
  char *abspath = NULL, *url = NULL;
  uint8_t head[4097];
  size_t head_n = sizeof head - 1;
  AVDictionary *dict = NULL;
  const AVCodec *codec = NULL;
  const char *still;
  char reason[128];
  int ret, i, idx = -1, has_audio = 0, has_cover = 0, is_stdin = 0;
  size_t url_len;

  if (out)
    *out = NULL;
  if (!path || !*path || !out)
    return gv_error_set (GV_EINVAL, "gv_frame_source_open: no file name given");

  if (strcmp (path, "-") == 0)
    {
      /* Nothing to check or sniff before FFmpeg: the stream is read once, by the demuxer. */
      is_stdin = 1;
      path = "standard input";
      memset (&sb, 0, sizeof sb);
      head_n = 0;
      if (!(abspath = strdup ("-")))
        return gv_error_set (GV_ENOMEM, "%s: out of memory", path);
    }
  else
    {
      ret = gv_check_path (path, &sb);
      if (ret < 0)
        return ret;
      abspath = realpath (path, NULL);
      if (!abspath)
        return gv_error_set (GV_EIO, "%s: cannot resolve the path (%s)", path, strerror (errno));
      ret = gv_sniff (path, abspath, head, &head_n);
      if (ret < 0)
        goto out;
    }
  head[head_n] = 0;

  src = calloc (1, sizeof *src);
  if (!src)
    {
      ret = gv_error_set (GV_ENOMEM, "%s: out of memory", path);
      goto out;
    }
  src->name = strdup (path);
  src->info.path = abspath;
  abspath = NULL;
  src->info.file_size = (int64_t) sb.st_size;
  src->stream_index = -1;
  src->first_ts = AV_NOPTS_VALUE;
  src->last_ts = AV_NOPTS_VALUE;
  src->max_pixels = GV_IMAGE_MAX_PIXELS;
  if (opts && opts->max_pixels > 0 && opts->max_pixels < src->max_pixels)
    src->max_pixels = opts->max_pixels;
  if (!src->name)
    {
      ret = gv_error_set (GV_ENOMEM, "%s: out of memory", path);
      goto out;
    }

  still = gv_still_image_kind (head, head_n);
  if (still)
    {
      ret = gv_error_set (GV_EFORMAT, "%s: not a video file (it is a still %s image; "
                          "record a video of the comic instead)", path, still);
      goto out;
    }
  if (head_n >= 10 && memcmp (head, "YUV4MPEG2 ", 10) == 0)
    {
      /* Raw YUV streams declare their size in a text header: check it before the demuxer
       * sizes its packets from it. */
      int w = 0, h = 0;
      size_t k;
      for (k = 9; k + 1 < head_n && head[k] != '\n'; k++)
        if (head[k] == ' ' && (head[k + 1] == 'W' || head[k + 1] == 'H'))
          {
            long v = strtol ((const char *) head + k + 2, NULL, 10);
            v = v < 0 ? 0 : v > INT_MAX ? INT_MAX : v;
            if (head[k + 1] == 'W')
              w = (int) v;
            else
              h = (int) v;
          }
      if (gv_dims_refused (src, w, h))
        {
          ret = gv_refuse_dims (src, w, h, "the declared");
          goto out;
        }
    }
  else if (gv_looks_like_text (head, head_n))
    {
      ret = gv_error_set (GV_EFORMAT, "%s: not a video file (it holds text)", path);
      goto out;
    }

  if (is_stdin)
    {
      if ((ret = gv_open_stdin (src, path)) < 0)
        goto out;
      goto opened;
    }
  /* "file:" + absolute path: names such as "concat:x.mp4" stay plain file names. */
  url_len = strlen (src->info.path) + 6;
  url = malloc (url_len);
  if (!url)
    {
      ret = gv_error_set (GV_ENOMEM, "%s: out of memory", path);
      goto out;
    }
  snprintf (url, url_len, "file:%s", src->info.path);
  av_dict_set (&dict, "protocol_whitelist", "file", 0);
  ret = avformat_open_input (&src->fmt, url, NULL, &dict);
  av_dict_free (&dict);
  if (ret < 0)
    {
      gv_av_reason (ret, reason, sizeof reason);
      if (ret == AVERROR (EACCES) || ret == AVERROR (EPERM))
        ret = gv_error_set (GV_EIO, "%s: cannot be read (permission denied)", path);
      else if (ret == AVERROR (ENOMEM))
        ret = gv_error_set (GV_ENOMEM, "%s: out of memory while opening", path);
      else if (gv_is_mp4_family (head, head_n))
        ret = gv_error_set (GV_EFORMAT, "%s: an MP4/MOV file that is incomplete or damaged "
                            "(its index, the 'moov' box, is missing or unreadable; a recording "
                            "that was cut off?) (%s)", path, reason);
      else if (ret == AVERROR_INVALIDDATA)
        ret = gv_error_set (GV_EFORMAT, "%s: not a video file (the format is not "
                            "recognised) (%s)", path, reason);
      else
        ret = gv_error_set (GV_EFORMAT, "%s: cannot be opened as a video (%s)", path, reason);
      goto out;
    }

opened:
  /* The demuxer has read the header line and nothing more: frames start here. */
  if (strcmp (src->fmt->iformat->name, "yuv4mpegpipe") == 0 && src->fmt->pb)
    src->y4m_data_offset = avio_tell (src->fmt->pb);

  /* Declared sizes are checked before anything is decoded (and so allocated). */
  for (i = 0; i < (int) src->fmt->nb_streams; i++)
    {
      const AVCodecParameters *par = src->fmt->streams[i]->codecpar;
      if (par->codec_type == AVMEDIA_TYPE_VIDEO && (par->width || par->height) &&
          gv_dims_refused (src, par->width, par->height))
        {
          ret = gv_refuse_dims (src, par->width, par->height, "the declared");
          goto out;
        }
    }
  if (gv_is_image_demuxer (src->fmt))
    {
      ret = gv_error_set (GV_EFORMAT, "%s: not a video file (it is a still image, %s)",
                          path, src->fmt->iformat->name);
      goto out;
    }

  ret = avformat_find_stream_info (src->fmt, NULL);
  if (ret < 0)
    {
      gv_av_reason (ret, reason, sizeof reason);
      ret = gv_error_set (GV_EFORMAT, "%s: the streams in the file cannot be read (%s)",
                          path, reason);
      goto out;
    }

  for (i = 0; i < (int) src->fmt->nb_streams; i++)
    {
      const AVStream *s = src->fmt->streams[i];
      if (s->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
        has_audio = 1;
      if (s->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
        continue;
      if (s->disposition & AV_DISPOSITION_ATTACHED_PIC)
        {
          has_cover = 1;
          continue;
        }
      if (idx < 0)
        idx = i;
    }
  if (idx >= 0)
    {
      int best = av_find_best_stream (src->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
      if (best >= 0 && !(src->fmt->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        idx = best;
    }
  if (idx < 0)
    {
      if (has_audio)
        ret = gv_error_set (GV_EFORMAT, "%s: not a video file (no video stream found; it "
                            "holds only audio%s)", path, has_cover ? " and a cover picture" : "");
      else if (has_cover)
        ret = gv_error_set (GV_EFORMAT, "%s: not a video file (it holds only a still "
                            "picture)", path);
      else
        ret = gv_error_set (GV_EFORMAT, "%s: not a video file (no video stream found)", path);
      goto out;
    }
  src->stream_index = idx;
  src->st = src->fmt->streams[idx];

  {
    const AVCodecParameters *par = src->st->codecpar;
    const AVPixFmtDescriptor *pd = av_pix_fmt_desc_get ((enum AVPixelFormat) par->format);

    if (gv_is_text_art (src->fmt, par->codec_id))
      {
        ret = gv_error_set (GV_EFORMAT, "%s: not a video file (it holds text)", path);
        goto out;
      }
    if (gv_dims_refused (src, par->width, par->height))
      {
        if (par->width <= 0 || par->height <= 0)
          ret = gv_error_set (GV_EFORMAT, "%s: the video stream declares no frame size "
                              "(damaged or unsupported file)", path);
        else
          ret = gv_refuse_dims (src, par->width, par->height, "the declared");
        goto out;
      }
    snprintf (src->info.codec, sizeof src->info.codec, "%s", avcodec_get_name (par->codec_id));
    snprintf (src->info.pix_fmt, sizeof src->info.pix_fmt, "%s",
              pd ? pd->name : "unknown");
    src->info.bit_depth = pd ? pd->comp[0].depth : par->bits_per_raw_sample;
    src->info.coded_width = par->width;
    src->info.coded_height = par->height;
  }

  src->info.rotation = gv_rotation_of (src->st);
  if (src->info.rotation == 90 || src->info.rotation == 270)
    {
      src->info.width = src->info.coded_height;
      src->info.height = src->info.coded_width;
    }
  else
    {
      src->info.width = src->info.coded_width;
      src->info.height = src->info.coded_height;
    }

  if (src->fmt->duration != AV_NOPTS_VALUE && src->fmt->duration > 0)
    src->info.duration = (double) src->fmt->duration / AV_TIME_BASE;
  else if (src->st->duration != AV_NOPTS_VALUE && src->st->duration > 0)
    src->info.duration = (double) src->st->duration * av_q2d (src->st->time_base);
  src->info.declared_frames = src->st->nb_frames > 0 ? src->st->nb_frames : 0;
  if (src->st->avg_frame_rate.num > 0 && src->st->avg_frame_rate.den > 0)
    src->info.fps = av_q2d (src->st->avg_frame_rate);
  else if (src->st->r_frame_rate.num > 0 && src->st->r_frame_rate.den > 0)
    src->info.fps = av_q2d (src->st->r_frame_rate);
  else if (src->info.declared_frames > 0 && src->info.duration > 0)
    src->info.fps = (double) src->info.declared_frames / src->info.duration;

  codec = gv_find_decoder (src->st->codecpar->codec_id);
  if (!codec)
    {
      ret = gv_error_set (GV_EUNSUPPORTED, "%s: the video codec %s cannot be decoded "
                          "(no decoder in this FFmpeg build)", path, src->info.codec);
      goto out;
    }
  src->dec = avcodec_alloc_context3 (codec);
  src->pkt = av_packet_alloc ();
  src->frame = av_frame_alloc ();
  if (!src->dec || !src->pkt || !src->frame)
    {
      ret = gv_error_set (GV_ENOMEM, "%s: out of memory", path);
      goto out;
    }
  ret = avcodec_parameters_to_context (src->dec, src->st->codecpar);
  if (ret < 0)
    {
      ret = gv_error_set (GV_EFORMAT, "%s: the video stream parameters are invalid", path);
      goto out;
    }
  src->dec->pkt_timebase = src->st->time_base;
  src->dec->thread_count = opts && opts->threads > 0 ? opts->threads : 0;
  src->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  src->dec->opaque = src;
  if ((ret = gv_hw_setup (src, codec, opts ? opts->hw_decode : GV_HW_DECODE_OFF,
                          opts ? opts->cuda_context : NULL)))
    goto out;
  gv_register (src, 1);
  ret = avcodec_open2 (src->dec, codec, NULL);
  if (ret < 0)
    {
      gv_av_reason (ret, reason, sizeof reason);
      ret = gv_error_set (GV_EFORMAT, "%s: the %s decoder cannot be started (%s)", path,
                          src->info.codec, reason);
      goto out;
    }
  for (i = 0; i < (int) src->fmt->nb_streams; i++)
    if (i != idx)
      src->fmt->streams[i]->discard = AVDISCARD_ALL;

  /* Decode the first frame now: a file that yields nothing fails here, in open. */
  ret = gv_decode_next (src);
  if (ret < 0)
    goto out;
  if (ret == 0)
    {
      if (src->read_error)
        ret = gv_error_set (GV_EFORMAT, "%s: no frame could be decoded (reading failed: %s)",
                            path, src->read_error_text);
      else if (src->stats.decode_errors > 0)
        ret = gv_error_set (GV_EFORMAT, "%s: no frame could be decoded (%lld packets were "
                            "rejected by the %s decoder; the data is damaged)", path,
                            (long long) src->stats.decode_errors, src->info.codec);
      else
        ret = gv_error_set (GV_EFORMAT, "%s: no frame could be decoded (the video stream "
                            "is empty)", path);
      goto out;
    }
  if ((ret = gv_hw_check (src)))
    goto out;
  src->primed = 1;
  *out = src;
  src = NULL;
  ret = 0;

out:
  free (abspath);
  free (url);
  gv_frame_source_free (src);
  return ret;
}

const GvMediaInfo *
gv_frame_source_info (const GvFrameSource *src)
{
  return src ? &src->info : NULL;
}

const GvDecodeStats *
gv_frame_source_stats (const GvFrameSource *src)
{
  return src ? &src->stats : NULL;
}

/* ---- luma ---------------------------------------------------------------------------- */

/* Rotates a gray plane clockwise by rot (90, 180, 270) into dst (tight rows). Blocked so
 * both sides stay in cache for the transposing angles. */
static void
gv_rotate_u8 (const uint8_t *s, int sstride, int w, int h, int rot, uint8_t *d, int dstride)
{
  const int B = 32;
  int bx, by, x, y;

  if (rot == 180)
    {
      for (y = 0; y < h; y++)
        {
          const uint8_t *sr = s + (size_t) (h - 1 - y) * sstride;
          uint8_t *dr = d + (size_t) y * dstride;
          for (x = 0; x < w; x++)
            dr[x] = sr[w - 1 - x];
        }
      return;
    }
  /* Output is h wide and w tall. 90: dst(x', y') = src(h-1-x', y'); 270: src(x', w-1-y'). */
  for (by = 0; by < w; by += B)
    for (bx = 0; bx < h; bx += B)
      {
        int ye = by + B < w ? by + B : w, xe = bx + B < h ? bx + B : h;
        for (y = by; y < ye; y++)
          {
            uint8_t *dr = d + (size_t) y * dstride;
            if (rot == 90)
              for (x = bx; x < xe; x++)
                dr[x] = s[(size_t) (h - 1 - x) * sstride + y];
            else
              for (x = bx; x < xe; x++)
                dr[x] = s[(size_t) x * sstride + (w - 1 - y)];
          }
      }
}

static void
gv_rotate_rgb (const uint8_t *s, int sstride, int w, int h, int rot, uint8_t *d, size_t dstride)
{
  int x, y;

  for (y = 0; y < (rot == 180 ? h : w); y++)
    {
      uint8_t *dr = d + (size_t) y * dstride;
      int ow = rot == 180 ? w : h;
      for (x = 0; x < ow; x++)
        {
          const uint8_t *p;
          if (rot == 180)
            p = s + (size_t) (h - 1 - y) * sstride + (size_t) (w - 1 - x) * 3;
          else if (rot == 90)
            p = s + (size_t) (h - 1 - x) * sstride + (size_t) y * 3;
          else
            p = s + (size_t) x * sstride + (size_t) (w - 1 - y) * 3;
          dr[3 * x] = p[0];
          dr[3 * x + 1] = p[1];
          dr[3 * x + 2] = p[2];
        }
    }
}

static int
gv_ensure (uint8_t **buf, size_t *cap, size_t need)
{
  if (*cap >= need)
    return 0;
  av_freep (buf);
  *cap = 0;
  *buf = av_malloc (need);
  if (!*buf)
    return -1;
  *cap = need;
  return 0;
}

/* Formats whose first component is luma stored as 8..16-bit samples (planar, semi-planar,
 * packed YUYV, P010...): the Y extracted directly keeps the coded (usually limited) range,
 * as the 8-bit view does; swscale's GRAY8 would expand it to full range. */
static int
gv_is_direct_y (enum AVPixelFormat f)
{
  const AVPixFmtDescriptor *d = av_pix_fmt_desc_get (f);

  if (!d || d->nb_components < 1)
    return 0;
  if (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL |
                  AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_FLOAT | AV_PIX_FMT_FLAG_BAYER))
    return 0;
  if (d->comp[0].depth < 8 || d->comp[0].depth > 16)
    return 0;
  if (d->comp[0].depth == 8 && d->comp[0].shift == 0)
    return d->comp[0].step >= 1;
  return d->comp[0].step >= 2 && d->comp[0].shift + d->comp[0].depth <= 16;
}

static void
gv_extract_y (const AVFrame *f, uint8_t *dst, int dstride)
{
  const AVPixFmtDescriptor *d = av_pix_fmt_desc_get ((enum AVPixelFormat) f->format);
  const AVComponentDescriptor *c = &d->comp[0];
  int be = (d->flags & AV_PIX_FMT_FLAG_BE) != 0;
  int down = c->depth - 8, x, y;
  unsigned maxv = (1u << c->depth) - 1, round = down > 0 ? 1u << (down - 1) : 0;

  for (y = 0; y < f->height; y++)
    {
      const uint8_t *row = f->data[c->plane] + (ptrdiff_t) y * f->linesize[c->plane] + c->offset;
      uint8_t *o = dst + (size_t) y * dstride;
      if (c->depth == 8 && c->shift == 0)
        for (x = 0; x < f->width; x++)
          o[x] = row[(size_t) x * c->step];
      else
        for (x = 0; x < f->width; x++)
          {
            const uint8_t *p = row + (size_t) x * c->step;
            unsigned v = be ? ((unsigned) p[0] << 8 | p[1]) : ((unsigned) p[1] << 8 | p[0]);
            v = (v >> c->shift) & maxv;
            v = (v + round) >> down;
            o[x] = (uint8_t) (v > 255 ? 255 : v);
          }
    }
}

/* ---- GPU decoding (FFmpeg's CUDA hwaccel: NVDEC) -------------------------------------- */

static enum AVPixelFormat
gv_get_format (AVCodecContext *ctx, const enum AVPixelFormat *fmts)
{
  GvFrameSource *src = ctx->opaque;

  for (const enum AVPixelFormat *p = fmts; *p != AV_PIX_FMT_NONE; p++)
    if (*p == AV_PIX_FMT_CUDA)
      return *p;
  src->hw_refused = 1; /* e.g. a profile NVDEC does not take: decode on the CPU */
  return avcodec_default_get_format (ctx, fmts);
}

/* Sets the decoder up for GPU decoding when asked and possible; says why not in
 * info.hw_decode. Fails only in GV_HW_DECODE_REQUIRE mode. */
static int
gv_hw_setup (GvFrameSource *src, const AVCodec *codec, int mode, void *cuda_ctx)
{
  char reason[96];
  int ok = 0, ret;

  src->hw_mode = mode;
  if (mode == GV_HW_DECODE_OFF)
    {
      snprintf (src->info.hw_decode, sizeof src->info.hw_decode, "off: not asked for");
      return 0;
    }
  if (src->info.rotation != 0)
    snprintf (src->info.hw_decode, sizeof src->info.hw_decode, "off: the video is rotated "
              "(%d degrees) and the GPU path takes upright frames", src->info.rotation);
  else
    {
      for (int i = 0;; i++)
        {
          const AVCodecHWConfig *c = avcodec_get_hw_config (codec, i);
          if (!c)
            break;
          if (c->device_type == AV_HWDEVICE_TYPE_CUDA
              && (c->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX))
            ok = 1;
        }
      if (!ok)
        snprintf (src->info.hw_decode, sizeof src->info.hw_decode, "off: FFmpeg's %s decoder "
                  "has no CUDA (NVDEC) support in this build", codec->name);
    }
  if (ok)
    {
      if (cuda_ctx)
        {
          /* the caller's context (the CUDA backend's), so that the kernels read the frames */
          ret = AVERROR (ENOMEM);
          if ((src->hwdev = av_hwdevice_ctx_alloc (AV_HWDEVICE_TYPE_CUDA)))
            {
              AVHWDeviceContext *dc = (AVHWDeviceContext *) (void *) src->hwdev->data;
              ((AVCUDADeviceContext *) dc->hwctx)->cuda_ctx = (CUcontext) cuda_ctx;
              ret = av_hwdevice_ctx_init (src->hwdev);
              if (ret < 0)
                av_buffer_unref (&src->hwdev);
            }
        }
      else
        {
          AVDictionary *o = NULL;
          /* the device's primary context, the one the CUDA runtime uses */
          av_dict_set (&o, "primary_ctx", "1", 0);
          ret = av_hwdevice_ctx_create (&src->hwdev, AV_HWDEVICE_TYPE_CUDA, NULL, o, 0);
          av_dict_free (&o);
        }
      if (ret < 0)
        {
          gv_av_reason (ret, reason, sizeof reason);
          snprintf (src->info.hw_decode, sizeof src->info.hw_decode, "off: no CUDA device for "
                    "decoding (%s: no NVIDIA driver, no GPU, or no NVDEC library)", reason);
          ok = 0;
        }
    }
  if (!ok)
    return mode == GV_HW_DECODE_REQUIRE
             ? gv_error_set (GV_ENODEV, "%s: GPU decoding was asked for but is %s", src->name,
                             src->info.hw_decode)
             : 0;
  src->dec->hw_device_ctx = av_buffer_ref (src->hwdev);
  if (!src->dec->hw_device_ctx)
    return gv_error_set (GV_ENOMEM, "%s: out of memory", src->name);
  src->dec->get_format = gv_get_format;
  /* Decoder (frame) threads with NVDEC keep several decodes in flight: 4 by default, the best of
   * 1, 4 and FFmpeg's choice on the H100 machine (docs/performance.md); GV_NVDEC_THREADS
   * overrides (0 = FFmpeg's choice). */
  {
    const char *t = getenv ("GV_NVDEC_THREADS");
    src->dec->thread_count = t && *t ? atoi (t) : 4;
    if (src->dec->thread_count < 0 || src->dec->thread_count > 64)
      src->dec->thread_count = 4;
  }
  snprintf (src->info.hw_decode, sizeof src->info.hw_decode, "cuda (NVDEC, FFmpeg hwaccel)");
  return 0;
}

/* After the first frame: did the decoder really hand out CUDA surfaces? */
static int
gv_hw_check (GvFrameSource *src)
{
  if (!src->hwdev || src->frame->format == AV_PIX_FMT_CUDA)
    return 0;
  snprintf (src->info.hw_decode, sizeof src->info.hw_decode, "off: the %s decoder offered no "
            "CUDA surfaces for this stream (%s); decoded on the CPU", src->info.codec,
            src->hw_refused ? "profile or pixel format not supported by NVDEC" : "unknown reason");
  if (src->hw_mode == GV_HW_DECODE_REQUIRE)
    return gv_error_set (GV_EUNSUPPORTED, "%s: GPU decoding was asked for but is %s", src->name,
                         src->info.hw_decode);
  return 0;
}

/* The current GPU-decoded frame's picture in host memory (src->swframe), downloaded at most
 * once per frame however many callers want it. */
static int
gv_hw_download (GvFrameSource *src)
{
  char reason[96];
  int ret;

  if (src->swframe_current)
    return 0;
  if (!src->swframe && !(src->swframe = av_frame_alloc ()))
    return gv_error_set (GV_ENOMEM, "%s: out of memory", src->name);
  av_frame_unref (src->swframe);
  ret = av_hwframe_transfer_data (src->swframe, src->frame, 0);
  if (ret >= 0)
    ret = av_frame_copy_props (src->swframe, src->frame);
  if (ret < 0)
    {
      gv_av_reason (ret, reason, sizeof reason);
      return gv_error_set (GV_EDEVICE, "%s: cannot copy GPU-decoded frame %lld to host memory "
                           "(%s)", src->name, (long long) src->out.index, reason);
    }
  src->swframe_current = 1;
  return 0;
}

/* The sw format of a CUDA frame's surfaces (NV12 for 8-bit 4:2:0). */
static enum AVPixelFormat
gv_hw_sw_format (const AVFrame *f)
{
  if (!f->hw_frames_ctx)
    return AV_PIX_FMT_NONE;
  return ((const AVHWFramesContext *) (const void *) f->hw_frames_ctx->data)->sw_format;
}

static int
gv_make_luma (GvFrameSource *src)
{
  AVFrame *f = src->frame;
  const uint8_t *y;
  int ystride, w = f->width, h = f->height, rot = src->info.rotation;

  src->out.device_luma = NULL;
  src->out.device_pitch = 0;
  src->swframe_current = 0; /* a new frame */
  if (f->format == AV_PIX_FMT_CUDA)
    {
      if (gv_hw_sw_format (f) == AV_PIX_FMT_NV12 && rot == 0)
        {
          /* the Y plane stays on the device; host luma only on demand */
          src->out.device_luma = f->data[0];
          src->out.device_pitch = (size_t) f->linesize[0];
          src->out.luma = gv_image_view (NULL, w, h, 1, GV_U8, (size_t) w);
          return 0;
        }
      if (gv_hw_download (src) < 0)
        return -1;
      f = src->swframe;
    }

  if (gv_is_8bit_y_plane ((enum AVPixelFormat) f->format) && f->linesize[0] > 0)
    {
      y = f->data[0];
      ystride = f->linesize[0];
    }
  else
    {
      uint8_t *dst[4] = { NULL };
      int dstride[4] = { 0 };
      /* Rows padded and over-allocated: swscale's SIMD may write past the last pixel. */
      src->gray_stride = FFALIGN (w, 64) + 64;
      if (gv_ensure (&src->gray, &src->gray_size, (size_t) src->gray_stride * (h + 1)) < 0)
        return gv_error_set (GV_ENOMEM, "%s: out of memory converting frame %lld to gray",
                             src->name, (long long) src->stats.frames_decoded);
      if (gv_is_direct_y ((enum AVPixelFormat) f->format))
        {
          gv_extract_y (f, src->gray, src->gray_stride);
          goto have_gray;
        }
      src->sws = sws_getCachedContext (src->sws, w, h, (enum AVPixelFormat) f->format, w, h,
                                       AV_PIX_FMT_GRAY8, SWS_BILINEAR, NULL, NULL, NULL);
      if (!src->sws)
        return gv_error_set (GV_EUNSUPPORTED, "%s: cannot convert pixel format %s to gray",
                             src->name, av_get_pix_fmt_name ((enum AVPixelFormat) f->format));
      dst[0] = src->gray;
      dstride[0] = src->gray_stride;
      sws_scale (src->sws, (const uint8_t *const *) f->data, f->linesize, 0, h, dst, dstride);
    have_gray:
      y = src->gray;
      ystride = src->gray_stride;
    }

  if (rot == 0)
    {
      src->out.luma = gv_image_view ((void *) y, w, h, 1, GV_U8, (size_t) ystride);
      return 0;
    }
  {
    int ow = rot == 180 ? w : h, oh = rot == 180 ? h : w;
    if (gv_ensure (&src->rot, &src->rot_size, (size_t) ow * oh) < 0)
      return gv_error_set (GV_ENOMEM, "%s: out of memory rotating frame %lld", src->name,
                           (long long) src->stats.frames_decoded);
    gv_rotate_u8 (y, ystride, w, h, rot, src->rot, ow);
    src->out.luma = gv_image_view (src->rot, ow, oh, 1, GV_U8, (size_t) ow);
  }
  return 0;
}

/* ---- decoding ------------------------------------------------------------------------ */

static void
gv_mark_partial (GvFrameSource *src, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__ ((format (printf, 2, 3)))
#endif
  ;

static void
gv_mark_partial (GvFrameSource *src, const char *fmt, ...)
{
  va_list ap;

  if (src->stats.partial)
    return;
  src->stats.partial = 1;
  va_start (ap, fmt);
  vsnprintf (src->stats.partial_reason, sizeof src->stats.partial_reason, fmt, ap);
  va_end (ap);
}

/* At the end of the stream: did the file deliver what it promised? */
static void
gv_finish (GvFrameSource *src)
{
  int64_t n = src->stats.frames_decoded;
  int64_t declared = src->info.declared_frames;
  int logged = atomic_load (&src->logged_errors);

  /* Errors logged after the last frame came out (frame threads report late). */
  if (logged != src->seen_logged_errors)
    {
      src->stats.decode_errors++;
      src->seen_logged_errors = logged;
    }

  if (src->stdin_pb)
    src->info.file_size = src->stdin_bytes;
  if (!src->read_error && src->y4m_data_offset > 0)
    {
      /* The demuxer drops a frame cut short at the end without a word: every FRAME is a
       * 6-byte "FRAME\n" line and the picture, so bytes past the last whole one mean one. */
      const AVCodecParameters *par = src->st->codecpar;
      int64_t frame = av_image_get_buffer_size ((enum AVPixelFormat) par->format, par->width,
                                                par->height, 1);
      int64_t whole = src->y4m_data_offset + src->packets_read * (frame + 6);
      int64_t got = avio_tell (src->fmt->pb);
      if (frame > 0 && got > whole && got - whole < frame + 6)
        gv_mark_partial (src, "the stream ends inside frame %lld (%lld of its %lld bytes "
                         "arrived; truncated stream?)", (long long) src->packets_read,
                         (long long) (got - whole), (long long) (frame + 6));
    }
  if (src->read_error)
    gv_mark_partial (src, "reading stopped after %lld frames: %s", (long long) n,
                     src->read_error_text);
  else if (declared > 0 && src->packets_read < declared)
    gv_mark_partial (src, "the file ends early: %lld of %lld frames declared by the container "
                     "are present (truncated file?)", (long long) src->packets_read,
                     (long long) declared);
  else if (declared > 0 && n < declared - src->packets_discarded)
    gv_mark_partial (src, "only %lld of %lld frames declared by the container could be "
                     "decoded (damaged data)", (long long) n, (long long) declared);
  else if (src->fmt->nb_streams == 1 && src->info.duration > 0 && n > 0)
    {
      /* Containers without a frame count (Matroska, WebM): compare the time reached with
       * the declared duration, allowing 2.5 frame periods and 2 % for rounding. */
      double period = src->info.fps > 0 ? 1.0 / src->info.fps : 0.0;
      double reached = src->last_pts + period;
      double slack = fmax (2.5 * period, 0.02 * src->info.duration);
      if (reached + slack < src->info.duration)
        gv_mark_partial (src, "the file ends early: frames stop at %.2f s of the %.2f s "
                         "declared (truncated file?)", reached, src->info.duration);
    }
}

/* 1: a frame is in src->frame (luma made); 0: end of stream; < 0: error. */
static int
gv_receive (GvFrameSource *src)
{
  AVFrame *f = src->frame;
  int64_t ts;
  double tb = av_q2d (src->st->time_base);

  if (f->width <= 0 || f->height <= 0 || gv_dims_refused (src, f->width, f->height))
    return gv_refuse_dims (src, f->width, f->height, "a decoded");
  if (src->stats.frames_decoded == 0)
    {
      src->first_w = f->width;
      src->first_h = f->height;
    }
  else if (f->width != src->first_w || f->height != src->first_h)
    {
      gv_mark_partial (src, "the frame size changes from %dx%d to %dx%d at frame %lld, which "
                       "is not supported", src->first_w, src->first_h, f->width, f->height,
                       (long long) src->stats.frames_decoded);
      av_frame_unref (f);
      return 0;
    }
  {
    int logged = atomic_load (&src->logged_errors);
    if ((f->flags & AV_FRAME_FLAG_CORRUPT) || f->decode_error_flags ||
        logged != src->seen_logged_errors)
      src->stats.decode_errors++;
    src->seen_logged_errors = logged;
  }

  /* Exact presentation times relative to the first frame; a missing or non-increasing
   * timestamp (broken muxing) becomes one nominal frame period after the previous frame. */
  ts = f->best_effort_timestamp;
  if (ts == AV_NOPTS_VALUE)
    ts = f->pts;
  if (ts != AV_NOPTS_VALUE && src->first_ts == AV_NOPTS_VALUE)
    src->first_ts = ts;
  if (src->stats.frames_decoded == 0)
    src->out.pts = 0.0;
  else
    {
      double period = src->info.fps > 0 ? 1.0 / src->info.fps : 1.0 / 30.0;
      if (ts == AV_NOPTS_VALUE || src->last_ts == AV_NOPTS_VALUE || ts <= src->last_ts)
        src->out.pts = src->last_pts + period;
      else
        src->out.pts = (double) (ts - src->first_ts) * tb;
      if (src->out.pts <= src->last_pts)
        src->out.pts = src->last_pts + period;
    }
  if (ts != AV_NOPTS_VALUE && (src->last_ts == AV_NOPTS_VALUE || ts > src->last_ts))
    src->last_ts = ts;
  src->last_pts = src->out.pts;
  src->out.index = (int) src->stats.frames_decoded;
  src->stats.frames_decoded++;
  return gv_make_luma (src) < 0 ? gv_error_code () : 1;
}

static int
gv_decode_next (GvFrameSource *src)
{
  char reason[64];
  int ret;

  for (;;)
    {
      if (src->decoding_done)
        return 0;
      av_frame_unref (src->frame);
      src->swframe_current = 0;
      ret = avcodec_receive_frame (src->dec, src->frame);
      if (ret == 0)
        {
          src->consecutive_errors = 0;
          ret = gv_receive (src);
          if (ret == 0)
            {
              src->decoding_done = 1;
              gv_finish (src);
            }
          return ret;
        }
      if (ret == AVERROR_EOF)
        {
          src->decoding_done = 1;
          gv_finish (src);
          return 0;
        }
      if (ret == AVERROR (ENOMEM))
        return gv_error_set (GV_ENOMEM, "%s: out of memory while decoding", src->name);
      if (ret != AVERROR (EAGAIN))
        {
          src->stats.decode_errors++;
          if (++src->consecutive_errors > GV_MAX_CONSECUTIVE_ERRORS)
            {
              src->decoding_done = 1;
              gv_mark_partial (src, "the decoder gave up after %d errors in a row",
                               GV_MAX_CONSECUTIVE_ERRORS);
              return 0;
            }
          if (!src->eof_sent)
            continue; /* the decoder reported a failed frame; ask again */
          /* Draining: errors after EOF end the stream. */
          src->decoding_done = 1;
          gv_finish (src);
          return 0;
        }

      /* The decoder wants input. */
      if (src->eof_sent)
        {
          src->decoding_done = 1;
          gv_finish (src);
          return 0;
        }
      ret = av_read_frame (src->fmt, src->pkt);
      if (ret < 0)
        {
          if (ret == AVERROR_INVALIDDATA && src->y4m_data_offset > 0
              && !(src->fmt->pb && avio_feof (src->fmt->pb)))
            {
              src->read_error = 1;
              snprintf (src->read_error_text, sizeof src->read_error_text,
                        "frame %lld does not start with a FRAME line (damaged or foreign data "
                        "in the YUV4MPEG2 stream)", (long long) src->packets_read);
            }
          else if (ret != AVERROR_EOF && !(src->fmt->pb && avio_feof (src->fmt->pb) && ret == AVERROR_INVALIDDATA))
            {
              src->read_error = 1;
              gv_av_reason (ret, reason, sizeof reason);
              snprintf (src->read_error_text, sizeof src->read_error_text,
                        "the container data is unreadable (%s)", reason);
            }
          else if (ret != AVERROR_EOF)
            {
              src->read_error = 1;
              snprintf (src->read_error_text, sizeof src->read_error_text,
                        "the file ends in the middle of the data (truncated file?)");
            }
          avcodec_send_packet (src->dec, NULL);
          src->eof_sent = 1;
          continue;
        }
      if (src->pkt->stream_index != src->stream_index)
        {
          av_packet_unref (src->pkt);
          continue;
        }
      src->packets_read++;
      if (src->pkt->flags & AV_PKT_FLAG_DISCARD)
        src->packets_discarded++;
      if (src->pkt->flags & AV_PKT_FLAG_CORRUPT)
        src->stats.decode_errors++;
      ret = avcodec_send_packet (src->dec, src->pkt);
      av_packet_unref (src->pkt);
      if (ret == AVERROR (ENOMEM))
        return gv_error_set (GV_ENOMEM, "%s: out of memory while decoding", src->name);
      if (ret < 0 && ret != AVERROR (EAGAIN) && ret != AVERROR_EOF)
        {
          src->stats.decode_errors++;
          if (++src->consecutive_errors > GV_MAX_CONSECUTIVE_ERRORS)
            {
              src->decoding_done = 1;
              gv_mark_partial (src, "the decoder gave up after %d errors in a row",
                               GV_MAX_CONSECUTIVE_ERRORS);
              return 0;
            }
        }
    }
}

int
gv_frame_source_next (GvFrameSource *src, const GvFrame **frame)
{
  int ret;

  if (frame)
    *frame = NULL;
  if (!src || !frame)
    return gv_error_set (GV_EINVAL, "gv_frame_source_next: invalid argument");
  if (src->primed)
    {
      src->primed = 0;
      src->have_current = 1;
      *frame = &src->out;
      return 1;
    }
  src->have_current = 0;
  ret = gv_decode_next (src);
  if (ret == 1)
    {
      src->have_current = 1;
      *frame = &src->out;
    }
  else if (ret == 0 && src->stats.frames_decoded == 0)
    return gv_error_set (GV_EFORMAT, "%s: no frame could be decoded", src->name);
  return ret;
}

int
gv_frame_source_host_luma (GvFrameSource *src, GvImage *luma)
{
  if (!src || !luma || !src->have_current)
    return gv_error_set (GV_EINVAL, "gv_frame_source_host_luma: no current frame");
  if (!src->out.luma.data)
    {
      if (gv_hw_download (src) < 0)
        return gv_error_code ();
      if (src->swframe->format != AV_PIX_FMT_NV12)
        return gv_error_set (GV_EUNSUPPORTED, "%s: GPU-decoded frame in %s, not NV12", src->name,
                             av_get_pix_fmt_name ((enum AVPixelFormat) src->swframe->format));
      src->out.luma = gv_image_view (src->swframe->data[0], src->swframe->width,
                                     src->swframe->height, 1, GV_U8,
                                     (size_t) src->swframe->linesize[0]);
    }
  *luma = src->out.luma;
  return GV_OK;
}

/* ---- kept frames --------------------------------------------------------------------- */

GvKeptFrame *
gv_frame_source_keep (GvFrameSource *src)
{
  GvKeptFrame *kf;

  if (!src || !src->have_current)
    {
      gv_error_set (GV_EINVAL, "%s: no current frame to keep",
                    src ? src->name : "(no source)");
      return NULL;
    }
  kf = calloc (1, sizeof *kf);
  if (!kf)
    goto oom;
  if (src->frame->format == AV_PIX_FMT_CUDA)
    {
      /* a host copy: kept GPU surfaces would starve the decoder's surface pool */
      if (gv_hw_download (src) < 0)
        {
          free (kf);
          return NULL;
        }
      kf->frame = av_frame_clone (src->swframe);
    }
  else
    kf->frame = av_frame_clone (src->frame);
  kf->name = strdup (src->name);
  if (!kf->frame || !kf->name)
    goto oom;
  kf->rotation = src->info.rotation;
  kf->index = src->out.index;
  kf->pts = src->out.pts;
  return kf;

oom:
  gv_kept_frame_free (kf);
  gv_error_set (GV_ENOMEM, "%s: out of memory keeping frame %d", src->name, src->out.index);
  return NULL;
}

static int
gv_sws_colorspace (const AVFrame *f)
{
  switch (f->colorspace)
    {
    case AVCOL_SPC_BT709: return SWS_CS_ITU709;
    case AVCOL_SPC_FCC: return SWS_CS_FCC;
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M: return SWS_CS_ITU601;
    case AVCOL_SPC_SMPTE240M: return SWS_CS_SMPTE240M;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: return SWS_CS_BT2020;
    default:
      /* Unspecified: the usual convention, BT.709 for HD and larger, BT.601 below. */
      return f->height >= 720 ? SWS_CS_ITU709 : SWS_CS_ITU601;
    }
}

static int
gv_full_range (const AVFrame *f)
{
  switch ((enum AVPixelFormat) f->format)
    {
    case AV_PIX_FMT_YUVJ420P:
    case AV_PIX_FMT_YUVJ422P:
    case AV_PIX_FMT_YUVJ444P:
    case AV_PIX_FMT_YUVJ440P:
    case AV_PIX_FMT_YUVJ411P:
      return 1;
    default:
      return f->color_range == AVCOL_RANGE_JPEG;
    }
}

GvImage *
gv_kept_frame_to_rgb (const GvKeptFrame *kf)
{
  const AVFrame *f;
  struct SwsContext *sws = NULL;
  uint8_t *buf = NULL;
  uint8_t *dst[4] = { NULL };
  int dstride[4] = { 0 };
  GvImage *img = NULL;
  int w, h, stride, y, ow, oh;
  const AVPixFmtDescriptor *d;

  if (!kf || !kf->frame)
    {
      gv_error_set (GV_EINVAL, "gv_kept_frame_to_rgb: no frame");
      return NULL;
    }
  f = kf->frame;
  w = f->width;
  h = f->height;
  ow = kf->rotation == 90 || kf->rotation == 270 ? h : w;
  oh = kf->rotation == 90 || kf->rotation == 270 ? w : h;
  sws = sws_getContext (w, h, (enum AVPixelFormat) f->format, w, h, AV_PIX_FMT_RGB24,
                        SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
  if (!sws)
    {
      gv_error_set (GV_EUNSUPPORTED, "%s: cannot convert frame %d (%s) to RGB", kf->name,
                    kf->index, av_get_pix_fmt_name ((enum AVPixelFormat) f->format));
      return NULL;
    }
  d = av_pix_fmt_desc_get ((enum AVPixelFormat) f->format);
  if (d && !(d->flags & AV_PIX_FMT_FLAG_RGB) && !(d->flags & AV_PIX_FMT_FLAG_PAL))
    {
      const int *coef = sws_getCoefficients (gv_sws_colorspace (f));
      sws_setColorspaceDetails (sws, coef, gv_full_range (f), sws_getCoefficients (SWS_CS_DEFAULT),
                                1, 0, 1 << 16, 1 << 16);
    }
  stride = FFALIGN (w * 3, 64) + 64;
  buf = av_malloc ((size_t) stride * (h + 1));
  img = gv_image_new (ow, oh, 3, GV_U8);
  if (!buf || !img)
    {
      gv_error_set (GV_ENOMEM, "%s: out of memory converting frame %d to RGB", kf->name,
                      kf->index);
      gv_image_free (img);
      img = NULL;
      goto out;
    }
  dst[0] = buf;
  dstride[0] = stride;
  sws_scale (sws, (const uint8_t *const *) f->data, f->linesize, 0, h, dst, dstride);
  if (kf->rotation == 0)
    for (y = 0; y < h; y++)
      memcpy (gv_image_row_u8 (img, y), buf + (size_t) y * stride, (size_t) w * 3);
  else
    gv_rotate_rgb (buf, stride, w, h, kf->rotation, img->data, img->stride);

out:
  av_free (buf);
  sws_freeContext (sws);
  return img;
}

int
gv_kept_frame_index (const GvKeptFrame *kf)
{
  return kf ? kf->index : -1;
}

double
gv_kept_frame_pts (const GvKeptFrame *kf)
{
  return kf ? kf->pts : 0.0;
}

void
gv_kept_frame_free (GvKeptFrame *kf)
{
  if (!kf)
    return;
  av_frame_free (&kf->frame);
  free (kf->name);
  free (kf);
}

void
gv_frame_source_free (GvFrameSource *src)
{
  if (!src)
    return;
  av_frame_free (&src->frame);
  av_frame_free (&src->swframe);
  av_packet_free (&src->pkt);
  avcodec_free_context (&src->dec); /* joins the decoder threads: no more logging */
  av_buffer_unref (&src->hwdev);
  if (src->registered)
    gv_register (src, 0);
  avformat_close_input (&src->fmt);
  if (src->stdin_pb)
    {
      av_freep (&src->stdin_pb->buffer);
      avio_context_free (&src->stdin_pb);
    }
  sws_freeContext (src->sws);
  av_freep (&src->gray);
  av_freep (&src->rot);
  free (src->info.path);
  free (src->name);
  free (src);
}
