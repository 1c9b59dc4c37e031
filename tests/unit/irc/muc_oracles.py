"""The slixmpp-built occupant presence: the oracle ``muc.stanzas.occupant_xml`` must match."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree as ET

from transport.backends.irc.muc.stanzas import Item
from transport.backends.irc.text import clean
from transport.xmpp.namespaces import MUC_USER


def occupant(
    xmpp: Any,
    sender: str,
    to: str,
    item: Item,
    *,
    codes: Iterable[int] = (),
    unavailable: bool = False,
    status: str | None = None,
    show: str | None = None,
) -> Any:
    """A presence from ``room/nick`` carrying a muc#user item and status codes."""
    pres = xmpp.make_presence(pto=to, pfrom=sender, ptype="unavailable" if unavailable else None)
    if show:
        pres["show"] = show
    if status:
        pres["status"] = clean(status)
    x = ET.SubElement(pres.xml, f"{{{MUC_USER}}}x")
    attrs = {"affiliation": item.affiliation, "role": item.role}
    if item.jid:
        attrs["jid"] = item.jid
    if item.nick:
        attrs["nick"] = clean(item.nick)
    element = ET.SubElement(x, f"{{{MUC_USER}}}item", attrs)
    if item.actor:
        ET.SubElement(element, f"{{{MUC_USER}}}actor", {"nick": clean(item.actor)})
    if item.reason:
        ET.SubElement(element, f"{{{MUC_USER}}}reason").text = clean(item.reason)
    for code in codes:
        ET.SubElement(x, f"{{{MUC_USER}}}status", {"code": str(code)})
    return pres
