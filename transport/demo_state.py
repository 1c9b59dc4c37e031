"""What a demo run keeps in its directory so the next run with ``--dir`` looks the same.

The password a person typed into a client, the ports it connects to and the stand-in's
account stay put across restarts; a port someone else took meanwhile is replaced.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from transport.testing.servers.ports import LOOPBACK, free_port, port_free

STATE_FILE = "demo.json"


@dataclass
class DemoState:
    """Values the demo reuses; ``ports`` maps a part ("prosody.c2s_port"...) to its port."""

    # Hex: it is pasted into command lines, where a leading "-" reads as an option.
    password: str = field(default_factory=lambda: secrets.token_hex(8))
    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    ports: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, workdir: Path) -> DemoState:
        """The state saved in ``workdir``, or a new one (also for an unreadable file)."""
        try:
            data = json.loads((workdir / STATE_FILE).read_text())
            return cls(password=str(data["password"]), account_sid=str(data["account_sid"]),
                       auth_token=str(data["auth_token"]),
                       ports={str(k): int(v) for k, v in data["ports"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls()

    def save(self, workdir: Path) -> None:
        """Write the state, readable by its owner only: it holds the password."""
        path = workdir / STATE_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(self), out, indent=2)

    def preferred(self, prefix: str) -> dict[str, int]:
        """The saved ports of one part, by attribute name (``prosody.c2s_port`` -> c2s_port)."""
        return {name.partition(".")[2]: port for name, port in self.ports.items()
                if name.startswith(prefix + ".")}

    def port(self, name: str) -> int:
        """The saved port ``name`` if it is still free, else a fresh one; remembered."""
        saved = self.ports.get(name)
        port = saved if saved and port_free(LOOPBACK, saved) else free_port()
        self.ports[name] = port
        return port

    def remember(self, prefix: str, **ports: int) -> None:
        for name, port in ports.items():
            self.ports[f"{prefix}.{name}"] = port
