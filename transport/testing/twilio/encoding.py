"""SMS segment counting, so ``num_segments`` matches what Twilio would bill.

GSM-7 (3GPP TS 23.038 default alphabet + extension table): 160 septets in one part,
153 per part when concatenated; extension characters take two septets and are never
split.  Anything outside GSM-7 goes UCS-2: 70 code units alone, 67 per part, and a
surrogate pair (emoji) is never split.  Twilio's optional "smart encoding" is not
modelled.
"""

from __future__ import annotations

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

MAX_BODY_CHARS = 1600


def is_gsm7(text: str) -> bool:
    """True when every character fits the GSM-7 default or extension table."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def body_length(text: str) -> int:
    """Length as Twilio counts it for the 1600 limit (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _pack(units: list[int], single: int, multi: int) -> int:
    """Number of parts when indivisible units (sizes) are packed greedily."""
    total = sum(units)
    if total <= single:
        return 1
    parts, used = 1, 0
    for size in units:
        if used + size > multi:
            parts += 1
            used = 0
        used += size
    return parts


def count_segments(text: str) -> int:
    """Segments Twilio reports in ``num_segments`` (at least 1, also for MMS)."""
    if not text:
        return 1
    if is_gsm7(text):
        return _pack([2 if c in GSM7_EXTENSION else 1 for c in text], 160, 153)
    return _pack([2 if ord(c) > 0xFFFF else 1 for c in text], 70, 67)
