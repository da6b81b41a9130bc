/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Block-size exactness of the engine: qm_model_process() must give the same
  bits whatever block lengths the host uses. The kernels guarantee that an
  output column never depends on how many columns a call has (qk.h), and
  every per-frame step of the engine is elementwise, so a model rendered
  with blocks of 1, 3, 6, 13, 64, 256 and random lengths (crossing the internal chunk
  boundaries) must produce identical output.

  Models: wavenet_a1_standard.nam and lstm.nam, as FP32, 8-bit with int8
  dynamic activations, 8-bit with static (calibrated) activations, 4-bit
  weight-only and 4-bit group-32 asymmetric with dynamic activations; on
  the active ISA and (FP32, 8-bit dynamic, 4-bit weight-only) the scalar one.
  And A2 (current/A2.nam, A2 nano at slim 0 and A2 standard at slim 1:
  bottleneck = channels, layer1x1, LeakyReLU, the
  kernel-16 array head) as FP32 and 8-bit int8 dynamic (FP32 alone under
  sanitizers), A2 standard also 4-bit group-32 asymmetric int8 dynamic,
  on the active ISA:
  small blocks (up to 4 frames at 16 channels, 6 at 8, 12 at 3) run
  float layers on the kernels' frame form, one frame after another
  (qk_wavenet_layer_f32_frame_form), which must give the steps' bits
  (block 3 takes it on every layer, block 6 on A1's 8-channel array
  and on A2);
  current/slimmable_wavenet.nam (ReLU) as FP32 for its ReLU.

  Usage: test_block_exact NAM_DIR. Exit 77 (skip) if the files are missing.
*/
#include "calib_clip.h"
#include "slim.h"
#include "test_asan.h"
#include "test_check.h"
#include "variant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* xorshift, fixed seed: the random block lengths are reproducible */
static uint64_t rng = 0x2545F4914F6CDD1Dull;
static int rng_int(int lo, int hi)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return lo + (int)(rng % (uint64_t)(hi - lo + 1));
}

/** Render x through m (after a reset) in blocks of `block`, or random lengths if 0. */
static void render(qm_model *m, const float *x, float *y, int n, int block)
{
  qm_model_reset(m);
  for (int done = 0; done < n;) {
    int k = block ? block : rng_int(1, 700);
    if (k > n - done)
      k = n - done;
    qm_model_process(m, x + done, y + done, k);
    done += k;
  }
}

typedef struct {
  const char *name;
  int bits;
  qm_actq act;
  qz_granularity gran;
  bool asym;
} setting;

