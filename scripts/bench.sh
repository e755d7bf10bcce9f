#!/usr/bin/env bash
# `npm run bench`: Worker throughput (token route vs /health), upload size, and webhook handling
# time and REST calls per event against the local Twilio emulator.
# Extra arguments go to the throughput part (seconds per run, rounds, connections).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
bash scripts/build-emulator.sh
node scripts/bench-worker.mjs "$@"
node scripts/bench-webhooks.mjs "${WEBHOOK_BENCH_EVENTS:-100}"
