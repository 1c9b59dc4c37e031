"""The IRC configure forms: which field maps to which preference, and how values are checked.

A form shows each setting's effective value (the user's own, else the config's default); a
submitted value equal to what is in effect changes nothing, so a user who never touched a
setting keeps following the gateway's default. Emptying a field unsets it. Secrets are
never shown back: an empty secret keeps the stored one and a ``forget_…`` box clears it.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from transport.backends.irc.protocol.pinning import BadFingerprint, normalize_fingerprint
from transport.core.backend import FormField

MAX_HISTORY: Final = 10_000
MAX_LINE_BYTES: Final = 510
KEEP: Final = object()
"""What a parser returns when the submission expresses no choice (a boolean sent empty)."""

Parser = Callable[[Any], Any]
TRI_STATE: Final = (("unset", "unset"), ("true", "true"), ("false", "false"))
_NICK_BAD: Final = re.compile(r"[\s,*?!@\x00-\x1f\x7f]")
_USER_BAD: Final = re.compile(r"[\s@\x00-\x1f\x7f]")
_INT: Final = re.compile(r"-?[0-9]+")
_PORT_SPLIT: Final = re.compile(r"[\s,;]+")
_ASCII: Final = "".join(map(chr, range(128)))
_TRUTH: Final = {"1": True, "true": True, "0": False, "false": False}


class BadValue(ValueError):
    """A submitted value the gateway refuses; the text says what is wrong."""


def one(raw: Any) -> str:
    """A single submitted value as text (typed or untyped submissions alike)."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, list):
        if len(raw) > 1:
            raise BadValue("expected a single value")
        return str(raw[0]) if raw else ""
    return str(raw)


def lines(raw: Any) -> list[str]:
    """A text-multi submission as its non-empty lines."""
    items = raw if isinstance(raw, list) else [] if raw is None else [raw]
    out = [part.strip() for item in items for part in str(item).split("\n")]
    return [part for part in out if part]


def safe_line(text: str) -> str:
    """Text that will travel in one IRC line: no CR, LF or NUL, and short enough."""
    if any(c in text for c in "\r\n\x00"):
        raise BadValue("line breaks and NUL characters are not allowed")
    if len(text.encode()) > MAX_LINE_BYTES:
        raise BadValue(f"too long (at most {MAX_LINE_BYTES} bytes)")
    return text


def integer(low: int, high: int, empty: Any) -> Parser:
    """An integer in ``low..high``; ``empty`` when the field is left blank."""

    def parse(raw: Any) -> Any:
        text = one(raw).strip()
        if not text:
            return empty
        if not _INT.fullmatch(text) or not low <= int(text) <= high:
            raise BadValue(f"{text!r} is not a whole number from {low} to {high}")
        return int(text)

    return parse


def ports(raw: Any) -> tuple[int, ...]:
    """Port numbers, one per line (commas or spaces also separate them)."""
    out: list[int] = []
    for line in lines(raw):
        for token in filter(None, _PORT_SPLIT.split(line)):
            if not token.isascii() or not token.isdigit() or not 1 <= int(token) <= 65535:
                raise BadValue(f"{token!r} is not a port number (1-65535)")
            out.append(int(token))
    return tuple(dict.fromkeys(out))


def boolean(raw: Any) -> Any:
    if isinstance(raw, bool):
        return raw
    text = one(raw).strip().lower()
    if text and text not in _TRUTH:
        raise BadValue(f"{text!r} is not true or false")
    return _TRUTH[text] if text else KEEP


def tri_state(raw: Any) -> Any:
    """unset/true/false (biboumi's list-single); plain booleans are accepted too."""
    if raw is None or raw == []:
        return KEEP
    return None if one(raw).strip().lower() in ("", "unset") else boolean(raw)


def encoding(raw: Any) -> str | None:
    """A codec Python knows that keeps ASCII as is (IRC's delimiters must survive)."""
    text = one(raw).strip()
    if not text:
        return None
    try:
        name = codecs.lookup(text).name
    except LookupError:
        raise BadValue(f"unknown encoding {text!r}") from None
    try:
        ascii_ok = _ASCII.encode(name) == _ASCII.encode("ascii")
    except (LookupError, UnicodeError, TypeError, ValueError):
        ascii_ok = False
    if not ascii_ok:
        raise BadValue(f"encoding {text!r} cannot be used on IRC (not ASCII-compatible)")
    return name


def _word(bad: re.Pattern[str], leading: str, what: str) -> Parser:
    """A single IRC word (nick, username): no spaces, nothing IRC reads specially."""

    def parse(raw: Any) -> str | None:
        text = one(raw).strip()
        if text and (len(text) > 64 or bad.search(text) or text[0] in leading):
            raise BadValue(f"{text!r} is not a valid IRC {what}")
        return text or None

    return parse


nick = _word(_NICK_BAD, "$:#&", "nickname")
username = _word(_USER_BAD, "", "username (no spaces or @)")


def text_line(raw: Any) -> str | None:
    text = one(raw).strip()
    return safe_line(text) if text else None


def command_lines(raw: Any) -> tuple[str, ...]:
    return tuple(safe_line(line) for line in lines(raw))


def fingerprint(raw: Any) -> str | None:
    """SHA-256 (or SHA-1) in hex, colons allowed; stored as lowercase hex without colons."""
    text = one(raw).strip()
    if not text:
        return None
    try:
        return normalize_fingerprint(text)
    except BadFingerprint as err:
        raise BadValue(str(err)) from None


