"""MAM semantics of ``ChannelArchive.query``: filters, RSM paging both ways, counts, errors.

The 150-line cases follow biboumi's ``default_mam_limit`` and ``simple_mam`` scenarios.
"""

from __future__ import annotations

import pytest

from transport.backends.irc.history.archive import ChannelArchive
from transport.backends.irc.schema import MIGRATIONS
from transport.store import Store

GW = "irc.localhost"
SRV = "irc.example.org"
CHAN = "#foo"
ALICE = "alice@localhost"
T0 = 1_700_000_000.0


@pytest.fixture
async def archive(tmp_path):
    store = await Store.open(tmp_path / "gw.sqlite3", extra_migrations={"irc": MIGRATIONS})
    made = ChannelArchive(store.backend_storage("irc"), GW, clock=lambda: T0 - 10)
    await made.start()
    await made.opened(ALICE, SRV, CHAN, T0)
    yield made
    await made.stop()
    await store.close()


@pytest.fixture
async def lines150(archive):
    """Lines "0".."149", one a second from T0+1; returns their uids."""
    return [archive.record(SRV, CHAN, "nick" if i % 2 else "Other", "message", str(i),
                           T0 + 1 + i) for i in range(150)]


async def page_of(archive, **kwargs):
    page = await archive.query(ALICE, SRV, CHAN, **kwargs)
    return [int(line.body) for line in page.lines], page


async def test_without_rsm_the_oldest_100_and_not_complete(archive, lines150):
    got, page = await page_of(archive)
    assert got == list(range(100))
    assert not page.complete and page.count == 150 and page.first_index == 0
    got, page = await page_of(archive, after=page.lines[-1].uid)
    assert got == list(range(100, 150))
    assert page.complete and page.count == 150 and page.first_index == 100


async def test_max_over_100_is_capped(archive, lines150):
    got, page = await page_of(archive, max_results=1000)
    assert len(got) == 100 and not page.complete


async def test_before_empty_is_the_last_page(archive, lines150):
    got, page = await page_of(archive, before="")
    assert got == list(range(50, 150))
    assert not page.complete and page.first_index == 50 and page.count == 150


async def test_paging_backward_with_before(archive, lines150):
    got, page = await page_of(archive, before=lines150[149], max_results=2)
    assert got == [147, 148] and not page.complete and page.first_index == 147
    got, page = await page_of(archive, before=lines150[2], max_results=10)
    assert got == [0, 1] and page.complete and page.first_index == 0


async def test_walking_the_whole_archive_backward(archive, lines150):
    seen: list[int] = []
    before = ""
    while True:
        got, page = await page_of(archive, before=before, max_results=40)
        seen = got + seen
        if page.complete:
            break
        before = page.lines[0].uid
    assert seen == list(range(150))


async def test_paging_forward_with_after(archive, lines150):
    got, page = await page_of(archive, after=lines150[10], max_results=5)
    assert got == [11, 12, 13, 14, 15] and not page.complete and page.first_index == 11
    got, page = await page_of(archive, after=lines150[147], max_results=5)
    assert got == [148, 149] and page.complete
    got, page = await page_of(archive, after=lines150[149])
    assert got == [] and page.complete and page.first_index is None and page.count == 150


async def test_max_zero_gives_the_count_only(archive, lines150):
    got, page = await page_of(archive, before="", max_results=0)
    assert got == [] and not page.complete and page.count == 150


async def test_start_and_end(archive, lines150):
    got, page = await page_of(archive, start=T0 + 11, end=T0 + 20)
    assert got == list(range(10, 20)) and page.complete and page.count == 10
    got, page = await page_of(archive, end=T0 - 1000)
    assert got == [] and page.complete and page.count == 0
    got, page = await page_of(archive, start=T0 + 10**9)
    assert got == [] and page.complete
    got, page = await page_of(archive, start=T0 + 141)
    assert got == list(range(140, 150)) and page.complete


async def test_start_end_with_paging(archive, lines150):
    got, page = await page_of(archive, start=T0 + 11, end=T0 + 30, max_results=5)
    assert got == [10, 11, 12, 13, 14] and page.count == 20 and page.first_index == 0
    got, page = await page_of(archive, start=T0 + 11, end=T0 + 30, after=page.lines[-1].uid,
                              max_results=5)
    assert got == [15, 16, 17, 18, 19] and page.first_index == 5
    got, page = await page_of(archive, start=T0 + 11, end=T0 + 30, before="", max_results=3)
    assert got == [27, 28, 29] and page.first_index == 17 and not page.complete


async def test_with_filters_by_nick_case_insensitively(archive, lines150):
    got, page = await page_of(archive, with_nick="other", max_results=3)
    assert got == [0, 2, 4] and not page.complete
    got, page = await page_of(archive, with_nick="other", after=page.lines[-1].uid)
    assert got == list(range(6, 150, 2)) and page.complete
    got, page = await page_of(archive, with_nick="NICK", before="", max_results=2)
    assert got == [147, 149] and not page.complete
    # Counting lines by nick would need a scan: count and index are left out.
    assert page.count is None and page.first_index is None
    got, page = await page_of(archive, with_nick="nobody")
    assert got == [] and page.complete


async def test_unknown_uid_raises_key_error(archive, lines150):
    for uid in ("DUMMY_ID", "00" * 16, "0" * 33):
        with pytest.raises(KeyError):
            await archive.query(ALICE, SRV, CHAN, after=uid)
        with pytest.raises(KeyError):
            await archive.query(ALICE, SRV, CHAN, before=uid)
    other = archive.record(SRV, "#other", "x", "message", "elsewhere", T0 + 500)
    with pytest.raises(KeyError):
        await archive.query(ALICE, SRV, CHAN, after=other)
    with pytest.raises(KeyError):
        await archive.query(ALICE, SRV, "#never-seen", after=lines150[0])


async def test_paging_across_several_windows(archive):
    def say(i):
        return archive.record(SRV, CHAN, "n", "message", str(i), T0 + 1 + i)

    for i in range(10):
        say(i)
    await archive.closed(ALICE, SRV, CHAN, T0 + 10.5)  # saw 0..9
    for i in range(10, 20):
        say(i)  # away
    await archive.opened(ALICE, SRV, CHAN, T0 + 21)
    for i in range(20, 30):
        say(i)  # saw 20..29
    got, page = await page_of(archive, max_results=7)
    assert got == [0, 1, 2, 3, 4, 5, 6] and page.count == 20
    got, page = await page_of(archive, after=page.lines[-1].uid, max_results=7)
    assert got == [7, 8, 9, 20, 21, 22, 23] and page.first_index == 7
    got, page = await page_of(archive, before=page.lines[0].uid, max_results=3)
    assert got == [4, 5, 6] and page.first_index == 4
    got, page = await page_of(archive, before="", max_results=12)
    assert got == [8, 9, *range(20, 30)] and page.first_index == 8 and not page.complete
    got, page = await page_of(archive, start=T0 + 5, end=T0 + 25)
    assert got == [4, 5, 6, 7, 8, 9, 20, 21, 22, 23, 24] and page.count == 11


async def test_lines_with_equal_timestamps_keep_their_order(archive):
    uids = [archive.record(SRV, CHAN, "n", "message", str(i), T0 + 5) for i in range(6)]
    got, page = await page_of(archive, max_results=4)
    assert got == [0, 1, 2, 3]
    got, page = await page_of(archive, after=uids[3])
    assert got == [4, 5] and page.first_index == 4
    got, page = await page_of(archive, before=uids[3], max_results=2)
    assert got == [1, 2] and page.first_index == 1
