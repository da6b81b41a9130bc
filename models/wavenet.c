/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  NAM WaveNet, every form of .nam 0.5 to 0.7 (A1, A2 and every option of
  NeuralAmpModelerCore's WaveNet), batched over a block.

  Per layer array (C channels, bottleneck B, Z = 2B when gated or blended,
  K taps per layer), per layer:
      z   = conv(x) + mixin(condition)        (dilated conv over K taps)
      a   = act(z)   or   act(z[0:B]) * secondary(z[B:2B])   (gated)
            or   s * act(z[0:B]) + (1 - s) * z[0:B], s = secondary(z[B:2B])
      head += a (or head1x1(a));   x_next = x + W1x1 a + b1x1 (or x)
  with FiLM (v = v * scale(cond) + shift(cond)) at up to eight points
  (model_file.h, qm_film_point). The array's input goes through
  `rechannel`; its head accumulator starts at zero (first array) or at the
  previous array's head output; the array ends with head = conv(head), a
  conv over the head's own history when its kernel is > 1. Output =
  head_scale * last head, or that through the post-stack head (activation
  then conv, per conv). The condition is the input, or the outputs of a
  nested WaveNet (condition_dsp) run on the input in the same model, its
  matrices registered as "cond.*" linears.

  A layer the kernels' int8 WaveNet layer covers (int8_form: no FiLM,
  layer1x1, no head1x1, no gating; A1's and A2's layers, bottleneck or
  not) runs as one qk_wavenet_layer_s8 call, fused where the ISA has a
  form for it, when its linears are int8 dynamic and its nonlinearity is
  one the kernels define (int8_layer()). Otherwise a layer of exactly the
  A1 form (int8_form with B == C, or gated by a sigmoid) runs the path A1
  always ran, and any other layer runs run_layer_general,
  NeuralAmpModelerCore's steps in its order.

  Data layout: frame-major everywhere (frame f's channel vector is
  contiguous), as qk_gemm_f32 wants. Each layer keeps its conv's input in a
  linear history buffer: `lookback` = (K-1)*dilation frames of past plus room
  for new frames; when a batch would run past the end, the last `lookback`
  frames are moved to the front. The room is max(chunk, lookback): at most
  one frame copy per frame, amortized (such moves were once measured at
  5-6% of a whole model's time; a room of four lookbacks makes it a
  quarter of that, but doubles the histories of the standard A1, and an
  instance plays two models: issue 11, defect 17, memory per instance).
  The loader's size cap (QM_WAVENET_HISTORY_ROOM) still assumes four
  lookbacks, an upper bound. The array head conv and the post-stack head's
  convs keep the same kind of history (wn_hist) when their kernel is > 1.

  The dilated conv is one GEMM with K*C inputs: for each frame the K taps
  x[t - d*(K-1-k)] are gathered side by side ([tap0 | tap1 | ...], tap 0 the
  oldest) so that the whole conv is a single weight matrix — one qm_linear a
  quantizer can treat like any other, with per-output-channel scales that
  span all taps, as in the file.
*/
#include "activation.h"
#include "arch_registry.h"
#include "slim_internal.h"

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
  float *w;           /* [out] */
  const qk_packed *W; /* the W they were taken from, */
  unsigned gen;       /* at this W_gen (a calibration pass swaps W without a new W_gen) */
  bool ok;
  /** W is not BF16 (is_rank1), kept with them: asking the kernels for W's
      format was a call per layer per block (2% of A1's FP32 time at block 1). */
  bool not_bf16;
} rank1_weights;

/** One FiLM point of a layer: cond -> (shift ? 2 : 1) * dim scale / shift rows. */
typedef struct {
  bool active, shift;
  int dim;
  qm_linear lin;
} wn_film;

/**
   The input history of a conv outside the layers (the array head conv,
   the post-stack head's convs): as a layer's, lookback frames of past and
   room for a batch; a kernel of 1 keeps no past (lookback 0, one batch).
*/
typedef struct {
  int C, K, dilation, lookback, frames, pos;
  float *hist;     /* frames x C */
  float *warm;     /* prewarmed lookback, warm_frames x C */
  int warm_frames; /* 1 (every lookback frame equal) or lookback */
} wn_hist;

typedef struct {
  /* Ordered by when a block reads them: at a block of one frame the
     engine's time per layer is mostly the cache lines it touches, so what
     every block reads comes first, then what the float and the int8 frame
     paths read, then the linears (their hot fields first, linear.h), and
     what only builds, larger blocks or other layer kinds read last. */
  int frames, pos, lookback;
  float *hist;    /* frames x C; an int8 layer's: one batch (chunk x C), see int8_only */
  bool int8_only; /* the history is hq alone; hist holds the batch's input frames */
  /** Exactly the A1 layer: no FiLM, layer1x1, no head1x1, B == C, gating
      none or gated by a sigmoid. Only such a layer runs run_layer_steps. */
  bool a1_form;
  /** The shape qk_wavenet_layer_s8 takes: no FiLM, layer1x1, no head1x1, no
      gating (any bottleneck). Only such a layer can run the int8 form. */
  bool int8_form;
  /** int8_act() of act takes it (with the model's fast activations): fixed
      at build, not asked again by int8_layer() per layer per block. */
  bool int8_act_ok;
  qm_gating gating;
  int tap_layer;
  /** [chunk][C]: the layer's input when conv_pre_film makes the conv's
      history (FiLM of it) differ from it; NULL otherwise (hist holds it). */
  float *xin;
  qk_act_s8 hq; /* the same frames as int8, a scale per frame (int8 layers) */

  /** Whether a block of one frame runs the float frame form
      (run_layer_f32_frame): decided once per pair of conv and w1x1
      weights (f32_frame_gen and the packed pointers in f32_frame_spec;
      f32_frame_known false until then), as its
      checks cost a tenth of such a block's time when repeated per layer. */
  bool f32_frame_known;
  qk_wavenet_f32_frame_fn f32_frame; /* NULL: none */
  unsigned f32_frame_gen[2];
  rank1_weights wmix; /* the mixin's effective weights */
  /** The spec it runs on (act included), kept with it: building one per
      call (a zeroed struct, then filled) was a visible part of the time. */
  qk_wavenet_layer f32_frame_spec;

  unsigned derived_gen[2]; /* conv.W_gen, w1x1.W_gen both were made from */
  bool int8_valid;         /* the int8 layer spec of those weights is valid */
  bool chains; /* and its kernel may quantize the next layer's input (qk_wavenet_layer_s8_chains) */
  /** Its one-frame form (qk_wavenet_layer_s8_frame_form), or NULL: a block
      of one frame calls it straight (run_layer_int8_frame). */
  qk_wavenet_s8_frame_fn s8_frame;
  /** That spec, kept so that a block does not rebuild it per layer (it was
      1% of A2 standard's int8 time); valid while derived_current(). */
  qk_wavenet_layer int8_spec;

  qm_linear conv, mixin, w1x1;

  int dilation, K, Z;
  qm_activation act, secondary;
  bool has_1x1, has_head1x1;
  qk_packed **conv_taps; /* K per-tap slices of a quantized conv, or NULL */
  void *prepared;        /* the fused form's prepared weights, or NULL */
  qm_linear head1x1;
  float *warm;     /* prewarmed lookback: warm_frames x C (see qm_wavenet_save_warm) */
  int warm_frames; /* 1 (every lookback frame equal) or lookback */
  qk_act_s8 warmq; /* an int8_only layer's prewarmed int8 lookback (warm_frames columns) */
  /** 1.8 KB that A1's and A2's layers never read. */
  wn_film film[QM_FILM_COUNT];
} wn_layer;

typedef struct {
  int C, B, Q, HO, head_size; /* HO: the head accumulator's channels */
  int n_layers;
  wn_layer *layers;
  qm_linear rechannel, head;
  rank1_weights wrechannel; /* first array: the rechannel of the mono input */
  wn_hist headhist;         /* the head conv's input when its kernel is > 1 */
  float *gather;            /* [chunk][largest K*C, head K*HO] */
  float *z;                 /* [chunk][largest Z] */
  float *a;                 /* [chunk][B] */
  float *mix;               /* [chunk][largest Z]: input_mixin's output (general layers) */
  float *ss;                /* [chunk][largest FiLM rows] */
  float *condf;             /* [chunk][Q]: the condition through input_mixin_pre_film */
  float *l1;                /* [chunk][C]: layer1x1's output (general layers) */
  float *h1;                /* [chunk][H1]: head1x1's output */
  float *headacc;           /* [chunk][HO] */
  float *headout;           /* [chunk][head_size] */
  float *out;               /* [chunk][C]: residual output of the last layer */
  int tap_head;
} wn_array;

/** One conv of the post-stack head and the history of its (activated) input. */
typedef struct {
  qm_linear lin;
  wn_hist in;
  int tap;
} wn_head_conv;

struct qm_wavenet {
  int n_arrays;
  wn_array *arrays;
  float head_scale;
  int out_channels;
  qm_activation head_act; /* the post-stack head's */
  int n_head;
  wn_head_conv *head; /* the post-stack head, n_head convs */
  float *head_gather; /* [chunk][largest K*in of the post-stack head] */
  qm_wavenet *cond;   /* condition_dsp, or NULL */
  float *condbuf;     /* [chunk][cond->out_channels] */
};

static void free_warm(wn_layer *L);
static bool int8_act(const qm_activation *a, bool fast, int B, qk_wavenet_act *out);

/** Float frames L->hist holds: a full history, or one batch (int8_only). */
static int hist_frames(const qm_model *m, const wn_layer *L)
{
  return L->int8_only ? m->chunk : L->frames;
}

/** Where this batch's input frames go: at pos in a full history, at the
    start of an int8_only layer's one-batch buffer, or (conv_pre_film) in
    the layer's own input buffer. */
static float *batch_input(const wn_layer *L, int C)
{
  if (L->xin)
    return L->xin;
  return L->hist + (size_t)(L->int8_only ? 0 : L->pos) * (size_t)C;
}

