/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  NAM WaveNet (A1 and A2 forms): training forward and backward.

  Forward (one segment of T_in input samples, "valid" convolutions, so a
  layer of dilation d shortens the sequence by (K-1) d and the output is
  the last T_out = T_in - (receptive field - 1) samples):
    array a:  X_0 = R_a src_a                    (src_0 = input, src_a = X_last of a-1)
    layer l:  Z = sum_k W_k X_l[t - d (K_l-1-k)] + b + M cond[t]     (B rows)
              A_l = act(Z);   X_{l+1}[t] = X_l[t] + W1 A_l[t] + b1  (W1: C x B)
    head:     S_a = sum_l A_l (over the last T_S frames) + H_{a-1}
              H_a = sum_k Hw_a,k S_a[t - (KH-1-k)] (+ hb_a)   (H_{-1} = 0)
    output    y = head_scale * H_last
  act is tanh (A1) or LeakyReLU (A2); B (bottleneck) = C in A1; the head
  conv has KH = 1 tap in A1, 16 in A2, which only a single array may have
  (T_S = T_out + KH - 1: a chained array's H would need that length too).
  Frames are stored frame-major (channels contiguous), so a tap of a
  dilated convolution is qk_gemm_f32 on a pointer d*k frames into X_l.

  Backward, with G = dL/d(.), tanh' = 1 - A^2 and LeakyReLU' = A > 0 ? 1 : slope
  (slope >= 0, so A > 0 exactly where Z > 0):
    G_A  = W1^T G_{X_{l+1}} + G_S (tail frames)      dW1 += G_{X_{l+1}} A^T, db1 += sum
    G_Z  = G_A act'(A)                                dW_k += G_Z X_l[shift k]^T, db += sum G_Z,
                                                      dM += G_Z cond^T
    G_{X_l}[t] = G_{X_{l+1}}[t] (residual, shifted) + sum_k W_k^T G_Z (at shift k)
  W^T products go through qk_gemm_f32 on transposed packs (rebuilt with the
  weights once per batch); dW products are tr_outer_acc. Weight gradients
  are accumulated in the engine orientation (conv [C][K*C], tap-major
  columns) and permuted to the file order (out, in, tap) at the end.
  Segments of a batch are split over threads, each with its own
  workspace and gradient; the sums are added in thread order, so results
  are reproducible for a given thread count.
*/
#include "tr_wavenet.h"

#include "tr_linalg.h"
#include "tr_rng.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  size_t rech, head_w, head_b;
  size_t conv_w[TR_WN_MAX_LAYERS], conv_b[TR_WN_MAX_LAYERS], mix[TR_WN_MAX_LAYERS],
      w1[TR_WN_MAX_LAYERS], b1[TR_WN_MAX_LAYERS];
} wn_offsets;

typedef struct {
  qk_packed *rech, *rechT, *head[TR_WN_MAX_KERNEL], *headT[TR_WN_MAX_KERNEL];
  qk_packed *conv[TR_WN_MAX_LAYERS][TR_WN_MAX_KERNEL], *convT[TR_WN_MAX_LAYERS][TR_WN_MAX_KERNEL];
  qk_packed *mix[TR_WN_MAX_LAYERS], *w1[TR_WN_MAX_LAYERS], *w1T[TR_WN_MAX_LAYERS];
} wn_packs;

typedef struct {
  int T_in; /**< capacity the buffers were sized for */
  float *X[TR_WN_MAX_ARRAYS][TR_WN_MAX_LAYERS + 1];
  float *A[TR_WN_MAX_ARRAYS][TR_WN_MAX_LAYERS];
  float *S[TR_WN_MAX_ARRAYS], *H[TR_WN_MAX_ARRAYS];
  float *gS, *gH, *gA, *g1, *g2, *g3, *gy, *y;
  float *ge; /**< gradient, engine orientation */
  double loss;
} wn_ws;

typedef struct {
  tr_wn_config cfg;
  wn_offsets off[TR_WN_MAX_ARRAYS];
  wn_packs pk[TR_WN_MAX_ARRAYS];
  int rf;
  int nthreads;
  wn_ws *ws;
  const float *pe; /* effective parameters of the current call */
} wn_impl;

