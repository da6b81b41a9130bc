/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Internals shared by the kernel implementations: the packed-weight object
  and the table of functions each instruction set provides.
*/
#ifndef QUANTONE_KERNELS_QK_INTERNAL_H
#define QUANTONE_KERNELS_QK_INTERNAL_H

#include "qk.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/** Alignment of every packed buffer: one zmm / cache line. */
#define QK_ALIGN 64

/**
   Weights after qk_pack(). The fields above `data` are filled by the common
   code (qk_pack.c) before the ISA's pack function runs; `data` and `fold`
   belong to the ISA and have whatever layout its kernels read.
*/
struct qk_packed {
  qk_format format;
  qk_isa isa;
  int rows, cols;
  int group;        /**< effective group size, 1..cols (cols for whole-row) */
  int ngroups;      /**< qk_group_count(cols, group) */
  float *scales;    /**< rows * ngroups */
  int32_t *zp;      /**< rows * ngroups, NULL if symmetric */
  int8_t table[16]; /**< value of each index for S4/S2/CB4/CB2 (index = v - min for S4/S2) */
  void *data;       /**< ISA tile layout, QK_ALIGN aligned */
  size_t data_bytes;
  int32_t *fold; /**< ISA-specific per-(row, group) integer correction, or NULL */
};

/** Allocate zeroed, QK_ALIGN-aligned memory; free with qk_aligned_free(). */
void *qk_aligned_calloc(size_t bytes);
void qk_aligned_free(void *p);

/** The bits of a float and the float of some bits (the formats that are
    defined bit by bit: FP16/BF16 conversion, the recurrent step's
    exponent-derived scales). */