/**
   The int8 copy of a layer's input history (qk.h's int8 WaveNet layer):
   a column of qk_act_ld(C) codes (or the fused form's narrower or paired
   column), a scale and a code sum per frame. It is
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

/**
   ld: qk_act_ld(C), or a fused layer's narrower
   qk_wavenet_layer_s8_history_ld(); paired: its
   qk_wavenet_layer_s8_history_paired(). Cleared (codes 0, scales 0).
*/
static bool alloc_int8_history(qk_act_s8 *hq, int ld, bool paired, int frames)
{
  free_int8_history(hq);
  hq->ld = ld;
  hq->paired = paired;
  hq->codes = malloc((size_t)frames * (size_t)hq->ld);
  hq->scales = malloc((size_t)frames * sizeof(float));
  hq->sums = malloc((size_t)frames * sizeof(int32_t));
  hq->per_column = true;
  hq->group = 0;
  if (!hq->codes || !hq->scales || !hq->sums)
    return false;
  qk_wavenet_history_clear(hq, frames);
  return true;
}

/**
   qk_quantize_act_dynamic of n frames of C floats into hq, in its layout
   (the scalar quantizer's bits, the same as every ISA's).
*/
static void quantize_history(const float *x, int C, int n, qk_act_s8 *hq)
{
  if (hq->ld < qk_act_ld(C) || hq->paired)
    qk_wavenet_history_quantize(x, C, n, hq);
  else
    qk_quantize_act_dynamic(x, C, C, n, hq);
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
  L->chains = false;
  L->s8_frame = NULL;
}

/* ---- conv histories outside the layers (wn_hist) ------------------------- */

static bool hist_init(wn_hist *h, int C, int K, int dilation, int chunk)
{
  h->C = C;
  h->K = K;
  h->dilation = dilation;
  h->lookback = (K - 1) * dilation;
  const int room = chunk > h->lookback ? chunk : h->lookback;
  h->frames = h->lookback + room;
  h->pos = h->lookback;
  h->hist = qm_falloc((size_t)h->frames * (size_t)C);
  return h->hist != NULL;
}

static void hist_free(wn_hist *h)
{
  free(h->hist);
  free(h->warm);
  h->hist = h->warm = NULL;
  h->warm_frames = 0;
}

static void hist_reset(wn_hist *h)
{
  if (!h->hist)
    return;
  memset(h->hist, 0, (size_t)h->frames * (size_t)h->C * sizeof(float));
  h->pos = h->lookback;
}

/** Room for n new frames at pos, the lookback kept before it. */
static void hist_make_room(wn_hist *h, int n)
{
  if (h->pos + n <= h->frames)
    return;
  memmove(h->hist, h->hist + (size_t)(h->pos - h->lookback) * (size_t)h->C,
          (size_t)h->lookback * (size_t)h->C * sizeof(float));
  h->pos = h->lookback;
}

static float *hist_at(const wn_hist *h) { return h->hist + (size_t)h->pos * (size_t)h->C; }

/* ---- building ------------------------------------------------------------ */

/** The name of FiLM point p in linear names ("a0.l3.f.conv_pre"). */
static const char *const film_names[QM_FILM_COUNT] = {"conv_pre",   "conv_post",   "mixin_pre",
                                                      "mixin_post", "act_pre",     "act_post",
                                                      "1x1_post",   "head1x1_post"};

static bool is_a1_form(const qm_wn_array *D, const qm_wn_layer *DL)
{
  for (int p = 0; p < QM_FILM_COUNT; ++p)
    if (D->film[p].active)
      return false;
  return D->layer1x1 && !D->head1x1 && D->bottleneck == D->channels &&
         (DL->gating == QM_GATING_NONE ||
          (DL->gating == QM_GATING_GATED && DL->secondary.type == QM_NONLIN_SIGMOID));
}

static bool is_int8_form(const qm_wn_array *D, const qm_wn_layer *DL)
{
  for (int p = 0; p < QM_FILM_COUNT; ++p)
    if (D->film[p].active)
      return false;
  return D->layer1x1 && !D->head1x1 && DL->gating == QM_GATING_NONE;
}

static bool build_layer(qm_model *m, wn_layer *L, const qm_wn_array *D, const qm_wn_layer *DL,
                        const char *prefix, int ai, int l, char *err, size_t errlen)
{
  const int C = D->channels, B = D->bottleneck, Q = D->condition_size;
  char name[48];
  L->dilation = DL->dilation;
  L->K = DL->kernel_size;
  L->Z = DL->gating != QM_GATING_NONE ? 2 * B : B;
  L->act = DL->activation;
  L->secondary = DL->secondary;
  L->gating = DL->gating;
  L->a1_form = is_a1_form(D, DL);
  L->int8_form = is_int8_form(D, DL);
  qk_wavenet_act act;
  L->int8_act_ok = int8_act(&L->act, m->fast, B, &act);
  L->has_1x1 = D->layer1x1;
  L->has_head1x1 = D->head1x1;
  L->lookback = (L->K - 1) * DL->dilation;
  /* Room of max(chunk, lookback) frames beyond the lookback. */
  const int room = m->chunk > L->lookback ? m->chunk : L->lookback;
  L->frames = L->lookback + room;
  L->hist = qm_falloc((size_t)L->frames * (size_t)C);
  if (!L->hist)
    goto oom;
  snprintf(name, sizeof name, "%sa%d.l%d.conv", prefix, ai, l);
  if (!qm_model_linear_init(m, &L->conv, name, L->Z, L->K * C, DL->conv_w, DL->conv_b, err, errlen))
    return false;
  snprintf(name, sizeof name, "%sa%d.l%d.mixin", prefix, ai, l);
  if (!qm_model_linear_init(m, &L->mixin, name, L->Z, Q, DL->mixin_w, NULL, err, errlen))
    return false;
  if (!(L->wmix.w = qm_falloc((size_t)L->Z)))
    goto oom;
  if (L->has_1x1) {
    snprintf(name, sizeof name, "%sa%d.l%d.1x1", prefix, ai, l);
    if (!qm_model_linear_init(m, &L->w1x1, name, C, B, DL->w1x1, DL->b1x1, err, errlen))
      return false;
    L->w1x1.act_pool = 1; /* the fused layer uses the conv's scratch and this one at once */
  }
  if (L->has_head1x1) {
    snprintf(name, sizeof name, "%sa%d.l%d.head1x1", prefix, ai, l);
    if (!qm_model_linear_init(m, &L->head1x1, name, D->head1x1_out, B, DL->head1x1_w, DL->head1x1_b,
                              err, errlen))
      return false;
  }
  for (int p = 0; p < QM_FILM_COUNT; ++p) {
    wn_film *F = &L->film[p];
    if (!(F->active = D->film[p].active))
      continue;
    F->shift = D->film[p].shift;
    F->dim = DL->film[p].dim;
    snprintf(name, sizeof name, "%sa%d.l%d.f.%s", prefix, ai, l, film_names[p]);
    if (!qm_model_linear_init(m, &F->lin, name, (F->shift ? 2 : 1) * F->dim, Q, DL->film[p].w,
                              DL->film[p].b, err, errlen))
      return false;
  }
  if (D->film[QM_FILM_CONV_PRE].active && !(L->xin = qm_falloc((size_t)m->chunk * (size_t)C)))
    goto oom;
  snprintf(name, sizeof name, "%sa%d.l%d", prefix, ai, l);
  if ((L->tap_layer = qm_model_add_layer(m, name, C)) < 0)
    goto oom;
  return true;
oom:
  snprintf(err, errlen, "out of memory building the WaveNet");
  return false;
}

static bool build_array(qm_model *m, wn_array *A, const qm_wn_array *D, const char *prefix, int ai,
                        char *err, size_t errlen)
{
  const int C = D->channels, B = D->bottleneck, Q = D->condition_size;
  const int HO = D->head1x1 ? D->head1x1_out : B;
  const size_t chunk = (size_t)m->chunk;
  char name[48];
  A->C = C;
  A->B = B;
  A->Q = Q;
  A->HO = HO;
  A->head_size = D->head_size;
  A->layers = calloc((size_t)D->n_layers, sizeof *A->layers);
  if (!A->layers)
    goto oom;
  A->n_layers = D->n_layers;

  snprintf(name, sizeof name, "%sa%d.rechannel", prefix, ai);
  if (!qm_model_linear_init(m, &A->rechannel, name, C, D->input_size, D->rechannel_w, NULL, err,
                            errlen))
    return false;
  size_t gather = (size_t)D->head_kernel * (size_t)HO, zmax = 1, ssmax = 1;
  for (int l = 0; l < D->n_layers; ++l) {
    if (!build_layer(m, &A->layers[l], D, &D->layers[l], prefix, ai, l, err, errlen))
      return false;
    const wn_layer *L = &A->layers[l];
    if ((size_t)L->K * (size_t)C > gather)
      gather = (size_t)L->K * (size_t)C;
    if ((size_t)L->Z > zmax)
      zmax = (size_t)L->Z;
    for (int p = 0; p < QM_FILM_COUNT; ++p)
      if (L->film[p].active && (size_t)L->film[p].lin.out > ssmax)
        ssmax = (size_t)L->film[p].lin.out;
  }
  snprintf(name, sizeof name, "%sa%d.head", prefix, ai);
  if (!qm_model_linear_init(m, &A->head, name, D->head_size, D->head_kernel * HO, D->head_w,
                            D->head_b, err, errlen))
    return false;
  if ((A->tap_head = qm_model_add_layer(m, name, D->head_size)) < 0)
    goto oom;
  if (D->head_kernel > 1 &&
      !hist_init(&A->headhist, HO, D->head_kernel, D->head_dilation, m->chunk))
    goto oom;
  if (!(A->wrechannel.w = qm_falloc((size_t)C)))
    goto oom;
  /* Scratch only where some layer reads it: an A1 array allocates what
     it always did (the plugin's per-instance memory is tested). */
  bool general = false, gated = false, any_film = false;
  for (int l = 0; l < A->n_layers; ++l) {
    general = general || !A->layers[l].a1_form;
    gated = gated || A->layers[l].gating != QM_GATING_NONE;
  }
  for (int p = 0; p < QM_FILM_COUNT; ++p)
    any_film = any_film || D->film[p].active;
  const bool need_a = general || gated, need_mix = D->film[QM_FILM_MIXIN_POST].active,
             need_condf = D->film[QM_FILM_MIXIN_PRE].active, need_l1 = general && D->layer1x1;
  A->gather = qm_falloc(chunk * gather);
  A->z = qm_falloc(chunk * zmax);
  A->a = need_a ? qm_falloc(chunk * (size_t)B) : NULL;
  A->mix = need_mix ? qm_falloc(chunk * zmax) : NULL;
  A->ss = any_film ? qm_falloc(chunk * ssmax) : NULL;
  A->condf = need_condf ? qm_falloc(chunk * (size_t)Q) : NULL;
  A->l1 = need_l1 ? qm_falloc(chunk * (size_t)C) : NULL;
  A->h1 = D->head1x1 ? qm_falloc(chunk * (size_t)D->head1x1_out) : NULL;
  A->headacc = qm_falloc(chunk * (size_t)HO);
  A->headout = qm_falloc(chunk * (size_t)D->head_size);
  A->out = qm_falloc(chunk * (size_t)C);
  if (!A->gather || !A->z || (need_a && !A->a) || (need_mix && !A->mix) || (any_film && !A->ss) ||
      (need_condf && !A->condf) || (need_l1 && !A->l1) || (D->head1x1 && !A->h1) || !A->headacc ||
      !A->headout || !A->out)
    goto oom;
  return true;
oom:
  snprintf(err, errlen, "out of memory building the WaveNet");
  return false;
}

