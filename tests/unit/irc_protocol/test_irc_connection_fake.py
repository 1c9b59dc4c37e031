"""IrcConnection against a scriptable, misbehaving asyncio IRC server."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from transport.backends.irc.protocol import (
    Connected,
    ConnectionOptions,
    Disconnected,
    IrcConnection,
    IrcConnectionError,
    IrcEvent,
    IrcNotConnected,
    Registered,
)

from .fake_server import FakeIrcServer

pytestmark = pytest.mark.timeout(30)

FAST = ConnectionOptions(rate=0, welcome_grace=0.5)


async def connect(server, recorder, closing, options=FAST, **kw) -> IrcConnection:
    conn = IrcConnection(recorder, options)
    closing(conn)
    await conn.connect("127.0.0.1", server.port, kw.pop("nick", "me"), **kw)
    return conn


async def test_registration_caps_isupport_and_event_order(recorder, closing):
    async with FakeIrcServer() as server:
        conn = await connect(server, recorder, closing)
        reg = recorder.of(Registered)[0]
        assert reg.nick == "me" and reg.server == "fake.irc"
        assert reg.caps == {"multi-prefix", "server-time", "message-tags", "echo-message"}
        assert reg.isupport.casemapping == "ascii" and reg.isupport.nicklen == 20
        assert reg.isupport.network == "FakeNet" and reg.isupport.prefix == ("ohv", "@%+")
        assert isinstance(recorder.events[0], Connected)
        kinds = [getattr(e, "command", type(e).__name__) for e in recorder.events]
        # Registered comes once ISUPPORT is complete: before the first line after the 005s.
        assert kinds.index("Registered") == kinds.index("375") - 1
        assert kinds.index("Registered") > max(i for i, k in enumerate(kinds) if k == "005")
        assert conn.me.mask == "me!~u@fake.host"
        client = await server.client()
        assert client.lines[:4] == [
            "CAP LS 302",
            "NICK me",
            "USER me 0 * :me",
            "CAP REQ :echo-message message-tags multi-prefix server-time",
        ]
        assert client.lines[4] == "CAP END"
        motd = recorder.commands("376")[0]
        assert motd.time == pytest.approx(1704164645.678)  # server-time tag parsed


async def test_nick_in_use_default_and_callback(recorder, closing):
    async with FakeIrcServer(taken={"me", "me_"}) as server:
        conn = await connect(server, recorder, closing)
        assert conn.nick == "me__"
        assert recorder.of(Registered)[0].nick == "me__"
    async with FakeIrcServer(taken={"me"}) as server:
        conn = IrcConnection(None, ConnectionOptions(nick_in_use=lambda nick: None))
        closing(conn)
        with pytest.raises(IrcConnectionError, match="in use"):
            await conn.connect("127.0.0.1", server.port, "me")
        events = [e async for e in conn.events()]
        assert isinstance(events[0], Connected) and isinstance(events[-1], Disconnected)
        assert events[-2].command == "433"  # the line that caused it comes before the end


async def test_sasl_plain_success_and_secrets_never_logged(recorder, closing, caplog):
    caplog.set_level(logging.DEBUG)
    async with FakeIrcServer(sasl={"acct": "pw-SECRET-1"}) as server:
        conn = await connect(
            server, recorder, closing, sasl_plain=("acct", "pw-SECRET-1"), password="srv-SECRET-2"
        )
        assert conn.account == "acct" and "sasl" in conn.caps
        client = await server.client()
        assert client.lines[1] == "PASS srv-SECRET-2"
        assert "CAP END" in client.lines
        assert client.lines.index("AUTHENTICATE PLAIN") < client.lines.index("CAP END")
    assert "SECRET" not in caplog.text
    assert "cHctU0VDUkVU" not in caplog.text  # nor its base64 form
    assert ">> PASS ****" in caplog.text


async def test_sasl_failure_aborts_when_required(recorder, closing):
    async with FakeIrcServer(sasl={"acct": "right"}) as server:
        conn = IrcConnection(recorder, FAST)
        closing(conn)
        with pytest.raises(IrcConnectionError, match="SASL authentication failed"):
            await conn.connect("127.0.0.1", server.port, "me", sasl_plain=("acct", "wrong"))
        client = await server.client()
        await client.wait_for(lambda line: line.startswith("QUIT"))
        assert "CAP END" not in client.lines and "NICK me" in client.lines
        conn2 = await connect(
            server, recorder, closing, sasl_plain=("acct", "wrong"), sasl_required=False
        )
        assert conn2.state == "registered" and conn2.account is None


async def test_servers_without_cap(recorder, closing):
    async with FakeIrcServer(caps=None) as server:  # answers CAP with 421
        conn = await connect(server, recorder, closing)
        assert conn.caps == frozenset()
        client = await server.client()
        await client.wait_for(lambda line: line == "CAP END")


async def test_lines_sent_before_registration_wait_for_it(recorder, closing):
    async with FakeIrcServer() as server:
        conn = IrcConnection(recorder, FAST)
        closing(conn)
        task = asyncio.create_task(conn.connect("127.0.0.1", server.port, "me"))
        await recorder.wait_for(lambda e: isinstance(e, Connected))
        early = conn.enqueue("JOIN #early")
        await task
        await early
        client = await server.client()
        await client.wait_for(lambda line: line == "JOIN #early")
        assert client.lines.index("JOIN #early") > client.lines.index("CAP END")
        assert client.registered


async def test_written_future_tracks_the_paced_send(recorder, closing):
    async with FakeIrcServer() as server:
        conn = await connect(server, recorder, closing, options=ConnectionOptions(rate=20, burst=2))
        client = await server.client()
        base = len(client.lines)
        done_at: list[float] = []
        futures = [conn.enqueue(f"PRIVMSG #a :{i}") for i in range(8)]
        for fut in futures:
            fut.add_done_callback(lambda f: done_at.append(time.monotonic()))
        await asyncio.gather(*futures)
        await client.wait_for(lambda line: line == "PRIVMSG #a :7")
        assert client.lines[base:] == [f"PRIVMSG #a :{i}" for i in range(8)]
        assert done_at[-1] - done_at[0] == pytest.approx(6 / 20, abs=0.08)  # 2 burst, 6 paced
        for sent, received in zip(done_at, client.stamps[base:], strict=True):
            assert abs(received - sent) < 0.1


async def test_unthrottled_lines_go_out_ahead_of_the_paced_backlog(recorder, closing):
    async with FakeIrcServer() as server:
        conn = await connect(server, recorder, closing, options=ConnectionOptions(rate=2, burst=1))
        client = await server.client()
        paced = [conn.enqueue(f"PRIVMSG #a :{i}") for i in range(5)]
        await client.wait_for(lambda line: line == "PRIVMSG #a :0")
        await conn.enqueue("WHOIS someone", throttle=False)
        await client.wait_for(lambda line: line == "WHOIS someone")
        assert "PRIVMSG #a :2" not in client.lines, "the backlog is still paced"
        with pytest.raises(ValueError):
            conn.enqueue("WHOIS a\r\nQUIT :injected", throttle=False)
        await asyncio.gather(*paced)
        await client.wait_for(lambda line: line == "PRIVMSG #a :4")
        sent = [line for line in client.lines if line.startswith("PRIVMSG #a")]
        assert sent == [f"PRIVMSG #a :{i}" for i in range(5)]


async def test_write_backpressure(recorder, closing):
    async with FakeIrcServer() as server:
        conn = await connect(server, recorder, closing)
        client = await server.client()
        client.reading.clear()
        payload = "PRIVMSG #a :" + "x" * 480
        futures = [conn.enqueue(payload) for _ in range(40_000)]  # ~19 MB
        await asyncio.sleep(0.5)
        done = sum(f.done() for f in futures)
        assert done < len(futures)  # not "sent" while the peer does not read
        client.reading.set()
        await asyncio.wait_for(asyncio.gather(*futures), 20)


async def test_send_paths_refuse_injection(recorder, closing):
    async with FakeIrcServer() as server:
        conn = await connect(server, recorder, closing)
        client = await server.client()
        for bad in ["PRIVMSG #a :x\r\nQUIT :pwned", "PRIVMSG #a :x\rQUIT", "QUIT\n", "A\x00B"]:
            with pytest.raises(ValueError):
                await conn.send_line(bad)
            with pytest.raises(ValueError):
                conn.enqueue(bad.encode())
        with pytest.raises(ValueError):
            await conn.privmsg("#a :x\r\nQUIT", "hi")
        sent = await conn.privmsg("#a", "hello\r\nQUIT :pwned\rKICK #a me\x00\n")
        assert sent == 3
        await conn.privmsg("nick", "\x01ACTION waves\r\nQUIT :x\x01")
        await conn.quit("bye\r\nPRIVMSG #a :sneaky")
        await client.wait_for(lambda line: line.startswith("QUIT"))
        assert [line for line in client.lines if not line.startswith(("CAP", "NICK", "USER"))] == [
            "PRIVMSG #a :hello",
            "PRIVMSG #a :QUIT :pwned",
            "PRIVMSG #a :KICK #a me",
            "PRIVMSG nick :\x01ACTION waves\x01",
            "PRIVMSG nick :\x01ACTION QUIT :x\x01",
            "QUIT :bye PRIVMSG #a :sneaky",
        ]
    for nick in ["a\r\nQUIT", "a b", ""]:
        with pytest.raises(ValueError):
            await IrcConnection().connect("127.0.0.1", 1, nick)


async def test_quit_fails_queued_lines_and_reports_error_text(recorder, closing):
    async with FakeIrcServer() as server:
        conn = await connect(server, recorder, closing, options=ConnectionOptions(rate=1, burst=1))
        first = conn.enqueue("PRIVMSG #a :1")
        queued = [conn.enqueue(f"PRIVMSG #a :{i}") for i in range(2, 5)]
        await first
        await conn.quit("see you")
        for fut in queued:
            with pytest.raises(IrcNotConnected):
                await fut
        gone = recorder.events[-1]
        assert isinstance(gone, Disconnected) and gone.reason == "Closing Link: me (see you)"
        assert gone.registered
        await conn.quit("again")  # harmless
        conn.close()


async def test_callback_errors_and_events_iterator(closing, caplog):
    seen = []

    def bad_callback(event):
        seen.append(event)
        raise RuntimeError("consumer bug")

    async with FakeIrcServer() as server:
        conn = IrcConnection(bad_callback, FAST)
        closing(conn)
        await conn.connect("127.0.0.1", server.port, "me")
        assert conn.state == "registered" and "consumer bug" in caplog.text
        with pytest.raises(RuntimeError):
            async for _ in conn.events():
                pass
        it_conn = IrcConnection(None, FAST)
        closing(it_conn)
        await it_conn.connect("127.0.0.1", server.port, "you")
        (await server.client(1)).send("PRIVMSG you :hello")
        got = []
        async for event in it_conn.events():
            got.append(event)
            if isinstance(event, IrcEvent) and event.command == "PRIVMSG":
                it_conn.close()
        assert isinstance(got[-1], Disconnected) and got[-1].reason == "closed by client"


async def test_registered_waits_for_isupport_even_after_a_notice(closing):
    chantypes_at_registration = []

    def on_event(event):
        if isinstance(event, Registered):
            chantypes_at_registration.append(event.isupport.chantypes)

    async with FakeIrcServer(auto=False) as server:
        conn = IrcConnection(on_event, ConnectionOptions(welcome_grace=5))
        closing(conn)
        task = asyncio.create_task(conn.connect("127.0.0.1", server.port, "me"))
        client = await server.client()
        await client.wait_for(lambda line: line.startswith("USER"))
        client.send(":s CAP * LS :")
        client.send(":s 001 me :hi")
        client.send(":s NOTICE me :*** your host is masked")
        client.send(":s 005 me CHANTYPES=! :are supported")
        client.send(":s 251 me :lusers")
        reg = await asyncio.wait_for(task, 3)
        assert chantypes_at_registration == ["!"] and reg.isupport.chantypes == "!"


async def test_welcome_grace_when_the_server_sends_nothing_after_001(closing):
    async with FakeIrcServer(auto=False) as server:
        conn = IrcConnection(None, ConnectionOptions(welcome_grace=0.2))
        closing(conn)
        task = asyncio.create_task(conn.connect("127.0.0.1", server.port, "me"))
        client = await server.client()
        await client.wait_for(lambda line: line.startswith("USER"))
        client.send(":s 421 me CAP :Unknown command")
        client.send(":s 001 me :hi")
        start = time.monotonic()
        reg = await asyncio.wait_for(task, 3)
        assert 0.15 < time.monotonic() - start < 1 and reg.isupport.chantypes == "#&"


async def test_event_sink_backlog_pauses_and_resumes_reading():
    from transport.backends.irc.protocol.events import EventSink

    calls = []
    sink = EventSink(None, calls.append, high=3, low=2)
    for i in range(5):
        sink.emit(Connected("h", i, False))
    assert calls == [True]
    stream = sink.stream()
    for _ in range(4):
        await stream.__anext__()
    assert calls == [True, False]
    with sink.holding():
        sink.emit(Disconnected("bye", False))
        sink.emit(Connected("late", 0, False))
    assert [type(e).__name__ for e in [await stream.__anext__() for _ in range(3)]] == [
        "Connected",
        "Connected",
        "Disconnected",
    ]
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()
