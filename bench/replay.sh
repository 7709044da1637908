#!/usr/bin/env bash
# Process time of `kvdiag check --from <bundle>` (offline replay), averaged over many runs.
#
#   bash bench/replay.sh [bundle.json] [runs]
#
# Reports mean wall, user and system time per run, measured by GNU time over the whole loop,
# so process start-up is included. Builds the release binary first (into CARGO_TARGET_DIR when
# set). Every run must end as a verdict does (exit 0, 1 or 3); anything else stops the benchmark
# with the run's error, so a failing binary is never timed.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle="${1:-fixtures/scenarios/managed-identity-no-role.json}"
runs="${2:-200}"
cargo build --release --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/kvdiag"
[ -x "$bin" ] || { echo "bench/replay.sh: no binary at $bin" >&2; exit 1; }

# One checked run: exit 0/1/3 is a verdict; 2 or a crash is a failure worth seeing.
once() {
  local code=0
  "$bin" check --from "$bundle" -o table >/dev/null 2>/tmp/kvdiag-bench-err.$$ || code=$?
  case "$code" in
    0|1|3) ;;
    *) echo "bench/replay.sh: run failed (exit $code):" >&2; cat /tmp/kvdiag-bench-err.$$ >&2; exit 1 ;;
  esac
}
once   # fails loudly before anything is timed; also warms the page cache
export -f once
export bin bundle
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "%e %U %S" -o /tmp/kvdiag-bench.$$ bash -c "for i in \$(seq $runs); do once; done"
  read -r wall user sys < /tmp/kvdiag-bench.$$
  rm -f /tmp/kvdiag-bench.$$ /tmp/kvdiag-bench-err.$$
  awk -v w="$wall" -v u="$user" -v s="$sys" -v n="$runs" -v b="$bundle" 'BEGIN {
    printf "%s, %d runs: %.2f ms wall, %.2f ms user+sys per run\n", b, n, 1000*w/n, 1000*(u+s)/n }'
else
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do once; done
  end=$(date +%s%N)
  rm -f /tmp/kvdiag-bench-err.$$
  awk -v ns="$((end - start))" -v n="$runs" -v b="$bundle" 'BEGIN { printf "%s, %d runs: %.2f ms wall per run\n", b, n, ns/1e6/n }'
fi
