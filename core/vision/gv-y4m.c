/* gv-y4m.c: YUV4MPEG2 reader (format: the mjpegtools yuv4mpeg(5) header "YUV4MPEG2" with
 * space-separated W H F I A C X tags, then per frame a "FRAME" line and the planes Y, Cb, Cr). */
#include "gv-y4m.h"

#include <stdlib.h>
#include <string.h>

#include "gv-error.h"

struct GvY4m {
  FILE *f;
  int own;
  char name[256];
  GvY4mInfo info;
  size_t ysize, csize, fsize;
  uint8_t *buf; /* the current frame: Y, then Cb and Cr (4:2:0) */
  int have_frame;
};

typedef struct {
  int w, h, mono, full;
  uint8_t *data; /* planes as in buf */
} GvY4mKept;

/* A header line without its '\n' into line (len bytes); 1 ok, 0 clean EOF, -1 broken. */
static int
read_line (FILE *f, char *line, size_t len)
{
  size_t n = 0;
  int c;

  while ((c = getc (f)) != EOF && c != '\n')
    {
      if (n + 1 >= len)
        return -1;
      line[n++] = (char) c;
    }
  line[n] = '\0';
  if (c == EOF)
    return n == 0 ? 0 : -1;
  return 1;
}

static int
parse_header (GvY4m *y, char *line)
{
  GvY4mInfo *in = &y->info;
  char *save = NULL, *tok;

  if (strncmp (line, "YUV4MPEG2", 9) != 0 || (line[9] != ' ' && line[9] != '\0'))
    return gv_error_set (GV_EFORMAT, "%s is not a YUV4MPEG2 (.y4m) stream", y->name);
  snprintf (in->chroma, sizeof in->chroma, "420");
  for (tok = strtok_r (line + 9, " ", &save); tok; tok = strtok_r (NULL, " ", &save))
    switch (tok[0])
      {
      case 'W':
        in->width = atoi (tok + 1);
        break;
      case 'H':
        in->height = atoi (tok + 1);
        break;
      case 'F':
        if (sscanf (tok + 1, "%d:%d", &in->fps_num, &in->fps_den) != 2)
          in->fps_num = in->fps_den = 0;
        break;
      case 'C':
        snprintf (in->chroma, sizeof in->chroma, "%s", tok + 1);
        break;
      case 'X':
        if (!strcmp (tok, "XCOLORRANGE=FULL"))
          in->full_range = 1;
        break;
      default: /* I (interlacing), A (aspect) and unknown tags: not needed */
        break;
      }
  if (in->width < 1 || in->height < 1 || in->width > GV_IMAGE_MAX_SIDE
      || in->height > GV_IMAGE_MAX_SIDE
      || (long long) in->width * in->height > GV_IMAGE_MAX_PIXELS)
    return gv_error_set (GV_EFORMAT, "%s: the Y4M header gives no valid frame size (%dx%d)",
                         y->name, in->width, in->height);
  if (!strcmp (in->chroma, "mono"))
    in->mono = 1;
  else if (strcmp (in->chroma, "420") && strcmp (in->chroma, "420jpeg")
           && strcmp (in->chroma, "420paldv") && strcmp (in->chroma, "420mpeg2"))
    return gv_error_set (GV_EUNSUPPORTED, "%s: Y4M layout C%s is not supported (8-bit 4:2:0 or "
                         "mono only); convert with ffmpeg ... -pix_fmt yuv420p -f yuv4mpegpipe",
                         y->name, in->chroma);
  y->ysize = (size_t) in->width * in->height;
  y->csize = in->mono ? 0 : (size_t) ((in->width + 1) / 2) * ((in->height + 1) / 2);
  y->fsize = y->ysize + 2 * y->csize;
  return GV_OK;
}

int
gv_y4m_open_stream (FILE *f, const char *name, GvY4m **out)
{
  GvY4m *y;
  char line[1024];
  int rc;

  *out = NULL;
  if (!(y = calloc (1, sizeof *y)))
    return gv_error_set (GV_ENOMEM, "out of memory");
  y->f = f;
  snprintf (y->name, sizeof y->name, "%s", name ? name : "stream");
  rc = read_line (f, line, sizeof line);
  if (rc <= 0)
    rc = gv_error_set (GV_EFORMAT, "%s is empty or not a YUV4MPEG2 (.y4m) stream", y->name);
  else
    rc = parse_header (y, line);
  if (rc == GV_OK && !(y->buf = malloc (y->fsize)))
    rc = gv_error_set (GV_ENOMEM, "%s: out of memory for a %dx%d frame", y->name, y->info.width,
                       y->info.height);
  if (rc != GV_OK)
    {
      free (y->buf);
      free (y);
      return rc;
    }
  *out = y;
  return GV_OK;
}

int
gv_y4m_open (const char *path, GvY4m **out)
{
  FILE *f;
  int rc;

  *out = NULL;
  if (!path)
    return gv_error_set (GV_EINVAL, "y4m: no path");
  if (!strcmp (path, "-"))
    return gv_y4m_open_stream (stdin, "standard input", out);
  if (!(f = fopen (path, "rb")))
    return gv_error_set (GV_EIO, "cannot open %s", path);
  rc = gv_y4m_open_stream (f, path, out);
  if (rc != GV_OK)
    fclose (f);
  else
    (*out)->own = 1;
  return rc;
}

