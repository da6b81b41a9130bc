/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Quantization settings: name tables, normal form, description, string
  form. See setting.h for the contract. Every table is indexed by its enum
  and sized by its _COUNT, so adding a value without a name, a label or a
  description fails to compile (a missing initializer is flagged by the
  _Static_asserts below) instead of printing NULL.
*/
#include "setting.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Name tables ------------------------------------------------------------- */

typedef struct {
  const char *name;  /**< string form */
  const char *label; /**< GUI caption */
} field_names;

static const field_names mapping_names[] = {
    [QZ_LINEAR] = {"linear", "Linear"},
    [QZ_POW2] = {"pow2", "Power of 2"},
    [QZ_KMEANS] = {"kmeans", "K-means"},
};
static const field_names gran_names[] = {
    [QZ_PER_TENSOR] = {"tensor", "Tensor"},
    [QZ_PER_CHANNEL] = {"channel", "Channel"},
    [QZ_PER_GROUP] = {"group", "Group 32"},
};
static const field_names actq_names[] = {
    [QM_ACTQ_FLOAT] = {"float", "Float"},
    [QM_ACTQ_DYNAMIC] = {"dynamic", "Int8 dyn"},
    [QM_ACTQ_STATIC] = {"static", "Int8 cal"},
};
/** The descriptions' words for the activations (setting.h describe). */
static const char *const actq_describe[] = {
    [QM_ACTQ_FLOAT] = "float activations",
    [QM_ACTQ_DYNAMIC] = "int8 dynamic",
    [QM_ACTQ_STATIC] = "int8 calibrated",
};
static const field_names rounding_names[] = {
    [QZ_ROUND_NEAREST] = {"nearest", "Nearest"},
    [QZ_ROUND_GPTQ] = {"gptq", "Optimized"},
    [QZ_ROUND_ADAROUND] = {"adaround", "Learned"},
};

static const field_names half_names[] = {
    [QM_HALF_FP16] = {"fp16", "FP16"},
    [QM_HALF_BF16] = {"bf16", "BF16"},
};
/** The descriptions' words for the 16-bit forms. */
static const char *const half_describe[] = {
    [QM_HALF_FP16] = "FP16 weights, float activations",
    [QM_HALF_BF16] = "BF16 compute, float accumulation",
};

