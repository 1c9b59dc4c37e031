"""XEP-0045 pieces the IRC backend sends: occupant presences, status codes, refused joins.

Sent through the component with ``from`` set explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from transport.backends.irc.text import clean
from transport.core.events import StanzaErrorInfo
from transport.core.ids import new_id
from transport.xmpp.namespaces import MUC, MUC_ADMIN, MUC_OWNER, MUC_USER
from transport.xmpp.render import attr, render_presence_error, text

__all__ = [
    "MUC",
    "MUC_ADMIN",
    "MUC_OWNER",
    "MUC_USER",
    "Item",
    "history_request",
    "join_password",
    "join_refused",
    "occupant_xml",
    "refusal",
]


@dataclass(frozen=True, slots=True)
class Item:
    """The ``<item/>`` of an occupant presence."""

    affiliation: str = "none"
    role: str = "participant"
    jid: str | None = None
    nick: str | None = None
    actor: str | None = None
    reason: str | None = None


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
    """A presence from ``room/nick`` carrying a muc#user item and status codes, as text.

    A slixmpp stanza costs a few dozen short-lived objects and a serializer run; with
    hundreds of users in a channel, joins make hundreds of thousands of them, which cost
    CPU and leave the heap fragmented. ``sender`` and ``to`` must be valid JIDs (nothing
    checks them here); a test holds this equal to a slixmpp-built oracle.
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


def refusal(condition: str, etype: str = "cancel", text: str = "") -> StanzaErrorInfo:
    """A stanza error whose text may come from IRC (formatting and illegal characters go)."""
    return StanzaErrorInfo(condition, clean(text), etype)


def join_refused(sender: str, to: str, condition: str, etype: str, text: str = "") -> str:
    """A join refused: ``<presence type='error'>`` with the ``<x muc/>`` echoed back."""
    return render_presence_error(sender, to, refusal(condition, etype, text), echo=MUC)


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
