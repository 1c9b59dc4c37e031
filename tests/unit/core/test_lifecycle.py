"""The user lifecycle state machine: online/offline per user from resources and targets,
hook order, failures, persistence across a restart and the resync after a reconnect."""

from __future__ import annotations

import asyncio
import logging

import pytest

from transport.core.backend import Backend
from transport.core.events import OutgoingMessage, Registration, SendOutcome
from transport.core.lifecycle import FOLD_AFTER, UserLifecycle
from transport.store import Store

C = "echo.localhost"
ALICE = "alice@localhost"
BOB = "bob@localhost"


class Recorder(Backend):
    """Records its hooks as (hook, user[, detail]); a hook named in ``fail`` raises."""

    name = "recorder"
    identities = ()

    def __init__(self) -> None:
        super().__init__(None, None)  # type: ignore[arg-type]
        self.calls: list[tuple[str, ...]] = []
        self.fail: set[str] = set()
        self.online_gate: asyncio.Event | None = None

    def normalize_contact(self, localpart: str) -> str:
        return localpart

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        raise AssertionError("not used")

    def _record(self, *call: str) -> None:
        self.calls.append(call)
        if call[0] in self.fail:
            raise RuntimeError(f"{call[0]} broke")

    async def on_registered(self, user: str, registration: Registration,
                            previous: Registration | None) -> None:
        self._record("registered", user, str(registration.legacy_key),
                     str(previous.legacy_key if previous else None))

    async def on_user_online(self, user: str) -> None:
        if self.online_gate is not None:
            await self.online_gate.wait()
        self._record("online", user)

    async def on_user_offline(self, user: str) -> None:
        self._record("offline", user)

    async def on_unregistered(self, user: str, registration: Registration) -> None:
        self._record("unregistered", user)


@pytest.fixture
def backend() -> Recorder:
    return Recorder()


@pytest.fixture
def allowed() -> set[str]:
    return {ALICE, BOB}


def make(store: Store, backend: Recorder, allowed: set[str]) -> UserLifecycle:
    async def may_use(user: str) -> bool:
        return user in allowed

    return UserLifecycle(C, backend, store.online_users, may_use)


@pytest.fixture
async def life(store, backend, allowed):
    lifecycle = make(store, backend, allowed)
    await lifecycle.start()
    yield lifecycle
    await lifecycle.stop()


async def test_two_resources_make_one_online_and_one_offline(life, backend, store):
    life.available(ALICE, "phone", C)
    life.available(ALICE, "laptop", C)
    life.available(ALICE, "phone", C)  # a status change
    await life.settled()
    assert backend.calls == [("online", ALICE)]
    assert await store.online_users.list(C) == [ALICE]
    life.unavailable(ALICE, "phone", C)
    await life.settled()
    assert backend.calls == [("online", ALICE)]
    assert life.online == {ALICE: frozenset({"laptop"})}
    life.unavailable(ALICE, "laptop", C)
    life.available(ALICE, "phone", C)
    life.unavailable(ALICE, "phone", C)
    await life.settled()
    assert backend.calls == [("online", ALICE), ("offline", ALICE),
                             ("online", ALICE), ("offline", ALICE)]
    assert await store.online_users.list(C) == []
    assert life.online == {}


async def test_a_resource_stays_while_any_jid_of_ours_has_its_presence(life, backend):
    room = f"#chan%irc.example.org@{C}"
    life.available(ALICE, "phone", room)
    life.available(ALICE, "phone", f"bob@{C}")
    life.unavailable(ALICE, "phone", room)  # left the room, still subscribed to bob
    await life.settled()
    assert backend.calls == [("online", ALICE)]
    life.unavailable(ALICE, "phone", f"bob@{C}")
    await life.settled()
    assert backend.calls == [("online", ALICE), ("offline", ALICE)]


async def test_errors_and_the_bare_jid_end_resources(life, backend):
    life.available(ALICE, "phone", C)
    life.available(ALICE, "laptop", C)
    life.resource_failed(ALICE, "phone")
    await life.settled()
    assert backend.calls == [("online", ALICE)]
    life.resource_failed(ALICE, "laptop")
    life.available(ALICE, "a", C)
    life.available(ALICE, "b", C)
    life.gone(ALICE)
    await life.settled()
    assert backend.calls == [("online", ALICE), ("offline", ALICE),
                             ("online", ALICE), ("offline", ALICE)]


