"""Server-dependent naming rules: CASEMAPPING folding and the ISUPPORT (005) tokens.

Nick and channel comparison must follow the server's CASEMAPPING (biboumi folds ASCII only,
so ``[Foo]`` and ``{foo}`` are different people to it on an rfc1459 network, but one to the
server).
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass, field

from .lite import SharedTables

log = logging.getLogger(__name__)

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_TABLES = {
    "ascii": str.maketrans(_UPPER, _LOWER),
    "rfc1459": str.maketrans(_UPPER + "[]\\~", _LOWER + "{}|^"),
    "strict-rfc1459": str.maketrans(_UPPER + "[]\\", _LOWER + "{}|"),
}
DEFAULT_CASEMAPPING = "rfc1459"
_HEX_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})")
# Token tables seen lately, each shared by every connection that was sent the same 005s.
_TOKENS = SharedTables()


def casefold(name: str, casemapping: str = DEFAULT_CASEMAPPING) -> str:
    """Fold ``name`` for comparison; unknown mappings fall back to rfc1459 (the RFC default)."""
    table = _TABLES.get(casemapping.lower(), _TABLES[DEFAULT_CASEMAPPING])
    return name.translate(table)


def _unescape(value: str) -> str:
    """ISUPPORT values escape special bytes as ``\\xHH`` (e.g. ``NETWORK=My\\x20Net``)."""
    return _HEX_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number > 0 else None


@dataclass
class ISupport:
    """The ISUPPORT tokens a server announced, with the defaults a client must assume.

    Every connection to a server gets the same 005 lines, so they share one token table
    (and one copy of its strings): ``update`` replaces the table rather than change it.
    """

    tokens: dict[str, str] = field(default_factory=dict)

    def update(self, params: list[str]) -> None:
        """Apply one ``005`` reply (params as received: our nick first, a text last)."""
        items = params[1:-1] if len(params) >= 3 else params[1:]
        tokens = _TOKENS.writable(self.tokens)
        for item in items:
            if not item:
                continue
            if item.startswith("-"):
                tokens.pop(item[1:].upper(), None)
                continue
            key, _, value = item.partition("=")
            tokens[sys.intern(key.upper())] = sys.intern(_unescape(value))
        self.tokens = _TOKENS.share(tokens)

    def get(self, key: str) -> str | None:
        """A token's value ("" for a token without one), or None when not announced."""
        return self.tokens.get(key.upper())

    @property
    def casemapping(self) -> str:
        value = (self.get("CASEMAPPING") or DEFAULT_CASEMAPPING).lower()
        if value not in _TABLES:
            log.debug("unknown CASEMAPPING %r, folding as rfc1459", value)
        return value

    def fold(self, name: str) -> str:
        """Fold a nick or channel name with this server's CASEMAPPING."""
        return casefold(name, self.casemapping)

    def equal(self, a: str, b: str) -> bool:
        return self.fold(a) == self.fold(b)

    @property
    def chantypes(self) -> str:
        value = self.get("CHANTYPES")
        return "#&" if value is None else value

    def is_channel(self, name: str) -> bool:
        return bool(name) and name[0] in self.chantypes

    @property
    def prefix(self) -> tuple[str, str]:
        """(modes, symbols), e.g. ("ov", "@+"), most powerful first."""
        value = self.get("PREFIX")
        if value is None:
            return "ov", "@+"
        if value == "":
            return "", ""
        match = re.fullmatch(r"\(([^)]*)\)(.*)", value)
        if not match or len(match.group(1)) != len(match.group(2)):
            log.warning("malformed PREFIX %r, assuming (ov)@+", value)
            return "ov", "@+"
        return match.group(1), match.group(2)

    @property
    def mode_to_prefix(self) -> dict[str, str]:
        modes, symbols = self.prefix
        return dict(zip(modes, symbols, strict=True))

    @property
    def prefix_to_mode(self) -> dict[str, str]:
        modes, symbols = self.prefix
        return dict(zip(symbols, modes, strict=True))

    def split_prefixes(self, name: str) -> tuple[str, str]:
        """``"@+nick"`` (NAMES, multi-prefix) -> (``"ov"``, ``"nick"``)."""
        to_mode = self.prefix_to_mode
        index = 0
        while index < len(name) and name[index] in to_mode:
            index += 1
        return "".join(to_mode[c] for c in name[:index]), name[index:]

    @property
    def chanmodes(self) -> tuple[str, str, str, str]:
        """CHANMODES groups A (lists), B (always a parameter), C (parameter when set), D."""
        value = self.get("CHANMODES")
        if value is None:
            return "beI", "k", "l", "imnpst"
        groups = [*value.split(","), "", "", "", ""][:4]
        return groups[0], groups[1], groups[2], groups[3]

    def mode_takes_param(self, mode: str, adding: bool) -> bool:
        """Whether a channel mode letter consumes an argument in a MODE line."""
        a, b, c, _ = self.chanmodes
        return mode in self.prefix[0] or mode in a or mode in b or (adding and mode in c)

    @property
    def nicklen(self) -> int | None:
        return _int_or_none(self.get("NICKLEN") or self.get("MAXNICKLEN"))

    @property
    def network(self) -> str | None:
        return self.get("NETWORK") or None

    @property
    def linelen(self) -> int:
        """Maximum line length including CR LF (the LINELEN token, else 512)."""
        value = _int_or_none(self.get("LINELEN"))
        return value if value is not None and value >= 512 else 512

    @property
    def statusmsg(self) -> str:
        return self.get("STATUSMSG") or ""
