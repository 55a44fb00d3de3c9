#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft) for development and tests, from Maven Central jars.
#   kafka-dev.sh fetch                       resolve the jars into the cache (once)
#   kafka-dev.sh start DIR [PORT] [--sasl-ssl-port N] [--mtls-port N]
#                                            format DIR if new, start the broker, wait until it listens;
#                                            the options add a SASL_SSL (SCRAM-SHA-512) and a mutual-TLS
#                                            listener with certificates and a user from dev-tls.sh DIR/tls
#   kafka-dev.sh stop DIR                    stop the broker started in DIR (SIGTERM, then SIGKILL)
#   kafka-dev.sh status DIR                  exit 0 if the broker of DIR runs
# The cache is $GRIDWATCH_CACHE/kafka-<version> (default ~/.cache/gridwatch). Needs java 17+ and mvn.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${GRIDWATCH_CACHE:-$HOME/.cache/gridwatch}
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
libs="$cache/kafka-$version/libs"

fetch() {
  [ -f "$libs/.complete" ] && return 0
  echo "[kafka-dev] resolving Kafka $version jars from Maven Central into $libs" >&2
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$libs" >&2
  touch "$libs/.complete"
}

java_run() {
  java -Xms128m -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/log4j2.properties" -cp "$libs/*" "$@"
}

start() {
  local dir=$1; shift
  local port=9092 sasl_port="" mtls_port=""
  if [ $# -gt 0 ] && [[ $1 != --* ]]; then port=$1; shift; fi
  while [ $# -gt 0 ]; do
    case "$1" in
      --sasl-ssl-port) sasl_port=${2:?}; shift 2 ;;
      --mtls-port) mtls_port=${2:?}; shift 2 ;;
      *) echo "[kafka-dev] unknown option $1" >&2; return 2 ;;
    esac
  done
  local cport=$((port + 1)) listeners="" advertised="" format_extra=()
  fetch
  mkdir -p "$dir"
  if status "$dir" 2>/dev/null; then echo "[kafka-dev] already running in $dir" >&2; return 0; fi
  [ -z "$sasl_port" ] || { listeners+=",SASL_SSL://127.0.0.1:$sasl_port"; advertised+=",SASL_SSL://127.0.0.1:$sasl_port"; }
  [ -z "$mtls_port" ] || { listeners+=",MTLS://127.0.0.1:$mtls_port"; advertised+=",MTLS://127.0.0.1:$mtls_port"; }
  sed -e "s#@PORT@#$port#g" -e "s#@CONTROLLER_PORT@#$cport#g" -e "s#@DATA_DIR@#$dir#g" \
      -e "s#@EXTRA_LISTENERS@#$listeners#g" -e "s#@EXTRA_ADVERTISED@#$advertised#g" \
    "$here/server.properties.in" > "$dir/server.properties"
  if [ -n "$listeners" ]; then
    local tls
    tls=$("$here/dev-tls.sh" "$dir/tls")
    sed -e "s#@TLS_DIR@#$tls#g" -e "s#@STORE_PASSWORD@#$(cat "$tls/store.password")#g" \
      "$here/server-tls.properties.in" >> "$dir/server.properties"
    format_extra=(--add-scram "SCRAM-SHA-512=[name=$(cat "$tls/scram-user"),password=$(cat "$tls/scram.password")]")
  fi
  if [ ! -f "$dir/logs/meta.properties" ]; then
    java_run kafka.tools.StorageTool format -t "$(java_run kafka.tools.StorageTool random-uuid)" \
      -c "$dir/server.properties" "${format_extra[@]}" >"$dir/format.log" 2>&1
  fi
  nohup java -Xms128m -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/log4j2.properties" -cp "$libs/*" \
    kafka.Kafka "$dir/server.properties" >"$dir/broker.log" 2>&1 &
  echo $! > "$dir/broker.pid"
  for _ in $(seq 1 120); do
    if grep -q "Kafka Server started\|KafkaRaftServer.*started" "$dir/broker.log" 2>/dev/null \
       && (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
      echo "127.0.0.1:$port"; return 0
    fi
    kill -0 "$(cat "$dir/broker.pid")" 2>/dev/null || { echo "[kafka-dev] broker exited; see $dir/broker.log" >&2; tail -20 "$dir/broker.log" >&2; return 1; }
    sleep 0.5
  done
  echo "[kafka-dev] broker did not start within 60 s; see $dir/broker.log" >&2
  return 1
}

status() { local pid; pid=$(cat "$1/broker.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }

stop() {
  local dir=$1 pid
  pid=$(cat "$dir/broker.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
}

cmd=${1:-}; shift || true
case "$cmd" in
  fetch) fetch ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  status) status "$@" ;;
  *) sed -n '2,11p' "$0"; exit 2 ;;
esac
