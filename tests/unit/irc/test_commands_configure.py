"""The ``configure`` forms on the gateway, a server and a channel, against a real store."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_commands_fakes import ALICE, BOB, Env, make_env

from transport.backends.irc.config.prefs import ChannelPrefs, GlobalPrefs, ServerPrefs
from transport.backends.irc.from_xmpp.commands import SAVED, CommandDefaults, ServerDefaults, Target

SERVER = "irc.example.org"
CHAN = "#Foo%irc.example.org"
USER_PORTS = (6667, 6668, 6697, 7000)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    made = await make_env(tmp_path, CommandDefaults(user_ports=USER_PORTS))
    yield made
    await made.store.close()


def shown(form):
    return {var: f.value for var, f in form.items()}


async def test_global_form_defaults_and_round_trip(env):
    form = await env.form("configure", ALICE)
    assert shown(form) == {"max_history_length": "20", "record_history": True,
                           "persistent": False}
    assert form["max_history_length"].type == "text-single"
    assert {f.type for v, f in form.items() if v != "max_history_length"} == {"boolean"}
    assert not any(f.required for f in form.values())
    done = await env.run("configure", ALICE, "", {
        "max_history_length": "50", "record_history": False, "persistent": True})
    assert (done.note, done.note_type, done.form) == (SAVED, "info", ())
    assert await env.prefs.global_prefs(ALICE) == GlobalPrefs(50, False, True)
    assert shown(await env.form("configure", ALICE)) == {
        "max_history_length": "50", "record_history": False, "persistent": True}
    assert await env.prefs.global_prefs(BOB) == GlobalPrefs()
    assert env.changes == [(ALICE, Target("gateway"))]


async def test_global_persistent_follows_the_config_until_changed(tmp_path):
    env = await make_env(tmp_path, CommandDefaults(persistent=True))
    try:
        assert shown(await env.form("configure", ALICE))["persistent"] is True
        await env.run("configure", ALICE, "", {
            "max_history_length": "20", "record_history": True, "persistent": True})
        assert (await env.prefs.global_prefs(ALICE)).persistent is None
        assert env.changes == []
        await env.run("configure", ALICE, "", {"persistent": "false"})
        assert (await env.prefs.global_prefs(ALICE)).persistent is False
        await env.run("configure", ALICE, "", {"max_history_length": ""})
        assert (await env.prefs.global_prefs(ALICE)).max_history_length == 20
    finally:
        await env.store.close()


ALL_SERVER = {
    "ports": ["6667", "7000"], "tls_ports": ["6697"], "verify_cert": False,
    "fingerprint": "AB:" * 19 + "AB", "sasl_password": "s3cret", "nick": "alice_",
    "pass": "serverpw", "after_connect_commands": ["PRIVMSG NickServ :hi", "MODE alice_ +x"],
    "username": "al", "realname": "Alice Liddell", "throttle_limit": "-1",
    "encoding_out": "UTF8", "encoding_in": "latin-1",
}


async def test_server_form_shows_defaults_then_every_field_round_trips(env):
    form = await env.form("configure", ALICE, SERVER)
    assert list(form) == ["ports", "tls_ports", "verify_cert", "fingerprint", "sasl_password",
                          "nick", "pass", "after_connect_commands", "username", "realname",
                          "throttle_limit", "encoding_out", "encoding_in"]
    assert shown(form) == {
        "ports": [], "tls_ports": ["6697"], "verify_cert": True,
        "fingerprint": None, "sasl_password": None, "nick": None, "pass": None,
        "after_connect_commands": None, "username": None, "realname": None,
        "throttle_limit": "10", "encoding_out": None, "encoding_in": None}
    types = {v: f.type for v, f in form.items()}
    assert types["ports"] == types["tls_ports"] == types["after_connect_commands"] == "text-multi"
    assert types["pass"] == types["sasl_password"] == "text-private"
    done = await env.run("configure", ALICE, SERVER, dict(ALL_SERVER))
    assert done.note == SAVED
    assert await env.prefs.server_prefs(ALICE, SERVER) == ServerPrefs(
        ports=(6667, 7000), tls_ports=(6697,), verify_cert=False, fingerprint="ab" * 20,
        nick="alice_", password="serverpw", sasl_password="s3cret",
        username="al", realname="Alice Liddell",
        after_connect_commands=("PRIVMSG NickServ :hi", "MODE alice_ +x"),
        throttle_limit=-1, encoding_in="iso8859-1", encoding_out="utf-8")
    again = shown(await env.form("configure", ALICE, SERVER))
    assert again["ports"] == ["6667", "7000"] and again["throttle_limit"] == "-1"
    assert again["after_connect_commands"] == ["PRIVMSG NickServ :hi", "MODE alice_ +x"]
    assert again["encoding_in"] == "iso8859-1" and again["fingerprint"] == "ab" * 20
    assert env.changes == [(ALICE, Target("server", SERVER))]


async def test_secrets_are_never_shown_back(env):
    await env.run("configure", ALICE, SERVER, {"pass": "serverpw", "sasl_password": "s3cret"})
    form = await env.form("configure", ALICE, SERVER)
    assert form["pass"].value is None and form["sasl_password"].value is None
    assert "stored" in form["pass"].desc
    assert form["forget_pass"].type == "boolean" and form["forget_pass"].value is False
    assert "serverpw" not in repr(form) and "s3cret" not in repr(form)
    assert "forget_pass" not in await env.form("configure", BOB, SERVER)


async def test_empty_secret_keeps_forget_clears_new_replaces(env):
    await env.run("configure", ALICE, SERVER, {"pass": "one", "sasl_password": "two"})
    await env.run("configure", ALICE, SERVER, {"pass": "", "sasl_password": None,
                                               "forget_pass": False})
    stored = await env.prefs.server_prefs(ALICE, SERVER)
    assert (stored.password, stored.sasl_password) == ("one", "two")
    await env.run("configure", ALICE, SERVER, {"pass": "", "forget_pass": "true",
                                               "sasl_password": "three"})
    stored = await env.prefs.server_prefs(ALICE, SERVER)
    assert (stored.password, stored.sasl_password) == (None, "three")
    await env.run("configure", ALICE, SERVER, {"sasl_password": "four",
                                               "forget_sasl_password": True})
    assert (await env.prefs.server_prefs(ALICE, SERVER)).sasl_password == "four"


async def test_unchanged_defaults_stay_unset_and_emptied_fields_unset(env):
    await env.run("configure", ALICE, SERVER, {
        "ports": [], "tls_ports": ["6697"], "verify_cert": True,
        "throttle_limit": "10", "nick": ""})
    assert await env.prefs.server_prefs(ALICE, SERVER) == ServerPrefs()
    await env.run("configure", ALICE, SERVER, dict(ALL_SERVER))
    await env.run("configure", ALICE, SERVER, {
        "ports": [], "tls_ports": "", "fingerprint": "", "nick": "", "username": None,
        "realname": "", "after_connect_commands": [], "throttle_limit": "",
        "encoding_in": "", "encoding_out": ""})
    stored = await env.prefs.server_prefs(ALICE, SERVER)
    assert stored == ServerPrefs(verify_cert=False, password="serverpw", sasl_password="s3cret")


async def test_untyped_submissions_are_read_too(env):
    await env.run("configure", ALICE, SERVER, {
        "ports": "6667\n6668\n6667", "tls_ports": "6697, 7000", "verify_cert": "0",
        "after_connect_commands": "JOIN #a"})
    stored = await env.prefs.server_prefs(ALICE, SERVER)
    assert stored.ports == (6667, 6668) and stored.tls_ports == (6697, 7000)
    assert stored.verify_cert is False and stored.after_connect_commands == ("JOIN #a",)


async def test_per_host_server_defaults(tmp_path):
    special = ServerDefaults(ports=(), tls_ports=(7000,), verify_cert=False, throttle_limit=-1,
                             encoding_in="cp1252")
    env = await make_env(tmp_path, CommandDefaults(servers={"IRC.Example.org": special}))
    try:
        form = shown(await env.form("configure", ALICE, "IRC.example.org"))
        assert "ports" not in form and "tls_ports" not in form  # the admin's to set
        assert (form["verify_cert"], form["throttle_limit"], form["encoding_in"]) == (
            False, "-1", "cp1252")
        other = shown(await env.form("configure", ALICE, "irc.other.net"))
        assert (other["ports"], other["tls_ports"]) == ([], ["6697"])
    finally:
        await env.store.close()


async def test_channel_form_round_trip(env):
    form = await env.form("configure", ALICE, CHAN)
    assert list(form) == ["record_history", "encoding_out", "encoding_in", "persistent"]
    assert form["persistent"].type == form["record_history"].type == "list-single"
    assert [v for v, _ in form["persistent"].options] == ["unset", "true", "false"]
    assert shown(form) == {"record_history": "unset", "encoding_out": None,
                           "encoding_in": None, "persistent": "unset"}
    await env.run("configure", ALICE, CHAN, {"record_history": "false", "persistent": "true",
                                             "encoding_in": "cp1252", "encoding_out": ""})
    assert await env.prefs.channel_prefs(ALICE, SERVER, "#foo") == ChannelPrefs(
        persistent=True, record_history=False, encoding_in="cp1252")
    assert shown(await env.form("configure", ALICE, CHAN)) == {
        "record_history": "false", "encoding_out": None, "encoding_in": "cp1252",
        "persistent": "true"}
    await env.run("configure", ALICE, CHAN, {"record_history": "unset", "persistent": "0"})
    assert await env.prefs.channel_prefs(ALICE, SERVER, "#foo") == ChannelPrefs(
        persistent=False, encoding_in="cp1252")
    assert env.changes[0] == (ALICE, Target("channel", SERVER, "#foo"))


async def test_channel_form_for_muc_owner(env):
    fields = await env.commands.channel_form_fields(ALICE, SERVER, "#foo")
    assert [f.var for f in fields] == ["record_history", "encoding_out", "encoding_in",
                                       "persistent"]
    assert await env.commands.apply_channel_form(ALICE, SERVER, "#foo",
                                                 {"persistent": True}) is None
    assert (await env.prefs.channel_prefs(ALICE, SERVER, "#foo")).persistent is True
    error = await env.commands.apply_channel_form(ALICE, SERVER, "#foo",
                                                  {"persistent": "false", "encoding_in": "klingon"})
    assert error is not None and "encoding_in" in error and "klingon" in error
    assert (await env.prefs.channel_prefs(ALICE, SERVER, "#foo")).persistent is True


BAD = [
    ("", "max_history_length", "lots"),
    ("", "max_history_length", "-1"),
    ("", "max_history_length", "1e3"),
    ("", "max_history_length", "99999999999999999999999"),
    ("", "record_history", "maybe"),
    (SERVER, "ports", ["6667", "abc"]),
    (SERVER, "ports", ["0"]),
    (SERVER, "tls_ports", ["65536"]),
    (SERVER, "throttle_limit", "ten"),
    (SERVER, "throttle_limit", "-2"),
    (SERVER, "encoding_in", "klingon"),
    (SERVER, "encoding_out", "utf-16"),
    (SERVER, "encoding_out", "base64"),
    (SERVER, "nick", "two words"),
    (SERVER, "nick", "#chan"),
    (SERVER, "username", "a@b"),
    (SERVER, "realname", "x\rQUIT"),
    (SERVER, "pass", "pw\x00"),
    (SERVER, "after_connect_commands", ["JOIN #a\rQUIT :x"]),
    (SERVER, "after_connect_commands", ["PRIVMSG x :" + "a" * 600]),
    (SERVER, "fingerprint", "not-hex"),
    (SERVER, "verify_cert", ["true", "false"]),
    (CHAN, "persistent", "sometimes"),
    (CHAN, "encoding_in", "rot13"),
]


@pytest.mark.parametrize(("target", "var", "value"), BAD)
async def test_bad_values_are_refused_and_nothing_is_stored(env, target, var, value):
    good = {"": {"persistent": True}, SERVER: {"nick": "fine", "throttle_limit": "5"},
            CHAN: {"record_history": "true"}}[target]
    values = {k: v for k, v in good.items() if k != var} | {var: value}
    result = await env.run("configure", ALICE, target, values)
    assert result.note_type == "error" and result.form == ()
    assert var in result.note and "Nothing was saved" in result.note
    assert await env.prefs.global_prefs(ALICE) == GlobalPrefs()
    assert await env.prefs.server_prefs(ALICE, SERVER) == ServerPrefs()
    assert await env.prefs.channel_prefs(ALICE, SERVER, "#foo") == ChannelPrefs()
    assert env.changes == []


async def test_every_error_is_reported_at_once(env):
    result = await env.run("configure", ALICE, SERVER, {"ports": "x", "encoding_in": "nope"})
    assert "ports" in result.note and "encoding_in" in result.note


async def test_a_bad_value_keeps_what_was_stored(env):
    await env.run("configure", ALICE, SERVER, {"pass": "keep-me", "nick": "alice"})
    await env.run("configure", ALICE, SERVER, {"pass": "new", "nick": "bad nick"})
    stored = await env.prefs.server_prefs(ALICE, SERVER)
    assert (stored.password, stored.nick) == ("keep-me", "alice")
