/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  NAM WaveNet "A1", batched over a block.

  Per layer array (C channels, Z = 2C if gated, K taps), per layer:
      z   = conv(x) + mixin(condition)        (dilated conv over K taps)
      a   = act(z)   or   act(z[0:C]) * sigmoid(z[C:2C])   (gated)
      head += a;   x_next = x + W1x1 a + b1x1
  The array's input goes through `rechannel`; its head accumulator starts
  at zero (first array) or at the previous array's head output; the array
  ends with head = head_rechannel(head). Output = head_scale * last head.

  Data layout: frame-major everywhere (frame f's channel vector is
  contiguous), as qk_gemm_f32 wants. Each layer keeps its input x in a
  linear history buffer: `lookback` = (K-1)*dilation frames of past plus room
  for new frames; when a batch would run past the end, the last `lookback`
  frames are moved to the front. The room is max(chunk, lookback): at most
  one frame copy per frame, amortized (such moves were once measured at
  5-6% of a whole model's time; a room of four lookbacks makes it a
  quarter of that, but doubles the histories of the standard A1, and an
  instance plays two models: issue 11, defect 17, memory per instance).
  The loader's size cap (QM_WAVENET_HISTORY_ROOM) still assumes four
  lookbacks, an upper bound.

  The dilated conv is one GEMM with K*C inputs: for each frame the K taps
  x[t - d*(K-1-k)] are gathered side by side ([tap0 | tap1 | ...], tap 0 the
  oldest) so that the whole conv is a single weight matrix — one qm_linear a
  quantizer can treat like any other, with per-output-channel scales that
  span all taps, as in the file.
