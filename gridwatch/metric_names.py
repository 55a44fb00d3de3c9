"""Every Prometheus metric gridwatch exports: name, type, help and labels, in one table.

The metrics collector, the Grafana dashboard, the alert rules and their tests all read this table, so a
renamed metric breaks a test instead of a dashboard. Names follow Prometheus conventions: `gridwatch_`
prefix, base units (seconds, bytes), `_total` for counters. Labels are bounded sets only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ingest.stats import CameraState

MetricType = Literal["counter", "gauge", "histogram"]


@dataclass(frozen=True)
class MetricSpec:
    name: str
    type: MetricType
    help: str
    labels: tuple[str, ...] = ()


LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
FAST_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

METRICS: tuple[MetricSpec, ...] = (
    # cameras
    MetricSpec("gridwatch_camera_up", "gauge", "1 while the camera delivers frames, else 0.", ("camera_id",)),
    MetricSpec("gridwatch_camera_state", "gauge",
               "1 for the camera's current ingest state, 0 for the others.", ("camera_id", "state")),
    MetricSpec("gridwatch_camera_frames_decoded_total", "counter", "Frames decoded.", ("camera_id",)),
    MetricSpec("gridwatch_camera_frames_analysed_total", "counter",
               "Frames handed to the camera's detectors.", ("camera_id",)),
    MetricSpec("gridwatch_camera_frames_dropped_total", "counter",
               "Frames dropped before analysis, by reason.", ("camera_id", "reason")),
    MetricSpec("gridwatch_camera_reconnects_total", "counter", "Reconnection attempts.", ("camera_id",)),
    MetricSpec("gridwatch_camera_stall_seconds_total", "counter",
               "Seconds spent stalled, by kind of stall.", ("camera_id", "reason")),
    MetricSpec("gridwatch_camera_last_frame_age_seconds", "gauge",
               "Seconds since the camera's last decoded frame.", ("camera_id",)),
    # models
    MetricSpec("gridwatch_model_ready", "gauge", "1 once the model is loaded and warmed up.", ("model",)),
    MetricSpec("gridwatch_model_batch_size", "histogram", "Frames per inference batch.", ("model",)),
    MetricSpec("gridwatch_model_inference_seconds", "histogram", "Inference time per batch.", ("model",)),
    MetricSpec("gridwatch_model_queue_delay_seconds", "histogram",
               "Time a frame waited in the batcher before inference.", ("model",)),
    MetricSpec("gridwatch_model_frames_dropped_total", "counter",
               "Frames the batcher dropped, by reason.", ("model", "reason")),
    # gated inference (models.gating)
    MetricSpec("gridwatch_gate_frames_total", "counter",
               "Analysed frames by the path they took to the model (skipped, regions, full, sweep, reused, "
               "ungated) and why.", ("camera_id", "model", "path", "reason")),
    MetricSpec("gridwatch_gate_regions_total", "counter", "Crops sent to the model by gated inference.",
               ("camera_id", "model")),
    MetricSpec("gridwatch_gate_rechecks_deferred_total", "counter",
               "Changed blobs not sent to the model because it saw them empty less than recheck_after_s ago.",
               ("camera_id", "model")),
    MetricSpec("gridwatch_gate_regions_reused_total", "counter",
               "Watched regions given the model's detections of a look less than recheck_after_s old, nothing "
               "having changed there since.", ("camera_id", "model")),
    MetricSpec("gridwatch_gate_cues_rested_total", "counter",
               "Analysed frames on which nothing changed and nothing was watched, so the detector's own "
               "weights-free cues rested too (gating.rest_cues_when_still).", ("camera_id", "model")),
    MetricSpec("gridwatch_gate_incidents_held_total", "counter",
               "Open incidents given the detections of their last look (less than incident_relook_s old) "
               "instead of a new model run.", ("camera_id", "model")),
    MetricSpec("gridwatch_gate_incident_looks_total", "counter",
               "Open incidents the model looked at (in a crop, a full frame or a sweep).", ("camera_id", "model")),
    MetricSpec("gridwatch_gate_input_pixels_total", "counter",
               "Model input pixels spent on the camera's analysed frames (crops or whole frames).",
               ("camera_id", "model")),
    MetricSpec("gridwatch_gate_ungated_input_pixels_total", "counter",
               "Model input pixels the same frames would have cost with every frame run whole (the saving's "
               "reference).", ("camera_id", "model")),
    # pipeline stages
    MetricSpec("gridwatch_stage_seconds", "histogram",
               "Time per frame (per batch for inference) in each pipeline stage (inference_wait, detector, "
               "change: the gate's change signal and region planning).", ("stage",)),
    # detectors
    MetricSpec("gridwatch_detector_candidates_total", "counter",
               "Candidates found before confirmation.", ("detector", "camera_id")),
    MetricSpec("gridwatch_detector_confirmations_total", "counter",
               "Candidates confirmed into incidents.", ("detector", "camera_id")),
    MetricSpec("gridwatch_detector_events_total", "counter", "Events emitted.", ("detector", "kind", "phase")),
    MetricSpec("gridwatch_detector_rejected_total", "counter",
               "Frames or candidates rejected, by reason.", ("detector", "reason")),
    # alerts and delivery
    MetricSpec("gridwatch_alerts_total", "counter",
               "Events handled by the alerts pipeline, by outcome (written, deduplicated, cooldown).",
               ("kind", "outcome")),
    MetricSpec("gridwatch_outbox_depth", "gauge", "Alerts in the outbox not yet acknowledged by Kafka."),
    MetricSpec("gridwatch_outbox_capacity", "gauge", "Maximum alerts the outbox holds."),
    MetricSpec("gridwatch_outbox_high_water", "gauge", "1 when the outbox is above its high-water mark."),
    MetricSpec("gridwatch_publish_total", "counter", "Publish attempts to Kafka, by outcome.", ("outcome",)),
    MetricSpec("gridwatch_broker_up", "gauge", "1 when the Kafka broker answered the last check."),
    MetricSpec("gridwatch_frame_to_event_seconds", "histogram",
               "From the capture of a frame to the detector event it caused (before the alerts pipeline)."),
    MetricSpec("gridwatch_frame_to_ack_seconds", "histogram",
               "From the capture of the frame that caused an alert to the broker's ack of that alert.",
               ("camera_id",)),
    # configuration and process
    MetricSpec("gridwatch_config_reloads_total", "counter", "Configuration reloads, by outcome.", ("outcome",)),
    MetricSpec("gridwatch_config_info", "gauge", "1, labelled with the running config version.", ("version",)),
    MetricSpec("gridwatch_cameras_configured", "gauge", "Cameras this node runs."),
    # cluster mode
    MetricSpec("gridwatch_cluster_buckets_assigned", "gauge", "Camera buckets assigned to this node."),
    MetricSpec("gridwatch_cluster_rebalances_total", "counter",
               "Bucket changes of this node, by outcome (assigned, revoked, lost, fenced).", ("outcome",)),
    MetricSpec("gridwatch_cluster_member", "gauge",
               "1 while this node is a stable group member whose membership lease holds, else 0."),
    MetricSpec("gridwatch_cluster_registry_cameras", "gauge",
               "Camera definitions in the registry that validate on this node."),
    MetricSpec("gridwatch_cluster_registry_rejected", "gauge",
               "Camera definitions in the registry this node rejected (see /status)."),
    MetricSpec("gridwatch_cluster_cameras_not_started", "gauge",
               "Cameras of this node's buckets it does not run, by reason (capacity, failed).", ("reason",)),
)

METRIC_NAMES: frozenset[str] = frozenset(m.name for m in METRICS)

CAMERA_STATES: tuple[str, ...] = tuple(state.value for state in CameraState)
"""Values of the `state` label: ingest's camera states."""
