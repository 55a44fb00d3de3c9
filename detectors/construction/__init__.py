"""Illegal construction from drone footage: geo-projected candidates, sites, known-structure registry."""

from detectors.construction.config import ConstructionConfig
from detectors.construction.detector import ConstructionDetector
from detectors.construction.flight import FlightProcessor, FlightResult, process_flight
from detectors.construction.frame_candidates import Infer
from detectors.construction.registry import Registry
from detectors.construction.registry_entries import StructureKind
from detectors.construction.summary import FlightSummary, SiteReport

__all__ = [
    "ConstructionConfig",
    "ConstructionDetector",
    "FlightProcessor",
    "FlightResult",
    "FlightSummary",
    "Infer",
    "Registry",
    "SiteReport",
    "StructureKind",
    "process_flight",
]
