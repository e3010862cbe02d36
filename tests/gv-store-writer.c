/* gv-store-writer: writes fixture runs into a run database in a loop, the way gvscan analyze
 * does (begin as running, complete in one transaction), for the kill and concurrency tests.
 * Usage: gv-store-writer DB COUNT SEED   (COUNT 0: until killed). Exit 0 when COUNT runs landed. */
#include <stdio.h>
#include <stdlib.h>

#include "gv-store-fixture.h"

static GBytes *
make_blob (const char *name, const char *kind, void *ud)
{
  return gv_fixture_blob (g_str_hash (name) ^ GPOINTER_TO_UINT (ud), 24 * 1024);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  GvStore *s;
  long count, seed;

  if (argc != 4)
    {
      fprintf (stderr, "usage: gv-store-writer DB COUNT SEED\n");
      return 2;
    }
  count = strtol (argv[2], NULL, 10);
  seed = strtol (argv[3], NULL, 10);
  if (!(s = gv_store_open (argv[1], GV_STORE_OPEN_READ_WRITE, &error)))
    {
      fprintf (stderr, "gv-store-writer: %s\n", error->message);
      return 1;
    }
  /* Writers queue behind each other: allow for a slow machine under sanitizers. */
  gv_store_set_busy_timeout (s, 30000);
  for (long k = 0; count == 0 || k < count; k++)
    {
      guint32 run_seed = (guint32) (seed * 100003 + k);
      GvFixtureOpts o = { 240, 5, k % 2 == 0, "cpu", 0 };
      g_autoptr (JsonNode) result = gv_fixture_result (run_seed, &o);
      g_autoptr (GPtrArray) images = gv_fixture_images (result, make_blob, GUINT_TO_POINTER (run_seed));
      g_autofree char *scan = g_strdup_printf ("writer-%ld-%ld", seed, k);
      GvRunStart st = { scan, "/videos/scan-fixture.mp4", 1234567, "00ff", "cpu", NULL, NULL };
      gint64 id = gv_store_run_begin (s, &st, &error);
      if (!id || !gv_store_run_finish (s, id, result, images, &error))
        {
          fprintf (stderr, "gv-store-writer: %s\n", error->message);
          gv_store_close (s);
          return 1;
        }
    }
  gv_store_close (s);
  return 0;
}
