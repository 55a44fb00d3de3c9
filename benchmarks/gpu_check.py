"""The GPU node check, prepared to run as is on a node with an NVIDIA GPU and onnxruntime-gpu.

    python -m benchmarks.gpu_check --model fire.onnx --manifest model.yaml --out var/bench/gpu

For each requested provider (TensorRT, then CUDA, by default) that this ONNX Runtime build has, it runs:

1. `bench infer` at batch 8, 16 and 32: model only and the whole gridwatch pipeline (letterbox, inference
   through I/O binding, decode and NMS), fp32, square and rect input: analysed images per second per GPU;
2. `bench district` on that provider: the same mix of cameras, gated, ungated and Ultralytics, with the
   batcher's `max_batch` at the largest batch: cameras per CPU core when the GPU runs the model, and the
   model input share gating leaves;

and writes each suite's own report (JSON, markdown, PNG) under `--out/<suite>-<provider>/`, then
`gpu_check.json` / `.md` / `.png` with the figures side by side and the derived cameras per GPU (GPU
pipeline images per second / (analysed fps x gated model share)).

A requested provider that is missing is an error (exit 2) naming what this build offers, unless
`--allow-cpu` is given: then it runs on the CPU instead and says so in every report, which is how the
script is exercised on a machine without a GPU. "Missing" includes a provider this build lists but that
cannot start a session (onnxruntime-gpu on a node without a usable driver or CUDA libraries): ONNX Runtime
would quietly run that session on the CPU, so each GPU provider is probed on the model first and one that
lands on the CPU counts as missing. `--dry-run` prints the plan (after the probe) and runs nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import onnxruntime as ort

from benchmarks import district, district_report, plots, suites
from benchmarks.report import environment, gpu_name, markdown_table, write_report
from foundation.errors import ModelError
from models.config import ModelConfig, Provider
from models.providers import ORT_NAMES, create_session

log = logging.getLogger(__name__)

SUITE = "gpu_check"
GPU_PROVIDERS: tuple[Provider, ...] = ("tensorrt", "cuda")


@dataclass(frozen=True)
class Plan:
    """What will run: the providers (as requested and as they will actually run) and the sizes."""

    runs: list[tuple[Provider, Provider]]
    """(requested, used) per run; `used` is "cpu" for a missing provider under --allow-cpu."""
    missing: list[Provider]
    batches: list[int]
    gpu: str | None


def plan(requested: Sequence[Provider], available: Sequence[str], batches: Sequence[int], *,
         allow_cpu: bool, gpu: str | None) -> Plan:
    """Resolve the requested providers against this build; missing ones fall back to the CPU only when
    `allow_cpu` (one CPU run stands in for all of them)."""
    runs: list[tuple[Provider, Provider]] = []
    missing: list[Provider] = []
    for p in requested:
        if ORT_NAMES[p] in available:
            runs.append((p, p))
        else:
            missing.append(p)
    if missing and allow_cpu and not any(used == "cpu" for _, used in runs):
        runs.append((missing[0], "cpu"))
    return Plan(runs, missing, sorted(set(batches)), gpu)


Probe = Callable[[Provider], Provider]
"""Starts a session on one provider and returns the provider it actually runs on."""


def startable(available: Sequence[str], requested: Sequence[Provider], probe: Probe) -> list[str]:
    """`available` less the requested GPU providers whose session does not start on them: ONNX Runtime
    lists CUDA and TensorRT whenever onnxruntime-gpu is installed, GPU or not, and falls back to the CPU."""
    failed = {ORT_NAMES[p] for p in requested if p != "cpu" and ORT_NAMES[p] in available and probe(p) != p}
    return [name for name in available if name not in failed]


def session_probe(model: Path) -> Probe:
    """A probe that starts a real session of `model` on the provider (what `create_session` falls back to)."""
    def probe(provider: Provider) -> Provider:
        cfg = ModelConfig(name="gpu-check-probe", path=model, providers=[provider])
        try:
            _, used = create_session(model, cfg)
        except ModelError as exc:
            log.warning("gpu_check: %s did not start a session: %s", provider, exc)
            return "cpu"
        return cast(Provider, used) if used in ORT_NAMES else "cpu"
    return probe


def cameras_per_gpu(pipeline_img_s: float | None, analysis_fps: float, model_input_share: float | None) -> float | None:
    """Cameras one GPU serves if it only ran this model: its best pipeline images/s over what each
    camera asks of it (analysed frames/s x the share of model input gating leaves)."""
    if not pipeline_img_s or not model_input_share or analysis_fps <= 0:
        return None
    return round(pipeline_img_s / (analysis_fps * model_input_share), 1)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, help="ONNX model (default: the cached yolov8n test model)")
    p.add_argument("--manifest", type=Path, help="the model's manifest (class names, version)")
    p.add_argument("--out", type=Path, default=Path("var/bench/gpu"), help="report directory")
    p.add_argument("--providers", nargs="+", choices=[*GPU_PROVIDERS, "cpu"], default=list(GPU_PROVIDERS),
                   help="providers to measure, each on its own (default: tensorrt cuda)")
    p.add_argument("--batches", type=int, nargs="+", default=[8, 16, 32], help="batch sizes (default 8 16 32)")
    p.add_argument("--seconds", type=float, default=10.0, help="paired calls per batch size in `infer`")
    p.add_argument("--cameras", type=int, default=60, help="cameras in the district mix (default 60)")
    p.add_argument("--threads", type=int, default=4, help="ONNX Runtime intra-op threads (CPU-side ops)")
    p.add_argument("--trt-cache-dir", type=Path, default=None, help="TensorRT engine cache (default: under --out)")
    p.add_argument("--skip-district", action="store_true", help="only `infer`")
    p.add_argument("--skip-infer", action="store_true", help="only `district`")
    p.add_argument("--quick", action="store_true", help="tiny sizes: proves the script runs, figures mean nothing")
    p.add_argument("--allow-cpu", action="store_true",
                   help="run on the CPU when a requested provider is missing (to exercise the script)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    return p


def _infer(args: argparse.Namespace, used: Provider, out: Path, trt_cache: Path) -> dict[str, Any]:
    seconds, batches = (0.3, [min(args.batches)]) if args.quick else (args.seconds, args.batches)
    result = suites.run_infer(out, model=args.model, batches=batches, seconds=seconds, threads=args.threads,
                              int8=False, rect=True, ultralytics=False, providers=[used],
                              trt_cache_dir=trt_cache if used == "tensorrt" else None)
    return result.raw


def _model_path(args: argparse.Namespace) -> Path:
    from benchmarks.infer import default_model  # noqa: PLC0415

    return Path(args.model) if args.model else default_model()


def _district(args: argparse.Namespace, used: Provider, out: Path, trt_cache: Path) -> dict[str, Any]:
    spec = district.DistrictSpec(
        model=_model_path(args), manifest=args.manifest, cameras=args.cameras,
        max_batch=max(args.batches), threads=args.threads, providers=(used,),
        trt_cache_dir=trt_cache if used == "tensorrt" else None,
        clips_dir=district.cache_root() / "bench" / "district",
    )
    if args.quick:
        spec = replace(spec, cameras=2, duration_s=8.0, imgsz=320, clips_dir=out / "clips", max_batch=min(args.batches))
    return district.run(spec, out_dir=out)


def _pipeline_img_s(rows: Sequence[dict[str, Any]]) -> dict[int, float]:
    return {int(r["batch"]): float(r["img_s"]) for r in rows
            if r.get("stage") == "pipeline" and str(r.get("variant", "")).startswith("fp32 rect")}


def run(args: argparse.Namespace) -> int:
    """Run the plan; 0 when every run finished, 2 when a requested provider is missing (no --allow-cpu)."""
    available = ort.get_available_providers()
    if any(p != "cpu" and ORT_NAMES[p] in available for p in args.providers):
        available = startable(available, args.providers, session_probe(_model_path(args)))
    chosen = plan(args.providers, available, args.batches, allow_cpu=args.allow_cpu, gpu=gpu_name())
    print(f"GPU: {chosen.gpu or 'none found (nvidia-smi)'}; ONNX Runtime {ort.__version__} providers: "
          f"{', '.join(ort.get_available_providers())}")
    for req, used in chosen.runs:
        print(f"  run: requested {req} -> runs on {used}" + ("  (CPU stand-in: figures are not GPU figures)"
                                                              if used == "cpu" and req != "cpu" else ""))
    if chosen.missing and not args.allow_cpu:
        listed = [p for p in chosen.missing if ORT_NAMES[p] in ort.get_available_providers()]
        print(f"gpu_check: provider(s) {', '.join(chosen.missing)} not usable: "
              + (f"{', '.join(listed)} listed by this ONNX Runtime build but its session ran on the CPU "
                 "(no usable GPU, driver or CUDA/cuDNN/TensorRT libraries); " if listed else "")
              + f"this ONNX Runtime build has {', '.join(ort.get_available_providers())}; GPU: "
              f"{chosen.gpu or 'none found (nvidia-smi)'}. Install onnxruntime-gpu with CUDA 12/cuDNN 9 "
              "(and TensorRT 10 for tensorrt) on a GPU node, or pass --allow-cpu to exercise the script",
              file=sys.stderr)
        return 2
    if args.dry_run or not chosen.runs:
        return 0
    rows: list[dict[str, Any]] = []
    files: list[Path] = []
    for req, used in chosen.runs:
        trt_cache = args.trt_cache_dir or args.out / "trt-cache"
        row: dict[str, Any] = {"requested": req, "provider": used, "gpu": chosen.gpu or ""}
        if not args.skip_infer:
            res = _infer(args, used, args.out / f"infer-{used}", trt_cache)
            per_batch = _pipeline_img_s(res["rows"])
            row.update({f"pipeline_img_s_b{b}": round(v, 1) for b, v in sorted(per_batch.items())})
            row["provider_used_by_infer"] = res["environment"].get("provider")
            files.append(args.out / f"infer-{used}" / "infer.json")
        if not args.skip_district:
            res = _district(args, used, args.out / f"district-{used}", trt_cache)
            by = {r["system"]: r for r in res["rows"]}
            gated = by.get(district_report.GRIDWATCH_GATED, {})
            row.update(cameras_per_core_gated=gated.get("cameras_per_core"),
                       model_input_share=gated.get("model_input_share"),
                       recall_gated=gated.get("recall"))
            files += [f for f in res["files"] if f.suffix == ".json"]
            best = max((v for k, v in row.items() if k.startswith("pipeline_img_s_b")), default=None)
            share = gated.get("model_input_share")
            stride = float(res["environment"]["spec"]["vid_stride"])
            derived = cameras_per_gpu(best, district.STREAM_FPS / stride, share)
            if derived is not None:
                row["cameras_per_gpu_derived"] = derived
        rows.append(row)
    env = environment(args.model)
    env.update(gpu=chosen.gpu, providers_available=ort.get_available_providers(), plan=[list(r) for r in chosen.runs])
    notes = [
        "pipeline_img_s_bN: whole gridwatch pipeline (letterbox, inference with I/O binding on GPU providers, "
        "decode + NMS) on 1920x1080 frames at rect 640x384, batch N (`bench infer` rows)",
        "cameras_per_core_gated: `bench district` with the model on this provider (CPU does decode, change "
        "signal, crops and the detector)",
        "cameras_per_gpu_derived = best pipeline images/s / (analysed fps x gated model input share): what one "
        "GPU serves if it only ran this model",
        *(["CPU stand-in: a requested GPU provider was missing; these are CPU figures"]
          if any(u == "cpu" and r != "cpu" for r, u in chosen.runs) else []),
    ]
    jpath, mpath = write_report(args.out, SUITE, env, rows, summary={"runs": len(rows)}, notes=notes)
    series = {f"{r['provider']}": [(float(k.removeprefix("pipeline_img_s_b")), float(v)) for k, v in r.items()
                                   if k.startswith("pipeline_img_s_b")] for r in rows}
    png = plots.lines(series, args.out / "gpu_check_img_s.png", title="Pipeline images/s per GPU by batch",
                      xlabel="batch size", ylabel="images/s", log_x=True, xticks=[float(b) for b in chosen.batches])
    plots.link_plots(mpath, [png])
    print(markdown_table(rows))
    print("Files: " + ", ".join(str(f) for f in [jpath, mpath, png, *files]))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    args.providers = [cast(Provider, p) for p in args.providers]
    if any(b < 1 for b in args.batches):
        print("gpu_check: batch sizes must be at least 1", file=sys.stderr)
        return 2
    os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "threads;1")
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
