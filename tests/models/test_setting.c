/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The setting module (models/setting.h) and its port conversion
  (plugin/setting_ports.h): every name table entry both ways, the string
  form parsed and printed back for every setting the plugin can play, the
  normal form (settings that build the same variant compare equal, others
  do not), the descriptions the GUI shows, and bad strings refused with a
  message that names the bad word.
*/
#include "setting.h"
#include "setting_ports.h"
#include "test_check.h"

#include <math.h>
#include <string.h>

/** Every field equal (memcmp would also compare padding). */
static bool same(const qm_setting *a, const qm_setting *b)
{
  return a->bits == b->bits && a->mapping == b->mapping && a->asymmetric == b->asymmetric &&
         a->granularity == b->granularity && a->group == b->group &&
         a->activations == b->activations && a->observer == b->observer && a->slim == b->slim &&
         a->rounding == b->rounding && a->bias_correction == b->bias_correction &&
         a->equalize == b->equalize && a->linear_bits == b->linear_bits &&
         a->n_linear_bits == b->n_linear_bits;
}

static bool setting_from(const char *str, qm_setting *s)
{
  char err[256] = "";
  bool ok = qm_setting_parse(str, s, err, sizeof err);
  CHECK(ok, "'%s' refused: %s", str, err);
  return ok;
}

static void describes_as(const char *str, const char *want)
{
  qm_setting s;
  if (!setting_from(str, &s))
    return;
  char d[128];
  qm_setting_describe(&s, d, sizeof d);
  CHECK(!strcmp(d, want), "'%s' describes as '%s', want '%s'", str, d, want);
}

static void refused(const char *str, const char *word)
{
  qm_setting s;
  qm_setting_default(&s);
  s.bits = 4;
  const qm_setting before = s;
  char err[256] = "";
  CHECK(!qm_setting_parse(str, &s, err, sizeof err), "'%s' accepted", str);
  CHECK(err[0] != 0, "'%s' refused without a message", str);
  CHECK(strstr(err, word) != NULL, "'%s': message '%s' does not say '%s'", str, err, word);
  CHECK(same(&s, &before), "'%s' changed the setting it was refused into", str);
}

/* ---- Name tables ------------------------------------------------------------- */

