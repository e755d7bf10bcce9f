#!/usr/bin/env bash
# wrangler's [build] command: the Worker (scripts/build-worker.sh) and the widget it serves
# (scripts/build-widget.sh), both incremental.
set -euo pipefail
dir="$(dirname "$0")"
bash "$dir/build-worker.sh"
bash "$dir/build-widget.sh"
