#!/usr/bin/env bash
# `npm run bench`: Worker throughput (token route vs /health), upload size, webhook handling
# time and REST calls per event against the local Twilio emulator, and the widget: its bytes (raw,
# gzip, brotli) and, in headless Chromium, its load and open timings (scripts/bench-widget.mjs)
# and a keystroke's cost with 500 messages in the log (scripts/bench-keystroke.mjs), click to
# typing and to ready in Chromium, Firefox ESR and WebKitGTK (scripts/bench-engines.mjs), the open on
# Lighthouse's slow 4G (scripts/bench-open.mjs), the size account by crate and function
# (scripts/size-account.mjs, with twiggy) and Dioxus' own floor (scripts/size-floor.sh), the host page
# with and without it, Lighthouse included (scripts/bench-pageload.mjs); the real
# Conversations SDK against the emulator's realtime endpoint (scripts/bench-sdk.mjs) and its media service
# (scripts/bench-media.mjs: a 5 MB file up and down); a load and
# fault run (scripts/bench-faults.mjs: designed 429s only, concurrent deliveries without
# duplicates, a chat through 100 dropped connections).
# Everything it prints is also written to BENCHMARKS.md, the one place the project's measured
# figures live (README and ARCHITECTURE link to it rather than repeat them).
# Extra arguments go to the throughput part (seconds per run, rounds, connections).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"
bash scripts/setup.sh >/dev/null
# twiggy attributes the widget's wasm bytes by crate and function (the size account).
if ! "$HOME/.cargo/bin/twiggy" --version 2>/dev/null | grep -q '0\.8\.0'; then
  cargo install twiggy --version 0.8.0 >&2
fi
bash scripts/build.sh >/dev/null
bash scripts/build-emulator.sh >/dev/null
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
{
  echo "# Benchmarks"
  echo
  echo "Written by \`npm run bench\` ($(date -u +%Y-%m-%d), $(nproc) cores, $(node --version), loopback;"
  echo "the machines are shared, so timings vary from run to run: compare within one run). Budgets"
  echo "are in README.md; CI checks only the byte budgets."
  echo
  echo "## Worker"
  node scripts/bench-worker.mjs "$@"
  node scripts/bench-worker-startup.mjs "${WORKER_STARTUP_RUNS:-15}"
  echo
  echo "## Webhooks"
  node scripts/bench-webhooks.mjs "${WEBHOOK_BENCH_EVENTS:-100}"
  echo
  echo "## Widget"
  node --experimental-websocket scripts/bench-widget.mjs "${WIDGET_BENCH_RUNS:-10}"
  node --experimental-websocket scripts/bench-keystroke.mjs "${KEYSTROKE_BENCH_MESSAGES:-500}"
  echo
  echo "### Every engine"
  node --experimental-websocket scripts/bench-engines.mjs "${ENGINE_BENCH_RUNS:-5}"
  echo
  echo "### The open on a slow network"
  node --experimental-websocket scripts/bench-open.mjs "${OPEN_BENCH_RUNS:-5}"
  echo
  echo "### The size account"
  node scripts/size-account.mjs "${SIZE_ACCOUNT_TOP:-25}"
  echo
  echo "What Dioxus itself weighs, built the same way (scripts/size-floor.sh):"
  echo
  bash scripts/size-floor.sh
  echo
  echo "## The host page, with and without the widget"
  node scripts/bench-pageload.mjs "${PAGELOAD_BENCH_RUNS:-7}" "${LIGHTHOUSE_RUNS:-3}"
  echo
  echo "## Load and faults"
  node --experimental-websocket scripts/bench-faults.mjs "${FAULT_BENCH_CONVERSATIONS:-20}" "${FAULT_BENCH_DROPS:-100}"
  echo
  echo "## The real SDK against the emulator"
  node scripts/bench-sdk.mjs "${SDK_BENCH_RUNS:-20}" "${SDK_BENCH_MAX_CLIENTS:-320}"
  node scripts/bench-media.mjs "${MEDIA_BENCH_RUNS:-5}" 5
} | tee "$out"
cp "$out" BENCHMARKS.md
echo "(written to BENCHMARKS.md)"
