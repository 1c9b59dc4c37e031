"""Channel bans as the room's ``outcast`` list (muc#admin), which biboumi does not offer.

IRC bans masks, XMPP bans JIDs. A ban mask is shown as the IRC server's JID with the mask
as resource, ``irc.example.org@gw/*!*@bad.host``: every client can show such a JID, and it
comes back unchanged when the user lifts the ban (affiliation ``none``). Banning an
occupant (by nick, or by the ``nick%host`` JID its presence carries) bans
``*!user@host`` when the gateway knows the occupant's user and host (from its JOIN, or
``userhost-in-names``), else ``nick!*@*``; an occupant in the room is then kicked, since
XEP-0045 removes a banned occupant.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from transport.backends.irc.addressing import Jids, valid_resource
from transport.backends.irc.protocol import IrcEvent, ISupport
from transport.backends.irc.session.channel_state import Member
from transport.backends.irc.text import clean
from transport.core.errors import GatewayError
from transport.core.rooms import AdminItem

if TYPE_CHECKING:
    from transport.backends.irc.session.interface import Session

LIST_LIMIT = 1000
_BAD_MASK = re.compile(r"[\s,\x00-\x1f]")


def collect(session: Session, ev: IrcEvent) -> bool:
    """A 367 (one ban) or 368 (end of list) line for a pending ban-list query.

    False when no query waits for that channel's list (the user asked IRC directly).
    """
    folded = session.isupport.fold(ev.param(1))
    pending = next((p for p in session.pending if p.kind == "bans" and p.channel == folded),
                   None)
    if pending is None:
        return False
    if ev.command == "367":
        if ev.param(2) and len(pending.replies) < LIST_LIMIT:
            pending.replies.append((ev.param(2), ev.param(3), ev.param(4)))
    else:
        session.pending.remove(pending)
        if not pending.future.done():
            pending.future.set_result(None)
    return True


def occupant_mask(member: Member | None, nick: str) -> str:
    """The mask that bans one occupant: by user and host when known, else by nick."""
    if member is not None and member.user and member.host:
        return f"*!{member.user}@{member.host}"
    return f"{nick}!*@*"


def normal_mask(mask: str) -> str:
    """The mask as servers store it: ``nick`` -> ``nick!*@*``, ``user@host`` ->
    ``*!user@host``, ``nick!user`` -> ``nick!user@*`` (ngIRCd, InspIRCd, Solanum alike)."""
    if "!" not in mask:
        return f"{mask}!*@*" if "@" not in mask else f"*!{mask}"
    return mask if "@" in mask else f"{mask}@*"


def listed(entries: Sequence[tuple[str, ...]], mask: str, isupport: ISupport) -> bool:
    """Whether a ban list (367 entries) holds ``mask``, compared as the server does."""
    wanted = isupport.fold(normal_mask(mask))
    return any(isupport.fold(normal_mask(entry[0])) == wanted for entry in entries)


def check_mask(mask: str) -> str:
    """A mask that fits in one MODE parameter, or ``bad-request``."""
    if not mask or _BAD_MASK.search(mask) or mask[0] == ":" or len(mask.encode()) > 300:
        raise GatewayError(f"{mask!r} is not a ban mask", "bad-request", "modify")
    return mask


def outcast_entries(jids: Jids, host: str, entries: Sequence[tuple[str, ...]]) -> list[AdminItem]:
    """One ``outcast`` entry per ban, with who set it (and when) as the reason."""
    server = jids.server(host)
    found = []
    for mask, setter, stamp in entries:
        if valid_resource(server, mask):
            found.append(AdminItem(jid=f"{server}/{mask}", affiliation="outcast",
                                   reason=clean(_reason(setter, stamp))))
    return found


def _reason(setter: str, stamp: str) -> str:
    setter = setter.partition("!")[0]
    try:
        when = dt.datetime.fromtimestamp(int(stamp), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (ValueError, OverflowError, OSError):
        when = ""
    if setter and when:
        return f"Set by {setter} on {when}"
    return f"Set by {setter}" if setter else ""
