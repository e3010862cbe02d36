/* gv-i18n.h: the vision core's user-visible English (grade explanation lines, cap and review
 * reasons, defect kind and region names), marked for translation without GLib or libintl.
 *
 * The core writes English only (result.json stays English: docs/result-schema.md). GV_N_ marks a
 * literal for xgettext (po/meson.build passes --keyword=GV_N_) and expands to the literal, so the
 * core is unchanged. Readers (the app, the PDF report) translate with gv_i18n_translate_line: it
 * recognises which template an English line was made from, takes its numbers and names back out
 * (the structured data of the line: template + arguments), and formats the translated template
 * with them. This works for a live result and for one read back from JSON alike. */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GV_N_(s) s

/* Grade explanation lines (gv-grade.c formats them with snprintf). */
#define GV_GRADE_T_START GV_N_ ("start: 10.00 points")
/* TRANSLATORS: defect kind, region, severity, base deduction, severity, region weight, total */
#define GV_GRADE_T_DEDUCTION GV_N_ ("%s in %s, severity %.2f: %.2f x (0.5 + %.2f) x %.1f = -%.2f")
#define GV_GRADE_T_FURTHER GV_N_ ("(%d further deductions counted above in the running total)")
#define GV_GRADE_T_FLOOR GV_N_ ("floor of the scale: 0.50")
#define GV_GRADE_T_CAP GV_N_ ("cap %.1f: %s")
#define GV_GRADE_T_ROUNDED GV_N_ ("rounded down to the CGC scale: %.1f")

/* Cap reasons (GvGrade.cap_reason and the cap line). */
#define GV_GRADE_CAP_NONE "none"
#define GV_GRADE_CAP_CREASE GV_N_ ("a crease caps the grade at 7.0 (6.0 when severity >= 0.5)")
#define GV_GRADE_CAP_TEAR GV_N_ ("a tear caps the grade at 6.0 (4.5 when severity >= 0.5)")
#define GV_GRADE_CAP_STAIN GV_N_ ("a stain caps the grade at 8.0")
#define GV_GRADE_CAP_CORNER GV_N_ ("a worn corner (severity >= 0.5) caps the grade at 8.5")
#define GV_GRADE_CAP_ANY GV_N_ ("any defect caps the grade at 9.6")
#define GV_GRADE_CAP_NEVER_10 GV_N_ ("10.0 is never given from a video: cap 9.9")

/* Needs-review reasons, joined with GV_GRADE_REVIEW_SEP in GvGrade.review_reason. */
#define GV_GRADE_REVIEW_SEP "; "
#define GV_GRADE_REVIEW_NO_COVER GV_N_ ("no golden frame shows the cover")
#define GV_GRADE_REVIEW_TOO_FEW GV_N_ ("fewer than 3 golden frames show the cover")
#define GV_GRADE_REVIEW_PARTLY_OUT GV_N_ ("the cover is partly out of the frame")
#define GV_GRADE_REVIEW_GLARE GV_N_ ("glare covers part of a region in most frames")
#define GV_GRADE_REVIEW_ALIGN GV_N_ ("the golden covers do not align within 1 px")
/* (no GV_GRADE_REVIEW_SEP inside a reason: the translation splits reasons there) */
#define GV_GRADE_REVIEW_OUTLINE                                                                    \
  GV_N_ ("golden covers were left out because their outline disagrees with the others' (fewer "  \
         "than 3 remain)")

/* msgid -> translation; returns msgid itself when there is none. */
typedef const char *(*GvTranslateFunc) (const char *msgid, void *user_data);

/* The English msgid ("corner wear", "top-left corner") of a defect kind or region identifier as
 * result.json writes it ("corner_wear", "corner_tl"); NULL when unknown. Translated by the readers;
 * without a translation they show the identifier, as before. */
const char *gv_i18n_kind_label (const char *id);
const char *gv_i18n_region_label (const char *id);

/* Which template an explanation line was made from and its arguments as written. */
#define GV_I18N_MAX_ARGS 8
typedef struct {
  const char *template_; /* one of GV_GRADE_T_*, or NULL when the line matches none */
  int n_args;
  char type[GV_I18N_MAX_ARGS]; /* 's', 'd' or 'f' */
  char text[GV_I18N_MAX_ARGS][96];
} GvI18nLine;

/* 1 when english was made from one of the templates (line filled in), else 0. */
int gv_i18n_parse_line (const char *english, GvI18nLine *line);

/* A grade line, cap reason, review reason (several joined by "; ") or a kind or region name, in
 * translation: the translated template formatted with the line's arguments (names translated
 * too; a name without a translation stays the identifier), or tr (english) when no template
 * matches. Writes at most n bytes with the terminating NUL;
 * returns the length the whole text needs, like snprintf. */
size_t gv_i18n_translate_line (const char *english, GvTranslateFunc tr, void *user_data, char *out,
                               size_t n);
/* The same; labels != 0: an untranslated name becomes its English display name ("corner wear")
 * instead of staying the identifier (the app's views; the PDF keeps the identifiers). */
size_t gv_i18n_translate_line_full (const char *english, GvTranslateFunc tr, void *user_data,
                                    int labels, char *out, size_t n);

#ifdef __cplusplus
}
#endif
