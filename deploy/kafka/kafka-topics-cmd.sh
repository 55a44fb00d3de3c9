# Sourced by topics.sh and cluster-topics.sh: finds the Kafka topic CLI and sets the array `kafka_topics`.
# Order: $KAFKA_TOPICS_CMD, $KAFKA_HOME/bin/kafka-topics.sh, kafka-topics.sh on PATH, else TopicCommand
# from the jars that kafka-dev.sh caches (fetched once unless $dry_run is 1). Needs `here` set to deploy/kafka.
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
