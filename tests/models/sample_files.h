/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Small model files written by the tests: good ones (tiny but complete
  models of every architecture the loaders read) and bad ones, one per
  class of problem, each with a piece of the message the loader must give.
  The same set seeds the fuzz corpora (make_seeds.c).
*/
#ifndef QUANTONE_TESTS_MODELS_SAMPLE_FILES_H
#define QUANTONE_TESTS_MODELS_SAMPLE_FILES_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  char name[64]; /**< file name, e.g. "bad_count.nam" */
  char *text;    /**< content (malloc'd) */
  size_t len;
  bool keras;         /**< a keras/RTNeural file (else .nam) */
  const char *expect; /**< NULL: must load; else a substring of the error */
} sample_file;

/** Build every sample; returns the count, *out malloc'd (free with samples_free). */
int samples_make(sample_file **out);
void samples_free(sample_file *s, int n);

#endif
