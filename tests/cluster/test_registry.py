"""Registry records, `${...}` kept as written, sync plans, and how a node resolves a definition."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.fire.config import FireConfig
from foundation.errors import ConfigError
from foundation.yamlsafe import PLACEHOLDER, load_yaml, substitute_data
from gridwatch.cluster.buckets import bucket_loads, bucket_of
from gridwatch.cluster.follower import resolve_entry
from gridwatch.cluster.registry import (
    Definition,
    NodeBase,
    RegistryRecordError,
    decode,
    definitions_from_file,
    encode,
    plan_sync,
    resolve_definition,
)
from gridwatch.config import load_config_text

DISTRICT = """
cluster:
  kafka: {bootstrap_servers: ["127.0.0.1:9092"]}
detectors:
  fire: {analysis_fps: 1, mode: cues}
cameras:
  - id: cam-a
    source: {url: "rtsp://viewer:${CAM_PW}@10.0.0.1/a"}
    detectors: {fire: {analysis_fps: 2}}
  - id: cam-b
    source: {url: "rtsp://viewer:${file:/run/secrets/none-here}@10.0.0.2/b"}
    detectors: {fire: {}}
"""


@pytest.fixture
def district(tmp_path: Path) -> Path:
    path = tmp_path / "district.yaml"
    path.write_text(DISTRICT, encoding="utf-8")
    return path


def node_base(text: str = "detectors:\n  fire: {analysis_fps: 3, mode: cues}\n") -> NodeBase:
    loaded = load_config_text(text)
    return NodeBase(loaded.root, load_yaml(text).data.get("detectors") or {})


def test_bucket_hash_is_stable_and_spreads() -> None:
    assert bucket_of("cam-0001", 128) == int.from_bytes(__import__("hashlib").sha1(b"cam-0001").digest()[:8],
                                                          "big") % 128
    assert bucket_of("cam-0001", 128) == bucket_of("cam-0001", 128)
    loads = bucket_loads((f"cam-{i:04d}" for i in range(3082)), 128)
    assert sum(loads.values()) == 3082 and len(loads) == 128
    assert max(loads.values()) < 2 * 3082 / 128, "no bucket gets twice its share"
    with pytest.raises(ValueError, match="at least 1"):
        bucket_of("x", 0)


def test_file_is_validated_with_placeholders_and_published_as_written(district: Path) -> None:
    _root, defs = definitions_from_file(district)  # neither CAM_PW nor the secret file exist here
    assert sorted(defs) == ["cam-a", "cam-b"]
    assert defs["cam-a"].camera["source"]["url"] == "rtsp://viewer:${CAM_PW}@10.0.0.1/a"
    assert defs["cam-a"].origin == "district.yaml:7"
    assert b"${CAM_PW}" in encode(defs["cam-a"])
    bad = district.with_name("bad.yaml")
    bad.write_text(DISTRICT.replace("analysis_fps: 2", "analysis_fps: fast"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        definitions_from_file(bad)
    assert any("cameras[0].detectors.fire.analysis_fps" in p and "bad.yaml:" in p for p in err.value.problems)


def test_reference_modes_of_the_yaml_loader() -> None:
    text = 'a: "x-${NOPE}-y"\nb: "${file:/nowhere}"\nc: "${OPT:-dflt}"\n'
    assert load_yaml(text, references="keep").data == {"a": "x-${NOPE}-y", "b": "${file:/nowhere}",
                                                       "c": "${OPT:-dflt}"}
    assert load_yaml(text, references="placeholder").data == {"a": f"x-{PLACEHOLDER}-y", "b": PLACEHOLDER,
                                                              "c": "dflt"}
    with pytest.raises(ConfigError):
        load_yaml(text, env={})
    data = {"s": {"url": "u:${PW}@h", "list": ["${PW}", 3]}}
    assert substitute_data(data, "t", {"PW": "hunter2"}) == {"s": {"url": "u:hunter2@h", "list": ["hunter2", 3]}}
    with pytest.raises(ConfigError) as err:
        substitute_data(data, "registry camera x", {})
    assert err.value.problems == [
        "registry camera x: s.url: environment variable PW is not set (use ${PW:-default} for an optional value)",
        "registry camera x: s.list[0]: environment variable PW is not set (use ${PW:-default} for an optional value)",
    ]


def test_records_round_trip_and_bad_records_are_refused() -> None:
    d = Definition("cam-a", {"id": "cam-a", "source": {"url": "rtsp://h/${X}"}}, "f.yaml:3")
    assert decode(b"cam-a", encode(d)) == ("cam-a", d)
    assert decode(b"cam-a", None) == ("cam-a", None)
    assert encode(d) == encode(Definition("cam-a", {"source": {"url": "rtsp://h/${X}"}, "id": "cam-a"}, "f.yaml:3"))
    for key, value, what in ((None, b"{}", "without a key"), (b"cam-a", b"not json", "not JSON"),
                             (b"cam-a", b'{"format": 9, "camera": {}}', "expected"),
                             (b"cam-a", b'{"format": 1, "camera": {"id": "cam-z"}}', "its camera id")):
        with pytest.raises(RegistryRecordError, match=what):
            decode(key, value)


def test_sync_plan_compares_definitions_not_origins() -> None:
    a = Definition("a", {"id": "a", "v": 1}, "f:1")
    current = {"a": a, "b": Definition("b", {"id": "b"}), "c": Definition("c", {"id": "c", "v": 1})}
    wanted = {"a": Definition("a", {"id": "a", "v": 1}, "f:99"), "c": Definition("c", {"id": "c", "v": 2}),
              "d": Definition("d", {"id": "d"})}
    plan = plan_sync(current, wanted)
    assert (plan.added, plan.changed, plan.removed, plan.unchanged) == (["d"], ["c"], ["b"], 1)
    assert plan_sync(current, current).empty


def test_node_resolves_with_its_own_environment_and_detector_defaults() -> None:
    d = Definition("cam-a", {"id": "cam-a", "source": {"url": "rtsp://v:${CAM_PW}@h/a"},
                             "detectors": {"fire": {"analysis_fps": 2}}}, "district.yaml:7")
    cam = resolve_definition(d, node_base(), env={"CAM_PW": "s3cret"})
    assert cam.source.url_text() == "rtsp://v:s3cret@h/a"
    fire = cam.detectors["fire"]
    assert isinstance(fire, FireConfig) and fire.analysis_fps == 2 and fire.mode == "cues"
    plain = Definition("cam-b", {"id": "cam-b", "source": {"url": "rtsp://h/b"}, "detectors": {"fire": {}}})
    default = resolve_definition(plain, node_base()).detectors["fire"]
    assert isinstance(default, FireConfig) and default.analysis_fps == 3


@pytest.mark.parametrize(("camera", "expected"), [
    ({"id": "cam-x", "source": {"url": "rtsp://v:${NOT_SET_HERE_X}@h/x"}}, "environment variable NOT_SET_HERE_X"),
    ({"id": "cam-x", "source": {"url": "rtsp://h/x"}, "bogus": 1}, "unknown key 'bogus'"),
    ({"id": "cam-x", "source": {"url": "rtsp://h/x"}, "detectors": {"fire": {"analysis_fps": -1}}},
     "cameras[0].detectors.fire.analysis_fps"),
    ({"id": "cam-x", "source": {"url": "rtsp://h/x"}, "detectors": {"fire": {"mode": "model", "model": "nope"}}},
     "no model named 'nope'"),
])
def test_a_bad_definition_is_rejected_with_its_camera_and_origin(camera: dict[str, object], expected: str) -> None:
    entry = resolve_entry(Definition("cam-x", camera, "district.yaml:40"), node_base())
    assert entry.camera is None and not entry.runnable
    text = "\n".join(entry.problems)
    assert expected in text and "registry camera cam-x (from district.yaml:40)" in text


def test_a_secret_never_appears_in_a_rejection() -> None:
    camera = {"id": "cam-x", "source": {"url": "rtsp://v:${PW}@h/x", "analysis_fps": "${PW}"}}
    with pytest.raises(ConfigError) as err:
        resolve_definition(Definition("cam-x", camera), node_base(), env={"PW": "hunter2"})
    assert any("source.analysis_fps" in p for p in err.value.problems)
    assert "hunter2" not in str(err.value)
