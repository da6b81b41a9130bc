/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Quantone LV2 plugin internals, shared by the files of plugin/ (one file
  per concern: plugin.c lifecycle and run(), worker.c, state.c,
  switching.c, meters.c, monitor.c, levels.c, resample.c, messages.c).

  Ownership, in one paragraph: every qt_slot, qt_variant and qt_hist is
  allocated by the worker (the host's, or for hosts without one the
  plugin's own thread, bgworker.c; synchronously at instantiate, restore
  and, for those hosts, activate) and handed to the audio thread
  through work_response. From then on the audio thread owns it, mutates
  only its run-time fields, and when it is replaced puts it in the garbage
  list, which run() hands back to the worker (a FREE job) to be freed. The
  worker only ever reads the immutable parts (the description, the weights)
  of objects it is asked to derive from, and since a host runs an
  instance's jobs one after another in order, a FREE job always comes after
  every job that still reads the object it frees.
*/
#ifndef QUANTONE_PLUGIN_QT_PLUGIN_H
#define QUANTONE_PLUGIN_QT_PLUGIN_H

#include "dcblock.h"
#include "quantone_ports.h"
#include "quantone_uris.h"
#include "setting_ports.h"

#include "engine.h"
#include "model_file.h"
#include "slim.h"
#include "variant.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/log/logger.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Host frames processed per inner step: bounds every scratch buffer, so
    any host block size (1 .. anything) works with fixed allocations. */
#define QT_HOST_CHUNK 256
#define QT_FADE_S 0.005     /**< crossfade of a switch: 5 ms */
#define QT_INBOX 16         /**< worker responses waiting for run() */
#define QT_GARBAGE 64       /**< objects waiting to be handed back */
#define QT_MAX_LATENCY 8192 /**< host frames; bounds the dry delay line */
#define QT_MAX_LEVELS 256   /**< quantizer levels sent with a histogram */
#define QT_PATH_MAX 4096
#define QT_MSG_MAX 512
#define QT_ESR_SEGS 50 /**< ESR window = QT_ESR_SEGS segments of rate/50 */
#define QT_CALIB_S 1.0 /**< seconds of calibration / analysis audio */
#define QT_SLIM_MAX 32 /**< sizes of a slimmable model the slim port can reach */
/** Variants prepared with calibration work (optimized rounding, static
    activations) the worker keeps after they stop playing, for the playing
    model only, so switching back is instant: the most recent ones win.
    Four 4-bit variants of A2 standard (the largest model we ship tests for)
    are about 4 x 0.3 MB (qm_model_memory). */
#define QT_VARIANT_CACHE 4
/** Per-layer SQNR figures the worker keeps for the playing model
    (sqnr_memo.c): a few hundred bytes each. */
#define QT_SQNR_KEPT 16
/** Worker progress messages: at most one per this many seconds (wall),
    besides the first and the last of a preparation. */
#define QT_PROGRESS_INTERVAL_S 0.1
/** At most this long an engine that starts cold (another size) runs on the
    live input before it is faded in: a WaveNet's receptive field makes it
    exactly warm (A2's 6347 samples are 0.13 s at 48 kHz); an LSTM's half
    second of prewarm is cut to this, the longest a switch waits. */
#define QT_WARM_MAX_S 0.15

/* ---- Settings ------------------------------------------------------------ */

/* What the controls ask for is a qm_setting (models/setting.h), kept
   normalised (qm_setting_normalise) so two settings that build the same
   variant compare equal (qm_setting_eq); setting_ports.h converts the
   controls and checks their values against the engine's enums. */

/* ---- Objects built by the worker ----------------------------------------- */

