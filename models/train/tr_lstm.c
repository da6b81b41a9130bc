/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  NAM LSTM training. Per layer (input size I, hidden H), parameters in
  .nam order: W[4H][I+H] (rows i, f, g, o; columns input then hidden),
  b[4H], h0[H], c0[H]; after the layers the head w[H], b. With
  xh_t = [x_t ; h_{t-1}]:

      [i f g o] = [sig sig tanh sig](W xh_t + b)
      c_t = f c_{t-1} + i g,   h_t = o tanh(c_t),   y_t = w . h_t + b_head

  A batch of B segments runs in lockstep, so each time step is one
  qk_gemm_f32 with N = B frames (frame = segment). Backward through time,
  with dh, dc arriving from step t+1:

      dh = dh_above + dh_rec;  dc = dc_rec + dh o (1 - tanh^2 c)
      do = dh tanh(c) o(1-o);  di = dc g i(1-i);  dg = dc i (1-g^2);
      df = dc c_{t-1} f(1-f);  dc_rec = dc f
      [dx ; dh_rec] = W^T [di df dg do]  (qk_gemm_f32 on W^T, N = B)

  and after the sweep dW = sum_{t,b} dgates xh^T (one tr_outer_acc over
  T*B frames), db = sum dgates, dh0 / dc0 = the recurrent gradients that
  reach t = 0. The first burn_in steps of each segment are not scored but
  are differentiated through, so h0 and c0 are learned like NAM does.
  tanh(x) is evaluated as 2 sig(2x) - 1 so that one vectorized qk_sigmoid
  call covers all four gates.
*/
#include "tr_lstm.h"

#include "tr_linalg.h"
#include "tr_rng.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  size_t W, b, h0, c0;
  int I;
} ls_off;

typedef struct {
  int cap_T, cap_B;
  float *XH[TR_LSTM_MAX_LAYERS], *G[TR_LSTM_MAX_LAYERS], *C[TR_LSTM_MAX_LAYERS],
      *Hs[TR_LSTM_MAX_LAYERS];
  float *dG, *dHin, *dHbelow, *dh, *dc, *dxh, *y, *gy;
  float *ge;
  double loss;
} ls_ws;

typedef struct {
  tr_lstm_config cfg;
  ls_off off[TR_LSTM_MAX_LAYERS];
  size_t head_w, head_b;
  qk_packed *W[TR_LSTM_MAX_LAYERS], *WT[TR_LSTM_MAX_LAYERS];
  int nthreads;
  ls_ws *ws;
  const float *pe;
} ls_impl;

static size_t layout(const tr_lstm_config *cfg, ls_off *off, size_t *hw, size_t *hb)
{
  size_t o = 0;
  const size_t H = (size_t)cfg->hidden;
  for (int l = 0; l < cfg->layers; ++l) {
    const size_t I = l == 0 ? 1 : H;
    off[l].I = (int)I;
    off[l].W = o;
    o += 4 * H * (I + H);
    off[l].b = o;
    o += 4 * H;
    off[l].h0 = o;
    o += H;
    off[l].c0 = o;
    o += H;
  }
  *hw = o;
  o += H;
  *hb = o;
  o += 1;
  return o;
}

size_t tr_lstm_param_count(const tr_lstm_config *cfg)
{
  ls_off off[TR_LSTM_MAX_LAYERS];
  size_t a, b;
  return layout(cfg, off, &a, &b);
}

static float *fal(size_t n)
{
  float *p = calloc(n ? n : 1, sizeof *p);
  if (!p)
    abort();
  return p;
}

static void ws_free(ls_ws *w)
{
  for (int l = 0; l < TR_LSTM_MAX_LAYERS; ++l) {
    free(w->XH[l]);
    free(w->G[l]);
    free(w->C[l]);
    free(w->Hs[l]);
  }
  free(w->dG);
  free(w->dHin);
  free(w->dHbelow);
  free(w->dh);
  free(w->dc);
  free(w->dxh);
  free(w->y);
  free(w->gy);
  free(w->ge);
  memset(w, 0, sizeof *w);
}

