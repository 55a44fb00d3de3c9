"""`gridwatch models fetch NAME`: trained weights from a pinned registry package, verified, exported, cached.

Steps (each kept in the cache folder `models.weights.weights_dir`, so a second run only re-checks hashes):

1. the package's wheel is downloaded by pip (`pip download PKG==VER --no-deps --require-hashes`, the hash
   pinned in `models.weights.CATALOGUE`) and its sha256 checked again here;
2. the weights file and the file defining its custom layers are taken out of the wheel, each checked
   against the wheel's own RECORD hashes; the wheel's METADATA gives the licence as the package states it;
3. fp32 ONNX (dynamic shapes) is exported by Ultralytics in a child process (`models.pt_export`), so the
   third-party layer code is never imported into this process;
4. INT8 is made by our quantizer (`models.quantize`) from calibration frames the caller supplies, and its
   agreement with fp32 is measured on other frames and stored;
5. `model.yaml` (version for alerts) and `manifest.json` (package, version, sha256 of the wheel, the
   `.pt` and each ONNX, class names, licence as stated, INT8 agreement) are written, the manifest last:
   a folder without it is an unfinished fetch.

Nothing here runs at service time; the runtime only reads the result (`models.weights`).
"""

from __future__ import annotations

import base64
import csv
import email.parser
import fcntl
import hashlib
import importlib.util
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from foundation.errors import ModelError
from models.weights import (
    MANIFEST_FILE,
    MODEL_MANIFEST_FILE,
    FetchedWeights,
    Int8Agreement,
    WeightsPackage,
    cache_root,
    package_spec,
    read_fetched,
    weights_dir,
)

log = logging.getLogger(__name__)

Frames = list[NDArray[np.uint8]]


@dataclass(frozen=True)
class CalibrationSet:
    """Frames that calibrate the INT8 activation ranges, and other frames on which agreement is measured."""

    calibrate: Frames
    held_out: Frames
    description: str


CalibrationSource = Callable[[], CalibrationSet]

EXPORT_TIMEOUT_S = 900.0
PIP_TIMEOUT_S = 600.0


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def find_pip() -> list[str]:
    """A pip to run: this interpreter's, the set-up's (`$GRIDWATCH_CACHE/uv-venv`), or one on PATH."""
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    for candidate in (cache_root() / "uv-venv" / "bin" / "pip", shutil.which("pip3"), shutil.which("pip")):
        if candidate and Path(candidate).is_file():
            return [str(candidate)]
    raise ModelError("fetching weights needs pip (the registry's ordinary client); none was found")


