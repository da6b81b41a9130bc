/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Writes the fuzz seed corpora: every sample file (good and bad, see
  sample_files.c) into DIR/nam or DIR/keras by kind, plus the shared
  reference models when their directory is given. Usage:
  qm_make_seeds DIR [REFERENCE_DIR]
*/
#include "sample_files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int make_dir(const char *d)
{
  if (mkdir(d, 0777) != 0 && errno != EEXIST) {
    perror(d);
    return -1;
  }
  return 0;
}

static int write_file(const char *path, const char *text, size_t len)
{
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(text, 1, len, f) != len) {
    perror(path);
    if (f)
      fclose(f);
    return -1;
  }
  return fclose(f);
}

/** Copy a small reference file (skipped quietly when absent or large). */
static void copy_small(const char *from, const char *to)
{
  FILE *f = fopen(from, "rb");
  if (!f)
    return;
  char *buf = malloc(1 << 20);
  size_t n = fread(buf, 1, 1 << 20, f);
  if (feof(f))
    write_file(to, buf, n);
  fclose(f);
  free(buf);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR [REFERENCE_DIR]\n", argv[0]);
    return 2;
  }
  char nam[1024], keras[1024], path[2048];
  snprintf(nam, sizeof nam, "%s/nam", argv[1]);
  snprintf(keras, sizeof keras, "%s/keras", argv[1]);
  if (make_dir(argv[1]) || make_dir(nam) || make_dir(keras))
    return 1;
  sample_file *s;
  int n = samples_make(&s), written = 0;
  for (int i = 0; i < n; ++i) {
    /* Absurd-size samples stay out: they cost the fuzzer nothing to find. */
    if (s[i].len > 200000)
      continue;
    snprintf(path, sizeof path, "%s/%s", s[i].keras ? keras : nam, s[i].name);
    if (write_file(path, s[i].text, s[i].len))
      return 1;
    ++written;
  }
  if (argc > 2) {
    static const char *refs[][2] = {{"nam/lstm.nam", "nam"},
                                    {"rtneural/gru8_dense1.json", "keras"},
                                    {"rtneural/lstm8_lstm8_dense1.json", "keras"},
                                    /* every WaveNet option of .nam 0.6 / 0.7 */
                                    {"nam/current/wavenet_a2_max.nam", "nam"},
                                    {"nam/current/wavenet_condition_dsp.nam", "nam"},
                                    {"nam/current/slimmable_wavenet.nam", "nam"},
                                    /* a SlimmableContainer (LSTM and WaveNet submodels) */
                                    {"nam/current/slimmable_container.nam", "nam"}};
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; ++i) {
      char from[2048];
      snprintf(from, sizeof from, "%s/%s", argv[2], refs[i][0]);
      snprintf(path, sizeof path, "%s/%s/ref_%zu", argv[1], refs[i][1], i);
      copy_small(from, path);
    }
  }
  samples_free(s, n);
  printf("wrote %d seed files under %s\n", written, argv[1]);
  return 0;
}
