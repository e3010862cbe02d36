/* test-store.c: the run store. Round trips (store, close, reopen: the same result and images),
 * migrations from every earlier schema version, interrupted runs marked failed, a writer killed
 * with SIGKILL at random moments many times (the file stays readable, earlier runs intact), two
 * writers at once, a locked database (busy timeout, then a clear error), read-only, corrupt,
 * foreign and newer files (reported by name, never changed), and a WAL database in a read-only
 * directory (opened immutable, with a note). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "gv-store-fixture.h"
#include "gv-store-private.h"

static char *tmpdir;
static char *writer;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

static GBytes *
make_blob (const char *name, const char *kind, void *ud)
{
  return gv_fixture_blob (g_str_hash (name), 3000);
}

/* Stores one fixture run and returns its id. */
static gint64
store_fixture (GvStore *s, guint32 seed, const GvFixtureOpts *o, JsonNode **result_out,
               GPtrArray **images_out)
{
  g_autoptr (GError) error = NULL;
  JsonNode *result = gv_fixture_result (seed, o);
  GPtrArray *images = gv_fixture_images (result, make_blob, NULL);
  GvRunStart st = { "scan-42", "/videos/scan-fixture.mp4", 1234567,
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                    o->backend ? o->backend : "cpu", NULL, "{\"motion-gate\":1.0,\"threads\":0}" };
  gint64 id = gv_store_run_begin (s, &st, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_assert_true (gv_store_run_finish (s, id, result, images, &error));
  g_assert_no_error (error);
  if (result_out)
    *result_out = result;
  else
    json_node_unref (result);
  if (images_out)
    *images_out = images;
  else
    g_ptr_array_unref (images);
  return id;
}

static char *
file_digest (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return g_strdup ("(missing)");
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
}

/* ---- round trips -------------------------------------------------------------------- */

static void
test_round_trip (void)
{
  g_autofree char *path = tmp_path ("round-trip.db");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GvRun) run = NULL;
  GvFixtureOpts o = { 120, 5, TRUE, "cpu", 0 };
  gint64 id;
  GvStore *s = gv_store_open (path, GV_STORE_OPEN_READ_WRITE, &error);

  g_assert_no_error (error);
  id = store_fixture (s, 7, &o, &result, &images);
  gv_store_close (s);

  s = gv_store_open (path, GV_STORE_OPEN_READ_WRITE, &error);
  g_assert_no_error (error);
  run = gv_store_load_run (s, id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (run->status, ==, GV_RUN_DONE);
  g_assert_cmpstr (run->scan_id, ==, "scan-42");
  g_assert_cmpstr (run->video_path, ==, "/videos/scan-fixture.mp4");
  g_assert_cmpint (run->video_size, ==, 1234567);
  g_assert_cmpstr (run->video_sha256, ==, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  g_assert_cmpstr (run->backend, ==, "cpu");
  g_assert_cmpstr (run->device, ==, "CPU, 2 threads");
  g_assert_cmpfloat (run->fps, ==, 30.0);
  g_assert_cmpfloat (run->duration, ==, 4.0);
  g_assert_cmpfloat (run->total_seconds, ==, 2.25);
  g_assert_cmpint (run->n_frames, ==, 120);
  g_assert_cmpint (run->n_golden, ==, 5);
  g_assert_cmpfloat (run->grade, ==, 8.5);
  g_assert_cmpfloat (run->damage_score, ==, 23.5);
  g_assert_cmpfloat (run->defect_percentage, ==, 1.25);
  g_assert_cmpstr (run->result_schema, ==, "gradevault-inspector/result/1");
  g_assert_nonnull (run->started_at);
  g_assert_nonnull (run->finished_at);
  /* The result is the same document, numbers included. */
  g_assert_true (json_node_equal (run->result, result));
  {
    g_autofree char *a = json_to_string (run->result, TRUE), *b = json_to_string (result, TRUE);
    g_assert_cmpstr (a, ==, b);
  }
  g_assert_cmpuint (run->images->len, ==, images->len);
  for (guint i = 0; i < images->len; i++)
    {
      GvRunImage *a = g_ptr_array_index (images, i);
      const GvRunImage *b = gv_run_find_image_by_name (run, a->name);
      g_assert_nonnull (b);
      g_assert_cmpstr (a->kind, ==, b->kind);
      g_assert_cmpint (a->golden, ==, b->golden);
      g_assert_true (g_bytes_equal (a->png, b->png));
    }
  /* The key columns' child tables. */
  g_assert_cmpint (gv_store_count_rows (s, "frames", id, NULL), ==, 120);
  g_assert_cmpint (gv_store_count_rows (s, "golden_frames", id, NULL), ==, 5);
  g_assert_cmpint (gv_store_count_rows (s, "stage_timings", id, NULL), ==, 4);
  g_assert_cmpint (gv_store_count_rows (s, "regions", id, NULL), ==, 6);
  g_assert_cmpint (gv_store_count_rows (s, "defects", id, NULL), ==, 2);
  g_assert_cmpint (gv_store_count_rows (s, "images", id, NULL), ==, 11);
  g_assert_true (gv_store_check (s, &error));
  gv_store_close (s);

  /* Read-only opens see the same. */
  s = gv_store_open (path, GV_STORE_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  {
    g_autoptr (GvRun) again = gv_store_load_run (s, id, &error);
    g_assert_no_error (error);
    g_assert_true (json_node_equal (again->result, result));
  }
  gv_store_close (s);
}

static void
test_memory_and_list (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GvStore) s = gv_store_open (":memory:", GV_STORE_OPEN_READ_WRITE, &error);
  g_autoptr (GPtrArray) runs = NULL;
  GvFixtureOpts o = { 30, 2, FALSE, "cpu", 0 };
  gint64 a, b, c;

  g_assert_no_error (error);
  a = store_fixture (s, 1, &o, NULL, NULL);
  /* The same video again, other parameters: a new run, never an overwrite. */
  b = store_fixture (s, 2, &o, NULL, NULL);
  g_assert_cmpint (b, >, a);
  {
    GvRunStart st = { "scan-x", "/v.mp4", 10, NULL, "cpu", NULL, NULL };
    c = gv_store_run_begin (s, &st, &error);
    g_assert_no_error (error);
    g_assert_true (gv_store_run_fail (s, c, GV_RUN_CANCELLED, "cancelled by the user", &error));
  }
  runs = gv_store_list_runs (s, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (runs->len, ==, 3);
  g_assert_cmpint (((GvRun *) runs->pdata[0])->id, ==, c);
  g_assert_cmpint (((GvRun *) runs->pdata[0])->status, ==, GV_RUN_CANCELLED);
  g_assert_cmpstr (((GvRun *) runs->pdata[0])->error, ==, "cancelled by the user");
  g_assert_true (isnan (((GvRun *) runs->pdata[1])->grade));
  g_assert_cmpint (gv_store_latest_run (s, NULL), ==, c);

  /* Finishing a run that is not running is refused. */
  {
    g_autoptr (JsonNode) r = gv_fixture_result (3, &o);
    g_assert_false (gv_store_run_finish (s, c, r, NULL, &error));
    g_assert_error (error, GV_STORE_ERROR, GV_STORE_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
  /* Delete cascades to every child table. */
  g_assert_true (gv_store_delete_run (s, a, &error));
  g_assert_no_error (error);
  g_assert_cmpint (gv_store_count_rows (s, "frames", a, NULL), ==, 0);
  g_assert_cmpint (gv_store_count_rows (s, "images", a, NULL), ==, 0);
  g_assert_false (gv_store_delete_run (s, a, &error));
  g_assert_error (error, GV_STORE_ERROR, GV_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (gv_store_load_run (s, a, &error));
  g_assert_error (error, GV_STORE_ERROR, GV_STORE_ERROR_NOT_FOUND);
}

static void
test_counterpart (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GvStore) s = gv_store_open (":memory:", GV_STORE_OPEN_READ_WRITE, &error);
  GvFixtureOpts cpu = { 30, 2, FALSE, "cpu", 0 }, cuda = { 30, 2, FALSE, "cuda", 0 };
  gint64 a = store_fixture (s, 1, &cpu, NULL, NULL), b = store_fixture (s, 1, &cuda, NULL, NULL);
  g_autoptr (GvRun) ra = gv_store_load_run (s, a, NULL), rb = gv_store_load_run (s, b, NULL);

  g_assert_cmpint (gv_store_find_counterpart (s, ra, &error), ==, b);
  g_assert_cmpint (gv_store_find_counterpart (s, rb, &error), ==, a);
  g_assert_no_error (error);
}

static void
test_images_from_dir (void)
{
  g_autofree char *dir = tmp_path ("images");
  GvFixtureOpts o = { 30, 2, TRUE, "cpu", 0 };
  g_autoptr (JsonNode) result = gv_fixture_result (1, &o);
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  /* Two of the five named files exist; the others are skipped. */
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *p = g_build_filename (dir, i ? "defect_mask.png" : "cover_01_f00020.png", NULL);
      g_assert_true (g_file_set_contents (p, i ? "mask" : "cover", -1, NULL));
    }
  images = gv_run_images_from_dir (result, dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (images->len, ==, 2);
  for (guint i = 0; i < images->len; i++)
    {
      GvRunImage *img = g_ptr_array_index (images, i);
      if (!strcmp (img->name, "cover_01_f00020.png"))
        {
          g_assert_cmpstr (img->kind, ==, "warped");
          g_assert_cmpint (img->golden, ==, 1);
        }
      else
        {
          g_assert_cmpstr (img->name, ==, "defect_mask.png");
          g_assert_cmpstr (img->kind, ==, "defectMask");
          g_assert_cmpint (img->golden, ==, -1);
        }
    }
}

static void
test_sha256 (void)
{
  g_autofree char *path = tmp_path ("abc.bin");
  g_autofree char *sum = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, "abc", 3, NULL));
  sum = gv_sha256_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sum, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  g_assert_null (gv_sha256_file ("/nonexistent/video.mp4", &error));
  g_assert_nonnull (strstr (error->message, "/nonexistent/video.mp4"));
  g_clear_error (&error);
  /* A FIFO with no writer must not block (gvscan analyze hashes whatever it is given). */
  {
    g_autofree char *fifo = tmp_path ("fifo.mp4");
    g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
    g_assert_null (gv_sha256_file (fifo, &error));
    g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
    g_clear_error (&error);
  }
  g_assert_null (gv_sha256_file (tmpdir, &error));
  g_assert_nonnull (error);
}

/* ---- migrations --------------------------------------------------------------------- */

static void
raw_exec (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  char *msg = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
  sqlite3_close (db);
}

static gint64
raw_int (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  gint64 v;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return v;
}

static void
test_migrations (void)
{
  GvFixtureOpts o = { 20, 1, FALSE, "cpu", 0 };
  g_autoptr (JsonNode) old_result = gv_fixture_result (5, &o);
  g_autofree char *old_json = json_to_string (old_result, FALSE);

  for (int v = 0; v < GV_STORE_SCHEMA_VERSION; v++)
    {
      g_autofree char *name = g_strdup_printf ("schema-%d.db", v);
      g_autofree char *path = tmp_path (name);
      g_autoptr (GError) error = NULL;
      GvStore *s;

      g_test_message ("migrating from schema version %d", v);
      g_assert_true (_gv_store_create_at_version (path, v, &error));
      g_assert_no_error (error);
      /* A finished run as that version wrote it. */
      if (v >= 1)
        {
          char *sql = sqlite3_mprintf (
            "INSERT INTO runs (id, scan_id, status, video_path, started_at, finished_at, backend,"
            " n_frames, result_schema, result_json) VALUES (1, 'old', 'done', '/old.mp4',"
            " '2026-01-01T00:00:00Z', '2026-01-01T00:00:05Z', 'cpu', 20,"
            " 'gradevault-inspector/result/1', %Q);"
            "INSERT INTO frames (run_id, idx, pts, sharpness) VALUES (1, 0, 0.0, 12.5);", old_json);
          raw_exec (path, sql);
          sqlite3_free (sql);
        }
      if (v >= 2)
        raw_exec (path, "INSERT INTO images (run_id, name, kind, golden, png) VALUES (1, 'a.png', 'image', 0, x'89504e47')");
      g_assert_cmpint (raw_int (path, "PRAGMA user_version"), ==, v);

      s = gv_store_open (path, GV_STORE_OPEN_READ_WRITE, &error);
      g_assert_no_error (error);
      if (v >= 1)
        {
          g_autoptr (GvRun) run = gv_store_load_run (s, 1, &error);
          g_assert_no_error (error);
          g_assert_cmpint (run->status, ==, GV_RUN_DONE);
          g_assert_cmpstr (run->scan_id, ==, "old");
          g_assert_true (json_node_equal (run->result, old_result));
          g_assert_true (isnan (run->grade));
          g_assert_cmpint (gv_store_count_rows (s, "frames", 1, NULL), ==, 1);
          g_assert_cmpuint (run->images->len, ==, v >= 2 ? 1 : 0);
        }
      /* The migrated file takes a run with everything the current schema holds. */
      {
        GvFixtureOpts full = { 20, 2, TRUE, "cpu", 0 };
        gint64 id = store_fixture (s, 9, &full, NULL, NULL);
        g_autoptr (GvRun) run = gv_store_load_run (s, id, &error);
        g_assert_no_error (error);
        g_assert_cmpfloat (run->grade, ==, 8.5);
        g_assert_cmpint (gv_store_count_rows (s, "defects", id, NULL), ==, 2);
      }
      g_assert_true (gv_store_check (s, &error));
      gv_store_close (s);
      g_assert_cmpint (raw_int (path, "PRAGMA user_version"), ==, GV_STORE_SCHEMA_VERSION);
      g_assert_cmpint (raw_int (path, "PRAGMA application_id"), ==, 0x47565354);
      g_assert_cmpint (raw_int (path, "SELECT count(*) FROM runs"), ==, v >= 1 ? 2 : 1);
    }
}

static void
test_newer_and_foreign (void)
{
  g_autofree char *newer = tmp_path ("newer.db"), *foreign = tmp_path ("foreign.db");
  g_autofree char *d1 = NULL, *d2 = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (_gv_store_create_at_version (newer, GV_STORE_SCHEMA_VERSION, NULL));
  raw_exec (newer, "PRAGMA user_version = 99");
  d1 = file_digest (newer);
  g_assert_null (gv_store_open (newer, GV_STORE_OPEN_READ_WRITE, &error));
  g_assert_error (error, GV_STORE_ERROR, GV_STORE_ERROR_NEWER);
  g_assert_nonnull (strstr (error->message, newer));
  g_clear_error (&error);
  d2 = file_digest (newer);
  g_assert_cmpstr (d1, ==, d2);

  raw_exec (foreign, "CREATE TABLE accounts (id INTEGER, name TEXT); INSERT INTO accounts VALUES (1, 'x')");
  g_free (d1);
  d1 = file_digest (foreign);
  g_assert_null (gv_store_open (foreign, GV_STORE_OPEN_READ_WRITE, &error));
  g_assert_error (error, GV_STORE_ERROR, GV_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, foreign));
  g_assert_nonnull (strstr (error->message, "left as it is"));
  g_clear_error (&error);
  g_free (d2);
  d2 = file_digest (foreign);
  g_assert_cmpstr (d1, ==, d2);
}

static void
test_corrupt (void)
{
  g_autofree char *path = tmp_path ("corrupt.db"), *d1 = NULL, *d2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) junk = g_string_new (NULL);

  for (int i = 0; i < 4096; i++)
    g_string_append_c (junk, (char) (i * 31 + 7));
  g_assert_true (g_file_set_contents (path, junk->str, (gssize) junk->len, NULL));
  d1 = file_digest (path);
  for (int mode = 0; mode < 2; mode++)
    {
      g_assert_null (gv_store_open (path, mode ? GV_STORE_OPEN_READ_ONLY : GV_STORE_OPEN_READ_WRITE, &error));
      g_assert_error (error, GV_STORE_ERROR, GV_STORE_ERROR_CORRUPT);
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, "left as it is"));
      g_clear_error (&error);
    }
  d2 = file_digest (path);
  g_assert_cmpstr (d1, ==, d2);

  /* A database whose pages were overwritten in the middle: errors, never a crash. */
  {
    g_autofree char *p2 = tmp_path ("damaged.db");
    g_autofree char *data = NULL;
    gsize len;
    GvStore *s = gv_store_open (p2, GV_STORE_OPEN_READ_WRITE, &error);
    GvFixtureOpts o = { 200, 5, TRUE, "cpu", 0 };
    g_assert_no_error (error);
    for (int k = 0; k < 3; k++)
      store_fixture (s, k, &o, NULL, NULL);
    gv_store_close (s);
    g_assert_true (g_file_get_contents (p2, &data, &len, NULL));
    g_assert_cmpuint (len, >, 16384);
    memset (data + 8192, 0x5a, 8192);
    g_assert_true (g_file_set_contents (p2, data, (gssize) len, NULL));
    s = gv_store_open (p2, GV_STORE_OPEN_READ_WRITE, &error);
    if (s)
      {
        g_autoptr (GPtrArray) runs = NULL;
        gboolean ok = gv_store_check (s, &error);
        g_assert_false (ok);
        g_assert_error (error, GV_STORE_ERROR, GV_STORE_ERROR_CORRUPT);
        g_clear_error (&error);
        for (gint64 id = 1; id <= 3; id++)
          {
            g_autoptr (GvRun) r = gv_store_load_run (s, id, &error);
            g_clear_error (&error);
          }
        runs = gv_store_list_runs (s, &error);
        g_clear_error (&error);
        gv_store_close (s);
      }
    else
      {
        g_assert_error (error, GV_STORE_ERROR, GV_STORE_ERROR_CORRUPT);
        g_assert_nonnull (strstr (error->message, p2));
      }
  }
}