typedef struct qt_variant {
  qm_setting set;
  /** The size it plays: an index into its slot's slim steps. Only the
      full size (qt_slot.full_step) shares the reference's structure, so
      only there is m NULL at FP32, and streaming state is copied only
      between engines of one size. */
  int slim_step;
  unsigned model_id; /**< qt_slot.id it was built from */
  unsigned serial;   /**< unique per built variant: matches late SQNR results */
  qm_model *m;       /**< NULL for FP32: the model's reference plays */
  size_t weight_bytes;
  /** The weight bytes of the float model of its own size: what the
      memory meter compares weight_bytes with, so the saving it shows is
      the quantization's alone (the slot's ref_weight_bytes is the full
      size's). */
  size_t fp32_weight_bytes;
  /** The notify bytes the names of its size's weight matrices take in a
      modelInfo (qt:linearNames), summed in the worker. */
  size_t linear_names_bytes;
  /** Model-rate samples m needs on the live input before it is heard when
      it starts cold (no engine of its size to copy from): its prewarm
      length, at most QT_WARM_MAX_S. */
  int warm_len;
  char describe[128];
  int n_layers;
  /** [n_layers] dB, or NULL when not analysed: a quantized variant is
      analysed only while a UI listens (qt:uiAlive), when it is built or
      when a UI asks (QT_JOB_SQNR), and keeps the result. */
  float *layer_sqnr;
  /** An SQNR answer for it is on its way (the worker set it before
      delivery, or run() asked): not asked for again. */
  bool sqnr_coming;
  /** Mixed precision (bit_budget): the budget it was built for (0: off,
      uniform bits), the width of each linear (NULL when uniform), and
      each observed layer's average bits for the GUI (NULL at FP32 and
      below the full size). All owned; set by the worker. */
  float budget;
  int *linear_bits;
  float *layer_bits;
} qt_variant;

/** What the worker says about a preparation that takes a while (a
    variant with calibration work): which setting, how far, for how long.
    Sent to the UI as qt:prepare (quantone_ports.h). */
typedef struct {
  char describe[128]; /**< the variant's qm_setting_describe */
  char stage[64];     /**< qm_model_set_progress's stage, "ready" when done */
  float progress;     /**< 0..1; 1 = ready */
  float seconds;      /**< wall time since the job started */
  float cpu_seconds;  /**< the worker thread's CPU time for it */
  bool cached;        /**< taken from the worker's cache: no work done */
} qt_prepare_status;

typedef struct qt_hist {
  unsigned model_id;
  int linear;
  char name[48];
  /** The slim step label of the size whose weights these are ("" for a
      model of one size): the GUI says which size it shows. */
  char size[64];
  /** "FP32", "FP16" or "BF16" for float weights, "" for quantized ones
      (qt:weightFormat): what the GUI's caption names when there are no
      levels, taken with the counts so it cannot name another variant. */
  char format[8];
  float lo, hi;
  int32_t counts[QUANTONE_HIST_BINS];
  int n_levels;
  float levels[QT_MAX_LEVELS];
} qt_hist;

/** One variant's per-layer SQNR as the worker keeps it (sqnr_memo.c). */
typedef struct {
  unsigned model_id;
  qm_setting set;
  int slim_step;
  float budget;
  int n;
  float *sqnr;
} qt_sqnr_kept;

/** Sensitivity tables of one model, per scheme (mixed.c; worker only). */
typedef struct qt_mixed_cache qt_mixed_cache;

/** Host rate <-> model rate conversion (resample.c). */
typedef struct qt_resampler qt_resampler;

/** A model file as the plugin loaded it: its description, the float
    reference engine (a qm_model, models/engine.h), the variants playing and
    fading, and the resampler between host and model rate. Named apart from
    qm_model on purpose: it holds engines, it is not one. */
typedef struct qt_slot {
  /* Immutable once built (the worker may read these). */
  unsigned id;
  char *path;
  /** Measured once in the worker, so run() never walks a long path or
      name: strlen(path), and the notify bytes a modelInfo message needs
      besides its linear names (qt_variant.linear_names_bytes). */
  size_t path_len, info_bytes;
  qm_desc *desc;
  double rate; /**< model sample rate */
  size_t ref_weight_bytes;
  int ref_warm_len; /**< qt_variant.warm_len of the reference */
  int n_layers, n_linears;
  /** The sizes the slim port chooses from (models/slim.h), ascending; one
      step for a plain model. full_step = n_steps - 1 is what the
      reference plays. */
  int n_steps, full_step;
  qm_slim_step steps[QT_SLIM_MAX];
  /** The float model's loudness measured in the worker when the file has
      none (models/loudness.h): what Normalized plays every variant and
      size of this file at, so their error is heard, not normalised away. */
  bool has_measured_loudness;
  double measured_loudness_db;
  /** Worker-only: the bit_budget's sensitivity tables (mixed.c), built on
      demand; the audio thread never reads it. */
  qt_mixed_cache *mixed;

  /* Run-time: owned by the audio thread once delivered. */
  qm_model *ref;               /**< float reference */
  qt_variant *var;             /**< playing */
  qt_variant *var_old;         /**< fading out, or NULL */
  qt_variant *var_pending;     /**< arrived during a fade; next to play */
  int fade_pos, fade_len;      /**< model-rate samples */
  int warm_left;               /**< samples var still runs unheard before its fade */
  bool ref_was_live;           /**< the reference ran in the last step */
  qt_resampler *rs;            /**< NULL when host rate == model rate */
  int mcap;                    /**< model-rate frames per step (buffer size) */
  float *x, *q, *r, *qo, *mix; /**< model-rate scratch [mcap] */
} qt_slot;

