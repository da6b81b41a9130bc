/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  NAM ConvNet, batched over a block.

  Per block (dilation d, `in` inputs, C outputs, batchnorm folded in by the
  loader):
      y[t] = act(W [x[t - d] | x[t]] + b)
  then output[t] = head_w . y_last[t] + head_b.

  Data layout: frame-major (frame f's channels contiguous), as the kernels
  want. Each block keeps its input x in a linear history buffer: `lookback`
  = d frames of past, then room for max(chunk, d) new frames; when a batch
  would run past the end, the last d frames are moved to the front (at most
  one frame copy per frame, amortized). A block writes its output straight
  into the next block's history, the last block into `out`.

  The two-tap conv is one qm_linear with 2*in inputs: per frame the taps
  x[t - d] and x[t] side by side (tap 0 the older), so a quantizer scales
  each output row across both taps, as the file stores them. With int8
  dynamic activations qm_linear_apply_taps quantizes the taps straight from
  the history; otherwise they are gathered first.
*/
#include "activation.h"
#include "arch_registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int dilation, in; /* lookback = dilation frames of `in` floats */
  float *hist;      /* frames x in */
  int frames, pos;  /* pos: where this batch's input frames go */
  qm_linear conv;   /* [C][2*in] */
  int tap_layer;
  float *warm;     /* prewarmed lookback: warm_frames x in (convnet_save_warm) */
  int warm_frames; /* 1 (every lookback frame equal) or dilation */
} cn_block;

typedef struct {
  int C, n_blocks;
  qm_activation act;
  cn_block *blocks;
  qm_linear head; /* [1][C] + bias */
  int tap_head;
  float *gather; /* [chunk][2*C] */
  float *out;    /* [chunk][C]: the last block's output */
} qm_convnet;    /* m->arch_state */

static bool convnet_build(qm_model *m, const qm_desc *d, char *err, size_t errlen)
{
  const qm_convnet_desc *D = &d->convnet;
  qm_convnet *cn = calloc(1, sizeof *cn);
  if (!cn)
    goto oom;
  m->arch_state = cn;
  if (D->n_blocks < 1 || D->channels < 1) {
    snprintf(err, errlen, "ConvNet without blocks");
    return false;
  }
  const int C = D->channels;
  const size_t chunk = (size_t)m->chunk;
  cn->C = C;
  cn->act = D->activation;
  if (!(cn->blocks = calloc((size_t)D->n_blocks, sizeof *cn->blocks)))
    goto oom;
  cn->n_blocks = D->n_blocks;
  char name[48];
  for (int b = 0; b < cn->n_blocks; ++b) {
    cn_block *B = &cn->blocks[b];
    B->dilation = D->blocks[b].dilation;
    B->in = b ? C : 1;
    B->frames = B->dilation + (m->chunk > B->dilation ? m->chunk : B->dilation);
    if (!(B->hist = qm_falloc((size_t)B->frames * (size_t)B->in)))
      goto oom;
    snprintf(name, sizeof name, "b%d.conv", b);
    if (!qm_model_linear_init(m, &B->conv, name, C, QM_CONVNET_KERNEL * B->in, D->blocks[b].conv_w,
                              D->blocks[b].conv_b, err, errlen))
      return false;
    snprintf(name, sizeof name, "b%d", b);
    if ((B->tap_layer = qm_model_add_layer(m, name, C)) < 0)
      goto oom;
  }
  if (!qm_model_linear_init(m, &cn->head, "head", 1, C, D->head_w, D->head_b, err, errlen))
    return false;
  if ((cn->tap_head = qm_model_add_layer(m, "head", 1)) < 0)
    goto oom;
  cn->gather = qm_falloc(chunk * (size_t)(QM_CONVNET_KERNEL * C));
  cn->out = qm_falloc(chunk * (size_t)C);
  if (!cn->gather || !cn->out)
    goto oom;
  return true;
oom:
  snprintf(err, errlen, "out of memory building the ConvNet");
  return false;
}

