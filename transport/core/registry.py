"""Finds backends through the ``transport.backends`` entry-point group.

A third party adds a backend by declaring an entry point, without touching this repository.
A backend that cannot be imported (a missing dependency, a typo in its entry point) must not
take the others down or end in a traceback: it is left out and its error kept in
``LoadedBackends.failures``, so that the config loader can name it if a section uses it.
"""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, entry_points

from transport.core.backend import Backend

GROUP = "transport.backends"
log = logging.getLogger(__name__)


class LoadedBackends(dict[str, type[Backend]]):
    """Backend classes by entry-point name, plus ``failures``: name -> one-line error."""

    def __init__(self) -> None:
        super().__init__()
        self.failures: dict[str, str] = {}


def _load_one(entry: EntryPoint) -> type[Backend]:
    """Import one entry point; raises with a readable message when it is not a backend."""
    loaded = entry.load()
    if not (isinstance(loaded, type) and issubclass(loaded, Backend)):
        raise TypeError(f"{entry.value} is not a transport.core.backend.Backend subclass")
    return loaded


def load_backends() -> LoadedBackends:
    """Import every installed backend; the ones that fail are listed in ``.failures``.

    The same name declared by two packages with different targets is a failure too: which
    one would run would depend on the order of ``sys.path``.
    """
    result = LoadedBackends()
    targets: dict[str, str] = {}
    for entry in entry_points(group=GROUP):
        name = entry.name
        if name in targets:
            if targets[name] != entry.value:
                result.pop(name, None)
                result.failures[name] = (
                    f"declared by more than one package ({targets[name]}, {entry.value})"
                )
            continue
        targets[name] = entry.value
        try:
            result[name] = _load_one(entry)
        except Exception as exc:  # any import-time error must stay a one-line report
            log.debug("backend %s failed to load", name, exc_info=True)
            result.failures[name] = f"cannot load {entry.value}: {type(exc).__name__}: {exc}"
    return result
