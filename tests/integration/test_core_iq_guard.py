"""Hostile IQs through a real Prosody: each gets exactly one answer with the right condition.

Before, an RSM ``<max>x</max>`` came back as ``undefined-condition``, a ``to`` failing
resourceprep was answered by chance, and a 3,000-deep payload closed the component's
stream (RecursionError while copying it into the reply).
"""

from __future__ import annotations

import asyncio

import pytest
from iq_answers import AnswerLog

from transport.testing.xmpp_steps import register, send_chat
from transport.xmpp.stanzas import error_condition

pytestmark = pytest.mark.timeout(60)

GW = "echo.localhost"
BOB = f"bob@{GW}"
COMMANDS = "http://jabber.org/protocol/commands"
DEEP = "<a xmlns='urn:example:deep'>" * 3000 + "</a>" * 3000


async def test_hostile_iqs_get_one_answer_each(gateway, users):
    alice = await users()
    log = AnswerLog(alice)
    component = gateway.runtimes[0].xmpp
    drops: list[object] = []
    component.add_event_handler("disconnected", drops.append)

    alice.send_raw(f"<iq type='get' id='rsm' to='{BOB}'>"
                   "<query xmlns='http://jabber.org/protocol/disco#items'>"
                   "<set xmlns='http://jabber.org/protocol/rsm'><max>x</max></set></query></iq>")
    alice.send_raw(f"<iq type='get' id='deep' to='{GW}'>{DEEP}</iq>")
    alice.send_raw(f"<iq type='get' id='resource' to='{BOB}/\u0221'>"
                   "<ping xmlns='urn:xmpp:ping'/></iq>")
    alice.send_raw(f"<iq type='get' id='unknown' to='{GW}'><q xmlns='urn:example:none'/></iq>")
    alice.send_raw(f"<iq type='set' id='info-set' to='{GW}'>"
                   "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    alice.send_raw(f"<iq type='result' id='unsolicited' to='{GW}'><q xmlns='urn:x'/></iq>")
    await log.settle(GW)

    assert log.condition("rsm") == "bad-request"
    assert log.condition("deep") == "bad-request"
    assert log.condition("resource") == "jid-malformed"
    assert log.only("resource").xml.get("from") == f"{BOB}/\u0221"
    assert log.condition("unknown") == "service-unavailable"
    assert log.condition("info-set") == "feature-not-implemented"
    assert "unsolicited" not in log.by_id
    assert drops == [] and component.online.is_set()


async def test_an_ad_hoc_form_with_a_wrong_field_type_is_a_bad_request(gateway, users):
    admin = await users(name="admin")
    log = AnswerLog(admin)
    admin.send_raw(f"<iq type='set' id='start' to='{GW}'><command xmlns='{COMMANDS}' "
                   "node='unregister-user' action='execute'/></iq>")
    await log.settle(GW)
    session = log.only("start").xml.find(f"{{{COMMANDS}}}command").get("sessionid")
    admin.send_raw(f"<iq type='set' id='submit' to='{GW}'><command xmlns='{COMMANDS}' "
                   f"node='unregister-user' sessionid='{session}'>"
                   "<x xmlns='jabber:x:data' type='submit'><field var='jid' type='list-multi'>"
                   "<value>a@localhost</value><value>b@localhost</value></field></x>"
                   "</command></iq>")
    await log.settle(GW)
    assert log.condition("submit") == "bad-request"


async def test_canary_after_the_barrage(gateway, users):
    """A stream that took a barrage of deep payloads still relays a message both ways."""
    alice = await users()
    await register(alice, GW, username=alice.boundjid.user)
    log = AnswerLog(alice)
    for n in range(5):
        alice.send_raw(f"<iq type='get' id='d{n}' to='{GW}'>{DEEP}</iq>")
    await log.settle(GW)
    assert [error_condition(log.only(f"d{n}")) for n in range(5)] == ["bad-request"] * 5
    started = asyncio.get_running_loop().time()
    send_chat(alice, BOB, "canary")
    await alice.expect_message(BOB, body="canary", timeout=5)
    assert asyncio.get_running_loop().time() - started < 5
