"""Leaving a channel and joining it again before IRC echoed the PART: the echo of the old
PART must not end the new membership (nor turn the new JOIN's echo into a join the server
forced, which left the gateway in a channel no resource was in)."""

from __future__ import annotations

import pytest
from test_irc_support import MUC, codes, join, room, unique

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(60)


async def test_leave_and_join_again_in_one_breath(irc_gateway, users, ngircd):
    channel = unique("#breath")
    name = unique("breather")
    phone = await users(name=name, resource="phone")
    room_jid = room(channel)
    await join(phone, room_jid, name, history={"maxstanzas": "0"})
    phone.send_raw(f"<presence type='unavailable' to='{room_jid}/{name}'/>"
                   f"<presence to='{room_jid}/{name}'><x xmlns='{MUC}'>"
                   "<history maxstanzas='0'/></x></presence>")
    gone = await phone.expect(lambda s: s.name == "presence" and s["type"] == "unavailable"
                              and s["from"].bare == room_jid)
    assert "110" in codes(gone)
    back = await phone.expect(lambda s: s.name == "presence" and s["type"] != "unavailable"
                              and s["from"].bare == room_jid and "110" in codes(s))
    assert back["from"].resource == name

    def late(s):
        return s["from"].bare == room_jid and (s["type"] == "unavailable" or s.xml.find(
            ".//{http://jabber.org/protocol/muc#user}invite") is not None)

    with pytest.raises(TimeoutError):  # the echoes of the PART and the JOIN come meanwhile
        found = await phone.expect(late, timeout=1.0)
        pytest.fail(f"the old PART's echo ended the new membership: {found}")
    backend = irc_gateway.runtimes[0].gateway.backend
    session = next(s for (user, _), s in backend.manager.sessions.items()
                   if user == str(phone.boundjid.bare))
    [joined] = session.channels.values()
    assert joined.joined and joined.in_use
