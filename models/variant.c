/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Variants: a qm_model rebuilt in place at one precision and scheme. See
  variant.h for the contract.

  Preparing a variant, per qm_linear i (index as qm_model_linear()):
    bits_i = spec->linear_bits[i] if given and non-zero, else spec->bits
    bits_i == 32:  pack the float weights L->w as QK_F32, float activations
                   (bit-identical to the float model).
    bits_i == 16:  pack L->w as QK_F16 (FP16 weights: with calibration
                   audio, its halves chosen by gptq, below) or QK_BF16
                   (BF16 compute), spec->half saying which; float
                   activations.
    else:          t = qz_quantize(L->w, scheme(bits_i)), P = qk_pack(t.w, isa),
                   activations float / int8 dynamic / int8 static (scale from
                   the calibration pass below).
  Static scales: the float model (every linear temporarily packed as F32
  with float activations) runs over the calibration audio once; a
  qz_observer on each linear's input proposes the scale that
  qk_quantize_act_static() later uses at exactly that point.
  Post-training rounding (spec->rounding, spec->bias_correction; see
  rounding.h): the same pass gathers each quantized linear's input
  statistics (qz_gram: E[x x^T], E[x]) from the float model, then gptq
  re-chooses the codes on the grid qz_quantize chose, and bias correction
  adds -E mu to the linear's bias (qm_linear_set_bias_offset), before the
  weights are packed. FP16 weights with calibration audio take the same
  pass: gptq onto the IEEE half grid (qz_round_gptq_f16) and bias
  correction, since plain round-to-nearest-even of the weights missed
  -60 dB on three reference models; when that still leaves the
  calibration ESR above -70 dB, sequential rounding (each linear fitted
  and rounded against the inputs of the model whose earlier linears are
  already rounded, quantize_half) is tried and kept if better there.
  Linears with a single input (the raw audio) keep
  nearest rounding's one column and no correction: there is nothing to
  compensate across, and their input mean is the audio's, ~0.

  The qz_tensors stay with the model (m->variant) so the GUI can see the
  weights the kernels actually multiply and the quantizer's levels.
*/
#include "variant.h"

#include "adaround.h"
#include "arch_registry.h"
#include "equalize.h"
#include "scheme_record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** FP16 weights rounded against calibration audio: their IEEE half bits,
    [out][in]. */
typedef struct {
  uint16_t *bits;
  size_t count;
} half_weights;

/** What a quantized model remembers about how it was made. */
typedef struct {
  int n;        /**< linears */
  int *bits;    /**< resolved bits per linear (32 = float) */
  qz_tensor *t; /**< per linear; empty (codes NULL) where bits == 32 */
  qm_half half; /**< the 16-bit form of linears at QM_BITS_HALF */
  /** Per linear, the IEEE half bits of FP16 weights rounded against the
      calibration audio (qz_round_gptq_f16), or NULL: nearest-even halves
      of L->w (or no 16-bit weights at all). */
  half_weights *halves;
  /** Layer output SQNR on the calibration inputs, per linear:
      10 log10(w^T H w / e^T H e) summed over rows (rounding.h), with
      nearest rounding and with the chosen rounding; NAN where not
      measured (no post-training rounding asked, or a float linear). */
  double *sqnr_nearest_db, *sqnr_db;
  /** The end-to-end guard of post-training rounding (qm_model_quantize):
      ESR against the float model on the calibration audio with nearest
      rounding and with the asked rounding, and whether the asked one was
      kept. NAN / false without post-training rounding. */
  double calib_esr_nearest_db, calib_esr_db;
  bool rounding_kept;
  /** The equalized float weights the variant was made from (equalize.h;
      empty without equalization): what its float linears play and what
      the GUI and the exporter see of them. */
  qm_equalization eq;
} variant_data;

static void variant_data_free(void *p)
{
  variant_data *v = p;
  if (!v)
    return;
  for (int i = 0; i < v->n; ++i) {
    qz_tensor_free(&v->t[i]);
    if (v->halves)
      free(v->halves[i].bits);
  }
  free(v->t);
  free(v->halves);
  free(v->bits);
  free(v->sqnr_nearest_db);
  free(v->sqnr_db);
  qm_equalization_free(&v->eq);
  free(v);
}

static size_t variant_data_bytes(const void *p)
{
  const variant_data *v = p;
  size_t b = sizeof *v + (size_t)v->n * (sizeof(int) + sizeof(qz_tensor));
  for (int i = 0; i < v->n; ++i) {
    const qz_tensor *t = &v->t[i];
    if (v->eq.w && v->eq.w[i])
      b += ((size_t)t->w.rows * (size_t)t->w.cols + (size_t)t->w.rows) * sizeof(float);
    b += v->halves[i].count * sizeof(uint16_t);
    if (!t->codes)
      continue;
    const size_t slots = (size_t)t->w.rows * (size_t)t->ngroups;
    b += (size_t)t->w.rows * (size_t)t->w.cols + slots * sizeof(float) +
         (t->zero_points ? slots * sizeof(int32_t) : 0) + (t->codebook ? 16 : 0);
  }
  return b;
}

/* ---- Validation ------------------------------------------------------------ */

static bool bits_valid(int b)
{
  return b == QM_BITS_FP32 || b == QM_BITS_HALF || (b >= 2 && b <= 8 && b != 7);
}

/** Widths packed from the float weights as they are, with no quantizer. */
static bool float_format(int b) { return b == QM_BITS_FP32 || b == QM_BITS_HALF; }

static qz_scheme scheme_for(const qm_setting *s, int bits)
{
  qz_scheme q;
  q.bits = bits;
  q.mapping = s->mapping;
  q.asymmetric = s->asymmetric;
  q.granularity = s->granularity;
  q.group = s->group > 0 ? s->group : QZ_DEFAULT_GROUP;
  return q;
}

static bool check_spec(const qm_model *m, const qm_setting *s, char *err, size_t errlen)
{
  if (!bits_valid(s->bits)) {
    snprintf(err, errlen, "precision %d bits is not one of 32 (FP32), 16, 8, 6, 5, 4, 3, 2",
             s->bits);
    return false;
  }
  if ((unsigned)s->activations > QM_ACTQ_STATIC) {
    snprintf(err, errlen, "unknown activation mode %d", (int)s->activations);
    return false;
  }
  if ((unsigned)s->observer >= QZ_OBS_COUNT) {
    snprintf(err, errlen, "unknown calibration observer %d", (int)s->observer);
    return false;
  }
  if (s->linear_bits && s->n_linear_bits != m->n_linears) {
    snprintf(err, errlen, "mixed precision gives %d bit widths for %d weight matrices",
             s->n_linear_bits, m->n_linears);
    return false;
  }
  if ((unsigned)s->half >= QM_HALF_COUNT) {
    snprintf(err, errlen, "unknown 16-bit form %d", (int)s->half);
    return false;
  }
  bool any_q = !float_format(s->bits);
  for (int i = 0; s->linear_bits && i < s->n_linear_bits; ++i) {
    int b = s->linear_bits[i];
    if (b != 0 && !bits_valid(b)) {
      snprintf(err, errlen, "%s: precision %d bits is not one of 32, 16, 8, 6, 5, 4, 3, 2",
               m->linears[i]->name, b);
      return false;
    }
    if (b != 0 && !float_format(b))
      any_q = true;
  }
  if (any_q) {
    qz_scheme q = scheme_for(s, 8);
    const char *why = qz_scheme_check(&q);
    if (why) {
      snprintf(err, errlen, "invalid quantization scheme: %s", why);
      return false;
    }
  }
  return true;
}