static void ws_ensure(ls_impl *im, ls_ws *w, int T, int B, size_t n_params)
{
  if (w->cap_T >= T && w->cap_B >= B)
    return;
  ws_free(w);
  w->cap_T = T;
  w->cap_B = B;
  const size_t H = (size_t)im->cfg.hidden, TB = (size_t)T * B;
  for (int l = 0; l < im->cfg.layers; ++l) {
    const size_t I = (size_t)im->off[l].I;
    w->XH[l] = fal(TB * (I + H));
    w->G[l] = fal(TB * 4 * H);
    w->C[l] = fal(((size_t)T + 1) * B * H);
    w->Hs[l] = fal(TB * H);
  }
  w->dG = fal(TB * 4 * H);
  w->dHin = fal(TB * H);
  w->dHbelow = fal(TB * H);
  w->dh = fal((size_t)B * H);
  w->dc = fal((size_t)B * H);
  w->dxh = fal((size_t)B * (H + H));
  w->y = fal(TB);
  w->gy = fal(TB);
  w->ge = fal(n_params);
}

static void pack_all(ls_impl *im, const float *pe)
{
  const int H = im->cfg.hidden;
  for (int l = 0; l < im->cfg.layers; ++l) {
    const int I = im->off[l].I;
    tr_pack(&im->W[l], pe + im->off[l].W, 4 * H, I + H, I + H, 0);
    tr_pack(&im->WT[l], pe + im->off[l].W, 4 * H, I + H, I + H, 1);
  }
}

/**
   Forward B sequences of T steps. x[b*ldx + t] is segment b's input.
   Fills the per-layer buffers and y[t*B + b].
*/
static void forward(ls_impl *im, ls_ws *w, const float *x, int ldx, int T, int B)
{
  const int H = im->cfg.hidden;
  const float *pe = im->pe;
  for (int l = 0; l < im->cfg.layers; ++l) {
    const ls_off *o = &im->off[l];
    const int I = o->I, D = I + H;
    float *XH = w->XH[l], *G = w->G[l], *Cst = w->C[l], *Hs = w->Hs[l];
    for (int b = 0; b < B; ++b)
      memcpy(Cst + (size_t)b * H, pe + o->c0, (size_t)H * sizeof *Cst);
    for (int t = 0; t < T; ++t) {
      float *xh = XH + (size_t)t * B * D;
      float *g = G + (size_t)t * B * 4 * H;
      const float *cp = Cst + (size_t)t * B * H;
      float *cn = Cst + (size_t)(t + 1) * B * H;
      float *h = Hs + (size_t)t * B * H;
      for (int b = 0; b < B; ++b) {
        float *v = xh + (size_t)b * D;
        if (l == 0)
          v[0] = x[(size_t)b * ldx + t];
        else
          memcpy(v, w->Hs[l - 1] + ((size_t)t * B + b) * H, (size_t)H * sizeof *v);
        const float *hp = t == 0 ? pe + o->h0 : Hs + ((size_t)(t - 1) * B + b) * H;
        memcpy(v + I, hp, (size_t)H * sizeof *v);
      }
      qk_gemm_f32(im->W[l], xh, D, B, pe + o->b, g, 4 * H, 0);
      for (int b = 0; b < B; ++b) {
        float *gb = g + (size_t)b * 4 * H;
        for (int j = 2 * H; j < 3 * H; ++j)
          gb[j] *= 2.0f;
      }
      qk_sigmoid(g, g, (size_t)B * 4 * H);
      for (int b = 0; b < B; ++b) {
        float *gb = g + (size_t)b * 4 * H;
        const float *c0 = cp + (size_t)b * H;
        float *c1 = cn + (size_t)b * H, *hb = h + (size_t)b * H;
        for (int j = 0; j < H; ++j) {
          const float gi = gb[j], gf = gb[H + j], gg = 2.0f * gb[2 * H + j] - 1.0f,
                      go = gb[3 * H + j];
          gb[2 * H + j] = gg;
          c1[j] = gf * c0[j] + gi * gg;
          hb[j] = go * tanhf(c1[j]);
        }
      }
    }
  }
  const float *Hs = w->Hs[im->cfg.layers - 1];
  const float *hw = pe + im->head_w, hbias = pe[im->head_b];
  for (size_t i = 0; i < (size_t)T * B; ++i) {
    float acc = hbias;
    for (int j = 0; j < H; ++j)
      acc += hw[j] * Hs[i * H + j];
    w->y[i] = acc;
  }
}

