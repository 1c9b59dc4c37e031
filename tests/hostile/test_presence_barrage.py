"""A seeded barrage of hostile presences against the per-user lifecycle, through a real
Prosody and an in-process gateway whose echo backend records its hooks.

Registered users with several resources each, and users who may not use the gateway (not
registered), send random available / unavailable / error / probe / subscription presences to
odd addresses at the gateway; one registered user and one stranger flap a directed presence
far faster than the hooks run; the component's stream is cut while the flood is worked off
and comes back (the resync runs into it). Then every resource logs out. Afterwards: each
user's online/offline hooks strictly alternate starting with online and never overlap; nobody is
online in the store or in the backend's view; strangers reached no hook and left no row;
the events waiting for one user's turn stayed few (a flood is folded, not queued); the
component came back on one new stream, and a new user still gets an echo within 5 s.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from transport.core.lifecycle import FOLD_AFTER
from transport.testing.gateway import ComponentSpec, build_settings, running_gateway
from transport.testing.xmpp_steps import register

from .canary import LIMIT, echo_round_trip
from .clients import LedgerClient
from .presences import PresenceGenerator
from .recording import RecordingEcho, RecordingIrc
from .report import record, seed

pytestmark = pytest.mark.timeout(90)

ECHO = "echo.localhost"
IRC = "irc.localhost"
ROOMS = (*(f"#h{i}%127.0.0.1@{IRC}" for i in range(4)), f"#x%evil.example@{IRC}",
         f"#%127.0.0.1@{IRC}", f"#ü%127.0.0.1@{IRC}", f"nick%127.0.0.1@{IRC}",
         f"#a b%127.0.0.1@{IRC}", f"#h0%127.0.0.1@{IRC.upper()}")
MEMBERS = 3
STRANGERS = 2
RESOURCES = 3
PER_RESOURCE = 120
FLAPS = 400
#: Events that may wait for one user's turn at once: the lifecycle's few in order, then a
#: fold, and the resync's two jobs each followed by a fold; never a queue per presence.
BACKLOG_BOUND = FOLD_AFTER + 5
SETTLE_DEADLINE = 15.0
TABLES = {"users": "jid", "subscriptions": "user", "user_settings": "user",
          "online_users": "user"}


def settings_for(prosody: Any, ngircd: Any, directory: Any) -> Any:
    """Echo and IRC (on the real ngIRCd), both recording their lifecycle hooks."""
    irc_options = {"throttle_limit": -1, "reconnect_max_delay": 1.0,
                   "servers": {"127.0.0.1": {"port": ngircd.port, "tls": False}}}
    return build_settings("127.0.0.1", prosody.component_port, directory / "gw.sqlite3",
                          [ComponentSpec(RecordingEcho, ECHO, "echo-secret"),
                           ComponentSpec(RecordingIrc, IRC, "irc-secret", irc_options)],
                          admins=["admin@localhost"])


def mixed(rng: random.Random, first: tuple[str, ...], second: tuple[str, ...]
          ) -> tuple[str, ...]:
    """Both barrages of one resource, interleaved at random (each keeps its order)."""
    left, right = list(first), list(second)
    stanzas = []
    while left or right:
        source = left if left and (not right or rng.random() < 0.6) else right
        stanzas.append(source.pop(0))
    return tuple(stanzas)


async def fire(client: LedgerClient, barrage: tuple[str, ...]) -> None:
    """Write the presences, yielding now and then so the stream's buffer drains."""
    for index, stanza in enumerate(barrage):
        client.send_raw(stanza)
        if index % 40 == 39:
            await asyncio.sleep(0.002)


async def resources(users: Any, prosody: Any, count: int) -> list[LedgerClient]:
    """A new account logged in with ``count`` resources (r0, r1, ...)."""
    first: LedgerClient = await users(client_class=LedgerClient, resource="r0")
    clients = [first]
    for index in range(1, count):
        other = LedgerClient(f"{first.boundjid.bare}/r{index}", "pw", "127.0.0.1",
                             prosody.c2s_port)
        await other.login()
        clients.append(other)
    return clients


async def eventually(check: Callable[[], bool], timeout: float) -> bool:
    async def checked() -> bool:
        return check()

    return await eventually_async(checked, timeout)


