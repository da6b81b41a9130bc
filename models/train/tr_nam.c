/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
#include "tr_nam.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void json_str(FILE *f, const char *s)
{
  fputc('"', f);
  for (; s && *s; ++s) {
    if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      fprintf(f, "\\u%04x", *s);
    else
      fputc(*s, f);
  }
  fputc('"', f);
}

bool tr_nam_write(const char *path, const tr_model *m, const float *p, const tr_nam_meta *meta)
{
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  fprintf(f,
          "{\n  \"version\": \"%s\",\n  \"metadata\": {\n    \"date\": {\"year\": %d, "
          "\"month\": %d, \"day\": %d, \"hour\": %d, \"minute\": %d, \"second\": %d},\n",
          TR_NAM_VERSION, tmv.tm_year + 1900, tmv.tm_mon + 1, tmv.tm_mday, tmv.tm_hour, tmv.tm_min,
          tmv.tm_sec);
  fprintf(f, "    \"name\": ");
  json_str(f, meta && meta->name ? meta->name : "Quantone model");
  fprintf(f, ",\n    \"modeled_by\": ");
  json_str(f, meta && meta->modeled_by ? meta->modeled_by : "quantone-train");
  /* gear and tone type only when known (a WAV pair's gear is the user's to say) */
  if (meta && meta->gear_type) {
    fprintf(f, ",\n    \"gear_type\": ");
    json_str(f, meta->gear_type);
  }
  if (meta && meta->tone_type) {
    fprintf(f, ",\n    \"tone_type\": ");
    json_str(f, meta->tone_type);
  }
  fprintf(f, ",\n    \"training\": {\"validation_esr\": ");
  if (meta && meta->validation_esr >= 0.0)
    fprintf(f, "%.9g", meta->validation_esr);
  else
    fprintf(f, "null");
  fprintf(f, "}");
  /* NAM's exporter puts validation_esr under training; the top-level copy is for readers
     that look there (our engine's loader accepts both). */
  if (meta && meta->validation_esr >= 0.0)
    fprintf(f, ",\n    \"validation_esr\": %.9g", meta->validation_esr);
  if (meta && meta->quantone)
    fprintf(f, ",\n    \"quantone\": %s", meta->quantone);
  fprintf(f, "\n  },\n");
  if (m->arch == TR_WAVENET) {
    const tr_wn_config *c = tr_wavenet_config(m);
    fprintf(f, "  \"architecture\": \"WaveNet\",\n  \"config\": {\n    \"layers\": [\n");
    for (int a = 0; a < c->n_arrays; ++a) {
      const tr_wn_array_cfg *A = &c->arrays[a];
      fprintf(f,
              "      {\"input_size\": %d, \"condition_size\": 1, \"head_size\": %d, "
              "\"channels\": %d, \"kernel_size\": %d, \"dilations\": [",
              A->input_size, A->head_size, A->channels, A->kernel_size);
      for (int l = 0; l < A->n_layers; ++l)
        fprintf(f, "%s%d", l ? ", " : "", A->dilations[l]);
      fprintf(f, "], \"activation\": \"Tanh\", \"gated\": false, \"head_bias\": %s}%s\n",
              A->head_bias ? "true" : "false", a + 1 < c->n_arrays ? "," : "");
    }
    fprintf(f, "    ],\n    \"head\": null,\n    \"head_scale\": %.9g\n  },\n", c->head_scale);
  } else {
    const tr_lstm_config *c = tr_lstm_cfg(m);
    fprintf(f,
            "  \"architecture\": \"LSTM\",\n  \"config\": {\"input_size\": 1, \"hidden_size\": %d, "
            "\"num_layers\": %d},\n",
            c->hidden, c->layers);
  }
  fprintf(f, "  \"weights\": [");
  for (size_t i = 0; i < m->n_params; ++i)
    fprintf(f, "%s%.9g", i ? (i % 8 ? ", " : ",\n    ") : "\n    ", p[i]);
  if (m->arch == TR_WAVENET)
    fprintf(f, ",\n    %.9g", tr_wavenet_config(m)->head_scale);
  fprintf(f, "\n  ],\n  \"sample_rate\": 48000\n}\n");
  const bool ok = !ferror(f);
  return (fclose(f) == 0) && ok;
}

/* ---- minimal reader: key lookups inside a bounded span of the text ---- */

static const char *find_key(const char *s, const char *end, const char *key)
{
  const size_t kl = strlen(key);
  for (const char *q = s; q && q + kl + 2 <= end; ++q) {
    q = memchr(q, '"', (size_t)(end - q));
    if (!q || q + kl + 2 > end)
      return NULL;
    if (memcmp(q + 1, key, kl) == 0 && q[kl + 1] == '"') {
      const char *c = q + kl + 2;
      while (c < end && (*c == ' ' || *c == '\n' || *c == '\r' || *c == '\t'))
        ++c;
      if (c < end && *c == ':')
        return c + 1;
    }
  }
  return NULL;
}

static const char *skip_ws(const char *c)
{
  while (*c == ' ' || *c == '\n' || *c == '\r' || *c == '\t')
    ++c;
  return c;
}

/** End (one past) of the bracketed value starting at c ('{' or '['), ignoring strings. */
static const char *match_end(const char *c)
{
  int depth = 0, in_str = 0;
  for (; *c; ++c) {
    if (in_str) {
      if (*c == '\\' && c[1])
        ++c;
      else if (*c == '"')
        in_str = 0;
      continue;
    }
    if (*c == '"')
      in_str = 1;
    else if (*c == '{' || *c == '[')
      depth++;
    else if (*c == '}' || *c == ']') {
      if (--depth == 0)
        return c + 1;
    }
  }
  return NULL;
}

