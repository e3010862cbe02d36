/* gv-image.h: plain image buffers shared by the CPU backend, the pipeline and the tests. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { GV_U8 = 0, GV_F32 = 1 } GvDepth;

typedef struct {
  int width, height, channels;
  GvDepth depth;
  size_t stride; /* bytes between rows */
  void *data;
  int owns_data;
} GvImage;

/* Largest image we allocate: refuses absurd sizes before touching memory. */
#define GV_IMAGE_MAX_SIDE 16384
#define GV_IMAGE_MAX_PIXELS (8192LL * 8192LL)

/* Zero-filled image; NULL with gv_error set when the size is refused or memory is short. */
GvImage *gv_image_new (int width, int height, int channels, GvDepth depth);
/* A view on memory the caller owns (not freed by gv_image_free's data release). */
GvImage gv_image_view (void *data, int width, int height, int channels, GvDepth depth, size_t stride);
GvImage *gv_image_copy (const GvImage *src);
void gv_image_free (GvImage *img);
size_t gv_image_pixel_size (const GvImage *img);
int gv_image_same_shape (const GvImage *a, const GvImage *b);
/* 0 when a and b hold identical pixels (shape and bytes). */
int gv_image_compare (const GvImage *a, const GvImage *b);
/* RGB (U8, 3 ch) to gray U8 with the BT.601 weights OpenCV's cvtColor uses (fixed point). */
int gv_image_rgb_to_gray (const GvImage *rgb, GvImage *gray);

static inline uint8_t *
gv_image_row_u8 (const GvImage *img, int y)
{
  return (uint8_t *) img->data + (size_t) y * img->stride;
}

static inline float *
gv_image_row_f32 (const GvImage *img, int y)
{
  return (float *) (void *) ((uint8_t *) img->data + (size_t) y * img->stride);
}

#ifdef __cplusplus
}
#endif
