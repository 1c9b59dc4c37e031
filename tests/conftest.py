"""Shared fixtures: real servers (session-wide and per-test) and a clean environment.

Session servers start lazily, the first time a test asks for them, and declare the components
of :mod:`transport.testing.servers.defaults` (``echo.localhost``, ``sms.localhost``,
``irc.localhost`` with secrets ``echo-secret``/``sms-secret``/``irc-secret``) plus the MUC
``conference.localhost``. Tests that restart, kill or reconfigure a server use the
``fresh_prosody`` / ``fresh_ejabberd`` factories, whose servers are stopped after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from transport.testing.servers import (
    EjabberdServer,
    InspircdServer,
    NgircdServer,
    ProsodyServer,
    ServerProcess,
)
from transport.testing.servers.defaults import DOMAIN, MUC_DOMAIN, session_components


@pytest.fixture(autouse=True)
def _no_twilio_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """TWILIO_REGION / TWILIO_EDGE in the environment rewrite twilio-python's API host."""
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)


def _session_server(server: ServerProcess) -> Iterator[Any]:
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def prosody() -> Iterator[ProsodyServer]:
    """One Prosody for the whole run (do not restart it: use ``fresh_prosody``)."""
    yield from _session_server(
        ProsodyServer(session_components(), domain=DOMAIN, muc_domain=MUC_DOMAIN)
    )


@pytest.fixture(scope="session")
def ejabberd() -> Iterator[EjabberdServer]:
    """One ejabberd for the whole run; mark its tests ``@pytest.mark.ejabberd``."""
    yield from _session_server(
        EjabberdServer(session_components(), domain=DOMAIN, muc_domain=MUC_DOMAIN)
    )


@pytest.fixture(scope="session")
def ngircd() -> Iterator[NgircdServer]:
    """One ngIRCd for the whole run, without flood penalties."""
    yield from _session_server(NgircdServer())


@pytest.fixture(scope="session")
def tls_ircd() -> Iterator[NgircdServer]:
    """One ngIRCd that also serves TLS (a self-signed certificate: ``cert_path``,
    ``cert_sha256``) on ``tls_port``, for the whole run."""
    yield from _session_server(NgircdServer(tls=True))


@pytest.fixture(scope="session")
def inspircd() -> Iterator[InspircdServer]:
    """One InspIRCd 3 with the IRCv3 capabilities, for the whole run."""
    yield from _session_server(InspircdServer())


@pytest.fixture
def fresh_prosody() -> Iterator[Callable[..., ProsodyServer]]:
    """Factory for a private, started Prosody: ``fresh_prosody(components=None, **kwargs)``.

    Defaults to the session components and MUC; keyword arguments go to
    :class:`ProsodyServer`. Every server made is closed when the test ends.
    """
    made: list[ProsodyServer] = []

    def factory(components: dict[str, str] | None = None, **kwargs: Any) -> ProsodyServer:
        kwargs.setdefault("domain", DOMAIN)
        kwargs.setdefault("muc_domain", MUC_DOMAIN)
        server = ProsodyServer(session_components() if components is None else components, **kwargs)
        made.append(server)
        return server.start()

    yield factory
    for server in reversed(made):
        server.close()


@pytest.fixture
def fresh_ejabberd() -> Iterator[Callable[..., EjabberdServer]]:
    """Factory for a private, started ejabberd (like ``fresh_prosody``; 1-2 s each)."""
    made: list[EjabberdServer] = []

    def factory(components: dict[str, str] | None = None, **kwargs: Any) -> EjabberdServer:
        kwargs.setdefault("domain", DOMAIN)
        kwargs.setdefault("muc_domain", MUC_DOMAIN)
        server = EjabberdServer(
            session_components() if components is None else components, **kwargs
        )
        made.append(server)
        return server.start()

    yield factory
    for server in reversed(made):
        server.close()
