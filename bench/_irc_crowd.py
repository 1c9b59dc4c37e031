"""XMPP clients for the IRC benchmark: the measuring user and a crowd in worker processes.

Every user is a ``TestClient`` (slixmpp) logged in to Prosody with its own account. A join of
N users to one channel makes the gateway send about N^2 occupant presences (every joiner
learns every occupant, every occupant learns every joiner: ~250,000 stanzas for N = 500), so
the crowd runs in a few worker processes (``multiprocessing``, spawn) that keep no inbox:
each client only tracks the occupants of the rooms it joined and the arrival time of marked
lines. Times are ``time.monotonic()`` -- CLOCK_MONOTONIC, comparable across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import ssl
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from transport.testing.xmpp_client import TestClient

MUC = "http://jabber.org/protocol/muc"
MUC_USER = f"{MUC}#user"
COMMANDS = "http://jabber.org/protocol/commands"
DATA = "jabber:x:data"
MARK = "fan "
"""Groupchat bodies starting with this are timestamped by every crowd client."""


class BenchClient(TestClient):
    """The measuring user: a TestClient made cheap enough not to compete with what it measures.

    The benchmark shares two cores with Prosody, the IRC server and the gateway, so the
    client's own CPU per line lowers every figure. ``tap`` sees each incoming stanza as a
    bare element, before slixmpp builds a stanza object or matches handlers, and returns
    True for the ones it consumed; ``send_groupchat`` writes a pre-rendered stanza. A burst
    of thousands of messages is counted without being built, matched or queued.
    """

    __test__ = False

    def __init__(self, jid: str, password: str, host: str, port: int) -> None:
        self.tap: Callable[[ET.Element], bool] | None = None
        super().__init__(jid, password, host, port)

    def _spawn_event(self, xml: ET.Element) -> None:
        if self.tap is not None and self.tap(xml):
            return
        super()._spawn_event(xml)

    def send_groupchat(self, room: str, body: str) -> None:
        self.send_raw(f"<message to={quoteattr(room)} type='groupchat'>"
                      f"<body>{escape(body)}</body></message>")


_CLIENT_MESSAGE = "{jabber:client}message"
_CLIENT_BODY = "{jabber:client}body"


def groupchat_body(xml: ET.Element) -> str | None:
    """The body of a groupchat message element, or None for anything else."""
    if xml.tag != _CLIENT_MESSAGE or xml.get("type") != "groupchat":
        return None
    body = xml.find(_CLIENT_BODY)
    return None if body is None else (body.text or "")


def status_codes(stanza: Any) -> set[str]:
    return {s.get("code", "") for s in stanza.xml.iter(f"{{{MUC_USER}}}status")}


def send_join(client: TestClient, room: str, nick: str) -> None:
    """A MUC join presence with no history (maxstanzas=0), as a bench client would send."""
    pres = client.make_presence(pto=f"{room}/{nick}")
    x = ET.SubElement(pres.xml, f"{{{MUC}}}x")
    ET.SubElement(x, f"{{{MUC}}}history", {"maxstanzas": "0"})
    pres.send()


async def configure_biboumi(client: TestClient, server_jid: str, port: int,
                            timeout: float = 20.0) -> None:
    """biboumi's ad-hoc ``configure`` on a server JID: plain port ``port``, no TLS ports,
    ``throttle_limit`` -1 (no per-user flood throttle). The settings are per user."""
    iq = client.make_iq_set(ito=server_jid)
    ET.SubElement(iq.xml, f"{{{COMMANDS}}}command", {"node": "configure", "action": "execute"})
    first = await iq.send(timeout=timeout)
    command = first.xml.find(f"{{{COMMANDS}}}command")
    if command is None or not command.get("sessionid"):
        raise RuntimeError(f"biboumi configure: no session in {first}")
    iq = client.make_iq_set(ito=server_jid)
    cmd = ET.SubElement(iq.xml, f"{{{COMMANDS}}}command", {
        "node": "configure", "action": "complete", "sessionid": command.get("sessionid", "")})
    form = ET.SubElement(cmd, f"{{{DATA}}}x", {"type": "submit"})
    for var, values in (("ports", [str(port)]), ("tls_ports", []),
                        ("throttle_limit", ["-1"]), ("verify_cert", ["false"])):
        field = ET.SubElement(form, f"{{{DATA}}}field", {"var": var})
        for value in values:
            ET.SubElement(field, f"{{{DATA}}}value").text = value
    done = await iq.send(timeout=timeout)
    command = done.xml.find(f"{{{COMMANDS}}}command")
    if command is None or command.get("status") != "completed":
        raise RuntimeError(f"biboumi configure not completed: {done}")


class CrowdClient(TestClient):
    """A crowd member: occupants per joined room, join outcome, arrival of marked lines."""

    __test__ = False

    def __init__(self, jid: str, password: str, host: str, port: int) -> None:
        self.rooms: dict[str, str] = {}  # room -> our nick
        self.occupants: dict[str, set[str]] = {}
        self.join_done: dict[str, asyncio.Future[str]] = {}
        self.marks: dict[str, float] = {}
        self.stanzas = 0
        # slixmpp loads the system CA store into two SSL contexts per client (~50 ms, ~1 MB);
        # these clients never use TLS (plain loopback), so skip that while constructing.
        original = ssl.SSLContext.set_default_verify_paths
        ssl.SSLContext.set_default_verify_paths = lambda _self: None  # type: ignore[method-assign]
        try:
            super().__init__(jid, password, host, port)
        finally:
            ssl.SSLContext.set_default_verify_paths = original  # type: ignore[method-assign]

    def _collect(self, stanza: Any) -> None:
        self.stanzas += 1
        frm = stanza["from"]
        room = frm.bare
        if stanza.name == "message":
            body = stanza["body"]
            if body.startswith(MARK) and body not in self.marks:
                self.marks[body] = time.monotonic()
            return
        if stanza.name != "presence" or room not in self.rooms:
            return
        kind = stanza["type"]
        done = self.join_done.get(room)
        if kind == "error":
            if done is not None and not done.done():
                done.set_result(f"error {stanza['error']['condition']}")
            return
        occupants = self.occupants.setdefault(room, set())
        if kind == "unavailable":
            occupants.discard(frm.resource)
            return
        occupants.add(frm.resource)
        if done is not None and not done.done() and "110" in status_codes(stanza):
            done.set_result("ok")

    async def join_room(self, room: str, nick: str, timeout: float) -> str:
        self.rooms[room] = nick
        self.occupants[room] = set()
        fut = self.join_done[room] = asyncio.get_running_loop().create_future()
        send_join(self, room, nick)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return "timeout"

    def reset(self) -> None:
        self.rooms.clear()
        self.occupants.clear()
        self.join_done.clear()
        self.marks.clear()


# ----------------------------------------------------------------------------- worker side

async def _bounded(items: Sequence[Any], limit: int, fn: Callable[[Any], Any]) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def one(item: Any) -> Any:
        async with sem:
            try:
                return await fn(item)
            except Exception as exc:  # reported to the main process, never fatal here
                return f"{type(exc).__name__}: {exc}"

    return list(await asyncio.gather(*(one(i) for i in items)))


class _Worker:
    """The crowd clients of one worker process and the commands the main process sends."""

    def __init__(self, names: list[str], password: str, domain: str, host: str,
                 port: int) -> None:
        self.clients = {name: CrowdClient(f"{name}@{domain}/crowd", password, host, port)
                        for name in names}
        self.joined: list[tuple[CrowdClient, str]] = []

    async def login(self, arg: dict[str, Any]) -> list[Any]:
        async def one(c: CrowdClient) -> str:
            await c.login(timeout=60)
            return "ok"
        return await _bounded(list(self.clients.values()), arg["concurrency"], one)

    async def configure_biboumi(self, arg: dict[str, Any]) -> list[Any]:
        async def one(c: CrowdClient) -> str:
            await configure_biboumi(c, arg["server_jid"], arg["port"])
            return "ok"
        chosen = [self.clients[n] for n in arg["names"]]
        return await _bounded(chosen, arg["concurrency"], one)

    async def join(self, arg: dict[str, Any]) -> list[Any]:
        async def one(job: tuple[str, str, str]) -> str:
            name, room, nick = job
            outcome = await self.clients[name].join_room(room, nick, arg["timeout"])
            if outcome == "ok":
                self.joined.append((self.clients[name], room))
            return outcome
        return await _bounded(arg["jobs"], arg["concurrency"], one)

    async def settle(self, arg: dict[str, Any]) -> list[int]:
        """Until every joined client sees at least ``expected`` occupants in its room."""
        deadline = time.monotonic() + arg["timeout"]
        while time.monotonic() < deadline:
            if all(len(c.occupants.get(r, ())) >= arg["expected"] for c, r in self.joined):
                break
            await asyncio.sleep(0.1)
        return [len(c.occupants.get(r, ())) for c, r in self.joined]

    async def marks(self, arg: dict[str, Any]) -> list[float | None]:
        """Until every joined client received the line ``body``; arrival times."""
        deadline = time.monotonic() + arg["timeout"]
        while time.monotonic() < deadline:
            if all(arg["body"] in c.marks for c, _ in self.joined):
                break
            await asyncio.sleep(0.005)
        return [c.marks.get(arg["body"]) for c, _ in self.joined]

    async def stanzas(self, _arg: Any) -> int:
        return sum(c.stanzas for c in self.clients.values())

    async def reset(self, _arg: Any) -> None:
        for c in self.clients.values():
            c.reset()
        self.joined.clear()

    async def serve(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                cmd, arg = await loop.run_in_executor(None, conn.recv)
                if cmd == "stop":
                    break
                start = time.monotonic()
                result = await getattr(self, cmd)(arg)
                conn.send(("ok", result, time.monotonic() - start))
        finally:
            await asyncio.gather(*(c.logout() for c in self.clients.values()),
                                 return_exceptions=True)
            with contextlib.suppress(Exception):
                conn.send(("stopped", None, 0.0))


def worker_main(conn: Connection, names: list[str], password: str, domain: str,
                host: str, port: int) -> None:
    async def run() -> None:
        # Constructed inside the running loop: slixmpp binds to the loop it finds.
        await _Worker(names, password, domain, host, port).serve(conn)

    asyncio.run(run())


# ----------------------------------------------------------------------------- main side

class Crowd:
    """``len(names)`` XMPP users spread round-robin over ``workers`` processes."""

    def __init__(self, names: Sequence[str], password: str, domain: str, host: str,
                 port: int, workers: int) -> None:
        self.names = list(names)
        self.workers = max(1, min(workers, len(self.names)))
        self.parts = [self.names[i::self.workers] for i in range(self.workers)]
        self.owner = {name: i for i, part in enumerate(self.parts) for name in part}
        ctx = multiprocessing.get_context("spawn")
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        for part in self.parts:
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=worker_main, daemon=True,
                               args=(theirs, part, password, domain, host, port))
            self.conns.append(ours)
            self.procs.append(proc)
        self.pids: list[int] = []

    def start(self) -> None:
        for proc in self.procs:
            proc.start()
        self.pids = [p.pid for p in self.procs]

    async def _call(self, index: int, cmd: str, arg: Any, timeout: float) -> Any:
        conn = self.conns[index]
        conn.send((cmd, arg))
        loop = asyncio.get_running_loop()
        ready = await loop.run_in_executor(None, conn.poll, timeout)
        if not ready:
            raise TimeoutError(f"crowd worker {index} did not answer {cmd} in {timeout:.0f} s")
        status, result, _elapsed = conn.recv()
        if status != "ok":
            raise RuntimeError(f"crowd worker {index}: {status}")
        return result

    async def all(self, cmd: str, arg: Any = None, timeout: float = 300.0) -> list[Any]:
        """Run ``cmd`` in every worker; the per-worker results, in worker order."""
        return list(await asyncio.gather(
            *(self._call(i, cmd, arg, timeout) for i in range(self.workers))))

    async def each(self, cmd: str, per_worker: list[dict[str, Any]],
                   timeout: float = 300.0) -> list[Any]:
        return list(await asyncio.gather(
            *(self._call(i, cmd, per_worker[i], timeout) for i in range(self.workers))))

    def split(self, jobs: Sequence[tuple[str, str, str]]) -> list[list[tuple[str, str, str]]]:
        out: list[list[tuple[str, str, str]]] = [[] for _ in range(self.workers)]
        for job in jobs:
            out[self.owner[job[0]]].append(job)
        return out

    def split_names(self, names: Sequence[str]) -> list[list[str]]:
        out: list[list[str]] = [[] for _ in range(self.workers)]
        for name in names:
            out[self.owner[name]].append(name)
        return out

    def stop(self) -> None:
        """Ask every worker to log out and exit; terminate (by PID) what does not."""
        for conn in self.conns:
            with contextlib.suppress(Exception):
                conn.send(("stop", None))
        deadline = time.monotonic() + 10
        for proc in self.procs:
            if proc.pid is None:
                continue
            proc.join(max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
