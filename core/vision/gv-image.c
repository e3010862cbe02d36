/* gv-image.c: image buffers. */
#include "gv-image.h"

#include <stdlib.h>
#include <string.h>

#include "gv-error.h"
#include "gv-kernel-common.h"

size_t
gv_image_pixel_size (const GvImage *img)
{
  return (size_t) img->channels * (img->depth == GV_F32 ? sizeof (float) : 1);
}

GvImage *
gv_image_new (int width, int height, int channels, GvDepth depth)
{
  GvImage *img;
  size_t psize, stride;

  if (width <= 0 || height <= 0 || channels <= 0 || channels > 4)
    {
      gv_error_set (GV_EINVAL, "image size %dx%dx%d is not valid", width, height, channels);
      return NULL;
    }
  if (width > GV_IMAGE_MAX_SIDE || height > GV_IMAGE_MAX_SIDE
      || (long long) width * height > GV_IMAGE_MAX_PIXELS)
    {
      gv_error_set (GV_ENOMEM, "image size %dx%d exceeds the limit of %d px a side and %lld pixels",
                    width, height, GV_IMAGE_MAX_SIDE, GV_IMAGE_MAX_PIXELS);
      return NULL;
    }
  img = calloc (1, sizeof *img);
  if (!img)
    goto nomem;
  psize = (size_t) channels * (depth == GV_F32 ? sizeof (float) : 1);
  stride = ((size_t) width * psize + 63) & ~(size_t) 63;
  img->data = aligned_alloc (64, stride * (size_t) height);
  if (!img->data)
    {
      free (img);
      goto nomem;
    }
  memset (img->data, 0, stride * (size_t) height);
  img->width = width;
  img->height = height;
  img->channels = channels;
  img->depth = depth;
  img->stride = stride;
  img->owns_data = 1;
  return img;

nomem:
  gv_error_set (GV_ENOMEM, "out of memory for a %dx%d image", width, height);
  return NULL;
}

GvImage
gv_image_view (void *data, int width, int height, int channels, GvDepth depth, size_t stride)
{
  GvImage v = { width, height, channels, depth, stride, data, 0 };
  return v;
}

GvImage *
gv_image_copy (const GvImage *src)
{
  GvImage *dst = gv_image_new (src->width, src->height, src->channels, src->depth);
  size_t row;

  if (!dst)
    return NULL;
  row = (size_t) src->width * gv_image_pixel_size (src);
  for (int y = 0; y < src->height; y++)
    memcpy (gv_image_row_u8 (dst, y), gv_image_row_u8 (src, y), row);
  return dst;
}

void
gv_image_free (GvImage *img)
{
  if (!img)
    return;
  if (img->owns_data)
    free (img->data);
  free (img);
}

int
gv_image_same_shape (const GvImage *a, const GvImage *b)
{
  return a->width == b->width && a->height == b->height && a->channels == b->channels
         && a->depth == b->depth;
}

int
gv_image_compare (const GvImage *a, const GvImage *b)
{
  size_t row;

  if (!gv_image_same_shape (a, b))
    return 1;
  row = (size_t) a->width * gv_image_pixel_size (a);
  for (int y = 0; y < a->height; y++)
    if (memcmp (gv_image_row_u8 (a, y), gv_image_row_u8 (b, y), row) != 0)
      return 1;
  return 0;
}

int
gv_image_rgb_to_gray (const GvImage *rgb, GvImage *gray)
{
  if (rgb->depth != GV_U8 || rgb->channels != 3 || gray->depth != GV_U8 || gray->channels != 1
      || rgb->width != gray->width || rgb->height != gray->height)
    return gv_error_set (GV_EINVAL, "rgb_to_gray: shapes do not match");
  for (int y = 0; y < rgb->height; y++)
    {
      const uint8_t *s = gv_image_row_u8 (rgb, y);
      uint8_t *d = gv_image_row_u8 (gray, y);
      for (int x = 0; x < rgb->width; x++)
        d[x] = gv_gray_u8 (s[3 * x], s[3 * x + 1], s[3 * x + 2]);
    }
  return GV_OK;
}
