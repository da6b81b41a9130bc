/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Sample model files for the loader tests and fuzz seeds. See sample_files.h.
*/
#include "sample_files.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *s;
  size_t n, cap;
} sb;

static void sb_printf(sb *b, const char *fmt, ...)
{
  va_list ap;
  for (;;) {
    size_t room = b->cap - b->n;
    va_start(ap, fmt);
    int k = vsnprintf(b->s ? b->s + b->n : NULL, room, fmt, ap);
    va_end(ap);
    if (k < 0)
      abort();
    if ((size_t)k < room) {
      b->n += (size_t)k;
      return;
    }
    size_t cap = (b->cap + (size_t)k + 1) * 2;
    char *s = realloc(b->s, cap);
    if (!s)
      abort();
    b->s = s;
    b->cap = cap;
  }
}

/** Deterministic small weights in (-0.5, 0.5). */
static double weight(long i) { return 0.5 * sin(0.7 * (double)i + 0.3); }

/** n weights as a JSON array body; `bad_at` >= 0 puts `bad` there. */
static void weights(sb *b, long n, long bad_at, const char *bad)
{
  sb_printf(b, "[");
  for (long i = 0; i < n; ++i) {
    if (i == bad_at)
      sb_printf(b, "%s%s", i ? "," : "", bad);
    else
      sb_printf(b, "%s%.6g", i ? "," : "", weight(i));
  }
  sb_printf(b, "]");
}

typedef struct {
  int in, cond, head, ch, k, ndil;
  int dil[8];
  bool gated, head_bias;
  const char *act;
} arr_cfg;

static long wavenet_count(const arr_cfg *a, int na)
{
  long n = 1;
  for (int i = 0; i < na; ++i) {
    long C = a[i].ch, Z = a[i].gated ? 2 * C : C;
    n += C * a[i].in;
    n += a[i].ndil * (Z * C * a[i].k + Z + Z * a[i].cond + C * C + C);
    n += a[i].head * C + (a[i].head_bias ? a[i].head : 0);
  }
  return n;
}

static const char *metadata =
    "\"metadata\": {\"name\": \"Sample\", \"modeled_by\": \"tests\", \"gear_type\": \"amp\","
    " \"gear_make\": \"Q\", \"gear_model\": \"T1\", \"tone_type\": \"crunch\","
    " \"loudness\": -20.5, \"gain\": 0.4, \"input_level_dbu\": 12.0,"
    " \"output_level_dbu\": 6.5, \"training\": {\"validation_esr\": 0.0123}}";

