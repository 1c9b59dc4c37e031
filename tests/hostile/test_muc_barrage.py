"""A barrage of hostile MUC stanzas at the core's MUC service, through two of its users.

The worked example (``examples/roomchat``) and IRC (on a real ngIRCd) run in one in-process
gateway on a real Prosody, so that the core's and the backends' room state can be read
afterwards. Four resources of one registered user and one unregistered user fire joins,
leaves, nick changes, error presences, subjects, invitations, declines, error messages,
``muc#admin``/``muc#owner`` IQs and MAM queries at rooms of both. Afterwards: every IQ
answered exactly once, no stream closed, the canaries (a roomchat room, IRC both ways)
within 5 s, and once every resource has left every room, no room state left for the users
in the core or in either backend (the core's per-user state is all there is to bound: the
occupant lists are the backends').
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from typing import Any

from examples.roomchat import RoomChatBackend
from transport.testing.gateway import ComponentSpec, build_settings, running_gateway
from transport.testing.servers.defaults import request_component
from transport.testing.xmpp_steps import register

from .canary import LIMIT, describe, irc_to_xmpp, join_canary_room, xmpp_to_irc
from .clients import IrcPeer, LedgerClient, is_message
from .gateway import IRC, REAL_IRC_HOST
from .muc_stanzas import MucStanzaGenerator
from .report import record, seed
from .stanzas import Hostile, Targets
from .test_xmpp_barrage import CRASHED, fire, unanswered_report

ROOMCHAT = "roomchat.localhost"
request_component(ROOMCHAT, "roomchat-secret")
RESOURCES = 4
STANZAS_PER_RESOURCE = 300
UNREGISTERED_STANZAS = 200
ANSWER_DEADLINE = 20.0
SETTLE_DEADLINE = 15.0
ROOMS = [*(f"#r{i}@{ROOMCHAT}" for i in range(4)), f"#R0@{ROOMCHAT}",
         *(f"#m{i}%{REAL_IRC_HOST}@{IRC}" for i in range(3))]
CANARY_ROOM = f"#canary@{ROOMCHAT}"


def settings(prosody: Any, ngircd: Any, tmp_path: Any) -> Any:
    irc = {"throttle_limit": -1, "reconnect_max_delay": 1.0, "queue_timeout": 30.0,
           "servers": {REAL_IRC_HOST: {"port": ngircd.port, "tls": False}}}
    return build_settings("127.0.0.1", prosody.component_port, tmp_path / "gw.sqlite3", [
        ComponentSpec(RoomChatBackend, ROOMCHAT, "roomchat-secret"),
        ComponentSpec("irc", IRC, "irc-secret", irc),
    ], allowed_domains=["localhost"])


async def roomchat_canary(client: LedgerClient) -> float:
    """Join a fresh roomchat room, speak, and wait for the bot's answer."""
    started = time.monotonic()
    client.send_raw(f"<presence to='{CANARY_ROOM}/alice'><x xmlns='http://jabber.org/"
                    "protocol/muc'><history maxstanzas='0'/></x></presence>")
    try:
        await client.expect(lambda s: is_message(s, CANARY_ROOM)
                            and s.xml.find("{jabber:client}subject") is not None,
                            timeout=LIMIT + 2)
        client.send_message(mto=CANARY_ROOM, mbody="are you there, bot?", mtype="groupchat")
        await client.expect(lambda s: is_message(s, CANARY_ROOM,
                                                 "alice: you said 'are you there, bot?'"),
                            timeout=LIMIT + 2)
    except TimeoutError:
        return float("inf")
    return time.monotonic() - started


def leftovers(app: Any, users: set[str]) -> dict[str, list[str]]:
    """Room state still held for ``users``: the core's occupancy and timers, the backends'."""
    found: dict[str, list[str]] = {}
    for runtime in app.runtimes:
        gateway = runtime.gateway
        muc = gateway.muc
        pairs = [f"{u} in {r}" for u, r in muc.ctx.occupancy.pairs() if u in users]
        if pairs:
            found[f"{gateway.component_jid} core occupancy"] = pairs
        for name, tasks in (("join expiries", muc.joins._expiries),
                            ("late leaves", muc.events._leaving)):
            if tasks:
                found[f"{gateway.component_jid} {name}"] = [str(len(tasks))]
        backend = gateway.backend
        if isinstance(backend, RoomChatBackend):
            members = [f"{m.user} in {name}" for name, room in backend.network.rooms.items()
                       for m in room.members.values() if m.user in users]
            if members:
                found["roomchat network members"] = members
        else:
            channels = [f"{user} in {name}" for (user, _), session in
                        backend.manager.sessions.items() if user in users
                        for name in session.channels]
            if channels:
                found["irc session channels"] = channels
    return found


