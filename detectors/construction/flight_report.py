"""What the construction detector reports from a flight's state: the event of a decided site and the
flight's summary (track, coverage, sites, calibration). Pure functions of the state and the config.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from detectors.construction.config import ConstructionConfig
from detectors.construction.events import ConstructionDetails
from detectors.construction.flight_state import FlightState
from detectors.construction.polygons import mask_outlines, rasterise_union
from detectors.construction.registry_entries import StructureKind
from detectors.construction.sites import Site, SiteStatus
from detectors.construction.summary import FlightSummary, SiteReport
from detectors.event import Event, EventKind, GeoMethod, GeoPoint, ModelRef, Phase
from detectors.geometry.geodesy import enu_to_wgs84, wgs84_to_enu


def site_event(
    flight: FlightState, site: Site, phase: Phase, at: float, *, known_min_overlap: float, model_ref: ModelRef | None
) -> Event:
    """The `start` or `end` event of a decided site: where it is (WGS-84, with its accuracy radius and
    footprint), why it was alerted (`reasons`) and how it relates to the registry (`details`)."""
    assert flight.origin is not None and site.incident_id is not None
    best = site.best
    east, north = site.centre_m
    lat, lon = enu_to_wgs84(flight.origin[0], flight.origin[1], float(east), float(north))
    ring_lat, ring_lon = enu_to_wgs84(flight.origin[0], flight.origin[1], best.ring_m[:, 0], best.ring_m[:, 1])
    x0, y0 = best.quad_px.min(axis=0)
    x1, y1 = best.quad_px.max(axis=0)
    match = site.registry
    reasons: dict[str, float | int | str | bool] = {
        "frames": site.frames,
        "passes": site.passes,
        "area_m2": round(best.area_m2, 1),
        "median_area_m2": round(site.median_area_m2, 1),
        "confidence": round(site.max_confidence, 3),
        "accuracy_m": round(site.accuracy_m, 2),
        "best_off_nadir_deg": round(best.off_nadir_deg, 1),
        "projected_on_roof_m": round(best.plane_up_m, 1),
        "seen_whole": site.seen_whole,
        "sources": "+".join(sorted(site.sources)),
        "registry_same_kind_overlap": round(match.same_kind_overlap, 3) if match else 0.0,
        "known_min_overlap": known_min_overlap,
        "camera_calibration": flight.calibration.status.value if flight.calibration else "configured",
    }
    if flight.calibration is not None and flight.calibration.correction is not None:
        reasons["calibrated_focal_px"] = round(flight.calibration.focal_px, 1)
    details = ConstructionDetails(
        flight_id=flight.flight_id,
        site_id=site.site_id,
        structure_kind=site.kind.value,
        first_seen_at=site.first_seen_at,
        last_seen_at=site.last_seen_at,
        frames=site.frames,
        passes=site.passes,
        best_frame_seq=best.frame.seq,
        best_pts_s=best.frame.pts_s,
        registry_nearest_same_kind=match.same_kind_id if match else None,
        on_registered_id=match.on_id if match else None,
        on_registered_kind=match.on_kind.value if match and match.on_kind else None,
        rooftop_addition=bool(match and match.on_kind == StructureKind.BUILDING and match.on_overlap >= 0.5),
    )
    return Event(
        kind=EventKind.CONSTRUCTION,
        source_id=flight.flight_id,
        incident_id=site.incident_id,
        phase=phase,
        update_seq=site.update_seq,
        started_at=site.first_seen_at,
        last_seen_at=site.last_seen_at,
        trigger_captured_at=at,
        confidence=site.max_confidence,
        box_xyxy=(float(x0), float(y0), float(x1), float(y1)),
        ground=GeoPoint(float(lat), float(lon), round(site.accuracy_m, 2), GeoMethod.DRONE_RAY),
        footprint_lonlat=tuple((float(a), float(b)) for a, b in zip(ring_lon, ring_lat, strict=True)),
        area_m2=round(best.area_m2, 1),
        snapshot=best.frame,
        evidence_window_s=(site.first_pts_s, site.last_pts_s),
        model=model_ref if "model" in site.sources else None,
        reasons=reasons,
        details=details,
    )


def flight_summary(flight: FlightState, config: ConstructionConfig) -> FlightSummary:
    """What a flight found and covered: its track, the ground its frames saw (union of footprints), every
    decided site with its registry match, and how its camera calibration went."""
    origin = flight.origin or (
        (flight.track_lonlat[0][1], flight.track_lonlat[0][0]) if flight.track_lonlat else (0.0, 0.0)
    )
    track = np.asarray(flight.track_lonlat, np.float64).reshape(-1, 2)
    te, tn = wgs84_to_enu(origin[0], origin[1], track[:, 1], track[:, 0])
    coverage: list[NDArray[np.float64]] = []
    covered = 0.0
    if flight.footprints_m:
        mask, corner, cell = rasterise_union(flight.footprints_m, config.coverage_cell_m)
        covered = float(mask.sum()) * cell * cell
        coverage = mask_outlines(mask, corner, cell, simplify_m=cell)

    def lonlat(ring: NDArray[np.float64]) -> NDArray[np.float64]:
        la, lo = enu_to_wgs84(origin[0], origin[1], ring[:, 0], ring[:, 1])
        return np.column_stack([lo, la])

    reports = []
    unconfirmed = 0
    for site in flight.book.live:
        if site.status == SiteStatus.PENDING:
            unconfirmed += 1
            continue
        c = lonlat(site.centre_m[None])[0]
        m = site.registry
        reports.append(
            SiteReport(
                site_id=site.site_id,
                status=site.status.value,
                kind=site.kind.value,
                lat_deg=float(c[1]),
                lon_deg=float(c[0]),
                accuracy_m=site.accuracy_m,
                area_m2=site.best.area_m2,
                frames=site.frames,
                passes=site.passes,
                first_seen_at=site.first_seen_at,
                last_seen_at=site.last_seen_at,
                confidence=site.max_confidence,
                ring_m=site.best.ring_m,
                ring_lonlat=lonlat(site.best.ring_m),
                incident_id=site.incident_id,
                registry_id=m.same_kind_id if m else None,
                registry_overlap=m.same_kind_overlap if m else 0.0,
                on_id=m.on_id if m else None,
                on_kind=m.on_kind.value if m and m.on_kind else None,
                sources=tuple(sorted(site.sources)),
                centre_m=(float(site.centre_m[0]), float(site.centre_m[1])),
            )
        )
    registered = (
        tuple((e.id, e.kind.value, r) for e, r in zip(flight.registry.entries, flight.registry.rings, strict=True))
        if flight.registry is not None
        else ()
    )
    return FlightSummary(
        flight_id=flight.flight_id,
        origin_lat_deg=origin[0],
        origin_lon_deg=origin[1],
        frames_analysed=flight.frames_analysed,
        frames_used=flight.frames_used,
        skipped=dict(flight.skipped),
        started_at=flight.first_at,
        ended_at=flight.last_at,
        track_m=np.column_stack([te, tn]),
        track_lonlat=track,
        coverage_m=tuple(coverage),
        coverage_lonlat=tuple(lonlat(r) for r in coverage),
        covered_area_m2=covered,
        sites=tuple(reports),
        registered_m=registered,
        unconfirmed_sites=unconfirmed,
        calibration=flight.calibration,
        accuracy_note=f"radius holding the true position with {config.geometry.accuracy_confidence:.0%} odds",
    )
