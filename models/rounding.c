/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Post-training rounding (gptq) and bias correction. See rounding.h for
  the objective and the methods; the formulas sit next to their code.
*/
#include "rounding.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Times the damping is multiplied by 10 when a factorization fails. */
#define QZ_DAMP_RETRIES 6

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
  if (!err || errlen == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/** e_m^T H e_m for one row's error e (n values). */
static double quadratic_form(const double *e, const double *H, int n)
{
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    if (e[i] == 0.0)
      continue;
    const double *h = H + (size_t)i * (size_t)n;
    double hi = 0.0;
    for (int j = 0; j < n; ++j)
      hi += h[j] * e[j];
    sum += e[i] * hi;
  }
  return sum;
}

/** Row m's error e = w_hat - w for t's current codes. */
static void row_error(const qz_tensor *t, const float *w, int m, double *e)
{
  const int K = t->w.cols;
  for (int k = 0; k < K; ++k) {
    size_t i = (size_t)m * K + k;
    e[k] = (double)qz_decode(t, m, k, t->codes[i]) - (double)w[i];
  }
}

double qz_layer_error(const qz_tensor *t, const float *w, const double *H, double *per_row)
{
  const int K = t->w.cols;
  double *e = malloc((size_t)K * sizeof *e);
  if (!e)
    return NAN;
  double total = 0.0;
  for (int m = 0; m < t->w.rows; ++m) {
    row_error(t, w, m, e);
    double r = quadratic_form(e, H, K);
    if (per_row)
      per_row[m] = r;
    total += r;
  }
  free(e);
  return total;
}

double qz_layer_power(const float *w, int rows, int cols, const double *H)
{
  double *r = malloc((size_t)cols * sizeof *r);
  if (!r)
    return NAN;
  double total = 0.0;
  for (int m = 0; m < rows; ++m) {
    for (int k = 0; k < cols; ++k)
      r[k] = w[(size_t)m * cols + k];
    total += quadratic_form(r, H, cols);
  }
  free(r);
  return total;
}

/** In-place lower Cholesky factor A = L L^T of a symmetric n x n matrix
    (row-major; the strict upper triangle is zeroed). False if A is not
    numerically positive definite. */
static bool cholesky_lower(double *A, int n)
{
  for (int j = 0; j < n; ++j) {
    double *aj = A + (size_t)j * n;
    /** L_jj = sqrt(A_jj - sum_{k<j} L_jk^2) */
    double d = aj[j];
    for (int k = 0; k < j; ++k)
      d -= aj[k] * aj[k];
    if (!(d > 0.0) || !isfinite(d))
      return false;
    d = sqrt(d);
    aj[j] = d;
    /** L_ij = (A_ij - sum_{k<j} L_ik L_jk) / L_jj for i > j */
    for (int i = j + 1; i < n; ++i) {
      double *ai = A + (size_t)i * n;
      double s = ai[j];
      for (int k = 0; k < j; ++k)
        s -= ai[k] * aj[k];
      ai[j] = s / d;
    }
    for (int k = j + 1; k < n; ++k)
      aj[k] = 0.0;
  }
  return true;
}

/**
   U, upper triangular with H_damped^-1 = U^T U, into U (n x n), using
   scratch (n x n). H_damped = H + lambda I.
     1. H_damped = L L^T                     (Cholesky)
     2. M = L^-1                             (forward substitution)
     3. H_damped^-1 = M^T M                  (since (L L^T)^-1 = L^-T L^-1)
     4. H_damped^-1 = C C^T, U = C^T         (Cholesky again)
*/
static bool inverse_upper_factor(const double *H, int n, double lambda, double *U, double *M)
{
  memcpy(U, H, (size_t)n * n * sizeof *U);
  for (int i = 0; i < n; ++i)
    U[(size_t)i * n + i] += lambda;
  if (!cholesky_lower(U, n))
    return false;
  /* M = L^-1, lower triangular: L M = I column by column */
  memset(M, 0, (size_t)n * n * sizeof *M);
  for (int c = 0; c < n; ++c) {
    for (int i = c; i < n; ++i) {
      double s = i == c ? 1.0 : 0.0;
      for (int k = c; k < i; ++k)
        s -= U[(size_t)i * n + k] * M[(size_t)k * n + c];
      M[(size_t)i * n + c] = s / U[(size_t)i * n + i];
    }
  }
  /* U <- M^T M: (M^T M)_ij = sum_{k >= max(i,j)} M_ki M_kj */
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j <= i; ++j) {
      double s = 0.0;
      for (int k = i; k < n; ++k)
        s += M[(size_t)k * n + i] * M[(size_t)k * n + j];
      U[(size_t)i * n + j] = U[(size_t)j * n + i] = s;
    }
  }
  if (!cholesky_lower(U, n))
    return false;
  /* transpose the lower factor into the upper one */
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      U[(size_t)i * n + j] = U[(size_t)j * n + i];
      U[(size_t)j * n + i] = 0.0;
    }
  return true;
}

