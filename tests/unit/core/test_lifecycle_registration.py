"""``on_registered`` from every path that binds a registration: new, changed, unchanged."""

from __future__ import annotations

from transport.backends.echo import EchoBackend, EchoSettings
from transport.core.events import Registration
from transport.core.policy import AccessPolicy
from transport.xmpp.backend_context import Gateway
from transport.xmpp.component import GatewayComponent

C = "echo.localhost"
ALICE = "alice@localhost"


class Recording(EchoBackend):
    def __init__(self, ctx: Gateway, settings: EchoSettings) -> None:
        super().__init__(ctx, settings)
        self.registered: list[tuple[Registration, Registration | None]] = []

    async def on_registered(self, user: str, registration: Registration,
                            previous: Registration | None) -> None:
        self.registered.append((registration, previous))


async def test_bind_registration_tells_the_backend_what_changed(store):
    xmpp = GatewayComponent(C, "secret", "127.0.0.1", 1)
    gw = Gateway(xmpp, Recording, EchoSettings(), store, AccessPolicy.build((), ()))
    backend = gw.backend
    assert isinstance(backend, Recording)
    first = Registration("alice", {"username": "alice"})
    assert await gw.bind_registration(ALICE, first, greet=False)
    await gw.lifecycle.settled()
    assert backend.registered == [(first, None)]

    assert not await gw.bind_registration(ALICE, Registration("alice", {"username": "alice"}),
                                          greet=False)
    await gw.lifecycle.settled()
    assert backend.registered == [(first, None)], "nothing changed, nothing to tell"

    second = Registration("alice", {"username": "Alice"})
    await gw.bind_registration(ALICE, second, greet=False)
    await gw.lifecycle.settled()
    assert backend.registered == [(first, None), (second, first)]
    await gw.lifecycle.stop()


async def test_the_backend_reads_who_is_held_online_as_stored(store):
    """What ``ctx.online_users`` returns is the lifecycle's stored memory, readable from
    ``start()`` (before the lifecycle itself started), and it follows the hooks."""
    await store.online_users.add(C, "bob@localhost")
    await store.online_users.add("other.localhost", "carol@localhost")
    xmpp = GatewayComponent(C, "secret", "127.0.0.1", 1)
    gw = Gateway(xmpp, Recording, EchoSettings(require_registration=False), store,
                 AccessPolicy.build((), ()))
    ctx = gw.backend.ctx
    assert await ctx.online_users() == ["bob@localhost"]
    await gw.lifecycle.start()
    gw.lifecycle.available(ALICE, "phone", C)
    await gw.lifecycle.settled()
    assert await ctx.online_users() == [ALICE, "bob@localhost"]
    gw.lifecycle.unavailable(ALICE, "phone", C)
    await gw.lifecycle.settled()
    assert await ctx.online_users() == ["bob@localhost"]
    await gw.lifecycle.stop()
