/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone-run: the engine alone, offline. Renders a WAV file through a
  model at one precision and scheme, and reports how far the result is
  from the float model on the same input and what it costs.

    quantone-run --model FILE --in IN.wav --out OUT.wav [options]

  See usage() for every option. Exit status: 0 on success, 2 for bad
  options, 1 for a file or model problem (always with a message on stderr).
*/
#include "calib_clip.h"
#include "loudness.h"
#include "sensitivity.h"
#include "nam_export.h"
#include "scheme_record.h"
#include "slim.h"
#include "tr_synth.h"
#include "variant.h"

#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f)
{
  fprintf(f, "usage: quantone-run --model FILE --in IN.wav --out OUT.wav [options]\n"
             "\n"
             "Render IN.wav (mono, at the model's sample rate) through a .nam or\n"
             "RTNeural/AIDA-X .json model at the chosen precision into OUT.wav\n"
             "(32-bit float).\n"
             "\n"
             "  --model FILE          model file (.nam, .json, .aidax)\n"
             "  --in FILE             input WAV, mono, at the model's sample rate\n"
             "  --out FILE            output WAV (float); optional with --json\n"
             "  --precision P         fp32 (default), 16 or fp16 (FP16 weights, float\n"
             "                        activations), bf16 (BF16 compute), 8, 4, 3 or 2 weight\n"
             "                        bits (3: linear mapping only, 8 levels stored as 4-bit\n"
             "                        codes);\n"
             "                        a file --export wrote plays at its recorded setting\n"
             "                        unless a scheme option is given\n"
             "  --mapping M           linear (default), pow2 or kmeans levels\n"
             "  --asymmetric          zero point / asymmetric levels (default symmetric)\n"
             "  --granularity G       tensor, channel (default) or group scales\n"
             "  --group N             inputs per scale group with --granularity group\n"
             "                        (multiple of 16, default 32)\n"
             "  --activations A       float (weight-only, default), dynamic (int8,\n"
             "                        a scale per time step) or static (int8, scales\n"
             "                        calibrated on the input file)\n"
             "  --observer O          static calibration: minmax, percentile (default)\n"
             "                        or mse\n"
             "  --rounding R          nearest (default), gptq: error-compensating\n"
             "                        rounding against each layer's inputs on the\n"
             "                        calibration audio (models/rounding.h), or\n"
             "                        adaround: gptq, then learned up/down per weight\n"
             "                        (models/adaround.h)\n"
             "  --bias-correction     remove the mean output error each layer's\n"
             "                        quantization adds on the calibration audio\n"
             "  --equalize            cross-layer equalization before quantizing:\n"
             "                        channel ranges balanced between linears where\n"
             "                        the float function stays the same\n"
             "                        (models/equalize.h)\n"
             "  --calib-seconds S     calibration audio: S seconds (default 2) of the\n"
             "                        built-in guitar-like clip, or of --calib; FP16\n"
             "                        weights default to the plugin's 1 s clip\n"
             "  --calib FILE          calibration audio from FILE (mono, the model's\n"
             "                        rate). With neither option and nearest rounding\n"
             "                        without bias correction, static activations are\n"
             "                        calibrated on the input file as before\n"
             "  --bit-budget B        mixed precision chosen automatically: bits per\n"
             "                        weight matrix (8, 6, 5, 4, 3 or 2) at most B (2..8)\n"
             "                        on average per weight, lowest output error on the\n"
             "                        calibration audio (models/sensitivity.h; default\n"
             "                        audio: the built-in clip's analysis pieces)\n"
             "  --bits-per-layer LIST explicit widths, one per weight matrix in model\n"
             "                        order, comma-separated (32, 8, 6, 5, 4, 3, 2)\n"
             "  --layers              print each layer's SQNR on the calibration audio,\n"
             "                        nearest vs the chosen rounding (stderr)\n"
             "  --slim S              the size a slimmable model plays at, 0..1\n"
             "                        (default 1, the full size; NeuralAmpModelerCore's\n"
             "                        --slim); the error is always measured against the\n"
             "                        full-size float model\n"
             "  --input-dbu DBU       calibrate the input: the interface level at 0 dBFS\n"
             "                        (NAM's plugin: 12); gains the input by DBU minus\n"
             "                        the model's metadata.input_level_dbu (none without)\n"
             "  --output-mode M       raw (default), normalized (loudness to -18 dB from\n"
             "                        metadata.loudness, or the RMS of the float model's\n"
             "                        output over the built-in guitar clip) or calibrated\n"
             "                        (output_level_dbu - DBU; DBU 12 without\n"
             "                        --input-dbu); the float model's gain for every\n"
             "                        setting, so ESR is unchanged\n"
             "  --block N             frames per process call, 1..65536 (default 64)\n"
             "  --ref FILE            also measure the output's ESR against FILE (mono,\n"
             "                        the model's rate), e.g. the captured effect's own\n"
             "                        output for the same input: esr_ref_db\n"
             "  --ref-skip S          with --ref, compare from S seconds on (default\n"
             "                        0.1: the start depends on the state before the file)\n"
             "  --export FILE         write the model as this setting plays it (weight-\n"
             "                        only) as a .nam file of the same architecture,\n"
             "                        weights dequantized, the scheme in\n"
             "                        metadata.quantone (models/nam_export.h)\n"
             "  --export-codes FILE   write the integer codes, scales, zero points or\n"
             "                        codebooks and biases per layer as JSON (README.md)\n"
             "  --json FILE           write a report: esr_db against the full-size float\n"
             "                        model on this input, weight_bytes,\n"
             "                        weight_bytes_fp32 (full size), ns_per_sample, rtf,\n"
             "                        prepare_ms, clipped, model, architecture,\n"
             "                        sample_rate, samples, the settings, slim and\n"
             "                        slim_label (the size that played), output_mode,\n"
             "                        input_gain_db, output_gain_db, loudness_db,\n"
             "                        rounding, bias_correction, equalize,\n"
             "                        equalized (whether it played), calib,\n"
             "                        calib_esr_nearest_db, calib_esr_db and\n"
             "                        rounding_kept (the guard: models/variant.h),\n"
             "                        layers (per layer SQNR on the calibration\n"
             "                        audio, nearest vs the chosen rounding),\n"
             "                        and with mixed widths: bit_budget, average_bits,\n"
             "                        mixed (the guard: models/sensitivity.h),\n"
             "                        analysis_ms and bits_per_layer (per matrix: name,\n"
             "                        weights, bits, alone_esr_db, prefix_esr_db:\n"
             "                        its error alone and at the output with every\n"
             "                        matrix up to it quantized); with --ref: ref,\n"
             "                        ref_skip_seconds, esr_ref and esr_ref_db\n"
             "  --help                this text\n"
             "\n"
             "Exit status: 0 ok, 1 file or model error, 2 bad option.\n");
}

