"""Stanzas as XML text: the one place the gateway writes them.

Building a slixmpp stanza object and sending it runs slixmpp's output filters and
serializer: together more CPU than everything else a relayed line costs. The delivery pump
writes whole batches, so each event is rendered here directly to XML (a test holds the
output equal to what slixmpp would build) and the batch goes to the stream as one string,
through ``GatewayComponent.send_raw`` like everything else. Stanza errors, whichever stanza
carries them, are written by ``render_error`` alone.
"""

from __future__ import annotations

import datetime as dt
import re

from slixmpp.plugins.xep_0082 import format_datetime

from transport.core.events import MucInvite, StanzaErrorInfo, XmppMessage
from transport.xmpp.namespaces import (
    DELAY,
    LEGACY_ERROR,
    MUC_USER,
    NICK,
    OOB,
    RECEIPTS,
    SID,
    STANZAS,
)

_CONDITION = re.compile(r"[a-z]+(?:-[a-z]+)*")
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                       "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})
_SPECIAL_TEXT = re.compile(r"[&<>]")
_SPECIAL_ATTR = re.compile(r'[&<>"\n\r\t]')

# Fixed pieces, joined once here rather than formatted for every message.
_ORIGIN_ID = f'<origin-id xmlns="{SID}" id="'
_STANZA_ID = f'<stanza-id xmlns="{SID}" id="'
_OOB_URL = f'<x xmlns="{OOB}"><url>'
_RECEIVED = f'<received xmlns="{RECEIPTS}" id="'
_REQUEST = f'<request xmlns="{RECEIPTS}"/>'
_DELAY = f'<delay xmlns="{DELAY}" stamp="'
_NICK = f'<nick xmlns="{NICK}">'


def text(value: str) -> str:
    """Escape character data."""
    return value.translate(_TEXT) if _SPECIAL_TEXT.search(value) else value


def attr(value: str) -> str:
    """Escape an attribute value (to go between double quotes)."""
    return value.translate(_ATTR) if _SPECIAL_ATTR.search(value) else value


def render_message(event: XmppMessage) -> str:
    """The ``<message/>`` for a queued event, ``from`` always set explicitly."""
    head = f'<message type="{attr(event.type)}" to="{attr(event.to)}" from="{attr(event.sender)}"'
    ident = attr(event.id) if event.id else ""  # escaped once, written up to three times
    if ident:
        head += f' id="{ident}"'
    parts = [head, ">"]
    if ident and event.type != "error":
        parts.append(f'{_ORIGIN_ID}{ident}"/>')
    if event.body:  # slixmpp drops an empty body too
        parts.append(f"<body>{text(event.body)}</body>")
    if event.subject is not None:
        parts.append(f"<subject>{text(event.subject)}</subject>" if event.subject
                     else "<subject/>")
    if event.oob_url:
        parts.append(f"{_OOB_URL}{text(event.oob_url)}</url></x>")
    if event.receipt_for:
        parts.append(f'{_RECEIVED}{attr(event.receipt_for)}"/>')
    if event.request_receipt:
        parts.append(_REQUEST)
    if event.delay is not None:
        stamp = format_datetime(dt.datetime.fromtimestamp(event.delay, dt.UTC))
        domain = event.sender.partition("/")[0].rpartition("@")[2]
        parts.append(f'{_DELAY}{stamp}" from="{attr(domain)}"/>')
    if event.stanza_id_by:
        sid = event.stanza_id
        archive_id = attr(sid) if sid and sid != event.id else ident
        if archive_id:
            parts.append(f'{_STANZA_ID}{archive_id}" by="{attr(event.stanza_id_by)}"/>')
    if event.nick:
        parts.append(f"{_NICK}{text(event.nick)}</nick>")
    if event.error is not None:
        parts.append(render_error(event.error))
    if event.invite is not None:
        parts.append(render_invite(event.invite))
    parts.append("</message>")
    return "".join(parts)


def render_error(error: StanzaErrorInfo, namespace: str | None = None) -> str:
    """The ``<error/>`` of any stanza: RFC 6120 condition, legacy code, text.

    The legacy network's code travels in its own element and at the end of the text. An
    unknown or malformed condition becomes ``undefined-condition``, so no caller can break
    the markup. ``namespace`` is given when the element is parsed on its own (it then
    carries the stanza's namespace explicitly).
    """
    description = error.text
    legacy = ""
    if error.legacy_code:
        description = f"{description} (error {error.legacy_code})"
        legacy = f'<legacy-error xmlns="{LEGACY_ERROR}" code="{attr(error.legacy_code)}"/>'
    condition = error.condition if _CONDITION.fullmatch(error.condition) else \
        "undefined-condition"
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    described = f'<text xmlns="{STANZAS}">{text(description)}</text>' if description else ""
    return (f'<error{xmlns} type="{attr(error.etype)}"><{condition} xmlns="{STANZAS}"/>'
            f"{legacy}{described}</error>")


def render_presence_error(sender: str, to: str, error: StanzaErrorInfo,
                          echo: str | None = None) -> str:
    """A refused presence (a MUC join, say), with an empty ``<x xmlns=echo/>`` echoed."""
    echoed = f'<x xmlns="{echo}"/>' if echo else ""
    return (f'<presence type="error" to="{attr(to)}" from="{attr(sender)}">{echoed}'
            f"{render_error(error)}</presence>")


def render_invite(invite: MucInvite) -> str:
    """A mediated invitation's ``<x/>`` (XEP-0045 7.8.2)."""
    reason = f"<reason>{text(invite.reason)}</reason>" if invite.reason else ""
    password = f"<password>{text(invite.password)}</password>" if invite.password else ""
    inviting = (f'<invite from="{attr(invite.sender)}">{reason}</invite>' if reason
                else f'<invite from="{attr(invite.sender)}"/>')
    return f'<x xmlns="{MUC_USER}">{inviting}{password}</x>'
