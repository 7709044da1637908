#!/usr/bin/env bash
# Clean build time of kvdiag: each run builds into an empty target directory (crates already
# downloaded), then prints wall, user and system seconds, the binary's size, and the ten units
# that took longest (from `cargo build --timings`).
#
#   bash bench/build.sh [--profile release|dist] [--runs N]
#
# Run it on a quiet machine: two builds at once, or a test run beside it, double the figures.
# To compare two commits, run it in a checkout of each, alternating (the machine drifts).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
runs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "bench/build.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "bench/build.sh: needs GNU time at /usr/bin/time" >&2; exit 1; }
cargo fetch --locked --quiet

for run in $(seq "$runs"); do
  target=$(mktemp -d)
  trap 'rm -rf "$target"' EXIT
  /usr/bin/time -f "%e %U %S" -o "$target/time" \
    env CARGO_TARGET_DIR="$target" cargo build --profile "$profile" --locked --timings --quiet
  read -r wall user sys < "$target/time"
  size=$(wc -c < "$target/$profile/kvdiag")
  echo "run $run ($profile): ${wall} s wall, ${user} s user, ${sys} s sys; binary $((size / 1000)) kB"
  python3 - "$target/cargo-timings/cargo-timing.html" <<'EOF'
import json, re, sys
html = open(sys.argv[1]).read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", html, re.S).group(1))
for u in sorted(units, key=lambda u: -u["duration"])[:10]:
    what = (u["name"] + u["target"]).strip()
    print(f"  {u['duration']:6.1f} s  {what}")
EOF
  rm -rf "$target"
  trap - EXIT
done
