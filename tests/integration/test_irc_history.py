"""MAM on IRC rooms and join history end to end: a real client, Prosody, the archive.

The IRC connections are not part of this test: a small backend gives the core's MUC
service a ``ChannelArchive`` with biboumi's ``#chan%server`` addressing, and the test
records the channel lines itself, as the connection side would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from slixmpp.exceptions import IqError

from transport.backends.irc.contracts import HistoryRequest
from transport.backends.irc.history.archive import ChannelArchive
from transport.backends.irc.history.room_archive import ChannelHistoryArchive
from transport.backends.irc.schema import MIGRATIONS
from transport.core.backend import Backend, Identity
from transport.core.events import OutgoingMessage, SendOutcome, XmppMessage
from transport.core.room_hooks import Rooms
from transport.core.rooms import JoinRequest, Occupant
from transport.testing.gateway import ComponentSpec, running_gateway
from transport.xmpp.muc.mam import parse_time
from transport.xmpp.muc.sequence import history_message, stamp

GW = "irc.localhost"
SRV = "irc.example.org"
ROOM = f"#foo%{SRV}@{GW}"
MAM = "urn:xmpp:mam:2"
RSM = "http://jabber.org/protocol/rsm"
DATA = "jabber:x:data"
FORWARD = "urn:xmpp:forward:0"
DELAY = "urn:xmpp:delay"
CLIENT = "jabber:client"


def resolve_room(room: str) -> tuple[str, str]:
    name, _, host = room.partition("%")
    return host, name


class ArchiveRooms(Rooms):
    """Rooms that are only an archive: nobody joins them here."""

    def __init__(self, archive: ChannelArchive) -> None:
        self.archive = ChannelHistoryArchive(archive, resolve_room, self._replay_limit)

    async def _replay_limit(self, user: str, room: str) -> int:
        return 20

    def room_key(self, localpart: str) -> str | None:
        name, sep, _ = localpart.partition("%")
        return localpart.lower() if sep and name.startswith("#") else None

    async def join(self, user: str, room: str, request: JoinRequest) -> None:
        raise AssertionError("no joins here")

    async def leave(self, user: str, room: str, status: str) -> None:
        raise AssertionError("no joins here")

    def occupants(self, user: str, room: str) -> Iterator[Occupant]:
        return iter(())


class HistoryBackend(Backend):
    """Only the archive and MAM, as the IRC backend wires them."""

    name = "irc"
    identities = (Identity("conference", "irc", "IRC"),)

    def __init__(self, ctx: Any, settings: Any) -> None:
        super().__init__(ctx, settings)
        self.archive = ChannelArchive(ctx.store, ctx.component_jid, flush_interval=0.01)
        self.rooms = self.archive_rooms = ArchiveRooms(self.archive)

    @classmethod
    def migrations(cls) -> Sequence[str]:
        return MIGRATIONS

    async def start(self) -> None:
        await self.archive.start()

    async def stop(self) -> None:
        await self.archive.stop()

    def normalize_contact(self, localpart: str) -> str:
        return localpart

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        return SendOutcome()


@pytest.fixture
async def backend(gateway_settings):
    spec = ComponentSpec(HistoryBackend, GW, "irc-secret")
    async with running_gateway(gateway_settings(component=spec)) as app:
        yield app.runtimes[0].gateway.backend


@pytest.fixture
async def alice(backend, users):
    client = await users()
    await backend.archive.opened(client.boundjid.bare, SRV, "#foo", time.time() - 3600)
    return client


def mam_iq(client, queryid="q1", fields=None, rsm=None, to=ROOM, itype="set"):
    iq = client.make_iq_set(ito=to) if itype == "set" else client.make_iq_get(ito=to)
    query = ET.SubElement(iq.xml, f"{{{MAM}}}query", {"queryid": queryid} if queryid else {})
    if fields:
        form = ET.SubElement(query, f"{{{DATA}}}x", {"type": "submit"})
        for var, value in {"FORM_TYPE": MAM, **fields}.items():
            field = ET.SubElement(form, f"{{{DATA}}}field", {"var": var})
            ET.SubElement(field, f"{{{DATA}}}value").text = value
    if rsm:
        rset = ET.SubElement(query, f"{{{RSM}}}set")
        for name, value in rsm.items():
            ET.SubElement(rset, f"{{{RSM}}}{name}").text = value
    return iq


async def run_query(client, **kwargs):
    """Send a MAM query; returns (forwarded results, fin element)."""
    result = await client.query(mam_iq(client, **kwargs))
    fin = result.xml.find(f"{{{MAM}}}fin")
    assert fin is not None and str(result["from"]) == ROOM
    results = []
    for stanza in client.drain():
        res = stanza.xml.find(f"{{{MAM}}}result")
        if res is not None:
            assert str(stanza["from"]) == ROOM
            assert res.get("queryid") == kwargs.get("queryid", "q1")
            results.append(res)
    return results, fin


def body(result) -> str:
    return result.find(f"{{{FORWARD}}}forwarded/{{{CLIENT}}}message/{{{CLIENT}}}body").text


def record(backend, n, start, nick="carol"):
    return [backend.archive.record(SRV, "#foo", nick, "message", str(i), start + i)
            for i in range(n)]


async def test_query_returns_forwarded_lines_then_fin(backend, alice):
    now = time.time()
    uids = record(backend, 2, now - 10)
    backend.archive.record(SRV, "#foo", "carol", "action", "waves", now - 5)
    backend.archive.record(SRV, "#foo", "ChanServ", "notice", "welcome", now - 4)
    results, fin = await run_query(alice)
    assert [body(r) for r in results] == ["0", "1", "/me waves", "[notice] welcome"]
    first = results[0]
    assert first.get("id") == uids[0]
    inner = first.find(f"{{{FORWARD}}}forwarded/{{{CLIENT}}}message")
    assert inner.get("type") == "groupchat" and inner.get("from") == f"{ROOM}/carol"
    stamp = first.find(f"{{{FORWARD}}}forwarded/{{{DELAY}}}delay").get("stamp")
    assert abs(parse_time(stamp) - (now - 10)) < 0.001
    assert results[3].find(f".//{{{CLIENT}}}message").get("from") == f"{ROOM}/ChanServ"
    assert fin.get("complete") == "true"
    assert fin.find(f"{{{RSM}}}set/{{{RSM}}}first").text == uids[0]
    assert fin.find(f"{{{RSM}}}set/{{{RSM}}}first").get("index") == "0"
    assert fin.find(f"{{{RSM}}}set/{{{RSM}}}last").text == results[-1].get("id")
    assert fin.findtext(f"{{{RSM}}}set/{{{RSM}}}count") == "4"


async def test_rsm_paging_both_ways(backend, alice):
    record(backend, 150, time.time() - 1000)
    results, fin = await run_query(alice)  # biboumi's default: the oldest 100, not complete
    assert [body(r) for r in results] == [str(i) for i in range(100)]
    assert fin.get("complete") is None
    last = fin.findtext(f"{{{RSM}}}set/{{{RSM}}}last")
    results, fin = await run_query(alice, queryid="q2", rsm={"after": last})
    assert [body(r) for r in results] == [str(i) for i in range(100, 150)]
    assert fin.get("complete") == "true"
    assert fin.find(f"{{{RSM}}}set/{{{RSM}}}first").get("index") == "100"

    seen: list[str] = []
    before = ""
    while True:  # the whole archive, backward, 40 at a time
        results, fin = await run_query(alice, queryid="back", rsm={"max": "40", "before": before})
        seen = [body(r) for r in results] + seen
        if fin.get("complete") == "true":
            break
        before = fin.findtext(f"{{{RSM}}}set/{{{RSM}}}first")
    assert seen == [str(i) for i in range(150)]

    results, fin = await run_query(alice, queryid="q0", rsm={"before": "", "max": "0"})
    assert results == [] and fin.get("complete") is None
    assert fin.findtext(f"{{{RSM}}}set/{{{RSM}}}count") == "150"


async def test_form_filters(backend, alice):
    now = time.time()
    record(backend, 10, now - 100)  # "0" at now-100 ... "9" at now-91
    backend.archive.record(SRV, "#foo", "Dave", "message", "from dave", now - 50)
    fields = {"start": _iso(now - 98.5), "end": _iso(now - 95.5)}
    results, fin = await run_query(alice, fields=fields)
    assert [body(r) for r in results] == ["2", "3", "4"] and fin.get("complete") == "true"
    results, _ = await run_query(alice, fields={"with": f"{ROOM}/dave"})
    assert [body(r) for r in results] == ["from dave"]
    results, _ = await run_query(alice, fields={"end": "2000-06-07T00:00:00Z"})
    assert results == []


async def test_errors(backend, alice):
    record(backend, 3, time.time() - 10)
    for kwargs, condition in (
        ({"rsm": {"after": "DUMMY_ID"}}, "item-not-found"),
        ({"rsm": {"before": "00" * 16}}, "item-not-found"),
        ({"fields": {"start": "yesterday"}}, "bad-request"),
        ({"fields": {"with": "someone@elsewhere.example"}}, "bad-request"),
        ({"fields": {"colour": "blue"}}, "bad-request"),
        ({"rsm": {"max": "many"}}, "bad-request"),
        ({"to": f"{SRV}@{GW}"}, "item-not-found"),
        ({"to": f"{ROOM}/carol"}, "item-not-found"),
    ):
        with pytest.raises(IqError) as err:
            await alice.query(mam_iq(alice, **kwargs))
        assert err.value.condition == condition, kwargs


async def test_form_discovery(backend, alice):
    result = await alice.query(mam_iq(alice, queryid=None, itype="get"))
    form = result.xml.find(f"{{{MAM}}}query/{{{DATA}}}x")
    fields = {f.get("var"): f.get("type") for f in form.iter(f"{{{DATA}}}field")}
    assert fields == {"FORM_TYPE": "hidden", "with": "jid-single", "start": "text-single",
                      "end": "text-single"}


async def test_users_only_read_what_they_were_present_for(backend, alice, users):
    bob = await users()
    record(backend, 3, time.time() - 10)
    results, fin = await run_query(bob)
    assert results == [] and fin.get("complete") == "true"
    results, _ = await run_query(alice)
    assert len(results) == 3


async def test_join_history_is_delivered_with_delay_and_stanza_id(backend, alice):
    now = time.time()
    uids = record(backend, 5, now - 60)
    messages = await history_messages(backend, str(alice.boundjid), HistoryRequest(maxstanzas=3))
    assert [m.body for m in messages] == ["2", "3", "4"]
    await backend.ctx.deliver_many(messages)
    for i in (2, 3, 4):
        msg = await alice.expect_message(sender=ROOM, body=str(i))
        assert str(msg["from"]) == f"{ROOM}/carol" and msg["type"] == "groupchat"
        assert abs(msg["delay"]["stamp"].timestamp() - (now - 60 + i)) < 0.001
        sid = msg.xml.find("{urn:xmpp:sid:0}stanza-id")
        assert sid.get("id") == uids[i] and sid.get("by") == ROOM


async def history_messages(backend: Any, full: str,
                           request: HistoryRequest) -> list[XmppMessage]:
    """The join history as the MUC service sends it to ``full``."""
    lines = await backend.archive_rooms.archive.join_history(
        full.partition("/")[0], f"#foo%{SRV}", request)
    return [history_message(line, ROOM, full) for line in lines]


def _iso(timestamp: float) -> str:
    return stamp(timestamp)
