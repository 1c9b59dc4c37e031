"""Finds backends through the ``transport.backends`` entry-point group.

A third party adds a backend by declaring an entry point, without touching this repository.
A backend that cannot be imported (a missing dependency, a typo in its entry point) must not
take the others down or end in a traceback: it is left out and its error kept in
``LoadedBackends.failures``, so that the config loader can name it if a section uses it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from transport.core.backend import Backend

GROUP = "transport.backends"
log = logging.getLogger(__name__)


class LoadedBackends(dict[str, type[Backend[Any]]]):
    """Backend classes by entry-point name, plus ``failures``: name -> one-line error."""

    def __init__(self) -> None:
        super().__init__()
        self.failures: dict[str, str] = {}


def _load_one(entry: EntryPoint) -> type[Backend[Any]]:
    """Import one entry point; raises with a readable message when it is not a backend."""
    loaded = entry.load()
    if not (isinstance(loaded, type) and issubclass(loaded, Backend)):
        raise TypeError(f"{entry.value} is not a transport.core.backend.Backend subclass")
    return loaded


def load_backends() -> LazyBackends:
    """Every installed backend, imported only when asked for (a config names it).

    A gateway running only IRC never imports the SMS backend and twilio-python (about
    15 MiB). A backend that fails to import, or the same name declared by two packages with
    different targets (which one ran would depend on ``sys.path``), is listed in
    ``.failures`` once something asks for it.
    """
    entries: dict[str, EntryPoint] = {}
    clashes: dict[str, str] = {}
    for entry in entry_points(group=GROUP):
        known = entries.get(entry.name)
        if known is not None and known.value != entry.value:
            clashes[entry.name] = (
                f"declared by more than one package ({known.value}, {entry.value})")
        entries.setdefault(entry.name, entry)
    return LazyBackends(entries, clashes)


class LazyBackends(Mapping[str, type[Backend[Any]]]):
    """Backend classes by entry-point name, imported on first access; ``failures`` maps
    the names that could not be loaded to a one-line error."""

    def __init__(self, entries: Mapping[str, EntryPoint], clashes: Mapping[str, str]) -> None:
        self._entries = dict(entries)
        self._loaded: dict[str, type[Backend[Any]]] = {}
        self.failures: dict[str, str] = dict(clashes)

    def __getitem__(self, name: str) -> type[Backend[Any]]:
        loaded = self._loaded.get(name)
        if loaded is not None:
            return loaded
        if name in self.failures or name not in self._entries:
            raise KeyError(name)
        entry = self._entries[name]
        try:
            loaded = self._loaded[name] = _load_one(entry)
        except Exception as exc:  # any import-time error must stay a one-line report
            log.debug("backend %s failed to load", name, exc_info=True)
            self.failures[name] = f"cannot load {entry.value}: {type(exc).__name__}: {exc}"
            raise KeyError(name) from None
        return loaded

    def load_all(self) -> None:
        """Import every backend now (``check-config`` reports those that cannot load)."""
        for name in list(self._entries):
            self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries and name not in self.failures

    def __iter__(self) -> Iterator[str]:
        return (name for name in self._entries if name not in self.failures)

    def __len__(self) -> int:
        return sum(1 for _ in self)
