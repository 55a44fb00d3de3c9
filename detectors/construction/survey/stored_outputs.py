"""What a survey writes into the evidence store besides its mosaic: before/after crops of each change, and
the summary (GeoJSON, text, map). A write that fails is logged and the survey goes on: the alert still
carries what was kept."""

from __future__ import annotations

import json
import logging

import cv2

from detectors.construction.survey.archive import SurveyStore
from detectors.construction.survey.changes import Change, crop
from detectors.construction.survey.config import SurveyConfig
from detectors.construction.survey.mosaic import Canvas
from detectors.construction.survey.summary import SurveySummary
from foundation.errors import GridwatchError

log = logging.getLogger("detectors.construction.survey.run")  # the recorder's name, as before the move

CROP_QUALITY = 88
"""JPEG quality of the before/after crops: an officer reads roofs and scaffolds in them."""


def store_crops(
    store: SurveyStore, config: SurveyConfig, survey_id: str, previous: Canvas, after: Canvas,
    changes: list[Change],
) -> None:
    """Before and after JPEG crops of every change into the store (URIs into `change.crops`)."""
    margin = max(4, round(config.crop_margin_m / after.lattice.resolution_m))
    for c in changes:
        base = f"{config.store_prefix}/{survey_id}/changes/{c.change_id}"
        for side, canvas in (("before", previous), ("after", after)):
            img = crop(canvas.image, canvas.valid, c.box_px, margin)
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, CROP_QUALITY])
            if not ok:
                continue
            key = f"{base}-{side}.jpg"
            try:
                store.put_bytes(key, bytes(buf), "image/jpeg")
                c.crops[side] = store.uri_for(key)
            except GridwatchError as exc:
                log.error("survey %s: crop %s not kept: %s", survey_id, key, exc)


def store_summary(store: SurveyStore, store_prefix: str, summary: SurveySummary) -> None:
    """The survey's changes (GeoJSON), text report and map (PNG) under `<prefix>/<survey id>/`."""
    base = f"{store_prefix}/{summary.survey_id}"
    try:
        store.put_bytes(
            f"{base}/changes.geojson", json.dumps(summary.geojson()).encode("utf-8"), "application/geo+json"
        )
        store.put_bytes(f"{base}/summary.txt", summary.text_report().encode("utf-8"), "text/plain; charset=utf-8")
        if summary.map_png:
            store.put_bytes(f"{base}/map.png", summary.map_png, "image/png")
    except GridwatchError as exc:
        log.error("survey %s: summary not kept: %s", summary.survey_id, exc)
