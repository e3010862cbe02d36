/* gvscan: the GradeVault analysis core on the command line. */
#include <libavutil/log.h>
#include <locale.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "gv-cli.h"
#include "gv-config.h"

/* gv-cli-validate.c */
int gv_cli_validate (int argc, char **argv);

#if GV_HAVE_STORE
/* gv-cli-runs.c: the run store. */
int gv_cli_runs (int argc, char **argv);
int gv_cli_export (int argc, char **argv);
int gv_cli_compare (int argc, char **argv);
#endif
#if GV_HAVE_NET
/* gv-cli-worker.c: worker mode. */
int gv_cli_publish (int argc, char **argv);
#endif
#if GV_HAVE_SOUP
int gv_cli_serve (int argc, char **argv);
#endif

static void
usage (FILE *f)
{
  fprintf (f,
           "Usage: gvscan COMMAND [OPTIONS]\n\n"
           "Commands:\n"
           "  analyze VIDEO   find golden frames, cover corners and warped covers; write result.json\n"
           "  analyze -       the same from a YUV4MPEG2 stream on standard input, e.g.\n"
           "                  ffmpeg -i scan.mp4 -f yuv4mpegpipe - | gvscan analyze -\n"
           "  flow VIDEO      optical flow from frame N-1 to N (.flo and colour-wheel PNG)\n"
           "  bench VIDEO     time every stage over repeated runs\n"
           "  synth           render a synthetic scan with ground truth\n"
           "  validate VIDEO  run the CPU and CUDA backends and compare every output (exit 4: no GPU)\n"
#if GV_HAVE_STORE
           "  runs            list, show, delete or export stored runs\n"
           "  export RUN      write a stored run's PDF, JSON, worker JSON, CSV\n"
           "  compare A B     output-by-output differences between two stored runs\n"
#endif
#if GV_HAVE_NET
           "  publish RUN     upload a stored run to Supabase Storage (worker paths)\n"
#endif
#if GV_HAVE_NET
           "  analyze --video-url URL --scan-id ID [--upload] [--progress-job ID] [--webhook URL]\n"
           "                  worker mode: download, analyse, upload to Supabase (docs/worker.md)\n"
#endif
#if GV_HAVE_SOUP
           "  serve           the production worker's HTTP endpoint (POST videoUrl, scanId);\n"
           "                  SIGINT/SIGTERM stop it cleanly (--shutdown-grace S)\n"
#endif
           "  version         print the version\n\n"
           "Run 'gvscan COMMAND --help' for the options of a command.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* Numbers in JSON and tables use '.', whatever the user's locale. */
  setlocale (LC_NUMERIC, "C");
  /* FFmpeg's own log lines are not for users: our messages name the file and the cause.
   * GV_FFMPEG_LOG=1 shows them for debugging. */
  if (!getenv ("GV_FFMPEG_LOG"))
    av_log_set_level (AV_LOG_QUIET);
  if (argc < 2)
    {
      usage (stderr);
      return 2;
    }
  const char *cmd = argv[1];
  if (!strcmp (cmd, "analyze") || !strcmp (cmd, "analyse"))
    return gv_cli_analyze (argc - 1, argv + 1);
  if (!strcmp (cmd, "flow"))
    return gv_cli_flow (argc - 1, argv + 1);
  if (!strcmp (cmd, "bench"))
    return gv_cli_bench (argc - 1, argv + 1);
  if (!strcmp (cmd, "synth"))
    return gv_cli_synth (argc - 1, argv + 1);
  if (!strcmp (cmd, "validate"))
    return gv_cli_validate (argc - 1, argv + 1);
#if GV_HAVE_STORE
  if (!strcmp (cmd, "runs"))
    return gv_cli_runs (argc - 1, argv + 1);
  if (!strcmp (cmd, "export"))
    return gv_cli_export (argc - 1, argv + 1);
  if (!strcmp (cmd, "compare"))
    return gv_cli_compare (argc - 1, argv + 1);
#endif
#if GV_HAVE_NET
  if (!strcmp (cmd, "publish"))
    return gv_cli_publish (argc - 1, argv + 1);
#endif
#if GV_HAVE_SOUP
  if (!strcmp (cmd, "serve"))
    return gv_cli_serve (argc - 1, argv + 1);
#endif
  if (!strcmp (cmd, "version") || !strcmp (cmd, "--version"))
    {
      printf ("gvscan %s\n", GV_VERSION);
      return 0;
    }
  if (!strcmp (cmd, "help") || !strcmp (cmd, "--help") || !strcmp (cmd, "-h"))
    {
      usage (stdout);
      return 0;
    }
  fprintf (stderr, "gvscan: unknown command '%s'\n\n", cmd);
  usage (stderr);
  return 2;
}