static int bad_option(const char *fmt, const char *a)
{
  fprintf(stderr, "quantone-run: ");
  fprintf(stderr, fmt, a);
  fprintf(stderr, "\nRun 'quantone-run --help' for the options.\n");
  return 2;
}

static bool parse_int(const char *s, long lo, long hi, int *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return false;
  *out = (int)v;
  return true;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/** JSON string with the characters JSON requires escaped. */
static void json_str(FILE *f, const char *s)
{
  fputc('"', f);
  for (; s && *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

/** A double as JSON: non-finite values have no JSON number, so null. */
static void json_num(FILE *f, double v)
{
  if (isfinite(v))
    fprintf(f, "%.6g", v);
  else
    fprintf(f, "null");
}

/** A mono file at the model's rate (calibration audio, or the reference
    --ref compares with): at most *n frames (all of it if shorter). */
static bool read_mono(const char *path, const char *what, double rate, float **out, int *n)
{
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *sf = sf_open(path, SFM_READ, &info);
  if (!sf) {
    fprintf(stderr, "quantone-run: %s: cannot read: %s\n", path, sf_strerror(NULL));
    return false;
  }
  if (info.channels != 1 || (double)info.samplerate != rate || info.frames <= 0) {
    fprintf(stderr, "quantone-run: %s: %s must be mono at %.0f Hz\n", path, what, rate);
    sf_close(sf);
    return false;
  }
  if (info.frames < *n)
    *n = (int)info.frames;
  *out = malloc((size_t)*n * sizeof(float));
  sf_count_t got = *out ? sf_readf_float(sf, *out, *n) : 0;
  sf_close(sf);
  if (got != *n) {
    fprintf(stderr, "quantone-run: %s: read %lld of %d frames\n", path, (long long)got, *n);
    free(*out);
    *out = NULL;
    return false;
  }
  return true;
}

/** Error-to-signal ratio of y against ref over n samples: the error's
    energy over the reference's (0 when both are silent). */
static double esr_of(const float *y, const float *ref, int n)
{
  double num = 0.0, den = 0.0;
  for (int i = 0; i < n; ++i) {
    double e = (double)y[i] - (double)ref[i];
    num += e * e;
    den += (double)ref[i] * (double)ref[i];
  }
  return den > 0.0 ? num / den : (num > 0.0 ? INFINITY : 0.0);
}

static void render(qm_model *m, const float *x, float *y, int n, int block)
{
  for (int done = 0; done < n;) {
    int k = n - done < block ? n - done : block;
    qm_model_process(m, x + done, y + done, k);
    done += k;
  }
}

/** Mixed precision: the widths that play and where their error comes
    from (sensitivity.h). */
typedef struct {
  int n;
  int *bits;
  double *alone, *prefix; /**< error accumulation, linear ESR */
  bool budgeted;
  double budget;
  qm_mixed_report report;
  double analysis_ms; /**< table + guard + accumulation */
} mixed_plan;

static void mixed_plan_free(mixed_plan *p)
{
  free(p->bits);
  free(p->alone);
  free(p->prefix);
}

/** Widths from LIST ("8,4,2,...", one per linear) or the budget, into
    spec->linear_bits; then the error accumulation. */
static bool plan_mixed(const qm_desc *d, qm_setting *spec, const char *list, double budget,
                       const float *calib, int n_calib, mixed_plan *p)
{
  char err[512];
  const double t0 = now_s();
  qm_sensitivity s;
  memset(&s, 0, sizeof s);
  int n = 0;
  if (list) { /* explicit: no table needed, the widths are counted */
    n = 1;
    for (const char *c = list; *c; ++c)
      n += *c == ',';
  } else {
    qm_setting scheme = *spec;
    if (scheme.bits == QM_BITS_FP32)
      scheme.bits = 8; /* the scheme's fields count, not its width */
    if (!qm_sensitivity_measure(d, &scheme, calib, n_calib, &s, err, sizeof err)) {
      fprintf(stderr, "quantone-run: sensitivity: %s\n", err);
      return false;
    }
    n = s.n;
  }
  p->n = n;
  p->bits = calloc((size_t)n + 1, sizeof *p->bits);
  p->alone = calloc((size_t)n + 1, sizeof *p->alone);
  p->prefix = calloc((size_t)n + 1, sizeof *p->prefix);
  bool ok = p->bits && p->alone && p->prefix;
  if (ok && list) {
    int k = 0;
    for (const char *c = list; ok && *c;) {
      char *end;
      long b = strtol(c, &end, 10);
      ok = end != c && (b == 32 || (b >= 2 && b <= 8 && b != 7)) && k < n &&
           (*end == ',' || *end == 0);
      if (ok)
        p->bits[k++] = (int)b;
      c = *end == ',' ? end + 1 : end;
    }
    if (!ok || k != n) {
      fprintf(stderr,
              "quantone-run: --bits-per-layer wants 32, 8, 6, 5, 4, 3 or 2, comma-separated, "
              "one per weight matrix, not '%s'\n",
              list);
      ok = false;
    }
  } else if (ok) {
    p->budgeted = true;
    p->budget = budget;
    ok = qm_mixed_choose(d, &s, budget, calib, n_calib, p->bits, &p->report, err, sizeof err);
    if (!ok)
      fprintf(stderr, "quantone-run: --bit-budget: %s\n", err);
  }
  if (ok) {
    if (spec->bits == QM_BITS_FP32)
      spec->bits = 8;
    spec->linear_bits = p->bits;
    spec->n_linear_bits = n;
    ok = qm_error_accumulation(d, spec, list ? NULL : &s, calib, n_calib, p->alone, p->prefix, err,
                               sizeof err);
    if (!ok)
      fprintf(stderr, "quantone-run: %s\n", err);
  }
  p->analysis_ms = (now_s() - t0) * 1e3;
  qm_sensitivity_free(&s);
  return ok;
}

static double db_of(double esr) { return esr > 0.0 ? 10.0 * log10(esr) : -INFINITY; }

static double plan_average_bits(const qm_model *m, const mixed_plan *p)
{
  double num = 0.0, den = 0.0;
  for (int i = 0; i < p->n; ++i) {
    const qm_linear *L = qm_model_linear((qm_model *)m, i);
    num += (double)L->out * L->in * p->bits[i];
    den += (double)L->out * L->in;
  }
  return den > 0.0 ? num / den : 0.0;
}

static void json_mixed(FILE *f, const qm_model *m, const mixed_plan *p)
{
  fprintf(f, ",\n  \"bit_budget\": ");
  json_num(f, p->budgeted ? p->budget : NAN);
  fprintf(f, ",\n  \"average_bits\": ");
  json_num(f, plan_average_bits(m, p));
  if (p->budgeted) {
    const qm_mixed_report *r = &p->report;
    fprintf(f, ",\n  \"mixed\": {\"predicted_esr_db\": ");
    json_num(f, r->predicted_db);
    fprintf(f, ", \"calib_esr_db\": ");
    json_num(f, r->mixed_db);
    fprintf(f, ", \"uniform_bits\": %d, \"calib_esr_uniform_db\": ", r->uniform_bits);
    json_num(f, r->uniform_db);
    fprintf(f, ", \"kept\": %s}", r->kept_mixed ? "true" : "false");
  }
  fprintf(f, ",\n  \"analysis_ms\": ");
  json_num(f, p->analysis_ms);
  fprintf(f, ",\n  \"bits_per_layer\": [");
  for (int i = 0; i < p->n; ++i) {
    const qm_linear *L = qm_model_linear((qm_model *)m, i);
    fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
    json_str(f, L->name);
    fprintf(f, ", \"weights\": %ld, \"bits\": %d, \"alone_esr_db\": ", (long)L->out * L->in,
            p->bits[i]);
    json_num(f, db_of(p->alone[i]));
    fprintf(f, ", \"prefix_esr_db\": ");
    json_num(f, db_of(p->prefix[i]));
    fprintf(f, "}");
  }
  fprintf(f, "%s]", p->n ? "\n  " : "");
}

static void print_mixed(const qm_model *m, const mixed_plan *p, bool per_layer)
{
  fprintf(stderr, "  mixed precision: %.3f average bits", plan_average_bits(m, p));
  if (p->budgeted)
    fprintf(stderr,
            " for a budget of %g; on the calibration audio %.2f dB (predicted %.2f), uniform "
            "%d-bit %.2f dB: %s",
            p->budget, p->report.mixed_db, p->report.predicted_db, p->report.uniform_bits,
            p->report.uniform_db, p->report.kept_mixed ? "mixed plays" : "uniform plays");
  fprintf(stderr, "; analysis %.0f ms\n", p->analysis_ms);
  if (!per_layer)
    return;
  fprintf(stderr, "  %-20s %7s %4s %10s %10s\n", "layer", "weights", "bits", "alone dB",
          "to here dB");
  for (int i = 0; i < p->n; ++i) {
    const qm_linear *L = qm_model_linear((qm_model *)m, i);
    fprintf(stderr, "  %-20s %7ld %4d %10.2f %10.2f\n", L->name, (long)L->out * L->in, p->bits[i],
            db_of(p->alone[i]), db_of(p->prefix[i]));
  }
}

int main(int argc, char **argv)
{
  const char *model = NULL, *in = NULL, *out = NULL, *json = NULL;
  const char *export_nam = NULL, *export_codes = NULL;
  bool scheme_given = false;
  const char *precision = "fp32";
  qm_setting spec;
  qm_setting_default(&spec);
  int block = 64;
  bool calibrate_input = false;
  double interface_dbu = QM_INTERFACE_DBU_DEFAULT;
  qm_output_mode output_mode = QM_OUTPUT_RAW;
  const char *calib_file = NULL;
  bool verbose_layers = false;
  double calib_seconds = 0.0;
  double bit_budget = NAN;
  const char *bits_list = NULL;
  const char *ref_file = NULL;
  double ref_skip = 0.1;

  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(a, "--asymmetric")) {
      spec.asymmetric = scheme_given = true;
      continue;
    }
    if (!strcmp(a, "--layers")) {
      verbose_layers = true;
      continue;
    }
    if (!strcmp(a, "--equalize")) {
      spec.equalize = true;
      continue;
    }
    if (!strcmp(a, "--bias-correction")) {
      spec.bias_correction = true;
      continue;
    }
    // clang-format off
    static const char *const with_value[] = {
        "--model",         "--in",          "--out",            "--json",
        "--precision",     "--mapping",     "--granularity",    "--group",
        "--activations",   "--observer",    "--block",          "--slim",
        "--input-dbu",     "--output-mode", "--rounding",       "--calib",
        "--calib-seconds", "--bit-budget",  "--bits-per-layer", "--export",
        "--export-codes",  "--ref",         "--ref-skip"};
    // clang-format on
    bool known = false;
    for (size_t j = 0; j < sizeof with_value / sizeof with_value[0]; ++j)
      known = known || !strcmp(a, with_value[j]);
    if (!known)
      return bad_option("unknown option '%s'", a);
    if (i + 1 >= argc)
      return bad_option("option '%s' needs a value", a);
    const char *v = argv[++i];
    if (!strcmp(a, "--model")) {
      model = v;
    } else if (!strcmp(a, "--in")) {
      in = v;
    } else if (!strcmp(a, "--out")) {
      out = v;
    } else if (!strcmp(a, "--json")) {
      json = v;
    } else if (!strcmp(a, "--export")) {
      export_nam = v;
    } else if (!strcmp(a, "--export-codes")) {
      export_codes = v;
    } else if (!strcmp(a, "--precision")) {
      scheme_given = true;
      precision = v;
      if (!qm_bits_from_name(v, &spec.bits))
        return bad_option("--precision must be fp32, 16 (fp16), bf16, 8, 4, 3 or 2, not '%s'", v);
      spec.half = qm_half_from_precision_name(v);
    } else if (!strcmp(a, "--mapping")) {
      scheme_given = true;
      if (!qz_mapping_from_name(v, &spec.mapping))
        return bad_option("--mapping must be linear, pow2 or kmeans, not '%s'", v);
    } else if (!strcmp(a, "--granularity")) {
      scheme_given = true;
      if (!qz_granularity_from_name(v, &spec.granularity))
        return bad_option("--granularity must be tensor, channel or group, not '%s'", v);
    } else if (!strcmp(a, "--group")) {
      scheme_given = true;
      if (!parse_int(v, 16, 65536, &spec.group) || spec.group % 16)
        return bad_option("--group must be a positive multiple of 16, not '%s'", v);
    } else if (!strcmp(a, "--activations")) {
      scheme_given = true;
      if (!qm_actq_from_name(v, &spec.activations))
        return bad_option("--activations must be float, dynamic or static, not '%s'", v);
    } else if (!strcmp(a, "--observer")) {
      if (!qz_observer_from_name(v, &spec.observer))
        return bad_option("--observer must be minmax, percentile or mse, not '%s'", v);
    } else if (!strcmp(a, "--slim")) {
      char *end;
      spec.slim = strtod(v, &end);
      if (end == v || *end || !(spec.slim >= 0.0 && spec.slim <= 1.0))
        return bad_option("--slim must be a number in 0..1, not '%s'", v);
    } else if (!strcmp(a, "--input-dbu")) {
      char *end;
      interface_dbu = strtod(v, &end);
      if (end == v || *end || !(interface_dbu >= -60.0 && interface_dbu <= 60.0))
        return bad_option("--input-dbu must be a level in dBu, -60..60, not '%s'", v);
      calibrate_input = true;
    } else if (!strcmp(a, "--output-mode")) {
      if (!qm_output_mode_from_name(v, &output_mode))
        return bad_option("--output-mode must be raw, normalized or calibrated, not '%s'", v);
    } else if (!strcmp(a, "--rounding")) {
      if (!qz_rounding_from_name(v, &spec.rounding))
        return bad_option("--rounding must be nearest, gptq or adaround, not '%s'", v);
    } else if (!strcmp(a, "--calib")) {
      calib_file = v;
    } else if (!strcmp(a, "--calib-seconds")) {
      char *end;
      calib_seconds = strtod(v, &end);
      if (end == v || *end || !(calib_seconds > 0.0 && calib_seconds <= 600.0))
        return bad_option("--calib-seconds must be a number in (0, 600], not '%s'", v);
    } else if (!strcmp(a, "--bit-budget")) {
      char *end;
      bit_budget = strtod(v, &end);
      if (end == v || *end || !(bit_budget >= 2.0 && bit_budget <= 8.0))
        return bad_option("--bit-budget must be a number of bits in 2..8, not '%s'", v);
    } else if (!strcmp(a, "--bits-per-layer")) {
      bits_list = v;
    } else if (!strcmp(a, "--ref")) {
      ref_file = v;
    } else if (!strcmp(a, "--ref-skip")) {
      char *end;
      ref_skip = strtod(v, &end);
      if (end == v || *end || !(ref_skip >= 0.0 && ref_skip <= 3600.0))
        return bad_option("--ref-skip must be a number of seconds in 0..3600, not '%s'", v);
    } else if (!strcmp(a, "--block")) {
      if (!parse_int(v, 1, 65536, &block))
        return bad_option("--block must be an integer in 1..65536, not '%s'", v);
    }
  }
  if (!model || !in)
    return bad_option("%s", "--model and --in are required");
  if (!out && !json && !export_nam && !export_codes)
    return bad_option("%s", "give --out, --json, --export and/or --export-codes");
  if (bits_list && !isnan(bit_budget))
    return bad_option("%s", "give --bit-budget or --bits-per-layer, not both");

  /* Model. */
  char err[1024];
  qm_desc *d = qm_load_file(model, err, sizeof err);
  if (!d) {
    fprintf(stderr, "quantone-run: %s\n", err);
    return 1;
  }
  if (d->warning)
    fprintf(stderr, "quantone-run: warning: %s: %s\n", model, d->warning);
  /** A file exported quantized (models/nam_export.h) plays at the setting
      it records unless the options choose one: then its codes are exact. */
  const qm_scheme_record *record = qm_desc_full_size(d)->scheme_record;
  if (record && !scheme_given) {
    qm_setting recorded = spec;
    if (qm_setting_parse(record->setting, &recorded, err, sizeof err)) {
      recorded.slim = spec.slim;
      spec = recorded;
      precision = spec.bits == QM_BITS_FP32 ? "fp32"
                  : spec.bits == 8          ? "8"
                  : spec.bits == 4          ? "4"
                                            : "2";
      fprintf(stderr, "quantone-run: %s was exported at %s (metadata.quantone): playing that\n",
              model, record->setting);
    }
  }

  /* Input. */
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *sf = sf_open(in, SFM_READ, &info);
  if (!sf) {
    fprintf(stderr, "quantone-run: %s: cannot read: %s\n", in, sf_strerror(NULL));
    qm_desc_free(d);
    return 1;
  }
  if (info.channels != 1) {
    fprintf(stderr, "quantone-run: %s: %d channels; the models are mono, give a mono file\n", in,
            info.channels);
    sf_close(sf);
    qm_desc_free(d);
    return 1;
  }
  /** Refuse rather than resample: a model at the wrong rate sounds wrong
      without saying so, and the user's resampler of choice is one sox
      command away. */
  if ((double)info.samplerate != d->sample_rate) {
    fprintf(stderr,
            "quantone-run: %s is %d Hz but %s runs at %.0f Hz; resample the input first "
            "(e.g. sox IN.wav -r %.0f OUT.wav)\n",
            in, info.samplerate, model, d->sample_rate, d->sample_rate);
    sf_close(sf);
    qm_desc_free(d);
    return 1;
  }
  if (info.frames <= 0 || info.frames > (sf_count_t)1 << 30) {
    fprintf(stderr, "quantone-run: %s: %lld frames is empty or too long\n", in,
            (long long)info.frames);
    sf_close(sf);
    qm_desc_free(d);
    return 1;
  }
  const int n = (int)info.frames;
  float *x = malloc((size_t)n * sizeof(float));
  float *y = malloc((size_t)n * sizeof(float));
  float *yr = malloc((size_t)n * sizeof(float));
  if (!x || !y || !yr) {
    fprintf(stderr, "quantone-run: out of memory for %d frames\n", n);
    return 1;
  }
  sf_count_t got = sf_readf_float(sf, x, n);
  sf_close(sf);
  if (got != n) {
    fprintf(stderr, "quantone-run: %s: read %lld of %d frames\n", in, (long long)got, n);
    return 1;
  }

  /** The reference --ref compares with, read (or refused) before any
      model is prepared. */
  float *ref_audio = NULL;
  int n_ref = n, ref_from = 0;
  if (ref_file) {
    ref_from = (int)(ref_skip * d->sample_rate);
    bool ok = read_mono(ref_file, "the reference", d->sample_rate, &ref_audio, &n_ref);
    if (ok && ref_from >= n_ref) {
      fprintf(stderr, "quantone-run: %s: %d frames, none after --ref-skip %g s\n", ref_file, n_ref,
              ref_skip);
      ok = false;
    }
    if (!ok) {
      free(ref_audio);
      free(x);
      free(y);
      free(yr);
      qm_desc_free(d);
      return 1;
    }
  }

  /** The size that plays at --slim, and what it is called. */
  const qm_desc *plays = qm_desc_at_slim(d, spec.slim, err, sizeof err);
  if (!plays) {
    fprintf(stderr, "quantone-run: %s\n", err);
    return 1;
  }
  qm_slim_step steps[64];
  const int n_steps = qm_desc_slim_steps(d, steps, 64);
  const char *slim_label = steps[qm_slim_step_index(steps, n_steps, spec.slim)].label;

  /** Input calibration before the model, as the plugin does it; a model
      without input_level_dbu plays unchanged, and says so. */
  double input_gain_db = 0.0;
  if (calibrate_input) {
    if (!qm_input_calibration_db(&d->meta, interface_dbu, &input_gain_db))
      fprintf(stderr, "quantone-run: %s has no metadata.input_level_dbu: input not calibrated\n",
              model);
    const float g = (float)pow(10.0, input_gain_db / 20.0);
    for (int i = 0; i < n; ++i)
      x[i] *= g;
  }

  /* Calibration audio. */
  const float *calib = x;
  int n_calib = n;
  float *calib_own = NULL;
  char calib_name[64] = "input";
  const bool mixed = bits_list || !isnan(bit_budget);
  if (mixed && !calib_file && !(calib_seconds > 0.0)) {
    /** The analysis clip (sensitivity.h) unless calibration audio is given. */
    calib_own = qm_mixed_clip(&n_calib);
    if (!calib_own) {
      fprintf(stderr, "quantone-run: out of memory for calibration\n");
      return 1;
    }
    snprintf(calib_name, sizeof calib_name, "synth pieces, %.2f s", n_calib / 48000.0);
    calib = calib_own;
  } else if (!calib_file && !(calib_seconds > 0.0) && spec.rounding == QZ_ROUND_NEAREST &&
             !spec.bias_correction && spec.bits == QM_BITS_HALF && spec.half == QM_HALF_FP16) {
    /** FP16 weights: the plugin's clip (models/calib_clip.h), so that the
        figure here is the plugin's. On the 2 s of seed 17 below
        slimmable_container measured -58.2 dB on input.wav, -63.2 on the
        plugin's clip (before FP16 rounding saw the idle point). */
    calib_own = qm_calib_clip(d->sample_rate, QM_CALIB_CLIP_SECONDS, &n_calib);
    if (!calib_own) {
      fprintf(stderr, "quantone-run: out of memory for calibration\n");
      return 1;
    }
    snprintf(calib_name, sizeof calib_name, "plugin clip, %.2f s", n_calib / d->sample_rate);
    calib = calib_own;
  } else if (calib_file || calib_seconds > 0.0 || spec.rounding != QZ_ROUND_NEAREST ||
             spec.bias_correction) {
    const double secs = calib_seconds > 0.0 ? calib_seconds : 2.0;
    n_calib = (int)(secs * d->sample_rate);
    if (calib_file) {
      if (!read_mono(calib_file, "calibration audio", d->sample_rate, &calib_own, &n_calib))
        return 1;
      snprintf(calib_name, sizeof calib_name, "file, %.2f s", n_calib / d->sample_rate);
    } else {
      /** The built-in guitar-like clip (written for 48 kHz; at another
          model rate the same samples play as a pitch-shifted clip, which
          is fine for statistics). Seed 17: not any test or demo input. */
      calib_own = malloc((size_t)n_calib * sizeof(float));
      if (!calib_own) {
        fprintf(stderr, "quantone-run: out of memory for calibration\n");
        return 1;
      }
      tr_synth_guitar(calib_own, (size_t)n_calib, 17);
      snprintf(calib_name, sizeof calib_name, "synth, %.2f s", secs);
    }
    calib = calib_own;
  }

  /* Mixed widths: explicit, or chosen for the budget. */
  qm_options o;
  qm_options_default(&o);
  mixed_plan plan;
  memset(&plan, 0, sizeof plan);
  if (mixed && !plan_mixed(plays, &spec, bits_list, bit_budget, calib, n_calib, &plan))
    return 1;

  /* The variant: prepare (timed), then render (timed). */
  double t0 = now_s();
  qm_model *m = qm_variant_create(plays, &spec, &o, calib, n_calib, err, sizeof err);
  double prepare_ms = (now_s() - t0) * 1e3;
  if (!m) {
    fprintf(stderr, "quantone-run: %s\n", err);
    return 1;
  }
  if ((export_nam && !qm_export_nam(d, &spec, &o, calib, n_calib, export_nam, err, sizeof err)) ||
      (export_codes &&
       !qm_export_codes(d, &spec, &o, calib, n_calib, export_codes, err, sizeof err))) {
    fprintf(stderr, "quantone-run: export: %s\n", err);
    return 1;
  }
  qm_model_take_clipped(m);
  t0 = now_s();
  render(m, x, y, n, block);
  double secs = now_s() - t0;
  size_t clipped = qm_model_take_clipped(m);

  /** The float reference on the same input, for ESR: always the full
      size, so a smaller size's error and the quantization's add up on one
      scale (DESIGN.md, "Slim"). */
  qm_model *ref = qm_model_create(d, &o, err, sizeof err);
  if (!ref) {
    fprintf(stderr, "quantone-run: %s\n", err);
    return 1;
  }
  render(ref, x, yr, n, block);

  /** The output mode's gain is the full-size float model's, applied to
      both renders: the ESR below does not move with it. */
  bool measured = false;
  double loudness_db = d->meta.has_loudness ? d->meta.loudness : NAN;
  if (!d->meta.has_loudness && output_mode == QM_OUTPUT_NORMALIZED) {
    char e[256];
    measured = qm_measure_loudness_db(ref, &loudness_db, e, sizeof e);
    if (!measured)
      loudness_db = NAN;
  }
  double output_gain_db = 0.0;
  if (!qm_output_gain_db(&d->meta, output_mode, interface_dbu, measured, loudness_db,
                         &output_gain_db))
    fprintf(stderr, "quantone-run: %s has no %s: output mode %s plays raw\n", model,
            output_mode == QM_OUTPUT_CALIBRATED ? "metadata.output_level_dbu" : "loudness",
            qm_output_mode_name(output_mode));
  const float og = (float)pow(10.0, output_gain_db / 20.0);
  for (int i = 0; i < n && output_gain_db != 0.0; ++i) {
    y[i] *= og;
    yr[i] *= og;
  }
  const double esr = esr_of(y, yr, n);
  const double esr_db = db_of(esr);

  /** Against a given reference (e.g. the effect the model captures, fed
      the same input): the output as written, after the output mode's
      gain, from ref_skip seconds on, where a render no longer depends on
      the silence before the file. */
  const double esr_ref =
      ref_audio ? esr_of(y + ref_from, ref_audio + ref_from, n_ref - ref_from) : NAN;

  int status = 0;
  if (out) {
    SF_INFO oi;
    memset(&oi, 0, sizeof oi);
    oi.samplerate = info.samplerate;
    oi.channels = 1;
    oi.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE *of = sf_open(out, SFM_WRITE, &oi);
    if (!of || sf_writef_float(of, y, n) != n) {
      fprintf(stderr, "quantone-run: %s: cannot write: %s\n", out, sf_strerror(of));
      status = 1;
    }
    if (of)
      sf_close(of);
  }

  char desc[160];
  qm_setting_describe(&spec, desc, sizeof desc);
  double ns = secs * 1e9 / n;
  double rtf = secs / ((double)n / d->sample_rate);
  if (json) {
    FILE *f = fopen(json, "w");
    if (!f) {
      fprintf(stderr, "quantone-run: %s: cannot write: %s\n", json, strerror(errno));
      status = 1;
    } else {
      fprintf(f, "{\n  \"model\": ");
      json_str(f, model);
      fprintf(f, ",\n  \"architecture\": ");
      json_str(f, d->architecture);
      fprintf(f, ",\n  \"input\": ");
      json_str(f, in);
      fprintf(f, ",\n  \"sample_rate\": %.0f,\n  \"samples\": %d", d->sample_rate, n);
      fprintf(f, ",\n  \"precision\": ");
      json_str(f, spec.bits == QM_BITS_FP32   ? "fp32"
                  : spec.bits == QM_BITS_HALF ? qm_half_name(spec.half)
                                              : precision);
      fprintf(f, ",\n  \"bits\": %d,\n  \"mapping\": ", spec.bits);
      json_str(f, qz_mapping_name(spec.mapping));
      fprintf(f,
              ",\n  \"asymmetric\": %s,\n  \"granularity\": ", spec.asymmetric ? "true" : "false");
      json_str(f, qz_granularity_name(spec.granularity));
      fprintf(f, ",\n  \"group\": %d,\n  \"activations\": ", spec.group);
      json_str(f, qm_actq_name(spec.activations));
      fprintf(f, ",\n  \"observer\": ");
      json_str(f, qz_observer_name(spec.observer));
      fprintf(f, ",\n  \"variant\": ");
      json_str(f, desc);
      fprintf(f, ",\n  \"slim\": ");
      json_num(f, spec.slim);
      fprintf(f, ",\n  \"slim_label\": ");
      json_str(f, slim_label);
      fprintf(f, ",\n  \"output_mode\": ");
      json_str(f, qm_output_mode_name(output_mode));
      fprintf(f, ",\n  \"input_gain_db\": ");
      json_num(f, input_gain_db);
      fprintf(f, ",\n  \"output_gain_db\": ");
      json_num(f, output_gain_db);
      fprintf(f, ",\n  \"loudness_db\": ");
      json_num(f, loudness_db);
      fprintf(f, ",\n  \"rounding\": ");
      json_str(f, qz_rounding_name(spec.rounding));
      fprintf(f, ",\n  \"bias_correction\": %s,\n  \"equalize\": %s,\n  \"equalized\": %s",
              spec.bias_correction ? "true" : "false", spec.equalize ? "true" : "false",
              qm_model_equalized(m) ? "true" : "false");
      fprintf(f, ",\n  \"calib\": ");
      json_str(f, calib_name);
      double gn, go;
      bool kept;
      if (qm_model_rounding_guard(m, &gn, &go, &kept)) {
        fprintf(f, ",\n  \"calib_esr_nearest_db\": ");
        json_num(f, gn);
        fprintf(f, ",\n  \"calib_esr_db\": ");
        json_num(f, go);
        fprintf(f, ",\n  \"rounding_kept\": %s", kept ? "true" : "false");
      }
      fprintf(f, ",\n  \"layers\": [");
      int shown = 0;
      for (int i = 0; i < qm_model_linear_count(m); ++i) {
        double a, b;
        if (!qm_model_linear_rounding_sqnr(m, i, &a, &b))
          continue;
        fprintf(f, "%s\n    {\"name\": ", shown++ ? "," : "");
        json_str(f, qm_model_linear(m, i)->name);
        fprintf(f, ", \"sqnr_nearest_db\": ");
        json_num(f, a);
        fprintf(f, ", \"sqnr_db\": ");
        json_num(f, b);
        fprintf(f, "}");
      }
      fprintf(f, "%s]", shown ? "\n  " : "");
      if (mixed)
        json_mixed(f, m, &plan);
      fprintf(f, ",\n  \"block\": %d,\n  \"esr\": ", block);
      json_num(f, esr);
      fprintf(f, ",\n  \"esr_db\": ");
      json_num(f, esr_db);
      if (ref_file) {
        fprintf(f, ",\n  \"ref\": ");
        json_str(f, ref_file);
        fprintf(f, ",\n  \"ref_skip_seconds\": ");
        json_num(f, ref_skip);
        fprintf(f, ",\n  \"esr_ref\": ");
        json_num(f, esr_ref);
        fprintf(f, ",\n  \"esr_ref_db\": ");
        json_num(f, db_of(esr_ref));
      }
      fprintf(f, ",\n  \"weight_bytes\": %zu,\n  \"weight_bytes_fp32\": %zu",
              qm_model_weight_bytes(m), qm_model_weight_bytes(ref));
      fprintf(f, ",\n  \"ns_per_sample\": ");
      json_num(f, ns);
      fprintf(f, ",\n  \"rtf\": ");
      json_num(f, rtf);
      fprintf(f, ",\n  \"prepare_ms\": ");
      json_num(f, prepare_ms);
      fprintf(f, ",\n  \"clipped\": %zu,\n  \"isa\": ", clipped);
      json_str(f, qk_isa_name(qk_active_isa()));
      fprintf(f, "\n}\n");
      if (fclose(f) != 0) {
        fprintf(stderr, "quantone-run: %s: write failed\n", json);
        status = 1;
      }
    }
  }
  fprintf(stderr,
          "%s: %s (%s), ESR %.2f dB vs the full-size float model, %.1f ns/sample (RTF %.4f), %zu "
          "weight bytes\n",
          model, desc, slim_label, esr_db, ns, rtf, qm_model_weight_bytes(m));
  if (ref_file)
    fprintf(stderr, "  against %s from %.3g s (%d frames): ESR %.6g (%.2f dB)\n", ref_file,
            ref_skip, n_ref - ref_from, esr_ref, db_of(esr_ref));

  double guard_near, guard_opt;
  bool guard_kept;
  if (qm_model_rounding_guard(m, &guard_near, &guard_opt, &guard_kept))
    fprintf(stderr, "  on the calibration audio: nearest %.2f dB, %s%s %.2f dB: %s\n", guard_near,
            qz_rounding_name(spec.rounding), spec.bias_correction ? "+bc" : "", guard_opt,
            guard_kept ? "kept" : "worse end to end, nearest rounding plays");
  if (spec.equalize)
    fprintf(stderr, "  equalization %s\n",
            qm_model_equalized(m) ? "plays"
                                  : "not played (no channels to rescale, or the guard "
                                    "found it worse on the calibration audio)");
  if (verbose_layers)
    for (int i = 0; i < qm_model_linear_count(m); ++i) {
      double a, b;
      if (qm_model_linear_rounding_sqnr(m, i, &a, &b))
        fprintf(stderr, "  %-20s SQNR nearest %6.2f dB, %s %6.2f dB\n", qm_model_linear(m, i)->name,
                a, qz_rounding_name(spec.rounding), b);
    }
  if (mixed)
    print_mixed(m, &plan, verbose_layers);
  mixed_plan_free(&plan);
  qm_model_free(m);
  qm_model_free(ref);
  free(calib_own);
  qm_desc_free(d);
  free(x);
  free(y);
  free(yr);
  free(ref_audio);
  return status;
}
