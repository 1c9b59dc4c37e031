"""The MUC service's text presences are the ones slixmpp would build, for IRC occupants."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import pytest
from slixmpp import ComponentXMPP

from transport.backends.irc.addressing import occupant_jid
from transport.core.rooms import Occupant
from transport.xmpp.muc import xml

MUC_USER = "http://jabber.org/protocol/muc#user"


def shape(element: ET.Element) -> tuple[Any, ...]:
    """Everything but the (random) id, children in order."""
    attrs = {k: v for k, v in element.attrib.items() if k != "id"}
    return (element.tag, attrs, (element.text or "").strip(),
            tuple(shape(child) for child in element))


def oracle(xmpp: Any, sender: str, to: str, occupant: Occupant, *, codes: tuple[int, ...] = (),
           unavailable: bool = False, status: str | None = None, new_nick: str | None = None,
           actor: str | None = None, reason: str | None = None) -> Any:
    """The presence built as a slixmpp stanza, element by element."""
    pres = xmpp.make_presence(pto=to, pfrom=sender, ptype="unavailable" if unavailable else None)
    if occupant.show and not unavailable:
        pres["show"] = occupant.show
    if status:
        pres["status"] = status
    x = ET.SubElement(pres.xml, f"{{{MUC_USER}}}x")
    attrs = {"affiliation": occupant.affiliation,
             "role": "none" if unavailable else occupant.role}
    if occupant.jid:
        attrs["jid"] = occupant.jid
    if new_nick:
        attrs["nick"] = new_nick
    element = ET.SubElement(x, f"{{{MUC_USER}}}item", attrs)
    if actor:
        ET.SubElement(element, f"{{{MUC_USER}}}actor", {"nick": actor})
    if reason:
        ET.SubElement(element, f"{{{MUC_USER}}}reason").text = reason
    for code in codes:
        ET.SubElement(x, f"{{{MUC_USER}}}status", {"code": str(code)})
    return pres


CASES = [
    {"occupant": Occupant("bob", "participant", "none", "bob%irc.example.org@irc.localhost")},
    {"occupant": Occupant("me", "moderator", "owner", "u@example.org/phone"),
     "codes": (100, 110)},
    {"occupant": Occupant("a", "participant", "member", "a%h@irc.localhost", "away")},
    {"occupant": Occupant("a", "participant", "admin", "a%h@irc.localhost"),
     "new_nick": 'new"&<nick>', "codes": (303,), "unavailable": True,
     "status": "gone bold & <away>"},
    {"occupant": Occupant("a", "none", "none", "a%h@irc.localhost"), "actor": "op",
     "reason": "bye & <x>", "codes": (307, 110), "unavailable": True},
    {"occupant": Occupant("a", "none", "none"), "reason": "why", "unavailable": True},
]


@pytest.mark.parametrize("case", CASES)
async def test_text_and_stanza_presences_agree(case: dict[str, Any]) -> None:
    xmpp = ComponentXMPP("irc.localhost", "secret", "127.0.0.1", 5347, plugin_whitelist=[])
    sender = "#chan%irc.example.org@irc.localhost/Nick"
    to = "u@example.org/phone"
    built = oracle(xmpp, sender, to, **case)
    written = xml.occupant_presence(sender, to, **case)
    assert shape(ET.fromstring(written)) == shape(ET.fromstring(str(built)))
    assert ET.fromstring(written).get("id")


def test_occupant_jids_are_normalized_like_the_stanzas_were() -> None:
    room = r"#chan%irc.example.org@irc.localhost"
    for normalized in (occupant_jid, xml.occupant_jid):
        assert normalized(room, "Nick") == f"{room}/Nick"
        assert normalized("#Chan%Irc.Example.org@IRC.localhost", "x") == \
            "#chan%irc.example.org@irc.localhost/x"
        assert normalized(room, "a\x01b") is None and normalized(room, "") is None
