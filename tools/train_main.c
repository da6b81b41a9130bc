/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  quantone-train: trains NAM-compatible WaveNet / LSTM captures, with
  quantization-aware fine-tuning, and writes .nam files.

    quantone-train train  [options]       train (or QAT-fine-tune) a model
    quantone-train eval   --model F.nam   held-out ESR vs target, and of each
                                          bit width vs float (plain PTQ)
    quantone-train render --target NAME   write the built-in dry/wet audio as WAVs
    quantone-train check-reference DIR    reproduce the reference renders
    quantone-train container OUT.nam MAX:F.nam...   join trained models into a
                                          SlimmableContainer (.nam 0.7.0)
    quantone-train distill --teacher F.nam --student-preset P [options]
                                          train a student on the teacher's output
    quantone-train prune --model F.nam --widths 4,8,12 [options]
                                          structured pruning to a slimmable model
  Run with --help for the options.
*/
#include "fx.h"
#include "tr_data.h"
#include "tr_distill.h"
#include "tr_export.h"
#include "tr_loss.h"
#include "tr_lstm.h"
#include "tr_nam.h"
#include "tr_prune_fit.h"
#include "tr_qat.h"
#include "tr_train.h"
#include "tr_wav.h"
#include "tr_wavenet.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  const char *target, *in_wav, *out_wav, *arch, *preset, *out, *name, *init, *qat, *model;
  const char *checkpoint, *resume, *dry_out, *wet_out, *eval_schemes, *ref;
  const char *teacher;     /**< distill: the teacher file */
  const char *export_q;    /**< train/distill with --qat: the quantized .nam to write */
  double alpha;            /**< distill: weight of the teacher in the target */
  const char *in_wavs[16]; /**< distill: extra dry inputs */
  int n_in_wavs;
  double tones_s; /**< distill: seconds of held tones added to the training input */
  const char *widths; /**< prune: the first array's channel counts */
  tr_prune_opts prune;
  int hidden, layers, burn_in, threads, latency_set, write_meta_ptq;
  long latency, max_latency;
  double train_s, val_s, val_frac;
  tr_train_opts o;
} cli;

static void usage(void)
{
  printf("usage: quantone-train COMMAND [options]\n"
         "commands: train, eval, render, check-reference DIR\n"
         "data:   --target overdrive|diode   built-in effect on synthesized guitar\n"
         "        --train-seconds S (120) --val-seconds S (20)\n"
         "        --input DRY.wav --output WET.wav   a capture pair (48 kHz)\n"
         "        --latency N (drop N samples from the output start) --max-latency N (8)\n"
         "        --val-fraction F (0.1)\n"
         "model:  --arch wavenet|lstm  --preset nano|feather|lite|standard|a2-nano|a2-standard\n"
         "        (standard; a2-*: NAM's A2 WaveNet, written as .nam 0.7.0)\n"
         "        --hidden H (16) --layers N (1) --burn-in N (2048)  [lstm]\n"
         "        --init F.nam (start from a trained model, e.g. for QAT)\n"
         "train:  --epochs N --batch B --segment L --steps N --lr X --lr-decay X --clip X\n"
         "        --seed S --threads N --preemph A (0.85) --dc W (1) --plain W (0)\n"
         "        --time-limit SECONDS --checkpoint FILE --resume FILE [--resume-best]\n"
         "        (on resume an explicit --lr replaces the checkpoint's rate)\n"
         "        --qat SCHEME   fake-quantized fine-tuning, SCHEME = bits[:linear|pow2|kmeans]\n"
         "                       [:sym|asym][:tensor|channel|groupN], e.g. 4 or 2:linear:asym\n"
         "        --qat-method ste|lsq   straight-through on the engine's scales (ste), or\n"
         "                       learned per-channel step sizes (lsq; linear sym channel)\n"
         "        --lsq-step-lr R  the steps' learning rate as R x the weights' (1)\n"
         "        --qat-dampen W [--qat-dampen-ramp E (10)]  oscillation dampening: W x the\n"
         "                       squared distance of each weight to its bin's centre,\n"
         "                       ramped in over E epochs (linear sym channel schemes)\n"
         "        --qat-code-attribution  also print each epoch's held-out ESR with the\n"
         "                       previous epoch's weight codes (what the code changes did)\n"
         "        --ema D [--ema-start E (0)]  weight averaging: the held-out ESR, best epoch\n"
         "                 and result are those of the parameters' moving average, decay D\n"
         "                 per step (e.g. 0.98), averaging from epoch E (the parameters\n"
         "                 themselves before it)\n"
         "output: --out F.nam --name NAME\n"
         "        --export Q.nam (with --qat, --init; 8/4/2-bit linear, sym or asym, per\n"
         "        tensor, channel or group): the model as the scheme plays it, weights\n"
         "        dequantized, the scheme in metadata.quantone, the --init file's config\n"
         "        and metadata kept; the --init model rounded to nearest if fine-tuning\n"
         "        did not lower its ESR\n"
         "eval:   --model F.nam [--schemes 8,4,2 (comma list of SCHEMEs)] [--ref FLOAT.nam]\n"
         "        (ESR of each quantized variant vs the float model, or vs --ref's output)\n"
         "render: --target NAME --val-seconds S --seed S --dry-out A.wav --wet-out B.wav\n"
         "distill: --teacher F.nam (any model the engine plays) --student-preset P (a preset)\n"
         "        --alpha A (1): target = A * teacher + (1 - A) * effect, train and held-out\n"
         "        --in DRY.wav (repeatable): more training input, labelled by teacher and effect\n"
         "        --tones S: S seconds of held sine tones (70-1200 Hz, -30 to -1 dBFS) added\n"
         "        to the training input, labelled the same way\n"
         "        and every train option (--epochs, --checkpoint, --resume, --out, ...)\n"
         "container OUT.nam MAX:F.nam ...   the Slim control plays the first F whose MAX is\n"
         "        above it: MAXes rising, the last usually 1 (e.g. 0.5:nano.nam 1:standard.nam);\n"
         "        container --name NAME OUT.nam ...: NAME in the metadata\n"
         "prune:  --model F.nam (a trained WaveNet) --widths W,W,... (the first layer array's\n"
         "        channels, rising, below its full count; later arrays in proportion)\n"
         "        --criterion output|l1 (output: ESR of the output without the channel on\n"
         "        --calib-seconds S (4) of training input; l1: outgoing weights' L1 norm)\n"
         "        --format slimmable|container (slimmable: reordered channels, nested\n"
         "        fine-tunes; container: independent fine-tunes) --out F.nam, and the train\n"
         "        options for each width's fine-tune (--epochs 0: cut only); --checkpoint F\n"
         "        and --resume F work per width (F.wN)\n");
}

