"""The JSON form of queued messages: what is committed must come back field for field."""

from __future__ import annotations

import dataclasses
import json

from transport.core.events import Attachment, OutgoingMessage


def full_message() -> OutgoingMessage:
    return OutgoingMessage(
        user="alice@example.org",
        sender_full_jid="alice@example.org/phone",
        contact="+15551234567",
        stanza_id="m-1",
        body="caption \u00e9\U0001f600",
        resource="r",
        type="groupchat",
        attachments=(Attachment("https://h/a.jpg", "image/jpeg", 42, "a cat"),
                     Attachment("https://h/b.png")),
        receipt_requested=True,
        extra_recipients=("+15557654321",),
    )


def test_outgoing_message_round_trips_every_field() -> None:
    message = full_message()
    assert OutgoingMessage.from_json(message.to_json()) == message


def test_outgoing_message_json_names_every_field() -> None:
    """A field added to the dataclass but not to to_json would be lost on a restart."""
    raw = json.loads(full_message().to_json())
    assert set(raw) == {f.name for f in dataclasses.fields(OutgoingMessage)}
    assert set(raw["attachments"][0]) == {f.name for f in dataclasses.fields(Attachment)}
