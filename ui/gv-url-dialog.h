/* gv-url-dialog.h: Open URL's dialog: one address, checked as it is typed (http or https only);
 * emits "open" (const char *url) and closes. The window does the download. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GV_TYPE_URL_DIALOG (gv_url_dialog_get_type ())
G_DECLARE_FINAL_TYPE (GvUrlDialog, gv_url_dialog, GV, URL_DIALOG, GtkWindow)

GvUrlDialog *gv_url_dialog_new (GtkWindow *parent);
void gv_url_dialog_set_url (GvUrlDialog *self, const char *url);
/* What Open does (tests): emits "open" when the address is acceptable, else shows why. */
gboolean gv_url_dialog_accept (GvUrlDialog *self);
const char *gv_url_dialog_get_error (GvUrlDialog *self);

G_END_DECLS
