/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Host rate != model rate: a model trained at 48 kHz run at 44.1 kHz plays
  at the wrong pitch and timing, so the model runs at its own rate between
  two libsamplerate converters (host -> model, model -> host).

  The converters take and give variable numbers of frames per call, while a
  plugin must return exactly as many frames as it got. The output side is a
  queue primed with `latency` zeros; latency is measured at creation (the
  largest shortfall of converted output against consumed input, over a
  simulated stream fed one frame at a time, which is the worst case for any
  block split), so the queue never runs dry and the delay the host is told
  about (the latency port) is exact. src_process() neither allocates nor
  locks, so both conversions run in run().
*/
#include "qt_plugin.h"

#include <math.h>
#include <samplerate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QT_SRC_TYPE SRC_SINC_MEDIUM_QUALITY
#define QT_RATIO_MAX 8.0

struct qt_resampler {
  SRC_STATE *up, *down;
  double ratio_up; /**< model / host */
  int latency;
  float *ring;
  int cap, rpos, fill;
  long underruns;
};

static void prime(qt_resampler *rs)
{
  src_reset(rs->up);
  src_reset(rs->down);
  memset(rs->ring, 0, (size_t)rs->cap * sizeof(float));
  rs->rpos = 0;
  rs->fill = rs->latency;
}

static long convert(SRC_STATE *s, double ratio, const float *in, long n, float *out, long cap)
{
  long done = 0, made = 0;
  while (done < n) {
    SRC_DATA d;
    memset(&d, 0, sizeof d);
    d.data_in = in + done;
    d.input_frames = n - done;
    d.data_out = out + made;
    d.output_frames = cap - made;
    d.src_ratio = ratio;
    if (src_process(s, &d) != 0 || (d.input_frames_used == 0 && d.output_frames_gen == 0))
      break;
    done += d.input_frames_used;
    made += d.output_frames_gen;
    if (made >= cap)
      break;
  }
  return made;
}

qt_resampler *qt_resampler_create(double host_rate, double model_rate, int *mcap, char *err,
                                  size_t errlen)
{
  double ratio = model_rate / host_rate;
  if (!(ratio >= 1.0 / QT_RATIO_MAX && ratio <= QT_RATIO_MAX)) {
    snprintf(err, errlen, "model rate %.0f Hz cannot run at host rate %.0f Hz (ratio beyond %g)",
             model_rate, host_rate, QT_RATIO_MAX);
    return NULL;
  }
  qt_resampler *rs = calloc(1, sizeof *rs);
  int e1 = 0, e2 = 0;
  if (rs) {
    rs->up = src_new(QT_SRC_TYPE, 1, &e1);
    rs->down = src_new(QT_SRC_TYPE, 1, &e2);
  }
  if (!rs || !rs->up || !rs->down) {
    snprintf(err, errlen, "cannot create the sample rate converter: %s",
             src_strerror(e1 ? e1 : e2));
    qt_resampler_free(rs);
    return NULL;
  }
  rs->ratio_up = ratio;
  *mcap = (int)ceil(QT_HOST_CHUNK * ratio) + 512;

  /* Measure the converters' delay: stream a second of a sine one frame at a
     time and record the largest (consumed - produced). */
  int n_sim = (int)host_rate;
  long produced = 0, worst = 0;
  float mid[64], outb[64];
  for (int t = 1; t <= n_sim; ++t) {
    float x = (float)sin(0.05 * t);
    long m = convert(rs->up, ratio, &x, 1, mid, 64);
    long o = convert(rs->down, 1.0 / ratio, mid, m, outb, 64);
    produced += o;
    if (t - produced > worst)
      worst = t - produced;
  }
  rs->latency = (int)worst + 1;
  if (rs->latency >= QT_MAX_LATENCY - QT_HOST_CHUNK) {
    snprintf(err, errlen, "sample rate converter latency %d frames is too long", rs->latency);
    qt_resampler_free(rs);
    return NULL;
  }
  rs->cap = rs->latency + 4 * QT_HOST_CHUNK + 4096;
  rs->ring = calloc((size_t)rs->cap, sizeof(float));
  if (!rs->ring) {
    snprintf(err, errlen, "out of memory");
    qt_resampler_free(rs);
    return NULL;
  }
  prime(rs);
  return rs;
}

void qt_resampler_free(qt_resampler *rs)
{
  if (!rs)
    return;
  if (rs->up)
    src_delete(rs->up);
  if (rs->down)
    src_delete(rs->down);
  free(rs->ring);
  free(rs);
}

void qt_resampler_reset(qt_resampler *rs) { prime(rs); }

int qt_resampler_latency(const qt_resampler *rs) { return rs->latency; }

int qt_resampler_up(qt_resampler *rs, const float *in, int n, float *out, int cap)
{
  return (int)convert(rs->up, rs->ratio_up, in, n, out, cap);
}

void qt_resampler_down(qt_resampler *rs, const float *in, int n)
{
  int done = 0;
  float tmp[1024]; /* 64 frames at a ratio of at most 8, with room to spare */
  while (done < n) {
    int k = n - done;
    if (k > 64)
      k = 64;
    long o = convert(rs->down, 1.0 / rs->ratio_up, in + done, k, tmp, 1024);
    for (long i = 0; i < o; ++i) {
      if (rs->fill >= rs->cap)
        break; /* cannot happen with the sizes above; drop rather than overwrite */
      rs->ring[(rs->rpos + rs->fill) % rs->cap] = tmp[i];
      ++rs->fill;
    }
    done += k;
  }
}

void qt_resampler_read(qt_resampler *rs, float *out, int n)
{
  for (int i = 0; i < n; ++i) {
    if (rs->fill > 0) {
      out[i] = rs->ring[rs->rpos];
      rs->rpos = (rs->rpos + 1) % rs->cap;
      --rs->fill;
    } else {
      out[i] = 0.0f;
      ++rs->underruns;
    }
  }
}