static bool build_head(qm_model *m, qm_wavenet *wn, const qm_wn_post_head *H, const char *prefix,
                       char *err, size_t errlen)
{
  wn->head_act = H->activation;
  if (!(wn->head = calloc((size_t)H->n_convs, sizeof *wn->head)))
    goto oom;
  wn->n_head = H->n_convs;
  size_t gather = 1;
  for (int i = 0; i < H->n_convs; ++i) {
    const qm_wn_head_conv *D = &H->convs[i];
    wn_head_conv *K = &wn->head[i];
    char name[48];
    snprintf(name, sizeof name, "%shead%d", prefix, i);
    if (!qm_model_linear_init(m, &K->lin, name, D->out, D->kernel_size * D->in, D->w, D->b, err,
                              errlen))
      return false;
    if ((K->tap = qm_model_add_layer(m, name, D->out)) < 0 ||
        !hist_init(&K->in, D->in, D->kernel_size, 1, m->chunk))
      goto oom;
    if ((size_t)D->kernel_size * (size_t)D->in > gather)
      gather = (size_t)D->kernel_size * (size_t)D->in;
  }
  if (!(wn->head_gather = qm_falloc((size_t)m->chunk * gather)))
    goto oom;
  return true;
oom:
  snprintf(err, errlen, "out of memory building the WaveNet");
  return false;
}

static void free_net(qm_wavenet *wn);

/** A WaveNet and its condition_dsp; prefix names their linears and taps. */
static qm_wavenet *build_net(qm_model *m, const qm_wavenet_desc *d, const char *prefix, char *err,
                             size_t errlen)
{
  qm_wavenet *wn = calloc(1, sizeof *wn);
  if (!wn) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  wn->head_scale = d->head_scale;
  wn->out_channels = d->out_channels;
  int cond_channels = d->in_channels;
  if (d->condition_dsp) {
    char sub[48];
    snprintf(sub, sizeof sub, "%scond.", prefix);
    if (d->condition_dsp->arch != QM_ARCH_WAVENET ||
        !(wn->cond = build_net(m, &d->condition_dsp->wavenet, sub, err, errlen)))
      goto fail;
    cond_channels = wn->cond->out_channels;
    if (!(wn->condbuf = qm_falloc((size_t)m->chunk * (size_t)cond_channels)))
      goto oom;
  }
  if (!(wn->arrays = calloc((size_t)d->n_arrays, sizeof *wn->arrays)))
    goto oom;
  wn->n_arrays = d->n_arrays;
  for (int a = 0; a < wn->n_arrays; ++a) {
    const qm_wn_array *D = &d->arrays[a], *P = a ? &d->arrays[a - 1] : NULL;
    const int HO = D->head1x1 ? D->head1x1_out : D->bottleneck;
    /* The loader checks these; the engine relies on them, so re-check. */
    if (D->condition_size != cond_channels || (!P && D->input_size != d->in_channels) ||
        (P && (D->input_size != P->channels || P->head_size != HO))) {
      snprintf(err, errlen, "inconsistent layer array shapes");
      goto fail;
    }
    if (!build_array(m, &wn->arrays[a], D, prefix, a, err, errlen))
      goto fail;
  }
  if (d->head.n_convs && !build_head(m, wn, &d->head, prefix, err, errlen))
    goto fail;
  return wn;
oom:
  snprintf(err, errlen, "out of memory building the WaveNet");
fail:
  free_net(wn);
  return NULL;
}

bool qm_wavenet_build(qm_model *m, const qm_desc *d, char *err, size_t errlen)
{
  if (d->wavenet.out_channels != 1 || d->wavenet.in_channels != 1) {
    snprintf(err, errlen, "only mono WaveNets (1 input, 1 output) can be played");
    return false;
  }
  m->wn = build_net(m, &d->wavenet, "", err, errlen);
  return m->wn != NULL;
}

static void free_net(qm_wavenet *wn)
{
  if (!wn)
    return;
  for (int a = 0; a < wn->n_arrays; ++a) {
    wn_array *A = &wn->arrays[a];
    for (int l = 0; l < A->n_layers; ++l) {
      wn_layer *L = &A->layers[l];
      free(L->hist);
      free(L->xin);
      free_int8_history(&L->hq);
      free_derived(L, L->K);
      qm_linear_release(&L->conv);
      qm_linear_release(&L->mixin);
      qm_linear_release(&L->w1x1);
      qm_linear_release(&L->head1x1);
      for (int p = 0; p < QM_FILM_COUNT; ++p)
        qm_linear_release(&L->film[p].lin);
      free(L->wmix.w);
      free_warm(L);
    }
    free(A->layers);
    free(A->wrechannel.w);
    qm_linear_release(&A->rechannel);
    qm_linear_release(&A->head);
    hist_free(&A->headhist);
    free(A->gather);
    free(A->z);
    free(A->a);
    free(A->mix);
    free(A->ss);
    free(A->condf);
    free(A->l1);
    free(A->h1);
    free(A->headacc);
    free(A->headout);
    free(A->out);
  }
  free(wn->arrays);
  for (int i = 0; i < wn->n_head; ++i) {
    qm_linear_release(&wn->head[i].lin);
    hist_free(&wn->head[i].in);
  }
  free(wn->head);
  free(wn->head_gather);
  free_net(wn->cond);
  free(wn->condbuf);
  free(wn);
}

void qm_wavenet_free(qm_model *m)
{
  free_net(m->wn);
  m->wn = NULL;
}

static void reset_net(qm_model *m, qm_wavenet *wn)
{
  for (int a = 0; a < wn->n_arrays; ++a) {
    wn_array *A = &wn->arrays[a];
    for (int l = 0; l < A->n_layers; ++l) {
      wn_layer *L = &A->layers[l];
      memset(L->hist, 0, (size_t)hist_frames(m, L) * (size_t)A->C * sizeof(float));
      if (L->hq.codes)
        qk_wavenet_history_clear(&L->hq, L->frames);
      L->pos = L->lookback;
      L->wmix.ok = false;
    }
    A->wrechannel.ok = false;
    hist_reset(&A->headhist);
  }
  for (int i = 0; i < wn->n_head; ++i)
    hist_reset(&wn->head[i].in);
  if (wn->cond)
    reset_net(m, wn->cond);
}

void qm_wavenet_reset(qm_model *m) { reset_net(m, m->wn); }

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
   compiler inlines as plain vector moves, and below 8 (A2 nano's 3) value
   by value. Values are copied bit for bit either way.
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
    } else if (C < 8) {
      /* A2 nano's 3 channels: a libc call per 12 bytes cost more than the
         element copies */
      for (int f = 0; f < n; ++f) {
        const float *s = src + (size_t)f * (size_t)C;
        float *d = dst + (size_t)f * KC;
        for (int c = 0; c < C; ++c)
          d[c] = s[c];
      }
    } else {
      for (int f = 0; f < n; ++f)
        memcpy(dst + (size_t)f * KC, src + (size_t)f * (size_t)C, (size_t)C * sizeof(float));
    }
  }
}

/** r taken from M's current W (effective weights and format). */
static void rank1_refresh(rank1_weights *r, const qm_linear *M)
{
  if (r->ok && r->W == M->W && r->gen == M->W_gen)
    return;
  const float one = 1.0f;
  qk_gemm_f32(M->W, &one, 1, 1, NULL, r->w, M->out, 0);
  r->not_bf16 = qk_packed_format(M->W) != QK_BF16;
  r->W = M->W;
  r->gen = M->W_gen;
  r->ok = true;
}

/** Whether M can be applied as a rank-1 update (r, its rank1_weights): not
    BF16 compute, whose kernels round the input to bfloat16 first. */
static bool is_rank1(rank1_weights *r, const qm_linear *M)
{
  if (M->in != 1 || M->bias || M->act_mode != QM_LINEAR_ACT_F32)
    return false;
  rank1_refresh(r, M);
  return r->not_bf16;
}

static const float *rank1_effective(rank1_weights *r, const qm_linear *M)
{
  rank1_refresh(r, M);
  return r->w;
}

/** y[f] (+)= w * x[f], per element fl(w * x) then the add. */
static inline __attribute__((always_inline)) void
rank1_update(const float *w, const int out, const float *x, int n, float *y, int ldy, bool acc)
{
  for (int f = 0; f < n; ++f) {
    const float c = x[f];
    float *yf = y + (size_t)f * (size_t)ldy;
    if (acc) {
      for (int i = 0; i < out; ++i)
        yf[i] += w[i] * c;
    } else {
      for (int i = 0; i < out; ++i)
        yf[i] = w[i] * c;
    }
  }
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
  if (!is_rank1(r, M)) {
    qm_linear_apply(M, x, 1, n, y, ldy, flags);
    return;
  }
  if (M->observe)
    M->observe(M->observe_user, M, x, 1, n);
  const float *w = rank1_effective(r, M);
  const bool acc = flags & QK_ACCUMULATE;
  /* A2 nano's width 3 unrolled (a loop of 3 per frame was a tenth of its
     run time at block 64); 8 and 16 unrolled ran A1 at block 16 5% slower
     than the vectorized loop */
  if (M->out == 3)
    rank1_update(w, 3, x, n, y, ldy, acc);
  else
    rank1_update(w, M->out, x, n, y, ldy, acc);
}

