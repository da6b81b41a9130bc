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
  frames are moved to the front (amortized: the room is at least as long as
  the lookback, so this costs at most one frame copy per frame).

  The dilated conv is one GEMM with K*C inputs: for each frame the K taps
  x[t - d*(K-1-k)] are gathered side by side ([tap0 | tap1 | ...], tap 0 the
  oldest) so that the whole conv is a single weight matrix — one qm_linear a
  quantizer can treat like any other, with per-output-channel scales that
  span all taps, as in the file.
*/
#include "activation.h"
#include "engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int dilation, lookback;
  float *hist;   /* frames x C */
  int frames, pos;
  qm_linear conv, mixin, w1x1;
  float *wmix;       /* [Z]: the mixin's effective weights (W times a unit input) */
  unsigned wmix_gen; /* mixin.W_gen they were taken from */
  bool wmix_ok;
  int tap_layer;
} wn_layer;

typedef struct {
  int C, Z, K, head_size;
  qm_activation act;
  bool gated;
  int n_layers;
  wn_layer *layers;
  qm_linear rechannel, head;
  float *gather;  /* [chunk][K*C] */
  float *z;       /* [chunk][Z] */
  float *a;       /* [chunk][C], gated only */
  float *headacc; /* [chunk][C] */
  float *headout; /* [chunk][head_size] */
  float *out;     /* [chunk][C]: residual output of the last layer */
  int tap_head;
} wn_array;

struct qm_wavenet {
  int n_arrays;
  wn_array *arrays;
  float head_scale;
};

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
    /* Room of at least max(chunk, lookback) frames beyond the lookback. */
    int room = m->chunk > L->lookback ? m->chunk : L->lookback;
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
    if (!(L->wmix = qm_falloc((size_t)Z)))
      goto oom;
    snprintf(name, sizeof name, "a%d.l%d.1x1", ai, l);
    if (!qm_model_linear_init(m, &L->w1x1, name, C, C, DL->w1x1, DL->b1x1, err, errlen))
      return false;
    snprintf(name, sizeof name, "a%d.l%d", ai, l);
    if ((L->tap_layer = qm_model_add_layer(m, name, C)) < 0)
      goto oom;
  }
  snprintf(name, sizeof name, "a%d.head", ai);
  if (!qm_model_linear_init(m, &A->head, name, D->head_size, C, D->head_w, D->head_b, err,
                            errlen))
    return false;
  if ((A->tap_head = qm_model_add_layer(m, name, D->head_size)) < 0)
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
      qm_linear_release(&A->layers[l].conv);
      qm_linear_release(&A->layers[l].mixin);
      qm_linear_release(&A->layers[l].w1x1);
      free(A->layers[l].wmix);
    }
    free(A->layers);
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
      memset(L->hist, 0, (size_t)L->frames * (size_t)A->C * sizeof(float));
      L->pos = L->lookback;
      L->wmix_ok = false;
    }
  }
}

/** Make room for n new frames after pos, keeping the lookback before it. */
static void make_room(wn_layer *L, int C, int n)
{
  if (L->pos + n <= L->frames)
    return;
  memmove(L->hist, L->hist + (size_t)(L->pos - L->lookback) * (size_t)C,
          (size_t)L->lookback * (size_t)C * sizeof(float));
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

/**
   z += mixin * cond for a mono condition (the mixin is Z x 1, no bias):
   a rank-1 update, so instead of a GEMM call per batch (whose per-frame
   load / add / store of Z outputs cost more than the 1 MAC per output)
   the mixin's effective weights (whatever its packed format: W times the
   unit input, exact) are taken once per packed W and the update is one
   pass. Per element this is z + w * cond, like the kernel's
   fl(w * x) + z; per frame, so independent of the batch length.
*/
static void apply_mixin(wn_layer *L, const float *cond, int n, float *z, int Z)
{
  qm_linear *M = &L->mixin;
  if (M->in != 1 || M->bias || M->act_mode != QM_LINEAR_ACT_F32) {
    qm_linear_apply(M, cond, 1, n, z, Z, QK_ACCUMULATE);
    return;
  }
  if (M->observe)
    M->observe(M->observe_user, M, cond, 1, n);
  if (!L->wmix_ok || L->wmix_gen != M->W_gen) {
    const float one = 1.0f;
    qk_gemm_f32(M->W, &one, 1, 1, NULL, L->wmix, Z, 0);
    L->wmix_gen = M->W_gen;
    L->wmix_ok = true;
  }
  const float *w = L->wmix;
  for (int f = 0; f < n; ++f) {
    const float c = cond[f];
    float *zf = z + (size_t)f * (size_t)Z;
    for (int i = 0; i < Z; ++i)
      zf[i] += w[i] * c;
  }
}

static void run_array(qm_model *m, wn_array *A, const wn_array *prev, const float *cond, int n)
{
  const int C = A->C, Z = A->Z, K = A->K, KC = K * C;
  const size_t nc = (size_t)n * (size_t)C;

  for (int l = 0; l < A->n_layers; ++l)
    make_room(&A->layers[l], C, n);

  /* Array input: the mono condition for the first array, else the residual
     stream of the previous one. */
  wn_layer *L0 = &A->layers[0];
  if (prev)
    qm_linear_apply(&A->rechannel, prev->out, prev->C, n, L0->hist + (size_t)L0->pos * C, C, 0);
  else
    qm_linear_apply(&A->rechannel, cond, 1, n, L0->hist + (size_t)L0->pos * C, C, 0);
  if (prev)
    memcpy(A->headacc, prev->headout, nc * sizeof(float)); /* prev head_size == C */
  else
    memset(A->headacc, 0, nc * sizeof(float));

  for (int l = 0; l < A->n_layers; ++l) {
    wn_layer *L = &A->layers[l];
    const float *x = L->hist + (size_t)L->pos * C;
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
    apply_mixin(L, cond, n, A->z, Z);

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

    float *next = l + 1 < A->n_layers
                      ? A->layers[l + 1].hist + (size_t)A->layers[l + 1].pos * C
                      : A->out;
    memcpy(next, x, nc * sizeof(float));
    qm_linear_apply(&L->w1x1, a, C, n, next, C, QK_ACCUMULATE);
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

/**
   The only streaming state of a WaveNet is each layer's input history: the
   `lookback` frames before pos are all a later batch reads. They go to the
   start of dst's buffer (dst->pos = lookback, the reset position), so the
   two models may have different chunk sizes. Everything else (gather, z,
   head accumulators) is per-batch scratch.
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
      memcpy(DL->hist, SL->hist + (size_t)(SL->pos - SL->lookback) * C,
             (size_t)SL->lookback * C * sizeof(float));
      DL->pos = DL->lookback;
    }
  }
  return true;
}