/* ---- Static-activation calibration ----------------------------------------- */

/** What the calibration pass watches at one linear's input. */
typedef struct {
  qz_observer *obs; /**< static activation scale, or NULL */
  qz_gram *gram;    /**< input statistics for post-training rounding, or NULL */
  /** Sequential FP16 rounding: the float model's input columns (K each,
      up to rec_cap of them) recorded by one pass, then, with cross set,
      sum x_f x_q^T (K x K) over the next pass's columns x_q. */
  float *rec;
  size_t rec_cap, rec_pos;
  double *cross;
} input_watch;

static void observe_input(void *user, const qm_linear *L, const float *X, int ldx, int N)
{
  input_watch *w = user;
  if (w->obs)
    qz_observer_update_strided(w->obs, X, ldx, L->in, N);
  if (w->gram)
    qz_gram_update_strided(w->gram, X, ldx, L->in, N);
  const int K = L->in;
  for (int c = 0; w->rec && c < N && w->rec_pos < w->rec_cap; ++c, ++w->rec_pos) {
    const float *x = X + (size_t)c * (size_t)ldx;
    float *xf = w->rec + w->rec_pos * (size_t)K;
    if (!w->cross) {
      memcpy(xf, x, (size_t)K * sizeof *x);
      continue;
    }
    for (int a = 0; a < K; ++a) {
      const double fa = xf[a];
      double *row = w->cross + (size_t)a * K;
      for (int b = 0; b < K; ++b)
        row[b] += fa * x[b];
    }
  }
}

/**
   Run the float model over calib, watching the inputs of the linears that
   have an observer or a gram in watch[] (see input_watch). A linear with
   rounded[i] (rounded may be NULL) plays those weights instead of its
   float ones: the FP16 weights already chosen for the linears before it
   (sequential rounding, see quantize_once). The model's
   linears are swapped to F32 weights with float activations and the
   file's biases for the pass and restored afterwards (their packed
   weights and activation settings are untouched in between except for the
   swap), so a failure leaves the model as it was.
*/
static bool calibrate(qm_model *m, input_watch *watch, const qm_equalization *eq,
                      float *const *rounded, float *const *delta, const float *calib, int n_calib,
                      char *err, size_t errlen)
{
  const int n = m->n_linears;
  if (!calib || n_calib <= 0) {
    snprintf(err, errlen,
             "static int8 activations and post-training rounding need calibration audio");
    return false;
  }
  qk_packed **saved_W = calloc((size_t)n, sizeof *saved_W);
  qm_linear_act *saved_mode = calloc((size_t)n, sizeof *saved_mode);
  float **saved_bias = calloc((size_t)n, sizeof *saved_bias);
  float **corrected = calloc((size_t)n, sizeof *corrected);
  float *out = qm_falloc((size_t)m->chunk);
  bool ok = saved_W && saved_mode && saved_bias && corrected && out;
  if (!ok)
    snprintf(err, errlen, "out of memory calibrating");
  /* Float weights for the pass: pack every linear's file weights (or
     their equalized copy) as F32. */
  int swapped = 0;
  for (int i = 0; ok && i < n; ++i, ++swapped) {
    qm_linear *L = m->linears[i];
    qk_weights qw = {.format = QK_F32,
                     .rows = L->out,
                     .cols = L->in,
                     .f32 = rounded && rounded[i] ? rounded[i] : qm_eq_weights(m, eq, i)};
    const char *why = NULL;
    qk_packed *P = qk_pack(&qw, m->isa, &why);
    if (!P) {
      snprintf(err, errlen, "cannot pack %s: %s", L->name, why ? why : "?");
      ok = false;
      break;
    }
    saved_W[i] = L->W;
    saved_mode[i] = L->act_mode;
    L->W = P;
    L->act_mode = QM_LINEAR_ACT_F32;
    /** The file's bias for the pass (a corrected one of an earlier
        setting is swapped out and back). */
    if (L->bias_file) {
      float *b = L->bias;
      L->bias = L->bias_file;
      L->bias_file = b;
    }
    /** an equalized linear's bias for the pass (a linear without one has
        zeros there: nothing to swap in) */
    saved_bias[i] = L->bias;
    if (eq && eq->bias && eq->bias[i] && L->bias)
      L->bias = eq->bias[i];
    /** a rounded linear's bias correction plays with its halves */
    if (rounded && delta && delta[i] && L->bias) {
      if (!(corrected[i] = malloc((size_t)L->out * sizeof(float)))) {
        snprintf(err, errlen, "out of memory calibrating");
        ok = false;
        ++swapped;
        break;
      }
      for (int o = 0; o < L->out; ++o)
        corrected[i][o] = L->bias[o] + delta[i][o];
      L->bias = corrected[i];
    }
  }
  if (ok) {
    qm_tap_fn tap = m->tap;
    m->tap = NULL;
    qm_model_reset(m);
    for (int i = 0; i < n; ++i) {
      if (watch[i].obs || watch[i].gram || watch[i].rec) {
        m->linears[i]->observe = observe_input;
        m->linears[i]->observe_user = &watch[i];
      }
    }
    for (int done = 0; done < n_calib;) {
      int k = n_calib - done < m->chunk ? n_calib - done : m->chunk;
      qm_model_process(m, calib + done, out, k);
      done += k;
    }
    for (int i = 0; i < n; ++i) {
      m->linears[i]->observe = NULL;
      m->linears[i]->observe_user = NULL;
    }
    m->tap = tap;
  }
  for (int i = 0; i < swapped; ++i) {
    qm_linear *L = m->linears[i];
    L->bias = saved_bias[i];
    qk_packed_free(L->W);
    L->W = saved_W[i];
    L->act_mode = saved_mode[i];
    if (L->bias_file) {
      float *b = L->bias;
      L->bias = L->bias_file;
      L->bias_file = b;
    }
  }
  free(saved_W);
  free(saved_mode);
  free(saved_bias);
  for (int i = 0; corrected && i < n; ++i)
    free(corrected[i]);
  free(corrected);
  free(out);
  return ok;
}

