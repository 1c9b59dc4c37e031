"""The real-server fixtures really work: handshakes, logins, restarts, IRC registration."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import slixmpp

from transport.testing.servers import (
    EjabberdServer,
    InspircdServer,
    NgircdServer,
    ProsodyServer,
    ServerStartError,
    free_port,
    free_ports,
    listening_ports,
    scratch,
    wait_for_port,
    wait_for_port_async,
)
from transport.testing.servers.defaults import ECHO, SMS, component_secret

pytestmark = pytest.mark.timeout(90)

HOST = "127.0.0.1"

# ---------------------------------------------------------------------------- XMPP helpers


class RawComponent:
    """A bare XEP-0114 client over a TCP socket: no library between us and the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buffer = b""

    @classmethod
    async def connect(cls, port: int) -> RawComponent:
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(reader, writer)

    async def read_until(self, pattern: bytes, timeout: float = 10.0) -> re.Match[bytes]:
        async with asyncio.timeout(timeout):
            while (match := re.search(pattern, self.buffer, re.DOTALL)) is None:
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionError(f"closed; received so far: {self.buffer!r}")
                self.buffer += data
        return match

    async def handshake(self, domain: str, secret: str) -> bool:
        """Open the stream and authenticate with sha1(stream id + secret)."""
        self.writer.write(
            b"<stream:stream xmlns='jabber:component:accept' "
            b"xmlns:stream='http://etherx.jabber.org/streams' to='%s'>" % domain.encode()
        )
        header = await self.read_until(rb"<stream:stream\b[^>]*>")
        stream_id = re.search(rb"""\sid=['"]([^'"]+)['"]""", header.group(0))
        assert stream_id, header.group(0)
        digest = hashlib.sha1(stream_id.group(1) + secret.encode()).hexdigest()
        self.writer.write(b"<handshake>%s</handshake>" % digest.encode())
        reply = await self.read_until(rb"<handshake\s*/>|<handshake>\s*</handshake>|stream:error")
        return reply.group(0).startswith(b"<handshake")

    async def ping_server(self, domain: str, server_domain: str) -> None:
        """An IQ round trip: proves the server routes stanzas for the component."""
        self.writer.write(
            b"<iq type='get' id='p1' from='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
            % (domain.encode(), server_domain.encode())
        )
        await self.read_until(rb"<iq\b[^>]*\bid=['\"]p1['\"]")

    async def wait_closed(self, timeout: float = 10.0) -> None:
        """Wait for the server to end the connection (EOF or reset)."""
        async with asyncio.timeout(timeout):
            try:
                while await self.reader.read(65536):
                    pass
            except ConnectionError:
                pass

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def component_connects(port: int, domain: str, secret: str) -> bool:
    component = await RawComponent.connect(port)
    try:
        return await component.handshake(domain, secret)
    finally:
        await component.close()


async def client_login(port: int, jid: str, password: str, timeout: float = 15.0) -> None:
    """Log in with slixmpp over plain TCP (slixmpp 1.17 refuses it unless told to)."""
    client = slixmpp.ClientXMPP(jid, password)
    client.enable_direct_tls = False
    client.enable_starttls = False
    client.enable_plaintext = True
    client.plugin["feature_mechanisms"].unencrypted_scram = True
    loop = asyncio.get_running_loop()
    session: asyncio.Future[None] = loop.create_future()

    def done(exc: Exception | None) -> None:
        if not session.done():
            session.set_exception(exc) if exc else session.set_result(None)

    client.add_event_handler("session_start", lambda _: done(None))
    client.add_event_handler("failed_all_auth", lambda _: done(PermissionError("auth failed")))
    client.add_event_handler(
        "connection_failed", lambda e: done(ConnectionError(f"connection failed: {e}"))
    )
    client.connect(HOST, port)
    try:
        await asyncio.wait_for(session, timeout)
    finally:
        await client.disconnect()


# ---------------------------------------------------------------------------- ports


def test_free_port_is_bindable_and_wait_for_port() -> None:
    port = free_port()
    with pytest.raises(TimeoutError):
        wait_for_port(HOST, port, timeout=0.1)
    with socket.socket() as sock:
        sock.bind((HOST, port))
        sock.listen()
        wait_for_port(HOST, port, timeout=2)
        assert port in (listening_ports(os.getpid()) or {port})
    assert len(set(free_ports(5))) == 5


async def test_wait_for_port_async() -> None:
    port = free_port()
    with pytest.raises(TimeoutError):
        await wait_for_port_async(HOST, port, timeout=0.1)
    with socket.socket() as sock:
        sock.bind((HOST, port))
        sock.listen()
        await wait_for_port_async(HOST, port, timeout=2)