static void test_names(void)
{
  for (int i = 0; i < QZ_MAPPING_COUNT; ++i) {
    qz_mapping m = QZ_MAPPING_COUNT;
    const char *n = qz_mapping_name((qz_mapping)i);
    CHECK(strcmp(n, "?") && qz_mapping_from_name(n, &m) && m == (qz_mapping)i,
          "mapping %d '%s' does not come back", i, n);
    CHECK(strcmp(qz_mapping_label((qz_mapping)i), "?") != 0, "mapping %d has no label", i);
    for (int j = 0; j < i; ++j)
      CHECK(strcmp(n, qz_mapping_name((qz_mapping)j)) &&
                strcmp(qz_mapping_label((qz_mapping)i), qz_mapping_label((qz_mapping)j)),
            "mappings %d and %d share a name or label", i, j);
  }
  for (int i = 0; i < QZ_GRANULARITY_COUNT; ++i) {
    qz_granularity g = QZ_GRANULARITY_COUNT;
    const char *n = qz_granularity_name((qz_granularity)i);
    CHECK(strcmp(n, "?") && qz_granularity_from_name(n, &g) && g == (qz_granularity)i,
          "granularity %d '%s' does not come back", i, n);
    CHECK(strcmp(qz_granularity_label((qz_granularity)i), "?") != 0, "granularity %d has no label",
          i);
    for (int j = 0; j < i; ++j)
      CHECK(strcmp(n, qz_granularity_name((qz_granularity)j)) &&
                strcmp(qz_granularity_label((qz_granularity)i),
                       qz_granularity_label((qz_granularity)j)),
            "granularities %d and %d share a name or label", i, j);
  }
  for (int i = 0; i < QM_ACTQ_COUNT; ++i) {
    qm_actq a = QM_ACTQ_COUNT;
    const char *n = qm_actq_name((qm_actq)i);
    CHECK(strcmp(n, "?") && qm_actq_from_name(n, &a) && a == (qm_actq)i,
          "activations %d '%s' does not come back", i, n);
    CHECK(strcmp(qm_actq_label((qm_actq)i), "?") != 0, "activations %d has no label", i);
    for (int j = 0; j < i; ++j)
      CHECK(strcmp(n, qm_actq_name((qm_actq)j)) &&
                strcmp(qm_actq_label((qm_actq)i), qm_actq_label((qm_actq)j)),
            "activations %d and %d share a name or label", i, j);
  }
  for (int i = 0; i < QZ_OBS_COUNT; ++i) {
    qz_observer_kind k = QZ_OBS_COUNT;
    const char *n = qz_observer_name((qz_observer_kind)i);
    CHECK(strcmp(n, "?") && qz_observer_from_name(n, &k) && k == (qz_observer_kind)i,
          "observer %d '%s' does not come back", i, n);
  }
  /* The exact words: reports, file names and scripts depend on them. */
  CHECK(!strcmp(qz_mapping_name(QZ_POW2), "pow2"), "pow2");
  CHECK(!strcmp(qz_granularity_name(QZ_PER_CHANNEL), "channel"), "channel");
  CHECK(!strcmp(qm_actq_name(QM_ACTQ_STATIC), "static"), "static");
  CHECK(!strcmp(qz_observer_name(QZ_OBS_MSE), "mse"), "mse");
  CHECK(!strcmp(qz_mapping_label(QZ_KMEANS), "K-means"), "K-means");
  CHECK(!strcmp(qz_granularity_label(QZ_PER_GROUP), "Group 32"), "Group 32");
  CHECK(!strcmp(qm_actq_label(QM_ACTQ_DYNAMIC), "Int8 dyn"), "Int8 dyn");
  /* Out of range and unknown. */
  CHECK(!strcmp(qz_mapping_name(QZ_MAPPING_COUNT), "?"), "mapping past the table");
  CHECK(!strcmp(qz_granularity_label((qz_granularity)-1), "?"), "granularity -1");
  CHECK(!strcmp(qm_actq_name(QM_ACTQ_COUNT), "?"), "activations past the table");
  CHECK(!strcmp(qz_observer_name(QZ_OBS_COUNT), "?"), "observer past the table");
  qz_mapping m = QZ_POW2;
  CHECK(!qz_mapping_from_name("Linear", &m) && !qz_mapping_from_name("", &m) &&
            !qz_mapping_from_name(NULL, &m) && m == QZ_POW2,
        "a mapping name matched loosely");
  qm_actq a = QM_ACTQ_FLOAT;
  CHECK(!qm_actq_from_name("calibrated", &a) && a == QM_ACTQ_FLOAT,
        "'calibrated' is an alias of the string form only");
  int bits = 0;
  CHECK(qm_bits_from_name("fp32", &bits) && bits == QM_BITS_FP32, "fp32");
  CHECK(qm_bits_from_name("2", &bits) && bits == 2, "2");
  CHECK(qm_bits_from_name("16", &bits) && bits == QM_BITS_HALF &&
            qm_bits_from_name("bf16", &bits) && bits == QM_BITS_HALF &&
            qm_half_from_precision_name("bf16") == QM_HALF_BF16 &&
            qm_half_from_precision_name("16") == QM_HALF_FP16,
        "16, bf16");
  CHECK(!qm_bits_from_name("12", &bits) && !qm_bits_from_name("4.0", &bits) && bits == QM_BITS_HALF,
        "a precision the engine does not have");
}

/* ---- Every setting the plugin plays ------------------------------------------ */

enum { N_ALL = QM_SETTING_ALL_COUNT };

