"""The IRC ad-hoc commands end to end: a real client, Prosody, the core's XEP-0050 layer.

The connection manager is not part of this test: a small stand-in reports connections and
records disconnects, so what is checked is the commands' own behaviour on the wire.
"""

from collections.abc import Sequence
from typing import Any

import pytest
from slixmpp.exceptions import IqError
from slixmpp.plugins.xep_0004 import Form

from transport.backends.irc.config.prefs import PrefsStore
from transport.backends.irc.contracts import ConnectionInfo
from transport.backends.irc.from_xmpp.commands import IrcCommands, Target
from transport.backends.irc.schema import MIGRATIONS
from transport.core.backend import Backend, Identity
from transport.core.events import OutgoingMessage, SendOutcome
from transport.testing.gateway import ComponentSpec, running_gateway

GW = "irc.localhost"
ADMIN = "admin@localhost"
COMMANDS = "http://jabber.org/protocol/commands"
SERVER = f"irc.example.org@{GW}"
CHANNEL = f"#foo%irc.example.org@{GW}"


def classify(localpart: str) -> Target | None:
    if "%" in localpart:
        name, host = localpart.split("%", 1)
        return Target("channel", host, name.lower()) if name.startswith("#") else None
    return Target("server", localpart)


class StandInControl:
    """Connections the test declares; disconnects are recorded, not performed."""

    def __init__(self) -> None:
        self.conns: dict[str, list[ConnectionInfo]] = {}
        self.calls: list[tuple[Any, ...]] = []

    def connections(self, user: str) -> Sequence[ConnectionInfo]:
        return self.conns.get(user, [])

    def connected_users(self) -> Sequence[str]:
        return list(self.conns)

    async def disconnect(self, user: str, servers: Sequence[str], reason: str) -> None:
        self.calls.append((user, tuple(servers), reason))

    async def disconnect_user(self, user: str, reason: str) -> None:
        self.calls.append((user, reason))


class CommandsBackend(Backend):
    """Just the IRC commands, with biboumi's addressing."""

    name = "irc"
    identities = (Identity("conference", "irc", "IRC"),)

    def __init__(self, ctx: Any, settings: Any) -> None:
        super().__init__(ctx, settings)
        self.control = StandInControl()
        self.prefs = PrefsStore(ctx.store, ctx.component_jid)

    @classmethod
    def migrations(cls) -> Sequence[str]:
        return MIGRATIONS

    def normalize_contact(self, localpart: str) -> str:
        return localpart

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        return SendOutcome()

    def commands(self):
        return IrcCommands(self.prefs, self.control, classify,
                           is_admin=lambda jid: jid == ADMIN).commands()


@pytest.fixture
async def gateway(gateway_settings):
    spec = ComponentSpec(CommandsBackend, GW, "irc-secret")
    async with running_gateway(gateway_settings(component=spec)) as app:
        yield app.runtimes[0].gateway.backend


async def listed(client, jid: str) -> set[str]:
    items = await client.plugin["xep_0030"].get_items(jid, node=COMMANDS)
    return {i[1] for i in items["disco_items"]["items"]}


async def submit(client, jid: str, node: str, session: str, values: dict[str, Any],
                 action: str = "complete") -> Any:
    iq = client.make_iq_set(ito=jid)
    iq["command"]["node"] = node
    iq["command"]["sessionid"] = session
    iq["command"]["action"] = action
    if action != "cancel":
        form = client.plugin["xep_0004"].make_form(ftype="submit")
        for var, value in values.items():
            form.add_field(var=var, value=value)
        iq["command"].append(form)
    return await client.query(iq)


def fields(result: Any) -> dict[str, Any]:
    """The returned form's fields by var (type, value, get_options())."""
    x = result.xml.find(f"{{{COMMANDS}}}command/{{jabber:x:data}}x")
    return Form(xml=x).get_fields()


async def test_command_lists_per_jid_for_users_and_admins(gateway, users):
    alice = await users()
    admin = await users(name="admin")
    ours = {"configure", "get-irc-connection-info", "disconnect-from-irc-server"}
    assert await listed(alice, GW) == ours
    assert await listed(admin, GW) == ours | {
        "disconnect-user", "list-users", "stats", "unregister-user", "announce"}
    for client in (alice, admin):
        assert await listed(client, SERVER) == {"configure", "get-irc-connection-info"}
        assert await listed(client, CHANNEL) == {"configure"}
        assert await listed(client, f"nick%irc.example.org@{GW}") == set()
    with pytest.raises(IqError) as err:
        await alice.plugin["xep_0050"].send_command(f"nick%irc.example.org@{GW}", "configure")
    assert err.value.condition == "item-not-found"


async def test_global_configure_two_steps_and_reread(gateway, users):
    alice = await users()
    first = await alice.plugin["xep_0050"].send_command(GW, "configure")
    assert first["command"]["status"] == "executing"
    shown = fields(first)
    assert shown["max_history_length"]["value"] == "20"
    assert shown["record_history"]["type"] == "boolean" and shown["record_history"]["value"]
    done = await submit(alice, GW, "configure", first["command"]["sessionid"], {
        "max_history_length": "40", "record_history": False, "persistent": True})
    assert done["command"]["status"] == "completed"
    assert done["command"]["notes"] == [("info", "Configuration successfully applied.")]
    again = fields(await alice.plugin["xep_0050"].send_command(GW, "configure"))
    assert again["max_history_length"]["value"] == "40"
    assert again["record_history"]["value"] is False and again["persistent"]["value"] is True


