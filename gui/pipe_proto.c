/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Frame queueing and non-blocking I/O for pipe_proto.h. Neither side may
  block on the other: the host's UI thread must not stall when the helper
  is busy drawing, nor the GUI when the host is slow to call idle().
*/
#include "pipe_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void qg_pipe_buf_free(qg_pipe_buf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

static bool reserve(qg_pipe_buf *b, size_t extra)
{
  if (b->len + extra <= b->cap)
    return true;
  size_t cap = b->cap ? b->cap : 65536;
  while (cap < b->len + extra)
    cap *= 2;
  uint8_t *d = realloc(b->data, cap);
  if (!d)
    return false;
  b->data = d;
  b->cap = cap;
  return true;
}

bool qg_pipe_queue(qg_pipe_buf *out, uint32_t type, uint32_t port, uint32_t format,
                   const void *payload, uint32_t size)
{
  if (size > QG_PIPE_MAX_FRAME || out->len + sizeof(qg_pipe_hdr) + size > QG_PIPE_MAX_QUEUE)
    return false;
  if (!reserve(out, sizeof(qg_pipe_hdr) + size))
    return false;
  qg_pipe_hdr h = {type, port, format, size};
  memcpy(out->data + out->len, &h, sizeof h);
  if (size)
    memcpy(out->data + out->len + sizeof h, payload, size);
  out->len += sizeof h + size;
  return true;
}

int qg_pipe_flush(int fd, qg_pipe_buf *out)
{
  size_t done = 0;
  while (done < out->len) {
    ssize_t n = send(fd, out->data + done, out->len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    return -1;
  }
  memmove(out->data, out->data + done, out->len - done);
  out->len -= done;
  return 0;
}

int qg_pipe_fill(int fd, qg_pipe_buf *in)
{
  for (;;) {
    if (in->len > 2 * QG_PIPE_MAX_QUEUE || !reserve(in, 65536))
      return -1;
    ssize_t n = recv(fd, in->data + in->len, in->cap - in->len, MSG_DONTWAIT);
    if (n > 0) {
      in->len += (size_t)n;
      continue;
    }
    if (n == 0)
      return -1; /* EOF */
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return 0;
    return -1;
  }
}

bool qg_pipe_peek(const qg_pipe_buf *in, qg_pipe_hdr *h, const uint8_t **payload, bool *bad)
{
  *bad = false;
  if (in->len < sizeof *h)
    return false;
  memcpy(h, in->data, sizeof *h);
  if (h->type < QG_PIPE_URIDS || h->type > QG_PIPE_QUIT || h->size > QG_PIPE_MAX_FRAME) {
    *bad = true;
    return false;
  }
  if (in->len < sizeof *h + h->size)
    return false;
  *payload = in->data + sizeof *h;
  return true;
}

void qg_pipe_pop(qg_pipe_buf *in, const qg_pipe_hdr *h)
{
  size_t n = sizeof *h + h->size;
  memmove(in->data, in->data + n, in->len - n);
  in->len -= n;
}
