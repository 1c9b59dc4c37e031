"""Who may bind a number ([sms] registration) and the hand-over of a released number,
against a real Prosody and the Twilio stand-in."""

from typing import Any

import pytest
from slixmpp.exceptions import IqError
from test_sms_support import CONTACT, GW, POOL, contact_jid, http, registered

from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import register, registration_form, send_chat, unregister
from transport.testing.xmpp_steps import run_command as run_command_on
from transport.xmpp.stanzas import error_condition

pytest_plugins = ("test_sms_support",)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2


async def run_command(
    client: TestClient, node: str, values: dict[str, str] | None = None
) -> tuple[Any, str]:
    """Run an ad-hoc command on the gateway, submitting ``values`` to its first form;
    (the last answer, its first note's text)."""
    answer = await run_command_on(client, GW, node, values)
    notes = answer["command"]["notes"]
    return answer, notes[0][1] if notes else ""


def bare(client: TestClient) -> str:
    return str(client.boundjid.bare)


async def test_approval_holds_the_number_until_an_admin_approves(sms_gateway, users):
    async with sms_gateway(registration="approval") as gw:
        admin, alice, carol = await users(name="admin"), await users(), await users()
        form = await registration_form(alice, GW)
        assert "An admin approves each request" in form["register"]["instructions"]
        await register(alice, GW, phone=POOL[0])
        notice = await alice.expect_message(sender=GW)
        assert notice["body"] == (f"Your request to use {POOL[0]} on {GW} waits for an admin's "
                                  "approval. You will get a message here once it is decided.")
        assert await gw.store.users.get(GW, bare(alice)) is None
        msg_id = send_chat(alice, contact_jid(CONTACT), "too early")
        err = await alice.expect_message(mtype="error")
        assert err["id"] == msg_id and error_condition(err) == "registration-required"
        with pytest.raises(IqError) as refused:
            await register(carol, GW, phone=POOL[0])
        assert refused.value.condition == "conflict", "the request reserves the number"

        _, stats = await run_command(admin, "stats")
        assert "sms registration requests pending: 1" in stats
        answer, _ = await run_command(admin, "pending-registrations")
        [field] = answer["command"]["form"].get_fields().values()
        assert field["var"] == f"{bare(alice)} {POOL[0]}"
        assert field["label"].startswith(f"{bare(alice)} asks for {POOL[0]} (since ")
        _, note = await run_command(admin, "pending-registrations", {field["var"]: "approve"})
        assert note == f"{bare(alice)}: approved for {POOL[0]}"

        approved = await alice.expect_message(sender=GW)
        assert approved["body"] == (f"An admin approved your request: {POOL[0]} is yours on "
                                    f"{GW}, and texts to it reach you here.")
        await alice.expect_presence(GW, "subscribe")
        assert (await gw.store.users.get(GW, bare(alice))).legacy_key == POOL[0]
        await gw.text(POOL[0], CONTACT, "after approval")
        assert (await alice.expect_message(sender=contact_jid(CONTACT)))["body"] == \
            "after approval"
        _, note = await run_command(admin, "pending-registrations")
        assert note == "No registration requests are pending."


async def test_rejected_or_withdrawn_requests_free_the_number_and_survive_restarts(
    sms_gateway, users
):
    async with sms_gateway(registration="approval"):
        admin, alice, carol = await users(name="admin"), await users(), await users()
        await register(alice, GW, phone=POOL[0])
        await alice.expect_message(sender=GW)
    async with sms_gateway(registration="approval") as gw:
        answer, _ = await run_command(admin, "pending-registrations")
        [var] = answer["command"]["form"].get_fields()
        _, note = await run_command(admin, "pending-registrations", {var: "reject"})
        assert note == f"{bare(alice)}: rejected"
        rejected = await alice.expect_message(sender=GW)
        assert rejected["body"] == f"An admin rejected your request to use {POOL[0]} on {GW}."
        assert await gw.store.users.get(GW, bare(alice)) is None

        await register(carol, GW, phone=POOL[0])
        await carol.expect_message(sender=GW)
        with pytest.raises(IqError) as refused:
            await register(alice, GW, phone=POOL[0])
        assert refused.value.condition == "conflict"
        await unregister(carol, GW)  # withdraws the request
        await register(alice, GW, phone=POOL[0])
        assert "waits for an admin's approval" in (await alice.expect_message(sender=GW))["body"]
        with pytest.raises(IqError) as refused:
            await unregister(carol, GW)
        assert refused.value.condition == "registration-required"


