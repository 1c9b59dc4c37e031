"""Every IQ get/set the component receives gets exactly one answer, whatever happens.

The IQs arrive over a real loopback stream (see ``loopback_component``), so slixmpp's
own parser and dispatch run as they do against a server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from loopback_component import NS, LoopbackServer, connected_component
from slixmpp.exceptions import XMPPError
from slixmpp.xmlstream.handler import CoroutineCallback

from transport.xmpp.component import GatewayComponent
from transport.xmpp.iq_guard import nested_deeper_than
from transport.xmpp.matchers import IqChild
from transport.xmpp.namespaces import STANZAS as STANZA_ERROR_NS

TEST_NS = "urn:example:guard"
USER = "alice@localhost/r"
Pair = tuple[GatewayComponent, LoopbackServer]


@pytest.fixture
async def connected() -> AsyncIterator[Pair]:
    async with connected_component(answer_deadline=0.3) as pair:
        yield pair


def on(xmpp: GatewayComponent, name: str, handler: Callable[[Any], Awaitable[None]]) -> None:
    xmpp.register_handler(CoroutineCallback(name, IqChild(TEST_NS, name, "get"), handler))


def request(name: str, iq_id: str, payload: str = "", to: str = "irc.localhost") -> str:
    return (f"<iq type='get' id='{iq_id}' from='{USER}' to='{to}'>"
            f"<{name} xmlns='{TEST_NS}'>{payload}</{name}></iq>")


def condition(iq: ET.Element) -> str:
    error = iq.find(f"{{{NS}}}error")
    assert error is not None, ET.tostring(iq)
    names = [c.tag.split("}")[1] for c in error if c.tag != f"{{{STANZA_ERROR_NS}}}text"]
    return names[0]


async def answers(server: LoopbackServer, count: int) -> list[ET.Element]:
    """Exactly ``count`` answers besides the one to a ping sent now, in arrival order."""
    server.send(f"<iq type='get' id='probe' from='{USER}' to='irc.localhost'>"
                "<ping xmlns='urn:xmpp:ping'/></iq>")
    await server.stanzas(count + 1)
    await asyncio.sleep(0.1)  # room for an answer too many
    assert len(server.received) == count + 1
    assert [s.get("type") for s in server.received if s.get("id") == "probe"] == ["result"]
    return [s for s in server.received if s.get("id") != "probe"]


async def test_a_failing_handler_answers_internal_server_error(connected: Pair) -> None:
    xmpp, server = connected

    async def broken(_iq: Any) -> None:
        raise RuntimeError("bug")

    on(xmpp, "broken", broken)
    server.send(request("broken", "b1", "<secret>payload</secret>"))
    [answer] = await answers(server, 1)
    assert (answer.get("id"), answer.get("type"), answer.get("to"), answer.get("from")) == \
        ("b1", "error", USER, "irc.localhost")
    assert condition(answer) == "internal-server-error"
    assert [child.tag for child in answer] == [f"{{{NS}}}error"]


async def test_a_schema_error_keeps_its_condition_and_no_payload(connected: Pair) -> None:
    xmpp, server = connected

    async def picky(iq: Any) -> None:
        # Answering with the request copied in (clear=False) still sends only the error.
        reply = iq.reply(clear=False)
        reply["type"] = "error"
        reply["error"]["condition"] = "bad-request"
        reply.send()

    async def strict(_iq: Any) -> None:
        raise XMPPError("bad-request", "max must be a number", etype="modify")

    on(xmpp, "picky", picky)
    on(xmpp, "strict", strict)
    server.send(request("picky", "p1", "<max>x</max>"))
    server.send(request("strict", "s1", "<max>x</max>"))
    picked, stricter = await answers(server, 2)
    for answer in (picked, stricter):
        assert condition(answer) == "bad-request"
        assert [child.tag for child in answer] == [f"{{{NS}}}error"]


async def test_only_the_first_answer_leaves(connected: Pair) -> None:
    xmpp, server = connected

    async def twice(iq: Any) -> None:
        iq.reply().send()
        iq.reply().send()
        raise RuntimeError("after answering")

    on(xmpp, "twice", twice)
    server.send(request("twice", "t1"))
    [answer] = await answers(server, 1)
    assert answer.get("type") == "result"


async def test_an_answer_sent_through_the_stream_counts(connected: Pair) -> None:
    xmpp, server = connected

    async def direct(iq: Any) -> None:
        xmpp.send(iq.reply())  # not reply.send(): the deadline must still see the answer

    on(xmpp, "direct", direct)
    server.send(request("direct", "r1"))
    await server.stanzas(1)
    await asyncio.sleep(0.5)  # past the deadline
    assert [(s.get("id"), s.get("type")) for s in server.received] == [("r1", "result")]


async def test_an_iq_no_handler_answers_gets_an_answer_in_time(connected: Pair) -> None:
    xmpp, server = connected

    async def silent(_iq: Any) -> None:
        await asyncio.sleep(0)

    on(xmpp, "silent", silent)
    server.send(request("silent", "q1"))
    [answer] = await server.stanzas(1, timeout=3)
    assert answer.get("id") == "q1" and condition(answer) == "remote-server-timeout"
    await asyncio.sleep(0.4)
    assert len(server.received) == 1


async def test_unhandled_requests(connected: Pair) -> None:
    _xmpp, server = connected
    server.send(request("unknown", "u1"))
    server.send(f"<iq type='set' id='v1' from='{USER}' to='irc.localhost'>"
                "<query xmlns='jabber:iq:version'/></iq>")
    unknown, version = await answers(server, 2)
    assert condition(unknown) == "service-unavailable"
    assert condition(version) == "feature-not-implemented"


async def test_a_deeply_nested_payload_is_refused_and_the_stream_stays(connected: Pair) -> None:
    xmpp, server = connected
    deep = "<a>" * 3000 + "</a>" * 3000
    server.send(request("deep", "d1", deep))
    [answer] = await answers(server, 1)
    assert condition(answer) == "bad-request"
    assert len(ET.tostring(answer)) < 1000
    assert xmpp.online.is_set()


async def test_addresses_failing_preparation_get_jid_malformed(connected: Pair) -> None:
    _xmpp, server = connected
    bad_resource = "nick%h@irc.localhost/\u0221"  # unassigned in Unicode 3.2
    server.send(request("ping", "j1", to=bad_resource))
    server.send(request("ping", "j2", to="ni\u0221ck@irc.localhost"))
    server.send(request("ping", "j3", to="a&amp;b&quot;&lt;c@irc.localhost"))
    resource, node, markup = await answers(server, 3)
    assert (resource.get("from"), condition(resource)) == (bad_resource, "jid-malformed")
    assert (node.get("from"), condition(node)) == ("ni\u0221ck@irc.localhost", "jid-malformed")
    assert (markup.get("from"), condition(markup)) == ('a&b"<c@irc.localhost', "jid-malformed")


async def test_unsolicited_answers_are_ignored(
    connected: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    _xmpp, server = connected
    caplog.set_level(logging.WARNING)
    server.send(f"<iq type='result' id='x1' from='{USER}' to='irc.localhost'><q/></iq>")
    server.send(f"<iq type='error' id='x2' from='{USER}' to='irc.localhost'>"
                f"<error type='cancel'><item-not-found xmlns='{STANZA_ERROR_NS}'/></error></iq>")
    server.send(f"<iq type='result' id='x3' from='{USER}' to='n\u0221@irc.localhost'/>")
    assert await answers(server, 0) == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_nesting_is_measured_without_recursion() -> None:
    root = current = ET.Element("a")
    for _ in range(5000):
        current = ET.SubElement(current, "a")
    assert nested_deeper_than(root, 64)
    assert not nested_deeper_than(ET.fromstring("<a><b><c/></b><d/></a>"), 2)
    assert nested_deeper_than(ET.fromstring("<a><b><c/></b><d/></a>"), 1)