static bool load_data(const cli *c, tr_dataset *d)
{
  char err[512];
  if (c->in_wav || c->out_wav) {
    if (!c->in_wav || !c->out_wav) {
      fprintf(stderr, "quantone-train: --input and --output go together\n");
      return false;
    }
    tr_wav_pair p;
    if (!tr_wav_pair_load(&p, c->in_wav, c->out_wav, c->latency, c->max_latency, err, sizeof err)) {
      fprintf(stderr, "quantone-train: %s\n", err);
      return false;
    }
    printf("capture pair: %zu samples at %d Hz, measured latency %ld samples, correlation %.3f\n",
           p.n, p.rate, p.measured_latency, p.corr);
    const bool ok = tr_dataset_from_pair(d, &p, c->val_frac, err, sizeof err);
    tr_wav_pair_free(&p);
    if (!ok)
      fprintf(stderr, "quantone-train: %s\n", err);
    return ok;
  }
  if (!tr_dataset_builtin(d, c->target, c->train_s, c->val_s, c->o.seed, err, sizeof err)) {
    fprintf(stderr, "quantone-train: %s\n", err);
    return false;
  }
  return true;
}

static tr_model *make_model(const cli *c)
{
  char err[512];
  if (c->init) {
    tr_model *m = tr_nam_read(c->init, c->threads, 24000, err, sizeof err);
    if (!m)
      fprintf(stderr, "quantone-train: %s\n", err);
    else if (m->arch == TR_LSTM)
      m->context = c->burn_in;
    return m;
  }
  if (strcmp(c->arch, "wavenet") == 0) {
    tr_wn_config cfg;
    if (!tr_wavenet_preset(c->preset, &cfg)) {
      fprintf(stderr, "quantone-train: unknown preset '%s'\n", c->preset);
      return NULL;
    }
    return tr_wavenet_new(&cfg, c->o.seed, c->threads);
  }
  if (strcmp(c->arch, "lstm") == 0) {
    tr_lstm_config cfg = {c->hidden, c->layers, c->burn_in, 24000};
    tr_model *m = tr_lstm_new(&cfg, c->o.seed, c->threads);
    if (!m)
      fprintf(stderr, "quantone-train: bad LSTM size (hidden 1..256, layers 1..4)\n");
    return m;
  }
  fprintf(stderr, "quantone-train: unknown --arch '%s'\n", c->arch);
  return NULL;
}

static void describe(const tr_model *m)
{
  if (m->arch == TR_WAVENET) {
    const tr_wn_config *w = tr_wavenet_config(m);
    char widths[64];
    int at = 0;
    for (int a = 0; a < w->n_arrays && at < (int)sizeof widths; ++a)
      at += snprintf(widths + at, sizeof widths - (size_t)at, "%s%d", a ? "/" : "",
                     w->arrays[a].channels);
    printf("model: WaveNet %s %s channels, %zu parameters, receptive field %d\n",
           tr_wavenet_is_a1(w) ? "A1" : "A2", widths, m->n_params + 1,
           tr_wavenet_receptive_field(w));
  } else {
    const tr_lstm_config *l = tr_lstm_cfg(m);
    printf("model: LSTM %d x %d hidden, %zu parameters\n", l->layers, l->hidden, m->n_params);
  }
}

