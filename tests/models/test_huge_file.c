/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Model files at the size limit (defect 7 of issue 11). Each load runs in
  a child process that reports its peak resident memory (VmHWM, reset
  first through /proc/self/clear_refs, above the child's starting VmRSS)
  and the time it took:
  - a valid LSTM of about a million weights, padded to just under
    QM_MAX_FILE_BYTES, loads with a peak under PEAK_WEIGHTS_FACTOR times its
    weights' floats plus PEAK_SLACK_MIB (the text is never held whole);
  - a file just under the limit that is one long array of "0" (20 million
    values, the shape that cost the old loader 50 bytes a number) is
    refused within the same bound and quickly;
  - a file one byte over the limit is refused by its size, at once, with a
    message naming the file, its size and the limit;
  - empty arrays outside "weights" up to QM_MAX_JSON_VALUES load within
    DOM_BOUND_MIB, four times as many are refused before any DOM exists.
  Usage: test_models_huge_file DIR (created if missing; the files are
  deleted again).
*/
#include "loader_internal.h"
#include "model_file.h"
#include "test_check.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/** The bound on a load's peak memory: this many times the weights' floats... */
enum { PEAK_WEIGHTS_FACTOR = 4 };
/** ...plus this much for the rest (config, DOM, allocator). */
enum { PEAK_SLACK_MIB = 8 };

/** The bound on the DOM of everything but "weights" at QM_MAX_JSON_VALUES. */
enum { DOM_BOUND_MIB = 24 };

/** The LSTM written just under the limit: 2 layers of 288 units. */
enum { HIDDEN = 288 };
static const size_t lstm_weights =
    (4 * HIDDEN * (1 + HIDDEN) + 6 * HIDDEN) + (4 * HIDDEN * 2 * HIDDEN + 6 * HIDDEN) + HIDDEN + 1;

typedef struct {
  bool loaded;
  size_t n_weights;
  double seconds;
  long peak_kib; /**< VmHWM above the starting VmRSS; -1 if unknown */
  char err[512];
} load_result;

static long status_kib(const char *key)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t kl = strlen(key);
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, key, kl) && line[kl] == ':')
      v = strtol(line + kl + 1, NULL, 10);
  if (f)
    fclose(f);
  return v;
}

