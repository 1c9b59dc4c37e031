"""The worked example's own test, as its author writes it with the shipped test kit.

The ``gateway`` fixture runs the backend named by ``transport_backend`` at
``roomchat.localhost`` against a real Prosody; ``users`` logs in a fresh account there.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from examples.roomchat import RoomChatBackend
from transport.app import Application
from transport.testing.fixtures.gateway import Users
from transport.testing.xmpp_steps import register_with_form
from transport.xmpp.namespaces import MUC, MUC_USER

GATEWAY = "roomchat.localhost"
LOBBY = f"#lobby@{GATEWAY}"


@pytest.fixture
def transport_backend() -> type[RoomChatBackend]:
    return RoomChatBackend


async def test_a_registered_nick_joins_a_room_and_the_bot_answers(
    gateway: Application, users: Users
) -> None:
    alice = await users()
    await register_with_form(alice, GATEWAY, nick="Alice")

    join = alice.make_presence(pto=f"{LOBBY}/whatever")  # an XEP-0045 join
    ET.SubElement(join.xml, f"{{{MUC}}}x")
    join.send()
    me = await alice.expect(lambda stanza: str(stanza["from"]) == f"{LOBBY}/Alice")
    codes = {status.get("code") for status in me.xml.iter(f"{{{MUC_USER}}}status")}
    assert codes >= {"110", "210"}, "the user's own presence, with the registered nick"

    alice.make_message(mto=LOBBY, mbody="hello bot", mtype="groupchat").send()
    await alice.expect_message(sender=f"{LOBBY}/Alice", body="hello bot")
    await alice.expect_message(sender=f"{LOBBY}/bot", body="Alice: you said 'hello bot'")
