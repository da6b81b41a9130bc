/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Sequential models: LSTM, GRU, Dense, Activation and FIR layers in a chain
  (NAM LSTM = LSTM layers + a dense head; NAM Linear = one FIR; keras /
  RTNeural files = any chain).

  Layer-major over a batch: each layer turns the batch's input frames into
  its output frames before the next layer runs. The input projections of
  recurrent layers (Wx x + b) do not depend on the state, so they are one
  GEMM over the batch; for one input value per frame on the float fused
  step, the step makes them itself, and the Dense of one row after it
  where that is the GEMM's arithmetic (run_fused_io, qk.h qk_rnn_io). The recurrence itself runs in the kernels' fused
  step (qk.h, qk_rnn_run: the recurrent product, every gate's activation
  and the state update in one pass per sample, weights packed once) when
  the model uses the kernels' activations (fast_activations) and Wh is
  float, or int8 with dynamic activations (its form is packed by
  qm_seq_prepare from the quantized codes). Otherwise (libm activations,
  weight-only or static quantization, grouped or asymmetric codes) it is
  a qm_linear GEMV per sample plus separate activation calls.
  Equations are in model_file.h next to qm_seq_layer.
*/
#include "activation.h"
#include "arch_registry.h"
#include "quantize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  qm_layer_kind kind;
  int in, out, taps, gates;
  qm_nonlinearity act;
  qm_linear wx, wh;
  bool has_wx, has_wh;
  float *h0, *c0; /* start state [out], NULL = zero */
  float *h, *c;   /* state [out] */
  float *g;       /* [chunk][gates*out] input projections */
  float *tmp;     /* [gates*out] per-step scratch */
  float *y;       /* [chunk][out] */
  float *hist;    /* FIR: input history */
  int frames, pos;
  int tap_layer;
  float *warm;           /* prewarmed h | c | FIR lookback (qm_seq_save_warm) */
  qk_rnn *fused_f32;     /* the fused step on wh's float weights, or NULL */
  qk_rnn *fused_s8;      /* on wh's int8 codes (qm_seq_prepare), or NULL */
  unsigned fused_s8_gen; /* wh.W_gen fused_s8 was packed from */
  /* weight-only quantized wh: the fused float step on its dequantized
     weights, or NULL; so it plays exactly what an exported file of those
     weights plays in float (models/nam_export.h) */
  qk_rnn *fused_wo;
  unsigned fused_wo_gen; /* wh.W_gen fused_wo was packed from */
} seq_layer;

struct qm_seq {
  int n_layers;
  seq_layer *layers;
};

static float *dup_or_null(const float *src, size_t n, bool *ok)
{
  if (!src)
    return NULL;
  float *p = qm_falloc(n);
  if (!p)
    *ok = false;
  else
    memcpy(p, src, n * sizeof(float));
  return p;
}

