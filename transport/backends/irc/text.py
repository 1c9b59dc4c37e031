"""IRC text -> XMPP text: recover the bytes of non-UTF-8 lines, strip what XML cannot hold.

The connection decodes a line as UTF-8 when it can; otherwise it uses the codec registered
here, which keeps the undecodable bytes as lone surrogates. That lets the backend decode
the text later with the channel's (or server's) ``encoding_in``, which the connection
cannot know.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

PASSTHROUGH = "irc-undecoded"

_FORMATTING = re.compile(
    r"\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6})?|[\x02\x0f\x11\x16\x1d\x1e\x1f]"
)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _decode(data: Any, _errors: str = "strict") -> tuple[str, int]:
    return bytes(data).decode("utf-8", "surrogateescape"), len(data)


def _encode(text: str, _errors: str = "strict") -> tuple[bytes, int]:
    return text.encode("utf-8", "surrogateescape"), len(text)


def _search(name: str) -> codecs.CodecInfo | None:
    if name.replace("_", "-") != PASSTHROUGH:
        return None
    return codecs.CodecInfo(_encode, _decode, name=PASSTHROUGH)


codecs.register(_search)


def recover(text: str, encoding: str) -> str:
    """Decode the bytes a line could not be read as UTF-8 with ``encoding``."""
    if not _SURROGATE.search(text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode(encoding, "replace")
    except (LookupError, UnicodeEncodeError):
        return raw.decode("latin-1")


def clean(text: str, encoding: str = "latin-1") -> str:
    """IRC text fit for an XMPP body: decoded, mIRC formatting and XML-illegal chars gone."""
    text = recover(text, encoding)
    text = _FORMATTING.sub("", text)
    text = _SURROGATE.sub("\ufffd", text)
    return _NOT_XML.sub("", text)


def reencode(line: bytes, encoding: str) -> bytes:
    """An outgoing UTF-8 line in the user's ``encoding_out`` (UTF-8 unless they chose)."""
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        return line
    try:
        return line.decode("utf-8").encode(encoding, "replace")
    except LookupError:
        return line
