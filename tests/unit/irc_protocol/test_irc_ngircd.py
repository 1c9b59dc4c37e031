"""IrcConnection against a real ngIRCd (penalties off), started per module in a temp dir."""

from __future__ import annotations

import asyncio
import time

import pytest

from transport.backends.irc.protocol import (
    ConnectionOptions,
    Disconnected,
    IrcConnection,
    IrcConnectionError,
    IrcEvent,
)
from transport.testing.servers import NgircdServer

from .conftest import Recorder

pytestmark = [
    pytest.mark.timeout(60),
]

FAST = ConnectionOptions(rate=0, welcome_grace=0.5)


@pytest.fixture(scope="module")
def ngircd_srv():
    with NgircdServer(name="irc.test") as srv:
        yield srv


@pytest.fixture(scope="module")
def ngircd_tls_pass():
    with NgircdServer(tls=True, extra={"Global": {"Password": "letmein"}}) as srv:
        yield srv


async def pair(server, closing, nick_a="alice", nick_b="bob", **kw):
    rec_a, rec_b = Recorder(), Recorder()
    a, b = IrcConnection(rec_a, FAST), IrcConnection(rec_b, FAST)
    closing(a)
    closing(b)
    await asyncio.gather(
        a.connect(server.host, server.port, nick_a, **kw),
        b.connect("localhost", server.port, nick_b, **kw),  # resolved off the loop
    )
    return a, rec_a, b, rec_b


def is_cmd(command: str, *params: str):
    def pred(e) -> bool:
        return (
            isinstance(e, IrcEvent)
            and e.command == command
            and all(e.param(i) == p for i, p in enumerate(params) if p is not None)
        )

    return pred


async def join(conn: IrcConnection, rec: Recorder, channel: str) -> None:
    await conn.send_line(f"JOIN {channel}")
    await rec.wait_for(is_cmd("366", None, channel))


async def test_registration_against_ngircd(ngircd_srv, closing):
    a, _, b, _ = await pair(ngircd_srv, closing, nick_a="reg_a", nick_b="reg_b")
    assert b.me.mask == "reg_b!~reg_b@127.0.0.1"  # connected through "localhost"
    assert a.caps == {"multi-prefix"}  # all ngIRCd 26 offers
    isup = a.isupport
    assert isup.casemapping == "ascii" and isup.chantypes == "#&+"
    assert isup.prefix == ("qaohv", "~&@%+") and isup.nicklen == 30
    assert a.me.mask == "reg_a!~reg_a@127.0.0.1"  # learnt from 001
    assert a.me.server == "irc.test"


async def test_two_hundred_line_burst_arrives_complete_and_in_order(ngircd_srv, closing):
    a, rec_a, b, rec_b = await pair(ngircd_srv, closing, nick_a="burst_a", nick_b="burst_b")
    await asyncio.gather(join(a, rec_a, "#burst"), join(b, rec_b, "#burst"))
    start = time.monotonic()
    futures = [a.enqueue(f"PRIVMSG #burst :line {i:03d}") for i in range(200)]
    await asyncio.gather(*futures)
    await rec_b.wait_for(is_cmd("PRIVMSG", "#burst", "line 199"), timeout=10)
    elapsed = time.monotonic() - start
    got = [e.param(1) for e in rec_b.commands("PRIVMSG") if e.param(0) == "#burst"]
    assert got == [f"line {i:03d}" for i in range(200)]
    assert elapsed < 3, elapsed  # penalties off: no server-side pacing


async def test_long_unicode_message_is_split_without_loss(ngircd_srv, closing):
    a, rec_a, b, rec_b = await pair(ngircd_srv, closing, nick_a="long_a", nick_b="long_b")
    await asyncio.gather(join(a, rec_a, "#long"), join(b, rec_b, "#long"))
    text = ("Grüße 👩‍👩‍👧‍👦 🇫🇷 naïve ") * 150 + "END"
    sent = await a.privmsg("#long", text)
    assert sent > 5
    await rec_b.wait_for(is_cmd("PRIVMSG", "#long", None), timeout=5)
    await asyncio.sleep(0.3)
    parts = [e for e in rec_b.commands("PRIVMSG") if e.param(0) == "#long"]
    assert len(parts) == sent
    # Cuts fall on spaces (dropped) or, inside the long emoji runs, on grapheme boundaries.
    assert " ".join(e.param(1) for e in parts) == text
    for e in parts:
        assert len(e.raw.encode()) + 2 <= 512  # as relayed, with alice's full prefix
    # Chunks are nearly full: the prefix length used was the real one, not a worst case.
    assert max(len(e.raw.encode()) for e in parts) > 480


