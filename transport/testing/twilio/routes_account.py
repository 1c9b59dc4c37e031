"""``GET /2010-04-01/Accounts/{AccountSid}.json``: the cheapest credential check.

Gateways often verify a user's Twilio credentials at registration by fetching the
account; the resource is rendered without ``auth_token`` so no secret ever leaves.
"""

from __future__ import annotations

from aiohttp import web

from .resources import account_uri

routes = web.RouteTableDef()


@routes.get("/2010-04-01/Accounts/{account_sid}.json")
async def fetch_account(request: web.Request) -> web.Response:
    sid = request.match_info["account_sid"]
    uri = account_uri(sid)
    return web.json_response(
        {
            "auth_token": None,
            "date_created": None,
            "date_updated": None,
            "friendly_name": "Twilio stand-in account",
            "owner_account_sid": sid,
            "sid": sid,
            "status": "active",
            "subresource_uris": {
                "messages": f"{uri}/Messages.json",
                "incoming_phone_numbers": f"{uri}/IncomingPhoneNumbers.json",
            },
            "type": "Full",
            "uri": f"{uri}.json",
        }
    )
