"""Logging to stderr, where service managers (systemd, containers) collect it.

slixmpp logs every stanza at DEBUG and a few routine events (``connection_lost: (None,)``)
at INFO; at our INFO level those drown what an admin needs, so slixmpp is held at WARNING
unless the admin asked for DEBUG. Every record the handler writes first passes the
``SecretMasker``, which hides the configured secrets and secret-looking stanza payloads.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Final, TextIO

from transport.log_redaction import SecretMasker

FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY_LOGGERS: Final = ("slixmpp",)


class _TransportHandler(logging.StreamHandler[TextIO]):
    """Marks the handler we installed, so a second call replaces it instead of doubling."""


def setup_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Send records at ``level`` (a name such as "INFO", any case) and above to stderr,
    with ``secrets`` (exact strings from the settings) masked wherever they appear."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _TransportHandler)]:
        root.removeHandler(old)
        old.close()
    handler = _TransportHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(SecretMasker(secrets))
    root.addHandler(handler)
    root.setLevel(numeric)
    quiet = logging.NOTSET if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    logging.captureWarnings(True)
