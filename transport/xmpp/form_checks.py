"""A submitted XEP-0004 form checked against the form the gateway sent.

slixmpp reads a submitted field by the type the submitter claims, so a ``list-multi``
sent for a ``jid-single`` field arrives as a list, and a ``boolean`` as anything at all.
A submission that breaks the form's schema is answered ``bad-request`` before any
command sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slixmpp import JID
from slixmpp.exceptions import XMPPError
from slixmpp.jid import InvalidJID

from transport.core.backend import FormField
from transport.xmpp.namespaces import DATA_FORMS as DATA_NS

MULTI_TYPES = frozenset({"list-multi", "jid-multi", "text-multi"})
BOOLEANS = frozenset({"0", "1", "true", "false"})
# What a value of each type is: clients may echo a close relative (text-single for a
# text-private field), never a different kind of value.
KINDS = {
    "text-single": "text", "text-private": "text", "hidden": "text", "list-single": "text",
    "fixed": "text", "text-multi": "texts", "list-multi": "texts",
    "jid-single": "jid", "jid-multi": "jids", "boolean": "boolean",
}


def _bad(var: str, why: str) -> XMPPError:
    return XMPPError("bad-request", f"Field {var!r} {why}", etype="modify")


def check_submission(form: Any, declared: Iterable[FormField]) -> None:
    """Raise ``bad-request`` when a submitted field contradicts its declaration."""
    fields = {field.var: field for field in declared}
    for element in form.xml.iterfind(f"{{{DATA_NS}}}field"):
        var = element.get("var") or ""
        field = fields.get(var)
        if field is None:
            continue
        claimed = element.get("type")
        if claimed is not None and KINDS.get(claimed) != KINDS.get(field.type, field.type):
            raise _bad(var, f"must be of type {field.type}")
        values = [value.text or "" for value in element.iterfind(f"{{{DATA_NS}}}value")]
        if len(values) > 1 and field.type not in MULTI_TYPES:
            raise _bad(var, "takes a single value")
        if field.type == "boolean" and any(v.strip().lower() not in BOOLEANS for v in values):
            raise _bad(var, "must be true or false")
        if field.type in ("jid-single", "jid-multi"):
            for value in values:
                try:
                    if value.strip():
                        JID(value.strip())
                except InvalidJID:
                    raise _bad(var, "must be a JID") from None
