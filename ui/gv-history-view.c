/* gv-history-view.c: every run in the run store (core/store) with scan, date, backend, device,
 * grade and duration; searchable; delete. Without the store in this build it says so. */
#include <glib/gi18n.h>
#include <math.h>

#include "gv-views.h"
#ifdef GV_HAVE_STORE
#include "gv-store.h"
#endif
#ifdef GV_HAVE_REPORT
#include "gv-report.h"
#endif

struct _GvHistoryView {
  GtkWidget parent_instance;
  GtkSearchEntry *search_entry;
  GtkButton *refresh_button, *delete_button, *compare_button, *open_button;
  GtkLabel *status_label, *compare_label;
  GtkListBox *runs_list;
};

G_DEFINE_FINAL_TYPE (GvHistoryView, gv_history_view, GTK_TYPE_WIDGET)

static void compare_clicked (GtkButton *b, GvHistoryView *self);

enum { OPEN_RUN, N_SIGNALS };
static guint signals[N_SIGNALS];

static gboolean
filter_row (GtkListBoxRow *row, gpointer user_data)
{
  GvHistoryView *self = user_data;
  const char *q = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  const char *text = g_object_get_data (G_OBJECT (row), "search-text");
  g_autofree char *fq = NULL, *ft = NULL;

  if (!q || !*q)
    return TRUE;
  fq = g_utf8_casefold (q, -1);
  ft = g_utf8_casefold (text ? text : "", -1);
  return strstr (ft, fq) != NULL;
}

void
gv_history_view_reload (GvHistoryView *self)
{
  GtkWidget *c;

  if (!self->runs_list) /* disposed */
    return;
  while ((c = gtk_widget_get_first_child (GTK_WIDGET (self->runs_list))))
    gtk_list_box_remove (self->runs_list, c);
  gtk_widget_set_sensitive (GTK_WIDGET (self->delete_button), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->compare_button), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->open_button), FALSE);
#ifdef GV_HAVE_STORE
  {
    g_autofree char *path = gv_store_default_path ();
    g_autoptr (GError) error = NULL;
    g_autoptr (GvStore) store = NULL;
    g_autoptr (GPtrArray) runs = NULL;

    if (!g_file_test (path, G_FILE_TEST_EXISTS))
      {
        g_autofree char *t = g_strdup_printf (_("No runs stored yet (%s does not exist). Runs "
                                                "that gvscan stores appear here."), path);
        gtk_label_set_text (self->status_label, t);
        return;
      }
    store = gv_store_open (path, GV_STORE_OPEN_READ_ONLY, &error);
    if (store)
      runs = gv_store_list_runs (store, &error);
    if (!runs)
      {
        g_autofree char *t = g_strdup_printf (_("The run store cannot be read: %s"), error->message);
        gtk_label_set_text (self->status_label, t);
        return;
      }
    for (guint i = 0; i < runs->len; i++)
      {
        GvRun *r = g_ptr_array_index (runs, i);
        g_autofree char *base = g_path_get_basename (r->video_path ? r->video_path : "?");
        g_autofree char *grade = isnan (r->grade) ? g_strdup (_("no grade")) : g_strdup_printf (_("grade %.1f"), r->grade);
        g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, r->id);
        g_autofree char *t = g_strdup_printf (_("#%s  %s  ·  %s  ·  %s (%s)  ·  %s  ·  %.2f s  ·  %s"),
                                              id, base, r->started_at ? r->started_at : "",
                                              r->backend ? r->backend : "", r->device ? r->device : "",
                                              grade, r->total_seconds, gv_run_status_text (r->status));
        GtkWidget *l = gtk_label_new (t);
        GtkWidget *row = gtk_list_box_row_new ();
        gtk_label_set_xalign (GTK_LABEL (l), 0);
        gtk_widget_set_margin_top (l, 4);
        gtk_widget_set_margin_bottom (l, 4);
        gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), l);
        g_object_set_data_full (G_OBJECT (row), "search-text", g_strdup (t), g_free);
        g_object_set_data (G_OBJECT (row), "run-id", GINT_TO_POINTER ((int) r->id));
        gtk_list_box_append (self->runs_list, row);
      }
    {
      /* ~ for the home folder, as a person reads the path. */
      const char *home = g_get_home_dir ();
      gsize hl = home ? strlen (home) : 0;
      g_autofree char *shown = hl > 1 && g_str_has_prefix (path, home) && path[hl] == G_DIR_SEPARATOR
                                 ? g_strconcat ("~", path + hl, NULL) : g_strdup (path);
      g_autofree char *t = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u run in %s.", "%u runs in %s.", runs->len),
                                            runs->len, shown);
      gtk_label_set_text (self->status_label, t);
    }
  }
