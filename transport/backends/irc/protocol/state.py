"""Who we are on a server (nick, user@host, ISUPPORT), tracked from what it sends us.

Sans-I/O like :mod:`.caps`: the connection feeds events in and writes the returned lines.
Our own ``user@host`` matters because the server relays our messages with it, and a line
sized without it may be truncated by the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .casemap import ISupport
from .events import IrcEvent
from .lines import prefix_len_for, sanitize
from .nickmask import NickMask

_FATAL_BEFORE_WELCOME = {
    "432": "erroneous nickname",
    "464": "password incorrect",
    "465": "banned from this server",
}


def append_underscore(nick: str) -> str | None:
    """Default answer to "nickname in use" during registration."""
    return nick + "_"


def _check_word(word: str, what: str) -> None:
    if sanitize(word) != [word] or " " in word or word.startswith(":"):
        raise ValueError(f"invalid {what} {word!r}")


def greeting(
    nick: str, username: str | None, realname: str | None, password: str | None
) -> list[str]:
    """PASS/NICK/USER lines, refusing values that could break out of their parameter."""
    _check_word(nick, "nick")
    _check_word(username or nick, "username")
    lines = []
    if password:
        if sanitize(password) != [password]:
            raise ValueError("invalid server password")
        lines.append(f"PASS :{password}" if " " in password else f"PASS {password}")
    real = " ".join(sanitize(realname or nick)) or nick
    return [*lines, f"NICK {nick}", f"USER {username or nick} 0 * :{real}"]


@dataclass
class StateStep:
    """Lines to send after one event, whether 001 just arrived, and a fatal error if any."""

    send: list[str] = field(default_factory=list)
    welcomed: bool = False
    error: str | None = None


class ClientState:
    """Our identity on one server and the registration-time nick fallback."""

    def __init__(
        self,
        nick: str,
        nick_in_use: Callable[[str], str | None] = append_underscore,
        max_nick_attempts: int = 10,
    ) -> None:
        self.nick = nick
        self.mask: str | None = None
        self.server = ""
        self.isupport = ISupport()
        self.welcomed = False
        self._nick_in_use = nick_in_use
        self._max_attempts = max_nick_attempts
        self._attempts = 0

    @property
    def prefix_len(self) -> int:
        """Byte length of our ``nick!user@host`` as others see it (worst case if unknown)."""
        if self.mask:
            mask = NickMask(self.mask)
            return prefix_len_for(self.nick, mask.user, mask.host)
        return prefix_len_for(self.nick)

    def is_me(self, nick: str) -> bool:
        return self.isupport.equal(nick, self.nick)

    def handle(self, ev: IrcEvent) -> StateStep:
        step = StateStep()
        if not self.welcomed:
            self._before_welcome(ev, step)
        if ev.command == "005":
            self.isupport.update(ev.params)
        self._track_self(ev)
        return step

    def _before_welcome(self, ev: IrcEvent, step: StateStep) -> None:
        cmd = ev.command
        if cmd == "001":
            self.welcomed = step.welcomed = True
            self.nick = ev.param(0) or self.nick
            self.server = str(ev.source) if ev.source is not None else ""
            # Many servers end 001 with our full mask ("Welcome ... nick!user@host").
            last_word = ev.param(-1).rsplit(" ", 1)[-1]
            if "!" in last_word and "@" in last_word and self.is_me(str(NickMask(last_word).nick)):
                self.mask = last_word
        elif cmd in ("433", "437"):
            rejected = ev.param(1) or self.nick
            self._attempts += 1
            new = self._nick_in_use(rejected)
            if new is None or self._attempts > self._max_attempts:
                step.error = f"nickname {rejected} is in use"
            elif sanitize(new) != [new] or " " in new or new.startswith(":"):
                step.error = f"invalid replacement nickname {new!r}"
            else:
                self.nick = new
                step.send.append(f"NICK {new}")
        elif cmd in _FATAL_BEFORE_WELCOME:
            step.error = f"{_FATAL_BEFORE_WELCOME[cmd]}: {ev.param(-1)}"

    def _track_self(self, ev: IrcEvent) -> None:
        source = ev.source
        if ev.command == "396" and self.mask and ev.param(1):  # RPL_HOSTHIDDEN
            self.mask = f"{self.nick}!{NickMask(self.mask).user}@{ev.param(1)}"
            return
        if source is None or not self.is_me(str(source.nick)):
            return
        if source.user and source.host:
            self.mask = str(source)
        if ev.command == "NICK" and ev.param(0):
            self.nick = ev.param(0)
            if self.mask:
                self.mask = f"{self.nick}!{NickMask(self.mask).userhost}"
        elif ev.command == "CHGHOST" and len(ev.params) >= 2:
            self.mask = f"{self.nick}!{ev.params[0]}@{ev.params[1]}"