async def test_crlf_injection_never_reaches_the_server_as_commands(ngircd_srv, closing):
    a, rec_a, b, rec_b = await pair(ngircd_srv, closing, nick_a="inj_a", nick_b="inj_b")
    await asyncio.gather(join(a, rec_a, "#inj"), join(b, rec_b, "#inj"))
    for bad in ["PRIVMSG #inj :x\r\nPART #inj", "PRIVMSG #inj :x\rQUIT :pwned", "NICK x\nQUIT"]:
        with pytest.raises(ValueError):
            await a.send_line(bad)
    await a.privmsg("#inj", "one\r\nPART #inj :bye\rNICK evil\nQUIT :pwned\x00JOIN #evil")
    await a.privmsg("#inj", "\x01ACTION dances\r\nMODE #inj +o inj_b\x01")
    await a.send_line("PRIVMSG #inj :last")
    await rec_b.wait_for(is_cmd("PRIVMSG", "#inj", "last"))
    texts = [e.param(1) for e in rec_b.commands("PRIVMSG") if e.param(0) == "#inj"]
    assert texts == [
        "one",
        "PART #inj :bye",
        "NICK evil",
        "QUIT :pwnedJOIN #evil",
        "\x01ACTION dances\x01",
        "\x01ACTION MODE #inj +o inj_b\x01",
        "last",
    ]
    from_a = [e for e in rec_b.events if isinstance(e, IrcEvent) and e.nick == "inj_a"]
    assert {e.command for e in from_a} <= {"JOIN", "PRIVMSG"}  # no PART/NICK/QUIT/MODE
    assert a.nick == "inj_a" and a.state == "registered"


async def test_nick_collision_and_quit(ngircd_srv, closing):
    a, rec_a, b, rec_b = await pair(ngircd_srv, closing, nick_a="same", nick_b="same")
    assert {a.nick, b.nick} == {"same", "same_"}
    first, rec_first = (a, rec_a) if a.nick == "same" else (b, rec_b)
    other, rec_other = (b, rec_b) if first is a else (a, rec_a)
    await asyncio.gather(join(first, rec_first, "#q"), join(other, rec_other, "#q"))
    await first.quit("see you\r\nJOIN #evil")
    gone = rec_first.events[-1]
    assert isinstance(gone, Disconnected) and "see you" in gone.reason
    quit_ev = await rec_other.wait_for(is_cmd("QUIT"))
    assert quit_ev.nick == "same" and "see you JOIN #evil" in quit_ev.param(0)


async def test_server_password_and_tls(ngircd_tls_pass, closing, recorder):
    srv = ngircd_tls_pass
    bad = IrcConnection(recorder, FAST)
    closing(bad)
    with pytest.raises(IrcConnectionError):
        await bad.connect(srv.host, srv.port, "nopass", password="wrong")
    ok = IrcConnection(None, FAST)
    closing(ok)
    await ok.connect(srv.host, srv.port, "withpass", password="letmein")
    # TLS: self-signed certificate refused by default, accepted with verify off or its CA.
    strict = IrcConnection(None, FAST)
    with pytest.raises(IrcConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        await strict.connect(srv.host, srv.tls_port, "strict", tls=True, password="letmein")
    lax = IrcConnection(None, FAST)
    closing(lax)
    await lax.connect(
        srv.host, srv.tls_port, "lax", tls=True, verify_cert=False, password="letmein"
    )
    pinned = IrcConnection(None, FAST)
    closing(pinned)
    reg = await pinned.connect(
        srv.host,
        srv.tls_port,
        "pinned",
        tls=True,
        ca_file=str(srv.cert_path),
        password="letmein",
    )
    assert reg.nick == "pinned"
    await pinned.send_line("JOIN #tls")
    await lax.send_line("JOIN #tls")
    await pinned.privmsg("#tls", "over TLS ✓")
    events = []
    async for event in lax.events():
        events.append(event)
        if isinstance(event, IrcEvent) and event.command == "PRIVMSG":
            break
    assert events[-1].param(1) == "over TLS ✓"
