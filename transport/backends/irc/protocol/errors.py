"""Errors of the IRC protocol layer (the backend maps them to gateway errors)."""

from __future__ import annotations


class IrcError(Exception):
    """Base class for the IRC protocol layer."""


class IrcConnectionError(IrcError):
    """The connection could not be made, was refused, or broke before registration."""


class IrcNotConnected(IrcError):
    """A line could not be sent: the connection is (or went) down before it was written."""
