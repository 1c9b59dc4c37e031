"""Backends answer disco for JIDs of their own (rooms, servers), with RSM paging."""

import pytest
from slixmpp.exceptions import IqError

from transport.core.backend import (
    Backend,
    ContactInfo,
    DataForm,
    DiscoItem,
    FormField,
    Identity,
    ItemsPage,
    PageRequest,
)
from transport.core.errors import AddressError
from transport.core.events import OutgoingMessage, SendOutcome
from transport.testing.gateway import ComponentSpec, running_gateway

GW = "echo.localhost"
ITEMS_NS = "http://jabber.org/protocol/disco#items"
CHANNELS = [f"#c{i:02d}" for i in range(12)]


class RoomsBackend(Backend):
    """Serves a server JID whose items are channels, paged like biboumi's LIST."""

    name = "rooms"
    identities = (Identity("conference", "text", "Rooms"),)

    def normalize_contact(self, localpart: str) -> str:
        if localpart.startswith("bad"):
            raise AddressError("bad address")
        return localpart

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        return SendOutcome()

    async def disco_info(self, user, localpart, resource, node):
        if localpart.startswith("#"):
            return ContactInfo(
                identities=(Identity("conference", "text", localpart),),
                features=("http://jabber.org/protocol/muc", "muc_nonanonymous"),
                extensions=(DataForm("http://jabber.org/protocol/muc#roominfo", (
                    FormField("muc#roominfo_occupants", "Occupants", value="3"),)),),
            )
        return None

    async def disco_items(self, user, localpart, resource, node, page: PageRequest):
        if localpart != "server":
            return None
        start = CHANNELS.index(page.after) + 1 if page.after else 0
        size = page.max if page.max is not None else len(CHANNELS)
        chunk = CHANNELS[start:start + size]
        return ItemsPage(
            items=tuple(DiscoItem(f"{c}@{GW}", None, c) for c in chunk),
            first=chunk[0] if chunk else None, first_index=start,
            last=chunk[-1] if chunk else None, count=len(CHANNELS),
        )


@pytest.fixture
async def rooms_gateway(gateway_settings):
    spec = ComponentSpec(RoomsBackend, GW, "echo-secret")
    async with running_gateway(gateway_settings(component=spec)) as app:
        yield app


async def test_room_info_with_extended_form(rooms_gateway, users):
    alice = await users()
    info = await alice.plugin["xep_0030"].get_info(f"#c01@{GW}")
    assert ("conference", "text") in {(i[0], i[1]) for i in info["disco_info"]["identities"]}
    assert "muc_nonanonymous" in info["disco_info"]["features"]
    form = info.xml.find(".//{jabber:x:data}x")
    assert form.get("type") == "result"
    values = {f.get("var"): f.findtext("{jabber:x:data}value") for f in form}
    assert values["FORM_TYPE"] == "http://jabber.org/protocol/muc#roominfo"
    assert values["muc#roominfo_occupants"] == "3"


async def test_items_are_paged_with_rsm(rooms_gateway, users):
    alice = await users()
    seen: list[str] = []
    after = None
    while True:
        iq = alice.make_iq_get(queryxmlns="http://jabber.org/protocol/disco#items",
                               ito=f"server@{GW}")
        iq["disco_items"]["rsm"]["max"] = "5"
        if after:
            iq["disco_items"]["rsm"]["after"] = after
        result = await alice.query(iq)
        names = [i.get("name") for i in result.xml.iter(f"{{{ITEMS_NS}}}item")]
        if not names:
            break
        assert result["disco_items"]["rsm"]["count"] == "12"
        seen += names
        after = result["disco_items"]["rsm"]["last"]
    assert seen == CHANNELS


async def test_default_info_and_bad_address(rooms_gateway, users):
    alice = await users()
    info = await alice.plugin["xep_0030"].get_info(f"someone@{GW}")
    assert info["disco_info"]["identities"]
    with pytest.raises(IqError) as err:
        await alice.plugin["xep_0030"].get_info(f"bad@{GW}")
    assert err.value.condition == "jid-malformed"


class CommandsOnRooms(RoomsBackend):
    """Offers a ``configure`` command on room JIDs, like biboumi."""

    def commands(self):
        from transport.core.backend import Command, CommandResult, FormField

        async def configure(request, values):
            if values is None:
                return CommandResult(form=(FormField("topic", "Topic"),))
            return CommandResult(note=f"{request.requester} set {request.target} to "
                                      f"{values.get('topic')}")

        return [Command("configure", "Configure", configure,
                        targets=lambda target: target.startswith("#"))]


async def test_commands_on_contact_jids(gateway_settings, users):
    spec = ComponentSpec(CommandsOnRooms, GW, "echo-secret")
    async with running_gateway(gateway_settings(component=spec)):
        alice = await users()
        room = f"#c01@{GW}"
        items = await alice.plugin["xep_0030"].get_items(
            room, node="http://jabber.org/protocol/commands")
        assert [i[1] for i in items["disco_items"]["items"]] == ["configure"]
        info = await alice.plugin["xep_0030"].get_info(room)
        assert "http://jabber.org/protocol/commands" in info["disco_info"]["features"]
        gw_items = await alice.plugin["xep_0030"].get_items(
            GW, node="http://jabber.org/protocol/commands")
        assert "configure" not in {i[1] for i in gw_items["disco_items"]["items"]}

        first = await alice.plugin["xep_0050"].send_command(room, "configure")
        form = alice.plugin["xep_0004"].make_form(ftype="submit")
        form.add_field(var="topic", value="hello")
        iq = alice.make_iq_set(ito=room)
        iq["command"]["node"] = "configure"
        iq["command"]["sessionid"] = first["command"]["sessionid"]
        iq["command"]["action"] = "complete"
        iq["command"].append(form)
        done = await alice.query(iq)
        assert done["command"]["notes"][0][1] == f"{alice.boundjid.bare} set #c01 to hello"
        with pytest.raises(IqError) as err:
            await alice.plugin["xep_0050"].send_command(GW, "configure")
        assert err.value.condition == "item-not-found"
