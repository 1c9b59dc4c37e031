"""Write ``config.example.toml``: the core's sections as written here, then one section per
backend generated from its ``settings_type`` declarations.

    python -m transport.config_example > config.example.toml

The test suite checks that the file in the repository is what this prints, so a key
declared in a backend is documented in the example by construction.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Final

from transport.config import env_secret_name
from transport.core.backend import Backend
from transport.core.registry import load_backends
from transport.core.settings_example import ExampleWriter, table_doc

DEFAULT_BACKENDS: Final = ("echo", "sms", "irc")
DEFAULT_ENABLED: Final = ("echo",)
_TO_ENABLE: Final = """\
To enable it, remove the leading "# " from the key and table lines below (lines starting
with "##" are explanations) and adapt the values. Every optional key shows its default."""

CORE_SECTIONS: Final = """\
# xmpp-transport configuration (TOML).
#
# Check a file with:   xmpp-transport check-config --config FILE
# Run the gateway:     xmpp-transport run --config FILE [--log-level LEVEL]
#
# Every key is shown with its default; keys marked "required" have none. A problem is reported
# with its dotted key path (e.g. "xmpp.port: expected an integer from 1 to 65535, got 0").
#
# Secrets may come from the environment instead of this file, so that it can be committed
# without them. A non-empty environment variable overrides the file:
#   TRANSPORT_<NAME>_SECRET   the component secret of backend section [<name>]
#                             (TRANSPORT_ECHO_SECRET, TRANSPORT_SMS_SECRET, TRANSPORT_IRC_SECRET)
#   TWILIO_AUTH_TOKEN         sms.twilio.auth_token (see docs/sms.md)

# ---------------------------------------------------------------------------------------------
# The XMPP server the gateway attaches to as XEP-0114 components. Optional section.
[xmpp]
# The server's component listener (host name or IP address).
host = "127.0.0.1"
# Its port, 1-65535: 5347 for Prosody and ejabberd; Openfire uses 5275.
port = 5347
# Bare JIDs (user@domain) allowed to use the admin ad-hoc commands.
admins = []                               # e.g. ["admin@example.org"]
# Domains whose users may register and use the gateway; [] means everyone the server
# routes to us.
allowed_domains = []                      # e.g. ["example.org"]
# Upper bound, in seconds, of the exponential backoff between reconnection attempts.
reconnect_max_delay = 10.0
# Seconds between XEP-0199 pings that keep the component stream alive.
keepalive_interval = 60.0
# Seconds without a ping answer after which the stream is considered dead and reconnected.
ping_timeout = 10.0

# ---------------------------------------------------------------------------------------------
# All state lives in one SQLite file. Required section.
[database]
# Required. The SQLite file, created and migrated on start. A relative path is resolved
# against the directory of THIS config file (not the working directory); ~ is expanded.
path = "transport.sqlite3"
# PRAGMA synchronous: "full" (safest; survives power loss) or "normal" (faster; with WAL a
# power loss may lose the last transactions, never corrupt the file).
synchronous = "full"
# Days (an integer, at least 1) that delivered/sent queue rows (with their bodies) and
# de-duplication keys are kept; older ones are deleted at start and then hourly. Nothing
# undelivered is ever deleted. The IRC archive keeps its own limits.
retention_days = 30

# ---------------------------------------------------------------------------------------------
# Optional section.
[logging]
# DEBUG, INFO, WARNING, ERROR or CRITICAL (the run command's --log-level overrides it).
# Logs go to stderr. slixmpp's own messages are shown only from WARNING unless DEBUG.
level = "INFO"

# ---------------------------------------------------------------------------------------------
# Optional section: without it the gateway opens no HTTP listener for operations. With it:
#   GET /metrics   Prometheus text format (message counts, latencies, queue depths, Twilio
#                  and IRC figures, event-loop lag); labels never carry a JID or a number
#   GET /healthz   200 while every component stream is up and the event loop is responsive,
#                  else 503 with a JSON list of reasons (usable as a load-balancer check)
#   GET /status    the same figures as a page a person reads
[metrics]
# Where to listen: keep it on loopback or a private network.
listen_host = "127.0.0.1"
# 0-65535 (0: any free port, for tests).
listen_port = 9464

# ---------------------------------------------------------------------------------------------
# Backends. Every other section names an installed backend (entry-point group
# "transport.backends") and becomes one XEP-0114 component. Keys every backend section has:
#   enabled  true or false; default true when the section exists. A disabled section is
#            not checked further.
#   jid      Required. The component domain, as declared in the XMPP server's config.
#   secret   Required unless TRANSPORT_<NAME>_SECRET is set. The component secret, as in
#            the XMPP server's config.
# At least one backend must be enabled, and no two may share a jid.
"""


def example_section(backend: type[Backend], enabled: bool) -> str:
    """The documented section of one backend: its generic keys, then its own."""
    name = backend.name
    out = ExampleWriter(enabled)
    out.extend([f"# >>> {name} backend section"])
    if backend.settings_type is not None:
        out.doc(table_doc(backend.settings_type))
    if not enabled:
        out.doc(_TO_ENABLE)
    out.toml(f"[{name}]")
    out.key("enabled", True, "true or false; default true.")
    out.key("jid", f"{name}.example.org",
            "Required. The component domain, as declared in the XMPP server's config.")
    out.key("secret", "change-me", f"Required unless {env_secret_name(name)} is set. The "
                                   "component secret, as in the XMPP server's config.")
    if backend.settings_type is not None:
        out.table(backend.settings_type, name)
    out.extend([f"# <<< end of {name} backend section"])
    return "\n".join(out.lines) + "\n"


def example_config(backends: Sequence[type[Backend]], enabled: Sequence[str]) -> str:
    """The whole example file."""
    sections = [example_section(b, b.name in enabled) for b in backends]
    return CORE_SECTIONS + "".join("\n" + section for section in sections)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m transport.config_example",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
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