/** The first ridge added to a Gram matrix's diagonal before factoring it:
    damp times the mean diagonal (1 for an all-zero Gram). */
static double first_damping(const double *H, int K, double damp)
{
  double mean_diag = 0.0;
  for (int k = 0; k < K; ++k)
    mean_diag += H[(size_t)k * K + k];
  mean_diag /= K;
  return mean_diag > 0.0 ? damp * mean_diag : 1.0;
}

/**
   U with H_damped^-1 = U^T U for gptq (inverse_upper_factor), damping
   lambda = damp * mean(diag H) (damp <= 0: QZ_GPTQ_DAMP), raised tenfold
   up to QZ_DAMP_RETRIES times while the factorization fails. An all-zero
   H (a layer whose input was always 0) gets lambda = 1, which makes the
   pass nearest rounding. Returns U (K x K, malloc'd) or NULL with a
   message.
*/
static double *gptq_factor(const double *H, int K, double damp, char *err, size_t errlen)
{
  if (damp <= 0.0)
    damp = QZ_GPTQ_DAMP;
  double *U = malloc((size_t)K * K * sizeof *U);
  double *M = malloc((size_t)K * K * sizeof *M);
  if (!U || !M) {
    set_err(err, errlen, "out of memory rounding a matrix of %d columns", K);
    free(U), free(M);
    return NULL;
  }
  double lambda = first_damping(H, K, damp);
  bool ok = false;
  for (int tries = 0; tries <= QZ_DAMP_RETRIES && !ok; ++tries, lambda *= 10.0)
    ok = inverse_upper_factor(H, K, lambda, U, M);
  free(M);
  if (!ok) {
    set_err(err, errlen, "cannot factor the %dx%d input Gram matrix", K, K);
    free(U);
    return NULL;
  }
  return U;
}

/** A grid gptq rounds onto: the grid value nearest x for weight (m, k),
    also noting the choice (a code, a half) for column k of the row being
    rounded. */
typedef double (*gptq_round_fn)(void *grid, int m, int k, double x);

/**
   Row m by gptq: r (K values) holds the row's float weights on entry and
   q receives the grid values chosen. Column k in order: q_k = nearest
   grid value of the updated weight r_k; d = (r_k - q_k) / U_kk;
   r_j -= d U_kj for j > k. This is the optimal update of the remaining
   weights for the error just made (OBQ), with the Cholesky rows of H^-1
   standing in for the inverse Hessians of the shrinking sets of columns.
*/
static void gptq_row(const double *U, int K, int m, double *r, double *q, gptq_round_fn round_to,
                     void *grid)
{
  for (int k = 0; k < K; ++k) {
    q[k] = round_to(grid, m, k, r[k]);
    const double *u = U + (size_t)k * K;
    const double d = (r[k] - q[k]) / u[k];
    for (int j = k + 1; j < K; ++j)
      r[j] -= d * u[j];
  }
}

/** An integer tensor's levels as a gptq grid: the codes of the row in
    progress and how many of them saturated. */
typedef struct {
  const qz_tensor *t;
  int8_t *codes;
  size_t saturated;
} code_grid;

