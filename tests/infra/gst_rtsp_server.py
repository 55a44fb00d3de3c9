#!/usr/bin/python3
"""Compatibility entry point: the RTSP test server now lives in benchmarks/gst_rtsp_server.py.

Runs that script with the same arguments (`--port N --spec mounts.json`), under the same system Python.
"""

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).resolve().parents[2] / "benchmarks" / "gst_rtsp_server.py"),
                   run_name="__main__")
