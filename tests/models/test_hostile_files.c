/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Model paths and files a user (or a saved session) can hand the loader
  that are not model files at all: FIFOs, devices, directories, secrets.
  Each must be refused quickly with a message naming the path. Every case
  runs under alarm() so a loader that blocks fails the test instead of
  hanging it. Usage: test_models_hostile_files DIR (created if missing).
*/
#include "model_file.h"
#include "test_check.h"

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/** Seconds each load may take before SIGALRM ends the test (as a failure). */
enum { GUARD_SECONDS = 10 };

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/** Load under the alarm guard; returns the seconds it took. */
static double guarded_load(const char *path, qm_desc **d, char *err, size_t errlen)
{
  printf("loading %s\n", path);
  fflush(stdout);
  err[0] = '\0';
  alarm(GUARD_SECONDS);
  double t0 = now();
  *d = qm_load_file(path, err, errlen);
  double dt = now() - t0;
  alarm(0);
  return dt;
}

/** A refusal must start with "PATH: " and contain `what`. */
static void expect_refused(const char *path, const char *what, double max_seconds)
{
  char err[512];
  qm_desc *d;
  double dt = guarded_load(path, &d, err, sizeof err);
  size_t pl = strlen(path);
  CHECK(!d, "%s should be refused", path);
  CHECK(strncmp(err, path, pl) == 0 && strncmp(err + pl, ": ", 2) == 0,
        "%s: message does not start with the path: %s", path, err);
  CHECK(strstr(err, what), "%s: expected \"%s\" in: %s", path, what, err);
  CHECK(dt < max_seconds, "%s: refused after %.3f s (limit %.1f)", path, dt, max_seconds);
  printf("ok   refused in %.4f s: %s\n", dt, err);
  qm_desc_free(d);
}

/** Defect 9: only regular files are opened, and none of the rest blocks. */
static void test_special_files(const char *dir)
{
  char fifo[1024], link[1024], sub[1024];
  snprintf(fifo, sizeof fifo, "%s/model.fifo", dir);
  snprintf(link, sizeof link, "%s/fifo_link.nam", dir);
  snprintf(sub, sizeof sub, "%s/a_directory.nam", dir);
  unlink(fifo);
  unlink(link);
  if (mkfifo(fifo, 0600) != 0 || symlink("model.fifo", link) != 0 ||
      (mkdir(sub, 0700) != 0 && errno != EEXIST)) {
    perror(dir);
    ++failures;
    return;
  }
  expect_refused(fifo, "FIFO", 1.0);
  expect_refused(link, "FIFO", 1.0);
  expect_refused("/dev/zero", "character device", 1.0);
  expect_refused("/dev/urandom", "character device", 1.0);
  expect_refused(sub, "directory", 1.0);
  unlink(link);
  unlink(fifo);
}