/** Plain-PTQ and given schemes: ESR of the quantized model vs the float one. */
static void ptq_table(tr_model *m, const tr_dataset *d, const char *list, int skip, char *json,
                      size_t jlen, const float *ext_ref)
{
  float *ref = malloc(d->val.n * sizeof *ref);
  if (!ref)
    abort();
  double vs_ext = 0.0;
  const double ef = tr_evaluate(m, m->p, NULL, &d->val, skip, ext_ref, &vs_ext, ref);
  printf("float: held-out ESR vs target %.6f (%.2f dB)\n", ef, 10 * log10(ef));
  if (ext_ref) {
    printf("float weights of this file vs the reference model: ESR %.6f (%.2f dB)\n", vs_ext,
           10 * log10(vs_ext > 0 ? vs_ext : 1e-30));
    memcpy(ref, ext_ref, d->val.n * sizeof *ref);
  }
  char buf[256];
  snprintf(buf, sizeof buf, "%s", list);
  size_t jo = 0;
  if (json)
    jo += (size_t)snprintf(json + jo, jlen - jo, "{\"float_esr\": %.6g, \"ptq\": [", ef);
  char *save = NULL;
  int first = 1;
  for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    qz_scheme s;
    char err[256], nm[128];
    if (!tr_scheme_parse(tok, &s, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      continue;
    }
    tr_scheme_name(&s, nm, sizeof nm);
    double vs_float = 0.0;
    const double et = tr_evaluate(m, m->p, &s, &d->val, skip, ref, &vs_float, NULL);
    printf("%-28s ESR vs %s %.6f (%.2f dB)   vs target %.6f\n", nm,
           ext_ref ? "reference float model" : "float", vs_float,
           10 * log10(vs_float > 0 ? vs_float : 1e-30), et);
    if (json && jo < jlen)
      jo += (size_t)snprintf(
          json + jo, jlen - jo,
          "%s{\"scheme\": \"%s\", \"esr_vs_float\": %.6g, \"esr_vs_target\": %.6g}",
          first ? "" : ", ", nm, vs_float, et);
    first = 0;
  }
  if (json && jo < jlen)
    snprintf(json + jo, jlen - jo, "]}");
  free(ref);
}

/** Distillation: more inputs, then the teacher's labels (mixed with the
    effect's by alpha) for the training and the held-out audio. */
static bool distill_data(const cli *c, tr_dataset *d, float **teacher_val, float **effect_val)
{
  char err[512];
  if (c->n_in_wavs > 0 && c->in_wav) {
    fprintf(stderr, "quantone-train distill: --in labels dry audio with the built-in effect; "
                    "it does not go with --input/--output\n");
    return false;
  }
  /* the tones' own stream, not the guitar clip's (same seed, other audio) */
  if (!tr_dataset_append_wavs(d, c->target, c->in_wavs, c->n_in_wavs, err, sizeof err) ||
      !tr_dataset_append_tones(d, c->target, c->tones_s, c->o.seed * 7919u + 101u, err,
                               sizeof err)) {
    fprintf(stderr, "quantone-train: %s\n", err);
    return false;
  }
  tr_teacher teacher;
  if (!tr_teacher_open(&teacher, c->teacher, err, sizeof err)) {
    fprintf(stderr, "quantone-train: %s\n", err);
    return false;
  }
  const clock_t t0 = clock();
  const bool ok =
      tr_distill_targets(d, &teacher, c->alpha, teacher_val, effect_val, err, sizeof err);
  tr_teacher_close(&teacher);
  if (!ok) {
    fprintf(stderr, "quantone-train: %s\n", err);
    return false;
  }
  const size_t skip = (size_t)c->o.val_skip < d->val.n ? (size_t)c->o.val_skip : 0;
  printf("teacher %s (engine, float): labelled %.1f s of audio in %.1f s CPU; its held-out ESR "
         "vs the effect %.6f\n",
         c->teacher, (double)(d->train.n + d->val.n) / 48000.0,
         (double)(clock() - t0) / CLOCKS_PER_SEC,
         tr_esr(*teacher_val + skip, *effect_val + skip, d->val.n - skip));
  printf("target: %.3g x teacher + %.3g x effect (training and held-out)\n", c->alpha,
         1.0 - c->alpha);
  return true;
}

/**
   The data set and the model a command works on, with the data line and
   the model's description printed. With --teacher and the two pointers
   (train), the targets are relabelled by the teacher first. On failure
   it has said why and freed what it made: NULL.
*/
static tr_model *open_data_and_model(const cli *c, tr_dataset *d, float **teacher_val,
                                     float **effect_val)
{
  if (!load_data(c, d))
    return NULL;
  if (c->teacher && teacher_val && !distill_data(c, d, teacher_val, effect_val)) {
    tr_dataset_free(d);
    return NULL;
  }
  printf("data: %s\n", d->desc);
  tr_model *m = make_model(c);
  if (!m) {
    tr_dataset_free(d);
    return NULL;
  }
  describe(m);
  return m;
}

/** --export (tr_export_guarded): m, or the --init model rounded to nearest
    when fine-tuning did not lower its quantized held-out ESR. */
