"""The outbox against a real SQLite store and a scripted backend."""

import asyncio
from collections.abc import Sequence
from typing import Any

from transport.core.backend import Backend, Identity
from transport.core.errors import DeliveryRefused, TemporaryFailure
from transport.core.events import OutgoingMessage, SendOutcome, StanzaErrorInfo
from transport.core.outbox import UNCERTAIN, OutboxDispatcher
from transport.store import Store

COMPONENT = "test.localhost"


class ScriptedBackend(Backend):
    """Plays back a script of outcomes per stanza id; records what it was asked to send."""

    name = "scripted"
    identities = (Identity("gateway", "test"),)

    def __init__(self, script: dict[str, list[Any]], resend_unconfirmed: bool = True) -> None:
        super().__init__(ctx=None, settings=None)  # type: ignore[arg-type]
        self.script = script
        self.calls: list[str] = []
        self.resend_unconfirmed = resend_unconfirmed  # type: ignore[misc]

    def normalize_contact(self, localpart: str) -> str:
        return localpart

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        self.calls.append(message.stanza_id)
        steps = self.script.get(message.stanza_id, [])
        step = steps.pop(0) if steps else SendOutcome(legacy_ids=(f"L-{message.stanza_id}",))
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, asyncio.Event):
            await step.wait()
            return SendOutcome(legacy_ids=(f"L-{message.stanza_id}",))
        return step


def msg(stanza_id: str, contact: str = "bob", receipt: bool = True) -> OutgoingMessage:
    return OutgoingMessage(
        user="alice@localhost", sender_full_jid="alice@localhost/phone", contact=contact,
        stanza_id=stanza_id, body=f"body {stanza_id}", receipt_requested=receipt,
    )


class Reports:
    def __init__(self) -> None:
        self.errors: list[tuple[str, StanzaErrorInfo]] = []
        self.receipts: list[str] = []

    async def error(self, message: OutgoingMessage, error: StanzaErrorInfo) -> None:
        self.errors.append((message.stanza_id, error))

    async def receipt(self, message: OutgoingMessage) -> None:
        self.receipts.append(message.stanza_id)




def dispatcher(store: Store, backend: Backend, reports: Reports) -> OutboxDispatcher:
    return OutboxDispatcher(COMPONENT, backend, store, reports.error, reports.receipt,
                            base_delay=0.01, max_delay=0.05)


async def settle(d: OutboxDispatcher) -> None:
    for _ in range(500):
        if not d.pending_lanes():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("outbox did not settle")


async def test_sent_once_and_mapped_for_later_receipts(store: Store) -> None:
    reports = Reports()
    backend = ScriptedBackend({})
    d = dispatcher(store, backend, reports)
    assert await d.submit(msg("a"))
    assert not await d.submit(msg("a")), "a resent stanza id must not be sent twice"
    await settle(d)
    assert backend.calls == ["a"]
    mapping = await store.id_maps.by_legacy_id(COMPONENT, "L-a")
    assert mapping is not None and mapping.xmpp_id == "a"
    assert mapping.full_jid == "alice@localhost/phone"
    assert reports.receipts == [] and reports.errors == []


async def test_confirmed_send_reports_receipt_only_when_asked(store: Store) -> None:
    reports = Reports()
    backend = ScriptedBackend({
        "r": [SendOutcome(("x",), confirmed=True)],
        "n": [SendOutcome(("y",), confirmed=True)],
    })
    d = dispatcher(store, backend, reports)
    await d.submit(msg("r"))
    await d.submit(msg("n", receipt=False))
    await settle(d)
    assert reports.receipts == ["r"]


async def test_temporary_failures_are_retried_in_order(store: Store) -> None:
    reports = Reports()
    backend = ScriptedBackend({"1": [TemporaryFailure("429"), TemporaryFailure("429")]})
    d = dispatcher(store, backend, reports)
    await d.submit(msg("1"))
    await d.submit(msg("2"))
    await settle(d)
    assert backend.calls == ["1", "1", "1", "2"], "same lane: 2 waits until 1 is through"
    assert reports.errors == []
    assert (await store.outbox.count_by_state(COMPONENT)).get("sent") == 2


async def test_refusal_reports_condition_and_legacy_code(store: Store) -> None:
    reports = Reports()
    refusal = DeliveryRefused("opted out", "forbidden", "auth", legacy_code="21610")
    backend = ScriptedBackend({"x": [refusal]})
    d = dispatcher(store, backend, reports)
    await d.submit(msg("x"))
    await settle(d)
    assert reports.errors == [("x", StanzaErrorInfo("forbidden", "opted out", "auth", "21610"))]
    assert (await store.outbox.count_by_state(COMPONENT)).get("failed") == 1


async def test_backend_crash_becomes_an_error_not_a_silent_loss(store: Store) -> None:
    reports = Reports()
    backend = ScriptedBackend({"boom": [RuntimeError("bug")]})
    d = dispatcher(store, backend, reports)
    await d.submit(msg("boom"))
    await settle(d)
    assert [c.condition for _, c in reports.errors] == ["internal-server-error"]


