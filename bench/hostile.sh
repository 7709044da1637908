#!/usr/bin/env bash
# The figures of the hostile-answer corpus: worst wall time with `--timeout 4s` under dripping and
# stalled bodies (ARM, Key Vault, Resource Graph, Log Analytics), and peak resident memory
# (wait4's ru_maxrss of the kvdiag process) under a 1 GiB gzip bomb and 300 MB answers.
# The tests assert the bounds; this prints what they measured.
# Usage: bash bench/hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked --test robustness hostile:: -- --nocapture --test-threads 1 2>&1 \
  | grep -E "worst wall time|peak RSS|hung az|test result"
