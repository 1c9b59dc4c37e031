"""The test kit names a backend's component and refuses a backend that is not installed."""

import pytest

from transport.backends.echo import EchoBackend
from transport.testing.fixtures.backend import backend_class, component_for
from transport.testing.gateway import ComponentSpec


class ShoutBackend(EchoBackend):
    name = "shout"


def test_an_installed_backend_gets_the_session_servers_component():
    assert component_for("echo") == ComponentSpec("echo", "echo.localhost", "echo-secret", {})
    assert backend_class("echo") is EchoBackend


def test_a_backend_class_named_directly_gets_its_own_domain_and_settings():
    assert component_for(ShoutBackend, {"require_registration": False}) == ComponentSpec(
        ShoutBackend, "shout.localhost", "shout-secret", {"require_registration": False})


def test_an_unknown_backend_name_lists_the_installed_ones():
    with pytest.raises(pytest.UsageError,
                       match=r"no backend named 'nope' is installed \(installed: .*\becho\b"):
        backend_class("nope")
