/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/* The model name label's state and text (see model_status.h). */
#include "model_status.h"

#include <stdio.h>
#include <string.h>

static void copy(char *dst, size_t cap, const char *src)
{
  snprintf(dst, cap, "%s", src ? src : "");
}

void qg_model_status_on_error(qg_model_status *s, const char *message, const char *playing)
{
  size_t n = strlen(QG_MODEL_MISSING_PREFIX);
  if (!message || strncmp(message, QG_MODEL_MISSING_PREFIX, n) != 0)
    return; /* other errors are shown in the error bar and change nothing here */
  s->missing = true;
  copy(s->path, sizeof s->path, message + n);
  s->standin_known = playing && playing[0];
  copy(s->standin, sizeof s->standin, s->standin_known ? playing : "");
}

void qg_model_status_on_info(qg_model_status *s, const char *path)
{
  if (!s->missing || !path)
    return;
  if (!s->standin_known) {
    /** The first info after the error (a GUI opened after the session
        was restored gets the error first) names the stand-in. */
    if (strcmp(path, s->path) != 0) {
      copy(s->standin, sizeof s->standin, path);
      s->standin_known = true;
      return;
    }
  } else if (!strcmp(path, s->standin)) {
    return;
  }
  s->missing = false;
}

void qg_model_status_on_user_load(qg_model_status *s) { s->missing = false; }

/** Index of the UTF-8 character boundary at or before i. */
static size_t utf8_floor(const char *p, size_t i)
{
  while (i > 0 && ((unsigned char)p[i] & 0xC0) == 0x80)
    --i;
  return i;
}

/** The path shortened to about QG_MODEL_MISSING_SHOWN bytes: its start,
    an ellipsis, and its end with the whole file name when that fits. */
static void shorten(const char *path, char *buf, size_t len)
{
  size_t n = strlen(path);
  if (n <= QG_MODEL_MISSING_SHOWN) {
    copy(buf, len, path);
    return;
  }
  const char *slash = strrchr(path, '/');
  size_t base = slash ? n - (size_t)(slash - path) : 0;
  size_t tail = base && base <= QG_MODEL_MISSING_SHOWN - 16 ? base : QG_MODEL_MISSING_SHOWN / 2;
  size_t head = QG_MODEL_MISSING_SHOWN - tail;
  size_t h = utf8_floor(path, head);
  size_t t = n - tail;
  while (t < n && ((unsigned char)path[t] & 0xC0) == 0x80)
    ++t; /* start the tail on a character boundary */
  snprintf(buf, len, "%.*s…%s", (int)h, path, path + t);
}

void qg_model_status_title(const qg_model_status *s, const char *name, const char *path, char *buf,
                           size_t len)
{
  if (s->missing) {
    char shown[QG_MODEL_MISSING_SHOWN + 8];
    shorten(s->path, shown, sizeof shown);
    snprintf(buf, len, "%s%s", QG_MODEL_MISSING_PREFIX, shown);
    return;
  }
  path = path ? path : "";
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (name && name[0] && strcmp(name, base))
    snprintf(buf, len, "%s", name);
  else
    snprintf(buf, len, "%.300s", base[0] ? base : "No model");
}
