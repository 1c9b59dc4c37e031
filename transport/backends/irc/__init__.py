"""IRC backend: bridges XMPP users to IRC networks, modelled on biboumi."""

from transport.backends.irc.backend import IrcBackend

__all__ = ["IrcBackend"]
