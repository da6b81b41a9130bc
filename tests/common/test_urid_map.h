/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  A URID map for headless protocol tests: every URI gets the next number,
  the same URI the same number. Header-only, one table per test
  executable; test_urid_map_free() at the end keeps LeakSanitizer quiet.
*/
#ifndef QUANTONE_TESTS_TEST_URID_MAP_H
#define QUANTONE_TESTS_TEST_URID_MAP_H

#include <lv2/urid/urid.h>

#include <stdlib.h>
#include <string.h>

static char *test_uris[512];
static int test_n_uris;

static LV2_URID test_urid_map(LV2_URID_Map_Handle h, const char *uri)
{
  (void)h;
  for (int i = 0; i < test_n_uris; ++i)
    if (!strcmp(test_uris[i], uri))
      return (LV2_URID)i + 1;
  if (test_n_uris == (int)(sizeof test_uris / sizeof *test_uris))
    return 0;
  test_uris[test_n_uris] = strdup(uri);
  return (LV2_URID)++test_n_uris;
}

static void test_urid_map_free(void)
{
  for (int i = 0; i < test_n_uris; ++i)
    free(test_uris[i]);
  test_n_uris = 0;
}

#endif
