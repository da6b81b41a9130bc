/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The Recent list's choice (gui/recent_models.c), headless: model files
  only (.nam, .json, .aidax in any case), newest first, without the one
  playing, repeats or entries that are no local file, at most the limit.
*/
#include "recent_models.h"

#include <stdio.h>
#include <string.h>

static int failures;

static void check(int ok, const char *what)
{
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (!ok)
    ++failures;
}

int main(void)
{
  const char *paths[] = {"/m/old.nam",   "/m/photo.png", "/m/new.json", NULL,
                         "/m/mid.AIDAX", "/m/now.nam",   "/m/new.json", "/m/dir.nam/readme"};
  const long times[] = {100, 900, 500, 800, 300, 700, 400, 600};
  const char *out[QG_RECENT_MAX];
  int n = qg_recent_pick(paths, times, 8, "/m/now.nam", out, QG_RECENT_MAX);
  check(n == 3, "three model files besides the playing one");
  check(n == 3 && !strcmp(out[0], "/m/new.json") && !strcmp(out[1], "/m/mid.AIDAX") &&
            !strcmp(out[2], "/m/old.nam"),
        "newest first: new.json (once), mid.AIDAX, old.nam");
  n = qg_recent_pick(paths, times, 8, NULL, out, 2);
  check(n == 2 && !strcmp(out[0], "/m/now.nam") && !strcmp(out[1], "/m/new.json"),
        "at most the limit; nothing playing: now.nam first");
  check(qg_is_model_file("/a/b.NAM") && qg_is_model_file("x.json") &&
            !qg_is_model_file("/a.nam/b") && !qg_is_model_file("/a/nam"),
        "model file names by their extension only");
  printf("%s\n", failures ? "FAILED" : "all passed");
  return failures ? 1 : 0;
}
