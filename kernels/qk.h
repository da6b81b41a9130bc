/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Quantone kernels: quantized and float GEMM / GEMV for neural audio models.

  Pure functions: no I/O, no LV2 or GTK, and no allocation in any call that
  runs on the audio thread (only qk_pack() and qk_packed_free() allocate;
  they run at model-prepare time).

  Matrix layout, chosen for streaming audio
  -----------------------------------------
  Y[M x N] = W[M x K] * X[K x N], where N is the number of audio frames in a
  block. Activations and outputs are stored frame-major ("column-major" in
  BLAS terms): frame n's K input channels are contiguous at X + n*ldx, and
  its M outputs at Y + n*ldy. That is the layout a time-step's channel vector
  has in a model's history buffer, so a dilated convolution can point the
  kernel straight into its history. N = 1 is a GEMV (recurrences).

  Weight formats and what a weight means
  --------------------------------------
  Every weight row m is split into groups of `group` consecutive k (the last
  group may be shorter); group 0 means one group spanning the whole row
  (per-channel; per-tensor is per-channel with equal scales). For group g:

      w[m][k] = scales[m][g] * (v[m][k] - zero_points[m][g])

  where v is the signed integer value of the weight:
    QK_S8:  v = codes[m][k] in [-128, 127]
    QK_S4:  v = codes[m][k] in [-8, 7]
    QK_S2:  v = codes[m][k] in [-2, 1]
    QK_CB4: v = codebook[codes[m][k]], index in [0, 15]  (non-uniform levels)
    QK_CB2: v = codebook[codes[m][k]], index in [0, 3]
  zero_points may be NULL (symmetric). Codebook formats take no zero point:
  the table itself can be asymmetric. QK_F32 weights are plain floats.
  QK_F16 and QK_BF16 are given as floats too (qk_weights.f32) and stored
  rounded to IEEE half / bfloat16 (round to nearest even): QK_F16 is
  "FP16 weights" (widened to float in registers, float activations),
  QK_BF16 "BF16 compute" (qk_gemm_f32 rounds each activation to bfloat16
  too and accumulates the products in float). Their exact arithmetic, the
  same bits on every ISA, is in qk_half.h.
  Unsigned asymmetric codes u in [0, 2^b - 1] are given as v = u - 2^(b-1)
  with the zero point shifted the same way, which leaves w unchanged.

  Activation paths
  ----------------
  qk_gemm_f32(): float activations. Works for every weight format; with a
  quantized format this is the weight-only ("partial") path: codes are
  decoded in registers and multiplied in float.

  qk_gemm_s8(): int8 activations from qk_quantize_act_*(). Integer weight
  formats only. Exact int32 accumulation, then, for each output, in this
  order (every ISA performs exactly these float operations, so all ISAs
  agree bit for bit):

      acc = 0.0f
      for g in groups:
          i   = sum_{k in g} v[m][k] * xq[n][k] - zp[m][g] * xsum[n][g]   (int32)
          acc = fmaf((float)i, scales[m][g], acc)
      base = (bias ? bias[m] : 0.0f) + (QK_ACCUMULATE ? Y[n][m] : 0.0f)
      Y[n][m] = fmaf(acc, xscale[n], base)

  Zero points are folded with the precomputed activation group sums xsum,
  never by widening inside the inner loop.

  Column independence (every ISA, every format, both GEMMs)
  ----------------------------------------------------------
  Each output column's value depends only on W, that column of X (its
  codes, scale and group sums for qk_gemm_s8), bias and flags -- never on
  N, on the column's position in the call, or on the other columns. One
  call over N columns gives, bit for bit, what N calls of one column (or
  any split into sub-batches) give. An implementation may block frames in
  any way, but every block shape (GEMV included) must perform the same
  float operations in the same order for a column; e.g. a GEMV may not
  split a k chain unless every GEMM block splits it identically. This is
  what makes a model's output bit-identical at every audio block size.
  The activation quantizers are per column too: quantizing N columns in
  one call equals quantizing them one at a time.
*/
#ifndef QUANTONE_KERNELS_QK_H
#define QUANTONE_KERNELS_QK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Instruction sets, one implementation file each. */
typedef enum {
  QK_ISA_SCALAR = 0,   /**< portable C, always built: the oracle */
  QK_ISA_AVX2,         /**< AVX2 + FMA */
  QK_ISA_AVX512VNNI,   /**< AVX-512 F/BW/VL + VNNI (vpdpbusd) */
  QK_ISA_NEON,         /**< AArch64 Advanced SIMD */
  QK_ISA_NEON_DOTPROD, /**< AArch64 with sdot */
  QK_ISA_AVXVNNI,      /**< AVX2 + FMA + AVX-VNNI (VEX vpdpbusd, 256-bit) */
  QK_ISA_COUNT
} qk_isa;

