"""The background lane (answers the gateway sends on its own): short, paced like every
line, and written only while no other line waits; and the per-nick allowance behind it."""

from __future__ import annotations

import asyncio

from transport.backends.irc.protocol.ratelimit import PerKeyLimit, TokenBucket

from .test_irc_wire_batching import open_wire


async def test_background_lines_wait_behind_every_other_line_and_are_bounded() -> None:
    wire, transport = open_wire(TokenBucket(20, 1))
    accepted = [wire.enqueue_background(f"NOTICE bob :{i}".encode(), 4) for i in range(6)]
    assert accepted == [True] * 4 + [False] * 2, "past the limit, answers are dropped"
    await asyncio.sleep(0.01)  # the writer took the one token for the first answer
    mine = [wire.enqueue(f"PRIVMSG #a :{i}".encode()) for i in range(3)]
    await asyncio.wait_for(asyncio.gather(*mine), 2)
    sent = b"".join(transport.writes).decode().split("\r\n")
    assert sent[:4] == ["NOTICE bob :0", "PRIVMSG #a :0", "PRIVMSG #a :1", "PRIVMSG #a :2"]
    for _ in range(100):
        if b"NOTICE bob :3" in b"".join(transport.writes):
            break
        await asyncio.sleep(0.02)
    sent = b"".join(transport.writes).decode().split("\r\n")
    assert sent[4:7] == ["NOTICE bob :1", "NOTICE bob :2", "NOTICE bob :3"]
    wire.close()
    assert not wire.enqueue_background(b"NOTICE bob :late", 4)


async def test_a_line_queued_while_an_answer_awaits_its_token_takes_the_token() -> None:
    bucket = TokenBucket(5, 1)
    wire, transport = open_wire(bucket)
    await bucket.acquire()  # empty: the answer's writer now waits 0.2 s for a token
    assert wire.enqueue_background(b"NOTICE bob :answer", 4)
    await asyncio.sleep(0.05)
    mine = wire.enqueue(b"PRIVMSG #a :typed")
    await asyncio.wait_for(mine, 2)
    assert b"".join(transport.writes).startswith(b"PRIVMSG #a :typed\r\n")
    wire.close()


def test_per_key_limit_allows_a_burst_per_key_then_refills() -> None:
    now = [0.0]
    limit = PerKeyLimit(rate=0.5, burst=2, keys=2, clock=lambda: now[0])
    assert [limit.allow("bob") for _ in range(3)] == [True, True, False]
    assert limit.allow("carol"), "each key has its own allowance"
    now[0] = 2.0  # one token back for bob
    assert limit.allow("bob") and not limit.allow("bob")
    limit.allow("dave")  # a third key: the least recently seen (carol) is forgotten
    assert limit.allow("carol") and limit.allow("carol")
