"""Merging footprints from many frames into sites: one site per structure, its best view and counts."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.construction.candidates import SOURCE_CUE, Candidates, GroundCandidates
from detectors.construction.config import SiteMergeConfig
from detectors.construction.polygons import ring_areas_m2
from detectors.construction.registry_entries import KIND_CODES, StructureKind
from detectors.construction.sites import SiteBook
from tests.detectors.construction.synth import frame, grass, nadir_pose, view_of

VIEW = view_of(nadir_pose())
IMG = grass(8, 8)


def ground(
    rings: list[np.ndarray],
    *,
    kind: StructureKind = StructureKind.STEEL_ROOF,
    truncated: bool = False,
    accuracy: float = 2.0,
) -> GroundCandidates:
    r = np.stack(rings)
    n = len(rings)
    pixel = Candidates(
        np.zeros((n, 4, 2)),
        np.full(n, KIND_CODES[kind], np.int32),
        np.full(n, 0.9, np.float32),
        np.full(n, SOURCE_CUE, np.int8),
        np.full(n, truncated),
    )
    return GroundCandidates(pixel, r, r.mean(axis=1), ring_areas_m2(r), np.full(n, accuracy), np.zeros(n))


def rect(e: float, n: float, w: float = 10.0, h: float = 6.0) -> np.ndarray:
    return np.array([[e, n], [e + w, n], [e + w, n + h], [e, n + h]], float)


def test_same_structure_in_many_frames_is_one_site() -> None:
    book = SiteBook(SiteMergeConfig())
    rng = np.random.default_rng(1)
    for seq in range(6):
        jitter = rng.normal(0, 1.0, 2)
        book.update(frame(IMG, None, seq), ground([rect(*(np.array([20.0, 30.0]) + jitter))]), VIEW)
    assert len(book.live) == 1
    site = book.live[0]
    assert site.frames == 6 and site.passes == 1
    assert np.hypot(*(site.centre_m - [25.0, 33.0])) < 1.5
    assert site.median_area_m2 == pytest.approx(60.0)


def test_neighbours_and_other_kinds_stay_apart() -> None:
    book = SiteBook(SiteMergeConfig(merge_distance_m=6.0))
    book.update(frame(IMG, None, 0), ground([rect(0, 0), rect(20, 0)]), VIEW)
    book.update(frame(IMG, None, 1), ground([rect(0, 0)], kind=StructureKind.SCAFFOLD), VIEW)
    assert [(s.site_id, s.kind) for s in book.live] == [
        ("S1", StructureKind.STEEL_ROOF),
        ("S2", StructureKind.STEEL_ROOF),
        ("S3", StructureKind.SCAFFOLD),
    ]


def test_partial_views_join_and_the_whole_view_becomes_best() -> None:
    book = SiteBook(SiteMergeConfig(), min_area_m2=lambda kind: 12.0)
    # A 4 m2 sliver at the frame edge cannot open a site ...
    assert book.update(frame(IMG, None, 0), ground([rect(0, 0, 2, 2)], truncated=True), VIEW) == []
    # ... a larger cut view can; then the whole structure is seen and becomes the best view.
    book.update(frame(IMG, None, 1), ground([rect(0, 0, 10, 3)], truncated=True), VIEW)
    book.update(frame(IMG, None, 2), ground([rect(0, 0, 10, 8)]), VIEW)
    assert len(book.live) == 1
    site = book.live[0]
    assert site.seen_whole and not site.best.truncated and site.best.area_m2 == 80.0
    assert np.allclose(site.centre_m, [5.0, 4.0])  # only whole views count for the position


def test_a_footprint_that_bridges_two_sites_merges_them() -> None:
    book = SiteBook(SiteMergeConfig(merge_distance_m=3.0, min_overlap_ratio=0.5))
    book.update(frame(IMG, None, 0), ground([rect(0, 0, 4, 8)], truncated=True), VIEW)
    book.update(frame(IMG, None, 1), ground([rect(14, 0, 4, 8)], truncated=True), VIEW)
    assert len(book.live) == 2
    book.update(frame(IMG, None, 2), ground([rect(0, 0, 18, 8)]), VIEW)
    assert len(book.live) == 1
    assert book.live[0].frames == 3


def test_passes_are_counted_by_gaps() -> None:
    book = SiteBook(SiteMergeConfig(pass_gap_s=15.0))
    for seq in [0, 1, 2, 40, 41, 90]:
        book.update(frame(IMG, None, seq), ground([rect(0, 0)]), VIEW)
    assert book.live[0].passes == 3
    assert book.live[0].frames == 6


def test_reproject_places_sightings_again_and_merges_what_is_one_structure() -> None:
    # A wrong focal put one roof's sightings 9 m apart (two sites); the calibrated camera puts both at (20, 30).
    book = SiteBook(SiteMergeConfig(merge_distance_m=6.0))
    book.update(frame(IMG, None, 0), ground([rect(15.0, 30.0)], accuracy=8.0), VIEW)
    book.update(frame(IMG, None, 1), ground([rect(24.0, 30.0)], accuracy=8.0), VIEW)
    assert len(book.live) == 2
    placed = {0: rect(20.2, 30.0), 1: rect(19.8, 30.0)}
    merged = book.reproject(lambda ob: (ground([placed[ob.seq]], accuracy=2.5), VIEW))
    assert merged == 1 and len(book.live) == 1
    site = book.live[0]
    assert site.frames == 2 and len(site.observations) == 2
    assert np.allclose(site.centre_m, [25.0, 33.0])
    assert site.accuracy_m == 2.5 and site.best.ring_m[0] == pytest.approx([20.2, 30.0])


def test_reproject_leaves_decided_sites_and_drops_sightings_that_no_longer_project() -> None:
    book = SiteBook(SiteMergeConfig())
    book.update(frame(IMG, None, 0), ground([rect(0.0, 0.0)]), VIEW)
    book.update(frame(IMG, None, 1), ground([rect(0.0, 0.0)]), VIEW)
    book.update(frame(IMG, None, 2), ground([rect(50.0, 0.0)]), VIEW)
    alerted = book.live[0]
    alerted.incident_id = "construction-F1-0-S1"
    book.reproject(lambda ob: None if ob.seq == 2 else (ground([rect(3.0, 0.0)]), VIEW))
    assert np.allclose(alerted.centre_m, [5.0, 3.0])  # an alert already sent is not moved
    other = book.live[1]
    assert len(other.observations) == 1  # its only sighting is the best view: kept
