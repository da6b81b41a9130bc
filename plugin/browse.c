/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Model browsing (issue 18, item 3), in the worker: the next or previous
  model file in the folder of the one playing. The folder's .nam, .json
  and .aidax files are taken in byte order of their names (the order a
  file manager sorting by name shows, for ASCII names), wrapping around;
  a file that does not load is skipped and named in the message, and the
  next one is tried, so one broken capture never stops the browsing.
*/
#include "qt_plugin.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_model_file(const char *name)
{
  const char *dot = strrchr(name, '.');
  return dot && dot != name &&
         (!strcasecmp(dot, ".nam") || !strcasecmp(dot, ".json") || !strcasecmp(dot, ".aidax"));
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/** The folder's model file names, sorted; NULL (and *n = 0) when it cannot be read. */
static char **list_models(const char *dir, int *n)
{
  *n = 0;
  DIR *d = opendir(dir);
  if (!d)
    return NULL;
  char **names = NULL;
  int cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !is_model_file(e->d_name))
      continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 32;
      char **grown = realloc(names, (size_t)cap * sizeof *names);
      if (!grown)
        break;
      names = grown;
    }
    if (!(names[*n] = strdup(e->d_name)))
      break;
    ++*n;
  }
  closedir(d);
  if (*n > 1)
    qsort(names, (size_t)*n, sizeof *names, by_name);
  return names;
}

qt_slot *qt_slot_load_step(qt_plugin *self, const char *path, int step, const qm_setting *set,
                           float slim, bool analyze, qt_progress *prog, char *err, size_t errlen)
{
  err[0] = '\0';
  const char *slash = strrchr(path, '/');
  char dir[QT_PATH_MAX];
  const char *base = slash ? slash + 1 : path;
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
  if (slash == path)
    snprintf(dir, sizeof dir, "/");
  int n = 0;
  char **names = list_models(dir, &n);
  /** Where the playing file sits in the order (or would, if it was
      renamed or removed since): the search starts next to it. */
  int at = 0;
  while (at < n && strcmp(names[at], base) < 0)
    ++at;
  const bool present = at < n && !strcmp(names[at], base);
  qt_slot *m = NULL;
  char skipped[QT_MSG_MAX] = "", e[QT_MSG_MAX];
  int tried = 0;
  for (int k = 1; k <= n && !m; ++k) {
    /* forward from at (+1 if the file is there); backward from at - 1 */
    int i = step > 0 ? at + k - (present ? 0 : 1) : at - k;
    i = ((i % n) + n) % n;
    if (present && i == at)
      break; /* round the folder and back: nothing else loads */
    char file[QT_PATH_MAX + 256];
    snprintf(file, sizeof file, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", names[i]);
    ++tried;
    m = qt_slot_load(self, file, set, slim, analyze, prog, e, sizeof e);
    if (!m) {
      size_t used = strlen(skipped);
      snprintf(skipped + used, sizeof skipped - used, "%sskipped %.100s (%.200s)", used ? "; " : "",
               names[i], e);
    }
  }
  for (int i = 0; i < n; ++i)
    free(names[i]);
  free(names);
  if (!m) {
    if (skipped[0])
      snprintf(err, errlen, "no other model in %s loads: %s", dir, skipped);
    else
      snprintf(err, errlen, "no other model file (.nam, .json, .aidax) in %s", dir);
    return NULL;
  }
  /** The loaded file's own warning (if any) goes first; then what was
      skipped on the way. */
  if (skipped[0])
    snprintf(err, errlen, "%s", skipped);
  else if (e[0] && tried == 1)
    snprintf(err, errlen, "%s", e);
  return m;
}
