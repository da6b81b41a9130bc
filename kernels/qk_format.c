/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Names and code ranges of the weight formats and instruction sets.
*/
#include "qk.h"

#include <string.h>

typedef struct {
  const char *name;
  int bits;
  int min, max;
} format_info;

static const format_info formats[QK_FORMAT_COUNT] = {
    [QK_F32] = {"f32", 32, 0, 0}, [QK_S8] = {"s8", 8, -128, 127}, [QK_S4] = {"s4", 4, -8, 7},
    [QK_S2] = {"s2", 2, -2, 1},   [QK_CB4] = {"cb4", 4, 0, 15},   [QK_CB2] = {"cb2", 2, 0, 3},
    [QK_F16] = {"f16", 16, 0, 0}, [QK_BF16] = {"bf16", 16, 0, 0},
};

static const char *const isa_names[QK_ISA_COUNT] = {
    [QK_ISA_SCALAR] = "scalar",
    [QK_ISA_AVX2] = "avx2",
    [QK_ISA_AVX512VNNI] = "avx512vnni",
    [QK_ISA_NEON] = "neon",
    [QK_ISA_NEON_DOTPROD] = "neon-dotprod",
    [QK_ISA_AVXVNNI] = "avxvnni",
};

static bool format_valid(qk_format f) { return (unsigned)f < QK_FORMAT_COUNT; }

int qk_format_min(qk_format f) { return format_valid(f) ? formats[f].min : 0; }
int qk_format_max(qk_format f) { return format_valid(f) ? formats[f].max : 0; }
int qk_format_bits(qk_format f) { return format_valid(f) ? formats[f].bits : 0; }
const char *qk_format_name(qk_format f) { return format_valid(f) ? formats[f].name : "?"; }
bool qk_format_is_codebook(qk_format f) { return f == QK_CB4 || f == QK_CB2; }
bool qk_format_is_float(qk_format f) { return f == QK_F32 || f == QK_F16 || f == QK_BF16; }

const char *qk_isa_name(qk_isa isa) { return (unsigned)isa < QK_ISA_COUNT ? isa_names[isa] : "?"; }

bool qk_isa_from_name(const char *name, qk_isa *out)
{
  for (int i = 0; i < QK_ISA_COUNT; ++i) {
    if (name && !strcmp(name, isa_names[i])) {
      *out = (qk_isa)i;
      return true;
    }
  }
  return false;
}

int qk_group_count(int cols, int group)
{
  if (cols <= 0)
    return 0;
  if (group <= 0 || group >= cols)
    return 1;
  return (cols + group - 1) / group;
}
