"""Outgoing text made legal XML 1.0, so no legacy field can make the server close the stream.

XML 1.0 forbids C0 controls other than TAB, LF and CR, the non-characters U+FFFE and
U+FFFF, and (in UTF-8) lone surrogates. IRC text carries mIRC colour codes and, decoded
with ``surrogateescape``, lone surrogates; a server that reads one of them closes the
whole component stream, and a surrogate already makes the UTF-8 encoding fail. Each is
replaced by U+FFFD.

This runs on every byte the gateway writes, so the common case (nothing to replace) is
the UTF-8 encoding the stream needs anyway plus one C-speed pass over the bytes: a
``bytes.translate`` deleting the C0 bytes and two substring searches, measured at well
under half the cost of a regex ``search`` over the text. The regex substitution runs only
when one of them hits.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_C0_BYTES = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))
_UFFFE = "\ufffe".encode()
_UFFFF = "\uffff".encode()


def legal_xml(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return _ILLEGAL.sub(REPLACEMENT, text) if _ILLEGAL.search(text) else text


def legal_xml_bytes(text: str) -> bytes:
    """The UTF-8 bytes of ``legal_xml(text)``, paying for the substitution only on a hit."""
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return _ILLEGAL.sub(REPLACEMENT, text).encode("utf-8")
    if (len(raw.translate(None, _C0_BYTES)) != len(raw)
            or _UFFFE in raw or _UFFFF in raw):
        return _ILLEGAL.sub(REPLACEMENT, text).encode("utf-8")
    return raw
