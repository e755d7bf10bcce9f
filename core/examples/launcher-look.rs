//! Driver for tests/launcher-look.test.mjs: reads stored launcher looks, one per line on stdin,
//! and prints what `parse_launcher_look` makes of each as a JSON array `[brand or null, left]`.

use std::io::BufRead;

use edgechat_core::chat::session::parse_launcher_look;

fn main() {
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin is readable");
        let (brand, left) = parse_launcher_look(&line);
        let brand = brand.map_or("null".to_owned(), |b| format!("{b:?}"));
        println!("[{brand},{left}]");
    }
}
