/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The engine against a naive, whole-signal, double-precision evaluation of
  the same description, for the shapes the reference renders do not cover:
  gated WaveNet, chained arrays with different channels and kernel sizes,
  ReLU / Sigmoid / Hardtanh / Fasttanh, head bias, NAM Linear (FIR) and
  ConvNet (with and without batchnorm, which the loader folds);
  and for A2's options with batching: per-layer kernels, LeakyReLU, an
  array head conv of 4 taps, blended gating with a LeakyHardtanh gate,
  grouped matrices, head1x1, FiLM and a post-stack head of two convs.
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

/** Activation a of value v in channel c, in double. */
static double act(const qm_activation *a, double v, int c)
{
  switch (a->type) {
  case QM_NONLIN_TANH: return tanh(v);
  case QM_NONLIN_RELU: return v > 0 ? v : 0;
  case QM_NONLIN_SIGMOID: return 1 / (1 + exp(-v));
  case QM_NONLIN_HARDTANH: return v < -1 ? -1 : (v > 1 ? 1 : v);
  case QM_NONLIN_FASTTANH: return qm_fasttanh((float)v);
  case QM_NONLIN_LEAKY_RELU: return v > 0 ? v : a->negative_slope * v;
  case QM_NONLIN_PRELU: {
    const double slope = a->n_slopes ? a->slopes[c % a->n_slopes] : a->negative_slope;
    return v > 0 ? v : slope * v;
  }
  case QM_NONLIN_SILU: return v / (1 + exp(-v));
  case QM_NONLIN_HARDSWISH: return v * fmin(fmax(v + 3, 0), 6) / 6;
  case QM_NONLIN_LEAKY_HARDTANH:
    return v < a->min_val   ? (v - a->min_val) * a->min_slope + a->min_val
           : v > a->max_val ? (v - a->max_val) * a->max_slope + a->max_val
                            : v;
  case QM_NONLIN_SOFTSIGN: return v / (1 + fabs(v));
  default: return v;
  }
}

/** FiLM of v[dim] by the mono condition u, if the point is active. */
static void film(const qm_wn_array *A, const qm_wn_layer *L, qm_film_point p, double u, double *v)
{
  const qm_wn_film *F = &L->film[p];
  if (!A->film[p].active)
    return;
  for (int c = 0; c < F->dim; ++c) {
    double scale = F->w[c] * u + F->b[c];
    double shift = A->film[p].shift ? F->w[F->dim + c] * u + F->b[F->dim + c] : 0;
    v[c] = v[c] * scale + shift;
  }
}

