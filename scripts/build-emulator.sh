#!/usr/bin/env bash
# Builds the local Twilio emulator (dev profile).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"
cargo build --quiet -p edgechat-emulator