static void convnet_free(qm_model *m)
{
  qm_convnet *cn = m->arch_state;
  if (!cn)
    return;
  for (int b = 0; cn->blocks && b < cn->n_blocks; ++b) {
    free(cn->blocks[b].hist);
    free(cn->blocks[b].warm);
    qm_linear_release(&cn->blocks[b].conv);
  }
  free(cn->blocks);
  qm_linear_release(&cn->head);
  free(cn->gather);
  free(cn->out);
  free(cn);
  m->arch_state = NULL;
}

static void convnet_reset(qm_model *m)
{
  qm_convnet *cn = m->arch_state;
  for (int b = 0; b < cn->n_blocks; ++b) {
    cn_block *B = &cn->blocks[b];
    memset(B->hist, 0, (size_t)B->frames * (size_t)B->in * sizeof(float));
    B->pos = B->dilation;
  }
}

/** Make room for n new frames at pos, keeping the lookback before it. */
static void make_room(cn_block *B, int n)
{
  if (B->pos + n <= B->frames)
    return;
  memmove(B->hist, B->hist + (size_t)(B->pos - B->dilation) * (size_t)B->in,
          (size_t)B->dilation * (size_t)B->in * sizeof(float));
  B->pos = B->dilation;
}

static void convnet_run(qm_model *m, const float *x, float *y, int n)
{
  qm_convnet *cn = m->arch_state;
  const int C = cn->C;
  for (int b = 0; b < cn->n_blocks; ++b)
    make_room(&cn->blocks[b], n);
  memcpy(cn->blocks[0].hist + cn->blocks[0].pos, x, (size_t)n * sizeof(float));
  for (int b = 0; b < cn->n_blocks; ++b) {
    cn_block *B = &cn->blocks[b];
    const float *now = B->hist + (size_t)B->pos * (size_t)B->in;
    float *next = b + 1 < cn->n_blocks
                      ? cn->blocks[b + 1].hist + (size_t)cn->blocks[b + 1].pos * (size_t)C
                      : cn->out;
    /* taps [x[t - d] | x[t]]: piece 0 starts d frames back */
    qm_linear_apply_taps(&B->conv, now - (size_t)B->dilation * (size_t)B->in, B->in,
                         QM_CONVNET_KERNEL, (ptrdiff_t)B->dilation * B->in, n, cn->gather, next, C,
                         0);
    qm_activation_apply(&cn->act, m->fast, next, (size_t)n, C);
    qm_tap(m, B->tap_layer, next, C, C, n);
    B->pos += n;
  }
  qm_linear_apply(&cn->head, cn->out, C, n, y, 1, 0);
  qm_tap(m, cn->tap_head, y, 1, 1, n);
}

/**
   The only streaming state is each block's input history: the `dilation`
   frames before pos are all a later batch reads. They go to the start of
   dst's buffer (the reset position), so the two models may have different
   chunk sizes; the per-batch buffers are scratch.
*/
static bool convnet_copy_state(qm_model *dst, const qm_model *src)
{
  const qm_convnet *s = src->arch_state;
  qm_convnet *d = dst->arch_state;
  if (!s || !d || s->n_blocks != d->n_blocks || s->C != d->C)
    return false;
  for (int b = 0; b < s->n_blocks; ++b)
    if (s->blocks[b].dilation != d->blocks[b].dilation)
      return false;
  for (int b = 0; b < s->n_blocks; ++b) {
    const cn_block *S = &s->blocks[b];
    cn_block *D = &d->blocks[b];
    memcpy(D->hist, S->hist + (size_t)(S->pos - S->dilation) * (size_t)S->in,
           (size_t)S->dilation * (size_t)S->in * sizeof(float));
    D->pos = D->dilation;
  }
  return true;
}