#else
  gtk_label_set_text (self->status_label,
                      _("History needs the run store (issue 6), which this build does not have."));
#endif
}

int
gv_history_view_count_runs (GvHistoryView *self)
{
  int n = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->runs_list)); c; c = gtk_widget_get_next_sibling (c))
    n += GTK_IS_LIST_BOX_ROW (c);
  return n;
}

void
gv_history_view_compare_first_two (GvHistoryView *self)
{
  GtkListBoxRow *a = gtk_list_box_get_row_at_index (self->runs_list, 0);
  GtkListBoxRow *b = gtk_list_box_get_row_at_index (self->runs_list, 1);

  if (!a || !b)
    return;
  gtk_list_box_unselect_all (self->runs_list);
  gtk_list_box_select_row (self->runs_list, a);
  gtk_list_box_select_row (self->runs_list, b);
  compare_clicked (self->compare_button, self);
}

const char *
gv_history_view_get_compare_text (GvHistoryView *self)
{
  return gtk_label_get_text (self->compare_label);
}

const char *
gv_history_view_get_status (GvHistoryView *self)
{
  return gtk_label_get_text (self->status_label);
}

static void
selection_changed (GtkListBox *box, GvHistoryView *self)
{
  g_autoptr (GList) rows = NULL;
  guint n;

  if (!self->delete_button) /* the list emits while it is disposed */
    return;
  rows = gtk_list_box_get_selected_rows (box);
  n = g_list_length (rows);
  gtk_widget_set_sensitive (GTK_WIDGET (self->delete_button), n > 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->compare_button), n == 2);
  gtk_widget_set_sensitive (GTK_WIDGET (self->open_button), n == 1);
}

static void
open_row (GvHistoryView *self, GtkListBoxRow *row)
{
  if (row)
    g_signal_emit (self, signals[OPEN_RUN], 0,
                   (gint64) GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "run-id")));
}

static void
open_clicked (GtkButton *b, GvHistoryView *self)
{
  g_autoptr (GList) rows = gtk_list_box_get_selected_rows (self->runs_list);

  if (rows && !rows->next)
    open_row (self, rows->data);
}

static void
row_activated (GtkListBox *box, GtkListBoxRow *row, GvHistoryView *self)
{
  open_row (self, row);
}

void
gv_history_view_open_first (GvHistoryView *self)
{
  open_row (self, gtk_list_box_get_row_at_index (self->runs_list, 0));
}

static void
compare_clicked (GtkButton *b, GvHistoryView *self)
{
#if defined(GV_HAVE_STORE) && defined(GV_HAVE_REPORT)
  g_autoptr (GList) rows = gtk_list_box_get_selected_rows (self->runs_list);
  g_autofree char *path = gv_store_default_path ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GvStore) store = NULL;
  g_autoptr (GvRun) a = NULL, bb = NULL;
  g_autoptr (GvComparison) cmp = NULL;
  g_autofree char *text = NULL;

  if (g_list_length (rows) != 2)
    return;
  store = gv_store_open (path, GV_STORE_OPEN_READ_ONLY, &error);
  if (store)
    a = gv_store_load_run (store, GPOINTER_TO_INT (g_object_get_data (rows->data, "run-id")), &error);
  if (a)
    bb = gv_store_load_run (store, GPOINTER_TO_INT (g_object_get_data (rows->next->data, "run-id")), &error);
  if (!bb)
    {
      g_autofree char *t = g_strdup_printf (_("The runs cannot be compared: %s"), error->message);
      gtk_label_set_text (self->compare_label, t);
      return;
    }
  /* Older run first, so A and B read in the order they ran. */
  cmp = a->id < bb->id ? gv_report_compare (a, bb) : gv_report_compare (bb, a);
  text = cmp ? gv_comparison_to_text (cmp) : NULL;
  gtk_label_set_text (self->compare_label, text ? text : _("The runs cannot be compared."));