/** Backward given gy[t*B + b]; adds into w->ge. */
static void backward(ls_impl *im, ls_ws *w, int T, int B)
{
  const int H = im->cfg.hidden, NL = im->cfg.layers;
  const float *pe = im->pe;
  float *ge = w->ge;
  const float *hw = pe + im->head_w;
  const float *Htop = w->Hs[NL - 1];
  for (size_t i = 0; i < (size_t)T * B; ++i) {
    const float gy = w->gy[i];
    ge[im->head_b] += gy;
    for (int j = 0; j < H; ++j) {
      ge[im->head_w + j] += gy * Htop[i * H + j];
      w->dHin[i * H + j] = gy * hw[j];
    }
  }
  for (int l = NL - 1; l >= 0; --l) {
    const ls_off *o = &im->off[l];
    const int I = o->I, D = I + H;
    const float *G = w->G[l], *Cst = w->C[l];
    memset(w->dh, 0, (size_t)B * H * sizeof *w->dh);
    memset(w->dc, 0, (size_t)B * H * sizeof *w->dc);
    for (int t = T - 1; t >= 0; --t) {
      const float *g = G + (size_t)t * B * 4 * H;
      const float *cp = Cst + (size_t)t * B * H, *cn = Cst + (size_t)(t + 1) * B * H;
      float *dg = w->dG + (size_t)t * B * 4 * H;
      for (int b = 0; b < B; ++b) {
        const float *gb = g + (size_t)b * 4 * H;
        float *db = dg + (size_t)b * 4 * H;
        float *dh = w->dh + (size_t)b * H, *dc = w->dc + (size_t)b * H;
        const float *dha = w->dHin + ((size_t)t * B + b) * H;
        for (int j = 0; j < H; ++j) {
          const float gi = gb[j], gf = gb[H + j], gg = gb[2 * H + j], go = gb[3 * H + j];
          const float c = cn[(size_t)b * H + j], tc = tanhf(c);
          const float dhj = dha[j] + dh[j];
          const float dcj = dc[j] + dhj * go * (1.0f - tc * tc);
          db[3 * H + j] = dhj * tc * go * (1.0f - go);
          db[j] = dcj * gg * gi * (1.0f - gi);
          db[2 * H + j] = dcj * gi * (1.0f - gg * gg);
          db[H + j] = dcj * cp[(size_t)b * H + j] * gf * (1.0f - gf);
          dc[j] = dcj * gf;
        }
      }
      qk_gemm_f32(im->WT[l], dg, 4 * H, B, NULL, w->dxh, D, 0);
      for (int b = 0; b < B; ++b) {
        const float *v = w->dxh + (size_t)b * D;
        memcpy(w->dh + (size_t)b * H, v + I, (size_t)H * sizeof(float));
        if (l > 0)
          memcpy(w->dHbelow + ((size_t)t * B + b) * H, v, (size_t)H * sizeof(float));
      }
    }
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < H; ++j) {
        ge[o->h0 + j] += w->dh[(size_t)b * H + j];
        ge[o->c0 + j] += w->dc[(size_t)b * H + j];
      }
    tr_outer_acc(ge + o->W, D, 4 * H, D, w->dG, 4 * H, w->XH[l], D, T * B);
    tr_colsum_acc(ge + o->b, 4 * H, w->dG, 4 * H, T * B);
    if (l > 0) {
      float *tmp = w->dHin;
      w->dHin = w->dHbelow;
      w->dHbelow = tmp;
    }
  }
}

