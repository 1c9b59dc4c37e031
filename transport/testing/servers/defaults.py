"""The component set the shared (session-wide) test servers declare.

A server's components are fixed in its config when it starts, so a test module that needs an
extra component domain asks for it at import time, before the session servers start::

    from transport.testing.servers.defaults import request_component
    request_component("media.localhost", "media-secret")

A test that needs a different set after that uses the ``fresh_prosody`` factory instead.
"""

from __future__ import annotations

DOMAIN = "localhost"
MUC_DOMAIN = f"conference.{DOMAIN}"
ECHO = f"echo.{DOMAIN}"
SMS = f"sms.{DOMAIN}"
IRC = f"irc.{DOMAIN}"

_components: dict[str, str] = {
    ECHO: "echo-secret",
    SMS: "sms-secret",
    IRC: "irc-secret",
}
_frozen = False


def request_component(domain: str, secret: str) -> None:
    """Have the session servers declare ``domain`` with ``secret`` (call at import time)."""
    if _components.get(domain, secret) != secret:
        raise ValueError(f"component {domain} is already declared with another secret")
    if domain not in _components and _frozen:
        raise RuntimeError(
            f"session servers already started; cannot add {domain} (use fresh_prosody)"
        )
    _components[domain] = secret


def session_components() -> dict[str, str]:
    """The components for a session server; after this call the set is frozen."""
    global _frozen
    _frozen = True
    return dict(_components)


def component_secret(domain: str) -> str:
    """The secret a session server expects from ``domain``."""
    return _components[domain]
