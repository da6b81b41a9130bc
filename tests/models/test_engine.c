/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The engine against a naive, whole-signal, double-precision evaluation of
  the same description, for the shapes the reference renders do not cover:
  gated WaveNet, chained arrays with different channels and kernel sizes,
  ReLU / Sigmoid / Hardtanh / Fasttanh, head bias, NAM Linear (FIR) and
  ConvNet (with and without batchnorm, which the loader folds).
  Cold start (zero history) on both sides, changing block sizes.
*/
#include "activation.h"
#include "engine.h"
#include "model_file.h"
#include "sample_files.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T = 2000 };
static int failures;

static double act(qm_nonlinearity a, double v)
{
  switch (a) {
  case QM_NONLIN_TANH: return tanh(v);
  case QM_NONLIN_RELU: return v > 0 ? v : 0;
  case QM_NONLIN_SIGMOID: return 1 / (1 + exp(-v));
  case QM_NONLIN_HARDTANH: return v < -1 ? -1 : (v > 1 ? 1 : v);
  case QM_NONLIN_FASTTANH: return qm_fasttanh((float)v);
  default: return v;
  }
}

/** y[t] for the whole signal, straight from the description. */
static void naive_wavenet(const qm_desc *d, const float *x, double *y)
{
  double *prev_out = NULL, *prev_head = NULL;
  int prev_c = 0;
  for (int a = 0; a < d->wavenet.n_arrays; ++a) {
    const qm_wn_array *A = &d->wavenet.arrays[a];
    const bool gated = A->layers[0].gating == QM_GATING_GATED;
    const qm_nonlinearity activation = A->layers[0].activation.type;
    int C = A->channels, Z = gated ? 2 * C : C, K = A->layers[0].kernel_size;
    double *X = calloc((size_t)T * C, sizeof *X), *N = calloc((size_t)T * C, sizeof *N);
    double *head = calloc((size_t)T * C, sizeof *head), *z = malloc((size_t)Z * sizeof *z);
    for (int t = 0; t < T; ++t)
      for (int c = 0; c < C; ++c) {
        double s = 0;
        for (int i = 0; i < A->input_size; ++i)
          s += A->rechannel_w[c * A->input_size + i] * (a ? prev_out[t * prev_c + i] : x[t]);
        X[t * C + c] = s;
        head[t * C + c] = a ? prev_head[t * C + c] : 0;
      }
    for (int l = 0; l < A->n_layers; ++l) {
      const qm_wn_layer *L = &A->layers[l];
      for (int t = 0; t < T; ++t) {
        for (int o = 0; o < Z; ++o) {
          double s = L->conv_b[o] + L->mixin_w[o] * x[t];
          for (int k = 0; k < K; ++k) {
            int tt = t - L->dilation * (K - 1 - k);
            if (tt >= 0)
              for (int i = 0; i < C; ++i)
                s += L->conv_w[(size_t)o * K * C + (size_t)k * C + i] * X[tt * C + i];
          }
          z[o] = s;
        }
        double av[64];
        for (int c = 0; c < C; ++c)
          av[c] = gated ? act(activation, z[c]) / (1 + exp(-z[C + c])) : act(activation, z[c]);
        for (int c = 0; c < C; ++c) {
          double s = X[t * C + c] + L->b1x1[c];
          for (int i = 0; i < C; ++i)
            s += L->w1x1[c * C + i] * av[i];
          N[t * C + c] = s;
          head[t * C + c] += av[c];
        }
      }
      double *tmp = X;
      X = N;
      N = tmp;
    }
    double *ho = calloc((size_t)T * A->head_size, sizeof *ho);
    for (int t = 0; t < T; ++t)
      for (int h = 0; h < A->head_size; ++h) {
        double s = A->head_b ? A->head_b[h] : 0;
        for (int c = 0; c < C; ++c)
          s += A->head_w[h * C + c] * head[t * C + c];
        ho[t * A->head_size + h] = s;
      }
    free(prev_out);
    free(prev_head);
    prev_out = X;
    prev_head = ho;
    prev_c = C;
    free(N);
    free(head);
    free(z);
  }
  for (int t = 0; t < T; ++t)
    y[t] = d->wavenet.head_scale * prev_head[t];
  free(prev_out);
  free(prev_head);
}