static bool build_layer(qm_model *m, seq_layer *S, const qm_seq_layer *D, int i, char *err,
                        size_t errlen)
{
  char name[48];
  const size_t chunk = (size_t)m->chunk;
  const int H = D->out;
  S->kind = D->kind;
  S->in = D->in;
  S->out = D->out;
  S->act = D->activation;
  bool ok = true;
  switch (D->kind) {
  case QM_LAYER_LSTM:
  case QM_LAYER_GRU:
    S->gates = D->kind == QM_LAYER_LSTM ? 4 : 3;
    snprintf(name, sizeof name, "%d.%s.wx", i, qm_layer_kind_name(D->kind));
    if (!qm_model_linear_init(m, &S->wx, name, S->gates * H, D->in, D->wx, D->b, err, errlen))
      return false;
    S->has_wx = true;
    snprintf(name, sizeof name, "%d.%s.wh", i, qm_layer_kind_name(D->kind));
    if (!qm_model_linear_init(m, &S->wh, name, S->gates * H, H, D->wh, D->bh, err, errlen))
      return false;
    S->has_wh = true;
    /** An LSTM's gate sums are wx x + b + wh h: wh's bias correction
        (FP16 weights) belongs in b. A GRU's candidate gate multiplies
        wh h by r, so its wh has no such partner. */
    if (D->kind == QM_LAYER_LSTM && !D->bh)
      S->wh.bias_into = &S->wx;
    if (m->fast) {
      /* optional: without it (out of memory) the layer runs unfused */
      const qk_rnn_weights fw = {.kind = D->kind == QM_LAYER_LSTM ? QK_RNN_LSTM : QK_RNN_GRU,
                                 .units = H,
                                 .wh = S->wh.w,
                                 .bh = S->wh.bias};
      S->fused_f32 = qk_rnn_pack(&fw, m->isa, NULL);
    }
    S->h0 = dup_or_null(D->h0, (size_t)H, &ok);
    S->c0 = dup_or_null(D->c0, (size_t)H, &ok);
    S->h = qm_falloc((size_t)H);
    S->c = qm_falloc((size_t)H);
    S->g = qm_falloc(chunk * (size_t)(S->gates * H));
    S->tmp = qm_falloc((size_t)(S->gates * H));
    ok = ok && S->h && S->c && S->g && S->tmp;
    break;
  case QM_LAYER_DENSE:
    snprintf(name, sizeof name, "%d.dense", i);
    if (!qm_model_linear_init(m, &S->wx, name, D->out, D->in, D->wx, D->b, err, errlen))
      return false;
    S->has_wx = true;
    break;
  case QM_LAYER_ACTIVATION:
    if (D->in != D->out) {
      snprintf(err, errlen, "activation layer %d changes width", i);
      return false;
    }
    break;
  case QM_LAYER_FIR:
    if (D->in != 1 || D->out != 1 || D->taps < 1) {
      snprintf(err, errlen, "FIR layer %d must be mono", i);
      return false;
    }
    S->taps = D->taps;
    snprintf(name, sizeof name, "%d.fir", i);
    if (!qm_model_linear_init(m, &S->wx, name, 1, D->taps, D->wx, D->b, err, errlen))
      return false;
    S->has_wx = true;
    S->frames = (D->taps - 1) + (m->chunk > D->taps - 1 ? m->chunk : D->taps - 1);
    S->hist = qm_falloc((size_t)S->frames);
    ok = S->hist != NULL;
    break;
  }
  S->y = qm_falloc(chunk * (size_t)D->out);
  snprintf(name, sizeof name, "%d.%s", i, qm_layer_kind_name(D->kind));
  if (!ok || !S->y || (S->tap_layer = qm_model_add_layer(m, name, D->out)) < 0) {
    snprintf(err, errlen, "out of memory building layer %d", i);
    return false;
  }
  return true;
}

bool qm_seq_build(qm_model *m, const qm_desc *d, char *err, size_t errlen)
{
  qm_seq *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  m->seq = s;
  if (d->seq.n_layers < 1) {
    snprintf(err, errlen, "model has no layers");
    return false;
  }
  s->layers = calloc((size_t)d->seq.n_layers, sizeof *s->layers);
  if (!s->layers) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  s->n_layers = d->seq.n_layers;
  int in = 1;
  for (int i = 0; i < s->n_layers; ++i) {
    if (d->seq.layers[i].in != in) {
      snprintf(err, errlen, "layer %d takes %d inputs but receives %d", i, d->seq.layers[i].in, in);
      return false;
    }
    if (!build_layer(m, &s->layers[i], &d->seq.layers[i], i, err, errlen))
      return false;
    in = d->seq.layers[i].out;
  }
  if (in != 1) {
    snprintf(err, errlen, "the last layer has %d outputs; a mono model needs 1", in);
    return false;
  }
  return true;
}

void qm_seq_free(qm_model *m)
{
  qm_seq *s = m->seq;
  if (!s)
    return;
  for (int i = 0; i < s->n_layers; ++i) {
    seq_layer *S = &s->layers[i];
    if (S->has_wx)
      qm_linear_release(&S->wx);
    if (S->has_wh)
      qm_linear_release(&S->wh);
    qk_rnn_free(S->fused_f32);
    qk_rnn_free(S->fused_wo);
    qk_rnn_free(S->fused_s8);
    free(S->h0);
    free(S->c0);
    free(S->h);
    free(S->c);
    free(S->g);
    free(S->tmp);
    free(S->y);
    free(S->hist);
    free(S->warm);
  }
  free(s->layers);
  free(s);
  m->seq = NULL;
}

