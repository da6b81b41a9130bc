/* Temporary: routes to the scalar kernels until the avx512vnni kernels land. */
#include "qk_internal.h"

const qk_isa_ops qk_ops_avx512vnni = {
  .isa = QK_ISA_AVX512VNNI,
  .pack = qk_scalar_pack,
  .gemm_f32 = qk_scalar_gemm_f32,
  .gemm_s8 = qk_scalar_gemm_s8,
  .quantize_act_dynamic = qk_scalar_quantize_act_dynamic,
  .quantize_act_static = qk_scalar_quantize_act_static,
  .tanh = qk_scalar_tanh,
  .sigmoid = qk_scalar_sigmoid,
};
