"""IrcConnection survives a misbehaving server, dead links and early closes."""

from __future__ import annotations

import asyncio
import time

import pytest

from transport.backends.irc.protocol import (
    ConnectionOptions,
    Disconnected,
    IrcConnection,
    IrcConnectionError,
    IrcNotConnected,
)

from .fake_server import FakeIrcServer

pytestmark = pytest.mark.timeout(30)

FAST = ConnectionOptions(rate=0, welcome_grace=0.5)


async def connect(server, recorder, closing, options=FAST, **kw) -> IrcConnection:
    conn = IrcConnection(recorder, options)
    closing(conn)
    await conn.connect("127.0.0.1", server.port, kw.pop("nick", "me"), **kw)
    return conn


async def test_hostile_server_lines_never_break_the_connection(recorder, closing):
    async with FakeIrcServer(caps="multi-prefix") as server:  # no tag caps negotiated
        conn = await connect(server, recorder, closing, fallback_encoding="latin-1")
        client = await server.client()
        nicks = [f"user{i:04d}" for i in range(5000)]
        names = []
        chunk: list[str] = []
        for nick in nicks:
            chunk.append(("@" if len(names) % 2 else "") + nick)
            if len(" ".join(chunk)) > 400:
                names.append(f":fake.irc 353 me = #big :{' '.join(chunk)}\r\n")
                chunk = []
        names.append(f":fake.irc 353 me = #big :{' '.join(chunk)}\r\n")
        garbage = [
            b":fake.irc 433\r\n",  # numeric without any parameter
            b":fake.irc 353\r\n",
            b":fake.irc 001\r\n",
            b":x!u@h PRIVMSG #a\r\n",  # PRIVMSG without text (kills jaraco's AioConnection)
            b":x!u@h QUIT\r\n",
            b":x!u@h PRIVMSG #a :" + b"L" * 10_000 + b"\r\n",  # 10 KB line
            b":x!u@h PRIVMSG #a :" + b"H" * 40_000 + b"\r\n",  # way past max_line_bytes
            b":x!u@h PRIVMSG #a :one\r:x!u@h PRIVMSG #a :two\n:x!u@h PRIVMSG #a :three\r\n",
            b":x!u@h PRIVMSG #a :nul\x00inside\r\n",
            b":x!u@h PRIVMSG #a :caf\xe9 latin-1\r\n",
            b":x!u@h PRIVMSG #a :bad \xff\xfe utf8 \xc3\r\n",
            b"@time=2020-01-01T00:00:00Z;evil=1 :x!u@h PRIVMSG #a :unasked tags\r\n",
            b"@\r\n:\r\n \r\n\r\n\r\n",
            b"".join(n.encode() for n in names),
            b":fake.irc 366 me #big :End of /NAMES list.\r\n",
            b"PING :still-alive\r\n",
        ]
        for piece in garbage:
            client.send(piece)
        await client.wait_for(lambda line: line == "PONG :still-alive")
        await recorder.wait_for(lambda e: getattr(e, "command", "") == "366")
        msgs = [e.param(1) for e in recorder.commands("PRIVMSG")]
        assert "L" * 10_000 in msgs
        long = [e for e in recorder.commands("PRIVMSG") if e.truncated]
        assert len(long) == 1 and len(long[0].raw) == FAST.max_line_bytes
        assert [m for m in msgs if m in ("one", "two", "three")] == ["one", "two", "three"]
        assert "nulinside" in msgs
        assert "café latin-1" in msgs
        assert any(m.startswith("bad ") for m in msgs)
        unasked = next(e for e in recorder.commands("PRIVMSG") if e.param(1) == "unasked tags")
        assert unasked.tags == {} and unasked.time is None and unasked.nick == "x"
        assert recorder.commands("433")[0].param(1) == ""
        got = []
        for e in recorder.commands("353"):
            got += [n.lstrip("@") for n in e.param(3).split()]
        assert got == nicks
        # Still fully functional afterwards.
        await conn.send_line("PRIVMSG #a :after the storm")
        await client.wait_for(lambda line: line == "PRIVMSG #a :after the storm")
        assert conn.state == "registered" and not recorder.of(Disconnected)