/** NAM's A2 layer array: 23 layers, kernel 15 at layers 14 and 15. */
static const int a2_dilations[23] = {1,   3,   7, 17, 41, 101, 239, 1,  3,  7,   17, 41,
                                     101, 239, 1, 13, 1,  3,   7,   17, 41, 101, 239};

static void a2_preset(int C, tr_wn_config *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->n_arrays = 1;
  tr_wn_array_cfg *A = &cfg->arrays[0];
  A->input_size = 1;
  A->channels = C;
  A->bottleneck = C;
  A->head_size = 1;
  A->head_bias = true;
  A->head_kernel = 16;
  A->kernel_size = 6;
  A->n_layers = 23;
  for (int l = 0; l < 23; ++l) {
    A->dilations[l] = a2_dilations[l];
    A->kernel_sizes[l] = l == 14 || l == 15 ? 15 : 6;
  }
  A->activation = TR_WN_LEAKY_RELU;
  A->negative_slope = 0.01f;
  cfg->head_scale = 0.01f;
}

bool tr_wavenet_preset(const char *name, tr_wn_config *cfg)
{
  if (strcmp(name, "a2-nano") == 0 || strcmp(name, "a2-standard") == 0) {
    a2_preset(name[3] == 'n' ? 3 : 8, cfg);
    return true;
  }
  int C;
  if (strcmp(name, "nano") == 0)
    C = 4;
  else if (strcmp(name, "feather") == 0)
    C = 8;
  else if (strcmp(name, "lite") == 0)
    C = 12;
  else if (strcmp(name, "standard") == 0)
    C = 16;
  else
    return false;
  memset(cfg, 0, sizeof *cfg);
  cfg->n_arrays = 2;
  for (int a = 0; a < 2; ++a) {
    tr_wn_array_cfg *A = &cfg->arrays[a];
    A->input_size = a == 0 ? 1 : C;
    A->channels = a == 0 ? C : C / 2;
    A->head_size = a == 0 ? C / 2 : 1;
    A->head_bias = a == 1;
    A->kernel_size = 3;
    A->n_layers = 10;
    for (int l = 0; l < 10; ++l)
      A->dilations[l] = 1 << l;
  }
  cfg->head_scale = 0.02f;
  return true;
}

int tr_wn_kernel(const tr_wn_array_cfg *A, int l)
{
  return A->kernel_sizes[l] > 0 ? A->kernel_sizes[l] : A->kernel_size;
}

int tr_wn_bottleneck(const tr_wn_array_cfg *A)
{
  return A->bottleneck > 0 ? A->bottleneck : A->channels;
}

int tr_wn_head_kernel(const tr_wn_array_cfg *A) { return A->head_kernel > 1 ? A->head_kernel : 1; }

bool tr_wavenet_is_a1(const tr_wn_config *cfg)
{
  for (int a = 0; a < cfg->n_arrays; ++a) {
    const tr_wn_array_cfg *A = &cfg->arrays[a];
    if (A->activation != TR_WN_TANH || tr_wn_bottleneck(A) != A->channels ||
        tr_wn_head_kernel(A) != 1)
      return false;
    for (int l = 0; l < A->n_layers; ++l)
      if (tr_wn_kernel(A, l) != A->kernel_size)
        return false;
  }
  return true;
}

/** Lay out the parameters in .nam order; returns the count. */
static size_t layout(const tr_wn_config *cfg, wn_offsets *off)
{
  size_t o = 0;
  for (int a = 0; a < cfg->n_arrays; ++a) {
    const tr_wn_array_cfg *A = &cfg->arrays[a];
    const size_t C = (size_t)A->channels, B = (size_t)tr_wn_bottleneck(A);
    off[a].rech = o;
    o += C * (size_t)A->input_size;
    for (int l = 0; l < A->n_layers; ++l) {
      off[a].conv_w[l] = o;
      o += B * C * (size_t)tr_wn_kernel(A, l);
      off[a].conv_b[l] = o;
      o += B;
      off[a].mix[l] = o;
      o += B; /* condition_size 1 */
      off[a].w1[l] = o;
      o += C * B;
      off[a].b1[l] = o;
      o += C;
    }
    off[a].head_w = o;
    o += (size_t)A->head_size * B * (size_t)tr_wn_head_kernel(A);
    off[a].head_b = o;
    if (A->head_bias)
      o += (size_t)A->head_size;
  }
  return o;
}

