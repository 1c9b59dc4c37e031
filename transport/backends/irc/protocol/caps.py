"""IRCv3 capability negotiation (``CAP LS 302``) and SASL PLAIN, as a sans-I/O state machine.

The connection feeds every received :class:`IrcEvent` in and writes out whatever lines come
back, so the whole exchange is testable without a socket. biboumi only sends ``CAP REQ`` for
two capabilities; we list what the server offers and request what we can use.
"""

from __future__ import annotations

import base64
import functools
import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

from .events import IrcEvent
from .lite import SMALL, Shared, SharedTables

log = logging.getLogger(__name__)

DEFAULT_CAPS = frozenset(
    {
        "multi-prefix",
        "sasl",
        "server-time",
        "message-tags",
        "echo-message",
        "away-notify",
        "account-tag",
        "chghost",
        "cap-notify",
        "userhost-in-names",
    }
)
# Capabilities after which the server may put tags on lines we receive.
TAG_CAPS = frozenset({"message-tags", "server-time", "account-tag"})
_SASL_CHUNK = 400
_SASL_FAIL = {"902", "904", "905", "906"}


@dataclass
class CapStep:
    """What the connection must do after one event: lines to send, and the outcome."""

    send: list[str] = field(default_factory=list)
    finished: bool = False
    error: str | None = None


def _cap_tokens(text: str) -> dict[str, str]:
    """Interned: every connection to a server keeps the same names and values."""
    caps: dict[str, str] = {}
    for token in text.split():
        name, _, value = token.lstrip("~=").partition("=")
        if name:
            caps[sys.intern(name.lower())] = sys.intern(value)
    return caps


# What connections to one server were offered and got is the same for all of them: one
# read-only copy each, replaced (not changed) when it changes.
_OFFERED = SharedTables()
_ENABLED: Shared[frozenset[str], frozenset[str]] = Shared()


def _shared_caps(caps: set[str]) -> frozenset[str] | set[str]:
    """Small sets are shared (and frozen); a large one stays private (see ``SMALL``)."""
    if len(caps) > SMALL:
        return caps
    frozen = frozenset(caps)
    return _ENABLED.get(frozen, frozen)


@functools.lru_cache(maxsize=32)
def _wanted(wanted: frozenset[str], sasl: bool) -> frozenset[str]:
    """One set per distinct wish, shared by every connection making it."""
    lowered = frozenset(c.lower() for c in wanted)
    return lowered | {"sasl"} if sasl else lowered - {"sasl"}


def sasl_plain_payload(authcid: str, password: str) -> list[str]:
    """The ``AUTHENTICATE`` arguments carrying a PLAIN response, in 400-byte pieces."""
    raw = f"{authcid}\0{authcid}\0{password}".encode()
    encoded = base64.b64encode(raw).decode("ascii")
    pieces = [encoded[i : i + _SASL_CHUNK] for i in range(0, len(encoded), _SASL_CHUNK)]
    if not pieces or len(pieces[-1]) == _SASL_CHUNK:
        pieces.append("+")
    return pieces