static double round_to_level(void *grid, int m, int k, double x)
{
  code_grid *g = grid;
  bool hit = false;
  const int c = qz_encode(g->t, m, k, (float)x, &hit);
  g->saturated += hit;
  g->codes[k] = (int8_t)c;
  return qz_decode(g->t, m, k, c);
}

bool qz_round_gptq(qz_tensor *t, const float *w, const double *H, double damp, char *err,
                   size_t errlen)
{
  const int R = t->w.rows, K = t->w.cols;
  double *r = malloc((size_t)K * sizeof *r);
  double *q = malloc((size_t)K * sizeof *q);
  double *e = malloc((size_t)K * sizeof *e);
  int8_t *row_codes = malloc((size_t)K);
  double *U = r && q && e && row_codes ? gptq_factor(H, K, damp, err, errlen) : NULL;
  if (!U) {
    if (!r || !q || !e || !row_codes)
      set_err(err, errlen, "out of memory rounding a %dx%d matrix", R, K);
    free(r), free(q), free(e), free(row_codes);
    return false;
  }
  size_t sat = 0;
  for (int m = 0; m < R; ++m) {
    int8_t *codes = t->codes + (size_t)m * K;
    /* the nearest codes' objective, to keep whichever is lower */
    row_error(t, w, m, e);
    const double nearest = quadratic_form(e, H, K);
    for (int k = 0; k < K; ++k)
      r[k] = w[(size_t)m * K + k];
    code_grid g = {t, row_codes, 0};
    gptq_row(U, K, m, r, q, round_to_level, &g);
    for (int k = 0; k < K; ++k)
      e[k] = q[k] - (double)w[(size_t)m * K + k];
    if (quadratic_form(e, H, K) < nearest) {
      memcpy(codes, row_codes, (size_t)K);
      sat += g.saturated;
    } else {
      for (int k = 0; k < K; ++k) {
        bool hit = false;
        qz_encode(t, m, k, w[(size_t)m * K + k], &hit);
        sat += hit;
      }
    }
  }
  t->saturated = sat;
  free(U), free(r), free(q), free(e), free(row_codes);
  return true;
}

/** The IEEE half nearest x (round to nearest even), as a float. */
static float nearest_half(float x)
{
  uint16_t h;
  float back;
  qk_f32_to_f16_isa(QK_ISA_SCALAR, &h, &x, 1);
  qk_f16_to_f32_isa(QK_ISA_SCALAR, &back, &h, 1);
  return back;
}

void qz_nearest_f16(const float *w, size_t n, float *w_half)
{
  for (size_t i = 0; i < n; ++i)
    w_half[i] = nearest_half(w[i]);
}

static double round_to_half(void *grid, int m, int k, double x)
{
  (void)grid, (void)m, (void)k;
  return nearest_half((float)x);
}

bool qz_round_gptq_f16(const float *w, int rows, int cols, const double *H, double damp,
                       float *w_half, char *err, size_t errlen)
{
  const int K = cols;
  qz_nearest_f16(w, (size_t)rows * (size_t)K, w_half);
  double *r = malloc((size_t)K * sizeof *r);
  double *q = malloc((size_t)K * sizeof *q);
  double *e = malloc((size_t)K * sizeof *e);
  double *U = r && q && e ? gptq_factor(H, K, damp, err, errlen) : NULL;
  if (!U) {
    if (!r || !q || !e)
      set_err(err, errlen, "out of memory rounding a %dx%d matrix", rows, K);
    free(r), free(q), free(e);
    return false;
  }
  for (int m = 0; m < rows; ++m) {
    const float *wm = w + (size_t)m * K;
    float *hm = w_half + (size_t)m * K;
    for (int k = 0; k < K; ++k)
      e[k] = (double)hm[k] - (double)wm[k];
    const double nearest = quadratic_form(e, H, K);
    for (int k = 0; k < K; ++k)
      r[k] = wm[k];
    gptq_row(U, K, m, r, q, round_to_half, NULL);
    for (int k = 0; k < K; ++k)
      e[k] = q[k] - (double)wm[k];
    /* a half overflowing to infinity makes the objective inf or NaN: nearest stays */
    if (quadratic_form(e, H, K) < nearest)
      for (int k = 0; k < K; ++k)
        hm[k] = (float)q[k];
  }
  free(U), free(r), free(q), free(e);
  return true;
}

