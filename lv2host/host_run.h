/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  What host.c shares with the test-only interposition (interpose.c) and
  nobody else: the flag that says the calling thread is inside the plugin's
  audio-thread code, so the interposed allocator and mutex know when to
  count.
*/
#ifndef QUANTONE_LV2HOST_HOST_RUN_H
#define QUANTONE_LV2HOST_HOST_RUN_H

/** Non-zero while run() or work_response() is on this thread's stack. */
extern _Thread_local int qh_in_run;

#endif
