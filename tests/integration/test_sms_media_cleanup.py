"""Media clean-up deletes only the files the gateway wrote, and a media directory that is or
contains the database's directory is refused at start-up."""

import asyncio
import os
import time

import pytest
from test_sms_support import (
    CONTACT,
    GW,
    POOL,
    SECRET,
    contact_jid,
    registered,
    sms_options,
    wait_until,
)

from transport.app import Application
from transport.core.errors import StartupError
from transport.testing.gateway import ComponentSpec

pytest_plugins = ("test_sms_support",)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
DAYS = 86400.0


async def test_cleanup_leaves_files_it_did_not_write(sms_gateway, users, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    foreign = {
        "notes.txt": b"the admin's",
        "A" * 32 + ".png": b"our naming pattern, but no row of ours",
        ".hidden": b"x",
    }
    for name, data in foreign.items():
        (media / name).write_bytes(data)
        old = time.time() - 30 * DAYS
        os.utime(media / name, (old, old))
    async with sms_gateway(media={"expire_after": 1}) as gw:
        alice = await registered(users)
        await gw.text(POOL[0], CONTACT, "", media=[(PNG, "image/png")])
        url = (await alice.expect_message(sender=contact_jid(CONTACT)))["body"]
        ours = media / url.rsplit("/", 1)[1]
        assert ours.is_file()
        await wait_until(lambda: not ours.exists(), timeout=5)
        for _ in range(100):  # the row goes right after the file
            if await gw.backend.repo.count_media() == 0:
                break
            await asyncio.sleep(0.02)
        assert await gw.backend.repo.count_media() == 0
    assert {p.name: p.read_bytes() for p in media.iterdir()} == foreign


@pytest.mark.parametrize("where", [".", ".."])
async def test_a_media_dir_holding_the_database_is_refused(gateway_settings, standin, where):
    spec = ComponentSpec("sms", GW, SECRET, sms_options(standin, media={"dir": where}))
    settings = gateway_settings(component=spec)
    app = Application(settings)
    try:
        with pytest.raises(StartupError) as refused:
            await app.start()
    finally:
        await app.stop()
    assert refused.value.key == "sms.media.dir"
    assert "is or contains the database's directory" in refused.value.cause
    assert settings.database.path.exists(), "the database is still there"
