/* gv-store.h: the run store. Every analysis is one row in an SQLite database (WAL, foreign keys,
 * versioned schema migrated with PRAGMA user_version) together with its complete result JSON, the
 * key figures as columns and child tables, and the PNG images a person looks at, so a run reopens
 * identically even when the video has moved. A run is written as "running" when it starts and
 * completed in one transaction when it ends; a run whose process died is marked failed the next
 * time the database is opened for writing. Owner: gv-store.c. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define GV_STORE_ERROR (gv_store_error_quark ())
GQuark gv_store_error_quark (void);

typedef enum {
  GV_STORE_ERROR_OPEN,      /* cannot open or create the file */
  GV_STORE_ERROR_READ_ONLY, /* the file (or its directory) is read-only; it was left as it is */
  GV_STORE_ERROR_CORRUPT,   /* not a run database, or damaged; it was left as it is */
  GV_STORE_ERROR_NEWER,     /* made by a newer version of this program */
  GV_STORE_ERROR_BUSY,      /* locked by another process beyond the busy timeout */
  GV_STORE_ERROR_FULL,      /* the disk is full */
  GV_STORE_ERROR_NOT_FOUND, /* no such run */
  GV_STORE_ERROR_FAILED,    /* anything else SQLite reported */
} GvStoreError;

/* The schema this build writes; older databases are migrated on open for writing. */
#define GV_STORE_SCHEMA_VERSION 3

typedef enum {
  GV_STORE_OPEN_READ_WRITE = 0, /* create when missing, migrate, recover interrupted runs */
  GV_STORE_OPEN_READ_ONLY = 1,  /* never writes; a WAL file in a read-only place opens immutable */
} GvStoreOpenMode;

typedef enum {
  GV_RUN_RUNNING,
  GV_RUN_DONE,
  GV_RUN_FAILED,
  GV_RUN_CANCELLED,
} GvRunStatus;

typedef struct {
  char *name;   /* file name as the result JSON names it */
  char *kind;   /* the JSON member that named it: image, warped, defect_mask, ... */
  int golden;   /* golden-frame ordinal, -1 for images of the whole run */
  GBytes *png;  /* the PNG file's bytes */
} GvRunImage;

GvRunImage *gv_run_image_new (const char *name, const char *kind, int golden, GBytes *png);
void gv_run_image_free (GvRunImage *img);

typedef struct {
  gint64 id;
  char *scan_id;
  GvRunStatus status;
  char *error;              /* failed, cancelled: why */
  char *video_path;
  gint64 video_size;        /* -1 unknown */
  double duration, fps;     /* 0 unknown */
  char *video_sha256;       /* lower-case hex, NULL when the video could not be read */
  char *backend, *device;
  char *parameters;         /* JSON object text */
  char *started_at, *finished_at; /* ISO 8601 UTC; finished_at NULL while running */
  double total_seconds;     /* -1 unknown */
  int n_frames, n_candidates, n_golden, n_covers;
  double grade;             /* NAN when the run has no grade */
  char *grade_label;
  double damage_score, defect_percentage; /* NAN when absent */
  char *result_schema;
  /* Filled by gv_store_load_run only (NULL in lists and for runs that did not finish). */
  JsonNode *result;
  GPtrArray *images;        /* GvRunImage* */
} GvRun;

void gv_run_free (GvRun *run);
const char *gv_run_status_name (GvRunStatus s);
/* The image of a run by kind and golden ordinal (-1: any), or NULL. */
const GvRunImage *gv_run_find_image (const GvRun *run, const char *kind, int golden);
const GvRunImage *gv_run_find_image_by_name (const GvRun *run, const char *name);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvRun, gv_run_free)

/* What is known when a run starts. */
typedef struct {
  const char *scan_id;
  const char *video_path;
  gint64 video_size;
  const char *video_sha256;
  const char *backend, *device;
  const char *parameters;   /* JSON object text, may be NULL */
} GvRunStart;

typedef struct _GvStore GvStore;

/* Opens (READ_WRITE: creates when missing) the database at path; ":memory:" for tests. Errors
 * name the file and say what was done: a read-only, corrupt or foreign file is never replaced. */
GvStore *gv_store_open (const char *path, GvStoreOpenMode mode, GError **error);
void gv_store_close (GvStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GvStore, gv_store_close)
const char *gv_store_path (const GvStore *store);
gboolean gv_store_is_read_only (const GvStore *store);
/* A sentence to show the user about how the file was opened (read-only, immutable), or NULL. */
const char *gv_store_note (const GvStore *store);
/* Milliseconds to wait for another process's lock before GV_STORE_ERROR_BUSY (default 5000). */
void gv_store_set_busy_timeout (GvStore *store, int ms);
/* Runs marked failed on open because their process had died. */
int gv_store_recovered_runs (const GvStore *store);
/* The default location: $XDG_DATA_HOME/gradevault-inspector/runs.db. */
char *gv_store_default_path (void);

/* Inserts a running run; returns its id (> 0) or 0 with error set. */
gint64 gv_store_run_begin (GvStore *store, const GvRunStart *start, GError **error);
/* Completes a run in one transaction: the result JSON, every key column and child table filled
 * from it, and the images (GvRunImage*, may be NULL). */
gboolean gv_store_run_finish (GvStore *store, gint64 run_id, JsonNode *result, GPtrArray *images,
                              GError **error);
/* Marks a run failed or cancelled with a message. */
gboolean gv_store_run_fail (GvStore *store, gint64 run_id, GvRunStatus status, const char *message,
                            GError **error);

/* Summaries (no result, no images), newest first. */
GPtrArray *gv_store_list_runs (GvStore *store, GError **error);
/* One run in full, with its result JSON and images. */
GvRun *gv_store_load_run (GvStore *store, gint64 run_id, GError **error);
/* The id of the newest run, 0 when there is none. */
gint64 gv_store_latest_run (GvStore *store, GError **error);
gboolean gv_store_delete_run (GvStore *store, gint64 run_id, GError **error);
/* A finished run of the same video (SHA-256) with the same parameters (threads aside) on another
 * backend, newest first: the other half of a CPU-vs-GPU comparison. 0 when there is none. */
gint64 gv_store_find_counterpart (GvStore *store, const GvRun *run, GError **error);

/* Per-frame metrics of a stored run as the store's child table holds them (for checks). */
int gv_store_count_rows (GvStore *store, const char *table, gint64 run_id, GError **error);
/* PRAGMA integrity_check == "ok". */
gboolean gv_store_check (GvStore *store, GError **error);

/* Every PNG the result JSON names (string members ending in .png), read from dir: what
 * gv_store_run_finish keeps so the run reopens without the output directory. Files that are
 * missing are skipped; a file that cannot be read is an error. */
GPtrArray *gv_run_images_from_dir (JsonNode *result, const char *dir, GError **error);

/* Lower-case hex SHA-256 of a file read in chunks, or NULL with error set. */
char *gv_sha256_file (const char *path, GError **error);

G_END_DECLS
