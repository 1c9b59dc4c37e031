"""Queued events become the stanzas clients expect (no server needed)."""

import pytest

from transport.core.events import StanzaErrorInfo, XmppMessage
from transport.xmpp.component import GatewayComponent
from transport.xmpp.stanzas import LEGACY_ERROR_NS, build_message, error_condition


@pytest.fixture
def xmpp():
    return GatewayComponent("sms.localhost", "secret", "127.0.0.1", 1)


async def test_chat_message_has_explicit_from_and_origin_id(xmpp):
    msg = build_message(xmpp, XmppMessage(to="alice@localhost", sender="+12125550142@sms.localhost",
                                          body="hi", id="abc"))
    assert msg["from"] == "+12125550142@sms.localhost"
    assert msg["type"] == "chat" and msg["id"] == "abc"
    assert msg["origin_id"]["id"] == "abc"
    assert msg["body"] == "hi"


async def test_attachment_body_equals_oob_url(xmpp):
    url = "https://gw.example.org/media/x.jpg"
    msg = build_message(xmpp, XmppMessage(to="a@localhost", sender="b@sms.localhost", body=url,
                                          oob_url=url, id="1"))
    assert msg["oob"]["url"] == url == msg["body"]


async def test_error_carries_condition_text_and_legacy_code(xmpp):
    msg = build_message(xmpp, XmppMessage(
        to="a@localhost/phone", sender="b@sms.localhost", type="error", id="orig",
        error=StanzaErrorInfo("forbidden", "Recipient opted out", "auth", "21610")))
    assert msg["type"] == "error" and msg["id"] == "orig"
    assert msg["error"]["condition"] == "forbidden"
    assert msg["error"]["type"] == "auth"
    assert msg["error"]["text"] == "Recipient opted out (error 21610)"
    code = msg.xml.find(f".//{{{LEGACY_ERROR_NS}}}legacy-error")
    assert code is not None and code.get("code") == "21610"
    assert msg.xml.find("{urn:xmpp:sid:0}origin-id") is None


async def test_conditions_slixmpp_does_not_list_are_kept(xmpp):
    msg = build_message(xmpp, XmppMessage(
        to="a@localhost/phone", sender="b@sms.localhost", type="error", id="orig",
        error=StanzaErrorInfo("policy-violation", "Filtered", "modify", "30007")))
    assert error_condition(msg) == "policy-violation"
    assert len(msg.xml.findall("{*}error/{urn:ietf:params:xml:ns:xmpp-stanzas}*")) == 2


async def test_delay_receipt_and_stanza_id(xmpp):
    msg = build_message(xmpp, XmppMessage(
        to="a@localhost", sender="#c%irc.x@irc.localhost/nick", type="groupchat", body="x",
        id="s1", delay=0.0, stanza_id_by="#c%irc.x@irc.localhost", receipt_for=None))
    assert msg["delay"]["stamp"].year == 1970
    assert msg["delay"]["from"] == "irc.localhost"
    assert msg["stanza_id"]["by"] == "#c%irc.x@irc.localhost"
    receipt = build_message(xmpp, XmppMessage(to="a@localhost", sender="b@x", receipt_for="m1"))
    assert receipt.xml.find("{urn:xmpp:receipts}received").get("id") == "m1"


async def test_extra_xml_is_appended(xmpp):
    msg = build_message(xmpp, XmppMessage(
        to="a@localhost", sender="b@x", body="x",
        extra_xml=("<x xmlns='http://jabber.org/protocol/muc#user'><status code='104'/></x>",)))
    assert msg.xml.find("{http://jabber.org/protocol/muc#user}x/"
                        "{http://jabber.org/protocol/muc#user}status").get("code") == "104"


async def test_json_round_trip_keeps_every_field():
    original = XmppMessage(to="a@localhost", sender="b@x", type="error", body="b", id="i",
                           subject="s", oob_url="u", receipt_for="r", request_receipt=True,
                           delay=1.5, stanza_id_by="by", nick="n",
                           error=StanzaErrorInfo("c", "t", "wait", "1"), extra_xml=("<a/>",))
    assert XmppMessage.from_json(original.to_json()) == original


async def test_nick_is_a_xep_0172_element(xmpp):
    msg = build_message(xmpp, XmppMessage(to="a@localhost", sender="b@sms.localhost", body="x",
                                          nick="Bob <b>"))
    nick = msg.xml.find("{http://jabber.org/protocol/nick}nick")
    assert nick is not None and nick.text == "Bob <b>"
    assert "<nick xmlns=\"http://jabber.org/protocol/nick\">Bob &lt;b&gt;</nick>" in str(msg)
