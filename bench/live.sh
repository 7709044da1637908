#!/usr/bin/env bash
# Live collection against the loopback mock of Azure with 100 ms injected per request: wall time,
# requests and sequential depth of `kvdiag check --app`, next to the same reads one at a time.
# Usage: bash bench/live.sh [--latency-ms N] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked --bench live_collection -- "$@"
