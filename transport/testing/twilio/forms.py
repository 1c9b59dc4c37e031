"""Reading a POSTed form as text, order and repeated keys (``MediaUrl``) preserved."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy

from .state import frozen_form

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_form(request: web.Request) -> MultiDictProxy[str]:
    """The form fields (empty for non-form requests); aiohttp caches the parse."""
    if request.method != "POST" or request.content_type not in FORM_TYPES:
        return frozen_form([])
    posted = await request.post()
    pairs = [
        (k, v if isinstance(v, str) else str(getattr(v, "filename", v))) for k, v in posted.items()
    ]
    return frozen_form(pairs)