async def test_connection_closed_mid_line(recorder, closing):
    async with FakeIrcServer() as server:
        await connect(server, recorder, closing)
        client = await server.client()
        client.send(b":x!u@h PRIVMSG #a :complete\r\n:x!u@h PRIVMSG #a :parti")
        await client.writer.drain()
        client.close()
        gone = await recorder.wait_for(lambda e: isinstance(e, Disconnected))
        assert gone.reason == "connection closed by server" and gone.registered
        assert [e.param(1) for e in recorder.commands("PRIVMSG")] == ["complete"]
        assert recorder.events[-1] is gone


async def test_error_line_gives_the_disconnect_reason(recorder, closing):
    async with FakeIrcServer() as server:
        await connect(server, recorder, closing)
        client = await server.client()
        client.send(b"ERROR :Closing Link: me (K-Lined)\r\n")
        client.close()
        gone = await recorder.wait_for(lambda e: isinstance(e, Disconnected))
        assert gone.reason == "Closing Link: me (K-Lined)"


async def test_ping_timeout_detection(recorder, closing):
    async with FakeIrcServer() as server:
        opts = ConnectionOptions(rate=0, ping_interval=0.2, ping_timeout=0.6, welcome_grace=0.1)
        await connect(server, recorder, closing, options=opts)
        client = await server.client()
        server.answer_pings = False
        start = time.monotonic()
        await client.wait_for(lambda line: line.startswith("PING :"), timeout=2)
        gone = await recorder.wait_for(lambda e: isinstance(e, Disconnected), timeout=3)
        assert gone.reason.startswith("Ping timeout")
        assert 0.5 <= time.monotonic() - start < 1.5
        assert sum(line.startswith("PING") for line in client.lines) == 1  # one per idle spell


async def test_answered_pings_keep_the_link_alive(recorder, closing):
    async with FakeIrcServer() as server:
        opts = ConnectionOptions(rate=0, ping_interval=0.1, ping_timeout=0.4, welcome_grace=0.1)
        conn = await connect(server, recorder, closing, options=opts)
        client = await server.client()
        await asyncio.sleep(1.2)
        assert conn.state == "registered"
        assert sum(line.startswith("PING") for line in client.lines) >= 5


async def test_server_ping_is_answered_with_its_token(recorder, closing):
    async with FakeIrcServer() as server:
        await connect(server, recorder, closing)
        client = await server.client()
        client.send("PING :abc def")
        client.send("PING")
        client.send("PING :" + "é" * 300)  # 600 bytes: echoed back cut, never refused
        await client.wait_for(lambda line: line == "PONG :abc def")
        await client.wait_for(lambda line: line == "PONG :")
        await client.wait_for(lambda line: line == "PONG :" + "é" * 200)


async def test_registration_timeout_and_refused_connection(recorder, closing):
    async with FakeIrcServer(welcome=False) as server:
        conn = IrcConnection(recorder, ConnectionOptions(register_timeout=0.3))
        closing(conn)
        with pytest.raises(IrcConnectionError, match="registration timed out"):
            await conn.connect("127.0.0.1", server.port, "me")
        assert recorder.events[-1].reason == "registration timed out"
        port = server.port
    conn = IrcConnection(None)
    with pytest.raises(IrcConnectionError):
        await conn.connect("127.0.0.1", port, "me")
    unresolvable = IrcConnection(None, ConnectionOptions(connect_timeout=5))
    with pytest.raises(IrcConnectionError):
        await unresolvable.connect("no-such-host.invalid", 6667, "me")
    events = [e async for e in conn.events()]
    assert len(events) == 1 and isinstance(events[0], Disconnected)
    with pytest.raises(IrcNotConnected):
        conn.enqueue("PRIVMSG #a :x")


async def test_server_closing_during_registration(recorder, closing):
    async with FakeIrcServer(auto=False) as server:
        conn = IrcConnection(recorder)
        closing(conn)
        task = asyncio.create_task(conn.connect("127.0.0.1", server.port, "me"))
        client = await server.client()
        await client.wait_for(lambda line: line.startswith("USER"))
        client.send(b"ERROR :Closing Link: 127.0.0.1 (Too many connections)\r\n")
        client.close()
        with pytest.raises(IrcConnectionError, match="Too many connections"):
            await task
        assert isinstance(recorder.events[-1], Disconnected)
        assert not recorder.events[-1].registered


async def test_long_quit_reason_is_cut_not_refused(recorder, closing):
    async with FakeIrcServer() as server:
        conn = await connect(server, recorder, closing)
        await conn.quit("ü" * 400)
        client = await server.client()
        quit_line = await client.wait_for(lambda line: line.startswith("QUIT"))
        assert quit_line == "QUIT :" + "ü" * 200