typedef struct {
  ls_impl *im;
  int tid, b0, b1, L, ctx;
  const float *x, *t;
  tr_loss *loss;
  size_t n_params;
} ls_job;

static void *ls_worker(void *arg)
{
  ls_job *j = arg;
  ls_impl *im = j->im;
  ls_ws *w = &im->ws[j->tid];
  const int B = j->b1 - j->b0, T = j->ctx + j->L;
  ws_ensure(im, w, T, B, j->n_params);
  memset(w->ge, 0, j->n_params * sizeof *w->ge);
  w->loss = 0.0;
  if (B <= 0)
    return NULL;
  forward(im, w, j->x + (size_t)j->b0 * T, T, T, B);
  float *ys = malloc((size_t)j->L * sizeof *ys), *gs = malloc((size_t)j->L * sizeof *gs);
  if (!ys || !gs)
    abort();
  memset(w->gy, 0, (size_t)T * B * sizeof *w->gy);
  for (int b = 0; b < B; ++b) {
    for (int i = 0; i < j->L; ++i)
      ys[i] = w->y[(size_t)(j->ctx + i) * B + b];
    w->loss += tr_loss_segment(j->loss, ys, j->t + (size_t)(j->b0 + b) * j->L, j->L, gs);
    for (int i = 0; i < j->L; ++i)
      w->gy[(size_t)(j->ctx + i) * B + b] = gs[i];
  }
  free(ys);
  free(gs);
  backward(im, w, T, B);
  return NULL;
}

static double ls_batch_grad(tr_model *m, const float *pe, int B, int L, const float *x,
                            const float *t, tr_loss *loss, float *g)
{
  ls_impl *im = m->impl;
  im->pe = pe;
  pack_all(im, pe);
  tr_loss_prepare(loss, t, B, L);
  const int nth = im->nthreads < B ? im->nthreads : B;
  ls_job jobs[64];
  pthread_t th[64];
  for (int i = 0; i < nth; ++i) {
    jobs[i] =
        (ls_job){im, i, B * i / nth, B * (i + 1) / nth, L, m->context, x, t, loss, m->n_params};
    if (i > 0 && pthread_create(&th[i], NULL, ls_worker, &jobs[i]) != 0)
      abort();
  }
  ls_worker(&jobs[0]);
  for (int i = 1; i < nth; ++i)
    pthread_join(th[i], NULL);
  double total = 0.0;
  memcpy(g, im->ws[0].ge, m->n_params * sizeof *g);
  for (int i = 1; i < nth; ++i)
    for (size_t k = 0; k < m->n_params; ++k)
      g[k] += im->ws[i].ge[k];
  for (int i = 0; i < nth; ++i)
    total += im->ws[i].loss;
  return total;
}

static void ls_predict(tr_model *m, const float *pe, const float *x, size_t n, float *y)
{
  ls_impl *im = m->impl;
  im->pe = pe;
  pack_all(im, pe);
  /* Run in chunks, carrying state through h0/c0 of a private copy of pe. */
  const int chunk = 4096;
  const size_t np = m->n_params;
  float *pc = malloc(np * sizeof *pc);
  ls_ws w;
  memset(&w, 0, sizeof w);
  ws_ensure(im, &w, chunk, 1, np);
  if (!pc)
    abort();
  memcpy(pc, pe, np * sizeof *pc);
  im->pe = pc;
  const size_t pre = (size_t)im->cfg.prewarm;
  const size_t total = pre + n;
  float *buf = malloc((size_t)chunk * sizeof *buf);
  if (!buf)
    abort();
  const int H = im->cfg.hidden;
  for (size_t s = 0; s < total; s += chunk) {
    const int len = (size_t)chunk < total - s ? chunk : (int)(total - s);
    for (int i = 0; i < len; ++i)
      buf[i] = s + i < pre ? 0.0f : x[s + i - pre];
    forward(im, &w, buf, len, len, 1);
    for (int i = 0; i < len; ++i)
      if (s + i >= pre)
        y[s + i - pre] = w.y[i];
    for (int l = 0; l < im->cfg.layers; ++l) {
      memcpy(pc + im->off[l].h0, w.Hs[l] + (size_t)(len - 1) * H, (size_t)H * sizeof *pc);
      memcpy(pc + im->off[l].c0, w.C[l] + (size_t)len * H, (size_t)H * sizeof *pc);
    }
  }
  im->pe = pe;
  free(buf);
  free(pc);
  ws_free(&w);
}

