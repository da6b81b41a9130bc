/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The measured loudness of a model file without one (models/loudness.h),
  kept for the life of the process, keyed by the file's path and content.

  Measuring renders four seconds of the float model (a fifth of what a
  fresh instance of the bundle's default model cost), and every instance
  of a session, every restore and every reload of a file measured it
  again, though the result depends only on the file. The value is not
  written into the file: NAM's `loudness` is measured on NAM's own
  standard input, and ours would misstate it.

  Called from instantiate, restore and the worker (never from run()): the
  mutex is held only to look up or store an entry, never while a model
  renders, so two instances that load a new file at once may both measure
  it (the same value) rather than one wait for the other.
*/
#include "qt_plugin.h"

#include "loudness.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Files remembered; past this the oldest entry gives way. */
#define KEPT_FILES 16

typedef struct {
  char *path; /**< NULL: unused slot */
  uint64_t size, hash;
  bool measured; /**< false: the model cannot be measured (silent) */
  double loudness_db;
} kept_file;

static kept_file kept[KEPT_FILES];
static int next_evicted;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

/** 64-bit FNV-1a of the file's bytes and its size: what "the same file"
    means here (a file rewritten in place under the same path is measured
    again). False when it cannot be read. */
static bool file_identity(const char *path, uint64_t *size, uint64_t *hash)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  uint64_t h = 1469598103934665603ull, n = 0;
  unsigned char buf[65536];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
    for (size_t i = 0; i < got; ++i)
      h = (h ^ buf[i]) * 1099511628211ull;
    n += got;
  }
  bool ok = !ferror(f);
  fclose(f);
  *size = n;
  *hash = h;
  return ok;
}

static const kept_file *find(const char *path, uint64_t size, uint64_t hash)
{
  for (int i = 0; i < KEPT_FILES; ++i)
    if (kept[i].path && kept[i].size == size && kept[i].hash == hash && !strcmp(kept[i].path, path))
      return &kept[i];
  return NULL;
}

bool qt_measured_loudness_db(const char *path, qm_model *ref, double *loudness_db)
{
  uint64_t size = 0, hash = 0;
  bool known = file_identity(path, &size, &hash);
  if (known) {
    pthread_mutex_lock(&kept_lock);
    const kept_file *k = find(path, size, hash);
    bool hit = k != NULL, measured = k && k->measured;
    if (measured)
      *loudness_db = k->loudness_db;
    pthread_mutex_unlock(&kept_lock);
    if (hit)
      return measured;
  }
  char e[QT_MSG_MAX];
  double db = 0.0;
  bool measured = qm_measure_loudness_db(ref, &db, e, sizeof e);
  if (measured)
    *loudness_db = db;
  char *copy = known ? strdup(path) : NULL;
  if (!copy)
    return measured;
  pthread_mutex_lock(&kept_lock);
  if (find(path, size, hash)) { /* another instance measured it meanwhile */
    free(copy);
  } else {
    kept_file *k = &kept[next_evicted];
    next_evicted = (next_evicted + 1) % KEPT_FILES;
    free(k->path);
    *k = (kept_file){copy, size, hash, measured, db};
  }
  pthread_mutex_unlock(&kept_lock);
  return measured;
}

/** quantone.so may be unloaded while the process goes on (a host that
    removes its last instance): the entries go with it. */
__attribute__((destructor)) static void forget_kept_files(void)
{
  for (int i = 0; i < KEPT_FILES; ++i) {
    free(kept[i].path);
    kept[i].path = NULL;
  }
}
