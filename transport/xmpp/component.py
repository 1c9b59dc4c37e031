"""The slixmpp component: one stream to the XMPP server that never gives up.

slixmpp reconnects only while the first TCP connection fails; once an established stream
drops it stops. This subclass reconnects forever with capped exponential backoff, keeps the
link checked with XEP-0199 pings, and exposes ``online`` so the delivery queues know when
writing to the stream makes sense.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from slixmpp import JID, ComponentXMPP, Iq, Message, Presence
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream.xmlstream import NotConnectedError

from transport import SOFTWARE_NAME, __version__
from transport.xmpp import tcp_ack
from transport.xmpp.address_guard import addresses_valid, refuse
from transport.xmpp.iq_guard import GuardedIq
from transport.xmpp.xmlchars import legal_xml_bytes

log = logging.getLogger(__name__)
# slixmpp's stream logger: the raw stream log keeps its usual name (and any filter on it).
stream_log = logging.getLogger("slixmpp.xmlstream.xmlstream")

PLUGINS = [
    "xep_0004",
    "xep_0030",
    "xep_0050",
    "xep_0059",
    "xep_0066",
    "xep_0092",
    "xep_0106",
    "xep_0184",
    "xep_0199",
    "xep_0203",
    "xep_0334",
    "xep_0359",
]


# slixmpp's handlers that turn stanzas into events nothing here listens to ("message",
# "message_error", "message_form", "receipt_received", "receipt_request", and XEP-0066's
# IQ-based transfers, which the gateway does not offer): the stanza plugins stay.
UNUSED_HANDLERS = ("IM", "IMError", "Data Form", "Message Receipt",
                   "Message Receipt Request", "OOB Transfer")


class GatewayComponent(ComponentXMPP):
    """An XEP-0114 component with reconnect, keepalive and an ``online`` flag."""

    def __init__(
        self,
        jid: str,
        secret: str,
        host: str,
        port: int,
        *,
        reconnect_max_delay: float = 10.0,
        keepalive_interval: float = 60.0,
        ping_timeout: float = 10.0,
        answer_deadline: float = 60.0,
    ) -> None:
        super().__init__(
            jid,
            secret,
            host,
            port,
            plugin_whitelist=PLUGINS,
            plugin_config={
                "xep_0092": {"software_name": SOFTWARE_NAME, "version": __version__},
                "xep_0184": {"auto_ack": False, "auto_request": False},
                "xep_0199": {"keepalive": False},
            },
            fix_error_ns=True,
        )
        self.register_plugins()
        # Incoming IQs answer for themselves, exactly once (see iq_guard).
        self.remove_stanza(Iq)
        self.register_stanza(GuardedIq)
        self._drop_memory_roster()
        self._drop_unused_message_handlers()
        self.server_domain = jid.partition(".")[2] or jid
        self.address = (host, port)
        self.online = asyncio.Event()
        self.reconnect_max_delay = reconnect_max_delay
        self.keepalive_interval = keepalive_interval
        self.ping_timeout = ping_timeout
        # Longer than any handler legitimately waits (an IRC LIST gives up after 30 s).
        self.answer_deadline = answer_deadline
        self._stopping = False
        self._failures = 0
        self._keepalive_task: asyncio.Task[None] | None = None
        #: The stream's TCP socket while connected, for prompt ACKs (see tcp_ack).
        self._ack_socket: Any | None = None
        self.add_event_handler("session_start", self._on_session_start)
        self.add_event_handler("disconnected", self._on_disconnected)
        self.add_event_handler("stream_error", self._on_stream_error)
        self.add_event_handler("connection_failed", self._on_connection_failed)

    def _drop_memory_roster(self) -> None:
        """The store is the roster: detach slixmpp's in-memory one.

        It answers probes for pairs it has not seen (every pair after a restart) with
        ``unsubscribed``, which would wipe users' contacts, and it grows by one entry per
        user and contact it ever heard from. Its outgoing filter would also keep the last
        presence sent from each of our JIDs to each user (a stanza and a roster item per
        room and occupant a user ever saw), for a probe answer the store gives instead.
        """
        self.del_filter("out", self.roster._save_last_status)
        self.del_event_handler("presence_probe", self._handle_probe)
        for event in ("presence_available", "presence_dnd", "presence_xa", "presence_chat",
                      "presence_away"):
            self.del_event_handler(event, self._handle_available)
        self.del_event_handler("presence_unavailable", self._handle_unavailable)
        self.del_event_handler("presence_subscribe", self._handle_subscribe)
        self.del_event_handler("presence_subscribed", self._handle_subscribed)
        self.del_event_handler("presence_unsubscribe", self._handle_unsubscribe)
        self.del_event_handler("presence_unsubscribed", self._handle_unsubscribed)
        self.del_event_handler("roster_subscription_request", self._handle_new_subscription)

    def _drop_unused_message_handlers(self) -> None:
        """Every incoming stanza is matched against every handler; these only raise
        events nothing here listens to (the gateway routes messages with its own handler),
        so each relayed message would pay for them for nothing."""
        for name in UNUSED_HANDLERS:
            self.remove_handler(name)

    def recv_stanza(self, stanza: Any) -> None:
        """Dispatch, after the checks every handler takes for granted: IQs see iq_guard;
        messages and presences with invalid addresses see address_guard."""
        if isinstance(stanza, GuardedIq):
            if not stanza.admissible():
                return
            stanza.arm(self.loop, self.answer_deadline)
        elif isinstance(stanza, Message | Presence) and not addresses_valid(stanza):
            refuse(self, stanza)
            return
        super().recv_stanza(stanza)

    def connection_made(self, transport: Any, send_event: bool = True) -> None:
        """Tune the new stream's socket so latency does not hang on the server's Nagle."""
        sock = tcp_ack.stream_socket(transport)
        self._ack_socket = sock if sock is not None and tcp_ack.tune(sock) else None
        super().connection_made(transport, send_event)

    def data_received(self, data: bytes | str) -> None:
        """Acknowledge the read at once (the server may be holding its next stanza for
        that ACK), then parse it."""
        if self._ack_socket is not None:
            tcp_ack.acknowledge_now(self._ack_socket)
        super().data_received(data)

    def connection_lost(self, exception: BaseException | None) -> None:
        """The socket goes with the stream; a reconnect tunes the next one."""
        self._ack_socket = None
        super().connection_lost(exception)

    def send(self, data: Any, use_filters: bool = True) -> None:
        """Queue a stanza; a second answer to one IQ stops here (see iq_guard)."""
        if isinstance(data, GuardedIq) and not data.may_leave():
            return
        super().send(data, use_filters)

    def send_raw(self, data: str | bytes) -> None:
        """Write to the stream, every character made legal XML 1.0 on the way out.

        Everything leaves through here: stanza objects (serialized by the send queue), the
        delivery pump's rendered batches and the stream header alike, so one guard covers
        every field, present and future. slixmpp's own ``send_raw`` would encode the text
        again; this one encodes once (see ``xmlchars``).
        """
        if isinstance(data, str):
            data = legal_xml_bytes(data)
        if stream_log.isEnabledFor(logging.DEBUG):
            stream_log.debug("SEND: %s", data.decode("utf-8", "replace"))
        if not self.transport:
            raise NotConnectedError()
        self.transport.write(data)

    def start(self) -> None:
        """Begin connecting; returns at once, the stream comes up in the background."""
        self._stopping = False
        self.connect(self.address[0], self.address[1])


    def reschedule_connection_attempt(self) -> asyncio.Future[Any] | None:
        """Cap slixmpp's connect backoff (300 s upstream) at ``reconnect_max_delay``."""
        self._connect_loop_wait = min(self.reconnect_max_delay, self._connect_loop_wait)
        result: asyncio.Future[Any] | None = super().reschedule_connection_attempt()
        self._connect_loop_wait = min(self.reconnect_max_delay, self._connect_loop_wait)
        return result

    async def stop(self, timeout: float = 3.0) -> None:
        """Close the stream cleanly and stop reconnecting."""
        self._stopping = True
        self.cancel_connection_attempt()
        self._cancel_keepalive()
        if self.transport is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.disconnect(wait=timeout), timeout + 1)
        self.online.clear()

    async def barrier(self, domain: str) -> bool:
        """Return once the server has processed everything sent before this call.

        The server handles one component stream in order, so the answer to a ping sent now
        (result or error alike) proves the earlier stanzas were routed. False on timeout.
        """
        try:
            await self.plugin["xep_0199"].send_ping(
                JID(domain), ifrom=self.boundjid, timeout=self.ping_timeout
            )
        except IqError:
            return True
        except IqTimeout:
            return False
        return True

    def _on_session_start(self, _event: Any) -> None:
        log.info("Component %s connected to %s:%s", self.boundjid, *self.address)
        self._failures = 0
        self.online.set()
        self._cancel_keepalive()
        self._keepalive_task = asyncio.ensure_future(self._keepalive())

    async def _on_disconnected(self, reason: Any) -> None:
        was_online = self.online.is_set()
        self.online.clear()
        self._cancel_keepalive()
        if self._stopping:
            return
        self._failures += 1
        delay = min(self.reconnect_max_delay, 0.25 * 2 ** min(self._failures, 16))
        if was_online:
            log.warning("Component %s lost its stream (%s)", self.boundjid, reason or "closed")
        log.info("Component %s reconnecting in %.1f s", self.boundjid, delay)
        await asyncio.sleep(delay)
        if not self._stopping and self.transport is None:
            self.connect(*self.address)

    def _on_stream_error(self, error: Any) -> None:
        log.error(
            "Component %s: the server closed the stream: %s %s",
            self.boundjid,
            error["condition"],
            error["text"] or "",
        )

    def _on_connection_failed(self, error: Any) -> None:
        log.warning("Component %s cannot reach %s:%s: %s", self.boundjid, *self.address, error)

    def _cancel_keepalive(self) -> None:
        if self._keepalive_task is not None:
            self._keepalive_task.cancel()
            self._keepalive_task = None

    async def _keepalive(self) -> None:
        """Ping the server; a timeout means a half-open link, so drop it and reconnect."""
        while self.online.is_set():
            await asyncio.sleep(self.keepalive_interval)
            if not await self.barrier(self.server_domain):
                log.warning("Component %s: keepalive ping timed out", self.boundjid)
                self.abort()
                return