void qm_seq_reset(qm_model *m)
{
  qm_seq *s = m->seq;
  for (int i = 0; i < s->n_layers; ++i) {
    seq_layer *S = &s->layers[i];
    size_t H = (size_t)S->out;
    if (S->h) {
      if (S->h0)
        memcpy(S->h, S->h0, H * sizeof(float));
      else
        memset(S->h, 0, H * sizeof(float));
    }
    if (S->c) {
      if (S->c0)
        memcpy(S->c, S->c0, H * sizeof(float));
      else
        memset(S->c, 0, H * sizeof(float));
    }
    if (S->hist) {
      memset(S->hist, 0, (size_t)S->frames * sizeof(float));
      S->pos = S->taps - 1;
    }
  }
}

/**
   The fused step that computes what the layer's linears would, or NULL:
   the float form while wh multiplies float weights (always its own float
   copy, the one the form was packed from: quantizers only replace W), the
   int8 form while wh runs int8 dynamic on the codes it was packed from.
*/
static const qk_rnn *fused_form(const qm_model *m, const seq_layer *S)
{
  const qm_linear *wh = &S->wh;
  if (!m->fast || wh->observe)
    return NULL;
  if (wh->act_mode == QM_LINEAR_ACT_F32 && qk_packed_format(wh->W) == QK_F32)
    return S->fused_f32;
  if (wh->act_mode == QM_LINEAR_ACT_F32)
    return S->fused_wo && wh->W_gen == S->fused_wo_gen ? S->fused_wo : NULL;
  if (wh->act_mode == QM_LINEAR_ACT_S8_DYNAMIC && S->fused_s8 && wh->W_gen == S->fused_s8_gen)
    return S->fused_s8;
  return NULL;
}

/** Whether L multiplies its float copy w (what qk_gemm_f32 does with it). */
static bool plain_float(const qm_linear *L)
{
  return L->act_mode == QM_LINEAR_ACT_F32 && !L->observe && qk_packed_format(L->W) == QK_F32;
}

/**
   The float fused step with the layer's input projection taken into it
   when the input is one value per frame (qk.h, qk_rnn_io: a K = 1 GEMM
   costs far more than its G*H multiplies), and the Dense after it (next,
   NULL if none) when that is one float row on an ISA where the step's
   Dense is the GEMM's. Same bits as the GEMMs around qk_rnn_run. Returns
   whether it ran; *dense_done whether next->y was written too.
*/
static bool run_fused_io(seq_layer *S, const qk_rnn *fused, const float *x, int ldx, int n,
                         seq_layer *next, bool *dense_done)
{
  *dense_done = false;
  if (fused == S->fused_s8 || S->in != 1 || !plain_float(&S->wx))
    return false;
  const bool dense = next && next->kind == QM_LAYER_DENSE && next->in == S->out && next->out == 1 &&
                     plain_float(&next->wx) && qk_packed_isa(next->wx.W) == qk_rnn_isa(fused) &&
                     qk_rnn_io_dense_is_gemm(qk_rnn_isa(fused));
  const qk_rnn_io io = {.x = x,
                        .ldx = ldx,
                        .wx = S->wx.w,
                        .bx = S->wx.bias,
                        .wd = dense ? next->wx.w : NULL,
                        .bd = dense ? next->wx.bias : NULL,
                        .yd = dense ? next->y : NULL};
  qk_rnn_run_io(fused, &io, n, S->h, S->c, S->y, S->out);
  *dense_done = dense;
  return true;
}

static void run_lstm(qm_model *m, seq_layer *S, const float *x, int ldx, int n, seq_layer *next,
                     bool *dense_done)
{
  const int H = S->out, G = 4 * H;
  float *h = S->h, *c = S->c, *t = S->tmp;
  const qk_rnn *fused = fused_form(m, S);
  *dense_done = false;
  if (fused && run_fused_io(S, fused, x, ldx, n, next, dense_done))
    return;
  qm_linear_apply(&S->wx, x, ldx, n, S->g, G, 0);
  if (fused) {
    qk_rnn_run(fused, S->g, G, n, h, c, S->y, H);
    return;
  }
  for (int f = 0; f < n; ++f) {
    float *g = S->g + (size_t)f * G;
    qm_linear_apply(&S->wh, h, H, 1, g, G, QK_ACCUMULATE);
    /* Rows i, f | g | o: sigmoid, tanh, sigmoid. */
    qm_sigmoid_v(m->fast, g, g, (size_t)(2 * H));
    qm_tanh_v(m->fast, g + 2 * H, g + 2 * H, (size_t)H);
    qm_sigmoid_v(m->fast, g + 3 * H, g + 3 * H, (size_t)H);
    for (int j = 0; j < H; ++j)
      c[j] = g[H + j] * c[j] + g[j] * g[2 * H + j];
    qm_tanh_v(m->fast, t, c, (size_t)H);
    float *y = S->y + (size_t)f * H;
    for (int j = 0; j < H; ++j)
      y[j] = h[j] = g[3 * H + j] * t[j];
  }
}

