"""Each relayed message is matched against every registered handler: keep the list short."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from transport.xmpp.component import GatewayComponent


async def test_a_plain_message_matches_no_builtin_handler() -> None:
    xmpp = GatewayComponent("irc.localhost", "secret", "127.0.0.1", 1)
    msg = xmpp.make_message(mto="#c%h@irc.localhost", mfrom="a@localhost/r", mbody="hi",
                            mtype="groupchat")
    msg["request_receipt"] = True  # the stanza plugins stay usable
    handlers = xmpp._XMLStream__handlers  # type: ignore[attr-defined]
    assert [h.name for h in handlers if h.match(msg)] == []
    assert msg.xml.find("{urn:xmpp:receipts}request") is not None


async def test_bodiless_message_matcher() -> None:
    from transport.xmpp.stanzas import BodilessMessage

    xmpp = GatewayComponent("irc.localhost", "secret", "127.0.0.1", 1)
    matcher = BodilessMessage()

    def msg(**kw: str) -> object:
        return xmpp.make_message(mto="#c%h@irc.localhost", mfrom="a@localhost/r", **kw)

    assert not matcher.match(msg(mbody="hi", mtype="groupchat"))
    assert matcher.match(msg(mtype="groupchat", msubject="topic"))
    assert matcher.match(msg(mtype="chat"))
    error = msg(mbody="bounced", mtype="error")
    assert matcher.match(error)
    assert not matcher.match(xmpp.make_presence(pto="#c%h@irc.localhost/n"))


async def test_cheap_matchers_match_what_the_xpath_ones_did() -> None:
    from transport.xmpp.matchers import IqChild, StanzaName

    xmpp = GatewayComponent("irc.localhost", "secret", "127.0.0.1", 1)
    message = xmpp.make_message(mto="a@irc.localhost", mbody="x")
    ping = xmpp.make_iq_get(ito="a@irc.localhost")
    ping.enable("ping")
    register = xmpp.make_iq_set(ito="irc.localhost")
    register.xml.append(ET.Element("{jabber:iq:register}query"))
    assert StanzaName("message").match(message) and not StanzaName("message").match(ping)
    assert IqChild("urn:xmpp:ping", "ping", "get").match(ping)
    assert not IqChild("urn:xmpp:ping", "ping", "set").match(ping)
    assert not IqChild("urn:xmpp:ping", "ping").match(message)
    assert IqChild("jabber:iq:register", "query").match(register)
    assert not IqChild("jabber:iq:register", "query").match(ping)
