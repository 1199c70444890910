#!/usr/bin/env bash
# The whole test suite on a fresh clone: set-up, type check, unit tests, then end-to-end tests
# against the real services. Services stay up afterwards (npm run services:stop ends them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-setup.sh
# The /graph page is checked in a real browser: Debian's Chromium.
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
npx tsc --noEmit -p tsconfig.json
npx jest --config jest.unit.config.js
npx jest --config jest.e2e.config.js --runInBand "$@"
# Restarts the local broker and database and kills workers: runs last, alone.
npx jest --config jest.faults.config.js --runInBand