async def test_server_configure_keeps_secrets_out_of_forms(gateway, users):
    alice = await users()
    first = await alice.plugin["xep_0050"].send_command(SERVER, "configure")
    shown = fields(first)
    assert shown["ports"]["type"] == "text-multi" and not shown["ports"]["value"]
    assert shown["tls_ports"]["value"] == ["6697"]
    assert shown["pass"]["type"] == "text-private"
    await submit(alice, SERVER, "configure", first["command"]["sessionid"], {
        "ports": ["6667", "6697"], "tls_ports": ["6697"], "verify_cert": False,
        "nick": "alice_", "pass": "hunter2", "sasl_password": "sesame",
        "after_connect_commands": ["MODE alice_ +x"], "throttle_limit": "-1",
        "encoding_in": "latin-1", "username": "al", "realname": "Alice"})
    stored = await gateway.prefs.server_prefs(str(alice.boundjid.bare), "irc.example.org")
    assert (stored.password, stored.sasl_password, stored.ports) == (
        "hunter2", "sesame", (6667, 6697))
    reread = await alice.plugin["xep_0050"].send_command(SERVER, "configure")
    xml = str(reread)
    assert "hunter2" not in xml and "sesame" not in xml
    shown = fields(reread)
    assert shown["nick"]["value"] == "alice_" and shown["encoding_in"]["value"] == "iso8859-1"
    assert "forget_pass" in shown and "forget_sasl_password" in shown
    await submit(alice, SERVER, "configure", reread["command"]["sessionid"],
                 {"pass": "", "forget_pass": True, "sasl_password": ""})
    stored = await gateway.prefs.server_prefs(str(alice.boundjid.bare), "irc.example.org")
    assert (stored.password, stored.sasl_password) == (None, "sesame")


async def test_channel_configure_and_cancel(gateway, users):
    alice = await users()
    me = str(alice.boundjid.bare)
    first = await alice.plugin["xep_0050"].send_command(CHANNEL, "configure")
    shown = fields(first)
    assert shown["persistent"]["type"] == "list-single"
    assert shown["persistent"]["value"] == "unset"
    canceled = await submit(alice, CHANNEL, "configure", first["command"]["sessionid"], {},
                            action="cancel")
    assert canceled["command"]["status"] == "canceled"
    assert (await gateway.prefs.channel_prefs(me, "irc.example.org", "#foo")).persistent is None
    second = await alice.plugin["xep_0050"].send_command(CHANNEL, "configure")
    done = await submit(alice, CHANNEL, "configure", second["command"]["sessionid"],
                        {"persistent": "true", "record_history": "false",
                         "encoding_out": "", "encoding_in": ""})
    assert done["command"]["notes"][0][0] == "info"
    stored = await gateway.prefs.channel_prefs(me, "irc.example.org", "#foo")
    assert (stored.persistent, stored.record_history) == (True, False)


async def test_bad_value_is_refused_with_an_error_note(gateway, users):
    alice = await users()
    first = await alice.plugin["xep_0050"].send_command(SERVER, "configure")
    done = await submit(alice, SERVER, "configure", first["command"]["sessionid"],
                        {"ports": ["66666"], "nick": "fine"})
    assert done["command"]["status"] == "completed"
    [(kind, text)] = done["command"]["notes"]
    assert kind == "error" and "ports" in text and "66666" in text
    stored = await gateway.prefs.server_prefs(str(alice.boundjid.bare), "irc.example.org")
    assert stored.nick is None


async def test_connection_info_and_admin_disconnects(gateway, users):
    alice = await users()
    admin = await users(name="admin")
    me = str(alice.boundjid.bare)
    note = await alice.plugin["xep_0050"].send_command(SERVER, "get-irc-connection-info")
    assert note["command"]["notes"] == [
        ("info", "You are not connected to the IRC server irc.example.org")]
    gateway.control.conns[me] = [ConnectionInfo("irc.example.org", 6697, True, "alice",
                                                 1_700_000_000.0, ("#foo",), ("test",))]
    note = await alice.plugin["xep_0050"].send_command(SERVER, "get-irc-connection-info")
    assert "on port 6697 (using TLS)" in note["command"]["notes"][0][1]
    with pytest.raises(IqError) as err:
        await alice.plugin["xep_0050"].send_command(GW, "disconnect-user")
    assert err.value.condition == "forbidden"
    first = await admin.plugin["xep_0050"].send_command(GW, "disconnect-from-irc-server")
    assert me in [o["value"] for o in fields(first)["jid"].get_options()]
    second = await submit(admin, GW, "disconnect-from-irc-server",
                          first["command"]["sessionid"], {"jid": me}, action="next")
    hidden = fields(second)["jid"]
    assert (hidden["type"], hidden["value"]) == ("hidden", [me])
    done = await submit(admin, GW, "disconnect-from-irc-server",
                        second["command"]["sessionid"],
                        {"jid": me, "irc-servers": ["irc.example.org"], "quit-message": "bye"})
    assert done["command"]["notes"] == [
        ("info", f"{me} was disconnected from 1 IRC server.")]
    start = await admin.plugin["xep_0050"].send_command(GW, "disconnect-user")
    done = await submit(admin, GW, "disconnect-user", start["command"]["sessionid"],
                        {"jids": [me], "quit-message": "maintenance"})
    assert done["command"]["notes"] == [("info", "1 user has been disconnected.")]
    assert gateway.control.calls == [(me, ("irc.example.org",), "bye"), (me, "maintenance")]
