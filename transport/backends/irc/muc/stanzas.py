"""XEP-0045 pieces the IRC backend sends: occupant presences, status codes, invites.

Built with ElementTree and sent through the component with ``from`` set explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from transport.backends.irc.text import clean
from transport.core.ids import new_id
from transport.xmpp.render import attr, text

MUC = "http://jabber.org/protocol/muc"
MUC_USER = f"{MUC}#user"
MUC_ADMIN = f"{MUC}#admin"
MUC_OWNER = f"{MUC}#owner"
SID = "urn:xmpp:sid:0"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
COMPONENT_NS = "jabber:component:accept"


@dataclass(frozen=True, slots=True)
class Item:
    """The ``<item/>`` of an occupant presence."""

    affiliation: str = "none"
    role: str = "participant"
    jid: str | None = None
    nick: str | None = None
    actor: str | None = None
    reason: str | None = None


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


def occupant_xml(
    sender: str,
    to: str,
    item: Item,
    *,
    codes: Iterable[int] = (),
    unavailable: bool = False,
    status: str | None = None,
    show: str | None = None,
) -> str:
    """``occupant``'s presence as XML text, for the N x N presences of joins.

    A slixmpp stanza costs a few dozen short-lived objects and a serializer run; with
    hundreds of users in a channel, joins make hundreds of thousands of them, which cost
    CPU and leave the heap fragmented. ``sender`` and ``to`` must be valid JIDs (nothing
    checks them here); a test keeps this in step with ``occupant``.
    """
    kind = ' type="unavailable"' if unavailable else ""
    parts = [f'<presence{kind} to="{attr(to)}" from="{attr(sender)}" id="{new_id()}">']
    if show:
        parts.append(f"<show>{text(show)}</show>")
    if status:
        parts.append(f"<status>{text(clean(status))}</status>")
    parts.append(f'<x xmlns="{MUC_USER}"><item affiliation="{attr(item.affiliation)}" '
                 f'role="{attr(item.role)}"')
    if item.jid:
        parts.append(f' jid="{attr(item.jid)}"')
    if item.nick:
        parts.append(f' nick="{attr(clean(item.nick))}"')
    if item.actor or item.reason:
        parts.append(">")
        if item.actor:
            parts.append(f'<actor nick="{attr(clean(item.actor))}"/>')
        if item.reason:
            parts.append(f"<reason>{text(clean(item.reason))}</reason>")
        parts.append("</item>")
    else:
        parts.append("/>")
    parts.extend(f'<status code="{code}"/>' for code in codes)
    parts.append("</x></presence>")
    return "".join(parts)


def presence_error(
    xmpp: Any, sender: str, to: str, condition: str, etype: str, text: str = ""
) -> Any:
    """A join refused: ``<presence type='error'>`` with the ``<x muc/>`` echoed back."""
    pres = xmpp.make_presence(pto=to, pfrom=sender, ptype="error")
    ET.SubElement(pres.xml, f"{{{MUC}}}x")
    error = ET.SubElement(pres.xml, f"{{{COMPONENT_NS}}}error", {"type": etype})
    ET.SubElement(error, f"{{{STANZAS}}}{condition}")
    if text:
        ET.SubElement(error, f"{{{STANZAS}}}text").text = clean(text)
    return pres


def reply_error(iq: Any, condition: str, etype: str = "cancel", text: str = "") -> None:
    """Answer an iq with a stanza error (any RFC 6120 condition, even ones slixmpp lacks)."""
    reply = iq.reply(clear=False)
    reply["type"] = "error"
    error = ET.SubElement(reply.xml, f"{{{iq.namespace}}}error", {"type": etype})
    ET.SubElement(error, f"{{{STANZAS}}}{condition}")
    if text:
        ET.SubElement(error, f"{{{STANZAS}}}text").text = clean(text)
    reply.send()


def empty_subject() -> str:
    """``<subject/>`` with no text (slixmpp drops an empty subject it is given)."""
    return f'<subject xmlns="{COMPONENT_NS}"/>'


def stanza_id(uid: str, by: str) -> str:
    """Formatted directly: it is built for every relayed line."""
    return f'<stanza-id xmlns="{SID}" id="{attr(uid)}" by="{attr(by)}"/>'


def invite(sender: str, reason: str = "", password: str = "") -> str:
    """A mediated invitation's ``<x/>`` (the room's message carries it)."""
    x = ET.Element(f"{{{MUC_USER}}}x")
    element = ET.SubElement(x, f"{{{MUC_USER}}}invite", {"from": sender})
    if reason:
        ET.SubElement(element, f"{{{MUC_USER}}}reason").text = clean(reason)
    if password:
        ET.SubElement(x, f"{{{MUC_USER}}}password").text = password
    return ET.tostring(x, encoding="unicode")


def history_request(pres: Any) -> dict[str, str] | None:
    """The ``<history/>`` attributes of a join, or None when it is not a MUC join."""
    x = pres.xml.find(f"{{{MUC}}}x")
    if x is None:
        return None
    history = x.find(f"{{{MUC}}}history")
    return dict(history.attrib) if history is not None else {}


def join_password(pres: Any) -> str:
    x = pres.xml.find(f"{{{MUC}}}x")
    if x is None:
        return ""
    return (x.findtext(f"{{{MUC}}}password") or "").strip()
