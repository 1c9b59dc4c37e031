"""The aiohttp application: middleware (auth, Twilio errors, request log) + routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

import transport.testing.twilio.auth as auth
import transport.testing.twilio.routes_account as routes_account
import transport.testing.twilio.routes_control as routes_control
import transport.testing.twilio.routes_media as routes_media
import transport.testing.twilio.routes_messages as routes_messages
import transport.testing.twilio.routes_numbers as routes_numbers

from .context import CONTEXT, StandInContext
from .errors import TwilioApiError, method_not_allowed, not_found
from .forms import read_form
from .state import RecordedRequest, new_sid

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REDACTED = ("authorization",)


def _log(request: web.Request, form: MultiDictProxy[str], status: int) -> None:
    headers = {
        k: ("<redacted>" if k.lower() in REDACTED else v) for k, v in request.headers.items()
    }
    request.app[CONTEXT].state.requests.append(
        RecordedRequest(
            method=request.method,
            path=request.path,
            query=MultiDictProxy(MultiDict(request.query)),
            headers=headers,
            form=form,
            auth_user=auth.username_of(request),
            status=status,
        )
    )


@web.middleware
async def twilio_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate account paths, render failures as Twilio JSON, log everything."""
    ctx = request.app[CONTEXT]
    form = await read_form(request)
    try:
        account_sid = auth.path_account(request.path)
        if account_sid is not None:
            auth.check(request, ctx.state, account_sid)
        response = await handler(request)
    except TwilioApiError as err:
        response = err.response()
    except web.HTTPNotFound:
        response = not_found(request.path).response()
    except web.HTTPMethodNotAllowed:
        response = method_not_allowed(request.method).response()
    _log(request, form, response.status)
    return response


async def _request_id(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Twilio-Request-Id", new_sid("RQ"))
    response.headers.setdefault("Twilio-Request-Duration", "0.010")


def build_app(ctx: StandInContext) -> web.Application:
    """A fresh application bound to ``ctx``."""
    app = web.Application(middlewares=[twilio_middleware])
    app[CONTEXT] = ctx
    app.on_response_prepare.append(_request_id)
    for module in (routes_account, routes_messages, routes_media, routes_numbers, routes_control):
        app.router.add_routes(module.routes)
    return app
