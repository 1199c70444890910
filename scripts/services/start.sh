#!/usr/bin/env bash
# Starts, idempotently, the local PostgreSQL+pgvector and Kafka (KRaft, one combined node) on
# loopback, installing them first if needed. Prints the env to use them.
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$(dirname "$0")/install.sh"

start_postgres() {
  local bin; bin="$(pg_bin_dir)"
  mkdir -p "$PG_DATA" "$PG_RUN"
  chown -R "$PG_USER_OS" "$LOCAL/pg"
  chmod 700 "$PG_DATA"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "initdb $PG_DATA"
    runuser -u "$PG_USER_OS" -- "$bin/initdb" -U postgres -A trust -D "$PG_DATA" --encoding=UTF8 >"$PG_RUN/initdb.log" 2>&1
  fi
  if runuser -u "$PG_USER_OS" -- "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    # Checkpoints far apart: each one makes the next write to every page log a full-page image.
    # With 1 GB of WAL between checkpoints, 90% of the graph's WAL was such images (see README).
    runuser -u "$PG_USER_OS" -- "$bin/pg_ctl" -D "$PG_DATA" -w -t 60 -l "$PG_RUN/postgres.log" \
      -o "-h 127.0.0.1 -p $PG_PORT -k $PG_RUN -c max_connections=200 -c shared_buffers=512MB -c maintenance_work_mem=512MB -c fsync=${LOCAL_PG_FSYNC:-on} -c max_wal_size=${LOCAL_PG_MAX_WAL_SIZE:-8GB} -c checkpoint_timeout=15min" start >/dev/null
  fi
  for db in similarity similarity_test; do
    if ! "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname='$db'" postgres | grep -q 1; then
      "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$db"
    fi
  done
}

kafka_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null; }

start_kafka() {
  local props="$KAFKA_HOME/server.properties"
  cat > "$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
message.max.bytes=16777216
PROPS
  cat > "$KAFKA_HOME/log4j.properties" <<'L4J'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
L4J
  if [ -f "$KAFKA_PID" ] && kill -0 "$(cat "$KAFKA_PID")" 2>/dev/null; then
    log "Kafka already running on 127.0.0.1:$KAFKA_PORT"
    return
  fi
  if kafka_listening; then
    log "port $KAFKA_PORT is taken by a process this project did not start; set LOCAL_KAFKA_PORT"; exit 1
  fi
  if [ ! -f "$KAFKA_DATA/meta.properties" ]; then
    log "formatting KRaft storage in $KAFKA_DATA"
    java -cp "$KAFKA_HOME/libs/*" -Dlog4j.configuration="file:$KAFKA_HOME/log4j.properties" \
      kafka.tools.StorageTool format -t "$(cat /proc/sys/kernel/random/uuid | tr -d - | head -c 22)" -c "$props" >"$KAFKA_HOME/format.log" 2>&1 \
      || { cat "$KAFKA_HOME/format.log" >&2; exit 1; }
  fi
  log "starting Kafka on 127.0.0.1:$KAFKA_PORT"
  nohup java -Xms256m -Xmx1g -cp "$KAFKA_HOME/libs/*" -Dlog4j.configuration="file:$KAFKA_HOME/log4j.properties" \
    kafka.Kafka "$props" >"$KAFKA_HOME/kafka.log" 2>&1 &
  echo $! >"$KAFKA_PID"
  for _ in $(seq 1 120); do
    kafka_listening && { log "Kafka is up"; return; }
    kill -0 "$(cat "$KAFKA_PID")" 2>/dev/null || { tail -n 30 "$KAFKA_HOME/kafka.log" >&2; exit 1; }
    sleep 0.5
  done
  log "Kafka did not listen within 60 s"; tail -n 30 "$KAFKA_HOME/kafka.log" >&2; exit 1
}

case "${1:-all}" in
  postgres) start_postgres ;;
  kafka) start_kafka ;;
  all) start_postgres; start_kafka ;;
esac
