"""The survey generator's renderer: one video frame of a `World` on a `Day` through this package's own camera
(`survey_camera`), the ground warped from its painted texture, raised things drawn at their height with
their walls (so roofs lean away from the nadir point as in real footage), then the sensor's look.
Nothing here imports `detectors/`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.survey_camera import CameraPose, PinholeCamera, plane_to_image, project
from benchmarks.scenarios.survey_materials import PALETTE
from benchmarks.scenarios.survey_world import Array, Day, Raised, World


def render(
    world: World,
    texture: NDArray[np.uint8],
    raised: list[Raised],
    day: Day,
    camera: PinholeCamera,
    pose: CameraPose,
    rng: np.random.Generator,
) -> NDArray[np.uint8]:
    """One video frame: the ground warped through the camera, raised things drawn with walls, then the
    sensor (exposure, white balance, vignetting, noise, JPEG-like compression)."""
    w, h = camera.width_px, camera.height_px
    nadir = np.array([pose.east_m, pose.north_m])
    ground = plane_to_image(camera, pose, 0.0, nadir, 40.0) @ world.tex_to_world()
    img = np.asarray(
        cv2.warpPerspective(texture, ground, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), np.uint8
    )
    reach = pose.up_m * math.hypot(w, h) / camera.focal_px / 2 + 30
    near = [r for r in raised if np.hypot(*(r.ring.mean(axis=0) - nadir)) < reach]
    sun = np.array([math.sin(math.radians(day.sun_azimuth_deg)), math.cos(math.radians(day.sun_azimuth_deg))])
    for r in sorted(near, key=lambda r: r.base_m + r.height_m):
        _draw_raised(img, world, texture, r, camera, pose, sun)
    out = img.astype(np.float32)
    gain = day.exposure * float(rng.uniform(0.97, 1.03))
    out *= np.array(day.white_balance, np.float32) * gain
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
    out *= (1.0 - 0.12 * r2)[..., None]
    out += rng.normal(0, 2.0, out.shape).astype(np.float32)
    img = np.clip(out, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), np.uint8)


def _draw_raised(
    img: NDArray[np.uint8],
    world: World,
    texture: NDArray[np.uint8],
    r: Raised,
    camera: PinholeCamera,
    pose: CameraPose,
    sun: Array,
) -> None:
    bottom, top = r.base_m, r.base_m + r.height_m
    ring = r.ring
    n = len(ring)
    cam_xy = np.array([pose.east_m, pose.north_m])
    wall = np.array(PALETTE[r.wall], np.float64)
    for i in range(n):
        p, q = ring[i], ring[(i + 1) % n]
        edge = q - p
        normal = np.array([edge[1], -edge[0]]) / max(np.linalg.norm(edge), 1e-9)  # outward for a CCW ring
        if normal @ (cam_xy - (p + q) / 2) <= 0:
            continue
        quad = project(camera, pose, np.array([[*p, bottom], [*q, bottom], [*q, top], [*p, top]]))
        if not np.isfinite(quad).all():
            continue
        light = 0.55 + 0.45 * max(0.0, float(normal @ sun))
        cv2.fillConvexPoly(
            img,
            np.round(quad * 16).astype(np.int32),
            tuple(float(v) for v in wall * light),
            lineType=cv2.LINE_AA,
            shift=4,
        )
    # The roof: the texture's roof pixels moved onto the plane at the top's height.
    px = world.to_px(ring)
    u0, v0 = np.floor(px.min(axis=0)).astype(int) - 1
    u1, v1 = np.ceil(px.max(axis=0)).astype(int) + 2
    hh, ww = texture.shape[:2]
    u0, v0, u1, v1 = max(u0, 0), max(v0, 0), min(u1, ww), min(v1, hh)
    if u1 <= u0 or v1 <= v0:
        return
    crop = texture[v0:v1, u0:u1]
    roof_img = project(camera, pose, np.column_stack([ring, np.full(n, top)]))
    if not np.isfinite(roof_img).all():
        return
    x0, y0 = np.floor(roof_img.min(axis=0)).astype(int)
    x1, y1 = np.ceil(roof_img.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, img.shape[1]), min(y1, img.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    h_plane = plane_to_image(camera, pose, top, ring.mean(axis=0), 10.0) @ world.tex_to_world()
    shift = np.array([[1.0, 0, u0], [0, 1.0, v0], [0, 0, 1.0]])
    to_box = np.array([[1.0, 0, -x0], [0, 1.0, -y0], [0, 0, 1.0]])
    warped = cv2.warpPerspective(
        crop, to_box @ h_plane @ shift, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round((roof_img - (x0, y0)) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    sel = mask.astype(bool)
    img[y0:y1, x0:x1][sel] = warped[sel]


# -- preview ---------------------------------------------------------------------------------------------
