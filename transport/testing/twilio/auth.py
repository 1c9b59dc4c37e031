"""HTTP Basic authentication the way the v2010 API applies it.

Username is the Account SID (password: its Auth Token) or an API key SID ``SK...``
(password: the key secret).  The credentials must belong to the account in the URL;
anything else is 401/20003.  Only the username is ever recorded.
"""

from __future__ import annotations

import hmac
import re

from aiohttp import BasicAuth, hdrs, web

from .errors import authenticate
from .state import StandInState

ACCOUNT_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/.]+)(?:\.json)?(?:/|$)")


def username_of(request: web.Request) -> str | None:
    """The Basic-auth username, for logs (never the password)."""
    header = request.headers.get(hdrs.AUTHORIZATION)
    if not header:
        return None
    try:
        return str(BasicAuth.decode(header).login)
    except ValueError:
        return None


def path_account(path: str) -> str | None:
    """The Account SID a v2010 path addresses, or None for non-account paths."""
    match = ACCOUNT_PATH.match(path)
    return match.group("sid") if match else None


def check(request: web.Request, state: StandInState, account_sid: str) -> str:
    """Return the authenticated username or raise 401/20003."""
    header = request.headers.get(hdrs.AUTHORIZATION)
    if not header:
        raise authenticate()
    try:
        creds = BasicAuth.decode(header)
    except ValueError:
        raise authenticate() from None
    known = state.token_for(creds.login)
    if known is None:
        raise authenticate()
    owner, secret = known
    if not hmac.compare_digest(secret.encode(), creds.password.encode()):
        raise authenticate()
    if owner != account_sid:
        raise authenticate()
    return str(creds.login)
