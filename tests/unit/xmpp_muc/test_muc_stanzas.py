"""The MUC service's text builders and request parsers, on their own."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from transport.core.events import XmppMessage
from transport.core.rooms import ArchivedMessage, ArchiveQuery, HistoryRequest, Occupant
from transport.xmpp.muc import xml
from transport.xmpp.muc.joins import history_request, join_password
from transport.xmpp.muc.mam import parse_query
from transport.xmpp.muc.sequence import sender_and_body, stanza_chars, within_chars

ROOM = "#r@gw.example"
MUC_USER = "{http://jabber.org/protocol/muc#user}"


def parse(text: str) -> ET.Element:
    return ET.fromstring(f'<wrap xmlns="jabber:component:accept">{text}</wrap>')[0]


def test_occupant_presence_escapes_and_carries_everything():
    text = xml.occupant_presence(
        f"{ROOM}/a&b", "u@x/r", Occupant("a&b", "moderator", "admin", jid="a@gw", show="away"),
        codes=(303,), unavailable=True, status="bye <now>", new_nick='c"d', actor="op",
        reason="r & r")
    pres = parse(text)
    assert pres.get("type") == "unavailable" and pres.get("from") == f"{ROOM}/a&b"
    assert pres.find("{jabber:component:accept}show") is None, "no show when unavailable"
    assert pres.findtext("{jabber:component:accept}status") == "bye <now>"
    item = pres.find(f"{MUC_USER}x/{MUC_USER}item")
    assert item.attrib == {"affiliation": "admin", "role": "none", "jid": "a@gw",
                           "nick": 'c"d'}
    assert item.find(f"{MUC_USER}actor").get("nick") == "op"
    assert item.findtext(f"{MUC_USER}reason") == "r & r"
    assert [s.get("code") for s in pres.iter(f"{MUC_USER}status")] == ["303"]


def test_self_presence_shows_the_resource_and_110():
    pres = parse(xml.self_gone(f"{ROOM}/me", "u@x/r", codes=(307,)))
    item = pres.find(f"{MUC_USER}x/{MUC_USER}item")
    assert item.get("jid") == "u@x/r" and item.get("role") == "none"
    assert [s.get("code") for s in pres.iter(f"{MUC_USER}status")] == ["307", "110"]


def test_error_presence_never_writes_a_bad_condition():
    pres = parse(xml.error_presence(ROOM, "u@x/r", "not a<condition", "bogus", "why"))
    error = pres.find("{jabber:component:accept}error")
    assert error.get("type") == "cancel"
    assert error.find("{urn:ietf:params:xml:ns:xmpp-stanzas}undefined-condition") is not None
    assert pres.find("{http://jabber.org/protocol/muc}x") is not None


def test_occupant_jid_refuses_what_no_resource_can_hold():
    assert xml.occupant_jid(ROOM, "ok") == f"{ROOM}/ok"
    assert xml.occupant_jid(ROOM, "bad\x07nick") is None
    assert xml.occupant_jid(ROOM, "") is None


def test_history_request_reads_numbers_and_since():
    muc = ET.fromstring('<x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="5" '
                        'maxchars="-1" seconds="x" since="2024-01-01T00:00:00Z"/>'
                        '<password> pw </password></x>')
    assert history_request(muc) == HistoryRequest(5, None, None, 1704067200.0)
    assert join_password(muc) == "pw"
    assert history_request(None) == HistoryRequest()


def test_history_speaks_as_the_room_when_a_nick_cannot_be_a_resource():
    line = ArchivedMessage("u1", "bad\x07", "hi", 0.0)
    assert sender_and_body(line, ROOM) == (ROOM, "<bad\x07> hi")
    assert sender_and_body(ArchivedMessage("u2", "nick", "hi", 0.0), ROOM) == (
        f"{ROOM}/nick", "hi")


def test_maxchars_keeps_the_newest_messages_that_fit():
    messages = [XmppMessage(to="u@x/r", sender=f"{ROOM}/n", type="groupchat", body=b,
                            id=b, delay=0.0, stanza_id_by=ROOM) for b in ("a", "b", "c")]
    size = stanza_chars(messages[0])
    assert within_chars(messages, 10 * size) == messages
    assert within_chars(messages, 2 * size) == messages[1:]
    assert within_chars(messages, 1) == []


def mam_query(fields: str = "", rsm: str = "") -> ET.Element:
    return ET.fromstring(
        '<query xmlns="urn:xmpp:mam:2"><x xmlns="jabber:x:data" type="submit">'
        '<field var="FORM_TYPE"><value>urn:xmpp:mam:2</value></field>'
        f'{fields}</x><set xmlns="http://jabber.org/protocol/rsm">{rsm}</set></query>')


def test_mam_query_fields_and_paging():
    query = parse_query(mam_query(
        f'<field var="with"><value>{ROOM}/nick</value></field>'
        '<field var="start"><value>2024-01-01T00:00:00Z</value></field>',
        "<max>5</max><before/>"), ROOM)
    assert query == ArchiveQuery(start=1704067200.0, with_nick="nick", before="",
                                 max_results=5)


@pytest.mark.parametrize("fields,rsm", [
    ('<field var="colour"><value>red</value></field>', ""),
    ('<field var="with"><value>other@room/x</value></field>', ""),
    ("", "<max>-1</max>"),
    ("", "<after>a</after><before>b</before>"),
])
def test_bad_mam_queries_are_refused(fields, rsm):
    with pytest.raises(ValueError):
        parse_query(mam_query(fields, rsm), ROOM)
