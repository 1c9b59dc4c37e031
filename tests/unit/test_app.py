"""The process entry: what ``serve`` does around the components' lifetime."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from transport.app import serve
from transport.config import load_settings
from transport.testing.servers.ports import free_port

CONFIG = """
[xmpp]
host = "127.0.0.1"
port = {port}
allowed_domains = ["example.org"]
reconnect_max_delay = 0.2

[database]
path = "state/t.sqlite3"

[echo]
jid = "echo.example.org"
secret = "s3cret-echo"
"""


async def _serve_until_started(tmp_path: Path, *, freeze: bool) -> int:
    """Run ``serve`` (no XMPP server listens: it keeps reconnecting) and return the
    collector's frozen count seen once the store exists."""
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(port=free_port()))
    stop = asyncio.Event()
    task = asyncio.ensure_future(serve(load_settings(path, env={}), stop,
                                       freeze_startup_objects=freeze))
    try:
        for _ in range(200):
            started = (tmp_path / "state" / "t.sqlite3").exists()
            if started and (gc.get_freeze_count() or not freeze):
                await asyncio.sleep(0.2)  # a freeze would have happened by now
                break
            await asyncio.sleep(0.01)
        return gc.get_freeze_count()
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        gc.unfreeze()


async def test_the_run_command_freezes_what_exists_once_started(tmp_path: Path) -> None:
    gc.unfreeze()
    assert await _serve_until_started(tmp_path, freeze=False) == 0
    assert await _serve_until_started(tmp_path, freeze=True) > 10_000
