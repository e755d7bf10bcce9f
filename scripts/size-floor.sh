#!/usr/bin/env bash
# What Dioxus itself costs, for the widget's size budget (the 130 KiB gzip on open it first aimed for, see README): builds
# a 15-line Dioxus app (a button with a counter, a textarea with input and keydown handlers) with
# the widget's dioxus features, profile, wasm-bindgen, wasm-opt and esbuild steps, and prints its
# wasm + JS glue in bytes, raw and gzip -9, beside the widget's, as a markdown table. The app lives in
# target/size-floor/ (not a workspace member) and uses the workspace's Cargo.lock versions.
# Not part of `npm test`: it is a measurement (about 1-2 minutes the first time).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"

dir=target/size-floor
mkdir -p "$dir/src"
cat > "$dir/Cargo.toml" <<'EOF'
[package]
name = "size-floor"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
dioxus = { version = "=0.7.10", default-features = false, features = ["web", "macro", "html", "signals", "hooks", "mounted"] }
wasm-bindgen = "0.2.130"
web-sys = { version = "0.3.107", features = ["Element"] }
tracing = { version = "0.1", default-features = false, features = ["max_level_off"] }
talc = { version = "5.1", default-features = false }

[profile.release]
opt-level = "z"
lto = true
codegen-units = 1
panic = "abort"
strip = false

[workspace]
EOF
cat > "$dir/src/lib.rs" <<'EOF'
use dioxus::prelude::*;
use wasm_bindgen::prelude::*;

#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[wasm_bindgen]
pub fn mount(el: web_sys::Element) {
    dioxus::web::launch::launch_cfg(App, dioxus::web::Config::new().rootelement(el));
}

#[component]
fn App() -> Element {
    let mut n = use_signal(|| 0u32);
    let mut text = use_signal(String::new);
    rsx! {
        button { onclick: move |_| n += 1, "count {n}" }
        textarea {
            value: "{text}",
            oninput: move |e| text.set(e.value()),
            onkeydown: move |e| if e.key() == Key::Enter { text.set(String::new()) },
        }
    }
}
EOF
cp Cargo.lock "$dir/Cargo.lock"

(cd "$dir" && cargo build --quiet --release --target wasm32-unknown-unknown)
out="$dir/out"
rm -rf "$out" && mkdir -p "$out"
"$WASM_BINDGEN_BIN" --target web --no-typescript --out-dir "$out/bindgen" --out-name floor \
  "$dir/target/wasm32-unknown-unknown/release/size_floor.wasm"
# shellcheck disable=SC2046
"$WASM_OPT_BIN" "$out/bindgen/floor_bg.wasm" $(cat scripts/lib/wasm-opt-widget.flags) -o "$out/floor_bg.wasm"
"$ESBUILD_BIN" "$out/bindgen/floor.js" --bundle --format=esm --target=es2020 --minify \
  --log-level=warning --outfile="$out/floor.js"

report() { # name wasm js
  local raw gz
  raw=$(( $(stat -c%s "$2") + $(stat -c%s "$3") ))
  # gzip -9 as node's zlib does it, like CI's size test.
  gz=$(node -e 'const z = require("zlib"), fs = require("fs");
    console.log(process.argv.slice(1).reduce((n, f) => n + z.gzipSync(fs.readFileSync(f), { level: 9 }).length, 0))' "$2" "$3")
  printf '| %s | %d | %d | %s KiB |\n' "$1" "$raw" "$gz" "$(awk -v b="$gz" 'BEGIN { printf "%.1f", b / 1024 }')"
}
echo '| build (wasm + JS glue) | raw bytes | gzip bytes | gzip |'
echo '|---|---|---|---|'
report "a 15-line Dioxus app, built the same way (the floor)" "$out/floor_bg.wasm" "$out/floor.js"
if [ -f public/widget-manifest.json ]; then
  wasm="public/widget/$(node -p 'require("./public/widget-manifest.json").wasm')"
  js="public/widget/$(node -p 'require("./public/widget-manifest.json").module')"
  report "the edgechat widget" "$wasm" "$js"
fi
