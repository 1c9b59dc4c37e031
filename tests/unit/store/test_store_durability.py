"""An awaited write survives the process being killed right after it returned."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from transport.store import Store

CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from transport.core.events import XmppMessage
    from transport.store import Store

    async def main() -> None:
        store = await Store.open(sys.argv[1], synchronous=sys.argv[2])
        await store.users.upsert("sms.test", "alice@example.org", "+12125550142", {})
        messages = [
            XmppMessage(to="alice@example.org", sender="+12125550143@sms.test", body=str(i))
            for i in range(100)
        ]
        await asyncio.gather(
            *(store.xmpp_queue.enqueue("sms.test", [m], dedupe_key=m.body) for m in messages)
        )
        print("ok", flush=True)
        time.sleep(60)  # blocks the loop: nothing more can happen before the kill

    asyncio.run(main())
    """
)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("synchronous", ["full", "normal"])
async def test_awaited_writes_survive_sigkill(tmp_path: Path, synchronous: str) -> None:
    path = tmp_path / "killed.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), synchronous],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 30)
        assert line.strip() == "ok"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()

    store = await Store.open(path)
    try:
        user = await store.users.get("sms.test", "alice@example.org")
        assert user is not None and user.legacy_key == "+12125550142"
        queued = await store.xmpp_queue.pending("sms.test", limit=1000)
        assert sorted(int(q.message.body or "") for q in queued) == list(range(100))
    finally:
        await store.close()
