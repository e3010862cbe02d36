/* test-params.c: the parameter table, defaults, parsing and validation. */
#include <glib.h>
#include <string.h>

#include "gv-error.h"
#include "gv-params.h"

static void
test_defaults (void)
{
  GvParams p;

  gv_params_init_default (&p);
  /* The production worker's values (seed-system.md). */
  g_assert_cmpfloat (p.flow.pyr_scale, ==, 0.5);
  g_assert_cmpint (p.flow.levels, ==, 3);
  g_assert_cmpint (p.flow.winsize, ==, 15);
  g_assert_cmpint (p.flow.iterations, ==, 3);
  g_assert_cmpint (p.flow.poly_n, ==, 5);
  g_assert_cmpfloat (p.flow.poly_sigma, ==, 1.2);
  g_assert_cmpfloat (p.motion_gate, ==, 1.0);
  g_assert_cmpint (p.max_golden, ==, 5);
  g_assert_cmpint (p.min_gap, ==, 15);
  g_assert_cmpint (p.cover.out_width, ==, 1060);
  g_assert_cmpint (p.cover.out_height, ==, 1640);
  g_assert_cmpint (gv_params_validate (&p), ==, GV_OK);
}

static void
test_table_roundtrip (void)
{
  int n;
  const GvParamSpec *t = gv_params_table (&n);
  GvParams p;

  gv_params_init_default (&p);
  g_assert_cmpint (n, >, 10);
  for (int i = 0; i < n; i++)
    {
      double d = gv_params_get (&p, &t[i]);
      g_assert_true (d >= t[i].min && d <= t[i].max);
      g_assert_nonnull (gv_params_find (t[i].name));
      g_assert_true (strlen (t[i].help) > 10);
      for (int j = 0; j < i; j++)
        g_assert_cmpstr (t[i].name, !=, t[j].name);
    }
}

static void
test_set (void)
{
  GvParams p;

  gv_params_init_default (&p);
  g_assert_cmpint (gv_params_set (&p, "motion-gate", "0.75"), ==, GV_OK);
  g_assert_cmpfloat (p.motion_gate, ==, 0.75);
  g_assert_cmpint (gv_params_set (&p, "levels", "4"), ==, GV_OK);
  g_assert_cmpint (p.flow.levels, ==, 4);
  g_assert_cmpint (gv_params_set (&p, "cover-roi", "false"), ==, GV_OK);
  g_assert_cmpint (p.cover_roi, ==, 0);
  g_assert_cmpint (gv_params_set (&p, "levels", "2.5"), ==, GV_EINVAL);
  g_assert_nonnull (strstr (gv_error_message (), "levels"));
  g_assert_cmpint (gv_params_set (&p, "levels", "99"), ==, GV_EINVAL);
  g_assert_cmpint (gv_params_set (&p, "winsize", "abc"), ==, GV_EINVAL);
  g_assert_cmpint (gv_params_set (&p, "no-such", "1"), ==, GV_EINVAL);
  g_assert_nonnull (strstr (gv_error_message (), "no-such"));
  g_assert_cmpint (p.flow.levels, ==, 4); /* failed sets change nothing */
}

static void
test_validate (void)
{
  GvParams p;

  gv_params_init_default (&p);
  p.flow.poly_n = 6;
  g_assert_cmpint (gv_params_validate (&p), ==, GV_EINVAL);
  gv_params_init_default (&p);
  p.flow.winsize = 14;
  g_assert_cmpint (gv_params_validate (&p), ==, GV_EINVAL);
  gv_params_init_default (&p);
  p.analysis_size = 10;
  g_assert_cmpint (gv_params_validate (&p), ==, GV_EINVAL);
  p.analysis_size = 0;
  g_assert_cmpint (gv_params_validate (&p), ==, GV_OK);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gv/params/defaults", test_defaults);
  g_test_add_func ("/gv/params/table", test_table_roundtrip);
  g_test_add_func ("/gv/params/set", test_set);
  g_test_add_func ("/gv/params/validate", test_validate);
  return g_test_run ();
}
