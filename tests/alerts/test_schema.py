"""The wire schema: committed file = generated, ids deterministic, tolerant reader, evolution rule."""

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from alerts.schema import (
    SCHEMA_PATH,
    SCHEMA_VERSION,
    Alert,
    alert_id_for,
    incident_id_for,
    json_schema,
    load_schema,
    render_schema,
    utc,
)


def minimal(**over: object) -> dict[str, object]:
    t = utc(1_700_000_000.0)
    data: dict[str, object] = {
        "alert_id": alert_id_for("cam-1", "fire", "inc-1", "start", 0),
        "incident_id": "i-1",
        "source_incident_id": "inc-1",
        "kind": "fire",
        "phase": "start",
        "update_seq": 0,
        "source": "cam-1",
        "incident_sources": ["cam-1"],
        "started_at": t,
        "last_seen_at": t,
        "triggered_at": t,
        "created_at": t,
        "confidence": 0.5,
        "node_id": "node-a",
        "config_version": "cfg-1",
    }
    data.update(over)
    return data


def test_committed_schema_file_equals_the_generated_one() -> None:
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == json_schema(), (
        "alerts/alert.schema.json is stale: run `python -m alerts.schema`"
    )
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema()


def test_schema_states_version_and_evolution_rule() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA_VERSION in schema["title"]
    assert "additive" in schema["description"] and "Consumers ignore unknown fields" in schema["description"]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert {
        "alert_id",
        "incident_id",
        "kind",
        "phase",
        "source",
        "started_at",
        "confidence",
        "node_id",
        "config_version",
    } <= set(schema["required"])
    # fields with defaults stay optional, so a field added in 1.x never makes older messages invalid
    assert {
        "location",
        "grid_cell",
        "evidence",
        "model",
        "reasons",
        "schema_version",
        "throw",
        "fire",
        "construction",
    } <= set(schema["properties"]) - set(schema["required"])


def test_serialised_alert_validates_and_uses_utc_iso8601() -> None:
    alert = Alert.model_validate(minimal())
    payload = json.loads(alert.to_json_bytes())
    jsonschema.Draft202012Validator(load_schema()).validate(payload)
    assert payload["started_at"] == "2023-11-14T22:13:20Z"
    assert payload["schema_version"] == SCHEMA_VERSION
    assert payload["location"] is None and payload["evidence"]["clip_uri"] is None


def test_alert_id_is_deterministic_and_distinct_per_update() -> None:
    a = alert_id_for("cam-1", "fire", "inc-1", "update", 3)
    assert a == alert_id_for("cam-1", "fire", "inc-1", "update", 3)
    others = {
        alert_id_for("cam-2", "fire", "inc-1", "update", 3),
        alert_id_for("cam-1", "smoke", "inc-1", "update", 3),
        alert_id_for("cam-1", "fire", "inc-2", "update", 3),
        alert_id_for("cam-1", "fire", "inc-1", "end", 3),
        alert_id_for("cam-1", "fire", "inc-1", "update", 4),
    }
    assert a not in others and len(others) == 5
    # field boundaries cannot be shifted to collide ("a|b" + "c" vs "a" + "b|c")
    assert alert_id_for("a|b", "fire", "c", "start", 0) != alert_id_for("a", "fire", "b|c", "start", 0)
    assert incident_id_for("cam-1", "fire", "inc-1") != a


def test_reader_ignores_fields_of_a_newer_minor_version() -> None:
    payload = json.loads(Alert.model_validate(minimal()).to_json_bytes())
    payload["schema_version"] = "1.7"
    payload["future_field"] = {"x": 1}
    parsed = Alert.model_validate(payload)
    assert parsed.schema_version == "1.7"
    jsonschema.Draft202012Validator(load_schema()).validate(payload)  # additive change stays valid


