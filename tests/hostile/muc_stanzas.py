"""A seeded generator of hostile stanzas for the core's MUC service (XEP-0045, MAM on rooms).

Addressed to rooms of the worked example (``examples/roomchat``) and of IRC: joins with odd
nicks, passwords and history limits, leaves and nick changes in any order, error presences,
bodiless room messages (subjects, invitations to hostile JIDs, declines, errors with odd
conditions), ``muc#admin``/``muc#owner`` IQs with bad items and forms, and MAM queries with
bad dates and RSM limits. Every stanza is well-formed XML; each IQ get/set has a unique id.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from .stanzas import MUC, ODD_NICKS, ODD_TEXT, Hostile, StanzaGenerator, Targets, attr, text

MUC_USER = f"{MUC}#user"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
MAM = "urn:xmpp:mam:2"
NUMBERS = ["-1", "0", "1", "3", "-0", "+2", " 5", "1e3", "0x10", "abc", "", "9" * 40,
           "2147483648", "-9999999999", "1.5", "\u0663"]
DATES = ["2024-13-45T99:99:99Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
         "0001-01-01T00:00:00Z", "yesterday", "", "2026-12-07", "2026-12-07T06:00:00+25:00",
         "-1", "1e99", "2026-12-07T06:00:00.1234567890123Z"]
NICKS = [*ODD_NICKS, "a" * 1023, "\u00a0", "bot", "BOT", "alice", "r0"]
CONDITIONS = ["gone", "item-not-found", "recipient-unavailable", "service-unavailable",
              "not-acceptable", "undefined-condition", "x-unknown", "remote-server-not-found"]
AFFILIATIONS = ["owner", "admin", "member", "outcast", "none", "OWNER", "", "god"]
ROLES = ["moderator", "participant", "visitor", "none", "", "king", "Moderator"]


class MucStanzaGenerator:
    """Draws MUC stanzas for ``rooms`` (bare room JIDs) from one seeded random source."""

    def __init__(self, rng: random.Random, rooms: Sequence[str], targets: Targets) -> None:
        self.rng = rng
        self.rooms = list(rooms)
        self.base = StanzaGenerator(rng, targets)  # forms, RSM and IQ ids

    def odd(self) -> str:
        return self.rng.choice(ODD_TEXT)

    def room(self) -> str:
        return self.rng.choice(self.rooms)

    def hostile_jid(self) -> str:
        return self.rng.choice([
            "a b@@x", "", "@", "victim@localhost", "victim@localhost/r", "x" * 3000,
            "#h0@" + self.base.t.irc, "nick%127.0.0.1@" + self.base.t.irc, self.room(),
            f"{self.room()}/bot", "\u202eevil@localhost", "localhost", "@localhost",
            "u@localhost/" + "r" * 1100, self.odd()])

    # -- presences -------------------------------------------------------------------

    def join(self) -> Hostile:
        rng = self.rng
        history = "".join(f" {k}={attr(rng.choice([*NUMBERS, *DATES]))}" for k in
                          rng.sample(["maxchars", "maxstanzas", "seconds", "since"],
                                     rng.randrange(5)))
        password = ""
        if rng.random() < 0.3:
            password = f"<password>{text(rng.choice([self.odd(), 'p' * 50_000]))}</password>"
        nick = rng.choice(NICKS) if rng.random() < 0.9 else ""
        to = f"{self.room()}/{nick}" if nick else self.room()
        return Hostile("join", f"<presence to={attr(to)}><x xmlns='{MUC}'>"
                       f"<history{history}/>{password}</x></presence>")

    def leave(self) -> Hostile:
        status = f"<status>{text(self.odd())}</status>" if self.rng.random() < 0.5 else ""
        return Hostile("leave", f"<presence type='unavailable' "
                       f"to={attr(self.room() + '/' + self.rng.choice(NICKS))}>{status}"
                       "</presence>")

    def nick_change(self) -> Hostile:
        show = self.rng.choice(["", "<show>away</show>", "<show>bogus</show>"])
        to = f"{self.room()}/{self.rng.choice(NICKS)}"
        return Hostile("nick change", f"<presence to={attr(to)}>{show}</presence>")

    def error_presence(self) -> Hostile:
        condition = self.rng.choice(CONDITIONS)
        return Hostile("error presence", f"<presence type='error' "
                       f"to={attr(self.room() + '/' + self.rng.choice(NICKS))}>"
                       f"<error type={attr(self.rng.choice(['cancel', 'wait', self.odd()]))}>"
                       f"<{condition} xmlns='{STANZAS}'/></error></presence>")

    # -- bodiless messages -----------------------------------------------------------

    def subject(self) -> Hostile:
        mtype = self.rng.choice(["groupchat", "groupchat", "chat", "normal", self.odd()])
        subject = self.rng.choice([self.odd(), "s" * 20_000, ""])
        return Hostile("subject", f"<message type={attr(mtype)} to={attr(self.room())}>"
                       f"<subject>{text(subject)}</subject></message>")

    def invite(self) -> Hostile:
        rng = self.rng
        element = rng.choice(["invite", "invite", "decline"])
        count = rng.choice([1, 1, 2, 40])
        reasons = [self.odd(), "r" * 60_000] if count == 1 else [self.odd()]  # < 256 kB
        items = "".join(
            f"<{element} to={attr(self.hostile_jid())}>"
            f"<reason>{text(rng.choice(reasons))}</reason></{element}>"
            for _ in range(count))
        password = f"<password>{text(self.odd())}</password>" if rng.random() < 0.2 else ""
        return Hostile(element, f"<message to={attr(self.room())}><x xmlns='{MUC_USER}'>"
                       f"{items}{password}</x></message>")

    def error_message(self) -> Hostile:
        condition = self.rng.choice(CONDITIONS)
        to = self.room() if self.rng.random() < 0.5 else f"{self.room()}/{self.rng.choice(NICKS)}"
        return Hostile("error message", f"<message type='error' to={attr(to)}>"
                       f"<error type='cancel'><{condition} xmlns='{STANZAS}'/></error></message>")

    # -- IQs -------------------------------------------------------------------------

    def admin(self) -> Hostile:
        rng = self.rng
        if rng.random() < 0.1:  # a huge list (of short items: a stanza stays under 256 kB)
            items = "".join(f"<item affiliation={attr(rng.choice(AFFILIATIONS))} "
                            f"nick='n{i}'/>" for i in range(2000))
        else:
            items = "".join(
                f"<item affiliation={attr(rng.choice(AFFILIATIONS))}"
                f" role={attr(rng.choice(ROLES))} nick={attr(rng.choice(NICKS))}"
                f" jid={attr(self.hostile_jid())}><reason>{text(self.odd())}</reason></item>"
                for _ in range(rng.choice([0, 1, 1, 2])))
        return self.base.iq("muc#admin", f"<query xmlns='{MUC}#admin'>{items}</query>",
                            self.room())

    def owner(self) -> Hostile:
        rng = self.rng
        inner = rng.choice([
            self.base.form(f"{MUC}#roomconfig"), self.base.form(), "",
            f"<destroy jid={attr(self.hostile_jid())}><reason>{text(self.odd())}</reason>"
            "</destroy>",
            "<x xmlns='jabber:x:data' type='submit'><field var='subject' type='boolean'>"
            "<value>x</value><value>y</value></field></x>",
            "<x xmlns='jabber:x:data' type='submit'><field var='subject' type='list-multi'>"
            + "<value>v</value>" * 500 + "</field></x>"])
        return self.base.iq("muc#owner", f"<query xmlns='{MUC}#owner'>{inner}</query>",
                            self.room())

    def mam(self) -> Hostile:
        rng = self.rng
        fields = "".join(
            f"<field var={attr(var)}><value>{text(rng.choice([*DATES, self.odd()]))}</value>"
            "</field>" for var in rng.sample(["start", "end", "with", "after-id"],
                                              rng.randrange(5)))
        form = (f"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
                f"<value>{MAM}</value></field>{fields}</x>")
        paging = "".join(f"<{name}>{text(rng.choice([*NUMBERS, self.odd(), 'line-1']))}</{name}>"
                         for name in rng.sample(["max", "after", "before", "index"],
                                                rng.randrange(4)))
        rsm = f"<set xmlns='http://jabber.org/protocol/rsm'>{paging}</set>" if paging else ""
        return self.base.iq("mam", f"<query xmlns='{MAM}' queryid={attr(self.odd())}>"
                            f"{form}{rsm}</query>", self.room(), rng.choice(["set", "set",
                                                                             "get"]))

    def disco(self) -> Hostile:
        which = self.rng.choice(["info", "items"])
        to = self.room() if self.rng.random() < 0.6 else f"{self.room()}/{self.rng.choice(NICKS)}"
        return self.base.iq(f"disco#{which}", f"<query xmlns='http://jabber.org/protocol/"
                            f"disco#{which}'/>", to, "get")

    # -- the barrage -----------------------------------------------------------------

    def barrage(self, count: int) -> list[Hostile]:
        """``count`` stanzas, presences (which race the backend) the largest share."""
        kinds: list[tuple[float, Callable[[], Hostile]]] = [
            (0.20, self.join), (0.12, self.leave), (0.10, self.nick_change),
            (0.05, self.error_presence), (0.06, self.subject), (0.07, self.invite),
            (0.05, self.error_message), (0.12, self.admin), (0.06, self.owner),
            (0.12, self.mam), (0.05, self.disco),
        ]
        weights = [w for w, _ in kinds]
        return [self.rng.choices(kinds, weights)[0][1]() for _ in range(count)]
