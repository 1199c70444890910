#!/usr/bin/env bash
# Everything a fresh clone needs before it can run: node modules, then the local PostgreSQL+pgvector
# and Kafka (installed and started by scripts/services, idempotently).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/services/start.sh
