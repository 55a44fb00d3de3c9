"""Cluster mode: many video nodes share the district's cameras through Kafka.

The camera list lives in a compacted registry topic (key = camera id, value = the camera's YAML
definition with its `${...}` references unexpanded); each camera hashes into one of a fixed number of
buckets, the partitions of a small assignment topic; every `gridwatch run --cluster` node joins one
consumer group on that topic and runs the cameras of the buckets the group gives it. Kafka's group
membership is the scheduler: a node that dies loses its buckets after the session timeout, a node that
joins takes a share, and a capacity-aware assignor respects each node's limits.

Modules: `config` (the `cluster:` section), `buckets` (the stable hash), `registry` (records, reading and
following the topic, validating definitions on the node), `assignor` (the capacity-aware cooperative
assignor), `lease` (when a node must consider its membership lost), `member` (the group member thread),
`node` (the running node), and `kafka_io` (client settings shared by the node and the CLI).
"""
