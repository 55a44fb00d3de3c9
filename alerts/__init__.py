"""Alerts: detector events turned into versioned, geotagged, de-duplicated alerts delivered durably.

Entry points (see each module): `runtime.AlertsRuntime` (assembled for the service), `pipeline.AlertPipeline`
(`handle(event, site=, clip_source=)`), `outbox.Outbox`, `relay.KafkaRelay`, `reader` (CLI functions),
`schema.Alert` with `alert.schema.json`, `config.AlertsConfig` / `config.SiteConfig`, `clips.ClipSource`.
"""
