"""A local stand-in for Twilio Programmable Messaging (REST API 2010-04-01).

Why: the SMS backend must be tested through the *real* twilio-python client (its URL
building, form encoding, error parsing and aiohttp transport), which a patched client
object would skip, and Twilio's public mocks cannot inject errors or send webhooks.

Usage::

    standin = TwilioStandIn({"AC...": "token"}, {"AC...": ["+15550001111"]})
    await standin.start()
    client = Client("AC...", "token", http_client=AsyncTwilioHttpClient())
    client.api.base_url = standin.url          # clear TWILIO_REGION / TWILIO_EDGE!
    await client.messages.create_async(to="+15550002222", from_="+15550001111", body="hi")
    standin.sent_messages[0].form.getall("MediaUrl")
    await standin.send_inbound("+15550001111", "+15550002222", "yo", webhook_url=...)
    await standin.stop()

Served: ``Accounts/{Sid}.json`` (fetch; no token in it), ``Messages.json`` (create;
list with To/From filters and paging), ``Messages/{Sid}.json`` (fetch/delete),
``Messages/{Sid}/Media.json`` and ``Media/{MEsid}[.json]`` (bytes or metadata),
``IncomingPhoneNumbers.json`` (list, PhoneNumber/FriendlyName filters) and
``IncomingPhoneNumbers/{PNsid}.json`` (fetch; update SmsUrl...).  Every account path,
media included, needs Basic auth: Account SID + Auth Token, or API key SID + secret.

Error bodies use Twilio's legacy shape ``{"code", "message", "more_info", "status"}``
(twilio-python only sets ``TwilioRestException.code`` from that shape).  Codes come
from Twilio's public error pages (twilio.com/docs/api/errors/<code>):
20003 (401 "Authenticate" + ``detail``, as quoted from live responses), 20404
(unknown resource), 20004 (method), 21604 (no To), 21603 (no From and no
MessagingServiceSid), 21619 (no Body and no MediaUrl; Twilio also documents 21602
for this), 21617 (Body > 1600 UTF-16 units), 21623 (> 10 MediaUrl), 21620 (MediaUrl
not http/https), 21609 (bad StatusCallback; underscore in host), 21211 (To not
E.164), 21705 (unknown or malformed Messaging Service), 21606 (From not a number of
the account), 21610 (recipient opted out).  Texts other than 20003's are close to,
not guaranteed identical with, the live API's wording.  Status callbacks use 300xx
delivery codes (30003 by default for ``undelivered``, 30008 for ``failed``).

Choices where Twilio's behaviour is not pinned down: MMS (any MediaUrl) SIDs start
``MM``; ``failed`` goes straight to the callback without ``sent``; webhooks are retried
on connection errors and 5xx (``callback_retries``, default 1) with the same
``I-Twilio-Idempotency-Token`` (a UUID5 of the event); injected errors apply to
creates only and are checked before validation.
"""

from __future__ import annotations

from .errors import TwilioApiError
from .inbound import InboundResult
from .standin import TwilioStandIn
from .state import CreateRequest, Message, RecordedRequest, WebhookAttempt
from .webhooks import compute_signature

__all__ = [
    "CreateRequest",
    "InboundResult",
    "Message",
    "RecordedRequest",
    "TwilioApiError",
    "TwilioStandIn",
    "WebhookAttempt",
    "compute_signature",
]
