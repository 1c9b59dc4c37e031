"""How many segments Twilio bills for a Body: GSM-7 or UCS-2, single or concatenated.

A body whose characters are all in the GSM 03.38 alphabet goes as GSM-7: 160 septets in
one segment, 153 per segment once concatenated; characters of the extension table
(``^{}[]~|\\€`` and the form feed) cost two septets and are never split from their escape.
Any other character makes the whole body UCS-2: 70 UTF-16 code units in one segment, 67
per segment concatenated, and a surrogate pair (an emoji outside the BMP) is never split.
This is Twilio's count with Smart Encoding off; with it on, Twilio may bill fewer.

An MMS is one message and is counted as one segment (Twilio's ``num_segments`` for MMS),
whatever the length of its caption.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from transport.backends.sms.splitting import utf16_len

GSM_SINGLE: Final = 160
GSM_PART: Final = 153
UCS2_SINGLE: Final = 70
UCS2_PART: Final = 67
MMS_SEGMENTS: Final = 1

GSM_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION: Final = frozenset("\f^{}\\[~]|€")
_GSM_ANY: Final = GSM_BASIC | GSM_EXTENSION


def segments(body: str) -> int:
    """Billed segments of one SMS Body (0 for an empty body)."""
    if not body:
        return 0
    chars = set(body)
    if chars <= GSM_BASIC:
        return _count(len(body), GSM_SINGLE, GSM_PART)
    if chars <= _GSM_ANY:
        escaped = chars & GSM_EXTENSION
        septets = len(body) + sum(body.count(c) for c in escaped)
        if septets <= GSM_SINGLE:
            return 1
        return _packed((2 if c in escaped else 1 for c in body), GSM_PART)
    units = utf16_len(body)
    if units == len(body) or units <= UCS2_SINGLE:
        return _count(units, UCS2_SINGLE, UCS2_PART)
    return _packed((2 if ord(c) > 0xFFFF else 1 for c in body), UCS2_PART)


def message_segments(body: str, has_media: bool) -> int:
    """Segments of one Twilio message: an MMS counts as ``MMS_SEGMENTS``."""
    return MMS_SEGMENTS if has_media else max(1, segments(body))


def _count(units: int, single: int, part: int) -> int:
    """Segments for ``units`` that may be split anywhere."""
    if units <= single:
        return 1
    return -(-units // part)


def _packed(costs: Iterable[int], part: int) -> int:
    """Segments when some characters cost 2 units that must stay in one segment."""
    count, used = 1, 0
    for cost in costs:
        if used + cost > part:
            count += 1
            used = 0
        used += cost
    return count
