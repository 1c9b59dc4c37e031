"""Queued events become the stanzas clients expect (no server needed).

What the gateway sends is ``render_message``'s text; it is read back here through
slixmpp's stanza interfaces, as a client library would read it.
"""

from xml.etree import ElementTree as ET

import pytest
from slixmpp import Iq, Message

from transport.core.events import MucInvite, StanzaErrorInfo, XmppMessage
from transport.xmpp.component import GatewayComponent
from transport.xmpp.namespaces import COMPONENT, MUC_USER, STANZAS
from transport.xmpp.namespaces import LEGACY_ERROR as LEGACY_ERROR_NS
from transport.xmpp.render import render_message
from transport.xmpp.stanzas import error_condition, set_error


@pytest.fixture
def xmpp():
    return GatewayComponent("sms.localhost", "secret", "127.0.0.1", 1)


def build_message(xmpp: GatewayComponent, event: XmppMessage) -> Message:
    """The message the gateway sends for ``event``, parsed into a slixmpp stanza."""
    rendered = render_message(event).replace("<message ", f'<message xmlns="{COMPONENT}" ', 1)
    return Message(xmpp, xml=ET.fromstring(rendered))


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


async def test_invite_is_a_muc_user_x(xmpp):
    msg = build_message(xmpp, XmppMessage(
        to="a@localhost", sender="#c%h@irc.localhost", type="normal",
        invite=MucInvite("n%h@irc.localhost", "join us", "secret")))
    invite = msg.xml.find(f"{{{MUC_USER}}}x/{{{MUC_USER}}}invite")
    assert invite is not None and invite.get("from") == "n%h@irc.localhost"
    assert invite.findtext(f"{{{MUC_USER}}}reason") == "join us"
    assert msg.xml.findtext(f"{{{MUC_USER}}}x/{{{MUC_USER}}}password") == "secret"


async def test_set_error_writes_any_condition_once(xmpp):
    iq = Iq(xmpp, stype="get", sto="a@localhost", sfrom="b@sms.localhost", sid="q1")
    reply = iq.reply(clear=False)
    set_error(reply, StanzaErrorInfo("service-unavailable", "first"))
    set_error(reply, StanzaErrorInfo("policy-violation", "Filtered", "modify", "30007"))
    assert reply["type"] == "error" and error_condition(reply) == "policy-violation"
    errors = reply.xml.findall(f"{{{COMPONENT}}}error")
    assert len(errors) == 1 and errors[0].get("type") == "modify"
    assert reply["error"]["text"] == "Filtered (error 30007)"
    code = errors[0].find(f"{{{LEGACY_ERROR_NS}}}legacy-error")
    assert code is not None and code.get("code") == "30007"
    assert f'<error type="modify"><policy-violation xmlns="{STANZAS}" />' in str(reply)


async def test_json_round_trip_keeps_every_field():
    original = XmppMessage(to="a@localhost", sender="b@x", type="error", body="b", id="i",
                           subject="s", oob_url="u", receipt_for="r", request_receipt=True,
                           delay=1.5, stanza_id_by="by", nick="n",
                           error=StanzaErrorInfo("c", "t", "wait", "1"), stanza_id="sid",
                           invite=MucInvite("x@y", "r", "p"))
    assert XmppMessage.from_json(original.to_json()) == original


async def test_nick_is_a_xep_0172_element(xmpp):
    msg = build_message(xmpp, XmppMessage(to="a@localhost", sender="b@sms.localhost", body="x",
                                          nick="Bob <b>"))
    nick = msg.xml.find("{http://jabber.org/protocol/nick}nick")
    assert nick is not None and nick.text == "Bob <b>"
    assert "<nick xmlns=\"http://jabber.org/protocol/nick\">Bob &lt;b&gt;</nick>" in str(msg)
