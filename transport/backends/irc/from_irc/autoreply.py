"""Lines the gateway sends to IRC on its own account, such as answers to CTCP requests.

Anyone on IRC can ask for them, as often as they like: 40 CTCP PINGs from one nick once
held the user's own message back by 30 s behind their answers. So each nick gets at most
``BURST`` answers, then one per ``EVERY`` seconds; none is queued while ``BACKLOG`` wait
already; and they go out in the connection's background lane, behind what the user sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from transport.backends.irc.context import log
from transport.backends.irc.protocol.ratelimit import PerKeyLimit

if TYPE_CHECKING:
    from transport.backends.irc.session.interface import Session

BURST = 3
EVERY = 10.0
BACKLOG = 8
NICKS = 64  # nicks remembered; beyond, the backlog still bounds what is sent


def answer(session: Session, nick: str, lines: Sequence[str | bytes]) -> None:
    """Send ``lines`` to ``nick`` if its allowance and the backlog permit (else drop them)."""
    conn = session.conn
    if conn is None or not session.registered.is_set():
        return
    limit = session.auto_replies
    if limit is None:
        limit = session.auto_replies = PerKeyLimit(1 / EVERY, BURST, NICKS)
    if not limit.allow(session.isupport.fold(nick)):
        log.debug("No automatic answer to %s on %s for %s: too many", nick, session.host,
                  session.user)
        return
    for line in lines:
        try:
            queued = conn.enqueue_background(line, BACKLOG)
        except ValueError:
            return
        if not queued:
            log.debug("Automatic answer to %s on %s for %s dropped: backlog full", nick,
                      session.host, session.user)
            return