static const char *const observer_names[] = {
    [QZ_OBS_MINMAX] = "minmax",
    [QZ_OBS_PERCENTILE] = "percentile",
    [QZ_OBS_MSE] = "mse",
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
_Static_assert(COUNT(mapping_names) == QZ_MAPPING_COUNT, "a mapping without a name");
_Static_assert(COUNT(gran_names) == QZ_GRANULARITY_COUNT, "a granularity without a name");
_Static_assert(COUNT(actq_names) == QM_ACTQ_COUNT, "an activation mode without a name");
_Static_assert(COUNT(actq_describe) == QM_ACTQ_COUNT, "an activation mode without words");
_Static_assert(COUNT(observer_names) == QZ_OBS_COUNT, "an observer without a name");
_Static_assert(COUNT(rounding_names) == QZ_ROUNDING_COUNT, "a rounding without a name");
_Static_assert(COUNT(half_names) == QM_HALF_COUNT, "a 16-bit form without a name");
_Static_assert(COUNT(half_describe) == QM_HALF_COUNT, "a 16-bit form without words");
/** The GUI's "Group 32" says the default group size in words. */
_Static_assert(QZ_DEFAULT_GROUP == 32, "update the group label");

static const char *name_at(const field_names *t, int n, int i, bool label)
{
  if (i < 0 || i >= n)
    return "?";
  return label ? t[i].label : t[i].name;
}

/** Index of `name` in a table, or -1. */
static int index_of(const field_names *t, int n, const char *name)
{
  for (int i = 0; name && i < n; ++i)
    if (!strcmp(name, t[i].name))
      return i;
  return -1;
}

const char *qz_mapping_name(qz_mapping m)
{
  return name_at(mapping_names, QZ_MAPPING_COUNT, (int)m, false);
}

const char *qz_granularity_name(qz_granularity g)
{
  return name_at(gran_names, QZ_GRANULARITY_COUNT, (int)g, false);
}

const char *qm_actq_name(qm_actq a) { return name_at(actq_names, QM_ACTQ_COUNT, (int)a, false); }

const char *qz_mapping_label(qz_mapping m)
{
  return name_at(mapping_names, QZ_MAPPING_COUNT, (int)m, true);
}

const char *qz_granularity_label(qz_granularity g)
{
  return name_at(gran_names, QZ_GRANULARITY_COUNT, (int)g, true);
}

const char *qm_actq_label(qm_actq a) { return name_at(actq_names, QM_ACTQ_COUNT, (int)a, true); }

const char *qz_rounding_name(qz_rounding r)
{
  return name_at(rounding_names, QZ_ROUNDING_COUNT, (int)r, false);
}

const char *qz_rounding_label(qz_rounding r)
{
  return name_at(rounding_names, QZ_ROUNDING_COUNT, (int)r, true);
}

bool qz_rounding_from_name(const char *name, qz_rounding *out)
{
  int i = index_of(rounding_names, QZ_ROUNDING_COUNT, name);
  if (i >= 0)
    *out = (qz_rounding)i;
  return i >= 0;
}

const char *qz_observer_name(qz_observer_kind k)
{
  return (unsigned)k < QZ_OBS_COUNT ? observer_names[k] : "?";
}

bool qm_bits_from_name(const char *name, int *out)
{
  if (!name)
    return false;
  if (!strcmp(name, "32") || !strcmp(name, "fp32") || !strcmp(name, "FP32"))
    *out = QM_BITS_FP32;
  else if (!strcmp(name, "16") || !strcmp(name, "fp16") || !strcmp(name, "FP16") ||
           !strcmp(name, "bf16") || !strcmp(name, "BF16"))
    *out = QM_BITS_HALF;
  else if (!strcmp(name, "8") || !strcmp(name, "4") || !strcmp(name, "3") || !strcmp(name, "2"))
    *out = atoi(name);
  else
    return false;
  return true;
}

qm_half qm_half_from_precision_name(const char *name)
{
  return name && (!strcmp(name, "bf16") || !strcmp(name, "BF16")) ? QM_HALF_BF16 : QM_HALF_FP16;
}

const char *qm_half_name(qm_half h) { return name_at(half_names, QM_HALF_COUNT, (int)h, false); }
const char *qm_half_label(qm_half h) { return name_at(half_names, QM_HALF_COUNT, (int)h, true); }

bool qz_mapping_from_name(const char *name, qz_mapping *out)
{
  int i = index_of(mapping_names, QZ_MAPPING_COUNT, name);
  if (i >= 0)
    *out = (qz_mapping)i;
  return i >= 0;
}

bool qz_granularity_from_name(const char *name, qz_granularity *out)
{
  int i = index_of(gran_names, QZ_GRANULARITY_COUNT, name);
  if (i >= 0)
    *out = (qz_granularity)i;
  return i >= 0;
}

bool qm_actq_from_name(const char *name, qm_actq *out)
{
  int i = index_of(actq_names, QM_ACTQ_COUNT, name);
  if (i >= 0)
    *out = (qm_actq)i;
  return i >= 0;
}

bool qz_observer_from_name(const char *name, qz_observer_kind *out)
{
  for (int i = 0; name && i < QZ_OBS_COUNT; ++i) {
    if (!strcmp(name, observer_names[i])) {
      *out = (qz_observer_kind)i;
      return true;
    }
  }
  return false;
}

/* ---- Default, normal form, equality -------------------------------------------- */

void qm_setting_default(qm_setting *s)
{
  memset(s, 0, sizeof *s);
  s->bits = QM_BITS_FP32;
  s->mapping = QZ_LINEAR;
  s->asymmetric = false;
  s->granularity = QZ_PER_CHANNEL;
  s->group = QZ_DEFAULT_GROUP;
  s->activations = QM_ACTQ_FLOAT;
  /** Percentile (99.99 %) by default: on the standard WaveNet + input.wav
      at 8 bits it measured -21.3 dB ESR against -19.1 (MSE) and -17.4
      (min/max); a rare outlier clips instead of coarsening every step. */
  s->observer = QZ_OBS_PERCENTILE;
  s->slim = 1.0;
  s->rounding = QZ_ROUND_NEAREST;
  s->bias_correction = false;
  s->equalize = false;
  s->linear_bits = NULL;
  s->n_linear_bits = 0;
}

/** Whether some linear plays at a width other than s->bits. */
static bool is_mixed(const qm_setting *s)
{
  for (int i = 0; s->linear_bits && i < s->n_linear_bits; ++i)
    if (s->linear_bits[i] != 0 && s->linear_bits[i] != s->bits)
      return true;
  return false;
}

/** Whether some linear plays at 16 bits (uniformly or by its own width). */
static bool plays_half(const qm_setting *s)
{
  if (s->bits == QM_BITS_HALF)
    return true;
  for (int i = 0; s->linear_bits && i < s->n_linear_bits; ++i)
    if (s->linear_bits[i] == QM_BITS_HALF)
      return true;
  return false;
}

void qm_setting_normalise(qm_setting *s)
{
  if (s->bits >= 20)
    s->bits = QM_BITS_FP32;
  else if (s->bits >= 12)
    s->bits = QM_BITS_HALF;
  else if (s->bits >= 6)
    s->bits = 8;
  else if (s->bits >= 3)
    s->bits = 4;
  else
    s->bits = 2;
  /** Compared as unsigned: an enum with no negative member may be
      unsigned, and a negative int stored in it is then huge. */
  if ((unsigned)s->mapping >= QZ_MAPPING_COUNT)
    s->mapping = QZ_LINEAR;
  if ((unsigned)s->granularity >= QZ_GRANULARITY_COUNT)
    s->granularity = QZ_PER_CHANNEL;
  if ((unsigned)s->activations >= QM_ACTQ_COUNT)
    s->activations = QM_ACTQ_FLOAT;
  if ((unsigned)s->observer >= QZ_OBS_COUNT)
    s->observer = QZ_OBS_PERCENTILE;
  if ((unsigned)s->rounding >= QZ_ROUNDING_COUNT)
    s->rounding = QZ_ROUND_NEAREST;
  if (s->group <= 0 || s->group % 16 != 0)
    s->group = QZ_DEFAULT_GROUP;
  if (!s->linear_bits)
    s->n_linear_bits = 0;
  if ((unsigned)s->half >= QM_HALF_COUNT || !plays_half(s))
    s->half = QM_HALF_FP16;
  /* written so that NaN fails every comparison and lands on the full size */
  if (!(s->slim >= 0.0))
    s->slim = isnan(s->slim) ? 1.0 : 0.0;
  else if (!(s->slim <= 1.0))
    s->slim = 1.0;
  if ((s->bits == QM_BITS_FP32 || s->bits == QM_BITS_HALF) && !is_mixed(s)) {
    s->mapping = QZ_LINEAR;
    s->asymmetric = false;
    s->granularity = QZ_PER_TENSOR;
    s->activations = QM_ACTQ_FLOAT;
    s->group = QZ_DEFAULT_GROUP;
    s->observer = QZ_OBS_PERCENTILE;
    s->rounding = QZ_ROUND_NEAREST;
    s->bias_correction = false;
    s->equalize = false;
    s->linear_bits = NULL;
    s->n_linear_bits = 0;
  }
}

/** The width linear i plays at. */
static int bits_of(const qm_setting *s, int i)
{
  return s->linear_bits && i < s->n_linear_bits && s->linear_bits[i] ? s->linear_bits[i] : s->bits;
}

bool qm_setting_eq(const qm_setting *a, const qm_setting *b)
{
  if (a->bits != b->bits || a->half != b->half || a->mapping != b->mapping ||
      a->asymmetric != b->asymmetric || a->granularity != b->granularity ||
      a->activations != b->activations || a->slim != b->slim || a->rounding != b->rounding ||
      a->bias_correction != b->bias_correction || a->equalize != b->equalize)
    return false;
  if (a->granularity == QZ_PER_GROUP && a->group != b->group)
    return false;
  if (a->activations == QM_ACTQ_STATIC && a->observer != b->observer)
    return false;
  const int n = a->n_linear_bits > b->n_linear_bits ? a->n_linear_bits : b->n_linear_bits;
  for (int i = 0; i < n; ++i)
    if (bits_of(a, i) != bits_of(b, i))
      return false;
  return true;
}

void qm_setting_set_optimized(qm_setting *s, bool optimized)
{
  /** gptq + bc measured best of the methods in rounding.h (README's PTQ
      table: 4-bit linear on wavenet_a1_standard -8.0 dB nearest, -17.6
      gptq, -19.6 gptq + bc). Equalization (eq) on top wins at 3 bits but
      loses at 4 on A1 (-15.4) and overdrive_standard (-28.1 vs -33.1). */
  s->rounding = optimized ? QZ_ROUND_GPTQ : QZ_ROUND_NEAREST;
  s->bias_correction = optimized;
  qm_setting_normalise(s);
}

bool qm_setting_is_optimized(const qm_setting *s)
{
  qm_setting t = *s;
  qm_setting_set_optimized(&t, true);
  return t.bits != QM_BITS_FP32 && qm_setting_eq(&t, s);
}

bool qm_setting_needs_calibration(const qm_setting *s)
{
  /** FP16 weights round against the calibration audio (models/rounding.h) */
  return s->activations == QM_ACTQ_STATIC || s->rounding != QZ_ROUND_NEAREST ||
         s->bias_correction || (plays_half(s) && s->half == QM_HALF_FP16);
}

int qm_setting_all(qm_setting *out, int max)
{
  int n = 0;
  qm_setting s;
  qm_setting_default(&s);
  qm_setting_normalise(&s);
  if (n < max)
    out[n++] = s;
  for (int h = 0; h < QM_HALF_COUNT && n < max; ++h) {
    qm_setting_default(&s);
    s.bits = QM_BITS_HALF;
    s.half = (qm_half)h;
    qm_setting_normalise(&s);
    out[n++] = s;
  }
  static const int bits[] = {8, 4, 2};
  for (int b = 0; b < 3; ++b)
    for (int m = 0; m < QZ_MAPPING_COUNT; ++m)
      for (int a = 0; a < 2; ++a)
        for (int g = 0; g < QZ_GRANULARITY_COUNT; ++g)
          for (int c = 0; c < QM_ACTQ_COUNT && n < max; ++c) {
            qm_setting_default(&s);
            s.bits = bits[b];
            s.mapping = (qz_mapping)m;
            s.asymmetric = a != 0;
            s.granularity = (qz_granularity)g;
            s.activations = (qm_actq)c;
            qm_setting_normalise(&s);
            out[n++] = s;
          }
  return n;
}

/* ---- Description and string form ------------------------------------------------ */

void qm_setting_describe(const qm_setting *s, char *buf, size_t len)
{
  if (!buf || len == 0)
    return;
  const bool mixed = is_mixed(s);
  char slim[32] = "";
  if (s->slim < 1.0)
    snprintf(slim, sizeof slim, ", slim %g", s->slim);
  if (s->bits == QM_BITS_FP32 && !mixed) {
    snprintf(buf, len, "%s%s", slim[0] ? "FP32" : "FP32 reference", slim);
    return;
  }
  if (s->bits == QM_BITS_HALF && !mixed) {
    snprintf(buf, len, "%s%s", (unsigned)s->half < QM_HALF_COUNT ? half_describe[s->half] : "?",
             slim);
    return;
  }
  char bits[16];
  if (s->bits == QM_BITS_FP32)
    snprintf(bits, sizeof bits, "FP32");
  else
    snprintf(bits, sizeof bits, "%d-bit", s->bits);
  char gran[32];
  snprintf(gran, sizeof gran, "per-%s", qz_granularity_name(s->granularity));
  if (s->granularity == QZ_PER_GROUP && s->group != QZ_DEFAULT_GROUP)
    snprintf(gran, sizeof gran, "per-group %d", s->group);
  char act[48];
  snprintf(act, sizeof act, "%s",
           (unsigned)s->activations < QM_ACTQ_COUNT ? actq_describe[s->activations] : "?");
  if (s->activations == QM_ACTQ_STATIC && s->observer != QZ_OBS_PERCENTILE)
    snprintf(act, sizeof act, "%s (%s)", actq_describe[QM_ACTQ_STATIC],
             qz_observer_name(s->observer));
  char ptq[64] = "";
  snprintf(ptq, sizeof ptq, "%s%s%s", s->rounding != QZ_ROUND_NEAREST ? ", " : "",
           s->rounding != QZ_ROUND_NEAREST ? qz_rounding_name(s->rounding) : "",
           s->rounding != QZ_ROUND_NEAREST ? " rounding" : "");
  snprintf(ptq + strlen(ptq), sizeof ptq - strlen(ptq), "%s%s",
           s->bias_correction ? ", bias-corrected" : "", s->equalize ? ", equalized" : "");
  snprintf(buf, len, "%s%s %s %s %s, %s%s%s", bits, mixed ? " mixed" : "",
           qz_mapping_name(s->mapping), s->asymmetric ? "asym" : "sym", gran, act, ptq, slim);
}

void qm_setting_format(const qm_setting *s, char *buf, size_t len)
{
  char slim[40] = "";
  if (s->slim < 1.0) {
    /* the shortest of %.15g / %.17g that reads back as the same double */
    snprintf(slim, sizeof slim, ":slim=%.15g", s->slim);
    if (strtod(slim + 6, NULL) != s->slim)
      snprintf(slim, sizeof slim, ":slim=%.17g", s->slim);
  }
  if (s->bits == QM_BITS_FP32)
    snprintf(buf, len, "32%s", slim);
  else if (s->bits == QM_BITS_HALF)
    snprintf(buf, len, "%s%s", qm_half_name(s->half), slim);
  else
    snprintf(buf, len, "%d:%s:%s:%s:%s%s%s%s%s", s->bits, qz_mapping_name(s->mapping),
             s->asymmetric ? "asym" : "sym", qz_granularity_name(s->granularity),
             qm_actq_name(s->activations), s->rounding != QZ_ROUND_NEAREST ? ":" : "",
             s->rounding != QZ_ROUND_NEAREST ? qz_rounding_name(s->rounding) : "",
             s->bias_correction ? ":bc" : "", s->equalize ? ":eq" : "");
  if (s->bits != QM_BITS_FP32 && s->bits != QM_BITS_HALF && slim[0]) {
    size_t used = strlen(buf);
    snprintf(buf + used, used < len ? len - used : 0, "%s", slim);
  }
}

/** "slim=S" with 0 <= S <= 1 written in full (no trailing characters). */
static bool parse_slim(const char *tok, double *out)
{
  if (strncmp(tok, "slim=", 5) != 0 || !tok[5])
    return false;
  char *end = NULL;
  const double v = strtod(tok + 5, &end);
  if (*end != '\0' || !(v >= 0.0 && v <= 1.0))
    return false;
  *out = v;
  return true;
}

bool qm_setting_parse(const char *str, qm_setting *out, char *err, size_t errlen)
{
  qm_setting r;
  qm_setting_default(&r);
  r.activations = QM_ACTQ_DYNAMIC; /* the plugin's default */
  char buf[256];
  if (!str || strlen(str) >= sizeof buf) {
    snprintf(err, errlen, "'%.40s...': setting too long", str ? str : "");
    return false;
  }
  snprintf(buf, sizeof buf, "%s", str);
  char *save = NULL;
  char *tok = strtok_r(buf, ":", &save);
  if (!tok) {
    snprintf(err, errlen, "empty setting");
    return false;
  }
  if (!qm_bits_from_name(tok, &r.bits)) {
    snprintf(err, errlen, "'%s': precision must be 32 (or fp32), fp16 (or 16), bf16, 8, 4 or 2",
             str);
    return false;
  }
  /** 3 bits play only where no normalise snaps them to 4 (quantone-run
      --precision 3): a setting string saying 3 would silently play 4 */
  if (r.bits == 3) {
    snprintf(err, errlen, "'%s': 3 bits are quantone-run --precision 3 only", str);
    return false;
  }
  r.half = qm_half_from_precision_name(tok);
  bool seen[8] = {false};
  while ((tok = strtok_r(NULL, ":", &save))) {
    int field;
    if (qz_mapping_from_name(tok, &r.mapping)) {
      field = 0;
    } else if (!strcmp(tok, "sym") || !strcmp(tok, "asym")) {
      field = 1;
      r.asymmetric = !strcmp(tok, "asym");
    } else if (qz_granularity_from_name(tok, &r.granularity)) {
      field = 2;
    } else if (qm_actq_from_name(tok, &r.activations) || !strcmp(tok, "calibrated")) {
      field = 3;
      if (!strcmp(tok, "calibrated"))
        r.activations = QM_ACTQ_STATIC;
    } else if (parse_slim(tok, &r.slim)) {
      field = 4;
    } else if (qz_rounding_from_name(tok, &r.rounding)) {
      field = 5;
    } else if (!strcmp(tok, "bc")) {
      field = 6;
      r.bias_correction = true;
    } else if (!strcmp(tok, "eq")) {
      field = 7;
      r.equalize = true;
    } else {
      snprintf(err, errlen,
               "'%s': unknown field '%s' (mapping linear|pow2|kmeans, sym|asym, "
               "granularity tensor|channel|group, activations float|dynamic|static, "
               "slim=S with 0 <= S <= 1, rounding nearest|gptq|adaround, bc, eq)",
               str, tok);
      return false;
    }
    if (seen[field]) {
      snprintf(err, errlen, "'%s': '%s' repeats a field", str, tok);
      return false;
    }
    seen[field] = true;
  }
  qm_setting_normalise(&r);
  *out = r;
  return true;
}
