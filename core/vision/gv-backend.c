/* gv-backend.c: backend selection (auto, cpu, cuda; GV_BACKEND sets the default). `why` says
 * which backend runs and on what: for CUDA the device's name, compute capability, memory, driver
 * and runtime versions; for the CPU under auto, why not CUDA (no CUDA in this build, no driver,
 * no device, a device this build has no code for, or parameters the device path refuses). */
#include "gv-backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gv-error.h"

int
gv_backend_kind_parse (const char *s, GvBackendKind *out)
{
  if (!s || !strcmp (s, "auto"))
    *out = GV_BACKEND_AUTO;
  else if (!strcmp (s, "cpu"))
    *out = GV_BACKEND_CPU;
  else if (!strcmp (s, "cuda") || !strcmp (s, "gpu"))
    *out = GV_BACKEND_CUDA;
  else
    return gv_error_set (GV_EINVAL, "unknown backend '%s' (use auto, cpu or cuda)", s);
  return GV_OK;
}

GvBackendKind
gv_backend_kind_default (void)
{
  GvBackendKind k = GV_BACKEND_AUTO;
  const char *env = getenv ("GV_BACKEND");

  if (env && *env && gv_backend_kind_parse (env, &k) != GV_OK)
    k = GV_BACKEND_AUTO;
  return k;
}

int
gv_backend_new (GvBackendKind kind, const GvParams *params, GvBackend **out, char *why,
                size_t why_len)
{
  char reason[256] = "";
  int rc;

  *out = NULL;
  if (kind == GV_BACKEND_CUDA || kind == GV_BACKEND_AUTO)
    {
      if (gv_backend_cuda_available (reason, sizeof reason))
        {
          rc = gv_backend_cuda_new (params, out);
          if (rc == GV_OK)
            {
              if (why)
                snprintf (why, why_len, "using CUDA: %s", (*out)->device);
              return GV_OK;
            }
          snprintf (reason, sizeof reason, "the CUDA backend failed to start: %s",
                    gv_error_message ());
        }
      if (kind == GV_BACKEND_CUDA)
        return gv_error_set (GV_ENODEV, "the CUDA backend was asked for but cannot run: %s",
                             reason);
    }
  rc = gv_backend_cpu_new (params, out);
  if (rc == GV_OK && why)
    {
      if (kind == GV_BACKEND_AUTO)
        snprintf (why, why_len, "using the CPU (%s) because %s", (*out)->device, reason);
      else
        snprintf (why, why_len, "using the CPU (%s) as asked", (*out)->device);
    }
  return rc;
}

void
gv_backend_free (GvBackend *be)
{
  if (be)
    be->ops->free (be);
}

#ifndef GV_WITH_CUDA
/* This build has no CUDA backend: say so, never crash. */
int
gv_backend_cuda_available (char *why, size_t why_len)
{
  if (why)
    snprintf (why, why_len, "this build has no CUDA backend (nvcc was not found at build time, "
              "or it was configured with -Dcuda=disabled)");
  return 0;
}

int
gv_backend_cuda_new (const GvParams *params, GvBackend **out)
{
  *out = NULL;
  return gv_error_set (GV_ENODEV, "this build has no CUDA backend");
}

void *
gv_backend_cuda_context (GvBackend *be)
{
  return NULL;
}
#endif
