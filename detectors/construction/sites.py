"""Sites: one per structure on the ground, merged from footprints seen in many frames and passes.

A footprint joins the site of the same kind whose centre is within `merge_distance_m`, or whose best
footprint it overlaps by `min_overlap_ratio` of the smaller of the two (a partial view at a frame edge);
otherwise it opens a new site. A site keeps its best view (whole, most accurate), an accuracy-weighted
mean position, and counts of frames and passes. Sites are few per flight, so they are plain objects.

Every sighting is kept as an `Observation` (pixels and pose, no image), so when the flight's camera is
calibrated after sites were opened, `SiteBook.reproject` places every sighting again with the calibrated
camera and merges sites that turn out to be one structure. The best view keeps its frame for evidence;
which sighting is best does not depend on the calibration (it is the least oblique whole view).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from detectors.construction.candidates import SOURCE_NAMES, Candidates, GroundCandidates
from detectors.construction.config import SiteMergeConfig
from detectors.construction.local_registry import RegistryMatch
from detectors.construction.polygons import overlap_ratio
from detectors.construction.registry_entries import KINDS_BY_CODE, StructureKind
from detectors.geometry.drone import DroneView
from ingest.frame import Frame, Pose


@dataclass(eq=False)
class Observation:
    """One sighting of a site: the candidate in pixels with the pose it was seen from, and where it was put."""

    seq: int
    captured_at: float
    pts_s: float
    pose: Pose | None
    width_px: int
    height_px: int
    pixel: Candidates
    """The candidate alone (one row), as the frame gave it."""
    ring_m: NDArray[np.float64]
    centre_m: NDArray[np.float64]
    area_m2: float
    accuracy_m: float
    plane_up_m: float
    view: DroneView

    @property
    def truncated(self) -> bool:
        return bool(self.pixel.truncated[0])

    @property
    def confidence(self) -> float:
        return float(self.pixel.confidence[0])

    def placed(self, ground: GroundCandidates, view: DroneView) -> None:
        """Take the footprint of this sighting as projected again (one row of `ground`)."""
        self.ring_m = ground.rings_m[0]
        self.centre_m = ground.centre_m[0]
        self.area_m2 = float(ground.area_m2[0])
        self.accuracy_m = float(ground.accuracy_m[0])
        self.plane_up_m = float(ground.plane_up_m[0])
        self.view = view


Reprojector = Callable[[Observation], tuple[GroundCandidates, DroneView] | None]
"""Places one observation again with another camera: its one-row footprint and view, or None if it misses."""


class SiteStatus(StrEnum):
    PENDING = "pending"
    """Seen in too few frames to decide."""
    NEW = "new"
    KNOWN = "known"
    PARTIAL = "partial"
    """Would be new, but was only ever seen cut by the frame edge: not alerted (`require_full_view`)."""


@dataclass
class BestView:
    """The frame a site is seen best in, with its footprint there."""

    frame: Frame
    quad_px: NDArray[np.float64]
    ring_m: NDArray[np.float64]
    area_m2: float
    accuracy_m: float
    confidence: float
    truncated: bool
    off_nadir_deg: float
    plane_up_m: float
    view: DroneView
    source: str
    rank_off_nadir_deg: float = 0.0
    """How oblique the candidate's ray was when first placed: the calibration-free part of the ranking."""

    def better_than(self, other: BestView) -> bool:
        return _better(self.truncated, self.rank_off_nadir_deg, self.confidence, other)