static void naive_fir(const qm_desc *d, const float *x, double *y)
{
  const qm_seq_layer *L = &d->seq.layers[0];
  for (int t = 0; t < T; ++t) {
    double s = L->b ? L->b[0] : 0;
    for (int j = 0; j < L->taps; ++j) {
      int tt = t - (L->taps - 1) + j;
      if (tt >= 0)
        s += L->wx[j] * x[tt];
    }
    y[t] = s;
  }
}

/** A ConvNet block by block: y_b[t] = act(b + W [x[t - d] | x[t]]), then the head. */
static void naive_convnet(const qm_desc *d, const float *x, double *y)
{
  const qm_convnet_desc *cn = &d->convnet;
  const int C = cn->channels;
  double *in = malloc((size_t)T * sizeof *in), *out = NULL;
  for (int t = 0; t < T; ++t)
    in[t] = x[t];
  for (int b = 0; b < cn->n_blocks; ++b) {
    const qm_cn_block *B = &cn->blocks[b];
    const int I = b ? C : 1;
    out = malloc((size_t)T * C * sizeof *out);
    for (int t = 0; t < T; ++t)
      for (int o = 0; o < C; ++o) {
        double s = B->conv_b[o];
        for (int k = 0; k < QM_CONVNET_KERNEL; ++k) {
          const int tt = t - B->dilation * (QM_CONVNET_KERNEL - 1 - k);
          for (int i = 0; tt >= 0 && i < I; ++i)
            s += B->conv_w[(o * QM_CONVNET_KERNEL + k) * I + i] * in[tt * I + i];
        }
        out[t * C + o] = act(cn->activation.type, s);
      }
    free(in);
    in = out;
  }
  for (int t = 0; t < T; ++t) {
    double s = cn->head_b[0];
    for (int c = 0; c < C; ++c)
      s += cn->head_w[c] * in[t * C + c];
    y[t] = s;
  }
  free(in);
}

int main(void)
{
  sample_file *s;
  int n = samples_make(&s);
  static float x[T], y[T];
  static double ref[T];
  for (int t = 0; t < T; ++t)
    x[t] =
        0.8f * sinf(0.013f * (float)t) * sinf(0.0021f * (float)t) + 0.05f * sinf(1.3f * (float)t);
  for (int i = 0; i < n; ++i) {
    if (s[i].expect || s[i].keras || !strstr(s[i].name, "good_") || strstr(s[i].name, "lstm"))
      continue;
    char err[512];
    qm_desc *d = qm_load_buffer(s[i].text, s[i].len, s[i].name, err, sizeof err);
    if (!d) {
      printf("FAIL %s\n", err);
      ++failures;
      continue;
    }
    if (d->arch == QM_ARCH_WAVENET)
      naive_wavenet(d, x, ref);
    else if (d->arch == QM_ARCH_CONVNET)
      naive_convnet(d, x, ref);
    else
      naive_fir(d, x, ref);
    for (int fast = 0; fast <= 1; ++fast) {
      static const int chunks[] = {1, 7, 256};
      for (int ci = 0; ci < 3; ++ci) {
        qm_options o;
        qm_options_default(&o);
        o.fast_activations = fast;
        o.chunk = chunks[ci];
        qm_model *m = qm_model_create(d, &o, err, sizeof err);
        if (!m) {
          printf("FAIL %s\n", err);
          ++failures;
          continue;
        }
        qm_model_reset_cold(m);
        for (int t = 0, k = 1; t < T; t += k, k = k * 5 % 97 + 1)
          qm_model_process(m, x + t, y + t, k < T - t ? k : T - t);
        double num = 0, den = 0, mx = 0;
        for (int t = 0; t < T; ++t) {
          double e = y[t] - ref[t];
          num += e * e;
          den += ref[t] * ref[t];
          mx = fmax(mx, fabs(e));
        }
        double esr = num / (den > 0 ? den : 1);
        bool ok = esr <= 1e-9 && mx <= 1e-5;
        printf("%s %-20s %s chunk %3d  ESR %.2e  max|err| %.2e\n", ok ? "ok  " : "FAIL", s[i].name,
               fast ? "qk  " : "libm", chunks[ci], esr, mx);
        failures += !ok;
        qm_model_free(m);
      }
    }
    qm_desc_free(d);
  }
  samples_free(s, n);
  printf("%s\n", failures ? "FAILED" : "engine matches the naive evaluation");
  return failures ? 1 : 0;
}