static bool get_int(const char *s, const char *end, const char *key, int *v)
{
  const char *c = find_key(s, end, key);
  if (!c)
    return false;
  *v = (int)strtol(skip_ws(c), NULL, 10);
  return true;
}

static bool get_bool(const char *s, const char *end, const char *key, bool *v)
{
  const char *c = find_key(s, end, key);
  if (!c)
    return false;
  c = skip_ws(c);
  *v = strncmp(c, "true", 4) == 0;
  return true;
}

tr_model *tr_nam_read(const char *path, int threads, int lstm_prewarm, char *err, size_t errlen)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open", path);
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *txt = malloc((size_t)n + 1);
  if (!txt || fread(txt, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    free(txt);
    snprintf(err, errlen, "%s: read error", path);
    return NULL;
  }
  fclose(f);
  txt[n] = 0;
  const char *end = txt + n;
  tr_model *m = NULL;
  const char *cfgp = find_key(txt, end, "config");
  const char *arch = find_key(txt, end, "architecture");
  const char *wts = find_key(txt, end, "weights");
  if (!cfgp || !arch || !wts) {
    snprintf(err, errlen, "%s: not a .nam file (architecture/config/weights missing)", path);
    goto out;
  }
  cfgp = skip_ws(cfgp);
  const char *cfge = match_end(cfgp);
  arch = skip_ws(arch);
  if (strncmp(arch, "\"WaveNet\"", 9) == 0) {
    tr_wn_config c;
    memset(&c, 0, sizeof c);
    const char *ly = find_key(cfgp, cfge, "layers");
    if (!ly || *(ly = skip_ws(ly)) != '[') {
      snprintf(err, errlen, "%s: config.layers missing", path);
      goto out;
    }
    const char *lye = match_end(ly);
    const char *q = ly + 1;
    while (q < lye) {
      q = memchr(q, '{', (size_t)(lye - q));
      if (!q)
        break;
      const char *oe = match_end(q);
      if (c.n_arrays >= TR_WN_MAX_ARRAYS) {
        snprintf(err, errlen, "%s: too many layer arrays", path);
        goto out;
      }
      tr_wn_array_cfg *A = &c.arrays[c.n_arrays++];
      int cond = 1;
      bool gated = false;
      get_int(q, oe, "input_size", &A->input_size);
      get_int(q, oe, "condition_size", &cond);
      get_int(q, oe, "head_size", &A->head_size);
      get_int(q, oe, "channels", &A->channels);
      get_int(q, oe, "kernel_size", &A->kernel_size);
      get_bool(q, oe, "gated", &gated);
      get_bool(q, oe, "head_bias", &A->head_bias);
      const char *act = find_key(q, oe, "activation");
      if (cond != 1 || gated || !act || strncmp(skip_ws(act), "\"Tanh\"", 6) != 0) {
        snprintf(err, errlen, "%s: only Tanh, non-gated, condition_size 1 arrays are trainable",
                 path);
        goto out;
      }
      const char *d = find_key(q, oe, "dilations");
      if (!d || *(d = skip_ws(d)) != '[') {
        snprintf(err, errlen, "%s: dilations missing", path);
        goto out;
      }
      ++d;
      while (*(d = skip_ws(d)) != ']') {
        if (A->n_layers >= TR_WN_MAX_LAYERS) {
          snprintf(err, errlen, "%s: too many layers", path);
          goto out;
        }
        char *e;
        A->dilations[A->n_layers++] = (int)strtol(d, &e, 10);
        d = skip_ws(e);
        if (*d == ',')
          ++d;
      }
      q = oe;
    }
    const char *hs = find_key(cfgp, cfge, "head_scale");
    c.head_scale = hs ? strtof(skip_ws(hs), NULL) : 1.0f;
    m = tr_wavenet_new(&c, 0, threads);
  } else if (strncmp(arch, "\"LSTM\"", 6) == 0) {
    tr_lstm_config c = {0, 0, 0, lstm_prewarm};
    int in = 1;
    get_int(cfgp, cfge, "input_size", &in);
    get_int(cfgp, cfge, "hidden_size", &c.hidden);
    get_int(cfgp, cfge, "num_layers", &c.layers);
    if (in != 1) {
      snprintf(err, errlen, "%s: LSTM input_size must be 1", path);
      goto out;
    }
    m = tr_lstm_new(&c, 0, threads);
  } else {
    snprintf(err, errlen, "%s: architecture not trainable here", path);
    goto out;
  }
  if (!m) {
    snprintf(err, errlen, "%s: unsupported configuration", path);
    goto out;
  }
  {
    const char *c = skip_ws(wts);
    if (*c != '[') {
      snprintf(err, errlen, "%s: weights is not an array", path);
      goto fail;
    }
    ++c;
    size_t cnt = 0;
    const size_t want = m->n_params + (m->arch == TR_WAVENET ? 1 : 0);
    float last = 0.0f;
    while (*(c = skip_ws(c)) != ']' && *c) {
      char *e;
      const float v = strtof(c, &e);
      if (e == c) {
        snprintf(err, errlen, "%s: bad number in weights", path);
        goto fail;
      }
      if (cnt < m->n_params)
        m->p[cnt] = v;
      last = v;
      cnt++;
      c = skip_ws(e);
      if (*c == ',')
        ++c;
    }
    if (cnt != want) {
      snprintf(err, errlen, "%s: %zu weights, the config needs %zu", path, cnt, want);
      goto fail;
    }
    if (m->arch == TR_WAVENET && last != tr_wavenet_config(m)->head_scale) {
      snprintf(err, errlen, "%s: last weight %g differs from head_scale %g", path, last,
               tr_wavenet_config(m)->head_scale);
      goto fail;
    }
  }
  goto out;
fail:
  tr_model_free(m);
  m = NULL;
out:
  free(txt);
  return m;
}
