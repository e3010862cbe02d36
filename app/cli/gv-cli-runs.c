/* gv-cli-runs.c: gvscan runs list|show|delete|export, gvscan export, gvscan compare: the run
 * store on the command line. Reports come from core/report, the code the app's Export uses. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gv-cli.h"
#include "gv-report.h"
#include "gv-store.h"

/* Opens the store for a command: read-write when possible (migrates, marks interrupted runs),
 * else read-only with a note when reading is enough. NULL with a message printed on failure. */
static GvStore *
open_store (const char *cmd, const char *db, gboolean need_write)
{
  g_autofree char *path = db ? g_strdup (db) : gv_store_default_path ();
  g_autoptr (GError) error = NULL;
  GvStore *s;

  if (strcmp (path, ":memory:") && !g_file_test (path, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, "gvscan %s: no run database at %s yet (gvscan analyze stores every run there)\n",
               cmd, path);
      return NULL;
    }
  s = gv_store_open (path, GV_STORE_OPEN_READ_WRITE, &error);
  /* A read-only file, or a WAL file in a read-only directory: reading may still work. */
  if (!s && !need_write
      && (g_error_matches (error, GV_STORE_ERROR, GV_STORE_ERROR_READ_ONLY)
          || g_error_matches (error, GV_STORE_ERROR, GV_STORE_ERROR_OPEN)))
    {
      g_autoptr (GError) ro_error = NULL;
      s = gv_store_open (path, GV_STORE_OPEN_READ_ONLY, &ro_error);
      if (s)
        {
          fprintf (stderr, "gvscan %s: note: %s; opened for reading only\n", cmd, error->message);
          if (gv_store_note (s))
            fprintf (stderr, "gvscan %s: note: %s\n", cmd, gv_store_note (s));
          g_clear_error (&error);
        }
    }
  if (!s)
    {
      fprintf (stderr, "gvscan %s: %s\n", cmd, error->message);
      return NULL;
    }
  if (gv_store_recovered_runs (s) > 0)
    fprintf (stderr, "gvscan %s: %d interrupted run(s) marked failed\n", cmd, gv_store_recovered_runs (s));
  return s;
}

/* RUN: a run id, or "latest". */
static gboolean
parse_run (const char *cmd, GvStore *s, const char *arg, gint64 *id)
{
  g_autoptr (GError) error = NULL;
  char *end = NULL;

  if (!g_strcmp0 (arg, "latest") || !g_strcmp0 (arg, "last"))
    {
      *id = gv_store_latest_run (s, &error);
      if (*id <= 0)
        {
          fprintf (stderr, "gvscan %s: %s\n", cmd, error ? error->message : "the store holds no runs");
          return FALSE;
        }
      return TRUE;
    }
  *id = arg ? g_ascii_strtoll (arg, &end, 10) : 0;
  if (!arg || *end || *id <= 0)
    {
      fprintf (stderr, "gvscan %s: '%s' is not a run (give its number from 'gvscan runs list', or latest)\n",
               cmd, arg ? arg : "");
      return FALSE;
    }
  return TRUE;
}

static GvRun *
load_run (const char *cmd, GvStore *s, const char *arg)
{
  g_autoptr (GError) error = NULL;
  gint64 id;
  GvRun *run;

  if (!parse_run (cmd, s, arg, &id))
    return NULL;
  if (!(run = gv_store_load_run (s, id, &error)))
    fprintf (stderr, "gvscan %s: %s\n", cmd, error->message);
  return run;
}

static void
print_list (GPtrArray *runs)
{
  printf ("%5s  %-20s  %-9s  %-5s  %6s  %6s  %5s  %-16s  %s\n", "RUN", "STARTED (UTC)", "STATUS",
          "BACK", "FRAMES", "GOLDEN", "GRADE", "SCAN", "VIDEO");
  for (guint i = 0; i < runs->len; i++)
    {
      GvRun *r = g_ptr_array_index (runs, i);
      g_autofree char *base = r->video_path ? g_path_get_basename (r->video_path) : g_strdup ("?");
      g_autofree char *grade = isnan (r->grade) ? g_strdup ("-") : g_strdup_printf ("%.1f", r->grade);
      printf ("%5" G_GINT64_FORMAT "  %-20s  %-9s  %-5s  %6d  %6d  %5s  %-16s  %s\n", r->id,
              r->started_at ? r->started_at : "", gv_run_status_name (r->status),
              r->backend ? r->backend : "-", r->n_frames, r->n_golden, grade, r->scan_id, base);
    }
  if (!runs->len)
    printf ("(no runs)\n");
}

