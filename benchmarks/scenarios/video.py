"""Write generated frames as H.264 video with PyAV (libx264), as cameras would send them."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray


def write_h264(
    path: str | Path,
    frames: Iterable[NDArray[np.uint8]],
    fps: float = 25.0,
    *,
    gop: int | None = None,
    crf: int = 23,
    bframes: int = 0,
    preset: str = "veryfast",
) -> int:
    """Encode BGR frames (all the same size, even width and height) to an MP4/MKV/TS file.

    `gop` is the keyframe interval in frames (default one per second). Returns the number of frames.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    rate = Fraction(fps).limit_denominator(1001)
    n = 0
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.pix_fmt = "yuv420p"
        stream.options = {
            "g": str(gop or max(1, round(fps))),
            "bf": str(bframes),
            "crf": str(crf),
            "preset": preset,
            "keyint_min": str(gop or max(1, round(fps))),
            "sc_threshold": "0",
        }
        for image in frames:
            if n == 0:
                stream.height, stream.width = image.shape[:2]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
            n += 1
        for packet in stream.encode():
            container.mux(packet)
    return n
