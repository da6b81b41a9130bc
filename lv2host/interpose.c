/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Test-only part of the lilv host (see host.h): the allocation / lock
  counters behind qh_allocs_in_run and qh_locks_in_run. malloc, calloc,
  realloc, free, the aligned allocators and pthread_mutex_lock are
  interposed in the executable that links this file (exported with
  -rdynamic, so the dlopen'ed plugin and the libraries it uses resolve to
  them) and count while host.c's thread-local qh_in_run is set, i.e. while
  run() or work_response() is on the stack.

  It is a file of its own, linked whole into the plugin tests only
  (qh_interpose_dep), because replacing the process's allocator is no
  business of an installed program such as quantone-render. Under
  AddressSanitizer its own interceptors own these symbols, so the counters
  are off there (qh_interposed false).
*/
#include "host.h"
#include "host_run.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

long qh_allocs_in_run, qh_locks_in_run;

#if defined(__SANITIZE_ADDRESS__)
bool qh_interposed = false;
#else
bool qh_interposed = true;
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static void count_alloc(void)
{
  if (qh_in_run)
    __atomic_fetch_add(&qh_allocs_in_run, 1, __ATOMIC_RELAXED);
}

void *malloc(size_t n)
{
  count_alloc();
  return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
  count_alloc();
  return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
  count_alloc();
  return __libc_realloc(p, n);
}
void free(void *p)
{
  if (p)
    count_alloc();
  __libc_free(p);
}
void *aligned_alloc(size_t a, size_t n)
{
  count_alloc();
  return __libc_memalign(a, n);
}
void *memalign(size_t a, size_t n)
{
  count_alloc();
  return __libc_memalign(a, n);
}
int posix_memalign(void **p, size_t a, size_t n)
{
  count_alloc();
  *p = __libc_memalign(a, n);
  return *p ? 0 : 12;
}

static int (*real_lock)(pthread_mutex_t *);

static void resolve_real_lock(void)
{
  real_lock = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_lock");
}

/** Resolved before main() rather than on first use: dlsym may allocate,
    and a first lock taken inside run() would count that allocation. */
__attribute__((constructor)) static void interpose_init(void)
{
  if (!real_lock)
    resolve_real_lock();
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
  if (qh_in_run)
    __atomic_fetch_add(&qh_locks_in_run, 1, __ATOMIC_RELAXED);
  if (!real_lock) /* a lock taken by a library's initialiser before ours ran */
    resolve_real_lock();
  return real_lock(m);
}
#endif
