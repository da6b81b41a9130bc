/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Quantone weight quantizer: float weight matrices -> the integer or
  codebook descriptions (qk_weights) that kernels/ packs and runs.

  Independent of any model file format: a matrix is rows x cols floats,
  row-major, rows = outputs (M), cols = inputs (K), exactly as qk_weights.
  Everything here runs at prepare time (worker thread): it allocates.

  What a weight means afterwards is the kernel's definition (kernels/qk.h):

      w_hat[m][k] = scales[m][g] * (v[m][k] - zero_points[m][g])

  with v the code (S8/S4/S2) or codebook[code] (CB4/CB2). qz_dequantize()
  evaluates exactly that, so the weights a GUI histogram shows are the
  weights the kernels multiply.

  Schemes (bits x mapping x symmetric/asymmetric x granularity)
  -------------------------------------------------------------
  linear, symmetric    q in [-(2^(b-1)-1), 2^(b-1)-1], scale = absmax/qmax,
                       no zero point. Format S8 / S4 / S2.
  linear, asymmetric   range [min, max] extended to contain 0,
                       scale = (max - min)/(2^b - 1), zp = rint(-min/scale),
                       u = clamp(rint(w/scale) + zp, 0, 2^b - 1), stored as
                       v = u - 2^(b-1), zp' = zp - 2^(b-1). S8 / S4 / S2.
  pow2                 levels 0 and +-2^j (int8 codebook), scale so the
                       largest |w| of a row/group lands on the largest
                       level; nearest level in the linear (MSE) sense.
                       CB4 (4 and 8 bits) / CB2 (2 bits). See quantize.c.
  kmeans               per-tensor int8 codebook from weighted 1-D Lloyd's
                       on the scale-normalized weights, least-squares scale
                       per row/group. CB4 (4 bits) / CB2 (2 bits); 8 bits
                       is linear (S8), see quantize.c for why. Never worse
                       than linear: if the linear scheme (same bits,
                       symmetry, granularity) has the lower squared error,
                       its encoding is kept and `levels` says so.
  granularity          tensor: one scale (and zp) for the whole matrix,
                       repeated per row, group 0; channel: per row, group 0;
                       group: per (row, group of `group` k), group a
                       multiple of 16, the last group of a row may be shorter.

  Rounding is round-half-to-even (rintf in the default FE_TONEAREST mode),
  and every code is clamped to its range: a value past the range saturates,
  it never wraps.
*/
#ifndef QUANTONE_MODELS_QUANTIZE_H
#define QUANTONE_MODELS_QUANTIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qk.h"
#include "setting.h" /* qz_mapping, qz_granularity, their names, QZ_DEFAULT_GROUP */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int bits; /**< 8, 4 or 2 */
  qz_mapping mapping;
  bool asymmetric; /**< zero point / levels fitted to [min, max], 0 exact */
  qz_granularity granularity;
  int group; /**< QZ_PER_GROUP: inputs per group, multiple of 16 */
} qz_scheme;

/** 8-bit linear symmetric per channel, group QZ_DEFAULT_GROUP. */
qz_scheme qz_scheme_default(void);

/** NULL if the scheme is valid, else a static message saying why not. */
const char *qz_scheme_check(const qz_scheme *s);

/**
   A quantized matrix. `w` is ready for qk_pack(): its pointers refer to the
   owned arrays below. Release with qz_tensor_free(). Treat as read-only
   except through qz_requantize().
*/
typedef struct {
  qk_weights w;         /**< format, rows, cols, group, codes, scales, zero_points, codebook */
  qz_scheme scheme;     /**< the scheme it was made with */
  qz_mapping levels;    /**< the levels it carries: scheme.mapping, except that
                             kmeans is QZ_LINEAR at 8 bits and wherever the
                             linear scheme had the lower squared error */
  int8_t *codes;        /**< rows * cols (owned) */
  float *scales;        /**< rows * ngroups (owned) */
  int32_t *zero_points; /**< rows * ngroups or NULL (owned) */
  int8_t *codebook;     /**< 16 entries for codebook formats, else NULL (owned) */
  int ngroups;          /**< scale groups per row: qk_group_count(cols, w.group) */
  int nlevels;          /**< distinct values v a weight can take */
  size_t saturated;     /**< weights clamped at the code range when encoded */
} qz_tensor;

/**
   Quantize a row-major rows x cols float matrix. On success returns true
   and fills *out (which the caller frees with qz_tensor_free()). On failure
   returns false, leaves *out empty (safe to free) and, if err is not NULL,
   writes a message: invalid scheme, bad sizes, non-finite weights, memory.
*/
bool qz_quantize(const float *w, int rows, int cols, const qz_scheme *scheme, qz_tensor *out,
                 char *err, size_t errlen);

/**
   Encode w on levels given rather than fitted (a recorded scheme,
   models/scheme_record.h): `levels` (the mapping the codes index: linear,
   or a codebook's) with scales [rows * ngroups], zero_points (linear
   asymmetric only, as qz_tensor stores them) and codebook (16 entries,
   codebook levels only). Codes are then the nearest level, as
   qz_requantize gives them; weights that are those levels already keep
   their codes exactly. Same failures as qz_quantize.
*/
bool qz_quantize_fixed(const float *w, int rows, int cols, const qz_scheme *scheme,
                       qz_mapping levels, const float *scales, const int32_t *zero_points,
                       const int8_t *codebook, qz_tensor *out, char *err, size_t errlen);

/** w_hat = the float weights the kernels use, rows * cols row-major. */
void qz_dequantize(const qz_tensor *t, float *w_hat);

/** Sum of squared differences between w (rows * cols) and the dequantized t. */
double qz_squared_error(const qz_tensor *t, const float *w);

/**
   Re-encode w (rows * cols) into t's codes with t's scales, zero points and
   codebook held fixed (the "quantize with a given scale and zero point"
   step alone). Returns the number of values that saturated. Use it to
   requantize, or after editing t->scales / t->zero_points by hand.
*/
size_t qz_requantize(qz_tensor *t, const float *w);

/**
   The code of one weight w at (row, col) with t's scales, zero points and
   codebook held fixed (what qz_requantize does for every weight): the
   nearest level, saturating. *saturated (if not NULL) says whether w lay
   past the range. The post-training rounding methods (rounding.h) encode
   weight by weight through this, so they compose with every mapping,
   symmetry and granularity.
*/
int qz_encode(const qz_tensor *t, int row, int col, float w, bool *saturated);

/** The weight a code stands for at (row, col): scale * (v - zp), exactly
    as the kernels and qz_dequantize evaluate it. */
float qz_decode(const qz_tensor *t, int row, int col, int code);

void qz_tensor_free(qz_tensor *t);

/**
   One linear code: u = clamp(rint(w / scale) + zp, lo, hi), round half to
   even, saturating. *saturated (if not NULL) is set when the clamp was hit.
   scale <= 0 or non-finite w/scale yields zp clamped. For 8-bit asymmetric
   use lo = 0, hi = 255 (unsigned u) or, for symmetric, zp = 0 and
   lo = -127, hi = 127.
*/
int qz_linear_code(float w, float scale, int zp, int lo, int hi, bool *saturated);

#ifdef __cplusplus
}
#endif

#endif
