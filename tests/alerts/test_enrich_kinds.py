"""Every event kind has its own alert fields, read from the details its detector declares; an event whose
kind or details nobody registered is an error naming them, never a construction alert."""

from __future__ import annotations

import dataclasses

import pytest

from alerts.kinds import BUILTIN, AlertKind, AlertKinds, fire_fields
from detectors.event import EventDetails, EventKind
from tests.alerts.factories import event, fire_details


@pytest.mark.parametrize(("kind", "field"), [(EventKind.FIRE, "fire"), (EventKind.SMOKE, "fire"),
                                             (EventKind.THROW, "throw"), (EventKind.CONSTRUCTION, "construction")])
def test_each_kind_gets_its_own_fields(kind: EventKind, field: str) -> None:
    assert list(BUILTIN.fields(event(kind))) == [field]


def test_the_fire_growth_ratio_is_the_detectors_typed_field() -> None:
    fields = BUILTIN.fields(event(EventKind.FIRE, details=fire_details(growth_ratio=2.5)))
    assert fields["fire"].growth_ratio == 2.5


def test_an_unknown_kind_is_an_error_naming_it() -> None:
    stray = dataclasses.replace(event(EventKind.FIRE), kind="graffiti")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="graffiti"):
        BUILTIN.fields(stray)


@dataclasses.dataclass(frozen=True, slots=True)
class FakeGraffitiDetails(EventDetails):
    """Details of a detector nobody registered with the alerts package."""

    tag_count: int


@pytest.mark.parametrize("details", [None, FakeGraffitiDetails(3), fire_details()])
def test_details_of_another_type_are_an_error_naming_them(details: EventDetails | None) -> None:
    stray = event(EventKind.CONSTRUCTION, details=details)
    with pytest.raises(ValueError, match=f"construction.*{type(details).__name__}"):
        BUILTIN.fields(stray)


def test_a_kind_and_details_pair_registered_twice_is_refused() -> None:
    fire = AlertKind(frozenset({EventKind.FIRE}), type(fire_details()), fire_fields)
    with pytest.raises(ValueError, match="registered twice"):
        AlertKinds([fire, fire])
