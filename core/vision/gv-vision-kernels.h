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
