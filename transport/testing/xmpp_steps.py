"""Common user actions against the gateway, shared by tests and benchmarks."""

from __future__ import annotations

from typing import Any

from slixmpp import Iq
from slixmpp.plugins.xep_0077.stanza import Register
from slixmpp.xmlstream import register_stanza_plugin

from transport.testing.xmpp_client import TestClient
from transport.xmpp.namespaces import REGISTER

register_stanza_plugin(Iq, Register)


async def register(client: TestClient, gateway: str, **fields: str) -> Iq:
    """XEP-0077 registration with legacy fields; raises IqError when refused."""
    iq = client.make_iq_set(ito=gateway)
    for name, value in fields.items():
        iq["register"][name] = value
    return await client.query(iq)


async def register_with_form(client: TestClient, gateway: str, **values: str) -> Iq:
    """XEP-0077 registration through the XEP-0004 form, as modern clients do."""
    form = client.plugin["xep_0004"].make_form(ftype="submit")
    form.add_field(var="FORM_TYPE", ftype="hidden", value=REGISTER)
    for var, value in values.items():
        form.add_field(var=var, value=value)
    iq = client.make_iq_set(ito=gateway)
    iq["register"].append(form)
    return await client.query(iq)


async def registration_form(client: TestClient, gateway: str) -> Iq:
    iq = client.make_iq_get(queryxmlns=REGISTER, ito=gateway)
    return await client.query(iq)


async def unregister(client: TestClient, gateway: str) -> Iq:
    iq = client.make_iq_set(ito=gateway)
    iq["register"]["remove"] = True
    return await client.query(iq)


def send_chat(
    client: TestClient, to: str, body: str, msg_id: str | None = None, receipt: bool = False,
    **extra: Any,
) -> str:
    """Send a chat message; returns its id."""
    msg = client.make_message(mto=to, mbody=body, mtype="chat")
    if msg_id:
        msg["id"] = msg_id
    if receipt:
        msg["request_receipt"] = True
    for key, value in extra.items():
        msg[key] = value
    msg.send()
    return str(msg["id"])


async def run_command(
    client: TestClient, jid: str, node: str, values: dict[str, Any] | None = None
) -> Iq:
    """Start the ad-hoc command ``node`` on ``jid``; with ``values``, submit them to its
    first form (action "complete"). Returns the last answer."""
    answer: Iq = await client.plugin["xep_0050"].send_command(jid, node)
    if values is None:
        return answer
    return await submit_command(client, jid, node, answer["command"]["sessionid"], values)


async def submit_command(
    client: TestClient, jid: str, node: str, session: str, values: dict[str, Any]
) -> Iq:
    """Submit ``values`` as the form of an ad-hoc command session (action "complete")."""
    iq = client.make_iq_set(ito=jid)
    iq["command"]["node"] = node
    iq["command"]["sessionid"] = session
    iq["command"]["action"] = "complete"
    form = client.plugin["xep_0004"].make_form(ftype="submit")
    for var, value in values.items():
        form.add_field(var=var, value=value)
    iq["command"].append(form)
    return await client.query(iq)
