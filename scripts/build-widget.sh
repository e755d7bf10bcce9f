#!/usr/bin/env bash
# Builds what browsers fetch into public/ (build output, ignored by git), from local tools only.
# Every file the widget fetches carries its content hash in its name and is cached immutable
# (public/_headers); embed.js keeps a fixed URL and knows the current names:
#   public/widget/edgechat_widget.<hash>.js       wasm-bindgen's ES module glue (esbuild, minified)
#   public/widget/edgechat_widget_bg.<hash>.wasm  the Dioxus app (cargo, profile `widget`; wasm-opt -Oz)
#   public/vendor/twilio-conversations.<hash>.min.js  the real Conversations SDK (npm, as published)
#   public/widget/i18n/<lang>.<hash>.json          each language's catalogue (core/i18n, minified; not
#                                                 English, which the wasm holds), fetched on demand
#   public/widget-manifest.json                   the current names, for a page whose embed.js is older
#   public/embed.js                               the loader, from widget/embed.ts, with the names
# The files of the two builds before stay (a page that loaded the previous embed.js still finds
# them until the next deploy); older ones are removed.
# Returns at once when nothing it reads has changed (wrangler runs the build twice at start-up).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"

out=public/widget
sdk_src=node_modules/@twilio/conversations/builds/twilio-conversations.min.js
stamp_file="target/widget-out/.edgechat-stamp"
stamp="$( { find core/src core/i18n widget/src -type f -print0 | sort -z | xargs -0 sha256sum;
            sha256sum Cargo.toml Cargo.lock core/Cargo.toml widget/Cargo.toml widget/build.rs \
              widget/embed.ts widget/look.ts widget/realm.js widget/early.js widget/locks.js widget/sound.js widget/crash.js \
              package-lock.json scripts/build-widget.sh \
              scripts/lib/wasm-opt-widget.flags; } | sha256sum | cut -d' ' -f1)"
manifest_ok() {
  [ -f public/widget-manifest.json ] && [ -f public/embed.js ] && node -e '
    const fs = require("fs"); const m = JSON.parse(fs.readFileSync("public/widget-manifest.json", "utf8"));
    process.exit([`public/widget/${m.module}`, `public/widget/${m.wasm}`, `public/vendor/${m.sdk}`].every(fs.existsSync) ? 0 : 1)'
}
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] && manifest_ok; then
  echo "widget: up to date"
  exit 0
fi

hash() { sha256sum "$1" | cut -c1-12; }
# The catalogues first: the module carries their names (early.js's __I18N__, `de=de.<hash>.json;…`).
mkdir -p "$out/i18n" target/widget-out/i18n
i18n_files=""
for src in core/i18n/*.json; do
  lang="$(basename "$src" .json)"
  [ "$lang" = en ] && continue
  min="target/widget-out/i18n/$lang.json"
  node -e 'const fs = require("fs"); fs.writeFileSync(process.argv[2], JSON.stringify(JSON.parse(fs.readFileSync(process.argv[1], "utf8"))))' "$src" "$min"
  name="$lang.$(hash "$min").json"
  cp "$min" "$out/i18n/$name"
  touch "$out/i18n/$name"
  i18n_files+="$lang=$name;"
done
i18n_files="${i18n_files%;}"

cargo build --quiet -p edgechat-widget --target wasm32-unknown-unknown --profile widget
bindgen=target/widget-out/bindgen
rm -rf "$bindgen" && mkdir -p "$bindgen"
"$WASM_BINDGEN_BIN" --target web --no-typescript --out-dir "$bindgen" --out-name edgechat_widget \
  target/wasm32-unknown-unknown/widget/edgechat_widget.wasm
# -Oz for size, then flattened and re-looped and -Oz twice more (2.4 KiB gzip less than -Oz alone;
# the size account in BENCHMARKS.md); the names and producers sections only serve debuggers.
# shellcheck disable=SC2046
"$WASM_OPT_BIN" "$bindgen/edgechat_widget_bg.wasm" $(cat scripts/lib/wasm-opt-widget.flags) -o "$bindgen/opt.wasm"
# One ES module (wasm-bindgen's glue and the snippets it imports, the realm's `preload` and the
# config and token's `prefetch`, which embed.js calls before the wasm has arrived); embed.js hands
# it the wasm.
realm_js="$(find "$bindgen/snippets" -path '*edgechat-widget-*/realm.js' | head -1)"
[ -n "$realm_js" ] || die "wasm-bindgen did not copy widget/realm.js"
early_js="$(find "$bindgen/snippets" -path '*edgechat-widget-*/early.js' | head -1)"
[ -n "$early_js" ] || die "wasm-bindgen did not copy widget/early.js"
cat > "$bindgen/entry.js" <<ENTRY
export * from './edgechat_widget.js';
export { default } from './edgechat_widget.js';
export { preload } from './${realm_js#"$bindgen/"}';
export { prefetch } from './${early_js#"$bindgen/"}';
ENTRY
"$ESBUILD_BIN" "$bindgen/entry.js" --bundle --format=esm --target=es2020 --minify \
  "--define:__I18N__=\"$i18n_files\"" --log-level=warning --outfile="$bindgen/module.js"

wasm="edgechat_widget_bg.$(hash "$bindgen/opt.wasm").wasm"
module="edgechat_widget.$(hash "$bindgen/module.js").js"
sdk="twilio-conversations.$(hash "$sdk_src").min.js"
mkdir -p "$out" public/vendor
cp "$bindgen/opt.wasm" "$out/$wasm"
cp "$bindgen/module.js" "$out/$module"
[ -f "public/vendor/$sdk" ] || cp "$sdk_src" "public/vendor/$sdk"
touch "$out/$wasm" "$out/$module" "public/vendor/$sdk"
files="{\"module\":\"$module\",\"wasm\":\"$wasm\",\"sdk\":\"$sdk\"}"
echo "$files" > public/widget-manifest.json
"$ESBUILD_BIN" widget/embed.ts --bundle --format=iife --target=es2020 --minify --charset=utf8 --log-level=warning \
  "--define:__FILES__=$files" --outfile=public/embed.js

# Keep this build's files and the two builds' before (newest first by time written).
prune() {
  local dir="$1" pattern="$2"
  # shellcheck disable=SC2012
  { ls -t "$dir"/$pattern 2>/dev/null || true; } | tail -n +4 | xargs -r rm -f
}
prune "$out" 'edgechat_widget_bg.*.wasm'
prune "$out" 'edgechat_widget.*.js'
prune public/vendor 'twilio-conversations.*.min.js'
for src in core/i18n/*.json; do prune "$out/i18n" "$(basename "$src" .json).*.json"; done
# Files of the unhashed layout before this one.
rm -f "$out/edgechat_widget.js" "$out/edgechat_widget_bg.wasm" public/vendor/twilio-conversations.min.js

mkdir -p "$(dirname "$stamp_file")"
echo "$stamp" > "$stamp_file"
