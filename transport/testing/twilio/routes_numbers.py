"""``/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers``: list, fetch, update.

Update accepts ``SmsUrl``/``SmsMethod``/``FriendlyName``/``StatusCallback`` so a
gateway that configures its own webhook at start-up can be tested; ``send_inbound``
then posts to the configured ``sms_url`` by default, as Twilio would.
"""

from __future__ import annotations

import re

from aiohttp import web

from .context import CONTEXT
from .errors import not_found
from .forms import read_form
from .resources import account_uri, number_json, page_json, page_params
from .state import PhoneNumber, utcnow

routes = web.RouteTableDef()
BASE = "/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers"
LIST_FILTERS = ("PhoneNumber", "FriendlyName")
UPDATABLE = {
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
    "FriendlyName": "friendly_name",
    "StatusCallback": "status_callback",
}


def _find(request: web.Request) -> PhoneNumber:
    num = request.app[CONTEXT].state.numbers.get(request.match_info["number_sid"])
    if num is None or num.account_sid != request.match_info["account_sid"]:
        raise not_found(request.path)
    return num


def _matches(num: PhoneNumber, wanted: dict[str, str]) -> bool:
    """``PhoneNumber`` matches partially with ``*`` for any digit; ``FriendlyName`` exactly."""
    phone = re.escape(wanted.get("PhoneNumber", "").strip()).replace(r"\*", r"\d")
    name = wanted.get("FriendlyName")
    return re.search(phone, num.phone_number) is not None and name in (None, num.friendly_name)


@routes.get(BASE + ".json")
async def list_numbers(request: web.Request) -> web.Response:
    state = request.app[CONTEXT].state
    account_sid = request.match_info["account_sid"]
    filters = [(k, request.query[k]) for k in LIST_FILTERS if k in request.query]
    found = [n for n in state.account_numbers(account_sid) if _matches(n, dict(filters))]
    page, size = page_params(request.query)
    chunk = found[page * size : (page + 1) * size]
    return web.json_response(
        page_json(
            "incoming_phone_numbers",
            [number_json(n) for n in chunk],
            path=f"{account_uri(account_sid)}/IncomingPhoneNumbers.json",
            filters=filters,
            page=page,
            page_size=size,
            has_next=len(found) > (page + 1) * size,
        )
    )


@routes.get(BASE + "/{number_sid}.json")
async def fetch_number(request: web.Request) -> web.Response:
    return web.json_response(number_json(_find(request)))


@routes.post(BASE + "/{number_sid}.json")
async def update_number(request: web.Request) -> web.Response:
    num = _find(request)
    form = await read_form(request)
    for field_name, attr in UPDATABLE.items():
        if field_name in form:
            setattr(num, attr, form[field_name])
    num.date_updated = utcnow()
    return web.json_response(number_json(num))
