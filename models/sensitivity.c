/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Mixed precision: the sensitivity table, the allocator and the error
  accumulation. See sensitivity.h for the contract and the formulas.

  Every measurement rebuilds one engine in place (qm_model_quantize with
  per-linear widths, FP32 everywhere but where a width is asked) and plays
  the calibration clip through it from its prewarmed state; the float
  model's output on the same clip is rendered once and kept.
*/
#include "sensitivity.h"

#include "engine_internal.h"
#include "train/tr_synth.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const int qm_mixed_width[QM_MIXED_WIDTHS] = {8, 6, 5, 4, 3, 2};

float *qm_mixed_clip(int *n)
{
  *n = (int)(QM_MIXED_CLIP_S * 48000.0);
  const int span = QM_MIXED_CLIP_PIECES;
  const size_t whole = (size_t)*n * (size_t)span;
  float *all = malloc(whole * sizeof *all);
  float *x = malloc((size_t)*n * sizeof *x);
  if (!all || !x) {
    free(all), free(x);
    return NULL;
  }
  tr_synth_guitar(all, whole, QM_MIXED_CLIP_SEED);
  const int piece = *n / span;
  for (int k = 0; k < span; ++k) {
    float *p = x + (size_t)k * piece;
    memcpy(p, all + (size_t)k * *n, (size_t)piece * sizeof *x);
    /** Every piece at QM_MIXED_CLIP_LEVEL_DB RMS (sensitivity.h): the
        clip's own pieces lie between -68 and -19 dB, so the loudest one
        or two made the whole ESR and the quiet ones counted for nothing. */
    double power = 0.0;
    for (int t = 0; t < piece; ++t)
      power += (double)p[t] * (double)p[t];
    power /= piece;
    if (power > 0.0) {
      const float gain = (float)sqrt(pow(10.0, QM_MIXED_CLIP_LEVEL_DB / 10.0) / power);
      for (int t = 0; t < piece; ++t)
        p[t] *= gain;
    }
  }
  free(all);
  return x;
}

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* ---- One engine, rebuilt per measurement ------------------------------------- */

/** An engine of the model, the float output of the clip, and room for a
    quantized output and the widths of the next build. */
typedef struct {
  qm_model *m;
  const float *x;
  int n;
  float *ref, *y;
  double ref_power; /**< sum ref^2 */
  int *widths;      /**< per linear, 32 = float */
  qm_setting scheme;
} bench;

static void bench_free(bench *b)
{
  qm_model_free(b->m);
  free(b->ref);
  free(b->y);
  free(b->widths);
}

static void play(qm_model *m, const float *x, float *y, int n)
{
  qm_tap_fn tap = m->tap;
  m->tap = NULL;
  qm_model_restore_prewarm(m);
  for (int done = 0; done < n;) {
    int k = n - done < m->chunk ? n - done : m->chunk;
    qm_model_process(m, x + done, y + done, k);
    done += k;
  }
  m->tap = tap;
}

/** The scheme, its rounding included, with mixed widths from b->widths
    (the base width FP32: a 0 nowhere). */
static bool bench_open(bench *b, const qm_desc *d, const qm_setting *scheme, const float *x, int n,
                       char *err, size_t errlen)
{
  memset(b, 0, sizeof *b);
  if (!x || n <= 0) {
    snprintf(err, errlen, "mixed precision needs calibration audio");
    return false;
  }
  qm_options o;
  qm_options_default(&o);
  b->m = qm_model_create(d, &o, err, errlen);
  if (!b->m)
    return false;
  b->x = x;
  b->n = n;
  const int nl = qm_model_linear_count(b->m);
  b->ref = qm_falloc((size_t)n);
  b->y = qm_falloc((size_t)n);
  b->widths = malloc((size_t)(nl > 0 ? nl : 1) * sizeof *b->widths);
  if (!b->ref || !b->y || !b->widths) {
    snprintf(err, errlen, "out of memory");
    bench_free(b);
    return false;
  }
  for (int i = 0; i < nl; ++i)
    b->widths[i] = QM_BITS_FP32;
  b->scheme = *scheme;
  b->scheme.bits = QM_BITS_FP32;
  b->scheme.linear_bits = b->widths;
  b->scheme.n_linear_bits = nl;
  play(b->m, x, b->ref, n);
  double p = 0.0;
  for (int i = 0; i < n; ++i)
    p += (double)b->ref[i] * (double)b->ref[i];
  b->ref_power = p;
  return true;
}

