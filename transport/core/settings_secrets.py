"""Where a settings table's secrets are: the keys the environment may set
(``setting(..., secret=True, env="VAR")``) and the values to keep out of logs.

The config loader puts a non-empty ``VAR`` in place of the key before the section is read,
so that a config file can be committed without the secret; the ``run`` command masks every
``secret`` key's value in the logs. Both follow the declarations, so a backend lists a
secret in one place only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping

from transport.core.settings_keys import (
    is_settings_table,
    keys,
    map_value_type,
    optional_inner,
)


@functools.cache
def env_overrides(table: type) -> Mapping[str, str]:
    """``{"dotted.key": "VAR"}`` for every key of ``table`` (and its sub-tables) that
    declares ``env``, relative to the section.

    Raises ``TypeError`` for a declaration the loader could not honour: ``env`` on a key
    that does not hold a string, or inside a table of sub-tables (whose keys have no single
    path).
    """
    found: dict[str, str] = {}
    _collect(table, "", found, in_map=False)
    return found


def _collect(table: type, path: str, found: dict[str, str], *, in_map: bool) -> None:
    for key in keys(table):
        where = f"{path}.{key.name}" if path else key.name
        hint = optional_inner(key.type)
        if key.spec.env is not None:
            if in_map:
                raise TypeError(f"{table.__name__}.{key.name}: env inside a table of "
                                f"sub-tables has no single key to override")
            if hint is not str:
                raise TypeError(f"{table.__name__}.{key.name}: env needs a str key")
            found[where] = key.spec.env
        if is_settings_table(hint):
            _collect(hint, where, found, in_map=in_map)
        entries = map_value_type(hint)
        if entries is not None:
            _collect(entries, where, found, in_map=True)


def secret_values(table: type, settings: object) -> Iterator[str]:
    """The non-empty values of ``settings``' ``secret`` keys (``settings`` read into
    ``table``), sub-tables and tables of sub-tables included: what a log must never show."""
    for key in keys(table):
        value = getattr(settings, key.name, None)
        hint = optional_inner(key.type)
        if key.spec.secret and isinstance(value, str) and value:
            yield value
        elif is_settings_table(hint) and value is not None:
            yield from secret_values(hint, value)
        elif isinstance(value, Mapping):
            entries = map_value_type(hint)
            if entries is not None:
                for entry in value.values():
                    yield from secret_values(entries, entry)


__all__ = ["env_overrides", "secret_values"]
