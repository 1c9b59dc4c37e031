"""MAM on rooms: request parsing, result building and the handler's checks."""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree import ElementTree as ET

import pytest
from slixmpp import Iq, Message
from slixmpp.exceptions import XMPPError

from transport.core.room_hooks import Rooms
from transport.core.rooms import ArchivedMessage, ArchivePage, ArchiveQuery, JoinRequest, Occupant
from transport.xmpp.muc.context import MucContext
from transport.xmpp.muc.mam import (
    MAM_NS,
    MamHandler,
    nick_from_with,
    parse_query,
    parse_time,
    result_element,
)
from transport.xmpp.muc.sequence import sender_and_body, stamp
from transport.xmpp.muc.state import Occupancy

ROOM = "#foo%irc.example.org@irc.localhost"
T0 = 1_700_000_000.0
RSM = "http://jabber.org/protocol/rsm"


def line(body="hi", nick="carol", ts=T0, uid="ab" * 16):
    return ArchivedMessage(uid, nick, body, ts)


def query(xml: str) -> ET.Element:
    return ET.fromstring(
        f"<query xmlns='{MAM_NS}' xmlns:x='jabber:x:data' xmlns:r='{RSM}'>{xml}</query>"
    )


def form(**fields: str) -> str:
    inner = "".join(f"<x:field var='{k}'><x:value>{v}</x:value></x:field>"
                    for k, v in {"FORM_TYPE": MAM_NS, **fields}.items())
    return f"<x:x type='submit'>{inner}</x:x>"


def test_sender_is_the_occupant_or_the_room():
    assert sender_and_body(line(nick="[away]"), ROOM) == (f"{ROOM}/[away]", "hi")
    # A nick no JID resource can hold speaks as the room, named in the body.
    assert sender_and_body(line(nick="\u202ebad", body="/me x"), ROOM) == (
        ROOM, "<\u202ebad> /me x")
    assert sender_and_body(line(nick=""), ROOM) == (ROOM, "hi")
    result = result_element(line(nick="\ufffd"), ROOM, "q")
    inner = result.find("{urn:xmpp:forward:0}forwarded/{jabber:client}message")
    assert inner.get("from") == ROOM and inner.findtext("{jabber:client}body") == "<\ufffd> hi"


def test_stamp_round_trips_to_the_microsecond():
    ts = round(T0 + 0.1234567, 6)
    assert stamp(ts) == "2023-11-14T22:13:20.123457Z"
    assert parse_time(stamp(ts)) == ts
    assert parse_time("2000-06-07T00:00:00Z") == 960336000.0
    assert parse_time("2000-06-07T02:00:00+02:00") == 960336000.0
    assert parse_time("2000-06-07T00:00:00") == 960336000.0
    with pytest.raises(ValueError):
        parse_time("yesterday")


def test_parse_query_defaults_and_fields():
    assert parse_query(query(""), ROOM) == ArchiveQuery(max_results=100)
    got = parse_query(query(form(start="2000-06-07T00:00:00Z", end="2000-06-08T00:00:00Z",
                                 **{"with": f"{ROOM}/Carol"})), ROOM)
    assert got == ArchiveQuery(start=960336000.0, end=960422400.0, with_nick="Carol",
                               max_results=100)


def test_parse_query_rsm():
    got = parse_query(query("<r:set><r:max>10</r:max><r:after>abc</r:after></r:set>"), ROOM)
    assert got == ArchiveQuery(max_results=10, after="abc", before=None)
    got = parse_query(query("<r:set><r:before/></r:set>"), ROOM)
    assert got.before == "" and got.after is None
    got = parse_query(query("<r:set><r:before>xyz</r:before><r:max>0</r:max></r:set>"), ROOM)
    assert got.before == "xyz" and got.max_results == 0


@pytest.mark.parametrize("xml", [
    form(start="not a date"),
    form(end="2000-13-01T00:00:00Z"),
    form(colour="blue"),
    form(**{"with": "someone@example.org"}),
    form(**{"with": "#bar%irc.example.org@irc.localhost/nick"}),
    "<x:x type='submit'><x:field var='FORM_TYPE'><x:value>urn:xmpp:mam:1</x:value>"
    "</x:field></x:x>",
    "<r:set><r:max>-1</r:max></r:set>",
    "<r:set><r:max>lots</r:max></r:set>",
    "<r:set><r:after>a</r:after><r:before>b</r:before></r:set>",
])
def test_parse_query_refuses_bad_values(xml):
    with pytest.raises(ValueError):
        parse_query(query(xml), ROOM)


