"""A local demo: Prosody on free ports, the gateway attached, a demo user to log in with.

Components: ``echo`` and ``sms`` (wired to the local Twilio stand-in, with a number pool
the demo user can register and a command to "text" them); ``irc`` (with a local ngIRCd and
a ready channel) when that backend is installed. Everything lives in a temporary directory
and stops with Ctrl-C; nothing is installed as a service and no fixed port is assumed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import secrets
import shlex
import signal
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from transport.app import Application
from transport.config import MetricsSettings
from transport.core.registry import load_backends
from transport.demo_state import DemoState
from transport.logging_setup import setup_logging
from transport.testing.gateway import ComponentSpec, build_settings
from transport.testing.servers.ircd import NgircdServer
from transport.testing.servers.prosody import ProsodyServer
from transport.testing.twilio import TwilioStandIn

log = logging.getLogger(__name__)

DOMAIN = "localhost"
DEMO_NUMBERS = ("+12125550142", "+12125550143")
DEMO_FRIEND = "+16465550199"
DEMO_CHANNEL = "#demo"


@dataclass
class DemoParts:
    """What the demo started, for the instructions and the clean-up."""

    components: list[ComponentSpec] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    standin: TwilioStandIn | None = None
    ircd: NgircdServer | None = None


async def _sms_part(parts: DemoParts, workdir: Path, state: DemoState) -> None:
    account, token = state.account_sid, state.auth_token
    standin = TwilioStandIn({account: token}, {account: list(DEMO_NUMBERS)},
                            port=state.port("standin.port"))
    await standin.start()
    parts.standin = standin
    port = state.port("webhook.port")
    public = f"http://127.0.0.1:{port}"
    for number in DEMO_NUMBERS:
        standin.set_sms_url(number, f"{public}/twilio/sms")
    jid = f"sms.{DOMAIN}"
    parts.components.append(ComponentSpec("sms", jid, secrets.token_hex(12), {
        "default_region": "US",
        "registration": "open",
        "twilio": {"account_sid": account, "auth_token": token, "numbers": list(DEMO_NUMBERS),
                   "api_base_url": standin.url, "messages_per_second": 0},
        "webhook": {"listen_host": "127.0.0.1", "listen_port": port, "public_url": public},
        "media": {"dir": str(workdir / "sms-media")},
    }))
    text_cmd = [
        sys.executable, "-m", "transport.testing.twilio", "send-inbound", "--url", standin.url,
        "--account-sid", account, "--auth-token", token, "--to", DEMO_NUMBERS[0],
        "--from", DEMO_FRIEND, "--body", "Hello from a phone!",
    ]
    parts.lines += [
        f"  SMS ({jid}, Twilio replaced by a local stand-in at {standin.url}):",
        f"  - register with {jid}, phone number {DEMO_NUMBERS[0]} (or {DEMO_NUMBERS[1]});",
        f"  - text {DEMO_FRIEND}@{jid}: the stand-in accepts it and reports it delivered;",
        "  - have that friend text you back, from another terminal:",
        f"      {shlex.join(text_cmd)}",
    ]


def _irc_part(parts: DemoParts, state: DemoState) -> None:
    ircd = NgircdServer()  # its own world-readable temp dir: it runs as nobody
    ircd.prefer_ports(state.preferred("ngircd"))
    ircd.start()
    state.remember("ngircd", port=ircd.port)
    parts.ircd = ircd
    host = "127.0.0.1"
    jid = f"irc.{DOMAIN}"
    parts.components.append(ComponentSpec("irc", jid, secrets.token_hex(12), {
        "servers": {host: {"port": ircd.port, "tls": False}},
    }))
    parts.lines += [
        f"  IRC ({jid}, a local ngIRCd on port {ircd.port}):",
        f"  - join the room {DEMO_CHANNEL}%{host}@{jid} with any nick;",
        f"  - IRC users are contacts: nick%{host}@{jid}; the server itself is {host}@{jid};",
        f"  - any IRC client can join too: irc://{host}:{ircd.port}/{DEMO_CHANNEL}",
    ]


def _client_lines(server: ProsodyServer, password: str) -> list[str]:
    """How to log in, and how common clients accept the demo's self-signed certificate."""
    assert server.certificate is not None
    cert = server.certificate
    port = server.c2s_port
    return [
        "Log in with any XMPP client on this machine:",
        f"  account   demo@{DOMAIN}   (an admin of the gateway: it sees the admin commands)",
        f"  password  {password}",
        f"  server    127.0.0.1, port {port} (STARTTLS with a self-signed certificate)",
        f"  certificate SHA-256 fingerprint {cert.fingerprint}",
        f"  certificate file {cert.cert}",
        "",
        "Accepting the certificate:",
        "  Gajim, Dino, Conversations: accept it when asked, after comparing the fingerprint.",
        f"  profanity: /connect demo@{DOMAIN} server 127.0.0.1 port {port} tls trust",
        "  mcabber (~/.mcabber/mcabberrc):",
        f"      set jid = demo@{DOMAIN}",
        "      set server = 127.0.0.1",
        f"      set port = {port}",
        "      set tls = 1",
        "      set ssl_ignore_checks = 1",
        f"      set ssl_fingerprint = SHA256:{cert.fingerprint.replace(':', '').lower()}",
        f"  go-sendxmpp: SSL_CERT_FILE={cert.cert} go-sendxmpp -u demo@{DOMAIN} \\",
        f"      -p '{password}' -j 127.0.0.1:{port} RECIPIENT <<< 'hello'",
    ]


