"""Messages and presences whose addresses fail JID preparation never reach a handler.

The server routes by its own JID rules, which accept some addresses slixmpp's refuse (an
unassigned code point in a resource, a control character a legacy nick carried into a
bounced stanza). Every handler reads ``stanza["to"]`` and would fail on them, so they are
stopped here: a message is answered with ``jid-malformed`` (IQs have ``iq_guard``), an
error or a presence is dropped, as nothing answers those.
"""

from __future__ import annotations

import logging
from typing import Any

from slixmpp import JID, Message
from slixmpp.jid import InvalidJID

from transport.core.events import StanzaErrorInfo
from transport.xmpp.stanzas import set_error

log = logging.getLogger(__name__)

INVALID_ADDRESS = StanzaErrorInfo("jid-malformed", "Invalid address", "modify")


def addresses_valid(stanza: Any) -> bool:
    """Whether ``to`` and ``from`` both pass JID preparation."""
    try:
        JID(stanza.xml.get("to"))
        JID(stanza.xml.get("from"))
    except InvalidJID:
        return False
    return True


def error_reply(xmpp: Any, stanza: Any, error: StanzaErrorInfo) -> None:
    """Answer ``stanza`` (a message) with ``error``, its addresses copied unparsed: a
    ``to`` our rules refuse was still routed here, so the server accepts it back."""
    xml = stanza.xml
    reply = Message(stream=xmpp)
    for name, value in (("to", xml.get("from")), ("from", xml.get("to")),
                        ("id", xml.get("id")), ("type", "error")):
        if value:
            reply.xml.set(name, value)
    set_error(reply, error)
    reply.send()


def refuse(xmpp: Any, stanza: Any) -> None:
    """Deal with a stanza whose addresses are invalid (see the module docstring)."""
    xml = stanza.xml
    kind = xml.tag.rpartition("}")[2]
    log.info("%s from %r to %r refused: invalid address", kind, xml.get("from"), xml.get("to"))
    if kind == "message" and xml.get("type") != "error":
        error_reply(xmpp, stanza, INVALID_ADDRESS)
