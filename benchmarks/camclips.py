"""Clips for simulated cameras: the generated fire scene, looped inside one file, at a camera's size and rate.

A real RTSP camera never ends its stream, so a benchmark camera must not either within a run: the scene
(a few seconds of quiet street, then a fire that grows for seven seconds) is encoded back to back as
many times as the run needs, in one H.264 file that gst-rtsp-server plays at its native rate. Each loop
gives the fire detector a new fire to confirm, so the alerts that carry latency samples keep coming.
Clips are cached by their parameters under ~/.cache/gridwatch/bench/pipeline.

Frames are encoded as one slice each, as most IP cameras send them. (PyAV's libx264 default, sliced
threads, gives two slices per frame on two cores; served over RTSP with in-band SPS/PPS, FFmpeg's RTSP
demuxer then hands the two slices of each keyframe over as two packets, and decoding them one by one
corrupts the picture until the next keyframe, so the detectors see damaged frames.)
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.fire import make_scenario, render

CACHE = Path(os.environ.get("GRIDWATCH_CACHE", Path.home() / ".cache" / "gridwatch")) / "bench" / "pipeline"
SCENE_SEEDS = (41, 43, 47, 53)
"""Fire scenes the cameras cycle through (seed 41 is the scene the end-to-end test alerts on)."""


def loop_seconds(seed: int, fps: float) -> float:
    """Length of one loop of the scene drawn from `seed`."""
    return make_scenario("fire", seed, (), fps=fps).duration_s


def _frames(seed: int, size: tuple[int, int], fps: float, loops: int) -> Iterator[NDArray[np.uint8]]:
    scenario = make_scenario("fire", seed, (), fps=fps)
    for _ in range(loops):
        for image, _box in render(scenario):
            same = (image.shape[1], image.shape[0]) == size
            yield image if same else np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_LINEAR), np.uint8)


def encode_single_slice(
    path: Path, frames: Iterable[NDArray[np.uint8]], fps: float, gop: int, crf: int = 26,
) -> int:
    """Encode BGR frames to H.264 in an MP4 with one slice per frame, a keyframe every `gop` frames and no
    B-frames (a camera's main stream); returns the number of frames."""
    n = 0
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.pix_fmt = "yuv420p"
        stream.thread_type = "FRAME"
        stream.options = {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0", "bf": "0",
                          "crf": str(crf), "preset": "veryfast"}
        for image in frames:
            if n == 0:
                stream.height, stream.width = image.shape[:2]
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")):
                container.mux(packet)
            n += 1
        for packet in stream.encode():
            container.mux(packet)
    return n


def camera_clip(
    seed: int, size: tuple[int, int], fps: float, min_seconds: float, gop_s: float = 1.0,
    cache_dir: Path = CACHE,
) -> Path:
    """An H.264 MP4 of the fire scene `seed` at `size` (width, height) and `fps`, at least `min_seconds`
    long, with a keyframe every `gop_s` seconds (what keyframe-only decoding samples)."""
    loops = max(1, math.ceil(min_seconds / loop_seconds(seed, fps)))
    key = hashlib.sha256(f"v2-{seed}-{size}-{fps}-{loops}-{gop_s}".encode()).hexdigest()[:10]
    path = cache_dir / f"fire{seed}-{size[0]}x{size[1]}-{fps:g}fps-x{loops}-{key}.mp4"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.mp4")
        encode_single_slice(tmp, _frames(seed, size, fps, loops), fps, gop=max(1, round(gop_s * fps)))
        tmp.rename(path)
    return path
