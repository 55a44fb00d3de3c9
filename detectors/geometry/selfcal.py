"""Self-calibration of a drone camera from its own flight: the focal in pixels and constant gimbal offsets.

Why: a drone's configured camera is a convention, not a measurement. A 35 mm-equivalent focal in the
SRT says nothing about the video mode's crop (16:9 from a 4:3 or a 3:2 sensor, EIS, 4K vs 1080p), and
gimbal and compass calibration leave constant offsets of a degree or more. A 10 % focal error puts a
roof at the image edge 6 m off at 100 m; a 1.5 degree pitch offset puts every point 2.6 m off. Both are
measurable from the footage itself, because the ground seen in two frames must land on the same spot.

How (per flight, on the frames the detector analyses):
1. Each usable frame is rectified onto the ground with the configured camera (north up, about its nadir
   resolution at `feature_width_px`), so that frames seen from opposite directions or at other
   obliquities look alike; ORB keypoints found there are kept both in ground metres and in the frame's
   own pixels, with its telemetry (position in the flight's ENU frame, height, gimbal angles, configured
   intrinsics).
2. Pairs: each frame with the previous `max_lag_frames`, and with earlier frames whose configured
   ground footprint overlaps it from another heading (the neighbouring survey line). Those make the
   gimbal offsets observable: an offset moves the ground one way on the way out and the other way on
   the way back, while the same ground must be seen in the same place.
3. Matches: descriptors compared only between keypoints near the same ground point (a wide radius first,
   then a tight one around a fitted transform), with a ratio test, then a RANSAC homography between the
   two frames' pixels (the ground is one plane; roof tops and trees that break it are dropped).
4. Fit: the parameters (log focal scale, pitch, roll and yaw offsets) minimise the transfer error of
   every match through the ground plane - the ray from one frame to the ground, projected into the
   other frame, and back - with a robust loss (scipy `least_squares`, soft L1). The ground is the
   take-off plane, as for every projection the detector makes.
5. Uncertainty: a delete-one-block jackknife over time blocks of pairs, so that slowly drifting
   telemetry errors (GNSS, gimbal) count; the formal covariance of thousands of matches would claim
   far more than the flight can tell.
6. The estimate is used when its uncertainties and residual are within the configured limits and it is
   plausible; otherwise the configured camera stays (and its configured errors widen every radius).

A constant focal-altitude scale error is absorbed in the focal (only their ratio is seen), which is
what the ground projection needs; a video-to-SRT time offset at constant speed is absorbed as a pitch
(along-track) offset, likewise harmless for positions on the same kind of flight.

Layout: the settings are in `selfcal_config`, the fit (step 4-6) in `selfcal_fit`; this module finds and
matches the features (steps 1-3) and is the entry point.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from detectors.geometry.drone import DroneView, build_view, resolve_attitude, unusable_reason
from detectors.geometry.drone_config import DroneCameraSpec, DroneGeometryConfig
from detectors.geometry.selfcal_config import SelfCalibrationConfig
from detectors.geometry.selfcal_fit import CalibrationResult, FramePair, FramePose, fit_camera
from ingest.frame import Frame

Array = NDArray[np.float64]

# The public face of self-calibration: its entry points. Its config (`selfcal_config`) and its result
# (`selfcal_fit`) are imported from their own modules.
__all__ = [
    "MAX_HAMMING",
    "SelfCalibrator",
    "calibrate_frames",
]


@dataclass
class _Keyframe:
    """One analysed frame's keypoints (full-resolution pixels), its configured view and its pose."""

    keypoints: NDArray[np.float64]
    ground_m: NDArray[np.float64]
    """Where the configured camera puts each keypoint on the ground (flight ENU metres)."""
    descriptors: NDArray[np.uint8]
    strongest: NDArray[np.intp]
    """Indexes of the keypoints with the highest corner response (the first, guided round of matching)."""
    view: DroneView
    tree: cKDTree
    pose: FramePose
    centre_m: Array
    radius_m: float


