/* gv-resize.c: placeholder until its implementation lands. */
typedef int gv_placeholder_gv_resize;
