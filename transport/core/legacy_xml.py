"""Queued rows from before events were plain data: their XML fragments as typed fields.

Earlier versions stored a message's extra payload as XML text (``extra_xml``). Rows queued
by them must still deliver after an upgrade, so the fragments those versions wrote (an empty
subject, a stanza-id, a mediated invitation) become the fields that now say the same.
Elements are matched by local name: only this project wrote these rows, and the core keeps
no namespace table of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree as ET

log = logging.getLogger(__name__)


def _local(element: ET.Element) -> str:
    return element.tag.rpartition("}")[2]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c) == name), None)


def typed_fields(fragments: Iterable[str]) -> dict[str, Any]:
    """The ``XmppMessage`` fields (``invite`` as a dict) that ``fragments`` stood for."""
    fields: dict[str, Any] = {}
    for fragment in fragments:
        try:
            element = ET.fromstring(fragment)
        except ET.ParseError:
            log.warning("Dropped an unreadable payload from a queued message")
            continue
        name = _local(element)
        if name == "subject":
            fields["subject"] = element.text or ""
        elif name == "stanza-id" and element.get("id") and element.get("by"):
            fields["stanza_id"] = element.get("id")
            fields["stanza_id_by"] = element.get("by")
        elif name == "x" and (invite := _child(element, "invite")) is not None:
            reason = _child(invite, "reason")
            password = _child(element, "password")
            fields["invite"] = {
                "sender": invite.get("from", ""),
                "reason": reason.text or "" if reason is not None else "",
                "password": password.text or "" if password is not None else "",
            }
        else:
            log.warning("Dropped an unknown <%s/> from a queued message", name)
    return fields
