/* gv-vision-kernels.h: per-pixel code of the frame measures, shared with the CUDA backend. */
#pragma once

#include <math.h>
#include <stdint.h>

#include "gv-kernel-common.h"

/* 3x3 Laplacian 0 1 0 / 1 -4 1 / 0 1 0 at column x of row r1 (r0 above, r2 below, already
 * reflected); columns reflect-101 at the borders. */
GV_KERNEL int
gv_laplacian3_at (const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, int x, int w)
{
  int xl = x > 0 ? x - 1 : (w > 1 ? 1 : 0);
  int xr = x < w - 1 ? x + 1 : (w > 1 ? w - 2 : 0);
  return (int) r0[x] + (int) r2[x] + (int) r1[xl] + (int) r1[xr] - 4 * (int) r1[x];
}

/* |flow| in full-resolution px: components scaled per axis, then sqrtf (IEEE correctly rounded
 * on the CPU and, with nvcc's default -prec-sqrt=true, on the GPU). */
GV_KERNEL float
gv_flow_mag_at (float dx, float dy, float sx, float sy)
{
  float ux = dx * sx, uy = dy * sy;
  return sqrtf (ux * ux + uy * uy);
}

/* Columns [*lo, *hi] of row y inside the convex quad q under the exact per-pixel rule
 * (gv_point_in_quad): a span from the edges in double, then settled pixel by pixel at its ends.
 * A convex quad meets a row in one interval. *lo > *hi when none. Shared by the CPU row loops
 * and the CUDA kernels. */
GV_KERNEL void
gv_quad_row_span (const float *q, int y, int width, int *lo, int *hi)
{
  double xmin = 1e30, xmax = -1e30;
  int a, b;

  for (int i = 0; i < 4; i++)
    {
      int j = (i + 1) & 3;
      double y0 = q[2 * i + 1], y1 = q[2 * j + 1], x0 = q[2 * i], x1 = q[2 * j];
      if ((y < y0 && y < y1) || (y > y0 && y > y1))
        continue;
      double xa = y1 == y0 ? (x0 < x1 ? x0 : x1) : x0 + (x1 - x0) * (y - y0) / (y1 - y0);
      double xb = y1 == y0 ? (x0 > x1 ? x0 : x1) : xa;
      if (xa < xmin)
        xmin = xa;
      if (xb > xmax)
        xmax = xb;
    }
  *lo = 1;
  *hi = 0;
  if (xmin > xmax || xmax < 0 || xmin > width - 1)
    return;
  a = xmin < 0 ? 0 : (int) ceil (xmin);
  b = xmax > width - 1 ? width - 1 : (int) floor (xmax);
  if (a > b)
    {
      a = (int) floor (xmin);
      b = a + 1;
    }
  a = a < 0 ? 0 : a;
  b = b > width - 1 ? width - 1 : b;
  while (a <= b && !gv_point_in_quad (q, (float) a, (float) y))
    a++;
  while (b >= a && !gv_point_in_quad (q, (float) b, (float) y))
    b--;
  if (a > b)
    return;
  while (a > 0 && gv_point_in_quad (q, (float) (a - 1), (float) y))
    a--;
  while (b < width - 1 && gv_point_in_quad (q, (float) (b + 1), (float) y))
    b++;
  *lo = a;
  *hi = b;
}
