"""Start and control the real RTSP server (GStreamer gst-rtsp-server) for tests.

The launcher and the server script live in `benchmarks/` (the pipeline benchmark serves cameras the same
way, and benchmarks may not import tests); this module keeps the tests' import path.
"""

from benchmarks.rtsp import SERVER_SCRIPT, SYSTEM_PYTHON, RtspServer

__all__ = ["SERVER_SCRIPT", "SYSTEM_PYTHON", "RtspServer"]
