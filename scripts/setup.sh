#!/usr/bin/env bash
# Installs everything edgechat needs on a machine with Rust (rustup) and Node/npm, from the package
# registries only, and skips what is already installed. Safe to run again; the run, test and bench
# commands call it first.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"
command -v rustup >/dev/null || die "rustup not found: edgechat needs it to add the wasm32 target"
command -v node >/dev/null || die "node not found: install Node.js 20 or newer"
command -v npm >/dev/null || die "npm not found: install Node.js 20 or newer"

step "Rust target wasm32-unknown-unknown"
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  skip "installed"
else
  rustup target add wasm32-unknown-unknown
fi

step "worker-build 0.8.7"
if worker-build --version 2>/dev/null | grep -q '0\.8\.7'; then
  skip "installed"
else
  cargo install worker-build --version 0.8.7 --locked
fi

bindgen_version="$(locked_wasm_bindgen_version)"
[ -n "$bindgen_version" ] || die "Cargo.lock pins no wasm-bindgen version"
step "wasm-bindgen-cli $bindgen_version (the version Cargo.lock pins)"
if "$WASM_BINDGEN_BIN" --version 2>/dev/null | grep -q " $bindgen_version\$"; then
  skip "installed"
else
  # No --locked: its lock file wants a crate version the registry mirror may lack.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi

step "npm packages (wrangler, binaryen, esbuild, twilio, the SDK, playwright-core, lighthouse, autocannon)"
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f node_modules/.edgechat-lock ] && [ "$(cat node_modules/.edgechat-lock)" = "$lock_hash" ]; then
  skip "up to date with package-lock.json"
else
  npm_log="$(mktemp)"
  if ! npm ci --no-audit --no-fund > "$npm_log" 2>&1; then
    grep -v 'Unknown user config "nodedir"' "$npm_log" >&2 || true
    rm -f "$npm_log"
    die "npm ci failed (its output is above)"
  fi
  grep -v 'Unknown user config "nodedir"' "$npm_log" || true
  rm -f "$npm_log"
  [ -x node_modules/.bin/wrangler ] || die "npm ci did not install wrangler"
  echo "$lock_hash" > node_modules/.edgechat-lock
fi
