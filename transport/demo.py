"""A local demo: Prosody on free ports, the gateway attached, a demo user to log in with.

Components: by default ``echo``, ``sms`` (wired to the local Twilio stand-in, with a number
pool the demo user can register and a command to "text" them) and ``irc`` (with a local
ngIRCd and a ready channel) when installed; ``--backend NAME`` runs any installed backend
instead (repeat it for several), with its settings from ``--settings FILE``. Everything
lives in a temporary directory and stops with Ctrl-C; nothing is installed as a service and
no fixed port is assumed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
import sys
import tempfile
import tomllib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from transport.app import Application
from transport.config import MetricsSettings, Settings
from transport.core.registry import load_backends
from transport.demo_parts import DOMAIN, DemoParts, PartContext, add_part, describe_backend
from transport.demo_state import DemoState
from transport.logging_setup import setup_logging
from transport.testing.gateway import build_settings
from transport.testing.servers.prosody import ProsodyServer

log = logging.getLogger(__name__)

#: What ``scripts/demo`` runs without ``--backend``: each of these that is installed.
DEFAULT_BACKENDS = ("echo", "sms", "irc")


class DemoError(Exception):
    """The demo cannot start as asked; the message says why and what to do."""


def choose_backends(requested: Sequence[str], installed: Collection[str]) -> list[str]:
    """The backends to run, in the order asked, or the default set when none is named."""
    if not requested:
        return [name for name in DEFAULT_BACKENDS if name in installed]
    unknown = [name for name in requested if name not in installed]
    if unknown:
        raise DemoError(f"no backend named {', '.join(map(repr, unknown))} is installed; "
                        f"installed: {', '.join(sorted(installed)) or 'none'}")
    return list(dict.fromkeys(requested))


def read_backend_settings(path: Path | None) -> dict[str, dict[str, Any]]:
    """``--settings FILE``: a TOML file with one table per backend, its config-section keys."""
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DemoError(f"cannot read the settings file {path}: {exc}") from None
    not_tables = [name for name, value in data.items() if not isinstance(value, dict)]
    if not_tables:
        raise DemoError(f"{path}: expected one table per backend, not {', '.join(not_tables)}")
    return data


def _problems(exc: BaseException) -> list[str]:
    if isinstance(exc, BaseExceptionGroup):
        return [line for inner in exc.exceptions for line in _problems(inner)]
    return [str(exc)]


def _settings(parts: DemoParts, server: ProsodyServer, workdir: Path) -> Settings:
    try:
        return build_settings("127.0.0.1", server.component_port, workdir / "transport.sqlite3",
                              parts.components, admins=[f"demo@{DOMAIN}"])
    except (ValueError, TypeError, BaseExceptionGroup) as exc:
        raise DemoError("a backend refused its settings (give them with --settings FILE):\n  "
                        + "\n  ".join(_problems(exc))) from None


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


def _instructions(server: ProsodyServer, password: str, parts: DemoParts, app: Application,
                  ops: str) -> str:
    reach = [line for r in app.runtimes for line in parts.lines.get(r.backend_name) or
             describe_backend(r.gateway.backend, r.gateway.component_jid)]
    upload = f"  Pictures: HTTP upload (XEP-0363) is served by {server.upload_domain}" + (
        "; an upload sent to a phone contact goes out as MMS." if "sms" in parts.lines else ".")
    return "\n".join([
        "",
        "xmpp-transport demo is running.",
        "",
        *_client_lines(server, password),
        "",
        "Then try:",
        *reach,
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


async def run_demo(workdir: Path, backends: Sequence[str],
                   settings: Mapping[str, Mapping[str, Any]]) -> None:
    state = DemoState.load(workdir)
    parts = DemoParts()
    server: ProsodyServer | None = None
    try:
        for name in backends:
            await add_part(name, parts, PartContext(workdir, state, settings.get(name, {})))
        server = ProsodyServer({c.jid: c.secret for c in parts.components},
                               base_dir=workdir / "prosody", tls=True, http_upload=True)
        server.prefer_ports(state.preferred("prosody"))
        server.start()
        state.remember("prosody", c2s_port=server.c2s_port,
                       component_port=server.component_port, http_port=server.http_port)
        state.save(workdir)
        password = state.password
        server.register_user("demo", password)
        gateway_settings = dataclasses.replace(
            _settings(parts, server, workdir),
            metrics=MetricsSettings("127.0.0.1", state.port("metrics.port")))
        state.save(workdir)
        app = Application(gateway_settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await app.start()
        try:
            await asyncio.gather(*(r.wait_online(15) for r in app.runtimes))
            assert app.ops is not None
            print(_instructions(server, password, parts, app, app.ops.url), flush=True)
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
    parser.add_argument("--backend", action="append", default=[], metavar="NAME",
                        help="run this installed backend (repeatable; default: "
                        f"{', '.join(DEFAULT_BACKENDS)})")
    parser.add_argument("--settings", type=Path, metavar="FILE",
                        help="TOML with a table of settings per backend, as in the config")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--dir", type=Path, help="keep state here instead of a temp dir")
    args = parser.parse_args(argv)
    try:
        backends = choose_backends(args.backend, load_backends())
        settings = read_backend_settings(args.settings)
    except DemoError as exc:
        parser.error(str(exc))
    setup_logging(args.log_level)
    with contextlib.ExitStack() as stack:
        workdir = args.dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            asyncio.run(run_demo(workdir, backends, settings))
        except DemoError as exc:
            print(f"demo: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
