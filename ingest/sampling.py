"""The one frame sampler: which decoded frames are analysed, by presentation time (pts).

Used twice on purpose with the same rule: by the decoder (`ingest/decode.py`, at the camera's analysis
rate, so skipped frames cost no colour conversion) and by each detector's gate (`detectors/analysis.py`,
at that detector's rate). Because a rejected frame never changes the sampler's state, a second sampler at
the same rate passes every frame the first one passed: the two stages cannot disagree and drop a frame
(they did when they were two near-copies with different tolerances).
"""

from __future__ import annotations

PTS_TOLERANCE_S = 1e-3
"""A frame this close before its slot is on time: pts in millisecond time bases (MKV, FLV) are rounded."""


class PtsSampler:
    """Passes frames at `fps` per second of stream time; `fps` None or <= 0 passes every frame.

    The slots form a regular grid, so the average rate is exact whatever the input rate. The grid starts
    again at the frame that follows a gap of a whole period or more (no burst after a stall), and at a
    frame whose pts goes back before the last passed one (a reconnect, a looping file: decoded frames come
    in presentation order, so going back means the stream restarted).
    """

    def __init__(self, fps: float | None) -> None:
        self.period_s = 1.0 / fps if fps is not None and fps > 0 else 0.0
        self._next_s: float | None = None
        self._last_s = 0.0

    def accept(self, pts_s: float) -> bool:
        """Whether the frame at `pts_s` is analysed; advances the grid when it is."""
        if self.period_s == 0.0:
            return True
        nxt = self._next_s
        if nxt is None or pts_s < self._last_s - PTS_TOLERANCE_S:  # first frame, or the stream restarted
            nxt = pts_s
        elif pts_s < nxt - PTS_TOLERANCE_S:
            return False
        elif pts_s - nxt >= self.period_s:  # a whole slot went by without a frame: start again from here
            nxt = pts_s
        self._next_s = nxt + self.period_s
        self._last_s = pts_s
        return True

    def reset(self) -> None:
        """Start a new grid at the next frame (a looping file starts over)."""
        self._next_s = None
