"""The shipped detectors' registrations: one module per detector, one line each in `BUILTIN`.

A new detector adds `gridwatch/registered/<name>.py` (its `DetectorRegistration`) and one line below; its
config model, factory, alert fields and evidence policy travel in that registration
(`gridwatch/registration.py`). Its `detectors.<name>` defaults section is a field of
`detectors.config.DetectorsConfig` (a test checks that it lists exactly these names).
"""

from gridwatch.registered.construction import CONSTRUCTION
from gridwatch.registered.fire import FIRE
from gridwatch.registered.throw import THROW
from gridwatch.registration import Registrations

BUILTIN = Registrations((FIRE, THROW, CONSTRUCTION))
"""Every shipped detector, in the order they run on a frame."""

__all__ = ["BUILTIN"]