/** Whether what qm_wavenet_prepare() derived still matches the weights.
    W_gen alone suffices here, unlike the float frame form's spec (which
    also compares the packed pointers): a calibration pass swaps W for a
    float copy without a new W_gen, but it runs float activations, so no
    int8 layer, the only user of what was derived, runs during it. */
static bool derived_current(const wn_layer *L)
{
  return L->derived_gen[0] == L->conv.W_gen && L->derived_gen[1] == L->w1x1.W_gen;
}

/**
   The kernels' form of a layer's nonlinearity (qk_wavenet_act); false when
   they have none. Tanh only with the fast activations: the int8 layer runs
   qk_tanh_int8, whose output is quantized to int8 straight away. The
   piecewise-linear kinds are NAM's expressions here (activation.c) and in
   the kernels alike, so they do not depend on `fast`. A PReLU of one slope
   is a LeakyReLU of that slope; one of several needs one per bottleneck
   channel (the loader's rule).
*/
static bool int8_act(const qm_activation *a, bool fast, int B, qk_wavenet_act *out)
{
  *out = (qk_wavenet_act){.kind = QK_WN_IDENTITY};
  switch (a->type) {
  case QM_NONLIN_NONE: return true;
  case QM_NONLIN_TANH: out->kind = QK_WN_TANH; return fast;
  case QM_NONLIN_RELU: out->kind = QK_WN_RELU; return true;
  case QM_NONLIN_HARDTANH: out->kind = QK_WN_HARDTANH; return true;
  case QM_NONLIN_LEAKY_RELU:
    out->kind = QK_WN_LEAKY_RELU;
    out->slope = a->negative_slope;
    return true;
  case QM_NONLIN_PRELU:
    if (a->n_slopes <= 1) {
      out->kind = QK_WN_LEAKY_RELU;
      out->slope = a->n_slopes == 1 ? a->slopes[0] : a->negative_slope;
      return true;
    }
    out->kind = QK_WN_PRELU;
    out->slopes = a->slopes;
    return a->n_slopes == B;
  case QM_NONLIN_LEAKY_HARDTANH:
    out->kind = QK_WN_LEAKY_HARDTANH;
    out->min_val = a->min_val;
    out->max_val = a->max_val;
    out->min_slope = a->min_slope;
    out->max_slope = a->max_slope;
    return true;
  default: return false;
  }
}

/** The kernels' description of layer L: its shape and weights (act and
    the prepared forms are the caller's). */
static inline qk_wavenet_layer layer_spec(const wn_array *A, const wn_layer *L)
{
  return (qk_wavenet_layer){
      .C = A->C,
      .taps = L->K,
      .dilation = L->dilation,
      .conv = L->conv.W,
      .conv_bias = L->conv.bias,
      .mixin = L->wmix.w,
      .w1x1 = L->w1x1.W,
      .bias1x1 = L->w1x1.bias,
      .bottleneck = A->B,
  };
}

static qk_wavenet_layer int8_layer_spec(const wn_array *A, const wn_layer *L)
{
  qk_wavenet_layer spec = layer_spec(A, L);
  /* the fast activations' tanh: a layer whose tanh is exact never runs this */
  int8_act(&L->act, true, A->B, &spec.act);
  if (derived_current(L)) {
    spec.conv_taps = (const qk_packed *const *)L->conv_taps;
    spec.prepared = L->prepared;
  }
  return spec;
}

/**
   Whether layer L runs as one int8 WaveNet layer (kernels' fused form
   where the ISA has one): a layer of the kernel's shape (int8_form), a
   nonlinearity the kernels have (int8_act), int8 dynamic activations on
   both matrices and nothing observing them (a calibration pass sees
   every linear's input). Only a layer qm_wavenet_prepare() gave an int8
   history can (the float reference has none: it would be half its
   memory).
*/
static bool int8_layer(const wn_array *A, wn_layer *L)
{
  if (!L->hq.codes || !L->int8_form || !L->int8_act_ok ||
      L->conv.act_mode != QM_LINEAR_ACT_S8_DYNAMIC || L->conv.observe ||
      L->w1x1.act_mode != QM_LINEAR_ACT_S8_DYNAMIC || L->w1x1.observe ||
      !is_rank1(&L->wmix, &L->mixin) || L->mixin.observe)
    return false;
  if (derived_current(L))
    return L->int8_valid; /* checked by qm_wavenet_prepare(), not again per block */
  if (L->hq.ld < qk_act_ld(A->C))
    return false; /* a fused form's narrow history, for the weights it was made for only */
  const qk_wavenet_layer spec = int8_layer_spec(A, L);
  return qk_wavenet_layer_s8_valid(&spec);
}

/**
   Its input frames are quantized once each into the int8 history (a scale
   per time step), and the conv reads every tap from there, whatever the
   weight groups (a tap split by a group boundary is qk.h's two pieces).
   x_quantized: the previous layer already put x there. NL: the next
   layer when it runs int8 too; the kernel may then quantize next into
   NL's history in its epilogue (one pass over the frames fewer). True
   when it did.
*/
static bool run_layer_int8(wn_array *A, wn_layer *L, const float *x, const float *cond, int n,
                           float *next, bool x_quantized, wn_layer *NL)
{
  rank1_effective(&L->wmix, &L->mixin);
  const qk_act_s8 hq = int8_history_at(&L->hq, L->pos);
  const qk_act_s8 nq = NL ? int8_history_at(&NL->hq, NL->pos) : (qk_act_s8){0};
  bool next_quantized = false;
  const qk_wavenet_scratch scratch = {.conv_act = &L->conv.act,
                                      .act_1x1 = &L->w1x1.act,
                                      .z = A->z,
                                      .next_q = NL ? &nq : NULL,
                                      .next_quantized = &next_quantized,
                                      .x_quantized = x_quantized};
  /* the kept spec, not a fresh one per call (zeroing and filling it was
     a visible part of a block of one frame) */
  if (derived_current(L)) {
    qk_wavenet_layer_s8(&L->int8_spec, x, &hq, cond, n, A->headacc, next, &scratch);
  } else {
    const qk_wavenet_layer spec = int8_layer_spec(A, L);
    qk_wavenet_layer_s8(&spec, x, &hq, cond, n, A->headacc, next, &scratch);
  }
  return next_quantized;
}

/**
   A block of one frame through int8 layer L as the kernels' int8 frame
   form, where it has one for L's current weights (else false: the caller
   runs run_layer_int8). It neither takes x quantized nor quantizes next.
*/
static bool run_layer_int8_frame(wn_array *A, wn_layer *L, const float *x, const float *cond,
                                 float *next)
{
  if (!L->s8_frame || !derived_current(L))
    return false;
  rank1_effective(&L->wmix, &L->mixin);
  const qk_act_s8 hq = int8_history_at(&L->hq, L->pos);
  L->s8_frame(&L->int8_spec, x, &hq, cond[0], A->headacc, next);
  return true;
}

/**
   A block of one frame through layer L as the kernels' float frame form
   (qk_wavenet_layer_f32_frame_form: the same bits as the steps below, without
   their dozen calls per layer, which were most of a block of one's time).
   False when L is not a float A1-form layer without gating (A1's and
   A2's; a layer with a bottleneck adds its 1x1 to the residual in
   another order), every linear float, nothing observing, a nonlinearity the kernels
   have, its tanh the fast one, which the kernels compute as qk_tanh does
   only on the active ISA) or the ISA has no such form; the caller runs
   the steps then.
*/
static bool run_layer_f32_frame(qm_model *m, wn_array *A, wn_layer *L, const float *x,
                                const float *cond, float *next)
{
  if (!L->a1_form || L->gating != QM_GATING_NONE || L->int8_only || L->xin || A->Q != 1 ||
      L->conv.act_mode != QM_LINEAR_ACT_F32 || L->conv.observe ||
      L->w1x1.act_mode != QM_LINEAR_ACT_F32 || L->w1x1.observe || !is_rank1(&L->wmix, &L->mixin) ||
      L->mixin.observe)
    return false;
  rank1_effective(&L->wmix, &L->mixin);
  /* the packed weights too: a calibration pass swaps W for its own float
     copy and back without a new W_gen (variant.c), and a small block of
     that pass must run the copy, not the weights the spec was made for */
  if (!L->f32_frame_known || L->f32_frame_gen[0] != L->conv.W_gen ||
      L->f32_frame_gen[1] != L->w1x1.W_gen || L->f32_frame_spec.conv != L->conv.W ||
      L->f32_frame_spec.w1x1 != L->w1x1.W) {
    L->f32_frame = NULL;
    L->f32_frame_spec = layer_spec(A, L);
    if (int8_act(&L->act, m->fast, A->B, &L->f32_frame_spec.act) &&
        (L->f32_frame_spec.act.kind != QK_WN_TANH || qk_packed_isa(L->conv.W) == qk_active_isa()))
      L->f32_frame = qk_wavenet_layer_f32_frame_form(&L->f32_frame_spec);
    L->f32_frame_gen[0] = L->conv.W_gen;
    L->f32_frame_gen[1] = L->w1x1.W_gen;
    L->f32_frame_known = true;
  }
  if (!L->f32_frame)
    return false;
  /* a bias may be added or dropped (bias correction) with the weights kept */
  L->f32_frame_spec.conv_bias = L->conv.bias;
  L->f32_frame_spec.bias1x1 = L->w1x1.bias;
  L->f32_frame(&L->f32_frame_spec, x, cond[0], A->headacc, next);
  return true;
}