/* Runs fn in a child process as an unprivileged user when we are root (root ignores file
 * permissions, so read-only files would not be read-only otherwise). */
static void
as_unprivileged (void (*fn) (void))
{
  pid_t pid;
  int st;

  if (geteuid () != 0)
    {
      fn ();
      return;
    }
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      if (setgid (65534) != 0 || setuid (65534) != 0)
        _exit (77);
      fn ();
      _exit (0);
    }
  g_assert_cmpint (waitpid (pid, &st, 0), ==, pid);
  if (WIFEXITED (st) && WEXITSTATUS (st) == 77)
    {
      g_test_skip ("cannot drop root privileges to test read-only files");
      return;
    }
  g_assert_true (WIFEXITED (st));
  g_assert_cmpint (WEXITSTATUS (st), ==, 0);
}

static char *ro_file, *ro_dir_db;

static void
check_read_only (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *d1 = file_digest (ro_file), *d2 = NULL;
  GvStore *s;

  /* A read-only file: writing is refused by name; reading works. */
  g_assert_null (gv_store_open (ro_file, GV_STORE_OPEN_READ_WRITE, &error));
  g_assert_error (error, GV_STORE_ERROR, GV_STORE_ERROR_READ_ONLY);
  g_assert_nonnull (strstr (error->message, ro_file));
  g_clear_error (&error);
  s = gv_store_open (ro_file, GV_STORE_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  g_assert_true (gv_store_is_read_only (s));
  {
    g_autoptr (GPtrArray) runs = gv_store_list_runs (s, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (runs->len, ==, 1);
  }
  {
    GvRunStart st = { "x", "/x", 1, NULL, "cpu", NULL, NULL };
    g_assert_cmpint (gv_store_run_begin (s, &st, &error), ==, 0);
    g_assert_nonnull (error);
    g_clear_error (&error);
  }
  gv_store_close (s);
  d2 = file_digest (ro_file);
  g_assert_cmpstr (d1, ==, d2);

  /* A WAL database in a read-only directory with no -shm file: cannot be read normally, so it
   * opens immutable with a note. */
  g_assert_null (gv_store_open (ro_dir_db, GV_STORE_OPEN_READ_WRITE, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, ro_dir_db));
  g_clear_error (&error);
  s = gv_store_open (ro_dir_db, GV_STORE_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  g_assert_nonnull (gv_store_note (s));
  g_assert_nonnull (strstr (gv_store_note (s), "immutable"));
  {
    g_autoptr (GvRun) r = gv_store_load_run (s, 1, &error);
    g_assert_no_error (error);
    g_assert_cmpint (r->n_frames, ==, 20);
  }
  gv_store_close (s);
}

static void
test_read_only (void)
{
  g_autofree char *dir = tmp_path ("ro-dir");
  g_autoptr (GError) error = NULL;
  GvFixtureOpts o = { 20, 1, FALSE, "cpu", 0 };
  GvStore *s;

  ro_file = tmp_path ("ro.db");
  ro_dir_db = g_build_filename (dir, "runs.db", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  for (int k = 0; k < 2; k++)
    {
      s = gv_store_open (k ? ro_dir_db : ro_file, GV_STORE_OPEN_READ_WRITE, &error);
      g_assert_no_error (error);
      store_fixture (s, 1, &o, NULL, NULL);
      gv_store_close (s);
    }
  /* Closing the last connection checkpoints and removes -wal and -shm. */
  {
    g_autofree char *shm = g_strconcat (ro_dir_db, "-shm", NULL);
    g_assert_false (g_file_test (shm, G_FILE_TEST_EXISTS));
  }
  g_assert_cmpint (g_chmod (tmpdir, 0755), ==, 0);
  g_assert_cmpint (g_chmod (ro_file, 0444), ==, 0);
  g_assert_cmpint (g_chmod (dir, 0555), ==, 0);
  g_assert_cmpint (g_chmod (ro_dir_db, 0444), ==, 0);
  as_unprivileged (check_read_only);
  g_chmod (dir, 0755);
  g_clear_pointer (&ro_file, g_free);
  g_clear_pointer (&ro_dir_db, g_free);
}

/* ---- locks, processes --------------------------------------------------------------- */

static void
test_busy (void)
{
  g_autofree char *path = tmp_path ("busy.db");
  g_autoptr (GError) error = NULL;
  GvStore *s = gv_store_open (path, GV_STORE_OPEN_READ_WRITE, &error);
  GvRunStart st = { "x", "/x", 1, NULL, "cpu", NULL, NULL };
  sqlite3 *other = NULL;
  double t0;

  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_open (path, &other), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), ==, SQLITE_OK);
  gv_store_set_busy_timeout (s, 300);
  t0 = g_get_monotonic_time () / 1e6;
  g_assert_cmpint (gv_store_run_begin (s, &st, &error), ==, 0);
  g_assert_cmpfloat (g_get_monotonic_time () / 1e6 - t0, >=, 0.25);
  g_assert_error (error, GV_STORE_ERROR, GV_STORE_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "locked by another process"));
  g_clear_error (&error);
  /* Once the other side lets go, the same store writes. */
  sqlite3_exec (other, "COMMIT", NULL, NULL, NULL);
  sqlite3_close (other);
  g_assert_cmpint (gv_store_run_begin (s, &st, &error), >, 0);
  g_assert_no_error (error);
  gv_store_close (s);
}

static void
test_interrupted_marked_failed (void)
{
  g_autofree char *path = tmp_path ("interrupted.db");
  g_autoptr (GError) error = NULL;
  g_autoptr (GvRun) run = NULL;
  GvStore *s;
  pid_t pid;
  int st;

  /* A child starts a run and dies without finishing it. */
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      GvStore *c = gv_store_open (path, GV_STORE_OPEN_READ_WRITE, NULL);
      GvRunStart rs = { "dies", "/x", 1, NULL, "cpu", NULL, NULL };
      _exit (c && gv_store_run_begin (c, &rs, NULL) > 0 ? 0 : 1);
    }
  g_assert_cmpint (waitpid (pid, &st, 0), ==, pid);
  g_assert_true (WIFEXITED (st) && WEXITSTATUS (st) == 0);

  /* A running run of a live process is left alone. */
  s = gv_store_open (path, GV_STORE_OPEN_READ_WRITE, &error);
  g_assert_no_error (error);
  {
    GvRunStart rs = { "alive", "/x", 1, NULL, "cpu", NULL, NULL };
    g_assert_cmpint (gv_store_run_begin (s, &rs, &error), ==, 2);
  }
  g_assert_cmpint (gv_store_recovered_runs (s), ==, 1);
  run = gv_store_load_run (s, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (run->status, ==, GV_RUN_FAILED);
  g_assert_nonnull (strstr (run->error, "interrupted"));
  g_assert_nonnull (run->finished_at);
  {
    GvStore *s2 = gv_store_open (path, GV_STORE_OPEN_READ_WRITE, &error);
    g_autoptr (GvRun) alive = NULL;
    g_assert_no_error (error);
    g_assert_cmpint (gv_store_recovered_runs (s2), ==, 0);
    alive = gv_store_load_run (s2, 2, &error);
    g_assert_cmpint (alive->status, ==, GV_RUN_RUNNING);
    gv_store_close (s2);
  }
  gv_store_close (s);
}

static GPid
spawn_writer (const char *db, int count, int seed)
{
  g_autofree char *c = g_strdup_printf ("%d", count), *sd = g_strdup_printf ("%d", seed);
  char *argv[] = { writer, (char *) db, c, sd, NULL };
  g_autoptr (GError) error = NULL;
  GPid pid;

  if (!g_spawn_async (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, &error))
    g_error ("cannot run %s: %s", writer, error->message);
  return pid;
}

static char *
run_digest (const GvRun *r)
{
  g_autoptr (GChecksum) c = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *json = r->result ? json_to_string (r->result, FALSE) : g_strdup ("");

  g_checksum_update (c, (const guchar *) json, -1);
  g_checksum_update (c, (const guchar *) gv_run_status_name (r->status), -1);
  for (guint i = 0; r->images && i < r->images->len; i++)
    {
      GvRunImage *img = g_ptr_array_index (r->images, i);
      gsize n;
      const guchar *d = g_bytes_get_data (img->png, &n);
      g_checksum_update (c, (const guchar *) img->name, -1);
      g_checksum_update (c, d, (gssize) n);
    }
  return g_strdup (g_checksum_get_string (c));
}

static void
test_kill (void)
{
  g_autofree char *path = tmp_path ("kill.db");
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  int iterations = g_test_slow () ? 100 : 20, failed_total = 0, done_total = 0;
  GRand *rng = g_rand_new_with_seed (20261127);

  for (int it = 0; it < iterations; it++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) runs = NULL;
      GPid pid = spawn_writer (path, 0, it);
      int st, running = 0, done = 0;
      GvStore *s;

      /* First kills land early (creation, migration), later ones anywhere in the loop. */
      g_usleep (it < 3 ? g_rand_int_range (rng, 0, 20000) : g_rand_int_range (rng, 5000, 250000));
      kill (pid, SIGKILL);
      g_assert_cmpint (waitpid (pid, &st, 0), ==, pid);
      g_spawn_close_pid (pid);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      s = gv_store_open (path, GV_STORE_OPEN_READ_WRITE, &error);
      g_assert_no_error (error);
      g_assert_true (gv_store_check (s, &error));
      g_assert_no_error (error);
      g_assert_cmpint (gv_store_recovered_runs (s), <=, 1);
      failed_total += gv_store_recovered_runs (s);
      runs = gv_store_list_runs (s, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < runs->len; i++)
        {
          GvRun *r = g_ptr_array_index (runs, i);
          g_autoptr (GvRun) full = NULL;
          g_autofree char *dg = NULL;
          const char *before;
          running += r->status == GV_RUN_RUNNING;
          done += r->status == GV_RUN_DONE;
          g_assert_true (r->status == GV_RUN_DONE || r->status == GV_RUN_FAILED);
          full = gv_store_load_run (s, r->id, &error);
          g_assert_no_error (error);
          if (r->status == GV_RUN_DONE)
            {
              /* A finished run is complete: every child row landed with it. */
              g_assert_nonnull (full->result);
              g_assert_cmpint (gv_store_count_rows (s, "frames", r->id, NULL), ==, 240);
              g_assert_cmpuint (full->images->len, ==,
                                json_object_has_member (json_node_get_object (full->result),
                                                        "defectMask") ? 11 : 10);
            }
          else
            {
              g_assert_null (full->result);
              g_assert_cmpint (gv_store_count_rows (s, "frames", r->id, NULL), ==, 0);
            }
          dg = run_digest (full);
          before = g_hash_table_lookup (seen, &r->id);
          if (before)
            g_assert_cmpstr (before, ==, dg); /* earlier runs intact */
          else
            {
              gint64 *k = g_new (gint64, 1);
              *k = r->id;
              g_hash_table_insert (seen, k, g_steal_pointer (&dg));
            }
        }
      g_assert_cmpint (running, ==, 0);
      g_assert_cmpuint (g_hash_table_size (seen), ==, runs->len); /* nothing vanished */
      done_total = done;
      gv_store_close (s);
    }
  g_test_message ("%d kills: %d runs finished, %d interrupted runs marked failed", iterations,
                  done_total, failed_total);
  g_assert_cmpint (done_total, >, 0);
  g_assert_cmpint (failed_total, >, 0);
  g_rand_free (rng);
}