static void ls_destroy(tr_model *m)
{
  ls_impl *im = m->impl;
  for (int i = 0; i < im->nthreads; ++i)
    ws_free(&im->ws[i]);
  for (int l = 0; l < TR_LSTM_MAX_LAYERS; ++l) {
    if (im->W[l])
      qk_packed_free(im->W[l]);
    if (im->WT[l])
      qk_packed_free(im->WT[l]);
  }
  free(im->ws);
  free(im);
  free(m->tensors);
  free(m->p);
  free(m);
}

const tr_lstm_config *tr_lstm_cfg(const tr_model *m) { return &((const ls_impl *)m->impl)->cfg; }

tr_model *tr_lstm_new(const tr_lstm_config *cfg, unsigned long long seed, int threads)
{
  if (cfg->hidden < 1 || cfg->hidden > 256 || cfg->layers < 1 || cfg->layers > TR_LSTM_MAX_LAYERS)
    return NULL;
  tr_model *m = calloc(1, sizeof *m);
  ls_impl *im = calloc(1, sizeof *im);
  if (!m || !im)
    abort();
  im->cfg = *cfg;
  im->nthreads = threads < 1 ? 1 : (threads > 64 ? 64 : threads);
  im->ws = calloc((size_t)im->nthreads, sizeof *im->ws);
  m->arch = TR_LSTM;
  m->impl = im;
  m->n_params = layout(cfg, im->off, &im->head_w, &im->head_b);
  m->p = fal(m->n_params);
  m->context = cfg->burn_in;
  m->threads = im->nthreads;
  m->batch_grad = ls_batch_grad;
  m->predict = ls_predict;
  m->destroy = ls_destroy;
  const int H = cfg->hidden;
  /* the engine multiplies wx [4H][I] and wh [4H][H] as separate matrices */
  m->tensors = calloc((size_t)(2 * cfg->layers + 1), sizeof *m->tensors);
  int nt = 0;
  for (int l = 0; l < cfg->layers; ++l) {
    const int I = im->off[l].I;
    m->tensors[nt++] = (tr_tensor){im->off[l].W, 4 * H, I, 1, I + H, "lstm_wx"};
    m->tensors[nt++] = (tr_tensor){im->off[l].W + (size_t)I, 4 * H, H, 1, I + H, "lstm_wh"};
  }
  m->tensors[nt++] = (tr_tensor){im->head_w, 1, H, 1, H, "head"};
  m->n_tensors = nt;
  tr_rng r;
  tr_rng_seed(&r, seed);
  const double bnd = 1.0 / sqrt((double)H);
  for (int l = 0; l < cfg->layers; ++l) {
    const ls_off *o = &im->off[l];
    for (size_t i = o->W; i < o->h0; ++i) /* W and b */
      m->p[i] = (float)tr_rng_range(&r, -bnd, bnd);
    /* h0, c0 start at zero */
  }
  for (int j = 0; j < H; ++j)
    m->p[im->head_w + j] = (float)tr_rng_range(&r, -bnd, bnd);
  m->p[im->head_b] = 0.0f;
  return m;
}