typedef enum {
  QK_F32 = 0,
  QK_S8,
  QK_S4,
  QK_S2,
  QK_CB4,
  QK_CB2,
  QK_F16,  /**< IEEE binary16 weights, float activations */
  QK_BF16, /**< bfloat16 weights and activations, float accumulation */
  QK_FORMAT_COUNT
} qk_format;

/** Flags for the GEMM calls. */
enum {
  QK_ACCUMULATE = 1u << 0 /**< add to Y instead of overwriting it */
};

/** Lowest and highest legal value v (or codebook index) of a format. */
int qk_format_min(qk_format f);
int qk_format_max(qk_format f);
int qk_format_bits(qk_format f); /**< storage bits per weight */
const char *
qk_format_name(qk_format f); /**< "f32", "s8", "s4", "s2", "cb4", "cb2", "f16", "bf16" */
bool qk_format_is_codebook(qk_format f);
/** F32, F16, BF16: weights given as floats, float activations only (no qk_gemm_s8). */
bool qk_format_is_float(qk_format f);

/**
   The 16-bit conversions as one ISA's kernels do them (the scalar ones
   where `isa` cannot run here); every ISA gives the same bits:
   f32 -> f16 rounds to nearest even (overflow to inf, subnormal halves,
   NaN quieted keeping sign and top payload bits); f16 -> f32 is exact;
   f32 -> bf16 rounds to nearest even, flushes denormal inputs to a zero
   of their sign and quiets NaN (vcvtneps2bf16's rules).
*/
void qk_f32_to_f16_isa(qk_isa isa, uint16_t *dst, const float *src, size_t n);
void qk_f16_to_f32_isa(qk_isa isa, float *dst, const uint16_t *src, size_t n);
void qk_f32_to_bf16_isa(qk_isa isa, uint16_t *dst, const float *src, size_t n);
/** Which 16-bit kernels weights packed for `isa` run here: "scalar",
    "avx2-f16c", "avx512bf16" (vdpbf16ps) or "neon". */
const char *qk_half_kernel_name(qk_isa isa);

/** "scalar", "avx2", "avx512vnni", "neon", "neon-dotprod", "avxvnni" */
const char *qk_isa_name(qk_isa isa);
bool qk_isa_from_name(const char *name, qk_isa *out);

/** True if this build contains the ISA and this CPU can run it. */
bool qk_isa_supported(qk_isa isa);

/**
   The ISA used by default, chosen once per process (pthread_once) from
   cpuid: the best supported one, unless the environment variable
   QUANTONE_ISA names another supported one (scalar, avx2, avx512vnni,
   avxvnni, neon, neon-dotprod).
*/
qk_isa qk_active_isa(void);

/** Plain (unpacked) description of a weight matrix; the caller owns it. */
typedef struct {
  qk_format format;
  int rows;                   /**< M (outputs) */
  int cols;                   /**< K (inputs) */
  int group;                  /**< K per scale group; 0 = whole row */
  const float *f32;           /**< QK_F32: rows * cols, row-major */
  const int8_t *codes;        /**< integer formats: rows * cols, row-major, one per byte */
  const float *scales;        /**< rows * ngroups, row-major */
  const int32_t *zero_points; /**< rows * ngroups, or NULL; S8/S4/S2 only */
  const int8_t *codebook;     /**< CB4: 16 entries, CB2: 4 entries */
} qk_weights;

/** Number of scale groups per row for K = cols and a group size. */
int qk_group_count(int cols, int group);

/** Weights packed once into one ISA's tile layout. Opaque. */
typedef struct qk_packed qk_packed;

/**
   Validate and pack weights for an ISA (allocates; prepare time only).
   Returns NULL if the description is invalid (codes out of range, group
   not a multiple of 16, sizes <= 0, missing arrays) or the ISA is not
   supported; if err is not NULL it receives a message then.
*/
qk_packed *qk_pack(const qk_weights *w, qk_isa isa, const char **err);
void qk_packed_free(qk_packed *p);

qk_isa qk_packed_isa(const qk_packed *p);
/** The kernels a packed matrix runs: its ISA's name, or for F16/BF16
    qk_half_kernel_name() of it (e.g. "avx512bf16"). */
const char *qk_packed_kernel_name(const qk_packed *p);
qk_format qk_packed_format(const qk_packed *p);
int qk_packed_rows(const qk_packed *p);
int qk_packed_cols(const qk_packed *p);
int qk_packed_group(const qk_packed *p); /**< effective group (cols if whole row) */
bool qk_packed_has_zero_points(const qk_packed *p);

/**
   Bytes the weights occupy at their storage precision: codes at
   qk_format_bits() each plus scales, zero points and codebook. This is the
   memory figure a user compares, not the padded in-RAM tile layout.
*/
size_t qk_packed_weight_bytes(const qk_packed *p);
/** Bytes the packed object occupies in memory (tiles with their padding,
    scales, zero points, folded sums, the struct): for memory accounting. */
size_t qk_packed_alloc_bytes(const qk_packed *p);

