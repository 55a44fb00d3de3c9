"""Operations around a running service: the HTTP endpoint (metrics, health, status) and hot reload.

`/metrics` (Prometheus text), `/healthz` (the process answers), `/readyz` (models warmed up, outbox
writable and below its high-water mark, broker reachable when Kafka is configured), `/status` (JSON: per
camera state, detectors, outbox, config version, cluster assignment). Served on the configured address,
loopback by default. Camera URLs appear only masked.

Reload happens on SIGHUP and when the config file's content changes (polled every
`service.reload_poll_s`): the file is validated first; an invalid file changes nothing, every error is
logged, and `gridwatch_config_reloads_total{outcome="failed"}` counts it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foundation.errors import ConfigError
from gridwatch.config import LoadedConfig, load_config
from gridwatch.metrics import build_registry, render
from gridwatch.ops_view import ClusterView
from gridwatch.reload import apply_reload
from gridwatch.service import Service
from ingest.credentials import mask_url

if TYPE_CHECKING:
    from gridwatch.signals import Signals

log = logging.getLogger(__name__)


class Operations:
    """HTTP endpoint + reload watcher for one service. `tick()` is called by the main loop."""

    def __init__(self, service: Service, config_path: Path | None, signals: Signals | None) -> None:
        self.service = service
        self.config_path = config_path
        self.signals = signals
        self.reloads: Counter[str] = Counter({"ok": 0, "failed": 0})
        self.last_reload_error: list[str] = []
        self.cluster: ClusterView | None = None
        self.apply_config: Callable[[LoadedConfig], object] | None = None
        """Reload hook: cluster mode applies a new config its own way (cameras come from the registry)."""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._last_poll = time.monotonic()
        self._last_text = _read(config_path)
        self.registry = build_registry(self)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        metrics = self.service.loaded.root.service.metrics
        if not metrics.enabled:
            return
        handler = _handler_for(self)
        try:
            self._server = ThreadingHTTPServer((metrics.address, metrics.port), handler)
        except OSError as exc:  # port taken, address not on this host, name that does not resolve
            reason = exc.strerror or str(exc)
            raise ConfigError(f"service.metrics: cannot listen on {metrics.address}:{metrics.port}: {reason} "
                              "(set service.metrics.address/port, or enabled: false)") from exc
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="gw-http", daemon=True)
        self._thread.start()
        log.info("metrics and health on http://%s:%d/ (/metrics /healthz /readyz /status)",
                 metrics.address, self.port)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1]) if self._server is not None else 0

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- reload ------------------------------------------------------------------------------------

    def tick(self) -> None:
        """Reload on SIGHUP, or when the file's content changed since the last poll."""
        if self.signals is not None and self.signals.reload.is_set():
            self.signals.reload.clear()
            self.reload("SIGHUP")
            return
        poll_s = self.service.loaded.root.service.reload_poll_s
        if self.config_path is None or poll_s <= 0 or time.monotonic() - self._last_poll < poll_s:
            return
        self._last_poll = time.monotonic()
        text = _read(self.config_path)
        if text is not None and text != self._last_text:
            self.reload("file changed")

    def reload(self, why: str) -> bool:
        """Validate the file and apply it; False (and nothing changed) when it is invalid."""
        if self.config_path is None:
            return False
        self._last_text = _read(self.config_path)
        try:
            new = load_config(self.config_path)
        except ConfigError as exc:
            self.reloads["failed"] += 1
            self.last_reload_error = exc.problems or [str(exc)]
            log.error("config reload (%s) rejected; still running version %s:\n%s", why,
                      self.service.loaded.version, "\n".join(f"  - {p}" for p in self.last_reload_error))
            return False
        if new.version == self.service.loaded.version and new.root == self.service.loaded.root:
            # Same text and same resolved values: a secret changed in its file or the environment (e.g.
            # a fixed Kafka password) makes `root` differ, so SIGHUP applies it.
            log.info("config reload (%s): file unchanged (version %s)", why, new.version)
            return True
        try:
            if self.apply_config is not None:
                self.apply_config(new)
            else:
                apply_reload(self.service, new)
        except Exception:  # a reload must never take the running service down
            self.reloads["failed"] += 1
            log.exception("config reload (%s) failed while applying version %s", why, new.version)
            return False
        self.reloads["ok"] += 1
        self.last_reload_error = []
        return True

    # -- views -------------------------------------------------------------------------------------

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        service = self.service
        checks: dict[str, Any] = {}
        checks["models_ready"] = all(m.ready for m in service.models.values())
        if service.alerts is not None:
            health = service.alerts.health()
            checks["outbox_ok"] = health.outbox.ok
            checks["alerts"] = health.reason or "ok"
            if service.alerts.relay is not None:
                checks["broker_reachable"] = bool(health.relay and health.relay.reachable)
            ok = health.ok and checks["models_ready"]
        else:
            ok = False
            checks["alerts"] = "not started"
        checks["started"] = service.started_at is not None and not service.stopping.is_set()
        if self.cluster is not None:
            checks["cluster_joined"] = self.cluster.ready
            ok = ok and checks["cluster_joined"]
        return ok and checks["started"], checks

    def status(self) -> dict[str, Any]:
        service = self.service
        stats = service.camera_stats()
        now = time.time()
        cameras: dict[str, Any] = {}
        for cid, rt in sorted(service.cameras.items()):
            snap = stats.get(cid)
            src = rt.source_config
            cameras[cid] = {
                "state": snap.state.value if snap else "connecting",
                "source": mask_url(src.url.get_secret_value()),
                "sub_stream": mask_url(src.sub_url.get_secret_value()) if src.sub_url else None,
                "frames_decoded": snap.frames_decoded if snap else 0,
                "frames_analysed": rt.runner.analysis.frames_analysed,
                "reconnects": snap.reconnects if snap else 0,
                "last_frame_age_s": (round(a, 3) if (a := snap.last_frame_age_s(now)) is not None else None)
                if snap else None,
                "detectors": {d.name: {"analysis_fps": d.analysis_fps, "model": d.model_name,
                                        "candidates": d.stats.candidates, "confirmations": d.stats.confirmations}
                              for d in rt.detectors},
                "alerts_written": rt.runner.alerts_written,
                "errors": rt.runner.errors,
            }
        out: dict[str, Any] = {
            "node_id": service.node_id,
            "config_version": service.loaded.version,
            "config_source": service.loaded.source,
            "uptime_s": round(now - service.started_at, 1) if service.started_at else 0.0,
            "cameras": cameras,
            "models": {n: {"ready": m.ready, "provider": m.info.provider, "version": m.info.version}
                       for n, m in service.models.items()},
            "reloads": dict(self.reloads),
            "last_reload_error": self.last_reload_error,
        }
        if service.alerts is not None:
            ob = service.alerts.outbox.stats()
            health = service.alerts.health()
            out["outbox"] = {"pending": ob.pending, "max_rows": ob.max_rows, "over_high_water": ob.over_high_water,
                             "ok": health.ok, "reason": health.reason}
            relay = service.alerts.relay
            if relay is not None:
                out["kafka"] = {"reachable": relay.reachable(), "last_error": relay.stats.last_error or None}
        if self.cluster is not None:
            out["cluster"] = self.cluster.status()
        return out


