"""``nick!user@host``, the source of an IRC line.

Same behaviour as jaraco's ``irc.client.NickMask`` (which the tests keep as an oracle), but
importing ``irc.client`` costs the process about 5 MiB of modules (dateutil, tempora, ctypes,
decimal...) for this one class.
"""

from __future__ import annotations


class NickMask(str):
    """A source prefix; the parts are ``None`` when the server sent a bare name."""

    __slots__ = ()

    @property
    def nick(self) -> str:
        return self.partition("!")[0]

    @property
    def userhost(self) -> str | None:
        return self.partition("!")[2] or None

    @property
    def user(self) -> str | None:
        return self.partition("!")[2].partition("@")[0] or None

    @property
    def host(self) -> str | None:
        return self.partition("!")[2].partition("@")[2] or None
