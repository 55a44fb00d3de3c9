"""`construction.change` on the wire: an optional 1.1 addition. A change alert validates under the 1.1 schema
and under the committed 1.0 schema (tests/alerts/compat), and a site not found by change goes out without the
key, exactly as 1.0 sent it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from alerts.schema import Alert, load_schema

COMPAT = Path(__file__).with_name("compat")

CHANGE = {
    "change_kind": "roof",
    "survey_id": "drone-3-20261001T080000Z",
    "previous_survey_ids": ["drone-3-20260601T080000Z"],
    "previous_captured_at": "2026-06-01T08:00:00Z",
    "before_crop_uri": "s3://gw-evidence/gw/surveys/drone-3-20261001T080000Z/changes/C3-before.jpg",
    "after_crop_uri": "s3://gw-evidence/gw/surveys/drone-3-20261001T080000Z/changes/C3-after.jpg",
}


def _v10_construction() -> dict[str, Any]:
    lines = (COMPAT / "alerts-1.0.jsonl").read_text(encoding="utf-8").splitlines()
    return next(a for a in map(json.loads, lines) if a["kind"] == "construction")


def test_a_change_alert_is_valid_under_1_1_and_1_0() -> None:
    doc = _v10_construction() | {"schema_version": "1.1"}
    doc["construction"] = doc["construction"] | {"change": CHANGE}
    v10 = jsonschema.Draft202012Validator(json.loads((COMPAT / "alert.schema-1.0.json").read_text(encoding="utf-8")))
    v11 = jsonschema.Draft202012Validator(load_schema())
    alert = Alert.model_validate(doc)
    assert alert.construction is not None and alert.construction.change is not None
    sent = json.loads(alert.to_json_bytes())
    assert sent["construction"]["change"]["change_kind"] == "roof"
    v11.validate(sent)
    v10.validate(sent)  # 1.0 consumers accept it and ignore the key


def test_a_site_not_found_by_change_is_sent_as_in_1_0() -> None:
    old = _v10_construction()
    sent = json.loads(Alert.model_validate(old).to_json_bytes())
    assert sent["construction"] == old["construction"] and "change" not in sent["construction"]
