/* gv-kernel-common.h: the marker for per-pixel code shared by the CPU backend (C) and the CUDA
 * backend (nvcc). Everything marked GV_KERNEL must be plain float/int arithmetic: no libm
 * transcendental (the host precomputes tables), no FMA contraction (-ffp-contract=off on the
 * C side, -fmad=false under nvcc), fixed operation order. */
#pragma once

#ifdef __CUDACC__
#define GV_KERNEL __host__ __device__ static inline
#else
#define GV_KERNEL static inline
#endif

GV_KERNEL int
gv_clampi (int v, int lo, int hi)
{
  return v < lo ? lo : (v > hi ? hi : v);
}

/* Luma of an RGB pixel: 0.299, 0.587, 0.114 in 14-bit fixed point, rounded, as cv::cvtColor
 * does (gv_image_rgb_to_gray, the device's gray copy of a golden frame). */
GV_KERNEL unsigned char
gv_gray_u8 (unsigned char r, unsigned char g, unsigned char b)
{
  unsigned v = 4899u * r + 9617u * g + 1868u * b;
  return (unsigned char) ((v + (1u << 13)) >> 14);
}

/* OpenCV's BORDER_REFLECT_101 index: -1 -> 1, n -> n-2. Valid for |overshoot| < n. */
GV_KERNEL int
gv_reflect101 (int i, int n)
{
  if (n == 1)
    return 0;
  while (i < 0 || i >= n)
    {
      if (i < 0)
        i = -i;
      if (i >= n)
        i = 2 * n - 2 - i;
    }
  return i;
}

/* Point in a convex quad (corners TL, TR, BR, BL, clockwise in image coordinates). */
GV_KERNEL int
gv_point_in_quad (const float q[8], float x, float y)
{
  for (int i = 0; i < 4; i++)
    {
      int j = (i + 1) & 3;
      float ex = q[2 * j] - q[2 * i], ey = q[2 * j + 1] - q[2 * i + 1];
      float px = x - q[2 * i], py = y - q[2 * i + 1];
      float cr = ex * py - ey * px;
      if (cr < 0.0f)
        return 0;
    }
  return 1;
}