/* ---- Meters, monitor, levels --------------------------------------------- */

typedef struct {
  int seg_len, pos, idx, filled; /**< idx, filled: segments with signal */
  int cidx, cfilled;             /**< the clip ring: every segment */
  double num[QT_ESR_SEGS], den[QT_ESR_SEGS];
  size_t clip[QT_ESR_SEGS];
  double acc_num, acc_den;
  size_t acc_clip;
  float esr_db, clipped;
  double t_q, t_ref; /**< smoothed seconds per step of each path */
  float dsp_ratio;
  /** The output's DC blocker, once per path: the meters compare what the
      player hears (meters.c says why). */
  qt_dcblock dc_q, dc_r;
} qt_meters;

void qt_meters_reset(qt_meters *mt, double rate);
/** Accumulate one step of quantized q against reference r (n frames). */
void qt_meters_feed(qt_meters *mt, const float *q, const float *r, int n, size_t clipped);
void qt_meters_time(qt_meters *mt, double t_q, double t_ref);

typedef struct {
  float w[3]; /**< current weights of quantized, reference, error */
  float target[3];
  float step;                   /**< weight change per sample (linear ramp) */
  float eg, eg_target, eg_coef; /**< error gain, smoothed */
} qt_monitor_mix;

void qt_monitor_init(qt_monitor_mix *m, double rate);
void qt_monitor_set(qt_monitor_mix *m, int mode, float error_gain_db);
/** y = monitored signal; advance=false holds the ramps (second model in a fade). */
void qt_monitor_run(qt_monitor_mix *m, const float *q, const float *r, float *y, int n,
                    bool advance);
bool qt_monitor_needs_ref(const qt_monitor_mix *m);

typedef struct {
  float g, target, coef;
  bool init;
} qt_gain;

void qt_gain_init(qt_gain *g, double rate, double tau_s);
void qt_gain_set_db(qt_gain *g, float db);
void qt_gain_set_lin(qt_gain *g, float lin);
void qt_gain_apply(qt_gain *g, const float *in, float *out, int n);
/** out = dry + g * (wet - dry), g the smoothed value (bypass crossfade). */
void qt_gain_mix(qt_gain *g, const float *dry, const float *wet, float *out, int n);

/* ---- Calibration and output mode (calibration.c) ------------------------- */

/** The gains, dB, that the input calibration and the output mode add for
    model M (NULL: none) under the controls; *_applies false when the model
    lacks what the control needs (the gain is then 0). Real-time safe. */
typedef struct {
  float input_db, output_db;
  bool input_applies, output_applies;
} qt_model_gains;

void qt_model_gains_get(const qt_slot *M, bool calibrate_input, float interface_dbu,
                        int output_mode, qt_model_gains *g);

/* ---- Measured loudness (loudness_cache.c) --------------------------------- */

/** qm_measure_loudness_db of ref, the float model of the file at path,
    measured once per process for each file content and then remembered.
    Not real-time (it may render the model, reads the file, takes a
    mutex). False when the model cannot be measured. */
bool qt_measured_loudness_db(const char *path, qm_model *ref, double *loudness_db);

/* ---- Resampling (resample.c) --------------------------------------------- */

/** NULL with a message when the ratio is out of range or SRC fails. mcap
    gets the model-rate frames one QT_HOST_CHUNK step can produce. */
qt_resampler *qt_resampler_create(double host_rate, double model_rate, int *mcap, char *err,
                                  size_t errlen);
void qt_resampler_free(qt_resampler *rs);
void qt_resampler_reset(qt_resampler *rs);
int qt_resampler_latency(const qt_resampler *rs);
/** Host-rate in[n] -> model-rate out (returns frames written, <= cap). */
int qt_resampler_up(qt_resampler *rs, const float *in, int n, float *out, int cap);
/** Model-rate in[n] -> the host-rate output queue. */
void qt_resampler_down(qt_resampler *rs, const float *in, int n);
/** Take n host-rate frames from the queue (zeros if it ran dry). */
void qt_resampler_read(qt_resampler *rs, float *out, int n);

