"""Preferences are read from a cache on the per-line path; every write must show at once."""

from __future__ import annotations

import asyncio

import pytest

from transport.backends.irc.config.prefs import ChannelPrefs, GlobalPrefs, PrefsStore, ServerPrefs

GW = "irc.localhost"
SRV = "irc.example.org"
ALICE = "alice@localhost"


async def test_reads_follow_every_write(store) -> None:
    prefs = PrefsStore(store.backend_storage("irc"), GW)
    assert (await prefs.server_prefs(ALICE, SRV)).encoding_out is None
    await prefs.set_server(ALICE, SRV, ServerPrefs(encoding_out="latin-1"))
    assert (await prefs.server_prefs(ALICE, SRV)).encoding_out == "latin-1"
    await prefs.set_channel(ALICE, SRV, "#c", ChannelPrefs(encoding_out="cp1252"))
    assert (await prefs.channel_prefs(ALICE, SRV, "#c")).encoding_out == "cp1252"
    await prefs.set_global(ALICE, GlobalPrefs(persistent=True))
    assert (await prefs.global_prefs(ALICE)).persistent is True
    await prefs.forget(ALICE)
    assert (await prefs.server_prefs(ALICE, SRV)).encoding_out is None
    assert (await prefs.channel_prefs(ALICE, SRV, "#c")).encoding_out is None
    assert (await prefs.global_prefs(ALICE)).persistent is None


async def test_a_read_racing_a_write_does_not_pin_the_old_value(store) -> None:
    prefs = PrefsStore(store.backend_storage("irc"), GW)
    reads = [asyncio.ensure_future(prefs.server_prefs(ALICE, SRV)) for _ in range(20)]
    await prefs.set_server(ALICE, SRV, ServerPrefs(encoding_out="latin-1"))
    await asyncio.gather(*reads)
    assert (await prefs.server_prefs(ALICE, SRV)).encoding_out == "latin-1"


async def test_the_cache_is_bounded(store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PrefsStore, "CACHE_SIZE", 2)
    prefs = PrefsStore(store.backend_storage("irc"), GW)
    for n in range(4):
        await prefs.set_server(ALICE, f"s{n}.example.org", ServerPrefs(encoding_out=f"e{n}"))
    for n in range(4):
        assert (await prefs.server_prefs(ALICE, f"s{n}.example.org")).encoding_out == f"e{n}"
    assert len(prefs._cache) == 2