void qm_model_set_progress(qm_model *m, qm_progress_fn fn, void *user)
{
  m->progress = fn;
  m->progress_user = user;
}

/** Tell the progress hook, if any. The fractions are each step's share of
    a 4-bit gptq + bc preparation of wavenet_a1_standard (perf: the input
    statistics about half, the rounding and the renders the rest). */
static void progress(const qm_model *m, const char *stage, double fraction)
{
  if (m->progress)
    m->progress(m->progress_user, stage, fraction);
}

/** 10 log10(power / error), +inf for no error. */
static double sqnr_db(double power, double error)
{
  return error > 0.0 ? 10.0 * log10(power / error) : INFINITY;
}

/** Sequential FP16 rounding's pull of the fitted weights towards the
    float ones (qz_cross_target's damp): input.wav, dB, for 1e-3 / 1e-5:
    slimmable_container -67.5 / -63.1, wavenet_a1_standard -62.0 / -68.2,
    lstm.nam -60.4 / -60.4; 1e-4 and 1e-6 were worse on the container
    (-60.4, -57.7): the figure is noisy, 1e-5 is the best worst case. */
#define HALF_CROSS_DAMP 1e-5

/** The calibration ESR (dB) at or below which one-pass FP16 rounding is
    kept without trying sequential rounding (a calibration pass per
    linear: 3.0 s of CPU instead of 0.19 on wavenet_a1_standard, 5.7
    instead of 0.37 on A2.nam). 10 dB under the -60 dB target: of the 14
    test models, the one-pass calibration ESRs were -56.4 to -99.5 and
    the input.wav ESR never more than 3.5 dB above the calibration one. */
#define HALF_ONE_PASS_ENOUGH_DB (-70.0)

/** Seconds of silence FP16 rounding puts before the calibration audio it
    is given, so that the model's idle operating point (its output on
    silence, a constant the bias correction must also hit) is in the
    statistics: the rounding otherwise fits the DC of the playing clip
    only, and the output on silence moves. Measured (plugin clip, ESR on
    input.wav / worst of four held-out synthesized guitar clips, seeds
    101-404, 4 s each): convnet_relu -71.2 / -50.6 dB without, -75.0 /
    -61.2 with 0.25 s (the held-out loss was a DC offset on silence);
    overdrive_nano -73.1 / -61.5 -> -74.2 / -65.7; slimmable_container
    -63.2 / -54.9 -> -66.5 / -56.8. 0.1 and 0.5 s were worse on the
    container's worst clip (-54.5, -53.5) and convnet_relu's (-59.0,
    -59.1). */
#define HALF_IDLE_SECONDS 0.25

/** How many floats of the float model's inputs sequential FP16 rounding
    records in one pass (16 MB): one pass then serves many linears. */
#define HALF_RECORD_FLOATS ((size_t)4 << 20)

/**
   FP16 weights of linear L by sequential rounding: the target is the
   least-squares fit, on the partly rounded model's inputs x_q (statistics
   H, mu), of what the float weights w give on the float model's inputs x_f
   (recorded in watch); gptq rounds it onto the half grid against H, and
   the bias correction (into delta when not NULL) is E[w x_f] - E[half x_q].
   SQNRs as round_linear, against the target. Frees H and mu.
*/
static bool round_half_cross(const qm_linear *L, const float *w, const input_watch *watch,
                             double *H, double *mu, float *half, float *delta, double *sqnr_nearest,
                             double *sqnr, char *err, size_t errlen)
{
  const int K = L->in;
  const size_t count = watch->rec_pos;
  double *A = malloc((size_t)K * K * sizeof *A);
  double *mu_f = calloc((size_t)K, sizeof *mu_f);
  float *target = malloc((size_t)L->out * (size_t)K * sizeof *target);
  bool ok = A && mu_f && target;
  for (size_t k = 0; ok && k < (size_t)K * K; ++k)
    A[k] = watch->cross[k] / (double)count;
  for (size_t c = 0; ok && c < count; ++c)
    for (int k = 0; k < K; ++k)
      mu_f[k] += watch->rec[c * (size_t)K + k];
  for (int k = 0; ok && k < K; ++k)
    mu_f[k] /= (double)count;
  char why[160] = "";
  ok = ok && qz_cross_target(w, L->out, K, H, A, HALF_CROSS_DAMP, target);
  if (ok) {
    const double power = qz_layer_power(target, L->out, K, H);
    qz_nearest_f16(target, (size_t)L->out * (size_t)K, half);
    *sqnr_nearest = sqnr_db(power, qz_layer_error_values(half, target, L->out, K, H));
    ok = qz_round_gptq_f16(target, L->out, K, H, 0.0, half, why, sizeof why);
    *sqnr = sqnr_db(power, qz_layer_error_values(half, target, L->out, K, H));
  }
  if (!ok)
    snprintf(err, errlen, "%s: %s", L->name, why[0] ? why : "out of memory or singular inputs");
  for (int o = 0; ok && delta && o < L->out; ++o) {
    double d = 0.0;
    for (int k = 0; k < K; ++k)
      d += (double)w[(size_t)o * K + k] * mu_f[k] - (double)half[(size_t)o * K + k] * mu[k];
    delta[o] = (float)d;
  }
  free(A), free(mu_f), free(target), free(H), free(mu);
  return ok;
}