/* ---- Worker jobs and responses (worker.c) -------------------------------- */

typedef enum {
  QT_JOB_LOAD = 1,
  QT_JOB_VARIANT,
  QT_JOB_HIST,
  QT_JOB_FREE,
  QT_JOB_EXPORT, /**< write the model as `set` plays it to export_req's path (export.c) */
  QT_JOB_SQNR    /**< the per-layer SQNR of `var`, a variant of `model` delivered earlier */
} qt_job_type;
typedef enum { QT_FREE_MODEL = 1, QT_FREE_VARIANT, QT_FREE_HIST, QT_FREE_BUFFER } qt_free_kind;

typedef struct {
  uint32_t type;
  uint32_t free_kind;
  uint32_t gen; /**< LOAD: the request generation it was scheduled for */
  qm_setting set;
  const qt_slot *model;  /**< VARIANT / HIST / SQNR: derive from (read only) */
  const qt_variant *var; /**< HIST: weights to show (NULL: the reference); SQNR: to analyse */
  int32_t slim_step;     /**< VARIANT: the size to build (an index into the slot's steps) */
  float slim;            /**< LOAD: the slim control when it was scheduled */
  int32_t step;          /**< LOAD: 0 the path itself, +-1 the next / previous file of its folder */
  void *ptr;             /**< FREE */
  int32_t linear;        /**< HIST */
  float budget;          /**< VARIANT: the bit budget (qt_bit_budget), 0 = uniform */
  /** LOAD / VARIANT: a UI was listening when it was scheduled, so the
      quantized variant's per-layer SQNR is analysed too (a fifth to a
      third of a fresh instance's work, for a view nobody may open). */
  bool analyze;
} qt_job;

typedef enum {
  QT_RESP_MODEL = 1,
  QT_RESP_VARIANT,
  QT_RESP_SQNR, /**< per-layer SQNR of a variant delivered earlier */
  QT_RESP_HIST,
  QT_RESP_ERROR,
  QT_RESP_SUPERSEDED, /**< a LOAD dropped unparsed: a newer request exists */
  QT_RESP_EXPORTED,   /**< an EXPORT's outcome: msg is the path written, or why not (failed) */
  QT_RESP_PROGRESS    /**< how far a preparation is (droppable: no object) */
} qt_resp_type;

typedef struct {
  uint32_t type;
  bool variant_job; /**< the job was a VARIANT request (clears in-flight) */
  uint32_t gen;     /**< MODEL / ERROR / SUPERSEDED of a LOAD: its generation */
  qt_slot *model;
  qt_variant *var;
  qt_hist *hist;
  float *sqnr; /**< SQNR: [n_sqnr] dB (owned; freed if unclaimed) */
  int n_sqnr;
  unsigned serial;      /**< SQNR: qt_variant.serial it belongs to */
  bool failed;          /**< EXPORTED: msg is the reason */
  char msg[QT_MSG_MAX]; /**< PROGRESS: "DESCRIBE\nSTAGE" (qt_prepare_status); EXPORTED: the path */
  /** PROGRESS, and VARIANT after calibration work: how far the
      preparation is (the rest of qt_prepare_status: msg, or the variant's
      describe and "ready"). Kept to a few bytes: jalv 1.6's worker ring
      holds 4096 bytes of answers between two run() calls and writes an
      answer that does not fit as a corrupt one; 208 more bytes per
      answer made the six answers of gui-jalv's start overflow it. */
  bool has_prep, prep_cached;
  float prep_progress, prep_seconds, prep_cpu_seconds;
} qt_resp;

/** Where a job's progress goes: the respond function of the job that
    runs, and when it started (worker.c). NULL where nobody waits. */
typedef struct {
  LV2_Worker_Respond_Function respond;
  LV2_Worker_Respond_Handle rh;
  double t0, cpu0, last_sent;
  qt_prepare_status st;
} qt_progress;

/* ---- Strings shared with another thread ------------------------------------ */

/** A string one thread writes while another may read it, with a tag
    (a generation) published together with it; a seqlock, so neither side
    ever blocks: the writer is the audio thread or an instantiation-class
    call, the reader a worker or save() that retries a torn read. */
