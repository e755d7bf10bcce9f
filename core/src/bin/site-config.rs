//! `site-config check <file.json> [site-id]`: validates a site config with the exact type the Worker
//! reads, so a typo is caught before `wrangler kv key put` makes it live. Prints what visitors'
//! browsers will see on success; the field and what to fix on failure (exit 1).
//! Used by `npm run site-config`.

use std::process::ExitCode;

use edgechat_core::ids::site::SiteId;
use edgechat_core::site::config::SiteConfig;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, site) = match args.as_slice() {
        [cmd, path] if cmd == "check" => (path, None),
        [cmd, path, site] if cmd == "check" => (path, Some(site)),
        _ => {
            eprintln!("usage: site-config check <file.json> [site-id]");
            return ExitCode::from(2);
        }
    };
    let site: SiteId = match site.map(|s| s.parse()) {
        None => "example".parse().expect("valid id"),
        Some(Ok(site)) => site,
        Some(Err(e)) => {
            eprintln!("error: bad site id: {e}");
            return ExitCode::FAILURE;
        }
    };
    let json = match std::fs::read_to_string(path) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("error: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match SiteConfig::from_json(&json) {
        Ok(config) => {
            let origins: Vec<&str> = config.allowed_origins.iter().map(|o| o.as_str()).collect();
            println!("ok: {path} is a valid site config");
            println!("  allowed origins: {}", origins.join(", "));
            println!("  token TTL: {} s", config.token_ttl_seconds.seconds());
            let public = config.public(&site, None, None);
            println!(
                "  public part: {}",
                serde_json::to_string(&public).expect("public config serializes")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {path}: {e}");
            ExitCode::FAILURE
        }
    }
}