#else
  gtk_label_set_text (self->compare_label, _("Comparing stored runs needs the report code (issue 6)."));
#endif
}

static void
delete_clicked (GtkButton *b, GvHistoryView *self)
{
#ifdef GV_HAVE_STORE
  g_autoptr (GList) rows = gtk_list_box_get_selected_rows (self->runs_list);
  g_autofree char *path = gv_store_default_path ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GvStore) store = NULL;

  if (!rows)
    return;
  store = gv_store_open (path, GV_STORE_OPEN_READ_WRITE, &error);
  for (GList *l = rows; store && l; l = l->next)
    if (!gv_store_delete_run (store, GPOINTER_TO_INT (g_object_get_data (l->data, "run-id")), &error))
      break;
  if (error)
    {
      g_autofree char *t = g_strdup_printf (_("The run cannot be deleted: %s"), error->message);
      gtk_label_set_text (self->status_label, t);
      return;
    }
  g_clear_pointer (&store, gv_store_close);
  gv_history_view_reload (self);
#endif
}

static void
search_changed (GtkSearchEntry *e, GvHistoryView *self)
{
  gtk_list_box_invalidate_filter (self->runs_list);
}

static void
refresh_clicked (GtkButton *b, GvHistoryView *self)
{
  gv_history_view_reload (self);
}

static void
gv_history_view_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), GV_TYPE_HISTORY_VIEW);
  gv_widget_unparent_children (GTK_WIDGET (object));
  G_OBJECT_CLASS (gv_history_view_parent_class)->dispose (object);
}

static void
gv_history_view_class_init (GvHistoryViewClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = gv_history_view_dispose;
  gtk_widget_class_set_template_from_resource (wc, "/io/gradevault/Inspector/ui/gv-history-view.ui");
  gtk_widget_class_bind_template_child (wc, GvHistoryView, search_entry);
  gtk_widget_class_bind_template_child (wc, GvHistoryView, refresh_button);
  gtk_widget_class_bind_template_child (wc, GvHistoryView, delete_button);
  gtk_widget_class_bind_template_child (wc, GvHistoryView, compare_button);
  gtk_widget_class_bind_template_child (wc, GvHistoryView, open_button);
  signals[OPEN_RUN] = g_signal_new ("open-run", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                    NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  gtk_widget_class_bind_template_child (wc, GvHistoryView, compare_label);
  gtk_widget_class_bind_template_child (wc, GvHistoryView, status_label);
  gtk_widget_class_bind_template_child (wc, GvHistoryView, runs_list);
  gtk_widget_class_set_layout_manager_type (wc, GTK_TYPE_BIN_LAYOUT);
}

static void
gv_history_view_init (GvHistoryView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_list_box_set_filter_func (self->runs_list, filter_row, self, NULL);
  g_signal_connect (self->search_entry, "search-changed", G_CALLBACK (search_changed), self);
  g_signal_connect (self->refresh_button, "clicked", G_CALLBACK (refresh_clicked), self);
  g_signal_connect (self->delete_button, "clicked", G_CALLBACK (delete_clicked), self);
  g_signal_connect (self->runs_list, "selected-rows-changed", G_CALLBACK (selection_changed), self);
  g_signal_connect (self->compare_button, "clicked", G_CALLBACK (compare_clicked), self);
  g_signal_connect (self->open_button, "clicked", G_CALLBACK (open_clicked), self);
  g_signal_connect (self->runs_list, "row-activated", G_CALLBACK (row_activated), self);
  {
    GtkWidget *l = gtk_label_new (_("No runs to show."));
    gtk_widget_add_css_class (l, "gv-unavailable");
    gtk_list_box_set_placeholder (self->runs_list, l);
  }
  gv_history_view_reload (self);
}