static char *nam_wavenet(const char *version, const arr_cfg *a, int na, long delta, long bad_at,
                         const char *bad, size_t *len)
{
  sb b = {0};
  sb_printf(&b, "{\"version\": \"%s\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": [",
            version);
  for (int i = 0; i < na; ++i) {
    sb_printf(&b,
              "%s{\"input_size\": %d, \"condition_size\": %d, \"head_size\": %d, "
              "\"channels\": %d, \"kernel_size\": %d, \"dilations\": [",
              i ? ", " : "", a[i].in, a[i].cond, a[i].head, a[i].ch, a[i].k);
    for (int d = 0; d < a[i].ndil; ++d)
      sb_printf(&b, "%s%d", d ? ", " : "", a[i].dil[d]);
    sb_printf(&b, "], \"activation\": \"%s\", \"gated\": %s, \"head_bias\": %s}", a[i].act,
              a[i].gated ? "true" : "false", a[i].head_bias ? "true" : "false");
  }
  sb_printf(&b,
            "], \"head\": null, \"head_scale\": 0.02}, %s, \"sample_rate\": 48000, "
            "\"weights\": ",
            metadata);
  /* Absurd shapes are refused before the weights are read: don't write
     gigabytes of them. */
  long count = wavenet_count(a, na) + delta;
  weights(&b, count > 1000000 ? 0 : count, bad_at, bad);
  sb_printf(&b, "}\n");
  *len = b.n;
  return b.s;
}

/**
   A 0.6.0 WaveNet of one layer array with the given members after its
   fixed ones (input_size 1, condition_size 1, channels 2, dilations
   [1, 2]), `config` more members of config, and n_weights weights: for
   the options of A2 and later (kernel_sizes, activation objects, gating
   modes, groups, FiLM, heads, condition_dsp, slimmable).
*/
static char *nam_wavenet_a2(const char *layer, const char *config, long n_weights, size_t *len)
{
  sb b = {0};
  sb_printf(&b,
            "{\"version\": \"0.6.0\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": "
            "[{\"input_size\": 1, \"condition_size\": 1, \"channels\": 2, \"dilations\": [1, 2], "
            "%s}]%s%s, \"head_scale\": 0.02}, \"sample_rate\": 48000, \"weights\": ",
            layer, *config ? ", " : "", config);
  weights(&b, n_weights, -1, NULL);
  sb_printf(&b, "}\n");
  *len = b.n;
  return b.s;
}

static char *nam_lstm(int layers, int hidden, long delta, size_t *len)
{
  long n = hidden + 1;
  for (int l = 0; l < layers; ++l) {
    long I = l ? hidden : 1;
    n += 4L * hidden * (I + hidden) + 6L * hidden;
  }
  sb b = {0};
  sb_printf(&b,
            "{\"version\": \"0.5.4\", \"architecture\": \"LSTM\", \"config\": "
            "{\"input_size\": 1, \"hidden_size\": %d, \"num_layers\": %d}, %s, "
            "\"sample_rate\": 44100, \"weights\": ",
            hidden, layers, metadata);
  weights(&b, n + delta, -1, NULL);
  sb_printf(&b, "}\n");
  *len = b.n;
  return b.s;
}

static char *nam_linear(int rf, bool bias, size_t *len)
{
  sb b = {0};
  sb_printf(&b,
            "{\"version\": \"0.5.1\", \"architecture\": \"Linear\", \"config\": "
            "{\"receptive_field\": %d, \"bias\": %s}, \"weights\": ",
            rf, bias ? "true" : "false");
  weights(&b, rf + (bias ? 1 : 0), -1, NULL);
  sb_printf(&b, "}\n");
  *len = b.n;
  return b.s;
}

/** The next number of a JSON array, *count of them written before it. */
static void number(sb *b, long *count, double v)
{
  sb_printf(b, "%s%.6g", (*count)++ ? "," : "", v);
}

/** What a ConvNet sample's batchnorm says: sane, a running_var below
    -eps, or a weight over a running_var + eps that overflows the scale. */
typedef enum { CN_BN_OK, CN_BN_NEG_VAR, CN_BN_HUGE } cn_bn;

/**
   A NAM ConvNet: C channels, nd blocks, `extra` more config fields (e.g.
   ", \"groups\": 1"), `delta` weights more (or fewer) than the config
   implies. Batchnorm running variances are positive unless `bn` says.
*/
static char *nam_convnet(int C, const int *dil, int nd, bool batchnorm, const char *act,
                         const char *extra, long delta, cn_bn bn, size_t *len)
{
  sb b = {0};
  sb_printf(&b,
            "{\"version\": \"0.5.4\", \"architecture\": \"ConvNet\", \"config\": "
            "{\"channels\": %d, \"dilations\": [",
            C);
  for (int i = 0; i < nd; ++i)
    sb_printf(&b, "%s%d", i ? ", " : "", dil[i]);
  sb_printf(&b, "], \"batchnorm\": %s, \"activation\": \"%s\"%s}, \"weights\": [",
            batchnorm ? "true" : "false", act, extra);
  long seed = 0, written = 0;
  for (int k = 0; k < nd; ++k) {
    const long in = k ? C : 1;
    for (long i = 0; i < (long)C * in * 2; ++i)
      number(&b, &written, weight(seed++));
    if (!batchnorm) {
      for (int i = 0; i < C; ++i)
        number(&b, &written, weight(seed++));
      continue;
    }
    for (int part = 0; part < 4; ++part) /* mean, var, weight, bias */
      for (int i = 0; i < C; ++i) {
        double v = weight(seed++);
        if (part == 1)
          v = bn == CN_BN_NEG_VAR && k == 1 && i == 0 ? -1.0 : bn == CN_BN_HUGE ? 1e-30 : 0.75 + v;
        if (part == 2 && bn == CN_BN_HUGE)
          v = 1e30;
        number(&b, &written, v);
      }
    number(&b, &written, bn == CN_BN_HUGE ? 0.0 : 1e-5); /* eps */
  }
  for (long i = 0; i < C + 1 + delta; ++i)
    number(&b, &written, weight(seed++));
  sb_printf(&b, "]}\n");
  *len = b.n;
  return b.s;
}

/** A JSON matrix [rows][cols] (rows == 0: a flat vector of cols). */
static void matrix(sb *b, int rows, int cols, long *seed, const char *bad)
{
  if (rows == 0) {
    sb_printf(b, "[");
    for (int j = 0; j < cols; ++j)
      sb_printf(b, "%s%.6g", j ? "," : "", weight((*seed)++));
    sb_printf(b, "]");
    return;
  }
  sb_printf(b, "[");
  for (int i = 0; i < rows; ++i) {
    sb_printf(b, "%s[", i ? "," : "");
    for (int j = 0; j < cols; ++j) {
      if (bad && i == 0 && j == 0)
        sb_printf(b, "%s", bad);
      else
        sb_printf(b, "%s%.6g", j ? "," : "", weight((*seed)++));
    }
    sb_printf(b, "]");
  }
  sb_printf(b, "]");
}

typedef enum {
  K_GOOD,
  K_ROWS,
  K_TYPE,
  K_GRUBIAS,
  K_NONFINITE,
  K_OUT2,
  K_SKIP,
  K_ACT,
  K_NOLAYERS,
  K_WTYPE
} keras_variant;

/** LSTM 1->3, GRU 3->2, Dense 2->2 tanh, activation relu, Dense 2->1 (variants break it). */
static char *keras(keras_variant v, size_t *len)
{
  sb b = {0};
  long seed = 1;
  sb_printf(&b,
            "{\"in_shape\": [null, null, 1], \"in_skip\": %d, \"in_gain\": 0.0, "
            "\"out_gain\": -3.0, \"metadata\": {\"name\": \"sample\", \"samplerate\": "
            "\"48000\"}",
            v == K_SKIP ? 2 : 1);
  if (v == K_NOLAYERS) {
    sb_printf(&b, "}\n");
    *len = b.n;
    return b.s;
  }
  sb_printf(&b, ", \"layers\": [");
  /* LSTM 1 -> 3 */
  sb_printf(&b, "{\"type\": \"lstm\", \"activation\": \"\", \"shape\": [null, null, 3], "
                "\"weights\": [");
  matrix(&b, v == K_ROWS ? 2 : 1, 12, &seed, NULL);
  sb_printf(&b, ",");
  matrix(&b, 3, 12, &seed, NULL);
  sb_printf(&b, ",");
  matrix(&b, 0, 12, &seed, NULL);
  sb_printf(&b, "]}, ");
  /* GRU 3 -> 2 */
  sb_printf(&b,
            "{\"type\": \"%s\", \"activation\": \"\", \"shape\": [null, null, 2], "
            "\"weights\": [",
            v == K_TYPE ? "conv2d" : "gru");
  matrix(&b, 3, 6, &seed, v == K_NONFINITE ? "1e300" : NULL);
  sb_printf(&b, ",");
  matrix(&b, 2, 6, &seed, NULL);
  sb_printf(&b, ",");
  if (v == K_GRUBIAS)
    matrix(&b, 0, 6, &seed, NULL);
  else
    matrix(&b, 2, 6, &seed, NULL);
  sb_printf(&b, "]}, ");
  /* Dense 2 -> 2 tanh, activation, Dense 2 -> 1 (or 2) */
  sb_printf(&b,
            "{\"type\": \"dense\", \"activation\": \"%s\", \"shape\": [null, null, 2], "
            "\"weights\": [",
            v == K_ACT ? "softmax" : "tanh");
  matrix(&b, 2, 2, &seed, NULL);
  sb_printf(&b, ",");
  matrix(&b, 0, 2, &seed, NULL);
  sb_printf(&b, "]}, {\"type\": \"activation\", \"activation\": \"relu\", \"shape\": [null, "
                "null, 2]}, ");
  int o = v == K_OUT2 ? 2 : 1;
  sb_printf(&b,
            "{\"type\": \"dense\", \"activation\": \"\", \"shape\": [null, null, %d], "
            "\"weights\": ",
            o);
  if (v == K_WTYPE) {
    sb_printf(&b, "\"none\"}]}\n");
    *len = b.n;
    return b.s;
  }
  sb_printf(&b, "[");
  matrix(&b, 2, o, &seed, NULL);
  sb_printf(&b, ",");
  matrix(&b, 0, o, &seed, NULL);
  sb_printf(&b, "]}]}\n");
  *len = b.n;
  return b.s;
}

static char *dup_text(const char *s, size_t *len)
{
  *len = strlen(s);
  char *p = malloc(*len + 1);
  memcpy(p, s, *len + 1);
  return p;
}

/** A Linear model whose metadata name is 2000 bytes (cut to 256 at load). */
static char *long_name(size_t *len)
{
  sb b = {0};
  sb_printf(&b, "{\"version\": \"0.5.0\", \"architecture\": \"Linear\", \"config\": "
                "{\"receptive_field\": 2, \"bias\": false}, \"weights\": [0.5, 0.25], "
                "\"metadata\": {\"name\": \"");
  for (int i = 0; i < 200; ++i)
    sb_printf(&b, "Name %04d ", i);
  sb_printf(&b, "\"}}");
  *len = b.n;
  return b.s;
}

/** A keras file with more values than the DOM may hold (test vectors). */
static char *many_values(size_t *len)
{
  sb b = {0};
  sb_printf(&b, "{\"in_shape\": [null, null, 1], \"input_batch\": [0");
  for (int i = 0; i < 300000; ++i)
    sb_printf(&b, ",0");
  sb_printf(&b, "], \"layers\": []}");
  *len = b.n;
  return b.s;
}

int samples_make(sample_file **out)
{
  sample_file *s = calloc(192, sizeof *s);
  int n = 0;
#define ADD(NAME, KERAS, EXPECT, EXPR)                                                             \
  do {                                                                                             \
    snprintf(s[n].name, sizeof s[n].name, "%s", NAME);                                             \
    s[n].keras = KERAS;                                                                            \
    s[n].expect = EXPECT;                                                                          \
    s[n].text = EXPR;                                                                              \
    ++n;                                                                                           \
  } while (0)

  /* Two chained arrays: gated Tanh (K 3) into ReLU (K 2) with head bias. */
  const arr_cfg two[2] = {
      {1, 1, 3, 4, 3, 3, {1, 2, 4}, true, false, "Tanh"},
      {4, 1, 1, 3, 2, 2, {1, 8}, false, true, "ReLU"},
  };
  arr_cfg one = {1, 1, 1, 2, 2, 2, {1, 2}, false, true, "Tanh"};
  arr_cfg acts[4] = {one, one, one, one};
  acts[0].act = "Sigmoid";
  acts[1].act = "Hardtanh";
  acts[2].act = "Fasttanh";
  acts[3].act = "Swish";

  ADD("good_wavenet2.nam", false, NULL, nam_wavenet("0.5.0", two, 2, 0, -1, NULL, &s[n].len));
  ADD("good_wavenet1.nam", false, NULL, nam_wavenet("0.5.2", &one, 1, 0, -1, NULL, &s[n].len));
  ADD("good_version073.nam", false, NULL, nam_wavenet("0.7.3", &one, 1, 0, -1, NULL, &s[n].len));
  ADD("good_sigmoid.nam", false, NULL, nam_wavenet("0.5.0", &acts[0], 1, 0, -1, NULL, &s[n].len));
  ADD("good_hardtanh.nam", false, NULL, nam_wavenet("0.5.0", &acts[1], 1, 0, -1, NULL, &s[n].len));
  ADD("good_fasttanh.nam", false, NULL, nam_wavenet("0.5.0", &acts[2], 1, 0, -1, NULL, &s[n].len));
  ADD("good_lstm2.nam", false, NULL, nam_lstm(2, 3, 0, &s[n].len));
  ADD("good_linear.nam", false, NULL, nam_linear(16, true, &s[n].len));
  ADD("good_keras.json", true, NULL, keras(K_GOOD, &s[n].len));
  /* A2: per-layer kernel sizes 3 and 2, LeakyReLU, a head conv of 4 taps:
     rechannel 2, layers 22 + 18, head 9, head_scale 1. */
  ADD("good_a2.nam", false, NULL,
      nam_wavenet_a2("\"kernel_sizes\": [3, 2], \"activation\": {\"type\": \"LeakyReLU\", "
                     "\"negative_slope\": 0.02}, \"head\": {\"out_channels\": 1, "
                     "\"kernel_size\": 4, \"bias\": true}",
                     "", 52, &s[n].len));
  /* Blended gating, grouped conv / layer1x1 / head1x1, conv_post_film and a
     post-stack head of two convs: rechannel 2, per layer conv 8 + 4 (K 2,
     groups 2) or 4 + 4 (K 1), mixin 4, layer1x1 4, head1x1 4, FiLM 16;
     head 2; post-stack head 6 + 3; head_scale 1. */
  ADD("good_a2_options.nam", false, NULL,
      nam_wavenet_a2("\"kernel_sizes\": [2, 1], \"activation\": \"SiLU\", \"gating_mode\": "
                     "\"blended\", \"secondary_activation\": {\"type\": \"LeakyHardtanh\", "
                     "\"min_val\": 0}, \"groups_input\": 2, \"layer1x1\": {\"active\": true, "
                     "\"groups\": 2}, \"head1x1\": {\"active\": true, \"out_channels\": 2, "
                     "\"groups\": 2}, \"conv_post_film\": {\"active\": true}, \"head\": "
                     "{\"out_channels\": 1, \"kernel_size\": 1, \"bias\": false}",
                     "\"head\": {\"channels\": 2, \"out_channels\": 1, \"kernel_sizes\": [2, 1], "
                     "\"activation\": \"Softsign\"}",
                     2 + (12 + 4 + 4 + 4 + 16) + (8 + 4 + 4 + 4 + 16) + 2 + 9 + 1, &s[n].len));

  /* Syntax and structure. */
  ADD("not_json.nam", false, "not valid JSON",
      dup_text("{\"version\": \"0.5.0\", oops", &s[n].len));
  ADD("empty.nam", false, "not valid JSON", dup_text("", &s[n].len));
  ADD("array.nam", false, "not an object", dup_text("[1, 2, 3]", &s[n].len));
  ADD("neither.json", false, "not a model file", dup_text("{\"hello\": 1}", &s[n].len));
  ADD("no_weights.nam", false, "missing key \"weights\"",
      dup_text("{\"version\": \"0.5.0\", \"architecture\": \"LSTM\", \"config\": "
               "{\"hidden_size\": 2, \"num_layers\": 1}}",
               &s[n].len));
  ADD("no_config.nam", false, "missing key \"config\"",
      dup_text("{\"version\": \"0.5.0\", \"architecture\": \"LSTM\", \"weights\": []}", &s[n].len));
  ADD("no_version.nam", false, "missing key \"version\"",
      dup_text("{\"architecture\": \"LSTM\", \"config\": {}, \"weights\": []}", &s[n].len));
  ADD("no_hidden.nam", false, "missing key \"hidden_size\" in config",
      dup_text("{\"version\": \"0.5.0\", \"architecture\": \"LSTM\", \"config\": "
               "{\"num_layers\": 1}, \"weights\": []}",
               &s[n].len));
  ADD("weights_type.nam", false, "\"weights\" must be an array",
      dup_text("{\"version\": \"0.5.0\", \"architecture\": \"LSTM\", \"config\": "
               "{\"hidden_size\": 2, \"num_layers\": 1}, \"weights\": \"many\"}",
               &s[n].len));
  ADD("int_type.nam", false, "\"hidden_size\" in config must be an integer, not a string",
      dup_text("{\"version\": \"0.5.0\", \"architecture\": \"LSTM\", \"config\": "
               "{\"hidden_size\": \"2\", \"num_layers\": 1}, \"weights\": []}",
               &s[n].len));
  ADD("bool_type.nam", false, "\"gated\" in config.layers[0] must be true or false",
      dup_text("{\"version\": \"0.5.0\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": "
               "[{\"input_size\": 1, \"condition_size\": 1, \"head_size\": 1, \"channels\": 2, "
               "\"kernel_size\": 2, \"dilations\": [1], \"activation\": \"Tanh\", \"gated\": 1, "
               "\"head_bias\": false}], \"head_scale\": 1}, \"weights\": []}",
               &s[n].len));
  ADD("arch.nam", false, "unknown architecture \"Transformer\"",
      dup_text("{\"version\": \"0.5.0\", \"architecture\": \"Transformer\", \"config\": {}, "
               "\"weights\": []}",
               &s[n].len));
  ADD("version08.nam", false, "unsupported file version \"0.8.0\"",
      nam_wavenet("0.8.0", &one, 1, 0, -1, NULL, &s[n].len));
  ADD("version10.nam", false, "unsupported file version \"1.0.0\"",
      nam_wavenet("1.0.0", &one, 1, 0, -1, NULL, &s[n].len));
  ADD("version04.nam", false, "unsupported file version \"0.4.9\"",
      nam_wavenet("0.4.9", &one, 1, 0, -1, NULL, &s[n].len));
  ADD("version_text.nam", false, "unreadable file version",
      nam_wavenet("five", &one, 1, 0, -1, NULL, &s[n].len));

  /* Weights. */
  ADD("count_short.nam", false, "expected 42 weights, found 41",
      nam_wavenet("0.5.0", &one, 1, -1, -1, NULL, &s[n].len));
  ADD("count_long.nam", false, "expected 42 weights, found 43",
      nam_wavenet("0.5.0", &one, 1, 1, -1, NULL, &s[n].len));
  ADD("count_lstm.nam", false, "expected 160 weights, found 159", nam_lstm(2, 3, -1, &s[n].len));
  ADD("inf_weight.nam", false, "weight 5 is not finite",
      nam_wavenet("0.5.0", &one, 1, 0, 5, "1e39", &s[n].len));
  ADD("huge_weight.nam", false, "weight 3 is not finite",
      nam_wavenet("0.5.0", &one, 1, 0, 3, "-1e308", &s[n].len));
  ADD("null_weight.nam", false, "weight 7 is null, not a number",
      nam_wavenet("0.5.0", &one, 1, 0, 7, "null", &s[n].len));
  ADD("nan_literal.nam", false, "not valid JSON",
      nam_wavenet("0.5.0", &one, 1, 0, 2, "NaN", &s[n].len));

  /* Shapes and sizes. */
  arr_cfg wide = one;
  wide.ch = 100000;
  ADD("channels_huge.nam", false, "\"channels\" in config.layers[0] is 100000, outside [1, 1024]",
      nam_wavenet("0.5.0", &wide, 1, 0, -1, NULL, &s[n].len));
  arr_cfg deep = {
      1,    1,     1,     1024, 64, 8, {65536, 65536, 65536, 65536, 65536, 65536, 65536, 65536},
      true, false, "Tanh"};
  ADD("rf_huge.nam", false, "receptive field over",
      nam_wavenet("0.5.0", &deep, 1, 0, -1, NULL, &s[n].len));
  arr_cfg big = {1, 1, 1, 1024, 64, 1, {1}, true, false, "Tanh"};
  ADD("model_huge.nam", false, "model too large",
      nam_wavenet("0.5.0", &big, 1, 0, -1, NULL, &s[n].len));
  ADD("lstm_huge.nam", false, "model too large",
      dup_text("{\"version\": \"0.5.0\", \"architecture\": \"LSTM\", \"config\": "
               "{\"hidden_size\": 1024, \"num_layers\": 200}, \"weights\": []}",
               &s[n].len));
  ADD("dilation0.nam", false, "config.layers[0].dilations[1] is 0",
      dup_text("{\"version\": \"0.5.0\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": "
               "[{\"input_size\": 1, \"condition_size\": 1, \"head_size\": 1, \"channels\": 2, "
               "\"kernel_size\": 2, \"dilations\": [1, 0], \"activation\": \"Tanh\", \"gated\": "
               "false, \"head_bias\": false}], \"head_scale\": 1}, \"weights\": []}",
               &s[n].len));
  arr_cfg chain[2] = {two[0], two[1]};
  chain[1].in = 5;
  ADD("chain.nam", false, "config.layers[1].input_size is 5, the array before it has 4 channels",
      nam_wavenet("0.5.0", chain, 2, 0, -1, NULL, &s[n].len));
  ADD("swish.nam", false, "unsupported activation \"Swish\"",
      nam_wavenet("0.5.0", &acts[3], 1, 0, -1, NULL, &s[n].len));
  ADD("head.nam", false, "missing key \"out_channels\" in config.head",
      dup_text("{\"version\": \"0.5.0\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": "
               "[{\"input_size\": 1, \"condition_size\": 1, \"head_size\": 1, \"channels\": 2, "
               "\"kernel_size\": 2, \"dilations\": [1], \"activation\": \"Tanh\", \"gated\": "
               "false, \"head_bias\": false}], \"head\": {\"channels\": 2}, \"head_scale\": 1}, "
               "\"weights\": []}",
               &s[n].len));
  ADD("linear_rf.nam", false, "\"receptive_field\" in config is 0",
      dup_text("{\"version\": \"0.5.0\", \"architecture\": \"Linear\", \"config\": "
               "{\"receptive_field\": 0, \"bias\": true}, \"weights\": []}",
               &s[n].len));

  /* A2 and later options: each refusal names the field. */
#define KS "\"kernel_size\": 2, "
#define TANH "\"activation\": \"Tanh\", "
#define HEAD1 "\"head_size\": 1, \"head_bias\": false"
  ADD("a2_ks_both.nam", false, "config.layers[0] has both kernel_size and kernel_sizes",
      nam_wavenet_a2(KS "\"kernel_sizes\": [2, 2], " TANH HEAD1, "", 0, &s[n].len));
  ADD("a2_ks_count.nam", false, "config.layers[0].kernel_sizes has 3 entries, dilations 2",
      nam_wavenet_a2("\"kernel_sizes\": [2, 2, 2], " TANH HEAD1, "", 0, &s[n].len));
  ADD("a2_ks_none.nam", false, "config.layers[0] needs kernel_size or kernel_sizes",
      nam_wavenet_a2(TANH HEAD1, "", 0, &s[n].len));
  ADD("a2_act_count.nam", false, "config.layers[0].activation has 3 entries, dilations 2",
      nam_wavenet_a2(KS "\"activation\": [\"Tanh\", \"ReLU\", \"SiLU\"], " HEAD1, "", 0,
                     &s[n].len));
  ADD("a2_act_type.nam", false, "unsupported activation \"Mish\" in config.layers[0].activation",
      nam_wavenet_a2(KS "\"activation\": {\"type\": \"Mish\"}, " HEAD1, "", 0, &s[n].len));
  ADD("a2_prelu.nam", false, "config.layers[0].activation[1] has 3 negative_slopes for 2 channels",
      nam_wavenet_a2(KS "\"activation\": [\"ReLU\", {\"type\": \"PReLU\", \"negative_slopes\": "
                        "[0.1, 0.2, 0.3]}], " HEAD1,
                     "", 0, &s[n].len));
  ADD("a2_gating.nam", false, "config.layers[0].gating_mode is \"sometimes\"",
      nam_wavenet_a2(KS TANH "\"gating_mode\": \"sometimes\", " HEAD1, "", 0, &s[n].len));
  ADD("a2_secondary.nam", false, "config.layers[0].secondary_activation has 1 entries, dilations 2",
      nam_wavenet_a2(KS TANH "\"gating_mode\": [\"gated\", \"none\"], \"secondary_activation\": "
                             "[\"Sigmoid\"], " HEAD1,
                     "", 0, &s[n].len));
  ADD("a2_groups.nam", false, "config.layers[0].groups_input: groups 3 does not divide",
      nam_wavenet_a2(KS TANH "\"groups_input\": 3, " HEAD1, "", 0, &s[n].len));
  ADD("a2_bottleneck.nam", false,
      "config.layers[0].layer1x1 is inactive, so bottleneck (1) must equal channels (2)",
      nam_wavenet_a2(KS TANH "\"bottleneck\": 1, \"layer1x1\": {\"active\": false, \"groups\": "
                             "1}, " HEAD1,
                     "", 0, &s[n].len));
  ADD("a2_film_type.nam", false, "config.layers[0].conv_pre_film must be false or an object",
      nam_wavenet_a2(KS TANH "\"conv_pre_film\": true, " HEAD1, "", 0, &s[n].len));
  ADD("a2_film_head1x1.nam", false,
      "config.layers[0].head1x1_post_film is active but head1x1 is not",
      nam_wavenet_a2(KS TANH "\"head1x1_post_film\": {\"shift\": false}, " HEAD1, "", 0,
                     &s[n].len));
  ADD("a2_head_kernel.nam", false, "missing key \"kernel_size\" in config.layers[0].head",
      nam_wavenet_a2(KS TANH "\"head\": {\"out_channels\": 1, \"bias\": true}", "", 0, &s[n].len));
  ADD("a2_post_head.nam", false, "config.head.kernel_sizes must be an array of 1 to",
      nam_wavenet_a2(KS TANH HEAD1,
                     "\"head\": {\"channels\": 2, \"out_channels\": 1, \"kernel_sizes\": [], "
                     "\"activation\": \"ReLU\"}",
                     0, &s[n].len));
  ADD("a2_in_channels.nam", false, "config.in_channels is 2: only mono models",
      nam_wavenet_a2(KS TANH HEAD1, "\"in_channels\": 2", 0, &s[n].len));
  ADD("a2_stereo_out.nam", false, "the model has 2 output channels: only mono models",
      nam_wavenet_a2(KS TANH "\"head_size\": 2, \"head_bias\": false", "", 0, &s[n].len));
  ADD("a2_condition_size.nam", false,
      "config.layers[0].condition_size is 2, but the condition has 1 channels (the input)",
      dup_text("{\"version\": \"0.6.0\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": "
               "[{\"input_size\": 1, \"condition_size\": 2, \"channels\": 2, \"dilations\": [1], "
               "\"kernel_size\": 2, \"activation\": \"Tanh\", \"head_size\": 1, \"head_bias\": "
               "false}], \"head_scale\": 1}, \"weights\": []}",
               &s[n].len));
  ADD("a2_condition_dsp.nam", false, "config.condition_dsp: config.layers must be a non-empty",
      nam_wavenet_a2(KS TANH HEAD1,
                     "\"condition_dsp\": {\"version\": \"0.6.0\", \"architecture\": "
                     "\"WaveNet\", \"config\": {\"layers\": []}, \"weights\": []}",
                     0, &s[n].len));
  ADD("a2_slim_order.nam", false,
      "config.layers[0].slimmable.kwargs.allowed_channels must be ascending (1 after 2)",
      nam_wavenet_a2(KS TANH HEAD1 ", \"slimmable\": {\"method\": \"slice_channels_uniform\", "
                                   "\"kwargs\": {\"allowed_channels\": [2, 1]}}",
                     "", 0, &s[n].len));
  ADD("a2_slim_last.nam", false,
      "config.layers[0].slimmable.kwargs.allowed_channels ends at 1, not at the 2 channels",
      nam_wavenet_a2(KS TANH HEAD1 ", \"slimmable\": {\"method\": \"slice_channels_uniform\", "
                                   "\"kwargs\": {\"allowed_channels\": [1]}}",
                     "", 0, &s[n].len));
  ADD("a2_slim_method.nam", false, "config.layers[0].slimmable.method \"magic\" is not supported",
      nam_wavenet_a2(KS TANH HEAD1 ", \"slimmable\": {\"method\": \"magic\"}", "", 0, &s[n].len));
  /* 71,000 weights in the file, 66 million floats as dense matrices */
  ADD("a2_grouped_huge.nam", false, "model too large",
      dup_text("{\"version\": \"0.6.0\", \"architecture\": \"WaveNet\", \"config\": {\"layers\": "
               "[{\"input_size\": 1, \"condition_size\": 1, \"channels\": 1024, \"dilations\": "
               "[1], \"kernel_size\": 64, \"groups_input\": 1024, \"layer1x1\": {\"active\": "
               "true, \"groups\": 1024}, \"activation\": \"Tanh\", \"head_size\": 1, "
               "\"head_bias\": false}], \"head_scale\": 1}, \"weights\": []}",
               &s[n].len));
#undef KS
#undef TANH
#undef HEAD1
  /* ConvNet: 3 channels with batchnorm, 2 with a conv bias (0.5.4, as NAM writes them). */
  const int cn_dil[3] = {1, 2, 4}, cn_zero[2] = {1, 0};
  ADD("good_convnet_bn.nam", false, NULL,
      nam_convnet(3, cn_dil, 3, true, "Tanh", "", 0, CN_BN_OK, &s[n].len));
  ADD("good_convnet_relu.nam", false, NULL,
      nam_convnet(2, cn_dil, 2, false, "ReLU",
                  ", \"groups\": 1, \"in_channels\": 1, \"out_channels\": 1", 0, CN_BN_OK,
                  &s[n].len));
  ADD("cn_count.nam", false, "expected 85 weights, found 84",
      nam_convnet(3, cn_dil, 3, true, "Tanh", "", -1, CN_BN_OK, &s[n].len));
  ADD("cn_groups.nam", false, "\"groups\" in config is 2",
      nam_convnet(2, cn_dil, 2, false, "ReLU", ", \"groups\": 2", 0, CN_BN_OK, &s[n].len));
  ADD("cn_stereo.nam", false, "\"in_channels\" 2 and \"out_channels\" 1 in config",
      nam_convnet(2, cn_dil, 2, false, "ReLU", ", \"in_channels\": 2", 0, CN_BN_OK, &s[n].len));
  ADD("cn_variance.nam", false, "batchnorm of block 1: running_var + eps is -0.99999 at channel 0",
      nam_convnet(3, cn_dil, 3, true, "Tanh", "", 0, CN_BN_NEG_VAR, &s[n].len));
  ADD("cn_scale.nam", false, "batchnorm of block 0: channel 0 scales its conv beyond float range",
      nam_convnet(3, cn_dil, 3, true, "Tanh", "", 0, CN_BN_HUGE, &s[n].len));
  ADD("cn_dilation0.nam", false, "config.dilations[1] is 0, outside [1, 65536]",
      nam_convnet(2, cn_zero, 2, false, "ReLU", "", 0, CN_BN_OK, &s[n].len));
  ADD("cn_act.nam", false, "unsupported activation \"Swish\" in config.activation",
      nam_convnet(2, cn_dil, 2, false, "Swish", "", 0, CN_BN_OK, &s[n].len));
  ADD("cn_channels.nam", false, "\"channels\" in config is 0, outside [1, 1024]",
      nam_convnet(0, cn_dil, 2, false, "ReLU", "", 0, CN_BN_OK, &s[n].len));
  ADD("cn_no_batchnorm.nam", false, "missing key \"batchnorm\" in config",
      dup_text("{\"version\": \"0.5.4\", \"architecture\": \"ConvNet\", \"config\": "
               "{\"channels\": 2, \"dilations\": [1], \"activation\": \"Tanh\"}, \"weights\": []}",
               &s[n].len));
  ADD("cn_dilations.nam", false, "\"dilations\" in config must be a non-empty array",
      dup_text("{\"version\": \"0.5.4\", \"architecture\": \"ConvNet\", \"config\": "
               "{\"channels\": 2, \"dilations\": [], \"batchnorm\": false, \"activation\": "
               "\"Tanh\"}, \"weights\": []}",
               &s[n].len));
  ADD("cn_huge.nam", false, "model too large",
      dup_text("{\"version\": \"0.5.4\", \"architecture\": \"ConvNet\", \"config\": "
               "{\"channels\": 1024, \"dilations\": [1, 1, 1, 1, 1, 1, 1, 1], \"batchnorm\": "
               "false, \"activation\": \"Tanh\"}, \"weights\": []}",
               &s[n].len));

  /* Keras. */
  ADD("k_rows.json", true, "kernel of layers[0] (lstm) has 2 rows, expected 1",
      keras(K_ROWS, &s[n].len));
  ADD("k_type.json", true, "unsupported layer type \"conv2d\" in layers[1]",
      keras(K_TYPE, &s[n].len));
  ADD("k_grubias.json", true, "reset_after=True", keras(K_GRUBIAS, &s[n].len));
  ADD("k_nonfinite.json", true, "kernel of layers[1] (gru): value 0 is not finite",
      keras(K_NONFINITE, &s[n].len));
  ADD("k_out2.json", true, "the last layer has 2 outputs", keras(K_OUT2, &s[n].len));
  ADD("k_skip.json", true, "in_skip 2 is not supported", keras(K_SKIP, &s[n].len));
  ADD("k_act.json", true, "unsupported activation \"softmax\" in layers[2]",
      keras(K_ACT, &s[n].len));
  ADD("k_nolayers.json", true, "missing key \"layers\"", keras(K_NOLAYERS, &s[n].len));
  ADD("k_wtype.json", true, "\"weights\" of layers[4] must be an array", keras(K_WTYPE, &s[n].len));
  ADD("k_units.json", true, "\"shape\" in layers[0] must be a non-empty array",
      dup_text("{\"layers\": [{\"type\": \"dense\", \"shape\": 5, \"weights\": [[[1]], [0]]}]}",
               &s[n].len));

  /* Splitting "weights" from the rest (models/json_split.c) and the caps. */
#define LINEAR_HEAD                                                                                \
  "{\"version\": \"0.5.0\", \"architecture\": \"Linear\", \"config\": "                            \
  "{\"receptive_field\": 2, \"bias\": false}, "
  ADD("trailing_comma.nam", false, "not valid JSON: a syntax error in \"weights\"",
      dup_text(LINEAR_HEAD "\"weights\": [0.5, 0.25,]}", &s[n].len));
  ADD("weight_string.nam", false, "weight 1 is a string, not a number",
      dup_text(LINEAR_HEAD "\"weights\": [0.5, \"0.25\"]}", &s[n].len));
  ADD("long_number.nam", false, "characters in \"weights\"",
      dup_text(LINEAR_HEAD "\"weights\": [0.5, 0.250000000000000000000000000000000001]}",
               &s[n].len));
  ADD("after_weights.nam", false, "not valid JSON: a syntax error at line 1, column 145 (byte 145)",
      dup_text(LINEAR_HEAD "\"weights\": [0.5, 0.25], \"metadata\": {\"name\": oops}}", &s[n].len));
  ADD("escaped_key.nam", false, NULL,
      dup_text(LINEAR_HEAD "\"weight\\u0073\": [0.5, 0.25]}", &s[n].len));
  ADD("bom.nam", false, NULL,
      dup_text("\xEF\xBB\xBF" LINEAR_HEAD "\"weights\": [0.5, 0.25]}", &s[n].len));
  ADD("long_name.nam", false, NULL, long_name(&s[n].len));
  ADD("many_values.json", true, "too many JSON values outside \"weights\"", many_values(&s[n].len));
#undef LINEAR_HEAD
#undef ADD
  *out = s;
  return n;
}

void samples_free(sample_file *s, int n)
{
  for (int i = 0; i < n; ++i)
    free(s[i].text);
  free(s);
}
