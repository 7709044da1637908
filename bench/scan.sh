#!/usr/bin/env bash
# `kvdiag scan` of generated fleets (1,000 and 10,000 workloads) on the loopback fleet mock with
# 100 ms per answer and Resource Graph's default quota (15 per 5 s): wall time, requests by
# service, peak RSS, and a per-app `kvdiag check` loop on a sample, extrapolated.
# Usage: bash bench/scan.sh [--workloads 1000,10000] [--latency-ms N] [--sample N] [--quota N]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked --bench scan_fleet -- "$@"
