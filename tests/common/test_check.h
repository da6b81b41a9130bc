/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The counting CHECK every C test uses: it keeps going after a failure, so
  one run lists every broken case (the first 30 are printed with file and
  line), and main() reports `checks` and `failures` at the end.
  Header-only: each test is one executable.
*/
#ifndef QUANTONE_TESTS_TEST_CHECK_H
#define QUANTONE_TESTS_TEST_CHECK_H

#include <stdio.h>

static int failures;
static int checks;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    ++checks;                                                                                      \
    if (!(cond)) {                                                                                 \
      if (++failures <= 30) {                                                                      \
        fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                            \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
      }                                                                                            \
    }                                                                                              \
  } while (0)

#endif