/**
   Post-training rounding of linear L, whose float weights are w (L->w or
   their equalized copy), from its input statistics g (rounding.h). Quantized (half NULL): gptq on
   tensor t if asked, then the bias correction into delta (L->out floats) if asked. FP16 weights
   (half: L->out x L->in floats): gptq onto the half grid into half, and
   the bias correction into delta when delta is not NULL. Records the
   layer SQNR of nearest rounding and of the result on the calibration
   inputs.
*/
static bool round_linear(const qm_linear *L, const float *w, const qm_setting *spec,
                         const input_watch *watch, qz_tensor *t, float *half, float *delta,
                         double *sqnr_nearest, double *sqnr, char *err, size_t errlen)
{
  const qz_gram *g = watch->gram;
  const int K = L->in;
  double *H = malloc((size_t)K * K * sizeof *H);
  double *mu = malloc((size_t)K * sizeof *mu);
  if (!H || !mu) {
    free(H), free(mu);
    snprintf(err, errlen, "%s: out of memory for its input statistics", L->name);
    return false;
  }
  qz_gram_get(g, H, mu);
  const double power = qz_layer_power(w, L->out, K, H);
  char why[160] = "";
  if (half && watch->cross && watch->rec_pos > 0)
    return round_half_cross(L, w, watch, H, mu, half, delta, sqnr_nearest, sqnr, err, errlen);
  if (half) {
    qz_nearest_f16(w, (size_t)L->out * (size_t)K, half);
    *sqnr_nearest = sqnr_db(power, qz_layer_error_values(half, w, L->out, K, H));
    const bool ok = qz_round_gptq_f16(w, L->out, K, H, 0.0, half, why, sizeof why);
    if (!ok)
      snprintf(err, errlen, "%s: %s", L->name, why);
    *sqnr = sqnr_db(power, qz_layer_error_values(half, w, L->out, K, H));
    if (ok && delta)
      qz_bias_correction_values(half, w, L->out, K, mu, delta);
    free(H), free(mu);
    return ok;
  }
  *sqnr_nearest = sqnr_db(power, qz_layer_error(t, w, H, NULL));
  bool ok = true;
  if (spec->rounding == QZ_ROUND_GPTQ || spec->rounding == QZ_ROUND_ADAROUND) {
    ok = qz_search_scales(t, w, H) && qz_round_gptq(t, w, H, 0.0, why, sizeof why) &&
         qz_refit_scales(t, w, H);
    /** adaround: coordinate descent from gptq's codes, the per-channel
        refit of the scales for the codes it chose, and descent again on
        the refitted grid (each step only lowers the objective). */
    if (ok && spec->rounding == QZ_ROUND_ADAROUND)
      ok = qz_round_adaround(t, w, H, -1.0) >= 0 && qz_refit_scales(t, w, H) &&
           qz_round_adaround(t, w, H, -1.0) >= 0;
    if (!why[0])
      snprintf(why, sizeof why, "out of memory");
  }
  if (!ok)
    snprintf(err, errlen, "%s: %s", L->name, why);
  *sqnr = sqnr_db(power, qz_layer_error(t, w, H, NULL));
  if (ok && spec->bias_correction)
    qz_bias_correction(t, w, mu, delta);
  free(H), free(mu);
  return ok;
}

/* ---- Quantize ---------------------------------------------------------------- */

/** Activation group for int8 inputs: the weights' group when it splits a
    row (zero points are folded per group), else 0 (whole row). */
static int act_group(const qk_packed *P)
{
  int g = qk_packed_group(P);
  return g < qk_packed_cols(P) ? g : 0;
}

/**
   Whether a quantized linear takes int8 activations in the int8 modes. A
   linear with a single input (WaveNet mixin and the first rechannel, the
   first LSTM/GRU input projection: the audio sample itself) keeps float
   activations: it is an outer product, one MAC per output, so int8 saves
   nothing there, while the per-column quantizer's fixed cost was a third
   of the int8 WaveNet's run time (20 of its ~60 quantized columns per
   sample). Dynamic int8 of one value is exact up to the scale's rounding
   anyway; static int8 of the raw audio would add input noise for nothing.
   Its weights are quantized like every other linear's.
*/
static bool int8_input(const qm_linear *L) { return L->in > 1; }

/** Whether linear L, at width `bits`, takes FP16 weights rounded against
    the calibration audio (rounding.h, gptq f16): FP16 weights, calibration
    audio given, and more than one input (with one there is nothing to
    compensate across). */
/** Whether the file gave linear L a bias (a corrected one may be playing). */
static bool file_has_bias(const qm_linear *L)
{
  return L->bias_file ? !L->bias_added : L->bias != NULL;
}

/**
   Install an equalized linear's bias: exactly its equalized values (so
   that it plays bit for bit the file's function), plus the bias
   correction delta when there is one. A linear the file gave no bias
   whose equalized bias is all zeros (nothing to scale) keeps none. False
   when out of memory.
*/
static bool set_equalized_bias(qm_linear *L, float *bias, const float *delta)
{
  bool zero = true;
  for (int o = 0; o < L->out; ++o) {
    if (delta)
      bias[o] += delta[o];
    zero = zero && bias[o] == 0.0f;
  }
  if (zero && !file_has_bias(L))
    return qm_linear_set_bias_offset(L, NULL);
  return qm_linear_set_bias(L, bias);
}

/** The index of linear L in m, -1 if it is not one of m's. */
static int linear_index(const qm_model *m, const qm_linear *L)
{
  for (int i = 0; i < m->n_linears; ++i)
    if (m->linears[i] == L)
      return i;
  return -1;
}

static bool rounds_half(const qm_setting *spec, int bits, const qm_linear *L, const float *calib)
{
  return bits == QM_BITS_HALF && spec->half == QM_HALF_FP16 && calib && L->in > 1;
}

static void free_watch(input_watch *watch, float **delta, float **half, int n)
{
  for (int i = 0; i < n; ++i) {
    if (watch) {
      qz_observer_free(watch[i].obs);
      qz_gram_free(watch[i].gram);
      free(watch[i].rec);
      free(watch[i].cross);
    }
    if (delta)
      free(delta[i]);
    if (half)
      free(half[i]);
  }
  free(watch);
  free(delta);
  free(half);
}