static void test_round_trips(void)
{
  static qm_setting all[N_ALL];
  int n = qm_setting_all(all, N_ALL);
  /** Counted from the fields, not written out, so that a mapping (or
      granularity, activation mode) added to setting.h needs no edit here;
      with today's 3 x 3 x 3 fields and two 16-bit forms that is 165
      (quantone-render's "all"). */
  CHECK(n == N_ALL && N_ALL == 1 + QM_HALF_COUNT +
                                   3 * QZ_MAPPING_COUNT * 2 * QZ_GRANULARITY_COUNT * QM_ACTQ_COUNT,
        "%d settings", n);
  CHECK(QZ_MAPPING_COUNT != 3 || QZ_GRANULARITY_COUNT != 3 || QM_ACTQ_COUNT != 3 || N_ALL == 165,
        "%d settings, not 165", n);
  CHECK(all[0].bits == QM_BITS_FP32 && all[1].bits == QM_BITS_HALF && all[1].half == QM_HALF_FP16 &&
            all[2].bits == QM_BITS_HALF && all[2].half == QM_HALF_BF16 && all[3].bits == 8 &&
            all[N_ALL - 1].bits == 2 && all[N_ALL - 1].mapping == QZ_MAPPING_COUNT - 1 &&
            all[N_ALL - 1].activations == QM_ACTQ_COUNT - 1,
        "the order of the list");
  qm_setting few[5];
  CHECK(qm_setting_all(few, 5) == 5 && qm_setting_eq(&few[4], &all[4]), "a short list");
  static char desc[N_ALL][128], str[N_ALL][64];
  for (int i = 0; i < n; ++i) {
    const qm_setting *s = &all[i];
    /* normalising a normal form changes nothing */
    qm_setting t = *s;
    qm_setting_normalise(&t);
    CHECK(same(&t, s), "setting %d: normalise is not idempotent", i);
    /* string form -> parse -> the same setting, the same string */
    qm_setting_format(s, str[i], sizeof str[i]);
    qm_setting p;
    if (setting_from(str[i], &p)) {
      CHECK(qm_setting_eq(&p, s) && same(&p, s), "'%s' parses to another setting", str[i]);
      char again[64];
      qm_setting_format(&p, again, sizeof again);
      CHECK(!strcmp(again, str[i]), "'%s' formats back as '%s'", str[i], again);
    }
    /* the plugin's controls carry it unchanged */
    float ctl[QT_PORT_COUNT] = {0};
    qt_setting_to_controls(s, ctl);
    qm_setting c;
    qt_setting_from_controls_half(&c, ctl[QT_PORT_PRECISION], ctl[QT_PORT_MAPPING],
                                  ctl[QT_PORT_ASYMMETRIC], ctl[QT_PORT_GRANULARITY],
                                  ctl[QT_PORT_ACTIVATIONS], ctl[QT_PORT_HALF_FORM]);
    CHECK(qm_setting_eq(&c, s), "'%s' does not survive the controls", str[i]);
    qm_setting_describe(s, desc[i], sizeof desc[i]);
    /* distinct settings: distinct strings and descriptions, and not equal */
    for (int j = 0; j < i; ++j) {
      CHECK(!qm_setting_eq(&all[i], &all[j]), "'%s' equals '%s'", str[i], str[j]);
      CHECK(strcmp(str[i], str[j]) != 0, "two settings print as '%s'", str[i]);
      CHECK(strcmp(desc[i], desc[j]) != 0, "two settings describe as '%s'", desc[i]);
    }
  }
}

/* ---- Parse: defaults, order, aliases, refusals --------------------------------- */

