"""The worked example (``examples/roomchat``) against a real Prosody: every piece of
XEP-0045 it gets from the core's MUC service without writing any of it.

It is tested as a backend of one's own is, with the shipped test kit: ``transport_backend``
names the class, and the ``gateway`` fixture runs it at ``roomchat.localhost``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from slixmpp.exceptions import IqError

from examples.roomchat import RoomChatBackend
from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import register

GW = "roomchat.localhost"
LOBBY = f"#lobby@{GW}"
MUC = "http://jabber.org/protocol/muc"
MUC_USER = f"{MUC}#user"
MUC_ADMIN = f"{MUC}#admin"
MUC_OWNER = f"{MUC}#owner"
MAM = "urn:xmpp:mam:2"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def transport_backend() -> type[RoomChatBackend]:
    return RoomChatBackend


async def member(users: Callable[..., Any], nick: str, **kwargs: Any) -> TestClient:
    """A logged-in user registered with ``nick``, the gateway's presences consumed."""
    client: TestClient = await users(**kwargs)
    await register(client, GW, nick=nick)
    await client.expect_presence(GW, "subscribe")
    return client


def codes(stanza: Any) -> set[str]:
    return {s.get("code") for s in stanza.xml.findall(f".//{{{MUC_USER}}}status")}


def item(stanza: Any) -> dict[str, str]:
    found = stanza.xml.find(f".//{{{MUC_USER}}}item")
    return dict(found.attrib) if found is not None else {}


def send_join(client: TestClient, nick: str, history: dict[str, str] | None = None) -> None:
    pres = client.make_presence(pto=f"{LOBBY}/{nick}")
    x = ET.SubElement(pres.xml, f"{{{MUC}}}x")
    if history is not None:
        ET.SubElement(x, f"{{{MUC}}}history", history)
    pres.send()


async def join(client: TestClient, nick: str, **kwargs: Any) -> list[Any]:
    """Join the lobby: every stanza of the join sequence, up to the subject (or error)."""
    send_join(client, nick, **kwargs)
    got: list[Any] = []

    def collect(s: Any) -> bool:
        if s["from"].bare != LOBBY:
            return False
        got.append(s)
        if s.name == "presence" and s["type"] == "error":
            return True
        return s.name == "message" and s.xml.find("{jabber:client}subject") is not None

    await client.expect(collect, timeout=15)
    return got


def presence_of(nick: str, ptype: str | None = None) -> Callable[[Any], bool]:
    def pred(s: Any) -> bool:
        return (s.name == "presence" and str(s["from"]) == f"{LOBBY}/{nick}"
                and (ptype is None or s["type"] == ptype))

    return pred


def said(body: str) -> Callable[[Any], bool]:
    def pred(s: Any) -> bool:
        return s.name == "message" and s["type"] == "groupchat" and s["body"] == body

    return pred


def admin_set(client: TestClient, reason: str = "", **attrs: str) -> Any:
    iq = client.make_iq_set(ito=LOBBY)
    query = ET.SubElement(iq.xml, f"{{{MUC_ADMIN}}}query")
    entry = ET.SubElement(query, f"{{{MUC_ADMIN}}}item", attrs)
    if reason:
        ET.SubElement(entry, f"{{{MUC_ADMIN}}}reason").text = reason
    return iq


def say(client: TestClient, body: str) -> None:
    client.make_message(mto=LOBBY, mbody=body, mtype="groupchat").send()


async def test_join_sequence_in_xep0045_order(gateway, users):
    alice = await member(users, "alice")
    got = await join(alice, "alice")
    assert [(s.name, s["from"].resource) for s in got] == [
        ("presence", "bot"), ("presence", "alice"), ("message", "")]
    assert item(got[0]) == {"affiliation": "none", "role": "participant"}
    assert codes(got[1]) == {"110", "201"}, "self-presence of a room just created"
    assert item(got[1])["affiliation"] == "owner"
    assert item(got[1])["jid"] == str(alice.boundjid)
    assert got[2]["subject"] == "Welcome to #lobby"