static inline uint32_t qk_float_bits(float x)
{
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

static inline float qk_bits_float(uint32_t b)
{
  float x;
  memcpy(&x, &b, sizeof x);
  return x;
}

/** The signed value v[m][k] of a weight described by w (decoded via codebook). */
static inline int qk_weight_value(const qk_weights *w, int m, int k)
{
  int8_t c = w->codes[(size_t)m * (size_t)w->cols + (size_t)k];
  if (w->format == QK_CB4 || w->format == QK_CB2)
    return w->codebook[(uint8_t)c];
  return c;
}

/**
   Index stored for weight (m, k) of a sub-byte format: the position of its
   value in p->table (S4: v + 8, S2: v + 2, codebooks: the index itself).
*/
static inline int qk_weight_index(const qk_weights *w, int m, int k)
{
  int c = w->codes[(size_t)m * (size_t)w->cols + (size_t)k];
  switch (w->format) {
  case QK_S4: return c + 8;
  case QK_S2: return c + 2;
  default: return c & 0xF;
  }
}

/**
   One instruction set's implementation. Every ISA fills every entry; a
   function it has no faster form of may point at the scalar one.
*/
typedef struct {
  qk_isa isa;
  /** Fill p->data (and p->fold if used) from w. Returns 0, or -1 on allocation failure. */
  int (*pack)(qk_packed *p, const qk_weights *w);
  void (*gemm_f32)(const qk_packed *W, const float *X, int ldx, int N, const float *bias, float *Y,
                   int ldy, unsigned flags);
  void (*gemm_s8)(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias, float *Y,
                  int ldy, unsigned flags);
  /**
     max_k |x[k]| with fmaxf semantics: a NaN element is ignored, 0 for an
     all-zero (or all-NaN) column. Every ISA returns the same value (max is
     exact and order-independent).
  */
  float (*column_amax)(const float *x, int K);
  /**
     One activation column: codes[k] = clamp(rint(x[k] * inv), -127, 127)
     (NaN -> 0) for k < K, zeros from K to ld, and, if sums is not NULL, the
     code sums of each group (qk_group_count(K, group) of them). Returns the
     number of values that saturated. Never reads x past K.
  */
  size_t (*quantize_column)(const float *x, int K, float inv, int8_t *codes, int ld, int32_t *sums,
                            int group);
  void (*tanh)(float *y, const float *x, size_t n);
  void (*sigmoid)(float *y, const float *x, size_t n);
  /** qk.h's qk_tanh_int8: the rational below (QK_TANH8_*), same bits on every ISA. */
  void (*tanh_int8)(float *y, const float *x, size_t n);
  /**
     Optional (may be NULL): the whole dynamic quantizer of qk.h for N
     columns, for shapes an ISA has a faster form of. Returns false to
     leave the call to the generic driver (qk_act.c). When it returns true
     it must have written exactly what the driver would (codes, padding to
     ld, scales, sums, per_column), column by column.
  */
  bool (*quantize_dynamic)(const float *x, int ldx, int K, int N, qk_act_s8 *out);
  /** Optional, the same for qk_quantize_act_dynamic_taps(). */
  bool (*quantize_dynamic_taps)(const float *x, int ldx, int C, int taps, ptrdiff_t tap_stride,
                                int N, qk_act_s8 *out);
  /**
     Optional: qk_gemm_f32_taps() for the first frames of the call, those
     it has a form for that reads the taps in place; returns how many it
     did (0 to N). The dispatcher gathers the rest for gemm_f32.
  */
  int (*gemm_f32_taps)(const qk_packed *W, const float *x, int ldx, int C, int taps,
                       ptrdiff_t tap_stride, int N, const float *bias, float *Y, int ldy,
                       unsigned flags);
  /**
     Optional (both NULL or both set): the fused WaveNet layer of qk.h.
     fusable() says whether this ISA has a fused form of the (valid)
     layer L, weights packed for it; wavenet_layer_s8() is called only then
     and must write exactly what qk_wavenet_layer_s8_steps() writes to xq,
     head and next (scratch contents are free).
  */
  bool (*wavenet_layer_fusable)(const qk_wavenet_layer *L);
  void (*wavenet_layer_s8)(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                           const float *cond, int N, float *head, float *next,
                           const qk_wavenet_scratch *scratch);
  /** With the two above: qk.h's prepared weights of a fusable layer. */
  size_t (*wavenet_prepared_size)(const qk_wavenet_layer *L);
  void (*wavenet_prepare)(const qk_wavenet_layer *L, void *mem);
  /** Optional: qk_tanh_exact() (NULL: libm's tanhf value by value). */
  void (*tanh_exact)(float *y, const float *x, size_t n);
  /** Optional (both NULL or both set): qk_wavenet_layer_f32_frame_form()'s form for
      the layers fits() takes. */
  bool (*wavenet_layer_f32_frame_fits)(const qk_wavenet_layer *L);
  void (*wavenet_layer_f32_frame)(const qk_wavenet_layer *L, const float *x, float cond,
                                  float *head, float *next);
  /** Optional: qk.h's qk_wavenet_layer_s8_frame_form() of a fusable layer
      with prepared weights (NULL: none). */
  qk_wavenet_s8_frame_fn (*wavenet_layer_s8_frame_form)(const qk_wavenet_layer *L);
  /** Optional: qk.h's qk_wavenet_layer_s8_history_ld() of a fusable layer
      (NULL: qk_act_ld(C)). */
  int (*wavenet_history_ld)(const qk_wavenet_layer *L);
  /** Optional: qk.h's qk_wavenet_layer_s8_chains() of a fusable layer
      (NULL: never chains). */
  bool (*wavenet_chains)(const qk_wavenet_layer *L);
  /** Optional: qk.h's qk_wavenet_layer_s8_history_paired() of a fusable
      layer (NULL: false). */
  bool (*wavenet_history_paired)(const qk_wavenet_layer *L);
} qk_isa_ops;

extern const qk_isa_ops qk_ops_scalar;

/** The scalar functions, for SIMD files to fall back on where they gain nothing. */
int qk_scalar_pack(qk_packed *p, const qk_weights *w);
void qk_scalar_gemm_f32(const qk_packed *W, const float *X, int ldx, int N, const float *bias,
                        float *Y, int ldy, unsigned flags);
void qk_scalar_gemm_s8(const qk_packed *W, const qk_act_s8 *X, int N, const float *bias, float *Y,
                       int ldy, unsigned flags);
float qk_scalar_column_amax(const float *x, int K);
size_t qk_scalar_quantize_column(const float *x, int K, float inv, int8_t *codes, int ld,
                                 int32_t *sums, int group);
void qk_scalar_tanh(float *y, const float *x, size_t n);
void qk_scalar_sigmoid(float *y, const float *x, size_t n);
void qk_scalar_tanh_int8(float *y, const float *x, size_t n);
#ifdef QK_HAVE_AVX2
extern const qk_isa_ops qk_ops_avx2;
/** The value v of weight (m, k) of an integer matrix packed for AVX2 (qk_avx2.c's layout). */
int qk_avx2_weight_value(const qk_packed *p, int m, int k);
/**
   The fused WaveNet layer on AVX2 (qk_wavenet_avx2.c), as qk_isa_ops wants
   it. Its frame loop also serves AVX-512 VNNI weights (the shapes the
   AVX-512 form does not take): _shape says whether it takes L whatever
   the ISA, prepare decodes the weights from either layout.
*/
bool qk_avx2_wavenet_layer_shape(const qk_wavenet_layer *L);
bool qk_avx2_wavenet_layer_fusable(const qk_wavenet_layer *L);
void qk_avx2_wavenet_layer_s8(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                              const float *cond, int N, float *head, float *next,
                              const qk_wavenet_scratch *scratch);
size_t qk_avx2_wavenet_prepared_size(const qk_wavenet_layer *L);
void qk_avx2_wavenet_prepare(const qk_wavenet_layer *L, void *mem);
int qk_avx2_wavenet_layer_history_ld(const qk_wavenet_layer *L);
bool qk_avx2_wavenet_layer_chains(const qk_wavenet_layer *L);
#endif
#ifdef QK_HAVE_AVX512VNNI
extern const qk_isa_ops qk_ops_avx512vnni;
/** The value v of weight (m, k) of an integer matrix packed for AVX-512 VNNI (its layout). */
int qk_avx512vnni_weight_value(const qk_packed *p, int m, int k);
#endif
#ifdef QK_HAVE_AVXVNNI
extern const qk_isa_ops qk_ops_avxvnni;
/** qk_tanh_exact on AVX-512 (qk_tanh_exact_avx512.c). */
void qk_avx512vnni_tanh_exact(float *y, const float *x, size_t n);

/** The float WaveNet layer frame on AVX-512 (qk_wavenet_f32_avx512.c). */
bool qk_avx512vnni_wavenet_layer_f32_frame_fits(const qk_wavenet_layer *L);
void qk_avx512vnni_wavenet_layer_f32_frame(const qk_wavenet_layer *L, const float *x, float cond,
                                           float *head, float *next);

/** qk_wavenet_avx2.c's fused layer built for AVX-VNNI (qk_wavenet_avxvnni.c). */
bool qk_avxvnni_wavenet_layer_shape(const qk_wavenet_layer *L);
bool qk_avxvnni_wavenet_layer_fusable(const qk_wavenet_layer *L);
void qk_avxvnni_wavenet_layer_s8(const qk_wavenet_layer *L, const float *x, const qk_act_s8 *xq,
                                 const float *cond, int N, float *head, float *next,
                                 const qk_wavenet_scratch *scratch);
size_t qk_avxvnni_wavenet_prepared_size(const qk_wavenet_layer *L);
void qk_avxvnni_wavenet_prepare(const qk_wavenet_layer *L, void *mem);
int qk_avxvnni_wavenet_layer_history_ld(const qk_wavenet_layer *L);
bool qk_avxvnni_wavenet_layer_chains(const qk_wavenet_layer *L);
#endif
#ifdef QK_HAVE_NEON
extern const qk_isa_ops qk_ops_neon;
extern const qk_isa_ops qk_ops_neon_dotprod;
#endif

/** The ops of an ISA, or NULL if it is not built or not supported here. */
const qk_isa_ops *qk_ops_for(qk_isa isa);

/** The bottleneck B of a WaveNet layer (qk.h: 0 means C). */
static inline int qk_wavenet_bottleneck(const qk_wavenet_layer *L)
{
  return L->bottleneck > 0 ? L->bottleneck : L->C;
}

/** Effective group size for K values: group, or K when group is 0 or spans K. */
static inline int qk_group_size(int K, int group) { return (group <= 0 || group >= K) ? K : group; }

/**
   The conv scale group tap t of a WaveNet layer's conv starts in: that of
   its column t*C, so of its first piece (qk.h); 0 for every tap when the
   group spans the row.
*/
static inline int qk_wavenet_tap_group(const qk_wavenet_layer *L, int t)
{
  return t * L->C / L->conv->group; /* the effective group: cols when one per row */
}

/**
   Where tap t's second piece starts (qk.h: the tap's columns split at a
   group boundary): the number of its C columns that lie in its first
   group, or 0 when all C do (the tap is one piece). A tap is at most two
   pieces when C <= G, which qk_pack's groups (multiples of 16) give for
   every C <= 16.
*/
static inline int qk_wavenet_tap_split(const qk_wavenet_layer *L, int t)
{
  const int G = L->conv->group, k0 = t * L->C, first = (k0 / G + 1) * G - k0;
  return first < L->C ? first : 0;
}

/** Pieces of tap t (qk.h): the scale groups its C columns touch. */
static inline int qk_wavenet_tap_pieces(const qk_wavenet_layer *L, int t)
{
  const int G = L->conv->group;
  return (t * L->C + L->C - 1) / G - t * L->C / G + 1;
}

/** True if some tap of L is more than one piece (its columns in two groups or more). */
static inline bool qk_wavenet_straddles(const qk_wavenet_layer *L)
{
  if (L->conv->group % L->C == 0)
    return false; /* whole taps in every group (the dispatch asks per call: keep it short) */
  for (int t = 0; t < L->taps; ++t)
    if (qk_wavenet_tap_pieces(L, t) > 1)
      return true;
  return false;
}

/** True if no tap of L is more than two pieces (the fused forms' limit). */
static inline bool qk_wavenet_two_pieces(const qk_wavenet_layer *L)
{
  if (L->conv->group >= L->C)
    return true; /* C columns cross one boundary at most (the dispatch asks per call) */
  for (int t = 0; t < L->taps; ++t)
    if (qk_wavenet_tap_pieces(L, t) > 2)
      return false;
  return true;
}

/**
   The columns of a from column n on (n may be negative: earlier columns of
   a history), a scale per column (dynamic) and ng sum groups per column;
   sums stay NULL when a has none.
*/
static inline qk_act_s8 qk_act_columns_from(const qk_act_s8 *a, ptrdiff_t n, int ng)
{
  qk_act_s8 v = *a;
  v.codes += n * (ptrdiff_t)a->ld;
  v.scales += n;
  if (a->sums)
    v.sums += n * (ptrdiff_t)ng;
  return v;
}

/* ------------------------------------------------------------------------
   Activation quantizer drivers (qk_act.c), written once for every ISA on
   top of its column_amax / quantize_column primitives.
   ------------------------------------------------------------------------ */
void qk_act_quantize_dynamic(const qk_isa_ops *ops, const float *x, int ldx, int K, int N,
                             qk_act_s8 *out);
void qk_act_quantize_dynamic_taps(const qk_isa_ops *ops, const float *x, int ldx, int C, int taps,
                                  ptrdiff_t tap_stride, int N, qk_act_s8 *out);
size_t qk_act_quantize_static(const qk_isa_ops *ops, const float *x, int ldx, int K, int N,
                              float scale, qk_act_s8 *out);

/**
   sums[g] = sum of codes[k] over group g of K codes (plain loop over the
   stored codes): for the column primitives whose vector sums do not apply.
*/
void qk_act_group_sums(const int8_t *codes, int K, int group, int32_t *sums);

/* ------------------------------------------------------------------------
   The float exp used by tanh and sigmoid, written once here so that every
   ISA computes the same approximation (the SIMD files mirror these steps).
   exp(y) = 2^n * p(r), n = rint(y / ln2), r = y - n*ln2 (Cody-Waite split),
   p = degree-7 Taylor polynomial; |r| <= ln2/2 gives relative error < 1e-8
   before float rounding.
   ------------------------------------------------------------------------ */
#define QK_LOG2E 1.44269504088896341f
#define QK_LN2_HI 0.693145751953125f
#define QK_LN2_LO 1.42860682030941723212e-6f
#define QK_EXP_C2 (1.0f / 2.0f)
#define QK_EXP_C3 (1.0f / 6.0f)
#define QK_EXP_C4 (1.0f / 24.0f)
#define QK_EXP_C5 (1.0f / 120.0f)
#define QK_EXP_C6 (1.0f / 720.0f)
#define QK_EXP_C7 (1.0f / 5040.0f)
/** tanh saturates to +-1 in float beyond this. */
#define QK_TANH_CLAMP 9.0f
/** sigmoid's exp argument stays finite inside this. */
#define QK_SIGMOID_CLAMP 80.0f

/** The vector activations, as compile-time arguments of the SIMD maps. */
enum { QK_ACT_TANH = 0, QK_ACT_SIGMOID = 1, QK_ACT_TANH_INT8 = 2 };

/* ------------------------------------------------------------------------
   The tanh of int8-activation paths (qk.h: qk_tanh_int8), in these steps
   on every ISA:
     v = fminf(fmaxf(x, -QK_TANH8_CLAMP), QK_TANH8_CLAMP),  u = v * v,
     p = fmaf(fmaf(QK_TANH8_P2, u, QK_TANH8_P1), u, QK_TANH8_P0),
     q = fmaf(fmaf(QK_TANH8_Q2, u, QK_TANH8_Q1), u, 1),
     tanh(x) ~ (v * p) / q.
   The coefficients are a rational fitted to tanh on [0, 5] for the least
   maximum relative error (iteratively reweighted least squares, then
   rounded to float). Measured in float over [0, 10] in steps of 5e-8 and
   down to 1e-30: relative and absolute error <= 5.3e-5; the largest value
   is 0.99996, reached at the clamp. The function is odd, exactly.
   ------------------------------------------------------------------------ */
#define QK_TANH8_CLAMP 5.0f
#define QK_TANH8_P0 0.9999480843544006f
#define QK_TANH8_P1 0.10242072492837906f
#define QK_TANH8_P2 0.000670660228934139f
#define QK_TANH8_Q1 0.43543580174446106f
#define QK_TANH8_Q2 0.012820822186768055f

/** Load 4 consecutive bytes (unaligned, no aliasing issues): the SIMD
    forms' broadcast of one 4-code quad. */
static inline __attribute__((always_inline)) int32_t load4(const int8_t *p)
{
  int32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

#endif
