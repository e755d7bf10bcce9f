#!/usr/bin/env bash
# Builds the local Twilio emulator (dev profile) and its browser SDK stand-in
# (emulator/sdk/standin.ts -> target/emulator-sdk/twilio-conversations.js, one classic script).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"
cargo build --quiet -p edgechat-emulator
mkdir -p target/emulator-sdk
"$ESBUILD_BIN" emulator/sdk/standin.ts --bundle --format=iife --target=es2020 --minify \
  --log-level=warning --outfile=target/emulator-sdk/twilio-conversations.js
