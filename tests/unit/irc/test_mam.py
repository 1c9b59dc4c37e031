"""The channel archive behind the MUC service: what users see of each line, join history."""

from __future__ import annotations

import pytest

from transport.backends.irc.contracts import ArchivedLine, HistoryRequest
from transport.backends.irc.history.archive import ChannelArchive
from transport.backends.irc.history.room_archive import ChannelHistoryArchive, line_to_body
from transport.backends.irc.schema import MIGRATIONS
from transport.store import Store
from transport.xmpp.muc.mam import parse_time
from transport.xmpp.muc.sequence import history_message, stamp, stanza_chars, within_chars

ROOM = "#foo%irc.example.org@irc.localhost"
KEY = "#foo%irc.example.org"
SRV = "irc.example.org"
T0 = 1_700_000_000.0
FULL = "alice@localhost/phone"


def line(kind="message", body="hi", nick="carol", ts=T0, uid="ab" * 16):
    return ArchivedLine(uid, SRV, "#foo", nick, kind, body, ts)


def test_line_to_body():
    assert line_to_body(line()) == "hi"
    assert line_to_body(line("action", "waves")) == "/me waves"
    assert line_to_body(line("notice", "hello")) == "[notice] hello"
    assert line_to_body(line(body="bad\x00\x03chars\x1b here\ud800")) == "badchars here"


@pytest.fixture
async def archive(tmp_path):
    store = await Store.open(tmp_path / "gw.sqlite3", extra_migrations={"irc": MIGRATIONS})
    made = ChannelArchive(store.backend_storage("irc"), "irc.localhost", clock=lambda: T0 + 100)
    await made.start()
    await made.opened("alice@localhost", SRV, "#foo", T0)
    yield made
    await made.stop()
    await store.close()


async def history_messages(archive, request, limit=20):
    """The join history as the MUC service sends it to ``FULL``."""

    async def replay_limit(user, room):
        return limit

    rooms = ChannelHistoryArchive(archive, lambda room: (SRV, "#foo"), replay_limit)
    lines = await rooms.join_history("alice@localhost", KEY, request)
    messages = [history_message(entry, ROOM, FULL) for entry in lines]
    return within_chars(messages, request.maxchars) if request.maxchars else messages


async def test_history_messages(archive):
    uids = [archive.record(SRV, "#foo", "carol", kind, body, T0 + i)
            for i, (kind, body) in enumerate([("message", "one"), ("action", "two"),
                                              ("notice", "three")])]
    messages = await history_messages(archive, HistoryRequest())
    assert [m.body for m in messages] == ["one", "/me two", "[notice] three"]
    first = messages[0]
    assert (first.to, first.sender, first.type) == (FULL, f"{ROOM}/carol", "groupchat")
    assert (first.id, first.delay, first.stanza_id_by) == (uids[0], T0, ROOM)
    assert await history_messages(archive, HistoryRequest(), limit=0) == []


async def test_history_messages_maxchars_counts_stanzas(archive):
    for i in range(5):
        archive.record(SRV, "#foo", "carol", "message", f"line {i}", T0 + i)
    everything = await history_messages(archive, HistoryRequest())
    size = stanza_chars(everything[-1])
    assert size > 150  # a stanza is far more than its body
    two = await history_messages(archive, HistoryRequest(maxchars=2 * size + 5))
    assert [m.body for m in two] == ["line 3", "line 4"]


async def test_a_delay_stamp_used_as_start_finds_its_line(archive):
    archive.record(SRV, "#foo", "carol", "message", "earlier", T0 + 1.0000004)
    uid = archive.record(SRV, "#foo", "carol", "message", "this one", T0 + 1.0000006)
    page = await archive.query("alice@localhost", SRV, "#foo")
    start = parse_time(stamp(page.lines[1].timestamp))
    page = await archive.query("alice@localhost", SRV, "#foo", start=start)
    assert [entry.uid for entry in page.lines] == [uid]
