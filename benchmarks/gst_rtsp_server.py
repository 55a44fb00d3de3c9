#!/usr/bin/python3
"""A real RTSP server for benchmarks and tests: GStreamer's gst-rtsp-server, driven through PyGObject.

Runs under Debian's system Python (python3-gi, gir1.2-gst-rtsp-server-1.0), not the project venv, so it
imports nothing of ours. Usage: gst_rtsp_server.py --port 8554 --spec mounts.json
The spec maps mount paths to sources:
  {"/cam1": {"file": "/abs/clip.mp4"},                       H.264 MP4 streamed at its native rate
   "/cam2": {"pattern": "ball", "width": 320, "height": 240, "fps": 25}}   live test pattern, x264-encoded
Optional per mount: "silent": true (answers the TCP connection but never a request, as a hung camera
does; `resume` lets it play), "auth": ["user", "password"] (RTSP Basic authentication; on a server
with any "auth" mount, a mount without one is unreachable), "config_interval": 0 (SPS/PPS only in
the SDP, not in the stream; default -1: with every keyframe), "shared": false (one pipeline per client).
Every mount has a valve named "gate": commands on stdin, one per line, control it while clients stay
connected: `stall /cam1` (stop sending packets), `resume /cam1`. The server prints `ready <port>` once it
listens and `ok <command>` after each command.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any

import gi  # type: ignore[import-not-found]

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # type: ignore[import-not-found]  # noqa: E402

Gst.init(None)


def launch_line(spec: dict[str, Any]) -> str:
    """The gst-launch description of one mount's media."""
    # A "silent" mount answers DESCRIBE/SETUP/PLAY (caps still flow) but never sends a packet.
    silent = bool(spec.get("silent", False))
    gate = f"valve name=gate drop={'true' if silent else 'false'} drop-mode=forward-sticky-events"
    # config_interval -1: SPS/PPS with every keyframe (in-band); 0: only in the SDP, as many cameras do
    pay = f"rtph264pay name=pay0 pt=96 config-interval={int(spec.get('config_interval', -1))}"
    if "file" in spec:
        src = f'filesrc location="{spec["file"]}" ! qtdemux ! h264parse'
    else:
        w, h, fps = spec.get("width", 320), spec.get("height", 240), spec.get("fps", 25)
        gop = spec.get("gop", fps)
        src = (
            f"videotestsrc is-live=true pattern={spec.get('pattern', 'ball')} ! "
            f"video/x-raw,width={w},height={h},framerate={fps}/1 ! "
            f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bframes=0 ! h264parse"
        )
    return f"( {src} ! {gate} ! {pay} )"


class Server:
    """The RTSP server with one media factory per mount and a valve per media for stall/resume."""

    def __init__(self, port: int, spec: dict[str, dict[str, Any]]) -> None:
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address("127.0.0.1")
        self.server.set_service(str(port))
        # One thread per client (default: one for all), so a client stuck on a silent mount's DESCRIBE
        # does not hold up every other camera's connection, as it would not on a real network.
        self.server.get_thread_pool().set_max_threads(64)
        self.gates: dict[str, list[Any]] = {}
        self.stalled = {path for path, src in spec.items() if src.get("silent")}
        mounts = self.server.get_mount_points()
        auth = None
        roles: dict[tuple[str, str], str] = {}
        if any(src.get("auth") for src in spec.values()):
            # Authentication is server-wide (clients send credentials only when challenged): each "auth"
            # mount has its own role, given by its credentials; mounts without "auth" are then unreachable,
            # so serve authenticated and open mounts from separate servers.
            auth = GstRtspServer.RTSPAuth()
            self.server.set_auth(auth)
        for path, src in spec.items():
            factory = GstRtspServer.RTSPMediaFactory()
            factory.set_launch(launch_line(src))
            role = "nobody"
            if src.get("auth") and auth is not None:
                user, password = src["auth"]
                # one role per credential pair: mounts that share credentials share the role
                role = roles.setdefault((user, password), f"role{len(roles)}")
                token = GstRtspServer.RTSPToken()
                token.set_string("media.factory.role", role)
                auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
            if auth is not None:
                factory.add_role_from_structure(Gst.Structure.new_from_string(
                    f"{role}, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"))
            factory.set_shared(bool(src.get("shared", True)))
            factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP)
            factory.connect("media-configure", self.on_media, path)
            mounts.add_factory(path, factory)
        self.server.attach(None)

    def on_media(self, _factory: Any, media: Any, path: str) -> None:
        gate = media.get_element().get_by_name("gate")
        self.gates.setdefault(path, []).append(gate)
        gate.set_property("drop", path in self.stalled)

    def command(self, line: str) -> bool:
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("stall", "resume"):
            verb, path = parts
            if verb == "stall":
                self.stalled.add(path)
            else:
                self.stalled.discard(path)
            for gate in self.gates.get(path, []):
                gate.set_property("drop", verb == "stall")
        print(f"ok {line}", flush=True)
        return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--spec", required=True)
    args = ap.parse_args()
    with open(args.spec, encoding="utf-8") as fh:
        spec = json.load(fh)
    server = Server(args.port, spec)
    loop = GLib.MainLoop()

    def read_stdin() -> None:
        for raw in sys.stdin:
            line = raw.strip()
            if line:
                GLib.idle_add(server.command, line)
        GLib.idle_add(loop.quit)

    threading.Thread(target=read_stdin, daemon=True).start()
    print(f"ready {args.port}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
