"""The error hierarchy shared by every package (a leaf module: it imports nothing of ours).

Each boundary has its own subclass, and each error says whether retrying can help, so a worker's top
loop can decide between backing off and giving up without string matching.
"""

from __future__ import annotations


class GridwatchError(Exception):
    """Root of every error gridwatch raises on purpose."""

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class ConfigError(GridwatchError):
    """A configuration file or value is invalid; fixing the file is the only cure."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message, retryable=False)
        self.problems: list[str] = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return super().__str__()
        return super().__str__() + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class SourceError(GridwatchError):
    """A camera, file or telemetry source failed. Network faults are retryable; bad files are not."""


class ModelError(GridwatchError):
    """A model file is unusable or inference failed."""


class PublishError(GridwatchError):
    """Delivering an alert failed. Broker faults are retryable; a rejected record is not."""

    retryable = True


class MissingExtraError(GridwatchError):
    """An optional dependency is not installed; the message names the extra that brings it."""

    def __init__(self, extra: str, needed_for: str, module: str) -> None:
        super().__init__(
            f"{needed_for} needs the `{extra}` extra ({module} is not installed): pip install 'gridwatch[{extra}]'",
            retryable=False,
        )
        self.extra = extra
