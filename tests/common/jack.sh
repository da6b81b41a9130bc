# SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers
# SPDX-License-Identifier: ISC
# Sourced by the tests that need a JACK server (tests/hosts/jalv.sh,
# tests/gui/run_jalv_test.sh): a dummy-backend jackd that starts on any
# machine, however many earlier runs died there, and stops cleanly.
#
# Why this is more than `jackd -d dummy &`: JACK 2 keeps its servers in a
# registry of 8 slots (/dev/shm/jack-shm-registry). A server that dies
# without unregistering (killed, crashed, or stopped while a client hung)
# keeps its slot until a server of the same name starts again; once 8 dead
# names fill it, every new server fails with "Too many servers already
# active". So each test uses one fixed server name (its own dead entry is
# reclaimed), stops its clients before the server, and, when the registry
# is full while no JACK server runs at all, removes it: it then holds only
# dead servers, and JACK makes a new one.

export JACK_NO_AUDIO_RESERVATION=1
# jack_lsp must never start a server of its own (~/.jackdrc) while we wait.
export JACK_NO_START_SERVER=1

JACK_REGISTRY=/dev/shm/jack-shm-registry

# Both checks below read /proc with shell builtins only: under the
# sanitizer build the tests run with libasan preloaded (LD_PRELOAD), and
# `ps` hangs there.

# jack_running: some JACK server process is alive on this machine
jack_running() {
  for f in /proc/[0-9]*/comm; do
    read -r comm 2>/dev/null <"$f" || continue
    case "$comm" in jackd | jackdmp) return 0 ;; esac
  done
  return 1
}

# alive PID: the process runs (an exited child stays a zombie until waited
# for, and `kill -0` still finds it)
alive() {
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }
  case "$stat" in Z* | X*) return 1 ;; esac
}

# jack_start_dummy NAME LOG: start jackd (dummy backend, 48 kHz, 256
# frames) as server NAME, wait until it answers, and set JACKD_PID.
# Returns 1 (LOG holds jackd's words) when it does not come up. With the
# registry full it tries again for up to 10 s: another test's jackd may be
# starting at the same moment (it then fails the same way, or frees the
# registry itself), so the registry is removed only while no jackd runs.
jack_start_dummy() {
  export JACK_DEFAULT_SERVER="$1"
  for attempt in $(seq 50); do
    jackd --no-realtime -d dummy -r 48000 -p 256 >"$2" 2>&1 &
    JACKD_PID=$!
    for i in $(seq 100); do
      jack_lsp >/dev/null 2>&1 && return 0
      alive "$JACKD_PID" || break
      sleep 0.1
    done
    kill "$JACKD_PID" 2>/dev/null
    wait "$JACKD_PID" 2>/dev/null
    grep -q 'Too many servers already active' "$2" || return 1
    if jack_running; then
      sleep 0.2
      continue
    fi
    echo "note: JACK's server registry ($JACK_REGISTRY) is full of servers that" \
         "no longer run (no jackd process exists); removing it"
    rm -f "$JACK_REGISTRY" || return 1
  done
  echo "JACK's server registry stayed full while JACK servers kept running"
  return 1
}

# stop_in_order PID...: SIGTERM each process and wait for it to end (5 s,
# then SIGKILL) before the next, so JACK clients leave before the server.
stop_in_order() {
  for p; do
    kill -TERM "$p" 2>/dev/null || continue
    for i in $(seq 50); do alive "$p" || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
}
