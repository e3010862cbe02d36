/* gv-image-view.h: a texture with zoom (scroll, keys) and pan (drag), an optional second texture
 * shown right of a split line, and cairo overlays drawn in image pixel coordinates. Two views can
 * be linked so zoom and pan follow each other (Compare). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GV_TYPE_IMAGE_VIEW (gv_image_view_get_type ())
G_DECLARE_FINAL_TYPE (GvImageView, gv_image_view, GV, IMAGE_VIEW, GtkWidget)

/* Draws over the image; cr is in image px (pixel centres at integer + 0.5); scale is screen px
 * per image px, so line widths of 1/scale are one screen pixel. */
typedef void (*GvOverlayFunc) (GvImageView *view, cairo_t *cr, double scale, gpointer data);

GtkWidget *gv_image_view_new (void);
void gv_image_view_set_texture (GvImageView *self, GdkTexture *texture);
GdkTexture *gv_image_view_get_texture (GvImageView *self);
/* Image size used for layout and overlays when no texture is set (or to draw the texture
 * stretched over a larger image, as the flow picture over the frame). */
void gv_image_view_set_image_size (GvImageView *self, int width, int height);
void gv_image_view_set_split_texture (GvImageView *self, GdkTexture *texture);
void gv_image_view_set_split (GvImageView *self, double frac);
void gv_image_view_set_overlay (GvImageView *self, GvOverlayFunc func, gpointer data);
void gv_image_view_set_placeholder (GvImageView *self, const char *text);
/* zoom 1 = fit; cx, cy image px at the widget's centre. */
void gv_image_view_set_view (GvImageView *self, double zoom, double cx, double cy);
void gv_image_view_get_view (GvImageView *self, double *zoom, double *cx, double *cy);
/* Zooms so the rectangle (image px) fills the view. */
void gv_image_view_zoom_to (GvImageView *self, double x, double y, double w, double h);
void gv_image_view_reset (GvImageView *self);
/* a and b follow each other's zoom and pan. */
void gv_image_view_link (GvImageView *a, GvImageView *b);

/* ---- export at the image's own resolution (not a screen grab) ---- */
/* The image at 1 output px per image px: the texture (stretched over the image size when that is
 * set), the split texture right of split * width, and the overlay. The overlay is handed the
 * scale the view has when it fits a 1000 px box, so lines and labels look as they do on screen.
 * NULL when there is no image. */
cairo_surface_t *gv_image_view_render (GvImageView *self);
/* a and b side by side (b scaled to a's height), or a alone when b has no image; NULL when a has
 * none. */
cairo_surface_t *gv_image_view_render_pair (GvImageView *a, GvImageView *b);
/* Writes a surface from the functions above to a PNG; takes the surface (NULL: an error saying
 * there is nothing to export). */
gboolean gv_surface_save_png (cairo_surface_t *surface, const char *path, GError **error);

/* Signals: "view-changed" (), "probe" (double x, double y: image px under the pointer, or -1),
 * "clicked" (double x, double y). */

G_END_DECLS
