"""What makes a resent message a duplicate: the same key and the same content, recently.

A stanza id (or a webhook's message id) alone is not enough: clients that number their
stanzas per session reuse ids, and a reused id with another body or other recipients
dropped a real message without a word. So each key is stored with a short digest of the
content it came with, and a message is a duplicate only when both match and the first was
recorded less than ``DEDUPE_WINDOW`` ago. Retries the gateway must absorb (a client
resending after a failed stream resumption, a webhook retried by Twilio) come within minutes;
a day leaves a wide margin and keeps an old id from silencing a new message for the whole
retention period.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Final

from transport.core.events import OutgoingMessage, XmppMessage

DEDUPE_WINDOW: Final = 24 * 3600.0
DIGEST_BYTES: Final = 12

_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                                   check_circular=False)


def _digest(fields: object) -> str:
    # JSON keeps field boundaries unambiguous; surrogatepass because legacy text may carry
    # a lone surrogate that would make a plain encode raise.
    data = _ENCODER.encode(fields).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=DIGEST_BYTES).hexdigest()


def outgoing_digest(message: OutgoingMessage) -> str:
    """A user's message: who it goes to and what it says (not which resource sent it)."""
    return _digest([message.contact, message.resource, list(message.extra_recipients),
                    message.body, [a.url for a in message.attachments], message.type])


def queued_digest(messages: Sequence[XmppMessage]) -> str:
    """Messages queued for XMPP users under one key; not their ids or delay stamps, which
    a retried legacy event gets afresh."""
    return _digest([[m.to, m.sender, m.type, m.body, m.subject, m.oob_url, m.receipt_for,
                     m.nick] for m in messages])
