"""Presences of one user folded into one change, for when they come faster than their turn.

The lifecycle applies each presence in order while few wait; a flood beyond that folds
here, so that it costs one entry per (resource, JID) pair instead of one per presence.
Applied as a whole, a fold leaves the same resources as its presences one by one would.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class PresenceFold:
    """First ``gone`` (every resource dropped), then the ``failed`` resources, then the
    last word on each (resource, JID) pair."""

    gone: bool = False
    failed: set[str] = field(default_factory=set)
    changes: dict[tuple[str, str], bool] = field(default_factory=dict)
    # the user answered (an available presence, or the bare JID's goodbye), as a resync asks
    heard: bool = False

    def add(self, resource: str, target: str, available: bool) -> None:
        """``resource`` sent available (or unavailable) presence to ``target``."""
        self.changes[(resource, target)] = available
        self.heard = self.heard or available

    def fail(self, resource: str) -> None:
        """An error presence came from ``resource``: it is gone with all its JIDs."""
        for pair in [pair for pair in self.changes if pair[0] == resource]:
            del self.changes[pair]
        self.failed.add(resource)

    def drop_all(self) -> None:
        """The bare JID said the user has no available resource."""
        self.gone = self.heard = True
        self.failed.clear()
        self.changes.clear()

    @property
    def adds(self) -> bool:
        """Whether applying it can leave a resource available."""
        return any(self.changes.values())

    def apply(self, resources: dict[str, set[str]]) -> None:
        """Change ``resources`` (resource -> the JIDs holding its presence) in place."""
        if self.gone:
            resources.clear()
        for resource in self.failed:
            resources.pop(resource, None)
        for (resource, target), available in self.changes.items():
            if available:
                resources.setdefault(resource, set()).add(target)
            elif (targets := resources.get(resource)) is not None:
                targets.discard(target)
                if not targets:
                    del resources[resource]
