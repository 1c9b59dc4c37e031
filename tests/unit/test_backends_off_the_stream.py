"""No backend touches the XMPP stream: everything it says goes through ``BackendContext``.

Checked on the source with ``ast``, every import counting (``TYPE_CHECKING`` ones too):
slixmpp only for parsing JIDs (IRC's addressing and ban masks), the XMPP side only for its
plain helpers (XEP-0106 escaping, namespaces, ``bare``), and no use of the stream's
stanza factories or handlers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import transport

BACKENDS = Path(transport.__file__).resolve().parent / "backends"

# (module, name) a backend may import from slixmpp or transport.xmpp; "*" any name.
ALLOWED = {
    ("slixmpp", "JID"),
    ("slixmpp.jid", "InvalidJID"),
    ("transport.xmpp.escaping", "*"),
    ("transport.xmpp.namespaces", "*"),
    ("transport.xmpp.stanzas", "bare"),
}
STREAM_ATTRIBUTES = {"xmpp", "make_presence", "make_message", "make_iq",
                     "send_raw", "add_event_handler", "register_handler"}
STREAM_NAMES = {"XmppBackendContext", "GatewayComponent", "ComponentXMPP"}


def _outside(module: str) -> bool:
    return module.split(".")[0] == "slixmpp" or module.startswith("transport.xmpp")


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def offences(source: str, filename: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if _outside(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and _outside(node.module):
            found += [f"from {node.module} import {a.name}" for a in node.names
                      if (node.module, a.name) not in ALLOWED
                      and (node.module, "*") not in ALLOWED]
        elif isinstance(node, ast.Attribute) and (
            node.attr in STREAM_ATTRIBUTES
            # ``ctx.component`` was the stream; IRC's ``jids.component`` is a domain name.
            or (node.attr == "component" and _name(node.value) == "ctx")
        ):
            found.append(f".{node.attr}")
        elif isinstance(node, ast.Name) and node.id in STREAM_NAMES:
            found.append(node.id)
    return [f"{filename}:{offence}" for offence in found]


def test_no_backend_reaches_the_xmpp_stream() -> None:
    found: list[str] = []
    for path in sorted(BACKENDS.rglob("*.py")):
        found += offences(path.read_text(), str(path.relative_to(BACKENDS)))
    assert found == []


def test_the_check_sees_what_it_forbids() -> None:
    source = """
from typing import TYPE_CHECKING
import slixmpp
from slixmpp import JID, Iq
from transport.xmpp.backend_context import XmppBackendContext
from transport.xmpp.stanzas import bare, xmpp_error
if TYPE_CHECKING:
    from transport.xmpp.component import GatewayComponent
def f(bridge, ctx: XmppBackendContext):
    bridge.xmpp.make_presence(pto="a").send()
    ctx.component.send_raw("<x/>")
    return bridge.jids.component
"""
    assert sorted(offences(source, "m.py")) == sorted([
        "m.py:import slixmpp", "m.py:from slixmpp import Iq",
        "m.py:from transport.xmpp.backend_context import XmppBackendContext",
        "m.py:from transport.xmpp.stanzas import xmpp_error",
        "m.py:from transport.xmpp.component import GatewayComponent",
        "m.py:.xmpp", "m.py:.make_presence", "m.py:.component", "m.py:.send_raw",
        "m.py:XmppBackendContext",
    ])
