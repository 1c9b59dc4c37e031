"""A scripted hostile IRC server: nasty lines, floods and a close mid-line, then a reconnect.

The user joins a channel on the scripted server (listed in ``[irc.servers]``); the server
then sends invalid UTF-8, control and formatting characters in every field, overlong lines,
numerics and commands without their parameters, floods of NAMES, CTCP and NOTICE, answers
the room's LIST with hostile names and topics, and closes the link mid-line; it accepts the
reconnect. Meanwhile the user's IQs must be answered; afterwards no component stream was
closed, the process is alive and the canaries (echo, IRC both ways through ngIRCd) pass.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

from transport.testing.xmpp_steps import register

from .canary import LIMIT, all_canaries, describe, join_canary_room
from .clients import IrcPeer, LedgerClient, is_message
from .gateway import COMPONENTS, ECHO, HOSTILE_IRC_HOST, IRC, REAL_IRC_HOST, hostile_gateway
from .ircd import HostileIrcServer, nasty_lines
from .report import record, seed

CHANNEL = "#target"
ROOM = f"{CHANNEL}%{HOSTILE_IRC_HOST}@{IRC}"
SERVER_JID = f"{HOSTILE_IRC_HOST}@{IRC}"
ANSWER_DEADLINE = 15.0


def queries(client: LedgerClient, round_: int) -> set[str]:
    """IQs a user sends while the server attacks: the room, the server's LIST, a nick."""
    ids = set()
    for index, (to, payload) in enumerate([
        (ROOM, "<query xmlns='http://jabber.org/protocol/disco#info'/>"),
        (SERVER_JID, "<query xmlns='http://jabber.org/protocol/disco#items'/>"),
        (SERVER_JID, "<query xmlns='http://jabber.org/protocol/disco#items'><set "
                     "xmlns='http://jabber.org/protocol/rsm'><max>20</max></set></query>"),
        (f"evil%{HOSTILE_IRC_HOST}@{IRC}", "<query xmlns='http://jabber.org/protocol/disco#info'/>"),
        (ROOM, "<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member'/>"
               "</query>"),
    ]):
        iq_id = f"irc{round_}-{index}"
        client.send_raw(f"<iq type='get' id='{iq_id}' to='{to}'>{payload}</iq>")
        ids.add(iq_id)
    return ids


async def test_hostile_irc_server(prosody, ngircd, standin, users, tmp_path):
    rng = random.Random(seed() + 2)
    async with HostileIrcServer(random.Random(seed() + 4)) as hostile, \
            hostile_gateway(tmp_path, prosody.component_port, standin.url,
                            {REAL_IRC_HOST: ngircd.port, HOSTILE_IRC_HOST: hostile.port}) as gw:
        alice = await users(client_class=LedgerClient)
        await register(alice, ECHO, username="alice")
        peer = await IrcPeer().connect(ngircd.host, ngircd.port, f"peer{rng.randrange(10**6)}")
        try:
            await peer.join("#canary")
            await join_canary_room(alice, "alice")
            before = await all_canaries(alice, peer)

            alice.send_raw(f"<presence to='{ROOM}/alice'><x xmlns='http://jabber.org/"
                           "protocol/muc'/></presence>")
            link = await hostile.client(0)
            await asyncio.wait_for(link.joined.wait(), 10)
            await alice.expect(lambda s: is_message(s, ROOM)
                               and s.xml.find("{jabber:client}subject") is not None, 10)

            started = time.monotonic()
            sent: Counter[str] = Counter()
            ids: set[str] = set()
            lines = list(nasty_lines(rng, link.nick, CHANNEL))
            for index, (kind, raw) in enumerate(lines):
                link.send(raw)
                sent[kind] += 1
                if index % 100 == 99:
                    ids |= queries(alice, index)
                    await link.writer.drain()
                    await asyncio.sleep(0.01)
            link.send(b":evil!u@h PRIVMSG " + CHANNEL.encode() + b" :half a li")
            await link.writer.drain()
            link.close()
            sent["close mid-line"] += 1
            ids |= queries(alice, len(lines))
            reconnected = await _reconnect(hostile)
            missing = await alice.wait_answers(ids, ANSWER_DEADLINE)
            attack_seconds = time.monotonic() - started
            after = await all_canaries(alice, peer)
        finally:
            peer.close()
        streams = gw.streams()
        alive = gw.alive

    undefined = sorted(i for i, c in alice.conditions.items()
                       if c in ("undefined-condition", "internal-server-error"))
    record("hostile IRC server", lines_sent=dict(sent),
           bytes_sent=sum(len(raw) for _, raw in lines), IQs_sent=len(ids),
           IQs_answered=len(ids) - len(missing),
           error_conditions=dict(Counter(alice.conditions.values()).most_common()),
           streams_closed=streams.closed,
           streams_established=streams.established, process_alive=alive,
           reconnected_and_rejoined=reconnected, attack_seconds=f"{attack_seconds:.1f}",
           canary_before=describe(before), canary_after=describe(after))

    assert max(before.values()) < LIMIT, f"the canary failed before the attack: {before}"
    assert not missing, f"{len(missing)} of {len(ids)} IQs unanswered: {sorted(missing)[:10]}"
    assert not undefined, f"IQs answered as a failed handler: {undefined[:10]}"
    assert streams.closed == 0, f"component streams closed: {streams.lost}"
    assert streams.established == dict.fromkeys(COMPONENTS, 1), streams.established
    assert alive, "the gateway process died"
    assert reconnected, "the gateway did not reconnect and rejoin after the close mid-line"
    assert max(after.values()) < LIMIT, f"canary after the attack: {describe(after)}"


async def _reconnect(hostile: HostileIrcServer) -> bool:
    """Whether the gateway came back: a second registration that joins the channel again."""
    try:
        again = await hostile.client(1, timeout=10)
        await asyncio.wait_for(again.joined.wait(), 10)
    except TimeoutError:
        return False
    return CHANNEL in again.channels
