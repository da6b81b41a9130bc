#!/usr/bin/env python3
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
"""ESR of a render against a reference: esr_wav.py OUT.wav REF.wav [SKIP].

sum((y - r)^2) / sum(r^2) over samples SKIP (default 4800, the first 0.1 s
at 48 kHz, as models/README.md's figures) to the shorter file's end, plain
(no pre-emphasis). quantone-run reports its ESR against the float model;
this is for ESR against an effect's output, e.g. the wet file of
`quantone-train render`. Reads mono or the first channel of 32-bit float
or 16-bit PCM WAV files, with the standard library only.
"""
import struct
import sys
from array import array


def read_wav(path):
    data = open(path, 'rb').read()
    if data[:4] != b'RIFF' or data[8:12] != b'WAVE':
        sys.exit('%s: not a WAV file' % path)
    pos, fmt, samples = 12, None, None
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack('<I', data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if chunk == b'fmt ':
            fmt = struct.unpack('<HHIIHH', body[:16])
        elif chunk == b'data':
            samples = body
        pos += 8 + size + (size & 1)
    if fmt is None or samples is None:
        sys.exit('%s: no fmt or data chunk' % path)
    tag, channels, bits = fmt[0], fmt[1], fmt[5]
    if tag in (3, 0xFFFE) and bits == 32:
        a = array('f')
        a.frombytes(samples[:len(samples) // 4 * 4])
        return list(a[::channels])
    if tag in (1, 0xFFFE) and bits == 16:
        a = array('h')
        a.frombytes(samples[:len(samples) // 2 * 2])
        return [v / 32768.0 for v in a[::channels]]
    sys.exit('%s: only 32-bit float or 16-bit PCM' % path)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    y, r = read_wav(sys.argv[1]), read_wav(sys.argv[2])
    skip = int(sys.argv[3]) if len(sys.argv) > 3 else 4800
    n = min(len(y), len(r))
    err = sum((y[i] - r[i]) ** 2 for i in range(skip, n))
    ref = sum(r[i] ** 2 for i in range(skip, n))
    if ref == 0:
        sys.exit('reference is silent after sample %d' % skip)
    print('%.6f' % (err / ref))


if __name__ == '__main__':
    main()