async def test_lanes_run_side_by_side(store: Store) -> None:
    reports = Reports()
    gate = asyncio.Event()
    backend = ScriptedBackend({"slow": [gate]})
    d = dispatcher(store, backend, reports)
    await d.submit(msg("slow", contact="bob"))
    await d.submit(msg("fast", contact="carol"))
    for _ in range(100):
        if "fast" in backend.calls:
            break
        await asyncio.sleep(0.01)
    assert "fast" in backend.calls, "a blocked lane must not hold other lanes"
    gate.set()
    await settle(d)


async def test_restart_resumes_pending_and_reports_uncertain(tmp_path) -> None:
    path = tmp_path / "gw.sqlite3"
    first = await Store.open(path)
    await first.outbox.add(COMPONENT, msg("pending"), "lane")
    row = await first.outbox.add(COMPONENT, msg("in-flight"), "lane2")
    assert row is not None
    await first.outbox.claim(row)
    await first.close()

    second = await Store.open(path)
    try:
        reports = Reports()
        backend = ScriptedBackend({}, resend_unconfirmed=False)
        d = dispatcher(second, backend, reports)
        await d.start()
        await settle(d)
        assert backend.calls == ["pending"]
        assert reports.errors == [("in-flight", UNCERTAIN)]
    finally:
        await second.close()


async def test_stop_keeps_queued_messages_for_next_start(tmp_path) -> None:
    path = tmp_path / "gw.sqlite3"
    store = await Store.open(path)
    gate = asyncio.Event()
    backend = ScriptedBackend({"a": [gate]})
    reports = Reports()
    d = dispatcher(store, backend, reports)
    await d.submit(msg("a"))
    await d.submit(msg("b"))
    await d.stop(grace=0.1)
    await store.close()

    store = await Store.open(path)
    try:
        backend2 = ScriptedBackend({})
        d2 = dispatcher(store, backend2, reports)
        await d2.start()
        await settle(d2)
        assert sorted(backend2.calls) == ["a", "b"]
    finally:
        await store.close()


def _unused(_: Sequence[str]) -> None:
    """Keeps Sequence imported for type readers."""


# -- pipelined lanes: sends overlap, outcomes recorded in order, failures per message --


class PipelinedBackend(ScriptedBackend):
    pipelined_sends = True

    def __init__(self, script: dict[str, list[object]]) -> None:
        super().__init__(script)  # type: ignore[arg-type]
        self.running = 0
        self.most_at_once = 0

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(0.001)
            return await super().send(message)
        finally:
            self.running -= 1


async def test_sends_overlap_and_outcomes_are_recorded_in_order(store: Store) -> None:
    backend = PipelinedBackend({"m3": [DeliveryRefused("no", "forbidden", "auth")]})
    reports = Reports()
    d = dispatcher(store, backend, reports)
    await d.start()
    # Submitted together, as a busy stream delivers them: one commit, then overlapping sends
    # (one at a time, each commit could finish after the previous 1 ms send on a slow disk).
    await asyncio.gather(*(d.submit(msg(f"m{i}")) for i in range(10)))
    await settle(d)
    assert backend.calls == [f"m{i}" for i in range(10)]
    assert backend.most_at_once > 1
    assert [(sid, e.condition) for sid, e in reports.errors] == [("m3", "forbidden")]
    assert await store.outbox.unfinished("test.localhost") == []
    sent = await store.db.fetchall(
        "SELECT stanza_id FROM legacy_outbox WHERE state = 'sent' ORDER BY row_id")
    assert [r[0] for r in sent] == [f"m{i}" for i in range(10) if i != 3]


async def test_a_crashing_send_is_reported_and_the_lane_goes_on(store: Store) -> None:
    backend = PipelinedBackend({"m1": [RuntimeError("bug")]})
    reports = Reports()
    d = dispatcher(store, backend, reports)
    await d.start()
    for i in range(3):
        await d.submit(msg(f"m{i}"))
    await settle(d)
    assert [(sid, e.condition) for sid, e in reports.errors] == [
        ("m1", "internal-server-error")]
    assert backend.calls == ["m0", "m1", "m2"]


async def test_stop_cancels_sends_under_way_and_keeps_them_queued(store: Store) -> None:
    gate = asyncio.Event()
    backend = PipelinedBackend({f"m{i}": [gate] for i in range(3)})
    d = dispatcher(store, backend, Reports())
    await d.start()
    for i in range(3):
        await d.submit(msg(f"m{i}"))
    await asyncio.sleep(0.05)
    await d.stop(grace=0.05)
    left = await store.outbox.unfinished("test.localhost")
    assert [row.message.stanza_id for row in left] == ["m0", "m1", "m2"]


async def test_stop_does_not_wait_out_a_retry_backoff(store):
    """SIGTERM while a message waits to be retried: the gateway stops at once, and the
    message is still there for the next start."""
    backend = ScriptedBackend({"m1": [TemporaryFailure("Twilio said 429", retry_after=30)]})
    reports = Reports()
    d = dispatcher(store, backend, reports)
    await d.submit(msg("m1"))
    for _ in range(200):
        if backend.calls:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # the retry is scheduled 30 s ahead
    started = asyncio.get_running_loop().time()
    await d.stop()
    assert asyncio.get_running_loop().time() - started < 1.0
    [row] = await store.outbox.unfinished(COMPONENT)
    assert row.message.stanza_id == "m1"
    assert backend.calls == ["m1"]
