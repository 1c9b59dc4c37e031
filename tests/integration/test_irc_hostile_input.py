"""Hostile input on the IRC component, through a real Prosody and a real ngIRCd.

A channel LIST answered as disco#items once carried mIRC formatting (``\\x02``, ``\\x03``)
and Latin-1 topics (lone surrogates) into the reply: Prosody closed the component stream
for every user, or slixmpp failed in its send queue and the query was never answered.
RSM and MAM payloads that break their schema get ``bad-request``, once.
"""

from __future__ import annotations

import pytest
from iq_answers import AnswerLog
from test_irc_support import GW, HOST, join, nick_jid, room, unique

from transport.testing.xmpp_steps import send_chat

pytest_plugins = ("test_irc_support",)
pytestmark = pytest.mark.timeout(60)
SERVER = f"{HOST}@{GW}"
FORMATTED = "\x02bold\x02 \x0304,12red\x03 \x1funder\x1f \x1dit\x1d \x16rev\x16 \x0fplain\x01 end"


async def test_channel_list_with_formatted_and_latin1_topics(irc_gateway, users, peers, ngircd):
    owner = await peers(ngircd)
    formatted, latin1 = unique("#fmt"), unique("#lat")
    for channel in (formatted, latin1):
        await owner.join(channel)
    await owner.send(f"TOPIC {formatted} :{FORMATTED}")
    await owner.conn.send_line(f"TOPIC {latin1} :caf\xe9 cr\xe8me".encode("latin-1"))
    await owner.wait(lambda e: e.command == "TOPIC" and e.param(0) == latin1)
    component = irc_gateway.runtimes[0].xmpp
    drops: list[object] = []
    component.add_event_handler("disconnected", drops.append)

    alice = await users()
    iq = alice.make_iq_get(queryxmlns="http://jabber.org/protocol/disco#items", ito=SERVER)
    result = await alice.query(iq, timeout=20)
    names = {jid.split("%")[0]: name for jid, _node, name in result["disco_items"]["items"]}
    assert names[formatted.lower()] == f"{formatted} (1): bold red under it rev plain end"
    assert names[latin1.lower()] == f"{latin1} (1): caf\u00e9 cr\u00e8me"

    canary = await peers(ngircd)
    send_chat(alice, nick_jid(canary.nick), "canary")
    assert await canary.privmsgs(canary.nick, 1) == ["canary"]
    assert drops == [] and component.online.is_set()


async def test_rsm_and_mam_payloads_that_break_their_schema(irc_gateway, users, peers, ngircd):
    owner = await peers(ngircd)
    channel = unique("#rsm")
    await owner.join(channel)
    alice = await users()
    await join(alice, room(channel), "alicersm")
    log = AnswerLog(alice)
    rsm = "<set xmlns='http://jabber.org/protocol/rsm'><max>x</max></set>"
    alice.send_raw(f"<iq type='get' id='items' to='{SERVER}'>"
                   f"<query xmlns='http://jabber.org/protocol/disco#items'>{rsm}</query></iq>")
    alice.send_raw(f"<iq type='set' id='mam-max' to='{room(channel)}'>"
                   f"<query xmlns='urn:xmpp:mam:2'>{rsm}</query></iq>")
    alice.send_raw(f"<iq type='set' id='mam-date' to='{room(channel)}'>"
                   "<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'>"
                   "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>"
                   "<field var='start'><value>yesterday-ish</value></field></x></query></iq>")
    await log.settle(GW)
    for iq_id in ("items", "mam-max", "mam-date"):
        assert log.condition(iq_id) == "bad-request", iq_id
