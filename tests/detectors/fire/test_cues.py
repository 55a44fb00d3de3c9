"""The weights-free cues on small synthetic frames (no video): what flickers, what is static, what moves."""

from __future__ import annotations

import cv2
import numpy as np

from detectors.fire.cue_config import FlameCueConfig, SmokeCueConfig
from detectors.fire.cues import FlameCue, _median_grey
from detectors.fire.smoke_cue import SmokeCue
from detectors.fire.work_frame import CueResult, WorkFrame

ORANGE = (20, 130, 250)
"""A dull orange (Y about 150): flame-coloured, but no hot core."""
LIT_AMBER = (120, 220, 255)
"""A bright amber (Y about 220): flame-coloured and hot."""
HOT_YELLOW = (90, 235, 255)


def _background(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((240, 320, 3), 110, np.uint8)
    cv2.rectangle(img, (40, 40), (120, 200), (150, 140, 130), -1)
    cv2.rectangle(img, (200, 60), (300, 200), (90, 100, 110), -1)
    noise = rng.normal(0, 2, img.shape[:2])[..., None]
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def _flame(img: np.ndarray, rng: np.random.Generator, x: int = 160, y: int = 190, size: int = 24) -> None:
    """A flame-like blob whose tongues change shape irregularly every frame, base fixed at (x, y)."""
    for _ in range(3):
        h = int(size * rng.uniform(0.8, 1.8))
        w = int(size * rng.uniform(0.3, 0.6))
        tip = (x + int(rng.normal(0, size / 3)), y - h)
        pts = np.array([(x - w, y), tip, (x + w, y)], np.int32)
        cv2.fillPoly(img, [pts], ORANGE)
    cv2.ellipse(img, (x, y - size // 3), (size // 3, size // 2), 0, 0, 360, (60, 200, 255), -1)


def _run(frames: list[np.ndarray], cfg: FlameCueConfig | None = None) -> list[CueResult]:
    cue = FlameCue()
    return [cue.step(WorkFrame.make(f, 480), cfg or FlameCueConfig()) for f in frames]


def test_flickering_blob_in_place_is_a_fire_candidate() -> None:
    rng = np.random.default_rng(7)
    frames = []
    for _ in range(6):
        img = _background()
        _flame(img, rng)
        frames.append(img)
    results = _run(frames)
    assert len(results[0].candidates) == 0  # nothing to compare the first frame with
    hits = [r for r in results[1:] if len(r.candidates)]
    assert len(hits) >= 3  # flames do not pass every frame; static things pass none (below)
    for r in hits:
        x1, y1, x2, y2 = r.candidates.xyxy[0].tolist()
        assert x1 < 160 < x2 and y1 < 180 < y2
        cfg = FlameCueConfig()
        assert r.candidates.disorder[0] >= min(cfg.min_disorder, cfg.min_inner_change)



def test_hold_ages_a_still_frame_exactly_as_step_on_the_same_frame_again() -> None:
    """The gate calls a frame still when nothing changed: `hold` must leave the cue as `step` would on an
    identical frame (still flame-coloured pixels one frame older), so a sign turns stable on schedule."""
    sign = _background()
    cv2.rectangle(sign, (150, 100), (190, 140), LIT_AMBER, -1)
    cfg = FlameCueConfig()
    stepped, held = FlameCue(), FlameCue()
    for cue in (stepped, held):
        for _ in range(3):
            cue.step(WorkFrame.make(sign, 480), cfg)
    stepped.step(WorkFrame.make(sign, 480), cfg)
    held.hold()
    assert held._age.max() == 4 and np.array_equal(held._age, stepped._age), "four frames seen"
    assert held.last_mask is not None and held.last_mask.any(), "the previous frame is kept"


def test_static_lit_sign_is_rejected_as_static() -> None:
    """A bright (hot) amber sign: it passes the hot-core test, so only its stillness rejects it."""
    frames = []
    for i in range(5):
        img = _background(i)  # fresh sensor noise each frame
        cv2.rectangle(img, (150, 100), (200, 130), LIT_AMBER, -1)
        frames.append(img)
    results = _run(frames)
    assert all(len(r.candidates) == 0 for r in results)
    assert sum(r.rejected_static for r in results) >= 4
    assert sum(r.rejected_dim for r in results) == 0


def test_dim_orange_coat_is_rejected_as_dim_even_when_it_moves_like_a_flame() -> None:
    """An orange patch without a bright core changing shape every frame: no hot pixels, so 'dim'."""
    rng = np.random.default_rng(3)
    frames = []
    for i in range(6):
        img = _background(i)
        for _ in range(3):
            x, y = 160 + int(rng.integers(-6, 7)), 150 + int(rng.integers(-6, 7))
            cv2.ellipse(img, (x, y), (14, 24), float(rng.uniform(0, 180)), 0, 360, ORANGE, -1)
        frames.append(img)
    results = _run(frames)
    assert all(len(r.candidates) == 0 for r in results)
    assert sum(r.rejected_dim for r in results) >= 4
    assert sum(r.rejected_static for r in results) == 0


def test_steady_flame_whose_inside_changes_is_a_fire_candidate() -> None:
    """The outline holds still (same ellipse every frame) while bright streaks move inside it."""
    rng = np.random.default_rng(11)
    frames = []
    for i in range(6):
        img = _background(i)
        cv2.ellipse(img, (160, 150), (16, 34), 0, 0, 360, ORANGE, -1)
        for _ in range(6):  # hot streaks at new places each frame, always inside the outline
            x, y = 160 + int(rng.integers(-8, 9)), 150 + int(rng.integers(-24, 25))
            cv2.ellipse(img, (x, y), (4, 7), 0, 0, 360, HOT_YELLOW, -1)
        frames.append(img)
    results = _run(frames)
    hits = [r for r in results[1:] if len(r.candidates)]
    assert len(hits) >= 4
    assert all(r.candidates.disorder[0] >= FlameCueConfig().min_inner_change for r in hits)


def test_lamp_fading_up_and_down_is_static_not_flicker() -> None:
    """A bright amber lamp that brightens and dims as a whole (outline fixed): one-way change only."""
    frames = []
    for i in range(8):
        img = _background(i)
        level = 0.88 + 0.12 * (i % 2)  # Y from about 195 to 220: hot in every frame
        colour = tuple(int(c * level) for c in LIT_AMBER)
        cv2.circle(img, (160, 120), 14, colour, -1)
        frames.append(img)
    results = _run(frames)
    assert all(len(r.candidates) == 0 for r in results)
    assert sum(r.rejected_static for r in results) >= 5


def test_rigidly_sliding_orange_object_is_not_flicker() -> None:
    """An orange car body sliding 8 px per analysed frame: some shift explains the change."""
    frames = []
    for i in range(6):
        img = _background(i)
        x = 60 + 8 * i
        cv2.rectangle(img, (x, 170), (x + 60, 195), ORANGE, -1)
        cv2.rectangle(img, (x + 15, 160), (x + 45, 170), ORANGE, -1)
        frames.append(img)
    results = _run(frames)
    assert all(len(r.candidates) == 0 for r in results)


def test_lamp_switching_on_is_an_onset_not_flicker() -> None:
    frames = []
    for i in range(6):
        img = _background(i)
        if i % 2:
            cv2.circle(img, (160, 120), 8, ORANGE, -1)
        frames.append(img)
    results = _run(frames)
    assert all(len(r.candidates) == 0 for r in results)
    assert sum(r.rejected_onset for r in results) >= 2


def test_flicker_measured_on_the_full_frame_scales_back_to_source_pixels() -> None:
    """A 1280-wide frame is analysed at work width; candidate boxes come back in source pixels."""
    rng = np.random.default_rng(2)
    frames = []
    for _ in range(4):
        img = cv2.resize(_background(), (1280, 960), interpolation=cv2.INTER_NEAREST)
        _flame(img, rng, x=640, y=760, size=90)
        frames.append(img)
    results = _run(frames)
    boxes = [r.candidates.xyxy[0] for r in results if len(r.candidates)]
    assert boxes
    assert all(b[0] < 640 < b[2] and b[1] < 700 < b[3] for b in boxes)


def test_smoke_cue_finds_grey_veil_over_texture() -> None:
    rng = np.random.default_rng(4)
    base = _background()
    stripes = np.zeros_like(base)
    stripes[:, ::6] = 60
    base = cv2.add(base, stripes)
    cue = SmokeCue()
    cfg = SmokeCueConfig(enabled=True)
    found = []
    for i in range(8):
        img = base.copy()
        if i >= 2:
            r = 14 + 4 * i
            veil = np.zeros(img.shape[:2], np.float32)
            cv2.circle(veil, (160, 200 - 6 * i), r, 0.7, -1)
            veil = cv2.GaussianBlur(veil, (0, 0), 4)[..., None]
            img = (img * (1 - veil) + 190 * veil).astype(np.uint8)
        img = np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).astype(np.uint8)
        res = cue.step(WorkFrame.make(img, 480), cfg, merge_gap_share=0.03)
        found.append(res.candidates)
    assert all(len(c) == 0 for c in found[:2])
    late = [c for c in found[4:] if len(c)]
    assert late
    box = late[-1].xyxy[0]
    assert box[0] < 160 < box[2]
    assert late[-1].blur_ratio[0] < 1.0  # the veil hides the stripes


def test_the_median_grey_read_off_the_histogram_is_numpys_median() -> None:
    rng = np.random.default_rng(3)
    for h, w in ((27, 48), (27, 49), (1, 1), (2, 1), (270, 480)):
        luma = cv2.cvtColor(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), cv2.COLOR_BGR2YCrCb).astype(np.int16)
        plane = luma[..., 0]
        assert _median_grey(plane) == float(np.median(plane.astype(np.float32))), (h, w)
