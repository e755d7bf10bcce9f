//! Turns Twilio Paste's design tokens (npm `@twilio-paste/design-tokens`, pinned in package.json)
//! into CSS custom properties at build time: exactly the `var(--paste-*)` that src/widget.css uses,
//! so an unknown token name fails the build instead of rendering unstyled. `rem` values become
//! `px` (1rem = 16px): inside a shadow root `rem` follows the host page's root font size, which a
//! host page may change. Writes `$OUT_DIR/widget.css`: those properties on `.ec`, then
//! src/widget.css without comments or line breaks (ui.rs includes it).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

const TOKENS: &str = "../node_modules/@twilio-paste/design-tokens/dist/tokens.json";
/// Paste's dark theme: the same token names, other values.
const DARK_TOKENS: &str =
    "../node_modules/@twilio-paste/design-tokens/dist/themes/dark/tokens.json";
const CSS: &str = "src/widget.css";

fn main() {
    println!("cargo:rerun-if-changed={TOKENS}");
    println!("cargo:rerun-if-changed={DARK_TOKENS}");
    println!("cargo:rerun-if-changed={CSS}");
    let tokens = std::fs::read_to_string(TOKENS).unwrap_or_else(|e| {
        panic!("cannot read {TOKENS} ({e}): run `bash scripts/setup.sh` (npm ci) first")
    });
    let tokens: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&tokens).expect("tokens.json is a flat object of token names");
    let css = std::fs::read_to_string(CSS).expect("src/widget.css");

    let mut used = BTreeMap::new();
    for (at, _) in css.match_indices("var(--paste-") {
        let name: String = css[at + "var(--paste-".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let value = match tokens.get(&name) {
            Some(serde_json::Value::String(v)) => v.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => panic!("src/widget.css uses --paste-{name}, which Paste does not define"),
        };
        used.insert(name, rem_to_px(&value));
    }

    let mut out = String::from(".ec{");
    for (name, value) in &used {
        write!(out, "--paste-{name}:{value};").unwrap();
    }
    out.push('}');
    // Dark: the tokens whose dark value differs, for `.ec.dark` (the site forces it) and for
    // `.ec.auto` when the visitor's system prefers dark.
    let dark: BTreeMap<String, serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(DARK_TOKENS).expect("Paste's dark theme tokens"),
    )
    .expect("a flat object of token names");
    let mut dark_vars = String::new();
    for (name, light) in &used {
        let value = match dark.get(name) {
            Some(serde_json::Value::String(v)) => rem_to_px(v),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        if &value != light {
            write!(dark_vars, "--paste-{name}:{value};").unwrap();
        }
    }
    write!(
        out,
        ".ec.dark{{{dark_vars}color-scheme:dark}}@media (prefers-color-scheme:dark){{.ec.auto{{{dark_vars}color-scheme:dark}}}}"
    )
    .unwrap();
    out.push_str(&strip(&css));
    let path = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("widget.css");
    std::fs::write(path, out).unwrap();
}

/// The stylesheet without its comments and line breaks: it ships inside the wasm, and the rules
/// themselves are written one per line, already without optional spaces.
fn strip(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("*/")
            .expect("src/widget.css has an unterminated comment");
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out.lines().map(str::trim).collect()
}

/// `0.875rem` -> `14px`; anything else unchanged.
fn rem_to_px(value: &str) -> String {
    value
        .split(' ')
        .map(
            |part| match part.strip_suffix("rem").map(str::parse::<f64>) {
                Some(Ok(rem)) => format!("{}px", rem * 16.0),
                _ => part.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join(" ")
}
