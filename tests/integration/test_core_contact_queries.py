"""Pings and version queries to contact JIDs go through the backend's hooks; without them
(or for the domain itself) the gateway answers for itself, as before."""

import pytest
from slixmpp.exceptions import IqError

from transport import SOFTWARE_NAME, __version__
from transport.core.backend import Backend, Identity, SoftwareVersion
from transport.core.errors import GatewayError
from transport.core.events import OutgoingMessage, SendOutcome
from transport.testing.gateway import ComponentSpec, running_gateway

GW = "echo.localhost"
VERSION_NS = "jabber:iq:version"


class AnsweringBackend(Backend):
    """Contacts answer for themselves, except ``quiet`` ones, which leave it to the core."""

    name = "answering"
    identities = (Identity("gateway", "test", "Answering"),)

    def __init__(self, ctx, settings):
        super().__init__(ctx, settings)
        self.asked: list[tuple[str, str, str, str]] = []

    def normalize_contact(self, localpart: str) -> str:
        return localpart

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        return SendOutcome()

    async def ping_contact(self, requester, localpart, resource):
        self.asked.append(("ping", requester, localpart, resource))
        if localpart == "gone":
            raise GatewayError("gone away", "remote-server-timeout", "wait")

    async def contact_version(self, requester, localpart, resource):
        self.asked.append(("version", requester, localpart, resource))
        if localpart == "gone":
            raise GatewayError("no such peer", "item-not-found")
        if localpart == "quiet":
            return None
        return SoftwareVersion(f"Peer <{resource}>", "", "PeerOS")


async def version(client, jid):
    result = await client.query(client.make_iq_get(queryxmlns=VERSION_NS, ito=jid))
    query = result.xml.find(f"{{{VERSION_NS}}}query")
    return tuple(query.findtext(f"{{{VERSION_NS}}}{name}") for name in ("name", "version", "os"))


@pytest.fixture
async def answering(gateway_settings):
    spec = ComponentSpec(AnsweringBackend, GW, "echo-secret")
    async with running_gateway(gateway_settings(component=spec)) as app:
        yield app.runtimes[0].gateway.backend


async def test_hooks_answer_for_contacts(answering, users):
    alice = await users()
    me = str(alice.boundjid)
    assert await version(alice, f"peer@{GW}/laptop") == ("Peer <laptop>", "", "PeerOS")
    assert await version(alice, f"quiet@{GW}") == (SOFTWARE_NAME, __version__, None)
    with pytest.raises(IqError) as exc:
        await version(alice, f"gone@{GW}")
    assert exc.value.condition == "item-not-found"
    await alice.plugin["xep_0199"].send_ping(f"peer@{GW}", timeout=5)
    with pytest.raises(IqError) as exc:
        await alice.plugin["xep_0199"].send_ping(f"gone@{GW}/r", timeout=5)
    assert exc.value.condition == "remote-server-timeout"
    assert ("ping", me, "gone", "r") in answering.asked
    assert ("version", me, "peer", "laptop") in answering.asked
    before = len(answering.asked)
    await alice.plugin["xep_0199"].send_ping(GW, timeout=5)
    assert await version(alice, GW) == (SOFTWARE_NAME, __version__, None)
    assert len(answering.asked) == before, "the domain answers for itself"


async def test_backends_without_hooks_answer_as_the_gateway(gateway, users):
    alice = await users()
    assert await version(alice, f"anyone@{GW}") == (SOFTWARE_NAME, __version__, None)
    await alice.plugin["xep_0199"].send_ping(f"anyone@{GW}/res", timeout=5)