size_t tr_wavenet_param_count(const tr_wn_config *cfg)
{
  wn_offsets off[TR_WN_MAX_ARRAYS];
  return layout(cfg, off);
}

int tr_wavenet_receptive_field(const tr_wn_config *cfg)
{
  int rf = 1;
  for (int a = 0; a < cfg->n_arrays; ++a) {
    for (int l = 0; l < cfg->arrays[a].n_layers; ++l)
      rf += (tr_wn_kernel(&cfg->arrays[a], l) - 1) * cfg->arrays[a].dilations[l];
    rf += tr_wn_head_kernel(&cfg->arrays[a]) - 1;
  }
  return rf;
}

static float *fal(size_t n)
{
  float *p = calloc(n ? n : 1, sizeof *p);
  if (!p)
    abort();
  return p;
}

static void ws_free(wn_ws *w, const tr_wn_config *cfg)
{
  for (int a = 0; a < cfg->n_arrays; ++a) {
    for (int l = 0; l <= cfg->arrays[a].n_layers; ++l)
      free(w->X[a][l]);
    for (int l = 0; l < cfg->arrays[a].n_layers; ++l)
      free(w->A[a][l]);
    free(w->S[a]);
    free(w->H[a]);
  }
  free(w->gS);
  free(w->gH);
  free(w->gA);
  free(w->g1);
  free(w->g2);
  free(w->g3);
  free(w->gy);
  free(w->y);
  free(w->ge);
  memset(w, 0, sizeof *w);
}

/** Frames of array a's head sum S: T_out, and KH - 1 more for a head conv. */
static int head_frames(const tr_wn_array_cfg *A, int T_out)
{
  return T_out + tr_wn_head_kernel(A) - 1;
}

/** Size a workspace for segments of T_in input samples. */
static void ws_ensure(wn_impl *im, wn_ws *w, int T_in, size_t n_params)
{
  if (w->T_in >= T_in)
    return;
  ws_free(w, &im->cfg);
  w->T_in = T_in;
  const tr_wn_config *cfg = &im->cfg;
  const int T_out = T_in - (im->rf - 1);
  int T = T_in, cmax = 1;
  for (int a = 0; a < cfg->n_arrays; ++a) {
    const tr_wn_array_cfg *A = &cfg->arrays[a];
    const size_t C = (size_t)A->channels, B = (size_t)tr_wn_bottleneck(A);
    const int widest[] = {A->channels, A->head_size, (int)B};
    for (int i = 0; i < 3; ++i)
      if (widest[i] > cmax)
        cmax = widest[i];
    w->X[a][0] = fal((size_t)T * C);
    for (int l = 0; l < A->n_layers; ++l) {
      T -= (tr_wn_kernel(A, l) - 1) * A->dilations[l];
      w->A[a][l] = fal((size_t)T * B);
      w->X[a][l + 1] = fal((size_t)T * C);
    }
    w->S[a] = fal((size_t)head_frames(A, T_out) * B);
    w->H[a] = fal((size_t)T_out * (size_t)A->head_size);
  }
  w->gS = fal((size_t)T_in * (size_t)cmax);
  w->gH = fal((size_t)T_out * (size_t)cmax);
  w->gA = fal((size_t)T_in * (size_t)cmax);
  w->g1 = fal((size_t)T_in * (size_t)cmax);
  w->g2 = fal((size_t)T_in * (size_t)cmax);
  w->g3 = fal((size_t)T_in * (size_t)cmax);
  w->gy = fal((size_t)T_out);
  w->y = fal((size_t)T_out);
  w->ge = fal(n_params);
}

/** Tap k of a conv stored in the file's order (out, in, tap) as a packed
    [rows][cols] matrix, or its transpose. */
static void pack_tap(qk_packed **dst, const float *w, int rows, int cols, int taps, int k,
                     bool transposed, float *tmp)
{
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < cols; ++i)
      tmp[(size_t)r * cols + i] = w[((size_t)r * cols + i) * taps + k];
  tr_pack(dst, tmp, rows, cols, cols, transposed ? 1 : 0);
}