/** Load in a child (so the peak is this load's alone) under an alarm. */
static load_result load_in_child(const char *path)
{
  load_result r = {.peak_kib = -1};
  int fds[2];
  if (pipe(fds) != 0) {
    snprintf(r.err, sizeof r.err, "pipe: %s", strerror(errno));
    return r;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    alarm(120);
    load_result c = {.peak_kib = -1};
    /* "5" resets the high-water mark to the current RSS (Linux >= 4.0). */
    FILE *cr = fopen("/proc/self/clear_refs", "w");
    bool reset = cr && fputs("5", cr) >= 0;
    if (cr)
      reset = fclose(cr) == 0 && reset;
    long base = status_kib("VmRSS");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    qm_desc *d = qm_load_file(path, c.err, sizeof c.err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long hwm = status_kib("VmHWM");
    c.seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    c.peak_kib = reset && base >= 0 && hwm >= 0 ? hwm - base : -1;
    c.loaded = d != NULL;
    c.n_weights = d ? d->n_weights : 0;
    qm_desc_free(d);
    ssize_t w = write(fds[1], &c, sizeof c);
    _exit(w == (ssize_t)sizeof c ? 0 : 1);
  }
  close(fds[1]);
  ssize_t got = pid > 0 ? read(fds[0], &r, sizeof r) : -1;
  close(fds[0]);
  int status = 0;
  if (pid > 0)
    waitpid(pid, &status, 0);
  if (got != (ssize_t)sizeof r) {
    memset(&r, 0, sizeof r);
    r.peak_kib = -1;
    snprintf(r.err, sizeof r.err, "the loading child died (status 0x%x)", (unsigned)status);
  }
  return r;
}

/** The LSTM, each weight padded with spaces to the same width, the file to `size` bytes. */
static bool write_lstm(const char *path, size_t size)
{
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  int head = fprintf(f,
                     "{\"version\": \"0.5.4\", \"architecture\": \"LSTM\", \"config\": "
                     "{\"input_size\": 1, \"hidden_size\": %d, \"num_layers\": 2}, "
                     "\"sample_rate\": 48000, \"weights\": [\n",
                     HIDDEN);
  const char *tail = "]}";
  size_t total = head > 0 ? (size_t)head : 0;
  size_t per = (size - total - strlen(tail)) / lstm_weights;
  char num[64];
  for (size_t i = 0; i < lstm_weights; ++i) {
    int k = snprintf(num, sizeof num, "%.17g%s", 0.01 * sin(0.7 * (double)i + 0.3),
                     i + 1 < lstm_weights ? "," : "");
    int pad = (int)per - k - 1;
    total += (size_t)fprintf(f, "%*s%s\n", pad > 0 ? pad : 0, "", num);
  }
  total += (size_t)fprintf(f, "%s", tail);
  for (; total < size; ++total)
    fputc(' ', f);
  return fclose(f) == 0;
}

/** A .nam whose weights are "0,0,0,..." up to `size` bytes. */
static bool write_zeros(const char *path, size_t size)
{
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  int head = fprintf(f, "{\"version\": \"0.5.4\", \"architecture\": \"LSTM\", \"config\": "
                        "{\"hidden_size\": 8, \"num_layers\": 1}, \"weights\": [0");
  size_t total = head > 0 ? (size_t)head : 0;
  for (; total + 2 + 2 <= size; total += 2)
    fputs(",0", f);
  total += (size_t)fprintf(f, "]}");
  for (; total < size; ++total)
    fputc(' ', f);
  return fclose(f) == 0;
}

static long long file_size(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void report(const char *what, const char *path, const load_result *r)
{
  printf("%-34s %lld bytes: %s in %.3f s, peak +%ld KiB%s%s\n", what, file_size(path),
         r->loaded ? "loaded" : "refused", r->seconds, r->peak_kib, r->loaded ? "" : ": ",
         r->loaded ? "" : r->err);
}

/** A valid Linear .nam with `arrays` empty arrays beside its weights. */
static bool write_arrays(const char *path, size_t arrays)
{
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  fputs("{\"version\": \"0.5.4\", \"architecture\": \"Linear\", \"config\": "
        "{\"receptive_field\": 2, \"bias\": false}, \"weights\": [0.5, 0.25], \"x\": [[]",
        f);
  for (size_t i = 1; i < arrays; ++i)
    fputs(",[]", f);
  fputs("]}", f);
  return fclose(f) == 0;
}

/** The peak bound (KiB) for a load holding `weights` floats; skipped under ASan,
    whose shadow memory and quarantine of freed blocks are not the loader's. */
static bool peak_ok(const load_result *r, size_t weights, long *bound)
{
  *bound = (long)(PEAK_WEIGHTS_FACTOR * weights * sizeof(float) / 1024) + PEAK_SLACK_MIB * 1024;
#if defined(__SANITIZE_ADDRESS__)
  (void)r;
  return true;
#else
  return r->peak_kib >= 0 && r->peak_kib <= *bound;
#endif
}

int main(int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : "qm_huge";
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    perror(dir);
    return 1;
  }
  char under[1024], zeros[1024], over[1024];
  snprintf(under, sizeof under, "%s/just_under.nam", dir);
  snprintf(zeros, sizeof zeros, "%s/zeros_under.nam", dir);
  snprintf(over, sizeof over, "%s/just_over.nam", dir);
  CHECK(lstm_weights <= QM_MAX_WEIGHTS, "the sample LSTM has %zu weights", lstm_weights);
  long bound;

  /* A real model, as large as the limits allow. */
  CHECK(write_lstm(under, QM_MAX_FILE_BYTES - 1), "writing %s", under);
  CHECK(file_size(under) == (long long)QM_MAX_FILE_BYTES - 1, "%s is %lld bytes", under,
        file_size(under));
  load_result r = load_in_child(under);
  report("valid model, 1 byte under the cap", under, &r);
  CHECK(r.loaded && r.n_weights == lstm_weights, "%s should load: %s", under, r.err);
  CHECK(peak_ok(&r, lstm_weights, &bound), "loading %s peaked at %ld KiB, bound %ld KiB", under,
        r.peak_kib, bound);
  CHECK(r.seconds < 20.0, "loading %s took %.2f s", under, r.seconds);
  unlink(under);

  /* The same size of tiny numbers: refused within the same memory bound. */
  CHECK(write_zeros(zeros, QM_MAX_FILE_BYTES - 1), "writing %s", zeros);
  r = load_in_child(zeros);
  report("zeros, 1 byte under the cap", zeros, &r);
  CHECK(!r.loaded && !strncmp(r.err, zeros, strlen(zeros)), "%s: %s", zeros, r.err);
  CHECK(peak_ok(&r, QM_MAX_WEIGHTS, &bound), "loading %s peaked at %ld KiB, bound %ld KiB", zeros,
        r.peak_kib, bound);
  CHECK(r.seconds < 5.0, "refusing %s took %.2f s", zeros, r.seconds);

  /* One byte over: refused by its size, the message says both numbers. */
  FILE *f = fopen(zeros, "a");
  CHECK(f && fputs("  ", f) >= 0 && fclose(f) == 0 && rename(zeros, over) == 0, "%s", over);
  CHECK(file_size(over) == (long long)QM_MAX_FILE_BYTES + 1, "%s is %lld bytes", over,
        file_size(over));
  r = load_in_child(over);
  report("1 byte over the cap", over, &r);
  char size_text[32], cap_text[32];
  snprintf(size_text, sizeof size_text, "%zu bytes", QM_MAX_FILE_BYTES + 1);
  snprintf(cap_text, sizeof cap_text, "%zu", QM_MAX_FILE_BYTES);
  CHECK(!r.loaded && !strncmp(r.err, over, strlen(over)) && strstr(r.err, "too large") &&
            strstr(r.err, size_text) && strstr(r.err, cap_text),
        "%s: expected the size and the limit in: %s", over, r.err);
  CHECK(r.seconds < 0.5, "refusing %s took %.2f s", over, r.seconds);
  CHECK(r.peak_kib >= 0 && r.peak_kib < 1024, "refusing %s by its size peaked at %ld KiB", over,
        r.peak_kib);
  unlink(over);

  /* The DOM for what is not "weights": empty arrays (the dearest values)
     up to the limit on values load within DOM_BOUND_MIB; four times as
     many are refused before jansson builds any of them. */
  char arrays[1024];
  snprintf(arrays, sizeof arrays, "%s/arrays.nam", dir);
  CHECK(write_arrays(arrays, QM_MAX_JSON_VALUES - 64), "writing %s", arrays);
  r = load_in_child(arrays);
  report("empty arrays, just under the limit", arrays, &r);
  CHECK(r.loaded, "%s should load: %s", arrays, r.err);
#if !defined(__SANITIZE_ADDRESS__)
  CHECK(r.peak_kib >= 0 && r.peak_kib <= DOM_BOUND_MIB * 1024, "%s peaked at %ld KiB", arrays,
        r.peak_kib);
#endif
  CHECK(write_arrays(arrays, 4 * (size_t)QM_MAX_JSON_VALUES), "writing %s", arrays);
  r = load_in_child(arrays);
  report("empty arrays, 4 x the limit", arrays, &r);
  CHECK(!r.loaded && strstr(r.err, "too many JSON values"), "%s: %s", arrays, r.err);
#if !defined(__SANITIZE_ADDRESS__)
  CHECK(r.peak_kib >= 0 && r.peak_kib <= DOM_BOUND_MIB * 1024 / 4, "%s peaked at %ld KiB", arrays,
        r.peak_kib);
#endif
  unlink(arrays);

  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
