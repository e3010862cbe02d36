/* gv-i18n.c: see gv-i18n.h. Parsing an English line back into its template and arguments is
 * exact because the same template strings made it (gv-grade.c uses the GV_GRADE_T_* macros);
 * tests/test-ui.c checks the round trip for every template. Numbers are read without strtod (a
 * '.' or ',' decimal, whatever LC_NUMERIC says) and written with the translation's printf. */
#include "gv-i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *id, *label;
} Name;

static const Name kinds[] = {
  { "crease", GV_N_ ("crease") },
  { "corner_wear", GV_N_ ("corner wear") },
  { "edge_chip", GV_N_ ("edge chip") },
  { "tear", GV_N_ ("tear") },
  { "stain", GV_N_ ("stain") },
  { "scratch", GV_N_ ("scratch") },
  { "spine_stress", GV_N_ ("spine stress") },
};

static const Name regions[] = {
  { "corner_tl", GV_N_ ("top-left corner") },
  { "corner_tr", GV_N_ ("top-right corner") },
  { "corner_bl", GV_N_ ("bottom-left corner") },
  { "corner_br", GV_N_ ("bottom-right corner") },
  { "spine", GV_N_ ("spine") },
  { "surface", GV_N_ ("surface") },
};

static const char *const templates[] = {
  GV_GRADE_T_START, GV_GRADE_T_DEDUCTION, GV_GRADE_T_FURTHER,
  GV_GRADE_T_FLOOR, GV_GRADE_T_CAP,       GV_GRADE_T_ROUNDED,
};

static const char *
lookup (const Name *t, size_t n, const char *id)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (t[i].id, id) == 0)
      return t[i].label;
  return NULL;
}

const char *
gv_i18n_kind_label (const char *id)
{
  return id ? lookup (kinds, sizeof kinds / sizeof kinds[0], id) : NULL;
}

const char *
gv_i18n_region_label (const char *id)
{
  return id ? lookup (regions, sizeof regions / sizeof regions[0], id) : NULL;
}

/* A conversion of the templates: '%', optional "N$", flags, width, ".prec", then s, d or f.
 * Returns its length (0 when p is not one), the conversion and the position (0: sequential). */
static size_t
conversion (const char *p, char *conv, int *pos)
{
  const char *q = p + 1;

  *pos = 0;
  if (*p != '%')
    return 0;
  if (*q >= '1' && *q <= '9')
    {
      const char *r = q;
      int v = 0;
      while (*r >= '0' && *r <= '9')
        v = v * 10 + (*r++ - '0');
      if (*r == '$')
        {
          *pos = v;
          q = r + 1;
        }
    }
  while (*q && strchr ("-+ 0#", *q))
    q++;
  while (*q >= '0' && *q <= '9')
    q++;
  if (*q == '.')
    {
      q++;
      while (*q >= '0' && *q <= '9')
        q++;
    }
  if (*q != 's' && *q != 'd' && *q != 'f')
    return 0;
  *conv = *q;
  return (size_t) (q - p) + 1;
}

/* Matches text against tpl from here on, filling line's arguments. Numbers: an optional '-',
 * digits, and for f a '.' and digits; strings: the shortest run (at least one byte) after which
 * the rest matches. */
static int
match (const char *tpl, const char *text, GvI18nLine *line)
{
  while (*tpl)
    {
      char conv;
      int pos;
      size_t cl = conversion (tpl, &conv, &pos);

      if (tpl[0] == '%' && tpl[1] == '%')
        {
          if (*text != '%')
            return 0;
          tpl += 2, text++;
          continue;
        }
      if (!cl)
        {
          if (*tpl != *text)
            return 0;
          tpl++, text++;
          continue;
        }
      if (line->n_args >= GV_I18N_MAX_ARGS)
        return 0;
      int k = line->n_args++;
      line->type[k] = conv;
      if (conv == 's')
        {
          size_t len = strlen (text);
          for (size_t l = 1; l <= len && l < sizeof line->text[k]; l++)
            {
              memcpy (line->text[k], text, l);
              line->text[k][l] = '\0';
              if (match (tpl + cl, text + l, line))
                return 1;
              line->n_args = k + 1;
            }
          line->n_args = k;
          return 0;
        }
      {
        const char *e = text;
        if (*e == '-')
          e++;
        if (!(*e >= '0' && *e <= '9'))
          return 0;
        while (*e >= '0' && *e <= '9')
          e++;
        /* ',' too: a core that ran under a locale with a decimal comma wrote one. */
        if (conv == 'f' && (*e == '.' || *e == ',') && e[1] >= '0' && e[1] <= '9')
          {
            e++;
            while (*e >= '0' && *e <= '9')
              e++;
          }
        if ((size_t) (e - text) >= sizeof line->text[k])
          return 0;
        memcpy (line->text[k], text, (size_t) (e - text));
        line->text[k][e - text] = '\0';
        text = e;
        tpl += cl;
      }
    }
  return *text == '\0';
}

int
gv_i18n_parse_line (const char *english, GvI18nLine *line)
{
  memset (line, 0, sizeof *line);
  if (!english)
    return 0;
  for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
    {
      memset (line, 0, sizeof *line);
      if (match (templates[i], english, line))
        {
          line->template_ = templates[i];
          return 1;
        }
    }
  memset (line, 0, sizeof *line);
  return 0;
}

