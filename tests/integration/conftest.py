"""Fixtures for the core's integration tests: a gateway and logged-in users on a real server."""

import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from transport.testing.gateway import ComponentSpec, build_settings, running_gateway
from transport.testing.xmpp_client import TestClient

ECHO = ComponentSpec("echo", "echo.localhost", "echo-secret")
ADMIN = "admin@localhost"


@pytest.fixture
def gateway_settings(prosody, tmp_path):
    def make(server=None, **kwargs):
        server = server or prosody
        kwargs.setdefault("admins", [ADMIN])
        return build_settings("127.0.0.1", server.component_port, tmp_path / "gw.sqlite3",
                              [kwargs.pop("component", ECHO)], **kwargs)

    return make


@pytest.fixture
async def gateway(gateway_settings):
    async with running_gateway(gateway_settings()) as app:
        yield app


@pytest.fixture
async def users(prosody) -> AsyncIterator[Callable]:
    """Factory: ``await users(server=None, name=None)`` -> a logged-in TestClient."""
    clients: list[TestClient] = []

    async def login(server=None, name=None, resource="test"):
        server = server or prosody
        name = name or f"u{uuid.uuid4().hex[:10]}"
        server.register_user(name, "pw")
        client = TestClient(f"{name}@{server.domain}/{resource}", "pw", "127.0.0.1",
                            server.c2s_port)
        await client.login()
        clients.append(client)
        return client

    yield login
    for client in clients:
        await client.logout()
