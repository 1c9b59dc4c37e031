"""Registration without an XEP-0077 dialog: the ``register`` and ``unregister`` ad-hoc
commands and the answer to ``help``, against a real Prosody and the Twilio stand-in."""

import asyncio

from test_sms_registration_modes import bare, run_command
from test_sms_support import CONTACT, GW, POOL, contact_jid

from transport.testing.xmpp_steps import send_chat

pytest_plugins = ("test_sms_support",)


async def command_nodes(client) -> list[str]:
    items = await client.plugin["xep_0030"].get_items(
        jid=GW, node="http://jabber.org/protocol/commands")
    return [item[1] for item in items["disco_items"]["items"]]


async def ask_help(client) -> str:
    send_chat(client, GW, "help")
    return (await client.expect_message(sender=GW, mtype="chat"))["body"]


async def test_a_user_registers_and_unregisters_by_command(sms_gateway, users, standin):
    async with sms_gateway() as gw:
        alice = await users()
        assert "register" in await command_nodes(alice)
        assert "unregister" not in await command_nodes(alice), "offered once registered"
        answer, _ = await run_command(alice, "register")
        fields = answer["command"]["form"].get_fields()
        assert fields["phone"]["required"]

        _, note = await run_command(alice, "register", {"phone": POOL[0]})
        assert note == f"You are registered with {GW} as {POOL[0]}."
        assert (await gw.store.users.get(GW, bare(alice))).legacy_key == POOL[0]
        send_chat(alice, contact_jid(CONTACT), "registered by command")
        await standin_received(standin, "registered by command")

        assert "unregister" in await command_nodes(alice)
        answer, _ = await run_command(alice, "unregister")
        assert "confirm" in answer["command"]["form"].get_fields()
        _, note = await run_command(alice, "unregister", {"confirm": "1"})
        assert note == f"You are no longer registered with {GW}."
        assert await gw.store.users.get(GW, bare(alice)) is None


async def test_the_command_gives_the_same_errors_as_the_iq(sms_gateway, users):
    async with sms_gateway() as gw:
        alice, bob = await users(), await users()
        _, note = await run_command(alice, "register", {"phone": POOL[1]})
        assert note.startswith("You are registered")
        answer, note = await run_command(bob, "register", {"phone": POOL[1]})
        assert note == "This number is already registered by another user"
        assert answer["command"]["notes"][0][0] == "error"
        answer, note = await run_command(bob, "register", {"phone": ""})
        assert (answer["command"]["notes"][0][0], note) == ("error", "Please fill in: Phone number")
        answer, note = await run_command(bob, "register", {"phone": "+1999"})
        assert answer["command"]["notes"][0][0] == "error"
        assert await gw.store.users.get(GW, bare(bob)) is None


async def test_approval_mode_says_the_request_waits(sms_gateway, users):
    async with sms_gateway(registration="approval"):
        alice = await users()
        _, note = await run_command(alice, "register", {"phone": POOL[2]})
        assert "waits for an admin's approval" in note


async def test_help_says_what_the_user_can_do(sms_gateway, users):
    async with sms_gateway():
        alice = await users()
        text = await ask_help(alice)
        assert f"+12125550142@{GW}" in text
        assert "You are not registered yet" in text
        assert "Register (register)" in text
        assert "stats" not in text, "admin commands only for admins"
        await run_command(alice, "register", {"phone": POOL[0]})
        text = await ask_help(alice)
        assert f"You are registered as {POOL[0]}." in text
        assert "Unregister (unregister)" in text

        alice.send_message(mto=GW, mbody="", mtype="chat")  # a bodiless message: no answer
        send_chat(alice, GW, "anything else")
        assert "This is" in (await alice.expect_message(sender=GW, mtype="chat"))["body"]


async def standin_received(standin, body, timeout=10.0):
    for _ in range(int(timeout / 0.05)):
        if any(m.body == body for m in standin.sent_messages):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the stand-in never received {body!r}")
