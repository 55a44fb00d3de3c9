"""A camera's state and counters, kept in one float64 vector so a worker process can share them.

The camera thread is the only writer. The vector lives in ordinary memory for in-process readers and in
the camera's shared-memory block for worker processes, so the service reads a worker's counters without
messages, and a restarted worker continues the counts instead of resetting them. Snapshots are plain
dataclasses that the metrics module turns into Prometheus series (labels: camera_id, reason, state).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray


class CameraState(StrEnum):
    """Where a camera is. The stall states tell apart why no fresh frames arrive."""

    CONNECTING = "connecting"
    STREAMING = "streaming"
    CANNOT_CONNECT = "cannot_connect"
    """Opening failed: refused, timed out (accepted but never answered), not found, unauthorized."""
    NO_PACKETS = "no_packets"
    """Connected, but no packet arrived within `read_timeout_s`."""
    NO_DECODE = "no_decode"
    """Packets arrive but none decodes into a frame within `no_decode_timeout_s`."""
    FROZEN = "frozen"
    """Frames decode but are identical for `frozen_after_s` (a camera encoding a stale picture)."""
    ENDED = "ended"
    """A file reached its end (files only, without `loop`)."""
    FAILED = "failed"
    """Permanently failed: a file that is empty, unreadable or in an unsupported codec."""
    STOPPED = "stopped"


STATES: tuple[CameraState, ...] = tuple(CameraState)
STALL_KINDS: tuple[str, ...] = ("cannot_connect", "no_packets", "no_decode", "frozen")
# Drops between a worker and the service; drops in the consumer's queue are in its `QueueStats` (queue_full).
DROP_REASONS: tuple[str, ...] = ("ring_overrun", "torn_read", "too_large")
OPEN_FAILURE_REASONS: tuple[str, ...] = ("timeout", "refused", "not_found", "unauthorized", "error")

_SCALARS: tuple[str, ...] = (
    "state",
    "state_since",
    "frames_decoded",
    "frames_delivered",
    "frames_skipped",
    "packets",
    "bytes_in",
    "decode_errors",
    "connects",
    "reconnects",
    "last_frame_at",
    "last_packet_at",
    "width",
    "height",
    "last_seq",
    "heartbeat_at",
)
_FIELDS: tuple[str, ...] = (
    _SCALARS
    + tuple(f"open_failures.{r}" for r in OPEN_FAILURE_REASONS)
    + tuple(f"drops.{r}" for r in DROP_REASONS)
    + tuple(f"stall_s.{k}" for k in STALL_KINDS)
)
INDEX: dict[str, int] = {name: i for i, name in enumerate(_FIELDS)}
STATS_LEN = len(_FIELDS)


@dataclass(frozen=True)
class CameraStatsSnapshot:
    """One camera's counters at one moment. Times are UTC epoch seconds; None when it never happened."""

    camera_id: str
    state: CameraState
    state_since: float
    frames_decoded: int
    frames_delivered: int
    frames_skipped: int
    packets: int
    bytes_in: int
    decode_errors: int
    connects: int
    reconnects: int
    last_frame_at: float | None
    last_packet_at: float | None
    width: int
    height: int
    open_failures: dict[str, int] = field(default_factory=dict)
    drops: dict[str, int] = field(default_factory=dict)
    stall_s: dict[str, float] = field(default_factory=dict)

    def last_frame_age_s(self, now: float | None = None) -> float | None:
        if self.last_frame_at is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.last_frame_at)


class CameraStats:
    """Counters of one camera. Written by its camera thread only; read by anyone at any time."""

    def __init__(self, buf: NDArray[np.float64] | None = None, *, writer: bool = True) -> None:
        """`buf`: a float64 vector to live in (shared memory), else a private one. Readers in another
        process pass `writer=False` so that nothing is initialised from their side."""
        if buf is None:
            buf = np.zeros(STATS_LEN, dtype=np.float64)
        if buf.shape != (STATS_LEN,) or buf.dtype != np.float64:
            raise ValueError(f"stats buffer must be float64[{STATS_LEN}], got {buf.dtype}{buf.shape}")
        self.v = buf
        if writer and self.v[INDEX["state_since"]] == 0.0:
            self.v[INDEX["state"]] = STATES.index(CameraState.CONNECTING)
            self.v[INDEX["state_since"]] = time.time()

    def add(self, name: str, amount: float = 1.0) -> None:
        self.v[INDEX[name]] += amount

    def set(self, name: str, value: float) -> None:
        self.v[INDEX[name]] = value

    def get(self, name: str) -> float:
        return float(self.v[INDEX[name]])

    @property
    def state(self) -> CameraState:
        return STATES[int(self.v[INDEX["state"]])]

    def set_state(self, state: CameraState, now: float | None = None) -> bool:
        """Enter `state`; time spent in a stall state is added to its stall counter. True if it changed."""
        now = time.time() if now is None else now
        old = self.state
        if old == state:
            return False
        since = self.v[INDEX["state_since"]]
        if old.value in STALL_KINDS and since > 0:
            self.v[INDEX[f"stall_s.{old.value}"]] += max(0.0, now - since)
        self.v[INDEX["state"]] = STATES.index(state)
        self.v[INDEX["state_since"]] = now
        return True

    def snapshot(self, camera_id: str, now: float | None = None) -> CameraStatsSnapshot:
        v = self.v.copy()  # one consistent-enough read of a vector another thread may be writing
        now = time.time() if now is None else now
        state = STATES[int(v[INDEX["state"]])]
        stall = {k: float(v[INDEX[f"stall_s.{k}"]]) for k in STALL_KINDS}
        if state.value in STALL_KINDS:  # count the stall in progress too
            stall[state.value] += max(0.0, now - float(v[INDEX["state_since"]]))

        def opt(name: str) -> float | None:
            x = float(v[INDEX[name]])
            return x if x > 0 else None

        return CameraStatsSnapshot(
            camera_id=camera_id,
            state=state,
            state_since=float(v[INDEX["state_since"]]),
            frames_decoded=int(v[INDEX["frames_decoded"]]),
            frames_delivered=int(v[INDEX["frames_delivered"]]),
            frames_skipped=int(v[INDEX["frames_skipped"]]),
            packets=int(v[INDEX["packets"]]),
            bytes_in=int(v[INDEX["bytes_in"]]),
            decode_errors=int(v[INDEX["decode_errors"]]),
            connects=int(v[INDEX["connects"]]),
            reconnects=int(v[INDEX["reconnects"]]),
            last_frame_at=opt("last_frame_at"),
            last_packet_at=opt("last_packet_at"),
            width=int(v[INDEX["width"]]),
            height=int(v[INDEX["height"]]),
            open_failures={r: int(v[INDEX[f"open_failures.{r}"]]) for r in OPEN_FAILURE_REASONS},
            drops={r: int(v[INDEX[f"drops.{r}"]]) for r in DROP_REASONS},
            stall_s=stall,
        )
