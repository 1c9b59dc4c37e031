"""Real XMPP and IRC servers as child processes, for integration tests and benchmarks.

Every server listens on 127.0.0.1 on ports chosen by the OS, keeps its config and data in a
fresh temporary directory, runs in the foreground as our child and is stopped by its PID.
"""

from transport.testing.servers.ejabberd import EjabberdApiError, EjabberdServer
from transport.testing.servers.ircd import InspircdServer, NgircdServer
from transport.testing.servers.ports import (
    free_port,
    free_ports,
    listening_ports,
    wait_for_port,
    wait_for_port_async,
)
from transport.testing.servers.process import ServerProcess, ServerStartError
from transport.testing.servers.prosody import ProsodyServer

__all__ = [
    "EjabberdApiError",
    "EjabberdServer",
    "InspircdServer",
    "NgircdServer",
    "ProsodyServer",
    "ServerProcess",
    "ServerStartError",
    "free_port",
    "free_ports",
    "listening_ports",
    "wait_for_port",
    "wait_for_port_async",
]
