"""Simulated inbound SMS/MMS: stores the Message like Twilio and posts its webhook.

The form carries the fields of Twilio's messaging webhook (``MessageSid``, the legacy
``SmsSid``/``SmsMessageSid``, ``AccountSid``, ``From``, ``To``, ``Body``, ``NumMedia``,
``NumSegments``, ``SmsStatus=received``, ``ApiVersion``, geo fields, and per item
``MediaUrl{N}``/``MediaContentType{N}`` pointing at this stand-in's authenticated media
resources).  Reusing a ``message_sid`` re-sends the identical form with the same
idempotency token, which is what a Twilio retry looks like.  Opt-out keywords update
the opt-out list and add ``OptOutType``, as Twilio's default opt-out handling does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .context import StandInContext
from .encoding import count_segments
from .resources import media_uri
from .state import API_VERSION, Media, Message, new_sid
from .webhooks import idempotency_token

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
COUNTRIES = {"+1": "US", "+44": "GB", "+33": "FR", "+49": "DE", "+61": "AU", "+34": "ES"}


@dataclass(frozen=True)
class InboundResult:
    """What the webhook receiver answered (``status`` None: it could not be reached)."""

    message_sid: str
    status: int | None
    body: str
    error: str | None


def country_of(e164: str) -> str:
    for prefix in sorted(COUNTRIES, key=len, reverse=True):
        if e164.startswith(prefix):
            return COUNTRIES[prefix]
    return ""


def _store(
    ctx: StandInContext,
    account_sid: str,
    to: str,
    from_: str,
    body: str,
    media: Sequence[tuple[bytes, str]],
    message_sid: str | None,
) -> Message:
    existing = ctx.state.messages.get(message_sid or "")
    if existing is not None:
        return existing
    sid = message_sid or new_sid("MM" if media else "SM")
    msg = Message(
        sid=sid,
        account_sid=account_sid,
        to=to,
        from_=from_,
        body=body,
        direction="inbound",
        status="received",
        num_segments=count_segments(body),
    )
    msg.media = [Media(new_sid("ME"), account_sid, sid, ctype, data) for data, ctype in media]
    msg.set_status("received")
    ctx.state.messages[sid] = msg
    return msg


def _opt_out_type(ctx: StandInContext, msg: Message) -> str | None:
    """Apply Twilio's default keyword handling; the sender opts out of *our* number."""
    word = msg.body.strip().upper()
    pair = (msg.to, msg.from_ or "")
    if word in STOP_WORDS:
        ctx.state.opt_outs.add(pair)
        return "STOP"
    if word in START_WORDS:
        ctx.state.opt_outs.discard(pair)
        return "START"
    return "HELP" if word in HELP_WORDS else None


def inbound_form(ctx: StandInContext, msg: Message, opt_out: str | None) -> list[tuple[str, str]]:
    from_ = msg.from_ or ""
    form = [
        ("ToCountry", country_of(msg.to)),
        ("ToState", ""),
        ("SmsMessageSid", msg.sid),
        ("NumMedia", str(len(msg.media))),
        ("ToCity", ""),
        ("FromZip", ""),
        ("SmsSid", msg.sid),
        ("FromState", ""),
        ("SmsStatus", "received"),
        ("FromCity", ""),
        ("Body", msg.body),
        ("FromCountry", country_of(from_)),
        ("To", msg.to),
        ("ToZip", ""),
        ("NumSegments", str(msg.num_segments)),
        ("MessageSid", msg.sid),
        ("AccountSid", msg.account_sid),
        ("From", from_),
        ("ApiVersion", API_VERSION),
    ]
    for index, media in enumerate(msg.media):
        form.append((f"MediaContentType{index}", media.content_type))
        form.append((f"MediaUrl{index}", ctx.base_url + media_uri(media)))
    if opt_out is not None:
        form.append(("OptOutType", opt_out))
    return form


async def send_inbound(
    ctx: StandInContext,
    to: str,
    from_: str,
    body: str = "",
    media: Sequence[tuple[bytes, str]] = (),
    webhook_url: str | None = None,
    sign_url: str | None = None,
    message_sid: str | None = None,
    bad_signature: bool = False,
) -> InboundResult:
    """Text ``to`` (a number of some account) from ``from_``; see ``TwilioStandIn``."""
    number = ctx.state.number_by_e164(to)
    if number is None:
        raise ValueError(f"{to} is not a number of any stand-in account")
    public_url = sign_url or webhook_url or number.sms_url
    if not public_url:
        raise ValueError(f"no webhook_url given and {to} has no sms_url")
    msg = _store(ctx, number.account_sid, to, from_, body, media, message_sid)
    form = inbound_form(ctx, msg, _opt_out_type(ctx, msg))
    attempt = await ctx.webhooks.deliver(
        "inbound",
        public_url,
        form,
        ctx.state.accounts[number.account_sid],
        idempotency_token(msg.account_sid, msg.sid, "inbound", public_url),
        post_url=webhook_url,
        bad_signature=bad_signature,
    )
    return InboundResult(msg.sid, attempt.status, attempt.body, attempt.error)
