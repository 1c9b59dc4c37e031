"""Which commands live where, connection info, and the two disconnect commands."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_commands_fakes import ADMIN, ALICE, BOB, Env, make_env

from transport.backends.irc.from_xmpp.commands import Target

SERVER = "irc.example.org"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    made = await make_env(tmp_path)
    yield made
    await made.store.close()


def offered(env: Env, localpart: str) -> list[str]:
    return [c.node for c in env.commands.commands() if c.targets(localpart)]


def test_commands_per_jid_kind(env):
    assert offered(env, "") == ["configure", "get-irc-connection-info",
                                "disconnect-from-irc-server", "disconnect-user"]
    assert offered(env, SERVER) == ["configure", "get-irc-connection-info"]
    assert offered(env, "#foo%irc.example.org") == ["configure"]
    assert offered(env, "nick%irc.example.org") == []
    flags = {c.node: (c.admin_only, c.needs_registration) for c in env.commands.commands()}
    assert flags["disconnect-user"] == (True, False)
    assert all(not admin for node, (admin, _) in flags.items() if node != "disconnect-user")
    assert not any(reg for _, reg in flags.values())


def test_unreadable_addresses_offer_nothing(env):
    def refuse(_local):
        raise ValueError("bad")

    env.commands.classify = refuse
    assert offered(env, "x") == []
    assert env.commands.target("") == Target("gateway")


async def test_info_when_not_connected(env):
    server = await env.run("get-irc-connection-info", ALICE, SERVER)
    assert server.note == f"You are not connected to the IRC server {SERVER}"
    gateway = await env.run("get-irc-connection-info", ALICE)
    assert gateway.note == "You are not connected to any IRC server."


async def test_info_when_connected(env):
    env.control.connect(ALICE, SERVER, tls=True, port=6697, channels=["#a", "#b"],
                        resources=["phone", "laptop"])
    env.control.connect(ALICE, "irc.other.net", since=None)
    note = (await env.run("get-irc-connection-info", ALICE, "IRC.example.org")).note
    assert note.splitlines() == [
        f"Connected to IRC server {SERVER} on port 6697 (using TLS) since "
        "2023-11-14 22:13:20 UTC (90 seconds ago).",
        "Nick: alice", "Channels: #a, #b", "Resources: phone, laptop"]
    other = (await env.run("get-irc-connection-info", ALICE, "irc.other.net")).note
    assert other.startswith("Reconnecting to IRC server irc.other.net on port 6667 "
                            "(not encrypted).")
    assert "Channels: none" in other
    both = (await env.run("get-irc-connection-info", ALICE)).note
    assert SERVER in both and "irc.other.net" in both
    assert (await env.run("get-irc-connection-info", BOB, SERVER)).note.startswith(
        "You are not connected")


async def test_user_disconnects_from_chosen_servers(env):
    env.control.connect(ALICE, SERVER)
    env.control.connect(ALICE, "irc.other.net")
    env.control.connect(BOB, SERVER)
    step = await env.run("disconnect-from-irc-server", ALICE)
    fields = {f.var: f for f in step.form}
    assert list(fields) == ["irc-servers", "quit-message"]
    assert fields["irc-servers"].type == "list-multi"
    assert [v for v, _ in fields["irc-servers"].options] == [SERVER, "irc.other.net"]
    done = await env.run("disconnect-from-irc-server", ALICE, "", {
        "irc-servers": [SERVER.upper(), "irc.unknown.net"], "quit-message": "bye",
        "jid": BOB})
    assert done.note == f"{ALICE} was disconnected from 1 IRC server."
    assert env.control.calls == [("disconnect", ALICE, (SERVER,), "bye")]


async def test_user_without_connections_is_told(env):
    result = await env.run("disconnect-from-irc-server", ALICE)
    assert result.note == "You are not connected to any IRC server." and not result.form


async def test_user_must_pick_a_server_and_a_clean_quit_message(env):
    env.control.connect(ALICE, SERVER)
    none = await env.run("disconnect-from-irc-server", ALICE, "", {"irc-servers": [],
                                                                   "quit-message": ""})
    bad = await env.run("disconnect-from-irc-server", ALICE, "", {
        "irc-servers": [SERVER], "quit-message": "bye\r\nPRIVMSG #x :spam"})
    assert none.note_type == bad.note_type == "error"
    assert env.control.calls == []


async def test_admin_picks_a_user_then_servers(env):
    env.control.connect(BOB, SERVER)
    env.control.connect(BOB, "irc.other.net")
    env.control.connect(ALICE, SERVER)
    first = await env.run("disconnect-from-irc-server", ADMIN)
    jid = first.form[0]
    assert (jid.var, jid.type) == ("jid", "list-single")
    assert [v for v, _ in jid.options] == [ALICE, BOB]
    second = await env.run("disconnect-from-irc-server", ADMIN, "", {"jid": BOB})
    fields = {f.var: f for f in second.form}
    assert (fields["jid"].type, fields["jid"].value) == ("hidden", BOB)
    assert fields["quit-message"].value == "Killed by admin"
    done = await env.run("disconnect-from-irc-server", ADMIN, "", {
        "jid": BOB, "irc-servers": [SERVER, "irc.other.net"], "quit-message": "out"})
    assert done.note == f"{BOB} was disconnected from 2 IRC servers."
    assert env.control.calls == [("disconnect", BOB, (SERVER, "irc.other.net"), "out")]


async def test_admin_without_the_hidden_jid_disconnects_nobody(env):
    env.control.connect(ADMIN, SERVER)
    env.control.connect(BOB, SERVER)
    result = await env.run("disconnect-from-irc-server", ADMIN, "", {
        "irc-servers": [SERVER], "quit-message": "x"})
    assert result.note_type == "error" and env.control.calls == []


async def test_admin_picks_someone_not_connected(env):
    env.control.connect(ALICE, SERVER)
    result = await env.run("disconnect-from-irc-server", ADMIN, "", {"jid": BOB})
    assert result.note == f"User {BOB} is not connected to any IRC server."
    env.control.conns.clear()
    nobody = await env.run("disconnect-from-irc-server", ADMIN)
    assert nobody.note == "No user is connected to an IRC server."


async def test_disconnect_user(env):
    env.control.connect(ALICE, SERVER)
    env.control.connect(BOB, SERVER)
    form = {f.var: f for f in (await env.run("disconnect-user", ADMIN)).form}
    assert (form["jids"].type, [v for v, _ in form["jids"].options]) == (
        "list-multi", [ALICE, BOB])
    assert form["quit-message"].value == "Disconnected by admin"
    one = await env.run("disconnect-user", ADMIN, "", {"jids": [ALICE, "ghost@localhost"],
                                                       "quit-message": "maintenance"})
    assert one.note == "1 user has been disconnected."
    assert env.control.calls == [("disconnect_user", ALICE, "maintenance")]
    env.control.connect(ALICE, SERVER)
    two = await env.run("disconnect-user", ADMIN, "", {"jids": [ALICE, BOB, ALICE]})
    assert two.note == "2 users have been disconnected."
    none = await env.run("disconnect-user", ADMIN, "", {"jids": [ALICE]})
    assert none.note == "No user was disconnected."
    assert (await env.run("disconnect-user", ADMIN)).note == (
        "No user is connected to an IRC server.")


async def test_disconnect_user_refuses_bad_quit_message_and_non_admins(env):
    env.control.connect(ALICE, SERVER)
    bad = await env.run("disconnect-user", ADMIN, "", {"jids": [ALICE], "quit-message": "a\nb"})
    assert bad.note_type == "error"
    forbidden = await env.run("disconnect-user", BOB, "", {"jids": [ALICE]})
    assert forbidden.note_type == "error"
    assert env.control.calls == []
