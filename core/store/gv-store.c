/* gv-store.c: the SQLite run store (see gv-store.h).
 *
 * Durability: WAL with synchronous=FULL, every write in one transaction taken with BEGIN
 * IMMEDIATE (so two writers queue on the busy handler instead of failing on a lock upgrade), the
 * schema created and migrated inside a transaction together with PRAGMA user_version. A run that
 * is "running" in the file while no process of that id and start time exists on this host was
 * interrupted; it is marked failed by the next writer to open the file. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "gv-json.h"
#include "gv-store-private.h"

/* "GVST": marks the file as ours so a foreign SQLite file is never migrated into one. */
#define GV_STORE_APPLICATION_ID 0x47565354

struct _GvStore {
  sqlite3 *db;
  char *path;
  gboolean read_only;
  char *note;
  int busy_ms;
  int recovered;
};

G_DEFINE_QUARK (gv-store-error-quark, gv_store_error)

/* Schema versions, each the step from the previous one. Never edit a released step: add one. */
static const char *const migrations[GV_STORE_SCHEMA_VERSION] = {
  /* 1: runs, timings, per-frame metrics, golden frames with their cover corners. */
  "CREATE TABLE runs ("
  "  id INTEGER PRIMARY KEY,"
  "  scan_id TEXT NOT NULL,"
  "  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),"
  "  error TEXT,"
  "  video_path TEXT, video_size INTEGER, duration REAL, fps REAL, video_sha256 TEXT,"
  "  backend TEXT, device TEXT, parameters TEXT,"
  "  started_at TEXT NOT NULL, finished_at TEXT,"
  "  host TEXT, pid INTEGER, pid_start INTEGER,"
  "  total_seconds REAL, n_frames INTEGER, n_candidates INTEGER, n_golden INTEGER,"
  "  n_covers INTEGER,"
  "  result_schema TEXT, result_json TEXT);"
  "CREATE INDEX runs_status ON runs (status);"
  "CREATE TABLE stage_timings ("
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  stage TEXT NOT NULL, seconds REAL NOT NULL,"
  "  PRIMARY KEY (run_id, stage)) WITHOUT ROWID;"
  "CREATE TABLE frames ("
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  idx INTEGER NOT NULL, pts REAL, sharpness REAL, sharpness_frame REAL, motion REAL,"
  "  motion_next REAL, motion_frame REAL, motion_gate REAL, measured INTEGER,"
  "  candidate INTEGER, cover_found INTEGER,"
  "  PRIMARY KEY (run_id, idx)) WITHOUT ROWID;"
  "CREATE TABLE golden_frames ("
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  ord INTEGER NOT NULL, frame_index INTEGER, pts REAL, sharpness REAL, motion REAL,"
  "  cover_found INTEGER, confidence REAL, touches_border INTEGER,"
  "  tl_x REAL, tl_y REAL, tr_x REAL, tr_y REAL, br_x REAL, br_y REAL, bl_x REAL, bl_y REAL,"
  "  reason TEXT, image TEXT, warped TEXT,"
  "  PRIMARY KEY (run_id, ord)) WITHOUT ROWID;",
  /* 2: the images, so a run reopens without its output directory; runs by video. */
  "CREATE TABLE images ("
  "  id INTEGER PRIMARY KEY,"
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  name TEXT NOT NULL, kind TEXT NOT NULL, golden INTEGER NOT NULL DEFAULT -1,"
  "  png BLOB NOT NULL,"
  "  UNIQUE (run_id, name));"
  "CREATE INDEX runs_video ON runs (video_sha256);",
  /* 3: defects, regions and the grade (filled from the result JSON when it has them). */
  "ALTER TABLE runs ADD COLUMN grade REAL;"
  "ALTER TABLE runs ADD COLUMN grade_label TEXT;"
  "ALTER TABLE runs ADD COLUMN grade_explanation TEXT;"
  "ALTER TABLE runs ADD COLUMN damage_score REAL;"
  "ALTER TABLE runs ADD COLUMN defect_percentage REAL;"
  "CREATE TABLE regions ("
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  name TEXT NOT NULL, defect_coverage REAL, mean_intensity REAL, max_intensity REAL,"
  "  edge_density REAL, quality_score REAL, x REAL, y REAL, w REAL, h REAL, details TEXT,"
  "  PRIMARY KEY (run_id, name)) WITHOUT ROWID;"
  "CREATE TABLE defects ("
  "  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
  "  ord INTEGER NOT NULL, kind TEXT, region TEXT, x REAL, y REAL, w REAL, h REAL,"
  "  area REAL, severity REAL, details TEXT,"
  "  PRIMARY KEY (run_id, ord)) WITHOUT ROWID;",
};

const char *
_gv_store_migration_sql (int v)
{
  return v >= 1 && v <= GV_STORE_SCHEMA_VERSION ? migrations[v - 1] : NULL;
}

/* ---- errors ---------------------------------------------------------------------------- */

static gboolean
sql_error (GvStore *s, GError **error, int rc, const char *doing)
{
  const char *msg = s->db ? sqlite3_errmsg (s->db) : sqlite3_errstr (rc);

  switch (rc & 0xff)
    {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_BUSY,
                   "%s: the run database is locked by another process (waited %.1f s while %s); "
                   "try again when that process has finished",
                   s->path, s->busy_ms / 1000.0, doing);
      break;
    case SQLITE_READONLY:
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_READ_ONLY,
                   "%s: the run database is read-only (%s while %s); it was left as it is",
                   s->path, msg, doing);
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_CORRUPT,
                   "%s: damaged or not a run database (%s while %s); it was left as it is",
                   s->path, msg, doing);
      break;
    case SQLITE_FULL:
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_FULL,
                   "%s: the disk is full (while %s); nothing of this change was kept",
                   s->path, doing);
      break;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_OPEN, "%s: cannot open the run database (%s)",
                   s->path, msg);
      break;
    default:
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_FAILED, "%s: %s (while %s)", s->path, msg,
                   doing);
    }
  return FALSE;
}

static gboolean
exec (GvStore *s, const char *sql, const char *doing, GError **error)
{
  int rc = sqlite3_exec (s->db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? TRUE : sql_error (s, error, rc, doing);
}

static sqlite3_stmt *
prepare (GvStore *s, const char *sql, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL);

  if (rc != SQLITE_OK)
    {
      sql_error (s, error, rc, "reading the schema");
      return NULL;
    }
  return st;
}

static void
rollback (GvStore *s)
{
  if (!sqlite3_get_autocommit (s->db))
    sqlite3_exec (s->db, "ROLLBACK", NULL, NULL, NULL);
}