/** Int8 activations, as written by qk_quantize_act_*(); caller-owned buffers. */
typedef struct {
  int8_t *codes;   /**< N columns of ld bytes, codes in [-127, 127] (the quantizers clamp
                        there; kernels that sum products in int16 rely on it); bytes
                        K..ld-1 are zero */
  int ld;          /**< >= qk_act_ld(K) */
  float *scales;   /**< per column (dynamic), or scales[0] for all (static) */
  bool per_column; /**< true for dynamic quantization */
  int32_t *sums;   /**< N * qk_group_count(K, group): code sums per group */
  int group;       /**< group size the sums were taken over (0 = whole K) */
  /** A WaveNet layer's paired int8 history (qk_wavenet_layer_s8_history_paired):
      column n holds frames n and n + 1 (see there); false everywhere else. */
  bool paired;
} qk_act_s8;

/** Leading dimension (bytes) an int8 activation column needs for K values. */
int qk_act_ld(int K);

/**
   Dynamic int8 quantization, a scale per column (time step):
     amax = max_k |x[n][k]|; scale[n] = amax / 127.0f;
     q = clamp(rint(x * (127.0f / amax)), -127, 127)  (round half to even)
   A column with amax == 0 (or not finite) gets scale 0 and codes 0.
   Writes codes, scales and group sums (for out->group).
*/
void qk_quantize_act_dynamic(const float *x, int ldx, int K, int N, qk_act_s8 *out);

/** Largest taps * C qk_quantize_act_dynamic_taps() accepts. */
#define QK_TAPS_MAX_K 4096

/**
   qk_quantize_act_dynamic() of N columns that are never gathered: column n
   is the concatenation of `taps` pieces of C floats, piece t at
   x + n*ldx + t*tap_stride (a dilated convolution's taps, straight from a
   history buffer). K = taps * C <= QK_TAPS_MAX_K. Writes exactly what
   qk_quantize_act_dynamic() writes for the gathered columns.
*/
void qk_quantize_act_dynamic_taps(const float *x, int ldx, int C, int taps, ptrdiff_t tap_stride,
                                  int N, qk_act_s8 *out);
void qk_quantize_act_dynamic_taps_isa(qk_isa isa, const float *x, int ldx, int C, int taps,
                                      ptrdiff_t tap_stride, int N, qk_act_s8 *out);

/**
   Static int8 quantization with one calibrated scale (> 0):
     q = clamp(rint(x * (1.0f / scale)), -127, 127); out->scales[0] = scale.
   Values beyond the calibrated range saturate. Returns the number of
   values that saturated (the "clipped activations" count).
*/
size_t qk_quantize_act_static(const float *x, int ldx, int K, int N, float scale, qk_act_s8 *out);

/** Inverse of the quantizers: x[n][k] = q[n][k] * scale(n). */
void qk_dequantize_act(const qk_act_s8 *q, int K, int N, float *x, int ldx);

/**
   Y = W * X (+ bias) with float activations. Any weight format.
   X: N columns of K floats (ldx >= K); Y: N columns of M floats (ldy >= M).
   bias may be NULL. flags: QK_ACCUMULATE.
*/
void qk_gemm_f32(const qk_packed *W, const float *X, int ldx, int N, const float *bias, float *Y,
                 int ldy, unsigned flags);

/**
   qk_gemm_f32() of N columns that are never gathered: column n is `taps`
   pieces of C floats, piece t at x + n*ldx + t*tap_stride (a dilated
   convolution's taps, straight from a history); taps * C = W's columns.
   Writes, bit for bit, what qk_gemm_f32() writes for the gathered
   columns. gather: scratch of N * taps * C floats, for the columns an ISA
   gathers first.
*/
void qk_gemm_f32_taps(const qk_packed *W, const float *x, int ldx, int C, int taps,
                      ptrdiff_t tap_stride, int N, float *gather, const float *bias, float *Y,
                      int ldy, unsigned flags);

/**
   Y = W * X (+ bias) with int8 activations. Integer formats only (not
   F32, F16, BF16: a float format's call writes nothing).
   If W has zero points, X->group must equal qk_packed_group(W) (or be 0
   when the group spans the whole row). See the header comment for the
   exact arithmetic.
*/
void qk_gemm_s8(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias, float *Y, int ldy,
                unsigned flags);