async def settle(app: Any, users: set[str]) -> dict[str, list[str]]:
    deadline = time.monotonic() + SETTLE_DEADLINE
    while (left := leftovers(app, users)) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return left


def leave_everything(client: LedgerClient) -> None:
    for room in [*ROOMS, CANARY_ROOM, f"#canary%{REAL_IRC_HOST}@{IRC}"]:
        client.send_raw(f"<presence type='unavailable' to='{room}/x'/>")


async def test_muc_barrage(prosody, ngircd, users, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="transport.xmpp.component")
    rng = random.Random(seed() + 11)
    async with running_gateway(settings(prosody, ngircd, tmp_path)) as app:
        name = f"alice{rng.randrange(10**6)}"
        resources = [await users(name=name, resource=f"r{i}", client_class=LedgerClient)
                     for i in range(RESOURCES)]
        alice = resources[0]
        bob = await users(client_class=LedgerClient)
        await register(alice, ROOMCHAT, nick="alice")
        peer = await IrcPeer().connect(ngircd.host, ngircd.port, f"peer{rng.randrange(10**6)}")
        try:
            await peer.join("#canary")
            await join_canary_room(alice, "alice")
            before = {"roomchat": await roomchat_canary(alice),
                      "irc to xmpp": await irc_to_xmpp(alice, peer),
                      "xmpp to irc": await xmpp_to_irc(alice, peer)}

            generator = MucStanzaGenerator(rng, ROOMS, Targets("", "", IRC, REAL_IRC_HOST, ""))
            batches = [(c, generator.barrage(STANZAS_PER_RESOURCE)) for c in resources]
            batches.append((bob, generator.barrage(UNREGISTERED_STANZAS)))
            started = time.monotonic()
            await asyncio.gather(*(fire(c, batch) for c, batch in batches))
            missing = set().union(*await asyncio.gather(*(
                c.wait_answers({s.iq_id for s in batch if s.iq_id}, ANSWER_DEADLINE)
                for c, batch in batches)))
            answer_seconds = time.monotonic() - started
            after = {"roomchat": await roomchat_canary(alice),
                     "irc to xmpp": await irc_to_xmpp(alice, peer),
                     "xmpp to irc": await xmpp_to_irc(alice, peer)}
            for client, _ in batches:
                leave_everything(client)
            left = await settle(app, {str(alice.boundjid.bare), str(bob.boundjid.bare)})
        finally:
            peer.close()

    clients = [c for c, _ in batches]
    lost = [r.getMessage() for r in caplog.records if "lost its stream" in r.getMessage()]
    stanzas: list[Hostile] = [s for _, batch in batches for s in batch]
    answers: Counter[str] = sum((c.answers for c in clients), Counter())
    conditions = {i: c for client in clients for i, c in client.conditions.items()}
    iq_ids = {s.iq_id for s in stanzas if s.iq_id}
    duplicates = {i for i in iq_ids if answers[i] > 1}
    undefined = {i for i, c in conditions.items() if c in CRASHED}
    record("muc barrage", stanzas_sent=len(stanzas), IQs_sent=len(iq_ids),
           IQs_answered=len(iq_ids) - len(missing), IQs_answered_twice=len(duplicates),
           kinds=dict(Counter(s.kind for s in stanzas)),
           error_conditions=dict(Counter(conditions.values()).most_common()),
           client_streams_closed=sum(c.stream_ended.is_set() for c in clients),
           component_streams_closed=len(lost),
           answered_within=f"{answer_seconds:.1f} s", canary_before=describe(before),
           canary_after=describe(after), room_state_left=left)

    assert max(before.values()) < LIMIT, f"the canary failed before the barrage: {before}"
    assert not any(c.stream_ended.is_set() for c in clients), "a client stream was closed"
    assert not lost, f"component streams closed: {lost}"
    assert not missing and not duplicates, (
        f"{len(missing)} of {len(iq_ids)} IQs unanswered, {len(duplicates)} answered twice "
        f"(HOSTILE_SEED={seed()}):\n{unanswered_report(stanzas, missing, answers)}")
    assert not undefined, ("IQs answered as a failed handler:\n"
                           + unanswered_report(stanzas, undefined, answers, "handler failed"))
    assert max(after.values()) < LIMIT, f"canary after the barrage: {describe(after)}"
    assert not left, f"room state left after every resource left every room: {left}"
