/* gv-error.c: per-thread error message for the vision core. */
#include "gv-error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char gv_err_msg[1024];
static _Thread_local int gv_err_code;

int
gv_error_set (int code, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (gv_err_msg, sizeof gv_err_msg, fmt, ap);
  va_end (ap);
  gv_err_code = code;
  return code;
}

const char *
gv_error_code_name (int code)
{
  switch (code)
    {
    case GV_OK: return "no error";
    case GV_EINVAL: return "invalid argument";
    case GV_ENOMEM: return "out of memory";
    case GV_EIO: return "input/output error";
    case GV_EFORMAT: return "unsupported or corrupt data";
    case GV_ECANCELLED: return "cancelled";
    case GV_ENODEV: return "no device";
    case GV_EDEVICE: return "device error";
    case GV_ENOTFOUND: return "not found";
    case GV_EUNSUPPORTED: return "unsupported";
    default: return "unknown error";
    }
}

const char *
gv_error_message (void)
{
  if (gv_err_msg[0] == '\0')
    return gv_error_code_name (gv_err_code);
  return gv_err_msg;
}

int
gv_error_code (void)
{
  return gv_err_code;
}

void
gv_error_clear (void)
{
  gv_err_msg[0] = '\0';
  gv_err_code = GV_OK;
}