const GvY4mInfo *
gv_y4m_info (const GvY4m *y)
{
  return &y->info;
}

int
gv_y4m_next (GvY4m *y, GvImage *luma, int *index, double *pts)
{
  char line[1024];
  int rc = read_line (y->f, line, sizeof line);

  y->have_frame = 0;
  if (rc == 0)
    return 0;
  if (rc < 0 || strncmp (line, "FRAME", 5) != 0 || (line[5] != ' ' && line[5] != '\0'))
    {
      if (rc < 0 && feof (y->f))
        {
          y->info.truncated = 1;
          return 0;
        }
      return gv_error_set (GV_EFORMAT, "%s: frame %d has no FRAME header", y->name,
                           y->info.frames);
    }
  if (fread (y->buf, 1, y->fsize, y->f) != y->fsize)
    {
      if (ferror (y->f))
        return gv_error_set (GV_EIO, "%s: read error in frame %d", y->name, y->info.frames);
      y->info.truncated = 1;
      return 0;
    }
  *luma = gv_image_view (y->buf, y->info.width, y->info.height, 1, GV_U8, (size_t) y->info.width);
  *index = y->info.frames;
  if (y->info.fps_num > 0 && y->info.fps_den > 0)
    *pts = (double) y->info.frames * y->info.fps_den / y->info.fps_num;
  else
    *pts = y->info.frames / 30.0;
  y->info.frames++;
  y->have_frame = 1;
  return 1;
}

void
gv_y4m_free (GvY4m *y)
{
  if (!y)
    return;
  if (y->own)
    fclose (y->f);
  free (y->buf);
  free (y);
}

static uint8_t
clamp8 (int v)
{
  return (uint8_t) (v < 0 ? 0 : (v > 255 ? 255 : v));
}

/* Integer YCbCr -> RGB, coefficients in 1/65536. */
static GvImage *
planes_to_rgb (const uint8_t *p, int w, int h, int mono, int full)
{
  GvImage *rgb = gv_image_new (w, h, 3, GV_U8);
  int cw = (w + 1) / 2;
  const uint8_t *Y = p, *U = p + (size_t) w * h, *V = U + (size_t) cw * ((h + 1) / 2);
  int hd = h >= 720;
  /* limited range: Y scale 255/219, chroma 255/224; full range: 1 */
  int ky = full ? 65536 : 76309;
  double rv = hd ? 1.5748 : 1.402, gu = hd ? 0.1873 : 0.344136, gv = hd ? 0.4681 : 0.714136;
  double bu = hd ? 1.8556 : 1.772, cs = full ? 1.0 : 255.0 / 224.0;
  int krv = (int) (rv * cs * 65536 + 0.5), kgu = (int) (gu * cs * 65536 + 0.5);
  int kgv = (int) (gv * cs * 65536 + 0.5), kbu = (int) (bu * cs * 65536 + 0.5);

  if (!rgb)
    return NULL;
  for (int y = 0; y < h; y++)
    {
      uint8_t *o = gv_image_row_u8 (rgb, y);
      for (int x = 0; x < w; x++)
        {
          int yy = ((int) Y[(size_t) y * w + x] - (full ? 0 : 16)) * ky;
          int u = 0, v = 0;
          if (!mono)
            {
              size_t ci = (size_t) (y / 2) * cw + x / 2;
              u = (int) U[ci] - 128;
              v = (int) V[ci] - 128;
            }
          o[3 * x] = clamp8 ((yy + krv * v + 32768) >> 16);
          o[3 * x + 1] = clamp8 ((yy - kgu * u - kgv * v + 32768) >> 16);
          o[3 * x + 2] = clamp8 ((yy + kbu * u + 32768) >> 16);
        }
    }
  return rgb;
}

GvImage *
gv_y4m_to_rgb (const GvY4m *y)
{
  if (!y->have_frame)
    {
      gv_error_set (GV_EINVAL, "%s: no current frame", y->name);
      return NULL;
    }
  return planes_to_rgb (y->buf, y->info.width, y->info.height, y->info.mono, y->info.full_range);
}

static int
feed_next (void *ud, GvImage *luma, int *index, double *pts)
{
  return gv_y4m_next (ud, luma, index, pts);
}

static void *
feed_keep (void *ud)
{
  GvY4m *y = ud;
  GvY4mKept *k;

  if (!y->have_frame || !(k = malloc (sizeof *k)))
    return NULL;
  if (!(k->data = malloc (y->fsize)))
    {
      free (k);
      return NULL;
    }
  memcpy (k->data, y->buf, y->fsize);
  k->w = y->info.width;
  k->h = y->info.height;
  k->mono = y->info.mono;
  k->full = y->info.full_range;
  return k;
}

static GvImage *
feed_to_rgb (void *ud, void *kept)
{
  GvY4mKept *k = kept;
  return planes_to_rgb (k->data, k->w, k->h, k->mono, k->full);
}

static void
feed_release (void *ud, void *kept)
{
  GvY4mKept *k = kept;
  if (k)
    free (k->data);
  free (k);
}

void
gv_y4m_feed_init (GvY4m *y, GvFrameFeed *feed)
{
  memset (feed, 0, sizeof *feed);
  feed->ud = y;
  feed->next = feed_next;
  feed->keep = feed_keep;
  feed->to_rgb = feed_to_rgb;
  feed->release = feed_release;
}
