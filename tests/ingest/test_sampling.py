"""The one frame sampler (ingest/sampling.py): exact average rate on the stream clock, restarts, gaps, and
a second stage at the same rate that passes everything the first one passed."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.sampling import PtsSampler


def _kept(sampler: PtsSampler, pts: list[float]) -> list[float]:
    return [p for p in pts if sampler.accept(p)]


def _ms_rounded(n: int, fps: float, start_s: float = 0.0) -> list[float]:
    """Presentation times as a millisecond time base (MKV, FLV) stores them."""
    return [round(start_s + i / fps, 3) for i in range(n)]


def test_follows_the_stream_clock_at_an_exact_average_rate() -> None:
    kept = _kept(PtsSampler(5.0), [i * 0.04 for i in range(50)])  # 2 s at 25 fps
    assert len(kept) == 10
    assert np.allclose(np.diff(kept), 0.2, atol=0.021)
    kept = _kept(PtsSampler(7.0), _ms_rounded(30 * 60, 30.0))  # 60 s at 30 fps, 7 fps does not divide it
    assert len(kept) == 420, "the grid keeps the average rate exact (no drift from rounding)"


def test_no_fps_passes_every_frame() -> None:
    everything = PtsSampler(None)
    assert all(everything.accept(t) for t in (0.0, 0.0, 0.01, -5.0))
    assert all(PtsSampler(0.0).accept(t) for t in (0.0, 1.0))


@pytest.mark.parametrize("jump_to_s", [0.0, 3.0, 99.0])
def test_a_pts_restart_is_sampled_at_once_and_keeps_the_rate(jump_to_s: float) -> None:
    """A reconnect or a looping file starts pts again (at 0 or anywhere before the last sampled frame)."""
    s = PtsSampler(5.0)
    before = _kept(s, _ms_rounded(250, 25.0, start_s=100.0))  # 10 s
    after = _kept(s, _ms_rounded(250, 25.0, start_s=jump_to_s))
    assert len(before) == 50 and len(after) == 50
    assert after[0] == jump_to_s, "the first frame after the restart is analysed"
    assert np.allclose(np.diff(after), 0.2, atol=0.041)


def test_the_frame_after_a_stall_starts_a_new_grid_without_a_burst() -> None:
    s = PtsSampler(5.0)
    pts = _ms_rounded(50, 25.0) + _ms_rounded(50, 25.0, start_s=3.013)  # 1 s missing, off the old grid
    kept = _kept(s, pts)
    assert kept[10] == 3.013
    gaps = np.diff(kept[10:])
    assert gaps.min() > 0.19, f"no two frames closer than a period after the stall: {gaps}"


@pytest.mark.parametrize("fps", [2.0, 5.0, 7.0, 12.5, 25.0])
@pytest.mark.parametrize("stream_fps", [25.0, 29.97, 30.0])
def test_a_second_stage_at_the_same_rate_passes_everything_the_first_passed(fps: float, stream_fps: float) -> None:
    """The decoder samples at the camera's rate and each detector's gate at its own; at the same rate the
    gate must not drop a frame the decoder kept (ms-rounded pts and small jitter included)."""
    rng = np.random.default_rng(int(fps * 100 + stream_fps))
    pts = [p + float(j) for p, j in zip(_ms_rounded(1200, stream_fps), rng.uniform(-4e-4, 4e-4, 1200), strict=True)]
    pts += _ms_rounded(300, stream_fps)  # and a restart
    decoded = _kept(PtsSampler(fps), pts)
    assert _kept(PtsSampler(fps), decoded) == decoded
    slower = _kept(PtsSampler(fps / 2), decoded)
    assert abs(len(slower) - len(decoded) / 2) <= 2


def test_reset_starts_the_grid_again() -> None:
    s = PtsSampler(1.0)
    assert s.accept(100.0) and not s.accept(100.5) and s.accept(101.0)
    s.reset()
    assert s.accept(101.2), "after a reset the next frame is analysed, even on the old grid's off-slot"
