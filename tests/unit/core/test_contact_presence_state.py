"""The pushed contact state the core answers probes from, and its rendered presences."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from slixmpp import Presence

from transport.xmpp.contact_presence import (
    ContactPresences,
    ContactState,
    render_contact_presence,
)


def parsed(xml: str) -> Presence:
    qualified = xml.replace("<presence", '<presence xmlns="jabber:client"', 1)
    return Presence(xml=ET.fromstring(qualified))


def test_the_rendered_presences_say_what_slixmpp_reads() -> None:
    away = parsed(render_contact_presence("bob@gw/desk", "a@x", ContactState("away", 'a<b & "c"')))
    assert (str(away["from"]), str(away["to"]), away["type"], away["show"], away["status"]) == \
        ("bob@gw/desk", "a@x", "away", "away", 'a<b & "c"')
    plain = parsed(render_contact_presence("bob@gw", "a@x", ContactState()))
    assert (plain["type"], plain["status"]) == ("available", "")
    gone = parsed(render_contact_presence("bob@gw", "a@x", None, "bye"))
    assert (gone["type"], gone["status"]) == ("unavailable", "bye")
    assert parsed(render_contact_presence("bob@gw", "a@x", None))["type"] == "unavailable"


def test_resources_come_and_go_and_a_bare_unavailable_clears_them_all() -> None:
    known = ContactPresences()
    assert known.of("a@x", "bob") is None  # never pushed: contact_available answers
    known.available("a@x", "bob", "phone", ContactState())
    known.available("a@x", "bob", "desk", ContactState("dnd"))
    known.unavailable("a@x", "bob", "phone")
    assert dict(known.of("a@x", "bob") or {}) == {"desk": ContactState("dnd")}
    known.unavailable("a@x", "bob", "")
    assert known.of("a@x", "bob") == {}  # pushed offline: not asked again
    known.forget("a@x")
    assert known.of("a@x", "bob") is None
