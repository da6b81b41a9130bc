/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The counting CHECK every C test uses: it keeps going after a failure, so
  one run lists every broken case (the first 30 are printed with file and
  line), and main() reports `checks` and `failures` at the end.
  Header-only: each test is one executable.
  Failures go to stderr; a test whose own progress lines go to stdout
  defines TEST_CHECK_STREAM as stdout before including this, so its FAIL
  lines stay in order with them (a pipe buffers the two streams apart).
*/
#ifndef QUANTONE_TESTS_TEST_CHECK_H
#define QUANTONE_TESTS_TEST_CHECK_H

#include <stdio.h>

#ifndef TEST_CHECK_STREAM
#define TEST_CHECK_STREAM stderr
#endif

#include "test_asan.h" /* ASAN_BUILD */

static int failures;
static int checks;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    ++checks;                                                                                      \
    if (!(cond)) {                                                                                 \
      if (++failures <= 30) {                                                                      \
        fprintf(TEST_CHECK_STREAM, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                 \
        fprintf(TEST_CHECK_STREAM, __VA_ARGS__);                                                   \
        fputc('\n', TEST_CHECK_STREAM);                                                            \
      }                                                                                            \
    }                                                                                              \
  } while (0)

#endif
