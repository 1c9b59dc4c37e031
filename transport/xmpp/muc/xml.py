"""XEP-0045 stanzas as XML text: occupant presences, error presences, invitations.

A join sends every occupant's presence to the joining resource: in rooms of hundreds,
with many users, that is hundreds of thousands of presences, so they are written as text
(no slixmpp object each) and a join's batch leaves in one write. The stream's output
guard makes every character legal XML; values here are only escaped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Final

from slixmpp import JID
from slixmpp.jid import InvalidJID

from transport.core.events import StanzaErrorInfo
from transport.core.ids import new_id
from transport.core.rooms import Occupant
from transport.xmpp.namespaces import MUC, MUC_ADMIN, MUC_OWNER, MUC_USER
from transport.xmpp.render import attr, render_presence_error, text

__all__ = ["MUC", "MUC_ADMIN", "MUC_OWNER", "MUC_USER"]  # where the service's parts look

# XEP-0045 status codes the service sends.
NON_ANONYMOUS: Final = 100
SELF: Final = 110
CREATED: Final = 201
NICK_CHANGED: Final = 210
BANNED: Final = 301
NEW_NICK: Final = 303
KICKED: Final = 307
SHUTDOWN: Final = 332

_CONTROL = re.compile("[\x00-\x1f\x7f]")
_ETYPES = frozenset({"auth", "cancel", "continue", "modify", "wait"})


@functools.lru_cache(maxsize=4096)
def occupant_jid(room: str, nick: str) -> str | None:
    """``room/nick`` as slixmpp writes it, or None when no JID can hold the nick.

    Remembered: every relayed line and every join asks, for the same few nicks.
    """
    if not nick or _CONTROL.search(nick):
        return None
    try:
        return str(JID(f"{room}/{nick}"))
    except (InvalidJID, ValueError):
        return None


def occupant_presence(
    sender: str,
    to: str,
    occupant: Occupant,
    *,
    jid: str | None = None,
    codes: Iterable[int] = (),
    unavailable: bool = False,
    status: str | None = None,
    new_nick: str | None = None,
    actor: str | None = None,
    reason: str | None = None,
    affiliation: str | None = None,
) -> str:
    """One occupant's presence from ``sender`` (``room/nick``) to the full JID ``to``.

    An unavailable occupant's role is ``none``; ``jid`` overrides the occupant's own (the
    user's full JID in their self-presence); ``affiliation`` overrides it (``outcast``).
    """
    kind = ' type="unavailable"' if unavailable else ""
    parts = [f'<presence{kind} to="{attr(to)}" from="{attr(sender)}" id="{new_id()}">']
    if occupant.show and not unavailable:
        parts.append(f"<show>{occupant.show}</show>")
    if status:
        parts.append(f"<status>{text(status)}</status>")
    role = "none" if unavailable else occupant.role
    parts.append(f'<x xmlns="{MUC_USER}"><item affiliation="'
                 f'{affiliation or occupant.affiliation}" role="{role}"')
    shown = jid if jid is not None else occupant.jid
    if shown:
        parts.append(f' jid="{attr(shown)}"')
    if new_nick:
        parts.append(f' nick="{attr(new_nick)}"')
    if actor or reason:
        parts.append(">")
        if actor:
            parts.append(f'<actor nick="{attr(actor)}"/>')
        if reason:
            parts.append(f"<reason>{text(reason)}</reason>")
        parts.append("</item>")
    else:
        parts.append("/>")
    parts.extend(f'<status code="{code}"/>' for code in codes)
    parts.append("</x></presence>")
    return "".join(parts)


def self_gone(sender: str, to: str, *, codes: Iterable[int] = (), status: str | None = None,
              actor: str | None = None, reason: str | None = None,
              affiliation: str = "none", show_jid: bool = True) -> str:
    """The user's own unavailable presence: out of the room (110 added)."""
    return occupant_presence(
        sender, to, Occupant(nick="", role="none", affiliation="none"),
        jid=to if show_jid else None,
        codes=(*codes, SELF), unavailable=True, status=status, actor=actor, reason=reason,
        affiliation=affiliation)


def error_presence(sender: str, to: str, condition: str, etype: str, message: str = "") -> str:
    """A join or nick change refused: ``<presence type='error'>`` with ``<x muc/>``."""
    if etype not in _ETYPES:
        etype = "cancel"
    return render_presence_error(sender, to, StanzaErrorInfo(condition, message, etype),
                                 echo=MUC)
