"""Alerts: detector events turned into versioned, geotagged, de-duplicated alerts delivered durably.

Entry points (see each module): `runtime.AlertsRuntime` (assembled for the service), `pipeline.AlertPipeline`
(`handle(event, site=, clip_source=)`), `outbox.Outbox` (its row types and list query:
`outbox_rows`; its SQLite file also holds the deduper's incidents: `incident_store`), `relay.KafkaRelay`
(client settings: `kafka_settings`), `reader` (CLI functions), `schema.Alert` with `alert.schema.json`,
`config.AlertsConfig` / `config.SiteConfig` (the `kafka:` section in `kafka_config`, `evidence:` in
`evidence_config`), `clips.ClipSource`, `evidence_store.make_store` (object keys and listings: `evidence_keys`),
`kinds.AlertKinds` (each detector's alert fields, evidence colour and overlay, read from its typed event
details; an event whose kind and details type nobody registered is an error).
"""