static void test_parse(void)
{
  qm_setting a, b;
  if (setting_from("4", &a) && setting_from("4:linear:sym:channel:dynamic", &b))
    CHECK(qm_setting_eq(&a, &b) && a.bits == 4 && a.mapping == QZ_LINEAR && !a.asymmetric &&
              a.granularity == QZ_PER_CHANNEL && a.activations == QM_ACTQ_DYNAMIC &&
              a.group == QZ_DEFAULT_GROUP && a.observer == QZ_OBS_PERCENTILE,
          "missing fields are linear, sym, channel, int8 dynamic");
  if (setting_from("2:static:group:asym:pow2", &a) &&
      setting_from("2:pow2:asym:group:calibrated", &b))
    CHECK(qm_setting_eq(&a, &b) && a.activations == QM_ACTQ_STATIC && a.asymmetric &&
              a.mapping == QZ_POW2 && a.granularity == QZ_PER_GROUP,
          "fields in any order; calibrated = static");
  if (setting_from("FP32:kmeans:asym:group:static", &a) && setting_from("32", &b))
    CHECK(qm_setting_eq(&a, &b) && same(&a, &b), "scheme fields at FP32 count");

  refused("", "empty");
  refused(":", "empty");
  refused("12", "precision");
  if (setting_from("bf16:kmeans:asym", &a) && setting_from("BF16", &b))
    CHECK(qm_setting_eq(&a, &b) && same(&a, &b) && a.half == QM_HALF_BF16,
          "scheme fields at 16 bits count");
  if (setting_from("16", &a) && setting_from("bf16", &b))
    CHECK(!qm_setting_eq(&a, &b) && a.half == QM_HALF_FP16, "fp16 and bf16 are two variants");
  refused("4bit", "precision");
  refused("kmeans:4", "precision");
  refused("4:Linear", "'Linear'");
  refused("4:kmeans:foo", "'foo'");
  refused("4:linear:pow2", "repeats");
  refused("4:sym:asym", "repeats");
  refused("8:channel:group", "repeats");
  refused("8:float:calibrated", "repeats");
  refused("4:slim=0.5:slim=0.2", "repeats");
  refused("4:slim=1.5", "'slim=1.5'");
  refused("4:slim=-0.1", "'slim=-0.1'");
  refused("4:slim=nan", "'slim=nan'");
  refused("4:slim=", "'slim='");
  refused("4:slim=0.5x", "'slim=0.5x'");

  /* slim: the full size unless said, any order, kept at FP32 */
  if (setting_from("4:kmeans", &a))
    CHECK(a.slim == 1.0, "slim defaults to the full size");
  if (setting_from("4:slim=0.25:kmeans", &a) && setting_from("4:kmeans:slim=0.25", &b))
    CHECK(qm_setting_eq(&a, &b) && a.slim == 0.25, "slim in any order");
  if (setting_from("32:slim=0.5", &a) && setting_from("32", &b))
    CHECK(!qm_setting_eq(&a, &b) && a.slim == 0.5, "FP32 at slim 0.5 is not the reference");
  if (setting_from("4:slim=1", &a) && setting_from("4", &b))
    CHECK(qm_setting_eq(&a, &b) && same(&a, &b), "slim=1 is the full size");
  static const double slims[] = {0.0, 0.33, 0.5, 1.0 / 3.0, 0.9999999999999999};
  for (size_t i = 0; i < sizeof slims / sizeof slims[0]; ++i) {
    qm_setting_default(&a);
    a.bits = 4;
    a.slim = slims[i];
    qm_setting_normalise(&a);
    char str[96];
    qm_setting_format(&a, str, sizeof str);
    if (setting_from(str, &b))
      CHECK(qm_setting_eq(&a, &b) && b.slim == slims[i], "slim %.17g formats as '%s'", slims[i],
            str);
  }
  char str[96];
  a.slim = 0.33;
  qm_setting_format(&a, str, sizeof str);
  CHECK(!strcmp(str, "4:linear:sym:channel:float:slim=0.33"), "'%s'", str);
  char longer[400];
  memset(longer, 'x', sizeof longer - 1);
  longer[sizeof longer - 1] = 0;
  refused(longer, "too long");
}

/* ---- Normal form and descriptions ---------------------------------------------- */

