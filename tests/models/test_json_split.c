/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The splitter (models/json_split.c) against jansson itself: whatever text
  it is given, a model file read through it must mean what jansson reading
  the whole text would have meant.
  - The weights it converts are bit-identical to jansson's numbers cast to
    float, for every sample file and the reference models, whatever the
    pieces the text arrives in (down to one byte at a time).
  - Text jansson refuses is refused, and text jansson accepts is accepted
    (but for the loader's own caps), with the weights array's contents
    broken in every way a number or a separator can be.
  - A jansson error after the weights array is reported at the file's
    line, column and byte, not the shortened text's.
  - A "weights" key written with an escape, or not at the top level, is
    left to the DOM, and the model still loads the same.
  Usage: test_models_json_split REFERENCE_DIR
*/
#include "loader_internal.h"
#include "sample_files.h"
#include "test_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Split `text` fed in pieces of `piece` bytes (0: all at once). */
static bool split_pieces(const char *text, size_t len, size_t piece, qm_doc *doc, char *err,
                         size_t errlen)
{
  qm_ctx c = {"t", err, errlen};
  if (piece == 0)
    return qm_doc_from_buffer(&c, text, len, doc);
  qm_split s;
  qm_split_init(&s);
  for (size_t at = 0; at < len; at += piece)
    if (!qm_split_feed(&s, &c, text + at, len - at < piece ? len - at : piece))
      break;
  memset(doc, 0, sizeof *doc);
  bool ok =
      qm_split_finish(&s, &c) && (doc->root = qm_parse_json(&c, s.rest, s.rest_len, &s)) != NULL;
  if (ok) {
    doc->w = s.w;
    doc->n_w = s.n_w;
    doc->have_weights = s.have_weights;
    s.w = NULL;
  }
  qm_split_free(&s);
  return ok;
}

/** The top-level "weights" of `text` as jansson reads it, cast to float. */
static float *jansson_weights(const char *text, size_t len, size_t *n)
{
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
  json_t *w = json_object_get(root, "weights");
  float *out = NULL;
  *n = 0;
  if (json_is_array(w)) {
    *n = json_array_size(w);
    out = malloc((*n + 1) * sizeof *out);
    for (size_t i = 0; out && i < *n; ++i)
      out[i] = json_is_number(json_array_get(w, i))
                   ? (float)json_number_value(json_array_get(w, i))
                   : NAN; /* refused by the loader, as a non-finite number is */
  }
  json_decref(root);
  return out;
}

static void check_same_weights(const char *name, const char *text, size_t len)
{
  size_t n;
  float *ref = jansson_weights(text, len, &n);
  if (!ref)
    return; /* not a file with a weights array jansson reads */
  static const size_t pieces[] = {0, 1, 2, 3, 7, 4096};
  for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; ++p) {
    char err[256] = "";
    qm_doc doc;
    bool numbers = true;
    for (size_t i = 0; i < n; ++i)
      numbers = numbers && isfinite(ref[i]);
    bool ok = split_pieces(text, len, pieces[p], &doc, err, sizeof err);
    if (!numbers) {
      CHECK(!ok && strstr(err, "weight "), "%s: a non-finite or non-number weight: %s", name,
            ok ? "accepted" : err);
      if (ok)
        qm_doc_free(&doc);
      continue;
    }
    if (!ok) {
      /* Only the loader's own cap on a number's length may refuse it. */
      CHECK(strstr(err, "characters in \"weights\""), "%s (pieces of %zu): %s", name, pieces[p],
            err);
      continue;
    }
    if (!doc.have_weights) {
      /* A key the splitter does not take (written with an escape): the
         DOM holds the array, and jansson's reading is the reference. */
      size_t m;
      char *dom = json_dumps(doc.root, JSON_COMPACT);
      float *w = dom ? jansson_weights(dom, strlen(dom), &m) : NULL;
      CHECK(w && m == n && !memcmp(w, ref, n * sizeof *ref), "%s: DOM weights differ", name);
      free(w);
      free(dom);
    } else {
      CHECK(doc.n_w == n, "%s (pieces of %zu): %zu of %zu weights", name, pieces[p], doc.n_w, n);
      CHECK(doc.n_w != n || n == 0 || !memcmp(doc.w, ref, n * sizeof *ref),
            "%s (pieces of %zu): weights differ from jansson's", name, pieces[p]);
      CHECK(json_array_size(json_object_get(doc.root, "weights")) == 0,
            "%s: the rest still holds the weights", name);
    }
    qm_doc_free(&doc);
  }
  free(ref);
}

static char *read_all(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *t = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (t && fread(t, 1, (size_t)n, f) != (size_t)n) {
    free(t);
    t = NULL;
  }
  fclose(f);
  *len = t ? (size_t)n : 0;
  return t;
}

