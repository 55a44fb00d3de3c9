#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft) for development and tests, from Maven Central jars.
#   kafka-dev.sh fetch                       resolve the jars into the cache (once)
#   kafka-dev.sh start DIR [PORT]            format DIR if new, start the broker, wait until it listens
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
  local dir=$1 port=${2:-9092}
  local cport=$((port + 1))
  fetch
  mkdir -p "$dir"
  if status "$dir" 2>/dev/null; then echo "[kafka-dev] already running in $dir" >&2; return 0; fi
  sed -e "s#@PORT@#$port#g" -e "s#@CONTROLLER_PORT@#$cport#g" -e "s#@DATA_DIR@#$dir#g" \
    "$here/server.properties.in" > "$dir/server.properties"
  if [ ! -f "$dir/logs/meta.properties" ]; then
    java_run kafka.tools.StorageTool format -t "$(java_run kafka.tools.StorageTool random-uuid)" \
      -c "$dir/server.properties" >"$dir/format.log" 2>&1
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
  *) sed -n '2,8p' "$0"; exit 2 ;;
esac
