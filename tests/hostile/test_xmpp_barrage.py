"""A barrage of 2,400 hostile stanzas from a registered and an unregistered user.

The gateway (echo, sms and irc components, a child process) is attached to a real Prosody;
its IRC side reaches a real ngIRCd and the scripted server, which drops a user's link every
few private messages. Afterwards: every IQ get/set answered exactly once, no component stream
closed or re-established, the process alive, and the canaries (echo, IRC both ways through
ngIRCd) each within 5 s.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

from transport.testing.xmpp_steps import register

from .canary import LIMIT, all_canaries, describe, join_canary_room
from .clients import IrcPeer, LedgerClient
from .gateway import (
    COMPONENTS,
    ECHO,
    HOSTILE_IRC_HOST,
    IRC,
    POOL,
    REAL_IRC_HOST,
    SMS,
    hostile_gateway,
)
from .ircd import HostileIrcServer
from .report import record, seed
from .stanzas import Hostile, StanzaGenerator, Targets

REGISTERED_STANZAS = 1_700
UNREGISTERED_STANZAS = 700
ANSWER_DEADLINE = 20.0
#: What a handler that raised answers: slixmpp's default, then the IQ guard's.
CRASHED = ("undefined-condition", "internal-server-error")


async def fire(client: LedgerClient, stanzas: list[Hostile]) -> None:
    """Write the stanzas, yielding now and then so the stream's buffer drains."""
    for index, stanza in enumerate(stanzas):
        client.send_raw(stanza.xml)
        if index % 25 == 24:
            await asyncio.sleep(0.005)


def unanswered_report(stanzas: list[Hostile], missing: set[str], answers: Counter[str],
                      label: str = "unanswered") -> str:
    """Up to 8 of the stanzas in ``missing`` (and 4 answered twice), as sent."""
    shown = [s for s in stanzas if s.iq_id in missing][:8]
    twice = [s for s in stanzas if s.iq_id and answers[s.iq_id] > 1][:4]
    lines = [f"  {label} {s.kind}: {s.xml[:300]}" for s in shown]
    lines += [f"  answered {answers[s.iq_id or '']} times {s.kind}: {s.xml[:300]}" for s in twice]
    return "\n".join(lines)


async def test_stanza_barrage(prosody, ngircd, standin, users, tmp_path):
    rng = random.Random(seed())
    async with HostileIrcServer(random.Random(seed() + 1), drop_after=4) as hostile, \
            hostile_gateway(tmp_path, prosody.component_port, standin.url,
                            {REAL_IRC_HOST: ngircd.port, HOSTILE_IRC_HOST: hostile.port}) as gw:
        alice = await users(client_class=LedgerClient)
        bob = await users(client_class=LedgerClient)
        await register(alice, ECHO, username="alice")
        await register(alice, SMS, phone=POOL[0])
        peer = await IrcPeer().connect(ngircd.host, ngircd.port, f"peer{rng.randrange(10**6)}")
        try:
            await peer.join("#canary")
            await join_canary_room(alice, "alice")
            before = await all_canaries(alice, peer)

            generator = StanzaGenerator(rng, Targets(ECHO, SMS, IRC, REAL_IRC_HOST,
                                                     HOSTILE_IRC_HOST))
            from_alice = generator.barrage(REGISTERED_STANZAS, canary_user=True)
            from_bob = generator.barrage(UNREGISTERED_STANZAS, canary_user=False)
            started = time.monotonic()
            await asyncio.gather(fire(alice, from_alice), fire(bob, from_bob))
            sent_seconds = time.monotonic() - started
            ids = {c: {s.iq_id for s in batch if s.iq_id}
                   for c, batch in ((alice, from_alice), (bob, from_bob))}
            missing_alice, missing_bob = await asyncio.gather(
                alice.wait_answers(ids[alice], ANSWER_DEADLINE),
                bob.wait_answers(ids[bob], ANSWER_DEADLINE))
            answer_seconds = time.monotonic() - started
            after = await all_canaries(alice, peer)
        finally:
            peer.close()
        streams = gw.streams()
        alive = gw.alive

    stanzas = [*from_alice, *from_bob]
    answers = alice.answers + bob.answers
    iq_ids = ids[alice] | ids[bob]
    missing = missing_alice | missing_bob
    duplicates = {i for i in iq_ids if answers[i] > 1}
    unanswered_kinds = Counter(s.kind for s in stanzas if s.iq_id in missing)
    conditions = Counter({**alice.conditions, **bob.conditions}.values())
    undefined = {i for i, c in {**alice.conditions, **bob.conditions}.items()
                 if c in CRASHED}
    echoed = alice.echoed | bob.echoed
    record("xmpp barrage", stanzas_sent=len(stanzas),
           IQs_sent=len(iq_ids), IQs_answered=len(iq_ids) - len(missing),
           IQs_answered_twice=len(duplicates), unanswered_by_kind=dict(unanswered_kinds),
           error_conditions=dict(conditions.most_common()),
           errors_copying_the_payload=len(echoed),
           streams_closed=streams.closed,
           streams_established=streams.established,
           client_streams_closed=sum(c.stream_ended.is_set() for c in (alice, bob)),
           process_alive=alive, send_seconds=f"{sent_seconds:.1f}",
           answered_within=f"{answer_seconds:.1f} s", canary_before=describe(before),
           canary_after=describe(after),
           connections_to_the_scripted_IRC_server=len(hostile.clients))

    assert max(before.values()) < LIMIT, f"the canary failed before the barrage: {before}"
    assert not alice.stream_ended.is_set() and not bob.stream_ended.is_set(), \
        "the server closed a client stream: the generator wrote something not well-formed"
    assert not missing and not duplicates, (
        f"{len(missing)} of {len(iq_ids)} IQs unanswered, {len(duplicates)} answered twice "
        f"(HOSTILE_SEED={seed()}):\n{unanswered_report(stanzas, missing, answers)}")
    assert not undefined, (
        f"{len(undefined)} IQs answered {'/'.join(CRASHED)} (a handler failed), not "
        "bad-request:\n" + unanswered_report(stanzas, undefined, answers, "handler failed"))
    assert not echoed, (f"{len(echoed)} errors copy the hostile payload back:\n"
                        + unanswered_report(stanzas, echoed, answers, "copied back"))
    assert streams.closed == 0, f"component streams closed: {streams.lost}"
    assert streams.established == dict.fromkeys(COMPONENTS, 1), streams.established
    assert alive, "the gateway process died"
    assert max(after.values()) < LIMIT, f"canary after the barrage: {describe(after)}"
