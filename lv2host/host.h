/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  A minimal lilv host for the real quantone.lv2 bundle, shared by the plugin
  tests and quantone-render (lv2host/meson.build): URID map and unmap,
  options (block lengths, sample rate), log, a synchronous worker (jobs
  scheduled in run() are executed after it returns and their answers
  delivered before the next run, as jalv does without threads), patch:Set
  and patch:Get on the control port, and parsing of the notify port.
*/
#ifndef QUANTONE_LV2HOST_HOST_H
#define QUANTONE_LV2HOST_HOST_H

#include "quantone_ports.h"

#include <lilv/lilv.h>
#include <lv2/atom/forge.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define QH_MAX_BLOCK 4096
#define QH_QUEUE_BYTES (1 << 16)

typedef struct {
  LilvInstance *inst;
  const LilvPlugin *plugin;
  const LV2_Worker_Interface *worker;
  double rate;
  float ctl[QT_PORT_COUNT];
  float in[QH_MAX_BLOCK], out[QH_MAX_BLOCK];
  _Alignas(8) uint8_t control[16384];
  _Alignas(8) uint8_t notify[65536];

  /* synchronous worker: preallocated queues, so scheduling from run()
     allocates nothing in the host either */
  LV2_Worker_Schedule sched;
  _Alignas(8) uint8_t jobs[QH_QUEUE_BYTES];
  size_t jobs_len;
  _Alignas(8) uint8_t resps[QH_QUEUE_BYTES];
  size_t resps_len;

  const LV2_Feature *features[16];

  /* what the plugin told the UI */
  int n_errors, n_paths, n_info, n_frames, n_sqnr, n_hist;
  char last_error[1024];
  char last_path[4096];
  int n_exported;           /**< qt:exported answers (Save quantized model) */
  char last_exported[4096]; /**< the path the last one wrote */
  bool info_resampling;
  int info_latency;
  int hist_bins_total;
  /** The last qt:histogram's layer name, qt:sizeLabel and
      qt:weightFormat ("" when absent) and count of levels. */
  char hist_layer[48], hist_size[64], hist_format[16];
  int hist_levels;
  /** The last modelInfo's weight matrices (qt:linearNames: count, first
      name) and weight bytes: qt:weightBytesFp32 (full size),
      qt:sizeWeightBytesFp32 (-1 when absent), qt:weightBytes. */
  int info_linears;
  char info_linear0[48];
  long long info_bytes_fp32, info_size_bytes_fp32, info_bytes;
  int sqnr_layers;
  /** qt:prepare messages: in progress, ready after work, ready from the
      worker's kept variants; the last stage, the CPU seconds of the last
      one prepared */
  int n_prep_progress, n_prep_ready, n_prep_cached;
  char prep_stage[64];
  float prep_cpu_s;

  /* qh_new_opts() only (zero for qh_new) */
  bool no_worker;     /**< offer no worker feature (only URID map, log, options) */
  size_t queue_limit; /**< job queue capacity in bytes (0: QH_QUEUE_BYTES) */
  int worker_every;   /**< run the worker after every Nth run() only (0, 1: each) */
  int jobs_per_round; /**< jobs the worker takes per round (0: all queued) */
  int runs_since_worker;
  const LV2_Feature *sched_feature;
  int n_sched_fail;             /**< schedule_work() calls refused for a full queue */
  int n_jobs;                   /**< jobs the worker has run */
  char info_variant[128];       /**< qt:variant of the last modelInfo */
  double last_run_s, max_run_s; /**< wall-clock time of run() itself */
  /** CPU time of the calling thread in run(): what run() itself costs,
      not how long another process held the core */
  double max_run_cpu_s;
  /* qt:uiAlive: when alive_every > 0, qh_run sends a keep-alive (true)
     before the first run and then every alive_every frames, like an open UI */
  uint32_t alive_every, alive_count;
} qhost;

typedef struct {
  bool no_worker;
  size_t queue_limit;
  int worker_every;
  int jobs_per_round;
} qh_opts;

/** Counters of the interposed allocator and mutex (0 when not interposed).
    Defined by the test-only interpose.c (qh_interpose_dep), so a program
    that links the host alone cannot read counters nobody keeps. */
extern long qh_allocs_in_run, qh_locks_in_run;
extern bool qh_interposed;

void qh_world_init(LilvWorld *world);
/** Print "ok"/"FAIL" and the printf-style message; count failures. */
void qh_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern int qh_failures;
/** Load the bundle in bundle_dir into world and find Quantone in it
    (NULL, with a message, when it is not there). */
const LilvPlugin *qh_find_plugin(LilvWorld *world, const char *bundle_dir);
LV2_URID_Map *qh_map(void);
LV2_URID_Unmap *qh_unmap(void);

qhost *qh_new(const LilvPlugin *p, double rate);
/** qh_new with a different worker: none, a small queue, or a slow one. */
qhost *qh_new_opts(const LilvPlugin *p, double rate, const qh_opts *o);
/** Log notes "Quantone: loaded ..." seen (files parsed by the worker). */
extern long qh_loads_logged;
void qh_free(qhost *h);
/** One run() of n <= QH_MAX_BLOCK frames, then the worker round trip. */
void qh_run(qhost *h, const float *in, float *out, uint32_t n);
/** run(0) a few times so queued requests (loads, variants) take effect. */
void qh_settle(qhost *h);
void qh_set_model(qhost *h, const char *path);
/** patch:Set qt:exportModel: the plugin's "Save quantized model". */
void qh_export_model(qhost *h, const char *path);
void qh_set_hist_layer(qhost *h, int layer);
void qh_get(qhost *h);
/** patch:Set qt:modelStep (+1 next, -1 previous file of the model's folder). */
void qh_step_model(qhost *h, int step);
/** patch:Set qt:modelAB true: back to the model that played before. */
void qh_ab_model(qhost *h);
/** patch:Set qt:uiAlive true / false on the control port (next run). */
void qh_ui_alive(qhost *h, bool alive);

/** The largest |y[i] - y[i-1]| for i in (a, b): how click tests measure a
    switch against renders without one. */
float qh_max_step(const float *y, size_t a, size_t b);

typedef void (*qh_block_fn)(qhost *h, size_t pos, uint32_t n, void *user);
/** Render x[n] -> y[n] in blocks of `block` frames, or random sizes in
    1..700 from `seed` when block == 0; cb (may be NULL) runs before each. */
void qh_render(qhost *h, const float *x, float *y, size_t n, int block, unsigned seed,
               qh_block_fn cb, void *user);

#endif
