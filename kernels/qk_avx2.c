/* Temporary: routes to the scalar kernels until the avx2 kernels land. */
#include "qk_internal.h"

const qk_isa_ops qk_ops_avx2 = {
  .isa = QK_ISA_AVX2,
  .pack = qk_scalar_pack,
  .gemm_f32 = qk_scalar_gemm_f32,
  .gemm_s8 = qk_scalar_gemm_s8,
  .quantize_act_dynamic = qk_scalar_quantize_act_dynamic,
  .quantize_act_static = qk_scalar_quantize_act_static,
  .tanh = qk_scalar_tanh,
  .sigmoid = qk_scalar_sigmoid,
};