# ---------------------------------------------------------------------------- Prosody


async def test_prosody_component_handshake(prosody: ProsodyServer) -> None:
    component = await RawComponent.connect(prosody.component_port)
    try:
        assert await component.handshake(ECHO, component_secret(ECHO))
        await component.ping_server(ECHO, prosody.domain)
    finally:
        await component.close()
    assert not await component_connects(prosody.component_port, SMS, "wrong-secret")


async def test_prosody_register_and_login(prosody: ProsodyServer) -> None:
    jid = await prosody.aregister_user("alice", "alice-pw")
    assert jid == "alice@localhost"
    await client_login(prosody.c2s_port, jid, "alice-pw")
    prosody.register_user("bob", "bob-pw")
    with pytest.raises(PermissionError):
        await client_login(prosody.c2s_port, "bob@localhost", "wrong")
    prosody.register_user("bob", "new-pw")  # an existing account gets the new password
    await client_login(prosody.c2s_port, "bob@localhost", "new-pw")


async def test_prosody_restart_keeps_ports_and_data(
    fresh_prosody: Callable[..., ProsodyServer],
) -> None:
    server = fresh_prosody()
    ports, first_pid = (server.c2s_port, server.component_port), server.pid
    server.register_user("carol", "carol-pw")
    component = await RawComponent.connect(server.component_port)
    assert await component.handshake(SMS, component_secret(SMS))

    await server.arestart()  # SIGTERM
    await component.wait_closed()  # the old stream really went away
    assert (server.c2s_port, server.component_port) == ports
    assert server.pid not in (None, first_pid)
    assert await component_connects(server.component_port, SMS, component_secret(SMS))
    await client_login(server.c2s_port, "carol@localhost", "carol-pw")

    component = await RawComponent.connect(server.component_port)
    assert await component.handshake(SMS, component_secret(SMS))
    server.restart(kill=True)  # a crash
    await component.wait_closed()
    assert (server.c2s_port, server.component_port) == ports
    assert await component_connects(server.component_port, SMS, component_secret(SMS))
    await client_login(server.c2s_port, "carol@localhost", "carol-pw")


async def test_prosody_kill_and_start_again(fresh_prosody: Callable[..., ProsodyServer]) -> None:
    server = fresh_prosody({"echo.localhost": "other-secret"})
    await server.akill()
    assert server.pid is None
    assert not any(_accepts(p) for p in (server.c2s_port, server.component_port))
    await server.astart()
    assert await component_connects(server.component_port, ECHO, "other-secret")


async def test_prosody_privilege_config_loads(fresh_prosody: Callable[..., ProsodyServer]) -> None:
    """mod_privilege (prosody-modules) set up through the extra_* hooks grants its rights."""
    server = fresh_prosody(
        {SMS: "priv-secret"},
        extra_modules=["privilege"],
        extra_vhost=[
            f'privileged_entities = {{ ["{SMS}"] = {{ roster = "both"; message = "outgoing" }} }}'
        ],
        extra_component={SMS: ['modules_enabled = { "privilege" }']},
    )
    component = await RawComponent.connect(server.component_port)
    try:
        assert await component.handshake(SMS, "priv-secret")
        advert = await component.read_until(
            rb"<privilege xmlns=['\"]urn:xmpp:privilege:2.*?</message>"
        )
        assert b"roster" in advert.group(0) and b"outgoing" in advert.group(0)
    finally:
        await component.close()


def test_prosody_module_load_failure_is_a_start_failure() -> None:
    server = ProsodyServer(extra_modules=["no_such_module"])
    try:
        with pytest.raises(ServerStartError, match="Unable to load module 'no_such_module'"):
            server.start()
    finally:
        server.close()


def test_prosody_start_failure_reports_log_tail() -> None:
    server = ProsodyServer(extra_global=["this is ( not lua"])
    try:
        with pytest.raises(ServerStartError, match="syntax error"):
            server.start()
        assert server.pid is None
    finally:
        server.close()


