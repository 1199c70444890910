#!/usr/bin/env bash
# Workload W1 (bench/w1.ts): set-up as for the tests, then the benchmark; arguments pass through
# (e.g. --students 10000 --events 3000, --vectors DIR, --no-two-worker-run; see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-setup.sh
exec npx ts-node --transpile-only bench/w1.ts "$@"
