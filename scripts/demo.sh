#!/usr/bin/env bash
# The demo on a fresh clone: set-up, then a worker fed with synthetic students and events.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-setup.sh
exec npx ts-node --transpile-only scripts/demo.ts "$@"
