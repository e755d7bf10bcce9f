#!/usr/bin/env bash
# `npm run bench`: Worker throughput (token route vs /health) and upload size.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"
bash scripts/setup.sh >/dev/null
bash scripts/build-worker.sh >/dev/null
node scripts/bench-worker.mjs "$@"
