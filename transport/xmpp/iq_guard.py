"""Every IQ get/set the component receives is answered exactly once, whatever its payload.

biboumi answers each iq from a scope guard that fires unless the handler answered; here
the received ``<iq/>`` itself is that guard. The component builds incoming IQs as
``GuardedIq`` (its root stanza class for ``iq``), and slixmpp hands every handler
exception, and every IQ no handler takes, back to the stanza:

- a handler exception becomes ``internal-server-error``; an ``XMPPError`` keeps its
  condition (``bad-request`` where the payload broke its schema);
- an IQ get/set no handler takes gets ``service-unavailable``, or
  ``feature-not-implemented`` when its namespace is one the component knows;
- an IQ whose ``to``/``from`` fails JID preparation gets ``jid-malformed`` before any
  handler sees it, and one nested deeper than ``MAX_DEPTH`` gets ``bad-request``
  (slixmpp copies and serializes payloads recursively);
- a second answer to the same request is dropped, and an error answer carries only the
  ``<error/>``, never the request's payload;
- results and errors nobody waits for are ignored;
- and should a handler take an IQ and never answer it, the component answers
  ``remote-server-timeout`` once ``answer_deadline`` has passed.

Replies are built from the request's attributes alone, so building one never walks the
payload.
"""

from __future__ import annotations

import asyncio
import logging
from xml.etree import ElementTree as ET

from slixmpp import JID, Iq
from slixmpp.exceptions import IqTimeout, XMPPError
from slixmpp.jid import InvalidJID

from transport.core.events import StanzaErrorInfo
from transport.xmpp.stanzas import set_error

log = logging.getLogger(__name__)

MAX_DEPTH = 64  # well past any real payload (a form in a command in an iq is 4 deep)
_REQUESTS = ("get", "set")


def nested_deeper_than(element: ET.Element, limit: int) -> bool:
    """Whether ``element`` has descendants more than ``limit`` levels down (no recursion)."""
    stack = [(element, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in node)
    return False


def error_for(exc: BaseException) -> tuple[StanzaErrorInfo, bool]:
    """The stanza error a handler exception becomes, and whether it was unexpected."""
    if isinstance(exc, XMPPError):
        return StanzaErrorInfo(exc.condition, exc.text or "", exc.etype), False
    if isinstance(exc, IqTimeout):
        return StanzaErrorInfo("remote-server-timeout", "A remote entity did not answer",
                               "wait"), False
    if isinstance(exc, InvalidJID):
        return StanzaErrorInfo("jid-malformed", "An address in the request is invalid",
                               "modify"), False
    return StanzaErrorInfo("internal-server-error", "The gateway could not handle this request"
                           ), True


class GuardedIq(Iq):
    """An incoming ``<iq/>`` that sees to its own single answer."""

    _answered = False
    _request: GuardedIq | None = None
    _deadline: asyncio.TimerHandle | None = None

    def admissible(self) -> bool:
        """Check what handlers take for granted; answer (or drop) the IQ when it fails."""
        try:
            JID(self._get_attr("to"))
            JID(self._get_attr("from"))
        except InvalidJID:
            return self._refuse(StanzaErrorInfo("jid-malformed", "Invalid address", "modify"))
        if nested_deeper_than(self.xml, MAX_DEPTH):
            return self._refuse(StanzaErrorInfo("bad-request", "Payload nested too deeply",
                                                "modify"))
        return True

    def arm(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        """Answer for the handlers if none of them has after ``seconds``."""
        if self._get_attr("type") in _REQUESTS:
            self._deadline = loop.call_later(seconds, self._expire, seconds)

    def _expire(self, seconds: float) -> None:
        self._deadline = None
        if not self._answered:
            # Mostly a legacy network that never answered; the handler may still be waiting.
            log.error("IQ %r from %s was not answered within %.0f s", self._get_attr("id"),
                      self._get_attr("from"), seconds)
            self._answer_error(StanzaErrorInfo("remote-server-timeout",
                                               "No answer came in time", "wait"))

    def _refuse(self, error: StanzaErrorInfo) -> bool:
        log.info("IQ %r from %r to %r refused: %s", self._get_attr("id"),
                 self._get_attr("from"), self._get_attr("to"), error.condition)
        if self._get_attr("type") in _REQUESTS:
            self._answer_error(error)
        return False

    def reply(self, clear: bool = True) -> GuardedIq:
        """A result addressed back; with ``clear`` it is built without touching the payload."""
        if clear:
            new = GuardedIq(stream=self.stream, xml=ET.Element(self.xml.tag))
            for name in ("id", "{http://www.w3.org/XML/1998/namespace}lang"):
                value = self.xml.get(name)
                if value is not None:
                    new.xml.set(name, value)
            for name, value in (("from", self._get_attr("to")), ("to", self._get_attr("from")),
                                ("type", "result")):
                if value:
                    new.xml.set(name, value)
        else:
            new = super().reply(clear=False)
        new._request = self
        return new

    def may_leave(self) -> bool:
        """Called by the component for every stanza it sends: is this answer the first?

        An answer goes out only if its request has none yet, and an error carries nothing
        but the ``<error/>``. Checked where stanzas leave, so an answer handed to
        ``xmpp.send`` directly counts as much as one sent with ``reply.send()``.
        """
        request = self._request
        if request is None or self._get_attr("type") not in ("result", "error"):
            return True
        if request._answered:
            log.warning("IQ %r from %s was answered already; a second answer is dropped",
                        request._get_attr("id"), request._get_attr("from"))
            return False
        request._answered = True
        if request._deadline is not None:
            request._deadline.cancel()
            request._deadline = None
        if self._get_attr("type") == "error":
            for child in list(self.xml):
                if child.tag.rpartition("}")[2] != "error":
                    self.xml.remove(child)
        return True

    def _answer_error(self, error: StanzaErrorInfo, extension: ET.Element | None = None) -> None:
        if self._answered:
            return
        reply = self.reply()
        set_error(reply, error)
        if extension is not None:
            reply["error"].xml.append(extension)
        reply.send()

    def exception(self, e: Exception) -> None:
        """A handler failed: answer once with the condition the failure stands for."""
        error, unexpected = error_for(e)
        if unexpected:
            log.error("Handling IQ %r from %s failed", self._get_attr("id"),
                      self._get_attr("from"), exc_info=e)
        extension = None
        if isinstance(e, XMPPError) and e.extension is not None:
            extension = ET.Element(f"{{{e.extension_ns}}}{e.extension}", e.extension_args or {})
        if self._get_attr("type") in _REQUESTS:
            self._answer_error(error, extension)

    def unhandled(self) -> None:
        """No handler took it: say whether the namespace is unknown or only the request."""
        if self._get_attr("type") not in _REQUESTS or self._answered:
            return
        payload = next(iter(self.xml), None)
        if payload is not None and payload.tag in self.plugin_tag_map:
            self._answer_error(StanzaErrorInfo(
                "feature-not-implemented", "This request is not supported here"))
        else:
            self._answer_error(StanzaErrorInfo(
                "service-unavailable", "No service for this namespace here"))
