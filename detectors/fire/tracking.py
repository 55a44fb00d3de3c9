"""Per-frame track bookkeeping of `FireDetector`: link candidates to tracks, open new ones, record what the
assessment later reads (flame-colour pixels, smoke inner change, the model's evidence), prune idle tracks.

Pure state updates on a `CameraState`; the decisions (start, update, end) stay in `detectors.fire.detector`."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from detectors.fire.camera_state import CameraState
from detectors.fire.candidates import KIND_FIRE, KIND_SMOKE, Candidates, overlap_min, widen
from detectors.fire.config import FireConfig
from detectors.fire.smoke_change import change_above_surround, luma_change
from detectors.fire.tracks import Track, link
from detectors.fire.work_frame import WorkFrame
from ingest.frame import Frame


def update_tracks(
    st: CameraState, frame: Frame, cands: Candidates, work: WorkFrame | None, cfg: FireConfig
) -> None:
    """Link this frame's candidates to the camera's tracks (hit or miss each), let extra blobs of a linked fire
    join it, open a track for every candidate left, and record each track's flame-colour pixels."""
    windows = {KIND_FIRE: cfg.confirm.window_frames, KIND_SMOKE: cfg.confirm.smoke_window_frames}
    for track in st.tracks:
        track.resize_window(windows[track.kind])
    pairs, unmatched = link(st.tracks, cands, cfg.confirm.link_min_overlap, cfg.confirm.link_margin_share)
    _record_hits_and_misses(st.tracks, pairs, frame, cands)
    if pairs and unmatched.any():
        _absorb_extra_blobs([st.tracks[ti] for ti, _ in pairs], cands, unmatched, cfg)
    _open_tracks(st, frame, cands, unmatched, windows)
    if work is not None and st.tracks:
        _record_colour(st, work)


def _record_hits_and_misses(
    tracks: list[Track], pairs: list[tuple[int, int]], frame: Frame, cands: Candidates
) -> None:
    """Every linked track records its candidate; every other track records a miss (its N-of-M window moves)."""
    hit = set()
    for ti, ci in pairs:
        tracks[ti].record_hit(frame, cands, ci)
        hit.add(ti)
    for ti, track in enumerate(tracks):
        if ti not in hit:
            track.record_miss()


def _absorb_extra_blobs(
    matched: list[Track], cands: Candidates, unmatched: NDArray[np.bool_], cfg: FireConfig
) -> None:
    """A second blob of a fire already linked this frame joins that hit instead of a new track (a fire breaks
    into several flame blobs); `unmatched` is cleared for each absorbed candidate."""
    regions = widen(np.array([t.extent() for t in matched]), cfg.confirm.link_margin_share)
    kinds = np.array([t.kind for t in matched], np.int8)
    idx = np.flatnonzero(unmatched)
    ov = overlap_min(regions, cands.xyxy[idx])
    ov = np.where(kinds[:, None] == cands.kind[idx][None, :], ov, 0.0)
    best = ov.argmax(axis=0)
    for j, ci in enumerate(idx.tolist()):
        if ov[best[j], j] >= max(cfg.confirm.link_min_overlap, 1e-9):
            matched[best[j]].absorb(cands, ci)
            unmatched[ci] = False


def _open_tracks(
    st: CameraState, frame: Frame, cands: Candidates, unmatched: NDArray[np.bool_], windows: dict[int, int]
) -> None:
    """A new track, with its first hit, for every candidate no track took."""
    for ci in np.flatnonzero(unmatched).tolist():
        kind = int(cands.kind[ci])
        track = Track(
            track_id=st.next_track_id,
            kind=kind,
            box=cands.xyxy[ci].astype(np.float64),
            first_seen_at=frame.captured_at,
            first_seen_pts_s=frame.pts_s,
            last_seen_at=frame.captured_at,
            last_seen_pts_s=frame.pts_s,
            window_frames=windows[kind],
        )
        st.next_track_id += 1
        track.record_hit(frame, cands, ci)
        st.tracks.append(track)


def _record_colour(st: CameraState, work: WorkFrame) -> None:
    """Each track's flame-colour pixel count, measured over its recent extent: a region that does not jump
    with the flames (read by the lamp tests)."""
    boxes_work = np.round(np.array([t.extent() for t in st.tracks]) / work.scale).astype(np.int64)
    colour = st.flame.colour_pixels(boxes_work)
    for track, px in zip(st.tracks, colour.tolist(), strict=True):
        track.colour_series.append(px)


def record_smoke_change(st: CameraState, frame: Frame, work: WorkFrame) -> None:
    """For each smoke track linked this frame: how much its box's brightness changed since the last
    analysed frame, above the change around it (`smoke_change`; for `fusion.model_smoke_min_change`)."""
    luma = np.ascontiguousarray(work.ycc[:, :, 0])  # not a view: the whole work frame is not kept
    previous, st.previous_luma = st.previous_luma, luma
    linked = [t for t in st.tracks
              if t.kind == KIND_SMOKE and t.last_seen_at == frame.captured_at and t.inner_change]
    if not linked:  # most frames: no smoke track, so no whole-frame difference on the hot path
        return
    change = luma_change(luma, previous)
    if change is None:
        return
    for track in linked:
        box_work = np.round(track.box / work.scale).astype(np.int64)
        track.inner_change[-1] = change_above_surround(change, box_work)


def record_model_evidence(st: CameraState, evidence: Candidates, cfg: FireConfig) -> None:
    """Per track: the model's best confidence of its kind over its region (for the lamp tests on model
    tracks) and whether any model fire/smoke box touched its widened region (corroboration)."""
    if not st.tracks:
        return
    if len(evidence) == 0:
        for track in st.tracks:
            track.record_model_evidence(0.0, False)
        return
    extents = np.array([t.extent() for t in st.tracks], np.float64)
    kinds = np.array([t.kind for t in st.tracks], np.int8)
    c = cfg.confirm
    own = overlap_min(widen(extents, c.link_margin_share), evidence.xyxy) >= max(c.link_min_overlap, 1e-9)
    own &= kinds[:, None] == evidence.kind[None, :]
    conf = np.where(own, evidence.model_conf[None, :].astype(np.float64), 0.0).max(axis=1)
    wide = widen(extents, cfg.fusion.corroboration_margin_share)
    touching: NDArray[np.bool_] = np.any(overlap_min(wide, evidence.xyxy) > 0, axis=1)
    near = [bool(v) for v in touching]
    for track, value, touched in zip(st.tracks, conf.tolist(), near, strict=True):
        track.record_model_evidence(float(value), bool(touched))


def prune(st: CameraState, cfg: FireConfig) -> None:
    """Forget tracks with no hit in their whole window (unless an incident is open on them), then, above
    `confirm.max_tracks`, the idle tracks with the fewest hits (bounds memory and time per frame)."""
    st.tracks = [t for t in st.tracks if t.incident is not None or len(t.hits) < t.window_frames or any(t.hits)]
    extra = len(st.tracks) - cfg.confirm.max_tracks
    if extra > 0:
        idle = sorted((t for t in st.tracks if t.incident is None), key=lambda t: t.hit_count)[:extra]
        st.tracks = [t for t in st.tracks if t not in idle]
