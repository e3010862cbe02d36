/* gv-y4m.h: a YUV4MPEG2 (.y4m) frame reader without FFmpeg or GLib, so that decoded frames can
 * reach the vision core anywhere, from a file or a pipe:
 *   ffmpeg -i scan.mp4 -f yuv4mpegpipe -pix_fmt yuv420p - | prog -
 * (or OpenCV in python3 writing the same stream). 8-bit 4:2:0 (C420, C420jpeg, C420paldv,
 * C420mpeg2, or no C tag) and mono (Cmono); other layouts are refused with a message saying how
 * to convert. The frames are upright as stored. Owner: gv-y4m.c. */
#pragma once

#include <stdio.h>

#include "gv-image.h"
#include "gv-pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int width, height;
  int fps_num, fps_den;  /* F tag (0:0 when absent: 30 fps is assumed for timestamps) */
  int mono;              /* 1: Cmono (no chroma planes) */
  int full_range;        /* 1: XCOLORRANGE=FULL */
  char chroma[16];       /* the C tag as written ("420jpeg", "mono", ... or "420" by default) */
  int frames;            /* frames read so far */
  int truncated;         /* 1 when the stream ended inside a frame (that frame is dropped) */
} GvY4mInfo;

typedef struct GvY4m GvY4m;

/* path "-" reads standard input. GV_EIO (cannot open), GV_EFORMAT (not YUV4MPEG2, bad header),
 * GV_EUNSUPPORTED (a layout other than 8-bit 4:2:0 or mono) with a message naming the file. */
int gv_y4m_open (const char *path, GvY4m **out);
/* The same over an open stream (not closed by gv_y4m_free). */
int gv_y4m_open_stream (FILE *f, const char *name, GvY4m **out);
const GvY4mInfo *gv_y4m_info (const GvY4m *y);
/* 1: luma is a view of the next frame's Y plane (valid until the next call), index and pts
 * (seconds) filled; 0: end of stream; < 0: error (gv_error set). */
int gv_y4m_next (GvY4m *y, GvImage *luma, int *index, double *pts);
void gv_y4m_free (GvY4m *y);

/* The current frame as RGB (U8, 3 channels): BT.709 for heights >= 720, else BT.601 (as the
 * FFmpeg frame source assumes for untagged video), limited range unless XCOLORRANGE=FULL;
 * chroma sampled nearest. NULL with gv_error set on failure. */
GvImage *gv_y4m_to_rgb (const GvY4m *y);

/* A GvFrameFeed over the reader: keep copies the frame's planes, to_rgb converts a kept frame. */
void gv_y4m_feed_init (GvY4m *y, GvFrameFeed *feed);

#ifdef __cplusplus
}
#endif