/**
   The prewarmed state is each block's lookback. After NAM's prewarm of
   silence (the receptive field long) every block's input is the same
   vector frame after frame, so a block whose lookback frames are all
   bit-identical keeps one frame (convnet_bn_tanh.nam: 8 frames of at most
   8 floats instead of 255); any other keeps its whole lookback. Restoring
   writes the same bits either way.
*/
static bool convnet_save_warm(qm_model *m, bool *finite)
{
  qm_convnet *cn = m->arch_state;
  *finite = true;
  for (int b = 0; b < cn->n_blocks; ++b) {
    cn_block *B = &cn->blocks[b];
    free(B->warm);
    B->warm = NULL;
    const size_t in = (size_t)B->in;
    const float *src = B->hist + (size_t)(B->pos - B->dilation) * in;
    int frames = 1;
    for (int f = 1; f < B->dilation && frames == 1; ++f)
      if (memcmp(src + (size_t)f * in, src, in * sizeof(float)))
        frames = B->dilation;
    if (!(B->warm = malloc((size_t)frames * in * sizeof(float))))
      return false;
    memcpy(B->warm, src, (size_t)frames * in * sizeof(float));
    for (size_t i = 0; i < (size_t)frames * in; ++i)
      *finite = *finite && isfinite(B->warm[i]);
    B->warm_frames = frames;
  }
  return true;
}

static void convnet_load_warm(qm_model *m)
{
  qm_convnet *cn = m->arch_state;
  for (int b = 0; b < cn->n_blocks; ++b) {
    cn_block *B = &cn->blocks[b];
    const size_t in = (size_t)B->in;
    B->pos = B->dilation;
    if (B->warm_frames == B->dilation)
      memcpy(B->hist, B->warm, (size_t)B->dilation * in * sizeof(float));
    else
      for (int f = 0; f < B->dilation; ++f)
        memcpy(B->hist + (size_t)f * in, B->warm, in * sizeof(float));
  }
}

static void convnet_memory(const qm_model *m, qm_memory *mem)
{
  const qm_convnet *cn = m->arch_state;
  const size_t chunk = (size_t)m->chunk, F = sizeof(float), C = (size_t)cn->C;
  mem->other += sizeof *cn + (size_t)cn->n_blocks * sizeof(cn_block);
  mem->scratch += chunk * F * (QM_CONVNET_KERNEL * C + C);
  qm_linear_memory(&cn->head, mem);
  for (int b = 0; b < cn->n_blocks; ++b) {
    const cn_block *B = &cn->blocks[b];
    mem->history_float += (size_t)B->frames * (size_t)B->in * F;
    mem->prewarm += (size_t)B->warm_frames * (size_t)B->in * F;
    qm_linear_memory(&B->conv, mem);
  }
}

static long long convnet_receptive_field(const qm_desc *d)
{
  long long rf = 1;
  for (int b = 0; b < d->convnet.n_blocks; ++b)
    rf += (long long)(QM_CONVNET_KERNEL - 1) * d->convnet.blocks[b].dilation;
  return rf;
}

/** Each block's two-tap conv over its inputs (1 for the first block, C
    after it), then the head's C. */
static double convnet_macs_per_sample(const qm_desc *d)
{
  const qm_convnet_desc *cn = &d->convnet;
  double macs = cn->channels; /* head */
  for (int b = 0; b < cn->n_blocks; ++b)
    macs += (double)cn->channels * QM_CONVNET_KERNEL * (b == 0 ? 1 : cn->channels);
  return macs;
}

const qm_arch_ops qm_convnet_ops = {
    .build = convnet_build,
    .free = convnet_free,
    .reset = convnet_reset,
    .run = convnet_run,
    .save_warm = convnet_save_warm,
    .load_warm = convnet_load_warm,
    .copy_state = convnet_copy_state,
    .prepare = NULL, /* nothing derived from quantized weights */
    .memory = convnet_memory,
    .receptive_field = convnet_receptive_field,
    .macs_per_sample = convnet_macs_per_sample,
};
