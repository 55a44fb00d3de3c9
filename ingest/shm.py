"""A camera's frames across a process boundary: a ring of slots in shared memory, no pickling of images.

One block per camera holds the camera's stats vector (see `ingest.stats`), a write counter and
`n_slots` frame slots. The worker's camera thread writes a frame into the next slot and never waits;
the service copies new slots out. If the service falls behind by more than `n_slots` frames, the oldest
are overwritten and counted as `ring_overrun` drops. Each slot carries a sequence lock (odd while being
written): a read that overlaps a write is detected, discarded and counted as `torn_read`.

The sequence lock relies on stores becoming visible in program order, which x86-64 guarantees (TSO);
on weakly ordered CPUs (ARM) a torn read could go unnoticed in rare cases.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import asdict
from multiprocessing import shared_memory
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ingest.frame import Frame, Pose
from ingest.stats import INDEX, STATS_LEN

META_BYTES = 2048
_CTRL_LEN = 8  # write_count, n_slots, slot_bytes, heartbeat_at, ...
_SLOT_HDR_LEN = 8  # lock, frame_seq, captured_at, pts_s, height, width, keyframe, meta_len
_LOCK, _SEQ, _CAPTURED, _PTS, _H, _W, _KEY, _META = range(_SLOT_HDR_LEN)
_ALIGN = 64


def _view(buf: memoryview | None, dtype: type[np.generic], count: int, offset: int) -> NDArray[Any]:
    """A numpy view of shared memory that holds a buffer export: while it lives, the mapping cannot be
    closed under it (np.ndarray(buffer=...) holds none, so closing would leave it dangling)."""
    if buf is None:
        raise ValueError("shared memory block is closed")
    return np.frombuffer(buf, dtype=dtype, count=count, offset=offset)


def _release(shm: shared_memory.SharedMemory, unlink: bool) -> None:
    """Unmap `shm` now, or, while numpy views of it are still alive somewhere (a stats reader, a thread
    that has not finished), hand the mapping to those views: it is unmapped when the last one goes.
    The name is removed either way (the memory itself lives until every process has unmapped it)."""
    try:
        shm.close()
    except BufferError:
        # SharedMemory would retry (and fail, noisily) in __del__; the views own the mapping now.
        shm._buf = None  # type: ignore[attr-defined]
        shm._mmap = None  # type: ignore[attr-defined]
    if unlink:
        with contextlib.suppress(FileNotFoundError):
            shm.unlink()


def _align(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def ring_size(n_slots: int, slot_bytes: int) -> int:
    """Bytes of shared memory one camera's ring needs."""
    head = _align(8 * (STATS_LEN + _CTRL_LEN))
    slot = _align(8 * _SLOT_HDR_LEN) + _align(META_BYTES) + _align(slot_bytes)
    return head + n_slots * slot


def _pose_to_meta(frame: Frame) -> bytes:
    if frame.pose is None and not frame.meta:
        return b""
    payload: dict[str, object] = {}
    if frame.pose is not None:
        payload["pose"] = asdict(frame.pose)
    if frame.meta:
        payload["meta"] = frame.meta
    return json.dumps(payload, allow_nan=True).encode("utf-8")


def _meta_to_pose(raw: bytes) -> tuple[Pose | None, dict[str, float]]:
    if not raw:
        return None, {}
    payload = json.loads(raw.decode("utf-8"))
    pose = None
    if "pose" in payload:
        p = dict(payload["pose"])
        p["defaulted"] = tuple(p.get("defaulted", ()))
        pose = Pose(**p)
    return pose, {str(k): float(v) for k, v in payload.get("meta", {}).items()}


class SharedCounters:
    """One float64 per camera, in shared memory: each ring bumps its camera's entry after a write, so the
    service finds the cameras with new frames with one vectorised compare instead of visiting every ring."""

    def __init__(self, shm: shared_memory.SharedMemory, n: int, owner: bool) -> None:
        self.shm = shm
        self.owner = owner
        self.values: NDArray[np.float64] = _view(shm.buf, np.float64, n, 0)

    @classmethod
    def create(cls, name: str, n: int) -> SharedCounters:
        shm = shared_memory.SharedMemory(name=name, create=True, size=max(8, 8 * n))
        counters = cls(shm, n, owner=True)
        counters.values[:] = 0
        return counters

    @classmethod
    def attach(cls, name: str, n: int) -> SharedCounters:
        return cls(shared_memory.SharedMemory(name=name, create=False), n, owner=False)

    @property
    def name(self) -> str:
        return str(self.shm.name)

    def close(self) -> None:
        del self.values
        _release(self.shm, self.owner)


