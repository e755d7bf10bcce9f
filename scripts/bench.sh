#!/usr/bin/env bash
# `npm run bench`: Worker throughput (token route vs /health), upload size, webhook handling
# time and REST calls per event against the local Twilio emulator, and the widget: its bytes (raw,
# gzip, brotli) and, in headless Chromium, its load and open timings (scripts/bench-widget.mjs);
# the real Conversations SDK against the emulator's realtime endpoint (scripts/bench-sdk.mjs).
# Extra arguments go to the throughput part (seconds per run, rounds, connections).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
bash scripts/build-emulator.sh
node scripts/bench-worker.mjs "$@"
node scripts/bench-webhooks.mjs "${WEBHOOK_BENCH_EVENTS:-100}"
node --experimental-websocket scripts/bench-widget.mjs "${WIDGET_BENCH_RUNS:-10}"
node scripts/bench-sdk.mjs "${SDK_BENCH_RUNS:-20}" "${SDK_BENCH_MAX_CLIENTS:-320}"