static bool export_quantized(const cli *c, tr_model *m, const qz_scheme *qs, const tr_dataset *d)
{
  char err[512];
  tr_model *start = tr_nam_read(c->init, c->threads, 24000, err, sizeof err);
  if (start && start->arch == TR_LSTM)
    start->context = c->burn_in; /* as make_model: the same held-out figures */
  const tr_nam_meta meta = {
      c->name ? c->name : "Quantone capture", "quantone-train", NULL, NULL, -1.0, NULL};
  tr_export_report rep;
  const bool ok = start && tr_export_guarded(m, start, qs, &d->val, c->o.val_skip, c->init, &meta,
                                             c->export_q, &rep, err, sizeof err);
  tr_model_free(start);
  if (!ok) {
    fprintf(stderr, "quantone-train: export: %s\n", err);
    return false;
  }
  printf("export: held-out ESR quantized, start model (nearest) %.6f, fine-tuned %.6f: wrote %s "
         "(%s);\n  played in float by the engine, as any NAM player plays it: %.6f (%.2f dB)\n",
         rep.start_esr, rep.tuned_esr, c->export_q,
         rep.tuned_kept ? "the fine-tuned model" : "the start model: fine-tuning did not help",
         rep.played_esr, 10 * log10(rep.played_esr > 0 ? rep.played_esr : 1e-30));
  return true;
}

static int cmd_train(cli *c)
{
  tr_dataset d;
  float *teacher_val = NULL, *effect_val = NULL;
  tr_model *m = open_data_and_model(c, &d, &teacher_val, &effect_val);
  if (!m)
    return 1;
  qz_scheme qs;
  char err[512];
  if (c->export_q && (!c->qat || !c->init)) {
    fprintf(stderr, "quantone-train: --export needs --qat and --init\n");
    return 1;
  }
  if (c->qat) {
    if (!tr_scheme_parse(c->qat, &qs, err, sizeof err)) {
      fprintf(stderr, "quantone-train: %s\n", err);
      return 1;
    }
    c->o.qat = &qs;
    char nm[128];
    tr_scheme_name(&qs, nm, sizeof nm);
    printf("QAT: fake-quantized forward with %s (%s)\n", nm,
           c->o.qat_method == TR_QAT_LSQ
               ? "LSQ: learned per-channel steps, gradient scale 1/sqrt(N Qp)"
               : "straight-through gradient on the engine's scales");
    if (c->export_q && !tr_export_scheme_ok(&qs, err, sizeof err)) {
      fprintf(stderr, "quantone-train: %s\n", err);
      return 1;
    }
    if (c->init) {
      const double e0 = tr_evaluate(m, m->p, &qs, &d.val, c->o.val_skip, NULL, NULL, NULL);
      printf("before QAT: held-out ESR of the quantized start model %.6f\n", e0);
    }
  }
  tr_train_result r;
  if (!tr_train(m, &d, &c->o, &r, err, sizeof err)) {
    fprintf(stderr, "quantone-train: %s\n", err);
    tr_model_free(m);
    tr_dataset_free(&d);
    return 1;
  }
  printf("trained %d epochs in %.1f s; best held-out ESR %.6f at epoch %d\n", r.epochs_run,
         r.seconds, r.best_val_esr, r.best_epoch);
  if (r.lsq_engine_esr >= 0.0)
    printf("LSQ: the written weights re-encoded by the engine's quantizer: held-out ESR %.6f "
           "(%zu rows not reaching the top code, which re-encode on another grid)\n",
           r.lsq_engine_esr, r.lsq_rows_off_grid);
  double student_vs_effect = -1.0, student_vs_teacher = -1.0;
  if (c->teacher) {
    const tr_signal effect = {d.val.x, effect_val, d.val.n};
    student_vs_effect = tr_evaluate(m, m->p, c->o.qat, &effect, c->o.val_skip, teacher_val,
                                    &student_vs_teacher, NULL);
    printf("student held-out ESR: vs the effect %.6f, vs the teacher %.6f\n", student_vs_effect,
           student_vs_teacher);
  }
  /* figures for the file: float ESR vs target, and PTQ at 8/4/2 bits */
  char json[2048];
  ptq_table(m, &d, c->eval_schemes, c->o.val_skip, json, sizeof json, NULL);
  const double ef = tr_evaluate(m, m->p, NULL, &d.val, c->o.val_skip, NULL, NULL, NULL);
  if (c->out) {
    char qj[4096], distilled[1024] = "";
    if (c->teacher)
      snprintf(distilled, sizeof distilled,
               ", \"distilled_from\": \"%s\", \"alpha\": %.6g, "
               "\"esr_vs_effect\": %.6g, \"esr_vs_teacher\": %.6g",
               c->teacher, c->alpha, student_vs_effect, student_vs_teacher);
    snprintf(qj, sizeof qj,
             "{\"trainer\": \"quantone-train\", \"data\": \"%s\", \"qat\": %s%s%s, "
             "\"qat_method\": \"%s\", \"seconds\": %.1f%s, \"eval\": %s}",
             d.desc, c->qat ? "\"" : "", c->qat ? c->qat : "null", c->qat ? "\"" : "",
             c->o.qat_method == TR_QAT_LSQ ? "lsq" : "ste", r.seconds, distilled, json);
    tr_nam_meta meta = {c->name ? c->name : "Quantone capture",
                        "quantone-train",
                        c->in_wav ? NULL : "pedal",
                        c->in_wav ? NULL
                                  : (strcmp(c->target, "diode") == 0 ? "crunch" : "overdrive"),
                        ef,
                        qj};
    if (!tr_nam_write(c->out, m, m->p, &meta)) {
      fprintf(stderr, "quantone-train: cannot write %s\n", c->out);
      return 1;
    }
    printf("wrote %s\n", c->out);
  }
  if (c->export_q && !export_quantized(c, m, &qs, &d)) {
    tr_model_free(m);
    tr_dataset_free(&d);
    return 1;
  }
  free(teacher_val);
  free(effect_val);
  tr_model_free(m);
  tr_dataset_free(&d);
  return 0;
}

