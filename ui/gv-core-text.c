/* gv-core-text.c: the vision core's English (grade explanation lines, cap and review reasons,
 * defect kind and region names) in the app's language, through gv-i18n.h's templates and this
 * app's gettext domain; kinds and regions read as names ("corner wear in bottom-left corner"),
 * not identifiers. The result (and result.json) keep the English. */
#include <glib/gi18n.h>

#include "gv-i18n.h"
#include "gv-views.h"
#include "gv-store.h"

static const char *
tr (const char *msgid, void *data)
{
  return g_dgettext (GETTEXT_PACKAGE, msgid);
}

char *
gv_core_text (const char *english)
{
  size_t n;
  char *out;

  if (!english)
    return g_strdup ("");
  n = gv_i18n_translate_line_full (english, tr, NULL, 1, NULL, 0);
  out = g_malloc (n + 1);
  gv_i18n_translate_line_full (english, tr, NULL, 1, out, n + 1);
  return out;
}

/* Display names ("corner wear"), translated; the identifier when there is none. */
static const char *
name_text (const char *id, const char *label)
{
  return label ? g_dgettext (GETTEXT_PACKAGE, label) : id;
}

const char *
gv_core_kind_text (GvDefectKind kind)
{
  return name_text (gv_defect_kind_name (kind), gv_i18n_kind_label (gv_defect_kind_name (kind)));
}

const char *
gv_core_region_text (GvRegionId region)
{
  const GvRegionDef *rd = gv_region_def (region);
  return rd ? name_text (rd->name, gv_i18n_region_label (rd->name)) : "";
}

const char *
gv_run_status_text (int status)
{
  switch (status)
    {
    case GV_RUN_RUNNING: return C_ ("run status", "running");
    case GV_RUN_DONE: return C_ ("run status", "done");
    case GV_RUN_FAILED: return C_ ("run status", "failed");
    case GV_RUN_CANCELLED: return C_ ("run status", "cancelled");
    default: return "?";
    }
}
