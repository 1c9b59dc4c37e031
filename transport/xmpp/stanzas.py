"""Working with slixmpp stanza objects: errors read and replied, bodiless messages matched."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from slixmpp.exceptions import XMPPError
from slixmpp.xmlstream.matcher.base import MatcherBase

from transport.core.errors import GatewayError
from transport.core.events import StanzaErrorInfo
from transport.xmpp.namespaces import STANZAS
from transport.xmpp.render import render_error


def error_condition(stanza: Any) -> str:
    """The stanza error condition's element name, including ones slixmpp does not know."""
    error = stanza.xml.find("{*}error")
    if error is None:
        return ""
    for child in error:
        if child.tag.startswith(f"{{{STANZAS}}}") and not child.tag.endswith("}text"):
            return str(child.tag.split("}", 1)[1])
    return ""


def set_error(stanza: Any, error: StanzaErrorInfo) -> None:
    """Make ``stanza`` an error stanza carrying ``error`` (written by ``render_error``).

    slixmpp's own Error knows only some RFC 6120 conditions (not policy-violation, say)
    and silently keeps its default for the others.
    """
    stanza["type"] = "error"
    del stanza["error"]  # slixmpp's cached view of an earlier one, with its element
    namespace = stanza.namespace
    for old in stanza.xml.findall(f"{{{namespace}}}error"):
        stanza.xml.remove(old)
    element = ET.fromstring(render_error(error, namespace))
    stanza.xml.append(element)
    stanza.init_plugin("error", existing_xml=element, reuse=False)  # reads see this one


def reply_error(iq: Any, error: StanzaErrorInfo) -> None:
    """Answer ``iq`` with a stanza error, its payload echoed back."""
    reply = iq.reply(clear=False)
    set_error(reply, error)
    reply.send()


def bare(jid: Any) -> str:
    """The bare form of a JID given as slixmpp JID or string."""
    return str(jid).partition("/")[0]


def xmpp_error(exc: GatewayError) -> XMPPError:
    """The slixmpp exception that makes a handler answer with ``exc``'s stanza error."""
    condition: Any = exc.condition
    etype: Any = exc.etype
    return XMPPError(condition, exc.text, etype=etype)


class BodilessMessage(MatcherBase):
    """Matches ``<message/>`` stanzas without text: errors, subjects, invitations, states.

    A handler for those alone would otherwise get (and spawn a task for) every relayed
    chat line too.
    """

    def __init__(self) -> None:
        super().__init__("bodiless message")

    def match(self, xml: Any) -> bool:
        element = xml.xml
        namespace, _, name = element.tag[1:].rpartition("}")
        if name != "message":
            return False
        if element.get("type") == "error":
            return True
        body = element.find(f"{{{namespace}}}body")
        return body is None or not body.text
