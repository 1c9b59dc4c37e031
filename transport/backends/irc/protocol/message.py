"""Incoming bytes -> lines -> :class:`IrcEvent`, tolerating whatever a server sends.

Splitting follows RFC 1459 §8: CR or LF alone also end a line, empty lines are ignored.
NUL bytes are removed, undecodable bytes fall back to a per-connection encoding, overlong
lines are truncated (and flagged) instead of growing the buffer without bound.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from .events import IrcEvent
from .nickmask import NickMask

log = logging.getLogger(__name__)

_EOL = re.compile(rb"[\r\n]+")
_TAG_ESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_TAG_ESCAPE = re.compile(r"\\(.?)")


class LineReader:
    """Reassembles lines from stream chunks with a hard cap on line (and buffer) size."""

    def __init__(self, max_line_bytes: int = 16384) -> None:
        self.max_line_bytes = max_line_bytes
        self._buf = bytearray()
        self._scanned = 0  # no line terminator before this offset of _buf
        self._discarding = False

    def feed(self, data: bytes | memoryview) -> list[tuple[bytes, bool]]:
        """Add received bytes; return the complete lines as (line, truncated) pairs."""
        self._buf += data
        out: list[tuple[bytes, bool]] = []
        start = 0
        for match in _EOL.finditer(self._buf, self._scanned):
            line = bytes(self._buf[start : match.start()])
            start = match.end()
            if self._discarding:
                self._discarding = False  # the rest of a line already delivered truncated
                continue
            self._emit(out, line)
        del self._buf[:start]
        if len(self._buf) > self.max_line_bytes:
            if not self._discarding:
                out.append((self._clean(bytes(self._buf[: self.max_line_bytes])), True))
                self._discarding = True
            self._buf.clear()
        self._scanned = len(self._buf)
        return out

    def _emit(self, out: list[tuple[bytes, bool]], line: bytes) -> None:
        line = self._clean(line)
        if not line:
            return
        if len(line) > self.max_line_bytes:
            out.append((line[: self.max_line_bytes], True))
        else:
            out.append((line, False))

    @staticmethod
    def _clean(line: bytes) -> bytes:
        return line.replace(b"\x00", b"") if b"\x00" in line else line

    @property
    def pending(self) -> int:
        """Bytes of a line received without its terminator yet."""
        return len(self._buf)


def decode_line(line: bytes, fallback: str = "latin-1", truncated: bool = False) -> str:
    """UTF-8 if valid, else the fallback encoding; never raises."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if truncated:  # the cut may have split the last UTF-8 character
        for trim in (1, 2, 3):
            try:
                return line[:-trim].decode("utf-8")
            except UnicodeDecodeError:
                continue
    try:
        return line.decode(fallback, "replace")
    except LookupError:
        return line.decode("utf-8", "replace")


def _unescape_tag(value: str) -> str:
    return _TAG_ESCAPE.sub(lambda m: _TAG_ESCAPES.get(m.group(1), m.group(1)), value)


def parse_tags(raw: str) -> dict[str, str]:
    """IRCv3 message tags (``a=b;c;+d=e\\sf``) -> dict; valueless tags map to ""."""
    tags: dict[str, str] = {}
    for item in raw.split(";"):
        key, _, value = item.partition("=")
        if key:
            tags[key] = _unescape_tag(value)
    return tags


def parse_server_time(value: str | None) -> float | None:
    """``2024-01-02T03:04:05.678Z`` -> POSIX timestamp, or None if absent/garbled."""
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def parse_line(line: str, *, tags_enabled: bool, truncated: bool = False) -> IrcEvent | None:
    """Parse one decoded line; None for a line with no command.

    A tag section is always skipped, but only parsed when a tag-carrying capability was
    negotiated (so a server that sends tags unasked cannot make us misread the line).
    """
    rest = line
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        raw_tags, _, rest = rest.partition(" ")
        if tags_enabled:
            tags = parse_tags(raw_tags[1:])
        else:
            log.debug("ignoring message tags sent without negotiation")
    rest = rest.lstrip(" ")
    source = None
    if rest.startswith(":"):
        prefix, _, rest = rest.partition(" ")
        source = NickMask(prefix[1:]) if len(prefix) > 1 else None
        rest = rest.lstrip(" ")
    command, _, rest = rest.partition(" ")
    if not command:
        return None
    params: list[str] = []
    while rest:
        if rest.startswith(":"):
            params.append(rest[1:])
            break
        param, _, rest = rest.partition(" ")
        if param:
            params.append(param)
        rest = rest.lstrip(" ")
    return IrcEvent(
        command=command.upper(),
        source=source,
        params=params,
        tags=tags,
        time=parse_server_time(tags.get("time")),
        raw=line,
        truncated=truncated,
    )
