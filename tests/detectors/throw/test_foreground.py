"""Foreground on real OpenCV: blobs where things move, nothing from jitter, exploded frames rejected."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detectors.throw.config import ForegroundConfig
from detectors.throw.foreground import ForegroundExtractor

W, H = 960, 540


def facade_scene(seed: int = 0) -> np.ndarray:
    """A textured static scene: wall, a grid of windows with frames, some noise-free texture."""
    rng = np.random.default_rng(seed)
    img = np.full((H, W, 3), 175, np.uint8)
    for y in range(20, H - 40, 30):
        for x in range(30, W - 40, 45):
            g = int(rng.integers(40, 200))
            cv2.rectangle(img, (x, y), (x + 22, y + 16), (g, g, g), -1)
            cv2.rectangle(img, (x, y), (x + 22, y + 16), (235, 235, 235), 1)
    return img


_NOISE: dict[tuple[int, ...], list[tuple[np.ndarray, np.ndarray]]] = {}


def with_noise(img: np.ndarray, rng: np.random.Generator, sigma: float = 1.5) -> np.ndarray:
    """Sensor noise (sigma grey levels) from a small bank per frame size, so tests stay fast."""
    bank = _NOISE.get(img.shape)
    if bank is None:
        gen = np.random.default_rng(99)
        noise = [gen.normal(0, sigma, img.shape) for _ in range(4)]
        bank = _NOISE[img.shape] = [
            (np.clip(z, 0, 255).astype(np.uint8), np.clip(-z, 0, 255).astype(np.uint8)) for z in noise
        ]
    pos, neg = bank[int(rng.integers(0, len(bank)))]
    return cv2.subtract(cv2.add(img, pos), neg)


def shifted(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    m = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REPLICATE)


def warm_up(ex: ForegroundExtractor, scene: np.ndarray, rng: np.random.Generator, n: int = 30) -> None:
    for _ in range(n):
        ex.process(with_noise(scene, rng))


def test_a_moving_object_is_one_blob_at_its_position() -> None:
    rng = np.random.default_rng(1)
    scene = facade_scene()
    ex = ForegroundExtractor(ForegroundConfig(), "cam1")
    warm_up(ex, scene, rng)
    for i in range(5):
        frame = scene.copy()
        cx, cy = 400 + 3 * i, 100 + 12 * i
        cv2.circle(frame, (cx, cy), 3, (20, 20, 20), -1)
        r = ex.process(with_noise(frame, rng))
        assert r.rejected is None
        assert len(r.blobs) == 1, r.blobs
        assert np.allclose(r.blobs.xy[0], (cx + 0.5, cy + 0.5), atol=1.5)


def test_wind_jitter_is_stabilised_and_would_otherwise_light_up_the_edges() -> None:
    rng = np.random.default_rng(2)
    scene = facade_scene()
    offsets = rng.normal(0, 0.6, (40, 2))
    on = ForegroundExtractor(ForegroundConfig(), "cam1")
    off = ForegroundExtractor(ForegroundConfig(stabilise=False, edge_threshold_gain=0.0), "cam1")
    warm_up(on, scene, rng)
    warm_up(off, scene, rng)
    blobs_on = blobs_off = 0
    for dx, dy in offsets:
        frame = with_noise(shifted(scene, dx, dy), rng)
        r_on, r_off = on.process(frame), off.process(frame)
        assert r_on.rejected is None
        assert abs(r_on.shift_px[0] - dx) < 0.2 and abs(r_on.shift_px[1] - dy) < 0.2
        blobs_on += len(r_on.blobs)
        blobs_off += len(r_off.blobs) + (1000 if r_off.rejected else 0)
    assert blobs_on <= 2
    assert blobs_off > 100


def test_blob_positions_are_in_the_reference_view_despite_jitter() -> None:
    rng = np.random.default_rng(3)
    scene = facade_scene()
    ex = ForegroundExtractor(ForegroundConfig(), "cam1")
    warm_up(ex, scene, rng)
    frame = scene.copy()
    cv2.circle(frame, (500, 300), 3, (20, 20, 20), -1)
    r = ex.process(with_noise(shifted(frame, 2.3, -1.6), rng))
    assert len(r.blobs) == 1
    assert np.allclose(r.blobs.xy[0], (500.5, 300.5), atol=1.0)


def test_masked_sky_is_not_watched() -> None:
    rng = np.random.default_rng(4)
    scene = facade_scene()
    cfg = ForegroundConfig(sky_masks=[[(0.0, 0.0), (1.0, 0.0), (1.0, 0.3), (0.0, 0.3)]])
    ex = ForegroundExtractor(cfg, "cam1")
    warm_up(ex, scene, rng)
    frame = scene.copy()
    cv2.circle(frame, (300, 60), 4, (20, 20, 20), -1)  # a bird in the sky
    cv2.circle(frame, (300, 400), 4, (20, 20, 20), -1)  # an object in front of the facade
    r = ex.process(with_noise(frame, rng))
    assert len(r.blobs) == 1
    assert r.blobs.xy[0, 1] > 300


def rain(frame: np.ndarray, rng: np.random.Generator, n: int, slant: float = 0.15) -> np.ndarray:
    """`n` thin bright streaks at one wind slant, as a shower draws them in one frame."""
    out = frame.copy()
    for x, y in rng.uniform([0, 0], [W, H - 30], (n, 2)).astype(int):
        length = int(rng.integers(8, 26))
        cv2.line(out, (int(x), int(y)), (int(x + slant * length), int(y) + length), (235, 235, 235), 1)
    return out


def test_heavy_rain_is_not_rejected_its_streaks_come_back_thin_and_aligned() -> None:
    rng = np.random.default_rng(5)
    scene = facade_scene()
    ex = ForegroundExtractor(ForegroundConfig(), "cam1")
    warm_up(ex, scene, rng)
    r = ex.process(with_noise(rain(scene, rng, 600), rng))
    assert r.rejected is None
    assert len(r.blobs) > 300
    shape = r.blobs.shape
    long_thin = (shape.minor_px <= 2.5) & (shape.major_px >= 2 * np.maximum(shape.minor_px, 1))
    assert long_thin.mean() > 0.7
    # the streaks' direction (image coordinates, y down) is the slant's: atan2(1, 0.15) = 81.5 degrees
    assert abs(np.degrees(np.median(np.abs(shape.angle_rad[long_thin]))) - 81.5) < 4


def test_a_frame_that_changes_everywhere_at_once_is_rejected_but_a_headlight_patch_is_not() -> None:
    rng = np.random.default_rng(8)
    scene = facade_scene()
    ex = ForegroundExtractor(ForegroundConfig(max_brightness_jump=200.0), "cam1")
    warm_up(ex, scene, rng)
    patch = scene.astype(np.int16)
    patch[300:500, 100:400] += 60  # a car's lights washing over the lower floors (under a quarter of tiles)
    r = ex.process(with_noise(np.clip(patch, 0, 255).astype(np.uint8), rng))
    assert r.rejected is None
    everywhere = cv2.convertScaleAbs(scene, alpha=1.0, beta=0) ^ np.uint8(0x30)  # every texture altered
    assert ex.process(with_noise(everywhere, rng)).rejected == "foreground_explosion"


def test_the_osd_clock_is_masked_by_default() -> None:
    rng = np.random.default_rng(10)
    scene = facade_scene()
    for cfg, expect_blobs in ((ForegroundConfig(), False), (ForegroundConfig(osd_masks=[]), True)):
        ex = ForegroundExtractor(cfg, "cam1")
        found = 0
        for i in range(40):
            frame = scene.copy()
            cv2.putText(
                frame, f"2024-07-21 09:41:{i // 5:02d}", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2
            )
            found += len(ex.process(with_noise(frame, rng)).blobs)
        assert (found > 0) == expect_blobs


def test_flash_is_rejected_and_the_background_recovers() -> None:
    rng = np.random.default_rng(6)
    scene = facade_scene()
    ex = ForegroundExtractor(ForegroundConfig(), "cam1")
    warm_up(ex, scene, rng)
    flash = cv2.convertScaleAbs(scene, alpha=1.35)
    assert ex.process(with_noise(flash, rng)).rejected == "brightness_jump"
    assert ex.process(with_noise(scene, rng)).rejected == "brightness_jump"
    r = ex.process(with_noise(scene, rng))
    assert r.rejected is None and len(r.blobs) == 0


def test_slow_exposure_drift_is_followed_by_the_gain() -> None:
    rng = np.random.default_rng(7)
    scene = facade_scene()
    ex = ForegroundExtractor(ForegroundConfig(), "cam1")
    warm_up(ex, scene, rng)
    for k in range(1, 16):  # the camera's auto exposure brightens the picture by 15 % over 15 frames
        r = ex.process(with_noise(cv2.convertScaleAbs(scene, alpha=1 + 0.01 * k), rng))
        assert r.rejected is None and len(r.blobs) == 0, k


def test_a_bumped_camera_is_shake_then_relearned() -> None:
    rng = np.random.default_rng(8)
    scene = facade_scene()
    ex = ForegroundExtractor(ForegroundConfig(max_jitter_px=4.0), "cam1")
    warm_up(ex, scene, rng)
    moved = shifted(scene, 12.0, 0.0)
    reasons = [ex.process(with_noise(moved, rng)).rejected for _ in range(40)]
    assert reasons[0] == "shake"
    assert reasons[-1] is None
    assert reasons.count("shake") == 25


@pytest.mark.parametrize("method", ["difference", "mog2"])
def test_full_hd_frames_are_shrunk_and_blobs_come_back_in_source_pixels(method: str) -> None:
    rng = np.random.default_rng(9)
    scene = cv2.resize(facade_scene(), (1920, 1080), interpolation=cv2.INTER_NEAREST)
    ex = ForegroundExtractor(ForegroundConfig(method=method), "cam1")
    assert ex.factor_for(1920) == 2
    warm_up(ex, scene, rng, 40)
    frame = scene.copy()
    cv2.circle(frame, (1001, 601), 5, (20, 20, 20), -1)
    r = ex.process(with_noise(frame, rng))
    assert r.rejected is None
    assert len(r.blobs) == 1
    assert np.allclose(r.blobs.xy[0], (1001.5, 601.5), atol=2.5)
    assert 40 <= r.blobs.area_px[0] <= 250
