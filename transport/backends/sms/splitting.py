"""Long bodies -> ordered parts Twilio accepts; nothing is ever cut off.

Twilio refuses a Body over 1600 characters (error 21617), counting UTF-16 code units (an
emoji outside the BMP counts twice). A longer text becomes several messages whose
concatenation is exactly the original: a part ends after a whitespace near its end when
there is one, and never inside a surrogate pair, before a combining mark or around a
zero-width joiner.
"""

from __future__ import annotations

import unicodedata
from typing import Final

MAX_BODY: Final = 1600
_JOINERS: Final = frozenset("\u200d\u200c\u034f")


def utf16_len(text: str) -> int:
    """Length as Twilio counts it."""
    return len(text.encode("utf-16-le")) // 2


def split_body(body: str, limit: int = MAX_BODY) -> list[str]:
    """``body`` in order-preserving parts of at most ``limit`` UTF-16 units each."""
    if limit < 2:
        raise ValueError("limit must allow at least one character of any kind")
    if utf16_len(body) <= limit:
        return [body] if body else []
    parts: list[str] = []
    start = 0
    while start < len(body):
        end = _fill(body, start, limit)
        if end < len(body):
            end = _nicer_end(body, start, end)
        parts.append(body[start:end])
        start = end
    return parts


def _fill(body: str, start: int, limit: int) -> int:
    """The furthest end such that ``body[start:end]`` fits ``limit``."""
    units = 0
    end = start
    while end < len(body):
        size = 2 if ord(body[end]) > 0xFFFF else 1
        if units + size > limit:
            break
        units += size
        end += 1
    return end


def _nicer_end(body: str, start: int, end: int) -> int:
    """Move a hard cut back to just after whitespace in the last quarter, or at least off
    a grapheme boundary it would break."""
    floor = start + (end - start) * 3 // 4
    for index in range(end - 1, floor - 1, -1):
        if body[index].isspace():
            return index + 1
    cut = end
    while cut > start + 1 and _glued(body, cut):
        cut -= 1
    return cut if cut > start + 1 else end


def _glued(body: str, cut: int) -> bool:
    """Would cutting before ``body[cut]`` split a character from its marks or joiner?"""
    nxt, prev = body[cut], body[cut - 1]
    return (
        unicodedata.combining(nxt) != 0
        or unicodedata.category(nxt) in ("Mn", "Me")
        or "\ufe00" <= nxt <= "\ufe0f"
        or nxt in _JOINERS
        or prev in _JOINERS
    )