async def test_users_who_may_not_use_the_gateway_leave_no_trace(life, backend, store):
    stranger = "eve@elsewhere.example"
    life.available(stranger, "r", C)
    life.unavailable(stranger, "r", C)
    life.gone(stranger)
    await life.settled()
    assert backend.calls == []
    assert await store.online_users.list(C) == []
    assert life.online == {}


async def test_offline_waits_for_a_slow_online_hook(life, backend):
    backend.online_gate = asyncio.Event()
    life.available(ALICE, "phone", C)
    life.unavailable(ALICE, "phone", C)
    life.available(BOB, "r", C)
    await asyncio.sleep(0.05)
    assert backend.calls == []  # Alice's hook holds her events, and Bob's his own
    backend.online_gate.set()
    await life.settled()
    assert backend.calls.index(("online", ALICE)) < backend.calls.index(("offline", ALICE))
    assert sorted(backend.calls) == [("offline", ALICE), ("online", ALICE), ("online", BOB)]


async def test_a_failing_hook_is_logged_with_the_user_and_the_next_event_comes(
        life, backend, store, caplog):
    backend.fail = {"online"}
    with caplog.at_level(logging.ERROR, logger="transport.core.lifecycle"):
        life.available(ALICE, "phone", C)
        await life.settled()
    assert any(ALICE in r.getMessage() and "on_user_online" in r.getMessage()
               for r in caplog.records)
    assert await store.online_users.list(C) == [ALICE], "she is online all the same"
    life.unavailable(ALICE, "phone", C)
    await life.settled()
    assert backend.calls == [("online", ALICE), ("offline", ALICE)]


async def test_unregistering_an_online_user_ends_with_offline_then_unregistered(
        life, backend, store, allowed):
    life.available(ALICE, "phone", C)
    await life.settled()
    allowed.discard(ALICE)
    await life.unregistered(ALICE, Registration("alice"))
    assert backend.calls == [("online", ALICE), ("offline", ALICE), ("unregistered", ALICE)]
    assert await store.online_users.list(C) == []
    life.unavailable(ALICE, "phone", C)  # the server's answer to the farewell
    life.available(ALICE, "phone", C)  # no longer a user of ours
    await life.settled()
    assert backend.calls[3:] == []


async def test_unregistering_an_offline_user_calls_only_unregistered(life, backend):
    await life.unregistered(BOB, Registration("bob"))
    assert backend.calls == [("unregistered", BOB)]


async def test_registered_runs_in_the_users_turn(life, backend):
    backend.online_gate = asyncio.Event()
    life.available(ALICE, "phone", C)
    life.registered(ALICE, Registration("new"), Registration("old"))
    await asyncio.sleep(0.02)
    backend.online_gate.set()
    await life.settled()
    assert backend.calls == [("online", ALICE), ("registered", ALICE, "new", "old")]


async def test_a_restart_keeps_who_stayed_and_ends_who_left(store, backend, allowed):
    first = make(store, backend, allowed)
    await first.start()
    first.available(ALICE, "phone", C)
    first.available(BOB, "r", C)
    await first.settled()
    await first.stop()  # nobody is announced offline
    assert backend.calls == [("online", ALICE), ("online", BOB)]

    again = make(store, backend, allowed)
    await again.start()
    assert set(again.online) == {ALICE, BOB}
    generation, probe = again.begin_resync()
    assert sorted(probe) == [ALICE, BOB]
    again.available(ALICE, "phone", C)  # answers the probe; Bob's server says nothing
    again.end_resync(generation, probe)
    await again.settled()
    assert backend.calls[2:] == [("offline", BOB)]
    assert await store.online_users.list(C) == [ALICE]
    assert again.online == {ALICE: frozenset({"phone"})}
    await again.stop()


async def test_a_user_said_offline_during_a_resync_is_offline_at_once(life, backend):
    life.available(ALICE, "phone", C)
    generation, probe = life.begin_resync()
    life.gone(ALICE)  # the probe's answer
    await asyncio.wait_for(life._runner.idle(), 1)
    assert backend.calls == [("online", ALICE), ("offline", ALICE)]
    life.end_resync(generation, probe)
    await life.settled()
    assert backend.calls == [("online", ALICE), ("offline", ALICE)]