static gint64
pragma_int (GvStore *s, const char *pragma, int *rc_out)
{
  sqlite3_stmt *st = NULL;
  gint64 v = 0;
  int rc = sqlite3_prepare_v2 (s->db, pragma, -1, &st, NULL);

  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          v = sqlite3_column_int64 (st, 0);
          rc = SQLITE_OK;
        }
    }
  sqlite3_finalize (st);
  *rc_out = rc;
  return v;
}

/* ---- processes ------------------------------------------------------------------------- */

/* Start time of a process (clock ticks since boot, /proc/PID/stat field 22); 0 when there is no
 * such live process. Zombies count as gone: their run can no longer finish. */
static guint64
process_start (gint64 pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/stat", pid);
  g_autofree char *text = NULL;
  const char *p;
  g_auto (GStrv) f = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL) || !(p = strrchr (text, ')')))
    return 0;
  f = g_strsplit (p + 2, " ", 0);
  if (g_strv_length (f) < 20 || f[0][0] == 'Z' || f[0][0] == 'X')
    return 0;
  return g_ascii_strtoull (f[19], NULL, 10);
}

static gboolean
process_alive (gint64 pid, guint64 start)
{
  if (pid <= 0)
    return FALSE;
  if (g_file_test ("/proc/self/stat", G_FILE_TEST_EXISTS))
    {
      guint64 now = process_start (pid);
      return now != 0 && (start == 0 || now == start);
    }
  return kill ((pid_t) pid, 0) == 0 || errno == EPERM;
}

/* ---- open ------------------------------------------------------------------------------ */

char *
gv_store_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "gradevault-inspector", "runs.db", NULL);
}

static gboolean
migrate (GvStore *s, GError **error)
{
  int rc;
  gint64 v;

  if (!exec (s, "BEGIN IMMEDIATE", "starting the schema upgrade", error))
    return FALSE;
  /* Read again inside the transaction: another process may have migrated meanwhile. */
  v = pragma_int (s, "PRAGMA user_version", &rc);
  if (rc != SQLITE_OK)
    {
      sql_error (s, error, rc, "reading the schema version");
      goto fail;
    }
  for (int k = (int) v + 1; k <= GV_STORE_SCHEMA_VERSION; k++)
    {
      g_autofree char *doing = g_strdup_printf ("upgrading the schema to version %d", k);
      g_autofree char *set = g_strdup_printf ("PRAGMA user_version = %d", k);
      if (!exec (s, migrations[k - 1], doing, error) || !exec (s, set, doing, error))
        goto fail;
    }
  {
    g_autofree char *set = g_strdup_printf ("PRAGMA application_id = %d", GV_STORE_APPLICATION_ID);
    if (!exec (s, set, "marking the file", error))
      goto fail;
  }
  return exec (s, "COMMIT", "committing the schema upgrade", error);
fail:
  rollback (s);
  return FALSE;
}

static gboolean
recover_interrupted (GvStore *s, GError **error)
{
  g_autoptr (GArray) dead = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *st = prepare (s, "SELECT id, pid, pid_start FROM runs WHERE status = 'running' "
                                 "AND host = ?", error);
  int rc;

  if (!st)
    return FALSE;
  sqlite3_bind_text (st, 1, g_get_host_name (), -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (st, 0);
      if (!process_alive (sqlite3_column_int64 (st, 1), (guint64) sqlite3_column_int64 (st, 2)))
        g_array_append_val (dead, id);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return sql_error (s, error, rc, "looking for interrupted runs");
  for (guint i = 0; i < dead->len; i++)
    {
      g_autofree char *msg = g_strdup (
        "interrupted: the process that ran it ended before the run finished");
      if (!gv_store_run_fail (s, g_array_index (dead, gint64, i), GV_RUN_FAILED, msg, error))
        return FALSE;
      s->recovered++;
    }
  return TRUE;
}

/* Checks that the file is ours and of a version we can handle. */
static gboolean
probe (GvStore *s, gint64 *version, GError **error)
{
  /* One statement, so one snapshot: read one by one, another process's schema creation could
   * commit between them (no mark and no version yet, then tables) and make the file look like
   * another program's */
  sqlite3_stmt *st = NULL;
  gint64 app = 0, tables = 0;
  int rc = sqlite3_prepare_v2 (s->db,
                               "SELECT (SELECT application_id FROM pragma_application_id), "
                               "(SELECT user_version FROM pragma_user_version), "
                               "(SELECT count(*) FROM sqlite_master)",
                               -1, &st, NULL);

  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          app = sqlite3_column_int64 (st, 0);
          *version = sqlite3_column_int64 (st, 1);
          tables = sqlite3_column_int64 (st, 2);
          rc = SQLITE_OK;
        }
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_OK)
    return sql_error (s, error, rc, "opening");
  if ((app != 0 && app != GV_STORE_APPLICATION_ID) || (app == 0 && *version == 0 && tables > 0))
    {
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_CORRUPT,
                   "%s: an SQLite file of another program, not a run database; it was left as it is",
                   s->path);
      return FALSE;
    }
  if (*version > GV_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_NEWER,
                   "%s: made by a newer version of GradeVault Inspector (schema %" G_GINT64_FORMAT
                   ", this one knows up to %d); it was left as it is",
                   s->path, *version, GV_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  return TRUE;
}

