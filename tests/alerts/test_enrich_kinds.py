"""Every event kind has its own alert fields; a kind without them is an error, not a construction alert."""

from __future__ import annotations

import dataclasses

import pytest

from alerts.enrich import kind_fields
from detectors.event import EventKind
from tests.alerts.factories import event


@pytest.mark.parametrize(("kind", "field"), [(EventKind.FIRE, "fire"), (EventKind.SMOKE, "fire"),
                                             (EventKind.THROW, "throw"), (EventKind.CONSTRUCTION, "construction")])
def test_each_kind_gets_its_own_fields(kind: EventKind, field: str) -> None:
    assert list(kind_fields(event(kind))) == [field]


def test_an_unknown_kind_is_an_error_naming_it() -> None:
    stray = dataclasses.replace(event(EventKind.FIRE), kind="graffiti")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="graffiti"):
        kind_fields(stray)
