"""Inbound SMS/MMS -> chat messages for the number's owner, committed before Twilio's 200.

The owner gets the text first, then one message per media item whose body is the
re-hosted URL (clients show an attachment only when the body equals the XEP-0066 URL).
A text for a number nobody registered is kept for the admin instead. STOP/START/HELP are
delivered as ordinary text: Twilio itself handles opt-out and opt-in for long codes.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from multidict import MultiDict

from transport.backends.sms.media import MediaStore
from transport.backends.sms.numbers import Numbers, parse_e164
from transport.backends.sms.store import SmsRepo, Unrouted
from transport.core.events import XmppMessage

log = logging.getLogger(__name__)

MAX_MEDIA: Final = 10
_SID: Final = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
# Characters XML 1.0 cannot carry: one of them in a stanza would end the stream.
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class BadWebhook(ValueError):
    """A signed webhook that lacks what Twilio always sends."""


@dataclass(frozen=True, slots=True)
class InboundText:
    """The fields of Twilio's messaging webhook that the gateway uses."""

    message_sid: str
    from_: str
    to: str
    body: str
    media: tuple[tuple[str, str], ...] = ()
    opt_out: str | None = None


def parse_inbound(form: MultiDict[str]) -> InboundText:
    """The webhook's fields, or ``BadWebhook`` naming what is missing."""
    sid = form.get("MessageSid", "")
    if not _SID.fullmatch(sid):
        raise BadWebhook("MessageSid is missing or malformed")
    from_, to = form.get("From", "").strip(), form.get("To", "").strip()
    if not from_ or not to:
        raise BadWebhook("From and To are required")
    count = form.get("NumMedia", "0")
    if not count.isascii() or not count.isdigit() or int(count) > MAX_MEDIA:
        raise BadWebhook("NumMedia must be a number from 0 to 10")
    media: list[tuple[str, str]] = []
    for index in range(int(count)):
        url = form.get(f"MediaUrl{index}", "")
        if not url:
            raise BadWebhook(f"MediaUrl{index} is missing")
        if not _is_http_url(url):
            raise BadWebhook(f"MediaUrl{index} is not an http(s) URL")
        media.append((url, form.get(f"MediaContentType{index}", "")))
    return InboundText(sid, from_, to, form.get("Body", ""), tuple(media),
                       form.get("OptOutType") or None)


def _is_http_url(text: str) -> bool:
    """Whether ``text`` parses as an absolute http(s) URL with a host (Twilio's always do)."""
    try:
        parts = urlsplit(text)
        _ = parts.port  # a port out of range raises too
    except ValueError:  # an unclosed IPv6 bracket, say
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def xml_safe(text: str) -> str:
    """Replace what XML cannot carry (NUL, most control characters) with U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


class InboundHandler:
    """Routes one inbound text to its owner, or keeps it for the admin."""

    def __init__(self, ctx: Any, numbers: Numbers, repo: SmsRepo, media: MediaStore) -> None:
        self.ctx = ctx
        self.numbers = numbers
        self.repo = repo
        self.media = media
        self.received = 0
        self.unrouted = 0

    async def handle(self, text: InboundText) -> None:
        """Commit what the owner will receive (or the unrouted text); then return."""
        our_number = parse_e164(text.to)
        owner = await self.ctx.user_by_legacy_key(our_number) if our_number else None
        if owner is None or our_number is None:
            await self._keep(text)
            return
        local = self.numbers.from_sender(text.from_, our_number)
        sender = f"{local}@{self.ctx.component_jid}"
        now = time.time()
        messages: list[XmppMessage] = []
        if text.body or not text.media:
            messages.append(XmppMessage(to=owner, sender=sender, body=xml_safe(text.body),
                                        delay=now))
        for item in await self.media.fetch_all(text.message_sid, list(text.media),
                                                 our_number):
            if item.url is not None:
                messages.append(XmppMessage(to=owner, sender=sender, body=item.url,
                                            oob_url=item.url, delay=now))
            else:
                kind = item.declared_type or "an attachment"
                messages.append(XmppMessage(
                    to=owner, sender=sender, delay=now,
                    body=f"[{kind} could not be delivered: {item.problem}]"))
        queued = await self.ctx.deliver_many(messages, dedupe_key=text.message_sid)
        if not queued:
            log.debug("Webhook for %s was a retry; already queued", text.message_sid)
            return
        self.received += 1
        log.info("SMS %s from %s to %s (%s) queued, %d media", text.message_sid, local,
                 our_number, owner, len(text.media))
        if text.opt_out:
            log.info("%s sent an opt-%s keyword to %s (Twilio applies it)", local,
                     "out" if text.opt_out == "STOP" else "in/help", our_number)

    async def _keep(self, text: InboundText) -> None:
        item = Unrouted(text.message_sid, text.to, text.from_, xml_safe(text.body),
                        tuple(url for url, _ in text.media), time.time())
        if await self.repo.keep_unrouted(item):
            self.unrouted += 1
            log.info("SMS %s from %s to unregistered number %s kept for the admin",
                     text.message_sid, text.from_, text.to)