/** Rebuild all packs from the effective parameters pe. */
static void pack_all(wn_impl *im, const float *pe)
{
  const tr_wn_config *cfg = &im->cfg;
  for (int a = 0; a < cfg->n_arrays; ++a) {
    const tr_wn_array_cfg *A = &cfg->arrays[a];
    const wn_offsets *o = &im->off[a];
    wn_packs *pk = &im->pk[a];
    const int C = A->channels, B = tr_wn_bottleneck(A), HS = A->head_size;
    const int KH = tr_wn_head_kernel(A);
    tr_pack(&pk->rech, pe + o->rech, C, A->input_size, A->input_size, 0);
    tr_pack(&pk->rechT, pe + o->rech, C, A->input_size, A->input_size, 1);
    float *tmp = fal((size_t)(B > HS ? B : HS) * (size_t)C * (size_t)B);
    for (int k = 0; k < KH; ++k) {
      pack_tap(&pk->head[k], pe + o->head_w, HS, B, KH, k, false, tmp);
      pack_tap(&pk->headT[k], pe + o->head_w, HS, B, KH, k, true, tmp);
    }
    for (int l = 0; l < A->n_layers; ++l) {
      const int K = tr_wn_kernel(A, l);
      for (int k = 0; k < K; ++k) {
        pack_tap(&pk->conv[l][k], pe + o->conv_w[l], B, C, K, k, false, tmp);
        pack_tap(&pk->convT[l][k], pe + o->conv_w[l], B, C, K, k, true, tmp);
      }
      tr_pack(&pk->mix[l], pe + o->mix[l], B, 1, 1, 0);
      tr_pack(&pk->w1[l], pe + o->w1[l], C, B, B, 0);
      tr_pack(&pk->w1T[l], pe + o->w1[l], C, B, B, 1);
    }
    free(tmp);
  }
}

static void free_pack(qk_packed **p)
{
  if (*p)
    qk_packed_free(*p);
  *p = NULL;
}

static void free_packs(wn_impl *im)
{
  for (int a = 0; a < TR_WN_MAX_ARRAYS; ++a) {
    wn_packs *pk = &im->pk[a];
    free_pack(&pk->rech);
    free_pack(&pk->rechT);
    for (int k = 0; k < TR_WN_MAX_KERNEL; ++k) {
      free_pack(&pk->head[k]);
      free_pack(&pk->headT[k]);
    }
    for (int l = 0; l < TR_WN_MAX_LAYERS; ++l) {
      for (int k = 0; k < TR_WN_MAX_KERNEL; ++k) {
        free_pack(&pk->conv[l][k]);
        free_pack(&pk->convT[l][k]);
      }
      free_pack(&pk->mix[l]);
      free_pack(&pk->w1[l]);
      free_pack(&pk->w1T[l]);
    }
  }
}

static void activate(const tr_wn_array_cfg *A, float *z, size_t n)
{
  if (A->activation == TR_WN_TANH) {
    qk_tanh(z, z, n);
    return;
  }
  const float slope = A->negative_slope;
  for (size_t i = 0; i < n; ++i)
    z[i] = z[i] > 0.0f ? z[i] : slope * z[i];
}

/** g *= act'(.) at the activation's outputs a. */
static void activation_backward(const tr_wn_array_cfg *A, const float *a, float *g, size_t n)
{
  if (A->activation == TR_WN_TANH) {
    for (size_t i = 0; i < n; ++i)
      g[i] *= 1.0f - a[i] * a[i];
    return;
  }
  const float slope = A->negative_slope;
  for (size_t i = 0; i < n; ++i)
    g[i] *= a[i] > 0.0f ? 1.0f : slope;
}