static bool quantize_once(qm_model *m, const qm_setting *spec, const float *calib, int n_calib,
                          bool sequential_half, char *err, size_t errlen)
{
  char dummy[8];
  if (!err || errlen == 0) {
    err = dummy;
    errlen = sizeof dummy;
  }
  err[0] = 0;
  if (!m || !spec) {
    snprintf(err, errlen, "no model or no specification");
    return false;
  }
  if (!check_spec(m, spec, err, errlen))
    return false;
  const int n = m->n_linears;
  variant_data *vd = calloc(1, sizeof *vd);
  qk_packed **P = calloc((size_t)n, sizeof *P);
  input_watch *watch = calloc((size_t)n, sizeof *watch);
  /** the part of watch[] one pass of sequential FP16 rounding watches */
  input_watch *pass_watch = calloc((size_t)n, sizeof *pass_watch);
  float *scales = calloc((size_t)n, sizeof *scales);
  float **delta = calloc((size_t)n, sizeof *delta);
  /** FP16 weights rounded against the calibration audio, per linear */
  float **half = calloc((size_t)n, sizeof *half);
  bool *recorded = calloc((size_t)n, sizeof *recorded);
  if (!vd || !P || !watch || !pass_watch || !scales || !delta || !half || !recorded ||
      !(vd->bits = calloc((size_t)n, sizeof(int))) ||
      !(vd->halves = calloc((size_t)n, sizeof(half_weights))) ||
      !(vd->t = calloc((size_t)n, sizeof(qz_tensor))) ||
      !(vd->sqnr_nearest_db = malloc((size_t)n * sizeof(double))) ||
      !(vd->sqnr_db = malloc((size_t)n * sizeof(double)))) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  vd->n = n;
  vd->half = spec->half;
  vd->calib_esr_nearest_db = vd->calib_esr_db = NAN;
  const bool ptq = spec->rounding != QZ_ROUND_NEAREST || spec->bias_correction;
  /** Equalization rescales the float weights first (equalize.h); a file
      exported quantized keeps its recorded levels instead. */
  if (spec->equalize && !m->scheme_record && !qm_equalize(m, false, &vd->eq, err, errlen))
    goto fail;
  const qm_equalization *eq = &vd->eq;

  /* Phase 1 (fallible, the model is not touched): quantize, calibrate,
     round, pack. */
  bool any_watch = false;
  qz_observer_config cfg = {.kind = spec->observer, .percentile = 0.0, .bins = 0};
  for (int i = 0; i < n; ++i) {
    qm_linear *L = m->linears[i];
    int b = spec->linear_bits && spec->linear_bits[i] ? spec->linear_bits[i] : spec->bits;
    vd->bits[i] = b;
    vd->sqnr_nearest_db[i] = vd->sqnr_db[i] = NAN;
    if (rounds_half(spec, b, L, calib)) {
      if (!(watch[i].gram = qz_gram_create(L->in))) {
        snprintf(err, errlen, "%s: out of memory for its input statistics", L->name);
        goto fail;
      }
      any_watch = true;
    }
    if (float_format(b))
      continue;
    qz_scheme q = scheme_for(spec, b);
    char qerr[160] = "";
    /* A file exported quantized (models/scheme_record.h) says which levels
       its weights sit on: encoded there, they keep their codes exactly. */
    const qm_linear_record *R = qm_scheme_record_match(m->scheme_record, L, &q);
    recorded[i] = R != NULL;
    if (R ? !qz_quantize_fixed(L->w, L->out, L->in, &q, R->levels, R->scales, R->zero_points,
                               R->has_codebook ? R->codebook : NULL, &vd->t[i], qerr, sizeof qerr)
          : !qz_quantize(qm_eq_weights(m, eq, i), L->out, L->in, &q, &vd->t[i], qerr,
                         sizeof qerr)) {
      snprintf(err, errlen, "%s: %s", L->name, qerr);
      goto fail;
    }
    if (spec->activations == QM_ACTQ_STATIC && int8_input(L) &&
        !(watch[i].obs = qz_observer_create(&cfg))) {
      snprintf(err, errlen, "cannot create a %s observer", qz_observer_name(spec->observer));
      goto fail;
    }
    /* recorded weights carry their rounding and bias correction already */
    if (ptq && int8_input(L) && !recorded[i] && !(watch[i].gram = qz_gram_create(L->in))) {
      snprintf(err, errlen, "%s: out of memory for its input statistics", L->name);
      goto fail;
    }
    any_watch = any_watch || watch[i].obs || watch[i].gram;
  }
  /* the float pass needs every layer's float history (an int8 layer of an
     earlier setting keeps none) */
  if (any_watch && !qm_model_prepare_quantized(m, NULL)) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  if (ptq)
    progress(m, "input statistics", 0.2);
  /** FP16 weights round sequentially when they are all that is watched
      and sequential_half asks for it: each linear with a gram, in model
      order, records the float model's inputs in one pass, then gathers
      its statistics and their cross term with those in a pass in which
      the linears before it play their rounded halves and corrected
      biases, and gptq rounds the weights that best reproduce its float
      output from those inputs (round_half_cross), compensating the error
      arriving from upstream. A calibration pass per linear: rounding
      in runs of 16 or 32 linears per pass left slimmable_container at
      -56.5 and -59.7 dB, one per pass -63.1. The float inputs of many
      linears are recorded in one pass (HALF_RECORD_FLOATS). */
  int n_half_gram = 0;
  bool other_watch = false;
  for (int i = 0; i < n; ++i) {
    if (watch[i].gram && vd->bits[i] == QM_BITS_HALF)
      ++n_half_gram;
    else if (watch[i].obs || watch[i].gram)
      other_watch = true;
  }
  const bool sequential = sequential_half && n_half_gram > 0 && !other_watch;
  if (any_watch && !sequential && !calibrate(m, watch, eq, NULL, NULL, calib, n_calib, err, errlen))
    goto fail;
  int recorded_end = 0; /**< the linears before it have their float inputs recorded */
  for (int i = 0; i < n; ++i) {
    qm_linear *L = m->linears[i];
    if (sequential && watch[i].gram) {
      bool ok = true;
      if (i >= recorded_end) {
        /** the float model's inputs of the next linears, as many as
            HALF_RECORD_FLOATS allows (at least one), in one pass */
        memset(pass_watch, 0, (size_t)n * sizeof *pass_watch);
        size_t floats = 0;
        int j = i;
        for (; ok && j < n; ++j) {
          if (!watch[j].gram)
            continue;
          const size_t f = (size_t)n_calib * (size_t)m->linears[j]->in;
          if (j > i && floats + f > HALF_RECORD_FLOATS)
            break;
          floats += f;
          pass_watch[j].rec_cap = (size_t)n_calib;
          ok = (watch[j].rec = pass_watch[j].rec = malloc(f * sizeof(float))) != NULL;
        }
        recorded_end = j;
        ok = ok && calibrate(m, pass_watch, eq, NULL, NULL, calib, n_calib, err, errlen);
        for (j = i; j < recorded_end; ++j)
          watch[j].rec_pos = pass_watch[j].rec_pos;
      }
      /** then linear i's statistics and their cross term with its float
          inputs, the linears before it playing their rounded halves */
      memset(pass_watch, 0, (size_t)n * sizeof *pass_watch);
      input_watch *w = &pass_watch[i];
      *w = watch[i];
      w->rec_cap = watch[i].rec_pos;
      w->rec_pos = 0;
      ok = ok && (watch[i].cross = w->cross =
                      calloc((size_t)L->in * (size_t)L->in, sizeof(double))) != NULL;
      ok = ok && calibrate(m, pass_watch, eq, half, delta, calib, n_calib, err, errlen);
      watch[i].rec_pos = w->rec_pos;
      if (!ok) {
        if (!err[0])
          snprintf(err, errlen, "out of memory for sequential FP16 rounding");
        goto fail;
      }
    }
    if (watch[i].obs)
      scales[i] = qz_observer_scale(watch[i].obs);
    if (watch[i].gram) {
      char stage[48];
      snprintf(stage, sizeof stage, "rounding layer %d of %d", i + 1, n);
      progress(m, stage, 0.6 + 0.25 * i / n);
      const bool is_half = vd->bits[i] == QM_BITS_HALF;
      /** FP16 weights correct the biases the file has (biases stay
          float), or the bias of the linear their output is summed with
          (bias_into), never adding one: the weight memory stays FP32's
          minus 2 bytes per weight, and an export keeps the file's
          layout. */
      const bool bc = is_half ? file_has_bias(L) || (L->bias_into && file_has_bias(L->bias_into))
                              : spec->bias_correction;
      if ((bc && !(delta[i] = calloc((size_t)L->out, sizeof(float)))) ||
          (is_half && !(half[i] = malloc((size_t)L->out * (size_t)L->in * sizeof(float))))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
      }
      if (!round_linear(L, qm_eq_weights(m, eq, i), spec, &watch[i], &vd->t[i], half[i], delta[i],
                        &vd->sqnr_nearest_db[i], &vd->sqnr_db[i], err, errlen))
        goto fail;
      free(watch[i].rec);
      free(watch[i].cross);
      watch[i].rec = NULL;
      watch[i].cross = NULL;
      if (is_half) {
        half_weights *h = &vd->halves[i];
        h->count = (size_t)L->out * (size_t)L->in;
        if (!(h->bits = malloc(h->count * sizeof *h->bits))) {
          snprintf(err, errlen, "out of memory");
          goto fail;
        }
        qk_f32_to_f16_isa(QK_ISA_SCALAR, h->bits, half[i], h->count);
      }
    }
    /* a correction for a linear without a bias moves to its partner's */
    const int into = half[i] && delta[i] && !file_has_bias(L) && L->bias_into
                         ? linear_index(m, L->bias_into)
                         : -1;
    if (into >= 0) {
      if (!delta[into] && !(delta[into] = calloc((size_t)L->out, sizeof(float)))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
      }
      for (int r = 0; r < L->out; ++r)
        delta[into][r] += delta[i][r];
      free(delta[i]);
      delta[i] = NULL;
    }
    const char *why = NULL;
    if (float_format(vd->bits[i])) {
      const qk_format f = vd->bits[i] == QM_BITS_FP32  ? QK_F32
                          : spec->half == QM_HALF_BF16 ? QK_BF16
                                                       : QK_F16;
      /* halves rounded against the calibration audio pack exactly */
      qk_weights qw = {.format = f,
                       .rows = L->out,
                       .cols = L->in,
                       .f32 = half[i] ? half[i] : qm_eq_weights(m, eq, i)};
      P[i] = qk_pack(&qw, m->isa, &why);
    } else {
      P[i] = qk_pack(&vd->t[i].w, m->isa, &why);
    }
    if (!P[i]) {
      snprintf(err, errlen, "cannot pack %s (%dx%d) for %s: %s", L->name, L->out, L->in,
               qk_isa_name(m->isa), why ? why : "?");
      goto fail;
    }
  }

  /* Phase 2: install. Dropping to float activations first lets any weight
     format in; set_packed() then only checks the shape, which matches. The
     int8 scratch allocation is the one step left that can fail; then the
     linear falls back to float activations and we report it. */
  bool act_ok = true;
  for (int i = 0; i < n; ++i) {
    qm_linear *L = m->linears[i];
    qm_linear_set_activations(L, QM_LINEAR_ACT_F32, 0.0f, 0);
    if (!qm_linear_set_packed(L, P[i])) {
      snprintf(err, errlen, "%s: packed shape mismatch", L->name);
      act_ok = false;
      qk_packed_free(P[i]);
      P[i] = NULL;
      continue;
    }
    P[i] = NULL;
    if (!(eq->bias && eq->bias[i] ? set_equalized_bias(L, eq->bias[i], delta[i])
                                  : qm_linear_set_bias_offset(L, delta[i]))) {
      snprintf(err, errlen, "%s: out of memory for its corrected bias", L->name);
      act_ok = false;
    }
    if (float_format(vd->bits[i]) || spec->activations == QM_ACTQ_FLOAT || !int8_input(L))
      continue;
    qm_linear_act mode =
        spec->activations == QM_ACTQ_DYNAMIC ? QM_LINEAR_ACT_S8_DYNAMIC : QM_LINEAR_ACT_S8_STATIC;
    if (!qm_linear_set_activations(L, mode, scales[i], act_group(L->W))) {
      snprintf(err, errlen, "%s: cannot set int8 activations (out of memory?)", L->name);
      act_ok = false;
    }
  }
  /* One int8 scratch for all linears instead of one each (optional: out of
     memory, each keeps its own). */
  qm_model_share_act(m);
  /* Run-time forms derived from the quantized codes (optional: a failed
     allocation leaves them out and only costs speed). */
  const qk_weights **wl = calloc((size_t)n, sizeof *wl);
  for (int i = 0; wl && i < n; ++i)
    wl[i] = float_format(vd->bits[i]) ? NULL : &vd->t[i].w;
  if (!qm_model_prepare_quantized(m, wl)) {
    snprintf(err, errlen, "out of memory");
    act_ok = false;
  }
  free(wl);
  if (m->variant && m->variant_free)
    m->variant_free(m->variant);
  m->variant = vd;
  m->variant_free = variant_data_free;
  m->variant_bytes = variant_data_bytes;
  free(P);
  free(pass_watch);
  free_watch(watch, delta, half, n);
  free(scales);
  free(recorded);
  qm_model_take_clipped(m);
  /** Prewarm once here, off the audio thread, and keep the state: a reset
      in run() then costs a copy, not a prewarm. */
  if (!qm_model_save_prewarm(m)) {
    snprintf(err, errlen, "out of memory keeping the prewarmed state");
    act_ok = false;
  } else if (!qm_model_prewarm_finite(m)) {
    snprintf(err, errlen, "the quantized model's output on silence is not finite");
    act_ok = false;
  }
  return act_ok;

fail:
  for (int i = 0; P && i < n; ++i)
    qk_packed_free(P[i]);
  free(P);
  free(pass_watch);
  free_watch(watch, delta, half, n);
  free(scales);
  free(recorded);
  variant_data_free(vd);
  return false;
}

