"""The systemd notification protocol (``sd_notify``), without a dependency.

Under ``Type=notify`` systemd passes ``NOTIFY_SOCKET``: a unix datagram socket, a path or an
abstract name written ``@name``. Each datagram holds newline-separated ``KEY=value``
assignments (``READY=1``, ``STATUS=...``, ``WATCHDOG=1``, ``STOPPING=1``). Outside systemd
the variable is unset and nothing is sent.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends notifications to the service manager; never raises, never blocks."""

    def __init__(self, address: str, watchdog_interval: float | None = None) -> None:
        self.address = address
        self.watchdog_interval = watchdog_interval
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self._socket.setblocking(False)
        self._failing = False

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> SystemdNotifier | None:
        """The notifier systemd asked for, or None when not started by it.

        ``watchdog_interval`` is half of ``WATCHDOG_USEC`` (systemd's advice), and only when
        ``WATCHDOG_PID`` is unset or names this process.
        """
        env = os.environ if env is None else env
        where = env.get("NOTIFY_SOCKET", "")
        if not where.startswith(("/", "@")) or len(where) < 2:
            if where:
                log.warning("NOTIFY_SOCKET=%s is not a unix socket; not notifying systemd",
                            where)
            return None
        address = "\0" + where[1:] if where.startswith("@") else where
        return cls(address, _watchdog_interval(env))

    def notify(self, *assignments: str) -> bool:
        """Send ``KEY=value`` lines in one datagram; False (logged once) if it failed."""
        try:
            self._socket.sendto("\n".join(assignments).encode(), self.address)
        except OSError as exc:
            if not self._failing:
                log.warning("cannot notify systemd (%s): %s", " ".join(assignments), exc)
            self._failing = True
            return False
        self._failing = False
        return True

    def close(self) -> None:
        self._socket.close()


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None
    return int(usec) / 2e6
