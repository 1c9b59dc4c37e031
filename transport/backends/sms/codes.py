"""Twilio error codes -> RFC 6120 stanza error conditions the user's client understands.

The same table serves REST errors (a refused send) and status callbacks (a message that
failed after Twilio accepted it). Twilio's own text always goes to the user with the code;
a hint is added where the next step is not obvious from Twilio's wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from transport.core.events import StanzaErrorInfo


@dataclass(frozen=True, slots=True)
class CodeMapping:
    condition: str
    etype: str = "cancel"
    hint: str = ""
    title: str = ""


CODES: Final[dict[int, CodeMapping]] = {
    20003: CodeMapping("internal-server-error", hint="the gateway's Twilio credentials were "
                   "refused; tell the gateway's admin", title="Authentication failed"),
    21211: CodeMapping("item-not-found", title="Invalid 'To' phone number"),
    21408: CodeMapping("not-allowed", hint="the Twilio account may not send to this region",
                   title="Permission to send to this region is not enabled"),
    21602: CodeMapping("bad-request", "modify", title="Message body is required"),
    21606: CodeMapping("not-allowed", hint="your registered number cannot send; tell the "
                   "gateway's admin", title="The 'From' number is not a valid sender"),
    21610: CodeMapping("not-allowed", hint="the recipient opted out by texting STOP; they must "
                   "text START to your number first", title="Recipient unsubscribed"),
    21611: CodeMapping("resource-constraint", "wait", title="The sender's queue is full"),
    21612: CodeMapping("recipient-unavailable",
                       title="The 'To' number cannot receive this message"),
    21614: CodeMapping("not-acceptable", title="'To' is not a mobile number"),
    21617: CodeMapping("not-acceptable", "modify", title="The message body is too long"),
    21619: CodeMapping("bad-request", "modify", title="A message body or media is required"),
    21620: CodeMapping("not-acceptable", "modify", title="Invalid media URL"),
    21623: CodeMapping("not-acceptable", "modify", title="Too many media files"),
    21635: CodeMapping("not-acceptable", title="'To' is a landline"),
    21658: CodeMapping("not-acceptable", "modify", title="The message body is too long"),
    14103: CodeMapping("bad-request", "modify", title="Invalid message body"),
    20429: CodeMapping("resource-constraint", "wait", title="Too many requests"),
    20500: CodeMapping("internal-server-error", title="Twilio internal error"),
    30001: CodeMapping("resource-constraint", "wait", title="Queue overflow"),
    30002: CodeMapping("service-unavailable", hint="the gateway's Twilio account is suspended",
                   title="Account suspended"),
    30003: CodeMapping("recipient-unavailable", "wait", title="Unreachable destination handset"),
    30004: CodeMapping("recipient-unavailable", title="Message blocked"),
    30005: CodeMapping("item-not-found", title="Unknown destination handset"),
    30006: CodeMapping("not-acceptable", title="Landline or unreachable carrier"),
    30007: CodeMapping("policy-violation", title="Message filtered by the carrier"),
    30008: CodeMapping("undefined-condition", title="Unknown error"),
    30019: CodeMapping("not-acceptable", "modify", title="Content size exceeds the carrier limit"),
    30034: CodeMapping("not-allowed", hint="the sending number is not registered for US A2P "
                   "10DLC; tell the gateway's admin", title="Unregistered sending number"),
    11751: CodeMapping("not-acceptable", "modify", title="Media exceeds the size limit"),
}
DEFAULT: Final = CodeMapping("undefined-condition")


def stanza_error(code: int | None, twilio_text: str | None, fallback: str) -> StanzaErrorInfo:
    """The error the user gets for Twilio error ``code`` with Twilio's text (if any)."""
    mapping = CODES.get(code or 0, DEFAULT)
    text = (twilio_text or "").strip() or mapping.title or fallback
    if mapping.hint:
        text = f"{text} ({mapping.hint})"
    return StanzaErrorInfo(mapping.condition, text, mapping.etype,
                           str(code) if code is not None else None)
