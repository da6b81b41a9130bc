#!/usr/bin/env python3
# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
"""quantone-run end to end: renders the reference input through the standard
WaveNet at FP32 and 8-bit (int8 dynamic), checks the JSON report and the WAV,
and that bad options and bad files give a message and a non-zero exit; with
--slim, the slimmable container's sizes against NeuralAmpModelerCore's
renders, their error measured against the full size.
Usage: test_run.py QUANTONE_RUN NAM_DIR WORK_DIR. Exit 77 (skip) without the
reference files."""
import json, os, subprocess, sys

run, nam, work = sys.argv[1], sys.argv[2], sys.argv[3]
model = os.path.join(nam, "wavenet_a1_standard.nam")
wav = os.path.join(nam, "input.wav")
if not (os.path.exists(model) and os.path.exists(wav)):
    sys.exit(77)
os.makedirs(work, exist_ok=True)
failures = 0

def check(cond, msg):
    global failures
    if not cond:
        print("FAIL:", msg)
        failures += 1

def call(*args):
    p = subprocess.run([run, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr

rc, out, _ = call("--help")
check(rc == 0, "--help exit %d" % rc)
for opt in ["--model", "--in", "--out", "--precision", "--mapping", "--asymmetric",
            "--granularity", "--group", "--activations", "--block", "--json", "--slim",
            "--input-dbu", "--output-mode", "--ref", "--ref-skip"]:
    check(opt in out, "--help does not document " + opt)

for prec, acts in [("fp32", "float"), ("8", "dynamic"), ("4", "static")]:
    rep = os.path.join(work, "run-%s.json" % prec)
    outwav = os.path.join(work, "run-%s.wav" % prec)
    rc, _, err = call("--model", model, "--in", wav, "--out", outwav, "--precision", prec,
                      "--activations", acts, "--granularity", "channel", "--json", rep)
    check(rc == 0, "%s run exit %d: %s" % (prec, rc, err))
    if rc != 0:
        continue
    r = json.load(open(rep))
    for key in ["esr_db", "weight_bytes", "ns_per_sample", "model", "architecture",
                "precision", "mapping", "granularity", "activations", "block"]:
        check(key in r, "%s: JSON lacks %s" % (prec, key))
    check(r["architecture"] == "WaveNet", "architecture %r" % r.get("architecture"))
    check(r["block"] == 64, "default block %r" % r.get("block"))
    check(r["ns_per_sample"] > 0, "ns_per_sample")
    check(os.path.getsize(outwav) > 96000 * 4, "output WAV too small")
    if prec == "fp32":
        check(r["esr_db"] is None, "fp32 ESR should be -inf (null), got %r" % r["esr_db"])
        fp32_bytes = r["weight_bytes"]
    elif prec == "8":
        check(r["esr_db"] is not None and r["esr_db"] < -30, "8-bit ESR %r" % r["esr_db"])
        check(r["weight_bytes"] < fp32_bytes, "8-bit not smaller")
    else:
        check(r["esr_db"] is not None and r["esr_db"] < 0, "4-bit ESR %r" % r["esr_db"])

def read_float_wav(path):
    """The samples of a mono 32-bit float WAV (the wave module reads only PCM)."""
    import struct
    data = open(path, "rb").read()
    pos = 12
    while pos + 8 <= len(data):
        tag, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if tag == b"data":
            return struct.unpack("<%df" % (size // 4), data[pos + 8:pos + 8 + size // 4 * 4])
        pos += 8 + size + (size & 1)
    return None

def esr(y, ref):
    num = sum((a - b) * (a - b) for a, b in zip(y, ref))
    den = sum(b * b for b in ref)
    return num / den

# --ref: the output's ESR against a given file. Against the FP32 render
# from the start it is the report's own ESR against the float model; from
# --ref-skip on it is the ESR of the written output over those samples.
fp32_wav = os.path.join(work, "run-fp32.wav")
if os.path.exists(fp32_wav):
    for skip in ["0", "0.5"]:
        rep = os.path.join(work, "ref-%s.json" % skip)
        outwav = os.path.join(work, "ref-%s.wav" % skip)
        rc, _, err = call("--model", model, "--in", wav, "--out", outwav, "--precision", "8",
                          "--activations", "dynamic", "--ref", fp32_wav, "--ref-skip", skip,
                          "--json", rep)
        check(rc == 0, "--ref exit %d: %s" % (rc, err))
        if rc != 0:
            continue
        r = json.load(open(rep))
        start = int(float(skip) * r["sample_rate"])
        want = esr(read_float_wav(outwav)[start:], read_float_wav(fp32_wav)[start:])
        check(r.get("ref") == fp32_wav and r.get("ref_skip_seconds") == float(skip),
              "--ref: JSON ref %r, skip %r" % (r.get("ref"), r.get("ref_skip_seconds")))
        check(r.get("esr_ref") is not None and abs(r["esr_ref"] - want) <= 1e-6 * want,
              "--ref-skip %s: esr_ref %r, want %.6g" % (skip, r.get("esr_ref"), want))
        if skip == "0":
            check(abs(r["esr_ref"] - r["esr"]) <= 1e-6 * r["esr"],
                  "--ref FP32 render: esr_ref %r is not esr %r" % (r["esr_ref"], r["esr"]))
        print("  --ref-skip %s: esr_ref_db %.3f" % (skip, r["esr_ref_db"]))

# --slim: each size of the container is its render, and its error is
# measured against the full size (the 1.0 render).
box = os.path.join(nam, "current", "slimmable_container.nam")
if os.path.exists(box):
    full = read_float_wav(os.path.join(nam, "current", "slimmable_container.slim1.0.nam-core.wav"))
    for slim, label in [("0.2", "submodel 1 of 3: LSTM, 3 hidden"),
                        ("0.5", "submodel 2 of 3: WaveNet, 3+2 channels"),
                        ("1.0", "submodel 3 of 3: WaveNet, 4+2 channels")]:
        rep = os.path.join(work, "slim-%s.json" % slim)
        outwav = os.path.join(work, "slim-%s.wav" % slim)
        rc, _, err = call("--model", box, "--in", wav, "--out", outwav, "--slim", slim,
                          "--json", rep)
        check(rc == 0, "slim %s exit %d: %s" % (slim, rc, err))
        if rc != 0:
            continue
        r = json.load(open(rep))
        check(r.get("slim") == float(slim), "slim %s: JSON slim %r" % (slim, r.get("slim")))
        check(r.get("slim_label") == label, "slim %s: label %r" % (slim, r.get("slim_label")))
        ref = read_float_wav(os.path.join(
            nam, "current", "slimmable_container.slim%s.nam-core.wav" % slim))
        y = read_float_wav(outwav)
        e = esr(y, ref)
        check(e < 1e-8, "slim %s: ESR %.3g against the reference render" % (slim, e))
        if slim == "1.0":
            check(r["esr_db"] is None, "full size: ESR %r, want -inf (null)" % r["esr_db"])
        else:
            import math
            want = 10 * math.log10(esr(ref, full))
            check(r["esr_db"] is not None and abs(r["esr_db"] - want) < 0.01,
                  "slim %s: esr_db %r, want %.3f (its render against the full size's)"
                  % (slim, r["esr_db"], want))
        print("  slim %s: %s, esr_db %s" % (slim, r.get("slim_label"), r.get("esr_db")))

# a slimmable WaveNet: 2 of its 3 channels at --slim 0.5, as the reference renders it
slimwn = os.path.join(nam, "current", "slimmable_wavenet.nam")
if os.path.exists(slimwn):
    rep = os.path.join(work, "slimwn.json")
    outwav = os.path.join(work, "slimwn.wav")
    rc, _, err = call("--model", slimwn, "--in", wav, "--out", outwav, "--slim", "0.5",
                      "--json", rep)
    check(rc == 0, "slimmable WaveNet exit %d: %s" % (rc, err))
    if rc == 0:
        r = json.load(open(rep))
        check(r.get("slim_label") == "2 of 3 channels", "label %r" % r.get("slim_label"))
        ref = read_float_wav(os.path.join(nam, "current", "slimmable_wavenet.slim0.5.nam-core.wav"))
        e = esr(read_float_wav(outwav), ref)
        check(e < 1e-8, "slimmable WaveNet at 0.5: ESR %.3g against the reference render" % e)
        print("  slimmable_wavenet slim 0.5: %s, ESR %.3g vs its render, esr_db %s vs full"
              % (r.get("slim_label"), e, r.get("esr_db")))

# --input-dbu / --output-mode (issue 18): A2.nam's metadata says loudness
# -26.3839 and input_level_dbu 14.76; the gains are reported and applied
# (the output is the raw output times the gain, sample for sample).
a2 = os.path.join(nam, "current", "A2.nam")
if os.path.exists(a2):
    outs = {}
    for name, args in [("raw", []),
                       ("norm", ["--output-mode", "normalized"]),
                       ("cal", ["--input-dbu", "12", "--output-mode", "raw"])]:
        rep = os.path.join(work, "levels-%s.json" % name)
        outwav = os.path.join(work, "levels-%s.wav" % name)
        rc, _, err = call("--model", a2, "--in", wav, "--out", outwav, "--json", rep, *args)
        check(rc == 0, "levels %s exit %d: %s" % (name, rc, err))
        if rc == 0:
            outs[name] = (json.load(open(rep)), read_float_wav(outwav))
    if len(outs) == 3:
        rn, yn = outs["norm"]
        rr, yr = outs["raw"]
        check(abs(rn["output_gain_db"] - (-18 + 26.383899688720703)) < 0.01,
              "normalized gain %r, want 8.3839" % rn["output_gain_db"])
        check(rn["output_mode"] == "normalized", "output_mode %r" % rn["output_mode"])
        g = 10 ** (rn["output_gain_db"] / 20)
        worst = max(abs(a - g * b) for a, b in zip(yn, yr))
        check(worst < 1e-5, "normalized output is not the raw output times the gain (%.3g)" % worst)
        check(rn["esr_db"] == rr["esr_db"], "ESR moved with the output gain")
        rc_, _ = outs["cal"]
        check(abs(rc_["input_gain_db"] - (12 - 14.76)) < 0.01,
              "input calibration %r, want -2.76" % rc_["input_gain_db"])
        check(rc_["output_gain_db"] == 0, "raw output gain %r" % rc_["output_gain_db"])
        print("  A2.nam: normalized %+.4f dB, input calibration at 12 dBu %+.4f dB"
              % (rn["output_gain_db"], rc_["input_gain_db"]))
    # a model without loudness: normalized from the measured one
    rep = os.path.join(work, "levels-measured.json")
    rc, _, err = call("--model", model, "--in", wav, "--json", rep, "--output-mode", "normalized")
    check(rc == 0, "measured loudness exit %d: %s" % (rc, err))
    if rc == 0:
        r = json.load(open(rep))
        check(r["loudness_db"] is not None and -60 < r["loudness_db"] < 0 and
              abs(r["output_gain_db"] - (-18 - r["loudness_db"])) < 0.01,
              "measured loudness %r, gain %r" % (r["loudness_db"], r["output_gain_db"]))

bad = [
    (["--model", model, "--in", wav, "--out", "x.wav", "--output-mode", "loud"], 2),
    (["--model", model, "--in", wav, "--out", "x.wav", "--input-dbu", "high"], 2),
    (["--model", model, "--in", wav, "--out", "x.wav", "--slim", "1.5"], 2),
    (["--model", model, "--in", wav, "--out", "x.wav", "--slim", "half"], 2),
    (["--model", model, "--in", wav, "--out", "x.wav", "--precision", "5"], 2),
    (["--model", model, "--in", wav, "--out", "x.wav", "--mapping", "log"], 2),
    (["--model", model, "--in", wav, "--out", "x.wav", "--granularity", "row"], 2),
    (["--model", model, "--in", wav, "--out", "x.wav", "--group", "20"], 2),
    (["--model", model, "--in", wav, "--out", "x.wav", "--activations", "int4"], 2),
    (["--model", model, "--in", wav, "--out", "x.wav", "--block", "0"], 2),
    (["--model", model, "--in", wav, "--out", "x.wav", "--ref", wav, "--ref-skip", "-1"], 2),
    (["--model", model, "--in", wav, "--out", "x.wav", "--ref", wav, "--ref-skip", "60"], 1),
    (["--model", model, "--in", wav, "--out", "x.wav", "--ref",
      os.path.join(work, "missing.wav")], 1),
    (["--model", model, "--in", wav, "--out", "x.wav", "--frobnicate"], 2),
    (["--model", model, "--in", wav, "--out"], 2),
    (["--in", wav, "--out", "x.wav"], 2),
    (["--model", os.path.join(work, "missing.nam"), "--in", wav, "--out", "x.wav"], 1),
    (["--model", wav, "--in", wav, "--out", "x.wav"], 1),
    (["--model", model, "--in", model, "--out", "x.wav"], 1),
    (["--model", model, "--in", os.path.join(work, "missing.wav"), "--out", "x.wav"], 1),
]
# A WAV at the wrong rate is refused with a message.
try:
    import wave, struct
    p44 = os.path.join(work, "rate44k.wav")
    with wave.open(p44, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(44100)
        w.writeframes(struct.pack("<100h", *([0] * 100)))
    bad.append((["--model", model, "--in", p44, "--out", "x.wav"], 1))
    bad.append((["--model", model, "--in", wav, "--out", "x.wav", "--ref", p44], 1))
except Exception as e:
    print("could not write a 44.1 kHz file:", e)
for args, want in bad:
    rc, _, err = call(*[a if a != "x.wav" else os.path.join(work, "x.wav") for a in args])
    check(rc == want, "%s: exit %d, want %d" % (" ".join(args[-3:]), rc, want))
    check(err.strip() != "", "%s: no message" % " ".join(args))
    if want == 1 and "44" in " ".join(args):
        check("Hz" in err, "rate refusal does not say why: " + err)

print("quantone-run: %d failure(s)" % failures)
sys.exit(1 if failures else 0)
