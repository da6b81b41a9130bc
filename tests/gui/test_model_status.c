/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The model name label's state (gui/model_status.c), part of gui-views:
  "model missing: PATH" from the plugin's qt:error until a model loads, in
  the orders the messages come in (a GUI open during the session restore,
  and one opened afterwards, which gets the error before any info), and
  the label text for very long and non-ASCII paths.
*/
#include "model_status.h"
#include "test_check.h"

#include <stdio.h>
#include <string.h>

int test_model_status(void);

#define DEFAULT_MODEL "/usr/lib/lv2/quantone.lv2/overdrive_a2.nam"
#define SAVED "/home/me/session/amp.nam"

static const char *title(const qg_model_status *s, const char *name, const char *path)
{
  static char buf[1024];
  qg_model_status_title(s, name, path, buf, sizeof buf);
  return buf;
}

/** No byte sequence cut in the middle of a character. */
static bool valid_utf8(const char *p)
{
  for (const unsigned char *u = (const unsigned char *)p; *u;) {
    int n = *u < 0x80             ? 0
            : (*u & 0xE0) == 0xC0 ? 1
            : (*u & 0xF0) == 0xE0 ? 2
            : (*u & 0xF8) == 0xF0 ? 3
                                  : -1;
    if (n < 0)
      return false;
    ++u;
    for (int i = 0; i < n; ++i, ++u)
      if ((*u & 0xC0) != 0x80)
        return false;
  }
  return true;
}

int test_model_status(void)
{
  qg_model_status s;

  /* A GUI opened after the restore: the error first, then the stand-in's
     path and info (and info again on every variant change). */
  memset(&s, 0, sizeof s);
  qg_model_status_on_error(&s, "model missing: " SAVED, NULL);
  printf("  model label after the error: '%s'\n", title(&s, "", DEFAULT_MODEL));
  CHECK(!strcmp(title(&s, "", DEFAULT_MODEL), "model missing: " SAVED), "missing label '%s'",
        title(&s, "", DEFAULT_MODEL));
  qg_model_status_on_info(&s, DEFAULT_MODEL);
  qg_model_status_on_info(&s, DEFAULT_MODEL);
  CHECK(s.missing, "the stand-in's info cleared 'model missing'");
  /* A preset or another UI loads a model: that is a model loading. */
  qg_model_status_on_info(&s, "/models/other.nam");
  CHECK(!s.missing && !strcmp(title(&s, "", "/models/other.nam"), "other.nam"),
        "another model loaded, label '%s'", title(&s, "", "/models/other.nam"));

  /* A GUI open while it happens: info for the stand-in came first. */
  memset(&s, 0, sizeof s);
  qg_model_status_on_info(&s, DEFAULT_MODEL);
  qg_model_status_on_error(&s, "model missing: " SAVED, DEFAULT_MODEL);
  qg_model_status_on_info(&s, DEFAULT_MODEL);
  CHECK(s.missing, "info for the stand-in cleared 'model missing'");
  /* Other errors do not touch it. */
  qg_model_status_on_error(&s, "cannot parse /x.nam: bad JSON at byte 12", DEFAULT_MODEL);
  CHECK(s.missing && !strcmp(s.path, SAVED), "another error changed the missing state");
  /* The user picks a model. */
  qg_model_status_on_user_load(&s);
  CHECK(!s.missing, "a model picked in the GUI did not clear 'model missing'");

  /* The file came back: info for the missing path itself. */
  memset(&s, 0, sizeof s);
  qg_model_status_on_error(&s, "model missing: " SAVED, NULL);
  qg_model_status_on_info(&s, SAVED);
  CHECK(!s.missing, "the missing model itself loaded, still 'missing'");

  /* Names as before when nothing is missing. */
  memset(&s, 0, sizeof s);
  CHECK(!strcmp(title(&s, "Marshall JCM", "/m/jcm.nam"), "Marshall JCM"), "named model");
  CHECK(!strcmp(title(&s, "", ""), "No model"), "no model");

  /* A path near 4 KB: the label keeps the prefix, the start of the path,
     and the whole file name, in about QG_MODEL_MISSING_SHOWN bytes. */
  char longp[4000];
  static const char piece[] = "/dïrëctory_x"; /* 2-byte characters near every cut */
  size_t n = 0, pn = strlen(piece);
  while (n + pn < sizeof longp - 40) {
    memcpy(longp + n, piece, pn);
    n += pn;
  }
  snprintf(longp + n, sizeof longp - n, "/my amp.nam");
  char msg[4200];
  snprintf(msg, sizeof msg, "model missing: %s", longp);
  memset(&s, 0, sizeof s);
  qg_model_status_on_error(&s, msg, NULL);
  const char *t = title(&s, "", DEFAULT_MODEL);
  size_t tl = strlen(t), pl = strlen(QG_MODEL_MISSING_PREFIX);
  printf("  model label for a %zu-byte path: '%s' (%zu bytes)\n", strlen(longp), t, tl);
  CHECK(!strncmp(t, QG_MODEL_MISSING_PREFIX "/d", pl + 2), "long path: start '%.30s'", t);
  CHECK(tl > pl + 11 && !strcmp(t + tl - 11, "/my amp.nam"), "long path: file name lost");
  CHECK(tl <= pl + QG_MODEL_MISSING_SHOWN + 3 && strstr(t, "…"), "long path: %zu bytes", tl);
  CHECK(valid_utf8(t), "long path: a character cut in two");
  printf("  model label: %d checks, %d failed\n", checks, failures);
  return failures;
}
