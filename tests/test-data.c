/* test-data.c: the desktop integration files as the tools that read them see them: the .desktop
 * file (desktop-file-validate), the metainfo (appstreamcli validate --no-net), the GSettings
 * schema (glib-compile-schemas --strict), the German catalogue (msgfmt --check, complete), and
 * the GResource (every template the widgets load is in it). A missing tool skips its test. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

static char *
build_file (const char *rel)
{
  const char *b = g_getenv ("GV_BUILD_DIR");
  return g_build_filename (b ? b : ".", rel, NULL);
}

static char *
source_file (const char *rel)
{
  const char *s = g_getenv ("GV_SOURCE_DIR");
  return g_build_filename (s ? s : "..", rel, NULL);
}

/* Runs argv; returns its exit status, stdout+stderr in *out. -1 when the tool is missing. */
static int
run (const char *const *argv, char **out)
{
  g_autofree char *tool = g_find_program_in_path (argv[0]);
  g_autoptr (GError) error = NULL;
  g_autofree char *o = NULL, *e = NULL;
  int status = 0;

  if (!tool)
    return -1;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &o, &e, &status, &error))
    g_error ("%s: %s", argv[0], error->message);
  *out = g_strconcat (o ? o : "", e ? e : "", NULL);
  return g_spawn_check_wait_status (status, NULL) ? 0 : 1;
}

static void
check_tool (const char *const *argv)
{
  g_autofree char *out = NULL;
  int rc = run (argv, &out);

  if (rc < 0)
    {
      g_autofree char *why = g_strdup_printf ("%s is not installed", argv[0]);
      g_test_skip (why);
      return;
    }
  if (out && *out)
    g_test_message ("%s: %s", argv[0], out);
  g_assert_cmpint (rc, ==, 0);
}

static void
test_desktop (void)
{
  g_autofree char *path = build_file ("data/io.gradevault.Inspector.desktop");
  const char *argv[] = { "desktop-file-validate", path, NULL };
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *name_de = NULL;

  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  check_tool (argv);
  /* The German name comes from po/de.po through the merge. */
  g_assert_true (g_key_file_load_from_file (kf, path, G_KEY_FILE_KEEP_TRANSLATIONS, &error));
  name_de = g_key_file_get_locale_string (kf, "Desktop Entry", "Comment", "de", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (name_de, "Comic"));
}

static void
test_metainfo (void)
{
  g_autofree char *path = build_file ("data/io.gradevault.Inspector.metainfo.xml");
  const char *argv[] = { "appstreamcli", "validate", "--no-net", path, NULL };

  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  check_tool (argv);
}

static void
test_gschema (void)
{
  g_autofree char *src = source_file ("data/io.gradevault.Inspector.gschema.xml");
  g_autofree char *dir = g_dir_make_tmp ("gv-schema-XXXXXX", NULL);
  g_autofree char *dst = g_build_filename (dir, "io.gradevault.Inspector.gschema.xml", NULL);
  g_autofree char *text = NULL;
  const char *argv[] = { "glib-compile-schemas", "--strict", "--dry-run", dir, NULL };
  gsize len;

  /* Alone in a directory so only our schema is judged. */
  g_assert_true (g_file_get_contents (src, &text, &len, NULL));
  g_assert_true (g_file_set_contents (dst, text, len, NULL));
  check_tool (argv);
  g_remove (dst);
  g_rmdir (dir);
}

static void
test_translation (void)
{
  g_autofree char *po = source_file ("po/de.po");
  const char *argv[] = { "msgfmt", "--check", "--statistics", "-o", "/dev/null", po, NULL };
  g_autofree char *out = NULL;
  int rc = run (argv, &out);

  if (rc < 0)
    {
      g_test_skip ("msgfmt is not installed");
      return;
    }
  g_test_message ("de.po: %s", out);
  g_assert_cmpint (rc, ==, 0);
  /* Complete: no fuzzy and no untranslated messages. */
  g_assert_null (strstr (out, "fuzzy"));
  g_assert_null (strstr (out, "untranslated"));
}

static void
test_pot_current (void)
{
  /* Every file that marks strings is listed in POTFILES.in. */
  static const char *marked[] = { "ui/gv-window.c", "ui/gv-analysis.c", "ui/gv-overview-view.c",
                                  "ui/gv-frames-view.c", "ui/gv-cover-view.c", "ui/gv-compare-view.c",
                                  "ui/gv-history-view.c", "ui/gv-timeline.c", "app/gui/main.c",
                                  "data/ui/gv-window.ui", "data/ui/gv-frames-view.ui",
                                  "core/report/gv-report-pdf.c", "core/report/gv-report-compare.c" };
  g_autofree char *path = source_file ("po/POTFILES.in");
  g_autofree char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (marked); i++)
    g_assert_nonnull (strstr (text, marked[i]));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gv/data/desktop-file-validate", test_desktop);
  g_test_add_func ("/gv/data/appstreamcli-validate", test_metainfo);
  g_test_add_func ("/gv/data/gschema-strict", test_gschema);
  g_test_add_func ("/gv/data/german-complete", test_translation);
  g_test_add_func ("/gv/data/potfiles", test_pot_current);
  return g_test_run ();
}
