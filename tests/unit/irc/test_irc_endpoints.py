"""Where the IRC backend may connect: address rules, port rules, endpoint order, the config
keys that set them, and how the server form stores a user's ports."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_commands_fakes import ALICE, Env, make_env

from transport.backends.irc.config.prefs import ServerPrefs
from transport.backends.irc.config.settings import ServerConfig, parse_settings
from transport.backends.irc.from_xmpp.commands import CommandDefaults, ServerDefaults
from transport.backends.irc.session import hosts
from transport.backends.irc.session.connecting import endpoints, route

REFUSED = {
    "127.0.0.1": "loopback", "127.9.9.9": "loopback", "::1": "loopback",
    "10.1.2.3": "private", "172.16.0.1": "private", "192.168.1.1": "private",
    "169.254.169.254": "link-local", "fe80::1": "link-local",
    "fc00::1": "unique local", "fd12:3456::1": "unique local", "fec0::1": "site-local",
    "0.0.0.0": "unspecified", "::": "unspecified",
    "224.0.0.1": "multicast", "ff02::1": "multicast",
    "240.0.0.1": "private", "255.255.255.255": "private",
    "100.64.0.1": "shared (carrier-grade NAT)",
    "192.0.2.1": "private", "2001:db8::1": "private",
    "::ffff:127.0.0.1": "loopback", "::ffff:10.0.0.1": "private",
    "2002:7f00:1::": "loopback", "64:ff9b::a00:1": "private",
}
PUBLIC = ("8.8.8.8", "185.100.59.59", "2001:4860:4860::8888", "::ffff:8.8.8.8",
          "64:ff9b::808:808", "2002:808:808::")


@pytest.mark.parametrize(("text", "why"), sorted(REFUSED.items()))
def test_non_public_addresses_are_refused_with_their_kind(text: str, why: str) -> None:
    assert hosts.refusal(ipaddress.ip_address(text)) == why


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_pass(text: str) -> None:
    assert hosts.refusal(ipaddress.ip_address(text)) is None


@pytest.mark.parametrize("host", ["localhost", "127.0.0.2", "2130706433", "0x7f000001",
                                  "::1", "::ffff:127.0.0.1", "LocalHost"])
async def test_loopback_names_and_spellings_are_refused(host: str) -> None:
    with pytest.raises(hosts.HostRefused, match="loopback"):
        await hosts.checked_addresses(host, 6697, allow_private=False)


async def test_allowed_private_hosts_resolve_once_to_the_addresses_to_use() -> None:
    assert await hosts.checked_addresses("127.0.0.2", 6697, allow_private=True) == [
        "127.0.0.2"]
    with pytest.raises(hosts.LookupFailed, match="cannot be resolved"):
        await hosts.checked_addresses("no-such-host.invalid", 6697, allow_private=True)


def test_one_private_address_among_public_ones_refuses_the_host() -> None:
    hosts.check_addresses("irc.example.net", ["8.8.8.8"])
    with pytest.raises(hosts.HostRefused, match=r"private address \(10\.0\.0\.1\)"):
        hosts.check_addresses("irc.example.net", ["8.8.8.8", "10.0.0.1"])


def test_user_ports_bound_the_ports_of_unlisted_hosts() -> None:
    hosts.check_ports("h", [6667, 6697], (6667, 6697))
    with pytest.raises(hosts.HostRefused, match=r"Port 25 .* \(allowed: 6667, 6697\)"):
        hosts.check_ports("h", [6697, 25], (6667, 6697))


def test_endpoints_never_put_plain_text_after_tls() -> None:
    tls, plain = ServerConfig(port=6697, tls=True), ServerConfig(port=6667, tls=False)
    assert endpoints(tls, True, (6667,), ()) == ((6697, True),)
    assert endpoints(plain, True, (), (7000,)) == ((6667, False),)
    assert endpoints(tls, False, (6667, 6668), (6697, 7000)) == ((6697, True), (7000, True))
    assert endpoints(tls, False, (6667,), ()) == ((6667, False),)
    assert endpoints(tls, False, (), ()) == ((6697, True),)


async def test_route_checks_ports_then_addresses_of_unlisted_hosts_only() -> None:
    settings = parse_settings({"allow_any_server": True,
                               "servers": {"127.0.0.1": {"port": 6667, "tls": False}}})
    listed = await route(settings, "127.0.0.1", settings.servers["127.0.0.1"],
                         ServerPrefs(ports=(25,)))
    assert (listed.endpoints, listed.addresses) == (((6667, False),), None)
    with pytest.raises(hosts.HostRefused, match="Port 25"):
        await route(settings, "8.8.8.8", ServerConfig(), ServerPrefs(ports=(25,)))
    with pytest.raises(hosts.HostRefused, match="loopback"):
        await route(settings, "127.0.0.2", ServerConfig(), ServerPrefs())
    public = await route(settings, "8.8.8.8", ServerConfig(), ServerPrefs(tls_ports=(6697,)))
    assert (public.endpoints, public.addresses) == (((6697, True),), ("8.8.8.8",))


def test_new_config_keys_and_their_problems() -> None:
    settings = parse_settings({})
    assert (settings.allow_private_addresses, settings.user_ports) == (False, (6667, 6697))
    settings = parse_settings({"allow_private_addresses": True, "user_ports": [7000, 6697]})
    assert (settings.allow_private_addresses, settings.user_ports) == (True, (7000, 6697))
    assert parse_settings({"user_ports": []}).user_ports == ()
    with pytest.raises(ExceptionGroup) as err:
        parse_settings({"allow_private_addresses": "yes", "user_ports": [6667, 0, "x", True,
                                                                         65536]})
    assert sorted(e.key for e in err.value.exceptions) == [
        "allow_private_addresses", "user_ports[1]", "user_ports[2]", "user_ports[3]",
        "user_ports[4]"]
    with pytest.raises(ExceptionGroup) as err:
        parse_settings({"user_ports": 6667})
    assert [e.key for e in err.value.exceptions] == ["user_ports"]


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    listed = {"irc.listed.net": ServerDefaults(ports=(), tls_ports=(6697,))}
    made = await make_env(tmp_path, CommandDefaults(servers=listed))
    yield made
    await made.store.close()


async def test_a_plain_port_added_in_the_form_keeps_the_tls_port_shown(env: Env) -> None:
    host = "irc.example.net"
    await env.run("configure", ALICE, host, {"ports": ["6667"], "tls_ports": ["6697"]})
    stored = await env.prefs.server_prefs(ALICE, host)
    assert (stored.ports, stored.tls_ports) == ((6667,), (6697,))
    assert endpoints(ServerConfig(), False, stored.ports, stored.tls_ports) == ((6697, True),)
    form = await env.form("configure", ALICE, host)
    assert (form["ports"].value, form["tls_ports"].value) == (["6667"], ["6697"])
    await env.run("configure", ALICE, host, {"ports": ["6667"], "tls_ports": []})
    stored = await env.prefs.server_prefs(ALICE, host)
    assert (stored.ports, stored.tls_ports) == ((6667,), ())
    form = await env.form("configure", ALICE, host)
    assert (form["ports"].value, form["tls_ports"].value) == (["6667"], [])
    await env.run("configure", ALICE, host, {"ports": [], "tls_ports": ["6697"]})
    assert await env.prefs.server_prefs(ALICE, host) == ServerPrefs()


async def test_ports_for_listed_hosts_are_the_admins(env: Env) -> None:
    form = await env.form("configure", ALICE, "irc.listed.net")
    assert "ports" not in form and "tls_ports" not in form and "nick" in form
    refused = await env.run("configure", ALICE, "irc.listed.net", {"ports": ["6667"]})
    assert refused.note_type == "error" and "administrator" in refused.note
    same = await env.run("configure", ALICE, "irc.listed.net",
                         {"tls_ports": ["6697"], "ports": [], "nick": "al"})
    assert same.note_type == "info"
    assert await env.prefs.server_prefs(ALICE, "irc.listed.net") == ServerPrefs(nick="al")
    outside = await env.run("configure", ALICE, "irc.other.net", {"tls_ports": ["6697", "25"]})
    assert outside.note_type == "error" and "25 is not one of the ports" in outside.note
    assert await env.prefs.server_prefs(ALICE, "irc.other.net") == ServerPrefs()
