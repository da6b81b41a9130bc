/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/* Shared pieces of the GUI test hosts (see ui_test_host.h). */
#include "ui_test_host.h"

#include "quantone_ports.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QG_TEST_MAX_URIS 512

static char *uris[QG_TEST_MAX_URIS];
static int n_uris;
static LV2_URID first_id = 1;

void qg_test_map_first_id(LV2_URID first) { first_id = first; }

LV2_URID qg_test_map(LV2_URID_Map_Handle h, const char *uri)
{
  (void)h;
  for (int i = 0; i < n_uris; ++i)
    if (!strcmp(uris[i], uri))
      return first_id + (LV2_URID)i;
  if (n_uris == QG_TEST_MAX_URIS)
    return 0;
  uris[n_uris] = strdup(uri);
  return first_id + (LV2_URID)n_uris++;
}

void qg_test_map_free(void)
{
  for (int i = 0; i < n_uris; ++i)
    free(uris[i]);
  n_uris = 0;
}

LV2UI_Handle qg_test_instantiate_kx(const LV2UI_Descriptor *desc, LV2UI_Write_Function write,
                                    const qg_test_kx_host *kh, qg_test_kx_widget **widget)
{
  static LV2_URID_Map map = {NULL, qg_test_map};
  LV2_Feature f_map = {LV2_URID__map, &map};
  LV2_Feature f_kx = {QG_TEST_KX_HOST_URI, (void *)kh};
  const LV2_Feature *features[] = {&f_map, &f_kx, NULL};
  LV2UI_Widget w = NULL;
  LV2UI_Handle ui =
      desc->instantiate(desc, QUANTONE_URI, "/nonexistent/", write, NULL, &w, features);
  *widget = w;
  return ui;
}

int qg_test_count_children(void)
{
  DIR *d = opendir("/proc");
  struct dirent *e;
  int n = 0;
  char path[300], line[256];
  while (d && (e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    while (fgets(line, sizeof line, f))
      if (!strncmp(line, "PPid:", 5) && atoi(line + 5) == getpid())
        ++n;
    fclose(f);
  }
  if (d)
    closedir(d);
  return n;
}

double qg_test_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void qg_test_sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}