static int cmd_eval(cli *c)
{
  if (!c->model) {
    fprintf(stderr, "quantone-train eval: --model F.nam required\n");
    return 1;
  }
  c->init = c->model;
  tr_dataset d;
  tr_model *m = open_data_and_model(c, &d, NULL, NULL);
  if (!m)
    return 1;
  float *ref = NULL;
  if (c->ref) {
    char err[512];
    tr_model *rm = tr_nam_read(c->ref, c->threads, 24000, err, sizeof err);
    if (!rm) {
      fprintf(stderr, "quantone-train: %s\n", err);
      return 1;
    }
    ref = malloc(d.val.n * sizeof *ref);
    if (!ref)
      abort();
    rm->predict(rm, rm->p, d.val.x, d.val.n, ref);
    tr_model_free(rm);
    printf("reference float model: %s\n", c->ref);
  }
  ptq_table(m, &d, c->eval_schemes, c->o.val_skip, NULL, 0, ref);
  free(ref);
  tr_model_free(m);
  tr_dataset_free(&d);
  return 0;
}

static int cmd_render(cli *c)
{
  if (!c->dry_out || !c->wet_out) {
    fprintf(stderr, "quantone-train render: --dry-out and --wet-out required\n");
    return 1;
  }
  tr_dataset d;
  char err[256];
  if (!tr_dataset_builtin(&d, c->target, c->val_s, 1.0, c->o.seed, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  const bool ok = tr_wav_write(c->dry_out, d.train.x, d.train.n, 48000, true) &&
                  tr_wav_write(c->wet_out, d.train.y, d.train.n, 48000, true);
  tr_dataset_free(&d);
  if (!ok)
    fprintf(stderr, "cannot write output files\n");
  return ok ? 0 : 1;
}

static int check_one(const char *dir, const char *nam, const char *core, const float *x, size_t n)
{
  char p1[4096], p2[4096], err[512];
  snprintf(p1, sizeof p1, "%s/%s", dir, nam);
  snprintf(p2, sizeof p2, "%s/%s", dir, core);
  tr_model *m = tr_nam_read(p1, 1, 24000, err, sizeof err);
  if (!m) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  size_t nr = 0;
  int rate = 0;
  float *ref = tr_wav_read(p2, &nr, &rate, NULL, err, sizeof err);
  if (!ref) {
    fprintf(stderr, "%s\n", err);
    tr_model_free(m);
    return 1;
  }
  float *y = malloc(n * sizeof *y);
  m->predict(m, m->p, x, n, y);
  const size_t k = nr < n ? nr : n;
  const double e = tr_esr(y, ref, k), e2 = k > 8192 ? tr_esr(y + 8192, ref + 8192, k - 8192) : e;
  printf("%-26s ESR vs reference render: all samples %.3g, from 8192 on %.3g  %s\n", nam, e, e2,
         e <= 1e-6 ? "OK" : "MISMATCH");
  free(y);
  free(ref);
  tr_model_free(m);
  return e <= 1e-6 ? 0 : 1;
}

static int cmd_check(const char *dir)
{
  char p[4096], err[512];
  snprintf(p, sizeof p, "%s/input.wav", dir);
  size_t n = 0;
  int rate = 0;
  float *x = tr_wav_read(p, &n, &rate, NULL, err, sizeof err);
  if (!x) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  int bad = check_one(dir, "wavenet_a1_standard.nam", "wavenet_a1_standard.nam-core.wav", x, n);
  bad |= check_one(dir, "lstm.nam", "lstm.nam-core.wav", x, n);
  free(x);
  return bad;
}

/** quantone-train container [--name NAME] OUT MAX:FILE...: the files as
    read by the trainer (through the engine's loader), written as one
    container. NAME goes into the container's and every submodel's
    metadata, so a shipped file shows what it is rather than the writer's
    generic name. */
static int cmd_container(int argc, char **argv)
{
  enum { MAX_SUBMODELS = 8 };
  const char *name = NULL;
  if (argc > 3 && strcmp(argv[2], "--name") == 0) {
    name = argv[3];
    argc -= 2;
    argv += 2;
  }
  const int n = argc - 3;
  if (n < 1 || n > MAX_SUBMODELS) {
    fprintf(stderr, "quantone-train container: OUT.nam and 1 to %d MAX:FILE.nam arguments\n",
            MAX_SUBMODELS);
    return 2;
  }
  tr_model *models[MAX_SUBMODELS] = {0};
  const float *params[MAX_SUBMODELS];
  double max_values[MAX_SUBMODELS];
  int status = 0, read = 0;
  for (; read < n && status == 0; ++read) {
    const char *arg = argv[3 + read], *colon = strchr(arg, ':');
    char *end;
    max_values[read] = strtod(arg, &end);
    if (!colon || end != colon || !(max_values[read] > 0.0 && max_values[read] <= 1.0) ||
        (read > 0 && !(max_values[read] > max_values[read - 1]))) {
      fprintf(stderr, "quantone-train container: '%s': want MAX:FILE with MAX in (0, 1], rising\n",
              arg);
      status = 2;
      break;
    }
    char err[512];
    if (!(models[read] = tr_nam_read(colon + 1, 1, 24000, err, sizeof err))) {
      fprintf(stderr, "quantone-train container: %s\n", err);
      status = 1;
      break;
    }
    params[read] = models[read]->p;
  }
  if (status == 0) {
    tr_nam_meta meta = {name, NULL, NULL, NULL, -1.0, NULL};
    if (!tr_nam_write_container(argv[2], n, (const tr_model *const *)models, params, max_values,
                                &meta)) {
      perror(argv[2]);
      status = 1;
    } else {
      printf("wrote %s (%d submodels)\n", argv[2], n);
    }
  }
  for (int i = 0; i < read; ++i)
    tr_model_free(models[i]);
  return status;
}

/** Parse "4,8,12" into po's widths. */
static bool parse_widths(const char *list, tr_prune_opts *po)
{
  po->n_widths = 0;
  for (const char *p = list; *p;) {
    char *end;
    const long w = strtol(p, &end, 10);
    if (end == p || w < 1 || w > 4096 || po->n_widths + 1 >= TR_WN_MAX_SLIM)
      return false;
    po->widths[po->n_widths++] = (int)w;
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',')
      return false;
  }
  return po->n_widths > 0;
}

static int cmd_prune(cli *c)
{
  if (!c->model || !c->widths || !parse_widths(c->widths, &c->prune)) {
    fprintf(stderr, "quantone-train prune: --model F.nam and --widths W,W,... required\n");
    return 2;
  }
  c->init = c->model;
  tr_dataset d;
  tr_model *m = open_data_and_model(c, &d, NULL, NULL);
  if (!m)
    return 1;
  const double e_full = tr_evaluate(m, m->p, NULL, &d.val, c->o.val_skip, NULL, NULL, NULL);
  printf("full model: held-out ESR %.6f\n", e_full);
  char qj[512];
  snprintf(qj, sizeof qj,
           "{\"trainer\": \"quantone-train prune\", \"from\": \"%s\", \"criterion\": \"%s\", "
           "\"data\": \"%s\"}",
           c->model, c->prune.criterion == TR_PRUNE_L1 ? "l1" : "output", d.desc);
  tr_nam_meta meta = {c->name ? c->name : "Quantone pruned model",
                      "quantone-train",
                      c->in_wav ? NULL : "pedal",
                      c->in_wav ? NULL : (strcmp(c->target, "diode") == 0 ? "crunch" : "overdrive"),
                      e_full,
                      qj};
  c->prune.out = c->out;
  c->prune.meta = &meta;
  tr_prune_report rep;
  char err[512];
  const bool ok = tr_prune_run(m, &d, &c->prune, &c->o, &rep, err, sizeof err);
  if (!ok) {
    fprintf(stderr, "quantone-train prune: %s\n", err);
  } else {
    printf("\n| width | channels | parameters | held-out ESR cut | fine-tuned |\n"
           "|---|---|---|---|---|\n");
    for (int i = 0; i < rep.n_sizes; ++i) {
      char ch[64];
      int at = 0;
      for (int a = 0; a < tr_wavenet_config(m)->n_arrays; ++a)
        at += snprintf(ch + at, sizeof ch - (size_t)at, "%s%d", a ? "/" : "", rep.channels[i][a]);
      printf("| %d | %s | %zu | %.6f | ", rep.channels[i][0], ch, rep.params[i], rep.esr_cut[i]);
      if (rep.esr_tuned[i] >= 0.0)
        printf("%.6f |\n", rep.esr_tuned[i]);
      else
        printf("- |\n");
    }
    if (c->out)
      printf("wrote %s (%s)\n", c->out,
             c->prune.format == TR_PRUNE_CONTAINER ? "SlimmableContainer" : "slimmable WaveNet");
  }
  tr_model_free(m);
  tr_dataset_free(&d);
  return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage();
    return argc < 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "check-reference") == 0)
    return cmd_check(argc > 2 ? argv[2] : "../shared/reference/nam");
  if (strcmp(cmd, "container") == 0)
    return cmd_container(argc, argv);
  cli c;
  memset(&c, 0, sizeof c);
  tr_train_opts_default(&c.o);
  c.target = "overdrive";
  c.arch = "wavenet";
  c.preset = "standard";
  c.hidden = 16;
  c.layers = 1;
  c.burn_in = 2048;
  c.threads = 1;
  c.max_latency = 8;
  c.train_s = 120;
  c.val_s = 20;
  c.val_frac = 0.1;
  c.eval_schemes = "8,4,2";
  c.alpha = 1.0;
  c.prune.calib_seconds = 4.0;
  enum {
    O_TARGET = 256,
    O_IN,
    O_OUT,
    O_LAT,
    O_MAXLAT,
    O_VALF,
    O_ARCH,
    O_PRESET,
    O_HIDDEN,
    O_LAYERS,
    O_BURN,
    O_INIT,
    O_EPOCHS,
    O_BATCH,
    O_SEG,
    O_STEPS,
    O_LR,
    O_DECAY,
    O_CLIP,
    O_SEED,
    O_THREADS,
    O_PRE,
    O_DC,
    O_PLAIN,
    O_TLIM,
    O_CK,
    O_RESUME,
    O_QAT,
    O_NAMEOUT,
    O_NAME,
    O_MODEL,
    O_SCHEMES,
    O_TRS,
    O_VALS,
    O_DRY,
    O_WET,
    O_REF,
    O_RBEST,
    O_QATM,
    O_TEACHER,
    O_ALPHA,
    O_INWAV,
    O_LSQLR,
    O_DAMPEN,
    O_DAMPEN_RAMP,
    O_CODE_ATTRIB,
    O_EMA,
    O_EMA_START,
    O_TONES,
    O_WIDTHS,
    O_CRIT,
    O_CALIB,
    O_FORMAT,
    O_EXPORT
  };
  static const struct option opts[] = {{"target", 1, 0, O_TARGET},
                                       {"input", 1, 0, O_IN},
                                       {"output", 1, 0, O_OUT},
                                       {"latency", 1, 0, O_LAT},
                                       {"max-latency", 1, 0, O_MAXLAT},
                                       {"val-fraction", 1, 0, O_VALF},
                                       {"arch", 1, 0, O_ARCH},
                                       {"preset", 1, 0, O_PRESET},
                                       {"hidden", 1, 0, O_HIDDEN},
                                       {"layers", 1, 0, O_LAYERS},
                                       {"burn-in", 1, 0, O_BURN},
                                       {"init", 1, 0, O_INIT},
                                       {"epochs", 1, 0, O_EPOCHS},
                                       {"batch", 1, 0, O_BATCH},
                                       {"segment", 1, 0, O_SEG},
                                       {"steps", 1, 0, O_STEPS},
                                       {"lr", 1, 0, O_LR},
                                       {"lr-decay", 1, 0, O_DECAY},
                                       {"clip", 1, 0, O_CLIP},
                                       {"seed", 1, 0, O_SEED},
                                       {"threads", 1, 0, O_THREADS},
                                       {"preemph", 1, 0, O_PRE},
                                       {"dc", 1, 0, O_DC},
                                       {"plain", 1, 0, O_PLAIN},
                                       {"time-limit", 1, 0, O_TLIM},
                                       {"checkpoint", 1, 0, O_CK},
                                       {"resume", 1, 0, O_RESUME},
                                       {"qat", 1, 0, O_QAT},
                                       {"out", 1, 0, O_NAMEOUT},
                                       {"name", 1, 0, O_NAME},
                                       {"model", 1, 0, O_MODEL},
                                       {"schemes", 1, 0, O_SCHEMES},
                                       {"train-seconds", 1, 0, O_TRS},
                                       {"val-seconds", 1, 0, O_VALS},
                                       {"dry-out", 1, 0, O_DRY},
                                       {"wet-out", 1, 0, O_WET},
                                       {"ref", 1, 0, O_REF},
                                       {"resume-best", 0, 0, O_RBEST},
                                       {"qat-method", 1, 0, O_QATM},
                                       {"teacher", 1, 0, O_TEACHER},
                                       {"student-preset", 1, 0, O_PRESET},
                                       {"alpha", 1, 0, O_ALPHA},
                                       {"in", 1, 0, O_INWAV},
                                       {"lsq-step-lr", 1, 0, O_LSQLR},
                                       {"qat-dampen", 1, 0, O_DAMPEN},
                                       {"qat-dampen-ramp", 1, 0, O_DAMPEN_RAMP},
                                       {"qat-code-attribution", 0, 0, O_CODE_ATTRIB},
                                       {"ema", 1, 0, O_EMA},
                                       {"ema-start", 1, 0, O_EMA_START},
                                       {"tones", 1, 0, O_TONES},
                                       {"widths", 1, 0, O_WIDTHS},
                                       {"criterion", 1, 0, O_CRIT},
                                       {"calib-seconds", 1, 0, O_CALIB},
                                       {"format", 1, 0, O_FORMAT},
                                       {"export", 1, 0, O_EXPORT},
                                       {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
  optind = 2;
  int ch;
  while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (ch) {
    case O_TARGET: c.target = optarg; break;
    case O_IN: c.in_wav = optarg; break;
    case O_OUT: c.out_wav = optarg; break;
    case O_LAT: c.latency = atol(optarg); break;
    case O_MAXLAT: c.max_latency = atol(optarg); break;
    case O_VALF: c.val_frac = atof(optarg); break;
    case O_ARCH: c.arch = optarg; break;
    case O_PRESET: c.preset = optarg; break;
    case O_HIDDEN: c.hidden = atoi(optarg); break;
    case O_LAYERS: c.layers = atoi(optarg); break;
    case O_BURN: c.burn_in = atoi(optarg); break;
    case O_INIT: c.init = optarg; break;
    case O_EPOCHS: c.o.epochs = atoi(optarg); break;
    case O_BATCH: c.o.batch = atoi(optarg); break;
    case O_SEG: c.o.segment = atoi(optarg); break;
    case O_STEPS: c.o.steps_per_epoch = atoi(optarg); break;
    case O_LR:
      c.o.lr = atof(optarg);
      c.o.lr_override = true;
      break;
    case O_DECAY: c.o.lr_decay = atof(optarg); break;
    case O_CLIP: c.o.clip = atof(optarg); break;
    case O_SEED: c.o.seed = strtoull(optarg, NULL, 10); break;
    case O_THREADS: c.threads = atoi(optarg); break;
    case O_PRE: c.o.loss.preemph = atof(optarg); break;
    case O_DC: c.o.loss.w_dc = atof(optarg); break;
    case O_PLAIN: c.o.loss.w_plain = atof(optarg); break;
    case O_TLIM: c.o.time_limit = atof(optarg); break;
    case O_CK: c.o.checkpoint = optarg; break;
    case O_RESUME: c.o.resume = optarg; break;
    case O_QAT: c.qat = optarg; break;
    case O_NAMEOUT: c.out = optarg; break;
    case O_NAME: c.name = optarg; break;
    case O_MODEL: c.model = optarg; break;
    case O_SCHEMES: c.eval_schemes = optarg; break;
    case O_TRS: c.train_s = atof(optarg); break;
    case O_VALS: c.val_s = atof(optarg); break;
    case O_DRY: c.dry_out = optarg; break;
    case O_WET: c.wet_out = optarg; break;
    case O_REF: c.ref = optarg; break;
    case O_RBEST: c.o.resume_best = true; break;
    case O_QATM:
      if (strcmp(optarg, "ste") == 0) {
        c.o.qat_method = TR_QAT_STE;
      } else if (strcmp(optarg, "lsq") == 0) {
        c.o.qat_method = TR_QAT_LSQ;
      } else {
        fprintf(stderr, "quantone-train: --qat-method ste or lsq\n");
        return 2;
      }
      break;
    case O_TEACHER: c.teacher = optarg; break;
    case O_LSQLR: c.o.lsq_step_lr = atof(optarg); break;
    case O_DAMPEN: c.o.qat_dampen = atof(optarg); break;
    case O_DAMPEN_RAMP: c.o.qat_dampen_ramp = atoi(optarg); break;
    case O_CODE_ATTRIB: c.o.qat_code_attribution = true; break;
    case O_EMA: c.o.ema = atof(optarg); break;
    case O_EMA_START: c.o.ema_start = atoi(optarg); break;
    case O_TONES: c.tones_s = atof(optarg); break;
    case O_ALPHA: c.alpha = atof(optarg); break;
    case O_INWAV:
      if (c.n_in_wavs == (int)(sizeof c.in_wavs / sizeof c.in_wavs[0])) {
        fprintf(stderr, "quantone-train: at most %d --in files\n", c.n_in_wavs);
        return 2;
      }
      c.in_wavs[c.n_in_wavs++] = optarg;
      break;
    case O_WIDTHS: c.widths = optarg; break;
    case O_CRIT:
      if (strcmp(optarg, "output") != 0 && strcmp(optarg, "l1") != 0) {
        fprintf(stderr, "quantone-train: --criterion output or l1\n");
        return 2;
      }
      c.prune.criterion = optarg[0] == 'l' ? TR_PRUNE_L1 : TR_PRUNE_OUTPUT_CHANGE;
      break;
    case O_CALIB: c.prune.calib_seconds = atof(optarg); break;
    case O_FORMAT:
      if (strcmp(optarg, "slimmable") != 0 && strcmp(optarg, "container") != 0) {
        fprintf(stderr, "quantone-train: --format slimmable or container\n");
        return 2;
      }
      c.prune.format = optarg[0] == 'c' ? TR_PRUNE_CONTAINER : TR_PRUNE_SLIMMABLE;
      break;
    case O_EXPORT: c.export_q = optarg; break;
    case 'h': usage(); return 0;
    default: usage(); return 2;
    }
  }
  if (c.o.batch < 1 || c.o.segment < 16 || c.o.epochs < 0 || c.threads < 1) {
    fprintf(stderr, "quantone-train: bad batch / segment / epochs / threads\n");
    return 2;
  }
  if (strcmp(cmd, "distill") == 0) {
    if (!c.teacher || !(c.alpha >= 0.0 && c.alpha <= 1.0)) {
      fprintf(stderr, "quantone-train distill: --teacher F.nam required, --alpha in [0, 1]\n");
      return 2;
    }
    return cmd_train(&c);
  }
  if (c.teacher || c.n_in_wavs > 0) {
    fprintf(stderr, "quantone-train: --teacher and --in belong to the distill command\n");
    return 2;
  }
  if (strcmp(cmd, "train") == 0)
    return cmd_train(&c);
  if (strcmp(cmd, "prune") == 0)
    return cmd_prune(&c);
  if (strcmp(cmd, "eval") == 0)
    return cmd_eval(&c);
  if (strcmp(cmd, "render") == 0)
    return cmd_render(&c);
  fprintf(stderr, "quantone-train: unknown command '%s'\n", cmd);
  usage();
  return 2;
}
