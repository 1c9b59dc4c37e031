"""One IRC connection for one user: connect, negotiate, register, keep alive, send, report.

Built on our own asyncio protocol (:mod:`.wire`) and our ``NickMask`` rather than on
``irc.client_aio.AioConnection``: that class closes the link when a line has fewer
parameters than it expects (``PRIVMSG #a`` raises in ``data_received``), sends NICK/USER
before any ``CAP LS``, accepts CR in ``send_raw``, has no write back-pressure or "written"
notification, and its rate limit sleeps the whole loop.

One object is one connection attempt: reconnecting means making a new one."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable

from .caps import CapNegotiator
from .casemap import ISupport
from .errors import IrcConnectionError, IrcError, IrcNotConnected
from .events import Connected, Disconnected, Event, EventSink, IrcEvent, Registered
from .keepalive import Keepalive
from .lines import check_line, make_notice, make_privmsg, sanitize, truncate_utf8
from .lite import Flag
from .message import decode_line, parse_line
from .options import ConnectionOptions
from .pinning import fingerprint_of, normalize_fingerprint, pin_matches
from .ratelimit import TokenBucket
from .state import ClientState, greeting
from .wire import LineWire, open_wire, redact, ssl_context

log = logging.getLogger(__name__)

_CAP_COMMANDS = frozenset(
    {"CAP", "AUTHENTICATE", "001", "410", "421"} | {str(n) for n in range(900, 909)}
)
_WELCOME_BURST = frozenset({"001", "002", "003", "004", "005"})
_MOTD_END = frozenset({"376", "422"})


class IrcConnection:
    """Events go to ``on_event`` (called in order, on the loop) or, without it, to
    :meth:`events`."""

    __slots__ = ("_caps", "_closed", "_endpoint", "_error_text", "_fallback", "_greeting",
                 "_isupport_seen", "_me", "_pin", "_pinger", "_registered", "_sink", "_timer",
                 "_wire", "options", "state")

    def __init__(
        self,
        on_event: Callable[[Event], None] | None = None,
        options: ConnectionOptions | None = None,
    ) -> None:
        self.options = opts = options or ConnectionOptions()
        self._me = ClientState("", opts.nick_in_use, opts.max_nick_attempts)
        bucket = TokenBucket(opts.rate, opts.burst)
        self._wire = LineWire(
            self._on_made, self._on_line, self._on_lost, bucket, opts.max_line_bytes
        )
        # A stalled events() reader must not cost unbounded memory: stop reading meanwhile.
        self._sink = EventSink(on_event, self._wire.set_reading_paused)
        self._caps = CapNegotiator(opts.caps)
        self.state = "new"  # new, connecting, registering, registered, closed
        self._fallback = "latin-1"
        self._error_text: str | None = None
        self._registered: asyncio.Future[Registered] | None = None
        self._closed = Flag()
        self._pinger: Keepalive | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._endpoint: tuple[str, int, bool] = ("", 0, False)
        self._greeting: list[str] = []
        self._isupport_seen = False
        self._pin: str | None = None

    # Public API ---------------------------------------------------------------------------

    @property
    def caps(self) -> frozenset[str]:
        """Capabilities currently enabled."""
        enabled = self._caps.enabled
        return enabled if isinstance(enabled, frozenset) else frozenset(enabled)

    @property
    def account(self) -> str | None:
        return self._caps.account

    @property
    def nick(self) -> str:
        """Our current nick (follows 433 fallbacks and NICK changes)."""
        return self._me.nick

    @property
    def isupport(self) -> ISupport:
        return self._me.isupport

    @property
    def me(self) -> ClientState:
        """Our identity here: nick, ``mask`` (nick!user@host), ``server``, ``prefix_len``."""
        return self._me

    async def connect(
        self,
        host: str,
        port: int,
        nick: str,
        *,
        username: str | None = None,
        realname: str | None = None,
        password: str | None = None,
        tls: bool = False,
        verify_cert: bool = True,
        ca_file: str | None = None,
        sasl_plain: tuple[str, str] | None = None,
        sasl_required: bool = True,
        fallback_encoding: str = "latin-1",
        local_addr: tuple[str, int] | None = None,
        address: str | None = None,
        fingerprint: str | None = None,
    ) -> Registered:
        """Connect and register; return once the server accepted us and sent ISUPPORT.

        ``address`` is where the socket goes (one already vetted, so nothing resolves
        ``host`` again); ``host`` still names the server for TLS. With ``fingerprint`` (a
        SHA-256 or SHA-1 pin) the certificate must be that one, and nothing else about it
        is checked: nothing is written to a server whose certificate does not match.

        Raises :class:`IrcConnectionError` on failure (after a ``Disconnected`` event)."""
        if self.state != "new":
            raise IrcError("an IrcConnection connects only once")
        codecs.lookup(fallback_encoding)
        if fingerprint is not None:
            self._pin = normalize_fingerprint(fingerprint)
            verify_cert, ca_file = False, None
        self._caps = CapNegotiator(self.options.caps, sasl_plain, sasl_required)
        self._greeting = self._caps.start() + greeting(nick, username, realname, password)
        self._fallback = fallback_encoding
        self._me.nick = nick
        self._endpoint = (host, port, tls)
        self.state = "connecting"
        loop = asyncio.get_running_loop()
        self._registered = loop.create_future()
        deadline = loop.time() + self.options.register_timeout
        try:
            async with asyncio.timeout(self.options.connect_timeout):
                # Loading a trust store reads files: do it off the loop (cached afterwards).
                ctx = await asyncio.to_thread(ssl_context, verify_cert, ca_file) if tls else None
                await open_wire(self._wire, host, port, ctx, local_addr, address)
            async with asyncio.timeout_at(deadline):
                registered = await asyncio.shield(self._registered)
            self._registered = None  # the connection lives on: let the event go
            return registered
        except (OSError, TimeoutError, IrcError) as exc:
            phase = "connection" if self.state == "connecting" else "registration"
            timed_out = isinstance(exc, TimeoutError)
            reason = f"{phase} timed out" if timed_out else str(exc) or type(exc).__name__
            self._finish(reason, exc)
            if isinstance(exc, IrcConnectionError):
                raise
            raise IrcConnectionError(reason) from exc
        except asyncio.CancelledError:
            self._finish("connect cancelled", None)
            raise

    def enqueue(self, line: str | bytes, *, throttle: bool = True) -> asyncio.Future[None]:
        """Queue one raw line; the future resolves when it is written to the socket.

        Lines wait for registration, then go out in order, paced by the token bucket. With
        ``throttle`` false a line skips both once registered: it is written at once, ahead
        of any paced backlog. CR, LF, NUL or an overlong line raise ``ValueError``.
        """
        data = check_line(line, self.isupport.linelen)
        if self.state in ("new", "closed"):
            raise IrcNotConnected("not connected")
        return self._wire.enqueue(data, throttle)

    def enqueue_background(self, line: str | bytes, limit: int) -> bool:
        """Queue a line the client sends on its own (a CTCP reply) behind every other line;
        False when it was dropped (not connected, or ``limit`` such lines already wait)."""
        if self.state in ("new", "closed"):
            return False
        return self._wire.enqueue_background(check_line(line, self.isupport.linelen), limit)

    async def send_line(self, line: str | bytes, *, throttle: bool = True) -> None:
        """Send one raw line and wait until it is written."""
        await self.enqueue(line, throttle=throttle)

    async def privmsg(self, target: str, text: str, *, notice: bool = False) -> int:
        """Send ``text`` (split and sanitised) to a channel or nick; returns lines sent."""
        build = make_notice if notice else make_privmsg
        lines = build(target, text, self._me.prefix_len, self.isupport.linelen)
        await asyncio.gather(*[self.enqueue(line) for line in lines])
        return len(lines)

    async def quit(self, reason: str = "", timeout: float = 2.0) -> None:
        """Send QUIT at once (queued lines are dropped) and wait for the server to close."""
        if self.state in ("new", "closed"):
            return
        self._wire.fail_pending(IrcNotConnected("quit"))
        text = " ".join(sanitize(reason))
        with contextlib.suppress(IrcNotConnected):
            self._write(f"QUIT :{truncate_utf8(text, 400)}")
        try:
            async with asyncio.timeout(timeout):
                await self._closed.wait()
        except TimeoutError:
            self.close(f"quit: {text}")

    def close(self, reason: str = "closed by client") -> None:
        """Drop the connection now, without QUIT."""
        self._finish(reason, None)

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def events(self) -> AsyncIterator[Event]:
        """Every event in order, ending after ``Disconnected`` (only without ``on_event``)."""
        return self._sink.stream()

    # Internals ------------------------------------------------------------------------------

    def _write(self, line: str) -> None:
        self._wire.write_now(check_line(line, self.isupport.linelen))

    def _on_made(self) -> None:
        """Runs inside connection_made, so nothing the server says can precede it."""
        if self._pin is not None and self._endpoint[2] and not self._pinned_certificate():
            return
        self.state = "registering"
        self._sink.emit(Connected(*self._endpoint))
        greeting, self._greeting = self._greeting, []
        for line in greeting:
            self._write(line)

    def _pinned_certificate(self) -> bool:
        """Whether the server's certificate is the pinned one; if not, fail at once."""
        assert self._pin is not None
        transport = self._wire.transport
        tls = transport.get_extra_info("ssl_object") if transport is not None else None
        der = tls.getpeercert(binary_form=True) if tls is not None else None
        if pin_matches(der, self._pin):
            return True
        seen = fingerprint_of(der, self._pin) if der else "none"
        self._fail(f"certificate fingerprint mismatch (the server's is {seen}, "
                   f"not the pinned {self._pin})", ssl.SSLError("fingerprint mismatch"))
        return False

    def _on_line(self, data: bytes, truncated: bool) -> None:
        text = decode_line(data, self._fallback, truncated)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("<< %s", redact(text))
        event = parse_line(text, tags_enabled=self._caps.tags_enabled, truncated=truncated)
        if event is None:
            return
        with self._sink.holding():
            try:
                self._handle(event)
            except IrcNotConnected:
                pass
            except Exception:
                log.exception("error handling IRC %s line", event.command)
            self._sink.emit(event)

    def _handle(self, ev: IrcEvent) -> None:
        cmd = ev.command
        if cmd == "PING":
            self._write(f"PONG :{truncate_utf8(ev.param(0), 400)}")
        elif cmd == "ERROR":
            self._error_text = ev.param(-1) or "ERROR"
        if cmd in _CAP_COMMANDS:
            cap_step = self._caps.handle(ev)
            for line in cap_step.send:
                self._write(line)
            if cap_step.error:
                self._fail(cap_step.error)
                return
        # ISUPPORT is complete at the first line after the 005s (a NOTICE between 001 and
        # 005 does not count), at the end of the MOTD, or after welcome_grace.
        after_isupport = self._isupport_seen and cmd not in _WELCOME_BURST
        registering = self._me.welcomed and self.state == "registering"
        self._isupport_seen |= cmd == "005"
        step = self._me.handle(ev)
        for line in step.send:
            self._write(line)
        if step.error:
            self._fail(step.error)
        elif step.welcomed:
            opts, loop = self.options, asyncio.get_running_loop()
            self._timer = loop.call_later(opts.welcome_grace, self._complete_registration)
            self._pinger = Keepalive(
                self._wire,
                opts.ping_interval,
                opts.ping_timeout,
                self._ping,
                lambda idle: self._fail(f"Ping timeout: {int(idle)} seconds", TimeoutError()),
            )
            self._pinger.start()
        elif registering and (after_isupport or cmd in _MOTD_END):
            self._complete_registration()

    def _complete_registration(self) -> None:
        if self.state != "registering":
            return
        self.state = "registered"
        if self._timer is not None:
            self._timer.cancel()
        me = self._me
        registered = Registered(me.nick, me.server, me.isupport, self.caps, self._caps.account)
        self._wire.open_gate()
        self._sink.emit(registered)
        if self._registered is not None and not self._registered.done():
            self._registered.set_result(registered)

    def _ping(self) -> None:
        self._write(f"PING :{int(time.time() * 1000)}")

    def _fail(self, reason: str, error: BaseException | None = None) -> None:
        self._finish(reason, error or IrcConnectionError(reason))

    def _on_lost(self, exc: BaseException | None) -> None:
        lost = f"connection lost: {exc}" if exc else "connection closed by server"
        self._finish(self._error_text or lost, exc)

    def _finish(self, reason: str, error: BaseException | None) -> None:
        """Single exit path: close the socket, fail waiters, emit ``Disconnected`` once."""
        if self.state == "closed":
            return
        was_registered = self.state == "registered"
        self.state = "closed"
        if self._timer is not None:
            self._timer.cancel()
        if self._pinger is not None:
            self._pinger.cancel()
        self._wire.close(IrcNotConnected(reason))
        if self._registered is not None and not self._registered.done():
            self._registered.set_exception(IrcConnectionError(reason))
            self._registered.exception()
        log.info("IRC connection to %s closed: %s", self._me.server or "server", reason)
        self._sink.emit(Disconnected(reason, was_registered, error))
        self._closed.set()