static gboolean
open_read_only (GvStore *s, GError **error)
{
  g_autofree char *uri = NULL;
  gint64 version = 0;
  int rc;

  if (!g_file_test (s->path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_OPEN, "%s: no run database there yet",
                   s->path);
      return FALSE;
    }
  rc = sqlite3_open_v2 (s->path, &s->db, SQLITE_OPEN_READONLY, NULL);
  if (rc == SQLITE_OK)
    {
      g_autoptr (GError) first = NULL;
      sqlite3_busy_timeout (s->db, s->busy_ms);
      if (probe (s, &version, &first))
        goto opened;
      if (first->code != GV_STORE_ERROR_OPEN && first->code != GV_STORE_ERROR_READ_ONLY)
        {
          g_propagate_error (error, g_steal_pointer (&first));
          return FALSE;
        }
    }
  /* A WAL database needs its -shm file; in a read-only directory that cannot be created, so the
   * file cannot even be read normally. Read it as immutable (a snapshot: nobody may be writing). */
  sqlite3_close (s->db);
  s->db = NULL;
  {
    g_autofree char *esc = g_uri_escape_string (s->path, "/", FALSE);
    uri = g_strdup_printf ("file:%s?immutable=1", esc);
  }
  rc = sqlite3_open_v2 (uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
  if (rc != SQLITE_OK)
    return sql_error (s, error, rc, "opening read-only");
  if (!probe (s, &version, error))
    return FALSE;
  s->note = g_strdup_printf ("%s is in a read-only place: opened as an immutable snapshot "
                             "(read-only; changes not yet checkpointed by a writer are not seen)",
                             s->path);
opened:
  if (version < GV_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_READ_ONLY,
                   "%s: schema version %" G_GINT64_FORMAT " needs upgrading to %d, which needs "
                   "write access; it was left as it is", s->path, version, GV_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  sqlite3_exec (s->db, "PRAGMA query_only = ON", NULL, NULL, NULL);
  s->read_only = TRUE;
  return TRUE;
}

static gboolean
journal_is_wal (GvStore *s)
{
  sqlite3_stmt *st = NULL;
  gboolean wal = FALSE;

  if (sqlite3_prepare_v2 (s->db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK
      && sqlite3_step (st) == SQLITE_ROW)
    wal = !g_ascii_strcasecmp ((const char *) sqlite3_column_text (st, 0), "wal");
  sqlite3_finalize (st);
  return wal;
}

static gboolean
open_read_write (GvStore *s, GError **error)
{
  gboolean memory = !strcmp (s->path, ":memory:");
  gint64 version = 0;
  int rc;

  if (!memory)
    {
      g_autofree char *dir = g_path_get_dirname (s->path);
      if (g_file_test (s->path, G_FILE_TEST_EXISTS) && g_access (s->path, W_OK) != 0)
        {
          g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_READ_ONLY,
                       "%s: the run database is read-only (%s); it was left as it is",
                       s->path, g_strerror (errno));
          return FALSE;
        }
      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_OPEN,
                       "%s: cannot create the directory %s: %s", s->path, dir, g_strerror (errno));
          return FALSE;
        }
    }
  rc = sqlite3_open_v2 (s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK)
    return sql_error (s, error, rc, "opening");
  sqlite3_busy_timeout (s->db, s->busy_ms);
  if (!probe (s, &version, error))
    return FALSE;
  if (sqlite3_db_readonly (s->db, "main") == 1)
    {
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_READ_ONLY,
                   "%s: the run database is read-only; it was left as it is", s->path);
      return FALSE;
    }
  if (!memory && !journal_is_wal (s))
    {
      sqlite3_stmt *st = prepare (s, "PRAGMA journal_mode = WAL", error);
      if (!st)
        return FALSE;
      rc = sqlite3_step (st);
      sqlite3_finalize (st);
      if (rc != SQLITE_ROW)
        return sql_error (s, error, rc, "switching to write-ahead logging");
    }
  if (!exec (s, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL", "opening", error))
    return FALSE;
  if (version < GV_STORE_SCHEMA_VERSION && !migrate (s, error))
    return FALSE;
  return recover_interrupted (s, error);
}

GvStore *
gv_store_open (const char *path, GvStoreOpenMode mode, GError **error)
{
  GvStore *s = g_new0 (GvStore, 1);
  gboolean ok;

  s->path = g_strdup (path);
  s->busy_ms = 5000;
  if (mode == GV_STORE_OPEN_READ_ONLY)
    ok = open_read_only (s, error);
  else
    {
      /* Two processes creating or upgrading the file at once: the switch to WAL and a lock
       * upgrade can get SQLITE_BUSY at once without the busy handler (SQLite avoids the
       * deadlock), so the whole open is retried until the busy timeout has passed. */
      gint64 deadline = g_get_monotonic_time () + (gint64) s->busy_ms * 1000;
      for (;;)
        {
          g_autoptr (GError) local = NULL;
          if ((ok = open_read_write (s, &local)))
            break;
          if (!g_error_matches (local, GV_STORE_ERROR, GV_STORE_ERROR_BUSY)
              || g_get_monotonic_time () > deadline)
            {
              g_propagate_error (error, g_steal_pointer (&local));
              break;
            }
          sqlite3_close (s->db);
          s->db = NULL;
          s->recovered = 0;
          g_usleep (g_random_int_range (5000, 30000));
        }
    }
  if (!ok)
    {
      gv_store_close (s);
      return NULL;
    }
  return s;
}

void
gv_store_close (GvStore *s)
{
  if (!s)
    return;
  sqlite3_close (s->db);
  g_free (s->path);
  g_free (s->note);
  g_free (s);
}

const char *
gv_store_path (const GvStore *s)
{
  return s->path;
}

gboolean
gv_store_is_read_only (const GvStore *s)
{
  return s->read_only;
}

const char *
gv_store_note (const GvStore *s)
{
  return s->note;
}

void
gv_store_set_busy_timeout (GvStore *s, int ms)
{
  s->busy_ms = ms;
  sqlite3_busy_timeout (s->db, ms);
}

int
gv_store_recovered_runs (const GvStore *s)
{
  return s->recovered;
}

gboolean
_gv_store_create_at_version (const char *path, int version, GError **error)
{
  GvStore s = { NULL, (char *) path, FALSE, NULL, 5000, 0 };
  int rc = sqlite3_open_v2 (path, &s.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  gboolean ok = rc == SQLITE_OK;

  if (!ok)
    sql_error (&s, error, rc, "creating");
  if (ok && version > 0)
    ok = exec (&s, "PRAGMA journal_mode = WAL", "creating", error);
  for (int k = 1; ok && k <= version; k++)
    {
      g_autofree char *set = g_strdup_printf ("PRAGMA user_version = %d", k);
      ok = exec (&s, migrations[k - 1], "creating", error) && exec (&s, set, "creating", error);
    }
  if (ok && version > 0)
    {
      g_autofree char *set = g_strdup_printf ("PRAGMA application_id = %d", GV_STORE_APPLICATION_ID);
      ok = exec (&s, set, "creating", error);
    }
  sqlite3_close (s.db);
  return ok;
}

/* ---- runs ------------------------------------------------------------------------------ */

static const char *const status_names[] = { "running", "done", "failed", "cancelled" };

const char *
gv_run_status_name (GvRunStatus st)
{
  return (unsigned) st < G_N_ELEMENTS (status_names) ? status_names[st] : "unknown";
}

static GvRunStatus
status_parse (const char *s)
{
  for (guint i = 0; i < G_N_ELEMENTS (status_names); i++)
    if (s && !strcmp (s, status_names[i]))
      return (GvRunStatus) i;
  return GV_RUN_FAILED;
}

GvRunImage *
gv_run_image_new (const char *name, const char *kind, int golden, GBytes *png)
{
  GvRunImage *img = g_new0 (GvRunImage, 1);

  img->name = g_strdup (name);
  img->kind = g_strdup (kind);
  img->golden = golden;
  img->png = g_bytes_ref (png);
  return img;
}

void
gv_run_image_free (GvRunImage *img)
{
  if (!img)
    return;
  g_free (img->name);
  g_free (img->kind);
  g_bytes_unref (img->png);
  g_free (img);
}

void
gv_run_free (GvRun *r)
{
  if (!r)
    return;
  g_free (r->scan_id);
  g_free (r->error);
  g_free (r->video_path);
  g_free (r->video_sha256);
  g_free (r->backend);
  g_free (r->device);
  g_free (r->parameters);
  g_free (r->started_at);
  g_free (r->finished_at);
  g_free (r->grade_label);
  g_free (r->result_schema);
  if (r->result)
    json_node_unref (r->result);
  if (r->images)
    g_ptr_array_unref (r->images);
  g_free (r);
}

const GvRunImage *
gv_run_find_image (const GvRun *run, const char *kind, int golden)
{
  for (guint i = 0; run->images && i < run->images->len; i++)
    {
      const GvRunImage *img = g_ptr_array_index (run->images, i);
      if (!strcmp (img->kind, kind) && (golden < 0 || img->golden == golden))
        return img;
    }
  return NULL;
}

const GvRunImage *
gv_run_find_image_by_name (const GvRun *run, const char *name)
{
  for (guint i = 0; run->images && name && i < run->images->len; i++)
    {
      const GvRunImage *img = g_ptr_array_index (run->images, i);
      if (!strcmp (img->name, name))
        return img;
    }
  return NULL;
}

static char *
now_iso8601 (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
}

static void
bind_text (sqlite3_stmt *st, int i, const char *v)
{
  if (v)
    sqlite3_bind_text (st, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (st, i);
}

static void
bind_double (sqlite3_stmt *st, int i, double v)
{
  if (isnan (v))
    sqlite3_bind_null (st, i);
  else
    sqlite3_bind_double (st, i, v);
}

/* Runs a prepared statement to completion and finalises it. */
static gboolean
step_done (GvStore *s, sqlite3_stmt *st, const char *doing, GError **error)
{
  int rc = sqlite3_step (st);

  sqlite3_finalize (st);
  return rc == SQLITE_DONE ? TRUE : sql_error (s, error, rc, doing);
}

gint64
gv_store_run_begin (GvStore *s, const GvRunStart *start, GError **error)
{
  g_autofree char *now = now_iso8601 ();
  sqlite3_stmt *st = prepare (s,
    "INSERT INTO runs (scan_id, status, video_path, video_size, video_sha256, backend, device,"
    " parameters, started_at, host, pid, pid_start)"
    " VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);

  if (!st)
    return 0;
  bind_text (st, 1, start->scan_id ? start->scan_id : "");
  bind_text (st, 2, start->video_path);
  if (start->video_size >= 0)
    sqlite3_bind_int64 (st, 3, start->video_size);
  else
    sqlite3_bind_null (st, 3);
  bind_text (st, 4, start->video_sha256);
  bind_text (st, 5, start->backend);
  bind_text (st, 6, start->device);
  bind_text (st, 7, start->parameters);
  bind_text (st, 8, now);
  bind_text (st, 9, g_get_host_name ());
  sqlite3_bind_int64 (st, 10, getpid ());
  sqlite3_bind_int64 (st, 11, (sqlite3_int64) process_start (getpid ()));
  if (!step_done (s, st, "recording the start of a run", error))
    return 0;
  return sqlite3_last_insert_rowid (s->db);
}

gboolean
gv_store_run_fail (GvStore *s, gint64 run_id, GvRunStatus status, const char *message,
                   GError **error)
{
  g_autofree char *now = now_iso8601 ();
  sqlite3_stmt *st = prepare (s, "UPDATE runs SET status = ?, error = ?, finished_at = ? "
                                 "WHERE id = ? AND status = 'running'", error);

  if (!st)
    return FALSE;
  bind_text (st, 1, gv_run_status_name (status == GV_RUN_CANCELLED ? status : GV_RUN_FAILED));
  bind_text (st, 2, message);
  bind_text (st, 3, now);
  sqlite3_bind_int64 (st, 4, run_id);
  return step_done (s, st, "recording a failed run", error);
}

/* ---- JSON helpers ---------------------------------------------------------------------- */

JsonObject *
gv_json_obj (JsonObject *o, const char *k)
{
  JsonNode *n = o ? json_object_get_member (o, k) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

JsonArray *
gv_json_arr (JsonObject *o, const char *k)
{
  JsonNode *n = o ? json_object_get_member (o, k) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

double
gv_json_num (JsonObject *o, const char *k, double dflt)
{
  JsonNode *n = o ? json_object_get_member (o, k) : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return dflt;
  switch (json_node_get_value_type (n))
    {
    case G_TYPE_INT64: return (double) json_node_get_int (n);
    case G_TYPE_DOUBLE: return json_node_get_double (n);
    case G_TYPE_BOOLEAN: return json_node_get_boolean (n);
    default: return dflt;
    }
}

const char *
gv_json_str (JsonObject *o, const char *k)
{
  JsonNode *n = o ? json_object_get_member (o, k) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
           ? json_node_get_string (n) : NULL;
}

static char *
node_text (JsonNode *n)
{
  return n ? json_to_string (n, FALSE) : NULL;
}

/* A box as [x, y, w, h] or {x, y, w|width, h|height}, or "bounds" [x0, y0, x1, y1]; FALSE when
 * absent. */
static gboolean
jbox (JsonObject *o, double b[4])
{
  static const char *keys[] = { "box", "bbox", "rect" };
  JsonArray *bounds = gv_json_arr (o, "bounds");

  if (bounds && json_array_get_length (bounds) == 4)
    {
      for (int i = 0; i < 4; i++)
        b[i] = json_array_get_double_element (bounds, i);
      b[2] -= b[0];
      b[3] -= b[1];
      return TRUE;
    }
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      JsonNode *n = json_object_get_member (o, keys[k]);
      if (n && JSON_NODE_HOLDS_ARRAY (n) && json_array_get_length (json_node_get_array (n)) == 4)
        {
          for (int i = 0; i < 4; i++)
            b[i] = json_array_get_double_element (json_node_get_array (n), i);
          return TRUE;
        }
      if (n && JSON_NODE_HOLDS_OBJECT (n))
        {
          JsonObject *bo = json_node_get_object (n);
          b[0] = gv_json_num (bo, "x", NAN);
          b[1] = gv_json_num (bo, "y", NAN);
          b[2] = gv_json_num (bo, "w", gv_json_num (bo, "width", NAN));
          b[3] = gv_json_num (bo, "h", gv_json_num (bo, "height", NAN));
          return TRUE;
        }
    }
  return FALSE;
}

/* ---- finish ---------------------------------------------------------------------------- */

static gboolean
insert_frames (GvStore *s, gint64 id, JsonArray *frames, GError **error)
{
  sqlite3_stmt *st;
  int rc = SQLITE_DONE;

  if (!frames)
    return TRUE;
  if (!(st = prepare (s, "INSERT INTO frames VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error)))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (frames) && rc == SQLITE_DONE; i++)
    {
      JsonObject *f = json_array_get_object_element (frames, i);
      sqlite3_bind_int64 (st, 1, id);
      sqlite3_bind_int64 (st, 2, (sqlite3_int64) gv_json_num (f, "index", i));
      bind_double (st, 3, gv_json_num (f, "pts", NAN));
      bind_double (st, 4, gv_json_num (f, "sharpness", NAN));
      bind_double (st, 5, gv_json_num (f, "sharpness_frame", NAN));
      bind_double (st, 6, gv_json_num (f, "motion", NAN));
      bind_double (st, 7, gv_json_num (f, "motion_next", NAN));
      bind_double (st, 8, gv_json_num (f, "motion_frame", NAN));
      bind_double (st, 9, gv_json_num (f, "motion_gate", NAN));
      sqlite3_bind_int (st, 10, gv_json_num (f, "measured", 0) != 0);
      sqlite3_bind_int (st, 11, gv_json_num (f, "candidate", 0) != 0);
      sqlite3_bind_int (st, 12, gv_json_num (f, "cover_found", 0) != 0);
      rc = sqlite3_step (st);
      sqlite3_reset (st);
    }
  sqlite3_finalize (st);
  return rc == SQLITE_DONE ? TRUE : sql_error (s, error, rc, "storing the per-frame metrics");
}

static gboolean
insert_golden (GvStore *s, gint64 id, JsonArray *golden, GError **error)
{
  sqlite3_stmt *st;
  int rc = SQLITE_DONE;

  if (!golden)
    return TRUE;
  if (!(st = prepare (s, "INSERT INTO golden_frames VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
                         " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error)))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (golden) && rc == SQLITE_DONE; i++)
    {
      JsonObject *g = json_array_get_object_element (golden, i);
      JsonObject *c = gv_json_obj (g, "cover");
      JsonArray *corners = gv_json_arr (c, "corners");
      sqlite3_bind_int64 (st, 1, id);
      sqlite3_bind_int (st, 2, (int) i);
      sqlite3_bind_int64 (st, 3, (sqlite3_int64) gv_json_num (g, "index", -1));
      bind_double (st, 4, gv_json_num (g, "pts", NAN));
      bind_double (st, 5, gv_json_num (g, "sharpness", NAN));
      bind_double (st, 6, gv_json_num (g, "motion", NAN));
      sqlite3_bind_int (st, 7, gv_json_num (c, "found", 0) != 0);
      bind_double (st, 8, gv_json_num (c, "confidence", NAN));
      sqlite3_bind_int (st, 9, gv_json_num (c, "touches_border", 0) != 0);
      for (int k = 0; k < 8; k++)
        {
          JsonArray *pt = corners && json_array_get_length (corners) == 4
                            ? json_array_get_array_element (corners, k / 2) : NULL;
          bind_double (st, 10 + k, pt && json_array_get_length (pt) == 2
                                     ? json_array_get_double_element (pt, k % 2) : NAN);
        }
      bind_text (st, 18, gv_json_str (c, "reason"));
      bind_text (st, 19, gv_json_str (g, "image"));
      bind_text (st, 20, gv_json_str (c, "warped"));
      rc = sqlite3_step (st);
      sqlite3_reset (st);
    }
  sqlite3_finalize (st);
  return rc == SQLITE_DONE ? TRUE : sql_error (s, error, rc, "storing the golden frames");
}

static gboolean
insert_region (GvStore *s, sqlite3_stmt *st, gint64 id, const char *name, JsonObject *r)
{
  double b[4] = { NAN, NAN, NAN, NAN };
  g_autoptr (JsonNode) n = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *details = NULL;

  json_node_set_object (n, r);
  details = node_text (n);
  jbox (r, b);
  sqlite3_bind_int64 (st, 1, id);
  bind_text (st, 2, name);
  bind_double (st, 3, gv_json_num (r, "defect_coverage", NAN));
  bind_double (st, 4, gv_json_num (r, "mean_intensity", NAN));
  bind_double (st, 5, gv_json_num (r, "max_intensity", NAN));
  bind_double (st, 6, gv_json_num (r, "edge_density", NAN));
  bind_double (st, 7, gv_json_num (r, "quality_score", gv_json_num (r, "score", NAN)));
  for (int k = 0; k < 4; k++)
    bind_double (st, 8 + k, b[k]);
  bind_text (st, 12, details);
  int rc = sqlite3_step (st);
  sqlite3_reset (st);
  return rc;
}

/* Regions as an object {name: {...}} (regions, or the worker's regionDetails) or an array of
 * objects with a "name". */
static gboolean
insert_regions (GvStore *s, gint64 id, JsonObject *root, GError **error)
{
  JsonNode *n = json_object_get_member (root, "regions");

  if (!n)
    n = json_object_get_member (root, "regionDetails");
  sqlite3_stmt *st;
  int rc = SQLITE_DONE;

  if (!n || !(JSON_NODE_HOLDS_OBJECT (n) || JSON_NODE_HOLDS_ARRAY (n)))
    return TRUE;
  if (!(st = prepare (s, "INSERT OR REPLACE INTO regions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      error)))
    return FALSE;
  if (JSON_NODE_HOLDS_OBJECT (n))
    {
      g_autoptr (GList) names = json_object_get_members (json_node_get_object (n));
      for (GList *l = names; l && rc == SQLITE_DONE; l = l->next)
        {
          JsonObject *r = gv_json_obj (json_node_get_object (n), l->data);
          if (r)
            rc = insert_region (s, st, id, l->data, r);
        }
    }
  else
    {
      JsonArray *a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a) && rc == SQLITE_DONE; i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          if (JSON_NODE_HOLDS_OBJECT (e))
            {
              JsonObject *r = json_node_get_object (e);
              g_autofree char *fallback = g_strdup_printf ("region_%u", i);
              rc = insert_region (s, st, id, gv_json_str (r, "name") ? gv_json_str (r, "name") : fallback, r);
            }
        }
    }
  sqlite3_finalize (st);
  return rc == SQLITE_DONE ? TRUE : sql_error (s, error, rc, "storing the regions");
}

static gboolean
insert_defects (GvStore *s, gint64 id, JsonArray *defects, GError **error)
{
  sqlite3_stmt *st;
  int rc = SQLITE_DONE;

  if (!defects)
    return TRUE;
  if (!(st = prepare (s, "INSERT INTO defects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error)))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (defects) && rc == SQLITE_DONE; i++)
    {
      JsonNode *e = json_array_get_element (defects, i);
      JsonObject *d;
      double b[4] = { NAN, NAN, NAN, NAN };
      g_autofree char *details = node_text (e);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        continue;
      d = json_node_get_object (e);
      jbox (d, b);
      sqlite3_bind_int64 (st, 1, id);
      sqlite3_bind_int (st, 2, (int) i);
      bind_text (st, 3, gv_json_str (d, "kind") ? gv_json_str (d, "kind") : gv_json_str (d, "type"));
      bind_text (st, 4, gv_json_str (d, "region"));
      for (int k = 0; k < 4; k++)
        bind_double (st, 5 + k, b[k]);
      bind_double (st, 9, gv_json_num (d, "area", gv_json_num (d, "area_px", gv_json_num (d, "area_mm2", NAN))));
      bind_double (st, 10, gv_json_num (d, "severity", gv_json_num (d, "score", NAN)));
      bind_text (st, 11, details);
      rc = sqlite3_step (st);
      sqlite3_reset (st);
    }
  sqlite3_finalize (st);
  return rc == SQLITE_DONE ? TRUE : sql_error (s, error, rc, "storing the defects");
}

static gboolean
insert_timings (GvStore *s, gint64 id, JsonObject *timings, GError **error)
{
  g_autoptr (GList) names = timings ? json_object_get_members (timings) : NULL;
  sqlite3_stmt *st;
  int rc = SQLITE_DONE;

  if (!names)
    return TRUE;
  if (!(st = prepare (s, "INSERT OR REPLACE INTO stage_timings VALUES (?, ?, ?)", error)))
    return FALSE;
  for (GList *l = names; l && rc == SQLITE_DONE; l = l->next)
    {
      double v = gv_json_num (timings, l->data, NAN);
      if (isnan (v))
        continue;
      sqlite3_bind_int64 (st, 1, id);
      bind_text (st, 2, l->data);
      sqlite3_bind_double (st, 3, v);
      rc = sqlite3_step (st);
      sqlite3_reset (st);
    }
  sqlite3_finalize (st);
  return rc == SQLITE_DONE ? TRUE : sql_error (s, error, rc, "storing the stage timings");
}

static gboolean
insert_images (GvStore *s, gint64 id, GPtrArray *images, GError **error)
{
  sqlite3_stmt *st;
  int rc = SQLITE_DONE;

  if (!images || !images->len)
    return TRUE;
  if (!(st = prepare (s, "INSERT OR REPLACE INTO images (run_id, name, kind, golden, png)"
                         " VALUES (?, ?, ?, ?, ?)", error)))
    return FALSE;
  for (guint i = 0; i < images->len && rc == SQLITE_DONE; i++)
    {
      const GvRunImage *img = g_ptr_array_index (images, i);
      gsize n;
      const void *data = g_bytes_get_data (img->png, &n);
      sqlite3_bind_int64 (st, 1, id);
      bind_text (st, 2, img->name);
      bind_text (st, 3, img->kind);
      sqlite3_bind_int (st, 4, img->golden);
      sqlite3_bind_blob64 (st, 5, n ? data : "", n, SQLITE_STATIC);
      rc = sqlite3_step (st);
      sqlite3_reset (st);
    }
  sqlite3_finalize (st);
  return rc == SQLITE_DONE ? TRUE : sql_error (s, error, rc, "storing the images");
}

/* The defect list: "defects" as an array, or an object holding it as "list". */
static JsonArray *
defects_of (JsonObject *root)
{
  JsonArray *a = gv_json_arr (root, "defects");
  return a ? a : gv_json_arr (gv_json_obj (root, "defects"), "list");
}

/* The grade as a number or {grade (null when it needs review), label, explanation (text, or
 * lines of {text, delta, running})}. *explanation is allocated. */
static void
grade_of (JsonObject *root, double *grade, const char **label, char **explanation)
{
  JsonNode *n = json_object_get_member (root, "grade");

  *grade = NAN;
  *label = NULL;
  *explanation = NULL;
  if (!n)
    return;
  if (JSON_NODE_HOLDS_VALUE (n))
    *grade = gv_json_num (root, "grade", NAN);
  else if (JSON_NODE_HOLDS_OBJECT (n))
    {
      JsonObject *g = json_node_get_object (n);
      JsonArray *lines = gv_json_arr (g, "explanation");
      *grade = gv_json_num (g, "grade", gv_json_num (g, "value", NAN));
      *label = gv_json_str (g, "label");
      if (gv_json_str (g, "explanation"))
        *explanation = g_strdup (gv_json_str (g, "explanation"));
      else if (lines)
        {
          GString *t = g_string_new (NULL);
          for (guint i = 0; i < json_array_get_length (lines); i++)
            {
              JsonNode *e = json_array_get_element (lines, i);
              const char *text = JSON_NODE_HOLDS_OBJECT (e) ? gv_json_str (json_node_get_object (e), "text")
                                 : JSON_NODE_HOLDS_VALUE (e) ? json_node_get_string (e) : NULL;
              if (text)
                g_string_append_printf (t, "%s%s", t->len ? "\n" : "", text);
            }
          *explanation = g_string_free (t, FALSE);
        }
    }
}

gboolean
gv_store_run_finish (GvStore *s, gint64 id, JsonNode *result, GPtrArray *images, GError **error)
{
  JsonObject *root, *video, *backend, *summary, *params;
  g_autofree char *now = now_iso8601 (), *text = NULL, *params_text = NULL;
  const char *label;
  g_autofree char *explanation = NULL;
  double grade;
  sqlite3_stmt *st;

  g_return_val_if_fail (result && JSON_NODE_HOLDS_OBJECT (result), FALSE);
  root = json_node_get_object (result);
  video = gv_json_obj (root, "video");
  backend = gv_json_obj (root, "backend");
  summary = gv_json_obj (root, "summary");
  params = gv_json_obj (root, "parameters");
  text = node_text (result);
  if (params)
    params_text = node_text (json_object_get_member (root, "parameters"));
  grade_of (root, &grade, &label, &explanation);

  if (!exec (s, "BEGIN IMMEDIATE", "starting to store a run", error))
    return FALSE;
  st = prepare (s,
    "UPDATE runs SET status = 'done', error = NULL, finished_at = ?,"
    " video_path = coalesce (?, video_path), video_size = coalesce (?, video_size),"
    " duration = ?, fps = ?, backend = coalesce (?, backend), device = coalesce (?, device),"
    " parameters = coalesce (?, parameters), total_seconds = ?, n_frames = ?, n_candidates = ?,"
    " n_golden = ?, n_covers = ?, grade = ?, grade_label = ?, grade_explanation = ?,"
    " damage_score = ?, defect_percentage = ?, result_schema = ?, result_json = ?"
    " WHERE id = ? AND status = 'running'", error);
  if (!st)
    goto fail;
  bind_text (st, 1, now);
  bind_text (st, 2, gv_json_str (video, "path"));
  bind_double (st, 3, gv_json_num (video, "file_size", NAN));
  bind_double (st, 4, gv_json_num (video, "duration", NAN));
  bind_double (st, 5, gv_json_num (video, "fps", NAN));
  bind_text (st, 6, gv_json_str (backend, "name"));
  bind_text (st, 7, gv_json_str (backend, "device"));
  bind_text (st, 8, params_text);
  bind_double (st, 9, gv_json_num (gv_json_obj (root, "timings"), "total", NAN));
  bind_double (st, 10, gv_json_num (summary, "frames", NAN));
  bind_double (st, 11, gv_json_num (summary, "candidates", NAN));
  bind_double (st, 12, gv_json_num (summary, "golden_frames", NAN));
  bind_double (st, 13, gv_json_num (summary, "covers_found", NAN));
  bind_double (st, 14, grade);
  bind_text (st, 15, label);
  bind_text (st, 16, explanation);
  bind_double (st, 17, gv_json_num (root, "damageScore", gv_json_num (root, "damage_score", NAN)));
  bind_double (st, 18, gv_json_num (root, "defectPercentage", gv_json_num (root, "defect_percentage", NAN)));
  bind_text (st, 19, gv_json_str (root, "schema"));
  bind_text (st, 20, text);
  sqlite3_bind_int64 (st, 21, id);
  if (!step_done (s, st, "storing a run", error))
    goto fail;
  if (sqlite3_changes (s->db) != 1)
    {
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_NOT_FOUND,
                   "%s: run %" G_GINT64_FORMAT " is not running (deleted, or already finished)",
                   s->path, id);
      goto fail;
    }
  if (!insert_timings (s, id, gv_json_obj (root, "timings"), error)
      || !insert_frames (s, id, gv_json_arr (root, "frames"), error)
      || !insert_golden (s, id, gv_json_arr (root, "golden_frames"), error)
      || !insert_regions (s, id, root, error)
      || !insert_defects (s, id, defects_of (root), error)
      || !insert_images (s, id, images, error))
    goto fail;
  if (!exec (s, "COMMIT", "committing a run", error))
    goto fail;
  return TRUE;
fail:
  rollback (s);
  return FALSE;
}

/* ---- reading --------------------------------------------------------------------------- */

#define RUN_COLUMNS                                                                                \
  "id, scan_id, status, error, video_path, video_size, duration, fps, video_sha256, backend,"      \
  " device, parameters, started_at, finished_at, total_seconds, n_frames, n_candidates,"          \
  " n_golden, n_covers, grade, grade_label, damage_score, defect_percentage, result_schema"

static char *
col_text (sqlite3_stmt *st, int i)
{
  const unsigned char *t = sqlite3_column_text (st, i);
  return t ? g_strdup ((const char *) t) : NULL;
}

static double
col_double (sqlite3_stmt *st, int i, double dflt)
{
  return sqlite3_column_type (st, i) == SQLITE_NULL ? dflt : sqlite3_column_double (st, i);
}

static GvRun *
run_from_row (sqlite3_stmt *st)
{
  GvRun *r = g_new0 (GvRun, 1);
  g_autofree char *status = col_text (st, 2);

  r->id = sqlite3_column_int64 (st, 0);
  r->scan_id = col_text (st, 1);
  r->status = status_parse (status);
  r->error = col_text (st, 3);
  r->video_path = col_text (st, 4);
  r->video_size = sqlite3_column_type (st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64 (st, 5);
  r->duration = col_double (st, 6, 0);
  r->fps = col_double (st, 7, 0);
  r->video_sha256 = col_text (st, 8);
  r->backend = col_text (st, 9);
  r->device = col_text (st, 10);
  r->parameters = col_text (st, 11);
  r->started_at = col_text (st, 12);
  r->finished_at = col_text (st, 13);
  r->total_seconds = col_double (st, 14, -1);
  r->n_frames = sqlite3_column_int (st, 15);
  r->n_candidates = sqlite3_column_int (st, 16);
  r->n_golden = sqlite3_column_int (st, 17);
  r->n_covers = sqlite3_column_int (st, 18);
  r->grade = col_double (st, 19, NAN);
  r->grade_label = col_text (st, 20);
  r->damage_score = col_double (st, 21, NAN);
  r->defect_percentage = col_double (st, 22, NAN);
  r->result_schema = col_text (st, 23);
  return r;
}

GPtrArray *
gv_store_list_runs (GvStore *s, GError **error)
{
  GPtrArray *runs = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_run_free);
  sqlite3_stmt *st = prepare (s, "SELECT " RUN_COLUMNS " FROM runs ORDER BY id DESC", error);
  int rc;

  if (!st)
    {
      g_ptr_array_unref (runs);
      return NULL;
    }
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_ptr_array_add (runs, run_from_row (st));
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      sql_error (s, error, rc, "listing the runs");
      g_ptr_array_unref (runs);
      return NULL;
    }
  return runs;
}

GvRun *
gv_store_load_run (GvStore *s, gint64 id, GError **error)
{
  sqlite3_stmt *st;
  g_autoptr (GvRun) r = NULL;
  g_autofree char *json = NULL;
  int rc;

  /* One read transaction so the row and its images are the same snapshot. */
  if (!exec (s, "BEGIN", "reading a run", error))
    return NULL;
  if (!(st = prepare (s, "SELECT " RUN_COLUMNS ", result_json FROM runs WHERE id = ?", error)))
    goto fail;
  sqlite3_bind_int64 (st, 1, id);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      r = run_from_row (st);
      json = col_text (st, 24);
    }
  sqlite3_finalize (st);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_NOT_FOUND,
                   "%s: there is no run %" G_GINT64_FORMAT, s->path, id);
      goto fail;
    }
  if (rc != SQLITE_ROW)
    {
      sql_error (s, error, rc, "reading a run");
      goto fail;
    }
  if (json)
    {
      g_autoptr (GError) jerr = NULL;
      r->result = json_from_string (json, &jerr);
      if (!r->result)
        {
          g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_CORRUPT,
                       "%s: the result of run %" G_GINT64_FORMAT " is damaged: %s", s->path, id,
                       jerr ? jerr->message : "empty");
          goto fail;
        }
    }
  r->images = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_run_image_free);
  if (!(st = prepare (s, "SELECT name, kind, golden, png FROM images WHERE run_id = ? ORDER BY id",
                      error)))
    goto fail;
  sqlite3_bind_int64 (st, 1, id);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      g_autoptr (GBytes) png = g_bytes_new (sqlite3_column_blob (st, 3),
                                            (gsize) sqlite3_column_bytes (st, 3));
      g_ptr_array_add (r->images, gv_run_image_new ((const char *) sqlite3_column_text (st, 0),
                                                    (const char *) sqlite3_column_text (st, 1),
                                                    sqlite3_column_int (st, 2), png));
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      sql_error (s, error, rc, "reading the images of a run");
      goto fail;
    }
  sqlite3_exec (s->db, "COMMIT", NULL, NULL, NULL);
  return g_steal_pointer (&r);
fail:
  rollback (s);
  return NULL;
}

gint64
gv_store_latest_run (GvStore *s, GError **error)
{
  int rc;
  gint64 id = pragma_int (s, "SELECT coalesce (max (id), 0) FROM runs", &rc);

  if (rc != SQLITE_OK)
    {
      sql_error (s, error, rc, "finding the latest run");
      return 0;
    }
  return id;
}

gboolean
gv_store_delete_run (GvStore *s, gint64 id, GError **error)
{
  sqlite3_stmt *st = prepare (s, "DELETE FROM runs WHERE id = ?", error);

  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  if (!step_done (s, st, "deleting a run", error))
    return FALSE;
  if (sqlite3_changes (s->db) == 0)
    {
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_NOT_FOUND,
                   "%s: there is no run %" G_GINT64_FORMAT, s->path, id);
      return FALSE;
    }
  return TRUE;
}

/* Parameters equal apart from the thread count (which changes nothing in the results). */
static gboolean
same_parameters (const char *a, const char *b)
{
  g_autoptr (JsonNode) na = a ? json_from_string (a, NULL) : NULL;
  g_autoptr (JsonNode) nb = b ? json_from_string (b, NULL) : NULL;

  if (!na || !nb || !JSON_NODE_HOLDS_OBJECT (na) || !JSON_NODE_HOLDS_OBJECT (nb))
    return na == NULL && nb == NULL;
  json_object_remove_member (json_node_get_object (na), "threads");
  json_object_remove_member (json_node_get_object (nb), "threads");
  return json_node_equal (na, nb);
}

gint64
gv_store_find_counterpart (GvStore *s, const GvRun *run, GError **error)
{
  sqlite3_stmt *st;
  gint64 found = 0;
  int rc;

  if (!run->video_sha256 || !run->backend)
    return 0;
  st = prepare (s, "SELECT id, parameters FROM runs WHERE video_sha256 = ? AND backend <> ?"
                   " AND status = 'done' AND id <> ? ORDER BY id DESC", error);
  if (!st)
    return 0;
  bind_text (st, 1, run->video_sha256);
  bind_text (st, 2, run->backend);
  sqlite3_bind_int64 (st, 3, run->id);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    if (same_parameters (run->parameters, (const char *) sqlite3_column_text (st, 1)))
      {
        found = sqlite3_column_int64 (st, 0);
        break;
      }
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    sql_error (s, error, rc, "looking for a run on the other backend");
  return found;
}

int
gv_store_count_rows (GvStore *s, const char *table, gint64 run_id, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM %s WHERE run_id = %" G_GINT64_FORMAT,
                                          table, run_id);
  int rc;
  gint64 n = pragma_int (s, sql, &rc);

  if (rc != SQLITE_OK)
    {
      sql_error (s, error, rc, "counting rows");
      return -1;
    }
  return (int) n;
}

gboolean
gv_store_check (GvStore *s, GError **error)
{
  sqlite3_stmt *st = prepare (s, "PRAGMA integrity_check", error);
  g_autofree char *first = NULL;
  int rc;

  if (!st)
    return FALSE;
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    first = col_text (st, 0);
  sqlite3_finalize (st);
  if (rc != SQLITE_ROW)
    return sql_error (s, error, rc, "checking integrity");
  if (g_strcmp0 (first, "ok") != 0)
    {
      g_set_error (error, GV_STORE_ERROR, GV_STORE_ERROR_CORRUPT, "%s: integrity check: %s", s->path,
                   first);
      return FALSE;
    }
  return TRUE;
}

/* ---- files ----------------------------------------------------------------------------- */

static gboolean
collect_images (JsonNode *node, const char *member, int golden, const char *dir, GPtrArray *out,
                GHashTable *seen, GError **error)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *o = json_node_get_object (node);
      g_autoptr (GList) names = json_object_get_members (o);
      for (GList *l = names; l; l = l->next)
        if (!collect_images (json_object_get_member (o, l->data), l->data, golden, dir, out, seen,
                             error))
          return FALSE;
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      gboolean per_golden = member && !strcmp (member, "golden_frames");
      for (guint i = 0; i < json_array_get_length (a); i++)
        if (!collect_images (json_array_get_element (a, i), member, per_golden ? (int) i : golden,
                             dir, out, seen, error))
          return FALSE;
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *name = json_node_get_string (node);
      g_autofree char *path = NULL;
      char *data = NULL;
      gsize len = 0;
      /* Only plain file names: result JSON names images in the output directory. */
      if (!g_str_has_suffix (name, ".png") || strchr (name, '/') || g_hash_table_contains (seen, name))
        return TRUE;
      path = g_build_filename (dir, name, NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return TRUE;
      if (!g_file_get_contents (path, &data, &len, error))
        return FALSE;
      g_autoptr (GBytes) png = g_bytes_new_take (data, len);
      g_ptr_array_add (out, gv_run_image_new (name, member ? member : "image", golden, png));
      g_hash_table_add (seen, g_strdup (name));
    }
  return TRUE;
}

GPtrArray *
gv_run_images_from_dir (JsonNode *result, const char *dir, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_run_image_free);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (!collect_images (result, NULL, -1, dir, out, seen, error))
    return NULL;
  return g_steal_pointer (&out);
}

char *
gv_sha256_file (const char *path, GError **error)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buf = NULL;
  struct stat st;
  ssize_t n;
  int fd, e;

  /* O_NONBLOCK: a FIFO or a device must not block the open; only regular files are hashed. */
  fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      e = fd < 0 ? errno : 0;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_FILE_ERROR, e ? g_file_error_from_errno (e) : G_FILE_ERROR_INVAL,
                   "%s: %s", path, e ? g_strerror (e) : "not a regular file");
      return NULL;
    }
  buf = g_malloc (1 << 20);
  while ((n = read (fd, buf, 1 << 20)) != 0)
    {
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          e = errno;
          close (fd);
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s: read error: %s", path,
                       g_strerror (e));
          return NULL;
        }
      g_checksum_update (sum, buf, n);
    }
  close (fd);
  return g_strdup (g_checksum_get_string (sum));
}
