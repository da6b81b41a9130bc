/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  Headless tests of the GUI's drawing and data paths: every view renders
  into a cairo image surface from fixed input, and statistics of the
  pixels (colours in band regions, bar heights, non-blank counts) are
  checked, so a broken plot fails here without a display. Also the
  spectrum analyser and the atom protocol decoder. Renders are written as
  PNGs next to the test binary (artifacts for a human look).
*/
#include "gui_data.h"
#include "protocol.h"
#include "test_urid_map.h"
#include "slim_status.h"
#include "views.h"
#include "spectrum.h"

#include <lv2/atom/forge.h>
#include <lv2/patch/patch.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
int test_model_status(void); /* test_model_status.c */
#define CHECK(c, ...)                                                                              \
  do {                                                                                             \
    if (!(c)) {                                                                                    \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                         \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fprintf(stderr, "\n");                                                                       \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

typedef struct {
  cairo_surface_t *s;
  int w, h, stride;
  unsigned char *px;
} image;

typedef void (*view_fn)(cairo_t *, double, double, const void *);

static image render(view_fn fn, int w, int h, const void *data, const char *png)
{
  image im;
  im.s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  cairo_t *cr = cairo_create(im.s);
  fn(cr, w, h, data);
  cairo_destroy(cr);
  cairo_surface_flush(im.s);
  if (png)
    cairo_surface_write_to_png(im.s, png);
  im.w = w;
  im.h = h;
  im.stride = cairo_image_surface_get_stride(im.s);
  im.px = cairo_image_surface_get_data(im.s);
  return im;
}

static void rgb_at(const image *im, int x, int y, int *r, int *g, int *b)
{
  uint32_t p = *(const uint32_t *)(im->px + y * im->stride + x * 4);
  *r = (p >> 16) & 255;
  *g = (p >> 8) & 255;
  *b = p & 255;
}

static bool near(const image *im, int x, int y, qg_rgb c, int tol)
{
  int r, g, b;
  rgb_at(im, x, y, &r, &g, &b);
  return abs(r - (int)lround(c.r * 255)) <= tol && abs(g - (int)lround(c.g * 255)) <= tol &&
         abs(b - (int)lround(c.b * 255)) <= tol;
}

static qg_rgb blend(qg_rgb under, qg_rgb over, double a)
{
  qg_rgb o = {under.r + a * (over.r - under.r), under.g + a * (over.g - under.g),
              under.b + a * (over.b - under.b)};
  return o;
}

/** Distinct colours and luminance stddev: a rendered plot, not a blank. */
static void stats(const image *im, int *distinct, double *stddev, int *non_bg)
{
  static unsigned char seen[1 << 18];
  memset(seen, 0, sizeof seen);
  double sum = 0, sum2 = 0;
  *distinct = 0;
  *non_bg = 0;
  for (int y = 0; y < im->h; ++y)
    for (int x = 0; x < im->w; ++x) {
      int r, g, b;
      rgb_at(im, x, y, &r, &g, &b);
      unsigned key = (unsigned)((r >> 2) << 12 | (g >> 2) << 6 | (b >> 2));
      if (!seen[key]) {
        seen[key] = 1;
        ++*distinct;
      }
      double l = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      sum += l;
      sum2 += l * l;
      if (!near(im, x, y, QG_COL_PANEL, 3) && !near(im, x, y, QG_COL_BG, 3))
        ++*non_bg;
    }
  double n = (double)im->w * im->h, m = sum / n;
  *stddev = sqrt(fmax(0.0, sum2 / n - m * m));
}

static void check_nonblank(const image *im, const char *what, int min_colours, int min_pixels)
{
  int d, nb;
  double sd;
  stats(im, &d, &sd, &nb);
  printf("  %-9s %d colours, stddev %.1f, %d drawn pixels\n", what, d, sd, nb);
  CHECK(d >= min_colours, "%s: only %d distinct colours", what, d);
  CHECK(sd > 5.0, "%s: flat image (stddev %.2f)", what, sd);
  CHECK(nb >= min_pixels, "%s: only %d non-background pixels", what, nb);
}

/* ---- ESR ------------------------------------------------------------------- */

static void test_esr(void)
{
  static qg_esr_view v;
  memset(&v, 0, sizeof v);
  v.valid = true;
  v.esr_db = -30;
  for (int i = 0; i < QG_ESR_HISTORY; ++i)
    qg_esr_push(&v, -30.0f + 3.0f * sinf(i * 0.1f));
  const int W = 420, H = 220;
  image im = render((view_fn)qg_view_esr, W, H, &v, "view_esr.png");
  check_nonblank(&im, "esr", 20, 5000);

  qg_rect p = qg_plot_rect(W, H);
  qg_rect g = p;
  g.w -= 26;
  qg_rect m = {g.x + g.w + 10, p.y, 16, p.h};
  /* Band stripes behind the graph: the expected blend in each band. */
  int xg = (int)(g.x + 20);
  struct {
    double db;
    int band;
  } probe[] = {
      {-45, QG_BAND_GREAT}, {-17, QG_BAND_NOT_BAD}, {-12.5, QG_BAND_MAYBE}, {4, QG_BAND_AUDIBLE}};
  for (int i = 0; i < 4; ++i) {
    int y = (int)qg_esr_y(g, probe[i].db);
    qg_rgb want = blend(QG_COL_PANEL, qg_band_colour(probe[i].band), 0.16);
    CHECK(near(&im, xg, y, want, 4), "esr: band %d colour at %.1f dB", probe[i].band, probe[i].db);
  }
  /* Meter: solid band colour below the value, dim band above it. */
  int xm = (int)(m.x + m.w / 2);
  CHECK(near(&im, xm, (int)qg_esr_y(m, -50), qg_band_colour(QG_BAND_GREAT), 2),
        "esr: meter fill is not the 'great' colour");
  CHECK(near(&im, xm, (int)qg_esr_y(m, 5),
             blend(QG_COL_PANEL, qg_band_colour(QG_BAND_AUDIBLE), 0.28), 4),
        "esr: meter above the value is not the dim 'audible' band");
  cairo_surface_destroy(im.s);

  /* An audible error turns the meter red. */
  v.esr_db = -3;
  im = render((view_fn)qg_view_esr, W, H, &v, NULL);
  CHECK(near(&im, xm, (int)qg_esr_y(m, -50), qg_band_colour(QG_BAND_AUDIBLE), 2),
        "esr: -3 dB meter is not red");
  cairo_surface_destroy(im.s);

  CHECK(qg_esr_band(0.005) == QG_BAND_GREAT && qg_esr_band(0.02) == QG_BAND_NOT_BAD &&
            qg_esr_band(0.05) == QG_BAND_MAYBE && qg_esr_band(0.2) == QG_BAND_AUDIBLE,
        "esr: band thresholds");
}

/* ---- ESR states: exact at FP32, silence ------------------------------------------------ */

/** Pixels of colour c (within tol) in the rectangle. */
static int count_colour(const image *im, qg_rect r, qg_rgb c, int tol);

/** A sine of the given RMS level in dBFS, as a qt:frames reference vector. */
static void sine_at(float *x, int n, double dbfs)
{
  double a = sqrt(2.0) * pow(10.0, dbfs / 20.0);
  for (int i = 0; i < n; ++i)
    x[i] = (float)(a * sin(2 * M_PI * 440.0 * i / 48000.0));
}

static void test_esr_states(void)
{
  static qg_esr_view v;
  char h[48];
  const int W = 420, H = 220;
  qg_rect head = {W - 160, 4, 156, 22}; /* the headline, top right */

  /* FP32 plays the reference: "exact" in the 'great' colour, even though
     the plugin reports no measurement (esr_db at its floor). */
  memset(&v, 0, sizeof v);
  v.reference = true;
  v.valid = false;
  CHECK(!strcmp(qg_esr_headline(&v, h, sizeof h), "exact"), "esr at FP32: headline '%s'", h);
  image im = render((view_fn)qg_view_esr, W, H, &v, "view_esr_fp32.png");
  int green = count_colour(&im, head, qg_band_colour(QG_BAND_GREAT), 8);
  printf("  esr FP32: headline '%s', %d headline pixels in the 'great' colour\n", h, green);
  CHECK(green > 20, "esr at FP32: headline not drawn in the 'great' colour (%d px)", green);
  cairo_surface_destroy(im.s);

  /* Silence: a reference vector below -70 dBFS; the held value stays. */
  memset(&v, 0, sizeof v);
  v.valid = true;
  v.esr_db = -33.9f;
  float ref[QUANTONE_FRAME_LEN];
  const struct {
    double dbfs;
    bool silent;
  } lv[] = {{-90, true}, {-71, true}, {-69, false}, {-20, false}};
  for (int i = 0; i < 4; ++i) {
    sine_at(ref, QUANTONE_FRAME_LEN, lv[i].dbfs);
    qg_esr_note_reference(&v, ref, QUANTONE_FRAME_LEN);
    qg_esr_headline(&v, h, sizeof h);
    printf("  esr with the reference at %.0f dBFS: '%s'\n", lv[i].dbfs, h);
    CHECK(v.silent == lv[i].silent && !strcmp(h, lv[i].silent ? "silence" : "-33.9 dB"),
          "esr at %.0f dBFS: headline '%s'", lv[i].dbfs, h);
  }
  memset(ref, 0, sizeof ref);
  qg_esr_note_reference(&v, ref, QUANTONE_FRAME_LEN);
  CHECK(v.silent, "esr: digital silence is silence");
  for (int i = 0; i < QG_ESR_HISTORY; ++i)
    qg_esr_push(&v, -33.9f);
  im = render((view_fn)qg_view_esr, W, H, &v, "view_esr_silence.png");
  int band_px = count_colour(&im, head, qg_band_colour(QG_BAND_GREAT), 8);
  CHECK(band_px == 0, "esr on silence: headline still in the band colour (%d px)", band_px);
  cairo_surface_destroy(im.s);
  /* Without any measurement yet, silence is said too (not "no signal"). */
  v.valid = false;
  CHECK(!strcmp(qg_esr_headline(&v, h, sizeof h), "silence"), "esr silent, no value: '%s'", h);
}

/* ---- SQNR ---------------------------------------------------------------- */

static int bar_height(const image *im, qg_rect r, qg_rgb c)
{
  int x = (int)(r.x + r.w / 2), n = 0;
  for (int y = (int)r.y; y < (int)(r.y + r.h + 1) && y < im->h; ++y)
    if (near(im, x, y, c, 2))
      ++n;
  return n;
}

static void test_sqnr(void)
{
  static qg_sqnr_view v;
  memset(&v, 0, sizeof v);
  v.n = 4;
  const float vals[] = {15, 30, 45, INFINITY};
  for (int i = 0; i < 4; ++i) {
    v.sqnr_db[i] = vals[i];
    snprintf(v.names[i], sizeof v.names[i], "layer%d", i);
  }
  const int W = 420, H = 220;
  image im = render((view_fn)qg_view_sqnr, W, H, &v, "view_sqnr.png");
  check_nonblank(&im, "sqnr", 10, 3000);
  int hgt[4];
  for (int i = 0; i < 4; ++i) {
    qg_rgb c = isinf(vals[i]) ? QG_COL_ACCENT : qg_band_colour(qg_esr_band(pow(10, -vals[i] / 10)));
    hgt[i] = bar_height(&im, qg_sqnr_bar_rect(W, H, 4, i), c);
  }
  double full = qg_sqnr_bar_rect(W, H, 4, 0).h;
  printf("  sqnr bars %d %d %d %d px (plot %.0f)\n", hgt[0], hgt[1], hgt[2], hgt[3], full);
  CHECK(abs(hgt[1] - 2 * hgt[0]) <= 3, "sqnr: 30 dB bar is not twice the 15 dB bar");
  CHECK(abs(hgt[2] - 3 * hgt[0]) <= 3, "sqnr: 45 dB bar is not three times the 15 dB bar");
  CHECK(fabs(hgt[2] - full * 45 / QG_SQNR_DB_TOP) <= 3, "sqnr: 45 dB bar height off scale");
  CHECK(fabs(hgt[3] - full) <= 3, "sqnr: +inf (FP32) bar is not full height");
  cairo_surface_destroy(im.s);

  /* Each layer's bits (qt:layerBits): a strip at the bar's foot, 10 px
     at 8 bits, and its number; none where unknown. */
  v.has_bits = true;
  const float bits[] = {8, 2, 4, NAN};
  for (int i = 0; i < 4; ++i)
    v.bits[i] = bits[i];
  im = render((view_fn)qg_view_sqnr, W, H, &v, "view_sqnr_bits.png");
  qg_rect pr = qg_plot_rect(W, H);
  int strip[4];
  for (int i = 0; i < 4; ++i) {
    qg_rect r = qg_sqnr_bar_rect(W, H, 4, i);
    qg_rect foot = {r.x, pr.y + pr.h - 12, r.w, 12};
    strip[i] = bar_height(&im, foot, QG_COL_DIM);
  }
  printf("  sqnr bits strips %d %d %d %d px (8, 2, 4, unknown bits)\n", strip[0], strip[1],
         strip[2], strip[3]);
  CHECK(abs(strip[0] - 10) <= 1 && abs(strip[1] - 3) <= 1 && abs(strip[2] - 5) <= 1 &&
            strip[3] == 0,
        "sqnr: bits strips %d %d %d %d px, not 10 / 2.5 / 5 / none", strip[0], strip[1], strip[2],
        strip[3]);
  cairo_surface_destroy(im.s);
}

/* ---- Spectrum ------------------------------------------------------------- */

static void test_spectrum(void)
{
  qg_spectrum *s = qg_spectrum_new(1024);
  CHECK(s != NULL, "spectrum: create");
  if (!s)
    return;
  static qg_spectrum_view v;
  memset(&v, 0, sizeof v);
  float sig[256], err[256];
  for (int f = 0; f < 8; ++f) {
    for (int i = 0; i < 256; ++i) {
      double t = (f * 256 + i) / 48000.0;
      sig[i] = (float)(0.5 * sin(2 * M_PI * 3000.0 * t));
      err[i] = (float)(0.005 * sin(2 * M_PI * 9000.0 * t));
    }
    qg_spectrum_feed(s, sig, err, 256, 48000, &v);
  }
  int peak = 1;
  for (int k = 1; k < v.n_bins; ++k)
    if (v.signal_db[k] > v.signal_db[peak])
      peak = k;
  double f_peak = peak * 48000.0 / (2.0 * (v.n_bins - 1));
  int epeak = 1;
  for (int k = 1; k < v.n_bins; ++k)
    if (v.error_db[k] > v.error_db[epeak])
      epeak = k;
  double fe = epeak * 48000.0 / (2.0 * (v.n_bins - 1));
  printf("  spectrum: signal peak %.0f Hz %.1f dB, error peak %.0f Hz %.1f dB\n", f_peak,
         v.signal_db[peak], fe, v.error_db[epeak]);
  CHECK(fabs(f_peak - 3000) < 100, "spectrum: signal peak at %.0f Hz", f_peak);
  CHECK(fabs(v.signal_db[peak] - (-6.02)) < 1.5, "spectrum: 0.5 sine reads %.2f dB",
        v.signal_db[peak]);
  CHECK(fabs(fe - 9000) < 100 && fabs(v.error_db[epeak] - (-46.0)) < 1.5,
        "spectrum: error peak %.0f Hz %.1f dB", fe, v.error_db[epeak]);
  const int W = 420, H = 220;
  image im = render((view_fn)qg_view_spectrum, W, H, &v, "view_spectrum.png");
  check_nonblank(&im, "spectrum", 20, 5000);
  /* Error line drawn at its frequency on the log axis, near -46 dB. */
  qg_rect p = qg_plot_rect(W, H);
  int x = (int)qg_spec_x(p, 9000, 48000);
  int hits = 0;
  for (int y = (int)p.y; y < (int)(p.y + p.h); ++y)
    for (int dx = -2; dx <= 2; ++dx)
      hits += near(&im, x + dx, y, QG_COL_ERR, 40);
  CHECK(hits > 2, "spectrum: no error trace at 9 kHz");
  cairo_surface_destroy(im.s);
  qg_spectrum_free(s);
}

/* ---- Scope, histogram, cost --------------------------------------------------- */

static int count_colour(const image *im, qg_rect r, qg_rgb c, int tol)
{
  int n = 0;
  for (int y = (int)r.y; y < (int)(r.y + r.h) && y < im->h; ++y)
    for (int x = (int)r.x; x < (int)(r.x + r.w) && x < im->w; ++x)
      n += near(im, x, y, c, tol);
  return n;
}

static void test_scope(void)
{
  static qg_scope_view v;
  memset(&v, 0, sizeof v);
  v.valid = true;
  v.n = 256;
  v.rate = 48000;
  for (int i = 0; i < 256; ++i) {
    v.ref[i] = (float)(0.4 * sin(2 * M_PI * i / 64.0));
    v.quant[i] = (float)(0.4 * sin(2 * M_PI * i / 64.0 + 0.3));
    v.diff[i] = v.quant[i] - v.ref[i];
  }
  const int W = 420, H = 220;
  image im = render((view_fn)qg_view_scope, W, H, &v, "view_scope.png");
  check_nonblank(&im, "scope", 20, 3000);
  qg_rect all = {0, 30, W, H - 30};
  CHECK(count_colour(&im, all, QG_COL_REF, 10) > 100, "scope: no reference trace");
  CHECK(count_colour(&im, all, QG_COL_QUANT, 10) > 100, "scope: no quantized trace");
  qg_rect lower = {0, 30 + (H - 48) * 0.66, W, H};
  CHECK(count_colour(&im, lower, QG_COL_ERR, 10) > 100, "scope: no error trace in its strip");
  cairo_surface_destroy(im.s);
}

static void test_hist(void)
{
  static qg_hist_view v;
  memset(&v, 0, sizeof v);
  v.valid = true;
  v.min = -1;
  v.max = 1;
  v.n_bins = 64;
  for (int i = 0; i < 64; ++i)
    v.counts[i] = (int)(1000 * exp(-pow((i - 31.5) / 10.0, 2)));
  v.n_levels = 3;
  v.levels[0] = -0.5f;
  v.levels[1] = 0;
  v.levels[2] = 0.5f;
  snprintf(v.layer, sizeof v.layer, "l0.conv");
  const int W = 420, H = 200;
  char cap[96], size[96];
  qg_hist_caption(&v, cap, sizeof cap, size, sizeof size);
  CHECK(!strcmp(cap, "l0.conv  ·  3 levels") && !size[0], "hist caption, one size: '%s' '%s'", cap,
        size);
  /* A smaller size of a slimmable model: its name under the caption, and
     at FP32 (no levels) the caption says so. */
  snprintf(v.size, sizeof v.size, "A2 nano: 3 channels");
  qg_hist_caption(&v, cap, sizeof cap, size, sizeof size);
  CHECK(!strcmp(size, "size: A2 nano: 3 channels"), "hist size line: '%s'", size);
  v.n_levels = 0;
  snprintf(v.format, sizeof v.format, "FP32");
  qg_hist_caption(&v, cap, sizeof cap, size, sizeof size);
  CHECK(!strcmp(cap, "l0.conv  ·  FP32"), "hist caption at FP32: '%s'", cap);
  image sized = render((view_fn)qg_view_hist, W, H, &v, "view_hist_size.png");
  cairo_surface_destroy(sized.s);
  /* Precision 16 has no levels either: the caption names the format the
     histogram's message gave (half_form: FP16 weights or BF16 compute),
     never FP32; without one it claims no format. */
  static const char *const formats[] = {"FP16", "BF16"};
  for (int i = 0; i < 2; ++i) {
    snprintf(v.format, sizeof v.format, "%s", formats[i]);
    qg_hist_caption(&v, cap, sizeof cap, size, sizeof size);
    char want[64];
    snprintf(want, sizeof want, "l0.conv  ·  %s", formats[i]);
    CHECK(!strcmp(cap, want), "hist caption at 16 (%s): '%s'", formats[i], cap);
  }
  image half = render((view_fn)qg_view_hist, W, H, &v, "view_hist_bf16.png");
  cairo_surface_destroy(half.s);
  v.format[0] = '\0';
  qg_hist_caption(&v, cap, sizeof cap, size, sizeof size);
  CHECK(!strcmp(cap, "l0.conv  ·  no levels"), "hist caption, no format said: '%s'", cap);
  v.n_levels = 3;
  v.size[0] = '\0';
  image im = render((view_fn)qg_view_hist, W, H, &v, "view_hist.png");
  check_nonblank(&im, "hist", 10, 3000);
  qg_rect p = qg_plot_rect(W, H);
  p.x = 14;
  p.w = W - 28;
  for (int i = 0; i < 3; ++i) {
    int x = (int)(p.x + (v.levels[i] + 1) / 2 * p.w);
    int n = 0;
    for (int dx = -1; dx <= 1; ++dx)
      for (int y = (int)p.y + 4; y < (int)(p.y + p.h) - 2; ++y)
        n += near(&im, x + dx, y, QG_COL_QUANT, 40);
    CHECK(n > p.h * 0.6, "hist: level %d line missing (%d px)", i, n);
  }
  cairo_surface_destroy(im.s);
}

/** The weight bar's quantized-colour pixels (the bar at y 90..102). */
static int weight_bar_px(const image *im, qg_rect bar)
{
  int n = 0;
  for (int x = (int)bar.x; x < (int)(bar.x + bar.w); ++x)
    n += near(im, x, 96, QG_COL_QUANT, 3);
  return n;
}

static void test_cost(void)
{
  qg_cost_view v = {.valid = true,
                    .dsp_ratio = 0.5f,
                    .weight_bytes = 25000,
                    .weight_bytes_fp32 = 100000,
                    .weight_bytes_full_fp32 = 100000};
  const int W = 420, H = 180;
  image im = render((view_fn)qg_view_cost, W, H, &v, "view_cost.png");
  check_nonblank(&im, "cost", 10, 2000);
  /* Weight bar: quantized colour over 25% of the bar width. */
  qg_rect bar = {12, 90, W - 24, 12};
  int n = weight_bar_px(&im, bar);
  CHECK(abs(n - (int)(bar.w * 0.25)) <= 4, "cost: weight bar %d px, want %d", n,
        (int)(bar.w * 0.25));
  cairo_surface_destroy(im.s);
  char line[128], against[128];
  qg_cost_memory_text(&v, line, sizeof line, against, sizeof against);
  CHECK(!strcmp(line, "24.4 kB of 97.7 kB  (75% saved)") && !strcmp(against, "vs the FP32 model"),
        "cost text, full size: '%s' '%s'", line, against);

  /* The A2 nano at 4 bits (plugin-slim's figures for overdrive_a2.nam):
     the saving is against the nano's own float bytes, the full size's
     said apart; the bar shows 2290 / 7480, not 2290 / 48580. */
  v.weight_bytes = 2290;
  v.weight_bytes_fp32 = 7480;
  v.weight_bytes_full_fp32 = 48580;
  double frac = qg_cost_memory_text(&v, line, sizeof line, against, sizeof against);
  CHECK(fabs(frac - 2290.0 / 7480) < 1e-9 && !strcmp(line, "2.2 kB of 7.3 kB  (69% saved)") &&
            !strcmp(against, "vs FP32 of this size  ·  full size 47.4 kB FP32"),
        "cost text, the nano: %.3f '%s' '%s'", frac, line, against);
  im = render((view_fn)qg_view_cost, W, H, &v, "view_cost_nano.png");
  n = weight_bar_px(&im, bar);
  CHECK(abs(n - (int)(bar.w * 2290 / 7480)) <= 4, "cost: the nano's weight bar %d px, want %d", n,
        (int)(bar.w * 2290 / 7480));
  cairo_surface_destroy(im.s);

  /* The DSP time is against the full-size FP32 reference whatever size
     plays (plugin/switching.c): said so while a smaller size plays (the
     nano above, 0.23x as gui-jalv-slim saw at Slim 0), plain at the full
     size. */
  v.dsp_ratio = 0.23f;
  double r = qg_cost_dsp_text(&v, line, sizeof line);
  CHECK(fabs(r - 0.23) < 1e-6 && !strcmp(line, "0.23x full-size FP32  (-77%)"),
        "cost: DSP time at a smaller size: %.2f '%s'", r, line);
  im = render((view_fn)qg_view_cost, W, H, &v, "view_cost_nano_dsp.png");
  cairo_surface_destroy(im.s);
  v.weight_bytes_fp32 = v.weight_bytes_full_fp32 = 48580;
  v.dsp_ratio = 0.62f;
  qg_cost_dsp_text(&v, line, sizeof line);
  CHECK(!strcmp(line, "0.62x FP32  (-38%)"), "cost: DSP time at the full size: '%s'", line);

  /* Before the plugin's modelInfo: the weight_bytes port alone (jalv
     sends it first) has nothing to compare with, so no figure, no bar. */
  qg_cost_view w0 = {.dsp_ratio = 1.0f, .weight_bytes = 15496};
  frac = qg_cost_memory_text(&w0, line, sizeof line, against, sizeof against);
  CHECK(frac == 0 && !strcmp(line, "—") && !strcmp(against, "waiting for the plugin"),
        "cost before modelInfo: %.2f '%s' '%s'", frac, line, against);
  qg_cost_dsp_text(&w0, line, sizeof line);
  CHECK(!strcmp(line, "—"), "cost before modelInfo: DSP time '%s'", line);
  im = render((view_fn)qg_view_cost, W, H, &w0, "view_cost_waiting.png");
  n = weight_bar_px(&im, bar);
  CHECK(n == 0, "cost before modelInfo: a weight bar of %d px", n);
  cairo_surface_destroy(im.s);
}

/* ---- Protocol ------------------------------------------------------------------ */

/** A modelInfo with only the weight bytes (the full size's float, the
    playing size's float, the variant's), decoded into d. */
static unsigned decode_info_bytes(const qg_proto *p, LV2_Atom_Forge *f, uint8_t *buf, uint32_t cap,
                                  qg_gui_data *d, int64_t full, int64_t size, int64_t variant)
{
  LV2_Atom_Forge_Frame fr;
  lv2_atom_forge_set_buffer(f, buf, cap);
  lv2_atom_forge_object(f, &fr, 0, p->uris.qt_modelInfo);
  lv2_atom_forge_key(f, p->uris.qt_weightBytesFp32);
  lv2_atom_forge_long(f, full);
  lv2_atom_forge_key(f, p->uris.qt_sizeWeightBytesFp32);
  lv2_atom_forge_long(f, size);
  lv2_atom_forge_key(f, p->uris.qt_weightBytes);
  lv2_atom_forge_long(f, variant);
  lv2_atom_forge_pop(f, &fr);
  const LV2_Atom *a = (const LV2_Atom *)buf;
  return qg_proto_decode(p, a, sizeof(LV2_Atom) + a->size, d);
}

static void test_protocol(void)
{
  LV2_URID_Map m = {NULL, test_urid_map};
  qg_proto p;
  qg_proto_init(&p, &m);
  static qg_gui_data d;
  memset(&d, 0, sizeof d);
  uint8_t buf[8192];
  LV2_Atom_Forge f;
  lv2_atom_forge_init(&f, &m);

  /* qt:error */
  LV2_Atom_Forge_Frame fr, tup;
  lv2_atom_forge_set_buffer(&f, buf, sizeof buf);
  lv2_atom_forge_object(&f, &fr, 0, p.uris.qt_error);
  lv2_atom_forge_key(&f, p.uris.qt_message);
  lv2_atom_forge_string(&f, "cannot read /x.nam", 18);
  lv2_atom_forge_pop(&f, &fr);
  const LV2_Atom *a = (const LV2_Atom *)buf;
  unsigned c = qg_proto_decode(&p, a, sizeof(LV2_Atom) + a->size, &d);
  CHECK(c == QG_CHG_ERROR && d.have_error && !strcmp(d.error, "cannot read /x.nam"),
        "protocol: error message");

  /* qt:modelInfo */
  lv2_atom_forge_set_buffer(&f, buf, sizeof buf);
  lv2_atom_forge_object(&f, &fr, 0, p.uris.qt_modelInfo);
  lv2_atom_forge_key(&f, p.uris.qt_path);
  lv2_atom_forge_path(&f, "/m/a.nam", 8);
  lv2_atom_forge_key(&f, p.uris.qt_name);
  lv2_atom_forge_string(&f, "Amp", 3);
  lv2_atom_forge_key(&f, p.uris.qt_architecture);
  lv2_atom_forge_string(&f, "WaveNet", 7);
  lv2_atom_forge_key(&f, p.uris.qt_modelRate);
  lv2_atom_forge_double(&f, 48000);
  lv2_atom_forge_key(&f, p.uris.qt_weightCount);
  lv2_atom_forge_long(&f, 13801);
  lv2_atom_forge_key(&f, p.uris.qt_weightBytesFp32);
  lv2_atom_forge_long(&f, 55204);
  lv2_atom_forge_key(&f, p.uris.qt_linearNames);
  lv2_atom_forge_tuple(&f, &tup);
  lv2_atom_forge_string(&f, "l0", 2);
  lv2_atom_forge_string(&f, "l1", 2);
  lv2_atom_forge_pop(&f, &tup);
  lv2_atom_forge_pop(&f, &fr);
  c = qg_proto_decode(&p, a, sizeof(LV2_Atom) + a->size, &d);
  CHECK(c == QG_CHG_INFO && !strcmp(d.model_name, "Amp") && !strcmp(d.architecture, "WaveNet") &&
            d.model_rate == 48000 && d.weight_count == 13801 && d.n_linears == 2 &&
            !strcmp(d.linear_names[1], "l1") && d.cost.weight_bytes_fp32 == 55204 &&
            d.cost.weight_bytes_full_fp32 == 55204,
        "protocol: modelInfo");

  /* qt:modelInfo while a smaller size plays: the meter's reference is
     that size's float bytes, the full size's kept apart. */
  c = decode_info_bytes(&p, &f, buf, sizeof buf, &d, 48580, 7480, 2290);
  CHECK(c == QG_CHG_INFO && d.cost.weight_bytes_fp32 == 7480 &&
            d.cost.weight_bytes_full_fp32 == 48580 && d.cost.weight_bytes == 2290,
        "protocol: modelInfo of a smaller size (meter against %g, full %g, variant %g)",
        d.cost.weight_bytes_fp32, d.cost.weight_bytes_full_fp32, d.cost.weight_bytes);

  /* A new model's modelInfo while the weight_bytes port still holds the
     previous model's variant (jalv's log: "15.1 kB of 520 B (0% saved)"):
     the meter takes the variant's bytes from the same message as its
     size's float bytes. */
  d.port_known[QT_PORT_WEIGHT_BYTES] = true;
  d.cost.weight_bytes = 15496;
  c = decode_info_bytes(&p, &f, buf, sizeof buf, &d, 3340, 520, 309);
  {
    char line[128], against[128];
    qg_cost_memory_text(&d.cost, line, sizeof line, against, sizeof against);
    CHECK(c == QG_CHG_INFO && !strcmp(line, "309 B of 520 B  (41% saved)"),
          "protocol: modelInfo over a stale weight_bytes port: '%s'", line);
  }
  d.port_known[QT_PORT_WEIGHT_BYTES] = false;

  /* qt:histogram of a smaller size: qt:sizeLabel names it; one without
     the key (a model of one size) clears it. qt:weightFormat the same:
     the first message (FP16 weights at precision 16) names it, the next
     (quantized weights) must not keep it. */
  int32_t counts[4] = {1, 5, 5, 1};
  for (int with_size = 1; with_size >= 0; --with_size) {
    lv2_atom_forge_set_buffer(&f, buf, sizeof buf);
    lv2_atom_forge_object(&f, &fr, 0, p.uris.qt_histogram);
    lv2_atom_forge_key(&f, p.uris.qt_histogramLayer);
    lv2_atom_forge_int(&f, 1);
    lv2_atom_forge_key(&f, p.uris.qt_layerName);
    lv2_atom_forge_string(&f, "a0.l0.conv", 10);
    if (with_size) {
      lv2_atom_forge_key(&f, p.uris.qt_sizeLabel);
      lv2_atom_forge_string(&f, "A2 nano: 3 channels", 19);
      lv2_atom_forge_key(&f, p.uris.qt_weightFormat);
      lv2_atom_forge_string(&f, "FP16", 4);
    }
    lv2_atom_forge_key(&f, p.uris.qt_min);
    lv2_atom_forge_float(&f, -1);
    lv2_atom_forge_key(&f, p.uris.qt_max);
    lv2_atom_forge_float(&f, 1);
    lv2_atom_forge_key(&f, p.uris.qt_counts);
    lv2_atom_forge_vector(&f, sizeof(int32_t), p.uris.atom_Int, 4, counts);
    lv2_atom_forge_pop(&f, &fr);
    c = qg_proto_decode(&p, a, sizeof(LV2_Atom) + a->size, &d);
    CHECK(c == QG_CHG_HIST && d.hist.valid && d.hist.n_bins == 4 &&
              !strcmp(d.hist.layer, "a0.l0.conv") &&
              !strcmp(d.hist.size, with_size ? "A2 nano: 3 channels" : "") &&
              !strcmp(d.hist.format, with_size ? "FP16" : ""),
          "protocol: histogram %s qt:sizeLabel, qt:weightFormat ('%s', '%s')",
          with_size ? "with" : "without", d.hist.size, d.hist.format);
  }

  CHECK(!d.slimmable && d.n_slim == 0, "protocol: modelInfo without slim steps is one size");

  /* qt:modelInfo of a slimmable model: its steps and what the slider says */
  static const struct {
    double lo, hi;
    const char *label;
    int64_t weights;
    double macs;
  } st[] = {{0, 0.5, "A2 nano: 3 channels", 2100, 400}, {0.5, 1, "A2 standard: 8", 12146, 1000}};
  lv2_atom_forge_set_buffer(&f, buf, sizeof buf);
  lv2_atom_forge_object(&f, &fr, 0, p.uris.qt_modelInfo);
  lv2_atom_forge_key(&f, p.uris.qt_slimmable);
  lv2_atom_forge_bool(&f, true);
  lv2_atom_forge_key(&f, p.uris.qt_slimSteps);
  lv2_atom_forge_tuple(&f, &tup);
  for (int i = 0; i < 2; ++i) {
    LV2_Atom_Forge_Frame one;
    lv2_atom_forge_tuple(&f, &one);
    lv2_atom_forge_double(&f, st[i].lo);
    lv2_atom_forge_double(&f, st[i].hi);
    lv2_atom_forge_string(&f, st[i].label, (uint32_t)strlen(st[i].label));
    lv2_atom_forge_long(&f, st[i].weights);
    lv2_atom_forge_double(&f, st[i].macs);
    lv2_atom_forge_pop(&f, &one);
  }
  lv2_atom_forge_pop(&f, &tup);
  lv2_atom_forge_pop(&f, &fr);
  c = qg_proto_decode(&p, a, sizeof(LV2_Atom) + a->size, &d);
  CHECK(c == QG_CHG_INFO && d.slimmable && d.n_slim == 2 && d.slim[1].lo == 0.5 &&
            !strcmp(d.slim[0].label, "A2 nano: 3 channels") && d.slim[1].weights == 12146 &&
            d.slim[0].macs == 400,
        "protocol: modelInfo slim steps (slimmable %d, %d steps)", d.slimmable, d.n_slim);
  char text[160];
  qg_slim_describe(&d, 0.3, text, sizeof text);
  CHECK(!strcmp(text, "A2 nano: 3 channels, 2.1k weights, 40% of the MACs"), "slim text at 0.3: %s",
        text);
  qg_slim_describe(&d, 1.0, text, sizeof text);
  CHECK(!strcmp(text, "A2 standard: 8, 12.1k weights, 100% of the MACs"), "slim text at 1: %s",
        text);
  CHECK(qg_slim_step_at(&d, 0.0) == 0 && qg_slim_step_at(&d, 0.4999) == 0 &&
            qg_slim_step_at(&d, 0.5) == 1 && qg_slim_step_at(&d, 1.0) == 1,
        "slim steps at 0, 0.4999, 0.5, 1");

  /* qt:frames */
  float r[256], q[256], df[256];
  for (int i = 0; i < 256; ++i) {
    r[i] = (float)i;
    q[i] = (float)i + 1;
    df[i] = 1;
  }
  lv2_atom_forge_set_buffer(&f, buf, sizeof buf);
  lv2_atom_forge_object(&f, &fr, 0, p.uris.qt_frames);
  lv2_atom_forge_key(&f, p.uris.qt_sampleRate);
  lv2_atom_forge_float(&f, 44100);
  lv2_atom_forge_key(&f, p.uris.qt_reference);
  lv2_atom_forge_vector(&f, 4, p.uris.atom_Float, 256, r);
  lv2_atom_forge_key(&f, p.uris.qt_quantized);
  lv2_atom_forge_vector(&f, 4, p.uris.atom_Float, 256, q);
  lv2_atom_forge_key(&f, p.uris.qt_difference);
  lv2_atom_forge_vector(&f, 4, p.uris.atom_Float, 256, df);
  lv2_atom_forge_pop(&f, &fr);
  c = qg_proto_decode(&p, a, sizeof(LV2_Atom) + a->size, &d);
  CHECK(c == QG_CHG_FRAMES && d.scope.n == 256 && d.scope.rate == 44100 && d.scope.quant[10] == 11,
        "protocol: frames");
  /* Truncated: claimed size beyond the buffer is refused. */
  CHECK(qg_proto_decode(&p, a, 16, &d) == 0, "protocol: truncated message accepted");

  /* Forged patch:Set of the model. */
  uint32_t n = qg_proto_set_model(&p, buf, sizeof buf, "/tmp/broken.nam");
  CHECK(n > sizeof(LV2_Atom), "protocol: set_model size");
  const LV2_Atom_Object *o = (const LV2_Atom_Object *)buf;
  const LV2_Atom *prop = NULL, *val = NULL;
  lv2_atom_object_get(o, p.uris.patch_property, &prop, p.uris.patch_value, &val, 0);
  CHECK(o->body.otype == p.uris.patch_Set && prop &&
            ((const LV2_Atom_URID *)prop)->body == p.uris.qt_model && val &&
            val->type == p.uris.atom_Path &&
            !strcmp((const char *)LV2_ATOM_BODY_CONST(val), "/tmp/broken.nam"),
        "protocol: patch:Set model");
  CHECK(qg_proto_set_model(&p, buf, 16, "/tmp/broken.nam") == 0, "protocol: overflow not caught");
  n = qg_proto_get(&p, buf, sizeof buf);
  CHECK(n >= sizeof(LV2_Atom_Object) && o->body.otype == p.uris.patch_Get, "protocol: patch:Get");
  test_urid_map_free();
}

int main(void)
{
  test_esr();
  test_esr_states();
  failures += test_model_status();
  test_sqnr();
  test_spectrum();
  test_scope();
  test_hist();
  test_cost();
  test_protocol();
  if (failures)
    fprintf(stderr, "%d failure(s)\n", failures);
  else
    printf("all view tests passed\n");
  return failures ? 1 : 0;
}
