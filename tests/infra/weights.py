"""Trained weights for tests: the set-up's fetch (cached under $GRIDWATCH_CACHE; a no-op once complete)."""

from __future__ import annotations

from models.weights import FetchedWeights


def fire_smoke_weights() -> FetchedWeights:
    """The `fire-smoke` weights as `make setup` fetches them (fetching them first if the cache lacks them)."""
    from gridwatch.calibration import fire_smoke_calibration
    from models.fetch import fetch

    return fetch("fire-smoke", fire_smoke_calibration)