/* ------------------------------------------------------------------------
   NAM WaveNet layer, int8 dynamic activations with a scale per time step
   ------------------------------------------------------------------------
   A non-gated WaveNet layer (C channels, bottleneck B, `taps` dilated taps,
   mono condition, a nonlinearity without gating: NAM's A1 layers with tanh
   and B = C, and its A2 layers with LeakyReLU and a bottleneck) whose input
   history is also kept as int8: every frame (time step) of the input x is
   quantized once, dynamically, with its own scale (qk_quantize_act_dynamic
   of that frame's C values, group 0), into a history xq of qk_act_s8
   columns, one per frame. The dilated conv then reads each tap's codes
   straight from that history, each with its own frame's scale, so a frame
   is quantized once and not once per tap.

   Per frame n, with f_t = n - dilation * (taps - 1 - t) and W_t the conv's
   columns t*C .. t*C + C - 1 (B rows), for every m < B:

       i_t  = sum_c W_t[m][c] * q[f_t][c] - zp[m][g_t] * sum_c q[f_t][c]     (int32)
       p_t  = fma((float)i_t, ws[m][g_t], 0)
       z    = fma(p_0, s[f_0], conv_bias[m] + 0)
       z    = fma(p_t, s[f_t], 0 + z)              for t = 1 .. taps-1
       z   += mixin[m] * cond[n]                   (fl(mixin * cond), then the add)
       a    = act(z)                               (qk_wavenet_act below)
       head[n][m] += a                             (B values per frame)
       next[n]  = x[n] + w1x1 a + bias1x1          (C x B; a quantized per frame, qk_gemm_s8)

   where ws, zp are the conv's scales and zero points and g_t = t*C / G the
   scale group of tap t, G the conv's effective group (its row, or a "per
   group" size; per channel, G = taps*C: g_t = 0 for every tap). That is
   for a tap whose C columns lie inside one group (every tap when G is a
   multiple of C). A tap whose columns straddle groups (G not a multiple
   of C: A2 nano's C = 3 at G = 32 splits tap 10, columns 30 | 31, 32) is
   cut into pieces j = 0, 1, .. at the group boundaries, piece j being the
   tap's channels c in [c_j, c_j+1) that lie in group g_t + j, and then

       i_tj = sum_{c in piece j} W_t[m][c] * q[f_t][c]
              - zp[m][g_t + j] * sum_{c in piece j} q[f_t][c]                   (int32)
       p_t  = fma((float)i_t0, ws[m][g_t], 0)
       p_t  = fma((float)i_tj, ws[m][g_t + j], p_t)      for j = 1, 2, ..

   (the zero point multiplies the code sum of the piece's channels only;
   a tap of one piece is the line above). That is exactly what `taps`
   qk_gemm_s8 calls give on activation columns that hold one tap's codes
   (zeros elsewhere) with that frame's scale and, per group, the code sum
   of the tap's columns in it (0 in the groups it does not touch, whose
   int32 sums are then 0 and whose fmaf(0, scale, acc) leave acc as it is:
   scales are finite, and a -0 acc becoming +0 changes nothing once added
   to a base that is never -0; qk_gemm_s8's acc over groups in increasing
   order is p_t, its fmaf(acc, xscale, base) the z step), the first with
   the bias and the others accumulating, followed by
   the mixin, the nonlinearity, the head sum and the 1x1 as a qk_gemm_s8
   with QK_ACCUMULATE over a copy of x. qk_wavenet_layer_s8_steps() is that
   composition, literally; qk_wavenet_layer_s8() may run it fused (one
   pass per frame, z and a in registers) and gives the same bits.
   Column independence holds as for the GEMMs.
*/

/**
   The layer's nonlinearity a = act(z). QK_WN_TANH is qk_tanh_int8; every
   other kind is piecewise linear and defined by the float expression given
   (no fused multiply-add, comparisons false for NaN): one rounding or none
   per value, so every ISA computes it exactly, and they are NAM's own
   expressions (activations.h), so a float path and this one agree on z.
   The zero value is tanh, so initializers written before the other kinds
   existed keep meaning the A1 layer.
*/
typedef enum {
  QK_WN_TANH = 0,       /**< qk_tanh_int8(z) */
  QK_WN_IDENTITY,       /**< z */
  QK_WN_RELU,           /**< z > 0 ? z : 0 */
  QK_WN_LEAKY_RELU,     /**< z > 0 ? z : slope * z */
  QK_WN_PRELU,          /**< z > 0 ? z : slopes[m] * z (per channel) */
  QK_WN_HARDTANH,       /**< t = z < -1 ? -1 : z;  t > 1 ? 1 : t */
  QK_WN_LEAKY_HARDTANH, /**< z < min_val ? (z - min_val) * min_slope + min_val
                             : z > max_val ? (z - max_val) * max_slope + max_val : z */
  QK_WN_ACT_COUNT
} qk_wavenet_act_kind;

typedef struct {
  qk_wavenet_act_kind kind;
  float slope;         /**< QK_WN_LEAKY_RELU's negative slope (NAM's default 0.01) */
  const float *slopes; /**< QK_WN_PRELU: [B] */
  float min_val, max_val, min_slope, max_slope; /**< QK_WN_LEAKY_HARDTANH */
} qk_wavenet_act;

/** a[i] = act(z[i]) for N frames of B channels (a may be z); any kind but QK_WN_TANH. */
void qk_wavenet_act_apply(const qk_wavenet_act *act, float *a, const float *z, int B, int N);