/**
   Small blocks through layer L as the float frame form, one frame after
   another (the same bits: each frame's result depends only on the
   history, which already holds the block's earlier frames). Up to a few
   frames the GEMM path's tiles are mostly empty and its dozen calls per
   layer cost more than the frames' own chains: FP32 at blocks 2 and 3
   took longer per sample than at block 1. The crossover, measured against
   the GEMM path (README, "Small blocks"), rises as the layer narrows and
   its tiles empty: about 4 frames at 16 channels (A1), 6 at 8 (A1's
   second array, A2 standard), 12 at 3 (A2 nano): f32_frames_max().
   False, with nothing run, where the frame form does not apply.
*/
static int f32_frames_max(int C)
{
  return C > 8 ? 4 : C > 4 ? 6 : 12;
}

static bool run_layer_f32_frames(qm_model *m, wn_array *A, wn_layer *L, const float *x,
                                 const float *cond, int n, float *next)
{
  if (n > f32_frames_max(A->C) || !run_layer_f32_frame(m, A, L, x, cond, next))
    return false;
  const size_t C = (size_t)A->C, HO = (size_t)A->HO;
  for (int f = 1; f < n; ++f)
    L->f32_frame(&L->f32_frame_spec, x + f * C, cond[f], A->headacc + f * HO, next + f * C);
  return true;
}

/** z = the dilated conv of the history ending at x (frames at x .. x + n). */
static void apply_conv(wn_array *A, wn_layer *L, const float *x, int n)
{
  const int C = A->C, Z = L->Z, K = L->K;
  if (K == 1) {
    qm_linear_apply(&L->conv, x, C, n, A->z, Z, 0);
  } else if ((L->conv.act_mode == QM_LINEAR_ACT_S8_DYNAMIC ||
              L->conv.act_mode == QM_LINEAR_ACT_F32) &&
             !L->conv.observe) {
    /* int8 dynamic: the taps are quantized straight from the history;
       float: the kernels read them there where they can (A2 nano) */
    qm_linear_apply_taps(&L->conv, x - (size_t)L->dilation * (size_t)(K - 1) * (size_t)C, C, K,
                         (ptrdiff_t)L->dilation * C, n, A->gather, A->z, Z, 0);
  } else {
    gather_taps(A->gather, x, n, C, K, L->dilation);
    qm_linear_apply(&L->conv, A->gather, K * C, n, A->z, Z, 0);
  }
}

/** Y (+)= mixin(condition), the rank-1 form for a single condition channel. */
static void apply_mixin(wn_array *A, wn_layer *L, const float *cond, int n, float *y,
                        unsigned flags)
{
  if (A->Q == 1)
    apply_single_input(&L->mixin, &L->wmix, cond, n, y, L->Z, flags);
  else
    qm_linear_apply(&L->mixin, cond, A->Q, n, y, L->Z, flags);
}