/** Candidate multipliers of the scale searched by qz_search_scales: 1
    (the scheme's own range) down to 0.5 (half the range, the largest
    weights clipped) in steps of 0.05. */
#define QZ_SCALE_STEPS 11

/** Rows whose scale slots move together: per tensor all rows share one
    scale, per channel and per group each row has its own (all of a row's
    groups move by one multiplier). */
static bool tensor_wide(const qz_tensor *t) { return t->scheme.granularity == QZ_PER_TENSOR; }

static void scale_row(qz_tensor *t, int m, const float *base, float r)
{
  for (int g = 0; g < t->ngroups; ++g)
    t->scales[(size_t)m * t->ngroups + g] = base[(size_t)m * t->ngroups + g] * r;
}

static void encode_row(qz_tensor *t, const float *w, int m)
{
  const int K = t->w.cols;
  for (int k = 0; k < K; ++k)
    t->codes[(size_t)m * K + k] = (int8_t)qz_encode(t, m, k, w[(size_t)m * K + k], NULL);
}

bool qz_search_scales(qz_tensor *t, const float *w, const double *H)
{
  const int R = t->w.rows, K = t->w.cols;
  const size_t slots = (size_t)R * (size_t)t->ngroups;
  float *base = malloc(slots * sizeof *base);
  double *e = malloc((size_t)K * sizeof *e);
  double *best = malloc((size_t)R * sizeof *best);
  float *best_r = malloc((size_t)R * sizeof *best_r);
  if (!base || !e || !best || !best_r) {
    free(base), free(e), free(best), free(best_r);
    return false;
  }
  memcpy(base, t->scales, slots * sizeof *base);
  for (int m = 0; m < R; ++m) {
    best[m] = INFINITY;
    best_r[m] = 1.0f;
  }
  double best_total = INFINITY;
  float best_total_r = 1.0f;
  for (int step = 0; step < QZ_SCALE_STEPS; ++step) {
    const float r = 1.0f - 0.05f * (float)step;
    double total = 0.0;
    for (int m = 0; m < R; ++m) {
      scale_row(t, m, base, r);
      encode_row(t, w, m);
      row_error(t, w, m, e);
      const double obj = quadratic_form(e, H, K);
      total += obj;
      /* strictly lower only: ties keep the larger range */
      if (obj < best[m]) {
        best[m] = obj;
        best_r[m] = r;
      }
    }
    if (total < best_total) {
      best_total = total;
      best_total_r = r;
    }
  }
  for (int m = 0; m < R; ++m) {
    scale_row(t, m, base, tensor_wide(t) ? best_total_r : best_r[m]);
    encode_row(t, w, m);
  }
  free(base), free(e), free(best), free(best_r);
  return true;
}

bool qz_refit_scales(qz_tensor *t, const float *w, const double *H)
{
  if (t->ngroups != 1 || tensor_wide(t))
    return true;
  const int R = t->w.rows, K = t->w.cols;
  double *v = malloc((size_t)K * sizeof *v);
  double *x = malloc((size_t)K * sizeof *x);
  double *e = malloc((size_t)K * sizeof *e);
  if (!v || !x || !e) {
    free(v), free(x), free(e);
    return false;
  }
  for (int m = 0; m < R; ++m) {
    float *sc = &t->scales[m];
    if (*sc == 0.0f)
      continue;
    /** w_hat = s v with v = w_hat / s (the code's level minus the zero
        point), so the objective (s v - w)^T H (s v - w) is a parabola
        in s, least at s* = (v^T H w) / (v^T H v). */
    for (int k = 0; k < K; ++k) {
      v[k] = (double)qz_decode(t, m, k, t->codes[(size_t)m * K + k]) / (double)*sc;
      x[k] = w[(size_t)m * K + k];
    }
    double vhv = quadratic_form(v, H, K);
    double vhw = 0.0;
    for (int i = 0; i < K; ++i) {
      double hi = 0.0;
      for (int j = 0; j < K; ++j)
        hi += H[(size_t)i * K + j] * x[j];
      vhw += v[i] * hi;
    }
    if (!(vhv > 0.0))
      continue;
    const float old = *sc;
    row_error(t, w, m, e);
    const double before = quadratic_form(e, H, K);
    *sc = (float)(vhw / vhv);
    row_error(t, w, m, e);
    /* float rounding of the new scale can only lose a hair: keep the better */
    if (!(quadratic_form(e, H, K) < before) || !isfinite(*sc) || *sc == 0.0f)
      *sc = old;
  }
  free(v), free(x), free(e);
  return true;
}

