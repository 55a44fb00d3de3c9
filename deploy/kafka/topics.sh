#!/usr/bin/env bash
# Create the gridwatch alerts topic, or check that an existing one matches this recipe.
#
#   topics.sh --bootstrap-server HOST:PORT [options]
#
#   --bootstrap-server HOST:PORT   broker(s) to talk to            env GRIDWATCH_KAFKA_BOOTSTRAP
#   --topic NAME                   default gridwatch.alerts         env GRIDWATCH_ALERTS_TOPIC
#   --partitions N                 default 12                       env GRIDWATCH_TOPIC_PARTITIONS
#   --replication-factor N         default 3 (1 on a dev broker)    env GRIDWATCH_TOPIC_REPLICATION
#   --min-insync-replicas N        default min(2, replication)      env GRIDWATCH_TOPIC_MIN_ISR
#   --retention-ms MS              default 604800000 (7 days)       env GRIDWATCH_TOPIC_RETENTION_MS
#   --command-config FILE          client properties (TLS, SASL)    env GRIDWATCH_KAFKA_COMMAND_CONFIG
#   --dry-run                      print the Kafka commands, run nothing
#
# Exit status: 0 the topic exists as described, 1 it differs or Kafka failed, 2 usage error.
# Kafka CLI: $KAFKA_TOPICS_CMD, else kafka-topics.sh from $KAFKA_HOME/bin or PATH, else the jars that
# kafka-dev.sh caches (java + org.apache.kafka.tools.TopicCommand).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "[topics] $*" >&2; exit 1; }
bad() { echo "[topics] $*" >&2; exit 2; }

bootstrap=${GRIDWATCH_KAFKA_BOOTSTRAP:-}
topic=${GRIDWATCH_ALERTS_TOPIC:-gridwatch.alerts}
partitions=${GRIDWATCH_TOPIC_PARTITIONS:-12}
replication=${GRIDWATCH_TOPIC_REPLICATION:-3}
min_isr=${GRIDWATCH_TOPIC_MIN_ISR:-}
retention_ms=${GRIDWATCH_TOPIC_RETENTION_MS:-604800000}
command_config=${GRIDWATCH_KAFKA_COMMAND_CONFIG:-}
dry_run=0

while [ $# -gt 0 ]; do
  case "$1" in
    --bootstrap-server) bootstrap=${2:?}; shift 2 ;;
    --topic) topic=${2:?}; shift 2 ;;
    --partitions) partitions=${2:?}; shift 2 ;;
    --replication-factor) replication=${2:?}; shift 2 ;;
    --min-insync-replicas) min_isr=${2:?}; shift 2 ;;
    --retention-ms) retention_ms=${2:?}; shift 2 ;;
    --command-config) command_config=${2:?}; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage ;;
    *) bad "unknown argument: $1 (see --help)" ;;
  esac
done

is_count() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
[ -n "$bootstrap" ] || bad "--bootstrap-server (or GRIDWATCH_KAFKA_BOOTSTRAP) is required"
[[ $topic =~ ^[A-Za-z0-9._-]{1,249}$ ]] || bad "invalid topic name: $topic"
is_count "$partitions" || bad "--partitions must be a positive integer, got: $partitions"
is_count "$replication" || bad "--replication-factor must be a positive integer, got: $replication"
[ -n "$min_isr" ] || min_isr=$(( replication < 2 ? replication : 2 ))
is_count "$min_isr" || bad "--min-insync-replicas must be a positive integer, got: $min_isr"
[ "$min_isr" -le "$replication" ] || \
  bad "min.insync.replicas ($min_isr) above the replication factor ($replication): no acks=all write could succeed"
[[ $retention_ms =~ ^(-1|[1-9][0-9]*)$ ]] || bad "--retention-ms must be a positive integer or -1, got: $retention_ms"
[ -z "$command_config" ] || [ -r "$command_config" ] || bad "cannot read --command-config $command_config"
[ "$replication" -ge 3 ] || echo "[topics] note: replication factor $replication is for development only" >&2

# The recipe. Keys are source ids (camera or flight), so one source's alerts stay in order on one partition.
# delete + retention: the topic is a delivery channel, the ticketing platform keeps the record; the node's
# outbox keeps its own copy until acked. Unclean leader election stays off so an acked alert is never lost.
configs=(
  "cleanup.policy=delete"
  "retention.ms=$retention_ms"
  "min.insync.replicas=$min_isr"
  "unclean.leader.election.enable=false"
)

# --- create if missing, then compare what exists with the recipe ----------------------------------------
log_prefix=topics
# shellcheck source=topics-lib.sh
. "$here/topics-lib.sh"

common=(--bootstrap-server "$bootstrap")
[ -z "$command_config" ] || common+=(--command-config "$command_config")

problems=()
ensure_topic "$topic" "$partitions" \
  "adding partitions moves sources to other partitions and breaks per-source order" "${configs[@]}"
[ "$dry_run" -eq 0 ] || exit 0

if [ ${#problems[@]} -gt 0 ]; then
  echo "[topics] $topic exists but differs from the recipe:" >&2
  printf '[topics]   %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "$topic"
