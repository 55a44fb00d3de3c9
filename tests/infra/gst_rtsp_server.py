#!/usr/bin/python3
"""A real RTSP server for tests: GStreamer's gst-rtsp-server, driven through PyGObject.

Runs under Debian's system Python (python3-gi, gir1.2-gst-rtsp-server-1.0), not the project venv.
Usage: gst_rtsp_server.py --port 8554 --spec mounts.json
The spec maps mount paths to sources:
  {"/cam1": {"file": "/abs/clip.mp4"},                       H.264 MP4 streamed at its native rate
   "/cam2": {"pattern": "ball", "width": 320, "height": 240, "fps": 25}}   live test pattern, x264-encoded
Every mount has a valve named "gate": commands on stdin, one per line, control it while clients stay
connected: `stall /cam1` (stop sending packets), `resume /cam1`. The server prints `ready <port>` once it
listens and `ok <command>` after each command.
"""

import argparse
import json
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)


def launch_line(spec):
    gate = "valve name=gate drop=false"
    pay = "rtph264pay name=pay0 pt=96 config-interval=1"
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
    def __init__(self, port, spec):
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address("127.0.0.1")
        self.server.set_service(str(port))
        self.gates = {}
        self.stalled = set()
        mounts = self.server.get_mount_points()
        for path, src in spec.items():
            factory = GstRtspServer.RTSPMediaFactory()
            factory.set_launch(launch_line(src))
            factory.set_shared(bool(src.get("shared", True)))
            factory.set_protocols(GstRtspServer.RTSPLowerTrans.TCP | GstRtspServer.RTSPLowerTrans.UDP)
            factory.connect("media-configure", self.on_media, path)
            mounts.add_factory(path, factory)
        self.server.attach(None)

    def on_media(self, _factory, media, path):
        gate = media.get_element().get_by_name("gate")
        self.gates.setdefault(path, []).append(gate)
        gate.set_property("drop", path in self.stalled)

    def command(self, line):
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--spec", required=True)
    args = ap.parse_args()
    with open(args.spec, encoding="utf-8") as fh:
        spec = json.load(fh)
    server = Server(args.port, spec)
    loop = GLib.MainLoop()

    def read_stdin():
        for line in sys.stdin:
            line = line.strip()
            if line:
                GLib.idle_add(server.command, line)
        GLib.idle_add(loop.quit)

    threading.Thread(target=read_stdin, daemon=True).start()
    print(f"ready {args.port}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
