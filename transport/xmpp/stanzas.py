"""Turning neutral events into slixmpp stanzas, and stanza errors into replies."""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.etree import ElementTree as ET

from slixmpp import Message
from slixmpp.exceptions import XMPPError
from slixmpp.xmlstream.matcher.base import MatcherBase

from transport.core.errors import GatewayError
from transport.core.events import StanzaErrorInfo, XmppMessage

LEGACY_ERROR_NS = "urn:xmpp-transport:legacy-error:0"
STANZA_ERROR_NS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NICK_NS = "http://jabber.org/protocol/nick"  # XEP-0172: written directly, its plugin pulls in PEP


def error_condition(stanza: Any) -> str:
    """The stanza error condition's element name, including ones slixmpp does not know."""
    error = stanza.xml.find("{*}error")
    if error is None:
        return ""
    for child in error:
        if child.tag.startswith(f"{{{STANZA_ERROR_NS}}}") and not child.tag.endswith("}text"):
            return str(child.tag.split("}", 1)[1])
    return ""


def build_message(xmpp: Any, event: XmppMessage) -> Message:
    """Build the ``<message/>`` for a queued event, ``from`` always set explicitly."""
    msg: Message = xmpp.make_message(mto=event.to, mfrom=event.sender, mtype=event.type)
    if event.id:
        msg["id"] = event.id
        if event.type != "error":
            msg["origin_id"]["id"] = event.id
    if event.body is not None:
        msg["body"] = event.body
    if event.subject is not None:
        msg["subject"] = event.subject
    if event.oob_url:
        msg["oob"]["url"] = event.oob_url
    if event.receipt_for:
        msg["receipt"] = event.receipt_for
    if event.request_receipt:
        msg["request_receipt"] = True
    if event.delay is not None:
        msg["delay"]["stamp"] = dt.datetime.fromtimestamp(event.delay, dt.UTC)
        msg["delay"]["from"] = event.sender.partition("/")[0].rpartition("@")[2]
    if event.stanza_id_by and event.id:
        msg["stanza_id"]["id"] = event.id
        msg["stanza_id"]["by"] = event.stanza_id_by
    if event.nick:
        ET.SubElement(msg.xml, f"{{{NICK_NS}}}nick").text = event.nick
    if event.error is not None:
        set_error(msg, event.error)
    for fragment in event.extra_xml:
        msg.append(ET.fromstring(fragment))
    return msg


def set_error(stanza: Any, error: StanzaErrorInfo) -> None:
    """Fill a stanza's ``<error/>``; the legacy network's code travels in its own element."""
    stanza["type"] = "error"
    stanza["error"]["type"] = error.etype
    # slixmpp's Error knows only some RFC 6120 conditions (not policy-violation, say) and
    # silently keeps its default for the others, so the element is written here.
    del stanza["error"]["condition"]
    stanza["error"].xml.append(ET.Element(f"{{{STANZA_ERROR_NS}}}{error.condition}"))
    text = error.text
    if error.legacy_code:
        text = f"{text} (error {error.legacy_code})"
        code = ET.Element(f"{{{LEGACY_ERROR_NS}}}legacy-error", {"code": error.legacy_code})
        stanza["error"].append(code)
    stanza["error"]["text"] = text


def bare(jid: Any) -> str:
    """The bare form of a JID given as slixmpp JID or string."""
    return str(jid).partition("/")[0]


def xmpp_error(exc: GatewayError) -> XMPPError:
    """The slixmpp exception that makes a handler answer with ``exc``'s stanza error."""
    condition: Any = exc.condition
    etype: Any = exc.etype
    return XMPPError(condition, exc.text, etype=etype)


class BodilessMessage(MatcherBase):
    """Matches ``<message/>`` stanzas without text: errors, subjects, invitations, states.

    A handler for those alone would otherwise get (and spawn a task for) every relayed
    chat line too.
    """

    def __init__(self) -> None:
        super().__init__("bodiless message")

    def match(self, xml: Any) -> bool:
        element = xml.xml
        namespace, _, name = element.tag[1:].rpartition("}")
        if name != "message":
            return False
        if element.get("type") == "error":
            return True
        body = element.find(f"{{{namespace}}}body")
        return body is None or not body.text
