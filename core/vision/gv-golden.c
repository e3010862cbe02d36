/* gv-golden.c: the gate and the golden-frame selection (backend independent).
 * Greedy as the production worker: candidates by sharpness descending, each taken when it is at
 * least min_gap frames from every pick so far, up to max_golden. Unlike the worker, a frame only
 * passes the gate with a measured motion, and the gate uses the larger of the flows to and from
 * the frame (a frame is still when the camera is still on both sides of it). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <stdlib.h>

#include "gv-pipeline.h"

int
gv_golden_keep_bound (const GvParams *p)
{
  return p->max_golden * (2 * p->min_gap + 1);
}

static int
cmp_sharp (const void *a, const void *b, void *data)
{
  const GvFrameRecord *frames = data;
  const GvFrameRecord *fa = &frames[*(const int *) a];
  const GvFrameRecord *fb = &frames[*(const int *) b];

  if (fa->sharpness > fb->sharpness)
    return -1;
  if (fa->sharpness < fb->sharpness)
    return 1;
  return fa->index < fb->index ? -1 : (fa->index > fb->index);
}

static int
cmp_int (const void *a, const void *b)
{
  int x = *(const int *) a, y = *(const int *) b;
  return x < y ? -1 : x > y;
}

int
gv_golden_select (GvFrameRecord *frames, int n, const GvParams *p, int *picks)
{
  int *order = malloc (sizeof (int) * (size_t) (n > 0 ? n : 1));
  int nc = 0, np = 0;

  if (!order)
    return -1;
  for (int i = 0; i < n; i++)
    {
      frames[i].candidate = frames[i].measured && frames[i].motion_gate <= p->motion_gate;
      if (frames[i].candidate)
        order[nc++] = i;
    }
  qsort_r (order, (size_t) nc, sizeof (int), cmp_sharp, frames);
  for (int k = 0; k < nc && np < p->max_golden; k++)
    {
      int f = frames[order[k]].index, ok = 1;
      for (int j = 0; j < np && ok; j++)
        if (abs (frames[picks[j]].index - f) < p->min_gap)
          ok = 0;
      if (ok)
        picks[np++] = order[k];
    }
  free (order);
  qsort (picks, (size_t) np, sizeof (int), cmp_int);
  return np;
}