/* "12.34" as written in the C locale, without strtod (which follows LC_NUMERIC). */
static double
c_number (const char *s)
{
  double v = 0, scale = 1;
  int neg = *s == '-';

  if (neg)
    s++;
  while (*s >= '0' && *s <= '9')
    v = v * 10 + (*s++ - '0');
  if (*s == '.' || *s == ',')
    for (s++; *s >= '0' && *s <= '9'; s++)
      {
        scale /= 10;
        v += (*s - '0') * scale;
      }
  return neg ? -v : v;
}

/* Appends to out (size n, used *len so far), counting what does not fit. */
static void
append (char *out, size_t n, size_t *len, const char *s)
{
  size_t l = strlen (s);

  if (*len < n)
    {
      size_t room = n - *len - 1;
      memcpy (out + *len, s, l < room ? l : room);
      out[*len + (l < room ? l : room)] = '\0';
    }
  *len += l;
}

/* A kind or region identifier becomes its translated display name; without a translation (tr
 * hands back the msgid itself, as gettext does) it stays the identifier result.json uses, so the
 * English text is unchanged. Any other string is translated as it is. */
static const char *
translate_name (const char *s, GvTranslateFunc tr, void *ud, int labels)
{
  const char *label = gv_i18n_kind_label (s), *t;

  if (!label)
    label = gv_i18n_region_label (s);
  if (!label)
    return tr (s, ud);
  t = tr (label, ud);
  return t == label && !labels ? s : t;
}

/* The translated template with the arguments; 0 when it does not fit the arguments (then the
 * caller falls back), else 1. */
static int
format_line (const GvI18nLine *line, const char *tpl, GvTranslateFunc tr, void *ud, int labels,
             char *out, size_t n, size_t *len)
{
  int next = 0;

  while (*tpl)
    {
      char conv, spec[16], buf[128];
      int pos;
      size_t cl = conversion (tpl, &conv, &pos);

      if (tpl[0] == '%' && tpl[1] == '%')
        {
          append (out, n, len, "%");
          tpl += 2;
          continue;
        }
      if (!cl)
        {
          const char *e = strchr (tpl, '%');
          size_t l = e ? (size_t) (e - tpl) : strlen (tpl);
          char chunk[256];
          if (l == 0)
            return 0; /* a lone '%' */
          if (l >= sizeof chunk)
            l = sizeof chunk - 1;
          memcpy (chunk, tpl, l);
          chunk[l] = '\0';
          append (out, n, len, chunk);
          tpl += l;
          continue;
        }
      int k = pos > 0 ? pos - 1 : next++;
      if (k >= line->n_args || line->type[k] != conv || cl >= sizeof spec)
        return 0;
      /* The spec without its "N$". */
      {
        const char *body = tpl + 1;
        if (pos > 0)
          body = strchr (tpl, '$') + 1;
        snprintf (spec, sizeof spec, "%%%.*s", (int) (tpl + cl - body), body);
      }
      if (conv == 's')
        snprintf (buf, sizeof buf, spec, translate_name (line->text[k], tr, ud, labels));
      else if (conv == 'd')
        snprintf (buf, sizeof buf, spec, atoi (line->text[k]));
      else
        snprintf (buf, sizeof buf, spec, c_number (line->text[k]));
      append (out, n, len, buf);
      tpl += cl;
    }
  return 1;
}

size_t
gv_i18n_translate_line (const char *english, GvTranslateFunc tr, void *ud, char *out, size_t n)
{
  return gv_i18n_translate_line_full (english, tr, ud, 0, out, n);
}

size_t
gv_i18n_translate_line_full (const char *english, GvTranslateFunc tr, void *ud, int labels,
                             char *out, size_t n)
{
  GvI18nLine line;
  size_t len = 0;
  const char *sep;

  if (n)
    out[0] = '\0';
  if (!english)
    return 0;
  /* Several review reasons: each on its own. */
  if ((sep = strstr (english, GV_GRADE_REVIEW_SEP)))
    {
      char first[256];
      size_t l = (size_t) (sep - english);
      if (l < sizeof first)
        {
          memcpy (first, english, l);
          first[l] = '\0';
          len = gv_i18n_translate_line_full (first, tr, ud, labels, out, n);
          append (out, n, &len, GV_GRADE_REVIEW_SEP);
          {
            size_t rest_n = len < n ? n - len : 0;
            len += gv_i18n_translate_line_full (sep + strlen (GV_GRADE_REVIEW_SEP), tr, ud, labels,
                                                rest_n ? out + len : NULL, rest_n);
          }
          return len;
        }
    }
  if (gv_i18n_parse_line (english, &line))
    {
      if (format_line (&line, tr (line.template_, ud), tr, ud, labels, out, n, &len))
        return len;
      /* A translation whose conversions do not fit: the English template. */
      len = 0;
      if (n)
        out[0] = '\0';
      format_line (&line, line.template_, tr, ud, labels, out, n, &len);
      return len;
    }
  append (out, n, &len, translate_name (english, tr, ud, labels));
  return len;
}