def _instructions(server: ProsodyServer, password: str, parts: DemoParts, ops: str) -> str:
    upload = f"  Pictures: HTTP upload (XEP-0363) is served by {server.upload_domain}; " \
        "an upload sent to a phone contact goes out as MMS."
    return "\n".join([
        "",
        "xmpp-transport demo is running.",
        "",
        *_client_lines(server, password),
        "",
        "Then try:",
        f"  Echo (echo.{DOMAIN}): register with any user name, then chat with "
        f"anything@echo.{DOMAIN}.",
        *parts.lines,
        upload,
        "",
        f"Status page: {ops}/status (Prometheus metrics at {ops}/metrics, health at "
        f"{ops}/healthz).",
        "The demo's state lives in a temporary directory unless you started it with --dir DIR;",
        "--log-level DEBUG shows every stanza the gateway sends and receives.",
        "",
        "Press Ctrl-C to stop.",
        "",
    ])


async def run_demo(workdir: Path) -> None:
    installed = load_backends()
    state = DemoState.load(workdir)
    parts = DemoParts(components=[ComponentSpec("echo", f"echo.{DOMAIN}", secrets.token_hex(12))])
    server: ProsodyServer | None = None
    try:
        if "sms" in installed:
            await _sms_part(parts, workdir, state)
        if "irc" in installed:
            _irc_part(parts, state)
        server = ProsodyServer({c.jid: c.secret for c in parts.components},
                               base_dir=workdir / "prosody", tls=True, http_upload=True)
        server.prefer_ports(state.preferred("prosody"))
        server.start()
        state.remember("prosody", c2s_port=server.c2s_port,
                       component_port=server.component_port, http_port=server.http_port)
        state.save(workdir)
        password = state.password
        server.register_user("demo", password)
        settings = dataclasses.replace(build_settings(
            "127.0.0.1", server.component_port, workdir / "transport.sqlite3",
            parts.components, admins=[f"demo@{DOMAIN}"],
        ), metrics=MetricsSettings("127.0.0.1", state.port("metrics.port")))
        state.save(workdir)
        app = Application(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await app.start()
        try:
            await asyncio.gather(*(r.wait_online(15) for r in app.runtimes))
            assert app.ops is not None
            print(_instructions(server, password, parts, app.ops.url), flush=True)
            await stop.wait()
        finally:
            await app.stop()
    finally:
        if server is not None:
            server.stop()
        if parts.ircd is not None:
            parts.ircd.stop()
        if parts.standin is not None:
            await parts.standin.stop()


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