class CapNegotiator:
    """Drives CAP LS/REQ/END and SASL; afterwards tracks ``CAP NEW``/``CAP DEL``."""

    def __init__(
        self,
        wanted: Iterable[str] = DEFAULT_CAPS,
        sasl_plain: tuple[str, str] | None = None,
        sasl_required: bool = True,
    ) -> None:
        self.wanted = _wanted(frozenset(wanted), sasl_plain is not None)
        self._sasl = sasl_plain
        self._sasl_required = sasl_required and sasl_plain is not None
        # Shared with other connections while small: replaced, not changed (see _OFFERED).
        self.offered: dict[str, str] = {}
        self.enabled: frozenset[str] | set[str] = frozenset()
        self.finished = False
        self.account: str | None = None
        self.sasl_ok = False
        self._ls_done = False
        self._pending: list[frozenset[str]] = []
        self._sasl_state = "idle"

    @property
    def tags_enabled(self) -> bool:
        return bool(self.enabled & TAG_CAPS)

    def start(self) -> list[str]:
        return ["CAP LS 302"]

    def handle(self, ev: IrcEvent) -> CapStep:
        """Advance on one received line (irrelevant lines return an empty step)."""
        cmd = ev.command
        if cmd == "CAP":
            return self._on_cap(ev)
        if self.finished:
            if cmd == "900":
                self.account = ev.param(2) or None
            return CapStep()
        if cmd == "AUTHENTICATE" and ev.param(0) == "+" and self._sasl_state == "started":
            assert self._sasl is not None
            self._sasl_state = "sent"
            return CapStep([f"AUTHENTICATE {p}" for p in sasl_plain_payload(*self._sasl)])
        if cmd == "900":
            self.account = ev.param(2) or None
        elif cmd in ("903", "907") and self._sasl_state != "idle":
            self.sasl_ok = True
            self._sasl_state = "done"
            return self._end()
        elif cmd in _SASL_FAIL and self._sasl_state != "idle":
            self._sasl_state = "done"
            reason = f"SASL authentication failed ({cmd} {ev.param(-1)})"
            if self._sasl_required:
                return CapStep(["QUIT :SASL authentication failed"], error=reason)
            log.warning("%s; continuing unauthenticated", reason)
            return self._end()
        elif cmd == "410" or (cmd == "421" and ev.param(1).upper() == "CAP"):
            log.info("server does not support CAP")
            self._pending.clear()
            return self._end()
        elif cmd == "001":
            # Registered without our CAP END: the server ignores CAP altogether.
            self.finished = True
            if self._sasl_required and not self.sasl_ok:
                return CapStep(["QUIT :SASL unavailable"], error="server does not offer SASL")
            return CapStep(finished=True)
        return CapStep()

    def _on_cap(self, ev: IrcEvent) -> CapStep:
        sub = ev.param(1).upper()
        caps_text = ev.param(-1)
        if sub == "LS":
            self._offer(_cap_tokens(caps_text))
            more = len(ev.params) >= 4 and ev.param(2) == "*"
            if more or self._ls_done or self.finished:
                return CapStep()
            self._ls_done = True
            return self._request(set(self.offered) & self.wanted)
        if sub == "ACK":
            enabled = self._writable_enabled()
            for name in caps_text.split():
                if name.startswith("-"):
                    enabled.discard(name[1:].lower())
                else:
                    enabled.add(sys.intern(name.lstrip("~=").lower()))
            self.enabled = _shared_caps(enabled)
            return self._answered()
        if sub == "NAK":
            refused = frozenset(_cap_tokens(caps_text))
            log.info("server refused capabilities %s", " ".join(sorted(refused)))
            if self._pending:
                self._pending.pop(0)
            if len(refused) > 1 and not self.finished:
                # Some servers refuse a whole REQ for one unknown cap: ask one by one.
                return self._send_reqs([frozenset({c}) for c in sorted(refused)])
            return self._answered(popped=True)
        if sub == "NEW":
            new = _cap_tokens(caps_text)
            self._offer(new)
            if self.finished:
                return self._send_reqs([frozenset(set(new) & self.wanted - {"sasl"})])
        elif sub == "DEL":
            gone = _cap_tokens(caps_text)
            self._offer({}, gone)
            enabled = self._writable_enabled()
            enabled.difference_update(gone)
            self.enabled = _shared_caps(enabled)
        return CapStep()

    def _offer(self, new: dict[str, str], gone: Iterable[str] = ()) -> None:
        offered = _OFFERED.writable(self.offered)
        offered.update(new)
        for name in gone:
            offered.pop(name, None)
        self.offered = _OFFERED.share(offered)

    def _writable_enabled(self) -> set[str]:
        enabled = self.enabled
        return set(enabled) if isinstance(enabled, frozenset) else enabled

    def _request(self, want: set[str]) -> CapStep:
        if "sasl" in want:
            mechanisms = self.offered.get("sasl", "")
            if mechanisms and "PLAIN" not in mechanisms.upper().split(","):
                log.warning("server SASL mechanisms %s lack PLAIN", mechanisms)
                want.discard("sasl")
        if not want:
            return self._end()
        return self._send_reqs([frozenset(want)])

    def _send_reqs(self, groups: list[frozenset[str]]) -> CapStep:
        groups = [g for g in groups if g]
        self._pending.extend(groups)
        return CapStep([f"CAP REQ :{' '.join(sorted(g))}" for g in groups])

    def _answered(self, popped: bool = False) -> CapStep:
        if self._pending and not popped:
            self._pending.pop(0)
        if self.finished or self._pending:
            return CapStep()
        if "sasl" in self.enabled and self._sasl is not None and self._sasl_state == "idle":
            self._sasl_state = "started"
            return CapStep(["AUTHENTICATE PLAIN"])
        return self._end()

    def _end(self) -> CapStep:
        if self.finished:
            return CapStep()
        if self._sasl_required and not self.sasl_ok:
            self.finished = True
            reason = "server does not offer SASL PLAIN"
            return CapStep(["QUIT :SASL unavailable"], error=reason)
        self.finished = True
        return CapStep(["CAP END"], finished=True)
