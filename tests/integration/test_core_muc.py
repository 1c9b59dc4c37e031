"""The core's MUC service on its edges, with a backend scripted by each test: joins that
never complete or fail, clients that error, invitations, the gateway stopping."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from slixmpp.exceptions import IqError

from transport.core.backend import Backend, BackendContext, Identity
from transport.core.errors import GatewayError
from transport.core.events import OutgoingMessage, SendOutcome
from transport.core.room_hooks import Rooms
from transport.core.rooms import JoinRequest, Occupant
from transport.testing.gateway import ComponentSpec, running_gateway

GW = "echo.localhost"
ROOM = f"#r@{GW}"
MUC = "http://jabber.org/protocol/muc"
MUC_USER = f"{MUC}#user"
MUC_ADMIN = f"{MUC}#admin"
MUC_OWNER = f"{MUC}#owner"

pytestmark = pytest.mark.timeout(30)


class ScriptedRooms(Rooms):
    """Records every hook call; ``mode`` says how joins end."""

    join_timeout = 0.5

    def __init__(self, ctx: BackendContext) -> None:
        self.ctx = ctx
        self.calls: list[tuple[str, ...]] = []
        self.mode = "join"
        self.changed = asyncio.Event()

    def _record(self, *call: str) -> None:
        self.calls.append(call)
        self.changed.set()

    def room_key(self, localpart: str) -> str | None:
        return localpart.lower() if localpart.startswith("#") else None

    async def join(self, user: str, room: str, request: JoinRequest) -> None:
        self._record("join", user, room, request.nick)
        if self.mode == "join":
            await self.ctx.rooms.joined(user, room, Occupant(request.nick))
        elif self.mode == "fail":
            await self.ctx.rooms.join_failed(user, room, GatewayError("Banned here",
                                                                      "forbidden", "auth"))

    async def join_expired(self, user: str, room: str, last: bool) -> str:
        self._record("expired", user, room, str(last))
        return "The test network is asleep"

    async def leave(self, user: str, room: str, status: str) -> None:
        self._record("leave", user, room, status)

    def occupants(self, user: str, room: str) -> Iterator[Occupant]:
        yield Occupant("peer", "moderator", "admin", jid=f"peer@{GW}")

    async def invite(self, user: str, room: str, localpart: str, resource: str,
                     reason: str) -> None:
        self._record("invite", user, room, localpart, resource, reason)


class ScriptedBackend(Backend):
    name = "scripted"
    identities = (Identity("conference", "text", "Scripted"),)

    def __init__(self, ctx: BackendContext, settings: Any) -> None:
        super().__init__(ctx, settings)
        self.rooms = self.scripted = ScriptedRooms(ctx)

    def normalize_contact(self, localpart: str) -> str:
        return localpart

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        return SendOutcome()


@pytest.fixture
async def scripted(gateway_settings: Any) -> Any:
    spec = ComponentSpec(ScriptedBackend, GW, "echo-secret")
    async with running_gateway(gateway_settings(component=spec)) as app:
        yield app


def hooks(app: Any) -> ScriptedRooms:
    for runtime in app.runtimes:
        backend = runtime.gateway.backend
        if isinstance(backend, ScriptedBackend):
            return backend.scripted
    raise LookupError("no scripted backend")


async def called(rooms: ScriptedRooms, name: str) -> tuple[str, ...]:
    async def wait() -> tuple[str, ...]:
        while True:
            found = [c for c in rooms.calls if c[0] == name]
            if found:
                return found[-1]
            rooms.changed.clear()
            await rooms.changed.wait()

    return await asyncio.wait_for(wait(), 10)


def send_join(client: Any, nick: str = "me") -> None:
    pres = client.make_presence(pto=f"{ROOM}/{nick}")
    ET.SubElement(pres.xml, f"{{{MUC}}}x")
    pres.send()


def codes(stanza: Any) -> set[str]:
    return {s.get("code") for s in stanza.xml.findall(f".//{{{MUC_USER}}}status")}


def from_room(ptype: str | None = None, nick: str = "me") -> Any:
    def pred(s: Any) -> bool:
        return (s.name == "presence" and str(s["from"]) == f"{ROOM}/{nick}"
                and (ptype is None or s["type"] == ptype))

    return pred


async def test_a_join_that_never_completes_times_out(scripted, users):
    alice = await users()
    hooks(scripted).mode = "hang"
    send_join(alice)
    error = await alice.expect(from_room("error"))
    assert error["error"]["condition"] == "remote-server-timeout"
    assert error["error"]["text"] == "The test network is asleep"
    assert error.xml.find(f"{{{MUC}}}x") is not None
    assert (await called(hooks(scripted), "expired"))[3] == "True"
    assert not [c for c in hooks(scripted).calls if c[0] == "leave"]


async def test_a_refused_join_is_an_error_and_the_next_join_asks_again(scripted, users):
    alice = await users()
    hooks(scripted).mode = "fail"
    send_join(alice)
    error = await alice.expect(from_room("error"))
    assert error["error"]["condition"] == "forbidden"
    hooks(scripted).mode = "join"
    send_join(alice)
    assert "110" in codes(await alice.expect(from_room()))
    assert len([c for c in hooks(scripted).calls if c[0] == "join"]) == 2


async def test_occupants_come_from_the_backend_with_their_jid(scripted, users):
    alice = await users()
    send_join(alice)
    peer = await alice.expect(from_room(nick="peer"))
    found = peer.xml.find(f".//{{{MUC_USER}}}item")
    assert found.attrib == {"affiliation": "admin", "role": "moderator", "jid": f"peer@{GW}"}
    assert codes(await alice.expect(from_room())) == {"110"}


async def test_a_client_that_errors_leaves_the_room(scripted, users):
    alice = await users()
    send_join(alice)
    await alice.expect(from_room())
    error = alice.make_message(mto=ROOM, mtype="error")
    ET.SubElement(ET.SubElement(error.xml, "{jabber:client}error", {"type": "cancel"}),
                  "{urn:ietf:params:xml:ns:xmpp-stanzas}recipient-unavailable")
    error.send()
    left = await called(hooks(scripted), "leave")
    assert left[1:] == (alice.boundjid.bare, "#r", "")


async def test_leaving_an_unknown_room_still_answers(scripted, users):
    alice = await users()
    alice.send_presence(pto=f"{ROOM}/me", ptype="unavailable")
    gone = await alice.expect(from_room("unavailable"))
    assert codes(gone) == {"110"}


async def test_invitations_both_ways(scripted, users):
    alice = await users()
    bob = await users()
    send_join(alice)
    await alice.expect(from_room())
    invite = alice.make_message(mto=ROOM)
    x = ET.SubElement(invite.xml, f"{{{MUC_USER}}}x")
    ET.SubElement(ET.SubElement(x, f"{{{MUC_USER}}}invite", {"to": str(bob.boundjid.bare)}),
                  f"{{{MUC_USER}}}reason").text = "come"
    ET.SubElement(x, f"{{{MUC_USER}}}invite", {"to": f"friend@{GW}"})
    invite.send()
    mediated = await bob.expect(lambda s: s.name == "message" and s["from"].bare == ROOM)
    element = mediated.xml.find(f".//{{{MUC_USER}}}invite")
    assert element.get("from") == str(alice.boundjid)
    assert element.findtext(f"{{{MUC_USER}}}reason") == "come"
    assert (await called(hooks(scripted), "invite"))[3:] == ("friend", "", "")

    await scripted.runtimes[0].gateway.rooms.invited(
        str(bob.boundjid.bare), "#r", f"peer@{GW}", reason="join us")
    told = await bob.expect(lambda s: s.name == "message" and s["from"].bare == ROOM
                            and s.xml.find(f".//{{{MUC_USER}}}invite") is not None)
    assert told.xml.find(f".//{{{MUC_USER}}}invite").get("from") == f"peer@{GW}"


async def test_stopping_the_gateway_closes_rooms_with_332(gateway_settings, users):
    spec = ComponentSpec(ScriptedBackend, GW, "echo-secret")
    alice = await users()
    async with running_gateway(gateway_settings(component=spec)):
        send_join(alice)
        await alice.expect(from_room())
    closed = await alice.expect(from_room("unavailable"))
    assert codes(closed) == {"332", "110"}


async def test_what_a_backend_leaves_out_is_refused_with_a_reason(scripted, users):
    alice = await users()
    info = await alice.plugin["xep_0030"].get_info(ROOM)
    assert MUC in info["disco_info"]["features"]
    assert "urn:xmpp:mam:2" not in info["disco_info"]["features"], "no archive, no MAM"
    assert ("conference", "text") in {(i[0], i[1]) for i in info["disco_info"]["identities"]}

    owner = alice.make_iq_get(ito=ROOM)
    ET.SubElement(owner.xml, f"{{{MUC_OWNER}}}query")
    with pytest.raises(IqError) as no_form:
        await alice.query(owner)
    assert no_form.value.condition == "feature-not-implemented"

    send_join(alice)
    await alice.expect(from_room())
    change = alice.make_iq_set(ito=ROOM)
    query = ET.SubElement(change.xml, f"{{{MUC_ADMIN}}}query")
    ET.SubElement(query, f"{{{MUC_ADMIN}}}item", {"nick": "peer", "role": "none"})
    with pytest.raises(IqError) as no_kick:
        await alice.query(change)
    assert no_kick.value.condition == "feature-not-implemented"

    subject = alice.make_message(mto=ROOM, mtype="groupchat")
    subject["subject"] = "mine"
    subject.send()
    refused = await alice.expect(lambda s: s.name == "message" and s["type"] == "error")
    assert refused["error"]["condition"] == "forbidden"


async def test_a_room_closing_answers_the_resources_still_waiting(scripted, users):
    alice = await users()
    hooks(scripted).mode = "hang"
    send_join(alice)
    await called(hooks(scripted), "join")
    await scripted.runtimes[0].gateway.rooms.closed(str(alice.boundjid.bare), "#r",
                                                    status="The network went away")
    error = await alice.expect(from_room("error"))
    assert error["error"]["condition"] == "service-unavailable"
    assert error["error"]["text"] == "The network went away"
