"""The pump's direct rendering says exactly what the slixmpp stanza would have said."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from transport.core.events import StanzaErrorInfo, XmppMessage
from transport.xmpp.component import GatewayComponent
from transport.xmpp.render import render_message
from transport.xmpp.stanzas import build_message

MUC_X = '<x xmlns="http://jabber.org/protocol/muc#user"><status code="110"/></x>'
EMPTY_SUBJECT = '<subject xmlns="jabber:component:accept"/>'
PREFIXED = '<ns0:stanza-id xmlns:ns0="urn:xmpp:sid:0" id="u1" by="#c%h@irc.localhost" />'

EVENTS = [
    XmppMessage(to="alice@localhost", sender="+15551234567@sms.localhost", body="hi", id="a"),
    XmppMessage(to="a@localhost/r", sender="#c%h@irc.localhost/n", type="groupchat",
                body='<&> "quoted" \'single\'\nnew line\ttab \u00e9\U0001f600', id="i1",
                delay=1700000000.5, stanza_id_by="#c%h@irc.localhost", nick="N & <M>",
                request_receipt=True, oob_url="http://x/y?a=1&b=2", subject="s<",
                receipt_for='r"1', extra_xml=(MUC_X, PREFIXED, EMPTY_SUBJECT)),
    XmppMessage(to="a@localhost/r", sender="b@irc.localhost", type="error", body="x", id="i2",
                error=StanzaErrorInfo("policy-violation", 'T"x <y>', "modify", "30007")),
    XmppMessage(to="a@localhost", sender="b@irc.localhost", type="error", id="i3",
                error=StanzaErrorInfo("item-not-found", "gone")),
    XmppMessage(to="a@localhost", sender="b@x", receipt_for="m1"),
    XmppMessage(to="a@localhost", sender="b@x", type="normal", body="", delay=0.0),
    XmppMessage(to="a@localhost", sender="b@x", type="headline", subject="", id="h"),
]


def canonical(xml: str) -> str:
    wrapped = f'<stream xmlns="jabber:component:accept">{xml}</stream>'
    return ET.canonicalize(wrapped, strip_text=False)


@pytest.mark.parametrize("event", EVENTS)
async def test_render_matches_the_slixmpp_stanza(event: XmppMessage) -> None:
    xmpp = GatewayComponent("irc.localhost", "secret", "127.0.0.1", 1)
    built = build_message(xmpp, event)
    if not event.id:
        del built["id"]  # slixmpp invents one; an event without an id needs none
    assert canonical(render_message(event)) == canonical(str(built))


def test_unknown_condition_cannot_inject_markup() -> None:
    out = render_message(XmppMessage(to="a@b", sender="c@d", type="error", id="x",
                                     error=StanzaErrorInfo("bad><x", "t")))
    assert "<undefined-condition " in out and "bad><x" not in out
    ET.fromstring(out.replace("<message ", '<message xmlns="jabber:component:accept" ', 1))