static void run_gru(qm_model *m, seq_layer *S, const float *x, int ldx, int n, seq_layer *next,
                    bool *dense_done)
{
  const int H = S->out, G = 3 * H;
  float *h = S->h, *u = S->tmp;
  const qk_rnn *fused = fused_form(m, S);
  *dense_done = false;
  if (fused && run_fused_io(S, fused, x, ldx, n, next, dense_done))
    return;
  qm_linear_apply(&S->wx, x, ldx, n, S->g, G, 0);
  if (fused) {
    qk_rnn_run(fused, S->g, G, n, h, NULL, S->y, H);
    return;
  }
  for (int f = 0; f < n; ++f) {
    float *g = S->g + (size_t)f * G;
    qm_linear_apply(&S->wh, h, H, 1, u, G, 0); /* U h + recurrent bias */
    for (int j = 0; j < 2 * H; ++j)
      g[j] += u[j];
    qm_sigmoid_v(m->fast, g, g, (size_t)(2 * H)); /* z | r */
    for (int j = 0; j < H; ++j)
      g[2 * H + j] += g[H + j] * u[2 * H + j]; /* r applies after U (reset_after) */
    qm_tanh_v(m->fast, g + 2 * H, g + 2 * H, (size_t)H);
    float *y = S->y + (size_t)f * H;
    for (int j = 0; j < H; ++j)
      y[j] = h[j] = (1.0f - g[j]) * g[2 * H + j] + g[j] * h[j];
  }
}

static void run_fir(seq_layer *S, const float *x, int ldx, int n)
{
  const int back = S->taps - 1;
  if (S->pos + n > S->frames) {
    memmove(S->hist, S->hist + (S->pos - back), (size_t)back * sizeof(float));
    S->pos = back;
  }
  for (int f = 0; f < n; ++f)
    S->hist[S->pos + f] = x[(size_t)f * ldx];
  /* Columns would overlap (stride 1 < taps), so one GEMV per frame. */
  for (int f = 0; f < n; ++f)
    qm_linear_apply(&S->wx, S->hist + S->pos + f - back, S->taps, 1, S->y + f, 1, 0);
  S->pos += n;
}

void qm_seq_run(qm_model *m, const float *x, float *y, int n)
{
  qm_seq *s = m->seq;
  const float *in = x;
  int ldx = 1;
  bool dense_done = false; /* the layer before wrote this Dense's y (run_fused_io) */
  for (int i = 0; i < s->n_layers; ++i) {
    seq_layer *S = &s->layers[i], *next = i + 1 < s->n_layers ? &s->layers[i + 1] : NULL;
    switch (S->kind) {
    case QM_LAYER_LSTM: run_lstm(m, S, in, ldx, n, next, &dense_done); break;
    case QM_LAYER_GRU: run_gru(m, S, in, ldx, n, next, &dense_done); break;
    case QM_LAYER_DENSE:
      if (!dense_done)
        qm_linear_apply(&S->wx, in, ldx, n, S->y, S->out, 0);
      dense_done = false;
      qm_activate(S->act, m->fast, S->y, (size_t)n * (size_t)S->out);
      break;
    case QM_LAYER_ACTIVATION:
      memcpy(S->y, in, (size_t)n * (size_t)S->out * sizeof(float));
      qm_activate(S->act, m->fast, S->y, (size_t)n * (size_t)S->out);
      break;
    case QM_LAYER_FIR: run_fir(S, in, ldx, n); break;
    }
    qm_tap(m, S->tap_layer, S->y, S->out, S->out, n);
    in = S->y;
    ldx = S->out;
  }
  memcpy(y, in, (size_t)n * sizeof(float));
}