typedef struct {
  atomic_uint seq, tag;
  char buf[QT_PATH_MAX];
} qt_seqstr;

void qt_seqstr_write(qt_seqstr *s, const char *str, size_t n, unsigned tag);
/** Copy into out[len]; returns the tag that goes with it. */
unsigned qt_seqstr_read(qt_seqstr *s, char *out, size_t len);

/* ---- The instance ---------------------------------------------------------- */

typedef struct qt_bgworker qt_bgworker;

typedef struct qt_plugin {
  /* Ports (NULL when the host leaves an optional one unconnected). */
  const float *in;
  float *out;
  const LV2_Atom_Sequence *control;
  LV2_Atom_Sequence *notify;
  const float *ctl[QT_PORT_COUNT]; /**< control inputs, by qt_port_index */
  float *meter[QT_PORT_COUNT];     /**< control outputs, by qt_port_index */

  /* Host features. */
  LV2_URID_Map *map;             /**< NULL: no atom messages at all */
  LV2_Worker_Schedule *schedule; /**< NULL: jobs run synchronously */
  /** The host offers no worker: our own thread (bgworker.c) plays it. */
  qt_bgworker *bg;
  LV2_Worker_Schedule bg_schedule;
  LV2_Log_Logger logger;
  qt_uris uris;
  LV2_Atom_Forge forge;
  LV2_Atom_Forge_Frame notify_frame;
  bool notify_ok; /**< the notify sequence is open this run() */

  double host_rate;
  char *bundle_path;
  char default_model[QT_PATH_MAX];
  atomic_uint next_model_id;

  /* Models. */
  qt_slot *model;           /**< playing (NULL: no model, audio passes through) */
  qt_slot *model_old;       /**< fading out after a load */
  int mfade_pos, mfade_len; /**< host-rate samples */
  /** Host-rate frames the old model still plays alone before the fade:
      the new model's resampler latency, whose start-up zeros would
      otherwise be faded in (a dropout of up to 15 ms at a 6 kHz model). */
  int mfade_hold;
  bool ref_live; /**< the reference must run this step */

  /* Switching (switching.c). */
  qm_setting want;   /**< from the controls */
  float want_slim;   /**< the slim control, 0..1 */
  float want_budget; /**< qt_bit_budget of the bit_budget control; 0 at FP32 */
  bool var_inflight; /**< a VARIANT job is queued */
  /** Model loads are coalesced: at most one LOAD job in flight, and the
      newest requested path waits in load_req (the worker reads it from
      there, so a job is small whatever the path's length). load_gen counts
      requests; a job or answer of an older generation is superseded. */
  bool load_inflight;
  bool load_pending; /**< load_req holds a request not yet scheduled */
  unsigned load_gen;
  qt_seqstr load_req;
  int load_step; /**< of the waiting request: 0, or +-1 from load_req's file (model browsing) */
  /** The model that played before the current one (A/B), "" for none:
      copied in the audio thread at a model switch (no allocation). */
  char prev_path[QT_PATH_MAX];
  uint32_t prev_len;
  bool have_failed;
  qm_setting failed;   /**< last setting the worker refused */
  int failed_step;     /**< ... at this slim step */
  float failed_budget; /**< ... and bit budget */
  qt_resp inbox[QT_INBOX];
  int n_inbox;
  struct {
    uint32_t kind;
    void *ptr;
  } garbage[QT_GARBAGE];
  int n_garbage;

  /** The model path the state saves, readable by save() concurrently with
      run(): the playing model's, or the one the user asked for when that
      could not be loaded at restore (the default plays meanwhile), so a
      missing file is not forgotten by the next save. */
  qt_seqstr state_path;

  /** The worker's own: variants it keeps for switching back
      (QT_VARIANT_CACHE), all of one model, most recent first. Touched
      only by qt_work (jobs of one instance never run at once) and
      cleanup(). */
  qt_variant *cache[QT_VARIANT_CACHE];
  int n_cache;
  /** The worker's own too: per-layer SQNR it measured, most recent
      first (sqnr_memo.c). */
  qt_sqnr_kept sqnr_kept[QT_SQNR_KEPT];
  int n_sqnr_kept;

  /* DSP state. */
  qt_meters meters;
  qt_monitor_mix monitor;
  qt_gain in_gain, out_gain, wet;
  qt_dcblock dcblock;                    /**< on the model's output, before the output level */
  float *xbuf, *dry, *wet_buf, *wet_old; /**< host-rate [QT_HOST_CHUNK] */
  float *delay;                          /**< dry delay line [QT_MAX_LATENCY] */
  int delay_pos;
  int latency;
  bool played; /**< audio processed since activate(): else nothing to fade from */

  /* Messages to the UI (messages.c), sent from run() when there is room. */
  bool send_path, send_info, send_sqnr, send_hist;
  bool send_error;
  char error_msg[QT_MSG_MAX];
  /** The last preparation the worker reported (qt:prepare), sent on
      change and on patch:Get. */
  bool have_prep, send_prep;
  qt_prepare_status prep;
  /** "model missing: PATH ..." while a restored session's model could not
      be loaded (empty otherwise): sent again on every patch:Get, so a GUI
      opened after the restore still learns why the default plays. */
  char missing_msg[QT_MSG_MAX];
  qt_hist *hist;
  int hist_layer;
  bool hist_requested;
  float frame_ring_r[QUANTONE_FRAME_LEN], frame_ring_q[QUANTONE_FRAME_LEN];
  int frame_pos, frame_count, frame_interval;
  bool frame_ready;
  float frame_r[QUANTONE_FRAME_LEN], frame_q[QUANTONE_FRAME_LEN];
  float frame_rate;
  /** Host frames of audio left before the last qt:uiAlive expires; the
      streamed messages go out only while it is above 0. */
  uint32_t ui_alive_left;

  /* Save quantized model (export.c): the path asked for (the worker reads
     it from here, so a job stays small), and the answer to send. */
  qt_seqstr export_req;
  unsigned export_gen;
  bool send_exported;
  char exported_path[QT_MSG_MAX];
} qt_plugin;