static void test_normalise(void)
{
  static const int knob[][2] = {{32, 32}, {20, 32}, {19, 16}, {16, 16}, {12, 16}, {11, 8},  {6, 8},
                                {5, 4},   {3, 4},   {2, 2},   {0, 2},   {-5, 2},  {999, 32}};
  for (size_t i = 0; i < sizeof knob / sizeof knob[0]; ++i) {
    qm_setting s;
    qm_setting_default(&s);
    s.bits = knob[i][0];
    qm_setting_normalise(&s);
    CHECK(s.bits == knob[i][1], "precision %d plays %d, want %d", knob[i][0], s.bits, knob[i][1]);
  }
  qm_setting s;
  qm_setting_default(&s);
  s.bits = 4;
  s.mapping = (qz_mapping)7;
  s.granularity = (qz_granularity)-1;
  s.activations = (qm_actq)3;
  s.observer = (qz_observer_kind)9;
  s.group = 40;
  qm_setting_normalise(&s);
  CHECK(s.slim == 1.0, "slim 1.0 by default");
  static const double slim_in[][2] = {{-0.5, 0.0}, {1.5, 1.0}, {NAN, 1.0}, {0.4, 0.4}};
  for (size_t i = 0; i < sizeof slim_in / sizeof slim_in[0]; ++i) {
    qm_setting t = s;
    t.slim = slim_in[i][0];
    qm_setting_normalise(&t);
    CHECK(t.slim == slim_in[i][1], "slim %g normalises to %g", slim_in[i][0], t.slim);
  }
  CHECK(s.mapping == QZ_LINEAR && s.granularity == QZ_PER_CHANNEL &&
            s.activations == QM_ACTQ_FLOAT && s.observer == QZ_OBS_PERCENTILE &&
            s.group == QZ_DEFAULT_GROUP,
        "out-of-range fields are their defaults");

  /* what does not change the variant does not count ... */
  qm_setting a, b;
  qm_setting_default(&a);
  a.bits = 4;
  b = a;
  b.group = 64;
  b.observer = QZ_OBS_MSE;
  CHECK(qm_setting_eq(&a, &b), "group and observer count per channel, float activations");
  /* ... and what does, does */
  a.granularity = b.granularity = QZ_PER_GROUP;
  CHECK(!qm_setting_eq(&a, &b), "the group size per group");
  b.group = a.group;
  a.activations = b.activations = QM_ACTQ_STATIC;
  CHECK(!qm_setting_eq(&a, &b), "the observer for static activations");
  char d[128];
  qm_setting_describe(&b, d, sizeof d);
  CHECK(!strcmp(d, "4-bit linear sym per-group, int8 calibrated (mse)"), "'%s'", d);
  b.group = 64;
  b.observer = QZ_OBS_PERCENTILE;
  qm_setting_describe(&b, d, sizeof d);
  CHECK(!strcmp(d, "4-bit linear sym per-group 64, int8 calibrated"), "'%s'", d);

  /* mixed precision: by value, and never the reference */
  static const int w1[] = {0, 8, 4}, w2[] = {4, 8, 0}, w3[] = {4, 4, 4};
  qm_setting_default(&a);
  a.bits = 4;
  a.linear_bits = w1;
  a.n_linear_bits = 3;
  b = a;
  b.linear_bits = w2;
  CHECK(qm_setting_eq(&a, &b), "0 is the uniform width");
  b.linear_bits = w3;
  CHECK(!qm_setting_eq(&a, &b), "a linear at 8 bits is another variant");
  b.linear_bits = NULL;
  b.n_linear_bits = 0;
  qm_setting_describe(&a, d, sizeof d);
  CHECK(!strcmp(d, "4-bit mixed linear sym per-channel, float activations"), "'%s'", d);
  a.bits = QM_BITS_FP32;
  qm_setting_normalise(&a);
  CHECK(a.linear_bits == w1, "mixed widths at FP32 are not the reference");
  qm_setting_describe(&a, d, sizeof d);
  CHECK(!strcmp(d, "FP32 mixed linear sym per-channel, float activations"), "'%s'", d);

  /* the strings the GUI and the plugin's messages show */
  describes_as("32", "FP32 reference");
  describes_as("fp32:kmeans", "FP32 reference");
  describes_as("4:kmeans", "4-bit kmeans sym per-channel, int8 dynamic");
  describes_as("8:float", "8-bit linear sym per-channel, float activations");
  describes_as("2:pow2:asym:tensor:static", "2-bit pow2 asym per-tensor, int8 calibrated");
  describes_as("4:group", "4-bit linear sym per-group, int8 dynamic");
  describes_as("4:kmeans:slim=0.5", "4-bit kmeans sym per-channel, int8 dynamic, slim 0.5");
  describes_as("32:slim=0", "FP32, slim 0");
  describes_as("4:kmeans:gptq:bc", "4-bit kmeans sym per-channel, int8 dynamic, gptq rounding, "
                                   "bias-corrected");
  describes_as("2:bc:float", "2-bit linear sym per-channel, float activations, bias-corrected");
  describes_as("32:gptq:bc", "FP32 reference");
  describes_as("16", "FP16 weights, float activations");
  describes_as("bf16:slim=0.5", "BF16 compute, float accumulation, slim 0.5");
  /* post-training rounding: its own fields, round trip, equality */
  if (setting_from("4:gptq:kmeans:bc:slim=0.5", &a)) {
    CHECK(a.rounding == QZ_ROUND_GPTQ && a.bias_correction && a.mapping == QZ_KMEANS,
          "gptq, bc parsed");
    char str[96];
    qm_setting_format(&a, str, sizeof str);
    CHECK(!strcmp(str, "4:kmeans:sym:channel:dynamic:gptq:bc:slim=0.5"), "formats as '%s'", str);
    if (setting_from(str, &b))
      CHECK(same(&a, &b), "'%s' does not read back", str);
    if (setting_from("4:kmeans:slim=0.5", &b))
      CHECK(!qm_setting_eq(&a, &b), "gptq + bc equals nearest");
    if (setting_from("4:kmeans:gptq:slim=0.5", &b))
      CHECK(!qm_setting_eq(&a, &b) && b.rounding == QZ_ROUND_GPTQ && !b.bias_correction,
            "bc ignored by equality");
  }
  CHECK(qm_setting_needs_calibration(&a), "gptq needs calibration");
  if (setting_from("4:bc", &b))
    CHECK(qm_setting_needs_calibration(&b), "bias correction needs calibration");
  if (setting_from("4:static", &b))
    CHECK(qm_setting_needs_calibration(&b), "static activations need calibration");
  if (setting_from("4:kmeans:nearest", &b))
    CHECK(!qm_setting_needs_calibration(&b), "nearest, dynamic: no calibration");
  refused("4:gptq:nearest", "repeats");
  refused("4:bc:bc", "repeats");
  refused("4:adaround:gptq", "repeats");
  refused("4:eq:eq", "repeats");
  /* cross-layer equalization: its word, round trip, equality, dropped at
     FP32 (where it changes nothing), no calibration needed */
  if (setting_from("4:eq:gptq:bc", &a)) {
    CHECK(a.equalize && a.rounding == QZ_ROUND_GPTQ && a.bias_correction, "eq, gptq, bc parsed");
    char str[96];
    qm_setting_format(&a, str, sizeof str);
    CHECK(!strcmp(str, "4:linear:sym:channel:dynamic:gptq:bc:eq"), "formats as '%s'", str);
    if (setting_from(str, &b))
      CHECK(same(&a, &b), "'%s' does not read back", str);
    if (setting_from("4:gptq:bc", &b))
      CHECK(!qm_setting_eq(&a, &b), "equalized equal to unequalized");
  }
  if (setting_from("4:eq", &b))
    CHECK(b.equalize && !qm_setting_needs_calibration(&b), "eq alone needs no calibration");
  if (setting_from("32:eq", &b))
    CHECK(!b.equalize, "eq kept at FP32");
  describes_as("2:eq:float", "2-bit linear sym per-channel, float activations, equalized");
  refused("3:gptq", "3 bits");
  /* adaround (issue 17 item 1): parsed, round trip, equality */
  if (setting_from("4:adaround:bc", &a)) {
    CHECK(a.rounding == QZ_ROUND_ADAROUND && a.bias_correction, "adaround, bc parsed");
    char str[96];
    qm_setting_format(&a, str, sizeof str);
    CHECK(!strcmp(str, "4:linear:sym:channel:dynamic:adaround:bc"), "formats as '%s'", str);
    if (setting_from(str, &b))
      CHECK(same(&a, &b), "'%s' does not read back", str);
    if (setting_from("4:gptq:bc", &b))
      CHECK(!qm_setting_eq(&a, &b), "adaround equal to gptq");
  }
  describes_as("4:adaround", "4-bit linear sym per-channel, int8 dynamic, adaround rounding");
  /* truncation is safe */
  qm_setting_default(&a);
  a.bits = 8;
  char small[6];
  qm_setting_describe(&a, small, sizeof small);
  CHECK(!strcmp(small, "8-bit"), "'%s'", small);

  /* the plugin's controls, as a host sends them */
  qt_setting_from_controls(&a, 4.4f, 2.0f, 0.7f, 2.0f, 2.0f);
  if (setting_from("4:kmeans:asym:group:static", &b))
    CHECK(qm_setting_eq(&a, &b), "controls 4.4 2 0.7 2 2");
  qt_setting_from_controls(&a, 32.0f, 2.0f, 1.0f, 0.0f, 2.0f);
  if (setting_from("32", &b))
    CHECK(qm_setting_eq(&a, &b) && same(&a, &b), "scheme knobs at FP32");
}

int main(void)
{
  test_names();
  test_round_trips();
  test_parse();
  test_normalise();
  printf("setting: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
