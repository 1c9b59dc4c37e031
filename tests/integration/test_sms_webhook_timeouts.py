"""Slow webhook clients: a stalled or trickled request ends in 408 or a closed connection
within ``read_timeout``, while good webhooks are served meanwhile and after."""

import asyncio
import contextlib
import time
from urllib.parse import urlencode

from test_sms_support import (
    CONTACT,
    POOL,
    contact_jid,
    inbound_params,
    new_sid,
    registered,
    signed_post,
)

pytest_plugins = ("test_sms_support",)

READ_TIMEOUT = 0.5
# The server's deadline, a second of lingering after an early answer, and slack for a
# loaded machine: past this, the connection was held too long.
HELD_AT_MOST = READ_TIMEOUT + 1.0 + 2.0


async def open_slow(port: int, head: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    return reader, writer


def request_head(body_length: int) -> bytes:
    headers, _ = signed_post(inbound_params(new_sid()))
    lines = ["POST /twilio/sms HTTP/1.1", "Host: 127.0.0.1",
             f"Content-Length: {body_length}",
             *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def answer_and_close(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (a reset or a broken
    pipe seen by our own writer also means it was closed)."""
    try:
        return await asyncio.wait_for(reader.read(), HELD_AT_MOST)
    except ConnectionError:
        return b""


async def test_stalled_and_trickled_requests_time_out_while_good_ones_are_served(
    sms_gateway, users
):
    async with sms_gateway(webhook={"read_timeout": READ_TIMEOUT}) as gw:
        alice = await registered(users)
        port = gw.backend.webhook.port
        params = inbound_params(new_sid(), body="never complete")
        body = urlencode(params).encode()
        started = time.monotonic()

        stalled_body = await open_slow(port, request_head(len(body)) + body[:10])
        stalled_head = await open_slow(port, b"POST /twilio/sms HTTP/1.1\r\nHost: 127")
        silent = await open_slow(port, b"")
        trickled = await open_slow(port, request_head(len(body)))
        trickled_head = await open_slow(port, b"")

        async def trickle(writer: asyncio.StreamWriter, data: bytes) -> None:
            with contextlib.suppress(ConnectionError):  # the server closes it, as it should
                for byte in data:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(0.05)

        trickling = [asyncio.ensure_future(trickle(trickled[1], body[:-1])),
                     asyncio.ensure_future(trickle(trickled_head[1], request_head(len(body))))]
        # Read the answers as they come: once the server closes a connection we still write
        # to, our reader reports the broken pipe instead of what it had buffered.
        status_lines = [asyncio.ensure_future(reader.readline())
                        for reader, _ in (stalled_body, trickled)]
        try:
            await gw.text(POOL[0], CONTACT, "served meanwhile")
            assert (await alice.expect_message(sender=contact_jid(CONTACT)))["body"] == \
                "served meanwhile"
            for line in await asyncio.wait_for(asyncio.gather(*status_lines), HELD_AT_MOST):
                assert line.startswith(b"HTTP/1.1 408 "), line
            await answer_and_close(stalled_body[0])
            await answer_and_close(trickled[0])
            assert await answer_and_close(stalled_head[0]) == b""
            assert await answer_and_close(trickled_head[0]) == b""
            assert await answer_and_close(silent[0]) == b""
            assert time.monotonic() - started < HELD_AT_MOST
        finally:
            for task in (*trickling, *status_lines):
                task.cancel()
            for _, writer in (stalled_body, stalled_head, silent, trickled, trickled_head):
                writer.close()

        await gw.text(POOL[0], CONTACT, "served after")
        assert (await alice.expect_message(sender=contact_jid(CONTACT)))["body"] == \
            "served after"
        assert not [s for s in alice.drain() if s.name == "message"], "the slow ones: nothing"
