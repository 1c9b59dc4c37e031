"""The core's own config sections, declared with the settings helper like any backend's:
``[xmpp]``, ``[database]``, ``[logging]``, ``[metrics]``, and the keys every backend section
has (``enabled``, ``jid``, ``secret``). ``transport.config`` reads them; the docs below are
what ``config.example.toml`` says about each key."""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from transport.config_types import bare_jid, domain_name
from transport.core.settings import setting, settings_table

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LOG_LEVELS: Final[tuple[LogLevel, ...]] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DOMAIN: Final = "a domain name like sms.example.org"
DEFAULT_RETENTION_DAYS: Final = 30
MAX_RETENTION_DAYS: Final = 36500


@settings_table
class XmppSettings:
    """The XMPP server the gateway attaches to as XEP-0114 components. Optional section."""

    host: str = setting(
        default="127.0.0.1",
        doc="The server's component listener (host name or IP address).")
    port: int = setting(
        default=5347, low=1, high=65535,
        doc="Its port, 1-65535: 5347 for Prosody and ejabberd; Openfire uses 5275.")
    admins: tuple[str, ...] = setting(
        default=(), check=bare_jid, expected="a bare JID like admin@example.org",
        plural="strings",
        doc="""Bare JIDs (user@domain) allowed to use the admin ad-hoc commands, e.g.
        ["admin@example.org"].""")
    allowed_domains: tuple[str, ...] = setting(  # () = everyone the server routes to us
        default=(), check=domain_name, expected=DOMAIN, plural="strings",
        doc="""Domains whose users may register and use the gateway, e.g. ["example.org"];
        [] means everyone the server routes to us.""")
    reconnect_max_delay: float = setting(
        default=10.0,
        doc="Upper bound, in seconds, of the exponential backoff between reconnection "
            "attempts.")
    keepalive_interval: float = setting(
        default=60.0,
        doc="Seconds between XEP-0199 pings that keep the component stream alive.")
    ping_timeout: float = setting(
        default=10.0,
        doc="Seconds without a ping answer after which the stream is considered dead and "
            "reconnected.")


@settings_table
class DatabaseSettings:
    """All state lives in one SQLite file. Required section."""

    path: Path = setting(
        example="transport.sqlite3",
        doc="""Required. The SQLite file, created and migrated on start. A relative path is
        resolved against the directory of THIS config file (not the working directory); ~
        is expanded.""")
    synchronous: Literal["full", "normal"] = setting(
        default="full",
        doc="""PRAGMA synchronous: "full" (safest; survives power loss) or "normal" (faster;
        with WAL a power loss may lose the last transactions, never corrupt the file).""")
    retention_days: int = setting(
        default=DEFAULT_RETENTION_DAYS, low=1, high=MAX_RETENTION_DAYS,
        doc="""Days (an integer, at least 1) that delivered/sent queue rows (with their
        bodies) and de-duplication keys are kept; older ones are deleted at start and then
        hourly. Nothing undelivered is ever deleted. The IRC archive keeps its own
        limits.""")


@settings_table
class LoggingSettings:
    """Optional section."""

    level: LogLevel = setting(
        default="INFO",
        doc="""DEBUG, INFO, WARNING, ERROR or CRITICAL (the run command's --log-level
        overrides it). Logs go to stderr. slixmpp's own messages are shown only from WARNING
        unless DEBUG.""")


@settings_table
class MetricsSettings:
    """Optional section: without it the gateway opens no HTTP listener for operations. With
    it:
      GET /metrics   Prometheus text format (message counts, latencies, queue depths, Twilio
                     and IRC figures, event-loop lag); labels never carry a JID or a number
      GET /healthz   200 while every component stream is up and the event loop is responsive,
                     else 503 with a JSON list of reasons (usable as a load-balancer check)
      GET /status    the same figures as a page a person reads
    """

    listen_host: str = setting(
        default="127.0.0.1", doc="Where to listen: keep it on loopback or a private network.")
    listen_port: int = setting(
        default=9464, low=0, high=65535, doc="0-65535 (0: any free port, for tests).")


@settings_table
class ComponentKeys:
    """The keys every backend section has, read before the backend's own."""

    jid: str = setting(
        check=domain_name, expected=DOMAIN, example="NAME.example.org",
        doc="Required. The component domain, as declared in the XMPP server's config.")
    secret: str = setting(
        secret=True, example="change-me",
        doc="Required unless TRANSPORT_<NAME>_SECRET is set. The component secret, as in the "
            "XMPP server's config.")
    enabled: bool = setting(default=True, doc="true or false; default true.")
