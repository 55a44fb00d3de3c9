#!/usr/bin/env bash
# Create the two topics of gridwatch's cluster mode, or check that existing ones match this recipe.
#
#   cluster-topics.sh --bootstrap-server HOST:PORT [options]
#
#   --bootstrap-server HOST:PORT   broker(s) to talk to                 env GRIDWATCH_KAFKA_BOOTSTRAP
#   --registry-topic NAME          default gridwatch.cameras            env GRIDWATCH_REGISTRY_TOPIC
#   --assignment-topic NAME        default gridwatch.buckets            env GRIDWATCH_ASSIGNMENT_TOPIC
#   --buckets N                    assignment partitions, default 128   env GRIDWATCH_BUCKETS
#   --replication-factor N         default 3 (1 on a dev broker)        env GRIDWATCH_TOPIC_REPLICATION
#   --min-insync-replicas N        default min(2, replication)          env GRIDWATCH_TOPIC_MIN_ISR
#   --command-config FILE          client properties (TLS, SASL)        env GRIDWATCH_KAFKA_COMMAND_CONFIG
#   --dry-run                      print the Kafka commands, run nothing
#
# Registry: one compacted partition, key = camera id, value = the camera's definition, empty = removed
# (written by `gridwatch cameras sync`, read from the beginning by every node). Assignment: one partition
# per camera bucket; nothing is written to it, the nodes' consumer group only shares its partitions. Its
# partition count is fixed for the life of the district: changing it rehashes every camera to another
# bucket, so this script reports a difference and never alters it.
# Exit status: 0 both topics exist as described, 1 one differs or Kafka failed, 2 usage error.
# Kafka CLI: $KAFKA_TOPICS_CMD, else kafka-topics.sh from $KAFKA_HOME/bin or PATH, else the jars that
# kafka-dev.sh caches (java + org.apache.kafka.tools.TopicCommand).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "[cluster-topics] $*" >&2; exit 1; }
bad() { echo "[cluster-topics] $*" >&2; exit 2; }

bootstrap=${GRIDWATCH_KAFKA_BOOTSTRAP:-}
registry=${GRIDWATCH_REGISTRY_TOPIC:-gridwatch.cameras}
assignment=${GRIDWATCH_ASSIGNMENT_TOPIC:-gridwatch.buckets}
buckets=${GRIDWATCH_BUCKETS:-128}
replication=${GRIDWATCH_TOPIC_REPLICATION:-3}
min_isr=${GRIDWATCH_TOPIC_MIN_ISR:-}
command_config=${GRIDWATCH_KAFKA_COMMAND_CONFIG:-}
dry_run=0

while [ $# -gt 0 ]; do
  case "$1" in
    --bootstrap-server) bootstrap=${2:?}; shift 2 ;;
    --registry-topic) registry=${2:?}; shift 2 ;;
    --assignment-topic) assignment=${2:?}; shift 2 ;;
    --buckets) buckets=${2:?}; shift 2 ;;
    --replication-factor) replication=${2:?}; shift 2 ;;
    --min-insync-replicas) min_isr=${2:?}; shift 2 ;;
    --command-config) command_config=${2:?}; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage ;;
    *) bad "unknown argument: $1 (see --help)" ;;
  esac
done

is_count() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
[ -n "$bootstrap" ] || bad "--bootstrap-server (or GRIDWATCH_KAFKA_BOOTSTRAP) is required"
for t in "$registry" "$assignment"; do [[ $t =~ ^[A-Za-z0-9._-]{1,249}$ ]] || bad "invalid topic name: $t"; done
[ "$registry" != "$assignment" ] || bad "the registry and assignment topics must differ"
is_count "$buckets" || bad "--buckets must be a positive integer, got: $buckets"
is_count "$replication" || bad "--replication-factor must be a positive integer, got: $replication"
[ -n "$min_isr" ] || min_isr=$(( replication < 2 ? replication : 2 ))
is_count "$min_isr" || bad "--min-insync-replicas must be a positive integer, got: $min_isr"
[ "$min_isr" -le "$replication" ] || \
  bad "min.insync.replicas ($min_isr) above the replication factor ($replication): no acks=all write could succeed"
[ -z "$command_config" ] || [ -r "$command_config" ] || bad "cannot read --command-config $command_config"
[ "$replication" -ge 3 ] || echo "[cluster-topics] note: replication factor $replication is for development only" >&2

# The recipes. The registry keeps its last record per camera forever (compaction), tombstones for a day
# (a node that was away longer re-reads the whole registry and drops what it no longer finds). The
# assignment topic holds no data; a short retention keeps it empty even if something writes to it.
registry_configs=(
  "cleanup.policy=compact"
  "delete.retention.ms=86400000"
  "min.insync.replicas=$min_isr"
  "unclean.leader.election.enable=false"
)
assignment_configs=(
  "cleanup.policy=delete"
  "retention.ms=3600000"
  "min.insync.replicas=$min_isr"
)

# --- create if missing, then compare what exists with the recipes ---------------------------------------
log_prefix=cluster-topics
# shellcheck source=topics-lib.sh
. "$here/topics-lib.sh"

common=(--bootstrap-server "$bootstrap")
[ -z "$command_config" ] || common+=(--command-config "$command_config")

problems=()
ensure_topic "$registry" 1 "the registry is one ordered log" "${registry_configs[@]}"
ensure_topic "$assignment" "$buckets" "it would move cameras to other buckets" "${assignment_configs[@]}"
[ "$dry_run" -eq 0 ] || exit 0

if [ ${#problems[@]} -gt 0 ]; then
  echo "[cluster-topics] the topics differ from the recipe:" >&2
  printf '[cluster-topics]   %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "$registry"
echo "$assignment"
