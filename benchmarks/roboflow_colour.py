"""The flame cue's single-image stage on the Roboflow fire frames: image-level precision and recall, by clip.

A still image has no time, so only the part of the flame cue that needs one frame applies: flame colour,
blobs, and the hot-core test (`detectors.fire.cues.still_candidates`), then the detector's size gates
(`still_stage_boxes`, also what `benchmarks.fire_modes` scores as the cues on stills).
An image is flagged when any box survives.

- fire images (a `Fire` box, class 0): found when flagged; found *on the fire* when a box overlaps a
  labelled fire box (a flag from an orange wall elsewhere in the frame is luck, not a find);
- negatives (`train-negatives/`, no fire or smoke): every flag is a false one;
- smoke-only images are reported apart (how many the flame cue calls fire), never counted as negatives.

Frames of one source clip are alike, so figures are also given per clip. The clip is read from the file
name (`fire2_mp4-29_jpg.rf.<hash>.jpg` is frame 29 of `fire2`); the negatives are named `img_<n>` with
no clip, and runs of numbers within `NEGATIVE_RUN_GAP` of each other are taken as one clip.

CLI: `python -m benchmarks.roboflow_colour ../shared/testdata-real/roboflow-fire-wrpgm`.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.fire import FireConfig
from detectors.fire.cues import still_candidates

NEGATIVE_RUN_GAP = 10
"""Negatives `img_<n>` whose numbers are within this of the previous one are taken as one clip."""

_CLIP = re.compile(r"^(?P<clip>.+?)_mp4-\d+_jpg")
_NUMBERED = re.compile(r"^img_(?P<n>\d+)")


@dataclass(frozen=True)
class ImageScore:
    """One image: its group, what its labels say, and what the still stage said."""

    name: str
    clip: str
    label: str  # "fire", "smoke" or "negative"
    flagged: bool
    on_fire: bool


def clip_of(name: str) -> str:
    """The source clip of a Roboflow frame's file name (`img` when the name carries none)."""
    m = _CLIP.match(name)
    return m.group("clip") if m else "img"


def _labels(path: Path) -> list[list[float]]:
    rows = [r.split() for r in path.read_text(encoding="utf-8").split("\n") if r.strip()]
    return [[float(v) for v in r] for r in rows]


def _overlaps(a: Sequence[float], b: Sequence[float]) -> bool:
    return a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]


def still_stage_boxes(image: NDArray[np.uint8], config: FireConfig) -> NDArray[np.float32]:
    """The flame cue's still stage on one image (colour, blobs, hot core: `still_candidates`), through the
    detector's size gates (`area.min_box_area_share`, `area.max_box_width_share`). The one scorer of the
    cues on stills: `benchmarks.fire_modes` (its `cues` and `both` rows) uses it too."""
    boxes = still_candidates(image, config.flame)
    h, w = image.shape[:2]
    width = boxes[:, 2] - boxes[:, 0]
    area = width * (boxes[:, 3] - boxes[:, 1])
    keep = (area >= config.area.min_box_area_share * w * h) & (width <= config.area.max_box_width_share * w)
    out: NDArray[np.float32] = boxes[keep]
    return out


def score_images(root: str | Path, config: FireConfig | None = None) -> list[ImageScore]:
    """Run the still stage over every labelled image of `test/`, `valid/` and `train-negatives/`."""
    cfg = config or FireConfig()
    base = Path(root)
    out: list[ImageScore] = []
    for split in ("test", "valid"):
        for img_path in sorted((base / split / "images").glob("*.jpg")):
            rows = _labels(base / split / "labels" / (img_path.stem + ".txt"))
            fire = [r[1:] for r in rows if int(r[0]) == 0]
            smoke = any(int(r[0]) == 2 for r in rows)
            image = _read(img_path)
            boxes = still_stage_boxes(image, cfg).tolist()
            h, w = image.shape[:2]
            truth = [((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h)
                     for cx, cy, bw, bh in fire]
            on_fire = any(_overlaps(b, t) for b in boxes for t in truth)
            label = "fire" if fire else ("smoke" if smoke else "negative")
            out.append(ImageScore(img_path.name, clip_of(img_path.name), label, bool(boxes), on_fire))
    negatives = sorted(
        (base / "train-negatives" / "images").glob("*.jpg"),
        key=lambda p: int(m.group("n")) if (m := _NUMBERED.match(p.name)) else 0,
    )
    run, last = 0, -(10**9)
    for img_path in negatives:
        m = _NUMBERED.match(img_path.name)
        n = int(m.group("n")) if m else last
        if n - last > NEGATIVE_RUN_GAP:
            run += 1
        last = n
        flagged = bool(len(still_stage_boxes(_read(img_path), cfg)))
        out.append(ImageScore(img_path.name, f"negatives-{run:02d}", "negative", flagged, False))
    return out


def _read(path: Path) -> NDArray[np.uint8]:
    image = cv2.imread(str(path))
    if image is None:
        raise ValueError(f"{path}: not a readable image")
    return np.asarray(image, np.uint8)


@dataclass(frozen=True)
class StillStageSummary:
    """Image-level figures of the still stage: fire images against negatives, overall and per clip."""

    fire_images: int
    negative_images: int
    tp: int
    fp: int
    found_on_fire: int
    precision: float
    recall: float
    recall_on_fire: float
    negatives_flagged: float
    clip_mean_recall: float
    clip_mean_negatives_flagged: float
    smoke_only_images: int
    smoke_only_called_fire: int
    clips: dict[str, dict[str, int]]


def summarise(scores: Sequence[ImageScore]) -> StillStageSummary:
    """Image-level precision/recall (fire images against negatives) and the same per clip."""
    fire = [s for s in scores if s.label == "fire"]
    neg = [s for s in scores if s.label == "negative"]
    smoke = [s for s in scores if s.label == "smoke"]
    tp = sum(s.flagged for s in fire)
    fp = sum(s.flagged for s in neg)
    clips: dict[str, dict[str, int]] = {}
    for s in fire + neg:
        c = clips.setdefault(s.clip, {"images": 0, "flagged": 0, "on_fire": 0})
        c["images"] += 1
        c["flagged"] += s.flagged
        c["on_fire"] += s.on_fire

    def mean_flagged(names: set[str]) -> float:
        return round(float(np.mean([clips[c]["flagged"] / clips[c]["images"] for c in names])), 3) if names else 0.0

    return StillStageSummary(
        fire_images=len(fire),
        negative_images=len(neg),
        tp=tp,
        fp=fp,
        found_on_fire=sum(s.on_fire for s in fire),
        precision=round(tp / max(1, tp + fp), 3),
        recall=round(tp / max(1, len(fire)), 3),
        recall_on_fire=round(sum(s.on_fire for s in fire) / max(1, len(fire)), 3),
        negatives_flagged=round(fp / max(1, len(neg)), 3),
        clip_mean_recall=mean_flagged({s.clip for s in fire}),
        clip_mean_negatives_flagged=mean_flagged({s.clip for s in neg}),
        smoke_only_images=len(smoke),
        smoke_only_called_fire=sum(s.flagged for s in smoke),
        clips=clips,
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Flame cue still stage on the Roboflow fire frames.")
    ap.add_argument("root", help="the roboflow-fire-wrpgm folder")
    ap.add_argument("--no-hot-core", action="store_true", help="colour and blobs only (before the hot-core test)")
    args = ap.parse_args(argv)
    config = FireConfig.model_validate({"flame": {"hot_min_luma": 0}} if args.no_hot_core else {})
    print(json.dumps(asdict(summarise(score_images(args.root, config))), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
