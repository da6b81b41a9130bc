/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The framed protocol between the external-UI shim (in the host) and the
  GUI helper process, over one AF_UNIX stream socket pair (a bidirectional
  pipe; send() with MSG_NOSIGNAL so a dead peer is an error code, never a
  SIGPIPE that would kill the host).

  Frame: qg_pipe_hdr (four host-endian uint32: type, port, format, size)
  followed by size bytes. Both ends are the same machine and build, so no
  byte-order conversion. format is QG_PIPE_FMT_FLOAT or QG_PIPE_FMT_ATOM,
  not a URID: each side translates to its own atom:eventTransfer.

  shim -> helper: URIDS (first; uint32 id + NUL-terminated URI, repeated:
                  the host's URIDs for every URI in quantone_uris.h, so
                  atoms pass through unchanged), TITLE (string), PORT
                  (port event), SHOW, QUIT.
  helper -> shim: PORT (port write).
  The helper exits on QUIT, on EOF and when its window is closed; the shim
  sees EOF and reaps it.
*/
#ifndef QUANTONE_GUI_PIPE_PROTO_H
#define QUANTONE_GUI_PIPE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { QG_PIPE_URIDS = 0x51540001, QG_PIPE_TITLE, QG_PIPE_PORT, QG_PIPE_SHOW, QG_PIPE_QUIT };
enum { QG_PIPE_FMT_FLOAT = 0, QG_PIPE_FMT_ATOM = 1 };

#define QG_PIPE_MAX_FRAME (1u << 20) /**< larger is a protocol error */
#define QG_PIPE_MAX_QUEUE (8u << 20) /**< unsent bytes before frames are dropped */

typedef struct {
  uint32_t type, port, format, size;
} qg_pipe_hdr;

typedef struct {
  uint8_t *data;
  size_t len, cap;
} qg_pipe_buf;

void qg_pipe_buf_free(qg_pipe_buf *b);
/** Queue one frame; false if out of memory or the queue is over its cap. */
bool qg_pipe_queue(qg_pipe_buf *out, uint32_t type, uint32_t port, uint32_t format,
                   const void *payload, uint32_t size);
/** Send what the socket takes without blocking. -1: peer gone. */
int qg_pipe_flush(int fd, qg_pipe_buf *out);
/** Receive what is available without blocking. -1: EOF or error. */
int qg_pipe_fill(int fd, qg_pipe_buf *in);
/** The next complete frame in in, or false. Call qg_pipe_pop after use.
 *bad is set on a malformed header (the stream is then unusable). */
bool qg_pipe_peek(const qg_pipe_buf *in, qg_pipe_hdr *h, const uint8_t **payload, bool *bad);
void qg_pipe_pop(qg_pipe_buf *in, const qg_pipe_hdr *h);

#endif
