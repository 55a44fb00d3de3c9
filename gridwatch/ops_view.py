"""What the metrics collector reads from a running node: a narrow view, so metrics does not import `ops`.

`gridwatch.ops.Operations` satisfies `OperationsView`; cluster mode's node satisfies `ClusterView`.
Keeping these protocols here (and not in ops.py) keeps the import arrows one-way: ops -> metrics -> view.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from gridwatch.service import Service


class ClusterView(Protocol):
    """What cluster mode shows in /status and metrics (gridwatch.cluster provides it)."""

    @property
    def buckets(self) -> list[int]: ...

    @property
    def rebalances(self) -> Counter[str]: ...

    @property
    def ready(self) -> bool:
        """Registry read and group joined (part of /readyz)."""
        ...

    @property
    def member_ok(self) -> bool:
        """A stable group member whose membership lease has not run out."""
        ...

    @property
    def registry_counts(self) -> tuple[int, int]:
        """(registry definitions that resolve on this node, definitions it rejected)."""
        ...

    @property
    def not_started(self) -> Counter[str]:
        """Cameras of this node's buckets that are not running, by reason (capacity, failed)."""
        ...

    def status(self) -> dict[str, Any]: ...


class OperationsView(Protocol):
    """The running node as /metrics sees it: the service, reload outcomes and the cluster part if any."""

    @property
    def service(self) -> Service: ...

    @property
    def reloads(self) -> Counter[str]:
        """Config reloads by outcome ("ok", "failed")."""
        ...

    @property
    def cluster(self) -> ClusterView | None: ...
