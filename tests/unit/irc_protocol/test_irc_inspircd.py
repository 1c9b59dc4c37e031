"""IRCv3 against a real InspIRCd 3: CAP LS 302, server-time, echo-message, message-tags, ...

Each InspIRCd registration takes about a second, so connections are made concurrently and
shared by the whole module.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from transport.backends.irc.protocol import ConnectionOptions, IrcConnection, IrcEvent
from transport.testing.servers import InspircdServer

from .conftest import Recorder

pytestmark = [
    pytest.mark.timeout(60),
]

WANTED_IRCV3 = {
    "multi-prefix",
    "server-time",
    "message-tags",
    "echo-message",
    "away-notify",
    "account-tag",
    "chghost",
    "cap-notify",
    "userhost-in-names",
}


@pytest.fixture(scope="module")
def inspircd_srv():
    with InspircdServer() as srv:
        yield srv


def is_cmd(command: str, *params: str | None):
    def pred(e) -> bool:
        return (
            isinstance(e, IrcEvent)
            and e.command == command
            and all(e.param(i) == p for i, p in enumerate(params) if p is not None)
        )

    return pred


async def test_ircv3_features(inspircd_srv):
    rec_a, rec_b = Recorder(), Recorder()
    opts = ConnectionOptions(rate=0, welcome_grace=0.5)
    a, b = IrcConnection(rec_a, opts), IrcConnection(rec_b, opts)
    try:
        start = time.monotonic()
        reg_a, _ = await asyncio.gather(
            a.connect(inspircd_srv.host, inspircd_srv.port, "Alice[1]", username="alice"),
            b.connect(inspircd_srv.host, inspircd_srv.port, "bob", realname="Bob B."),
        )
        assert time.monotonic() - start < 3  # the two ~1 s registrations overlap

        # CAP LS 302: everything we asked for that InspIRCd offers (no services: no sasl).
        assert reg_a.caps == WANTED_IRCV3
        assert "sasl" not in a.caps
        isup = reg_a.isupport
        assert isup.casemapping == "rfc1459" and isup.network == "TestNet"
        assert isup.linelen == 512 and isup.prefix == ("ov", "@+")
        assert a.me.mask == "Alice[1]!alice@127.0.0.1"

        # rfc1459 casemapping: "#Room[1]" and "#room{1}" are one channel.
        await a.send_line("JOIN #Room[1]")
        await rec_a.wait_for(is_cmd("366", None, "#Room[1]"))
        await b.send_line("JOIN #room{1}")
        names = await rec_b.wait_for(is_cmd("353"))
        end = await rec_b.wait_for(is_cmd("366"))
        assert isup.equal(end.param(1), "#room{1}")
        # multi-prefix + userhost-in-names: "@Alice[1]!alice@127.0.0.1"
        entries = dict(isup.split_prefixes(n)[::-1] for n in names.param(3).split())
        assert entries["Alice[1]!alice@127.0.0.1"] == "o"
        assert entries["bob!bob@127.0.0.1"] == ""

        # echo-message + server-time + msgid: our own message comes back tagged, after the
        # write future resolved.
        before = time.time()
        written = a.enqueue("PRIVMSG #room{1} :hello ircv3")
        await written
        echo = await rec_a.wait_for(is_cmd("PRIVMSG", None, "hello ircv3"))
        assert echo.nick == "Alice[1]" and "msgid" in echo.tags
        assert echo.time is not None and before - 2 <= echo.time <= time.time() + 2
        seen = await rec_b.wait_for(is_cmd("PRIVMSG", None, "hello ircv3"))
        assert seen.tags["msgid"] == echo.tags["msgid"]

        # message-tags: client-only tags travel (escaped) on TAGMSG.
        await a.send_line("@+example=a\\sb\\:c\\\\d TAGMSG #room{1}")
        tagmsg = await rec_b.wait_for(is_cmd("TAGMSG"))
        assert tagmsg.tags["+example"] == "a b;c\\d"

        # away-notify
        await b.send_line("AWAY :gone fishing")
        away = await rec_a.wait_for(is_cmd("AWAY"))
        assert away.nick == "bob" and away.param(0) == "gone fishing"

        # A burst with echo-message: echoes arrive complete and in order.
        await asyncio.gather(*(a.enqueue(f"PRIVMSG #room{{1}} :n{i}") for i in range(100)))
        await rec_b.wait_for(is_cmd("PRIVMSG", None, "n99"))
        await rec_a.wait_for(is_cmd("PRIVMSG", None, "n99"))
        for rec in (rec_a, rec_b):
            got = [e.param(1) for e in rec.commands("PRIVMSG") if e.param(1).startswith("n")]
            assert got == [f"n{i}" for i in range(100)]

        # CR/LF through the send paths never becomes a command on InspIRCd either.
        await a.privmsg("#room{1}", "x\r\nKICK #room{1} bob\rQUIT :pwned")
        await rec_b.wait_for(is_cmd("PRIVMSG", None, "QUIT :pwned"))
        assert not rec_b.commands("KICK") and b.state == "registered"
    finally:
        await asyncio.gather(a.quit("done"), b.quit("done"))
