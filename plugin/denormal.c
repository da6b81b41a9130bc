/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Denormals cost up to 100x per operation on x86 and appear in every decaying
  recurrence (LSTM cell state, filter tails after the input stops). run()
  sets flush-to-zero and denormals-are-zero for its own duration and puts
  the host's mode back afterwards, so the host thread is left as it was.
*/
#include "qt_plugin.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>

void qt_denormals_enter(qt_fpenv *e)
{
  unsigned csr = _mm_getcsr();
  e->saved = csr;
  _mm_setcsr(csr | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
}

void qt_denormals_leave(const qt_fpenv *e) { _mm_setcsr((unsigned)e->saved); }

#elif defined(__aarch64__)

void qt_denormals_enter(qt_fpenv *e)
{
  uint64_t fpcr;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
  e->saved = fpcr;
  fpcr |= (uint64_t)1 << 24; /* FZ: flush denormal inputs and results to zero */
  __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
}

void qt_denormals_leave(const qt_fpenv *e)
{
  uint64_t fpcr = e->saved;
  __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
}

#else

void qt_denormals_enter(qt_fpenv *e) { e->saved = 0; }
void qt_denormals_leave(const qt_fpenv *e) { (void)e; }

#endif
