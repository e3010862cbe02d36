/* gv-url-dialog.c: see gv-url-dialog.h. */
#include <glib/gi18n.h>

#include "gv-analysis.h"
#include "gv-url-dialog.h"

struct _GvUrlDialog {
  GtkWindow parent_instance;
  GtkEntry *url_entry;
  GtkLabel *error_label, *dir_label;
  GtkButton *open_button;
};

G_DEFINE_FINAL_TYPE (GvUrlDialog, gv_url_dialog, GTK_TYPE_WINDOW)

enum { OPEN, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
show_error (GvUrlDialog *self, const char *text)
{
  gtk_label_set_text (self->error_label, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), text && *text);
}

const char *
gv_url_dialog_get_error (GvUrlDialog *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->error_label)) ? gtk_label_get_text (self->error_label) : "";
}

gboolean
gv_url_dialog_accept (GvUrlDialog *self)
{
  g_autofree char *url = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->url_entry))));
  g_autoptr (GError) error = NULL;

  if (!gv_url_check (url, &error))
    {
      show_error (self, error->message);
      return FALSE;
    }
  show_error (self, NULL);
  g_signal_emit (self, signals[OPEN], 0, url);
  gtk_window_close (GTK_WINDOW (self));
  return TRUE;
}

void
gv_url_dialog_set_url (GvUrlDialog *self, const char *url)
{
  gtk_editable_set_text (GTK_EDITABLE (self->url_entry), url ? url : "");
}

static void
open_clicked (GvUrlDialog *self)
{
  gv_url_dialog_accept (self);
}

static void
cancel_clicked (GvUrlDialog *self)
{
  gtk_window_close (GTK_WINDOW (self));
}

static void
text_changed (GvUrlDialog *self)
{
  const char *t = gtk_editable_get_text (GTK_EDITABLE (self->url_entry));

  gtk_widget_set_sensitive (GTK_WIDGET (self->open_button), t && *t);
  show_error (self, NULL);
}

static gboolean
escape_pressed (GtkWidget *widget, GVariant *args, gpointer data)
{
  gtk_window_close (GTK_WINDOW (widget));
  return TRUE;
}

static void
gv_url_dialog_class_init (GvUrlDialogClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (wc, "/io/gradevault/Inspector/ui/gv-url-dialog.ui");
  gtk_widget_class_bind_template_child (wc, GvUrlDialog, url_entry);
  gtk_widget_class_bind_template_child (wc, GvUrlDialog, error_label);
  gtk_widget_class_bind_template_child (wc, GvUrlDialog, dir_label);
  gtk_widget_class_bind_template_child (wc, GvUrlDialog, open_button);
  gtk_widget_class_bind_template_callback (wc, open_clicked);
  gtk_widget_class_bind_template_callback (wc, cancel_clicked);
  gtk_widget_class_bind_template_callback (wc, text_changed);
  gtk_widget_class_add_binding (wc, GDK_KEY_Escape, 0, escape_pressed, NULL);
  signals[OPEN] = g_signal_new ("open", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
gv_url_dialog_init (GvUrlDialog *self)
{
  g_autofree char *dir = gv_url_download_dir ();
  g_autofree char *t = g_strdup_printf (_("The video is downloaded to %s, then analysed like a local file."), dir);

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_label_set_text (self->dir_label, t);
  gtk_widget_set_sensitive (GTK_WIDGET (self->open_button), FALSE);
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->open_button));
}

GvUrlDialog *
gv_url_dialog_new (GtkWindow *parent)
{
  return g_object_new (GV_TYPE_URL_DIALOG, "transient-for", parent, "modal", TRUE, NULL);
}
