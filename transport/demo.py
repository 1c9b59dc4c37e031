"""A local demo: Prosody on free ports, the gateway attached, a demo user to log in with.

Everything lives in a temporary directory and stops with Ctrl-C; nothing is installed as a
service and no fixed port is assumed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import signal
import tempfile
from collections.abc import Sequence
from pathlib import Path

from transport.app import Application
from transport.logging_setup import setup_logging
from transport.testing.gateway import ComponentSpec, build_settings
from transport.testing.servers.prosody import ProsodyServer

log = logging.getLogger(__name__)

DOMAIN = "localhost"


def _instructions(server: ProsodyServer, password: str, components: Sequence[ComponentSpec]) -> str:
    lines = [
        "",
        "xmpp-transport demo is running.",
        "",
        "Log in with any XMPP client (Gajim, Dino, Profanity, Conversations on this machine):",
        f"  account   demo@{DOMAIN}",
        f"  password  {password}",
        f"  server    127.0.0.1, port {server.c2s_port} (plain TCP, no TLS: loopback only)",
        "",
        "Then try:",
    ]
    for c in components:
        if c.backend == "echo":
            lines += [
                f"  - register with {c.jid} (service discovery), any user name;",
                f"  - chat with anything@{c.jid}: every message comes back.",
            ]
    lines += ["", "Press Ctrl-C to stop.", ""]
    return "\n".join(lines)


async def run_demo(workdir: Path) -> None:
    components = [ComponentSpec("echo", f"echo.{DOMAIN}", secrets.token_hex(12))]
    server = ProsodyServer(components={c.jid: c.secret for c in components},
                           base_dir=workdir / "prosody")
    server.start()
    password = secrets.token_urlsafe(8)
    try:
        server.register_user("demo", password)
        settings = build_settings(
            "127.0.0.1", server.component_port, workdir / "transport.sqlite3", components,
            admins=[f"demo@{DOMAIN}"],
        )
        app = Application(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await app.start()
        try:
            await asyncio.gather(*(r.wait_online(15) for r in app.runtimes))
            print(_instructions(server, password, components), flush=True)
            await stop.wait()
        finally:
            await app.stop()
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m transport.demo", description=__doc__)
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--dir", type=Path, help="keep state here instead of a temp dir")
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    with contextlib.ExitStack() as stack:
        workdir = args.dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        workdir.mkdir(parents=True, exist_ok=True)
        asyncio.run(run_demo(workdir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