/** Forward of one segment; the output (T_out samples) is left in w->y. */
static void forward_seg(wn_impl *im, wn_ws *w, const float *in, int T_in)
{
  const tr_wn_config *cfg = &im->cfg;
  const float *pe = im->pe;
  const int T_out = T_in - (im->rf - 1);
  int T = T_in;
  int T0[TR_WN_MAX_ARRAYS]; /* length of each array's X_0 */
  for (int a = 0; a < cfg->n_arrays; ++a) {
    const tr_wn_array_cfg *A = &cfg->arrays[a];
    const wn_offsets *o = &im->off[a];
    const wn_packs *pk = &im->pk[a];
    const int C = A->channels, B = tr_wn_bottleneck(A);
    const float *src = a == 0 ? in : w->X[a - 1][cfg->arrays[a - 1].n_layers];
    T0[a] = T;
    qk_gemm_f32(pk->rech, src, A->input_size, T, NULL, w->X[a][0], C, 0);
    for (int l = 0; l < A->n_layers; ++l) {
      const int K = tr_wn_kernel(A, l), d = A->dilations[l], Tn = T - (K - 1) * d;
      float *Z = w->A[a][l], *X = w->X[a][l], *Xn = w->X[a][l + 1];
      for (int k = 0; k < K; ++k)
        qk_gemm_f32(pk->conv[l][k], X + (size_t)d * k * C, C, Tn, k == 0 ? pe + o->conv_b[l] : NULL,
                    Z, B, k == 0 ? 0 : QK_ACCUMULATE);
      qk_gemm_f32(pk->mix[l], in + (T_in - Tn), 1, Tn, NULL, Z, B, QK_ACCUMULATE);
      activate(A, Z, (size_t)Tn * B);
      memcpy(Xn, X + (size_t)(K - 1) * d * C, (size_t)Tn * C * sizeof *Xn);
      qk_gemm_f32(pk->w1[l], Z, B, Tn, pe + o->b1[l], Xn, C, QK_ACCUMULATE);
      T = Tn;
    }
  }
  /* head sums over each array's last T_S frames, and the head chain */
  for (int a = 0; a < cfg->n_arrays; ++a) {
    const tr_wn_array_cfg *A = &cfg->arrays[a];
    const wn_offsets *o = &im->off[a];
    const int B = tr_wn_bottleneck(A), KH = tr_wn_head_kernel(A), TS = head_frames(A, T_out);
    float *S = w->S[a];
    if (a == 0)
      memset(S, 0, (size_t)TS * B * sizeof *S);
    else
      memcpy(S, w->H[a - 1], (size_t)TS * B * sizeof *S);
    int Tl = T0[a];
    for (int l = 0; l < A->n_layers; ++l) {
      Tl -= (tr_wn_kernel(A, l) - 1) * A->dilations[l];
      const float *Ap = w->A[a][l] + (size_t)(Tl - TS) * B;
      for (size_t i = 0; i < (size_t)TS * B; ++i)
        S[i] += Ap[i];
    }
    for (int k = 0; k < KH; ++k)
      qk_gemm_f32(im->pk[a].head[k], S + (size_t)k * B, B, T_out,
                  k == 0 && A->head_bias ? pe + o->head_b : NULL, w->H[a], A->head_size,
                  k == 0 ? 0 : QK_ACCUMULATE);
  }
  const float *Hl = w->H[cfg->n_arrays - 1];
  for (int j = 0; j < T_out; ++j)
    w->y[j] = cfg->head_scale * Hl[j];
}

