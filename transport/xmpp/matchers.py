"""Cheap stanza matchers: every incoming stanza is tried against every handler.

slixmpp's ``StanzaPath`` and ``MatchXPath`` walk the stanza's plugin machinery or an XPath
for each try, a few microseconds each; a relayed chat line is tried against all of them.
These compare a tag or two.
"""

from __future__ import annotations

from typing import Any

from slixmpp.xmlstream.matcher.base import MatcherBase


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class StanzaName(MatcherBase):
    """Any top-level stanza with this element name (``message``, ``presence``, ``iq``)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def match(self, xml: Any) -> bool:
        return _local(xml.xml.tag) == self.name


class IqChild(MatcherBase):
    """An ``<iq/>`` (of ``iq_type``, if given) carrying the child ``{namespace}name``."""

    def __init__(self, namespace: str, name: str, iq_type: str | None = None) -> None:
        super().__init__(f"iq/{{{namespace}}}{name}")
        self.child = f"{{{namespace}}}{name}"
        self.iq_type = iq_type

    def match(self, xml: Any) -> bool:
        element = xml.xml
        if _local(element.tag) != "iq":
            return False
        if self.iq_type is not None and element.get("type") != self.iq_type:
            return False
        return element.find(self.child) is not None
