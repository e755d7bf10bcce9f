#!/usr/bin/env bash
# `npm test`: installs what is missing, then runs every test: the Rust unit tests natively, then the
# Worker through real `wrangler dev` instances and the local Twilio emulator on 127.0.0.1
# (tests/*.test.mjs).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"

bash scripts/setup.sh

step "Browsers (Debian's packages): Chromium, Firefox ESR, WebKitGTK's WebDriver and MiniBrowser under Xvfb"
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -x /usr/bin/firefox-esr ] || missing="$missing firefox-esr"
[ -x /usr/bin/WebKitWebDriver ] || missing="$missing webkit2gtk-driver"
command -v xvfb-run >/dev/null || missing="$missing xvfb"
if [ -z "$missing" ]; then
  skip "installed"
else
  as_root=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "the browser tests need Debian's$missing: run 'apt-get install -y$missing' as root"
    as_root=sudo
  fi
  $as_root apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq $missing >/dev/null
  for bin in /usr/bin/chromium /usr/bin/firefox-esr /usr/bin/WebKitWebDriver; do
    [ -x "$bin" ] || die "apt-get did not install $bin"
  done
fi

step "Rust unit tests (native: core, the emulator, and the pure parts of the Worker and the widget)"
cargo test --workspace

step "Build the local Twilio emulator"
bash scripts/build-emulator.sh

step "Build the Worker and the widget"
bash scripts/build.sh

step "Integration and browser tests (wrangler dev, local KV, the emulator, Chromium; official twilio library as oracle)"
# One file at a time: each starts its own wrangler dev, and the machines have 2 cores.
node --experimental-websocket --test --test-concurrency=1 tests/
