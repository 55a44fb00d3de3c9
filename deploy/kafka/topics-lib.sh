# Sourced by topics.sh and cluster-topics.sh: the Kafka topic CLI (the array `kafka_topics`) and
# `ensure_topic`. CLI order: $KAFKA_TOPICS_CMD, $KAFKA_HOME/bin/kafka-topics.sh, kafka-topics.sh on PATH, else
# TopicCommand from the jars that kafka-dev.sh caches (fetched once unless $dry_run is 1). Needs `here` = deploy/kafka.
kafka_topics=()
if [ -n "${KAFKA_TOPICS_CMD:-}" ]; then
  read -r -a kafka_topics <<<"$KAFKA_TOPICS_CMD"
elif [ -n "${KAFKA_HOME:-}" ] && [ -x "$KAFKA_HOME/bin/kafka-topics.sh" ]; then
  kafka_topics=("$KAFKA_HOME/bin/kafka-topics.sh")
elif command -v kafka-topics.sh >/dev/null 2>&1; then
  kafka_topics=(kafka-topics.sh)
else
  cache=${GRIDWATCH_CACHE:-$HOME/.cache/gridwatch}
  version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
  libs="$cache/kafka-$version/libs"
  if [ "${dry_run:-0}" -eq 0 ] && [ ! -f "$libs/.complete" ]; then "$here/kafka-dev.sh" fetch; fi
  kafka_topics=(java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
                "-Dlog4j2.configurationFile=$here/log4j2.properties" -cp "$libs/*"
                org.apache.kafka.tools.TopicCommand)
fi

# ensure_topic TOPIC PARTITIONS PARTITION_NOTE CONFIG...: create TOPIC if missing, then compare what exists
# with the recipe. Differences are appended to the array `problems` (with the kafka-configs.sh command that
# applies missing configs); PARTITION_NOTE says why a partition count is never changed here. Needs `common`,
# `replication`, `bootstrap`, `dry_run`, `log_prefix` and a `die` function. With dry_run=1 it prints the
# Kafka commands instead.
ensure_topic() {
  local topic=$1 partitions=$2 partition_note=$3; shift 3
  local configs=("$@") create describe desc summary have_partitions have_replication have_configs fix=()
  create=("${kafka_topics[@]}" "${common[@]}" --create --if-not-exists --topic "$topic"
          --partitions "$partitions" --replication-factor "$replication")
  for c in "${configs[@]}"; do create+=(--config "$c"); done
  describe=("${kafka_topics[@]}" "${common[@]}" --describe --topic "$topic")
  if [ "$dry_run" -eq 1 ]; then
    printf '%q ' "${create[@]}"; echo
    printf '%q ' "${describe[@]}"; echo
    return 0
  fi
  "${create[@]}" >&2 || die "creating $topic on $bootstrap failed"
  desc=$("${describe[@]}") || die "describing $topic on $bootstrap failed"
  summary=$(grep -m1 -E "^Topic: $topic[[:space:]]" <<<"$desc" || true)
  [ -n "$summary" ] || die "topic $topic not found after creation; describe printed: $desc"
  have_partitions=$(sed -n "s/.*[[:space:]]PartitionCount: \([^[:space:]]*\).*/\1/p" <<<"$summary")
  have_replication=$(sed -n "s/.*[[:space:]]ReplicationFactor: \([^[:space:]]*\).*/\1/p" <<<"$summary")
  have_configs=",$(sed -n 's/.*Configs: *//p' <<<"$summary" | tr -d '[:space:]'),"
  [ "$have_partitions" = "$partitions" ] || problems+=(
    "$topic partitions: $have_partitions, recipe $partitions (not changed here: $partition_note)")
  [ "$have_replication" = "$replication" ] || problems+=(
    "$topic replication factor: $have_replication, recipe $replication (change it with a partition reassignment)")
  for c in "${configs[@]}"; do
    if [[ $have_configs != *",$c,"* ]]; then
      problems+=("$topic config ${c%%=*}: recipe ${c#*=}, topic has: $(grep -o ",${c%%=*}=[^,]*" <<<"$have_configs" | cut -c2- || echo default)")
      fix+=("$c")
    fi
  done
  if [ ${#fix[@]} -gt 0 ]; then
    problems+=("to apply the configs of $topic: kafka-configs.sh --bootstrap-server $bootstrap --alter --entity-type topics --entity-name $topic --add-config $(IFS=,; echo "${fix[*]}")")
  fi
  echo "[$log_prefix] $topic: $have_partitions partition(s), replication factor $have_replication, ${configs[*]}" >&2
}
