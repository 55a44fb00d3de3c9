"""`gridwatch survey confirm`: the registry's change flow, from a survey's changes to `pending_review`.

An operator who has confirmed new structures from their alerts adds them to the registry, so the next
survey (or a comparison with an older base map) does not alert on them again; a permit later turns an
entry into `permitted` by editing the file. The changes file is the survey summary's GeoJSON, written
next to the flight summary and into the evidence store (`surveys/<survey>/changes.geojson`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from detectors.construction.registry import add_pending_review
from foundation.errors import ConfigError


def confirmed_features(doc: Any, ids: list[str], source: str) -> list[dict[str, Any]]:
    """The change features of a survey GeoJSON named by `ids` (bare `C3` or `SURVEY/C3`; `new`: every new one)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise ConfigError(f"{source}: not a survey changes GeoJSON (FeatureCollection)")
    changes: list[dict[str, Any]] = []
    for f in doc["features"]:
        props = f.get("properties") if isinstance(f, dict) else None
        if isinstance(props, dict) and props.get("layer") == "change":
            changes.append(f)
    wanted = set(ids)
    out: list[dict[str, Any]] = []
    for f in changes:
        props = dict(f["properties"])
        if ("new" in wanted and props.get("status") == "new") or {props.get("id"), props.get("change_id")} & wanted:
            keep = {k: v for k, v in props.items() if k not in {"layer", "status"}}
            out.append({"type": "Feature", "properties": keep, "geometry": f.get("geometry")})
    found = {f["properties"].get("id") for f in out} | {f["properties"].get("change_id") for f in out}
    missing = wanted - {"new"} - found
    if missing:
        raise ConfigError(f"{source}: no change with id {', '.join(sorted(missing))}")
    return out


def cmd_confirm(args: argparse.Namespace) -> int:
    try:
        doc = json.loads(args.changes.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{args.changes}: cannot read survey changes ({exc})") from exc
    features = confirmed_features(doc, list(args.ids), str(args.changes))
    added = add_pending_review(args.registry, features)
    skipped = len(features) - len(added)
    print(f"{len(added)} change(s) added to {args.registry} as pending_review"
          + (f"; {skipped} already there" if skipped else ""), file=sys.stderr)
    for fid in added:
        print(fid)
    return 0
