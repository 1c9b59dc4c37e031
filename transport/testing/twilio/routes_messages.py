"""``/2010-04-01/Accounts/{AccountSid}/Messages``: create, list, fetch, delete."""

from __future__ import annotations

from aiohttp import web

from .context import CONTEXT
from .errors import TwilioApiError, not_found
from .forms import read_form
from .resources import account_uri, message_json, page_json, page_params
from .state import CreateRequest, Message
from .validation import build_outbound

routes = web.RouteTableDef()
BASE = "/2010-04-01/Accounts/{account_sid}/Messages"
LIST_FILTERS = ("To", "From")


def find_message(request: web.Request) -> Message:
    """The addressed message of the addressed account, or 404/20404."""
    state = request.app[CONTEXT].state
    msg = state.messages.get(request.match_info["message_sid"])
    if msg is None or msg.account_sid != request.match_info["account_sid"]:
        raise not_found(request.path)
    return msg


@routes.post(BASE + ".json")
async def create_message(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    state = ctx.state
    account_sid = request.match_info["account_sid"]
    form = await read_form(request)
    try:
        injected = state.take_injected(form.get("To"))
        if injected is not None:
            raise TwilioApiError(injected.status, injected.code, injected.message)
        msg = build_outbound(state, account_sid, form, ctx.max_media)
    except TwilioApiError as err:
        state.create_attempts.append(CreateRequest(account_sid, form, None, err.status, err.code))
        raise
    state.messages[msg.sid] = msg
    state.create_attempts.append(CreateRequest(account_sid, form, msg.sid, 201))
    response = web.json_response(message_json(msg), status=201)
    # Put the 201 on the wire before any callback can start, like a real API would.
    await response.prepare(request)
    await response.write_eof()
    ctx.progression.start(msg)
    return response


@routes.get(BASE + ".json")
async def list_messages(request: web.Request) -> web.Response:
    state = request.app[CONTEXT].state
    account_sid = request.match_info["account_sid"]
    filters = [(k, request.query[k]) for k in LIST_FILTERS if k in request.query]
    wanted = dict(filters)
    found = [
        m
        for m in state.account_messages(account_sid)
        if wanted.get("To", m.to) == m.to and wanted.get("From", m.from_) == m.from_
    ]
    page, size = page_params(request.query)
    chunk = found[page * size : (page + 1) * size]
    return web.json_response(
        page_json(
            "messages",
            [message_json(m) for m in chunk],
            path=f"{account_uri(account_sid)}/Messages.json",
            filters=filters,
            page=page,
            page_size=size,
            has_next=len(found) > (page + 1) * size,
        )
    )


@routes.get(BASE + "/{message_sid}.json")
async def fetch_message(request: web.Request) -> web.Response:
    return web.json_response(message_json(find_message(request)))


@routes.delete(BASE + "/{message_sid}.json")
async def delete_message(request: web.Request) -> web.Response:
    """Deleting a message also deletes its media, as on Twilio."""
    msg = find_message(request)
    state = request.app[CONTEXT].state
    del state.messages[msg.sid]
    return web.Response(status=204)
