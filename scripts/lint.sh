#!/usr/bin/env bash
# Lints, as CI runs them: rustfmt, then clippy with warnings as errors for every crate on its own
# target (core and the emulator natively, with their tests; the Worker and the widget for wasm32,
# and their unit tests natively).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"
bash scripts/setup.sh >/dev/null
step "rustfmt"
cargo fmt --all -- --check
step "clippy (native: core, emulator)"
if ! cargo clippy --version >/dev/null 2>&1; then rustup component add clippy; fi
cargo clippy --quiet -p edgechat-core -p edgechat-emulator --all-targets -- -D warnings
step "clippy (wasm32: Worker, widget)"
cargo clippy --quiet --target wasm32-unknown-unknown -p edgechat-worker -p edgechat-widget -- -D warnings
step "clippy (native: the Worker's and the widget's unit tests)"
# result_large_err measures with 64-bit pointers here; the wasm32 run above judges what ships.
cargo clippy --quiet -p edgechat-worker -p edgechat-widget --tests -- -D warnings -A clippy::result_large_err
