"""The canary: after an attack, ordinary messages still go both ways within 5 s."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from .clients import IrcPeer, LedgerClient, is_message
from .gateway import ECHO, IRC, REAL_IRC_HOST

MUC = "http://jabber.org/protocol/muc"
LIMIT = 5.0
CANARY_CHANNEL = "#canary"
CANARY_ROOM = f"{CANARY_CHANNEL}%{REAL_IRC_HOST}@{IRC}"


async def _latency(awaitable: Any, timeout: float = LIMIT + 1) -> float:
    """Seconds until ``awaitable`` finished; infinity if it did not within ``timeout``."""
    started = time.monotonic()
    try:
        await asyncio.wait_for(awaitable, timeout)
    except TimeoutError:
        return float("inf")
    return time.monotonic() - started


async def join_canary_room(client: LedgerClient, nick: str) -> None:
    """Join the canary channel on the real IRC server and wait for the room's subject."""
    client.send_raw(f"<presence to='{CANARY_ROOM}/{nick}'><x xmlns='{MUC}'>"
                    "<history maxstanzas='0'/></x></presence>")
    await client.expect(lambda s: is_message(s, CANARY_ROOM)
                        and s.xml.find("{jabber:client}subject") is not None, timeout=15)


async def echo_round_trip(client: LedgerClient) -> float:
    body = f"canary {uuid.uuid4().hex[:8]}"
    client.send_message(mto=f"canary@{ECHO}", mbody=body, mtype="chat")
    return await _latency(client.expect(lambda s: is_message(s, f"canary@{ECHO}", body),
                                        timeout=LIMIT + 2))


async def irc_to_xmpp(client: LedgerClient, peer: IrcPeer) -> float:
    body = f"from irc {uuid.uuid4().hex[:8]}"
    peer.send(f"PRIVMSG {CANARY_CHANNEL} :{body}")
    return await _latency(client.expect(lambda s: is_message(s, CANARY_ROOM, body),
                                        timeout=LIMIT + 2))


async def xmpp_to_irc(client: LedgerClient, peer: IrcPeer) -> float:
    body = f"from xmpp {uuid.uuid4().hex[:8]}"
    client.send_message(mto=CANARY_ROOM, mbody=body, mtype="groupchat")
    return await _latency(peer.wait(lambda w: w[1:3] == ["PRIVMSG", CANARY_CHANNEL]
                                    and " ".join(w[3:]).lstrip(":") == body, timeout=LIMIT + 2))


async def all_canaries(client: LedgerClient, peer: IrcPeer) -> dict[str, float]:
    return {"echo": await echo_round_trip(client),
            "irc to xmpp": await irc_to_xmpp(client, peer),
            "xmpp to irc": await xmpp_to_irc(client, peer)}


def describe(latencies: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.2f} s" for name, value in latencies.items())
