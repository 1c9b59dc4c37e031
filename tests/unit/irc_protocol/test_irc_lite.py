"""lite.py: Flag behaves as asyncio.Event, Inbox as the FIFO part of asyncio.Queue, and
Shared hands out one value per key; plus what connections share through them (ISUPPORT
tables, capability sets) and the timer-driven keepalive."""

from __future__ import annotations

import asyncio
import time

import pytest

from transport.backends.irc.protocol.caps import CapNegotiator
from transport.backends.irc.protocol.casemap import ISupport
from transport.backends.irc.protocol.errors import IrcNotConnected
from transport.backends.irc.protocol.keepalive import Keepalive
from transport.backends.irc.protocol.lite import SMALL, Flag, Inbox, Shared, SharedTables
from transport.backends.irc.protocol.message import parse_line


async def test_flag_is_an_event() -> None:
    flag = Flag()
    assert isinstance(flag, asyncio.Event) and not flag.is_set()
    waiters = [asyncio.ensure_future(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    flag.set()
    flag.clear()  # waiters already woken stay woken, as with asyncio.Event
    assert await asyncio.gather(*waiters) == [True, True, True]
    assert not flag.is_set()
    late = asyncio.ensure_future(flag.wait())
    await asyncio.sleep(0)
    assert not late.done()
    flag.set()
    assert await late is True and await flag.wait() is True


async def test_flag_forgets_cancelled_waiters() -> None:
    flag = Flag()
    waiter = asyncio.ensure_future(flag.wait())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert "waiters:0" in repr(flag)
    flag.set()
    assert "set" in repr(flag)


async def test_inbox_is_fifo_with_batches() -> None:
    inbox: Inbox[int] = Inbox()
    assert inbox.empty() and inbox.qsize() == 0
    with pytest.raises(asyncio.QueueEmpty):
        inbox.get_nowait()
    getter = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    assert not getter.done()
    inbox.put_nowait(1)
    assert await getter == 1
    for i in range(200):
        inbox.put_nowait(i)
    assert inbox.take(3) == [0, 1, 2] and inbox.qsize() == 197
    assert [inbox.get_nowait() for _ in range(100)] == list(range(3, 103))  # compacts
    inbox.put_nowait(1000)
    assert inbox.take(500) == [*range(103, 200), 1000] and inbox.empty()
    inbox.put_nowait(7)
    assert await inbox.get() == 7


def test_shared_hands_out_the_first_value_and_is_bounded() -> None:
    shared: Shared[str, list[int]] = Shared(limit=2)
    first = shared.get("a", [1])
    assert shared.get("a", [1]) is first
    shared.get("b", [2])
    shared.get("a", [1])  # "a" is now the most recent
    shared.get("c", [3])  # evicts "b"
    assert len(shared) == 2 and shared.get("a", [9]) is first
    assert shared.get("b", [4]) == [4]


def test_shared_tables_are_copied_on_write_and_large_ones_stay_private() -> None:
    tables = SharedTables()
    first = tables.share({"A": "1"})
    assert tables.share({"A": "1"}) is first
    edited = tables.writable(first)
    edited["B"] = "2"
    assert first == {"A": "1"}
    big = {str(i): "" for i in range(SMALL + 1)}
    assert tables.share(big) is big and tables.writable(big) is big


def isupport(*tokens: str) -> ISupport:
    isup = ISupport()
    isup.update(["me", *tokens, "are supported by this server"])
    return isup


def test_connections_to_one_server_share_one_token_table() -> None:
    a = isupport("PREFIX=(ov)@+", "CASEMAPPING=ascii", "NETWORK=Net")
    b = isupport("PREFIX=(ov)@+", "CASEMAPPING=ascii", "NETWORK=Net")
    assert a.tokens is b.tokens
    table = a.tokens
    a.update(["me", "-NETWORK", "CHANTYPES=#", "x"])  # a later 005 changes only ``a``
    assert a.network is None and a.chantypes == "#"
    assert b.tokens is table and b.network == "Net" and b.chantypes == "#&"
    given = {"CHANTYPES": "#"}
    ISupport(given).update(["me", "CHANTYPES=&", "x"])
    assert given == {"CHANTYPES": "#"}  # a table handed in is not changed either


def test_a_server_sending_a_huge_isupport_gets_a_private_table() -> None:
    a = isupport(*(f"T{i}=x" for i in range(SMALL + 10)))
    b = isupport(*(f"T{i}=x" for i in range(SMALL + 10)))
    assert a.tokens == b.tokens and a.tokens is not b.tokens
    a.update(["me", "-T0", "x"])
    assert "T0" not in a.tokens and "T0" in b.tokens


def _cap(neg: CapNegotiator, line: str) -> list[str]:
    event = parse_line(line, tags_enabled=False)
    assert event is not None
    return neg.handle(event).send


def test_negotiators_share_what_the_server_said_but_not_their_changes() -> None:
    a, b = CapNegotiator(), CapNegotiator()
    assert a.wanted is b.wanted
    for neg in (a, b):
        neg.start()
        _cap(neg, ":srv CAP * LS :multi-prefix away-notify sasl=PLAIN")
        _cap(neg, ":srv CAP * ACK :multi-prefix away-notify")
    assert a.offered is b.offered and a.enabled is b.enabled
    assert a.enabled == {"multi-prefix", "away-notify"}
    _cap(a, ":srv CAP me DEL :away-notify")
    assert a.enabled == {"multi-prefix"} and "away-notify" not in a.offered
    assert b.enabled == {"multi-prefix", "away-notify"} and "away-notify" in b.offered
    many = " ".join(f"x-{i}" for i in range(SMALL + 5))
    _cap(a, f":srv CAP me ACK :{many}")
    _cap(b, f":srv CAP me ACK :{many}")
    assert a.enabled is not b.enabled and len(a.enabled) == SMALL + 6
    _cap(a, ":srv CAP me DEL :x-0")
    assert "x-0" not in a.enabled and "x-0" in b.enabled


class _Link:
    def __init__(self) -> None:
        self.closed = False
        self.last_rx = time.monotonic()


async def test_keepalive_pings_when_quiet_and_gives_up_without_answer() -> None:
    link, pings, timeouts = _Link(), [], []
    keep = Keepalive(link, 0.1, 0.6, lambda: pings.append(time.monotonic()), timeouts.append)
    keep.start()
    await asyncio.sleep(0.25)
    assert len(pings) == 1 and not timeouts  # one PING per quiet spell
    link.last_rx = time.monotonic()  # the server answered: next PING once quiet again
    await asyncio.sleep(0.45)  # (checked at the first PING's deadline, 0.6 s)
    assert len(pings) == 2 and not timeouts
    await asyncio.sleep(0.4)  # 0.6 s after the last data
    assert len(timeouts) == 1 and timeouts[0] >= 0.6
    keep.cancel()


async def test_keepalive_stops_with_the_link() -> None:
    link, pings = _Link(), []

    def ping() -> None:
        pings.append(1)
        raise IrcNotConnected("gone")

    keep = Keepalive(link, 0.01, 10.0, ping, lambda idle: None)
    keep.start()
    await asyncio.sleep(0.05)
    assert pings == [1]
    link.closed = True
    keep.start()  # a closed link is not watched
    await asyncio.sleep(0.03)
    assert pings == [1]
