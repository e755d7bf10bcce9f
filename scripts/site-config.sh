#!/usr/bin/env bash
# `npm run site-config -- <command>`: check a site config with the Worker's own validation, and
# store it in the CONFIG KV namespace only if it passes.
#   check <file.json>                      validate only
#   put <site-id> <file.json> [--remote]   validate, then store as site:<site-id>
#                                          (local dev state by default; --remote for production)
#   get <site-id> [--remote]               print what is stored
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
cd "$ROOT"

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
check() {
  # The Rust check knows a time zone's shape; whether it exists is a question for a zone database,
  # and Node's Intl has the same ICU data as the Worker's runtime.
  node -e '
    let config = {};
    try { config = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); } catch { /* reported below */ }
    const zone = config.automation?.auto_reply?.office_hours?.time_zone;
    if (zone) {
      try { new Intl.DateTimeFormat("en-US", { timeZone: zone }); }
      catch { console.error(`site config field \`automation.auto_reply.office_hours.time_zone\`: unknown time zone ${JSON.stringify(zone)}; use an IANA name like "Europe/Berlin"`); process.exit(1); }
    }' "$1"
  cargo run --quiet --release -p edgechat-core --bin site-config -- check "$@"
}
where() { if [ "${1:-}" = "--remote" ]; then echo --remote; else echo --local; fi; }

case "${1:-}" in
  check)
    [ $# -eq 2 ] || usage
    check "$2" ;;
  put)
    [ $# -ge 3 ] || usage
    check "$3" "$2"
    wrangler kv key put "site:$2" --path "$3" --binding CONFIG "$(where "${4:-}")"
    echo "stored site:$2; the Worker uses it within a minute" ;;
  get)
    [ $# -ge 2 ] || usage
    wrangler kv key get "site:$2" --binding CONFIG "$(where "${3:-}")" ;;
  *) usage ;;
esac
