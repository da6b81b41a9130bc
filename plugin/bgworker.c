/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  A worker of our own, for hosts that give the plugin no LV2 worker (a
  plain lilv host with only URID map, lv2apply, and the LADSPA entry point,
  which wraps the LV2 core and passes no features at all).

  Without it, jobs would run synchronously inside run(): loading a file
  and quantizing a variant take tens to hundreds of milliseconds, which is
  an overrun in any real-time host, while the plugin claims
  lv2:hardRTCapable. So each such instance owns a pthread that plays the
  host's worker: run() posts jobs to a lock-free single-producer /
  single-consumer ring and wakes the thread with sem_post (no lock, no
  allocation); the thread runs qt_work() and answers through a second
  ring, which the next run() drains into qt_work_response(). Jobs run one
  at a time in the order posted, as the LV2 worker guarantees, so the
  ownership rules of qt_plugin.h (a FREE job after every job reading the
  object) hold unchanged.

  Offline hosts set their controls before activate() and then render as
  fast as they can, so a change prepared in the background would land at
  some arbitrary point of the file. activate() (not real-time) therefore
  waits for the thread to go idle and runs the jobs the controls ask for
  synchronously (qt_bgworker_set_sync), before the first sample.
*/
#include "qt_plugin.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QT_BG_RING 32768u /**< bytes; a power of two so indices wrap by masking */
#define QT_BG_MSG 2048u   /**< largest job or answer (a qt_resp is about 600) */

/** wr and rd only grow, so wr - rd is the fill level even after they wrap.
    The producer publishes a record with a release store of wr after copying
    it in, the consumer frees its space with a release store of rd. */
typedef struct {
  uint8_t buf[QT_BG_RING];
  atomic_size_t wr, rd;
} qt_bg_ring;

struct qt_bgworker {
  qt_plugin *self;
  qt_bg_ring jobs, answers;
  atomic_int pending; /**< jobs posted and not finished */
  atomic_bool quit;
  bool sync; /**< run jobs at once (activate(), cleanup()) */
  bool have_thread;
  sem_t wake;
  pthread_t thread;
  _Alignas(16) uint8_t job_buf[QT_BG_MSG];    /**< the thread's */
  _Alignas(16) uint8_t answer_buf[QT_BG_MSG]; /**< the audio thread's */
};

static void ring_put(qt_bg_ring *r, size_t at, const void *src, size_t n)
{
  const uint8_t *s = src;
  for (size_t i = 0; i < n; ++i)
    r->buf[(at + i) & (QT_BG_RING - 1)] = s[i];
}

static void ring_get(const qt_bg_ring *r, size_t at, void *dst, size_t n)
{
  uint8_t *d = dst;
  for (size_t i = 0; i < n; ++i)
    d[i] = r->buf[(at + i) & (QT_BG_RING - 1)];
}

static bool ring_write(qt_bg_ring *r, uint32_t size, const void *data)
{
  size_t wr = atomic_load_explicit(&r->wr, memory_order_relaxed);
  size_t rd = atomic_load_explicit(&r->rd, memory_order_acquire);
  if (size > QT_BG_MSG || QT_BG_RING - (wr - rd) < sizeof size + size)
    return false;
  ring_put(r, wr, &size, sizeof size);
  ring_put(r, wr + sizeof size, data, size);
  atomic_store_explicit(&r->wr, wr + sizeof size + size, memory_order_release);
  return true;
}

/** Next record into out (QT_BG_MSG bytes): its size, or 0 when empty. */
static uint32_t ring_read(qt_bg_ring *r, void *out)
{
  size_t rd = atomic_load_explicit(&r->rd, memory_order_relaxed);
  size_t wr = atomic_load_explicit(&r->wr, memory_order_acquire);
  if (wr == rd)
    return 0;
  uint32_t size;
  ring_get(r, rd, &size, sizeof size);
  ring_get(r, rd + sizeof size, out, size);
  atomic_store_explicit(&r->rd, rd + sizeof size + size, memory_order_release);
  return size;
}

static LV2_Worker_Status answer_to_ring(LV2_Worker_Respond_Handle h, uint32_t size,
                                        const void *data)
{
  qt_bgworker *w = h;
  /** A full ring means run() has not been called for dozens of answers;
      the objects then leak rather than be freed on a thread that does not
      own them. */
  return ring_write(&w->answers, size, data) ? LV2_WORKER_SUCCESS : LV2_WORKER_ERR_NO_SPACE;
}

static LV2_Worker_Status answer_now(LV2_Worker_Respond_Handle h, uint32_t size, const void *data)
{
  qt_bgworker *w = h;
  return qt_work_response(w->self, size, data);
}

static void *thread_main(void *arg)
{
  qt_bgworker *w = arg;
  for (;;) {
    while (sem_wait(&w->wake) != 0) {
    }
    uint32_t n;
    while ((n = ring_read(&w->jobs, w->job_buf)) > 0) {
      qt_work(w->self, answer_to_ring, w, n, w->job_buf);
      atomic_fetch_sub_explicit(&w->pending, 1, memory_order_release);
    }
    if (atomic_load(&w->quit))
      return NULL;
  }
}

qt_bgworker *qt_bgworker_new(qt_plugin *self)
{
  qt_bgworker *w = calloc(1, sizeof *w);
  if (!w)
    return NULL;
  w->self = self;
  if (sem_init(&w->wake, 0, 0) != 0) {
    free(w);
    return NULL;
  }
  if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
    sem_destroy(&w->wake);
    free(w);
    return NULL;
  }
  w->have_thread = true;
  return w;
}

LV2_Worker_Status qt_bgworker_schedule(LV2_Worker_Schedule_Handle h, uint32_t size,
                                       const void *data)
{
  qt_bgworker *w = h;
  if (w->sync || !w->have_thread) {
    qt_work(w->self, answer_now, w, size, data);
    return LV2_WORKER_SUCCESS;
  }
  atomic_fetch_add_explicit(&w->pending, 1, memory_order_relaxed);
  if (!ring_write(&w->jobs, size, data)) {
    atomic_fetch_sub_explicit(&w->pending, 1, memory_order_relaxed);
    return LV2_WORKER_ERR_NO_SPACE; /* the caller retries on its next run() */
  }
  sem_post(&w->wake);
  return LV2_WORKER_SUCCESS;
}

void qt_bgworker_deliver(qt_bgworker *w)
{
  uint32_t n;
  while ((n = ring_read(&w->answers, w->answer_buf)) > 0)
    qt_work_response(w->self, n, w->answer_buf);
}

void qt_bgworker_quiesce(qt_bgworker *w)
{
  const struct timespec ms = {0, 1000000};
  while (atomic_load_explicit(&w->pending, memory_order_acquire) > 0)
    nanosleep(&ms, NULL);
  qt_bgworker_deliver(w);
}

void qt_bgworker_set_sync(qt_bgworker *w, bool sync) { w->sync = sync; }

void qt_bgworker_free(qt_bgworker *w)
{
  if (!w)
    return;
  if (w->have_thread) {
    atomic_store(&w->quit, true);
    sem_post(&w->wake);
    pthread_join(w->thread, NULL);
    w->have_thread = false;
  }
  sem_destroy(&w->wake);
  qt_bgworker_deliver(w);
  /* jobs posted after the thread's last look (FREE jobs of the last run) */
  uint32_t n;
  while ((n = ring_read(&w->jobs, w->job_buf)) > 0)
    qt_work(w->self, answer_now, w, n, w->job_buf);
  free(w);
}
