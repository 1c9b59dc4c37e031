"""``POST /_standin/inbound``: lets the demo "text" a number of a running stand-in.

Tests call ``TwilioStandIn.send_inbound`` directly; this route exists only so the CLI
(``python -m transport.testing.twilio send-inbound``) can reach a stand-in running in
another process.  It requires the Basic credentials of the account that owns ``to``.
JSON body: ``{"to", "from", "body", "media": [{"content_type", "data_base64"}],
"webhook_url", "sign_url"}``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web

import transport.testing.twilio.auth as auth

from .context import CONTEXT
from .errors import TwilioApiError
from .inbound import send_inbound

routes = web.RouteTableDef()


def _bad_request(text: str) -> TwilioApiError:
    return TwilioApiError(400, 20001, text)


def _media(doc: dict[str, Any]) -> list[tuple[bytes, str]]:
    items = doc.get("media") or []
    try:
        return [(base64.b64decode(m["data_base64"]), str(m["content_type"])) for m in items]
    except (KeyError, TypeError, binascii.Error) as exc:
        raise _bad_request(f"bad media item: {exc}") from None


@routes.post("/_standin/inbound")
async def control_inbound(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    try:
        doc = await request.json()
        to, from_ = str(doc["to"]), str(doc["from"])
    except (ValueError, KeyError, TypeError):
        raise _bad_request("expected JSON with 'to' and 'from'") from None
    number = ctx.state.number_by_e164(to)
    if number is None:
        raise _bad_request(f"{to} is not a stand-in number")
    auth.check(request, ctx.state, number.account_sid)
    try:
        result = await send_inbound(
            ctx,
            to,
            from_,
            str(doc.get("body", "")),
            _media(doc),
            webhook_url=doc.get("webhook_url"),
            sign_url=doc.get("sign_url"),
        )
    except ValueError as exc:
        raise _bad_request(str(exc)) from None
    return web.json_response(
        {
            "message_sid": result.message_sid,
            "status": result.status,
            "body": result.body,
            "error": result.error,
        }
    )