@dataclass
class Site:
    """One structure seen during a flight."""

    number: int
    kind: StructureKind
    first_seen_at: float
    last_seen_at: float
    first_pts_s: float
    last_pts_s: float
    best: BestView
    frames: int = 0
    passes: int = 1
    last_frame_seq: int = -1
    weight_sum: float = 0.0
    weighted_east: float = 0.0
    weighted_north: float = 0.0
    max_confidence: float = 0.0
    sources: set[str] = field(default_factory=set)
    areas_m2: list[float] = field(default_factory=list)
    status: SiteStatus = SiteStatus.PENDING
    registry: RegistryMatch | None = None
    incident_id: str | None = None
    update_seq: int = 0
    ended: bool = False
    seen_whole: bool = False
    merged_into: int | None = None
    observations: list[Observation] = field(default_factory=list)
    best_observation: Observation | None = None

    @property
    def site_id(self) -> str:
        return f"S{self.number}"

    @property
    def centre_m(self) -> NDArray[np.float64]:
        """Accuracy-weighted mean of the whole views' centres (all views when none was whole)."""
        if self.weight_sum > 0:
            return np.array([self.weighted_east / self.weight_sum, self.weighted_north / self.weight_sum])
        out: NDArray[np.float64] = self.best.ring_m.mean(axis=0)
        return out

    @property
    def accuracy_m(self) -> float:
        """The best single view's radius: errors of one flight are correlated, so it does not shrink with
        the number of views."""
        return self.best.accuracy_m

    def recount(self) -> None:
        """Recompute position, areas and the best view's footprint from the observations (after they
        were placed again)."""
        self.weight_sum = self.weighted_east = self.weighted_north = 0.0
        self.areas_m2 = []
        for ob in self.observations:
            if ob.truncated:
                continue
            w = 1.0 / max(ob.accuracy_m, 0.1) ** 2
            self.weight_sum += w
            self.weighted_east += w * float(ob.centre_m[0])
            self.weighted_north += w * float(ob.centre_m[1])
            self.areas_m2.append(ob.area_m2)
        best = self.best_observation
        if best is not None:
            b = self.best
            b.ring_m, b.area_m2, b.accuracy_m = best.ring_m, best.area_m2, best.accuracy_m
            b.plane_up_m, b.view, b.off_nadir_deg = best.plane_up_m, best.view, best.view.off_nadir_deg

    @property
    def median_area_m2(self) -> float:
        return float(np.median(self.areas_m2)) if self.areas_m2 else self.best.area_m2