async def test_a_resync_forgets_resources_seen_on_the_old_stream(life, backend):
    life.available(ALICE, "phone", C)
    life.available(ALICE, "laptop", C)
    generation, probe = life.begin_resync()
    life.available(ALICE, "laptop", C)  # the phone left while the stream was down
    life.end_resync(generation, probe)
    await life.settled()
    life.unavailable(ALICE, "laptop", C)
    await life.settled()
    assert backend.calls == [("online", ALICE), ("offline", ALICE)]


async def test_a_stale_resync_end_changes_nothing(life, backend):
    life.available(ALICE, "phone", C)
    old, probe = life.begin_resync()
    new, probe_again = life.begin_resync()  # the stream dropped and came back meanwhile
    life.end_resync(old, probe)
    await asyncio.wait_for(life._runner.idle(), 1)
    assert backend.calls == [("online", ALICE)]
    life.available(ALICE, "phone", C)
    life.end_resync(new, probe_again)
    await life.settled()
    assert backend.calls == [("online", ALICE)]


async def test_unregistering_while_stopping_still_drops_the_users_data(life, backend, store):
    life.available(ALICE, "phone", C)
    await life.settled()
    await life.stop()
    await life.unregistered(ALICE, Registration("alice"))
    assert backend.calls == [("online", ALICE), ("offline", ALICE), ("unregistered", ALICE)]
    assert await store.online_users.list(C) == []


async def test_a_store_failure_is_logged_and_the_hook_still_runs(tmp_path, backend, allowed,
                                                                 caplog):
    closed = await Store.open(tmp_path / "closed.sqlite3")
    await closed.close()  # every write now fails
    life = make(closed, backend, allowed)
    life.available(ALICE, "phone", C)
    life.unavailable(ALICE, "phone", C)
    await life.settled()
    assert backend.calls == [("online", ALICE), ("offline", ALICE)]
    assert sum("could not record" in r.getMessage() for r in caplog.records) == 2
    await life.stop()


async def test_a_flood_behind_a_slow_hook_folds_and_ends_where_the_user_ended(life, backend):
    backend.online_gate = asyncio.Event()
    life.available(ALICE, "phone", C)
    await asyncio.sleep(0.02)  # her online hook is running, and slow
    for _ in range(500):
        life.unavailable(ALICE, "phone", C)
        life.available(ALICE, "phone", C)
    life.available(ALICE, "laptop", f"bob@{C}")
    life.resource_failed(ALICE, "laptop")
    life.unavailable(ALICE, "phone", C)
    life.available(ALICE, "tablet", C)
    assert life.longest_backlog <= FOLD_AFTER + 1, "a flood must not grow her queue"
    backend.online_gate.set()
    await life.settled()
    calls = [call[0] for call in backend.calls]
    assert calls == ["online", *["offline", "online"] * (calls.count("offline"))]
    assert len(calls) < 2 * FOLD_AFTER + 3, "the flaps beyond the queue folded"
    assert life.online == {ALICE: frozenset({"tablet"})}


async def test_a_fold_keeps_its_place_before_later_events(life, backend, store):
    backend.online_gate = asyncio.Event()
    life.available(ALICE, "phone", C)
    await asyncio.sleep(0.02)
    for _ in range(FOLD_AFTER + 5):
        life.available(ALICE, "phone", C)
    life.registered(ALICE, Registration("new"), Registration("old"))
    life.unavailable(ALICE, "phone", C)  # queued behind the fold and the registration
    for _ in range(FOLD_AFTER):
        life.gone(ALICE)
    backend.online_gate.set()
    await life.settled()
    assert backend.calls == [("online", ALICE), ("registered", ALICE, "new", "old"),
                             ("offline", ALICE)]
    assert await store.online_users.list(C) == []
    assert life.online == {}


async def test_folded_presences_of_a_stranger_reach_no_hook(store, backend):
    stranger = "eve@elsewhere.example"
    asked = asyncio.Event()
    answer = asyncio.Event()

    async def slow_may_use(user: str) -> bool:  # a store read that takes its time
        asked.set()
        await answer.wait()
        return False

    life = UserLifecycle(C, backend, store.online_users, slow_may_use)
    await life.start()
    life.available(stranger, "r", C)
    await asked.wait()
    for _ in range(3 * FOLD_AFTER):
        life.available(stranger, "r", C)
        life.unavailable(stranger, "r", C)
        life.available(stranger, "r", f"x@{C}")
    assert life.longest_backlog <= FOLD_AFTER + 1
    answer.set()
    await life.settled()
    await life.stop()
    assert backend.calls == []
    assert await store.online_users.list(C) == []
    assert life.online == {}
