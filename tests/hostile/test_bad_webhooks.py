"""1,000 bad webhooks against a running gateway: each refused, nothing delivered but once.

Forged, replayed, oversized, slow, stalled, mistyped and malformed requests go to
``/twilio/sms``, ``/twilio/status`` and ``/media/...`` of a gateway child process. Then the
canary: a valid text signed by the Twilio stand-in reaches the user within 5 s.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

from transport.testing.xmpp_steps import register

from .clients import LedgerClient, bare_sender, is_message, sender
from .gateway import COMPONENTS, CONTACT, POOL, SMS, hostile_gateway
from .report import record, seed
from .webhooks import Answer, Generator, inbound, new_sid, send_raw, signed_post

TOTAL = 1_000
REPLAYS = 40
TRICKLED = 6
STALLED = 4
CANARY_LIMIT = 5.0
STALLED_LIMIT = 30.0
CUT_OFF = "no status line: b''"  # the server closed the connection without an answer


def from_gateway(stanzas: list) -> list:
    """Messages from the sms domain or any of its contacts (texts, errors, notices)."""
    return [s for s in stanzas if s.name == "message"
            and bare_sender(s).rpartition("@")[2] == SMS]


async def test_bad_webhooks_are_refused_and_the_canary_passes(prosody, standin, users, tmp_path):
    rng = random.Random(seed() + 3)
    async with hostile_gateway(tmp_path, prosody.component_port, standin.url, {}) as gateway:
        standin.route_url("https://sms-gw.example.test", gateway.webhook_url)
        alice = await users(client_class=LedgerClient)
        await register(alice, SMS, phone=POOL[0])
        await alice.expect_presence(SMS, "subscribe")
        host = f"127.0.0.1:{gateway.webhook_port}"
        valid = inbound(new_sid(rng), body="the valid one")
        first = await send_raw("127.0.0.1", gateway.webhook_port,
                               signed_post(host, "/twilio/sms", valid))
        assert first.status == 200, first
        await alice.expect(lambda s: is_message(s, f"{CONTACT}@{SMS}", "the valid one"), 5)

        generator = Generator(rng, host, valid)
        batch = generator.batch(TOTAL - TRICKLED - STALLED, REPLAYS)
        stalled_opened = time.monotonic()
        stalled = [asyncio.ensure_future(_stalled(gateway.webhook_port, host, generator))
                   for _ in range(STALLED)]
        trickled = [asyncio.ensure_future(send_raw(
            "127.0.0.1", gateway.webhook_port, generator.forged(), chunk_delay=0.05, chunk=40,
            timeout=30)) for _ in range(TRICKLED)]
        gate = asyncio.Semaphore(16)

        async def one(raw: bytes) -> Answer:
            async with gate:
                return await send_raw("127.0.0.1", gateway.webhook_port, raw)

        started = time.monotonic()
        answers = await asyncio.gather(*(one(r.raw) for r in batch))
        trickled_answers = await asyncio.gather(*trickled)
        batch_seconds = time.monotonic() - started

        canary_started = time.monotonic()
        await standin.send_inbound(POOL[0], CONTACT, "canary")
        try:
            await alice.expect(lambda s: is_message(s, f"{CONTACT}@{SMS}", "canary"), 10)
            canary = time.monotonic() - canary_started
        except TimeoutError:
            canary = float("inf")
        stalled_closed = await asyncio.gather(*stalled)
        stalled_seconds = max(t - stalled_opened for t in stalled_closed)
        await asyncio.sleep(0.3)
        delivered = from_gateway(alice.drain())
        streams = gateway.streams()

        wrong: Counter[str] = Counter()
        examples: dict[str, str] = {}
        for request, answer in [*zip(batch, answers, strict=True),
                                *(("trickled", a) for a in trickled_answers)]:
            kind = request if isinstance(request, str) else request.kind
            if kind == "replay":
                expected = answer.status == 200
            elif kind == "trickled" and answer.error == CUT_OFF:
                # Headers still arriving after read_timeout: the server closes the
                # connection (as nginx's client_header_timeout does); a hang would time out.
                expected = True
            else:
                expected = answer.status is not None and 400 <= answer.status < 500
            if not expected:
                wrong[kind] += 1
                raw = b"" if isinstance(request, str) else request.raw
                examples.setdefault(kind, f"{answer.status} {answer.error} <- {raw[:160]!r}")
        statuses = Counter(a.status for a in [*answers, *trickled_answers])
        record("webhooks", requests=TOTAL, statuses=dict(sorted(statuses.items(), key=str)),
               answered_wrongly=dict(wrong), batch_seconds=f"{batch_seconds:.1f}",
               stalled_closed_after=f"{stalled_seconds:.1f} s",
               extra_deliveries=len(delivered), streams_closed=streams.closed,
               process_alive=gateway.alive, canary_latency=f"{canary:.2f} s")

        assert not wrong, f"answers that are not 4xx (200 for replays): {examples}"
        extra = [(sender(s), s.xml.get("type"), s["body"]) for s in delivered]
        assert not delivered, f"delivered beyond the valid one: {extra}"
        assert gateway.alive
        assert streams.closed == 0 and streams.established == dict.fromkeys(COMPONENTS, 1), \
            streams
        assert canary < CANARY_LIMIT, f"canary text took {canary:.2f} s"
        assert stalled_seconds < STALLED_LIMIT, \
            f"a stalled body held its connection for {stalled_seconds:.0f} s"


async def _stalled(port: int, host: str, generator: Generator) -> float:
    """Send headers and half a body, then nothing; when the server gave up on it."""
    raw = signed_post(host, "/twilio/sms", inbound(new_sid(generator.rng), "stalled"))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw[: len(raw) - 20])
    await writer.drain()
    try:
        await asyncio.wait_for(reader.read(), STALLED_LIMIT + 1)
    except TimeoutError:
        pass
    finally:
        writer.close()
    return time.monotonic()
