/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  ASAN_BUILD: 1 when the test is built with AddressSanitizer (gcc or
  clang), else 0, so that a test can size its work down there (CI runs
  every test again under ASan+UBSan, 5-10x slower).
*/
#ifndef QUANTONE_TESTS_TEST_ASAN_H
#define QUANTONE_TESTS_TEST_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif
#ifndef ASAN_BUILD
#define ASAN_BUILD 0
#endif

#endif
