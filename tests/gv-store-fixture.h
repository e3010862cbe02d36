/* gv-store-fixture.h: synthetic runs for the store and report tests and the kill-test writer: a
 * result JSON shaped like gvscan analyze's (schema gradevault-inspector/result/1) plus, when
 * asked, the members the defect stage adds (the worker's flat members, defects, grade), deterministic from a seed. */
#pragma once

#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "gv-store.h"

typedef struct {
  int frames;
  int golden;
  gboolean defects;      /* regionDetails, defects, grade, defectMask */
  const char *backend;   /* "cpu" (default) or "cuda" */
  double motion_offset;  /* added to every motion (to make a run differ) */
} GvFixtureOpts;

static inline double
gv_fixture_rand (guint32 *s)
{
  /* xorshift32: the same numbers on every machine. */
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return (*s & 0xffffff) / (double) 0x1000000;
}

static inline JsonNode *
gv_fixture_result (guint32 seed, const GvFixtureOpts *o)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  guint32 s = seed * 2654435761u + 1;
  int gap = o->frames / (o->golden + 1);

#define KD(k, v) (json_builder_set_member_name (b, k), json_builder_add_double_value (b, v))
#define KI(k, v) (json_builder_set_member_name (b, k), json_builder_add_int_value (b, v))
#define KS(k, v) (json_builder_set_member_name (b, k), json_builder_add_string_value (b, v))
#define KB(k, v) (json_builder_set_member_name (b, k), json_builder_add_boolean_value (b, v))
  json_builder_begin_object (b);
  KS ("schema", "gradevault-inspector/result/1");
  json_builder_set_member_name (b, "tool");
  json_builder_begin_object (b);
  KS ("name", "gvscan");
  KS ("version", "0.1.0");
  json_builder_end_object (b);
  json_builder_set_member_name (b, "video");
  json_builder_begin_object (b);
  KS ("path", "/videos/scan-fixture.mp4");
  KI ("file_size", 1234567);
  KI ("width", 1920);
  KI ("height", 1080);
  KD ("fps", 30.0);
  KD ("duration", o->frames / 30.0);
  KS ("codec", "h264");
  KI ("frames_decoded", o->frames);
  KB ("partial", FALSE);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "parameters");
  json_builder_begin_object (b);
  KI ("analysis-size", 640);
  KD ("motion-gate", 1.0);
  KI ("max-golden", 5);
  KI ("min-gap", 15);
  KB ("cover-roi", TRUE);
  KI ("threads", 0);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "backend");
  json_builder_begin_object (b);
  KS ("name", o->backend ? o->backend : "cpu");
  KS ("device", o->backend && !strcmp (o->backend, "cuda") ? "NVIDIA test device" : "CPU, 2 threads");
  KS ("selection", "fixture");
  json_builder_end_object (b);
  json_builder_set_member_name (b, "summary");
  json_builder_begin_object (b);
  KI ("frames", o->frames);
  KI ("candidates", o->frames / 2);
  KI ("golden_frames", o->golden);
  KI ("covers_found", o->golden);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "flags");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "cover_partly_out_of_frame");
  json_builder_end_array (b);
  json_builder_set_member_name (b, "timings");
  json_builder_begin_object (b);
  KD ("frame_analysis", o->backend && !strcmp (o->backend, "cuda") ? 0.4 : 2.0);
  KD ("golden_frames", 0.05);
  KD ("cover_geometry", 0.2);
  KD ("total", o->backend && !strcmp (o->backend, "cuda") ? 0.65 : 2.25);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "golden_frames");
  json_builder_begin_array (b);
  for (int i = 0; i < o->golden; i++)
    {
      char name[64];
      json_builder_begin_object (b);
      KI ("index", (i + 1) * gap);
      KD ("pts", (i + 1) * gap / 30.0);
      KD ("sharpness", 1500 + 100 * i);
      KD ("motion", 0.1 + 0.01 * i + o->motion_offset);
      g_snprintf (name, sizeof name, "golden_frame_%02d_f%05d.png", i, (i + 1) * gap);
      KS ("image", name);
      json_builder_set_member_name (b, "cover");
      json_builder_begin_object (b);
      KB ("found", TRUE);
      json_builder_set_member_name (b, "corners");
      json_builder_begin_array (b);
      {
        static const double q[4][2] = { { 60, 20 }, { 250, 25 }, { 245, 170 }, { 55, 165 } };
        for (int k = 0; k < 4; k++)
          {
            json_builder_begin_array (b);
            json_builder_add_double_value (b, q[k][0] + 0.25 * i);
            json_builder_add_double_value (b, q[k][1]);
            json_builder_end_array (b);
          }
      }
      json_builder_end_array (b);
      KD ("confidence", 0.9);
      KB ("touches_border", FALSE);
      g_snprintf (name, sizeof name, "cover_%02d_f%05d.png", i, (i + 1) * gap);
      KS ("warped", name);
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "frames");
  json_builder_begin_array (b);
  for (int i = 0; i < o->frames; i++)
    {
      double m = 0.3 + 2.5 * (0.5 + 0.5 * sin (i * 0.15)) * gv_fixture_rand (&s) + o->motion_offset;
      json_builder_begin_object (b);
      KI ("index", i);
      KD ("pts", i / 30.0);
      KD ("sharpness", 800 + 900 * (0.5 + 0.5 * cos (i * 0.11)));
      KD ("sharpness_frame", 500 + 300 * gv_fixture_rand (&s));
      KD ("motion", m);
      KD ("motion_next", i + 1 < o->frames ? m : -1);
      KD ("motion_frame", m / 4);
      KD ("motion_gate", m);
      KB ("measured", TRUE);
      KB ("candidate", m <= 1.0);
      KB ("cover_found", TRUE);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  if (o->defects)
    {
      /* The shape gvscan analyze writes for stages 4 and 5 (app/cli/gv-cli-util.c). */
      static const char *regions[] = { "corner_tl", "corner_tr", "corner_bl", "corner_br", "spine", "surface" };
      static const double bounds[6][4] = { { 0, 0, 0.12, 0.12 }, { 0.88, 0, 1, 0.12 },
                                           { 0, 0.88, 0.12, 1 }, { 0.88, 0.88, 1, 1 },
                                           { 0, 0.12, 0.08, 0.88 }, { 0.12, 0.12, 0.88, 0.88 } };
      KD ("defectPercentage", 1.25);
      KD ("damageScore", 23.5);
      KS ("defectMask", "defect_mask.png");
      json_builder_set_member_name (b, "regionScores");
      json_builder_begin_object (b);
      for (guint r = 0; r < G_N_ELEMENTS (regions); r++)
        KD (regions[r], 15.0 * r);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "regionDetails");
      json_builder_begin_object (b);
      for (guint r = 0; r < G_N_ELEMENTS (regions); r++)
        {
          json_builder_set_member_name (b, regions[r]);
          json_builder_begin_object (b);
          KD ("defect_coverage", 1.5 * r);
          KD ("mean_intensity", 0.1 + 0.02 * r);
          KD ("max_intensity", 0.8);
          KD ("edge_density", 12.5);
          KD ("quality_score", 5.0 + r);
          KD ("score", 15.0 * r);
          json_builder_set_member_name (b, "bounds");
          json_builder_begin_array (b);
          for (int k = 0; k < 4; k++)
            json_builder_add_double_value (b, bounds[r][k]);
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
      json_builder_set_member_name (b, "defects");
      json_builder_begin_object (b);
      KI ("covers_used", o->golden);
      json_builder_set_member_name (b, "list");
      json_builder_begin_array (b);
      for (int k = 0; k < 2; k++)
        {
          json_builder_begin_object (b);
          KS ("type", k ? "crease" : "corner_wear");
          KS ("region", k ? "surface" : "corner_tl");
          json_builder_set_member_name (b, "bbox");
          json_builder_begin_array (b);
          json_builder_add_int_value (b, k ? 90 : 4);
          json_builder_add_int_value (b, k ? 150 : 6);
          json_builder_add_int_value (b, k ? 40 : 14);
          json_builder_add_int_value (b, k ? 8 : 12);
          json_builder_end_array (b);
          KI ("area_px", k ? 180 : 90);
          KD ("area_mm2", k ? 4.5 : 2.25);
          KD ("severity", k ? 0.6 : 0.3);
          KD ("confidence", 0.8);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "grade");
      json_builder_begin_object (b);
      KD ("grade", 8.5);
      KD ("estimate", 8.5);
      KB ("needs_review", FALSE);
      json_builder_set_member_name (b, "explanation");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      KS ("text", "start at 10.0");
      KD ("delta", 0);
      KD ("running", 10);
      json_builder_end_object (b);
      json_builder_begin_object (b);
      KS ("text", "crease on the surface (4.5 mm²)");
      KD ("delta", -1.2);
      KD ("running", 8.8);
      json_builder_end_object (b);
      json_builder_begin_object (b);
      KS ("text", "corner wear, top left");
      KD ("delta", -0.3);
      KD ("running", 8.5);
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
#undef KD
#undef KI
#undef KS
#undef KB
  return json_builder_get_root (b);
}

/* Bytes standing in for a PNG in store-only tests (the store never decodes them). */
static inline GBytes *
gv_fixture_blob (guint32 seed, gsize n)
{
  guint8 *p = g_malloc (n);
  guint32 s = seed * 7919u + 3;
  for (gsize i = 0; i < n; i++)
    p[i] = (guint8) (gv_fixture_rand (&s) * 256);
  return g_bytes_new_take (p, n);
}

/* Images for a fixture result: every PNG name it holds, filled by make(name, kind, ud). */
static inline GPtrArray *
gv_fixture_images (JsonNode *result, GBytes *(*make) (const char *name, const char *kind, void *ud),
                   void *ud)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) gv_run_image_free);
  JsonObject *root = json_node_get_object (result);
  JsonArray *g = json_object_get_array_member (root, "golden_frames");

  for (guint i = 0; i < json_array_get_length (g); i++)
    {
      JsonObject *gi = json_array_get_object_element (g, i);
      const char *img = json_object_get_string_member (gi, "image");
      const char *w = json_object_get_string_member (json_object_get_object_member (gi, "cover"), "warped");
      g_autoptr (GBytes) a = make (img, "image", ud), c = make (w, "warped", ud);
      g_ptr_array_add (out, gv_run_image_new (img, "image", (int) i, a));
      g_ptr_array_add (out, gv_run_image_new (w, "warped", (int) i, c));
    }
  if (json_object_has_member (root, "defectMask"))
    {
      g_autoptr (GBytes) m = make ("defect_mask.png", "defectMask", ud);
      g_ptr_array_add (out, gv_run_image_new ("defect_mask.png", "defectMask", -1, m));
    }
  return out;
}