/** Backward of the segment just run forward; gy = dL/dy in w->gy. Adds into w->ge. */
static void backward_seg(wn_impl *im, wn_ws *w, const float *in, int T_in)
{
  const tr_wn_config *cfg = &im->cfg;
  const int T_out = T_in - (im->rf - 1);
  float *ge = w->ge;
  /* lengths of X_0 of every array */
  int T0[TR_WN_MAX_ARRAYS];
  {
    int T = T_in;
    for (int a = 0; a < cfg->n_arrays; ++a) {
      T0[a] = T;
      for (int l = 0; l < cfg->arrays[a].n_layers; ++l)
        T -= (tr_wn_kernel(&cfg->arrays[a], l) - 1) * cfg->arrays[a].dilations[l];
    }
  }
  /* gH of the last array: head_scale * gy */
  for (int j = 0; j < T_out; ++j)
    w->gH[j] = cfg->head_scale * w->gy[j];
  float *gnext = NULL; /* gradient w.r.t. the last X of the current array */
  for (int a = cfg->n_arrays - 1; a >= 0; --a) {
    const tr_wn_array_cfg *A = &cfg->arrays[a];
    const wn_offsets *o = &im->off[a];
    const wn_packs *pk = &im->pk[a];
    const int C = A->channels, B = tr_wn_bottleneck(A), HS = A->head_size;
    const int KH = tr_wn_head_kernel(A), TS = head_frames(A, T_out);
    /* head: H = sum_k Hw_k S[shift k] (+hb) */
    memset(w->gS, 0, (size_t)TS * B * sizeof *w->gS);
    for (int k = 0; k < KH; ++k) {
      tr_outer_acc(ge + o->head_w + (size_t)k * B, KH * B, HS, B, w->gH, HS,
                   w->S[a] + (size_t)k * B, B, T_out);
      qk_gemm_f32(pk->headT[k], w->gH, HS, T_out, NULL, w->gS + (size_t)k * B, B, QK_ACCUMULATE);
    }
    if (A->head_bias)
      tr_colsum_acc(ge + o->head_b, HS, w->gH, HS, T_out);
    /* layers, last to first */
    int Tl = T0[a];
    for (int l = 0; l < A->n_layers; ++l)
      Tl -= (tr_wn_kernel(A, l) - 1) * A->dilations[l];
    /* Tl is now the length of X_last; walk back */
    float *bufs[2] = {w->g1 == gnext ? w->g2 : w->g1, w->g3};
    int which = 0;
    for (int l = A->n_layers - 1; l >= 0; --l) {
      const int K = tr_wn_kernel(A, l), d = A->dilations[l], Tn = Tl, T = Tn + (K - 1) * d;
      const float *Al = w->A[a][l], *X = w->X[a][l];
      float *gA = w->gA;
      if (gnext)
        qk_gemm_f32(pk->w1T[l], gnext, C, Tn, NULL, gA, B, 0);
      else
        memset(gA, 0, (size_t)Tn * B * sizeof *gA);
      {
        float *tail = gA + (size_t)(Tn - TS) * B;
        for (size_t i = 0; i < (size_t)TS * B; ++i)
          tail[i] += w->gS[i];
      }
      if (gnext) {
        tr_outer_acc(ge + o->w1[l], B, C, B, gnext, C, Al, B, Tn);
        tr_colsum_acc(ge + o->b1[l], C, gnext, C, Tn);
      }
      activation_backward(A, Al, gA, (size_t)Tn * B);
      tr_colsum_acc(ge + o->conv_b[l], B, gA, B, Tn);
      for (int k = 0; k < K; ++k)
        tr_outer_acc(ge + o->conv_w[l] + (size_t)k * C, K * C, B, C, gA, B, X + (size_t)d * k * C,
                     C, Tn);
      tr_outer_acc(ge + o->mix[l], 1, B, 1, gA, B, in + (T_in - Tn), 1, Tn);
      /* gradient w.r.t. X_l */
      float *gcur = bufs[which];
      which ^= 1;
      memset(gcur, 0, (size_t)(K - 1) * d * C * sizeof *gcur);
      if (gnext)
        memcpy(gcur + (size_t)(K - 1) * d * C, gnext, (size_t)Tn * C * sizeof *gcur);
      else
        memset(gcur + (size_t)(K - 1) * d * C, 0, (size_t)Tn * C * sizeof *gcur);
      for (int k = 0; k < K; ++k)
        qk_gemm_f32(pk->convT[l][k], gA, B, Tn, NULL, gcur + (size_t)d * k * C, C, QK_ACCUMULATE);
      gnext = gcur;
      Tl = T;
    }
    /* rechannel: X_0 = R src */
    const float *src = a == 0 ? in : w->X[a - 1][cfg->arrays[a - 1].n_layers];
    tr_outer_acc(ge + o->rech, A->input_size, C, A->input_size, gnext, C, src, A->input_size,
                 T0[a]);
    if (a > 0) {
      /* into the previous array: its last X, and its head output */
      float *gprev = (gnext == w->g1) ? w->g2 : w->g1;
      if (gprev == gnext)
        gprev = w->g3;
      qk_gemm_f32(pk->rechT, gnext, C, T0[a], NULL, gprev, A->input_size, 0);
      gnext = gprev;
      /* S_a = H_{a-1} + ..., so dL/dH_{a-1} = dL/dS_a (TS = T_out: one head conv array only) */
      memcpy(w->gH, w->gS, (size_t)T_out * B * sizeof *w->gH);
    }
  }
}

typedef struct {
  wn_impl *im;
  int tid, nth, B, L, T_in;
  const float *x, *t;
  tr_loss *loss;
  size_t n_params;
} wn_job;