async def test_admins_are_never_held_back(sms_gateway, users):
    async with sms_gateway(registration="approval") as gw:
        admin = await users(name="admin")
        await register(admin, GW, phone=POOL[1])
        await admin.expect_presence(GW, "subscribe")
        assert (await gw.store.users.get(GW, bare(admin))).legacy_key == POOL[1]


async def test_admin_mode_only_admins_bind_numbers(sms_gateway, users):
    async with sms_gateway(registration="admin") as gw:
        admin, alice, carol = await users(name="admin"), await users(), await users()
        form = await registration_form(alice, GW)
        assert "assigned by its admins" in form["register"]["instructions"]
        with pytest.raises(IqError) as refused:
            await register(alice, GW, phone=POOL[0])
        assert (refused.value.condition, refused.value.etype) == ("not-allowed", "cancel")
        assert "assigned by its admins" in refused.value.text
        assert gw.standin.create_attempts == []

        _, note = await run_command(admin, "assign-number",
                                    {"jid": bare(alice), "phone": "(212) 555-0100"})
        assert note == f"{POOL[0]} is now {bare(alice)}'s."
        told = await alice.expect_message(sender=GW)
        assert told["body"] == (f"An admin assigned you {POOL[0]} on {GW}; texts to it reach "
                                "you here.")
        await alice.expect_presence(GW, "subscribe")
        assert (await gw.store.users.get(GW, bare(alice))).legacy_key == POOL[0]

        answer, note = await run_command(admin, "assign-number",
                                         {"jid": bare(carol), "phone": POOL[0]})
        assert note == (f"{POOL[0]} was not assigned: "
                        "This number is already registered by another user")
        assert answer["command"]["notes"][0][0] == "error"
        _, note = await run_command(admin, "assign-number",
                                    {"jid": bare(carol), "phone": "+12125550177"})
        assert "not one of this gateway's numbers" in note
        await register(admin, GW, phone=POOL[1])

        items = await alice.plugin["xep_0030"].get_items(
            GW, node="http://jabber.org/protocol/commands")
        nodes = {i[1] for i in items["disco_items"]["items"]}
        assert not nodes & {"assign-number", "pending-registrations"}


@pytest.mark.parametrize("how", ["remove", "admin"])
async def test_a_released_number_passes_on_with_nothing_of_its_owner(sms_gateway, users, how):
    async with sms_gateway() as gw:
        admin = await users(name="admin")
        await gw.text(POOL[0], CONTACT, "for nobody yet")  # kept for the admin
        alice = await registered(users, POOL[0])
        alice.send_presence(pto=contact_jid(CONTACT), ptype="subscribe")
        await alice.expect_presence(contact_jid(CONTACT), "subscribed")
        await gw.text(POOL[0], CONTACT, "for alice", media=[(PNG, "image/png")])
        await alice.expect_message(body="for alice")
        media_url = (await alice.expect_message(sender=contact_jid(CONTACT)))["body"]
        media_file = gw.backend.media.directory / media_url.rsplit("/", 1)[1]
        assert media_file.is_file()

        if how == "remove":
            await unregister(alice, GW)
        else:
            await run_command(admin, "unregister-user", {"jid": bare(alice)})
        await alice.expect_presence(GW, "unsubscribed")

        bob = await registered(users, POOL[0])
        # Bob's own subscription with the gateway (contact "") may already be there: his
        # client authorizes the gateway's request. Nothing of alice's contacts may be.
        assert [s for s in await gw.store.subscriptions.for_user(GW, bare(bob)) if s.contact] == []
        assert await gw.store.subscriptions.for_user(GW, bare(alice)) == []
        assert await gw.store.xmpp_queue.count(GW) == 0
        assert await gw.backend.repo.count_unrouted() == 0, "texts to the number are gone"
        assert await gw.backend.repo.count_media() == 0 and not media_file.exists()
        assert (await http("GET", gw.local(media_url)))[0] == 404
        await gw.text(POOL[0], CONTACT, "for bob")
        first = await bob.expect_message(sender=contact_jid(CONTACT))
        assert first["body"] == "for bob", "nothing of alice's reached bob before his own text"
        assert not [s for s in bob.drain()
                    if s["from"].bare == contact_jid(CONTACT) and s.name == "presence"]