async def test_the_network_gives_the_registered_nick(gateway, users):
    alice = await member(users, "alice")
    got = await join(alice, "wonderland")
    self_presence = got[-2]
    assert self_presence["from"].resource == "alice"
    assert {"110", "210"} <= codes(self_presence)


async def test_messages_history_and_other_occupants(gateway, users):
    alice = await member(users, "alice")
    await join(alice, "alice")
    say(alice, "hello bot")
    echo = await alice.expect(said("hello bot"))
    assert echo["from"].resource == "alice", "a room reflects its occupants' messages"
    answer = await alice.expect(said("alice: you said 'hello bot'"))
    assert answer["from"].resource == "bot"

    bob = await member(users, "bob")
    got = await join(bob, "bob", history={"maxstanzas": "1"})
    kinds = [(s.name, s["from"].resource) for s in got]
    assert kinds[:3] == [("presence", "bot"), ("presence", "alice"), ("presence", "bob")]
    history = [s for s in got if s.name == "message" and s["body"]]
    assert [s["body"] for s in history] == ["alice: you said 'hello bot'"]
    assert history[0]["delay"]["stamp"] is not None
    assert codes(got[2]) == {"110"}, "the room existed already"
    arrived = await alice.expect(presence_of("bob"))
    assert arrived["type"] != "unavailable"

    say(bob, "hi alice")
    assert (await alice.expect(said("hi alice")))["from"].resource == "bob"


async def test_a_second_resource_shares_the_membership(gateway, users):
    alice = await member(users, "alice")
    await join(alice, "alice")
    bob = await member(users, "bob")
    await join(bob, "bob")
    await alice.expect(presence_of("bob"))

    bob2 = await users(name=bob.boundjid.user, resource="two")
    bob2.drain()
    got = await join(bob2, "bob")
    assert [(s.name, s["from"].resource) for s in got] == [
        ("presence", "bot"), ("presence", "alice"), ("presence", "bob"), ("message", "")]
    say(alice, "to both")
    await bob.expect(said("to both"))
    await bob2.expect(said("to both"))

    bob2.send_presence(pto=f"{LOBBY}/bob", ptype="unavailable")
    gone = await bob2.expect(presence_of("bob", "unavailable"))
    assert "110" in codes(gone)
    say(alice, "still there")
    await bob.expect(said("still there"))
    assert not [s for s in alice.drain() if presence_of("bob", "unavailable")(s)], \
        "one resource leaving does not take the user out"

    bob.send_presence(pto=f"{LOBBY}/bob", ptype="unavailable")
    await bob.expect(presence_of("bob", "unavailable"))
    left = await alice.expect(presence_of("bob", "unavailable"))
    assert "110" not in codes(left)


async def test_nick_change_subject_and_refused_nick(gateway, users):
    alice = await member(users, "alice")
    await join(alice, "alice")
    bob = await member(users, "bob")
    await join(bob, "bob")

    bob.send_presence(pto=f"{LOBBY}/robert")
    old = await bob.expect(presence_of("bob", "unavailable"))
    assert codes(old) == {"303", "110"} and item(old)["nick"] == "robert"
    assert "110" in codes(await bob.expect(presence_of("robert")))
    seen = await alice.expect(presence_of("bob", "unavailable"))
    assert codes(seen) == {"303"}
    await alice.expect(presence_of("robert"))

    bob.send_presence(pto=f"{LOBBY}/bot")
    refused = await bob.expect(presence_of("bot", "error"))
    assert refused["error"]["condition"] == "conflict"

    subject = bob.make_message(mto=LOBBY, mtype="groupchat")
    subject["subject"] = "new subject"
    subject.send()
    for client in (alice, bob):
        changed = await client.expect(
            lambda s: s.name == "message" and s["subject"] == "new subject")
        assert changed["from"].resource == "robert"


