"""Each relayed message is matched against every registered handler: keep the list short."""

from __future__ import annotations

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