*/
#include "activation.h"
#include "arch_registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/**
   Effective weights of a linear with a single input and no bias (the
   mixin of the mono condition, the first array's rechannel): W times a
   unit input, taken once per packed W (W_gen). Applying such a linear is
   a rank-1 update y (+)= w * x, done here instead of by a GEMM call per
   batch, whose per-frame load / add / store of the outputs cost more
   than the one MAC per output. Taking the weights through the kernel is
   exact on every ISA (v * 1, then one rounding of the scale product), and
   fl(w * x) is the same everywhere, so these linears give the same bits on
   every ISA even with quantized weights, where the weight-only GEMM's
   rounding order is ISA-dependent.
*/
typedef struct {
  float *w;     /* [out] */
  unsigned gen; /* W_gen they were taken from */
  bool ok;
} rank1_weights;

typedef struct {
  int dilation, lookback;
  float *hist;             /* frames x C; an int8 layer's: one batch (chunk x C), see int8_only */
  bool int8_only;          /* the history is hq alone; hist holds the batch's input frames */
  qk_act_s8 hq;            /* the same frames as int8, a scale per frame (int8 layers) */
  qk_packed **conv_taps;   /* K per-tap slices of a quantized conv, or NULL */
  void *prepared;          /* the fused form's prepared weights, or NULL */
  unsigned derived_gen[2]; /* conv.W_gen, w1x1.W_gen both were made from */
  bool int8_valid;         /* the int8 layer spec of those weights is valid */
  int frames, pos;
  qm_linear conv, mixin, w1x1;
  rank1_weights wmix; /* the mixin's effective weights */
  int tap_layer;
  float *warm;     /* prewarmed lookback: warm_frames x C (see qm_wavenet_save_warm) */
  int warm_frames; /* 1 (every lookback frame equal) or lookback */
  qk_act_s8 warmq; /* an int8_only layer's prewarmed int8 lookback (warm_frames columns) */
} wn_layer;

typedef struct {
  int C, Z, K, head_size;
  qm_nonlinearity act;
  bool gated;
  int n_layers;
  wn_layer *layers;
  qm_linear rechannel, head;
  rank1_weights wrechannel; /* first array: the rechannel of the mono input */
  float *gather;            /* [chunk][K*C] */
  float *z;                 /* [chunk][Z] */
  float *a;                 /* [chunk][C], gated only */
  float *headacc;           /* [chunk][C] */
  float *headout;           /* [chunk][head_size] */
  float *out;               /* [chunk][C]: residual output of the last layer */
  int tap_head;
} wn_array;

struct qm_wavenet {
  int n_arrays;
  wn_array *arrays;
  float head_scale;
};

static void free_warm(wn_layer *L);

/** Float frames L->hist holds: a full history, or one batch (int8_only). */
static int hist_frames(const qm_model *m, const wn_layer *L)
{
  return L->int8_only ? m->chunk : L->frames;
}

/** Where this batch's input frames go: at pos in a full history, at the
    start of an int8_only layer's one-batch buffer. */
static float *batch_input(const wn_layer *L, int C)
{
  return L->hist + (size_t)(L->int8_only ? 0 : L->pos) * (size_t)C;
}

/**
   The int8 copy of a layer's input history (qk.h's int8 WaveNet layer):
   a column of qk_act_ld(C) codes, a scale and a code sum per frame. It is
   a function of the float history (each frame quantized on its own), so
   it is never state of its own: reset zeroes it with the floats, and
   copy_state rebuilds it from the copied floats.
*/
static void free_int8_history(qk_act_s8 *hq)
{
  free(hq->codes);
  free(hq->scales);
  free(hq->sums);
  hq->codes = NULL;
  hq->scales = NULL;
  hq->sums = NULL;
}

static bool alloc_int8_history(qk_act_s8 *hq, int C, int frames)
{
  free_int8_history(hq);
  hq->ld = qk_act_ld(C);
  hq->codes = calloc((size_t)frames * (size_t)hq->ld, 1);
  hq->scales = calloc((size_t)frames, sizeof(float));
  hq->sums = calloc((size_t)frames, sizeof(int32_t));
  hq->per_column = true;
  hq->group = 0;
  return hq->codes && hq->scales && hq->sums;
}

/** Frames [from, from + n) of the int8 history, moved to [to, to + n). */
static void move_int8_history(qk_act_s8 *hq, int to, int from, int n)
{
  memmove(hq->codes + (size_t)to * (size_t)hq->ld, hq->codes + (size_t)from * (size_t)hq->ld,
          (size_t)n * (size_t)hq->ld);
  memmove(hq->scales + to, hq->scales + from, (size_t)n * sizeof(float));
  memmove(hq->sums + to, hq->sums + from, (size_t)n * sizeof(int32_t));
}

/** The int8 history seen from frame `pos` (column 0 = that frame). */
static qk_act_s8 int8_history_at(const qk_act_s8 *hq, int pos)
{
  qk_act_s8 v = *hq;
  v.codes += (size_t)pos * (size_t)hq->ld;
  v.scales += pos;
  v.sums += pos;
  return v;
}

/** Drop what qm_wavenet_prepare() derived from the layer's weights. */
static void free_derived(wn_layer *L, int K)
{
  for (int t = 0; L->conv_taps && t < K; ++t)
    qk_packed_free(L->conv_taps[t]);
  free(L->conv_taps);
  L->conv_taps = NULL;
  free(L->prepared);
  L->prepared = NULL;
  L->int8_valid = false;
}

static bool build_array(qm_model *m, wn_array *A, const qm_wn_array *D, int ai, char *err,
                        size_t errlen)
{
  const int C = D->channels, Z = D->gated ? 2 * C : C, K = D->kernel_size;
  const size_t chunk = (size_t)m->chunk;
  char name[48];
  A->C = C;
  A->Z = Z;
  A->K = K;
  A->head_size = D->head_size;
  A->act = D->activation;
  A->gated = D->gated;
  A->layers = calloc((size_t)D->n_layers, sizeof *A->layers);
  if (!A->layers)
    goto oom;
  A->n_layers = D->n_layers;

  snprintf(name, sizeof name, "a%d.rechannel", ai);
  if (!qm_model_linear_init(m, &A->rechannel, name, C, D->input_size, D->rechannel_w, NULL, err,
                            errlen))
    return false;
  for (int l = 0; l < D->n_layers; ++l) {
    wn_layer *L = &A->layers[l];
    const qm_wn_layer *DL = &D->layers[l];
    L->dilation = DL->dilation;
    L->lookback = (K - 1) * DL->dilation;
    /* Room of max(chunk, lookback) frames beyond the lookback. */
    const int room = m->chunk > L->lookback ? m->chunk : L->lookback;
    L->frames = L->lookback + room;
    L->hist = qm_falloc((size_t)L->frames * (size_t)C);
    if (!L->hist)
      goto oom;
    snprintf(name, sizeof name, "a%d.l%d.conv", ai, l);
    if (!qm_model_linear_init(m, &L->conv, name, Z, K * C, DL->conv_w, DL->conv_b, err, errlen))
      return false;
    snprintf(name, sizeof name, "a%d.l%d.mixin", ai, l);
    if (!qm_model_linear_init(m, &L->mixin, name, Z, D->condition_size, DL->mixin_w, NULL, err,
                              errlen))
      return false;
    if (!(L->wmix.w = qm_falloc((size_t)Z)))
      goto oom;
    snprintf(name, sizeof name, "a%d.l%d.1x1", ai, l);
    if (!qm_model_linear_init(m, &L->w1x1, name, C, C, DL->w1x1, DL->b1x1, err, errlen))
      return false;
    L->w1x1.act_pool = 1; /* the fused layer uses the conv's scratch and this one at once */
    snprintf(name, sizeof name, "a%d.l%d", ai, l);
    if ((L->tap_layer = qm_model_add_layer(m, name, C)) < 0)
      goto oom;
  }
  snprintf(name, sizeof name, "a%d.head", ai);
  if (!qm_model_linear_init(m, &A->head, name, D->head_size, C, D->head_w, D->head_b, err, errlen))
    return false;
  if ((A->tap_head = qm_model_add_layer(m, name, D->head_size)) < 0)
    goto oom;
  if (!(A->wrechannel.w = qm_falloc((size_t)C)))
    goto oom;
  A->gather = qm_falloc(chunk * (size_t)(K * C));
  A->z = qm_falloc(chunk * (size_t)Z);
  A->a = D->gated ? qm_falloc(chunk * (size_t)C) : NULL;
  A->headacc = qm_falloc(chunk * (size_t)C);
  A->headout = qm_falloc(chunk * (size_t)D->head_size);
  A->out = qm_falloc(chunk * (size_t)C);
  if (!A->gather || !A->z || (D->gated && !A->a) || !A->headacc || !A->headout || !A->out)
    goto oom;
  return true;
oom:
  snprintf(err, errlen, "out of memory building the WaveNet");
  return false;
}

bool qm_wavenet_build(qm_model *m, const qm_desc *d, char *err, size_t errlen)
{
  qm_wavenet *wn = calloc(1, sizeof *wn);
  if (!wn) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  m->wn = wn;
  wn->head_scale = d->wavenet.head_scale;
  wn->arrays = calloc((size_t)d->wavenet.n_arrays, sizeof *wn->arrays);
  if (!wn->arrays) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  wn->n_arrays = d->wavenet.n_arrays;
  for (int a = 0; a < wn->n_arrays; ++a) {
    const qm_wn_array *D = &d->wavenet.arrays[a];
    /* The loader checks these; the engine relies on them, so re-check. */
    if (D->condition_size != 1 || (a == 0 && D->input_size != 1) ||
        (a > 0 && (D->input_size != d->wavenet.arrays[a - 1].channels ||
                   d->wavenet.arrays[a - 1].head_size != D->channels)) ||
        (a == wn->n_arrays - 1 && D->head_size != 1)) {
      snprintf(err, errlen, "inconsistent layer array shapes");
      return false;
    }
    if (!build_array(m, &wn->arrays[a], D, a, err, errlen))
      return false;
  }
  return true;
}

void qm_wavenet_free(qm_model *m)
{
  qm_wavenet *wn = m->wn;
  if (!wn)
    return;
  for (int a = 0; a < wn->n_arrays; ++a) {
    wn_array *A = &wn->arrays[a];
    for (int l = 0; l < A->n_layers; ++l) {
      free(A->layers[l].hist);
      free_int8_history(&A->layers[l].hq);
      free_derived(&A->layers[l], A->K);
      qm_linear_release(&A->layers[l].conv);
      qm_linear_release(&A->layers[l].mixin);
      qm_linear_release(&A->layers[l].w1x1);
      free(A->layers[l].wmix.w);
      free_warm(&A->layers[l]);
    }
    free(A->layers);
    free(A->wrechannel.w);
    qm_linear_release(&A->rechannel);
    qm_linear_release(&A->head);
    free(A->gather);
    free(A->z);
    free(A->a);
    free(A->headacc);
    free(A->headout);
    free(A->out);
  }
  free(wn->arrays);
  free(wn);
  m->wn = NULL;
}

void qm_wavenet_reset(qm_model *m)
{
  qm_wavenet *wn = m->wn;
  for (int a = 0; a < wn->n_arrays; ++a) {
    wn_array *A = &wn->arrays[a];
    for (int l = 0; l < A->n_layers; ++l) {
      wn_layer *L = &A->layers[l];
      memset(L->hist, 0, (size_t)hist_frames(m, L) * (size_t)A->C * sizeof(float));
      if (L->hq.codes) {
        memset(L->hq.codes, 0, (size_t)L->frames * (size_t)L->hq.ld);
        memset(L->hq.scales, 0, (size_t)L->frames * sizeof(float));
        memset(L->hq.sums, 0, (size_t)L->frames * sizeof(int32_t));
      }
      L->pos = L->lookback;
      L->wmix.ok = false;
    }
    A->wrechannel.ok = false;
  }
}

/** Make room for n new frames after pos, keeping the lookback before it. */
static void make_room(wn_layer *L, int C, int n)
{
  if (L->pos + n <= L->frames)
    return;
  if (!L->int8_only)
    memmove(L->hist, L->hist + (size_t)(L->pos - L->lookback) * (size_t)C,
            (size_t)L->lookback * (size_t)C * sizeof(float));
  if (L->hq.codes)
    move_int8_history(&L->hq, 0, L->pos - L->lookback, L->lookback);
  L->pos = L->lookback;
}

/**
   Gather the K dilated taps of each frame side by side: g[f] = [x[f - d(K-1)]
   | ... | x[f]], C floats each. The copies are C floats (16 or 8 in the
   standard WaveNet), so a libc memcpy call per (frame, tap) cost more than
   the copy itself (over a tenth of the run time in profiles); when C is a
   multiple of 8 the copy is done in fixed 32-byte pieces, which the
   compiler inlines as plain vector moves. Values are copied bit for bit
   either way.
*/
static void gather_taps(float *gather, const float *x, int n, int C, int K, int dilation)
{
  const size_t KC = (size_t)K * (size_t)C;
  for (int k = 0; k < K; ++k) {
    const float *src = x + ((ptrdiff_t)0 - (ptrdiff_t)dilation * (K - 1 - k)) * C;
    float *dst = gather + (size_t)k * (size_t)C;
    if (C % 8 == 0) {
      for (int f = 0; f < n; ++f) {
        const float *s = src + (size_t)f * (size_t)C;
        float *d = dst + (size_t)f * KC;
        for (int c = 0; c < C; c += 8)
          __builtin_memcpy(d + c, s + c, 8 * sizeof(float));
      }
    } else {
      for (int f = 0; f < n; ++f)
        memcpy(dst + (size_t)f * KC, src + (size_t)f * (size_t)C, (size_t)C * sizeof(float));
    }
  }
}

/** Whether M can be applied as a rank-1 update (rank1_weights). */
static bool is_rank1(const qm_linear *M)
{
  return M->in == 1 && !M->bias && M->act_mode == QM_LINEAR_ACT_F32;
}

static const float *rank1_effective(rank1_weights *r, const qm_linear *M)
{
  if (!r->ok || r->gen != M->W_gen) {
    const float one = 1.0f;
    qk_gemm_f32(M->W, &one, 1, 1, NULL, r->w, M->out, 0);
    r->gen = M->W_gen;
    r->ok = true;
  }
  return r->w;
}

/**
   Y (+)= M x for a single input per frame (x[n]), as a rank-1 update when
   M allows it (per element fl(w * x), then the add when accumulating),
   else through qm_linear_apply. Per frame, so independent of the batch
   length.
*/
static void apply_single_input(qm_linear *M, rank1_weights *r, const float *x, int n, float *y,
                               int ldy, unsigned flags)
{
  if (!is_rank1(M)) {
    qm_linear_apply(M, x, 1, n, y, ldy, flags);
    return;
  }
  if (M->observe)
    M->observe(M->observe_user, M, x, 1, n);
  const float *w = rank1_effective(r, M);
  const int out = M->out;
  for (int f = 0; f < n; ++f) {
    const float c = x[f];
    float *yf = y + (size_t)f * (size_t)ldy;
    if (flags & QK_ACCUMULATE) {
      for (int i = 0; i < out; ++i)
        yf[i] += w[i] * c;
    } else {
      for (int i = 0; i < out; ++i)
        yf[i] = w[i] * c;
    }
  }
}

/** Whether what qm_wavenet_prepare() derived still matches the weights. */
static bool derived_current(const wn_layer *L)
{
  return L->derived_gen[0] == L->conv.W_gen && L->derived_gen[1] == L->w1x1.W_gen;
}

static qk_wavenet_layer int8_layer_spec(const wn_array *A, wn_layer *L)
{
  qk_wavenet_layer spec = {
      .C = A->C,
      .taps = A->K,
      .dilation = L->dilation,
      .conv = L->conv.W,
      .conv_bias = L->conv.bias,
      .mixin = L->wmix.w,
      .w1x1 = L->w1x1.W,
      .bias1x1 = L->w1x1.bias,
  };
  if (derived_current(L)) {
    spec.conv_taps = (const qk_packed *const *)L->conv_taps;
    spec.prepared = L->prepared;
  }
  return spec;
}

/**
   Whether layer L runs as one int8 WaveNet layer (kernels' fused form
   where the ISA has one): the plain tanh layer with int8 dynamic
   activations on both matrices, nothing observing them (a calibration
   pass sees every linear's input) and the kernels' tanh (fast
   activations): the layer then runs qk_tanh_int8, whose output is
   quantized to int8 straight away. Only a layer qm_wavenet_prepare() gave
   an int8 history can (the float reference has none: it would be half its
   memory).
*/
static bool int8_layer(const qm_model *m, const wn_array *A, wn_layer *L)
{
  if (!L->hq.codes || A->gated || A->act != QM_NONLIN_TANH || !m->fast ||
      L->conv.act_mode != QM_LINEAR_ACT_S8_DYNAMIC || L->conv.observe ||
      L->w1x1.act_mode != QM_LINEAR_ACT_S8_DYNAMIC || L->w1x1.observe || !is_rank1(&L->mixin) ||
      L->mixin.observe)
    return false;
  if (derived_current(L))
    return L->int8_valid; /* checked by qm_wavenet_prepare(), not again per block */
  const qk_wavenet_layer spec = int8_layer_spec(A, L);
  return qk_wavenet_layer_s8_valid(&spec);
}

/**
   Its input frames are quantized once each into the int8 history (a scale
   per time step), and the conv reads every tap from there. With weight
   groups that split a row the kernel's form does not apply, and the
   steps path quantizes each conv column (all taps together) instead.
*/
static void run_layer_int8(wn_array *A, wn_layer *L, const float *x, const float *cond, int n,
                           float *next)
{
  rank1_effective(&L->wmix, &L->mixin);
  const qk_wavenet_layer spec = int8_layer_spec(A, L);
  const qk_act_s8 hq = int8_history_at(&L->hq, L->pos);
  const qk_wavenet_scratch scratch = {.conv_act = &L->conv.act, .act_1x1 = &L->w1x1.act, .z = A->z};
  qk_wavenet_layer_s8(&spec, x, &hq, cond, n, A->headacc, next, &scratch);
}

/** Every other layer: the linears, activation and sums one after another. */
static void run_layer_steps(qm_model *m, wn_array *A, wn_layer *L, const float *x,
                            const float *cond, int n, float *next)
{
  const int C = A->C, Z = A->Z, K = A->K, KC = K * C;
  const size_t nc = (size_t)n * (size_t)C;
  if (K == 1) {
    qm_linear_apply(&L->conv, x, C, n, A->z, Z, 0);
  } else if (L->conv.act_mode == QM_LINEAR_ACT_S8_DYNAMIC && !L->conv.observe) {
    /* int8 dynamic: the taps are quantized straight from the history */
    qm_linear_apply_taps(&L->conv, x - (size_t)L->dilation * (size_t)(K - 1) * (size_t)C, C, K,
                         (ptrdiff_t)L->dilation * C, n, A->gather, A->z, Z, 0);
  } else {
    gather_taps(A->gather, x, n, C, K, L->dilation);
    qm_linear_apply(&L->conv, A->gather, KC, n, A->z, Z, 0);
  }
  apply_single_input(&L->mixin, &L->wmix, cond, n, A->z, Z, QK_ACCUMULATE);

  const float *a;
  if (!A->gated) {
    qm_activate(A->act, m->fast, A->z, nc);
    a = A->z;
  } else {
    for (int f = 0; f < n; ++f) {
      float *z = A->z + (size_t)f * Z, *af = A->a + (size_t)f * C;
      qm_activate(A->act, m->fast, z, (size_t)C);
      qm_sigmoid_v(m->fast, z + C, z + C, (size_t)C);
      for (int c = 0; c < C; ++c)
        af[c] = z[c] * z[C + c];
    }
    a = A->a;
  }
  for (size_t i = 0; i < nc; ++i)
    A->headacc[i] += a[i];
  memcpy(next, x, nc * sizeof(float));
  qm_linear_apply(&L->w1x1, a, C, n, next, C, QK_ACCUMULATE);
}

static void run_array(qm_model *m, wn_array *A, const wn_array *prev, const float *cond, int n)
{
  const int C = A->C;
  const size_t nc = (size_t)n * (size_t)C;

  for (int l = 0; l < A->n_layers; ++l)
    make_room(&A->layers[l], C, n);

  /* Array input: the mono condition for the first array, else the residual
     stream of the previous one. */
  wn_layer *L0 = &A->layers[0];
  if (prev)
    qm_linear_apply(&A->rechannel, prev->out, prev->C, n, batch_input(L0, C), C, 0);
  else
    apply_single_input(&A->rechannel, &A->wrechannel, cond, n, batch_input(L0, C), C, 0);
  if (prev)
    memcpy(A->headacc, prev->headout, nc * sizeof(float)); /* prev head_size == C */
  else
    memset(A->headacc, 0, nc * sizeof(float));

  for (int l = 0; l < A->n_layers; ++l) {
    wn_layer *L = &A->layers[l];
    const float *x = batch_input(L, C);
    float *next = l + 1 < A->n_layers ? batch_input(&A->layers[l + 1], C) : A->out;
    if (int8_layer(m, A, L))
      run_layer_int8(A, L, x, cond, n, next);
    else if (!L->int8_only)
      run_layer_steps(m, A, L, x, cond, n, next);
    else /* its linears were changed behind qm_model_quantize's back: no
            float lookback to run them on, pass the residual through */
      memcpy(next, x, nc * sizeof(float));
    qm_tap(m, L->tap_layer, next, C, C, n);
  }
  qm_linear_apply(&A->head, A->headacc, C, n, A->headout, A->head_size, 0);
  qm_tap(m, A->tap_head, A->headout, A->head_size, A->head_size, n);
  for (int l = 0; l < A->n_layers; ++l)
    A->layers[l].pos += n;
}

void qm_wavenet_run(qm_model *m, const float *x, float *y, int n)
{
  qm_wavenet *wn = m->wn;
  for (int a = 0; a < wn->n_arrays; ++a)
    run_array(m, &wn->arrays[a], a ? &wn->arrays[a - 1] : NULL, x, n);
  const float *h = wn->arrays[wn->n_arrays - 1].headout; /* head_size 1 */
  for (int f = 0; f < n; ++f)
    y[f] = wn->head_scale * h[f];
}

/** Columns [from, from + n) of a's int8 history to [to, to + n) of b's (same ld). */
static void copy_int8_columns(qk_act_s8 *b, int to, const qk_act_s8 *a, int from, int n)
{
  memcpy(b->codes + (size_t)to * (size_t)b->ld, a->codes + (size_t)from * (size_t)a->ld,
         (size_t)n * (size_t)a->ld);
  memcpy(b->scales + to, a->scales + from, (size_t)n * sizeof(float));
  memcpy(b->sums + to, a->sums + from, (size_t)n * sizeof(int32_t));
}

/**
   The only streaming state of a WaveNet is each layer's input history: the
   `lookback` frames before pos are all a later batch reads. They go to the
   start of dst's buffer (dst->pos = lookback, the reset position), so the
   two models may have different chunk sizes. An int8 layer's int8
   history is rebuilt from those floats (each frame quantized on its own,
   exactly as the run would have; no allocation). Everything else (gather,
   z, head accumulators) is per-batch scratch.

   An int8_only layer keeps no float lookback: from another int8_only layer
   its int8 columns are copied as they are (exact); into a layer that needs
   floats they are dequantized (code * scale per frame), which is close to
   but not bit for bit the float history the source saw. The plugin copies
   from a variant only when the reference has been idle (no meter, no UI).
*/
bool qm_wavenet_copy_state(qm_model *dst, const qm_model *src)
{
  const qm_wavenet *s = src->wn;
  qm_wavenet *d = dst->wn;
  if (!s || !d || s->n_arrays != d->n_arrays)
    return false;
  for (int a = 0; a < s->n_arrays; ++a) {
    const wn_array *SA = &s->arrays[a];
    const wn_array *DA = &d->arrays[a];
    if (SA->C != DA->C || SA->K != DA->K || SA->n_layers != DA->n_layers)
      return false;
    for (int l = 0; l < SA->n_layers; ++l)
      if (SA->layers[l].lookback != DA->layers[l].lookback)
        return false;
  }
  for (int a = 0; a < s->n_arrays; ++a) {
    const wn_array *SA = &s->arrays[a];
    wn_array *DA = &d->arrays[a];
    const size_t C = (size_t)SA->C;
    for (int l = 0; l < SA->n_layers; ++l) {
      const wn_layer *SL = &SA->layers[l];
      wn_layer *DL = &DA->layers[l];
      const int lb = SL->lookback, from = SL->pos - lb;
      DL->pos = DL->lookback;
      if (SL->int8_only && DL->int8_only) {
        copy_int8_columns(&DL->hq, 0, &SL->hq, from, lb);
        continue;
      }
      if (SL->int8_only) {
        for (int f = 0; f < lb; ++f) {
          const int8_t *c = SL->hq.codes + (size_t)(from + f) * (size_t)SL->hq.ld;
          const float sc = SL->hq.scales[from + f];
          for (size_t k = 0; k < C; ++k)
            DL->hist[(size_t)f * C + k] = (float)c[k] * sc;
        }
      } else if (DL->int8_only) {
        qk_quantize_act_dynamic(SL->hist + (size_t)from * C, (int)C, (int)C, lb, &DL->hq);
        continue;
      } else {
        memcpy(DL->hist, SL->hist + (size_t)from * C, (size_t)lb * C * sizeof(float));
      }
      if (int8_layer(dst, DA, DL))
        qk_quantize_act_dynamic(DL->hist, (int)C, (int)C, lb, &DL->hq);
    }
  }
  return true;
}

static void free_warm(wn_layer *L)
{
  free(L->warm);
  L->warm = NULL;
  free_int8_history(&L->warmq);
  L->warm_frames = 0;
}

/** Whether column f of hq equals column 0 (codes, scale, sum), bit for bit. */
static bool same_column(const qk_act_s8 *hq, int f)
{
  return !memcmp(hq->codes + (size_t)f * (size_t)hq->ld, hq->codes, (size_t)hq->ld) &&
         !memcmp(hq->scales + f, hq->scales, sizeof(float)) &&
         !memcmp(hq->sums + f, hq->sums, sizeof(int32_t));
}

/**
   The prewarmed state is each layer's lookback frames, as copy_state
   takes them (the int8 columns of an int8_only layer). After a prewarm of
   silence at least as long as the receptive field, every layer's input is
   the same vector frame after frame (the zero-input steady state), so a
   layer whose lookback frames are all bit-identical keeps one frame
   instead of all of them (the standard A1: 20 frames of 16 or 8 floats
   instead of 2,046 each); any other layer keeps its whole lookback.
   Restoring writes the same bits either way.
*/
bool qm_wavenet_save_warm(qm_model *m, bool *finite)
{
  qm_wavenet *wn = m->wn;
  *finite = true;
  for (int a = 0; a < wn->n_arrays; ++a) {
    wn_array *A = &wn->arrays[a];
    const size_t C = (size_t)A->C;
    for (int l = 0; l < A->n_layers; ++l) {
      wn_layer *L = &A->layers[l];
      free_warm(L);
      const int lb = L->lookback, from = L->pos - lb;
      if (lb == 0)
        continue;
      int frames = 1;
      if (L->int8_only) {
        const qk_act_s8 v = int8_history_at(&L->hq, from);
        for (int f = 1; f < lb && frames == 1; ++f)
          if (!same_column(&v, f))
            frames = lb;
        if (!alloc_int8_history(&L->warmq, A->C, frames))
          return false;
        copy_int8_columns(&L->warmq, 0, &L->hq, from, frames);
        for (int f = 0; f < frames; ++f)
          *finite = *finite && isfinite(L->warmq.scales[f]);
      } else {
        const float *src = L->hist + (size_t)from * C;
        for (int f = 1; f < lb && frames == 1; ++f)
          if (memcmp(src + (size_t)f * C, src, C * sizeof(float)))
            frames = lb;
        if (!(L->warm = malloc((size_t)frames * C * sizeof(float))))
          return false;
        memcpy(L->warm, src, (size_t)frames * C * sizeof(float));
        for (size_t i = 0; i < (size_t)frames * C; ++i)
          *finite = *finite && isfinite(L->warm[i]);
      }
      L->warm_frames = frames;
    }
  }
  return true;
}

void qm_wavenet_load_warm(qm_model *m)
{
  qm_wavenet *wn = m->wn;
  for (int a = 0; a < wn->n_arrays; ++a) {
    wn_array *A = &wn->arrays[a];
    const size_t C = (size_t)A->C;
    for (int l = 0; l < A->n_layers; ++l) {
      wn_layer *L = &A->layers[l];
      const int lb = L->lookback;
      L->pos = lb;
      if (lb == 0)
        continue;
      if (L->int8_only) {
        if (L->warm_frames == lb)
          copy_int8_columns(&L->hq, 0, &L->warmq, 0, lb);
        else
          for (int f = 0; f < lb; ++f)
            copy_int8_columns(&L->hq, f, &L->warmq, 0, 1);
        continue;
      }
      if (L->warm_frames == lb)
        memcpy(L->hist, L->warm, (size_t)lb * C * sizeof(float));
      else
        for (int f = 0; f < lb; ++f)
          memcpy(L->hist + (size_t)f * C, L->warm, C * sizeof(float));
      if (int8_layer(m, A, L))
        qk_quantize_act_dynamic(L->hist, (int)C, (int)C, lb, &L->hq);
    }
  }
}

/** Index of L in the model's linears, or -1. */
static int linear_index(const qm_model *m, const qm_linear *L)
{
  for (int i = 0; i < m->n_linears; ++i)
    if (m->linears[i] == L)
      return i;
  return -1;
}

/**
   The K per-tap slices of a quantized conv (qk.h's conv_taps), from the
   codes the quantizer made: columns t*C .. t*C + C - 1 of every row with
   the row's scale and zero point. NULL when the weights are float, have
   groups that split a row, or an allocation fails (the slices only save
   time; the layer runs without them).
*/
static qk_packed **pack_conv_taps(const qk_weights *w, int C, int K, qk_isa isa)
{
  if (w->format == QK_F32 || qk_group_count(w->cols, w->group) != 1 || w->cols != K * C)
    return NULL;
  qk_packed **taps = calloc((size_t)K, sizeof *taps);
  int8_t *codes = malloc((size_t)C * (size_t)C);
  bool ok = taps && codes;
  for (int t = 0; ok && t < K; ++t) {
    for (int r = 0; r < w->rows; ++r)
      memcpy(codes + (size_t)r * (size_t)C, w->codes + (size_t)r * (size_t)w->cols + (size_t)t * C,
             (size_t)C);
    qk_weights slice = *w;
    slice.cols = C;
    slice.group = 0;
    slice.codes = codes;
    ok = (taps[t] = qk_pack(&slice, isa, NULL)) != NULL;
  }
  free(codes);
  if (!ok && taps) {
    for (int t = 0; t < K; ++t)
      qk_packed_free(taps[t]);
    free(taps);
    taps = NULL;
  }
  return taps;
}

/**
   A layer's float history: the full one (frames x C), or for a layer that
   runs int8 (int8_only) one batch, its input frames: the conv reads every
   tap from the int8 history, so the float lookback would only be copied
   around (by make_room) and never read. For the standard A1 at 8 bits that
   is 0.4 MB of a variant's 1.4. The state is lost (a reset follows).
*/
static bool set_float_history(qm_model *m, wn_layer *L, int C, bool int8_only)
{
  if (L->int8_only == int8_only)
    return true;
  float *h = qm_falloc((size_t)(int8_only ? m->chunk : L->frames) * (size_t)C);
  if (!h)
    return false;
  free(L->hist);
  L->hist = h;
  L->int8_only = int8_only;
  L->pos = L->lookback;
  return true;
}

/**
   After quantization: per int8 layer, the fused form's prepared weights
   where the ISA has one (decoded once here instead of on every call),
   else the per-tap conv slices of the step-by-step form.
*/
bool qm_wavenet_prepare(qm_model *m, const qk_weights *const *w)
{
  qm_wavenet *wn = m->wn;
  for (int a = 0; a < wn->n_arrays; ++a) {
    wn_array *A = &wn->arrays[a];
    for (int l = 0; l < A->n_layers; ++l) {
      wn_layer *L = &A->layers[l];
      free_derived(L, A->K);
      free_int8_history(&L->hq);
      if (!set_float_history(m, L, A->C, false))
        return false;
      const int i = linear_index(m, &L->conv);
      if (i < 0 || !w || !w[i])
        continue;
      rank1_effective(&L->wmix, &L->mixin);
      const qk_wavenet_layer spec = int8_layer_spec(A, L);
      /* recorded for these weights either way, so that int8_layer() does
         not check an invalid spec again on every block either */
      L->int8_valid = qk_wavenet_layer_s8_valid(&spec);
      L->derived_gen[0] = L->conv.W_gen;
      L->derived_gen[1] = L->w1x1.W_gen;
      if (!L->int8_valid)
        continue;
      /* the int8 history, only where the layer will read it; without it
         (out of memory) the layer runs step by step */
      if (!alloc_int8_history(&L->hq, A->C, L->frames)) {
        free_int8_history(&L->hq);
        continue;
      }
      if (!int8_layer(m, A, L)) {
        free_int8_history(&L->hq);
        continue;
      }
      /* it reads its lookback from hq alone: keep one batch of floats
         (failing that, the full history still works) */
      set_float_history(m, L, A->C, true);
      if (qk_wavenet_layer_s8_fused(&spec)) {
        const size_t bytes = qk_wavenet_layer_s8_prepared_size(&spec);
        L->prepared = bytes ? aligned_alloc(64, (bytes + 63) / 64 * 64) : NULL;
        if (L->prepared)
          qk_wavenet_layer_s8_prepare(&spec, L->prepared);
      } else if (A->K > 1) {
        L->conv_taps = pack_conv_taps(w[i], A->C, A->K, m->isa);
      }
    }
  }
  return true;
}

void qm_wavenet_memory(const qm_model *m, qm_memory *mem)
{
  const qm_wavenet *wn = m->wn;
  const size_t chunk = (size_t)m->chunk, F = sizeof(float);
  mem->other += sizeof *wn + (size_t)wn->n_arrays * sizeof(wn_array);
  for (int a = 0; a < wn->n_arrays; ++a) {
    const wn_array *A = &wn->arrays[a];
    const size_t C = (size_t)A->C, Z = (size_t)A->Z, K = (size_t)A->K;
    mem->other += (size_t)A->n_layers * sizeof(wn_layer);
    mem->scratch += chunk * F * (K * C + Z + (A->a ? C : 0) + C + (size_t)A->head_size + C);
    mem->weights_derived += C * F; /* wrechannel */
    qm_linear_memory(&A->rechannel, mem);
    qm_linear_memory(&A->head, mem);
    for (int l = 0; l < A->n_layers; ++l) {
      const wn_layer *L = &A->layers[l];
      mem->history_float += (size_t)hist_frames(m, L) * C * F;
      if (L->hq.codes)
        mem->history_int8 += (size_t)L->frames * ((size_t)L->hq.ld + F + sizeof(int32_t));
      mem->prewarm += L->warmq.codes ? (size_t)L->warm_frames * ((size_t)L->warmq.ld + 2 * F)
                                     : (size_t)L->warm_frames * C * F;
      mem->weights_derived += Z * F; /* wmix */
      if (L->prepared)
        mem->weights_derived +=
            qk_wavenet_layer_s8_prepared_size(&(qk_wavenet_layer){.C = A->C,
                                                                  .taps = A->K,
                                                                  .dilation = L->dilation,
                                                                  .conv = L->conv.W,
                                                                  .conv_bias = L->conv.bias,
                                                                  .mixin = L->wmix.w,
                                                                  .w1x1 = L->w1x1.W,
                                                                  .bias1x1 = L->w1x1.bias});
      for (int t = 0; L->conv_taps && t < A->K; ++t)
        mem->weights_derived += qk_packed_alloc_bytes(L->conv_taps[t]);
      qm_linear_memory(&L->conv, mem);
      qm_linear_memory(&L->mixin, mem);
      qm_linear_memory(&L->w1x1, mem);
    }
  }
}

static long long wavenet_receptive_field(const qm_desc *d)
{
  long long rf = 1;
  for (int a = 0; a < d->wavenet.n_arrays; ++a) {
    const qm_wn_array *A = &d->wavenet.arrays[a];
    for (int l = 0; l < A->n_layers; ++l)
      rf += (long long)(A->kernel_size - 1) * A->layers[l].dilation;
  }
  return rf;
}

const qm_arch_ops qm_wavenet_ops = {
    .build = qm_wavenet_build,
    .free = qm_wavenet_free,
    .reset = qm_wavenet_reset,
    .run = qm_wavenet_run,
    .save_warm = qm_wavenet_save_warm,
    .load_warm = qm_wavenet_load_warm,
    .copy_state = qm_wavenet_copy_state,
    .prepare = qm_wavenet_prepare,
    .memory = qm_wavenet_memory,
    .receptive_field = wavenet_receptive_field,
};
