"""A stand-in for the service, run as a subprocess by the SIGKILL test.

`produce`: handle N fire events from several cameras through the pipeline while the relay publishes,
printing each accepted alert_id (after its outbox commit) so the test knows what must reach the topic.
`drain`: start the relay on the existing outbox, publish everything unsent, print DRAINED.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from alerts.config import AlertsConfig
from alerts.runtime import AlertsRuntime
from tests.alerts.factories import event


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["produce", "drain"])
    ap.add_argument("--outbox", required=True)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--events", type=int, default=2000)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    cfg = AlertsConfig.model_validate(
        {
            "outbox": {"path": args.outbox},
            "kafka": {"bootstrap_servers": args.bootstrap, "topic": args.topic, "batch_max_rows": 50},
            "evidence": {"enabled": False},
            "dedup": {"enabled": False},
        }
    )
    rt = AlertsRuntime(cfg, node_id="child", config_version="test")
    rt.start()
    if args.mode == "drain":
        assert rt.relay is not None
        ok = rt.relay.drain(60.0)
        rt.stop(5.0)
        print("DRAINED" if ok else "NOT DRAINED", flush=True)
        return 0 if ok else 1
    t0 = time.time()
    for i in range(args.events):
        cam = f"cam-{i % 4}"
        alert = rt.pipeline.handle(
            event(source_id=cam, incident_id=f"i{i}", t=t0 + i * 0.001, lat=30.0 + 0.01 * i, lon=120.0)
        )
        if alert is not None:
            print(alert.alert_id, flush=True)
    rt.stop(30.0)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
