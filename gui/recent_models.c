/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The Recent list's choice of files (recent_models.h).
*/
#include "recent_models.h"

#include <string.h>
#include <strings.h>

int qg_is_model_file(const char *path)
{
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash + 1 : path, '.');
  return dot &&
         (!strcasecmp(dot, ".nam") || !strcasecmp(dot, ".json") || !strcasecmp(dot, ".aidax"));
}

int qg_recent_pick(const char *const *paths, const long *times, int n, const char *current,
                   const char **out, int max)
{
  int k = 0;
  /** Selection of the newest remaining each time: n is the desktop's
      recent list (hundreds at most) and max is small. */
  while (k < max) {
    int best = -1;
    for (int i = 0; i < n; ++i) {
      const char *p = paths[i];
      if (!p || !qg_is_model_file(p) || (current && !strcmp(p, current)))
        continue;
      int seen = 0;
      for (int j = 0; j < k && !seen; ++j)
        seen = !strcmp(out[j], p);
      if (!seen && (best < 0 || times[i] > times[best]))
        best = i;
    }
    if (best < 0)
      break;
    out[k++] = paths[best];
  }
  return k;
}