typedef struct {
  int C;                  /**< channels: conv is B x taps*C, w1x1 is C x B */
  int taps;               /**< kernel size */
  int dilation;           /**< frames between taps */
  const qk_packed *conv;  /**< integer format, any scale groups (taps of pieces: see above) */
  const float *conv_bias; /**< [B] or NULL */
  const float *mixin;     /**< [B]: the condition's weights, float */
  const qk_packed *w1x1;  /**< integer format, one scale group per row, same ISA */
  const float *bias1x1;   /**< [C] or NULL */
  /** Optional (NULL or `taps` pointers): W_t, conv columns t*C .. t*C + C - 1
      packed on their own (B x C, one group per row: the same codes, and
      the scales and zero points of the tap's group g_t; so only where
      every tap is one piece, qk_wavenet_layer_s8_valid refuses them
      otherwise), so the
      step-by-step form multiplies each tap's C codes
      straight from the history instead of taps*C-wide columns that are
      mostly zeros. Same result; the fused form does not need them. */
  const qk_packed *const *conv_taps;
  /** Optional: what qk_wavenet_layer_s8_prepare() made of these weights, so
      the fused form does not decode them again on every call (it does when
      this is NULL), nor check the layer again (prepare did). Same result
      either way. */
  const void *prepared;
  /** Bottleneck B: the conv's outputs, a and the head's width; 0 means C.
      (Last, with act, so that older initializers mean the A1 layer.) */
  int bottleneck;
  qk_wavenet_act act; /**< zero: tanh */
} qk_wavenet_layer;

/**
   Scratch (sized for N frames): conv_act holds N columns of taps*C codes
   with qk_group_count(taps*C, conv's group) sums each (the step-by-step
   form sets its group to the conv's), act_1x1 N columns of B (group 0),
   z N*B floats. The fused form may leave them untouched.
*/
typedef struct {
  qk_act_s8 *conv_act;
  qk_act_s8 *act_1x1;
  float *z;
  /** Optional chaining (zero: none). next_q: the next layer's int8
      history at its column 0, which takes this call's next[] frames as
      the next call's step 1 would quantize them (codes 0 .. C-1, scales,
      sums); a fused form may do that in its epilogue, while next[] is in
      registers, and *next_quantized (which must then be given) tells
      whether it did, for all N frames. x_quantized: columns 0 .. N-1 of xq
      already hold x so quantized (a previous call's next_q); a form may
      skip quantizing them again (the result is the same either way). */
  const qk_act_s8 *next_q;
  bool *next_quantized;
  bool x_quantized;
} qk_wavenet_scratch;

/** True if the layer meets the requirements above (formats, groups, shapes, a
    known nonlinearity; PReLU with its slopes). */
bool qk_wavenet_layer_s8_valid(const qk_wavenet_layer *L);

/**
   The layer over N frames. x: frame 0's C inputs in a frame-major float
   history (frame n at x + n*C). xq: the int8 history, column 0 = frame 0
   (codes, scales and sums, group 0, ld >= qk_act_ld(C), or the narrower
   qk_wavenet_layer_s8_history_ld() with prepared weights), whose columns
   back to -dilation*(taps-1) hold the earlier frames; the call first
   quantizes frames 0 .. N-1 of x into columns 0 .. N-1 (their codes
   0 .. C-1: keep the padding bytes C .. ld-1 zero, as a zeroed buffer and
   whole-column copies do; the fused form does not write them, the
   step-by-step form writes zeros there). cond[N]; head[N][B]
   is accumulated into; next[N][C] is written (not overlapping x). Runs
   fused where the ISA has a form for the layer, else step by step:
   AVX-512 VNNI: B = C, C a multiple of 4 up to 16 and taps*C <= 128
   with every tap one piece, or as AVX2 for the other layers (C <= 3,
   zero points or not, taps*C <= 64: 16 frames to a vector, 1 or 2 frames
   one per vector); AVX2 and AVX-VNNI: B = C <= 16 (any C, A2
   nano's 3 included), taps * ceil(C/2) * ceil(C/8) <= 128; any
   nonlinearity, and any conv scale groups (per row, or per group: taps
   of one piece or of two, which every group qk_pack takes gives at
   C <= 16).
*/
void qk_wavenet_layer_s8(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                         const float *cond, int N, float *head, float *next,
                         const qk_wavenet_scratch *scratch);

/** The step-by-step composition that defines the result (the reference). */
void qk_wavenet_layer_s8_steps(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                               const float *cond, int N, float *head, float *next,
                               const qk_wavenet_scratch *scratch);

/** True if qk_wavenet_layer_s8() may quantize next[] into a given next_q for
    this layer (qk_wavenet_scratch), so that a caller builds next_q only
    where it can be used: fused layers of 8 or 16 channels, on AVX2 and
    AVX-VNNI, and on AVX-512 VNNI with a 1x1 without zero points (16
    channels there: at blocks of whole 16-frame groups). */
bool qk_wavenet_layer_s8_chains(const qk_wavenet_layer *L);

