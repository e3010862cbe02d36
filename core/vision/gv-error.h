/* gv-error.h: error codes and a per-thread message for the GLib-free core. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

enum {
  GV_OK = 0,
  GV_EINVAL = -1,      /* bad argument or parameter */
  GV_ENOMEM = -2,      /* allocation failed or refused (too large) */
  GV_EIO = -3,         /* file cannot be read or written */
  GV_EFORMAT = -4,     /* not a video, unsupported or corrupt data */
  GV_ECANCELLED = -5,  /* the cancel callback asked to stop */
  GV_ENODEV = -6,      /* no device for the requested backend */
  GV_EDEVICE = -7,     /* device (CUDA) error */
  GV_ENOTFOUND = -8,   /* e.g. cover not found */
  GV_EUNSUPPORTED = -9,
};

/* Sets the calling thread's message (printf format) and returns code. */
int gv_error_set (int code, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__ ((format (printf, 2, 3)))
#endif
  ;
/* The calling thread's last message, or a generic text for the code. */
const char *gv_error_message (void);
int gv_error_code (void);
void gv_error_clear (void);
const char *gv_error_code_name (int code);

#ifdef __cplusplus
}
#endif
