"""Queued events straight to XML text, for the delivery pump's hot path.

``stanzas.build_message`` builds a slixmpp stanza object, and sending it runs slixmpp's
output filters and serializer: together more CPU than everything else a relayed line
costs. The pump writes whole batches, so it renders each event directly to the same
XML (a test holds the two in step) and hands the batch to the stream as one string.
"""

from __future__ import annotations

import datetime as dt
import re

from slixmpp.plugins.xep_0082 import format_datetime

from transport.core.events import StanzaErrorInfo, XmppMessage
from transport.xmpp.stanzas import LEGACY_ERROR_NS, NICK_NS, STANZA_ERROR_NS

_CONDITION = re.compile(r"[a-z]+(?:-[a-z]+)*")
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                       "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


_SPECIAL_TEXT = re.compile(r"[&<>]")
_SPECIAL_ATTR = re.compile(r'[&<>"\n\r\t]')


def text(value: str) -> str:
    """Escape character data."""
    return value.translate(_TEXT) if _SPECIAL_TEXT.search(value) else value


def attr(value: str) -> str:
    """Escape an attribute value (to go between double quotes)."""
    return value.translate(_ATTR) if _SPECIAL_ATTR.search(value) else value


def render_message(event: XmppMessage) -> str:
    """The ``<message/>`` that ``build_message`` would send for ``event``."""
    head = f'<message type="{attr(event.type)}" to="{attr(event.to)}" from="{attr(event.sender)}"'
    if event.id:
        head += f' id="{attr(event.id)}"'
    parts = [head, ">"]
    if event.id and event.type != "error":
        parts.append(f'<origin-id xmlns="urn:xmpp:sid:0" id="{attr(event.id)}"/>')
    if event.body:  # slixmpp drops an empty body too
        parts.append(f"<body>{text(event.body)}</body>")
    if event.subject is not None:
        parts.append(f"<subject>{text(event.subject)}</subject>")
    if event.oob_url:
        parts.append(f'<x xmlns="jabber:x:oob"><url>{text(event.oob_url)}</url></x>')
    if event.receipt_for:
        parts.append(f'<received xmlns="urn:xmpp:receipts" id="{attr(event.receipt_for)}"/>')
    if event.request_receipt:
        parts.append('<request xmlns="urn:xmpp:receipts"/>')
    if event.delay is not None:
        stamp = format_datetime(dt.datetime.fromtimestamp(event.delay, dt.UTC))
        domain = event.sender.partition("/")[0].rpartition("@")[2]
        parts.append(f'<delay xmlns="urn:xmpp:delay" stamp="{stamp}" from="{attr(domain)}"/>')
    if event.stanza_id_by and event.id:
        parts.append(f'<stanza-id xmlns="urn:xmpp:sid:0" id="{attr(event.id)}" '
                     f'by="{attr(event.stanza_id_by)}"/>')
    if event.nick:
        parts.append(f'<nick xmlns="{NICK_NS}">{text(event.nick)}</nick>')
    if event.error is not None:
        parts.append(_error(event.error))
    parts.extend(event.extra_xml)
    parts.append("</message>")
    return "".join(parts)


def _error(error: StanzaErrorInfo) -> str:
    description = error.text
    legacy = ""
    if error.legacy_code:
        description = f"{description} (error {error.legacy_code})"
        legacy = f'<legacy-error xmlns="{LEGACY_ERROR_NS}" code="{attr(error.legacy_code)}"/>'
    condition = error.condition if _CONDITION.fullmatch(error.condition) else \
        "undefined-condition"
    return (f'<error type="{attr(error.etype)}"><{condition} xmlns="{STANZA_ERROR_NS}"/>'
            f'{legacy}<text xmlns="{STANZA_ERROR_NS}">{text(description)}</text></error>')