def test_port_collision_is_retried_on_fresh_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prosody keeps running when it cannot bind; we notice and start again elsewhere."""
    with socket.socket() as squatter:
        squatter.bind((HOST, 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        real = ProsodyServer._assign_ports
        calls = []

        def first_port_taken(self: ProsodyServer) -> None:
            real(self)
            if not calls:
                self.c2s_port = taken
            calls.append(self.c2s_port)

        monkeypatch.setattr(ProsodyServer, "_assign_ports", first_port_taken)
        with ProsodyServer() as server:
            assert calls[0] == taken and len(calls) == 2
            assert server.c2s_port != taken
            assert server.output_path.read_text().count("starting:") == 2


def test_close_leaves_no_process_and_no_directory() -> None:
    server = ProsodyServer().start()
    pid, directory = server.pid, server.dir
    assert pid is not None and directory.is_dir()
    server.close()
    assert not directory.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def _gone(pid: int) -> bool:
    """Dead: no such process, or a zombie waiting for init to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


ORPHAN_SCRIPT = """
import sys, time
from transport.testing.servers import InspircdServer, NgircdServer, ProsodyServer
servers = [ProsodyServer({"a.localhost": "x"}).start(), NgircdServer().start(),
           InspircdServer().start()]
print(" ".join(f"{s.pid}:{s.dir}" for s in servers), flush=True)
time.sleep(120)
"""


