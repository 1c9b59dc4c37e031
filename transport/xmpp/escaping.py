"""XEP-0106 JID escaping, in one place.

slixmpp only advertises the feature; the gateway needs the full table so that legacy
addresses with spaces, quotes, ``@`` or ``/`` (IRC channel names, alphanumeric SMS senders)
round-trip through a JID localpart.
"""

from __future__ import annotations

import re

_ESCAPES = {
    " ": r"\20",
    '"': r"\22",
    "&": r"\26",
    "'": r"\27",
    "/": r"\2f",
    ":": r"\3a",
    "<": r"\3c",
    ">": r"\3e",
    "@": r"\40",
    "\\": r"\5c",
}
_UNESCAPES = {v: k for k, v in _ESCAPES.items()}
_ESCAPE_SEQ = re.compile(r"\\(20|22|26|27|2f|3a|3c|3e|40|5c)", re.IGNORECASE)


def escape_node(text: str) -> str:
    """Escape a legacy string for use as a JID localpart (XEP-0106 section 4.2).

    A backslash is only escaped when it would otherwise start an escape sequence, and leading
    or trailing spaces are not allowed by the XEP; both rules are applied here.
    """
    if text.startswith(" ") or text.endswith(" "):
        raise ValueError("a JID localpart cannot start or end with a space")
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append(r"\5c" if _ESCAPE_SEQ.match(text, i) else ch)
        else:
            out.append(_ESCAPES.get(ch, ch))
    return "".join(out)


def unescape_node(localpart: str) -> str:
    """Reverse :func:`escape_node`; sequences that are not XEP-0106 escapes stay as they are."""
    return _ESCAPE_SEQ.sub(lambda m: _UNESCAPES["\\" + m.group(1).lower()], localpart)
