/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  libFuzzer target: the model-file splitter (models/json_split.c) against
  jansson on the same bytes. What the splitter accepts jansson accepts,
  with the same DOM once "weights" is emptied and the same weights (cast
  to float); what jansson accepts the splitter accepts unless a loader
  limit or a non-number / non-finite weight refuses it, never as a syntax
  error (but for NUL bytes, below). A difference aborts.
*/
#include "loader_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  /* The splitter skips a byte order mark; jansson does not. */
  size_t skip = size >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;
  json_t *ref = json_loadb(text + skip, size - skip, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
  char err[256] = "";
  qm_ctx c = {"fuzz", err, sizeof err};
  qm_doc doc;
  bool ok = qm_doc_from_buffer(&c, text, size, &doc);
  if (ok) {
    if (!ref)
      abort(); /* accepted what jansson refuses */
    if (doc.have_weights) {
      json_t *w = json_object_get(ref, "weights");
      if (!json_is_array(w) || json_array_size(w) != doc.n_w)
        abort();
      for (size_t i = 0; i < doc.n_w; ++i) {
        float f = (float)json_number_value(json_array_get(w, i));
        if (!json_is_number(json_array_get(w, i)) || memcmp(&f, &doc.w[i], sizeof f))
          abort();
      }
      json_object_set_new(ref, "weights", json_array());
    }
    if (!json_equal(ref, doc.root))
      abort();
    qm_doc_free(&doc);
  } else if (ref && strstr(err, "not valid JSON") && !strstr(err, "characters in \"weights\"") &&
             !memchr(text, '\0', size)) {
    /* A syntax error jansson does not see. (jansson 2.14 swallows a NUL
       byte right after a number, reading "[1\0,2]" as [1,2]; the splitter
       refuses it, and such a file was never a model.) */
    abort();
  }
  json_decref(ref);
  return 0;
}