static void
test_concurrent_writers (void)
{
  g_autofree char *path = tmp_path ("concurrent.db");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) runs = NULL;
  GPid a, b;
  int sa, sb, done = 0;
  GvStore *s;

  a = spawn_writer (path, 12, 1);
  b = spawn_writer (path, 12, 2);
  g_assert_cmpint (waitpid (a, &sa, 0), ==, a);
  g_assert_cmpint (waitpid (b, &sb, 0), ==, b);
  g_spawn_close_pid (a);
  g_spawn_close_pid (b);
  g_assert_true (WIFEXITED (sa) && WEXITSTATUS (sa) == 0);
  g_assert_true (WIFEXITED (sb) && WEXITSTATUS (sb) == 0);
  s = gv_store_open (path, GV_STORE_OPEN_READ_WRITE, &error);
  g_assert_no_error (error);
  runs = gv_store_list_runs (s, &error);
  for (guint i = 0; i < runs->len; i++)
    done += ((GvRun *) g_ptr_array_index (runs, i))->status == GV_RUN_DONE;
  g_assert_cmpint (done, ==, 24);
  g_assert_true (gv_store_check (s, &error));
  gv_store_close (s);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  const char *build = g_getenv ("GV_BUILD_DIR");
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("gv-test-store-XXXXXX", &error);
  g_assert_no_error (error);
  writer = build ? g_build_filename (build, "tests", "gv-store-writer", NULL)
                 : g_build_filename (g_path_get_dirname (argv[0]), "gv-store-writer", NULL);

  g_test_add_func ("/gv/store/round-trip", test_round_trip);
  g_test_add_func ("/gv/store/memory-list-delete", test_memory_and_list);
  g_test_add_func ("/gv/store/counterpart", test_counterpart);
  g_test_add_func ("/gv/store/images-from-dir", test_images_from_dir);
  g_test_add_func ("/gv/store/sha256", test_sha256);
  g_test_add_func ("/gv/store/migrations", test_migrations);
  g_test_add_func ("/gv/store/newer-and-foreign", test_newer_and_foreign);
  g_test_add_func ("/gv/store/corrupt", test_corrupt);
  g_test_add_func ("/gv/store/read-only", test_read_only);
  g_test_add_func ("/gv/store/busy", test_busy);
  g_test_add_func ("/gv/store/interrupted-marked-failed", test_interrupted_marked_failed);
  g_test_add_func ("/gv/store/kill", test_kill);
  g_test_add_func ("/gv/store/concurrent-writers", test_concurrent_writers);
  rc = g_test_run ();
  {
    g_autofree char *rm = g_strdup_printf ("chmod -R u+w '%s' && rm -rf '%s'", tmpdir, tmpdir);
    (void) !system (rm);
  }
  g_free (writer);
  g_free (tmpdir);
  return rc;
}