/**
   Streaming state of a chain: h (and c) of recurrent layers and the last
   taps-1 inputs of a FIR. The FIR history goes to the start of dst's buffer
   at its reset position, so chunk sizes may differ.
*/
bool qm_seq_copy_state(qm_model *dst, const qm_model *src)
{
  const qm_seq *s = src->seq;
  qm_seq *d = dst->seq;
  if (!s || !d || s->n_layers != d->n_layers)
    return false;
  for (int i = 0; i < s->n_layers; ++i) {
    const seq_layer *S = &s->layers[i];
    const seq_layer *D = &d->layers[i];
    if (S->kind != D->kind || S->in != D->in || S->out != D->out || S->taps != D->taps ||
        !S->h != !D->h || !S->c != !D->c || !S->hist != !D->hist)
      return false;
  }
  for (int i = 0; i < s->n_layers; ++i) {
    const seq_layer *S = &s->layers[i];
    seq_layer *D = &d->layers[i];
    const size_t H = (size_t)S->out;
    if (S->h)
      memcpy(D->h, S->h, H * sizeof(float));
    if (S->c)
      memcpy(D->c, S->c, H * sizeof(float));
    if (S->hist) {
      const int back = S->taps - 1;
      memcpy(D->hist, S->hist + (S->pos - back), (size_t)back * sizeof(float));
      D->pos = back;
    }
  }
  return true;
}

/** Floats of a layer's streaming state: h, c, the FIR's last taps-1 inputs. */
static size_t warm_size(const seq_layer *S)
{
  return (S->h ? (size_t)S->out : 0) + (S->c ? (size_t)S->out : 0) +
         (S->hist ? (size_t)(S->taps - 1) : 0);
}

/**
   The prewarmed state of a chain is tiny (h and c of each recurrent layer,
   a FIR's lookback) while computing it is not: NAM prewarms an LSTM for
   half a second, 24,000 recurrent steps.
*/
bool qm_seq_save_warm(qm_model *m, bool *finite)
{
  qm_seq *s = m->seq;
  *finite = true;
  for (int i = 0; i < s->n_layers; ++i) {
    seq_layer *S = &s->layers[i];
    free(S->warm);
    S->warm = NULL;
    const size_t n = warm_size(S), H = (size_t)S->out;
    if (n == 0)
      continue;
    if (!(S->warm = malloc(n * sizeof(float))))
      return false;
    float *w = S->warm;
    if (S->h) {
      memcpy(w, S->h, H * sizeof(float));
      w += H;
    }
    if (S->c) {
      memcpy(w, S->c, H * sizeof(float));
      w += H;
    }
    if (S->hist)
      memcpy(w, S->hist + (S->pos - (S->taps - 1)), (size_t)(S->taps - 1) * sizeof(float));
    for (size_t k = 0; k < n; ++k)
      *finite = *finite && isfinite(S->warm[k]);
  }
  return true;
}

void qm_seq_load_warm(qm_model *m)
{
  qm_seq *s = m->seq;
  for (int i = 0; i < s->n_layers; ++i) {
    seq_layer *S = &s->layers[i];
    const size_t H = (size_t)S->out;
    const float *w = S->warm;
    if (!w)
      continue;
    if (S->h) {
      memcpy(S->h, w, H * sizeof(float));
      w += H;
    }
    if (S->c) {
      memcpy(S->c, w, H * sizeof(float));
      w += H;
    }
    if (S->hist) {
      memcpy(S->hist, w, (size_t)(S->taps - 1) * sizeof(float));
      S->pos = S->taps - 1;
    }
  }
}

void qm_seq_memory(const qm_model *m, qm_memory *mem)
{
  const qm_seq *s = m->seq;
  const size_t chunk = (size_t)m->chunk, F = sizeof(float);
  mem->other += sizeof *s + (size_t)s->n_layers * sizeof(seq_layer);
  for (int i = 0; i < s->n_layers; ++i) {
    const seq_layer *S = &s->layers[i];
    const size_t H = (size_t)S->out, G = (size_t)S->gates * H;
    mem->other += F * ((S->h0 ? H : 0) + (S->c0 ? H : 0) + (S->h ? H : 0) + (S->c ? H : 0));
    mem->scratch += F * ((S->g ? chunk * G : 0) + (S->tmp ? G : 0) + chunk * H);
    mem->history_float += S->hist ? (size_t)S->frames * F : 0;
    mem->prewarm += S->warm ? warm_size(S) * F : 0;
    if (S->has_wx)
      qm_linear_memory(&S->wx, mem);
    if (S->has_wh)
      qm_linear_memory(&S->wh, mem);
    mem->weights_derived += qk_rnn_alloc_bytes(S->fused_f32) + qk_rnn_alloc_bytes(S->fused_s8) +
                            qk_rnn_alloc_bytes(S->fused_wo);
  }
}

