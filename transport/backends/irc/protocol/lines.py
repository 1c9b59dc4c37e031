"""Turning user text into IRC lines that can never smuggle in a second command.

Everything here is pure. The invariants the rest of the IRC layer relies on:

* no output contains CR, LF or NUL, whatever the input;
* every ``PRIVMSG``/``NOTICE`` line, once the server prefixes it with ``:nick!user@host``
  and relays it, fits in ``limit`` bytes including CR LF (so no server truncates it);
* every chunk is valid UTF-8 (cuts fall on character, preferably word, boundaries).
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls we remove: all but CTCP (\x01) and mIRC formatting (bold, colour, reset,
# reverse, italic, strikethrough/monospace, underline). Tab becomes a space so pasted
# code keeps its word gaps.
_KEEP_C0 = "\x01\x02\x03\x0f\x16\x1d\x1e\x1f"
_DROP: dict[int, int | None] = {
    c: None for c in range(0x20) if chr(c) not in _KEEP_C0 and c not in (9, 10, 13)
}
_DROP[9] = ord(" ")
_NEWLINES = re.compile(r"\r\n|\r|\n")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_CTCP_HEAD = re.compile(r"\x01([A-Za-z0-9]+)( |\x01|$)")
_BAD_TARGET = re.compile(r"[\s,\x00\x01\x07]")
_CTCP_COMMAND = re.compile(r"[A-Za-z0-9]+")
_MAX_TAGS = 8191

# Conservative sizes used when our own user@host is not yet known (RFC 1035 host name
# limit, and the usual USERLEN plus the "~" added for a missing ident reply).
DEFAULT_USERLEN = 10
DEFAULT_HOSTLEN = 63


def sanitize(text: str) -> list[str]:
    """XMPP text -> IRC-safe lines: split on CR/LF, strip unsafe C0 controls, drop empties."""
    text = _SURROGATES.sub("\ufffd", text)
    lines = (part.translate(_DROP) for part in _NEWLINES.split(text))
    return [line for line in lines if line]


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8, never inside a character."""
    return text.encode("utf-8", "replace")[:max_bytes].decode("utf-8", "ignore")


def check_target(target: str) -> bytes:
    """Validate a PRIVMSG/NOTICE target: one word, no control characters, no comma lists."""
    if not target or target.startswith(":") or _BAD_TARGET.search(target):
        raise ValueError(f"invalid IRC target {target!r}")
    return target.encode("utf-8")


def prefix_len_for(nick: str, user: str | None = None, host: str | None = None) -> int:
    """Byte length of ``nick!user@host``, assuming worst-case user/host when unknown."""
    user_len = len(user.encode()) if user else DEFAULT_USERLEN + 1
    host_len = len(host.encode()) if host else DEFAULT_HOSTLEN
    return len(nick.encode()) + 1 + user_len + 1 + host_len


