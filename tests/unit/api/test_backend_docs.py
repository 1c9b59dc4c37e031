"""docs/backends.md names every hook and attribute of ``Backend`` and ``BackendContext``,
so that one added to either cannot go undocumented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import transport
from transport.core.backend import Backend, BackendContext
from transport.core.room_hooks import Rooms
from transport.core.rooms import RoomEvents
from transport.core.storage import BackendStorage, Transaction

DOCS = Path(transport.__file__).resolve().parent.parent / "docs" / "backends.md"


def _public(cls: type) -> set[str]:
    names = {n for n in vars(cls) if not n.startswith("_")}
    names |= {n for n in getattr(cls, "__annotations__", {}) if not n.startswith("_")}
    return names


@pytest.mark.parametrize(("cls", "prefix"), [
    (Backend, ""), (BackendContext, "ctx."), (BackendStorage, ""), (Transaction, "tx."),
])
def test_every_public_member_is_documented(cls: type, prefix: str) -> None:
    text = DOCS.read_text()
    names = _public(cls)
    assert names
    missing = sorted(n for n in names
                     if not re.search(rf"`(?:{re.escape(prefix)})?{re.escape(n)}\b", text))
    assert missing == [], f"{cls.__name__} members missing from {DOCS.name}: {missing}"


def test_the_constructor_contract_is_documented() -> None:
    text = DOCS.read_text()
    assert "`__init__(ctx, settings)`" in text


def test_sections_other_parts_of_the_api_fill_exist() -> None:
    headings = set(re.findall(r"^## (.+)$", DOCS.read_text(), re.M))
    assert {"Lifecycle", "Settings", "Rooms", "Storage", "Commands"} <= headings
    assert any(h.startswith("Testing") for h in headings)


ROOMS_DOCS = DOCS.parent / "rooms.md"


@pytest.mark.parametrize("cls", [Rooms, RoomEvents])
def test_every_room_hook_and_event_is_documented(cls: type) -> None:
    """docs/rooms.md, which the guide's Rooms section leads to, lists each hook and event
    in a table row of its own."""
    text = ROOMS_DOCS.read_text()
    missing = sorted(n for n in _public(cls)
                     if not re.search(rf"^\| `{re.escape(n)}\b", text, re.M))
    assert missing == [], f"{cls.__name__} members missing from {ROOMS_DOCS.name}: {missing}"