/**
   y[t] for the whole signal, straight from the description: every option
   but condition_dsp (the samples have a mono condition), time step by time
   step, with NeuralAmpModelerCore's order of operations.
*/
static void naive_wavenet(const qm_desc *d, const float *x, double *y)
{
  const qm_wavenet_desc *wn = &d->wavenet;
  double *prev_out = NULL, *prev_head = NULL;
  int prev_c = 0, prev_hs = 0;
  for (int a = 0; a < wn->n_arrays; ++a) {
    const qm_wn_array *A = &wn->arrays[a];
    const int C = A->channels, B = A->bottleneck, HO = A->head1x1 ? A->head1x1_out : B;
    double *X = calloc((size_t)T * C, sizeof *X), *N = calloc((size_t)T * C, sizeof *N);
    double *cin = calloc((size_t)T * C, sizeof *cin), *head = calloc((size_t)T * HO, sizeof *head);
    double z[256], m[256], av[128], v[128];
    for (int t = 0; t < T; ++t) {
      for (int c = 0; c < C; ++c) {
        double s = 0;
        for (int i = 0; i < A->input_size; ++i)
          s += A->rechannel_w[c * A->input_size + i] * (a ? prev_out[t * prev_c + i] : x[t]);
        X[t * C + c] = s;
      }
      for (int h = 0; h < HO; ++h)
        head[t * HO + h] = a ? prev_head[t * prev_hs + h] : 0;
    }
    for (int l = 0; l < A->n_layers; ++l) {
      const qm_wn_layer *L = &A->layers[l];
      const int K = L->kernel_size, Z = L->gating != QM_GATING_NONE ? 2 * B : B;
      for (int t = 0; t < T; ++t) {
        memcpy(v, X + t * C, (size_t)C * sizeof *v);
        film(A, L, QM_FILM_CONV_PRE, x[t], v);
        memcpy(cin + t * C, v, (size_t)C * sizeof *v);
      }
      for (int t = 0; t < T; ++t) {
        const double u = x[t];
        for (int o = 0; o < Z; ++o) {
          double s = L->conv_b[o];
          for (int k = 0; k < K; ++k) {
            int tt = t - L->dilation * (K - 1 - k);
            if (tt >= 0)
              for (int i = 0; i < C; ++i)
                s += L->conv_w[(size_t)o * K * C + (size_t)k * C + i] * cin[tt * C + i];
          }
          z[o] = s;
        }
        film(A, L, QM_FILM_CONV_POST, u, z);
        double uc = u;
        film(A, L, QM_FILM_MIXIN_PRE, u, &uc);
        for (int o = 0; o < Z; ++o)
          m[o] = L->mixin_w[o] * uc;
        film(A, L, QM_FILM_MIXIN_POST, u, m);
        for (int o = 0; o < Z; ++o)
          z[o] += m[o];
        film(A, L, QM_FILM_ACTIVATION_PRE, u, z);
        for (int c = 0; c < B; ++c) {
          const double p = act(&L->activation, z[c], c);
          const double g = L->gating != QM_GATING_NONE ? act(&L->secondary, z[B + c], c) : 0;
          av[c] = L->gating == QM_GATING_NONE    ? p
                  : L->gating == QM_GATING_GATED ? p * g
                                                 : g * p + (1 - g) * z[c];
        }
        film(A, L, QM_FILM_ACTIVATION_POST, u, av);
        if (A->head1x1) {
          for (int h = 0; h < HO; ++h) {
            double s = L->head1x1_b[h];
            for (int i = 0; i < B; ++i)
              s += L->head1x1_w[h * B + i] * av[i];
            v[h] = s;
          }
          film(A, L, QM_FILM_HEAD1X1_POST, u, v);
          for (int h = 0; h < HO; ++h)
            head[t * HO + h] += v[h];
        } else {
          for (int h = 0; h < HO; ++h)
            head[t * HO + h] += av[h];
        }
        for (int c = 0; c < C; ++c) {
          double s = 0;
          if (A->layer1x1) {
            s = L->b1x1[c];
            for (int i = 0; i < B; ++i)
              s += L->w1x1[c * B + i] * av[i];
          }
          v[c] = s;
        }
        /* NeuralAmpModelerCore applies it in blended layers only */
        if (L->gating == QM_GATING_BLENDED)
          film(A, L, QM_FILM_LAYER1X1_POST, u, v);
        for (int c = 0; c < C; ++c)
          N[t * C + c] = X[t * C + c] + v[c];
      }
      double *tmp = X;
      X = N;
      N = tmp;
    }
    const int HK = A->head_kernel, HS = A->head_size;
    double *ho = calloc((size_t)T * HS, sizeof *ho);
    for (int t = 0; t < T; ++t)
      for (int h = 0; h < HS; ++h) {
        double s = A->head_b ? A->head_b[h] : 0;
        for (int k = 0; k < HK; ++k) {
          int tt = t - A->head_dilation * (HK - 1 - k);
          if (tt >= 0)
            for (int c = 0; c < HO; ++c)
              s += A->head_w[(size_t)h * HK * HO + (size_t)k * HO + c] * head[tt * HO + c];
        }
        ho[t * HS + h] = s;
      }
    free(prev_out);
    free(prev_head);
    prev_out = X;
    prev_head = ho;
    prev_c = C;
    prev_hs = HS;
    free(N);
    free(cin);
    free(head);
  }
  /* the post-stack head: act then conv, per conv, from head_scale * h */
  int width = prev_hs;
  double *cur = malloc((size_t)T * width * sizeof *cur);
  for (int i = 0; i < T * width; ++i)
    cur[i] = wn->head_scale * prev_head[i];
  for (int i = 0; i < wn->head.n_convs; ++i) {
    const qm_wn_head_conv *K = &wn->head.convs[i];
    double *out = calloc((size_t)T * K->out, sizeof *out);
    for (int t = 0; t < T * K->in; ++t)
      cur[t] = act(&wn->head.activation, cur[t], t % K->in);
    for (int t = 0; t < T; ++t)
      for (int o = 0; o < K->out; ++o) {
        double s = K->b[o];
        for (int k = 0; k < K->kernel_size; ++k) {
          int tt = t - (K->kernel_size - 1 - k);
          if (tt >= 0)
            for (int c = 0; c < K->in; ++c)
              s += K->w[(size_t)o * K->kernel_size * K->in + (size_t)k * K->in + c] *
                   cur[tt * K->in + c];
        }
        out[t * K->out + o] = s;
      }
    free(cur);
    cur = out;
  }
  for (int t = 0; t < T; ++t)
    y[t] = cur[t];
  free(cur);
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
        out[t * C + o] = act(&cn->activation, s, o);
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
