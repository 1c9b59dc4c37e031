"""slixmpp-object builders kept as test oracles: the text renderer must say the same.

The gateway renders stanzas as text (``transport.xmpp.render``); these build the same
stanzas the slow, independent way, through slixmpp's stanza interfaces and ElementTree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.etree import ElementTree as ET

from slixmpp import Message

from transport.core.events import StanzaErrorInfo, XmppMessage
from transport.xmpp.namespaces import LEGACY_ERROR, MUC_USER, NICK, STANZAS


def build_message(xmpp: Any, event: XmppMessage) -> Message:
    """The ``<message/>`` for a queued event, ``from`` always set explicitly."""
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
    if event.stanza_id_by and (event.stanza_id or event.id):
        msg["stanza_id"]["id"] = event.stanza_id or event.id
        msg["stanza_id"]["by"] = event.stanza_id_by
    if event.nick:
        ET.SubElement(msg.xml, f"{{{NICK}}}nick").text = event.nick
    if event.error is not None:
        set_error(msg, event.error)
    if event.invite is not None:
        x = ET.SubElement(msg.xml, f"{{{MUC_USER}}}x")
        invite = ET.SubElement(x, f"{{{MUC_USER}}}invite", {"from": event.invite.sender})
        if event.invite.reason:
            ET.SubElement(invite, f"{{{MUC_USER}}}reason").text = event.invite.reason
        if event.invite.password:
            ET.SubElement(x, f"{{{MUC_USER}}}password").text = event.invite.password
    return msg


def set_error(stanza: Any, error: StanzaErrorInfo) -> None:
    """Fill a stanza's ``<error/>`` through slixmpp's Error interface."""
    stanza["type"] = "error"
    stanza["error"]["type"] = error.etype
    # slixmpp's Error knows only some RFC 6120 conditions and keeps its default for others.
    del stanza["error"]["condition"]
    stanza["error"].xml.append(ET.Element(f"{{{STANZAS}}}{error.condition}"))
    text = error.text
    if error.legacy_code:
        text = f"{text} (error {error.legacy_code})"
        code = ET.Element(f"{{{LEGACY_ERROR}}}legacy-error", {"code": error.legacy_code})
        stanza["error"].append(code)
    stanza["error"]["text"] = text
