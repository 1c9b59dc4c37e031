"""XMPP -> IRC: a user's message becomes PRIVMSG lines, a raw command, or an error.

``send`` is called by the core's outbox, one conversation (lane) at a time. While the
connection is down it waits (bounded by ``queue_limit`` and ``queue_timeout``) and sends
after the reconnect and rejoin. Text is split with the protocol layer's helpers, so
CR, LF and NUL end lines and can never start a command. A channel line is shown back to
the user when it was really written (or when the server echoes it, with echo-message).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from transport.backends.irc.addressing import Address, check_nick, parse
from transport.backends.irc.contracts import LineKind
from transport.backends.irc.from_irc import inbound
from transport.backends.irc.protocol import IrcNotConnected, make_privmsg, sanitize
from transport.backends.irc.session.channel_state import Channel
from transport.backends.irc.text import reencode
from transport.core.errors import DeliveryRefused
from transport.core.events import OutgoingMessage, SendOutcome
from transport.core.ids import new_id

if TYPE_CHECKING:
    from transport.backends.irc.session.interface import Session
    from transport.backends.irc.session.manager import SessionManager
    from transport.core.ordering import Turn

_RETRY_PAUSE = 0.05
_RETRY_PAUSE_MAX = 1.0


def _not_joined() -> DeliveryRefused:
    return DeliveryRefused("You are not in this room", "not-acceptable", "modify")


async def send(manager: SessionManager, message: OutgoingMessage, turn: Turn) -> SendOutcome:
    """Send one message; ``turn`` keeps it in order with the other sends of its lane."""
    await turn.wait_to_queue()
    address = parse(message.contact, manager.bridge.info)
    if address.kind == "channel":
        if message.resource and message.type != "groupchat":
            return await _private(manager, message, address.server, message.resource, turn)
        return await _channel(manager, message, address, turn)
    if address.kind == "nick":
        return await _private(manager, message, address.server, address.name, turn)
    if address.kind == "host_pm":
        if not message.resource:
            raise DeliveryRefused("Say which nick: %host@gateway/nick", "jid-malformed", "modify")
        return await _private(manager, message, address.server, message.resource, turn)
    return await _raw(manager, message, address.server, turn)


def _kind_and_text(body: str) -> tuple[LineKind, str]:
    if body.startswith("/me ") or body == "/me":
        return "action", body[4:]
    return "message", body


async def _write_all(session: Session, lines: list[bytes], ready: asyncio.Event,
                     is_ready: object, turn: Turn, on_written: object = None, *,
                     throttle: bool = True) -> int:
    """Write ``lines`` in order; lines the connection lost are sent again after reconnect
    (once the lane's earlier sends are done, so that they keep their order).

    Every retry first waits for the session to take the loss in (see ``IrcSession.settle``),
    and from the first loss on the message has ``queue_timeout`` to get through: a link
    that keeps failing ends in an error to the user, never in a loop.
    """
    remaining = list(enumerate(lines))
    deadline: float | None = None
    pause = _RETRY_PAUSE
    retry = False
    while remaining:
        if retry:
            await turn.wait_to_retry()
            if deadline is not None and time.monotonic() >= deadline:
                raise session.timed_out()
        retry = True
        await session.wait_until(is_ready, ready, deadline)  # type: ignore[arg-type]
        conn = session.conn
        try:
            futures = [(i, session.write(line, throttle=throttle)) for i, line in remaining]
        except IrcNotConnected:
            futures = []
        except ValueError as exc:
            raise DeliveryRefused(str(exc), "bad-request", "modify") from exc
        if futures:
            turn.mark_queued()
        done = 0
        for index, future in futures:
            try:
                await future
            except IrcNotConnected:
                break
            if callable(on_written):
                on_written(index)
            done += 1
        remaining = remaining[done:]
        if remaining:
            if deadline is None:
                deadline = time.monotonic() + session.bridge.settings.queue_timeout
            await session.settle(conn, pause, deadline)
            pause = min(pause * 2, _RETRY_PAUSE_MAX)
    return len(lines)


async def _channel(manager: SessionManager, message: OutgoingMessage,
                   address: Address, turn: Turn) -> SendOutcome:
    session = manager.get(message.user, address.server)
    if session is None:
        raise _not_joined()
    folded = session.isupport.fold(address.name)
    channel = session.channels.get(folded)
    if channel is None or message.sender_full_jid not in manager.bridge.ctx.rooms.resources(
            message.user, channel.room):
        raise _not_joined()

    def ready() -> bool:
        if session.channels.get(folded) is not channel:
            raise _not_joined()
        return session.ready and channel.ready.is_set()

    body = message.body
    if body.startswith("/mode ") and len(sanitize(body)) == 1:
        await _write_all(session, [f"MODE {channel.name} {body[6:].strip()}".encode()],
                         channel.ready, ready, turn)
        return SendOutcome(confirmed=True)
    kind, text = _kind_and_text(body)
    await session.wait_until(ready, channel.ready)
    assert session.conn is not None
    payload = f"\x01ACTION {text}\x01" if kind == "action" else text
    try:
        lines = make_privmsg(channel.name, payload, session.conn.me.prefix_len,
                             session.isupport.linelen)
    except ValueError as exc:
        raise DeliveryRefused(str(exc), "bad-request", "modify") from exc
    if not lines:
        return SendOutcome(confirmed=True)
    encoding = await session.bridge.encoding_out(session.user, session.host, folded)
    ids = [message.stanza_id] + [new_id() for _ in lines[1:]]
    bodies = [_payload(line, kind) for line in lines]
    echo = "echo-message" in session.conn.caps
    if echo:
        channel.reflections.extend((kind, b, i) for b, i in zip(bodies, ids, strict=True))

    def written(index: int) -> None:
        if not echo:
            session.submit(lambda: _reflect(session, channel, kind, bodies[index], ids[index]))

    await _write_all(session, [reencode(line, encoding) for line in lines], channel.ready, ready,
                     turn, written)
    return SendOutcome(legacy_ids=tuple(ids), confirmed=True)


async def _reflect(session: Session, channel: Channel, kind: LineKind, body: str,
                   msg_id: str) -> None:
    await inbound.channel_line(session, channel, session.nick, kind, body, None, msg_id)


def _payload(line: bytes, kind: LineKind) -> str:
    text = line.split(b" :", 1)[1].decode("utf-8")
    if kind == "action":
        text = text.removeprefix("\x01ACTION ").removesuffix("\x01")
    return text


async def _private(manager: SessionManager, message: OutgoingMessage, host: str,
                   nick: str, turn: Turn) -> SendOutcome:
    try:
        check_nick(nick)
    except Exception as exc:
        raise DeliveryRefused(str(exc), "jid-malformed", "modify") from exc
    session = manager.ensure(message.user, host)
    await session.wait_until(lambda: session.ready, session.registered)
    session.pm_nicks.add(session.isupport.fold(nick))
    kind, text = _kind_and_text(message.body)
    payload = f"\x01ACTION {text}\x01" if kind == "action" else text
    assert session.conn is not None
    lines = make_privmsg(nick, payload, session.conn.me.prefix_len, session.isupport.linelen)
    encoding = await session.bridge.encoding_out(session.user, host, None)
    count = await _write_all(session, [reencode(line, encoding) for line in lines],
                             session.registered, lambda: session.ready, turn)
    return SendOutcome(legacy_ids=tuple(new_id() for _ in range(count)), confirmed=True)


async def _raw(manager: SessionManager, message: OutgoingMessage, host: str,
               turn: Turn) -> SendOutcome:
    """Text sent to the server JID: each line is a raw IRC command (biboumi).

    Raw commands skip the throttle, as in biboumi: a WHOIS must not wait behind a paced
    backlog of channel lines. Each line of the body is still one command, nothing more.
    """
    session = manager.ensure(message.user, host)
    lines = [line.strip().encode() for line in sanitize(message.body) if line.strip()]
    if len(lines) == 1 and lines[0].upper().split(b" ")[0] == b"QUIT":
        reason = lines[0].partition(b" ")[2].decode().removeprefix(":")
        await session.quit(reason)
        return SendOutcome(confirmed=True)
    await _write_all(session, lines, session.registered, lambda: session.ready, turn,
                     throttle=False)
    return SendOutcome(confirmed=True)