/** An A1 layer: the linears, activation and sums one after another. */
static void run_layer_steps(qm_model *m, wn_array *A, wn_layer *L, const float *x,
                            const float *cond, int n, float *next)
{
  const int C = A->C, Z = L->Z;
  const size_t nc = (size_t)n * (size_t)C;
  apply_conv(A, L, x, n);
  apply_mixin(A, L, cond, n, A->z, QK_ACCUMULATE);

  const float *a;
  if (L->gating == QM_GATING_NONE) {
    qm_activation_apply(&L->act, m->fast, A->z, (size_t)n, Z);
    a = A->z;
  } else {
    for (int f = 0; f < n; ++f) {
      float *z = A->z + (size_t)f * Z, *af = A->a + (size_t)f * C;
      qm_activation_apply(&L->act, m->fast, z, 1, C);
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

/**
   FiLM: y = x * scale + shift per channel, scale and shift (rows dim and
   2*dim of F's linear) from the condition; y may be x.
*/
static void film_apply(wn_array *A, wn_film *F, const float *cond, const float *x, int ldx,
                       float *y, int ldy, int n)
{
  const int rows = F->lin.out, dim = F->dim;
  qm_linear_apply(&F->lin, cond, A->Q, n, A->ss, rows, 0);
  for (int f = 0; f < n; ++f) {
    const float *s = A->ss + (size_t)f * (size_t)rows, *xf = x + (size_t)f * (size_t)ldx;
    float *yf = y + (size_t)f * (size_t)ldy;
    if (F->shift)
      for (int c = 0; c < dim; ++c)
        yf[c] = xf[c] * s[c] + s[dim + c];
    else
      for (int c = 0; c < dim; ++c)
        yf[c] = xf[c] * s[c];
  }
}

/**
   Any other layer, in NeuralAmpModelerCore's order (Layer::Process):
   conv (FiLM before and after), input_mixin (FiLM before and after), z =
   their sum, FiLM, activation / gating / blending into a, FiLM, head1x1
   (FiLM) or a into the head, layer1x1 into the residual. NAM applies
   layer1x1_post_film in blended layers only; so does this.
*/
static void run_layer_general(qm_model *m, wn_array *A, wn_layer *L, const float *x,
                              const float *cond, int n, float *next)
{
  const int C = A->C, B = A->B, Z = L->Z;
  wn_film *film = L->film;
  float *convin = L->hist + (size_t)L->pos * (size_t)C;
  if (film[QM_FILM_CONV_PRE].active)
    film_apply(A, &film[QM_FILM_CONV_PRE], cond, x, C, convin, C, n);
  apply_conv(A, L, convin, n);
  if (film[QM_FILM_CONV_POST].active)
    film_apply(A, &film[QM_FILM_CONV_POST], cond, A->z, Z, A->z, Z, n);

  const float *c = cond;
  if (film[QM_FILM_MIXIN_PRE].active) {
    film_apply(A, &film[QM_FILM_MIXIN_PRE], cond, cond, A->Q, A->condf, A->Q, n);
    c = A->condf;
  }
  if (film[QM_FILM_MIXIN_POST].active) {
    apply_mixin(A, L, c, n, A->mix, 0);
    film_apply(A, &film[QM_FILM_MIXIN_POST], cond, A->mix, Z, A->mix, Z, n);
    for (size_t i = 0; i < (size_t)n * (size_t)Z; ++i)
      A->z[i] += A->mix[i];
  } else {
    apply_mixin(A, L, c, n, A->z, QK_ACCUMULATE);
  }
  if (film[QM_FILM_ACTIVATION_PRE].active)
    film_apply(A, &film[QM_FILM_ACTIVATION_PRE], cond, A->z, Z, A->z, Z, n);

  float *a = A->a;
  if (L->gating == QM_GATING_NONE) {
    qm_activation_apply(&L->act, m->fast, A->z, (size_t)n, Z);
    memcpy(a, A->z, (size_t)n * (size_t)B * sizeof(float));
  } else {
    for (int f = 0; f < n; ++f) {
      float *z = A->z + (size_t)f * Z, *af = a + (size_t)f * B;
      if (L->gating == QM_GATING_BLENDED)
        memcpy(af, z, (size_t)B * sizeof(float)); /* the value before activation */
      qm_activation_apply(&L->act, m->fast, z, 1, B);
      qm_activation_apply(&L->secondary, m->fast, z + B, 1, B);
      if (L->gating == QM_GATING_GATED)
        for (int k = 0; k < B; ++k)
          af[k] = z[k] * z[B + k];
      else
        for (int k = 0; k < B; ++k) {
          const float alpha = z[B + k];
          af[k] = alpha * z[k] + (1.0f - alpha) * af[k];
        }
    }
  }
  if (film[QM_FILM_ACTIVATION_POST].active)
    film_apply(A, &film[QM_FILM_ACTIVATION_POST], cond, a, B, a, B, n);

  const size_t nh = (size_t)n * (size_t)A->HO;
  if (L->has_head1x1) {
    qm_linear_apply(&L->head1x1, a, B, n, A->h1, A->HO, 0);
    if (film[QM_FILM_HEAD1X1_POST].active)
      film_apply(A, &film[QM_FILM_HEAD1X1_POST], cond, A->h1, A->HO, A->h1, A->HO, n);
    for (size_t i = 0; i < nh; ++i)
      A->headacc[i] += A->h1[i];
  } else {
    for (size_t i = 0; i < nh; ++i)
      A->headacc[i] += a[i];
  }

  const size_t nc = (size_t)n * (size_t)C;
  if (L->has_1x1) {
    qm_linear_apply(&L->w1x1, a, B, n, A->l1, C, 0);
    if (L->gating == QM_GATING_BLENDED && film[QM_FILM_LAYER1X1_POST].active)
      film_apply(A, &film[QM_FILM_LAYER1X1_POST], cond, A->l1, C, A->l1, C, n);
    for (size_t i = 0; i < nc; ++i)
      next[i] = x[i] + A->l1[i];
  } else {
    memmove(next, x, nc * sizeof(float));
  }
}

/** headout = the head conv of the accumulated head (its history when K > 1). */
static void run_array_head(wn_array *A, int n)
{
  wn_hist *h = &A->headhist;
  if (!h->hist) {
    qm_linear_apply(&A->head, A->headacc, A->HO, n, A->headout, A->head_size, 0);
    return;
  }
  hist_make_room(h, n);
  float *at = hist_at(h);
  memcpy(at, A->headacc, (size_t)n * (size_t)A->HO * sizeof(float));
  if (A->head.observe || A->head.act_mode == QM_LINEAR_ACT_S8_STATIC) {
    gather_taps(A->gather, at, n, A->HO, h->K, h->dilation);
    qm_linear_apply(&A->head, A->gather, h->K * A->HO, n, A->headout, A->head_size, 0);
  } else { /* the taps read in place (int8 dynamic, or float where the ISA can) */
    qm_linear_apply_taps(&A->head, at - (size_t)h->lookback * (size_t)A->HO, A->HO, h->K,
                         (ptrdiff_t)h->dilation * A->HO, n, A->gather, A->headout, A->head_size, 0);
  }
  h->pos += n;
}

/**
   One array on a batch: `in` is the model's input (first array) and `cond`
   the condition every layer reads (the input again without condition_dsp).
*/
static void run_array(qm_model *m, wn_array *A, const wn_array *prev, const float *in,
                      const float *cond, int n)
{
  const int C = A->C;
  const size_t nc = (size_t)n * (size_t)C;
  /* One pass over the layers: each one's room is made just before the
     layer before it writes its input, and its position advanced once it
     ran. At a block of one frame the engine's time is mostly the layer
     structs' cache lines (3 KB each), so separate passes for the room and
     the positions cost visibly (A2 nano: 23 layers per frame). */
  const bool tapping = qm_tapping(m);

  /* Array input: the mono input for the first array, else the residual
     stream of the previous one. */
  wn_layer *L0 = &A->layers[0];
  make_room(L0, C, n);
  if (prev)
    qm_linear_apply(&A->rechannel, prev->out, prev->C, n, batch_input(L0, C), C, 0);
  else
    apply_single_input(&A->rechannel, &A->wrechannel, in, n, batch_input(L0, C), C, 0);
  const size_t nh = (size_t)n * (size_t)A->HO;
  if (prev)
    memcpy(A->headacc, prev->headout, nh * sizeof(float)); /* prev head_size == HO */
  else
    memset(A->headacc, 0, nh * sizeof(float));

  bool quantized = false; /* layer l's input already in its int8 history */
  bool int8 = A->n_layers > 0 && A->layers[0].hq.codes && int8_layer(A, &A->layers[0]);
  for (int l = 0; l < A->n_layers; ++l) {
    wn_layer *L = &A->layers[l];
    wn_layer *NL = l + 1 < A->n_layers ? &A->layers[l + 1] : NULL;
    if (NL)
      make_room(NL, C, n);
    const float *x = batch_input(L, C);
    float *next = NL ? batch_input(NL, C) : A->out;
    /* whether the next layer runs int8 too (once per layer, carried over) */
    const bool next_int8 = NL && NL->hq.codes && int8_layer(A, NL);
    if (!(int8 && next_int8 && L->chains && derived_current(L)))
      NL = NULL;
    const bool x_quantized = quantized;
    quantized = false;
    if (int8 && n == 1 && run_layer_int8_frame(A, L, x, cond, next))
      ;
    else if (int8)
      quantized = run_layer_int8(A, L, x, cond, n, next, x_quantized, NL);
    else if (run_layer_f32_frames(m, A, L, x, cond, n, next))
      ;
    else if (L->int8_only) /* its linears were changed behind qm_model_quantize's back: no
            float lookback to run them on, pass the residual through */
      memcpy(next, x, nc * sizeof(float));
    else if (L->a1_form)
      run_layer_steps(m, A, L, x, cond, n, next);
    else
      run_layer_general(m, A, L, x, cond, n, next);
    if (tapping)
      qm_tap(m, L->tap_layer, next, C, C, n);
    L->pos += n;
    int8 = next_int8;
  }
  run_array_head(A, n);
  qm_tap(m, A->tap_head, A->headout, A->head_size, A->head_size, n);
}

/** The post-stack head: act then conv, per conv, from head_scale * h. */
static void run_post_head(qm_model *m, qm_wavenet *wn, const float *h, int n, float *y)
{
  for (int i = 0; i < wn->n_head; ++i) {
    wn_head_conv *K = &wn->head[i];
    wn_hist *in = &K->in;
    hist_make_room(in, n);
    float *at = hist_at(in);
    if (i == 0)
      for (size_t k = 0; k < (size_t)n * (size_t)in->C; ++k)
        at[k] = wn->head_scale * h[k];
    qm_activation_apply(&wn->head_act, m->fast, at, (size_t)n, in->C);
    float *out = y;
    if (i + 1 < wn->n_head) {
      hist_make_room(&wn->head[i + 1].in, n);
      out = hist_at(&wn->head[i + 1].in);
    }
    if (in->K == 1) {
      qm_linear_apply(&K->lin, at, in->C, n, out, K->lin.out, 0);
    } else {
      gather_taps(wn->head_gather, at, n, in->C, in->K, 1);
      qm_linear_apply(&K->lin, wn->head_gather, in->K * in->C, n, out, K->lin.out, 0);
    }
    qm_tap(m, K->tap, out, K->lin.out, K->lin.out, n);
    in->pos += n;
  }
}

/** y[n][out_channels] = the net on x[n] (mono). */
static void run_net(qm_model *m, qm_wavenet *wn, const float *x, float *y, int n)
{
  const float *cond = x;
  if (wn->cond) {
    run_net(m, wn->cond, x, wn->condbuf, n);
    cond = wn->condbuf;
  }
  for (int a = 0; a < wn->n_arrays; ++a)
    run_array(m, &wn->arrays[a], a ? &wn->arrays[a - 1] : NULL, x, cond, n);
  const wn_array *last = &wn->arrays[wn->n_arrays - 1];
  if (wn->n_head) {
    run_post_head(m, wn, last->headout, n, y);
    return;
  }
  const size_t nh = (size_t)n * (size_t)last->head_size;
  for (size_t i = 0; i < nh; ++i)
    y[i] = wn->head_scale * last->headout[i];
}

void qm_wavenet_run(qm_model *m, const float *x, float *y, int n) { run_net(m, m->wn, x, y, n); }

/**
   Columns [from, from + n) of a's int8 history to [to, to + n) of b's; of
   different ld (one a fused layer's narrow history), column by column,
   the codes and padding zeros a holds, then zeros to b's ld.
*/
static void copy_int8_columns(qk_act_s8 *b, int to, const qk_act_s8 *a, int from, int n, int C)
{
  if (a->ld == b->ld && a->paired == b->paired) {
    memcpy(b->codes + (size_t)to * (size_t)b->ld, a->codes + (size_t)from * (size_t)a->ld,
           (size_t)n * (size_t)a->ld);
  } else if (!a->paired && !b->paired) {
    const size_t common = (size_t)(a->ld < b->ld ? a->ld : b->ld);
    for (int f = 0; f < n; ++f) {
      int8_t *dst = b->codes + (size_t)(to + f) * (size_t)b->ld;
      memcpy(dst, a->codes + (size_t)(from + f) * (size_t)a->ld, common);
      memset(dst + common, 0, (size_t)b->ld - common);
    }
  } else { /* one of them paired: through the codes */
    int8_t codes[QM_MAX_CHANNELS];
    for (int f = 0; f < n; ++f) {
      qk_wavenet_history_codes(a, C, from + f, codes);
      qk_wavenet_history_set_codes(b, C, to + f, f > 0, codes);
    }
  }
  memcpy(b->scales + to, a->scales + from, (size_t)n * sizeof(float));
  memcpy(b->sums + to, a->sums + from, (size_t)n * sizeof(int32_t));
}

/** The lookback of h from s into d (same shapes), at d's reset position. */
static void hist_copy(wn_hist *d, const wn_hist *s)
{
  if (!d->hist)
    return;
  d->pos = d->lookback;
  memcpy(d->hist, s->hist + (size_t)(s->pos - s->lookback) * (size_t)s->C,
         (size_t)s->lookback * (size_t)s->C * sizeof(float));
}

static bool same_hist(const wn_hist *a, const wn_hist *b)
{
  return (a->hist != NULL) == (b->hist != NULL) && a->C == b->C && a->lookback == b->lookback;
}

static bool same_shape(const qm_wavenet *s, const qm_wavenet *d)
{
  if (!s || !d)
    return s == d;
  if (s->n_arrays != d->n_arrays || s->n_head != d->n_head || !same_shape(s->cond, d->cond))
    return false;
  for (int a = 0; a < s->n_arrays; ++a) {
    const wn_array *SA = &s->arrays[a];
    const wn_array *DA = &d->arrays[a];
    if (SA->C != DA->C || SA->n_layers != DA->n_layers || !same_hist(&SA->headhist, &DA->headhist))
      return false;
    for (int l = 0; l < SA->n_layers; ++l)
      if (SA->layers[l].lookback != DA->layers[l].lookback)
        return false;
  }
  for (int i = 0; i < s->n_head; ++i)
    if (!same_hist(&s->head[i].in, &d->head[i].in))
      return false;
  return true;
}

static void copy_net(qm_model *dst, qm_wavenet *d, const qm_wavenet *s)
{
  for (int a = 0; a < s->n_arrays; ++a) {
    const wn_array *SA = &s->arrays[a];
    wn_array *DA = &d->arrays[a];
    const size_t C = (size_t)SA->C;
    hist_copy(&DA->headhist, &SA->headhist);
    for (int l = 0; l < SA->n_layers; ++l) {
      const wn_layer *SL = &SA->layers[l];
      wn_layer *DL = &DA->layers[l];
      const int lb = SL->lookback, from = SL->pos - lb;
      DL->pos = DL->lookback;
      if (SL->int8_only && DL->int8_only) {
        copy_int8_columns(&DL->hq, 0, &SL->hq, from, lb, (int)C);
        continue;
      }
      if (SL->int8_only) {
        for (int f = 0; f < lb; ++f) {
          int8_t c[QM_MAX_CHANNELS];
          qk_wavenet_history_codes(&SL->hq, (int)C, from + f, c);
          const float sc = SL->hq.scales[from + f];
          for (size_t k = 0; k < C; ++k)
            DL->hist[(size_t)f * C + k] = (float)c[k] * sc;
        }
      } else if (DL->int8_only) {
        quantize_history(SL->hist + (size_t)from * C, (int)C, lb, &DL->hq);
        continue;
      } else {
        memcpy(DL->hist, SL->hist + (size_t)from * C, (size_t)lb * C * sizeof(float));
      }
      if (int8_layer(DA, DL))
        quantize_history(DL->hist, (int)C, lb, &DL->hq);
    }
  }
  for (int i = 0; i < s->n_head; ++i)
    hist_copy(&d->head[i].in, &s->head[i].in);
  if (s->cond)
    copy_net(dst, d->cond, s->cond);
}

/**
   The only streaming state of a WaveNet is each conv's input history (every
   layer's, the array heads' and the post-stack head's with kernels > 1, and
   the condition_dsp's): the `lookback` frames before pos are all a later
   batch reads. They go to the start of dst's buffer (dst->pos = lookback,
   the reset position), so the two models may have different chunk sizes.
   An int8 layer's int8 history is rebuilt from those floats (each frame
   quantized on its own, exactly as the run would have; no allocation).
   Everything else (gather, z, head accumulators) is per-batch scratch.

   An int8_only layer keeps no float lookback: from another int8_only layer
   its int8 columns are copied as they are (exact); into a layer that needs
   floats they are dequantized (code * scale per frame), which is close to
   but not bit for bit the float history the source saw. The plugin copies
   from a variant only when the reference has been idle (no meter, no UI).
*/
bool qm_wavenet_copy_state(qm_model *dst, const qm_model *src)
{
  if (!src->wn || !dst->wn || !same_shape(src->wn, dst->wn))
    return false;
  copy_net(dst, dst->wn, src->wn);
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
   The lb float frames at src, kept in *warm: one frame when all lb are
   the same bits, else all of them. False when out of memory.
*/
static bool save_float_frames(const float *src, int lb, size_t C, float **warm, int *warm_frames,
                              bool *finite)
{
  int frames = 1;
  for (int f = 1; f < lb && frames == 1; ++f)
    if (memcmp(src + (size_t)f * C, src, C * sizeof(float)))
      frames = lb;
  if (!(*warm = malloc((size_t)frames * C * sizeof(float))))
    return false;
  memcpy(*warm, src, (size_t)frames * C * sizeof(float));
  for (size_t i = 0; i < (size_t)frames * C; ++i)
    *finite = *finite && isfinite((*warm)[i]);
  *warm_frames = frames;
  return true;
}

static void load_float_frames(float *dst, int lb, size_t C, const float *warm, int warm_frames)
{
  if (warm_frames == lb)
    memcpy(dst, warm, (size_t)lb * C * sizeof(float));
  else
    for (int f = 0; f < lb; ++f)
      memcpy(dst + (size_t)f * C, warm, C * sizeof(float));
}

static bool hist_save_warm(wn_hist *h, bool *finite)
{
  free(h->warm);
  h->warm = NULL;
  h->warm_frames = 0;
  if (!h->hist || h->lookback == 0)
    return true;
  return save_float_frames(h->hist + (size_t)(h->pos - h->lookback) * (size_t)h->C, h->lookback,
                           (size_t)h->C, &h->warm, &h->warm_frames, finite);
}

static void hist_load_warm(wn_hist *h)
{
  if (!h->hist)
    return;
  h->pos = h->lookback;
  if (h->lookback > 0)
    load_float_frames(h->hist, h->lookback, (size_t)h->C, h->warm, h->warm_frames);
}

/**
   The prewarmed state is each conv's lookback frames, as copy_state
   takes them (the int8 columns of an int8_only layer). After a prewarm of
   silence at least as long as the receptive field, every layer's input is
   the same vector frame after frame (the zero-input steady state), so a
   layer whose lookback frames are all bit-identical keeps one frame
   instead of all of them (the standard A1: 20 frames of 16 or 8 floats
   instead of 2,046 each); any other layer keeps its whole lookback.
   Restoring writes the same bits either way.
*/
static bool save_warm_net(qm_wavenet *wn, bool *finite)
{
  for (int a = 0; a < wn->n_arrays; ++a) {
    wn_array *A = &wn->arrays[a];
    const size_t C = (size_t)A->C;
    if (!hist_save_warm(&A->headhist, finite))
      return false;
    for (int l = 0; l < A->n_layers; ++l) {
      wn_layer *L = &A->layers[l];
      free_warm(L);
      const int lb = L->lookback, from = L->pos - lb;
      if (lb == 0)
        continue;
      if (L->int8_only) {
        int frames = 1;
        const qk_act_s8 v = int8_history_at(&L->hq, from);
        for (int f = 1; f < lb && frames == 1; ++f)
          if (!same_column(&v, f))
            frames = lb;
        if (!alloc_int8_history(&L->warmq, L->hq.ld, L->hq.paired, frames))
          return false;
        copy_int8_columns(&L->warmq, 0, &L->hq, from, frames, (int)C);
        for (int f = 0; f < frames; ++f)
          *finite = *finite && isfinite(L->warmq.scales[f]);
        L->warm_frames = frames;
      } else if (!save_float_frames(L->hist + (size_t)from * C, lb, C, &L->warm, &L->warm_frames,
                                    finite)) {
        return false;
      }
    }
  }
  for (int i = 0; i < wn->n_head; ++i)
    if (!hist_save_warm(&wn->head[i].in, finite))
      return false;
  return !wn->cond || save_warm_net(wn->cond, finite);
}

bool qm_wavenet_save_warm(qm_model *m, bool *finite)
{
  *finite = true;
  return save_warm_net(m->wn, finite);
}

static void load_warm_net(qm_model *m, qm_wavenet *wn)
{
  for (int a = 0; a < wn->n_arrays; ++a) {
    wn_array *A = &wn->arrays[a];
    const size_t C = (size_t)A->C;
    hist_load_warm(&A->headhist);
    for (int l = 0; l < A->n_layers; ++l) {
      wn_layer *L = &A->layers[l];
      const int lb = L->lookback;
      L->pos = lb;
      if (lb == 0)
        continue;
      if (L->int8_only) {
        if (L->warm_frames == lb)
          copy_int8_columns(&L->hq, 0, &L->warmq, 0, lb, (int)C);
        else
          for (int f = 0; f < lb; ++f)
            copy_int8_columns(&L->hq, f, &L->warmq, 0, 1, (int)C);
        continue;
      }
      load_float_frames(L->hist, lb, C, L->warm, L->warm_frames);
      if (int8_layer(A, L))
        quantize_history(L->hist, (int)C, lb, &L->hq);
    }
  }
  for (int i = 0; i < wn->n_head; ++i)
    hist_load_warm(&wn->head[i].in);
  if (wn->cond)
    load_warm_net(m, wn->cond);
}

void qm_wavenet_load_warm(qm_model *m) { load_warm_net(m, m->wn); }

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
   the scale and zero point of the row's group those columns lie in. NULL
   when the weights are float, have groups that split a tap (qk.h's
   pieces: no slice of one group holds such a tap), or an allocation
   fails (the slices only
   save time; the layer runs without them).
*/
static qk_packed **pack_conv_taps(const qk_weights *w, int C, int K, qk_isa isa)
{
  const int ng = qk_group_count(w->cols, w->group);
  const int G = ng > 1 ? w->group : w->cols;
  if (w->format == QK_F32 || G % C != 0 || w->cols != K * C)
    return NULL;
  const size_t rows = (size_t)w->rows;
  qk_packed **taps = calloc((size_t)K, sizeof *taps);
  int8_t *codes = malloc(rows * (size_t)C);
  float *scales = malloc(rows * sizeof *scales);
  int32_t *zp = w->zero_points ? malloc(rows * sizeof *zp) : NULL;
  bool ok = taps && codes && scales && (zp || !w->zero_points);
  for (int t = 0; ok && t < K; ++t) {
    const size_t g = (size_t)(t * C / G);
    for (size_t r = 0; r < rows; ++r) {
      memcpy(codes + r * (size_t)C, w->codes + r * (size_t)w->cols + (size_t)t * C, (size_t)C);
      scales[r] = w->scales[r * (size_t)ng + g];
      if (zp)
        zp[r] = w->zero_points[r * (size_t)ng + g];
    }
    qk_weights slice = *w;
    slice.cols = C;
    slice.group = 0;
    slice.codes = codes;
    slice.scales = scales;
    slice.zero_points = zp;
    ok = (taps[t] = qk_pack(&slice, isa, NULL)) != NULL;
  }
  free(codes);
  free(scales);
  free(zp);
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

static bool prepare_net(qm_model *m, qm_wavenet *wn, const qk_weights *const *w)
{
  for (int a = 0; a < wn->n_arrays; ++a) {
    wn_array *A = &wn->arrays[a];
    for (int l = 0; l < A->n_layers; ++l) {
      wn_layer *L = &A->layers[l];
      free_derived(L, L->K);
      free_int8_history(&L->hq);
      if (!set_float_history(m, L, A->C, false))
        return false;
      const int i = linear_index(m, &L->conv);
      /* only a layer of the kernel's shape and a mono condition can run
         the int8 form */
      if (i < 0 || !w || !w[i] || !L->int8_form || A->Q != 1)
        continue;
      rank1_effective(&L->wmix, &L->mixin);
      const qk_wavenet_layer spec = int8_layer_spec(A, L);
      /* recorded for these weights either way, so that int8_layer() does
         not check an invalid spec again on every block either */
      L->int8_valid = qk_wavenet_layer_s8_valid(&spec);
      L->chains = L->int8_valid && qk_wavenet_layer_s8_chains(&spec);
      L->derived_gen[0] = L->conv.W_gen;
      L->derived_gen[1] = L->w1x1.W_gen;
      if (!L->int8_valid)
        continue;
      /* the int8 history, only where the layer will read it (as narrow
         as its fused form allows); without it (out of memory) the layer
         runs step by step */
      if (!alloc_int8_history(&L->hq, qk_wavenet_layer_s8_history_ld(&spec),
                              qk_wavenet_layer_s8_history_paired(&spec), L->frames)) {
        free_int8_history(&L->hq);
        continue;
      }
      if (!int8_layer(A, L)) {
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
      } else if (L->K > 1) {
        L->conv_taps = pack_conv_taps(w[i], A->C, L->K, m->isa);
      }
      L->int8_spec = int8_layer_spec(A, L); /* with what was just derived */
      L->s8_frame = qk_wavenet_layer_s8_frame_form(&L->int8_spec);
    }
  }
  return !wn->cond || prepare_net(m, wn->cond, w);
}

/**
   After quantization: per int8 layer, the fused form's prepared weights
   where the ISA has one (decoded once here instead of on every call),
   else the per-tap conv slices of the step-by-step form.
*/
bool qm_wavenet_prepare(qm_model *m, const qk_weights *const *w)
{
  return prepare_net(m, m->wn, w);
}

static void hist_memory(const wn_hist *h, qm_memory *mem)
{
  if (!h->hist)
    return;
  mem->history_float += (size_t)h->frames * (size_t)h->C * sizeof(float);
  mem->prewarm += (size_t)h->warm_frames * (size_t)h->C * sizeof(float);
}

static void memory_net(const qm_model *m, const qm_wavenet *wn, qm_memory *mem)
{
  const size_t chunk = (size_t)m->chunk, F = sizeof(float);
  mem->other += sizeof *wn + (size_t)wn->n_arrays * sizeof(wn_array) +
                (size_t)wn->n_head * sizeof(wn_head_conv);
  for (int a = 0; a < wn->n_arrays; ++a) {
    const wn_array *A = &wn->arrays[a];
    const size_t C = (size_t)A->C;
    size_t gather = (size_t)A->head.in, zmax = 1, ssmax = 1;
    mem->other += (size_t)A->n_layers * sizeof(wn_layer);
    mem->weights_derived += C * F; /* wrechannel */
    qm_linear_memory(&A->rechannel, mem);
    qm_linear_memory(&A->head, mem);
    hist_memory(&A->headhist, mem);
    for (int l = 0; l < A->n_layers; ++l) {
      const wn_layer *L = &A->layers[l];
      const size_t Z = (size_t)L->Z;
      gather = gather > (size_t)L->conv.in ? gather : (size_t)L->conv.in;
      zmax = zmax > Z ? zmax : Z;
      mem->history_float += (size_t)hist_frames(m, L) * C * F;
      if (L->xin)
        mem->scratch += chunk * C * F;
      if (L->hq.codes)
        mem->history_int8 += (size_t)L->frames * ((size_t)L->hq.ld + F + sizeof(int32_t));
      mem->prewarm += L->warmq.codes ? (size_t)L->warm_frames * ((size_t)L->warmq.ld + 2 * F)
                                     : (size_t)L->warm_frames * C * F;
      mem->weights_derived += Z * F; /* wmix */
      if (L->prepared) {
        qk_wavenet_layer spec = int8_layer_spec(A, L);
        spec.prepared = NULL;
        mem->weights_derived += qk_wavenet_layer_s8_prepared_size(&spec);
      }
      for (int t = 0; L->conv_taps && t < L->K; ++t)
        mem->weights_derived += qk_packed_alloc_bytes(L->conv_taps[t]);
      qm_linear_memory(&L->conv, mem);
      qm_linear_memory(&L->mixin, mem);
      qm_linear_memory(&L->w1x1, mem);
      qm_linear_memory(&L->head1x1, mem);
      for (int p = 0; p < QM_FILM_COUNT; ++p) {
        qm_linear_memory(&L->film[p].lin, mem);
        ssmax = ssmax > (size_t)L->film[p].lin.out ? ssmax : (size_t)L->film[p].lin.out;
      }
    }
    /* gather, z, headacc, headout, out, and those only some arrays have */
    mem->scratch += chunk * F *
                    (gather + zmax + (size_t)A->HO + (size_t)A->head_size + C +
                     (A->a ? (size_t)A->B : 0) + (A->mix ? zmax : 0) + (A->ss ? ssmax : 0) +
                     (A->condf ? (size_t)A->Q : 0) + (A->l1 ? C : 0) + (A->h1 ? (size_t)A->HO : 0));
  }
  size_t head_gather = 0;
  for (int i = 0; i < wn->n_head; ++i) {
    qm_linear_memory(&wn->head[i].lin, mem);
    hist_memory(&wn->head[i].in, mem);
    if ((size_t)wn->head[i].lin.in > head_gather)
      head_gather = (size_t)wn->head[i].lin.in;
  }
  mem->scratch += chunk * F * head_gather;
  if (wn->cond) {
    mem->scratch += chunk * F * (size_t)wn->cond->out_channels;
    memory_net(m, wn->cond, mem);
  }
}

void qm_wavenet_memory(const qm_model *m, qm_memory *mem) { memory_net(m, m->wn, mem); }

static void int8_layers_net(const qm_model *m, const qm_wavenet *wn, int *int8, int *fused)
{
  for (int a = 0; a < wn->n_arrays; ++a) {
    const wn_array *A = &wn->arrays[a];
    for (int l = 0; l < A->n_layers; ++l) {
      wn_layer *L = &A->layers[l];
      if (!int8_layer(A, L))
        continue;
      const qk_wavenet_layer spec = int8_layer_spec(A, L);
      ++*int8;
      *fused += qk_wavenet_layer_s8_fused(&spec);
    }
  }
  if (wn->cond)
    int8_layers_net(m, wn->cond, int8, fused);
}

void qm_model_int8_layers(const qm_model *m, int *int8, int *fused)
{
  *int8 = *fused = 0;
  if (m->wn)
    int8_layers_net(m, m->wn, int8, fused);
}

/** NeuralAmpModelerCore's count: 1 + each layer's and array head's
    (K-1) * dilation + the post-stack head's K-1 per conv, plus what the
    condition_dsp sees before. */
static long long wavenet_receptive_field(const qm_desc *d)
{
  const qm_wavenet_desc *wn = &d->wavenet;
  long long rf = 1;
  for (int a = 0; a < wn->n_arrays; ++a) {
    const qm_wn_array *A = &wn->arrays[a];
    for (int l = 0; l < A->n_layers; ++l)
      rf += (long long)(A->layers[l].kernel_size - 1) * A->layers[l].dilation;
    rf += (long long)(A->head_kernel - 1) * A->head_dilation;
  }
  for (int i = 0; i < wn->head.n_convs; ++i)
    rf += wn->head.convs[i].kernel_size - 1;
  if (wn->condition_dsp)
    rf += wavenet_receptive_field(wn->condition_dsp) - 1;
  return rf;
}

/* ---- Cross-layer equalization groups (equalize.h) ------------------------------ */

/** f(x / s) = f(x) / s for every s > 0, channel by channel (PReLU's slope
    stays with its channel). */
static bool positively_homogeneous(const qm_activation *a)
{
  return a->type == QM_NONLIN_NONE || a->type == QM_NONLIN_RELU ||
         a->type == QM_NONLIN_LEAKY_RELU || a->type == QM_NONLIN_PRELU;
}

static bool any_film(const wn_layer *L, const qm_film_point *points, int n)
{
  for (int i = 0; i < n; ++i)
    if (L->film[points[i]].active)
      return true;
  return false;
}

static void add_writer(const qm_model *m, qm_eq_group *g, const qm_linear *L)
{
  g->writers[g->n_writers++] = (qm_eq_writer){.linear = linear_index(m, L), .offset = 0};
}

static void add_reader(const qm_model *m, qm_eq_group *g, const qm_linear *L, int stride, int taps)
{
  g->readers[g->n_readers++] =
      (qm_eq_reader){.linear = linear_index(m, L), .offset = 0, .stride = stride, .taps = taps};
}

/** The residual stream x of array A (C channels): its rechannel and every
    layer1x1 write it, every layer's conv (all K taps) and the next
    array's rechannel read it. */
static bool residual_group(const qm_model *m, const wn_array *A, const wn_array *next,
                           qm_eq_group **groups, int *n)
{
  qm_eq_group *g = qm_eq_group_new(groups, n, A->C, 1 + A->n_layers, A->n_layers + 1);
  if (!g)
    return false;
  add_writer(m, g, &A->rechannel);
  for (int l = 0; l < A->n_layers; ++l) {
    const wn_layer *L = &A->layers[l];
    if (L->has_1x1)
      add_writer(m, g, &L->w1x1);
    add_reader(m, g, &L->conv, A->C, L->K);
  }
  if (next)
    add_reader(m, g, &next->rechannel, A->C, 1);
  return true;
}

/** The activation channels of array A's ungated layers (B): conv (rows,
    bias) and mixin write a's input, layer1x1 and head1x1 read a. Without
    head1x1 a goes into the head accumulator: one group for the whole
    array, read by the array's head conv and written by the previous
    array's head conv (the accumulator's start). */
static bool activation_groups(const qm_model *m, const wn_array *A, const wn_array *prev,
                              qm_eq_group **groups, int *n)
{
  const bool shared = !A->layers[0].has_head1x1;
  qm_eq_group *g = NULL;
  for (int l = 0; l < A->n_layers; ++l) {
    const wn_layer *L = &A->layers[l];
    if (!g || !shared) {
      const int layers = shared ? A->n_layers : 1;
      if (!(g = qm_eq_group_new(groups, n, A->B, 2 * layers + 1, 2 * layers + 1)))
        return false;
      if (shared) {
        add_reader(m, g, &A->head, A->HO, A->head.in / A->HO);
        if (prev)
          add_writer(m, g, &prev->head);
      }
    }
    add_writer(m, g, &L->conv);
    add_writer(m, g, &L->mixin);
    if (L->has_1x1)
      add_reader(m, g, &L->w1x1, A->B, 1);
    if (L->has_head1x1)
      add_reader(m, g, &L->head1x1, A->B, 1);
  }
  return true;
}

static bool equalization_groups_net(const qm_model *m, const qm_wavenet *wn, qm_eq_group **groups,
                                    int *n)
{
  static const qm_film_point residual_film[] = {QM_FILM_CONV_PRE, QM_FILM_LAYER1X1_POST};
  static const qm_film_point act_film[] = {QM_FILM_CONV_POST, QM_FILM_MIXIN_POST,
                                           QM_FILM_ACTIVATION_PRE, QM_FILM_ACTIVATION_POST,
                                           QM_FILM_HEAD1X1_POST};
  if (wn->cond && !equalization_groups_net(m, wn->cond, groups, n))
    return false;
  for (int ai = 0; ai < wn->n_arrays; ++ai) {
    const wn_array *A = &wn->arrays[ai];
    const wn_array *next = ai + 1 < wn->n_arrays ? &wn->arrays[ai + 1] : NULL;
    const wn_array *prev = ai > 0 ? &wn->arrays[ai - 1] : NULL;
    bool residual_ok = A->n_layers > 0, act_ok = A->n_layers > 0;
    for (int l = 0; l < A->n_layers; ++l) {
      const wn_layer *L = &A->layers[l];
      residual_ok = residual_ok && !any_film(L, residual_film, 2);
      act_ok = act_ok && L->gating == QM_GATING_NONE && positively_homogeneous(&L->act) &&
               !any_film(L, act_film, 5);
    }
    if (residual_ok && !residual_group(m, A, next, groups, n))
      return false;
    if (act_ok && !activation_groups(m, A, prev, groups, n))
      return false;
  }
  return true;
}

static bool wavenet_equalization_groups(const qm_model *m, qm_eq_group **groups, int *n)
{
  return !m->wn || equalization_groups_net(m, m->wn, groups, n);
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
    .macs_per_sample = qm_wavenet_macs, /* slim_wavenet.c, beside the slicing it prices */
    .equalization_groups = wavenet_equalization_groups,
};