def test_nick_from_with():
    assert nick_from_with(f"{ROOM}/Nick", ROOM) == "Nick"
    assert nick_from_with(ROOM.upper(), ROOM) is None
    assert nick_from_with("Nick", ROOM) == "Nick"


def test_result_element():
    result = result_element(line("/me waves", ts=T0), ROOM, "q1")
    assert result.get("queryid") == "q1" and result.get("id") == "ab" * 16
    xml = ET.tostring(result, encoding="unicode")
    assert "urn:xmpp:forward:0" in xml and stamp(T0) in xml
    inner = result.find("{urn:xmpp:forward:0}forwarded/{jabber:client}message")
    assert inner.get("from") == f"{ROOM}/carol" and inner.get("type") == "groupchat"
    assert inner.findtext("{jabber:client}body") == "/me waves"
    assert result_element(line(nick=""), ROOM, None).get("queryid") is None


class FakeArchive:
    def __init__(self):
        self.calls = []

    async def join_history(self, user, room, request):
        return ()

    async def query(self, user, room, query):
        self.calls.append((user, room, query))
        if query.after == "missing":
            raise KeyError("missing")
        return ArchivePage((line(uid="01" * 16), line(uid="02" * 16)), False, 7, 3)


class ArchivedRooms(Rooms):
    def __init__(self, archive: FakeArchive) -> None:
        self.archive = archive

    def room_key(self, localpart: str) -> str | None:
        return localpart.lower() if localpart.startswith("#") else None

    async def join(self, user: str, room: str, request: JoinRequest) -> None:
        raise AssertionError("not asked here")

    async def leave(self, user: str, room: str, status: str) -> None:
        raise AssertionError("not asked here")

    def occupants(self, user: str, room: str) -> Iterator[Occupant]:
        return iter(())


class FakeXmpp:
    default_ns = "jabber:component:accept"

    def __init__(self):
        self.sent = []

    def make_message(self, mto, mfrom):
        msg = Message(stream=self)
        msg["to"], msg["from"] = mto, mfrom
        return msg

    def send(self, stanza):
        self.sent.append(stanza)


def handler(xmpp: FakeXmpp, archive: FakeArchive) -> MamHandler:
    rooms = ArchivedRooms(archive)
    return MamHandler(MucContext("irc.localhost", xmpp, rooms, Occupancy(),
                                 rooms))


def iq_for(xml_query: str, to=ROOM, itype="set", stream=None) -> Iq:
    iq = Iq()
    iq.stream = stream
    iq["type"], iq["to"], iq["from"], iq["id"] = itype, to, "alice@localhost/phone", "i1"
    iq.append(query(xml_query))
    return iq


async def test_handler_sends_results_in_order_then_fin():
    xmpp, archive = FakeXmpp(), FakeArchive()
    iq = iq_for("<r:set><r:max>2</r:max></r:set>", stream=xmpp)
    iq.xml.find(f"{{{MAM_NS}}}query").set("queryid", "qq")
    await handler(xmpp, archive).on_iq(iq)
    assert archive.calls == [("alice@localhost", ROOM.partition("@")[0],
                              ArchiveQuery(max_results=2))]
    *results, fin_iq = xmpp.sent
    assert [r.xml.find(f"{{{MAM_NS}}}result").get("id") for r in results] == ["01" * 16,
                                                                               "02" * 16]
    assert all(str(r["to"]) == "alice@localhost/phone" and str(r["from"]) == ROOM
               for r in results)
    fin = fin_iq.xml.find(f"{{{MAM_NS}}}fin")
    assert fin_iq["type"] == "result" and fin.get("complete") is None
    assert fin.find(f"{{{RSM}}}set/{{{RSM}}}first").get("index") == "3"
    assert fin.findtext(f"{{{RSM}}}set/{{{RSM}}}last") == "02" * 16
    assert fin.findtext(f"{{{RSM}}}set/{{{RSM}}}count") == "7"


async def test_handler_errors():
    xmpp = FakeXmpp()
    cases = [
        (iq_for("", to="irc.localhost"), "item-not-found"),
        (iq_for("", to=f"{ROOM}/nick"), "item-not-found"),
        (iq_for("<r:set><r:after>missing</r:after></r:set>"), "item-not-found"),
        (iq_for(form(start="x")), "bad-request"),
    ]
    for iq, condition in cases:
        with pytest.raises(XMPPError) as err:
            await handler(xmpp, FakeArchive()).on_iq(iq)
        assert err.value.condition == condition
    assert xmpp.sent == []


async def test_handler_ignores_results_and_errors():
    xmpp = FakeXmpp()
    await handler(xmpp, FakeArchive()).on_iq(iq_for("", itype="result"))
    assert xmpp.sent == []
