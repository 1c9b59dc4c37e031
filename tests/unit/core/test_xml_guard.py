"""Every byte the component writes is legal XML 1.0, whatever text the legacy side gave it.

The component talks to a loopback peer that parses what arrives with a strict XML parser,
as the server would.
"""

from __future__ import annotations

import timeit
from collections.abc import AsyncIterator

import pytest
from loopback_component import NS, LoopbackServer, connected_component

from transport.core.events import XmppMessage
from transport.xmpp.component import GatewayComponent
from transport.xmpp.render import render_message
from transport.xmpp.xmlchars import legal_xml, legal_xml_bytes

HOSTILE = "\x02bold\x02 \x0304,12colour\x03 \x00\x1f\x0b\x0c lone \udc80\ud83d end \ufffe\uffff"
CLEAN = "\ufffdbold\ufffd \ufffd04,12colour\ufffd \ufffd\ufffd\ufffd\ufffd lone \ufffd\ufffd " \
        "end \ufffd\ufffd"


def test_illegal_characters_become_replacement_characters() -> None:
    assert legal_xml(HOSTILE) == CLEAN
    assert legal_xml_bytes(HOSTILE) == CLEAN.encode()
    for alone in ("\x02", "\udc80", "\ufffe", "\uffff", "\x00"):
        assert legal_xml_bytes(f"a{alone}b") == "a\ufffdb".encode()


def test_legal_text_is_untouched() -> None:
    text = "tab\t lf\n cr\r del\x7f c1\x85 \u00e9 \ufffd \ufffc \ue000 \U0001f600 \U0010fffd"
    assert legal_xml(text) is text
    assert legal_xml_bytes(text) == text.encode()


def test_the_check_costs_little_on_a_relayed_batch() -> None:
    """The guard runs on every pump batch: measured against rendering the batch itself."""
    events = [XmppMessage(to="alice@localhost/r", sender=f"#c%h@irc.localhost/nick{i}",
                          type="groupchat", body=f"line {i} of a chat, caf\u00e9 \u2019 ok",
                          id=f"id{i}", stanza_id_by="#c%h@irc.localhost") for i in range(100)]
    batch = "".join(render_message(e) for e in events)
    guard = min(timeit.repeat(lambda: legal_xml_bytes(batch), number=20, repeat=5))
    encode = min(timeit.repeat(lambda: batch.encode("utf-8"), number=20, repeat=5))
    render = min(timeit.repeat(lambda: "".join(render_message(e) for e in events),
                               number=20, repeat=5))
    # The stream pays for the encoding anyway; the check adds a fraction of the rendering.
    assert guard - encode < render / 2


@pytest.fixture
async def connected() -> AsyncIterator[tuple[GatewayComponent, LoopbackServer]]:
    async with connected_component() as pair:
        yield pair


async def test_stanza_objects_leave_legal(
    connected: tuple[GatewayComponent, LoopbackServer],
) -> None:
    xmpp, server = connected
    msg = xmpp.make_message(mto="a@localhost/r", mfrom="#c%h@irc.localhost/n",
                            mbody=HOSTILE, msubject=HOSTILE, mtype="groupchat")
    msg["id"] = "m1"
    msg.send()
    xmpp.make_message(mto="a@localhost/r", mfrom="#c%h@irc.localhost/n", mbody="after").send()
    first, after = await server.stanzas(2)
    assert first.findtext(f"{{{NS}}}body") == CLEAN
    assert first.findtext(f"{{{NS}}}subject") == CLEAN
    assert after.findtext(f"{{{NS}}}body") == "after"


async def test_rendered_batches_leave_legal(
    connected: tuple[GatewayComponent, LoopbackServer],
) -> None:
    xmpp, server = connected
    events = [XmppMessage(to="a@localhost/r", sender="#c%h@irc.localhost/n\x03", id=f"i{n}",
                          type="groupchat", body=f"{n} {HOSTILE}", nick=HOSTILE)
              for n in range(100)]
    xmpp.send("".join(render_message(e) for e in events), use_filters=False)
    received = await server.stanzas(100)
    assert [m.findtext(f"{{{NS}}}body") for m in received] == [f"{n} {CLEAN}" for n in range(100)]
    assert {m.get("from") for m in received} == {"#c%h@irc.localhost/n\ufffd"}
    nick = received[0].find("{http://jabber.org/protocol/nick}nick")
    assert nick is not None and nick.text == CLEAN
