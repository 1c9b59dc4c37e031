"""The demo's backends: what each needs started next to it and how a person reaches it.

The SMS and IRC backends get their local stand-ins (the Twilio stand-in, an ngIRCd) and
instructions of their own; any other installed backend (echo included) runs with the
settings the demo was given, and is described from the running backend itself: its
registration form and ``addressing_help``.
"""

from __future__ import annotations

import secrets
import shlex
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transport.core.backend import Backend
from transport.demo_state import DemoState
from transport.testing.gateway import ComponentSpec
from transport.testing.servers.ircd import NgircdServer
from transport.testing.twilio import TwilioStandIn

DOMAIN = "localhost"
DEMO_NUMBERS = ("+12125550142", "+12125550143")
DEMO_FRIEND = "+16465550199"
DEMO_CHANNEL = "#demo"


@dataclass
class DemoParts:
    """What the demo started, for the instructions and the clean-up."""

    components: list[ComponentSpec] = field(default_factory=list)
    #: How to reach the backends wired to a stand-in, by name; the others are described
    #: from the running backend (``describe_backend``).
    lines: dict[str, list[str]] = field(default_factory=dict)
    standin: TwilioStandIn | None = None
    ircd: NgircdServer | None = None


@dataclass(frozen=True)
class PartContext:
    """What a part may use: the demo's directory and saved state, and the settings given."""

    workdir: Path
    state: DemoState
    options: Mapping[str, Any]


def _component(name: str, options: Mapping[str, Any]) -> ComponentSpec:
    return ComponentSpec(name, f"{name}.{DOMAIN}", secrets.token_hex(12), dict(options))


async def sms_part(parts: DemoParts, ctx: PartContext) -> None:
    account, token = ctx.state.account_sid, ctx.state.auth_token
    standin = TwilioStandIn({account: token}, {account: list(DEMO_NUMBERS)},
                            port=ctx.state.port("standin.port"))
    await standin.start()
    parts.standin = standin
    port = ctx.state.port("webhook.port")
    public = f"http://127.0.0.1:{port}"
    for number in DEMO_NUMBERS:
        standin.set_sms_url(number, f"{public}/twilio/sms")
    spec = _component("sms", {
        "default_region": "US",
        "registration": "open",
        "twilio": {"account_sid": account, "auth_token": token, "numbers": list(DEMO_NUMBERS),
                   "api_base_url": standin.url, "messages_per_second": 0},
        "webhook": {"listen_host": "127.0.0.1", "listen_port": port, "public_url": public},
        "media": {"dir": str(ctx.workdir / "sms-media")},
        **ctx.options,
    })
    parts.components.append(spec)
    text_cmd = [
        sys.executable, "-m", "transport.testing.twilio", "send-inbound", "--url", standin.url,
        "--account-sid", account, "--auth-token", token, "--to", DEMO_NUMBERS[0],
        "--from", DEMO_FRIEND, "--body", "Hello from a phone!",
    ]
    parts.lines["sms"] = [
        f"  SMS ({spec.jid}, Twilio replaced by a local stand-in at {standin.url}):",
        f"  - register with {spec.jid}, phone number {DEMO_NUMBERS[0]} (or {DEMO_NUMBERS[1]});",
        f"  - text {DEMO_FRIEND}@{spec.jid}: the stand-in accepts it and reports it delivered;",
        "  - have that friend text you back, from another terminal:",
        f"      {shlex.join(text_cmd)}",
    ]


async def irc_part(parts: DemoParts, ctx: PartContext) -> None:
    ircd = NgircdServer()  # its own world-readable temp dir: it runs as nobody
    ircd.prefer_ports(ctx.state.preferred("ngircd"))
    ircd.start()
    ctx.state.remember("ngircd", port=ircd.port)
    parts.ircd = ircd
    host = "127.0.0.1"
    spec = _component("irc", {"servers": {host: {"port": ircd.port, "tls": False}},
                              **ctx.options})
    parts.components.append(spec)
    parts.lines["irc"] = [
        f"  IRC ({spec.jid}, a local ngIRCd on port {ircd.port}):",
        f"  - join the room {DEMO_CHANNEL}%{host}@{spec.jid} with any nick;",
        f"  - IRC users are contacts: nick%{host}@{spec.jid}; the server itself is "
        f"{host}@{spec.jid};",
        f"  - any IRC client can join too: irc://{host}:{ircd.port}/{DEMO_CHANNEL}",
    ]


Part = Callable[[DemoParts, PartContext], Awaitable[None]]
#: The backends the demo wires to local stand-ins.
WIRED_PARTS: dict[str, Part] = {"sms": sms_part, "irc": irc_part}


async def add_part(name: str, parts: DemoParts, ctx: PartContext) -> None:
    """Start what backend ``name`` needs and add its component (any other backend: the
    component alone, with the settings given)."""
    wired = WIRED_PARTS.get(name)
    if wired is not None:
        await wired(parts, ctx)
    else:
        parts.components.append(_component(name, ctx.options))


def describe_backend(backend: Backend[Any], jid: str) -> list[str]:
    """How to reach a backend the demo knows nothing about, from the backend itself."""
    identity = backend.identities[0].name if backend.identities else ""
    lines = [f"  {identity or backend.name} ({jid}, the {backend.name} backend):"]
    if backend.registration is not None:
        fields = ", ".join(f.label or f.var for f in backend.registration.fields)
        lines.append(f"  - register with {jid}" + (f" ({fields})" if fields else "") + ": "
                     + backend.registration.instructions)
    lines.append(f"  - {backend.addressing_help(jid)}")
    return lines
