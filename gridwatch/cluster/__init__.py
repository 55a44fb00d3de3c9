"""Cluster mode: many video nodes share the district's cameras through Kafka.

The camera list lives in a compacted registry topic (key = camera id, value = the camera's YAML
definition with its `${...}` references unexpanded); each camera hashes into one of a fixed number of
buckets, the partitions of a small assignment topic; every `gridwatch run --cluster` node joins one
consumer group on that topic and runs the cameras of the buckets the group gives it. Kafka's group
membership is the scheduler: a node that dies loses its buckets after the session timeout, a node that
joins takes a share, and a capacity-aware assignor respects each node's limits.

Modules: `config` (the `cluster:` section), `kafka_io` (client settings shared by the node and the CLI),
`buckets` (the stable hash), `registry` (records, sync plans, resolving a definition on a node),
`follower` (a node's live copy of the registry), `placement` (where buckets go: pure rules), `assignor`
(those rules inside Kafka's group protocol), `lease` (when a node must consider its membership lost),
`member` (the group member thread) and `node` (the running node). The CLI side is `gridwatch.cluster_cmd`.
"""