/* worker.c */
LV2_Worker_Status qt_work(LV2_Handle h, LV2_Worker_Respond_Function respond,
                          LV2_Worker_Respond_Handle rh, uint32_t size, const void *data);
LV2_Worker_Status qt_work_response(LV2_Handle h, uint32_t size, const void *data);
/** Run a job in the worker, or right here when the host has none. */
bool qt_schedule(qt_plugin *self, const qt_job *job, uint32_t size);
/** Loads a file and builds its variant of `set` at the size `slim` picks. */
qt_slot *qt_slot_load(qt_plugin *self, const char *path, const qm_setting *set, float slim,
                      bool analyze, qt_progress *prog, char *err, size_t errlen);
/** browse.c: the next (step > 0) or previous model file of path's folder
    that loads; err says which were skipped. NULL when none loads. */
qt_slot *qt_slot_load_step(qt_plugin *self, const char *path, int step, const qm_setting *set,
                           float slim, bool analyze, qt_progress *prog, char *err, size_t errlen);
/** prog: where the preparation's progress goes, or NULL. */
qt_variant *qt_variant_build(const qt_slot *mo, const qm_setting *set, int slim_step, bool analyze,
                             qt_progress *prog, char *err, size_t errlen);
/** Free the worker's kept variants (cleanup(): no job runs any more). */
void qt_variant_cache_clear(qt_plugin *self);
/* sqnr_memo.c: per-layer SQNR the worker measured, by variant (worker only) */
/** A malloc'd copy of v's figures and their count, or NULL (n_out untouched). */
float *qt_sqnr_memo_get(const qt_plugin *self, const qt_variant *v, int *n_out);
/** Keep a copy of v's figures (a quantized variant's; others are free). */
void qt_sqnr_memo_put(qt_plugin *self, const qt_variant *v, const float *sqnr, int n);
void qt_sqnr_memo_clear(qt_plugin *self);
/** The step of M that slim value s plays (real-time safe: a short scan). */
int qt_slot_slim_step(const qt_slot *M, float s);
/** The engine whose layers and weight matrices are v's: its own below
    the full size (another structure), the reference's at the full size
    (the same structure; at FP32 v has no engine). Real-time safe. */
qm_model *qt_variant_shape(const qt_slot *M, const qt_variant *v);
void qt_slot_destroy(qt_slot *m);
void qt_variant_destroy(qt_variant *v);

/* mixed.c: the bit_budget control, in the worker */
/** The widths (one per linear of mo's full size, malloc'd) the allocator
    picks for `budget` under set's scheme, measuring the sensitivity table
    first unless the slot has it. NULL with a message on failure. */
int *qt_mixed_widths(const qt_slot *mo, const qm_setting *set, float budget, char *err,
                     size_t errlen);
