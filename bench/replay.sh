#!/usr/bin/env bash
# Process time of `kvdiag check --from <bundle>` (offline replay), averaged over many runs.
#
#   bash bench/replay.sh [bundle.json] [runs]
#
# Reports mean wall, user and system time per run, measured by GNU time over the whole loop,
# so process start-up is included. Builds the release binary first.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle="${1:-fixtures/scenarios/managed-identity-no-role.json}"
runs="${2:-200}"
cargo build --release --quiet
bin=target/release/kvdiag
"$bin" check --from "$bundle" -o json >/dev/null || true   # warm the page cache
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "%e %U %S" -o /tmp/kvdiag-bench.$$ bash -c "for i in \$(seq $runs); do $bin check --from '$bundle' -o table >/dev/null || true; done"
  read -r wall user sys < /tmp/kvdiag-bench.$$
  rm -f /tmp/kvdiag-bench.$$
  awk -v w="$wall" -v u="$user" -v s="$sys" -v n="$runs" -v b="$bundle" 'BEGIN {
    printf "%s, %d runs: %.2f ms wall, %.2f ms user+sys per run\n", b, n, 1000*w/n, 1000*(u+s)/n }'
else
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$bin" check --from "$bundle" -o table >/dev/null || true; done
  end=$(date +%s%N)
  awk -v ns="$((end - start))" -v n="$runs" -v b="$bundle" 'BEGIN { printf "%s, %d runs: %.2f ms wall per run\n", b, n, ns/1e6/n }'
fi
