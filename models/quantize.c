/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Weight quantizer: linear (symmetric / asymmetric), power-of-two and
  k-means mappings at 8, 4 and 2 bits, per tensor / channel / group.
  The formulas are written next to the code that evaluates them.

  Terms used below
  ----------------
  A "block" is the set of weights sharing one scale (and zero point):
  the whole matrix (per tensor), one row (per channel) or one row's group
  of `group` consecutive inputs (per group; the last group of a row may be
  shorter). Block statistics are computed once; the qk_weights layout then
  repeats a per-tensor block's scale on every row (group 0).
*/
#include "quantize.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Same cap as qk_pack(): far above any audio model, and rows * cols
    stays far inside size_t, so no size computation below can overflow. */
#define QZ_MAX_DIM (1 << 16)

/** Lloyd iterations cap; 1-D Lloyd on sorted data converges in far fewer
    for the <= 16 centroids used here, the cap only bounds the worst case. */
#define QZ_LLOYD_MAX_ITERS 200

/** Alternations of (nearest-level assignment, least-squares scale) after the
    k-means codebook is fixed; each one can only lower the squared error. */
#define QZ_SCALE_REFITS 6

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
  if (!err || errlen == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

qz_scheme qz_scheme_default(void)
{
  qz_scheme s = {8, QZ_LINEAR, false, QZ_PER_CHANNEL, QZ_DEFAULT_GROUP};
  return s;
}

const char *qz_scheme_check(const qz_scheme *s)
{
  if (!s)
    return "no scheme";
  if (s->bits < 2 || s->bits > 8 || s->bits == 7)
    return "bits must be 8, 6, 5, 4, 3 or 2";
  /** 3 bits: linear codes (8 levels) stored in the 4-bit format; 5 and 6
      bits: linear codes (32 / 64 levels) stored in the 8-bit format. The
      kernels are unchanged (a narrower code range is a subset of the
      format's); no codebook format of those widths exists. Mixed
      precision's allocator uses them for finer steps (sensitivity.h). */
  if ((s->bits == 3 || s->bits == 5 || s->bits == 6) && s->mapping != QZ_LINEAR)
    return "3, 5 and 6 bits take the linear mapping only";
  if ((unsigned)s->mapping >= QZ_MAPPING_COUNT)
    return "unknown mapping";
  if ((unsigned)s->granularity >= QZ_GRANULARITY_COUNT)
    return "unknown granularity";
  /** The kernels tile k in steps of 16, so a scale group must cover whole
      tiles: any group that is not a positive multiple of 16 is refused. */
  if (s->granularity == QZ_PER_GROUP && (s->group <= 0 || s->group % 16 != 0))
    return "group size must be a positive multiple of 16";
  return NULL;
}

/* ----------------------------------------------------------- linear code */

int qz_linear_code(float w, float scale, int zp, int lo, int hi, bool *saturated)
{
  bool sat = false;
  double u;
  if (!(scale > 0.0f) || !isfinite(scale)) {
    /** No usable scale (an all-zero block): every weight is the zero point. */
    u = zp;
  } else {
    /** r = w / scale in float (IEEE division, no reciprocal shortcut), then
        rintf: round half to even in the default rounding mode. The sum with
        zp and the clamp run in double so a huge r cannot overflow an int. */
    float r = w / scale;
    if (isnan(r)) {
      u = zp;
      sat = true;
    } else {
      u = (double)rintf(r) + (double)zp;
    }
  }
  /** Saturate, never wrap: u = clamp(u, lo, hi). */
  if (u < lo) {
    u = lo;
    sat = true;
  } else if (u > hi) {
    u = hi;
    sat = true;
  }
  if (saturated)
    *saturated = sat;
  return (int)u;
}

/* --------------------------------------------------------------- layout */

typedef struct {
  int rows, cols;
  int gsize;   /**< k per block within a row; cols when the block is a whole row */
  int ng;      /**< groups per row in the qk layout */
  bool tensor; /**< one block for the whole matrix */
  size_t nblocks;
} layout;

static layout make_layout(int rows, int cols, const qz_scheme *s)
{
  layout L;
  L.rows = rows;
  L.cols = cols;
  L.tensor = s->granularity == QZ_PER_TENSOR;
  if (s->granularity == QZ_PER_GROUP && s->group < cols) {
    L.gsize = s->group;
    L.ng = qk_group_count(cols, s->group);
  } else {
    L.gsize = cols;
    L.ng = 1;
  }
  L.nblocks = L.tensor ? 1 : (size_t)rows * (size_t)L.ng;
  return L;
}

/** Block of weight (m, k). */
static inline size_t block_of(const layout *L, int m, int k)
{
  if (L->tensor)
    return 0;
  return (size_t)m * (size_t)L->ng + (size_t)(k / L->gsize);
}

/** Block of scale slot (m, g) of the qk layout. */
static inline size_t block_of_slot(const layout *L, int m, int g)
{
  return L->tensor ? 0 : (size_t)m * (size_t)L->ng + (size_t)g;
}

typedef struct {
  float min, max; /**< of the block's weights */
} block_stats;

static void gather_stats(const layout *L, const float *w, block_stats *st)
{
  for (size_t b = 0; b < L->nblocks; ++b) {
    st[b].min = FLT_MAX;
    st[b].max = -FLT_MAX;
  }
  for (int m = 0; m < L->rows; ++m) {
    for (int k = 0; k < L->cols; ++k) {
      float x = w[(size_t)m * L->cols + k];
      block_stats *b = &st[block_of(L, m, k)];
      if (x < b->min)
        b->min = x;
      if (x > b->max)
        b->max = x;
    }
  }
}

/* ------------------------------------------------------------ codebooks */

/** Index of the level nearest to w at scale s, measured on the real weight:
    argmin_j |w - s * L_j| (the linear, i.e. squared-error, sense: the
    dequantized weight is s * L_j, so this picks the smallest error the
    kernel will actually see). Ties go to the smaller |L_j|, then to the
    lower index, so the choice is deterministic. Only the first `nact`
    entries are candidates (spare table entries are never chosen). */
static int nearest_level(float w, float s, const int8_t *table, int nact)
{
  int best = 0;
  float best_err = INFINITY;
  for (int j = 0; j < nact; ++j) {
    float e = fabsf(w - s * (float)table[j]);
    if (e < best_err || (e == best_err && abs(table[j]) < abs(table[best]))) {
      best = j;
      best_err = e;
    }
  }
  return best;
}

/** Largest positive level and largest negative magnitude of a table. */
static void table_extremes(const int8_t *table, int nact, int *lpos, int *lneg)
{
  *lpos = 0;
  *lneg = 0;
  for (int j = 0; j < nact; ++j) {
    if (table[j] > *lpos)
      *lpos = table[j];
    if (-table[j] > *lneg)
      *lneg = -table[j];
  }
}

/** Scale that makes the block's extreme weights land on the table's extreme
    levels: s = max(max+/Lpos, max-/Lneg) with max+ = max(max, 0) and
    max- = max(-min, 0). For a sign-symmetric table this is absmax / Lmax.
    A side the table cannot represent (Lpos or Lneg = 0) is ignored: those
    weights saturate to 0 or the opposite side's smallest level. */
static float fit_scale(const block_stats *b, int lpos, int lneg)
{
  float pos = b->max > 0.0f ? b->max : 0.0f;
  float neg = b->min < 0.0f ? -b->min : 0.0f;
  float s = 0.0f;
  if (lpos > 0 && pos / (float)lpos > s)
    s = pos / (float)lpos;
  if (lneg > 0 && neg / (float)lneg > s)
    s = neg / (float)lneg;
  return s;
}

/** Oriented fit for an asymmetric table: a block whose larger magnitude is
    negative (max < -min) gets a negative scale, which mirrors the table for
    that block (w = s * L with s < 0), so every block puts its heavier side
    on the table's long side. The kernels only multiply by the scale, so a
    negative scale costs nothing; it lets one per-tensor table serve blocks
    skewed either way. Ties (max == -min) keep the positive orientation. */
static float fit_scale_oriented(const block_stats *b, int lpos, int lneg)
{
  /* a sign-symmetric table has no long side: keep scales positive */
  if (lpos == lneg || b->max >= -b->min)
    return fit_scale(b, lpos, lneg);
  block_stats mirrored = {-b->max, -b->min};
  return -fit_scale(&mirrored, lpos, lneg);
}

/** A weight lies past the table's range (it was clamped) when it exceeds the
    extreme level by more than a float rounding slack. The range is
    [min(s Lpos, -s Lneg), max(s Lpos, -s Lneg)] (s may be negative). */
static bool beyond_table(float w, float s, int lpos, int lneg)
{
  float slack = 1e-6f * fabsf(w);
  float a = s * (float)lpos, b = -s * (float)lneg;
  return w > fmaxf(a, b) + slack || w < fminf(a, b) - slack;
}

/** Count distinct values among the first nact table entries. */
static int distinct_levels(const int8_t *table, int nact)
{
  int n = 0;
  for (int j = 0; j < nact; ++j) {
    bool seen = false;
    for (int i = 0; i < j; ++i)
      seen |= table[i] == table[j];
    n += !seen;
  }
  return n;
}

/* -------------------------------------------------------------- encoding */

/** Number of table entries the encoder may pick: tables may carry a spare
    entry (a duplicate 0) that exists only to fill 16 or 4 slots. Stored in
    the tensor as nlevels is not enough (duplicates after k-means rounding),
    so keep the count per format and mapping. */
static int active_entries(const qz_tensor *t)
{
  int size = t->w.format == QK_CB4 ? 16 : 4;
  if (t->scheme.mapping == QZ_POW2 && t->w.format == QK_CB4)
    return 15; /* 0 and +-2^0..2^6, slot 15 spare */
  if (t->scheme.mapping == QZ_POW2 && !t->scheme.asymmetric)
    return 3; /* 2-bit symmetric {0, 1, -1}, slot 3 spare */
  if (t->scheme.mapping == QZ_KMEANS && !t->scheme.asymmetric)
    return size - 1; /* 0 and mirrored pairs, last slot spare */
  return size;
}

/** Scale slot of weight (row, col) in the qk layout. */
static inline size_t slot_of(const qz_tensor *t, int row, int col)
{
  const int cols = t->w.cols;
  const int gsize = (t->w.group > 0 && t->w.group < cols) ? t->w.group : cols;
  return (size_t)row * (size_t)t->ngroups + (size_t)(col / gsize);
}

int qz_encode(const qz_tensor *t, int row, int col, float w, bool *saturated)
{
  const size_t slot = slot_of(t, row, col);
  const float s = t->scales[slot];
  if (qk_format_is_codebook(t->w.format)) {
    int nact = active_entries(t), lpos, lneg;
    table_extremes(t->codebook, nact, &lpos, &lneg);
    if (saturated)
      *saturated = beyond_table(w, s, lpos, lneg);
    return nearest_level(w, s, t->codebook, nact);
  }
  /** Linear: symmetric codes v = clamp(rint(w/s), -qmax, qmax);
      asymmetric u = clamp(rint(w/s) + zp, 0, 2^b - 1) computed on the
      unsigned code and stored shifted, v = u - 2^(b-1), zp' = zp - 2^(b-1). */
  /** the scheme's width, not the format's: 3-bit codes sit in S4 */
  const int half = 1 << (t->scheme.bits - 1);
  if (t->zero_points) {
    int zp = t->zero_points[slot] + half; /* back to unsigned */
    return qz_linear_code(w, s, zp, 0, 2 * half - 1, saturated) - half;
  }
  return qz_linear_code(w, s, 0, -(half - 1), half - 1, saturated);
}

float qz_decode(const qz_tensor *t, int row, int col, int code)
{
  const size_t slot = slot_of(t, row, col);
  /** The kernel's definition: w = scale * (v - zp), v = code or
      codebook[code], zp = 0 without zero points. */
  int v = qk_format_is_codebook(t->w.format) ? t->codebook[code] : code;
  int zp = t->zero_points ? t->zero_points[slot] : 0;
  return t->scales[slot] * (float)(v - zp);
}

size_t qz_requantize(qz_tensor *t, const float *w)
{
  const int rows = t->w.rows, cols = t->w.cols;
  size_t sat = 0;
  for (int m = 0; m < rows; ++m) {
    for (int k = 0; k < cols; ++k) {
      size_t i = (size_t)m * cols + k;
      bool hit = false;
      t->codes[i] = (int8_t)qz_encode(t, m, k, w[i], &hit);
      sat += hit;
    }
  }
  return sat;
}

/* ---------------------------------------------------------------- linear */

static void linear_scales(qz_tensor *t, const layout *L, const block_stats *st)
{
  const int bits = t->scheme.bits;
  const int half = 1 << (bits - 1);
  for (int m = 0; m < L->rows; ++m) {
    for (int g = 0; g < L->ng; ++g) {
      const block_stats *b = &st[block_of_slot(L, m, g)];
      size_t slot = (size_t)m * L->ng + g;
      if (!t->scheme.asymmetric) {
        /** Symmetric: qmax = 2^(b-1) - 1, scale = max|w| / qmax, so the
            largest magnitude lands exactly on +-qmax and the code range
            [-qmax, qmax] is symmetric (the kernel's -2^(b-1) is unused). */
        float amax = fmaxf(fabsf(b->min), fabsf(b->max));
        t->scales[slot] = amax / (float)(half - 1);
      } else {
        /** Asymmetric: extend [min, max] to contain 0 so real 0 is exactly a
            code: lo = min(min, 0), hi = max(max, 0);
            scale = (hi - lo) / (2^b - 1);
            zp = clamp(rint(-lo / scale), 0, 2^b - 1).
            Then w = 0 gives u = rint(0) + zp = zp and dequantizes to
            scale * (zp - zp) = 0 exactly. Stored as zp' = zp - 2^(b-1). */
        float lo = fminf(b->min, 0.0f), hi = fmaxf(b->max, 0.0f);
        float scale = (hi - lo) / (float)(2 * half - 1);
        int zp = 0;
        if (scale > 0.0f)
          zp = qz_linear_code(-lo, scale, 0, 0, 2 * half - 1, NULL);
        t->scales[slot] = scale;
        t->zero_points[slot] = zp - half;
      }
    }
  }
}

/* ------------------------------------------------------------------ pow2 */

/** Power-of-two tables (int8 codebook entries; slot order is irrelevant to
    the kernel, it only indexes the table):
      4 bits: 0, +-1, +-2, +-4, +-8, +-16, +-32, +-64: 15 levels, slot 15 a
              spare 0. These are all the signed powers of two int8 holds
              below the kernels' [-127, 127] operand range, so 8-bit pow2 is
              the same 15-level table, stored as CB4 (4 bits a weight, half
              the memory of S8 for identical weights). With 15 levels
              already used there is no room for asymmetry either: the
              asymmetric scheme at 4/8 bits is the symmetric one.
      2 bits: symmetric {0, +1, -1} (the 4th slot spare; ternary, so zero
              stays exact); asymmetric {0, +1, -1, +2}, with the scale's
              sign putting the extra level 2 on each block's heavier side
              (fit_scale_oriented): effectively {-1, 0, 1, 2} or
              {-2, -1, 0, 1} per block.
    Scale per block: the block's extreme weights land on the extreme levels
    (fit_scale); a weight maps to the nearest level on the real axis.
    The orientation rule is stable under requantization: after quantizing,
    the block's defining extreme is reproduced exactly and the other side
    stays within it, so the same sign and scale come out again. */
static int pow2_table(int8_t table[16], int bits, bool asym)
{
  memset(table, 0, 16);
  if (bits >= 4) {
    int n = 1;
    for (int j = 0; j <= 6; ++j) {
      table[n++] = (int8_t)(1 << j);
      table[n++] = (int8_t) - (1 << j);
    }
    return 15;
  }
  table[1] = 1;
  table[2] = -1;
  if (!asym)
    return 3;
  table[3] = 2;
  return 4;
}

/* ---------------------------------------------------------------- kmeans */

typedef struct {
  double x;  /**< normalized weight w / s0 (or |w / s0| when symmetric) */
  double wt; /**< s0^2: makes the normalized objective the real squared error */
} sample;

static int cmp_sample(const void *a, const void *b)
{
  double x = ((const sample *)a)->x, y = ((const sample *)b)->x;
  return (x > y) - (x < y);
}

typedef struct {
  const sample *s;
  size_t n;
  double *p0, *p1, *p2; /**< prefix sums of wt, wt*x, wt*x^2 (n + 1 each) */
} sorted_data;

/** First index i with s[i].x >= v. */
static size_t lower_index(const sorted_data *d, double v)
{
  size_t lo = 0, hi = d->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (d->s[mid].x < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/**
   Weighted 1-D Lloyd's algorithm on sorted data, K centroids c[] (sorted on
   return). If pin_zero, one centroid is held at exactly 0.0 (it must be in
   c[] on entry). Clusters are the intervals between midpoints of adjacent
   centroids, found by binary search; the update is the weighted mean
   sum(wt x) / sum(wt) from prefix sums, so an iteration costs O(K log n).
   An empty cluster keeps its centroid. Stops when no centroid moves or at
   QZ_LLOYD_MAX_ITERS. Returns the objective sum(wt (x - c)^2).
*/
static double lloyd(const sorted_data *d, double *c, int K, bool pin_zero)
{
  double obj = 0.0;
  for (int it = 0; it <= QZ_LLOYD_MAX_ITERS; ++it) {
    qsort(c, (size_t)K, sizeof *c, cmp_double);
    bool moved = false;
    size_t start = 0;
    obj = 0.0;
    for (int j = 0; j < K; ++j) {
      size_t end = j + 1 < K ? lower_index(d, 0.5 * (c[j] + c[j + 1])) : d->n;
      if (end < start)
        end = start;
      double w0 = d->p0[end] - d->p0[start];
      double w1 = d->p1[end] - d->p1[start];
      double w2 = d->p2[end] - d->p2[start];
      /* objective of this cluster around the current centroid */
      obj += w2 - 2.0 * c[j] * w1 + c[j] * c[j] * w0;
      if (w0 > 0.0 && !(pin_zero && c[j] == 0.0)) {
        double nc = w1 / w0;
        if (nc != c[j]) {
          c[j] = nc;
          moved = true;
        }
      }
      start = end;
    }
    if (!moved || it == QZ_LLOYD_MAX_ITERS)
      break;
  }
  qsort(c, (size_t)K, sizeof *c, cmp_double);
  return obj;
}

/** Weighted quantile: the x at which the cumulative weight reaches q. */
static double quantile(const sorted_data *d, double q)
{
  double target = q * d->p0[d->n];
  size_t lo = 0, hi = d->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (d->p0[mid + 1] < target)
      lo = mid + 1;
    else
      hi = mid;
  }
  return d->s[lo < d->n ? lo : d->n - 1].x;
}

/**
   Alternate, QZ_SCALE_REFITS times, nearest-level assignment and the
   least-squares scale per block, then score: bse[b] = the block's squared
   error at its final scale (with the assignment that scale implies).
   acc holds 2 * nblocks doubles of scratch.
*/
static void refit_scales(const layout *L, const float *w, const int8_t *tab, int nact, float *bs,
                         double *acc, double *bse)
{
  double *wl = acc, *ll = acc + L->nblocks;
  for (int r = 0; r <= QZ_SCALE_REFITS; ++r) {
    const bool last = r == QZ_SCALE_REFITS;
    memset(acc, 0, 2 * L->nblocks * sizeof *acc);
    if (last)
      memset(bse, 0, L->nblocks * sizeof *bse);
    for (int m = 0; m < L->rows; ++m) {
      for (int k = 0; k < L->cols; ++k) {
        size_t b = block_of(L, m, k);
        float x = w[(size_t)m * L->cols + k];
        int lv = tab[nearest_level(x, bs[b], tab, nact)];
        if (last) {
          double e = (double)x - (double)(bs[b] * (float)lv);
          bse[b] += e * e;
        }
        wl[b] += (double)x * lv;  /* sum(w L) */
        ll[b] += (double)lv * lv; /* sum(L^2) */
      }
    }
    if (last)
      break;
    for (size_t b = 0; b < L->nblocks; ++b) {
      /** s = sum(w L) / sum(L^2) minimizes sum((w - s L)^2) for the fixed
          assignment; keep the old scale when every weight sits on level 0. */
      if (ll[b] > 0.0 && wl[b] != 0.0)
        bs[b] = (float)(wl[b] / ll[b]);
    }
  }
}

/**
   K-means codebook for 4 and 2 bits.

   1. Normalize each block by s0 = absmax / 127, so every x = w / s0 lies in
      [-127, 127], the int8 range the kernels' operands use. Asymmetric:
      s0 takes the sign of the block's heavier side (as fit_scale_oriented),
      so every block's larger extreme sits at +127 and one asymmetric table
      fits blocks skewed either way.
   2. Weight each x by s0^2: then sum(wt (x - c)^2) = sum((w - s0 c)^2),
      i.e. Lloyd's minimizes the real squared error of the whole tensor,
      not an error in which a block with tiny weights counts as much as one
      with large weights.
   3. One per-tensor codebook (the kernel has one table per matrix):
        symmetric:  levels {0, +-c_1..+-c_P}, P = 2^(b-1) - 1, fitted on |x|
                    with 0 pinned (2^b - 1 levels, like linear symmetric;
                    the last table slot is a spare 0);
        asymmetric: 2^b free levels, one of them pinned at 0 so that real 0
                    stays exactly representable, as in linear asymmetric.
      Two deterministic starts, keep the lower objective: (a) the uniform
      grid of the linear scheme with the same level count (Lloyd's never
      increases the objective, so this start bounds the result by the
      uniform grid's error), (b) weighted quantiles.
   4. Round centroids to integers: the int8 codebook entries (|L| <= 127).
   5. Per block, alternate nearest-level assignment and the least-squares
      scale s = sum(w L) / sum(L^2); both steps lower (never raise) the
      squared error, which absorbs most of the step-4 rounding loss.
      Asymmetric: run this from s0 and from -s0 and keep, per block, the
      orientation with the lower error.
*/
static bool kmeans_quantize(qz_tensor *t, const layout *L, const float *w, const block_stats *st,
                            char *err, size_t errlen)
{
  const bool asym = t->scheme.asymmetric;
  const int K = asym ? (1 << t->scheme.bits) : (1 << (t->scheme.bits - 1)); /* sym: 0 + P */
  const size_t n = (size_t)L->rows * (size_t)L->cols;
  float *s0 = malloc(L->nblocks * sizeof *s0);
  sample *smp = malloc((n ? n : 1) * sizeof *smp);
  double *pre = malloc(3 * (n + 1) * sizeof *pre);
  double *acc = calloc(4 * L->nblocks, sizeof *acc);
  float *bscale = malloc(2 * L->nblocks * sizeof *bscale);
  if (!s0 || !smp || !pre || !acc || !bscale) {
    set_err(err, errlen, "out of memory quantizing a %dx%d matrix", L->rows, L->cols);
    free(s0), free(smp), free(pre), free(acc), free(bscale);
    return false;
  }
  for (size_t b = 0; b < L->nblocks; ++b) {
    s0[b] = fmaxf(fabsf(st[b].min), fabsf(st[b].max)) / 127.0f;
    if (asym && st[b].max < -st[b].min)
      s0[b] = -s0[b];
  }

  /* samples: all weights of blocks with a non-zero scale */
  size_t ns = 0;
  for (int m = 0; m < L->rows; ++m) {
    for (int k = 0; k < L->cols; ++k) {
      float s = s0[block_of(L, m, k)];
      if (s == 0.0f)
        continue;
      double x = (double)w[(size_t)m * L->cols + k] / (double)s;
      smp[ns].x = asym ? x : fabs(x);
      smp[ns].wt = (double)s * (double)s;
      ++ns;
    }
  }
  qsort(smp, ns, sizeof *smp, cmp_sample);
  sorted_data d = {smp, ns, pre, pre + (n + 1), pre + 2 * (n + 1)};
  d.p0[0] = d.p1[0] = d.p2[0] = 0.0;
  for (size_t i = 0; i < ns; ++i) {
    d.p0[i + 1] = d.p0[i] + smp[i].wt;
    d.p1[i + 1] = d.p1[i] + smp[i].wt * smp[i].x;
    d.p2[i + 1] = d.p2[i] + smp[i].wt * smp[i].x * smp[i].x;
  }

  double best[16] = {0}, cand[16];
  if (ns > 0) {
    /* (a) uniform start */
    if (!asym) {
      for (int j = 0; j < K; ++j)
        cand[j] = 127.0 * j / (K - 1); /* linear symmetric grid, c_0 = 0 */
    } else {
      /** Linear asymmetric grid over the tensor's normalized range with 0
          on a grid point: step = (hi - lo)/(K - 1), z = rint(-lo/step). */
      double lo = fmin(smp[0].x, 0.0), hi = fmax(smp[ns - 1].x, 0.0);
      double step = (hi - lo) / (K - 1);
      double z = step > 0.0 ? rint(-lo / step) : 0.0;
      for (int j = 0; j < K; ++j)
        cand[j] = (j - z) * step;
      for (int j = 0; j < K; ++j)
        if (fabs(cand[j]) < 0.5 * step || step == 0.0)
          cand[j] = 0.0;
    }
    double obj_a = lloyd(&d, cand, K, true);
    memcpy(best, cand, sizeof cand);
    /* (b) quantile start: free centroids at the (j + 1/2)/K weighted
       quantiles; the one nearest to 0 (symmetric: the first) pinned at 0 */
    int zi = 0;
    for (int j = 0; j < K; ++j) {
      cand[j] = quantile(&d, (j + 0.5) / K);
      if (fabs(cand[j]) < fabs(cand[zi]))
        zi = j;
    }
    cand[zi] = 0.0;
    double obj_b = lloyd(&d, cand, K, true);
    if (obj_b < obj_a)
      memcpy(best, cand, sizeof cand);
  }

  /* int8 codebook: round to integers, |L| <= 127 */
  int8_t *tab = t->codebook;
  memset(tab, 0, 16);
  if (!asym) {
    /* best[0] is the pinned 0 (|x| >= 0, sorted) */
    for (int j = 1; j < K; ++j) {
      int v = (int)fmin(127.0, rint(best[j]));
      tab[2 * j - 1] = (int8_t)v;
      tab[2 * j] = (int8_t)-v;
    }
  } else {
    for (int j = 0; j < K; ++j)
      tab[j] = (int8_t)fmax(-127.0, fmin(127.0, rint(best[j])));
  }
  int nact = active_entries(t);

  /* per-block least-squares scale, alternating with assignment; two
     orientations for an asymmetric table */
  const int norient = asym ? 2 : 1;
  double *bse = acc + 2 * L->nblocks;
  for (int o = 0; o < norient; ++o) {
    float *bs = bscale + (size_t)o * L->nblocks;
    for (size_t b = 0; b < L->nblocks; ++b)
      bs[b] = o ? -s0[b] : s0[b];
    refit_scales(L, w, tab, nact, bs, acc, bse + (size_t)o * L->nblocks);
  }
  for (size_t b = 0; b < L->nblocks; ++b)
    if (norient == 2 && bse[L->nblocks + b] < bse[b])
      bscale[b] = bscale[L->nblocks + b];
  for (int m = 0; m < L->rows; ++m)
    for (int g = 0; g < L->ng; ++g)
      t->scales[(size_t)m * L->ng + g] = bscale[block_of_slot(L, m, g)];

  free(s0), free(smp), free(pre), free(acc), free(bscale);
  return true;
}

/* ----------------------------------------------------------------- entry */

void qz_tensor_free(qz_tensor *t)
{
  if (!t)
    return;
  free(t->codes);
  free(t->scales);
  free(t->zero_points);
  free(t->codebook);
  memset(t, 0, sizeof *t);
}

bool qz_quantize(const float *w, int rows, int cols, const qz_scheme *scheme, qz_tensor *out,
                 char *err, size_t errlen)
{
  if (!out) {
    set_err(err, errlen, "no output tensor");
    return false;
  }
  memset(out, 0, sizeof *out);
  const char *msg = qz_scheme_check(scheme);
  if (msg) {
    set_err(err, errlen, "invalid quantization scheme: %s", msg);
    return false;
  }
  if (!w || rows <= 0 || cols <= 0 || rows > QZ_MAX_DIM || cols > QZ_MAX_DIM) {
    set_err(err, errlen, "matrix size %dx%d out of range (1..%d each)", rows, cols, QZ_MAX_DIM);
    return false;
  }
  const size_t n = (size_t)rows * (size_t)cols;
  for (size_t i = 0; i < n; ++i) {
    if (!isfinite(w[i])) {
      set_err(err, errlen, "non-finite weight at row %zu, column %zu", i / (size_t)cols,
              i % (size_t)cols);
      return false;
    }
  }

  layout L = make_layout(rows, cols, scheme);
  qz_tensor *t = out;
  t->scheme = *scheme;
  t->ngroups = L.ng;
  const bool linear =
      scheme->mapping == QZ_LINEAR || (scheme->mapping == QZ_KMEANS && scheme->bits == 8);
  qk_format fmt;
  if (linear)
    fmt = scheme->bits >= 5 ? QK_S8 : scheme->bits >= 3 ? QK_S4 : QK_S2;
  else
    fmt = scheme->bits == 2 ? QK_CB2 : QK_CB4;

  block_stats *st = malloc(L.nblocks * sizeof *st);
  t->codes = malloc(n);
  t->scales = malloc((size_t)rows * L.ng * sizeof *t->scales);
  if (linear && scheme->asymmetric)
    t->zero_points = malloc((size_t)rows * L.ng * sizeof *t->zero_points);
  if (!linear)
    t->codebook = calloc(16, 1);
  if (!st || !t->codes || !t->scales || (linear && scheme->asymmetric && !t->zero_points) ||
      (!linear && !t->codebook)) {
    free(st);
    qz_tensor_free(t);
    set_err(err, errlen, "out of memory quantizing a %dx%d matrix", rows, cols);
    return false;
  }
  gather_stats(&L, w, st);

  t->w.format = fmt;
  t->w.rows = rows;
  t->w.cols = cols;
  /** Per tensor and per channel use group 0 (one scale slot per row; per
      tensor repeats the same scale); per group keeps the requested size. */
  t->w.group = scheme->granularity == QZ_PER_GROUP ? scheme->group : 0;
  t->w.codes = t->codes;
  t->w.scales = t->scales;
  t->w.zero_points = t->zero_points;
  t->w.codebook = t->codebook;

  if (linear) {
    linear_scales(t, &L, st);
    int half = 1 << (scheme->bits - 1);
    t->nlevels = scheme->asymmetric ? 2 * half : 2 * half - 1;
  } else if (scheme->mapping == QZ_POW2) {
    int nact = pow2_table(t->codebook, scheme->bits, scheme->asymmetric);
    int lpos, lneg;
    table_extremes(t->codebook, nact, &lpos, &lneg);
    for (int m = 0; m < rows; ++m)
      for (int g = 0; g < L.ng; ++g)
        t->scales[(size_t)m * L.ng + g] =
            fit_scale_oriented(&st[block_of_slot(&L, m, g)], lpos, lneg);
    t->nlevels = distinct_levels(t->codebook, nact);
  } else {
    if (!kmeans_quantize(t, &L, w, st, err, errlen)) {
      free(st);
      qz_tensor_free(t);
      return false;
    }
    t->nlevels = distinct_levels(t->codebook, active_entries(t));
  }
  free(st);
  t->levels = linear ? QZ_LINEAR : scheme->mapping;
  t->saturated = qz_requantize(t, w);

  if (scheme->mapping == QZ_POW2 && scheme->bits == 2 && scheme->asymmetric) {
    /** Canonical orientation: a mirrored block (s < 0) that never uses the
        long level 2 is ternary, and the positive orientation gives the very
        same weights. Flip it back so that requantizing the dequantized
        tensor (whose extremes then tie) reproduces the same codes. */
    bool *long_used = calloc(L.nblocks, sizeof *long_used);
    if (!long_used) {
      qz_tensor_free(t);
      set_err(err, errlen, "out of memory quantizing a %dx%d matrix", rows, cols);
      return false;
    }
    for (int m = 0; m < rows; ++m)
      for (int k = 0; k < cols; ++k)
        if (t->codebook[t->codes[(size_t)m * cols + k]] == 2)
          long_used[block_of(&L, m, k)] = true;
    for (int m = 0; m < rows; ++m)
      for (int g = 0; g < L.ng; ++g) {
        float *sc = &t->scales[(size_t)m * L.ng + g];
        if (*sc < 0.0f && !long_used[block_of_slot(&L, m, g)])
          *sc = -*sc;
      }
    free(long_used);
    t->saturated = qz_requantize(t, w);
  }

  if (scheme->mapping == QZ_KMEANS && !linear) {
    /** One codebook per tensor cannot follow per-block offsets the way a
        per-block zero point can (e.g. rows shifted off zero, or tiny groups
        whose ranges are lopsided), so compare with the linear scheme of the
        same bits, symmetry and granularity and keep whichever has the lower
        squared error: k-means is then never worse than linear, and `levels`
        tells the GUI which levels the tensor really carries. */
    qz_scheme lin = *scheme;
    lin.mapping = QZ_LINEAR;
    qz_tensor alt;
    if (!qz_quantize(w, rows, cols, &lin, &alt, err, errlen)) {
      qz_tensor_free(t);
      return false;
    }
    if (qz_squared_error(&alt, w) < qz_squared_error(t, w)) {
      qz_tensor_free(t);
      *t = alt;
      t->scheme = *scheme;
    } else {
      qz_tensor_free(&alt);
    }
  }
  return true;
}

bool qz_quantize_fixed(const float *w, int rows, int cols, const qz_scheme *scheme,
                       qz_mapping levels, const float *scales, const int32_t *zero_points,
                       const int8_t *codebook, qz_tensor *out, char *err, size_t errlen)
{
  memset(out, 0, sizeof *out);
  const char *msg = qz_scheme_check(scheme);
  if (msg) {
    set_err(err, errlen, "invalid quantization scheme: %s", msg);
    return false;
  }
  const bool linear = levels == QZ_LINEAR;
  if (rows <= 0 || cols <= 0 || rows > QZ_MAX_DIM || cols > QZ_MAX_DIM || !scales ||
      linear == (codebook != NULL) || (zero_points != NULL) != (linear && scheme->asymmetric)) {
    set_err(err, errlen, "recorded levels do not fit a %dx%d %s matrix", rows, cols,
            qz_mapping_name(levels));
    return false;
  }
  layout L = make_layout(rows, cols, scheme);
  const size_t n = (size_t)rows * (size_t)cols, slots = (size_t)rows * (size_t)L.ng;
  qz_tensor *t = out;
  t->scheme = *scheme;
  t->levels = levels;
  t->ngroups = L.ng;
  t->codes = malloc(n);
  t->scales = malloc(slots * sizeof *t->scales);
  if (zero_points)
    t->zero_points = malloc(slots * sizeof *t->zero_points);
  if (codebook)
    t->codebook = malloc(16);
  if (!t->codes || !t->scales || (zero_points && !t->zero_points) || (codebook && !t->codebook)) {
    qz_tensor_free(t);
    set_err(err, errlen, "out of memory quantizing a %dx%d matrix", rows, cols);
    return false;
  }
  memcpy(t->scales, scales, slots * sizeof *t->scales);
  if (zero_points)
    memcpy(t->zero_points, zero_points, slots * sizeof *t->zero_points);
  if (codebook)
    memcpy(t->codebook, codebook, 16);
  const int bits = scheme->bits;
  t->w.format = linear ? (bits >= 5   ? QK_S8
                          : bits >= 3 ? QK_S4
                                      : QK_S2)
                       : (bits == 2 ? QK_CB2 : QK_CB4);
  t->w.rows = rows;
  t->w.cols = cols;
  t->w.group = scheme->granularity == QZ_PER_GROUP ? scheme->group : 0;
  t->w.codes = t->codes;
  t->w.scales = t->scales;
  t->w.zero_points = t->zero_points;
  t->w.codebook = t->codebook;
  const int half = 1 << (bits - 1);
  t->nlevels = linear ? (scheme->asymmetric ? 2 * half : 2 * half - 1)
                      : distinct_levels(t->codebook, active_entries(t));
  t->saturated = qz_requantize(t, w);
  return true;
}

void qz_dequantize(const qz_tensor *t, float *w_hat)
{
  const int rows = t->w.rows, cols = t->w.cols, ng = t->ngroups;
  const int gsize = (t->w.group > 0 && t->w.group < cols) ? t->w.group : cols;
  const bool cb = qk_format_is_codebook(t->w.format);
  for (int m = 0; m < rows; ++m) {
    for (int k = 0; k < cols; ++k) {
      size_t i = (size_t)m * cols + k, slot = (size_t)m * ng + k / gsize;
      /** The kernel's definition: w = scale * (v - zp), v = code or
          codebook[code], zp = 0 without zero points. */
      int v = cb ? t->codebook[t->codes[i]] : t->codes[i];
      int zp = t->zero_points ? t->zero_points[slot] : 0;
      w_hat[i] = t->scales[slot] * (float)(v - zp);
    }
  }
}

double qz_squared_error(const qz_tensor *t, const float *w)
{
  const int rows = t->w.rows, cols = t->w.cols, ng = t->ngroups;
  const int gsize = (t->w.group > 0 && t->w.group < cols) ? t->w.group : cols;
  const bool cb = qk_format_is_codebook(t->w.format);
  double sum = 0.0;
  for (int m = 0; m < rows; ++m) {
    for (int k = 0; k < cols; ++k) {
      size_t i = (size_t)m * cols + k, slot = (size_t)m * ng + k / gsize;
      int v = cb ? t->codebook[t->codes[i]] : t->codes[i];
      int zp = t->zero_points ? t->zero_points[slot] : 0;
      double e = (double)w[i] - (double)(t->scales[slot] * (float)(v - zp));
      sum += e * e;
    }
  }
  return sum;
}