static void
print_run (const GvRun *r)
{
  JsonObject *root = r->result ? json_node_get_object (r->result) : NULL;
  JsonNode *n;

  printf ("run %" G_GINT64_FORMAT ": %s\n", r->id, gv_run_status_name (r->status));
  printf ("  scan id     %s\n", r->scan_id);
  printf ("  video       %s (%" G_GINT64_FORMAT " bytes, %.3f s, %.3f fps)\n", r->video_path ? r->video_path : "?",
          r->video_size, r->duration, r->fps);
  printf ("  sha-256     %s\n", r->video_sha256 ? r->video_sha256 : "?");
  printf ("  backend     %s (%s)\n", r->backend ? r->backend : "?", r->device ? r->device : "?");
  printf ("  started     %s\n  finished    %s\n", r->started_at, r->finished_at ? r->finished_at : "-");
  if (r->error)
    printf ("  error       %s\n", r->error);
  if (!isnan (r->grade))
    printf ("  grade       %.1f%s%s\n", r->grade, r->grade_label ? " " : "", r->grade_label ? r->grade_label : "");
  if (!isnan (r->damage_score))
    printf ("  damage      %.2f / 100\n", r->damage_score);
  if (!isnan (r->defect_percentage))
    printf ("  defects     %.3f %% of the cover\n", r->defect_percentage);
  printf ("  parameters  %s\n", r->parameters ? r->parameters : "?");
  if (root)
    {
      printf ("  frames      %d analysed, %d candidates, %d golden, %d covers found\n", r->n_frames,
              r->n_candidates, r->n_golden, r->n_covers);
      JsonArray *golden = json_object_get_array_member (root, "golden_frames");
      for (guint i = 0; golden && i < json_array_get_length (golden); i++)
        {
          JsonObject *g = json_array_get_object_element (golden, i);
          JsonObject *c = json_object_get_object_member (g, "cover");
          printf ("    golden %u: frame %5" G_GINT64_FORMAT "  t=%7.3f s  sharpness %8.1f  motion %5.2f px  cover %s\n",
                  i, json_object_get_int_member (g, "index"), json_object_get_double_member (g, "pts"),
                  json_object_get_double_member (g, "sharpness"), json_object_get_double_member (g, "motion"),
                  c && json_object_get_boolean_member (c, "found") ? "found" : "not found");
        }
      if ((n = json_object_get_member (root, "flags")) && JSON_NODE_HOLDS_ARRAY (n))
        for (guint i = 0; i < json_array_get_length (json_node_get_array (n)); i++)
          printf ("    flag: %s\n", json_array_get_string_element (json_node_get_array (n), i));
      if ((n = json_object_get_member (root, "timings")) && JSON_NODE_HOLDS_OBJECT (n))
        {
          JsonObject *t = json_node_get_object (n);
          g_autoptr (GList) names = json_object_get_members (t);
          printf ("  timings\n");
          for (GList *l = names; l; l = l->next)
            printf ("    %-24s %8.3f s\n", (char *) l->data, json_object_get_double_member (t, l->data));
        }
    }
  if (r->images)
    {
      gsize total = 0;
      for (guint i = 0; i < r->images->len; i++)
        total += g_bytes_get_size (((GvRunImage *) g_ptr_array_index (r->images, i))->png);
      g_autofree char *sz = g_format_size (total);
      printf ("  images      %u stored (%s)\n", r->images->len, sz);
      for (guint i = 0; i < r->images->len; i++)
        {
          GvRunImage *img = g_ptr_array_index (r->images, i);
          printf ("    %-36s %-12s %8" G_GSIZE_FORMAT " bytes\n", img->name, img->kind, g_bytes_get_size (img->png));
        }
    }
}

