"""Network side of the IRC backend: lines, casemapping, pacing and one connection per user.

Nothing here knows XMPP; the IRC backend builds on these pieces.
"""

from .caps import DEFAULT_CAPS, CapNegotiator
from .casemap import ISupport, casefold
from .connection import IrcConnection
from .errors import IrcConnectionError, IrcError, IrcNotConnected
from .events import Connected, Disconnected, Event, IrcEvent, Registered
from .lines import (
    check_line,
    make_ctcp,
    make_notice,
    make_privmsg,
    prefix_len_for,
    sanitize,
    split_for_irc,
    truncate_utf8,
)
from .options import ConnectionOptions
from .ratelimit import TokenBucket
from .state import ClientState, append_underscore, greeting

__all__ = [
    "DEFAULT_CAPS",
    "CapNegotiator",
    "ClientState",
    "Connected",
    "ConnectionOptions",
    "Disconnected",
    "Event",
    "ISupport",
    "IrcConnection",
    "IrcConnectionError",
    "IrcError",
    "IrcEvent",
    "IrcNotConnected",
    "Registered",
    "TokenBucket",
    "append_underscore",
    "casefold",
    "check_line",
    "greeting",
    "make_ctcp",
    "make_notice",
    "make_privmsg",
    "prefix_len_for",
    "sanitize",
    "split_for_irc",
    "truncate_utf8",
]