/** True if qk_wavenet_layer_s8() runs this layer fused (tests, benchmarks). */
bool qk_wavenet_layer_s8_fused(const qk_wavenet_layer *L);

/**
   Bytes of the fused form's prepared weights for L (0 if L does not run
   fused). Prepare time: qk_wavenet_layer_s8_prepare() writes them to mem
   (64-byte aligned, that size) from L's conv and w1x1; pass mem as
   L->prepared while those weights stay the same.
*/
size_t qk_wavenet_layer_s8_prepared_size(const qk_wavenet_layer *L);
void qk_wavenet_layer_s8_prepare(const qk_wavenet_layer *L, void *mem);

/**
   One frame of the same layer shape in float, without a bottleneck (B =
   C, the A1 and A2 layers; the engine's steps for it accumulate the 1x1
   over a copy of x): conv and w1x1 QK_F32 (taps, dilation, C, biases,
   mixin and act as above; conv_taps and prepared unused), x the frame's C
   inputs in a history that holds the older taps before it (tap t read at
   x - (taps-1-t)*dilation*C), cond the frame's condition. head[0..C) += a
   and next[0..C) are written with the bits of the engine's float steps on
   the weights' ISA (its GEMM forms, z + fl(mixin * cond), the activation
   as qk_tanh / the engine compute it, then next = w1x1 a + (bias1x1 +
   x)): a block of one frame costs a few hundred instructions per layer
   instead of a dozen calls. QK_WN_TANH is the fast (qk_tanh) tanh.
*/
typedef void (*qk_wavenet_f32_frame_fn)(const qk_wavenet_layer *L, const float *x, float cond,
                                        float *head, float *next);

/**
   The frame form for L, or NULL when the ISA of L's weights has none for
   its shape, formats and nonlinearity (the caller runs the steps then).
   It depends on the weights and act alone: keep it while they stay and
   call it without a lookup per frame (the lookup and its checks were a
   tenth of a block of one's time).
*/
qk_wavenet_f32_frame_fn qk_wavenet_layer_f32_frame_form(const qk_wavenet_layer *L);

/**
   One frame of qk_wavenet_layer_s8() (N = 1, no chaining: next_q unused,
   x quantized by the call), called straight: x, xq, head and next as
   there at frame 0, cond the frame's condition. Same bits as
   qk_wavenet_layer_s8() on that frame, its history column included.
*/
typedef void (*qk_wavenet_s8_frame_fn)(const qk_wavenet_layer *L, const float *x,
                                       const qk_act_s8 *xq, float cond, float *head, float *next);

/**
   The int8 frame form for L, or NULL when its ISA has none for it (then
   qk_wavenet_layer_s8() runs the frame). L must hold the prepared weights
   (qk_wavenet_layer_s8_prepare; NULL without them) and the form is kept
   with them: at a block of one frame the engine's and dispatch's checks
   per call (a dozen calls per layer) were as long as the layer's own
   arithmetic. AVX-512 VNNI: the fused small layers (C <= 3, qk_wavenet_
   avx512_small.c), and its fused layers of 4, 8, 12 and 16 channels
   whose conv and 1x1 have no zero points and whose taps no scale group
   splits (A1's).
*/
qk_wavenet_s8_frame_fn qk_wavenet_layer_s8_frame_form(const qk_wavenet_layer *L);

/**
   tanh to float precision on the active ISA, for the exact activations:
   within 2 ulp of libm's tanhf for every float (+-0, subnormals, large
   values and infinities, NaN in NaN out; tests/kernels/test_tanh_exact.c
   checks it over the whole range), in a vector form where the ISA has
   one, else tanhf value by value. y may be x.
*/
void qk_tanh_exact(float *y, const float *x, size_t n);

/**
   The leading dimension the layer's int8 history may have: qk_act_ld(C),
   or less (at least C) where the ISA's fused form reads and writes only
   the codes of a column (AVX-512 VNNI: C = 16, C = 8 without a lookback,
   16 bytes for C = 8's paired history below, and 4 bytes for the
   16-frame form of C <= 3; AVX2 and AVX-VNNI: C = 8 and 16). The
   history's memory and the frames moved per batch shrink by that much
   (64 bytes per frame for 3 codes otherwise). A history of that smaller
   ld is valid only for calls of this layer with its prepared weights
   (L->prepared, which always run fused): the step-by-step form and the
   generic quantizers want qk_act_ld(C); fill such a history with
   qk_wavenet_history_quantize (or, not paired, qk_quantize_act_dynamic_isa
   on QK_ISA_SCALAR, which writes exactly ld bytes per column).
*/
int qk_wavenet_layer_s8_history_ld(const qk_wavenet_layer *L);