/** Accepted exactly when jansson accepts the same text. */
static void check_agrees(const char *body)
{
  char text[512];
  int len = snprintf(text, sizeof text,
                     "{\"version\": \"0.5.0\", \"weights\": %s, \"architecture\": \"X\"}", body);
  json_error_t e;
  json_t *root = json_loadb(text, (size_t)len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
  char err[256] = "";
  qm_doc doc;
  bool ok = split_pieces(text, (size_t)len, 0, &doc, err, sizeof err);
  /* Non-numbers and non-finite floats are the loader's own refusals
     ("weight 3 is null, not a number"), as they were after the DOM. */
  bool finite = true;
  json_t *w = json_object_get(root, "weights");
  for (size_t i = 0; root && i < json_array_size(w); ++i)
    finite = finite && json_is_number(json_array_get(w, i)) &&
             isfinite((float)json_number_value(json_array_get(w, i)));
  CHECK(ok == (root != NULL && finite), "%s: jansson %s, the splitter %s (%s)", body,
        root ? "accepts" : "refuses", ok ? "accepts" : "refuses", err);
  if (!root)
    CHECK(strstr(err, "not valid JSON") || strstr(err, "weight "), "%s: message %s", body, err);
  json_decref(root);
  if (ok)
    qm_doc_free(&doc);
}

/** A jansson error after the array is reported where it is in the file. */
static void check_position(const char *text)
{
  json_error_t e;
  json_t *root = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
  CHECK(!root, "the sample should be invalid: %s", text);
  json_decref(root);
  char want[128], err[256] = "";
  snprintf(want, sizeof want, "at line %d, column %d (byte %d)", e.line, e.column, e.position);
  qm_doc doc;
  CHECK(!split_pieces(text, strlen(text), 5, &doc, err, sizeof err), "accepted: %s", text);
  CHECK(strstr(err, want), "expected \"%s\" in: %s", want, err);
}

int main(int argc, char **argv)
{
  sample_file *s;
  int n = samples_make(&s);
  for (int i = 0; i < n; ++i)
    check_same_weights(s[i].name, s[i].text, s[i].len);
  samples_free(s, n);

  const char *refs[] = {"nam/wavenet_a1_standard.nam", "nam/lstm.nam"};
  for (size_t i = 0; argc > 1 && i < sizeof refs / sizeof refs[0]; ++i) {
    char path[1024];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", argv[1], refs[i]);
    char *t = read_all(path, &len);
    CHECK(t, "cannot read %s", path);
    if (t)
      check_same_weights(refs[i], t, len);
    free(t);
  }

  /* Numbers and separators, good and broken. */
  static const char *const bodies[] = {"[]",
                                       "[0]",
                                       "[-0]",
                                       "[1, 2.5, -3e2, 4E-2, 5e+1, 0.0]",
                                       "[ 1 ,\n\t2\r\n]",
                                       "[1e-46]",
                                       "[123456789012345678]",
                                       "[3.4028235677973366e38]",
                                       "[3.4028236e38]",
                                       "[1e400]",
                                       "[-1e400]",
                                       "[99999999999999999999]",
                                       "[1,]",
                                       "[,1]",
                                       "[1 2]",
                                       "[01]",
                                       "[1.]",
                                       "[.5]",
                                       "[+1]",
                                       "[--1]",
                                       "[1e]",
                                       "[1e+]",
                                       "[0x10]",
                                       "[NaN]",
                                       "[Infinity]",
                                       "[-]",
                                       "[1,,2]",
                                       "[1]]",
                                       "[[1]]",
                                       "[\"1\"]",
                                       "[null]",
                                       "[true]",
                                       "[{}]",
                                       "[1",
                                       "[1,",
                                       "[1 ",
                                       "[",
                                       "[1e5.5]",
                                       "[1.5e5e5]",
                                       "[1-2]"};
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; ++i)
    check_agrees(bodies[i]);

  /* Errors after the array: on its closing line, and on a later line. */
  check_position("{\"weights\": [\n1,\n2,\n3], oops}");
  check_position("{\"weights\": [1, 2, 3],\n \"a\": 1,\n \"b\": oops}");
  check_position("{\"weights\": [1, 2, 3], \"weights\": [4]}");
  check_position("{\"a\": \"\xC3\xA9\", \"weights\": [1,\n\xC3\xA9], \"x\": 1}");
  check_position("{\"a\": \"\xC3\xA9\", \"weights\": [1,\n2], \"x\": \xC3\xA9t\xC3\xA9}");

  /* Keys the splitter leaves alone: escaped, nested, or not an array. */
  char err[256] = "";
  qm_doc doc;
  static const char escaped[] = "{\"weight\\u0073\": [0.5, 0.25]}";
  CHECK(split_pieces(escaped, sizeof escaped - 1, 0, &doc, err, sizeof err) && !doc.have_weights &&
            json_array_size(json_object_get(doc.root, "weights")) == 2,
        "escaped key: %s", err);
  qm_doc_free(&doc);
  static const char nested[] = "{\"layers\": [{\"weights\": [[1]]}], \"x\": {\"weights\": [2]}}";
  CHECK(split_pieces(nested, sizeof nested - 1, 0, &doc, err, sizeof err) && !doc.have_weights,
        "nested keys: %s", err);
  qm_doc_free(&doc);
  static const char value[] =
      "{\"a\": \"weights\", \"weights\": \"many\", \"b\": [\"weights\", 1]}";
  CHECK(split_pieces(value, sizeof value - 1, 0, &doc, err, sizeof err) && !doc.have_weights &&
            json_is_string(json_object_get(doc.root, "weights")),
        "weights as a string: %s", err);
  qm_doc_free(&doc);
  static const char linear[] = "{\"version\": \"0.5.0\", \"architecture\": \"Linear\", \"config\": "
                               "{\"receptive_field\": 2, \"bias\": false}, \"weight\\u0073\": "
                               "[0.5, 0.25]}";
  qm_desc *d = qm_load_buffer(linear, sizeof linear - 1, "esc.nam", err, sizeof err);
  CHECK(d && d->n_weights == 2 && d->seq.layers[0].wx[1] == 0.5f, "escaped key load: %s", err);
  qm_desc_free(d);

  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
