/* gv-media.h: the FFmpeg frame source (one sequential pass, decoder threads, display-matrix
 * rotation applied, exact timestamps, luma without conversion where the format allows) and
 * video/PNG writers. Errors are GV_E* codes with a plain-words message (gv_error_message)
 * that names the file and the cause. Owner: gv-frame-source.c, gv-video-writer.c, gv-png.c. */
#pragma once

#include <stdint.h>

#include "gv-image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  char *path;             /* absolute path opened */
  int width, height;      /* upright frame size (rotation applied) */
  int coded_width, coded_height;
  int rotation;           /* clockwise degrees applied to make frames upright: 0, 90, 180, 270 */
  double fps;             /* average frame rate as declared (frames / duration if unknown) */
  double duration;        /* seconds, as declared by the container (may disagree with decode) */
  int64_t declared_frames;/* container's frame count, 0 when unknown */
  char codec[32];
  char pix_fmt[32];
  int bit_depth;
  int64_t file_size;
  /* GPU decoding: "cuda (NVDEC, FFmpeg hwaccel)" when frames are decoded on the GPU, else
   * "off: <why>" (not asked for, no CUDA device, codec or profile unsupported, rotated video) */
  char hw_decode[200];
} GvMediaInfo;

typedef struct {
  int index;              /* 0-based decode order (presentation order) */
  double pts;             /* seconds from the first frame's presentation time */
  GvImage luma;           /* upright gray U8 view, valid until the next call; with GPU decoding
                             data is NULL (width, height set): the plane is device_luma, and
                             gv_frame_source_host_luma() brings it to host memory on demand */
  const void *device_luma;/* the 8-bit Y plane in CUDA device memory (GPU decoding), or NULL */
  size_t device_pitch;    /* its bytes per row */
} GvFrame;

typedef struct {
  int64_t frames_decoded;
  int64_t decode_errors;  /* packets the decoder rejected or frames flagged corrupt */
  int partial;            /* 1 when the stream ended early on an error (truncated or corrupt) */
  char partial_reason[160];
} GvDecodeStats;

typedef struct {
  int threads;            /* decoder threads, 0 = auto */
  int64_t max_pixels;     /* refuse larger declared frames before allocating (0 = default) */
  int hw_decode;          /* GV_HW_DECODE_*: decode on the GPU through FFmpeg's CUDA hwaccel */
  void *cuda_context;     /* the CUcontext to decode in (gv_backend_cuda_context), so that the
                             kernels can read the frames; NULL: FFmpeg's own primary context */
} GvSourceOptions;

enum {
  GV_HW_DECODE_OFF = 0,
  GV_HW_DECODE_AUTO = 1,    /* when a CUDA device and a suitable decoder are there, else CPU */
  GV_HW_DECODE_REQUIRE = 2, /* GV_EUNSUPPORTED / GV_ENODEV with the reason when it cannot */
};

typedef struct GvFrameSource GvFrameSource;
typedef struct GvKeptFrame GvKeptFrame;

/* Opens path (regular files only, file protocol only). GV_EIO / GV_EFORMAT / GV_ENOMEM with a
 * message naming the file and the cause. */
int gv_frame_source_open (const char *path, const GvSourceOptions *opts, GvFrameSource **out);
const GvMediaInfo *gv_frame_source_info (const GvFrameSource *src);
/* 1: *frame is the next frame; 0: end of stream; < 0: error that stops decoding. */
int gv_frame_source_next (GvFrameSource *src, const GvFrame **frame);
const GvDecodeStats *gv_frame_source_stats (const GvFrameSource *src);
/* The current frame's luma in host memory: the view itself for CPU-decoded frames; for
 * GPU-decoded ones a download (valid until the next call). */
int gv_frame_source_host_luma (GvFrameSource *src, GvImage *luma);
/* Keeps the current frame's decoded picture (a reference, no conversion; a GPU-decoded picture is
 * copied to host memory so that the decoder's surfaces are not held) for later RGB. */
GvKeptFrame *gv_frame_source_keep (GvFrameSource *src);
/* Full-resolution upright RGB of a kept frame (U8, 3 channels); caller frees. */
GvImage *gv_kept_frame_to_rgb (const GvKeptFrame *kf);
int gv_kept_frame_index (const GvKeptFrame *kf);
double gv_kept_frame_pts (const GvKeptFrame *kf);
void gv_kept_frame_free (GvKeptFrame *kf);
void gv_frame_source_free (GvFrameSource *src);

/* Writes a U8 image (1 or 3 channels) as PNG through a temporary name and rename. */
int gv_png_write (const GvImage *img, const char *path);
/* Reads a PNG into U8 RGB (3 channels) or gray (1 channel when the file is gray). */
GvImage *gv_png_read (const char *path);

/* Video writer (H.264 by default) for synthetic scans and test fixtures. */
typedef struct GvVideoWriter GvVideoWriter;
typedef struct {
  const char *codec;      /* "libx264" (default), "libx265", "libvpx-vp9", ... */
  int crf;                /* quality, codec's scale; 0 = codec default */
  int rotation;           /* display-matrix rotation to write (0, 90, 180, 270) */
  int ten_bit;            /* 1: 10-bit pixel format where the codec allows */
} GvVideoWriterOptions;
int gv_video_writer_open (const char *path, int width, int height, double fps,
                          const GvVideoWriterOptions *opts, GvVideoWriter **out);
/* pts in seconds (variable frame rate allowed; must increase). rgb is U8 3 channels. */
int gv_video_writer_add (GvVideoWriter *w, const GvImage *rgb, double pts);
int gv_video_writer_close (GvVideoWriter *w); /* flushes, writes the trailer, frees */

#ifdef __cplusplus
}
#endif