async def eventually_async(check: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def alternation_faults(hooks: list[str]) -> list[str]:
    """What is wrong with one user's online/offline sequence (empty: nothing)."""
    sequence = [h for h in hooks if h in ("online", "offline")]
    expected = ["online", "offline"] * (len(sequence) // 2 + 1)
    return [] if sequence == expected[:len(sequence)] else [" ".join(sequence[:40])]


async def rows_about(store: Any, user: str, component: str) -> dict[str, int]:
    counts = {}
    for table, column in TABLES.items():
        rows = await store.db.fetchall(
            f"SELECT COUNT(*) FROM {table} WHERE component = ? AND {column} = ?",
            (component, user))
        counts[table] = int(rows[0][0])
    return {table: n for table, n in counts.items() if n}


async def test_presence_barrage(prosody, ngircd, users, tmp_path):
    rng = random.Random(seed() + 2)
    settings = settings_for(prosody, ngircd, tmp_path)
    test_started = time.monotonic()
    everyone: list[LedgerClient] = []
    try:
        async with running_gateway(settings) as app:
            runtime, irc_runtime = app.runtimes
            backend: RecordingEcho = runtime.gateway.backend
            irc: RecordingIrc = irc_runtime.gateway.backend
            lifecycle, irc_lifecycle = runtime.gateway.lifecycle, irc_runtime.gateway.lifecycle
            new_streams: list[object] = []
            runtime.xmpp.add_event_handler("session_start", new_streams.append)

            members = [await resources(users, prosody, RESOURCES) for _ in range(MEMBERS + 1)]
            for index, clients in enumerate(members):
                await register(clients[0], ECHO, username=f"member{index}")
            strangers = [await resources(users, prosody, RESOURCES - 1)
                         for _ in range(STRANGERS)]
            everyone += [c for group in (*members, *strangers) for c in group]
            member_jids = [str(group[0].boundjid.bare) for group in members]
            stranger_jids = [str(group[0].boundjid.bare) for group in strangers]
            assert await eventually(lambda: set(member_jids) <= backend.online_now, 10), \
                f"members not online before the barrage: {backend.calls}"

            # The last member hides every resource, so that the directed presence its first
            # resource flaps alone makes it come and go.
            flapper = members[-1]
            for client in flapper:
                client.send_raw("<presence type='unavailable'/>")
            assert await eventually(lambda: member_jids[-1] not in backend.online_now, 10)

            generator = PresenceGenerator(rng, ECHO)
            rooms = PresenceGenerator(rng, IRC, ROOMS)
            barrages = {client: mixed(rng, generator.barrage(PER_RESOURCE),
                                      rooms.barrage(PER_RESOURCE // 2))
                        for group in (*members[:-1], *strangers) for client in group}
            barrages[flapper[0]] = generator.flap(FLAPS, f"flap@{ECHO}")
            barrages[strangers[0][0]] = generator.flap(FLAPS, f"flap@{ECHO}")
            started = time.monotonic()
            await asyncio.gather(*(fire(c, b) for c, b in barrages.items()))
            sent_seconds = time.monotonic() - started
            await asyncio.sleep(0.1)
            runtime.xmpp.transport.abort()  # lost while the flood is still being worked off
            await asyncio.wait_for(runtime.xmpp.online.wait(), 10)

            logging_out = time.monotonic()
            await asyncio.gather(*(client.logout() for client in everyone))
            logout_seconds = time.monotonic() - logging_out

            async def online_somewhere() -> dict[str, list[str]]:
                await runtime.xmpp.barrier("localhost")
                await lifecycle.settled()
                await irc_lifecycle.settled()
                found = {"echo lifecycle": sorted(lifecycle.online),
                         "echo backend": sorted(backend.online_now),
                         "echo store": await app.store.online_users.list(ECHO),
                         "irc lifecycle": sorted(irc_lifecycle.online),
                         "irc backend": sorted(irc.online_now),
                         "irc store": await app.store.online_users.list(IRC)}
                return {where: users for where, users in found.items() if users}

            async def nobody_online() -> bool:
                return not await online_somewhere()

            settled = await eventually_async(nobody_online, SETTLE_DEADLINE)
            settle_seconds = time.monotonic() - started - sent_seconds
            still_online = await online_somewhere()
            stranger_rows = {jid: await rows_about(app.store, jid, ECHO)
                             for jid in stranger_jids}
            backlog = max(lifecycle.longest_backlog, irc_lifecycle.longest_backlog)

            canary = await users(client_class=LedgerClient)
            await register(canary, ECHO, username=f"canary{uuid.uuid4().hex[:6]}")
            echo_seconds = await echo_round_trip(canary)
            connected = runtime.xmpp.online.is_set()
    finally:
        for client in everyone:
            await client.logout()

    faults = {f"{user} on {name}": alternation_faults(recorder.hooks_of(user))
              for name, recorder in (("echo", backend), ("irc", irc))
              for user in member_jids + stranger_jids}
    faults = {user: fault for user, fault in faults.items() if fault}
    overlaps = [*backend.overlaps, *irc.overlaps]
    stranger_hooks = {jid: backend.hooks_of(jid) for jid in stranger_jids
                      if backend.hooks_of(jid)}
    record("presence barrage", presences_sent=sum(len(b) for b in barrages.values()),
           send_seconds=f"{sent_seconds:.1f}", logout_seconds=f"{logout_seconds:.1f}",
           settled_within=f"{settle_seconds:.1f} s",
           echo_hooks=len(backend.calls), irc_hooks=len(irc.calls),
           flapper_hooks=len(backend.hooks_of(member_jids[-1])),
           longest_backlog_of_one_user=backlog, still_online=still_online,
           new_streams=len(new_streams), canary_echo=f"{echo_seconds:.2f} s",
           whole_test=f"{time.monotonic() - test_started:.1f} s")

    assert not faults, f"online/offline not alternating from online (HOSTILE_SEED={seed()}): " \
        f"{faults}"
    assert not overlaps, f"hooks of one user overlapped: {overlaps[:10]}"
    assert settled, f"users still online after every resource left: {still_online}"
    assert not stranger_hooks, f"users who may not use the gateway reached hooks: " \
        f"{stranger_hooks}"
    assert not any(stranger_rows.values()), f"strangers left rows: {stranger_rows}"
    assert backlog <= BACKLOG_BOUND, \
        f"{backlog} events waited for one user's turn: a flood grows the queue"
    assert connected and len(new_streams) == 1, \
        f"{len(new_streams)} new streams: only the one after the stream we cut was expected"
    assert echo_seconds < LIMIT, f"the canary echo took {echo_seconds:.2f} s"