/* The other backend's run of the same video and parameters, compared with this one. */
static GvComparison *
counterpart_comparison (GvStore *s, const GvRun *run)
{
  g_autoptr (GError) error = NULL;
  gint64 other = gv_store_find_counterpart (s, run, &error);
  g_autoptr (GvRun) o = NULL;

  if (other <= 0 || !(o = gv_store_load_run (s, other, &error)))
    return NULL;
  /* CPU first, so the speed-up column reads as the GPU's. */
  if (g_strcmp0 (run->backend, "cpu") == 0)
    return gv_report_compare (run, o);
  return gv_report_compare (o, run);
}

typedef struct {
  char *pdf, *json, *worker_json, *csv_dir, *images_dir;
  gboolean letter;
} ExportOpts;

static int
export_run (const char *cmd, GvStore *s, const GvRun *run, const ExportOpts *o)
{
  g_autoptr (GError) error = NULL;

  if (o->images_dir && !gv_report_write_images (run, o->images_dir, &error))
    goto fail;
  if (o->json && !gv_report_write_json (run, o->json, &error))
    goto fail;
  if (o->worker_json && !gv_report_write_worker_json (run, o->worker_json, &error))
    goto fail;
  if (o->csv_dir && !gv_report_write_csv (run, o->csv_dir, &error))
    goto fail;
  if (o->pdf)
    {
      g_autoptr (GvComparison) cmp = counterpart_comparison (s, run);
      gboolean ok = gv_report_write_pdf (run, cmp, o->letter ? GV_PAPER_LETTER : GV_PAPER_A4,
                                         o->pdf, &error);
      gv_report_shutdown ();
      if (!ok)
        goto fail;
    }
  return 0;
fail:
  fprintf (stderr, "gvscan %s: run %" G_GINT64_FORMAT ": %s\n", cmd, run->id, error->message);
  return 1;
}

int
gv_cli_export (int argc, char **argv)
{
  ExportOpts o = { 0 };
  g_autofree char *db = NULL;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "Run database (default: the user's data directory)", "FILE" },
    { "pdf", 0, 0, G_OPTION_ARG_FILENAME, &o.pdf, "The grader's PDF report", "FILE" },
    { "letter", 0, 0, G_OPTION_ARG_NONE, &o.letter, "US Letter paper (default A4)", NULL },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &o.json, "The full result JSON", "FILE" },
    { "worker-json", 0, 0, G_OPTION_ARG_FILENAME, &o.worker_json, "The production worker's flat result JSON", "FILE" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &o.csv_dir, "frames.csv, defects.csv, regions.csv into DIR", "DIR" },
    { "images", 0, 0, G_OPTION_ARG_FILENAME, &o.images_dir, "Every stored image into DIR", "DIR" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("RUN - write reports of a stored run");
  g_autoptr (GError) error = NULL;
  g_autoptr (GvStore) s = NULL;
  g_autoptr (GvRun) run = NULL;
  int status;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "gvscan export: %s\n", error->message);
      status = 2;
      goto out;
    }
  if (argc != 2 || !(o.pdf || o.json || o.worker_json || o.csv_dir || o.images_dir))
    {
      fprintf (stderr, "gvscan export: give one RUN and at least one of --pdf, --json, "
                       "--worker-json, --csv, --images\n");
      status = 2;
      goto out;
    }
  status = 1;
  if (!(s = open_store ("export", db, FALSE)) || !(run = load_run ("export", s, argv[1])))
    goto out;
  status = export_run ("export", s, run, &o);
out:
  g_free (o.pdf);
  g_free (o.json);
  g_free (o.worker_json);
  g_free (o.csv_dir);
  g_free (o.images_dir);
  return status;
}