def _read(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


class _Handler(BaseHTTPRequestHandler):
    """The endpoints: /metrics, /healthz, /readyz, /status."""

    server_version = "gridwatch"
    ops: Operations
    """Set per server by `_handler_for`."""

    def do_GET(self) -> None:
        try:
            self._route(self.path.split("?", 1)[0])
        except Exception:  # one bad scrape must not kill the endpoint
            log.exception("http: %s failed", self.path.split("?", 1)[0])
            self._json(500, {"error": "internal error; see the service log"})

    def _route(self, path: str) -> None:
        if path == "/metrics":
            self._send(200, render(self.ops.registry), "text/plain; version=0.0.4; charset=utf-8")
        elif path == "/healthz":
            self._json(200, {"alive": True})
        elif path == "/readyz":
            ok, checks = self.ops.readiness()
            self._json(200 if ok else 503, {"ready": ok, **checks})
        elif path == "/status":
            self._json(200, self.ops.status())
        else:
            self._json(404, {"error": "not found", "endpoints": ["/metrics", "/healthz", "/readyz", "/status"]})

    def _json(self, code: int, body: dict[str, Any]) -> None:
        self._send(code, json.dumps(body, default=str).encode("utf-8"), "application/json")

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


def _handler_for(ops: Operations) -> type[BaseHTTPRequestHandler]:
    """A handler class bound to `ops` (the HTTP server makes one handler per request)."""
    return type("Handler", (_Handler,), {"ops": ops})