static void *wn_worker(void *arg)
{
  wn_job *j = arg;
  wn_impl *im = j->im;
  wn_ws *w = &im->ws[j->tid];
  ws_ensure(im, w, j->T_in, j->n_params);
  memset(w->ge, 0, j->n_params * sizeof *w->ge);
  w->loss = 0.0;
  for (int b = j->tid; b < j->B; b += j->nth) {
    const float *in = j->x + (size_t)b * j->T_in;
    forward_seg(im, w, in, j->T_in);
    w->loss += tr_loss_segment(j->loss, w->y, j->t + (size_t)b * j->L, j->L, w->gy);
    backward_seg(im, w, in, j->T_in);
  }
  return NULL;
}

static double wn_batch_grad(tr_model *m, const float *pe, int B, int L, const float *x,
                            const float *t, tr_loss *loss, float *g)
{
  wn_impl *im = m->impl;
  im->pe = pe;
  pack_all(im, pe);
  tr_loss_prepare(loss, t, B, L);
  const int nth = im->nthreads < B ? im->nthreads : B;
  wn_job jobs[64];
  pthread_t th[64];
  for (int i = 0; i < nth; ++i) {
    jobs[i] = (wn_job){im, i, nth, B, L, L + m->context, x, t, loss, m->n_params};
    if (i > 0 && pthread_create(&th[i], NULL, wn_worker, &jobs[i]) != 0)
      abort();
  }
  wn_worker(&jobs[0]);
  for (int i = 1; i < nth; ++i)
    pthread_join(th[i], NULL);
  /* sum in thread order, then engine -> file orientation for the convs */
  double total = 0.0;
  float *ge = im->ws[0].ge;
  for (int i = 1; i < nth; ++i)
    for (size_t k = 0; k < m->n_params; ++k)
      ge[k] += im->ws[i].ge[k];
  for (int i = 0; i < nth; ++i)
    total += im->ws[i].loss;
  memcpy(g, ge, m->n_params * sizeof *g);
  for (int i = 0; i < m->n_tensors; ++i)
    if (m->tensors[i].taps > 1)
      tr_tensor_set(&m->tensors[i], g, ge + m->tensors[i].off);
  return total;
}

static void wn_predict(tr_model *m, const float *pe, const float *x, size_t n, float *y)
{
  wn_impl *im = m->impl;
  im->pe = pe;
  pack_all(im, pe);
  const int ctx = im->rf - 1, chunk = 16384;
  wn_ws *w = &im->ws[0];
  ws_ensure(im, w, chunk + ctx, m->n_params);
  float *buf = fal((size_t)chunk + ctx);
  /* NAM prewarm: the history starts as if zeros had been played */
  for (size_t s = 0; s < n; s += chunk) {
    const int len = (size_t)chunk < n - s ? chunk : (int)(n - s);
    for (int i = 0; i < len + ctx; ++i) {
      const long src = (long)s - ctx + i;
      buf[i] = src >= 0 ? x[src] : 0.0f;
    }
    forward_seg(im, w, buf, len + ctx);
    memcpy(y + s, w->y, (size_t)len * sizeof *y);
  }
  free(buf);
}

static void wn_destroy(tr_model *m)
{
  wn_impl *im = m->impl;
  for (int i = 0; i < im->nthreads; ++i)
    ws_free(&im->ws[i], &im->cfg);
  free(im->ws);
  free_packs(im);
  free(im);
  free(m->tensors);
  free(m->p);
  free(m);
}

const tr_wn_config *tr_wavenet_config(const tr_model *m)
{
  return &((const wn_impl *)m->impl)->cfg;
}

