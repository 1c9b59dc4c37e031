"""Write ``config.example.toml`` from the declarations: the core's sections
(``transport.config_sections``), then one section per backend from its ``settings_type``.

    python -m transport.config_example > config.example.toml

The test suite checks that the file in the repository is what this prints, so every
declared key is documented in the example by construction.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, Final

from transport.config import env_secret_name
from transport.config_sections import (
    ComponentKeys,
    DatabaseSettings,
    LoggingSettings,
    MetricsSettings,
    XmppSettings,
)
from transport.core.backend import Backend
from transport.core.registry import load_backends
from transport.core.settings import keys
from transport.core.settings_example import ExampleWriter, table_doc
from transport.core.settings_secrets import env_overrides

DEFAULT_BACKENDS: Final = ("echo", "sms", "irc")
DEFAULT_ENABLED: Final = ("echo",)
CORE: Final = (("xmpp", XmppSettings), ("database", DatabaseSettings),
               ("logging", LoggingSettings), ("metrics", MetricsSettings))
RULE: Final = "# " + "-" * 93

HEADER: Final = """\
xmpp-transport configuration (TOML).

Check a file with:   xmpp-transport check-config --config FILE
Run the gateway:     xmpp-transport run --config FILE [--log-level LEVEL]

Every key is shown with its default; keys marked "required" have none. A problem is reported
with its dotted key path (e.g. "xmpp.port: expected an integer from 1 to 65535, got 0").

Secrets may come from the environment instead of this file, so that it can be committed
without them. A non-empty environment variable overrides the file:"""

BACKENDS_INTRO: Final = """\
Backends. Every other section names an installed backend (entry-point group
"transport.backends") and becomes one XEP-0114 component. Keys every backend section has:
  enabled  true or false; default true when the section exists. A disabled section is
           not checked further.
  jid      Required. The component domain, as declared in the XMPP server's config.
  secret   Required unless TRANSPORT_<NAME>_SECRET is set. The component secret, as in
           the XMPP server's config.
At least one backend must be enabled, and no two may share a jid."""

_TO_ENABLE: Final = """\
To enable it, remove the leading "# " from the key and table lines below (lines starting
with "##" are explanations) and adapt the values. Every optional key shows its default."""


def environment_lines(backends: Sequence[type[Backend[Any]]]) -> list[str]:
    """The variables that override keys: the component secrets, then each backend's
    declared ``env`` keys, in the order the backends are documented."""
    names = ", ".join(env_secret_name(b.name) for b in backends)
    lines = [f"  {'TRANSPORT_<NAME>_SECRET':<26}the component secret of backend section [<name>]"]
    if names:
        lines.append(f"  {'':<26}({names})")
    for backend in backends:
        if backend.settings_type is not None:
            for dotted, variable in env_overrides(backend.settings_type).items():
                lines.append(f"  {variable:<26}{backend.name}.{dotted}")
    return lines


def core_sections(backends: Sequence[type[Backend[Any]]] = ()) -> str:
    """The header and the core's sections, each under a rule and its docstring."""
    out = ExampleWriter(True)
    out.verbatim("\n".join([HEADER, *environment_lines(backends)]))
    for name, table in CORE:
        out.extend(["", RULE])
        out.doc(table_doc(table))
        out.toml(f"[{name}]")
        out.table(table, name)
    out.extend(["", RULE])
    out.verbatim(BACKENDS_INTRO)
    return "\n".join(out.lines) + "\n"


def example_section(backend: type[Backend[Any]], enabled: bool) -> str:
    """The documented section of one backend: the keys every section has, then its own."""
    name = backend.name
    out = ExampleWriter(enabled)
    out.extend([f"# >>> {name} backend section"])
    if backend.settings_type is not None:
        out.doc(table_doc(backend.settings_type))
    if not enabled:
        out.doc(_TO_ENABLE)
    out.toml(f"[{name}]")
    generic = {key.name: key for key in keys(ComponentKeys)}
    shown = {"enabled": True, "jid": f"{name}.example.org", "secret": "change-me"}
    for key_name, value in shown.items():
        doc = generic[key_name].spec.doc.replace("TRANSPORT_<NAME>_SECRET", env_secret_name(name))
        out.key(key_name, value, doc)
    if backend.settings_type is not None:
        out.table(backend.settings_type, name)
    out.extend([f"# <<< end of {name} backend section"])
    return "\n".join(out.lines) + "\n"


def example_config(backends: Sequence[type[Backend[Any]]], enabled: Sequence[str]) -> str:
    """The whole example file."""
    sections = [example_section(b, b.name in enabled) for b in backends]
    return core_sections(backends) + "".join("\n" + section for section in sections)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m transport.config_example",
                                     description="Print the example config file.")
    parser.add_argument("backends", nargs="*", default=list(DEFAULT_BACKENDS),
                        help="installed backends to document, in this order")
    parser.add_argument("--enabled", action="append",
                        help="a backend whose section is shown enabled (default: echo)")
    args = parser.parse_args(argv)
    installed = load_backends()
    missing = [name for name in args.backends if name not in installed]
    if missing:
        parser.error(f"not installed: {', '.join(missing)}")
    enabled = args.enabled if args.enabled is not None else list(DEFAULT_ENABLED)
    sys.stdout.write(example_config([installed[n] for n in args.backends], enabled))
    return 0


if __name__ == "__main__":
    sys.exit(main())
