"""Neutral events exchanged between the XMPP side and a backend.

They are plain data so they can be stored in the durable queues as JSON and replayed after
a restart; nothing here knows slixmpp or any legacy network.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from transport.core.legacy_xml import typed_fields

# json.dumps with any non-default option builds a new encoder per call; events are encoded
# once per message, so one encoder is kept.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


def _shallow(obj: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict, one level deep.

    ``dataclasses.asdict`` deep-copies every value, which costs more than the JSON
    encoding itself on the per-message path; nested dataclasses are converted by the caller.
    """
    names = _FIELD_NAMES.get(type(obj))
    if names is None:
        names = _FIELD_NAMES[type(obj)] = tuple(f.name for f in dataclasses.fields(obj))
    return {name: getattr(obj, name) for name in names}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}

MessageType = Literal["chat", "groupchat", "normal", "headline", "error"]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file carried by URL (XEP-0066); clients show it when the body equals the URL."""

    url: str
    content_type: str | None = None
    size: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class StanzaErrorInfo:
    """An error to report to the user: RFC 6120 condition plus the legacy side's code."""

    condition: str
    text: str
    etype: str = "cancel"
    legacy_code: str | None = None


@dataclass(frozen=True, slots=True)
class MucInvite:
    """A mediated group chat invitation (XEP-0045 7.8.2): the room's message carries it.

    ``sender`` is the JID of whoever invites; ``password`` is the room's, when it has one.
    """

    sender: str
    reason: str = ""
    password: str = ""


@dataclass(frozen=True, slots=True)
class XmppMessage:
    """One ``<message/>`` the gateway sends to an XMPP user (legacy -> XMPP).

    Queued durably before it is sent; ``id`` is fixed when queued so that a resend after a
    reconnect carries the same id and origin-id (XEP-0359) and clients can de-duplicate.
    ``subject=""`` sends an empty ``<subject/>`` (a room without a topic); ``None`` sends
    none. ``stanza_id`` is the archive's id for a ``<stanza-id by=stanza_id_by/>`` when it
    differs from ``id``.
    """

    to: str
    sender: str
    type: MessageType = "chat"
    body: str | None = None
    id: str | None = None
    subject: str | None = None
    oob_url: str | None = None
    receipt_for: str | None = None
    request_receipt: bool = False
    delay: float | None = None
    stanza_id_by: str | None = None
    nick: str | None = None
    error: StanzaErrorInfo | None = None
    stanza_id: str | None = None
    invite: MucInvite | None = None

    def to_dict(self) -> dict[str, object]:
        """Plain JSON values, for a caller that encodes many messages at once."""
        raw = _shallow(self)
        if self.error is not None:
            raw["error"] = _shallow(self.error)
        if self.invite is not None:
            raw["invite"] = _shallow(self.invite)
        return raw

    def to_json(self) -> str:
        return _COMPACT_JSON.encode(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> XmppMessage:
        raw: dict[str, Any] = json.loads(text)
        err = raw.pop("error", None)
        invite = raw.pop("invite", None)
        if "extra_xml" in raw:  # queued by a version that carried raw XML
            raw.update(typed_fields(raw.pop("extra_xml") or ()))
            invite = raw.pop("invite", invite)
        return cls(
            **raw,
            error=StanzaErrorInfo(**err) if err else None,
            invite=MucInvite(**invite) if invite else None,
        )


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message an XMPP user sent to a contact JID (XMPP -> legacy).

    ``contact`` is the normalised contact localpart as the backend returned it from
    ``normalize_contact``; ``resource`` is the resource of the ``to`` JID ('' when bare).
    """

    user: str
    sender_full_jid: str
    contact: str
    stanza_id: str
    body: str
    resource: str = ""
    type: MessageType = "chat"
    attachments: tuple[Attachment, ...] = ()
    receipt_requested: bool = False
    extra_recipients: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """Plain JSON values, for a caller that encodes many messages at once."""
        raw = _shallow(self)
        raw["attachments"] = [_shallow(a) for a in self.attachments]
        return raw

    def to_json(self) -> str:
        return _COMPACT_JSON.encode(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> OutgoingMessage:
        raw: dict[str, Any] = json.loads(text)
        raw["attachments"] = tuple(Attachment(**a) for a in raw.get("attachments", ()))
        raw["extra_recipients"] = tuple(raw.get("extra_recipients", ()))
        return cls(**raw)


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """What a backend reports after handing a message to the legacy network.

    ``legacy_ids`` are the network's ids for what it sent (several when a long body was
    split); ``confirmed`` means the legacy side already confirmed delivery, so the core sends
    the XEP-0184 receipt now instead of waiting for ``BackendContext.confirm_delivery``.
    """

    legacy_ids: tuple[str, ...] = ()
    confirmed: bool = False
    recipients: tuple[str, ...] = ()

    def by_contact(self, default: str) -> dict[str, list[str]]:
        """Legacy ids grouped by the contact they went to (``recipients`` runs parallel to
        ``legacy_ids`` for multi-recipient sends; otherwise all went to ``default``)."""
        groups: dict[str, list[str]] = {}
        contacts = self.recipients or (default,) * len(self.legacy_ids)
        for legacy_id, contact in zip(self.legacy_ids, contacts, strict=True):
            groups.setdefault(contact, []).append(legacy_id)
        return groups


@dataclass(frozen=True, slots=True)
class Registration:
    """The result of a successful XEP-0077 registration, as the backend validated it.

    ``legacy_key`` is the account's identity on the legacy side (a phone number...); the core
    keeps it unique per component and answers ``conflict`` when another JID holds it.
    """

    legacy_key: str | None
    data: dict[str, str] = field(default_factory=dict)