tr_model *tr_wavenet_new(const tr_wn_config *cfg, unsigned long long seed, int threads)
{
  if (cfg->n_arrays < 1 || cfg->n_arrays > TR_WN_MAX_ARRAYS)
    return NULL;
  for (int a = 0; a < cfg->n_arrays; ++a) {
    const tr_wn_array_cfg *A = &cfg->arrays[a];
    if (A->n_layers < 1 || A->n_layers > TR_WN_MAX_LAYERS || A->channels < 1 || A->bottleneck < 0 ||
        A->head_kernel < 0 || A->head_kernel > TR_WN_MAX_KERNEL || A->negative_slope < 0.0f ||
        (A->head_kernel > 1 && cfg->n_arrays != 1))
      return NULL;
    for (int l = 0; l < A->n_layers; ++l)
      if (tr_wn_kernel(A, l) < 1 || tr_wn_kernel(A, l) > TR_WN_MAX_KERNEL)
        return NULL;
    if (a > 0 && (A->input_size != cfg->arrays[a - 1].channels ||
                  cfg->arrays[a - 1].head_size != tr_wn_bottleneck(A)))
      return NULL;
  }
  tr_model *m = calloc(1, sizeof *m);
  wn_impl *im = calloc(1, sizeof *im);
  if (!m || !im)
    abort();
  im->cfg = *cfg;
  im->rf = tr_wavenet_receptive_field(cfg);
  im->nthreads = threads < 1 ? 1 : (threads > 64 ? 64 : threads);
  im->ws = calloc((size_t)im->nthreads, sizeof *im->ws);
  m->arch = TR_WAVENET;
  m->impl = im;
  m->n_params = layout(cfg, im->off);
  m->p = fal(m->n_params);
  m->context = im->rf - 1;
  m->threads = im->nthreads;
  m->batch_grad = wn_batch_grad;
  m->predict = wn_predict;
  m->destroy = wn_destroy;
  /* tensors: rechannel, per layer conv / mixin / 1x1, head */
  int nt = 0;
  for (int a = 0; a < cfg->n_arrays; ++a)
    nt += 2 + 3 * cfg->arrays[a].n_layers;
  m->tensors = calloc((size_t)nt, sizeof *m->tensors);
  nt = 0;
  for (int a = 0; a < cfg->n_arrays; ++a) {
    const tr_wn_array_cfg *A = &cfg->arrays[a];
    const int C = A->channels, B = tr_wn_bottleneck(A), KH = tr_wn_head_kernel(A);
    const wn_offsets *o = &im->off[a];
    m->tensors[nt++] = (tr_tensor){o->rech, C, A->input_size, 1, A->input_size, "rechannel"};
    for (int l = 0; l < A->n_layers; ++l) {
      const int K = tr_wn_kernel(A, l);
      m->tensors[nt++] = (tr_tensor){o->conv_w[l], B, K * C, K, K * C, "conv"};
      m->tensors[nt++] = (tr_tensor){o->mix[l], B, 1, 1, 1, "input_mixin"};
      m->tensors[nt++] = (tr_tensor){o->w1[l], C, B, 1, B, "1x1"};
    }
    m->tensors[nt++] = (tr_tensor){o->head_w, A->head_size, KH * B,
                                   KH,        KH * B,       KH > 1 ? "head" : "head_rechannel"};
  }
  m->n_tensors = nt;
  /* PyTorch Conv1d default init: weights and biases U(-1/sqrt(fan_in), +) */
  tr_rng r;
  tr_rng_seed(&r, seed);
  for (int a = 0; a < cfg->n_arrays; ++a) {
    const tr_wn_array_cfg *A = &cfg->arrays[a];
    const int C = A->channels, B = tr_wn_bottleneck(A), KH = tr_wn_head_kernel(A);
    const wn_offsets *o = &im->off[a];
#define UNI(off, n, fan)                                                                           \
  do {                                                                                             \
    const double bnd = 1.0 / sqrt((double)(fan));                                                  \
    for (size_t i_ = 0; i_ < (size_t)(n); ++i_)                                                    \
      m->p[(off) + i_] = (float)tr_rng_range(&r, -bnd, bnd);                                       \
  } while (0)
    UNI(o->rech, (size_t)C * A->input_size, A->input_size);
    for (int l = 0; l < A->n_layers; ++l) {
      const int K = tr_wn_kernel(A, l);
      UNI(o->conv_w[l], (size_t)B * C * K, C * K);
      UNI(o->conv_b[l], B, C * K);
      UNI(o->mix[l], B, 1);
      UNI(o->w1[l], (size_t)C * B, B);
      UNI(o->b1[l], C, B);
    }
    UNI(o->head_w, (size_t)A->head_size * B * KH, B * KH);
    if (A->head_bias)
      UNI(o->head_b, A->head_size, B * KH);
#undef UNI
  }
  return m;
}