qm_model *qm_variant_create(const qm_desc *d, const qm_setting *spec, const qm_options *opt,
                            const float *calib, int n_calib, char *err, size_t errlen)
{
  qm_model *m = qm_model_create(d, opt, err, errlen);
  if (!m)
    return NULL;
  char why[256] = "";
  if (!qm_model_quantize(m, spec, calib, n_calib, why, sizeof why)) {
    snprintf(err, errlen, "%s: %s", d->path ? d->path : "(model)", why);
    qm_model_free(m);
    return NULL;
  }
  return m;
}

bool qm_model_linear_rounding_sqnr(const qm_model *m, int linear, double *nearest_db,
                                   double *rounded_db)
{
  const variant_data *vd = m ? m->variant : NULL;
  if (!vd || linear < 0 || linear >= vd->n || isnan(vd->sqnr_db[linear]))
    return false;
  *nearest_db = vd->sqnr_nearest_db[linear];
  *rounded_db = vd->sqnr_db[linear];
  return true;
}

/** ESR in dB of m's output on x against ref (n samples), from a reset,
    taps off; the model is reset again afterwards. */
static double calib_esr_db(qm_model *m, const float *x, const float *ref, float *y, int n)
{
  qm_tap_fn tap = m->tap;
  m->tap = NULL;
  qm_model_reset(m);
  for (int done = 0; done < n;) {
    int k = n - done < m->chunk ? n - done : m->chunk;
    qm_model_process(m, x + done, y + done, k);
    done += k;
  }
  m->tap = tap;
  qm_model_reset(m);
  double num = 0.0, den = 0.0;
  for (int i = 0; i < n; ++i) {
    double e = (double)y[i] - (double)ref[i];
    num += e * e;
    den += (double)ref[i] * (double)ref[i];
  }
  return num > 0.0 ? 10.0 * log10(num / (den > 0.0 ? den : 1e-300)) : -INFINITY;
}

