"""What the model recently saw in one camera's crops, so the gate need not make it look again.

A changed blob lying inside a crop the model saw empty less than `recheck_after_s` ago is left out (a
blinking lamp is looked at about once a second, not on every frame). A watched region lying inside a
crop the model ran on less than `recheck_after_s` ago, where nothing has changed since (no change blob
touches that crop, other than the blobs left out as seen empty), gets that look's detections again (what
the model would say again on the same pixels). Watched regions are never left out: they are looked at or
given an earlier look's detections. A whole-frame look (a sweep, a `full` frame) is recorded as one crop
spanning the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from models.detections import Detections


@dataclass(frozen=True)
class Look:
    """One crop the model ran on: where (source pixels), when (capture time) and what it found there."""

    crop: NDArray[np.int32]
    captured_at: float
    detections: Detections


class RecentLooks:
    """The crops the model ran on in the last `recheck_after_s` of one camera, with their detections."""

    def __init__(self) -> None:
        self.looks: list[Look] = []

    def forget_older(self, captured_at: float, keep_s: float) -> None:
        """Drop the looks older than `keep_s` before `captured_at` (or after it: the clock went back)."""
        self.looks = [k for k in self.looks if 0.0 <= captured_at - k.captured_at < keep_s]

    def add(self, crops: NDArray[np.int32], captured_at: float, per_crop: list[Detections]) -> None:
        """The model ran on `crops` of the frame captured at `captured_at` and found `per_crop` (source px)."""
        self.looks += [Look(crop, captured_at, det) for crop, det in zip(crops, per_crop, strict=True)]

    def not_recently_seen(self, boxes: NDArray[np.float32]) -> tuple[NDArray[np.float32], int]:
        """The changed blobs not inside a fresh look that found nothing, and how many were left out."""
        seen = [k.crop for k in self.looks if len(k.detections) == 0]
        if not seen or len(boxes) == 0:
            return boxes, 0
        inside = boxes_inside(boxes, np.stack(seen)).any(axis=1)
        return boxes[~inside], int(inside.sum())

    def unchanged_watched(
        self, watched: NDArray[np.float32], change_boxes: NDArray[np.float32],
    ) -> tuple[NDArray[np.float32], Detections, int]:
        """(watched regions the model must look at, detections of fresh looks reused for the others, how
        many regions reused). A region is reused when it lies inside a fresh look that no change blob
        touches; the detections of every such look are given (a crop's magnified look may hold a box that
        a sweep over the same unchanged pixels missed), each look's once however many regions it covers:
        the caller merges boxes found by two looks."""
        if len(watched) == 0 or not self.looks:
            return watched, Detections.empty(), 0
        crops = np.stack([k.crop for k in self.looks]).astype(np.float32)
        still: NDArray[np.bool_] = np.ones(len(crops), bool)
        if len(change_boxes):
            still = np.asarray(~boxes_overlap(crops, change_boxes).any(axis=1), bool)
        inside = boxes_inside(watched, crops) & still[None, :]
        covered = inside.any(axis=1)
        if not covered.any():
            return watched, Detections.empty(), 0
        used = np.flatnonzero(inside[covered].any(axis=0)).tolist()
        reused = Detections.concat([self.looks[i].detections for i in used])
        return watched[~covered], reused, int(covered.sum())


def boxes_inside(boxes: NDArray[np.floating], crops: NDArray[np.floating]) -> NDArray[np.bool_]:
    """(N, M): box n lies wholly inside crop m."""
    return ((boxes[:, None, 0] >= crops[None, :, 0]) & (boxes[:, None, 1] >= crops[None, :, 1])
            & (boxes[:, None, 2] <= crops[None, :, 2]) & (boxes[:, None, 3] <= crops[None, :, 3]))


def boxes_overlap(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.bool_]:
    """(N, M): box a[n] and box b[m] share some area."""
    return ((a[:, None, 0] < b[None, :, 2]) & (b[None, :, 0] < a[:, None, 2])
            & (a[:, None, 1] < b[None, :, 3]) & (b[None, :, 1] < a[:, None, 3]))


@dataclass(frozen=True)
class Held:
    """Incidents held on one frame: the crops of the looks holding them, those looks' detections, how many
    incidents, and the capture time of the oldest of those looks."""

    crops: NDArray[np.int32]
    detections: Detections
    incidents: int
    oldest_look_at: float

    @classmethod
    def none(cls) -> Held:
        return cls(np.zeros((0, 4), np.int32), Detections.empty(), 0, 0.0)


class IncidentLooks:
    """When the model last looked at each open incident's region of one camera, and what it found there.

    An open incident burns on: its flames change on every frame, so the change rule above would send its
    region to the model on every frame, for evidence the detector already holds. Instead the region (the
    incident's extent with its context crop) is looked at at most every `incident_relook_s`; in between,
    an incident lying inside a fresh look's crop is *held*: the watched regions and changed blobs inside
    that crop are not sent, and the look's detections there are given again. An incident that grew out of
    its crop is not held (it is looked at, and a new crop recorded)."""

    def __init__(self) -> None:
        self.looks: list[Look] = []

    def forget_older(self, captured_at: float, keep_s: float) -> None:
        """Drop the looks older than `keep_s` before `captured_at` (or after it: the clock went back)."""
        self.looks = [k for k in self.looks if 0.0 <= captured_at - k.captured_at < keep_s]

    def hold(self, incidents: NDArray[np.float32]) -> Held:
        """Which incidents a fresh look holds: its crops, its detections, how many incidents, and when the
        oldest of those looks was taken (its re-look is due first)."""
        if len(incidents) == 0 or not self.looks:
            return Held.none()
        crops = np.stack([k.crop for k in self.looks])
        inside = boxes_inside(incidents, crops.astype(np.float32))
        held = inside.any(axis=1)
        used = sorted({int(np.argmax(row)) for row in inside[held]})
        if not used:
            return Held.none()
        return Held(crops[used], Detections.concat([self.looks[i].detections for i in used]), int(held.sum()),
                    min(self.looks[i].captured_at for i in used))

    def add(self, crops: NDArray[np.int32], captured_at: float, detections: Detections) -> None:
        """The model saw `crops` (incident regions) in the frame captured at `captured_at` and found
        `detections` (source pixels, anywhere in the frame): each crop keeps those overlapping it."""
        for crop in crops:
            keep = boxes_overlap(detections.xyxy, crop[None].astype(np.float32))[:, 0]
            self.looks.append(Look(crop, captured_at, detections[keep] if len(detections) else detections))


def outside(boxes: NDArray[np.float32], crops: NDArray[np.int32]) -> tuple[NDArray[np.float32], int]:
    """The boxes not wholly inside any of `crops`, and how many were inside."""
    if len(boxes) == 0 or len(crops) == 0:
        return boxes, 0
    inside = boxes_inside(boxes, crops.astype(np.float32)).any(axis=1)
    return boxes[~inside], int(inside.sum())
