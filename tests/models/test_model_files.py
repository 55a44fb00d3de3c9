"""Bad model files: each fault gets its own clear error naming the file (unit + real exported model)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from foundation.errors import ModelError
from models.config import ModelConfig
from models.metadata import parse_metadata
from models.onnxfile import read_onnx
from models.runtime import check_model_file, load_model

ULTRA_PROPS = {"names": "{0: 'fire', 1: 'smoke'}", "stride": "32", "task": "detect", "imgsz": "[64, 64]",
               "batch": "1", "args": "{'dynamic': False, 'nms': False}", "end2end": "False"}


def tiny_model(
    path: Path, *, input_shape: list[int | str] = [1, 3, 64, 64], output_shape: list[int] = [1, 84, 10],  # noqa: B006
    props: dict[str, str] | None = None, external_location: str | None = None,
) -> Path:
    """A small valid ONNX graph (ReduceMean -> Reshape) with Ultralytics-like metadata."""
    weight = numpy_helper.from_array(np.asarray(output_shape, np.int64), "shape")
    if external_location is not None:
        weight.ClearField("int64_data")
        weight.ClearField("raw_data")
        weight.data_location = TensorProto.EXTERNAL
        weight.external_data.add(key="location", value=external_location)
    nodes = [helper.make_node("Reshape", ["images", "shape"], ["output0"])]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, output_shape)],
        initializer=[weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    for key, value in (ULTRA_PROPS if props is None else props).items():
        model.metadata_props.add(key=key, value=value)
    path.write_bytes(model.SerializeToString())
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ModelError) as info:
        check_model_file(path)
    return str(info.value)


def test_each_bad_file_has_its_own_error(tmp_path: Path, yolo_model_640: Path, real_testdata: Path) -> None:
    real = yolo_model_640.read_bytes()
    (tmp_path / "truncated.onnx").write_bytes(real[: len(real) // 2])
    (tmp_path / "empty.onnx").write_bytes(b"")
    jpeg = next((real_testdata / "roboflow-fire-wrpgm" / "test" / "images").glob("*.jpg"))
    shutil.copy(jpeg, tmp_path / "photo.onnx")
    seg = onnx.load(str(yolo_model_640))
    next(p for p in seg.metadata_props if p.key == "task").value = "segment"
    onnx.save(seg, str(tmp_path / "segment.onnx"))
    (tmp_path / "models").mkdir()
    (tmp_path / "secret.bin").write_bytes(np.zeros(3, np.int64).tobytes())
    cases = {
        "missing": (tmp_path / "nope.onnx", "model file not found"),
        "empty": (tmp_path / "empty.onnx", "model file is empty"),
        "not onnx": (tmp_path / "photo.onnx", "not an ONNX model"),
        "truncated": (tmp_path / "truncated.onnx", "truncated or corrupted"),
        "wrong task": (tmp_path / "segment.onnx", "task is 'segment', but only 'detect'"),
        "rank": (tiny_model(tmp_path / "rank.onnx", input_shape=[3, 64, 64]),
                 "rank 3 [3, 64, 64]; expected rank 4"),
        "channels": (tiny_model(tmp_path / "ch.onnx", input_shape=[1, 1, 64, 64]), "1 channels; expected 3"),
        "outside": (
            tiny_model(tmp_path / "models" / "ext.onnx", external_location="../secret.bin"),
            "outside the model's folder",
        ),
        "absolute": (
            tiny_model(tmp_path / "models" / "abs.onnx", external_location=str(tmp_path / "secret.bin")),
            "outside the model's folder",
        ),
        "ext missing": (tiny_model(tmp_path / "models" / "gone.onnx", external_location="w.bin"),
                        "is missing"),
        "no metadata": (tiny_model(tmp_path / "plain.onnx", props={}), "no Ultralytics metadata"),
        "head": (tiny_model(tmp_path / "head.onnx"), "names 2 classes"),
        "directory": (tmp_path / "models", "is a directory"),
    }
    messages = {}
    for name, (path, expected) in cases.items():
        message = error_of(path)
        assert expected in message, f"{name}: {message}"
        assert str(path.name) in message, f"{name}: error does not name the file: {message}"
        messages[name] = message
    assert len(set(messages.values())) == len(messages)


def test_external_data_inside_the_folder_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "shape.bin").write_bytes(np.asarray([1, 84, 10], np.int64).tobytes())
    path = tiny_model(tmp_path / "ok.onnx", external_location="shape.bin")
    assert read_onnx(path).external_files == ((tmp_path / "shape.bin").resolve(),)
    assert "names 2 classes" in error_of(path)  # got past the external-data check to the head check


def test_metadata_is_parsed_as_literals_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    props = dict(ULTRA_PROPS, names=f"__import__('pathlib').Path('{marker}').touch()")
    with pytest.raises(ModelError, match="'names' is not a Python literal"):
        parse_metadata(props, "m.onnx")
    assert not marker.exists()
    meta = parse_metadata(dict(ULTRA_PROPS, names="['a', 'b', 'c']", imgsz="640"), "m.onnx")
    assert meta.names == {0: "a", 1: "b", 2: "c"} and meta.imgsz == (640, 640) and not meta.end2end
    assert parse_metadata(dict(ULTRA_PROPS, args="{'nms': True, 'dynamic': True}"), "m.onnx").end2end


@pytest.mark.parametrize(("key", "value", "message"), [
    ("names", "{0: 'a', 2: 'b'}", "without gaps"),
    ("names", "{}", "non-empty dict"),
    ("stride", "0", "positive integer"),
    ("imgsz", "[640]", r"must be \[height, width\]"),
])
def test_bad_metadata_values_are_named(key: str, value: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        parse_metadata(dict(ULTRA_PROPS, **{key: value}), "m.onnx")


def test_config_mismatches_are_refused_at_load(yolo_model_640: Path) -> None:
    with pytest.raises(ModelError, match="rect needs dynamic height/width"):
        load_model(ModelConfig(name="m", path=yolo_model_640, rect=True), warmup=False)
    with pytest.raises(ModelError, match="fixed input"):
        load_model(ModelConfig(name="m", path=yolo_model_640, imgsz=(384, 640)), warmup=False)


def test_imgsz_override_must_be_a_stride_multiple(yolo_model_dynamic: Path) -> None:
    with pytest.raises(ModelError, match="not a multiple of the stride 32"):
        load_model(ModelConfig(name="m", path=yolo_model_dynamic, imgsz=(400, 640)), warmup=False)
    model = load_model(ModelConfig(name="m", path=yolo_model_dynamic, imgsz=(384, 640)), warmup=False)
    assert model.info.imgsz == (384, 640) and model.info.dynamic_hw
