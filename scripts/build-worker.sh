#!/usr/bin/env bash
# Builds the Worker with worker-build, from local tools only. wrangler runs this as its [build]
# command (twice at start-up), so it returns at once when nothing it reads has changed.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"

out=worker/build
stamp_file="$out/.edgechat-stamp"
stamp="$( { find core/src worker/src -type f -print0 | sort -z | xargs -0 sha256sum;
            sha256sum Cargo.toml Cargo.lock core/Cargo.toml worker/Cargo.toml scripts/build-worker.sh; } | sha256sum | cut -d' ' -f1)"
if [ -f "$out/index.js" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
  echo "worker: up to date"
  exit 0
fi
(cd worker && worker-build --release)
# worker-build runs wasm-opt with --debuginfo, which keeps the names section (about 115 KB raw,
# only for readable wasm frames in stack traces; the Worker logs structured lines instead). Drop
# it, with the same feature set worker-build enables so no newer encoding is emitted.
"$WASM_OPT_BIN" "$out/index_bg.wasm" -o "$out/index_bg.wasm" --strip-debug --strip-producers \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory \
  --enable-multivalue --enable-reference-types --enable-exception-handling
echo "$stamp" > "$stamp_file"
