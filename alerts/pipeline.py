"""`AlertPipeline.handle(event)`: the one call the service makes per detector event.

Per event: resolve the position and where it lies in the district's grid, decide the incident (dedup,
cooldown), plan the evidence, build the `Alert`, commit it to the outbox (with the incident record, in one
transaction), then apply the dedup decision and queue the evidence jobs. Only after the commit does anything
change, so an alert refused by a full outbox (OutboxFullError, raised to the caller) leaves no trace but a
counter.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from alerts.clips import ClipSource
from alerts.config import AlertsConfig, SiteConfig
from alerts.dedup import Decision, IncidentDeduper
from alerts.enrich import (
    Geotag,
    GridLookup,
    Placement,
    grid_index_from_config,
    location_of,
    resolve_geotag,
    routing_of,
)
from alerts.evidence import EvidencePlan, EvidenceWriter
from alerts.evidence_store import EvidenceStore
from alerts.grid import GridIndex
from alerts.kinds import BUILTIN, AlertKinds
from alerts.outbox import Outbox
from alerts.outbox_rows import OutboxFullError
from alerts.schema import Alert, Evidence, ModelInfo, alert_id_for, incident_id_for, utc
from detectors.event import Event, EventKind, Phase

log = logging.getLogger(__name__)


@dataclass
class PipelineStats:
    """Counters for the metrics registry (labels: kind, phase, reason)."""

    events: Counter[str] = field(default_factory=Counter)  # by kind
    alerts: Counter[tuple[str, str]] = field(default_factory=Counter)  # by (kind, phase)
    suppressed: Counter[str] = field(default_factory=Counter)  # by dedup reason
    refused: Counter[str] = field(default_factory=Counter)  # outbox_full
    merged: int = 0
    without_location: int = 0
    without_grid_cell: int = 0


class AlertPipeline:
    """Event -> Alert -> outbox, with enrichment, dedup and evidence (see the module docstring)."""

    def __init__(
        self,
        config: AlertsConfig,
        *,
        node_id: str,
        config_version: str,
        outbox: Outbox | None = None,
        grid: GridIndex | None = None,
        evidence_store: EvidenceStore | None = None,
        clock: Callable[[], float] = time.time,
        kinds: AlertKinds = BUILTIN,
    ) -> None:
        self.config = config
        self.kinds = kinds
        self.node_id = node_id
        self.config_version = config_version
        self._clock = clock
        self._owns_outbox = outbox is None
        self.outbox = (
            outbox if outbox is not None else Outbox(config.outbox, destination=config.kafka is None)
        )
        if grid is None:
            grid = grid_index_from_config(config.grid)
        self.grid = GridLookup(grid, config.grid.coordinates)
        self.evidence = (
            EvidenceWriter(config.evidence, evidence_store, kinds=kinds) if config.evidence.enabled else None
        )
        self.deduper = IncidentDeduper(config.dedup)
        self.stats = PipelineStats()
        self._lock = threading.Lock()
        longest = max(config.dedup.for_kind(k).window_s for k in EventKind)
        horizon_s = clock() - longest
        self.outbox.delete_incidents_before(horizon_s)  # no event can join them any more
        restored = self.deduper.restore(self.outbox.load_incidents(since_s=horizon_s))
        if restored:
            log.info("alerts: %d incidents restored from %s for dedup", restored, self.outbox.path)

    def start(self) -> None:
        """Start the evidence writer thread."""
        if self.evidence is not None:
            self.evidence.start()

    def close(self, timeout_s: float = 10.0) -> None:
        """Finish queued evidence (within timeout_s) and close the outbox if this pipeline opened it."""
        if self.evidence is not None:
            self.evidence.stop(timeout_s)
        if self._owns_outbox:
            self.outbox.close()

    def handle(
        self, event: Event, *, site: SiteConfig | None = None, clip_source: ClipSource | None = None
    ) -> Alert | None:
        """Turn one detector event into an alert in the outbox; None when dedup or cooldown suppress it.

        Raises OutboxFullError (retryable) when the outbox cannot accept it; nothing is recorded then.
        """
        with self._lock:
            self.stats.events[event.kind.value] += 1
            tag = resolve_geotag(event, site)
            decision = self.deduper.decide(
                event,
                tag.position if tag else None,
                new_incident_id=incident_id_for(event.source_id, event.kind.value, event.incident_id),
            )
            if not decision.emit:
                self.deduper.commit(decision)
                self.stats.suppressed[decision.reason] += 1
                log.debug(
                    "camera %s: %s event of incident %s suppressed (%s)",
                    event.source_id,
                    event.phase.value,
                    event.incident_id,
                    decision.reason,
                )
                return None
            alert_id = alert_id_for(
                event.source_id, event.kind.value, event.incident_id, event.phase.value, event.update_seq
            )
            plan = (
                self.evidence.plan(alert_id, event, clip_source)
                if self.evidence
                else EvidencePlan(Evidence(), ())
            )
            placement = self.grid.place(tag, site)
            alert = self._build(
                event, decision, alert_id=alert_id, tag=tag, placement=placement, evidence=plan.evidence
            )
            try:
                self.outbox.put(
                    alert, trigger_captured_at=event.trigger_captured_at, incident=decision.record
                )
            except OutboxFullError:
                self.stats.refused["outbox_full"] += 1
                raise
            self.deduper.commit(decision)
            if self.evidence is not None:
                self.evidence.submit(plan)
            self.stats.alerts[(alert.kind.value, alert.phase.value)] += 1
            self.stats.merged += decision.reason == "merged"
            self.stats.without_location += alert.location is None
            self.stats.without_grid_cell += alert.grid_cell is None
            log.info(
                "camera %s: alert %s %s %s incident %s seq %d (%s)",
                event.source_id,
                alert.alert_id,
                alert.kind.value,
                alert.phase.value,
                alert.incident_id,
                alert.update_seq,
                decision.reason,
            )
            return alert

    def _build(
        self,
        event: Event,
        decision: Decision,
        *,
        alert_id: str,
        tag: Geotag | None,
        placement: Placement | None,
        evidence: Evidence,
    ) -> Alert:
        assert decision.record is not None and decision.phase is not None and decision.update_seq is not None
        m = event.model
        routing = routing_of(placement, event.kind, self.config.case_categories)
        return Alert(
            alert_id=alert_id,
            incident_id=decision.record.incident_id,
            source_incident_id=event.incident_id,
            kind=decision.kind or event.kind,  # the incident's kind (see alerts.dedup)
            phase=decision.phase,
            update_seq=decision.update_seq,
            source=event.source_id,
            incident_sources=list(decision.record.sources),
            started_at=utc(event.started_at),
            last_seen_at=utc(event.last_seen_at),
            ended_at=utc(event.last_seen_at) if decision.phase == Phase.END else None,
            triggered_at=utc(event.trigger_captured_at),
            created_at=utc(self._clock()),
            confidence=min(1.0, max(0.0, float(event.confidence))),
            box_xyxy=_box(event.box_xyxy),
            location=location_of(tag) if tag is not None else None,
            grid_cell=routing.grid_cell,
            grid_levels=routing.grid_levels,
            officer_team=routing.officer_team,
            routing_key=routing.routing_key,
            case_category=routing.case_category,
            evidence=evidence,
            model=ModelInfo(name=m.name, version=m.version, sha256=m.sha256) if m is not None else None,
            node_id=self.node_id,
            config_version=self.config_version,
            reasons=dict(event.reasons),
            **self.kinds.fields(event),
        )


def _box(box: tuple[float, float, float, float] | None) -> tuple[float, float, float, float] | None:
    if box is None:
        return None
    x1, y1, x2, y2 = box
    return float(x1), float(y1), float(x2), float(y2)
