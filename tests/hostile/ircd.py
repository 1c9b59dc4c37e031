"""A scripted hostile IRC server, and the seeded nasty lines it sends.

It registers clients like a minimal server (no CAP, 001-005, end of MOTD), answers JOIN with
a NAMES list and a topic, PING with PONG, LIST with a channel list whose names and topics
carry formatting and bytes that are not UTF-8. A test then makes it send the lines of
:func:`nasty_lines` (every line is bytes, ending in CRLF unless it is the last, cut one) and
close the link mid-line; it accepts the reconnect. With ``drop_after`` it closes a client's
link after that many PRIVMSGs from it, so private messages meet a link that is going away.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Iterator

SERVER = "hostile.irc"
CONTROL = [bytes([c]) for c in (*range(0x01, 0x20), 0x7F) if c not in (0x0A, 0x0D)]
FORMATTING = [b"\x02", b"\x03", b"\x034,12", b"\x0f", b"\x16", b"\x1d", b"\x1f", b"\x11"]
BAD_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3(", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
            b"\xc0\xaf", b"\x80", b"caf\xe9", b"\xf0\x9f\x92"]
NUMERICS_WITHOUT_PARAMETERS = [
    "001", "002", "004", "005", "301", "311", "312", "317", "318", "319", "324", "329",
    "331", "332", "333", "341", "352", "353", "366", "367", "368", "372", "375", "376",
    "401", "403", "404", "405", "421", "431", "432", "433", "437", "442", "443", "451",
    "461", "471", "473", "474", "475", "477", "482", "900", "903", "904", "321", "322", "323",
]
# Not ERROR or KILL: those legitimately end the link, which the attack ends with anyway.
COMMANDS_WITHOUT_PARAMETERS = [
    "PRIVMSG", "NOTICE", "JOIN", "PART", "KICK", "MODE", "NICK", "TOPIC", "QUIT", "INVITE",
    "PING", "PONG", "CAP", "AUTHENTICATE", "AWAY", "ACCOUNT", "CHGHOST", "BATCH", "TAGMSG",
    "WALLOPS",
]


class HostileClient:
    """One connection from the gateway."""

    def __init__(self, server: HostileIrcServer, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.nick = "*"
        self.user_seen = False
        self.registered = asyncio.Event()
        self.channels: list[str] = []
        self.joined = asyncio.Event()
        self.lines: list[str] = []
        self.privmsgs = 0

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    def reply(self, line: str) -> None:
        self.send(line.encode() + b"\r\n")

    def close(self) -> None:
        self.writer.close()

    async def run(self) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ValueError):
            while raw := await self.reader.readline():
                line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
                self.lines.append(line)
                self._answer(line)
                await self.writer.drain()

    def _answer(self, line: str) -> None:
        words = line.split(" ")
        command = words[0].upper()
        if command == "NICK" and len(words) > 1:
            self.nick = words[1].lstrip(":")
            self._welcome()
        elif command == "USER":
            self.user_seen = True
            self._welcome()
        elif command == "PING":
            self.reply(f":{SERVER} PONG {SERVER} :{line.partition(' ')[2].lstrip(':')}")
        elif command == "JOIN" and len(words) > 1:
            for channel in words[1].split(","):
                self._join(channel)
        elif command == "LIST":
            self.send(self.server.list_reply(self.nick))
        elif command == "PRIVMSG":
            self.privmsgs += 1
            if self.server.drop_after and self.privmsgs % self.server.drop_after == 0:
                self.send(b":" + SERVER.encode() + b" NOTICE " + self.nick.encode() + b" :bye n")
                self.close()
        elif command == "QUIT":
            self.reply(f"ERROR :Closing Link: {self.nick}")
            self.close()

    def _welcome(self) -> None:
        if self.registered.is_set() or self.nick == "*" or not self.user_seen:
            return
        n = self.nick
        for line in (f"001 {n} :Welcome to HostileNet {n}", f"002 {n} :Your host is {SERVER}",
                     f"003 {n} :created today", f"004 {n} {SERVER} h-1 iow biklmnopstv",
                     f"005 {n} CASEMAPPING=rfc1459 CHANTYPES=# PREFIX=(ov)@+ NICKLEN=30 "
                     "NETWORK=HostileNet :are supported", f"376 {n} :End of MOTD"):
            self.reply(f":{SERVER} {line}")
        self.registered.set()
        self.server.registrations += 1

    def _join(self, channel: str) -> None:
        n = self.nick
        self.reply(f":{n}!~u@hostile.host JOIN {channel}")
        self.reply(f":{SERVER} 332 {n} {channel} :a topic")
        self.reply(f":{SERVER} 353 {n} = {channel} :@op +voiced {n}")
        self.reply(f":{SERVER} 366 {n} {channel} :End of NAMES")
        self.channels.append(channel)
        self.joined.set()


class HostileIrcServer:
    """The listening side; ``clients`` in connection order."""

    def __init__(self, rng: random.Random, drop_after: int = 0) -> None:
        self.rng = rng
        self.drop_after = drop_after
        self.clients: list[HostileClient] = []
        self.registrations = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._new_client = asyncio.Event()

    async def __aenter__(self) -> HostileIrcServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for client in self.clients:
            client.close()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = HostileClient(self, reader, writer)
        self.clients.append(client)
        self._new_client.set()
        task = asyncio.current_task()
        assert task is not None
        self._tasks.append(task)
        await client.run()

    async def client(self, index: int, timeout: float = 10.0) -> HostileClient:
        """The ``index``-th connection, once it is registered."""
        async with asyncio.timeout(timeout):
            while len(self.clients) <= index:
                self._new_client.clear()
                await self._new_client.wait()
            await self.clients[index].registered.wait()
        return self.clients[index]

    def list_reply(self, nick: str) -> bytes:
        """A LIST answer whose names and topics carry formatting, controls and Latin-1."""
        rng = self.rng
        out = [f":{SERVER} 321 {nick} Channel :Users Name\r\n".encode()]
        for index in range(300):
            name = b"#l" + str(index).encode() + rng.choice([b"", *FORMATTING, *BAD_UTF8])
            topic = b"".join(rng.choice([b"topic ", b"caf\xe9 ", *FORMATTING, *CONTROL,
                                         *BAD_UTF8]) for _ in range(rng.randint(0, 12)))
            out.append(b":" + SERVER.encode() + b" 322 " + nick.encode() + b" " + name + b" "
                       + str(rng.randint(-5, 99999)).encode() + b" :" + topic + b"\r\n")
        out.append(f":{SERVER} 322 {nick}\r\n:{SERVER} 322 {nick} #x\r\n".encode())
        out.append(f":{SERVER} 323 {nick} :End of LIST\r\n".encode())
        return b"".join(out)


def _field(rng: random.Random, plain: str) -> bytes:
    """``plain`` with a hostile byte sequence in it (control, formatting or not UTF-8)."""
    nasty = rng.choice([*CONTROL, *FORMATTING, *BAD_UTF8, b"\x00"])
    cut = rng.randint(0, len(plain))
    return plain[:cut].encode() + nasty + plain[cut:].encode()


def nasty_lines(rng: random.Random, nick: str, channel: str,
                flood: int = 300) -> Iterator[tuple[str, bytes]]:
    """(kind, raw line) in a seeded order; the caller writes them in this order.

    Kinds: ``field`` (a hostile byte in every field of the common commands), ``overlong``,
    ``numeric`` and ``bare`` (numerics and commands without their parameters), ``names``,
    ``ctcp`` and ``notice`` floods, ``odd`` (framing oddities).
    """
    me, chan = nick.encode(), channel.encode()
    templates: list[Callable[[], bytes]] = [
        lambda: b":" + _field(rng, "evil") + b"!~" + _field(rng, "u") + b"@" + _field(rng, "h")
        + b" PRIVMSG " + chan + b" :" + _field(rng, "hello there"),
        lambda: b":evil!u@h PRIVMSG " + me + b" :" + _field(rng, "private hello"),
        lambda: b":evil!u@h NOTICE " + chan + b" :" + _field(rng, "notice"),
        lambda: b":" + SERVER.encode() + b" 332 " + me + b" " + chan + b" :" + _field(rng, "t"),
        lambda: b":evil!u@h TOPIC " + chan + b" :" + _field(rng, "new topic"),
        lambda: b":" + _field(rng, "joiner") + b"!u@h JOIN " + chan,
        lambda: b":" + _field(rng, "joiner") + b"!u@h PART " + chan + b" :" + _field(rng, "bye"),
        lambda: b":" + _field(rng, "someone") + b"!u@h QUIT :" + _field(rng, "gone"),
        lambda: b":evil!u@h NICK :" + _field(rng, "evil2"),
        lambda: b":evil!u@h KICK " + chan + b" " + _field(rng, "victim") + b" :" + _field(rng, "r"),
        lambda: b":evil!u@h MODE " + chan + b" +o " + _field(rng, "evil"),
        lambda: b":" + SERVER.encode() + b" 353 " + me + b" = " + chan + b" :@" + _field(rng, "a")
        + b" +" + _field(rng, "b"),
        lambda: b":evil!u@h PRIVMSG " + chan + b" :\x01ACTION " + _field(rng, "waves") + b"\x01",
        lambda: b"@" + _field(rng, "time=x") + b";msgid=" + _field(rng, "id")
        + b" :evil!u@h PRIVMSG " + chan + b" :tagged",
        lambda: b":evil!u@h INVITE " + me + b" " + _field(rng, "#other"),
        lambda: b":evil!u@h AWAY :" + _field(rng, "away"),
    ]
    lines: list[tuple[str, bytes]] = []
    for _ in range(400):
        lines.append(("field", rng.choice(templates)() + b"\r\n"))
    for size in (513, 4096, 8191, 8192, 65_536, 300_000):
        body = bytes(rng.choice(b"abcdefgh \x02\x03") for _ in range(size))
        lines.append(("overlong", b":evil!u@h PRIVMSG " + chan + b" :" + body + b"\r\n"))
    lines.append(("overlong", b"@" + b"a=b;" * 3000 + b" :evil!u@h PRIVMSG " + chan + b" :t\r\n"))
    for numeric in NUMERICS_WITHOUT_PARAMETERS:
        lines.append(("numeric", f":{SERVER} {numeric}\r\n".encode()))
        lines.append(("numeric", f":{SERVER} {numeric} {nick}\r\n".encode()))
    for command in COMMANDS_WITHOUT_PARAMETERS:
        lines.append(("bare", f"{command}\r\n".encode()))
        lines.append(("bare", f":evil!u@h {command}\r\n".encode()))
        lines.append(("bare", f":evil!u@h {command} :\r\n".encode()))
    for odd in (b"\r\n", b" \r\n", b":\r\n", b"@\r\n", b"@ \r\n", b":evil!u@h\r\n",
                b"\x00\r\n", b"\n\n\n", b"\r\r\r\n", b":evil!u@h PRIVMSG " + chan + b" :a\rb\n",
                b":evil!u@h PRIVMSG " + chan + b" :a\x00b\r\n", b"\xff\xfe\r\n"):
        lines.append(("odd", odd))
    for index in range(flood):
        names = b" ".join(_field(rng, f"n{index}x{k}") for k in range(rng.randint(1, 20)))
        lines.append(("names", b":" + SERVER.encode() + b" 353 " + me + b" = " + chan + b" :"
                      + names + b"\r\n"))
    lines.append(("names", b":" + SERVER.encode() + b" 366 " + me + b" " + chan + b" :End\r\n"))
    for index in range(flood):
        sender = f"c{index % 7}!u@h".encode()
        request = rng.choice([b"PING 1234", b"VERSION", b"TIME", b"CLIENTINFO", b"FINGER",
                              b"USERINFO", b"SOURCE", b"PING", b"", b"\x01", b"PING " + b"9" * 400])
        lines.append(("ctcp", b":" + sender + b" PRIVMSG " + me + b" :\x01" + request
                      + b"\x01\r\n"))
    for index in range(flood // 3):
        lines.append(("notice", b":s" + str(index).encode() + b"!u@h NOTICE " + me + b" :"
                      + _field(rng, "spam") + b"\r\n"))
    rng.shuffle(lines)
    yield from lines