class SiteBook:
    """All sites of one flight, and the merge of each frame's ground candidates into them."""

    def __init__(self, config: SiteMergeConfig, min_area_m2: Callable[[StructureKind], float] | None = None) -> None:
        """`min_area_m2(kind)` is the size gate of the kind: smaller partial views cannot open a site."""
        self.config = config
        self.sites: list[Site] = []
        self.min_area_m2 = min_area_m2 or (lambda _kind: 0.0)

    @property
    def live(self) -> list[Site]:
        """Sites not folded into another one."""
        return [s for s in self.sites if s.merged_into is None]

    def _merge(self, matches: list[Site]) -> Site:
        """One footprint matched several sites: they are one structure. Keep an alerted one if any."""
        alerted = [s for s in matches if s.incident_id is not None]
        keep = alerted[0] if alerted else matches[0]
        for other in matches:
            if other is not keep and other.incident_id is None:
                self._absorb(keep, other)
        return keep

    def update(self, frame: Frame, cands: GroundCandidates, view: DroneView) -> list[Site]:
        """Merge one frame's candidates; return the sites they touched (each once)."""
        touched: dict[int, Site] = {}
        cfg = self.config
        rank = view.ray_off_nadir_deg(cands.pixel.quads_px.mean(axis=1)) if len(cands) else np.zeros(0)
        for i in np.argsort(-cands.pixel.confidence):
            kind = KINDS_BY_CODE[int(cands.pixel.kind[i])]
            ring = cands.rings_m[i]
            centre = cands.centre_m[i]
            matches = self._match(kind, ring, centre)
            site = self._merge(matches) if matches else None
            truncated = bool(cands.pixel.truncated[i])
            accuracy = float(cands.accuracy_m[i])
            confidence = float(cands.pixel.confidence[i])
            area = float(cands.area_m2[i])
            if site is None and truncated and area < self.min_area_m2(kind):
                continue  # a sliver at the frame edge only joins a site, it does not open one
            ob = Observation(
                seq=frame.seq,
                captured_at=frame.captured_at,
                pts_s=frame.pts_s,
                pose=frame.pose,
                width_px=frame.width,
                height_px=frame.height,
                pixel=cands.pixel.select(np.arange(len(cands)) == i),
                ring_m=ring,
                centre_m=centre,
                area_m2=area,
                accuracy_m=accuracy,
                plane_up_m=float(cands.plane_up_m[i]),
                view=view,
            )
            if site is None or _better(truncated, float(rank[i]), confidence, site.best):
                seen = BestView(
                    frame=frame,
                    quad_px=cands.pixel.quads_px[i],
                    ring_m=ring,
                    area_m2=area,
                    accuracy_m=accuracy,
                    confidence=confidence,
                    truncated=truncated,
                    off_nadir_deg=view.off_nadir_deg,
                    plane_up_m=float(cands.plane_up_m[i]),
                    view=view,
                    source=SOURCE_NAMES[int(cands.pixel.source[i])],
                    rank_off_nadir_deg=float(rank[i]),
                )
                if site is None:
                    site = Site(
                        number=len(self.sites) + 1,
                        kind=kind,
                        first_seen_at=frame.captured_at,
                        last_seen_at=frame.captured_at,
                        first_pts_s=frame.pts_s,
                        last_pts_s=frame.pts_s,
                        best=seen,
                    )
                    self.sites.append(site)
                else:
                    site.best = seen
                site.best_observation = ob
            site.observations.append(ob)
            if frame.captured_at - site.last_seen_at > cfg.pass_gap_s:
                site.passes += 1
            site.last_seen_at = max(site.last_seen_at, frame.captured_at)
            site.last_pts_s = max(site.last_pts_s, frame.pts_s)
            if site.last_frame_seq != frame.seq:
                site.frames += 1
                site.last_frame_seq = frame.seq
            if not truncated:
                w = 1.0 / max(accuracy, 0.1) ** 2
                site.weight_sum += w
                site.weighted_east += w * float(centre[0])
                site.weighted_north += w * float(centre[1])
                site.areas_m2.append(area)
                site.seen_whole = True
            site.max_confidence = max(site.max_confidence, confidence)
            site.sources.add(SOURCE_NAMES[int(cands.pixel.source[i])])
            touched[site.number] = site
        return list(touched.values())

    def reproject(self, place: Reprojector) -> int:
        """Place every observation of the undecided sites again (a calibrated camera), then merge sites of
        one kind that now match each other. Returns how many sites were merged away.

        Decided sites (alerted or known) keep where they were: an alert already sent is not moved.
        """
        for site in self.live:
            if site.incident_id is not None or site.status not in (SiteStatus.PENDING, SiteStatus.PARTIAL):
                continue
            kept = []
            for ob in site.observations:
                again = place(ob)
                if again is None:
                    continue
                ob.placed(*again)
                kept.append(ob)
            if site.best_observation is not None and site.best_observation not in kept:
                kept.append(site.best_observation)  # the best view stays even if its ray now misses
            site.observations = kept
            site.recount()
        merged = 0
        for site in self.live:
            if site.merged_into is not None or site.incident_id is not None:
                continue
            centre = site.best.ring_m.mean(axis=0)
            others = [o for o in self._match(site.kind, site.best.ring_m, centre) if o is not site]
            for other in others:
                if other.incident_id is None and other.merged_into is None:
                    self._absorb(site, other)
                    merged += 1
        return merged

    def _match(self, kind: StructureKind, ring: NDArray[np.float64], centre: NDArray[np.float64]) -> list[Site]:
        """Sites of this kind the footprint belongs to, best first (largest overlap, then nearest)."""
        found: list[tuple[tuple[float, float], Site]] = []
        for site in self.sites:
            if site.kind != kind or site.merged_into is not None:
                continue
            dist = float(np.hypot(*(site.centre_m - centre)))
            reach = _radius(ring, centre) + _radius(site.best.ring_m, site.best.ring_m.mean(axis=0))
            ratio = overlap_ratio(ring, site.best.ring_m) if dist < reach else 0.0
            if dist <= self.config.merge_distance_m or ratio >= self.config.min_overlap_ratio:
                found.append(((ratio, -dist), site))
        found.sort(key=lambda kv: kv[0], reverse=True)
        return [site for _, site in found]

    @staticmethod
    def _absorb(keep: Site, gone: Site) -> None:
        """Fold `gone` (a partial view that opened its own site) into `keep`."""
        keep.first_seen_at = min(keep.first_seen_at, gone.first_seen_at)
        keep.last_seen_at = max(keep.last_seen_at, gone.last_seen_at)
        keep.first_pts_s = min(keep.first_pts_s, gone.first_pts_s)
        keep.last_pts_s = max(keep.last_pts_s, gone.last_pts_s)
        keep.frames += gone.frames
        keep.passes = max(keep.passes, gone.passes)
        keep.weight_sum += gone.weight_sum
        keep.weighted_east += gone.weighted_east
        keep.weighted_north += gone.weighted_north
        keep.max_confidence = max(keep.max_confidence, gone.max_confidence)
        keep.sources |= gone.sources
        keep.areas_m2 += gone.areas_m2
        keep.seen_whole = keep.seen_whole or gone.seen_whole
        keep.observations += gone.observations
        if gone.best.better_than(keep.best):
            keep.best, keep.best_observation = gone.best, gone.best_observation
        gone.merged_into = keep.number


def _better(truncated: bool, off_nadir_deg: float, confidence: float, than: BestView) -> bool:
    """Whole beats cut by the frame edge; then the less oblique view (the smaller error, whatever the
    calibration); then confidence."""
    if truncated != than.truncated:
        return not truncated
    if abs(off_nadir_deg - than.rank_off_nadir_deg) > 0.5:
        return off_nadir_deg < than.rank_off_nadir_deg
    return confidence > than.confidence


def _radius(ring: NDArray[np.float64], centre: NDArray[np.float64]) -> float:
    return float(np.sqrt(np.max(np.sum((ring - centre) ** 2, axis=1))))