def test_other_major_version_and_bad_values_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Alert.model_validate(minimal(schema_version="2.0"))
    with pytest.raises(ValidationError):
        Alert.model_validate(minimal(confidence=1.5))
    with pytest.raises(ValidationError):
        Alert.model_validate(minimal(kind="flood"))
    bad = json.loads(Alert.model_validate(minimal()).to_json_bytes())
    bad["phase"] = "paused"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(load_schema()).validate(bad)


# -- compatibility with schema 1.0 (tests/alerts/compat: what the 1.0 code really produced) ---------------

COMPAT = Path(__file__).with_name("compat")
ADDED_IN_1_1 = {"grid_levels", "officer_team", "routing_key", "case_category"}


def _v10_alerts() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (COMPAT / "alerts-1.0.jsonl").read_text(encoding="utf-8").splitlines()]


def test_alerts_of_schema_1_0_are_read_unchanged() -> None:
    old_alerts = _v10_alerts()
    assert {a["kind"] for a in old_alerts} == {"fire", "smoke", "throw", "construction"}
    validator = jsonschema.Draft202012Validator(load_schema())
    for old in old_alerts:
        assert old["schema_version"] == "1.0" and not ADDED_IN_1_1 & set(old)
        validator.validate(old)  # a 1.0 message is a valid 1.1 message
        alert = Alert.model_validate_json(json.dumps(old))
        assert (alert.grid_levels, alert.officer_team, alert.routing_key, alert.case_category) == (None,) * 4
        again = json.loads(alert.to_json_bytes())
        assert {k: again[k] for k in old} == old  # every 1.0 field reads back as it was sent


def test_a_1_1_alert_is_valid_under_the_1_0_schema() -> None:
    """Consumers still validating with the 1.0 schema accept 1.1 alerts (it allows unknown fields)."""
    v10 = jsonschema.Draft202012Validator(json.loads((COMPAT / "alert.schema-1.0.json").read_text(encoding="utf-8")))
    area = {"id": "SJ-02-08-02-1", "name": "乙08-02-1微网格"}
    alert = Alert.model_validate(minimal(
        grid_cell={"id": area["id"], "name": area["name"], "source": "lookup"},
        grid_levels={"street": {"id": "SJ-02", "name": "乙街道"}, "micro_grid": area},
        officer_team="OT-0548",
        routing_key="SJ-02-08-02-1/fire",
        case_category={"scheme": "CJ/T 214-2007", "major_name": "突发事件", "minor_name": "火灾", "placeholder": True},
    ))
    payload = json.loads(alert.to_json_bytes())
    assert payload["schema_version"] == SCHEMA_VERSION == "1.1" and set(payload) >= ADDED_IN_1_1
    v10.validate(payload)
    jsonschema.Draft202012Validator(load_schema()).validate(payload)


def _without_docs(spec: Any) -> Any:
    if isinstance(spec, dict):
        return {k: _without_docs(v) for k, v in spec.items() if k not in {"description", "title"}}
    if isinstance(spec, list):
        return [_without_docs(v) for v in spec]
    return spec


def test_schema_1_1_only_adds_optional_fields_to_1_0() -> None:
    """The evolution rule, checked on the schema files: nothing removed, retyped or newly required."""
    old = json.loads((COMPAT / "alert.schema-1.0.json").read_text(encoding="utf-8"))
    new = load_schema()
    objects = [("Alert", old, new)] + [(n, d, new["$defs"].get(n)) for n, d in old["$defs"].items()]
    for name, before, after in objects:
        assert after is not None, f"{name} was removed"
        assert set(after.get("required", [])) == set(before.get("required", [])), f"{name}: required changed"
        for prop, spec in before.get("properties", {}).items():
            assert prop in after["properties"], f"{name}.{prop} was removed"
            now = after["properties"][prop]
            if name == "Alert" and prop == "schema_version":
                continue  # its default is the current version
            assert _without_docs(now) == _without_docs(spec), f"{name}.{prop} changed type"
        if "enum" in before:
            assert set(before["enum"]) <= set(after["enum"]), f"{name}: enum values removed"
    added = set(new["properties"]) - set(old["properties"])
    assert added >= ADDED_IN_1_1 and not added & set(new["required"])
