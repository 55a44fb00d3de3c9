"""Feature alignment: pairwise matching finds a known shift; the adjustment recovers per-frame corrections
and keeps the whole flight's scale where telemetry puts it."""

from __future__ import annotations

import math

import cv2
import numpy as np

from detectors.construction.survey.align import Tie, adjust, detect, fall_back_to_telemetry, match
from detectors.construction.survey.config import AlignmentConfig


def _texture(seed: int, h: int = 400, w: int = 500) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.resize(rng.integers(0, 255, (h // 8, w // 8, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(60):
        x, y = rng.integers(0, w - 30), rng.integers(0, h - 30)
        cv2.rectangle(
            img,
            (int(x), int(y)),
            (int(x + rng.integers(8, 30)), int(y + rng.integers(8, 30))),
            tuple(int(v) for v in rng.integers(0, 255, 3)),
            -1,
        )
    return img


def test_match_finds_the_shift_between_two_views() -> None:
    img = _texture(1)
    shift = np.array([[1.0, 0, 6.5], [0, 1.0, -4.0], [0, 0, 1.0]])  # a view 6.5 px right, 4 px up
    moved = cv2.warpAffine(img, shift[:2], (img.shape[1], img.shape[0]))
    a = detect(img, np.eye(3), 1500)
    b = detect(moved, np.linalg.inv(shift), 1500)  # b's canvas positions from a telemetry that knows no shift
    found = match(a, b, 0.8, 30.0, 2.0, 15)
    assert found is not None
    p, q = found
    assert len(p) >= 15
    # After mapping b through the inverse shift its points coincide with a's: telemetry was right here.
    assert np.median(np.hypot(*(q - p).T)) < 0.7
    # Telemetry that misses the shift: b's points sit (6.5, -4) away, and the matches say so.
    b_raw = detect(moved, np.eye(3), 1500)
    found = match(a, b_raw, 0.8, 30.0, 2.0, 15)
    assert found is not None
    assert np.allclose(np.median(found[1] - found[0], axis=0), [6.5, -4.0], atol=0.7)


def test_adjustment_recovers_frame_corrections_and_holds_the_flight_scale() -> None:
    rng = np.random.default_rng(3)
    centres = np.array([[100.0 + 160 * i, 300.0 + 240 * j] for j in range(2) for i in range(5)])
    # The truth: each frame telemetry placed off by a shift and a yaw; ties are true points seen by both.
    truth = [(rng.normal(0, 6, 2), math.radians(rng.normal(0, 1.0))) for _ in centres]

    def seen(i: int, world: np.ndarray) -> np.ndarray:
        t, a = truth[i]
        r = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        return (world - centres[i]) @ r.T + centres[i] + t  # where frame i's telemetry put the world point

    ties = []
    for i in range(len(centres)):
        for j in range(i + 1, len(centres)):
            lo, hi = np.maximum(centres[i], centres[j]) - 150, np.minimum(centres[i], centres[j]) + 150
            if np.any(hi - lo < 40):
                continue
            world = rng.uniform(lo, hi, (40, 2))
            ties.append(Tie(i, j, seen(i, world), seen(j, world)))
    result = adjust(centres, ties, AlignmentConfig(), px_m=0.25)
    assert result.frame_ties == len(ties) and result.rms_frame_px < 0.05
    # Corrected, every frame's points land where every other frame's do: check two frames' views agree.
    world = np.array([[420.0, 480.0], [430.0, 470.0]])
    placed = [(result.corrections[i] @ np.column_stack([seen(i, world), np.ones(2)]).T).T[:, :2] for i in (2, 7)]
    assert np.abs(placed[0] - placed[1]).max() < 0.2
    # The flight as a whole keeps telemetry's scale: no frame grows or shrinks by more than 0.5 %.
    scales = [math.hypot(c[0, 0], c[1, 0]) for c in result.corrections]
    assert max(abs(s - 1) for s in scales) < 0.005


def test_previous_mosaic_anchors_decide_the_position() -> None:
    centres = np.array([[100.0, 100.0], [260.0, 100.0]])
    pts = np.array([[150.0 + 10 * k, 80.0 + 5 * k] for k in range(20)])
    off = np.array([8.0, -3.0])
    ties = [Tie(0, 1, pts, pts), Tie(0, -1, pts, pts + off), Tie(1, -1, pts + 60, pts + 60 + off)]
    result = adjust(centres, ties, AlignmentConfig(), px_m=0.25)
    assert result.anchored_frames == 2
    moved = (result.corrections[0] @ np.array([150.0, 80.0, 1.0]))[:2]
    assert np.allclose(moved, [158.0, 77.0], atol=0.3)  # the earlier mosaic wins over telemetry


def _anchored_line(wrong_px: np.ndarray) -> tuple[np.ndarray, list[Tie]]:
    """Six keyframes in a line, the day's GNSS offset (8, -3) px seen by their anchors to the previous
    mosaic; keyframe 3 has only anchors, and they are wrong by `wrong_px` more (a look-alike roof)."""
    centres = np.array([[100.0 + 160 * i, 100.0] for i in range(6)])
    off = np.array([8.0, -3.0])
    ties = []
    for i, c in enumerate(centres):
        pts = c + np.array([[-60.0 + 7 * k, -40.0 + 4 * k] for k in range(20)])
        ties.append(Tie(i, -1, pts, pts + off + (wrong_px if i == 3 else 0.0)))
    return centres, ties


def test_a_keyframe_pulled_far_from_telemetry_falls_back_to_it() -> None:
    config = AlignmentConfig()
    centres, ties = _anchored_line(np.array([40.0, 0.0]))  # 10 m at 0.25 m per pixel
    first = adjust(centres, ties, config, px_m=0.25)
    assert abs((first.corrections[3] @ np.array([*centres[3], 1.0]))[0] - centres[3][0] - 48.0) < 1.0
    result = fall_back_to_telemetry(centres, ties, first, config, px_m=0.25)
    assert result.fallback_frames == (3,)
    # Placed by its telemetry moved by the flight's common correction (the day's offset), as its neighbours.
    for i in (2, 3, 4):
        moved = (result.corrections[i] @ np.array([*centres[i], 1.0]))[:2]
        assert np.allclose(moved - centres[i], [8.0, -3.0], atol=0.3)


def test_keyframes_within_the_gnss_error_keep_their_feature_alignment() -> None:
    config = AlignmentConfig()
    centres, ties = _anchored_line(np.array([12.0, 0.0]))  # 3 m: within max_frame_disagreement_m
    first = adjust(centres, ties, config, px_m=0.25)
    assert fall_back_to_telemetry(centres, ties, first, config, px_m=0.25) is first
    off = AlignmentConfig(max_frame_disagreement_m=0.0)
    centres, ties = _anchored_line(np.array([40.0, 0.0]))
    first = adjust(centres, ties, off, px_m=0.25)
    assert fall_back_to_telemetry(centres, ties, first, off, px_m=0.25) is first
