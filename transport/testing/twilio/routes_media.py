"""Media of inbound MMS: ``.../Messages/{MessageSid}/Media[/{MediaSid}[.json]]``.

Twilio enforces HTTP Basic auth on media URLs (the middleware does that here too), so
a gateway must fetch with its credentials and re-host instead of handing the URL on.
With ``media_redirect`` the authenticated GET answers 307 to an unauthenticated,
per-request "CDN" URL, as Twilio's S3 redirect does; clients must follow it and must
not need the Authorization header there.
"""

from __future__ import annotations

import secrets

from aiohttp import web

from .context import CONTEXT
from .errors import not_found
from .resources import account_uri, media_json, page_json, page_params
from .routes_messages import find_message
from .state import Media

routes = web.RouteTableDef()
BASE = "/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media"


def find_media(request: web.Request) -> tuple[Media, bool]:
    """(media, wants_json) for ``{media_sid}`` or ``{media_sid}.json``."""
    msg = find_message(request)
    name = request.match_info["media"]
    as_json = name.endswith(".json")
    media_sid = name.removesuffix(".json")
    for media in msg.media:
        if media.sid == media_sid:
            return media, as_json
    raise not_found(request.path)


@routes.get(BASE + ".json")
async def list_media(request: web.Request) -> web.Response:
    msg = find_message(request)
    page, size = page_params(request.query)
    chunk = msg.media[page * size : (page + 1) * size]
    return web.json_response(
        page_json(
            "media_list",
            [media_json(m) for m in chunk],
            path=f"{account_uri(msg.account_sid)}/Messages/{msg.sid}/Media.json",
            filters=[],
            page=page,
            page_size=size,
            has_next=len(msg.media) > (page + 1) * size,
        )
    )


@routes.get(BASE + "/{media}")
async def fetch_media(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    media, as_json = find_media(request)
    if as_json:
        return web.json_response(media_json(media))
    if ctx.media_redirect:
        token = secrets.token_urlsafe(16)
        ctx.cdn[token] = media.sid
        return web.Response(status=307, headers={"Location": f"{ctx.base_url}/_cdn/{token}"})
    return web.Response(body=media.data, content_type=media.content_type)


@routes.delete(BASE + "/{media}")
async def delete_media(request: web.Request) -> web.Response:
    media, _ = find_media(request)
    msg = find_message(request)
    msg.media.remove(media)
    return web.Response(status=204)


@routes.get("/_cdn/{token}")
async def cdn(request: web.Request) -> web.Response:
    """The unauthenticated redirect target; each token works once."""
    ctx = request.app[CONTEXT]
    media_sid = ctx.cdn.pop(request.match_info["token"], None)
    for msg in ctx.state.messages.values():
        for media in msg.media:
            if media.sid == media_sid:
                return web.Response(body=media.data, content_type=media.content_type)
    raise web.HTTPNotFound()
