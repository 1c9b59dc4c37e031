"""Which addresses a user may make the gateway connect to, for hosts the admin did not list.

With ``allow_any_server`` a user names any host in a JID; without these rules that makes the
gateway a port scanner of its own network (a loopback SMTP banner came back as server
messages). A host that is not under ``[irc.servers]`` is resolved once, off the event loop;
every address it resolves to must be globally routable (unless ``allow_private_addresses``),
and the connection then goes to those very addresses, never to a second lookup, so that DNS
rebinding cannot swap in another address between the check and the connect.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 prefixes that carry an IPv4 address in their low 32 bits (RFC 6052 NAT64).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
MAX_ADDRESSES = 4
"""Addresses of one host tried in turn: a failed one costs a connect timeout each."""
RESOLVE_TIMEOUT = 30.0
"""Seconds a lookup may take (a connection attempt's own timeout starts after it)."""


class HostRefused(Exception):
    """The user may not reach this host or port; the text says why, for the user."""


class LookupFailed(HostRefused):
    """The host could not be resolved now: worth trying again later, unlike a refusal."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public one (``None`` when it is)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return refusal(inner)
        if address.is_site_local:
            return "site-local"
        if address in ipaddress.IPv6Network("fc00::/7"):
            return "unique local"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    )
    for name, hit in checks:
        if hit:
            return name
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "shared (carrier-grade NAT)"
    if not address.is_global:
        return "not globally routable"
    return None


async def resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host`` (in the resolver's order, without repeats), looked up in
    asyncio's executor so a slow DNS server never blocks the loop."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                           proto=socket.IPPROTO_TCP)
    except TimeoutError as exc:
        raise LookupFailed(f"{host} could not be resolved in time") from exc
    except (OSError, UnicodeError) as exc:
        raise LookupFailed(f"{host} cannot be resolved ({exc})") from exc
    addresses = [str(info[4][0]) for info in infos]
    return list(dict.fromkeys(addresses))


def check_addresses(host: str, addresses: Sequence[str]) -> None:
    """``HostRefused`` when any address of ``host`` is not public: a name with one private
    address among public ones could still be steered to it."""
    if not addresses:
        raise HostRefused(f"{host} has no address")
    for text in addresses:
        address = ipaddress.ip_address(text.partition("%")[0])
        why = refusal(address)
        if why is not None:
            raise HostRefused(f"{host} resolves to a {why} address ({address}); this gateway "
                              "only connects to public addresses for servers it does not list")


def check_ports(host: str, ports: Sequence[int], allowed: Sequence[int]) -> None:
    """``HostRefused`` when a port the user chose for an unlisted host is not allowed."""
    for port in ports:
        if port not in allowed:
            choices = ", ".join(map(str, allowed)) or "none"
            raise HostRefused(f"Port {port} is not one users may choose for {host} "
                              f"(allowed: {choices})")


async def checked_addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """Resolve ``host`` once and vet its addresses; the ones to connect to."""
    addresses = await resolve(host, port)
    if not allow_private:
        check_addresses(host, addresses)
    elif not addresses:
        raise HostRefused(f"{host} has no address")
    return addresses[:MAX_ADDRESSES]
