/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  NAM's A2 WaveNet on the int8 WaveNet layer (issue 13, item 4): A2.nam's
  nano and standard submodels at 8, 4 and 2 bits with int8 dynamic
  activations run every one of their 23 layers as one qk_wavenet_layer_s8
  call (qm_model_int8_layers), fused on every ISA that has a form for the
  layer (AVX2, AVX-VNNI, AVX-512 VNNI: all 23) and through the kernels'
  step-by-step composition elsewhere (scalar: none fused), and give

    - the same bits at blocks of 1, 64 and 4096 frames on each ISA, and
    - the same bits on every ISA this CPU runs as on the scalar oracle.

  This fails when an A2 layer falls back to the engine's step path (the
  counts), when the fused forms drift from the oracle (the bits), or when
  a block boundary changes a frame's arithmetic.

  Usage: test_a2_int8 CURRENT_DIR INPUT_WAV. Exit 77 (skip) without them.
*/
#include "reference_io.h"
#include "slim.h"
#include "test_check.h"
#include "variant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_FRAMES 12000 /* a quarter second at 48 kHz: past every layer's lookback of 239 * 5 */

/** The ISAs qk.h gives a fused form of these layers (C = 8 and C = 3). */
static bool fuses_a2(qk_isa isa)
{
  return isa == QK_ISA_AVX2 || isa == QK_ISA_AVXVNNI || isa == QK_ISA_AVX512VNNI;
}

static qm_model *make_variant(const qm_desc *d, int bits, qk_isa isa, const float *x, int n)
{
  char err[512];
  qm_setting spec;
  qm_setting_default(&spec);
  spec.bits = bits;
  spec.activations = QM_ACTQ_DYNAMIC;
  qm_options o;
  qm_options_default(&o);
  o.isa = (int)isa;
  qm_model *m = qm_variant_create(d, &spec, &o, x, n, err, sizeof err);
  CHECK(m, "%d bits on %s: %s", bits, qk_isa_name(isa), err);
  return m;
}

/** The first sample where a and b differ in bits, or -1. */
static long first_difference(const float *a, const float *b, size_t n)
{
  for (size_t i = 0; i < n; ++i)
    if (memcmp(&a[i], &b[i], sizeof(float)))
      return (long)i;
  return -1;
}

/** One submodel at one bit width on every ISA; oracle holds the scalar render. */
static void check_size(const qm_desc *d, const char *size, int layers, int bits, const float *x,
                       size_t n)
{
  static const int blocks[] = {64, 1, 4096};
  float *oracle = malloc(n * sizeof(float)), *ref = malloc(n * sizeof(float)),
        *y = malloc(n * sizeof(float));
  if (!oracle || !ref || !y) {
    CHECK(false, "out of memory");
    goto done;
  }
  for (int k = QK_ISA_SCALAR; k < QK_ISA_COUNT; ++k) {
    const qk_isa isa = (qk_isa)k;
    if (!qk_isa_supported(isa))
      continue;
    qm_model *m = make_variant(d, bits, isa, x, (int)n);
    if (!m)
      continue;
    int int8 = -1, fused = -1;
    qm_model_int8_layers(m, &int8, &fused);
    const int want_fused = fuses_a2(isa) ? layers : 0;
    CHECK(int8 == layers, "%s %d bits %s: %d of %d layers on the int8 WaveNet layer", size, bits,
          qk_isa_name(isa), int8, layers);
    CHECK(fused == want_fused, "%s %d bits %s: %d layers fused, want %d", size, bits,
          qk_isa_name(isa), fused, want_fused);
    ref_render(m, x, ref, n, blocks[0]);
    for (size_t b = 1; b < sizeof blocks / sizeof blocks[0]; ++b) {
      ref_render(m, x, y, n, blocks[b]);
      const long bad = first_difference(ref, y, n);
      CHECK(bad < 0, "%s %d bits %s: block %d differs from block 64 at sample %ld: %.9g vs %.9g",
            size, bits, qk_isa_name(isa), blocks[b], bad, bad < 0 ? 0.0 : ref[bad],
            bad < 0 ? 0.0 : y[bad]);
    }
    if (isa == QK_ISA_SCALAR) {
      memcpy(oracle, ref, n * sizeof(float));
    } else {
      const long bad = first_difference(oracle, ref, n);
      CHECK(bad < 0, "%s %d bits: %s differs from scalar at sample %ld: %.9g vs %.9g", size, bits,
            qk_isa_name(isa), bad, bad < 0 ? 0.0 : ref[bad], bad < 0 ? 0.0 : oracle[bad]);
    }
    printf("  %-11s %d bits %-10s int8 layers %2d, fused %2d; blocks 1/64/4096 %s\n", size, bits,
           qk_isa_name(isa), int8, fused, failures ? "(failures so far)" : "bit-identical");
    qm_model_free(m);
  }
done:
  free(oracle);
  free(ref);
  free(y);
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s CURRENT_DIR INPUT_WAV\n", argv[0]);
    return 2;
  }
  char path[1024], err[512];
  size_t n = 0;
  float *x = ref_read_wav(argv[2], &n);
  snprintf(path, sizeof path, "%s/A2.nam", argv[1]);
  qm_desc *d = x ? qm_load_file(path, err, sizeof err) : NULL;
  if (!d) {
    fprintf(stderr, "skip: %s\n", x ? err : "no input");
    free(x);
    return 77;
  }
  if (n > N_FRAMES)
    n = N_FRAMES;
  static const struct {
    double slim;
    const char *name;
  } sizes[] = {{0.0, "A2 nano"}, {1.0, "A2 standard"}};
  static const int bits[] = {8, 4, 2};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s) {
    const qm_desc *plays = qm_desc_at_slim(d, sizes[s].slim, err, sizeof err);
    CHECK(plays && plays->arch == QM_ARCH_WAVENET, "%s: %s", sizes[s].name,
          plays ? "not a WaveNet" : err);
    if (!plays || plays->arch != QM_ARCH_WAVENET)
      continue;
    const int layers = plays->wavenet.arrays[0].n_layers;
    CHECK(plays->wavenet.n_arrays == 1 && layers == 23, "%s: %d arrays, %d layers (A2: 1, 23)",
          sizes[s].name, plays->wavenet.n_arrays, layers);
    for (size_t b = 0; b < sizeof bits / sizeof bits[0]; ++b)
      check_size(plays, sizes[s].name, layers, bits[b], x, n);
  }
  qm_desc_free(d);
  free(x);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
