"""A seeded generator of hostile presences, written as raw XML by real client streams.

Each stanza is well-formed XML with legal characters (else the server closes the client's
stream, which tests the server); what it says is hostile: every presence type (available,
unavailable, error, probe, the four subscription types) to addresses at the gateway that
are odd (XEP-0106 escapes, case, very long parts, bidi and compatibility characters,
characters the server refuses and bounces), priorities out of range or not numbers, huge
status texts, unknown shows and payloads.
"""

from __future__ import annotations

import random

from .stanzas import attr, text

TYPES = ["available", "available", "available", "unavailable", "unavailable", "error",
         "probe", "subscribe", "subscribed", "unsubscribe", "unsubscribed"]
SHOWS = ["away", "chat", "dnd", "xa", "", "online", "<b/>", "x" * 300]
PRIORITIES = ["0", "1", "-1", "127", "128", "-128", "-129", "999999999999", "-99999999999",
              "1.5", "abc", "", "+5", " 7 ", "0x10", "\u0661"]
ODD_LOCALPARTS = ["contact", "UPPER", "a\\20b", "x\\40y", "\\5c", "\\zz", "\\27", "%",
                  "#room%127.0.0.1", "nick%localhost", "x'y", "İ", "ﬀ", "Ⅸ", "\u202eevil",
                  "\u200b", "\U0001F600", "a" * 1023, "a" * 1100, "a b", "a@b", "",
                  "+12125550142", "café", "e\u0301"]
ODD_RESOURCES = ["r", "a/b", "r" * 1023, "r" * 1100, "\u202e", "\U0001F600", "with space",
                 "İ", "\\40", "@", ""]
NICKS = ["n", "nick", "Nick", "ni ck", "a:b", "!bang", "#hash", "x" * 200, "ü", "\u202eevil",
         "[]\\`_^{|}", "nick,other", "*", "q" * 31, "Ⅸ"]
ERRORS = ["bad-request", "item-not-found", "remote-server-not-found", "not-allowed", "x"]


class PresenceGenerator:
    """Draws hostile presences to addresses under ``domain`` from one seeded source."""

    def __init__(self, rng: random.Random, domain: str, rooms: tuple[str, ...] = ()) -> None:
        """``rooms``: bare room JIDs under ``domain`` to join and leave (with odd nicks);
        with rooms, no broadcasts (they would reach the domain only by subscription)."""
        self.rng = rng
        self.domain = domain
        self.rooms = rooms

    def target(self) -> str | None:
        """None: a broadcast (no ``to``); else an address at the gateway, odd or not."""
        rng = self.rng
        choice = rng.randrange(10)
        if choice < 3:
            if not self.rooms:
                return None
            return f"{rng.choice(self.rooms)}/{rng.choice(NICKS)}"
        if choice == 3:
            return self.domain
        if choice == 4:
            return f"{rng.choice(['bob', 'eve', 'contact'])}@{self.domain}"
        if choice == 5:
            return rng.choice([self.domain.upper(), f"Bob@{self.domain.upper()}",
                               f"{self.domain}.", f"{self.domain}/{rng.choice(ODD_RESOURCES)}"])
        local = rng.choice(ODD_LOCALPARTS)
        resource = f"/{rng.choice(ODD_RESOURCES)}" if rng.random() < 0.3 else ""
        return f"{local}@{self.domain}{resource}"

    def payload(self, ptype: str) -> str:
        rng = self.rng
        parts = []
        if ptype == "error":
            condition = rng.choice(ERRORS)
            parts.append(f"<error type='cancel'><{condition} "
                         "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>")
        if rng.random() < 0.4:
            parts.append(f"<show>{text(rng.choice(SHOWS))}</show>")
        if rng.random() < 0.4:
            parts.append(f"<priority>{text(rng.choice(PRIORITIES))}</priority>")
        if rng.random() < 0.3:
            size = rng.choice([0, 10, 3000, 60_000])
            parts.append(f"<status>{text(rng.choice(['s', 'é', chr(0x202e), '<']) * size)}"
                         "</status>")
        if rng.random() < 0.1:
            parts.append("<x xmlns='http://jabber.org/protocol/muc'><history maxstanzas="
                         f"{attr(rng.choice(['-1', '0', 'x']))}/></x>")
        if rng.random() < 0.1:
            parts.append("<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                         f"node={attr('x' * 500)} ver={attr(rng.choice(PRIORITIES))}/>")
        return "".join(parts)

    def presence(self) -> str:
        """One presence. An unavailable one always has an address: a resource that ends its
        broadcast presence and stays connected, then sends directed presence to a JID that
        subscribes to it, is never followed by an unavailable presence from Prosody, not
        even when it disconnects, so the gateway cannot see it leave (the known gap of
        ``test_hidden_presence.py``)."""
        ptype = self.rng.choice(TYPES)
        to = self.target()
        if to is None and ptype == "unavailable":
            to = self.domain
        if to is None and ptype not in ("available", "unavailable"):
            to = self.domain  # subscriptions, probes and errors need an address
        attrs = f" to={attr(to)}" if to is not None else ""
        if ptype != "available":
            attrs += f" type={attr(ptype)}"
        if self.rng.random() < 0.2:
            attrs += f" id={attr(self.rng.choice(['', 'x' * 300, 'p1']))}"
        return f"<presence{attrs}>{self.payload(ptype)}</presence>"

    def barrage(self, count: int) -> tuple[str, ...]:
        return tuple(self.presence() for _ in range(count))

    def flap(self, count: int, target: str) -> tuple[str, ...]:
        """``count`` directed presences to ``target``, available and unavailable in turn,
        sent faster than the hooks they cause can run."""
        kinds = ["", " type='unavailable'"]
        stanzas = [f"<presence to={attr(target)}{kinds[i % 2]}/>" for i in range(count)]
        return tuple(stanzas)