/**
   Post-training rounding lowers every layer's own error, but layers feed
   each other, so end to end it can still lose to nearest rounding (seen on
   2-bit k-means); equalization evens the weight ranges but is not always
   a gain either. Guard: render the calibration audio through the float
   model, the plain nearest variant (no rounding, no correction, no
   equalization) and the asked one, and keep the asked one only if its ESR
   is not higher; else the plain nearest variant (bias correction
   included or not as asked) is installed again. With equalization and a
   rounding or correction, the asked setting without equalization is
   rendered too and the better of the two is the candidate. Costs two
   cheap quantizations (nearest, FP32), one more with equalization, and a
   render of the calibration audio per variant, besides the rounding
   itself.
*/
/** Whether spec gives some linear FP16 weights (rounded against
    calibration audio when there is some). */
static bool uses_half_rounding(const qm_setting *spec)
{
  if (spec->half != QM_HALF_FP16)
    return false;
  if (!spec->linear_bits)
    return spec->bits == QM_BITS_HALF;
  for (int i = 0; i < spec->n_linear_bits; ++i)
    if ((spec->linear_bits[i] ? spec->linear_bits[i] : spec->bits) == QM_BITS_HALF)
      return true;
  return false;
}

/**
   FP16 weights with calibration audio: one-pass rounding first; when its
   ESR against the float model on the calibration audio is above
   HALF_ONE_PASS_ENOUGH_DB, sequential rounding (quantize_once) too, and
   the one whose output is nearer the float model's there is kept. Sequential
   rounding compensates the error accumulated over many linears (the
   random-weight WaveNet of slimmable_container.nam: -56.5 -> -63.1 dB on
   input.wav) but can overfit the clip on recurrent models (lstm.nam:
   -69.9 -> -60.4 dB), which the calibration ESR sees. Both run on the
   given audio after HALF_IDLE_SECONDS of silence.
*/
static bool quantize_half(qm_model *m, const qm_setting *spec, const float *given, int n_given,
                          char *err, size_t errlen)
{
  const int n_idle = (int)(HALF_IDLE_SECONDS * m->sample_rate);
  const int n_calib = n_idle + n_given;
  float *idle_first = qm_falloc((size_t)n_calib);
  float *ref = qm_falloc((size_t)n_calib), *y = qm_falloc((size_t)n_calib);
  if (!idle_first || !ref || !y) {
    free(idle_first), free(ref), free(y);
    snprintf(err, errlen, "out of memory");
    return false;
  }
  memset(idle_first, 0, (size_t)n_idle * sizeof(float));
  memcpy(idle_first + n_idle, given, (size_t)n_given * sizeof(float));
  const float *calib = idle_first;
  qm_setting fp32 = *spec;
  fp32.bits = QM_BITS_FP32;
  fp32.linear_bits = NULL;
  fp32.n_linear_bits = 0;
  bool ok = quantize_once(m, &fp32, NULL, 0, false, err, errlen);
  if (ok) {
    calib_esr_db(m, calib, calib, ref, n_calib); /* ref = the float output */
    ok = quantize_once(m, spec, calib, n_calib, false, err, errlen);
  }
  const double e_once = ok ? calib_esr_db(m, calib, ref, y, n_calib) : NAN;
  if (!ok || e_once <= HALF_ONE_PASS_ENOUGH_DB) {
    free(idle_first), free(ref), free(y);
    return ok;
  }
  ok = quantize_once(m, spec, calib, n_calib, true, err, errlen);
  const double e_seq = ok ? calib_esr_db(m, calib, ref, y, n_calib) : NAN;
  if (ok && e_once < e_seq)
    ok = quantize_once(m, spec, calib, n_calib, false, err, errlen);
  free(idle_first), free(ref), free(y);
  return ok;
}

bool qm_model_quantize(qm_model *m, const qm_setting *spec, const float *calib, int n_calib,
                       char *err, size_t errlen)
{
  const bool ptq = spec && (spec->rounding != QZ_ROUND_NEAREST || spec->bias_correction);
  if (spec && uses_half_rounding(spec) && !ptq && !spec->equalize && calib && n_calib > 0)
    return quantize_half(m, spec, calib, n_calib, err, errlen);
  if (!m || !spec || !(ptq || spec->equalize) || !calib || n_calib <= 0)
    return quantize_once(m, spec, calib, n_calib, true, err, errlen);
  float *ref = qm_falloc((size_t)n_calib), *y = qm_falloc((size_t)n_calib);
  if (!ref || !y) {
    free(ref), free(y);
    snprintf(err, errlen, "out of memory");
    return false;
  }
  qm_setting fp32 = *spec, nearest = *spec, unequalized = *spec;
  fp32.bits = QM_BITS_FP32;
  fp32.linear_bits = NULL;
  fp32.n_linear_bits = 0;
  fp32.rounding = QZ_ROUND_NEAREST;
  fp32.bias_correction = fp32.equalize = false;
  nearest.rounding = QZ_ROUND_NEAREST;
  nearest.bias_correction = nearest.equalize = false;
  unequalized.equalize = false;
  progress(m, "float reference", 0.0);
  bool ok = quantize_once(m, &fp32, NULL, 0, true, err, errlen);
  double e_near = NAN, e_opt = NAN, e_uneq = INFINITY;
  if (ok) {
    calib_esr_db(m, calib, calib, ref, n_calib); /* ref = the float output */
    progress(m, "nearest rounding", 0.1);
    ok = quantize_once(m, &nearest, calib, n_calib, true, err, errlen);
  }
  if (ok)
    e_near = calib_esr_db(m, calib, ref, y, n_calib);
  /* the asked setting without equalization, when that is not plain nearest */
  if (ok && spec->equalize && ptq) {
    ok = quantize_once(m, &unequalized, calib, n_calib, true, err, errlen);
    if (ok)
      e_uneq = calib_esr_db(m, calib, ref, y, n_calib);
  }
  if (ok) {
    ok = quantize_once(m, spec, calib, n_calib, true, err, errlen);
    if (ok)
      e_opt = calib_esr_db(m, calib, ref, y, n_calib);
  }
  if (ok && e_uneq < e_opt) {
    ok = quantize_once(m, &unequalized, calib, n_calib, true, err, errlen);
    e_opt = e_uneq;
  }
  if (ok) {
    progress(m, "checking against nearest", 0.85);
    variant_data *vd = m->variant;
    if (e_opt > e_near) {
      /* keep the per-layer figures of the rounding that was tried */
      const int n = vd->n;
      double *a = vd->sqnr_nearest_db, *b = vd->sqnr_db;
      vd->sqnr_nearest_db = vd->sqnr_db = NULL;
      ok = quantize_once(m, &nearest, calib, n_calib, true, err, errlen);
      vd = m->variant;
      if (ok && vd->n == n) {
        free(vd->sqnr_nearest_db);
        free(vd->sqnr_db);
        vd->sqnr_nearest_db = a;
        vd->sqnr_db = b;
      } else {
        free(a), free(b);
      }
    }
    if (ok) {
      vd->calib_esr_nearest_db = e_near;
      vd->calib_esr_db = e_opt;
      vd->rounding_kept = e_opt <= e_near;
    }
  }
  free(ref), free(y);
  return ok;
}

