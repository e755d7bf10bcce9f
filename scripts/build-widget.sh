#!/usr/bin/env bash
# Builds the widget into public/ (build output, ignored by git), from local tools only:
#   public/embed.js                       the loader, from widget/embed.ts (esbuild, minified)
#   public/widget/edgechat_widget.js      wasm-bindgen's ES module glue (esbuild-bundled, minified)
#   public/widget/edgechat_widget_bg.wasm the Dioxus app (cargo, profile `widget`; wasm-opt -Oz)
# Returns at once when nothing it reads has changed (wrangler runs the build twice at start-up).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"

out=public/widget
stamp_file="target/widget-out/.edgechat-stamp"
stamp="$( { find core/src widget/src -type f -print0 | sort -z | xargs -0 sha256sum;
            sha256sum Cargo.toml Cargo.lock core/Cargo.toml widget/Cargo.toml widget/build.rs \
              widget/embed.ts widget/look.ts package-lock.json scripts/build-widget.sh; } | sha256sum | cut -d' ' -f1)"
if [ -f "$out/edgechat_widget_bg.wasm" ] && [ -f public/embed.js ] && [ -f "$stamp_file" ] \
  && [ "$(cat "$stamp_file")" = "$stamp" ]; then
  echo "widget: up to date"
  exit 0
fi

"$ESBUILD_BIN" widget/embed.ts --bundle --format=iife --target=es2020 --minify --log-level=warning \
  --outfile=public/embed.js

cargo build --quiet -p edgechat-widget --target wasm32-unknown-unknown --profile widget
bindgen=target/widget-out/bindgen
rm -rf "$bindgen" && mkdir -p "$bindgen"
"$WASM_BINDGEN_BIN" --target web --no-typescript --out-dir "$bindgen" --out-name edgechat_widget \
  target/wasm32-unknown-unknown/widget/edgechat_widget.wasm
mkdir -p "$out"
# -Oz for size; the names and producers sections only serve debuggers.
"$WASM_OPT_BIN" "$bindgen/edgechat_widget_bg.wasm" -Oz --strip-debug --strip-producers \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory \
  --enable-multivalue --enable-reference-types -o "$out/edgechat_widget_bg.wasm"
# One ES module (wasm-bindgen's glue and the snippets it imports); it finds the wasm beside itself.
"$ESBUILD_BIN" "$bindgen/edgechat_widget.js" --bundle --format=esm --target=es2020 --minify \
  --log-level=warning --outfile="$out/edgechat_widget.js"
mkdir -p "$(dirname "$stamp_file")"
echo "$stamp" > "$stamp_file"