/** Index of a linear among the model's (the quantizer's order), or -1. */
static int linear_index(qm_model *m, const qm_linear *L)
{
  for (int i = 0; i < qm_model_linear_count(m); ++i)
    if (qm_model_linear(m, i) == L)
      return i;
  return -1;
}

/** The fused float step on the weight-only quantized wh's dequantized
    weights (optional: out of memory, the layer runs unfused). */
static void pack_weight_only(const qm_model *m, seq_layer *S, const qk_weights *q)
{
  float *wh = malloc((size_t)q->rows * (size_t)q->cols * sizeof *wh);
  if (!wh)
    return;
  const qz_tensor view = {.w = *q,
                          .codes = (int8_t *)q->codes,
                          .scales = (float *)q->scales,
                          .zero_points = (int32_t *)q->zero_points,
                          .codebook = (int8_t *)q->codebook,
                          .ngroups = qk_group_count(q->cols, q->group)};
  qz_dequantize(&view, wh);
  const qk_rnn_weights fw = {.kind = S->kind == QM_LAYER_LSTM ? QK_RNN_LSTM : QK_RNN_GRU,
                             .units = S->out,
                             .wh = wh,
                             .bh = S->wh.bias};
  S->fused_wo = qk_rnn_pack(&fw, m->isa, NULL);
  S->fused_wo_gen = S->wh.W_gen;
  free(wh);
}

/**
   After quantization: the fused int8 step of each recurrent layer whose
   Wh runs int8 dynamic, from its codes (one symmetric scale group per row;
   other schemes keep the unfused path). Optional: a form that cannot be
   packed (out of memory, grouped or asymmetric codes) only costs speed.
*/
static bool qm_seq_prepare(qm_model *m, const qk_weights *const *w)
{
  qm_seq *s = m->seq;
  for (int i = 0; i < s->n_layers; ++i) {
    seq_layer *S = &s->layers[i];
    if (!S->has_wh)
      continue;
    qk_rnn_free(S->fused_s8);
    qk_rnn_free(S->fused_wo);
    S->fused_s8 = S->fused_wo = NULL;
    const int li = linear_index(m, &S->wh);
    if (w && li >= 0 && w[li] && S->wh.act_mode == QM_LINEAR_ACT_F32 && m->fast)
      pack_weight_only(m, S, w[li]);
    if (!w || li < 0 || !w[li] || S->wh.act_mode != QM_LINEAR_ACT_S8_DYNAMIC)
      continue;
    const qk_rnn_weights qw = {.kind = S->kind == QM_LAYER_LSTM ? QK_RNN_LSTM : QK_RNN_GRU,
                               .units = S->out,
                               .bh = S->wh.bias,
                               .wh_q = w[li]};
    S->fused_s8 = qk_rnn_pack(&qw, m->isa, NULL);
    S->fused_s8_gen = S->wh.W_gen;
  }
  return true;
}

static long long seq_receptive_field(const qm_desc *d)
{
  long long rf = 1;
  for (int i = 0; i < d->seq.n_layers; ++i)
    if (d->seq.layers[i].kind == QM_LAYER_FIR)
      rf += d->seq.layers[i].taps - 1;
  return rf;
}

static double seq_macs_per_sample(const qm_desc *d)
{
  const qm_sequential_desc *s = &d->seq;
  double macs = 0;
  for (int i = 0; i < s->n_layers; ++i) {
    const qm_seq_layer *L = &s->layers[i];
    const double in = L->in, H = L->out;
    switch (L->kind) {
    case QM_LAYER_LSTM: macs += 4 * H * (in + H); break;
    case QM_LAYER_GRU: macs += 3 * H * (in + H); break;
    case QM_LAYER_DENSE: macs += in * H; break;
    case QM_LAYER_FIR: macs += L->taps; break;
    case QM_LAYER_ACTIVATION: break;
    }
  }
  return macs;
}

const qm_arch_ops qm_seq_ops = {
    .build = qm_seq_build,
    .free = qm_seq_free,
    .reset = qm_seq_reset,
    .run = qm_seq_run,
    .save_warm = qm_seq_save_warm,
    .load_warm = qm_seq_load_warm,
    .copy_state = qm_seq_copy_state,
    .prepare = qm_seq_prepare,
    .memory = qm_seq_memory,
    .receptive_field = seq_receptive_field,
    .macs_per_sample = seq_macs_per_sample,
};
