/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Loader for NAM's ConvNet architecture (NeuralAmpModelerCore's
  NAM/convnet.cpp is the specification).

  Config: "channels" C, "dilations" (one block each), "batchnorm",
  "activation", and optionally "groups", "in_channels", "out_channels"
  (each 1 by default). A block is a two-tap dilated conv from `in` inputs
  (1 for the first block, C after) to C outputs, then batchnorm if asked,
  then the activation; a head maps the last block's C channels to the
  output with a bias.

  Weights, in order: per block the conv weights looped out, in, tap (tap 0
  the older sample, x[t - dilation]); the conv bias [C] only when there is
  no batchnorm; with batchnorm its running_mean [C], running_var [C],
  weight [C], bias [C] and eps (one float). Then the head: weight [C], bias.

  Batchnorm is folded into the conv: NAM computes y = s * conv(x) + loc
  with s = weight / sqrt(eps + running_var) and loc = bias - s *
  running_mean; folded, the conv's rows are s * W and its bias loc. The two
  orders round differently (s * sum(w x) vs sum((s w) x)), by about one
  float ulp of each product. Measured on convnet_bn_tanh.nam (8 blocks,
  batchnorm, Tanh, libm tanh) against NeuralAmpModelerCore's render: folded,
  ESR 6.2e-14 and max |err| 3.9e-7; with scale and shift kept as NAM's
  separate step after the conv, ESR 7.3e-14 and max |err| 3.6e-7 (outputs
  peak at 0.62). Both are at the float rounding floor (the GEMM's summation
  order differs from Eigen's either way), far inside the 1e-10 budget, so
  the extra per-channel pass would buy nothing; and a folded conv is one
  matrix the quantizer scales per row as it is.
*/
#include "engine.h"
#include "loader_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/** Floats in the weight list for block b: conv, then its bias or batchnorm. */
static uint64_t block_weights(uint64_t C, uint64_t in, bool batchnorm)
{
  return C * in * QM_CONVNET_KERNEL + (batchnorm ? 4 * C + 1 : C);
}

/**
   NAM's scale and shift of one batchnorm, folded into the conv rows
   w[C][2*in] and written as its bias b[C]. The scale is computed as NAM's
   C++ does (the float sum eps + var, its square root and the quotient in
   double, then rounded to float). Refuses a variance at or below -eps or a
   result that is not finite: NAM would play NaN or Inf from them.
*/
static bool fold_batchnorm(qm_ctx *c, int block, int C, int in, float *w, float *b,
                           const float **cur)
{
  const float *mean = *cur, *var = mean + C, *gain = var + C, *shift = gain + C;
  const float eps = shift[C];
  *cur += 4 * (size_t)C + 1;
  const size_t row = (size_t)QM_CONVNET_KERNEL * (size_t)in;
  for (int o = 0; o < C; ++o) {
    const float v = eps + var[o];
    if (!(v > 0.0f))
      return qm_fail(c,
                     "batchnorm of block %d: running_var + eps is %g at channel %d (it must be "
                     "positive)",
                     block, (double)v, o);
    const float s = (float)((double)gain[o] / sqrt((double)v));
    b[o] = shift[o] - s * mean[o];
    bool finite = isfinite(s) && isfinite(b[o]);
    for (size_t j = 0; j < row; ++j) {
      w[(size_t)o * row + j] *= s;
      finite = finite && isfinite(w[(size_t)o * row + j]);
    }
    if (!finite)
      return qm_fail(c,
                     "batchnorm of block %d: channel %d scales its conv beyond float range "
                     "(weight %g, running_var + eps %g)",
                     block, o, (double)gain[o], (double)v);
  }
  return true;
}

/**
   The weights in the file's order: per block the conv (out, in, tap: tap 0
   the older sample, engine column tap*in + in), then its bias or, reading
   a file with batchnorm, the batchnorm's 4C + 1 floats (folded by the
   loader afterwards). Written, a ConvNet is always without batchnorm: the
   folded conv and its bias are what plays (models/nam_export.c says so in
   the config).
*/
bool qm_nam_walk_convnet(qm_walk *w, qm_desc *d)
{
  qm_convnet_desc *cn = &d->convnet;
  const int C = cn->channels;
  for (int b = 0; b < cn->n_blocks; ++b) {
    qm_cn_block *B = &cn->blocks[b];
    if (!qm_walk_grouped(w, &B->conv_w, C, b ? C : 1, QM_CONVNET_KERNEL, 1))
      return false;
    if (cn->batchnorm && !w->writing ? !qm_walk_floats(w, &B->batchnorm_file, 4 * (size_t)C + 1)
                                     : !qm_walk_floats(w, &B->conv_b, (size_t)C))
      return false;
  }
  return qm_walk_floats(w, &cn->head_w, (size_t)C) && qm_walk_floats(w, &cn->head_b, 1);
}

bool qm_nam_load_convnet(qm_ctx *c, qm_desc *d, json_t *config, qm_doc *doc, json_t *weights)
{
  qm_convnet_desc *cn = &d->convnet;
  int groups, in_ch, out_ch;
  json_t *act = NULL;
  if (!qm_get_int(c, config, "config", "channels", true, 1, QM_MAX_CHANNELS, 0, &cn->channels) ||
      !qm_get_bool(c, config, "config", "batchnorm", true, false, &cn->batchnorm) ||
      !(act = qm_get(c, config, "config", "activation", true)) ||
      !qm_nam_activation(c, d, act, "config.activation", &cn->activation) ||
      !qm_get_int(c, config, "config", "groups", false, 1, QM_MAX_CHANNELS, 1, &groups) ||
      !qm_get_int(c, config, "config", "in_channels", false, 1, QM_MAX_CHANNELS, 1, &in_ch) ||
      !qm_get_int(c, config, "config", "out_channels", false, 1, QM_MAX_CHANNELS, 1, &out_ch))
    return false;
  if (in_ch != 1 || out_ch != 1)
    return qm_fail(c,
                   "\"in_channels\" %d and \"out_channels\" %d in config: only 1 and 1 (a mono "
                   "model) are supported",
                   in_ch, out_ch);
  /* NAM requires groups to divide every block's input count, the first
     block's 1 included. */
  if (groups != 1)
    return qm_fail(c,
                   "\"groups\" in config is %d: it must divide the first block's 1 input "
                   "channel, so only 1 is possible",
                   groups);
  json_t *dil = qm_get(c, config, "config", "dilations", true);
  if (!dil)
    return false;
  if (!json_is_array(dil) || json_array_size(dil) == 0)
    return qm_fail(c, "\"dilations\" in config must be a non-empty array");
  if (json_array_size(dil) > QM_MAX_LAYERS)
    return qm_fail(c, "%zu dilations in config: too many blocks (limit %d)", json_array_size(dil),
                   QM_MAX_LAYERS);
  cn->n_blocks = (int)json_array_size(dil);
  cn->blocks = qm_desc_alloc(d, (size_t)cn->n_blocks * sizeof *cn->blocks);
  if (!cn->blocks)
    return qm_fail(c, "out of memory");

  const uint64_t C = (uint64_t)cn->channels;
  uint64_t expected = C + 1, state_floats = 0, rf = 1;
  for (int b = 0; b < cn->n_blocks; ++b) {
    char what[64];
    snprintf(what, sizeof what, "config.dilations[%d]", b);
    if (!qm_json_int(c, json_array_get(dil, (size_t)b), what, 1, QM_MAX_DILATION,
                     &cn->blocks[b].dilation))
      return false;
    const uint64_t dl = (uint64_t)cn->blocks[b].dilation, in = b ? C : 1;
    rf += dl;
    if (rf > QM_MAX_RECEPTIVE_FIELD)
      return qm_fail(c, "receptive field over %d samples is too large", QM_MAX_RECEPTIVE_FIELD);
    expected += block_weights(C, in, cn->batchnorm);
    /* models/convnet.c: a history of the lookback plus max(batch,
       lookback) frames, its saved prewarm (at most the lookback), and
       per batch the gathered taps and the block's output */
    state_floats += (3 * dl + QM_MAX_CHUNK) * in + QM_MAX_CHUNK * (QM_CONVNET_KERNEL * in + C);
  }
  const uint64_t bytes = (expected + state_floats) * sizeof(float);
  if (bytes > QM_MAX_MODEL_BYTES)
    return qm_fail(c, "model too large: %llu MiB of weights and state (limit %zu MiB)",
                   (unsigned long long)(bytes >> 20), QM_MAX_MODEL_BYTES >> 20);

  const float *cur = qm_nam_read_weights(c, d, doc, weights, expected);
  if (!cur)
    return false;
  qm_walk walk = {.d = d, .src = cur};
  if (!qm_nam_walk_convnet(&walk, d))
    return qm_fail(c, "out of memory");
  for (int b = 0; cn->batchnorm && b < cn->n_blocks; ++b) {
    qm_cn_block *B = &cn->blocks[b];
    const float *bn = B->batchnorm_file;
    if (!(B->conv_b = qm_desc_alloc(d, (size_t)C * sizeof(float))))
      return qm_fail(c, "out of memory");
    if (!fold_batchnorm(c, b, (int)C, b ? (int)C : 1, B->conv_w, B->conv_b, &bn))
      return false;
  }
  d->arch = QM_ARCH_CONVNET;
  /* NeuralAmpModelerCore prewarms 1 + the sum of the dilations: the
     receptive field, after which every history holds the zero-input
     steady state. */
  d->prewarm_samples = (int)rf;
  return true;
}
