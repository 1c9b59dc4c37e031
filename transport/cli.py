"""The ``xmpp-transport`` command (also ``python -m transport``).

Config problems are printed one per line and exit with status 2, never as a traceback:
admins run ``check-config`` from scripts and read its output, not Python internals.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import logging
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from transport import SOFTWARE_NAME, __version__
from transport.config import (
    LOG_LEVELS,
    ComponentSettings,
    ConfigError,
    Settings,
    load_settings,
)
from transport.core import registry
from transport.core.errors import StartupError
from transport.core.settings_secrets import secret_values
from transport.logging_setup import setup_logging

EXIT_CONFIG = 2
EXIT_STARTUP = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=SOFTWARE_NAME, description="An XEP-0114 XMPP gateway to SMS/MMS and IRC."
    )
    parser.add_argument("--version", action="version", version=f"{SOFTWARE_NAME} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run the gateway until SIGTERM/SIGINT")
    run.add_argument("--config", required=True, type=Path, metavar="FILE")
    run.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        metavar="LEVEL",
        help="overrides [logging] level (one of: %(choices)s)",
    )
    check = commands.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("--config", required=True, type=Path, metavar="FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) and run the command; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors: argparse already printed
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    if args.command == "check-config":
        return _check_config(args.config)
    return _run(args.config, args.log_level)


def _load(path: Path, *, every_backend: bool = False) -> tuple[Settings | None,
                                                                  Mapping[str, str]]:
    """Settings (None after printing the problems) and backends that failed to load.

    ``run`` imports only the backends its config names; ``check-config`` tries them all
    (``every_backend``) so that it can warn about an installed one that cannot load."""
    backends = registry.load_backends()
    load_all = getattr(backends, "load_all", None)
    if every_backend and load_all is not None:
        load_all()
    failures: Mapping[str, str] = getattr(backends, "failures", {})
    try:
        return load_settings(path, backends=backends), failures
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return None, failures


def _check_config(path: Path) -> int:
    settings, failures = _load(path, every_backend=True)
    if settings is None:
        return EXIT_CONFIG
    used = {c.name for c in settings.components}
    for name, error in sorted(failures.items()):
        if name not in used:
            print(f"warning: backend {name} is installed but unusable: {error}", file=sys.stderr)
    listed = ", ".join(f"{c.name}={c.jid}" for c in settings.components)
    print(f"config OK: {len(settings.components)} component(s): {listed}")
    return 0


def _run(path: Path, log_level: str | None) -> int:
    settings, failures = _load(path)
    if settings is None:
        return EXIT_CONFIG
    if log_level is not None:
        settings = dataclasses.replace(settings, log_level=log_level)
    setup_logging(settings.log_level, configured_secrets(settings))
    log = logging.getLogger("transport")
    for name, error in sorted(failures.items()):
        log.warning("backend %s is installed but unusable: %s", name, error)
    # Imported here so that check-config needs nothing of the runtime (slixmpp, store...).
    run_app: Callable[[Settings], int] = importlib.import_module("transport.app").run
    try:
        return run_app(settings)
    except StartupError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return EXIT_STARTUP


def configured_secrets(settings: Settings) -> list[str]:
    """Component secrets and each backend's declared secrets (its ``settings_type``'s
    ``secret`` keys, such as ``twilio.auth_token``), read from the parsed settings for the
    log masker."""
    return [s for component in settings.components for s in _component_secrets(component)]


def _component_secrets(component: ComponentSettings) -> Iterator[str]:
    yield component.secret
    table = component.backend.settings_type
    if table is not None:
        yield from secret_values(table, component.backend_settings)
