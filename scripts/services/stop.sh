#!/usr/bin/env bash
# Stops only what start.sh started: the PostgreSQL of .local/pg/data and the Kafka whose pid it wrote.
set -uo pipefail
source "$(dirname "$0")/env.sh"

stop_postgres() {
  [ -f "$PG_DATA/postmaster.pid" ] || return 0
  log "stopping PostgreSQL"
  runuser -u "$PG_USER_OS" -- "$(pg_bin_dir)/pg_ctl" -D "$PG_DATA" -w -t 60 -m fast stop >/dev/null
}

stop_kafka() {
  [ -f "$KAFKA_PID" ] || return 0
  local pid; pid="$(cat "$KAFKA_PID")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping Kafka (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$KAFKA_PID"
}

case "${1:-all}" in
  postgres) stop_postgres ;;
  kafka) stop_kafka ;;
  all) stop_kafka; stop_postgres ;;
esac