bool qm_model_equalized(const qm_model *m)
{
  const variant_data *vd = m ? m->variant : NULL;
  return vd && vd->eq.n_scaled > 0;
}

bool qm_model_rounding_guard(const qm_model *m, double *calib_esr_nearest_db, double *calib_esr_db,
                             bool *kept)
{
  const variant_data *vd = m ? m->variant : NULL;
  if (!vd || isnan(vd->calib_esr_db))
    return false;
  *calib_esr_nearest_db = vd->calib_esr_nearest_db;
  *calib_esr_db = vd->calib_esr_db;
  *kept = vd->rounding_kept;
  return true;
}

/* ---- Streaming state ----------------------------------------------------- */

bool qm_model_copy_state(qm_model *dst, const qm_model *src)
{
  if (!dst || !src || dst->arch != src->arch)
    return false;
  if (dst == src)
    return true;
  return dst->ops->copy_state(dst, src);
}

size_t qm_model_take_clipped(qm_model *m)
{
  size_t c = 0;
  for (int i = 0; i < m->n_linears; ++i) {
    c += m->linears[i]->clipped;
    m->linears[i]->clipped = 0;
  }
  return c;
}

/* ---- Weights for the GUI ---------------------------------------------------- */

static const qz_tensor *tensor_of(const qm_model *m, int i)
{
  const variant_data *vd = m->variant;
  if (!vd || i < 0 || i >= vd->n || !vd->t[i].codes)
    return NULL;
  return &vd->t[i];
}

const qz_tensor *qm_model_linear_tensor(const qm_model *m, int linear)
{
  return m ? tensor_of(m, linear) : NULL;
}

int qm_model_linear_used_weights(const qm_model *m, int linear, float *w, int max)
{
  if (!m || linear < 0 || linear >= m->n_linears || !w || max <= 0)
    return 0;
  const qm_linear *L = m->linears[linear];
  size_t total = (size_t)L->out * (size_t)L->in;
  size_t n = total < (size_t)max ? total : (size_t)max;
  const qz_tensor *t = tensor_of(m, linear);
  const variant_data *vd = m->variant;
  /** the float weights the variant was made from (equalized or the file's) */
  const float *fw = qm_eq_weights(m, vd ? &vd->eq : NULL, linear);
  if (!t && vd && linear < vd->n && vd->halves[linear].bits) {
    qk_f16_to_f32_isa(QK_ISA_SCALAR, w, vd->halves[linear].bits, n);
    return (int)n;
  }
  if (!t && vd && linear < vd->n && vd->bits[linear] == QM_BITS_HALF) {
    /** what qk_pack made of them: their nearest halves or bfloat16s */
    for (size_t i = 0; i < n; ++i) {
      uint16_t b;
      if (vd->half == QM_HALF_BF16) {
        qk_f32_to_bf16_isa(QK_ISA_SCALAR, &b, &fw[i], 1);
        uint32_t u = (uint32_t)b << 16;
        memcpy(&w[i], &u, sizeof u);
      } else {
        qk_f32_to_f16_isa(QK_ISA_SCALAR, &b, &fw[i], 1);
        qk_f16_to_f32_isa(QK_ISA_SCALAR, &w[i], &b, 1);
      }
    }
    return (int)n;
  }
  if (!t) {
    memcpy(w, fw, n * sizeof(float));
    return (int)n;
  }
  if (n == total) {
    qz_dequantize(t, w);
    return (int)n;
  }
  float *tmp = malloc(total * sizeof(float));
  if (!tmp)
    return 0;
  qz_dequantize(t, tmp);
  memcpy(w, tmp, n * sizeof(float));
  free(tmp);
  return (int)n;
}

static int cmp_int(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/**
   Levels of row `row`, group 0: w = scale * (v - zp) for every value v the
   quantizer can give a weight. Linear: symmetric v in [-(2^(b-1)-1),
   2^(b-1)-1], asymmetric v in [-2^(b-1), 2^(b-1)-1] (quantize.h);
   codebooks: the distinct entries of the table (2^b of them).
*/
int qm_model_linear_levels(const qm_model *m, int linear, int row, float *levels, int max)
{
  if (!m || !levels || max <= 0)
    return 0;
  const qz_tensor *t = tensor_of(m, linear);
  if (!t || row < 0 || row >= t->w.rows)
    return 0;
  int v[256], nv = 0;
  if (qk_format_is_codebook(t->w.format)) {
    int entries = 1 << qk_format_bits(t->w.format);
    for (int i = 0; i < entries; ++i)
      v[nv++] = t->codebook[i];
    qsort(v, (size_t)nv, sizeof v[0], cmp_int);
    int u = 0;
    for (int i = 0; i < nv; ++i)
      if (u == 0 || v[i] != v[u - 1])
        v[u++] = v[i];
    nv = u;
  } else {
    int half = 1 << (t->scheme.bits - 1);
    int lo = t->zero_points ? -half : -(half - 1), hi = half - 1;
    for (int x = lo; x <= hi; ++x)
      v[nv++] = x;
  }
  size_t slot = (size_t)row * (size_t)t->ngroups;
  float scale = t->scales[slot];
  int zp = t->zero_points ? t->zero_points[slot] : 0;
  int k = 0;
  for (int i = 0; i < nv && k < max; ++i)
    levels[k++] = scale * (float)(v[i] - zp);
  /** A negative scale (mirrored pow2 blocks) reverses the order: keep the
      levels ascending for the histogram. */
  if (k > 1 && levels[0] > levels[k - 1])
    for (int i = 0; i < k / 2; ++i) {
      float x = levels[i];
      levels[i] = levels[k - 1 - i];
      levels[k - 1 - i] = x;
    }
  return k;
}