/** Write len bytes of text to DIR/name; the path goes to path. */
static bool write_file(const char *dir, const char *name, const char *text, size_t len, char *path,
                       size_t pathlen)
{
  snprintf(path, pathlen, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  bool ok = f && fwrite(text, 1, len, f) == len;
  if (f)
    ok = fclose(f) == 0 && ok;
  if (!ok) {
    perror(path);
    ++failures;
  }
  return ok;
}

/**
   Defect 14: a refusal names the file, the kind of problem and where it
   is, and never repeats what the file says: `secret` must not appear.
*/
static void check_no_echo(const char *path, const char *name, const char *secret, const char *where)
{
  char err[512];
  qm_desc *d;
  guarded_load(path, &d, err, sizeof err);
  size_t pl = strlen(path);
  CHECK(!d, "%s should be refused", name);
  CHECK(strncmp(err, path, pl) == 0 && strncmp(err + pl, ": ", 2) == 0,
        "%s: message does not start with the path: %s", name, err);
  CHECK(!strstr(err + pl, secret), "%s: the message repeats \"%s\": %s", name, secret, err);
  CHECK(strstr(err + pl, where), "%s: expected \"%s\" in: %s", name, where, err);
  printf("ok   %s\n", err);
  qm_desc_free(d);
}

static void expect_no_echo(const char *dir, const char *name, const char *text, size_t len,
                           const char *secret, const char *where)
{
  char path[1024];
  if (write_file(dir, name, text, len, path, sizeof path))
    check_no_echo(path, name, secret, where);
}

static void test_no_echo(const char *dir)
{
  /* The issue's own case: this process's environment as a model path
     must not show the first variable's name (the old "near 'SHELL'"). */
  char first[64] = "";
  if (environ && environ[0]) {
    size_t n = strcspn(environ[0], "=");
    if (n >= 3 && n < sizeof first)
      memcpy(first, environ[0], n);
    first[n < sizeof first ? n : 0] = '\0';
  }
  /* (A name our own message holds, such as JSON, would prove nothing.) */
  if (first[0] && !strstr("not valid JSON: a syntax error at line 1, column (byte)", first))
    check_no_echo("/proc/self/environ", "environ", first, "at line 1, column ");

  static const char shadow[] = "root:$6$Zq8TOPSECRETc0ffee$x:19000:0:99999:7:::\n"
                               "daemon:*:19000:0:99999:7:::\n";
  expect_no_echo(dir, "shadow.nam", shadow, sizeof shadow - 1, "root", "at line 1, column ");
  expect_no_echo(dir, "shadow.nam", shadow, sizeof shadow - 1, "TOPSECRET", "syntax error");
  static const char environ[] = "SHELL=/bin/bash\0API_TOKEN=hunter2hunter2\0HOME=/root\0";
  expect_no_echo(dir, "environ.nam", environ, sizeof environ - 1, "SHELL", "at line 1, column ");
  /* Past the first error position: a token later on the first line. */
  static const char late[] = "{\"version\": \"0.5.0\", password=hunter2hunter2}";
  expect_no_echo(dir, "late.nam", late, sizeof late - 1, "hunter2", "at line 1, column ");
  static const char dup[] = "{\"hunter2hunter2\": 1, \"hunter2hunter2\": 2}";
  expect_no_echo(dir, "dup.nam", dup, sizeof dup - 1, "hunter2", "duplicate object key");
  static const char cut[] = "{\"layers\": [\"sk-live-hunter2hunter2";
  expect_no_echo(dir, "cut.json", cut, sizeof cut - 1, "hunter2", "byte");
  /* Valid JSON shaped like a model: string values are not echoed either,
     unless they are short words (an unsupported activation's name). */
  static const char arch[] = "{\"version\": \"0.5.0\", \"architecture\": \"sk=hunter2/hunter2\", "
                             "\"config\": {}, \"weights\": []}";
  expect_no_echo(dir, "arch.nam", arch, sizeof arch - 1, "hunter2", "unknown architecture");
  static const char version[] = "{\"version\": \"0.5.0 hunter2hunter2\", \"architecture\": "
                                "\"LSTM\", \"config\": {}, \"weights\": []}";
  expect_no_echo(dir, "version.nam", version, sizeof version - 1, "hunter2", "version");
}

/** Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF), no C0 controls or DEL. */
static bool clean_utf8(const char *s)
{
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned c = *p++;
    int more = c < 0x80             ? 0
               : (c & 0xE0) == 0xC0 ? 1
               : (c & 0xF0) == 0xE0 ? 2
               : (c & 0xF8) == 0xF0 ? 3
                                    : -1;
    if (more < 0 || (more == 0 && (c < 0x20 || c == 0x7F)))
      return false;
    unsigned v = more == 0 ? c : c & (0x3Fu >> more);
    for (int i = 0; i < more; ++i, ++p) {
      if ((*p & 0xC0) != 0x80)
        return false;
      v = v << 6 | (*p & 0x3Fu);
    }
    static const unsigned min[4] = {0, 0x80, 0x800, 0x10000};
    if (v < min[more] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
      return false;
  }
  return true;
}

/** Ends in "\u2026" and fits the cap, and is clean UTF-8. */
static void check_capped(const char *what, const char *s)
{
  CHECK(s, "%s missing", what);
  if (!s)
    return;
  size_t n = strlen(s);
  CHECK(n <= QM_MAX_META_BYTES, "%s is %zu bytes (cap %d)", what, n, QM_MAX_META_BYTES);
  CHECK(n >= 3 && !strcmp(s + n - 3, "\xE2\x80\xA6"), "%s does not end in an ellipsis", what);
  CHECK(n + 3 > QM_MAX_META_BYTES, "%s was cut too short (%zu bytes)", what, n);
  CHECK(clean_utf8(s), "%s is not clean UTF-8", what);
}

/** `n` bytes of JSON string body: two ASCII letters, then 2-byte characters. */
static void append_long_string(char *out, size_t *pos, size_t n)
{
  out[(*pos)++] = 'x';
  out[(*pos)++] = 'y';
  for (size_t i = 2; i + 1 < n; i += 2) {
    out[(*pos)++] = (char)0xC3; /* U+00E9 */
    out[(*pos)++] = (char)0xA9;
  }
}

/**
   Defect 15 (loader part): metadata strings are capped at load. A 1 MB
   name must load, cut to at most QM_MAX_META_BYTES on a character
   boundary, ending in an ellipsis; control characters do not survive.
*/
static void test_long_metadata(const char *dir)
{
  enum { LONG = 1 << 20 };
  char *text = malloc(2 * LONG + 4096), path[1024], err[512];
  if (!text) {
    ++failures;
    return;
  }
  for (int keras = 0; keras < 2; ++keras) {
    size_t n = 0;
    if (keras)
      n += (size_t)sprintf(text, "{\"in_shape\": [null, null, 1], \"layers\": [{\"type\": "
                                 "\"dense\", \"shape\": [null, null, 1], \"weights\": "
                                 "[[[0.5]], [0.0]]}], \"metadata\": {\"name\": \"");
    else
      n += (size_t)sprintf(text, "{\"version\": \"0.5.4\", \"architecture\": \"Linear\", "
                                 "\"config\": {\"receptive_field\": 2, \"bias\": false}, "
                                 "\"weights\": [0.5, 0.25], \"metadata\": {\"name\": \"");
    append_long_string(text, &n, LONG);
    n += (size_t)sprintf(text + n, "\", \"gear_make\": \"");
    memset(text + n, 'a', LONG);
    n += LONG;
    n += (size_t)sprintf(text + n, "\", \"modeled_by\": \"\\u001b[31mred\\nline\"}}");
    if (!write_file(dir, keras ? "long_name.json" : "long_name.nam", text, n, path, sizeof path))
      break;
    qm_desc *d;
    double dt = guarded_load(path, &d, err, sizeof err);
    CHECK(d, "%s should load: %s", path, err);
    if (d) {
      check_capped("name", d->meta.name);
      if (!keras) {
        check_capped("gear_make", d->meta.gear_make);
        CHECK(d->meta.modeled_by && !strcmp(d->meta.modeled_by, " [31mred line"),
              "control characters kept: %s", d->meta.modeled_by ? d->meta.modeled_by : "");
      }
      printf("ok   %s loads in %.3f s, name of %zu bytes\n", path, dt,
             d->meta.name ? strlen(d->meta.name) : 0);
    }
    qm_desc_free(d);
  }
  free(text);
}

int main(int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : "qm_hostile";
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    perror(dir);
    return 1;
  }
  /* SIGALRM's default action ends the process: a hang becomes a failure. */
  signal(SIGALRM, SIG_DFL);
  test_special_files(dir);
  test_no_echo(dir);
  test_long_metadata(dir);
  printf("%s\n", failures ? "FAILED" : "all hostile-file checks passed");
  return failures ? 1 : 0;
}