async def test_owner_kicks_and_admin_lists(gateway, users):
    alice = await member(users, "alice")
    await join(alice, "alice")
    bob = await member(users, "bob")
    await join(bob, "bob")

    listing = alice.make_iq_get(queryxmlns=MUC_ADMIN, ito=LOBBY)
    ET.SubElement(listing.xml.find(f"{{{MUC_ADMIN}}}query"), f"{{{MUC_ADMIN}}}item",
                  {"affiliation": "member"})
    result = await alice.query(listing)
    assert [i.get("nick") for i in result.xml.iter(f"{{{MUC_ADMIN}}}item")] == ["bob"]

    with pytest.raises(IqError) as refused:
        await bob.query(admin_set(bob, nick="alice", role="none"))
    assert refused.value.condition == "forbidden"

    await alice.query(admin_set(alice, "spam", nick="bob", role="none"))
    out = await bob.expect(presence_of("bob", "unavailable"))
    assert codes(out) == {"307", "110"}
    assert out.xml.findtext(f".//{{{MUC_USER}}}reason") == "spam"
    seen = await alice.expect(presence_of("bob", "unavailable"))
    assert codes(seen) == {"307"}

    outsider = await member(users, "carol")
    with pytest.raises(IqError) as not_joined:
        await outsider.query(outsider.make_iq_get(queryxmlns=MUC_ADMIN, ito=LOBBY))
    assert not_joined.value.condition == "not-acceptable"


async def test_disco_owner_form_and_mam(gateway, users):
    alice = await member(users, "alice")
    info = await alice.plugin["xep_0030"].get_info(LOBBY)
    assert MUC in info["disco_info"]["features"] and MAM in info["disco_info"]["features"]
    await join(alice, "alice")
    info = await alice.plugin["xep_0030"].get_info(LOBBY)
    form = info.xml.find(".//{jabber:x:data}x")
    values = {f.get("var"): f.findtext("{jabber:x:data}value") for f in form}
    assert values["muc#roominfo_occupants"] == "2"

    configure = await alice.query(alice.make_iq_get(queryxmlns=MUC_OWNER, ito=LOBBY))
    assert configure.xml.find(f".//{{{MUC_OWNER}}}query/{{jabber:x:data}}x") is not None
    submit = alice.make_iq_set(ito=LOBBY)
    filled = alice.plugin["xep_0004"].make_form(ftype="submit")
    filled.add_field(var="subject", value="configured")
    ET.SubElement(submit.xml, f"{{{MUC_OWNER}}}query").append(filled.xml)
    await alice.query(submit)
    await alice.expect(lambda s: s.name == "message" and s["subject"] == "configured")

    for body in ("one", "two", "three"):
        say(alice, body)
        await alice.expect(said(body))
    query = alice.make_iq_set(ito=LOBBY)
    mam = ET.SubElement(query.xml, f"{{{MAM}}}query", {"queryid": "q1"})
    rsm = ET.SubElement(mam, "{http://jabber.org/protocol/rsm}set")
    ET.SubElement(rsm, "{http://jabber.org/protocol/rsm}max").text = "2"
    ET.SubElement(rsm, "{http://jabber.org/protocol/rsm}before")
    fin = await alice.query(query)
    assert fin.xml.find(f"{{{MAM}}}fin").get("complete") is None
    results = [s for s in alice.drain() if s.xml.find(f"{{{MAM}}}result") is not None]
    bodies = [s.xml.findtext(".//{jabber:client}body") for s in results]
    assert bodies == ["two", "three"]


async def test_unregistered_users_and_bad_joins_get_errors(gateway, users):
    stranger = await users()
    got = await join(stranger, "me")
    assert got[-1]["type"] == "error"
    assert got[-1]["error"]["condition"] == "forbidden"

    alice = await member(users, "alice")
    alice.send_presence(pto=LOBBY)  # no nick
    error = await alice.expect(lambda s: s.name == "presence" and s["type"] == "error")
    assert error["error"]["condition"] == "jid-malformed"
