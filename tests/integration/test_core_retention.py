"""De-duplication window and retention, end to end: a real Prosody and the echo backend."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from transport.core.events import OutgoingMessage
from transport.store import LegacyOutboxRepo, Store
from transport.store.dedupe import DEDUPE_WINDOW
from transport.testing.gateway import running_gateway
from transport.testing.xmpp_client import TestClient
from transport.testing.xmpp_steps import register, send_chat

GW = "echo.localhost"
BOB = f"bob@{GW}"
DAY = 86400.0


async def _echoed(client: TestClient, bodies: list[str]) -> list[str]:
    """Wait for a marker, then every echoed body received, in order."""
    send_chat(client, BOB, "marker")
    await client.expect_message(sender=BOB, body="marker")
    return [s["body"] for s in client.drain()
            if getattr(s, "name", "") == "message" and s["body"] in bodies]


async def test_a_reused_stanza_id_with_a_new_body_is_delivered(gateway, users) -> None:
    alice = await users()
    await register(alice, GW, username="alice")
    send_chat(alice, BOB, "first text", msg_id="reused-1")
    await alice.expect_message(sender=BOB, body="first text")
    send_chat(alice, BOB, "first text", msg_id="reused-1")  # a resend: once only
    send_chat(alice, BOB, "second text", msg_id="reused-1")  # another message
    await alice.expect_message(sender=BOB, body="second text")
    assert await _echoed(alice, ["first text", "second text"]) == []


async def test_a_reused_stanza_id_after_the_window_is_delivered_again(gateway, users) -> None:
    alice = await users()
    await register(alice, GW, username="alice")
    send_chat(alice, BOB, "same words", msg_id="old-id")
    await alice.expect_message(sender=BOB, body="same words")
    # The first message was sent more than a window ago.
    await _age_outbox(gateway.store, DEDUPE_WINDOW + 60)
    send_chat(alice, BOB, "same words", msg_id="old-id")
    await alice.expect_message(sender=BOB, body="same words")
    send_chat(alice, BOB, "same words", msg_id="old-id")  # inside the new window: once
    assert await _echoed(alice, ["same words"]) == []

    await _age_outbox(gateway.store, DEDUPE_WINDOW + 60)
    send_chat(alice, BOB, "new words", msg_id="old-id")
    await alice.expect_message(sender=BOB, body="new words")


async def test_the_gateway_prunes_old_finished_rows_at_start(
    gateway_settings, tmp_path: Path
) -> None:
    path = tmp_path / "gw.sqlite3"
    store = await Store.open(path)
    old = LegacyOutboxRepo(store.db, clock=lambda: time.time() - 31 * DAY)
    sent = await old.add(GW, _message("sent-long-ago"), lane="bob")
    # Of a component not running now, so that nothing sends it meanwhile.
    unsent = await old.add("gone.localhost", _message("never-sent"), lane="bob")
    assert sent is not None and unsent is not None
    await old.mark_sent(sent, ["L1"])
    await store.close()

    async with running_gateway(gateway_settings()) as app:
        assert app.store is not None
        for _ in range(200):
            rows = await app.store.db.fetchall("SELECT stanza_id FROM legacy_outbox")
            if [r[0] for r in rows] == ["never-sent"]:
                break
            await asyncio.sleep(0.02)
        assert [r[0] for r in rows] == ["never-sent"]


async def _age_outbox(store: Store, seconds: float) -> None:
    await store.db.execute("UPDATE legacy_outbox SET created_at = created_at - ?", (seconds,))


def _message(stanza_id: str) -> OutgoingMessage:
    return OutgoingMessage(user="alice@localhost", sender_full_jid="alice@localhost/a",
                           contact="bob", stanza_id=stanza_id, body="old text")
