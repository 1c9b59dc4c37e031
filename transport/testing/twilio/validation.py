"""Turns a ``POST Messages.json`` form into a Message, or Twilio's 400 for it.

Checks run in the order Twilio reports them: required parameters, then content
limits, then addresses and ownership, then the recipient's opt-out state.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from multidict import MultiDictProxy

import transport.testing.twilio.errors as errors

from .encoding import MAX_BODY_CHARS, body_length, count_segments
from .state import Message, StandInState, new_sid

# E.164: '+', no leading zero, 7..15 digits; NANP (+1) numbers need exactly 10 more.
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MESSAGING_SERVICE = re.compile(r"^MG[0-9a-fA-F]{32}$")


def plausible_e164(number: str) -> bool:
    if not E164.match(number):
        return False
    return not number.startswith("+1") or len(number) == 12


def valid_http_url(url: str, *, allow_underscore: bool = True) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        return False
    return allow_underscore or "_" not in host


def build_outbound(
    state: StandInState, account_sid: str, form: MultiDictProxy[str], max_media: int = 10
) -> Message:
    """Validate like Twilio and return the new (not yet stored) Message."""
    to = form.get("To", "").strip()
    from_ = form.get("From", "").strip() or None
    service = form.get("MessagingServiceSid", "").strip() or None
    body = form.get("Body", "")
    media = form.getall("MediaUrl", [])
    callback = form.get("StatusCallback", "").strip() or None

    if not to:
        raise errors.to_required()
    if from_ is None and service is None:
        raise errors.from_required()
    if not body and not media:
        raise errors.body_or_media_required()
    if body_length(body) > MAX_BODY_CHARS:
        raise errors.body_too_long()
    if len(media) > max_media:
        raise errors.too_many_media(max_media)
    for url in media:
        if not valid_http_url(url):
            raise errors.invalid_media_url(url)
    if callback is not None and not valid_http_url(callback, allow_underscore=False):
        raise errors.invalid_status_callback(callback)
    if not plausible_e164(to):
        raise errors.invalid_to(to)
    if service is not None and (
        not MESSAGING_SERVICE.match(service) or state.messaging_services.get(service) != account_sid
    ):
        raise errors.invalid_messaging_service(service)
    senders = [n.phone_number for n in state.account_numbers(account_sid)]
    if from_ is not None and from_ not in senders:
        raise errors.from_not_owned(from_)
    if _opted_out(state, [from_] if from_ else senders, to):
        raise errors.opted_out()

    return Message(
        sid=new_sid("MM" if media else "SM"),
        account_sid=account_sid,
        to=to,
        from_=from_,
        body=body,
        direction="outbound-api",
        # With a Messaging Service Twilio answers "accepted" and picks the sender later.
        status="queued" if from_ else "accepted",
        num_segments=count_segments(body) if from_ else 0,
        media_urls=list(media),
        messaging_service_sid=service,
        status_callback=callback,
    )


def _opted_out(state: StandInState, senders: list[str], to: str) -> bool:
    if ("*", to) in state.opt_outs:
        return True
    return any((sender, to) in state.opt_outs for sender in senders)