class SelfCalibrator:
    """Collects one flight's keyframes and matches (`add`), then fits the camera (`solve`)."""

    def __init__(self, config: SelfCalibrationConfig, seed: int = 0) -> None:
        self.config = config
        self._frames: list[_Keyframe] = []
        self._pairs: list[FramePair] = []
        self._orb = cv2.ORB.create(nfeatures=config.max_features, fastThreshold=8)
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        self._rng = np.random.default_rng(seed)
        self.configured_focal_px: float | None = None
        self._ransac_px = 3.0

    @property
    def frames(self) -> int:
        return len(self._frames)

    @property
    def pairs(self) -> int:
        return len(self._pairs)

    def add(self, image_bgr: NDArray[np.uint8], view: DroneView, yaw_deg: float, pitch_deg: float,
            roll_deg: float) -> None:
        """Take one analysed frame: `view` is its configured (uncorrected) camera, the angles its telemetry's.

        Keypoints are found on the frame rectified to the ground (north up, about the frame's nadir
        resolution at `feature_width_px`) with the configured camera, so frames seen from opposite
        directions or at other obliquities look alike; each keypoint is kept in ground metres (where
        the configured camera puts it, for the guided search) and in the frame's own pixels (for the fit).
        """
        cfg = self.config
        ortho = _rectify(image_bgr, view, cfg)
        if ortho is None:
            return
        grey, mask, ground_from_ortho = ortho
        kps, desc = self._orb.detectAndCompute(grey, mask)
        if desc is None or len(kps) < cfg.min_inliers:
            return
        at = np.array([k.pt for k in kps], np.float64)
        ground = at @ ground_from_ortho[:, :2].T + ground_from_ortho[:, 2]
        pts = view.ground_to_pixel(ground)
        w0, h0 = image_bgr.shape[1], image_bgr.shape[0]
        ok = np.isfinite(pts).all(axis=1) & (pts[:, 0] >= 0) & (pts[:, 1] >= 0) & (pts[:, 0] < w0) & (pts[:, 1] < h0)
        if int(ok.sum()) < cfg.min_inliers:
            return
        response = np.array([k.response for k in kps])[ok]
        foot = view.image_footprint(4)
        if len(foot) < 3:
            return
        k = view.intrinsics
        if self.configured_focal_px is None:
            self.configured_focal_px = k.fx_px
        self._ransac_px = 3.0 * w0 / cfg.feature_width_px
        centre = foot.mean(axis=0)
        frame = _Keyframe(
            keypoints=pts[ok],
            ground_m=ground[ok],
            descriptors=np.ascontiguousarray(np.asarray(desc, np.uint8)[ok]),
            strongest=np.argsort(-response)[: cfg.guide_keypoints],
            view=view,
            tree=cKDTree(ground[ok]),
            pose=FramePose(view.camera_east_m, view.camera_north_m, view.height_m, yaw_deg, pitch_deg, roll_deg,
                           k.fx_px, k.cx_px, k.cy_px),
            centre_m=centre,
            radius_m=float(np.sqrt(np.max(np.sum((foot - centre) ** 2, axis=1)))),
        )
        b = len(self._frames)
        self._frames.append(frame)
        for a in self._partners(b):
            self._match(a, b)

    def _partners(self, b: int) -> list[int]:
        """Previous frames along the line, and overlapping earlier frames seen from another heading."""
        cfg = self.config
        fb = self._frames[b]
        near = list(range(max(0, b - cfg.max_lag_frames), b))
        if cfg.cross_pairs_per_frame == 0:
            return near
        scored: list[tuple[float, int]] = []
        for a in range(0, max(0, b - cfg.max_lag_frames)):
            fa = self._frames[a]
            turn = abs((fa.pose.yaw_deg - fb.pose.yaw_deg + 180.0) % 360.0 - 180.0)
            dist = float(np.hypot(*(fa.centre_m - fb.centre_m)))
            if turn > 45.0 and dist < 0.6 * min(fa.radius_m, fb.radius_m):
                scored.append((dist, a))
        scored.sort()
        return near + [a for _, a in scored[: cfg.cross_pairs_per_frame]]

    def _match(self, a: int, b: int) -> None:
        """Match frame a's keypoints to frame b's near the same ground point, then refine.

        Round 1: the strongest keypoints, searched within a wide ground radius (the configured camera may
        be 10-30 % and a few degrees off, which moves ground points by metres), give a first ground
        transform. Round 2: every keypoint, searched within a metre of where that transform puts it.
        A final RANSAC homography between the two frames' pixels keeps the matches on the ground plane.
        """
        cfg = self.config
        fa, fb = self._frames[a], self._frames[b]
        guide = fa.ground_m[fa.strongest]
        nadir = np.array([fb.view.camera_east_m, fb.view.camera_north_m])
        radius = cfg.guide_radius_m + cfg.guide_radius_rel * np.hypot(*(guide - nadir).T)
        qa, qb = _nearest_matches(fa.descriptors[fa.strongest], fb, guide, radius, 24)
        if len(qa) < cfg.min_inliers:
            return
        hmat, _ = cv2.findHomography(guide[qa], fb.ground_m[qb], cv2.RANSAC, 1.5)
        if hmat is None:
            return
        moved = np.asarray(cv2.perspectiveTransform(fa.ground_m.reshape(-1, 1, 2), hmat), np.float64).reshape(-1, 2)
        ia, ib = _nearest_matches(fa.descriptors, fb, moved, np.full(len(moved), 1.0), 4)
        if len(ia) < cfg.min_inliers:
            return
        pa, pb = fa.keypoints[ia], fb.keypoints[ib]
        hmat, mask = cv2.findHomography(pa, pb, cv2.RANSAC, self._ransac_px, maxIters=2000, confidence=0.995)
        if hmat is None or mask is None:
            return
        inl = mask.ravel().astype(bool)
        if int(inl.sum()) < cfg.min_inliers:
            return
        pa, pb = pa[inl], pb[inl]
        if len(pa) > cfg.matches_per_pair:
            keep = self._rng.choice(len(pa), cfg.matches_per_pair, replace=False)
            pa, pb = pa[keep], pb[keep]
        turn = abs((fa.pose.yaw_deg - fb.pose.yaw_deg + 180.0) % 360.0 - 180.0)
        self._pairs.append(FramePair(a, b, pa, pb, turn > 45.0))

    def solve(self, final: bool = False) -> CalibrationResult:
        """Fit the camera on what was collected and decide whether to trust it (see `fit_camera`)."""
        return fit_camera(
            [k.pose for k in self._frames], self._pairs, self.config, final=final,
            configured_focal_px=self.configured_focal_px or math.nan,
        )


