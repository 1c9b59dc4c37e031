"""The pump's direct rendering says exactly what the slixmpp stanza would have said."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from oracles import build_message

from transport.core.events import MucInvite, StanzaErrorInfo, XmppMessage
from transport.xmpp.component import GatewayComponent
from transport.xmpp.namespaces import COMPONENT, MUC, MUC_USER, STANZAS
from transport.xmpp.render import (
    render_error,
    render_invite,
    render_message,
    render_presence_error,
)

EVENTS = [
    XmppMessage(to="alice@localhost", sender="+15551234567@sms.localhost", body="hi", id="a"),
    XmppMessage(to="a@localhost/r", sender="#c%h@irc.localhost/n", type="groupchat",
                body='<&> "quoted" \'single\'\nnew line\ttab \u00e9\U0001f600', id="i1",
                delay=1700000000.5, stanza_id_by="#c%h@irc.localhost", nick="N & <M>",
                request_receipt=True, oob_url="http://x/y?a=1&b=2", subject="s<",
                receipt_for='r"1', stanza_id="u1",
                invite=MucInvite('x@h/"<n>"', "come & see", "p<w>")),
    XmppMessage(to="a@localhost/r", sender="#c%h@irc.localhost", type="groupchat", subject="",
                stanza_id="u2", stanza_id_by="#c%h@irc.localhost"),
    XmppMessage(to="a@localhost", sender="#c%h@irc.localhost", type="normal",
                invite=MucInvite("irc.localhost")),
    XmppMessage(to="a@localhost", sender="b@irc.localhost", type="error", id="i4",
                error=StanzaErrorInfo("gone", "", "modify")),
    XmppMessage(to="a@localhost/r", sender="b@irc.localhost", type="error", body="x", id="i2",
                error=StanzaErrorInfo("policy-violation", 'T"x <y>', "modify", "30007")),
    XmppMessage(to="a@localhost", sender="b@irc.localhost", type="error", id="i3",
                error=StanzaErrorInfo("item-not-found", "gone")),
    XmppMessage(to="a@localhost", sender="b@x", receipt_for="m1"),
    XmppMessage(to="a@localhost", sender="b@x", type="normal", body="", delay=0.0),
    XmppMessage(to="a@localhost", sender="b@x", type="headline", subject="", id="h"),
]


def canonical(xml: str) -> str:
    wrapped = f'<stream xmlns="{COMPONENT}">{xml}</stream>'
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


def test_an_empty_subject_is_sent_and_none_is_not() -> None:
    room = XmppMessage(to="a@b/r", sender="#c%h@irc.b", type="groupchat", subject="")
    assert render_message(room).endswith("><subject/></message>")
    assert "<subject" not in render_message(XmppMessage(to="a@b/r", sender="#c%h@irc.b"))


def test_stanza_id_takes_the_archive_id_over_the_message_id() -> None:
    out = render_message(XmppMessage(to="a@b/r", sender="#c%h@irc.b/n", type="groupchat",
                                     body="x", id="reflected", stanza_id="archived",
                                     stanza_id_by="#c%h@irc.b"))
    assert '<stanza-id xmlns="urn:xmpp:sid:0" id="archived" by="#c%h@irc.b"/>' in out
    assert 'origin-id xmlns="urn:xmpp:sid:0" id="reflected"' in out
    without_by = render_message(XmppMessage(to="a@b", sender="c@d", id="i", stanza_id="s"))
    assert "stanza-id" not in without_by


def test_invite_text() -> None:
    assert render_invite(MucInvite("irc.localhost")) == (
        f'<x xmlns="{MUC_USER}"><invite from="irc.localhost"/></x>')
    assert render_invite(MucInvite('a"b', "r<", "p&")) == (
        f'<x xmlns="{MUC_USER}"><invite from="a&quot;b"><reason>r&lt;</reason></invite>'
        "<password>p&amp;</password></x>")


def test_one_error_element_for_every_stanza() -> None:
    error = StanzaErrorInfo("not-acceptable", "", "modify")
    assert render_error(error) == (
        f'<error type="modify"><not-acceptable xmlns="{STANZAS}"/></error>')
    assert render_error(error, COMPONENT) == (
        f'<error xmlns="{COMPONENT}" type="modify"><not-acceptable xmlns="{STANZAS}"/></error>')
    coded = render_error(StanzaErrorInfo("forbidden", "No", "auth", "482"))
    assert coded.endswith(f'<text xmlns="{STANZAS}">No (error 482)</text></error>')
    assert "legacy-error" in coded and 'code="482"' in coded


def test_refused_join_echoes_the_muc_x() -> None:
    out = render_presence_error("#c%h@irc.b/n", "a@b/r",
                                StanzaErrorInfo("remote-server-timeout", "slow <net>", "wait"),
                                echo=MUC)
    root = ET.fromstring(out.replace("<presence ", f'<presence xmlns="{COMPONENT}" ', 1))
    assert root.get("type") == "error" and root.get("from") == "#c%h@irc.b/n"
    assert [child.tag for child in root] == [f"{{{MUC}}}x", f"{{{COMPONENT}}}error"]
    error = root.find(f"{{{COMPONENT}}}error")
    assert error is not None and error.get("type") == "wait"
    assert error.find(f"{{{STANZAS}}}remote-server-timeout") is not None
    assert error.findtext(f"{{{STANZAS}}}text") == "slow <net>"
    plain = render_presence_error("a@b", "c@d", StanzaErrorInfo("gone", ""))
    assert "<x " not in plain