/** Build b->widths and return its output ESR on the clip (linear), or NAN
    with a message. */
static double bench_esr(bench *b, char *err, size_t errlen)
{
  if (!qm_model_quantize(b->m, &b->scheme, b->x, b->n, err, errlen))
    return NAN;
  play(b->m, b->x, b->y, b->n);
  double e = 0.0;
  for (int i = 0; i < b->n; ++i) {
    double d = (double)b->y[i] - (double)b->ref[i];
    e += d * d;
  }
  return e / (b->ref_power > 0.0 ? b->ref_power : 1e-300);
}

/* ---- The table ----------------------------------------------------------------- */

/** Whether the scheme's mapping has width w: 6, 5 and 3 bits are linear
    codes only (quantize.h), so pow2 and k-means tables keep 8 / 4 / 2. */
static bool width_exists(const qm_setting *scheme, int w)
{
  qz_scheme q = {qm_mixed_width[w], scheme->mapping, scheme->asymmetric, scheme->granularity,
                 scheme->group};
  return qz_scheme_check(&q) == NULL;
}

void qm_sensitivity_free(qm_sensitivity *s)
{
  if (!s)
    return;
  free(s->weights);
  free(s->esr);
  memset(s, 0, sizeof *s);
}

bool qm_sensitivity_measure(const qm_desc *d, const qm_setting *scheme, const float *calib,
                            int n_calib, qm_sensitivity *out, char *err, size_t errlen)
{
  memset(out, 0, sizeof *out);
  const double t0 = now_ms();
  bench b;
  if (!bench_open(&b, d, scheme, calib, n_calib, err, errlen))
    return false;
  const int nl = qm_model_linear_count(b.m);
  out->n = nl;
  out->weights = malloc((size_t)(nl > 0 ? nl : 1) * sizeof *out->weights);
  out->esr = malloc((size_t)(nl > 0 ? nl : 1) * QM_MIXED_WIDTHS * sizeof *out->esr);
  bool ok = out->weights && out->esr;
  if (!ok)
    snprintf(err, errlen, "out of memory");
  for (int i = 0; ok && i < nl; ++i) {
    const qm_linear *L = qm_model_linear(b.m, i);
    out->weights[i] = (long)L->out * (long)L->in;
    for (int w = 0; ok && w < QM_MIXED_WIDTHS; ++w) {
      if (!width_exists(scheme, w)) {
        out->esr[i * QM_MIXED_WIDTHS + w] = NAN; /* never offered (width_offered) */
        continue;
      }
      b.widths[i] = qm_mixed_width[w];
      double e = bench_esr(&b, err, errlen);
      ok = !isnan(e);
      out->esr[i * QM_MIXED_WIDTHS + w] = e;
    }
    b.widths[i] = QM_BITS_FP32;
  }
  out->scheme = b.scheme;
  out->scheme.linear_bits = NULL;
  out->scheme.n_linear_bits = 0;
  bench_free(&b);
  if (!ok) {
    qm_sensitivity_free(out);
    return false;
  }
  out->ms = now_ms() - t0;
  return true;
}

double qm_mixed_average_bits(const qm_sensitivity *s, const int *bits)
{
  double num = 0.0, den = 0.0;
  for (int i = 0; i < s->n; ++i) {
    num += (double)s->weights[i] * bits[i];
    den += (double)s->weights[i];
  }
  return den > 0.0 ? num / den : 0.0;
}

static int width_index(int bits)
{
  for (int w = 0; w < QM_MIXED_WIDTHS; ++w)
    if (qm_mixed_width[w] == bits)
      return w;
  return -1;
}