def show(value: Any) -> str | list[str] | bool | None:
    """A stored value as a form value (tuples become text-multi lines)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, tuple):
        return [str(v) for v in value]
    return str(value)


def show_tri(value: Any) -> str:
    return "unset" if value is None else "true" if value else "false"


@dataclass(frozen=True, slots=True)
class Setting:
    """One form field bound to one preference attribute."""

    var: str
    label: str
    type: str
    attr: str
    parse: Parser
    desc: str = ""
    render: Callable[[Any], str | list[str] | bool | None] = show
    options: tuple[tuple[str, str], ...] = ()
    secret: bool = False


def _setting(var: str, label: str, kind: str, parse: Parser, desc: str = "") -> Setting:
    return Setting(var, label, kind, var, parse, desc)


GLOBAL: Final = (
    _setting("max_history_length", "Max history length", "text-single",
             integer(0, MAX_HISTORY, 20),
             f"Channel lines sent when you join a channel (0-{MAX_HISTORY})."),
    _setting("record_history", "Record history", "boolean", boolean,
             "Whether channel lines are archived for you."),
    _setting("persistent", "Make all channels persistent", "boolean", boolean,
             "Stay in channels after your last client leaves (a channel's own choice wins)."),
)

SERVER: Final = (
    _setting("ports", "Ports", "text-multi", ports,
             "Ports to use without TLS, one per line; used only when no TLS port is set."),
    _setting("tls_ports", "TLS ports", "text-multi", ports,
             "Ports to try with TLS, one per line. Empty: the gateway's default."),
    _setting("verify_cert", "Verify certificate", "boolean", boolean,
             "Abort the connection if the server's TLS certificate is invalid."),
    _setting("fingerprint", "Trusted certificate fingerprint", "text-single", fingerprint,
             "SHA-256 (or SHA-1) of the server's certificate, hex (AA:BB:... works too): "
             "only that certificate is accepted, even a self-signed one."),
    Setting("sasl_password", "SASL password", "text-private", "sasl_password", text_line,
            "Authenticates your nick with SASL PLAIN.", secret=True),
    _setting("nick", "Nickname", "text-single", nick,
             "Overrides the nick given when joining the first channel of this server."),
    Setting("pass", "Server password", "text-private", "password", text_line,
            "Sent in a PASS command when connecting.", secret=True),
    _setting("after_connect_commands", "After-connection IRC commands", "text-multi",
             command_lines, "Raw IRC lines sent once connected, one per line."),
    _setting("username", "Username", "text-single", username),
    _setting("realname", "Realname", "text-single", text_line),
    _setting("throttle_limit", "Throttle limit", "text-single",
             integer(-1, 1_000_000, None), "Lines sent at once before pacing; -1 turns it off."),
    _setting("encoding_out", "Out encoding", "text-single", encoding,
             "The encoding used when sending messages to the IRC server."),
    _setting("encoding_in", "In encoding", "text-single", encoding,
             "Decodes lines from the IRC server that are not valid UTF-8."),
)

ENDPOINT_VARS: Final = ("ports", "tls_ports")
LISTED_SERVER: Final = tuple(s for s in SERVER if s.var not in ENDPOINT_VARS)
"""The form of a server the admin lists: its port and TLS are the admin's to set."""

_CHANNEL_UNSET = "unset: the global setting"
CHANNEL: Final = (
    Setting("record_history", "Record history for this channel", "list-single",
            "record_history", tri_state, f"If {_CHANNEL_UNSET}.", show_tri, TRI_STATE),
    _setting("encoding_out", "Out encoding", "text-single", encoding,
             "Empty: the server's out encoding."),
    _setting("encoding_in", "In encoding", "text-single", encoding,
             "Empty: the server's in encoding."),
    Setting("persistent", "Persistent", "list-single", "persistent", tri_state,
            "Stay in the channel when all your clients have left it; "
            f"if {_CHANNEL_UNSET}.", show_tri, TRI_STATE),
)


def forget_var(setting: Setting) -> str:
    return f"forget_{setting.var}"


def effective(setting: Setting, prefs: Any, defaults: Mapping[str, Any]) -> Any:
    stored = getattr(prefs, setting.attr)
    return defaults.get(setting.attr) if stored is None or stored == () else stored


def build(
    settings: tuple[Setting, ...], prefs: Any, defaults: Mapping[str, Any]
) -> tuple[FormField, ...]:
    """The form for ``prefs``: effective values shown, secrets only said to be stored."""
    out: list[FormField] = []
    for s in settings:
        if not s.secret:
            value = s.render(effective(s, prefs, defaults))
            out.append(FormField(s.var, s.label, s.type, False, s.desc, s.options, value))
            continue
        stored = getattr(prefs, s.attr) is not None
        note = " One is stored: leave empty to keep it." if stored else ""
        out.append(FormField(s.var, s.label, s.type, False, s.desc + note))
        if stored:
            out.append(FormField(forget_var(s), f"Forget the stored {s.label.lower()}",
                                 "boolean", False, value=False))
    return tuple(out)


def changes(
    settings: tuple[Setting, ...],
    prefs: Any,
    defaults: Mapping[str, Any],
    values: Mapping[str, Any],
) -> tuple[dict[str, Any], list[str]]:
    """(attribute -> new value, errors) for a submission; fields left out change nothing."""
    out: dict[str, Any] = {}
    errors: list[str] = []
    for s in settings:
        try:
            new = s.parse(values[s.var]) if s.var in values else KEEP
            forget = s.secret and boolean(values.get(forget_var(s))) is True
        except BadValue as err:
            errors.append(f"{s.label} ({s.var}): {err}")
            continue
        if s.secret:
            if new not in (KEEP, None):
                out[s.attr] = new
            elif forget and getattr(prefs, s.attr) is not None:
                out[s.attr] = None
        elif new is not KEEP and new != effective(s, prefs, defaults):
            out[s.attr] = new
    return out, errors