/**
   Whether the layer's fused form keeps its int8 history paired (AVX-512
   VNNI, C = 8, a lookback of at least one frame: taps > 1, dilation > 0):
   ld = 16, column n is four dwords

       [ u0(n), u0(n+1), u1(n), u1(n+1) ]    u_j(f) = codes 4j .. 4j+3 of frame f,
                                                      each as code + 128 (xor 0x80)

   so that a tap reads a quad of two adjacent frames with one 8-byte
   broadcast and no permutes or xor. The successor half of a history's
   last written column is a copy of its own (written again with the next
   frame); scales and sums are per frame as in any history. Valid only for
   calls of this layer with its prepared weights, like the narrow ld, and
   as next_q of a layer before it. Fill, read and clear such a history
   with qk_wavenet_history_*() below (or set h->paired = false and use
   the generic quantizers for the other layouts).
*/
bool qk_wavenet_layer_s8_history_paired(const qk_wavenet_layer *L);

/**
   qk_quantize_act_dynamic of n frames of C floats (back to back at x)
   into columns 0 .. n-1 of a layer's int8 history h, in h's layout (ld,
   paired): the scalar quantizer's codes, scales and sums, nothing written
   before column 0 or past column n-1, no allocation.
*/
void qk_wavenet_history_quantize(const float *x, int C, int n, const qk_act_s8 *h);

/** The C codes of column n of a layer's int8 history, whatever its layout. */
void qk_wavenet_history_codes(const qk_act_s8 *h, int C, int n, int8_t *codes);

/**
   Column n's C codes into a layer's int8 history, in its layout (scale and
   sum are the caller's): a paired history's column n gets its own halves
   and the placeholder, and with complete_previous column n - 1 its
   successor halves too.
*/
void qk_wavenet_history_set_codes(const qk_act_s8 *h, int C, int n, bool complete_previous,
                                  const int8_t *codes);

/** Columns 0 .. n-1 of a layer's int8 history to codes 0, scale 0, sum 0. */
void qk_wavenet_history_clear(const qk_act_s8 *h, int n);

/** Vectorized activations on the active ISA; |error| <= 2e-6 vs libm on [-20, 20]. */
void qk_tanh(float *y, const float *x, size_t n);
void qk_sigmoid(float *y, const float *x, size_t n);

/**
   tanh for int8-activation paths: a rational approximation with about half
   the operations of qk_tanh, relative (and absolute) error <= 5.3e-5 on
   all of R. Its output is about to be quantized to int8, whose rounding
   step is 1/127 of the frame maximum: this error is below 1/60 of half a
   step, so it moves a code only where the value sits within that
   distance of a rounding boundary. The int8 WaveNet layer uses it; float
   paths keep qk_tanh, the reference renders need its accuracy. Same bits
   on every ISA.
*/
void qk_tanh_int8(float *y, const float *x, size_t n);

/** The same on a chosen ISA (tests and benchmarks). */
void qk_tanh_isa(qk_isa isa, float *y, const float *x, size_t n);
void qk_sigmoid_isa(qk_isa isa, float *y, const float *x, size_t n);
void qk_tanh_int8_isa(qk_isa isa, float *y, const float *x, size_t n);
void qk_quantize_act_dynamic_isa(qk_isa isa, const float *x, int ldx, int K, int N, qk_act_s8 *out);
size_t qk_quantize_act_static_isa(qk_isa isa, const float *x, int ldx, int K, int N, float scale,
                                  qk_act_s8 *out);

/* ------------------------------------------------------------------------
   Recurrent layers (LSTM, GRU): the whole recurrence of a step in one pass
   ------------------------------------------------------------------------
   H units, G gates (LSTM 4: i, f, g, o; GRU 3: z, r, n), recurrent weights
   Wh [G*H][H] and recurrent bias bh [G*H] (zeros when the file has none).
   The input projections gx = Wx x + b do not depend on the state: the
   caller computes them for a whole block (one GEMM) and hands them in,
   frame f's G*H values at gx + f*ldg. Each gate row m has a factor a[m]:
   1/2 for a sigmoid gate (LSTM i, f, o; GRU z, r), 1 for a tanh gate
   (LSTM g, GRU n); the pack multiplies the rows' weights (or row scales)
   and bias by it, which is exact. With gx'[m] = a[m] gx[m] (0 for the GRU
   candidate n, whose input joins after the reset gate), per frame:

     float weights:  z[m] = (s0 + s1) + (s2 + s3), s_t the chain of fmaf
                     in increasing k of a w[m][k] h[k] over k = t mod 4,
                     starting from a bh[m] (s0), gx'[m] (s1), 0 (s2, s3)
     int8 dynamic:   amax = max_k |h[k]| (compared as bits, NaN above
                     infinity); e its exponent field; s = 2^(e - 133), a
                     power of two with amax / s in [64, 128), inv = 1 / s
                     (both 0 when e is outside 7 .. 254: amax 0, below
                     2^-120 or not finite), formed from the bits without a
                     divide (qk_rnn_internal.h);
                     q[k] = rint(h[k] inv) (half to even) clamped to +-127,
                     read from the bits of fmaf(h[k], inv, 1.5 * 2^23 + 128);
                     i[m] = sum_k v[m][k] q[k] (int32, exact; w = ws[m] v);
                     z[m] = fmaf((float)i[m], (a ws[m]) * s, a bh[m] + gx'[m])

   so z is a (gx + bh + Wh h) of the sigmoid and LSTM rows, bh + Wh h of
   the GRU candidate. Then, with T the step's rational tanh
   (qk_rnn_internal.h, |error| <= 2e-8; same bits on every ISA) and
   S(z) = fmaf(T(z), 0.5, 0.5) = sigmoid(2z):

     LSTM: i, f, o = S(z) of their rows, g = T(z);
           c = fmaf(f, c, i * g); h = o * T(c)
     GRU:  zg, r = S(z) of their rows;
           n = T(fmaf(r, z_n, gx_n)); h = fmaf(zg, h - n, n)

   and y[f] = h. Every ISA performs exactly these float operations, so the
   float and the int8 forms each give the same bits on every ISA, and a
   frame's result depends only on the state it starts from (block-size
   independent).
*/
typedef enum { QK_RNN_LSTM = 0, QK_RNN_GRU } qk_rnn_kind;