MAX_HAMMING = 64
"""ORB descriptors (256 bits) further apart than this are not the same point."""


def _nearest_matches(
    desc_a: NDArray[np.uint8], fb: _Keyframe, pred: Array, radius: Array, k: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """For each predicted position, the closest descriptor among frame b's `k` nearest keypoints within
    `radius`; kept when it is clearly the best (ratio test on Hamming distance) and mutual.

    Returns the indexes into `desc_a`/`pred` and into frame b's keypoints.
    """
    n_b = len(fb.keypoints)
    kk = min(k, n_b)
    dist, idx = fb.tree.query(pred, k=kk, distance_upper_bound=float(np.max(radius)))
    dist, idx = dist.reshape(len(pred), kk), idx.reshape(len(pred), kk)
    valid = (idx < n_b) & (dist <= radius[:, None])
    safe = np.where(valid, idx, 0)
    words_a = desc_a.view(np.uint64)
    words_b = fb.descriptors.view(np.uint64)
    ham = np.bitwise_count(np.bitwise_xor(words_a[:, None, :], words_b[safe])).sum(axis=2, dtype=np.int32)
    ham = np.where(valid, ham, 10_000)
    order = np.argsort(ham, axis=1)
    best = np.take_along_axis(ham, order[:, :1], axis=1)[:, 0]
    second = np.take_along_axis(ham, order[:, 1:2], axis=1)[:, 0] if kk > 1 else np.full(len(pred), 10_000)
    take = (best <= MAX_HAMMING) & (best < 0.8 * second)
    ia = np.flatnonzero(take)
    ib = np.take_along_axis(safe, order[:, :1], axis=1)[:, 0][take]
    # one keypoint of b answers one keypoint of a: keep the closest descriptor per b keypoint
    first = np.lexsort((best[take], ib))
    unique = np.ones(len(first), bool)
    unique[1:] = ib[first][1:] != ib[first][:-1]
    keep = first[unique]
    return ia[keep], ib[keep]


def calibrate_frames(
    frames: Iterable[Frame],
    camera: DroneCameraSpec,
    geometry: DroneGeometryConfig,
    config: SelfCalibrationConfig | None = None,
) -> CalibrationResult:
    """Calibrate a flight's camera from its frames (with telemetry poses) in one pass; the public entry
    for anything that places drone pixels on the ground (construction sites, mosaics, change maps).

    Frames without a usable pose are skipped. Feed frames at about the analysis rate (1 fps): consecutive
    frames must overlap. Apply the result with `build_view(..., correction=result.correction)`; it is
    None when the flight could not be calibrated with confidence (the configured camera then stands).
    """
    cfg = config or SelfCalibrationConfig()
    cal = SelfCalibrator(cfg)
    origin: tuple[float, float] | None = None
    for frame in frames:
        pose = frame.pose
        if pose is None or unusable_reason(pose, geometry) is not None:
            continue
        origin = origin or (pose.lat_deg, pose.lon_deg)
        view = build_view(pose, frame.width, frame.height, camera, geometry, origin=origin)
        att = resolve_attitude(pose, geometry.uncertainty)
        cal.add(np.asarray(frame.image), view, att.yaw_deg, att.pitch_deg, att.roll_deg)
    return cal.solve(final=True)


def _rectify(
    image_bgr: NDArray[np.uint8], view: DroneView, cfg: SelfCalibrationConfig
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.float64]] | None:
    """The frame's grey image warped onto the ground plane with the configured camera, north up.

    Returns (grey ortho, mask of the pixels that come from the frame, 2x3 affine ortho pixel -> ENU
    metres), or None when too little ground is in view. The ortho's cell is the frame's nadir ground
    resolution at `feature_width_px`, so near-nadir ground keeps its detail.
    """
    h0, w0 = image_bgr.shape[:2]
    k = view.intrinsics
    cell_m = view.height_m / (k.fx_px * min(1.0, cfg.feature_width_px / w0))
    border = np.array([[x, y] for y in np.linspace(0, h0 - 1, 9) for x in np.linspace(0, w0 - 1, 9)], np.float64)
    keep = view.ray_off_nadir_deg(border) <= cfg.max_feature_ray_deg
    ground = view.pixel_to_ground(border[keep])
    ground = ground[np.isfinite(ground).all(axis=1)]
    if len(ground) < 4:
        return None
    (e0, n0), (e1, n1) = ground.min(axis=0), ground.max(axis=0)
    size = (max(8, min(4096, math.ceil((e1 - e0) / cell_m))), max(8, min(4096, math.ceil((n1 - n0) / cell_m))))
    cell_e, cell_n = (e1 - e0) / size[0], (n1 - n0) / size[1]
    ground_from_ortho = np.array([[cell_e, 0.0, e0 + cell_e / 2], [0.0, -cell_n, n1 - cell_n / 2]])
    corners = np.array([[0.0, 0.0], [size[0] - 1, 0.0], [size[0] - 1, size[1] - 1], [0.0, size[1] - 1]])
    corner_en = corners @ ground_from_ortho[:, :2].T + ground_from_ortho[:, 2]
    image_px = view.ground_to_pixel(corner_en)
    if not np.isfinite(image_px).all():
        return None
    ortho_from_image = cv2.getPerspectiveTransform(image_px.astype(np.float32), corners.astype(np.float32))
    grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    warped = np.asarray(cv2.warpPerspective(grey, ortho_from_image, size, flags=cv2.INTER_LINEAR), np.uint8)
    inside = np.full((h0, w0), 255, np.uint8)
    mask = np.asarray(cv2.warpPerspective(inside, ortho_from_image, size, flags=cv2.INTER_NEAREST), np.uint8)
    mask = np.asarray(cv2.erode(mask, np.ones((15, 15), np.uint8)), np.uint8)  # no corners on the frame's edge
    return warped, mask, ground_from_ortho