def test_killed_test_run_takes_its_servers_along(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGKILL of the test process (no finalizers run) still stops every server, and the
    next run sweeps the directories it left behind."""
    runner = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_SCRIPT], stdout=subprocess.PIPE, text=True
    )
    try:
        assert runner.stdout is not None
        started = [entry.split(":", 1) for entry in runner.stdout.readline().split()]
    finally:
        runner.kill()
        runner.wait()
    assert len(started) == 3
    deadline = time.monotonic() + 10
    while not all(_gone(int(pid)) for pid, _ in started):
        assert time.monotonic() < deadline, "a server outlived its killed parent"
        time.sleep(0.05)
    assert all(Path(d).is_dir() for _, d in started)  # nobody cleaned up...
    monkeypatch.setattr(scratch, "_swept", set())
    ProsodyServer().close()  # ...until the next server of that kind is created
    scratch.sweep_stale_dirs("ngircd")
    scratch.sweep_stale_dirs("inspircd")
    assert not any(Path(d).exists() for _, d in started)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=0.5).close()
    except OSError:
        return False
    return True


# ---------------------------------------------------------------------------- ejabberd


@pytest.mark.ejabberd
async def test_ejabberd_component_handshake(ejabberd: EjabberdServer) -> None:
    component = await RawComponent.connect(ejabberd.component_port)
    try:
        assert await component.handshake(ECHO, component_secret(ECHO))
        await component.ping_server(ECHO, ejabberd.domain)
    finally:
        await component.close()
    assert not await component_connects(ejabberd.component_port, SMS, "wrong-secret")


@pytest.mark.ejabberd
async def test_ejabberd_register_and_login(ejabberd: EjabberdServer) -> None:
    jid = await ejabberd.aregister_user("alice", "alice-pw")
    await client_login(ejabberd.c2s_port, jid, "alice-pw")
    assert "alice" in ejabberd.api("registered_users", {"host": ejabberd.domain})
    with pytest.raises(PermissionError):
        await client_login(ejabberd.c2s_port, jid, "wrong")
    ejabberd.register_user("alice", "new-pw")  # as with prosodyctl: a new password
    await client_login(ejabberd.c2s_port, jid, "new-pw")


@pytest.mark.ejabberd
async def test_ejabberd_restart_keeps_ports_and_data(
    fresh_ejabberd: Callable[..., EjabberdServer],
) -> None:
    server = fresh_ejabberd()
    ports = (server.c2s_port, server.component_port, server.http_port)
    server.register_user("carol", "carol-pw")
    component = await RawComponent.connect(server.component_port)
    assert await component.handshake(SMS, component_secret(SMS))

    await server.arestart()  # SIGTERM: Mnesia is flushed, the account survives
    await component.wait_closed()
    assert (server.c2s_port, server.component_port, server.http_port) == ports
    assert await component_connects(server.component_port, SMS, component_secret(SMS))
    await client_login(server.c2s_port, "carol@localhost", "carol-pw")

    component = await RawComponent.connect(server.component_port)
    assert await component.handshake(SMS, component_secret(SMS))
    await server.arestart(kill=True)  # a crash (writes of the last ~1 s would be lost)
    await component.wait_closed()
    assert await component_connects(server.component_port, SMS, component_secret(SMS))
    await client_login(server.c2s_port, "carol@localhost", "carol-pw")


@pytest.mark.ejabberd
def test_ejabberd_bad_config_reports_log_tail() -> None:
    server = EjabberdServer(extra_config={"no_such_option": True})
    try:
        with pytest.raises(ServerStartError, match="no_such_option"):
            server.start()
    finally:
        server.close()


# ---------------------------------------------------------------------------- IRC helpers


class IrcClient:
    """A line-based IRC client on a raw socket, for checking the servers themselves."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.lines: list[str] = []

    @classmethod
    async def connect(cls, port: int) -> IrcClient:
        return cls(*await asyncio.open_connection(HOST, port))

    def send(self, *lines: str) -> None:
        self.writer.write("".join(f"{line}\r\n" for line in lines).encode())

    async def expect(self, pattern: str, timeout: float = 10.0) -> str:
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.reader.readline()
                if not raw:
                    raise ConnectionError(f"closed; got {self.lines[-5:]}")
                line = raw.decode(errors="replace").rstrip("\r\n")
                self.lines.append(line)
                if line.startswith("PING "):
                    self.send("PONG " + line[5:])
                if re.search(pattern, line):
                    return line

    async def register(self, nick: str) -> str:
        self.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        return await self.expect(rf"^:\S+ 001 {nick} ")

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def burst_through_channel(port: int, count: int) -> float:
    """Seconds for ``count`` PRIVMSGs written at once to reach another channel member."""
    sender, receiver = await IrcClient.connect(port), await IrcClient.connect(port)
    try:
        await asyncio.gather(sender.register("sender"), receiver.register("receiver"))
        receiver.send("JOIN #burst")
        await receiver.expect(r" 366 ")
        sender.send("JOIN #burst")
        await sender.expect(r" 366 ")
        start = time.monotonic()
        sender.send(*(f"PRIVMSG #burst :line {i}" for i in range(count)))
        await receiver.expect(rf"PRIVMSG #burst :line {count - 1}$", timeout=60)
        return time.monotonic() - start
    finally:
        await sender.close()
        await receiver.close()


# ---------------------------------------------------------------------------- ngIRCd


async def test_ngircd_registration(ngircd: NgircdServer) -> None:
    client = await IrcClient.connect(ngircd.port)
    try:
        welcome = await client.register("alice")
        assert welcome.startswith(f":{ngircd.name} 001 alice ")
    finally:
        await client.close()


async def test_ngircd_has_no_flood_penalty(ngircd: NgircdServer) -> None:
    # With ngIRCd's default penalties 100 lines take ~31 s.
    assert await burst_through_channel(ngircd.port, 1000) < 5


def test_ngircd_restart_keeps_port() -> None:
    with NgircdServer() as server:
        port, pid = server.port, server.pid
        server.restart()
        assert server.port == port and server.pid != pid
        wait_for_port(HOST, port, timeout=1)


def test_ngircd_port_collision_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """ngIRCd exits when it cannot bind; we start again on a fresh port."""
    with socket.socket() as squatter:
        squatter.bind((HOST, 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        real = NgircdServer._assign_ports
        calls = []

        def first_port_taken(self: NgircdServer) -> None:
            real(self)
            if not calls:
                self.port = taken
            calls.append(self.port)

        monkeypatch.setattr(NgircdServer, "_assign_ports", first_port_taken)
        with NgircdServer() as server:
            assert len(calls) == 2 and server.port != taken


# ---------------------------------------------------------------------------- InspIRCd


async def test_inspircd_registration_and_ircv3_caps(inspircd: InspircdServer) -> None:
    client = await IrcClient.connect(inspircd.port)
    try:
        client.send("CAP LS 302", "NICK alice", "USER alice 0 * :alice")
        caps: set[str] = set()
        while True:  # CAP LS 302 may span several lines: "CAP * LS * :..." then "CAP * LS :..."
            line = await client.expect(r" CAP \S+ LS ")
            caps |= {c.split("=")[0] for c in line.split(" :", 1)[1].split()}
            if not re.search(r" CAP \S+ LS \* :", line):
                break
        assert {"server-time", "echo-message", "message-tags", "multi-prefix"} <= caps
        client.send("CAP REQ :server-time echo-message")
        await client.expect(r" CAP \S+ ACK :")
        client.send("CAP END")
        await client.expect(r"^(@\S+ )?:\S+ 001 alice ")
        client.send("JOIN #caps", "PRIVMSG #caps :hello")
        echoed = await client.expect(r"PRIVMSG #caps :hello$")
        assert echoed.startswith("@") and "time=" in echoed.split(" ", 1)[0]
    finally:
        await client.close()


async def test_inspircd_has_no_flood_limits(inspircd: InspircdServer) -> None:
    # With InspIRCd's default netbuffersize this burst (~40 KB) takes about 4 s.
    assert await burst_through_channel(inspircd.port, 2000) < 3