def _is_glue(ch: str) -> bool:
    """Characters that must stay with the character before them (same grapheme)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or cp == 0x200D  # zero-width joiner
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0x1F3FB <= cp <= 0x1F3FF  # skin tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # emoji tag sequences
    )


def _is_flag_half(data: bytes) -> bool:
    """A regional indicator (U+1F1E6..U+1F1FF): two of them make one flag."""
    return len(data) == 4 and data[:3] == b"\xf0\x9f\x87" and 0xA6 <= data[3] <= 0xBF


def _splits_flag(data: bytes, cut: int) -> bool:
    before, pos = 0, cut
    while pos >= 4 and _is_flag_half(data[pos - 4 : pos]):
        before, pos = before + 1, pos - 4
    return before % 2 == 1 and _is_flag_half(data[cut : cut + 4])


def _char_cut(data: bytes, cut: int) -> int:
    """Largest position <= cut that is a UTF-8 character boundary."""
    while cut > 0 and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    return cut


def _cut_point(data: bytes, budget: int) -> tuple[int, int]:
    """(end of this chunk, start of the next) for ``data`` longer than ``budget``.

    Prefers a space, which is dropped: servers strip trailing spaces anyway (ngIRCd does)
    and a leading one would look odd. Else a grapheme boundary, else a character boundary.
    """
    cut = _char_cut(data, budget)
    if cut == 0:
        return 0, 0
    space = data.rfind(b" ", 0, budget + 1)
    if space > 0 and space >= cut // 2:
        return space, space + 1
    # Back off while the next character glues onto the previous one, or the previous one
    # is a joiner; give up (plain character cut) rather than produce an empty chunk.
    grapheme = cut
    for _ in range(32):
        nxt = data[grapheme : grapheme + 4].decode("utf-8", "ignore")[:1]
        prev = data[max(0, grapheme - 4) : grapheme].decode("utf-8", "ignore")[-1:]
        if not nxt or not prev:
            break
        if not (_is_glue(nxt) or prev == "\u200d" or _splits_flag(data, grapheme)):
            break
        grapheme = _char_cut(data, grapheme - 1)
        if grapheme == 0:
            return cut, cut
    # Keep an mIRC colour code (\x03 + up to "NN,NN") whole rather than orphan its digits.
    colour = data.rfind(b"\x03", max(0, grapheme - 5), grapheme)
    if colour > 0 and re.fullmatch(rb"\x03\d{0,2}(,\d{0,2})?", data[colour:grapheme]):
        return colour, colour
    return grapheme, grapheme


def _chunks(data: bytes, budget: int) -> list[bytes]:
    out: list[bytes] = []
    while len(data) > budget:
        end, start = _cut_point(data, budget)
        if end == 0:
            raise ValueError("line budget smaller than one character")
        out.append(data[:end])
        data = data[start:]
    if data:
        out.append(data)
    return out


def _ctcp_frame(lines: list[str]) -> tuple[str, list[str]]:
    """Detect ``\\x01CMD ...\\x01`` framing; return (opening, inner lines) or ("", lines)."""
    match = _CTCP_HEAD.match(lines[0])
    if not match:
        return "", lines
    opening = f"\x01{match.group(1)} "
    inner = list(lines)
    inner[0] = inner[0][match.end(1) + 1 :] if match.group(2) == " " else inner[0][match.end(1) :]
    if inner[-1].endswith("\x01"):
        inner[-1] = inner[-1][:-1]
    inner = [line for line in inner if line]
    if not inner:
        return "", [f"\x01{match.group(1)}\x01"]
    return opening, inner


def split_for_irc(
    target: str, text: str, prefix_len: int, limit: int = 512, command: str = "PRIVMSG"
) -> list[bytes]:
    """Cut ``text`` into payloads so ``:<prefix> COMMAND target :payload\\r\\n`` fits ``limit``.

    ``prefix_len`` is the byte length of the sender mask ``nick!user@host`` as the
    server will relay it (see :func:`prefix_len_for`). Newlines start new payloads; a CTCP
    frame (``\\x01ACTION ...\\x01``) is repeated around every part.
    """
    target_b = check_target(target)
    lines = sanitize(text)
    if not lines:
        return []
    opening, inner = _ctcp_frame(lines)
    framing = (opening.encode(), b"\x01") if opening else (b"", b"")
    overhead = 1 + prefix_len + 1 + len(command) + 1 + len(target_b) + 2 + 2
    budget = limit - overhead - len(framing[0]) - len(framing[1])
    if budget < 4:  # must hold at least one 4-byte UTF-8 character
        raise ValueError("target and prefix leave no room for text")
    out: list[bytes] = []
    for line in inner:
        for chunk in _chunks(line.encode("utf-8"), budget):
            out.append(framing[0] + chunk + framing[1])
    return out


def _make(command: str, target: str, text: str, prefix_len: int | None, limit: int) -> list[bytes]:
    plen = prefix_len if prefix_len is not None else prefix_len_for("x" * 30)
    head = f"{command} {target} :".encode()
    return [head + chunk for chunk in split_for_irc(target, text, plen, limit, command)]


def make_privmsg(
    target: str, text: str, prefix_len: int | None = None, limit: int = 512
) -> list[bytes]:
    """``PRIVMSG`` lines (without CR LF) carrying ``text``; one or more per input line."""
    return _make("PRIVMSG", target, text, prefix_len, limit)


def make_notice(
    target: str, text: str, prefix_len: int | None = None, limit: int = 512
) -> list[bytes]:
    """``NOTICE`` lines (without CR LF) carrying ``text``."""
    return _make("NOTICE", target, text, prefix_len, limit)


def make_ctcp(
    target: str,
    ctcp: str,
    argument: str = "",
    prefix_len: int | None = None,
    limit: int = 512,
    *,
    reply: bool = False,
) -> list[bytes]:
    """A CTCP request (PRIVMSG) or reply (NOTICE); ``ACTION`` text is split like any text."""
    if not _CTCP_COMMAND.fullmatch(ctcp):
        raise ValueError(f"invalid CTCP command {ctcp!r}")
    if argument:
        argument = " ".join(sanitize(argument)).replace("\x01", "")
    body = f"\x01{ctcp.upper()} {argument}\x01" if argument else f"\x01{ctcp.upper()}\x01"
    return _make("NOTICE" if reply else "PRIVMSG", target, body, prefix_len, limit)


def check_line(line: str | bytes, limit: int = 512) -> bytes:
    """Validate one raw outgoing line (no CR LF); return it encoded.

    Refuses CR, LF and NUL anywhere, empty lines, and lines the server would truncate:
    the part after any ``@tags`` must fit ``limit`` bytes with its CR LF.
    """
    data = line.encode("utf-8") if isinstance(line, str) else bytes(line)
    if not data.strip(b" "):
        raise ValueError("empty IRC line")
    if b"\r" in data or b"\n" in data or b"\x00" in data:
        raise ValueError("CR, LF or NUL in an IRC line")
    body = data
    if data.startswith(b"@"):
        tags, _, body = data.partition(b" ")
        if len(tags) > _MAX_TAGS or not body.strip(b" "):
            raise ValueError("malformed or oversized message tags")
    if len(body) + 2 > limit:
        raise ValueError(f"IRC line of {len(body) + 2} bytes exceeds {limit}")
    return data