double qz_layer_error_values(const float *w_hat, const float *w, int rows, int cols,
                             const double *H)
{
  double *e = malloc((size_t)cols * sizeof *e);
  if (!e)
    return NAN;
  double total = 0.0;
  for (int m = 0; m < rows; ++m) {
    for (int k = 0; k < cols; ++k)
      e[k] = (double)w_hat[(size_t)m * cols + k] - (double)w[(size_t)m * cols + k];
    total += quadratic_form(e, H, cols);
  }
  free(e);
  return total;
}

void qz_bias_correction_values(const float *w_hat, const float *w, int rows, int cols,
                               const double *mu, float *delta)
{
  for (int m = 0; m < rows; ++m) {
    /** delta_m = -sum_k (w_hat_mk - w_mk) mu_k */
    double s = 0.0;
    for (int k = 0; k < cols; ++k) {
      size_t i = (size_t)m * cols + k;
      s += ((double)w_hat[i] - (double)w[i]) * mu[k];
    }
    delta[m] = (float)-s;
  }
}

void qz_bias_correction(const qz_tensor *t, const float *w, const double *mu, float *delta)
{
  const int K = t->w.cols;
  for (int m = 0; m < t->w.rows; ++m) {
    /** delta_m = -sum_k (w_hat_mk - w_mk) mu_k */
    double s = 0.0;
    for (int k = 0; k < K; ++k) {
      size_t i = (size_t)m * K + k;
      s += ((double)qz_decode(t, m, k, t->codes[i]) - (double)w[i]) * mu[k];
    }
    delta[m] = (float)-s;
  }
}

bool qz_cross_target(const float *w, int rows, int cols, const double *H, const double *A,
                     double damp, float *v)
{
  const int K = cols;
  double *L = malloc((size_t)K * K * sizeof *L);
  double *b = malloc((size_t)K * sizeof *b);
  if (!L || !b) {
    free(L), free(b);
    return false;
  }
  double lambda = first_damping(H, K, damp);
  bool ok = false;
  for (int tries = 0; tries <= QZ_DAMP_RETRIES && !ok; ++tries) {
    if (tries)
      lambda *= 10.0;
    memcpy(L, H, (size_t)K * K * sizeof *L);
    for (int k = 0; k < K; ++k)
      L[(size_t)k * K + k] += lambda;
    ok = cholesky_lower(L, K);
  }
  for (int m = 0; ok && m < rows; ++m) {
    const float *wm = w + (size_t)m * K;
    /** b = A^T w_m, then (L L^T) v_m = b by forward and back substitution */
    for (int j = 0; j < K; ++j) {
      double s = 0.0;
      for (int k = 0; k < K; ++k)
        s += (double)wm[k] * A[(size_t)k * K + j];
      b[j] = s + lambda * wm[j];
    }
    for (int i = 0; i < K; ++i) {
      double s = b[i];
      for (int k = 0; k < i; ++k)
        s -= L[(size_t)i * K + k] * b[k];
      b[i] = s / L[(size_t)i * K + i];
    }
    for (int i = K - 1; i >= 0; --i) {
      double s = b[i];
      for (int k = i + 1; k < K; ++k)
        s -= L[(size_t)k * K + i] * b[k];
      b[i] = s / L[(size_t)i * K + i];
    }
    for (int k = 0; k < K; ++k)
      v[(size_t)m * K + k] = (float)b[k];
  }
  free(L), free(b);
  return ok;
}
