"""A seeded generator of hostile stanzas, written as raw XML by a real client stream.

Every stanza is well-formed XML with legal characters (the server would close the *client's*
stream otherwise, which tests the server, not the gateway); everything inside is hostile:
JIDs that fail stringprep or carry XEP-0106 escapes, payloads of the gateway's features with
wrong types (RSM, MAM, muc#admin/owner, ad-hoc, register, gateway), deep nesting, unknown
namespaces, joins with odd nicks and histories, private messages to nicks on an IRC server
that drops the link, unsolicited results. Each IQ get/set has a unique id, so its answer can
be matched.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

RSM = "http://jabber.org/protocol/rsm"
DATA = "jabber:x:data"
MUC = "http://jabber.org/protocol/muc"
COMMANDS = "http://jabber.org/protocol/commands"
NODES = ["register", "configure", "get-irc-connection-info", "list-users", "stats", "announce",
         "usage", "pending-registrations", "assign-number", "", "x" * 300, "../../etc", COMMANDS]
# What a user may legitimately do to end their own registration or IRC links: only the user
# without canaries gets these (the canary user must keep its echo registration and its link).
LEAVING_NODES = ["unregister", "unregister-user", "disconnect-from-irc-server",
                 "disconnect-user"]

ODD_TEXT = ["", " ", "x", "-1", "0", "1e99", "NaN", "9" * 40, "\u202eevil", "\u200b", "ﬀ",
            "Ⅸ", "İ", "\u0301", "null", "true", "<tag/>", "&amp;", "%", "%%", "#", "@", "/",
            "\\20", "\\5c", "\\zz", "a" * 3000, "\U0001F600" * 50, "\r\nQUIT :bye\r\n",
            "\x02bold\x0f", "2024-13-45T99:99:99Z", "yesterday", "\t\n", "\ufffd",
            "café", "\u00a0"]
ODD_LOCALPARTS = ["a b", "\\20escaped", "x\\40y", "\\5c", "\\zz", "%", "%%", "#c%", "#%localhost",
                  "nick%localhost%x", "NICK%LOCALHOST", "ü%localhost", "\u200b%localhost",
                  "a" * 1023, "a" * 1100, "+1", "+12125550142", "12125550142", "tel:+1",
                  "\u202eevil", "ﬀ", "Ⅸ", "İ", "x'y", "%127.0.0.1", "#%127.0.0.1",
                  "#chan%", "nick%", "%nick", "#\x02x%localhost", "#a,#b%localhost",
                  "#a b%127.0.0.1", "*%127.0.0.1", "nick!user@host%localhost", "\u0130%localhost"]
ODD_RESOURCES = ["", "a/b", "r" * 1100, "nick with spaces", "\u00a0", "@", "%", "#", ":",
                 "\u202e", "x" * 200, "ü", "\\40", "!", "\U0001F600"]
ODD_NICKS = ["n", "nick with spaces", "a:b", "!bang", "@at", "#hash", "-dash", "0digit",
             "x" * 200, "ü", "\u200b", "\u202eevil", "nick\\40", "[]\\`_^{|}", "ANONYMOUS",
             "nick,other", "*", "q" * 31, "Ⅸ"]


def legal(text: str) -> str:
    """Drop what XML 1.0 cannot carry (the server would close the client's stream)."""
    return "".join(c for c in text if c in "\t\n\r" or " " <= c <= "\ud7ff"
                   or "\ue000" <= c <= "\ufffd" or c >= "\U00010000")


def text(value: str) -> str:
    return escape(legal(value)).replace("\r", "&#13;")


def attr(value: str) -> str:
    return quoteattr(legal(value)).replace("\r", "&#13;")


@dataclass(frozen=True)
class Hostile:
    """One stanza; ``iq_id`` is set for an IQ get/set, which must be answered once."""

    kind: str
    xml: str
    iq_id: str | None = None


@dataclass(frozen=True)
class Targets:
    """The gateway's domains and the IRC hosts it knows."""

    echo: str
    sms: str
    irc: str
    real_irc_host: str
    hostile_irc_host: str


class StanzaGenerator:
    """Draws :class:`Hostile` stanzas from one seeded random source."""

    def __init__(self, rng: random.Random, targets: Targets) -> None:
        self.rng = rng
        self.t = targets
        self.counter = 0
        self.rooms = [f"#h{i}" for i in range(12)]
        self.canary_user = False

    # -- addresses -------------------------------------------------------------------

    def odd(self) -> str:
        return self.rng.choice(ODD_TEXT)

    def host(self) -> str:
        return self.rng.choice([self.t.real_irc_host, self.t.hostile_irc_host])

    def server_jid(self) -> str:
        """An IRC server's JID; text sent there is raw IRC commands (a QUIT, a PART), so the
        canary user only talks to the scripted server's."""
        host = self.t.hostile_irc_host if self.canary_user else self.host()
        return f"{host}@{self.t.irc}"

    def room(self) -> str:
        return f"{self.rng.choice(self.rooms)}%{self.host()}@{self.t.irc}"

    def target(self) -> str:
        """Any address at the gateway: a domain, a contact, a room, a server, an odd JID."""
        rng, t = self.rng, self.t
        choice = rng.randrange(9)
        if choice == 0:
            return rng.choice([t.echo, t.sms, t.irc])
        if choice == 1:
            return f"{rng.choice(['bob', 'x', 'Eve'])}@{t.echo}"
        if choice == 2:
            return f"+1212555{rng.randrange(10000):04d}@{t.sms}"
        if choice == 3:
            return self.room()
        if choice == 4:
            return self.server_jid()
        if choice == 5:
            return f"nick{rng.randrange(5)}%{self.host()}@{t.irc}"
        local = rng.choice(ODD_LOCALPARTS)
        domain = rng.choice([t.echo, t.sms, t.irc])
        resource = "/" + rng.choice(ODD_RESOURCES) if rng.random() < 0.4 else ""
        return f"{local}@{domain}{resource}"

    # -- building blocks ---------------------------------------------------------------

    def iq(self, kind: str, payload: str, to: str | None = None, iq_type: str | None = None,
           ) -> Hostile:
        self.counter += 1
        iq_id = f"hq{self.counter}"
        iq_type = iq_type or self.rng.choice(["get", "set"])
        to = to if to is not None else self.target()
        return Hostile(kind, f"<iq type={attr(iq_type)} id={attr(iq_id)} to={attr(to)}>"
                       f"{payload}</iq>", iq_id)

    def rsm(self) -> str:
        rng = self.rng
        parts = [f"<max>{text(self.odd())}</max>" if rng.random() < 0.8 else "",
                 f"<after>{text(self.odd())}</after>" if rng.random() < 0.4 else "",
                 f"<before>{text(self.odd())}</before>" if rng.random() < 0.2 else "",
                 f"<index>{text(self.odd())}</index>" if rng.random() < 0.2 else ""]
        return f"<set xmlns='{RSM}'>{''.join(parts)}</set>"

    def form(self, form_type: str | None = None) -> str:
        rng = self.rng
        fields = []
        if form_type is not None:
            fields.append(f"<field var='FORM_TYPE' type='hidden'><value>{text(form_type)}"
                          "</value></field>")
        for _ in range(rng.randrange(6)):
            var = rng.choice(["start", "end", "with", "phone", "username", "nick", "password",
                              "muc#roomconfig_persistentroom", "jids", "ports", "tls_ports",
                              "encoding_in", "max_history_length", "verify_cert", "throttle",
                              self.odd()])
            ftype = rng.choice(["", "text-single", "boolean", "list-multi", "jid-single",
                                "hidden", "fixed", self.odd()])
            values = "".join(f"<value>{text(self.odd())}</value>"
                             for _ in range(rng.randrange(4)))
            typed = f" type={attr(ftype)}" if ftype else ""
            fields.append(f"<field var={attr(var)}{typed}>{values}</field>")
        ftype = rng.choice(["submit", "submit", "form", "cancel", "result", self.odd()])
        return f"<x xmlns='{DATA}' type={attr(ftype)}>{''.join(fields)}</x>"

    def nested(self, depth: int, namespace: str) -> str:
        return f"<a xmlns={attr(namespace)}>" + "<a>" * depth + "</a>" * depth + "</a>"

    # -- stanza kinds ------------------------------------------------------------------

    def disco(self) -> Hostile:
        rng = self.rng
        which = rng.choice(["info", "items"])
        node = f" node={attr(rng.choice([*NODES, self.odd()]))}" if rng.random() < 0.3 else ""
        extra = self.rsm() if rng.random() < 0.5 else ""
        to = self.target() if rng.random() < 0.7 else self.server_jid()
        return self.iq(f"disco#{which}", f"<query xmlns='http://jabber.org/protocol/disco#"
                       f"{which}'{node}>{extra}</query>", to, rng.choice(["get", "get", "set"]))

    def mam(self) -> Hostile:
        rng = self.rng
        ns = rng.choice(["urn:xmpp:mam:2", "urn:xmpp:mam:1", "urn:xmpp:mam:0"])
        if rng.random() < 0.2:
            prefs = f"<prefs xmlns='{ns}' default={attr(self.odd())}><always><jid>" \
                    f"{text(self.odd())}</jid></always></prefs>"
            return self.iq("mam prefs", prefs, self.room())
        form = self.form(rng.choice([ns, self.odd()])) if rng.random() < 0.8 else ""
        query = (f"<query xmlns='{ns}' queryid={attr(self.odd())}>{form}"
                 f"{self.rsm() if rng.random() < 0.6 else ''}</query>")
        return self.iq("mam", query, rng.choice([self.room(), self.target()]),
                       rng.choice(["set", "set", "get"]))

    def muc_admin(self) -> Hostile:
        rng = self.rng
        affiliations = ["owner", "admin", "member", "outcast", "none"]
        roles = ["moderator", "participant", "visitor", "none"]
        items = "".join(
            f"<item affiliation={attr(rng.choice([*affiliations, self.odd()]))}"
            f" role={attr(rng.choice([*roles, self.odd()]))}"
            f" nick={attr(rng.choice(ODD_NICKS))} jid={attr(self.odd())}>"
            f"<reason>{text(self.odd())}</reason></item>" for _ in range(rng.randrange(4)))
        return self.iq("muc#admin", f"<query xmlns='{MUC}#admin'>{items}</query>", self.room())

    def muc_owner(self) -> Hostile:
        rng = self.rng
        inner = rng.choice([self.form(f"{MUC}#roomconfig"), "",
                            f"<destroy jid={attr(self.odd())}><reason>x</reason></destroy>"])
        return self.iq("muc#owner", f"<query xmlns='{MUC}#owner'>{inner}</query>", self.room())

    def adhoc(self) -> Hostile:
        rng = self.rng
        node = rng.choice(NODES if self.canary_user else NODES + LEAVING_NODES)
        actions = ["execute", "next", "prev", "complete", "cancel", self.odd()]
        action = f" action={attr(rng.choice(actions))}" if rng.random() < 0.7 else ""
        session = f" sessionid={attr(self.odd())}" if rng.random() < 0.4 else ""
        form = self.form() if rng.random() < 0.5 else ""
        to = rng.choice([self.t.echo, self.t.sms, self.t.irc, self.server_jid(), self.room(),
                         self.target()])
        return self.iq("ad-hoc", f"<command xmlns='{COMMANDS}' node={attr(node)}{action}"
                       f"{session}>{form}</command>", to, "set")

    def register(self) -> Hostile:
        rng = self.rng
        choice = rng.randrange(3 if self.canary_user else 4)
        if choice == 0:
            body = "".join(f"<{f}>{text(self.odd())}</{f}>" for f in
                           rng.sample(["phone", "username", "password", "nick", "email"], 2))
        elif choice == 1:
            body = self.form(rng.choice(["jabber:iq:register", self.odd()]))
        elif choice == 2:
            body = f"<phone><b>{text(self.odd())}</b></phone>"
        else:
            body = "<remove/>"
        to = rng.choice([self.t.echo, self.t.sms, self.t.irc, self.target()])
        return self.iq("register", f"<query xmlns='jabber:iq:register'>{body}</query>", to)

    def gateway(self) -> Hostile:
        rng = self.rng
        inner = rng.choice([f"<prompt>{text(self.odd())}</prompt>", "",
                            "<prompt><prompt>1</prompt></prompt>",
                            f"<desc>{text(self.odd())}</desc>",
                            "<prompt>+1 212 555 0142</prompt>"])
        to = rng.choice([self.t.echo, self.t.sms, self.t.irc, self.target()])
        return self.iq("gateway", f"<query xmlns='jabber:iq:gateway'>{inner}</query>", to)

    def misc(self) -> Hostile:
        rng = self.rng
        payload = rng.choice([
            "<query xmlns='jabber:iq:version'/>", "<query xmlns='jabber:iq:last'/>",
            "<time xmlns='urn:xmpp:time'/>", "<ping xmlns='urn:xmpp:ping'/>",
            "<vCard xmlns='vcard-temp'/>", "<query xmlns='jabber:iq:roster'/>",
            "<query xmlns='jabber:iq:private'><x xmlns='x'/></query>",
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='x'/></pubsub>",
            "<blocklist xmlns='urn:xmpp:blocking'/>",
            f"<query xmlns='jabber:iq:version'>{text(self.odd())}</query>",
            f"<query xmlns='urn:x-hostile:{rng.randrange(100)}'/>",
            "", "<a/><b/>", text(self.odd()),
            f"<query xmlns={attr('urn:' + self.odd())}/>",
        ])
        return self.iq("misc/unknown namespace", payload)

    def deep(self) -> Hostile:
        rng = self.rng
        depth = rng.choice([50, 500, 3000])
        namespace = rng.choice(["http://jabber.org/protocol/disco#info", "jabber:iq:register",
                                "urn:x-hostile:deep", COMMANDS, "urn:xmpp:mam:2"])
        return self.iq(f"deep nesting {depth}", self.nested(depth, namespace))

    def unsolicited(self) -> Hostile:
        rng = self.rng
        self.counter += 1
        iq_type = rng.choice(["result", "error"])
        payload = rng.choice(["", "<query xmlns='jabber:iq:version'/>",
                              "<error type='cancel'><item-not-found xmlns="
                              "'urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"])
        iq_id = rng.choice([f"u{self.counter}", "", "1", self.odd()])
        return Hostile("unsolicited result", f"<iq type='{iq_type}' id={attr(iq_id)} "
                       f"to={attr(self.target())}>{payload}</iq>")

    def join(self) -> Hostile:
        rng = self.rng
        nick = rng.choice(ODD_NICKS)
        history = "".join(f" {k}={attr(self.odd())}" for k in
                          rng.sample(["maxchars", "maxstanzas", "seconds", "since"],
                                     rng.randrange(5)))
        password = f"<password>{text(self.odd())}</password>" if rng.random() < 0.2 else ""
        leave = rng.random() < 0.15
        ptype = " type='unavailable'" if leave else ""
        inner = "" if leave else f"<x xmlns='{MUC}'><history{history}/>{password}</x>"
        return Hostile("join/leave", f"<presence to={attr(self.room() + '/' + nick)}{ptype}>"
                       f"{inner}</presence>")

    def private_message(self) -> Hostile:
        """A private message to a nick on the server that drops links mid-conversation."""
        rng = self.rng
        to = f"nick{rng.randrange(5)}%{self.t.hostile_irc_host}@{self.t.irc}"
        return Hostile("private message while the link drops",
                       f"<message type='chat' to={attr(to)}><body>{text(self.body())}</body>"
                       "</message>")

    def body(self) -> str:
        rng = self.rng
        return rng.choice([self.odd(), "hello", "line1\nline2\r\nPRIVMSG #x :injected",
                           "\x01ACTION x\x01", "/me waves", "/quote QUIT", "y" * 20_000,
                           "flaky:2 x", "fail:not-acceptable x", "fail:" + self.odd()])

    def message(self) -> Hostile:
        rng = self.rng
        mtype = rng.choice(["chat", "chat", "groupchat", "normal", "headline", "error",
                            self.odd()])
        to = self.room() if mtype == "groupchat" and rng.random() < 0.8 else self.target()
        if to.endswith(self.t.sms) and rng.random() < 0.7:
            to = f"{rng.choice(ODD_LOCALPARTS)}@{self.t.sms}"  # few real texts reach Twilio
        parts = [f"<body>{text(self.body())}</body>" if rng.random() < 0.8 else ""]
        if rng.random() < 0.15:
            parts.append(f"<subject>{text(self.odd())}</subject>")
        if rng.random() < 0.15:
            parts.append("<request xmlns='urn:xmpp:receipts'/>")
        if rng.random() < 0.1:
            parts.append(f"<replace id={attr(self.odd())} xmlns='urn:xmpp:message-correct:0'/>")
        if rng.random() < 0.1:
            parts.append("<addresses xmlns='http://jabber.org/protocol/address'>" + "".join(
                f"<address type={attr(rng.choice(['to', 'cc', 'bcc', self.odd()]))} "
                f"jid={attr(self.target())}/>" for _ in range(rng.randrange(1, 4)))
                + "</addresses>")
        if rng.random() < 0.1:
            parts.append("<composing xmlns='http://jabber.org/protocol/chatstates'/>")
        if rng.random() < 0.05:
            parts.append(self.nested(rng.choice([50, 3000]), "urn:x-hostile:deep"))
        msg_id = f" id={attr(self.odd())}" if rng.random() < 0.3 else ""
        return Hostile("message", f"<message type={attr(mtype)} to={attr(to)}{msg_id}>"
                       f"{''.join(parts)}</message>")

    def presence(self) -> Hostile:
        rng = self.rng
        ptype = rng.choice(["subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe",
                            "", "error", self.odd()])
        typed = f" type={attr(ptype)}" if ptype else ""
        status = f"<status>{text(self.odd())}</status>" if rng.random() < 0.3 else ""
        return Hostile("presence", f"<presence to={attr(self.target())}{typed}>{status}"
                       "</presence>")

    # -- the barrage -------------------------------------------------------------------

    def barrage(self, count: int, canary_user: bool) -> list[Hostile]:
        """``count`` stanzas in a seeded mix. From the ``canary_user`` nothing that ends its
        own registration or IRC link (removal, leaving commands, raw IRC to the real server)."""
        self.canary_user = canary_user
        kinds: list[tuple[float, Callable[[], Hostile]]] = [
            (0.12, self.disco), (0.07, self.mam), (0.06, self.muc_admin),
            (0.03, self.muc_owner), (0.08, self.adhoc),
            (0.06, self.register), (0.04, self.gateway),
            (0.08, self.misc), (0.03, self.deep), (0.05, self.unsolicited),
            (0.10, self.join), (0.08, self.private_message), (0.14, self.message),
            (0.06, self.presence),
        ]
        weights = [w for w, _ in kinds]
        return [self.rng.choices(kinds, weights)[0][1]() for _ in range(count)]