void qt_mixed_cache_free(qt_mixed_cache *c);
/** Each observed layer's average bits per weight over the linears named
    after it ("a0.l3" -> "a0.l3.*"): widths[i], or `uniform` for every
    linear with widths NULL; NAN for a layer without linears. malloc'd. */
float *qt_mixed_layer_bits(const qm_model *m, const int *widths, int uniform);

/* bgworker.c: a worker thread for hosts without the LV2 worker */
/** Starts the thread; NULL when that fails (jobs then run synchronously). */
qt_bgworker *qt_bgworker_new(qt_plugin *self);
/** Stop the thread, run what is still queued and hand back the answers. */
void qt_bgworker_free(qt_bgworker *w);
/** The LV2_Worker_Schedule function: queue a job, never blocks. */
LV2_Worker_Status qt_bgworker_schedule(LV2_Worker_Schedule_Handle h, uint32_t size,
                                       const void *data);
/** Audio thread: give the thread's answers to qt_work_response(). */
void qt_bgworker_deliver(qt_bgworker *w);
/** Non-real-time calls only: wait until every queued job is done and
    deliver the answers; then, while sync is set, jobs run at once. */
void qt_bgworker_quiesce(qt_bgworker *w);
void qt_bgworker_set_sync(qt_bgworker *w, bool sync);

/* switching.c */
void qt_request_variant(qt_plugin *self);
void qt_request_load(qt_plugin *self, const char *path, uint32_t len);
/** The next (+1) or previous (-1) model file in the playing model's folder. */
void qt_request_model_step(qt_plugin *self, int step);
/** The model that played before the current one. */
void qt_request_model_ab(qt_plugin *self);
/** Schedule the pending load if none is in flight (retried every run()). */
void qt_kick_load(qt_plugin *self);
void qt_request_hist(qt_plugin *self);
/** While a UI listens: ask the worker for the per-layer SQNR of the
    variant the playing model heads to, if it has none and none is coming. */
void qt_request_sqnr(qt_plugin *self);
/** A UI listens now (qt:uiAlive true within its timeout). */
bool qt_ui_listening(const qt_plugin *self);
/** The SQNR answer for variant `serial` was dropped (no room): it may be
    asked for again. */
void qt_sqnr_dropped(qt_plugin *self, unsigned serial);
void qt_take_inbox(qt_plugin *self);
void qt_install_model(qt_plugin *self, qt_slot *m, bool fade);
void qt_garbage(qt_plugin *self, uint32_t kind, void *ptr);
void qt_flush_garbage(qt_plugin *self);
/** Model-rate step of one model: quantized / reference / fades / meters. */
void qt_slot_step(qt_plugin *self, qt_slot *M, const float *x, int n, float *y, bool current);
/** Host-rate step of one model (resampling around qt_slot_step). */
void qt_slot_host_step(qt_plugin *self, qt_slot *M, const float *x, int k, float *y, bool current);
void qt_slot_reset_all(qt_slot *M);
void qt_set_error(qt_plugin *self, const char *msg);

/* export.c: Save quantized model */
/** From run(): keep the path and schedule the export of the playing model
    as the controls ask for it. No allocation. */
void qt_request_export(qt_plugin *self, const char *path, uint32_t len);
/** In the worker: write the file, answer QT_RESP_EXPORTED. */
LV2_Worker_Status qt_export_job(qt_plugin *self, const qt_job *job,
                                LV2_Worker_Respond_Function respond, LV2_Worker_Respond_Handle rh);
/** From run(): the answer arrived. */
void qt_take_exported(qt_plugin *self, const qt_resp *r);
void qt_publish_path(qt_plugin *self, const char *path);
void qt_read_path(qt_plugin *self, char *out, size_t len);

/* messages.c */
void qt_notify_begin(qt_plugin *self, uint32_t n_samples);
void qt_notify_end(qt_plugin *self);
void qt_read_control_port(qt_plugin *self);
void qt_send_messages(qt_plugin *self);
void qt_frames_feed(qt_plugin *self, const float *q, const float *r, int n);

/* state.c */
const void *qt_state_interface(void);

/* Denormals: flush-to-zero / denormals-are-zero for the scope of run(). */
typedef struct {
  uint64_t saved;
} qt_fpenv;
void qt_denormals_enter(qt_fpenv *e);
void qt_denormals_leave(const qt_fpenv *e);

#endif
