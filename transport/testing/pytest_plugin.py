"""The pytest plugin of xmpp-transport: real servers, a gateway and its users as fixtures.

Installed with the package (the ``pytest11`` entry point), so a backend's own tests use the
fixtures without any set-up; ``docs/testing.md`` lists them. The entry point carries this
module's dotted name, so ``-p transport.testing.pytest_plugin`` or ``pytest_plugins`` naming
it finds the same plugin and it is never registered twice.
"""

from transport.testing.fixtures.backend import (
    _component_prosodies,
    transport_backend,
    transport_component,
    transport_settings,
    xmpp_server,
)
from transport.testing.fixtures.gateway import gateway, gateway_settings, users
from transport.testing.fixtures.servers import (
    ejabberd,
    fresh_ejabberd,
    fresh_prosody,
    inspircd,
    ngircd,
    prosody,
    tls_ircd,
)
from transport.testing.fixtures.twilio import twilio_standin

__all__ = [
    "_component_prosodies",
    "ejabberd",
    "fresh_ejabberd",
    "fresh_prosody",
    "gateway",
    "gateway_settings",
    "inspircd",
    "ngircd",
    "prosody",
    "tls_ircd",
    "transport_backend",
    "transport_component",
    "transport_settings",
    "twilio_standin",
    "users",
    "xmpp_server",
]