/** Whether the table offers width w (a NaN column: the scheme's mapping
    has no such width, see width_exists). */
static bool width_offered(const qm_sensitivity *s, int w) { return s->n > 0 && !isnan(s->esr[w]); }

/** The next offered width index after w in direction dir (+1 narrower,
    -1 wider), -1 if none. */
static int next_width(const qm_sensitivity *s, int w, int dir)
{
  for (int v = w + dir; v >= 0 && v < QM_MIXED_WIDTHS; v += dir)
    if (width_offered(s, v))
      return v;
  return -1;
}

/** e_i(w) made monotone in the width: a wider width measured worse than a
    narrower one is noise of the clip, so it is given the narrower one's
    error (the allocator then never pays bits for nothing):
    cost_i(w) = min over offered widths v no wider than w of e_i(v). */
static double cost(const qm_sensitivity *s, int i, int w)
{
  double c = s->esr[i * QM_MIXED_WIDTHS + w];
  for (int v = w + 1; v < QM_MIXED_WIDTHS; ++v)
    if (s->esr[i * QM_MIXED_WIDTHS + v] < c) /* false for a NaN column */
      c = s->esr[i * QM_MIXED_WIDTHS + v];
  return c;
}

double qm_mixed_predicted_esr(const qm_sensitivity *s, const int *bits)
{
  double e = 0.0;
  for (int i = 0; i < s->n; ++i) {
    int w = width_index(bits[i]);
    if (w >= 0)
      e += cost(s, i, w);
  }
  return e;
}

/* ---- The allocator ---------------------------------------------------------------- */