int
gv_cli_compare (int argc, char **argv)
{
  g_autofree char *db = NULL;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "Run database (default: the user's data directory)", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("RUN_A RUN_B - output differences between two runs");
  g_autoptr (GError) error = NULL;
  g_autoptr (GvStore) s = NULL;
  g_autoptr (GvRun) a = NULL, b = NULL;
  g_autoptr (GvComparison) c = NULL;
  g_autofree char *text = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "gvscan compare: %s\n", error->message);
      return 2;
    }
  if (argc != 3)
    {
      fprintf (stderr, "gvscan compare: give two runs (see gvscan runs list)\n");
      return 2;
    }
  if (!(s = open_store ("compare", db, FALSE)) || !(a = load_run ("compare", s, argv[1]))
      || !(b = load_run ("compare", s, argv[2])))
    return 1;
  if (!a->result || !b->result)
    {
      fprintf (stderr, "gvscan compare: run %" G_GINT64_FORMAT " did not finish (%s)\n",
               a->result ? b->id : a->id, gv_run_status_name (a->result ? b->status : a->status));
      return 1;
    }
  c = gv_report_compare (a, b);
  text = gv_comparison_to_text (c);
  fputs (text, stdout);
  return c->pass ? 0 : 1;
}

int
gv_cli_runs (int argc, char **argv)
{
  g_autofree char *db = NULL, *out_dir = NULL;
  gboolean letter = FALSE;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "Run database (default: the user's data directory)", "FILE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir, "export: directory (default gvscan-run-RUN)", "DIR" },
    { "letter", 0, 0, G_OPTION_ARG_NONE, &letter, "export: US Letter paper (default A4)", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("list | show RUN | delete RUN | export RUN - the run store");
  g_autoptr (GError) error = NULL;
  g_autoptr (GvStore) s = NULL;
  const char *action;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx, "RUN is a run number from 'gvscan runs list', or latest.\n"
                                         "export writes report.pdf, result.json, worker.json, frames.csv,\n"
                                         "defects.csv, regions.csv and every stored image into DIR.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "gvscan runs: %s\n", error->message);
      return 2;
    }
  action = argc >= 2 ? argv[1] : "list";
  if (!strcmp (action, "list") && argc <= 2)
    {
      g_autoptr (GPtrArray) runs = NULL;
      g_autofree char *path = db ? g_strdup (db) : gv_store_default_path ();
      if (strcmp (path, ":memory:") && !g_file_test (path, G_FILE_TEST_EXISTS))
        {
          printf ("(no runs: %s does not exist yet)\n", path);
          return 0;
        }
      if (!(s = open_store ("runs list", db, FALSE)))
        return 1;
      if (!(runs = gv_store_list_runs (s, &error)))
        {
          fprintf (stderr, "gvscan runs list: %s\n", error->message);
          return 1;
        }
      print_list (runs);
      return 0;
    }
  if (argc != 3 || (strcmp (action, "show") && strcmp (action, "delete") && strcmp (action, "export")))
    {
      fprintf (stderr, "gvscan runs: use list, show RUN, delete RUN or export RUN (see --help)\n");
      return 2;
    }
  g_autofree char *what = g_strdup_printf ("runs %s", action);
  if (!(s = open_store (what, db, !strcmp (action, "delete"))))
    return 1;
  if (!strcmp (action, "delete"))
    {
      gint64 id;
      if (!parse_run ("runs delete", s, argv[2], &id))
        return 1;
      if (!gv_store_delete_run (s, id, &error))
        {
          fprintf (stderr, "gvscan runs delete: %s\n", error->message);
          return 1;
        }
      printf ("run %" G_GINT64_FORMAT " deleted\n", id);
      return 0;
    }
  {
    g_autoptr (GvRun) run = load_run (what, s, argv[2]);
    if (!run)
      return 1;
    if (!strcmp (action, "show"))
      {
        print_run (run);
        return 0;
      }
    if (!out_dir)
      out_dir = g_strdup_printf ("gvscan-run-%" G_GINT64_FORMAT, run->id);
    g_autofree char *pdf = g_build_filename (out_dir, "report.pdf", NULL);
    g_autofree char *json = run->result ? g_build_filename (out_dir, "result.json", NULL) : NULL;
    g_autofree char *worker = g_build_filename (out_dir, "worker.json", NULL);
    ExportOpts o = { pdf, json, worker, out_dir, out_dir, letter };
    if (g_mkdir_with_parents (out_dir, 0755) != 0)
      {
        fprintf (stderr, "gvscan runs export: cannot create %s: %s\n", out_dir, g_strerror (errno));
        return 1;
      }
    if (export_run ("runs export", s, run, &o) != 0)
      return 1;
    printf ("run %" G_GINT64_FORMAT " exported to %s\n", run->id, out_dir);
    return 0;
  }
}