class SharedFrameRing:
    """One camera's shared block. `create` in the service process; `attach` in the worker."""

    def __init__(self, shm: shared_memory.SharedMemory, owner: bool) -> None:
        self.shm = shm
        self.owner = owner
        self._notify: NDArray[np.float64] | None = None
        self._notify_owner: SharedCounters | None = None
        self._notify_index = 0
        buf = shm.buf
        head_words = STATS_LEN + _CTRL_LEN
        self.stats_view: NDArray[np.float64] = _view(buf, np.float64, STATS_LEN, 0)
        self._ctrl: NDArray[np.float64] = _view(buf, np.float64, _CTRL_LEN, 8 * STATS_LEN)
        self.n_slots = int(self._ctrl[1])
        self.slot_bytes = int(self._ctrl[2])
        base = _align(8 * head_words)
        stride = _align(8 * _SLOT_HDR_LEN) + _align(META_BYTES) + _align(self.slot_bytes)
        self._hdr: list[NDArray[np.float64]] = []
        self._meta: list[NDArray[np.uint8]] = []
        self._img: list[NDArray[np.uint8]] = []
        for i in range(self.n_slots):
            off = base + i * stride
            self._hdr.append(_view(buf, np.float64, _SLOT_HDR_LEN, off))
            off += _align(8 * _SLOT_HDR_LEN)
            self._meta.append(_view(buf, np.uint8, META_BYTES, off))
            off += _align(META_BYTES)
            self._img.append(_view(buf, np.uint8, self.slot_bytes, off))

    @classmethod
    def create(cls, name: str, n_slots: int, slot_bytes: int) -> SharedFrameRing:
        shm = shared_memory.SharedMemory(name=name, create=True, size=ring_size(n_slots, slot_bytes))
        ctrl = _view(shm.buf, np.float64, _CTRL_LEN, 8 * STATS_LEN)
        ctrl[:] = 0
        ctrl[1], ctrl[2] = n_slots, slot_bytes
        _view(shm.buf, np.float64, STATS_LEN, 0)[:] = 0
        return cls(shm, owner=True)

    @classmethod
    def attach(cls, name: str) -> SharedFrameRing:
        return cls(shared_memory.SharedMemory(name=name, create=False), owner=False)

    @property
    def name(self) -> str:
        return str(self.shm.name)

    def notify_into(self, counters: SharedCounters, index: int) -> None:
        """After each write, publish this ring's write count as entry `index` of `counters`."""
        self._notify_owner = counters  # keeps its mapping alive as long as this ring writes into it
        self._notify, self._notify_index = counters.values, index

    @property
    def write_count(self) -> int:
        return int(self._ctrl[0])

    @property
    def heartbeat_at(self) -> float:
        return float(self._ctrl[3])

    def beat(self, now: float) -> None:
        self._ctrl[3] = now

    # -- worker side -----------------------------------------------------------------------------------

    def write(self, frame: Frame) -> None:
        """Publish `frame` in the next slot. Never blocks; a frame too large for a slot is dropped."""
        img = frame.image
        meta = _pose_to_meta(frame)
        if img.nbytes > self.slot_bytes or len(meta) > META_BYTES:
            self.stats_view[INDEX["drops.too_large"]] += 1
            return
        n = self.write_count
        i = n % self.n_slots
        hdr = self._hdr[i]
        hdr[_LOCK] = 2 * n + 1  # odd: being written
        self._img[i][: img.nbytes] = img.reshape(-1)
        if meta:
            self._meta[i][: len(meta)] = np.frombuffer(meta, dtype=np.uint8)
        hdr[_SEQ], hdr[_CAPTURED], hdr[_PTS] = frame.seq, frame.captured_at, frame.pts_s
        hdr[_H], hdr[_W], hdr[_KEY], hdr[_META] = frame.height, frame.width, float(frame.keyframe), len(meta)
        hdr[_LOCK] = 2 * n + 2  # even: complete
        self._ctrl[0] = n + 1
        if self._notify is not None:
            self._notify[self._notify_index] = n + 1

    # -- service side ----------------------------------------------------------------------------------

    def read_new(self, camera_id: str, next_index: int) -> tuple[list[Frame], int]:
        """Frames written since `next_index` (copied out); returns them and the next index to read.

        Frames overwritten before they were read are counted in the stats as `ring_overrun`; frames
        caught mid-write as `torn_read`.
        """
        wc = self.write_count
        next_index = min(next_index, wc)  # a recreated ring starts over
        lost = wc - next_index - self.n_slots
        if lost > 0:
            self.stats_view[INDEX["drops.ring_overrun"]] += lost
            next_index = wc - self.n_slots
        out: list[Frame] = []
        for k in range(next_index, wc):
            i = k % self.n_slots
            hdr = self._hdr[i]
            lock = hdr[_LOCK]
            if lock != 2 * k + 2:
                self.stats_view[INDEX["drops.torn_read"]] += 1
                continue
            h, w, meta_len = int(hdr[_H]), int(hdr[_W]), int(hdr[_META])
            seq, captured, pts, key = int(hdr[_SEQ]), float(hdr[_CAPTURED]), float(hdr[_PTS]), bool(hdr[_KEY])
            image = self._img[i][: h * w * 3].copy().reshape(h, w, 3)
            meta_raw = self._meta[i][:meta_len].tobytes() if meta_len else b""
            if hdr[_LOCK] != lock:  # overwritten while we copied
                self.stats_view[INDEX["drops.torn_read"]] += 1
                continue
            pose, meta = _meta_to_pose(meta_raw)
            if not math.isfinite(captured):
                captured = 0.0
            out.append(
                Frame(
                    camera_id=camera_id,
                    seq=seq,
                    captured_at=captured,
                    pts_s=pts,
                    image=image,
                    pose=pose,
                    keyframe=key,
                    meta=meta,
                )
            )
        return out, wc

    def close(self) -> None:
        """Release the mapping (and remove the block if this process created it)."""
        # numpy views must go before the buffer can be released
        self._hdr.clear()
        self._meta.clear()
        self._img.clear()
        self._notify = self._notify_owner = None
        del self.stats_view, self._ctrl
        _release(self.shm, self.owner)