static long gcd_long(long a, long b)
{
  while (b) {
    long t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/**
   Dynamic programming, not greedy. The problem is a multiple-choice
   knapsack: each linear takes one of the widths, whose bits above 2 per
   weight cost n_i (b_i - 2) units, and the predicted errors add. A
   greedy pass (widen whichever linear buys the most error per bit) is
   optimal only when every linear's error is convex in its bits and the
   budget falls on a step; measured tables are neither (a 2-bit conv can
   lose 20 dB where its 4-bit costs 0.1 dB, and a large layer's step
   overshoots a budget a few small layers would fill), and greedy then
   leaves error on the table. The table's DP is exact for the additive
   model and cheap: units are weights divided by their greatest common
   divisor, at most 6 x weights states (82k for a standard A1) times 6
   widths per linear, well under a millisecond of work per thousand states.
   A model too large for that many states in memory gets coarser units,
   each linear's cost rounded up, so the budget still holds (a little of it
   may go unspent; the fill pass below then spends it).

   dp[c] after linear i: the least predicted error of linears 0..i within
   c units; pick[i][c]: the width that reached it (ties go to the wider).
*/
bool qm_mixed_allocate(const qm_sensitivity *s, double budget, int *bits)
{
  if (!s || !bits || !(budget >= 2.0) || s->n <= 0)
    return false;
  const int n = s->n;
  long total = 0, g = 0;
  for (int i = 0; i < n; ++i) {
    total += s->weights[i];
    g = gcd_long(g, s->weights[i]);
  }
  if (budget >= 8.0 || total <= 0 || g <= 0) {
    for (int i = 0; i < n; ++i)
      bits[i] = 8;
    return true;
  }
  /* spare units: sum n_i (b_i - 2) <= (B - 2) N, in units of step x g */
  const double spare_bits = (budget - 2.0) * (double)total; /* sum n_i (b_i - 2) allowed */
  long step = 0; /* the widths' common step above 2 bits */
  for (int w = 0; w < QM_MIXED_WIDTHS; ++w)
    step = gcd_long(step, qm_mixed_width[w] - 2);
  long unit = step * g; /* bits above 2 per unit */
  const long max_states = (1L << 24) / n > 4096 ? (1L << 24) / n : 4096;
  long cap = (long)floor(spare_bits / (double)unit);
  while (cap + 1 > max_states) {
    unit *= 2;
    cap = (long)floor(spare_bits / (double)unit);
  }
  const long states = cap + 1;
  double *dp = malloc((size_t)states * sizeof *dp);
  double *next = malloc((size_t)states * sizeof *next);
  unsigned char *pick = malloc((size_t)n * (size_t)states);
  if (!dp || !next || !pick) {
    free(dp), free(next), free(pick);
    return false;
  }
  for (long c = 0; c < states; ++c)
    dp[c] = 0.0;
  for (int i = 0; i < n; ++i) {
    long need[QM_MIXED_WIDTHS];
    for (int w = 0; w < QM_MIXED_WIDTHS; ++w) /* ceil: never under-count a width's bits */
      need[w] = (s->weights[i] * (qm_mixed_width[w] - 2) + unit - 1) / unit;
    unsigned char *pk = pick + (size_t)i * (size_t)states;
    for (long c = 0; c < states; ++c) {
      double best = INFINITY;
      unsigned char bw = QM_MIXED_WIDTHS - 1;
      for (int w = 0; w < QM_MIXED_WIDTHS; ++w) {
        if (need[w] > c || !width_offered(s, w))
          continue;
        double v = dp[c - need[w]] + cost(s, i, w);
        if (v < best) {
          best = v;
          bw = (unsigned char)w;
        }
      }
      next[c] = best;
      pk[c] = bw;
    }
    double *t = dp;
    dp = next;
    next = t;
  }
  long c = cap;
  for (int i = n - 1; i >= 0; --i) {
    int w = pick[(size_t)i * (size_t)states + (size_t)c];
    bits[i] = qm_mixed_width[w];
    c -= (s->weights[i] * (qm_mixed_width[w] - 2) + unit - 1) / unit;
  }
  free(dp), free(next), free(pick);

  /** The budget is judged exactly as qm_mixed_average_bits computes it
      (an integer sum of bits over the weight count), so rounding in the
      units above can never let the result pass it: narrow, cheapest
      predicted loss first, while it does. */
  double sum = 0.0; /* sum n_i b_i, an integer well within a double's 53 bits */
  for (int i = 0; i < n; ++i)
    sum += (double)s->weights[i] * bits[i];
  while (sum / (double)total > budget) {
    int best = -1;
    double loss = INFINITY;
    for (int i = 0; i < n; ++i) {
      int w = width_index(bits[i]), v = w < 0 ? -1 : next_width(s, w, +1);
      if (v < 0)
        continue;
      double li = cost(s, i, v) - cost(s, i, w);
      if (li < loss) {
        loss = li;
        best = i;
      }
    }
    if (best < 0)
      break; /* all at 2 bits: within any budget >= 2 */
    int v = next_width(s, width_index(bits[best]), +1);
    sum -= (double)s->weights[best] * (bits[best] - qm_mixed_width[v]);
    bits[best] = qm_mixed_width[v];
  }
  /** Fill: with coarse units, or where widening costs nothing predicted,
      bits may be left that a linear could still take. Widen one step at a
      time, the linear that lowers the predicted error most first (the
      largest weight count on a tie), until no step fits. */
  for (;;) {
    int best = -1;
    double gain = -1.0;
    for (int i = 0; i < n; ++i) {
      int w = width_index(bits[i]), v = w < 0 ? -1 : next_width(s, w, -1);
      if (v < 0)
        continue;
      double step = (double)s->weights[i] * (qm_mixed_width[v] - bits[i]);
      if ((sum + step) / (double)total > budget)
        continue;
      double gi = cost(s, i, w) - cost(s, i, v);
      if (gi > gain || (gi == gain && best >= 0 && s->weights[i] > s->weights[best])) {
        gain = gi;
        best = i;
      }
    }
    if (best < 0)
      break;
    int v = next_width(s, width_index(bits[best]), -1);
    sum += (double)s->weights[best] * (qm_mixed_width[v] - bits[best]);
    bits[best] = qm_mixed_width[v];
  }
  return true;
}

bool qm_mixed_choose(const qm_desc *d, const qm_sensitivity *s, double budget, const float *calib,
                     int n_calib, int *bits, qm_mixed_report *report, char *err, size_t errlen)
{
  if (!qm_mixed_allocate(s, budget, bits)) {
    snprintf(err, errlen, "no allocation for a budget of %g bits (at least 2)", budget);
    return false;
  }
  bench b;
  if (!bench_open(&b, d, &s->scheme, calib, n_calib, err, errlen))
    return false;
  if (qm_model_linear_count(b.m) != s->n) {
    snprintf(err, errlen, "the sensitivity table has %d linears, the model %d", s->n,
             qm_model_linear_count(b.m));
    bench_free(&b);
    return false;
  }
  qm_mixed_report r;
  memset(&r, 0, sizeof r);
  r.budget = budget;
  r.uniform_bits = qm_mixed_width[QM_MIXED_WIDTHS - 1];
  for (int w = QM_MIXED_WIDTHS - 1; w >= 0 && qm_mixed_width[w] <= budget; --w)
    if (width_offered(s, w))
      r.uniform_bits = qm_mixed_width[w];
  r.predicted_db = 10.0 * log10(qm_mixed_predicted_esr(s, bits));
  memcpy(b.widths, bits, (size_t)s->n * sizeof *bits);
  double e_mixed = bench_esr(&b, err, errlen);
  for (int i = 0; i < s->n; ++i)
    b.widths[i] = r.uniform_bits;
  double e_uniform = isnan(e_mixed) ? NAN : bench_esr(&b, err, errlen);
  bench_free(&b);
  if (isnan(e_uniform))
    return false;
  r.mixed_db = 10.0 * log10(e_mixed);
  r.uniform_db = 10.0 * log10(e_uniform);
  r.kept_mixed = e_mixed <= e_uniform;
  if (!r.kept_mixed)
    for (int i = 0; i < s->n; ++i)
      bits[i] = r.uniform_bits;
  r.average_bits = qm_mixed_average_bits(s, bits);
  if (report)
    *report = r;
  return true;
}

/* ---- Error accumulation ------------------------------------------------------------ */

bool qm_error_accumulation(const qm_desc *d, const qm_setting *spec, const qm_sensitivity *s,
                           const float *calib, int n_calib, double *alone, double *prefix,
                           char *err, size_t errlen)
{
  bench b;
  if (!bench_open(&b, d, spec, calib, n_calib, err, errlen))
    return false;
  const int nl = qm_model_linear_count(b.m);
  if (spec->linear_bits && spec->n_linear_bits != nl) {
    snprintf(err, errlen, "%d bit widths for %d weight matrices", spec->n_linear_bits, nl);
    bench_free(&b);
    return false;
  }
  /** The table answers "alone" when it measured this scheme. */
  const bool same = s && s->n == nl && s->scheme.mapping == spec->mapping &&
                    s->scheme.asymmetric == spec->asymmetric &&
                    s->scheme.granularity == spec->granularity && s->scheme.group == spec->group &&
                    s->scheme.activations == spec->activations &&
                    s->scheme.observer == spec->observer && s->scheme.rounding == spec->rounding &&
                    s->scheme.bias_correction == spec->bias_correction;
  bool ok = true;
  for (int i = 0; ok && i < nl; ++i) {
    int wi = spec->linear_bits && spec->linear_bits[i] ? spec->linear_bits[i] : spec->bits;
    int w = width_index(wi);
    if (wi == QM_BITS_FP32) {
      alone[i] = 0.0;
    } else if (same && w >= 0) {
      alone[i] = s->esr[i * QM_MIXED_WIDTHS + w];
    } else {
      b.widths[i] = wi;
      alone[i] = bench_esr(&b, err, errlen);
      b.widths[i] = QM_BITS_FP32;
      ok = !isnan(alone[i]);
    }
  }
  for (int i = 0; ok && i < nl; ++i) {
    b.widths[i] = spec->linear_bits && spec->linear_bits[i] ? spec->linear_bits[i] : spec->bits;
    prefix[i] = bench_esr(&b, err, errlen);
    ok = !isnan(prefix[i]);
  }
  bench_free(&b);
  return ok;
}
