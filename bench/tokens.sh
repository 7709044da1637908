#!/usr/bin/env bash
# Token reuse: `az` processes and wall time of a live `kvdiag check` against the loopback mock,
# first run vs second run with the token cache, cache off, and one `kvdiag mcp` connection
# running ten checks. The fake az sleeps --az-ms to stand in for the real CLI's start-up.
# Usage: bash bench/tokens.sh [--latency-ms N] [--az-ms N] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked --bench token_reuse -- "$@"