def download_wheel(spec: WeightsPackage, folder: Path, pip: Sequence[str] | None = None) -> Path:
    """The package's wheel in `folder`, downloaded by pip against the pinned hash unless already there."""
    target = folder / spec.wheel_file
    if target.is_file() and sha256_of(target) == spec.wheel_sha256:
        return target
    command = list(pip) if pip is not None else find_pip()
    with tempfile.TemporaryDirectory(prefix="gw-wheel-", dir=folder) as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text(f"{spec.requirement} --hash=sha256:{spec.wheel_sha256}\n", encoding="utf-8")
        args = [*command, "download", "--no-deps", "--only-binary=:all:", "--require-hashes",
                "--disable-pip-version-check", "-d", tmp, "-r", str(req)]
        log.info("fetching %s from the registry with pip", spec.requirement)
        try:
            run = subprocess.run(args, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ModelError(f"{spec.requirement}: pip could not run: {exc}") from exc
        got = Path(tmp) / spec.wheel_file
        if run.returncode != 0 or not got.is_file():
            tail = (run.stderr or run.stdout).strip().splitlines()[-3:]
            raise ModelError(f"{spec.requirement}: pip download failed: {' | '.join(tail) or run.returncode}")
        digest = sha256_of(got)
        if digest != spec.wheel_sha256:  # pip checked it too; a second look costs a second
            raise ModelError(f"{spec.wheel_file}: sha256 {digest} differs from the pinned {spec.wheel_sha256}")
        got.replace(target)
    return target


def _record_hashes(wheel: zipfile.ZipFile, spec: WeightsPackage) -> dict[str, str]:
    record = f"{spec.package.replace('-', '_')}-{spec.version}.dist-info/RECORD"
    rows = csv.reader(io.StringIO(wheel.read(record).decode("utf-8")))
    return {row[0]: row[1] for row in rows if len(row) >= 2 and row[1].startswith("sha256=")}


def stated_licence(wheel: zipfile.ZipFile, spec: WeightsPackage) -> str | None:
    """The licence as the package's METADATA states it (License-Expression, License, classifiers), or None."""
    meta = f"{spec.package.replace('-', '_')}-{spec.version}.dist-info/METADATA"
    msg = email.parser.Parser().parsestr(wheel.read(meta).decode("utf-8"), headersonly=True)
    parts = [v for k in ("License-Expression", "License") for v in msg.get_all(k) or [] if v.strip()]
    parts += [c for c in msg.get_all("Classifier") or [] if c.startswith("License ::")]
    return "; ".join(parts) if parts else None


def extract_members(wheel_path: Path, spec: WeightsPackage, folder: Path) -> tuple[Path, Path | None, str | None]:
    """(weights file, layers file, stated licence) taken out of the wheel, each checked against its RECORD."""
    out_dir = folder / "package"
    out_dir.mkdir(parents=True, exist_ok=True)
    members = [m for m in (spec.weights_member, spec.layers_member) if m]
    paths: list[Path] = []
    try:
        with zipfile.ZipFile(wheel_path) as wheel:
            record = _record_hashes(wheel, spec)
            licence = stated_licence(wheel, spec)
            for member in members:
                data = wheel.read(member)
                want = record.get(member)
                got = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                if want != got:
                    raise ModelError(f"{wheel_path}: {member} does not match the wheel's RECORD hash")
                path = out_dir / Path(member).name
                path.write_bytes(data)
                paths.append(path)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ModelError(f"{wheel_path}: unreadable wheel: {exc}") from exc
    return paths[0], (paths[1] if len(paths) > 1 else None), licence


def check_export_tools() -> None:
    """ModelError unless torch and Ultralytics (the `export` extra) can be imported by the export child."""
    missing = [m for m in ("torch", "ultralytics", "onnx") if importlib.util.find_spec(m) is None]
    if missing:
        raise ModelError(
            f"fetching weights exports them to ONNX and needs {', '.join(missing)}: install the `export` "
            "extra (pip install 'gridwatch[export]')"
        )


def export_fp32(spec: WeightsPackage, pt: Path, layers: Path | None, out: Path) -> Path:
    """fp32 ONNX with dynamic shapes, exported by Ultralytics in a child process (`models.pt_export`)."""
    check_export_tools()
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_VERBOSE": "False",
           "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
    args = [sys.executable, "-m", "models.pt_export", "--pt", str(pt), "--out", str(out),
            "--imgsz", str(spec.imgsz), "--dynamic", "--main-classes", ",".join(spec.main_classes)]
    if layers is not None:
        args += ["--modules", str(layers)]
    log.info("exporting %s to ONNX with Ultralytics (child process)", pt.name)
    try:
        run = subprocess.run(args, capture_output=True, text=True, env=env, timeout=EXPORT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelError(f"{pt}: export could not run: {exc}") from exc
    if run.returncode != 0 or not out.is_file():
        tail = " | ".join((run.stderr or run.stdout).strip().splitlines()[-4:])
        raise ModelError(f"{pt}: ONNX export failed (exit {run.returncode}): {tail}")
    return out


def _check_names(path: Path, spec: WeightsPackage) -> dict[int, str]:
    from models.runtime import check_model_file  # noqa: PLC0415 (the runtime's own validation)

    names = dict(check_model_file(path).meta.names)
    if names != dict(spec.class_names):
        raise ModelError(f"{path}: class names {names} differ from the expected {dict(spec.class_names)}")
    return names


def quantize(fp32: Path, out: Path, calibration: CalibrationSet) -> Int8Agreement:
    """INT8 by our quantizer; agreement with fp32 on the held-out frames, stored in the ONNX metadata too."""
    from models.quantize import quantize_frames  # noqa: PLC0415 (pulls in the ORT quantizer)

    report = quantize_frames(fp32, calibration.calibrate, calibration.held_out, out,
                             calibration_name=calibration.description, keep_detect_float=True)
    a = report.agreement
    return Int8Agreement(
        frames=a.frames, reference_boxes=a.reference_boxes, test_boxes=a.test_boxes,
        recall=round(a.recall, 4), precision=round(a.precision, 4), iou=report.iou_match,
        conf_threshold=report.conf_threshold, calibration=calibration.description,
    )


def _versions() -> dict[str, str]:
    import importlib.metadata as md  # noqa: PLC0415

    out = {}
    for dist in ("ultralytics", "torch", "onnx", "onnxruntime"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "absent"
    return out


def fetch(
    name: str,
    calibration: CalibrationSource | None = None,
    *,
    root: Path | None = None,
    force: bool = False,
    requantize: bool = False,
    pip: Sequence[str] | None = None,
) -> FetchedWeights:
    """Fetch, verify and export weights `name` into the cache (see the module docstring); idempotent.

    Without `calibration`, no INT8 model is made (the runtime then uses fp32). `force` redoes every step;
    `requantize` keeps a verified fp32 export and redoes only the INT8 one.
    """
    spec = package_spec(name)
    folder = weights_dir(spec, root)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # set-up and a test session may fetch at once
        previous = None if force else _current(name, root, want_int8=False)
        if previous is not None and not requantize and (calibration is None or previous.int8_sha256 is not None):
            return previous
        t0 = time.perf_counter()
        (folder / MANIFEST_FILE).unlink(missing_ok=True)
        wheel = download_wheel(spec, folder, pip)
        pt, layers, licence = extract_members(wheel, spec, folder)
        fp32 = folder / "fp32.onnx"
        if previous is not None and previous.weights_sha256 == sha256_of(pt):
            fp32_entry = dict(previous.manifest["exports"]["fp32"])  # verified above: the same file
        else:
            export_fp32(spec, pt, layers, fp32)
            fp32_entry = {"file": fp32.name, "sha256": sha256_of(fp32), "imgsz": spec.imgsz, "dynamic": True,
                          "tool": "ultralytics export (models.pt_export)"}
        names = _check_names(fp32, spec)
        exports: dict[str, Any] = {"fp32": fp32_entry}
        if calibration is not None:
            int8 = folder / "int8.onnx"
            agreement = quantize(fp32, int8, calibration())
            exports["int8"] = {"file": int8.name, "sha256": sha256_of(int8), "agreement": agreement.to_dict(),
                               "tool": "gridwatch models.quantize (static QDQ, Detect head kept float)"}
        (folder / MODEL_MANIFEST_FILE).write_text(
            f"# written by `gridwatch models fetch {name}`\nversion: {spec.requirement}\n", encoding="utf-8"
        )
        manifest = {
            "name": name,
            "registry": "PyPI",
            "package": spec.package,
            "version": spec.version,
            "wheel": {"file": spec.wheel_file, "sha256": sha256_of(wheel)},
            "weights": {"member": spec.weights_member, "file": str(pt.relative_to(folder)),
                        "sha256": sha256_of(pt)},
            "layers": None if layers is None else {"member": spec.layers_member, "sha256": sha256_of(layers)},
            "class_names": {str(k): v for k, v in names.items()},
            "licence_stated": licence,
            "licence_note": spec.licence_note,
            "exports": exports,
            "tools": _versions(),
            "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        staged = folder / (MANIFEST_FILE + ".tmp")
        staged.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        staged.replace(folder / MANIFEST_FILE)
        log.info("fetched %s (%s) into %s in %.0f s", name, spec.requirement, folder, time.perf_counter() - t0)
        return read_fetched(name, root)


def verify(fetched: FetchedWeights) -> list[str]:
    """Problems found re-hashing a completed fetch's files against its manifest (empty when all match)."""
    spec = package_spec(fetched.name)
    checks = [
        (fetched.folder / spec.wheel_file, fetched.wheel_sha256),
        (fetched.folder / str(fetched.manifest["weights"]["file"]), fetched.weights_sha256),
        (fetched.fp32, fetched.fp32_sha256),
    ]
    if fetched.int8_sha256 is not None:
        checks.append((fetched.int8, fetched.int8_sha256))
    problems = []
    if fetched.wheel_sha256 != spec.wheel_sha256:
        problems.append(f"manifest wheel sha256 {fetched.wheel_sha256} is not the pinned {spec.wheel_sha256}")
    for path, want in checks:
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif sha256_of(path) != want:
            problems.append(f"{path} does not match its sha256 in the manifest")
    return problems


def _current(name: str, root: Path | None, *, want_int8: bool) -> FetchedWeights | None:
    try:
        fetched = read_fetched(name, root)
    except ModelError:
        return None
    if want_int8 and fetched.int8_sha256 is None:
        return None
    problems = verify(fetched)
    if problems:
        log.warning("fetched weights %s: %s; fetching again", name, "; ".join(problems))
        return None
    return fetched
