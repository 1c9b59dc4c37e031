"""mucxml.occupant_xml writes the same presence as the stanza-built mucxml.occupant."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import pytest
from slixmpp import ComponentXMPP

from transport.backends.irc.addressing import occupant_jid
from transport.backends.irc.muc import stanzas as mucxml


def shape(element: ET.Element) -> tuple[Any, ...]:
    """Everything but the (random) id, children in order."""
    attrs = {k: v for k, v in element.attrib.items() if k != "id"}
    return (element.tag, attrs, (element.text or "").strip(),
            tuple(shape(child) for child in element))


CASES = [
    {"item": mucxml.Item("none", "participant", "bob%irc.example.org@irc.localhost")},
    {"item": mucxml.Item("owner", "moderator", "u@example.org/phone"), "codes": (100, 110)},
    {"item": mucxml.Item("member", "participant", "a%h@irc.localhost"), "show": "away"},
    {"item": mucxml.Item("admin", "none", "a%h@irc.localhost", 'new"&<nick>'),
     "codes": (303,), "unavailable": True, "status": "gone \x02bold\x02 & <away>"},
    {"item": mucxml.Item("none", "none", "a%h@irc.localhost", None, "op\x03", "bye & <x>"),
     "codes": (307, 110), "unavailable": True},
    {"item": mucxml.Item("none", "none", None, None, None, "why"), "unavailable": True},
]


@pytest.mark.parametrize("case", CASES)
async def test_text_and_stanza_presences_agree(case: dict[str, Any]) -> None:
    xmpp = ComponentXMPP("irc.localhost", "secret", "127.0.0.1", 5347, plugin_whitelist=[])
    sender = "#chan%irc.example.org@irc.localhost/Nick"
    to = "u@example.org/phone"
    built = mucxml.occupant(xmpp, sender, to, **case)
    written = mucxml.occupant_xml(sender, to, **case)
    assert shape(ET.fromstring(written)) == shape(ET.fromstring(str(built)))
    assert ET.fromstring(written).get("id")


def test_occupant_jids_are_normalized_like_the_stanzas_were() -> None:
    room = r"#chan%irc.example.org@irc.localhost"
    assert occupant_jid(room, "Nick") == f"{room}/Nick"
    assert occupant_jid("#Chan%Irc.Example.org@IRC.localhost", "x") == \
        "#chan%irc.example.org@irc.localhost/x"
    assert occupant_jid(room, "a\x01b") is None and occupant_jid(room, "") is None
