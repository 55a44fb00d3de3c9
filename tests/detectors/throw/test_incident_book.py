"""The incident book's rejoin path: a fall whose track broke (rain, occlusion) continues on a later track only
when both ends of that track lie on the fall's fitted curve, and after the fall's last position."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.throw.config import ThrowConfig
from detectors.throw.facade_map import FlatScale
from detectors.throw.free_fall import G_M_S2
from detectors.throw.incident import Incident
from detectors.throw.incident_book import IncidentBook, extend_incident
from detectors.throw.trajectory import fit_trajectory
from ingest.frame import Frame

FPS = 25.0
PX_PER_M = 10.0
FRAME_H = 1000.0
SCALE = FlatScale(PX_PER_M, FRAME_H)
CONFIG = ThrowConfig()
RELEASE_M = 30.0
ALONG_M = 20.0
T0_S = 100.0


def fall_rows(first: int, last: int, *, shift_px: float = 0.0) -> np.ndarray:
    """(t, x, y) rows of one drag-free fall from RELEASE_M, frames first..last-1 (FlatScale camera, image y
    down), with a little centroid noise; `shift_px` moves them sideways off the fall."""
    rng = np.random.default_rng(first)
    k = np.arange(first, last)
    t = k / FPS
    height = RELEASE_M - 0.5 * G_M_S2 * t * t
    x = (ALONG_M + 0.3 * t) * PX_PER_M + shift_px + rng.normal(0, 0.4, len(k))
    y = FRAME_H - height * PX_PER_M + rng.normal(0, 0.4, len(k))
    return np.stack([T0_S + t, x, y], 1)


def closing_incident(book: IncidentBook, rows: np.ndarray) -> Incident:
    """An accepted fall on `rows` whose track has ended: it waits in the book's closing list."""
    fit = fit_trajectory(rows, SCALE, CONFIG.trajectory)
    assert fit.accepted, fit.reason
    snapshot = Frame("cam", 0, T0_S, T0_S, np.zeros((8, 8, 3), np.uint8))
    inc = Incident("inc-1", T0_S, fit, rows.copy(), snapshot, 6.0, np.empty((0, 3)))
    inc.closing_until_s = float(rows[-1, 0]) + CONFIG.tracking.rejoin_s
    book.closing.append(inc)
    return inc


def test_a_later_track_on_the_fall_curve_rejoins_it_and_keeps_the_earlier_positions() -> None:
    book = IncidentBook()
    first = fall_rows(0, 20)
    inc = closing_incident(book, first)
    second = fall_rows(26, 40)  # six frames lost, then the same object again

    assert book.rejoin(7, second, SCALE, CONFIG) is inc
    assert book.open == {7: inc} and book.closing == []
    assert inc.closing_until_s is None and not inc.frozen
    np.testing.assert_array_equal(inc.prefix, first)

    extend_incident(inc, second, SCALE, CONFIG)
    assert len(inc.points) == len(first) + len(second)  # the fall refitted on both tracks
    assert inc.fit.release_height_m == pytest.approx(RELEASE_M, abs=1.0)


def test_a_track_beside_the_curve_does_not_rejoin() -> None:
    book = IncidentBook()
    inc = closing_incident(book, fall_rows(0, 20))
    beside = fall_rows(26, 40, shift_px=60.0)  # a streak or another object 6 m to the side

    assert book.rejoin(7, beside, SCALE, CONFIG) is None
    assert book.closing == [inc] and book.open == {}


def test_a_track_that_starts_before_the_fall_ended_does_not_rejoin() -> None:
    book = IncidentBook()
    inc = closing_incident(book, fall_rows(0, 20))
    overlapping = fall_rows(15, 30)  # the same curve, but it was seen while the fall's own track still was

    assert book.rejoin(7, overlapping, SCALE, CONFIG) is None
    assert book.closing == [inc]


def test_a_fall_stops_growing_once_its_track_leaves_the_curve() -> None:
    book = IncidentBook()
    first = fall_rows(0, 20)
    inc = closing_incident(book, first)
    book.reopen(7, inc)
    strayed = np.concatenate([fall_rows(20, 24), fall_rows(24, 25, shift_px=80.0)])  # took another blob

    extend_incident(inc, strayed, SCALE, CONFIG)
    assert inc.frozen
    np.testing.assert_array_equal(inc.points, first)  # the fall as it was before the stray position