static void check_model(const qm_desc *d, const char *model, const setting *s, int isa,
                        const float *x, int n)
{
  char err[512];
  qm_setting spec;
  qm_setting_default(&spec);
  spec.bits = s->bits;
  spec.activations = s->act;
  spec.granularity = s->gran;
  spec.asymmetric = s->asym;
  spec.group = 32;
  qm_options o;
  qm_options_default(&o);
  o.isa = isa;
  qm_model *m = qm_variant_create(d, &spec, &o, x, n, err, sizeof err);
  CHECK(m, "%s %s: %s", model, s->name, err);
  if (!m)
    return;
  static const int blocks[] = {64, 1, 3, 6, 256, 0, 0, 13};
  const int nb = (int)(sizeof blocks / sizeof blocks[0]);
  float *ref = malloc((size_t)n * sizeof(float)), *y = malloc((size_t)n * sizeof(float));
  render(m, x, ref, n, blocks[0]);
  for (int b = 1; b < nb; ++b) {
    render(m, x, y, n, blocks[b]);
    int bad = -1;
    for (int i = 0; i < n && bad < 0; ++i)
      if (memcmp(&ref[i], &y[i], sizeof(float)))
        bad = i;
    if (blocks[b])
      CHECK(bad < 0, "%s %s isa %d: block %d differs from block 64 at sample %d: %.9g vs %.9g",
            model, s->name, isa, blocks[b], bad, bad < 0 ? 0.0 : ref[bad], bad < 0 ? 0.0 : y[bad]);
    else
      CHECK(bad < 0, "%s %s isa %d: random blocks differ from block 64 at sample %d: %.9g vs %.9g",
            model, s->name, isa, bad, bad < 0 ? 0.0 : ref[bad], bad < 0 ? 0.0 : y[bad]);
  }
  printf("  %-24s %-28s %-10s %s\n", model, s->name,
         isa < 0 ? qk_isa_name(qk_active_isa()) : qk_isa_name((qk_isa)isa),
         failures ? "(failures so far)" : "bit-identical at blocks 1/3/6/13/64/256/random");
  free(ref);
  free(y);
  qm_model_free(m);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s NAM_DIR\n", argv[0]);
    return 2;
  }
  char path[1024], err[512];
  /* a third of a second of the built-in guitar clip: notes, attacks and
     decays (input.wav's first third of a second is silence, on which a
     frame path feeding one frame's condition to every frame of a block
     went unseen) */
  int n = 0;
  float *x = qm_calib_clip(48000.0, 1.0 / 3.0, &n);
  if (!x) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  static const setting settings[] = {
      {"fp32", QM_BITS_FP32, QM_ACTQ_FLOAT, QZ_PER_CHANNEL, false},
      {"8-bit int8 dynamic", 8, QM_ACTQ_DYNAMIC, QZ_PER_CHANNEL, false},
      {"8-bit int8 static", 8, QM_ACTQ_STATIC, QZ_PER_CHANNEL, false},
      {"4-bit weight-only", 4, QM_ACTQ_FLOAT, QZ_PER_CHANNEL, false},
      {"4-bit g32 asym int8 dynamic", 4, QM_ACTQ_DYNAMIC, QZ_PER_GROUP, true},
      {"2-bit weight-only", 2, QM_ACTQ_FLOAT, QZ_PER_CHANNEL, false},
  };
  static const char *models[] = {"wavenet_a1_standard.nam", "lstm.nam"};
  const int isas[] = {-1, QK_ISA_SCALAR};
  for (size_t mi = 0; mi < sizeof models / sizeof models[0]; ++mi) {
    snprintf(path, sizeof path, "%s/%s", argv[1], models[mi]);
    qm_desc *d = qm_load_file(path, err, sizeof err);
    if (!d) {
      fprintf(stderr, "skip: %s\n", err);
      free(x);
      return 77;
    }
    for (size_t si = 0; si < sizeof settings / sizeof settings[0]; ++si)
      for (size_t ii = 0; ii < sizeof isas / sizeof isas[0]; ++ii)
        if (isas[ii] < 0 || si == 0 || si == 1 || si == 3) /* scalar: a subset (slow) */
          check_model(d, models[mi], &settings[si], isas[ii], x, n);
    qm_desc_free(d);
  }
  snprintf(path, sizeof path, "%s/current/A2.nam", argv[1]);
  qm_desc *a2 = qm_load_file(path, err, sizeof err);
  CHECK(a2, "%s", err);
  for (int slim = 0; a2 && slim <= 1; ++slim) {
    const qm_desc *plays = qm_desc_at_slim(a2, slim, err, sizeof err);
    CHECK(plays, "A2.nam slim %d: %s", slim, err);
    /* under sanitizers the float frame form alone (the int8 layers are
       the A1 models' above): A2 standard costs seconds there */
    for (size_t si = 0; plays && si < (ASAN_BUILD ? 1u : 2u); ++si)
      check_model(plays, slim ? "A2.nam slim 1" : "A2.nam slim 0", &settings[si], -1, x, n);
    /* A2 standard's 8-channel layers with group-32 scales: the fused form
       with a scale per tap (issue 14), paired history and chaining */
    if (plays && slim == 1 && !ASAN_BUILD)
      check_model(plays, "A2.nam slim 1", &settings[4], -1, x, n);
  }
  qm_desc_free(a2);
  /* a ReLU WaveNet (the frame form's third nonlinearity), at full size */
  snprintf(path, sizeof path, "%s/current/slimmable_wavenet.nam", argv[1]);
  qm_desc *relu = qm_load_file(path, err, sizeof err);
  CHECK(relu, "%s", err);
  if (relu)
    check_model(relu, "slimmable_wavenet.nam", &settings[0], -1, x, n);
  qm_desc_free(relu);
  free(x);
  printf("%d failures\n", failures);
  return failures ? 1 : 0;
}