/** Gates of a kind: 4 (LSTM) or 3 (GRU). */
int qk_rnn_gates(qk_rnn_kind kind);

typedef struct {
  qk_rnn_kind kind;
  int units;       /**< H, 1..1024 */
  const float *wh; /**< float form: [G*H][H] row-major */
  const float *bh; /**< [G*H] or NULL (zeros) */
  /** int8 form instead of wh: an integer format with one scale group per
      row (group 0 or >= H) and no zero points; NULL for the float form. */
  const qk_weights *wh_q;
} qk_rnn_weights;

/** Weights packed for one ISA's fused step. Opaque. */
typedef struct qk_rnn qk_rnn;

/**
   Pack (allocates; prepare time). NULL with a reason in *err (if not
   NULL) when the description is not one of the above or the ISA is not
   supported here.
*/
qk_rnn *qk_rnn_pack(const qk_rnn_weights *w, qk_isa isa, const char **err);
void qk_rnn_free(qk_rnn *r);
size_t qk_rnn_alloc_bytes(const qk_rnn *r);
qk_isa qk_rnn_isa(const qk_rnn *r);

/**
   N steps. gx: N frames of G*H floats (ldg >= G*H). h [H] and, for an
   LSTM, c [H]: the state, read and updated. y: N frames of H floats at
   y + f*ldy (may not overlap gx). No allocation.
*/
void qk_rnn_run(const qk_rnn *r, const float *gx, int ldg, int N, float *h, float *c, float *y,
                int ldy);

/**
   The ends of a float layer of input size 1 (AIDA-X's LSTM-12 and most
   keras amp models: one audio sample in, a Dense of one output after),
   taken into the step so that a block does not pay a GEMM of K = 1 for
   gx and one of N = 1 output rows for the Dense, whose calls, 16-lane
   tiles of one useful value and per-frame gathers cost far more than
   their G*H + H multiplies. Per frame f, with x = x[f*ldx]:

     gx[m] = ((fmaf(wx[m], x, 0) + 0) + (0 + 0)) + (bx[m] + 0)
     yd[f] = ((d0 + d1) + (d2 + d3)) + (bd + 0),  d_t the chain of fmaf
             in increasing k of wd[k] h[k] over k = t mod 4, from 0

   (bx, bd NULL: 0), the same bits on every ISA. gx is what qk_gemm_f32
   computes for K = 1 on every ISA (its chains but the first hold 0, and
   the sign of a zero sum cannot reach the result through + (bx + 0),
   which is never -0), so h and y are those of qk_gemm_f32 + qk_rnn_run;
   yd is qk_gemm_f32's only where qk_rnn_io_dense_is_gemm() (below).
   Float forms only.
*/
typedef struct {
  const float *x; /**< N inputs, x[f * ldx] */
  int ldx;
  const float *wx; /**< [G*H]: the input projection's only column */
  const float *bx; /**< [G*H] or NULL */
  const float *wd; /**< [H]: the Dense row after the layer, or NULL (no Dense) */
  const float *bd; /**< [1] or NULL */
  float *yd;       /**< N Dense outputs, 1 apart (wd not NULL) */
} qk_rnn_io;

/** qk_rnn_run with gx made from io (above), and the Dense when io->wd is
    set; y still receives h of every frame. r must be a float form. */
void qk_rnn_run_io(const qk_rnn *r, const qk_rnn_io *io, int N, float *h, float *c, float *y,
                   int ldy);

/** Whether io's Dense (four chains) is what qk_gemm_f32 computes for a
    row of K = H on this ISA (AVX-512: yes; the scalar and AVX2 GEMMs
    run one chain, so there the caller keeps its GEMM for the Dense). The
    input projection (K = 1) is the GEMM's on every ISA. */
bool qk_rnn_io_dense_is_gemm(qk_isa isa);

#ifdef __cplusplus
}
#endif

#endif
