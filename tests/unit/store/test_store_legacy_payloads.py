"""Messages queued by the version that stored raw XML still deliver after an upgrade."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from transport.core.events import MucInvite, XmppMessage
from transport.store import Store
from transport.xmpp.render import render_message

ROOM = "#c%irc.x@irc.localhost"
# What that version wrote: ``mucxml.invite`` went through ElementTree (prefixed), the
# empty subject and the stanza-id were formatted by hand.
OLD_PAYLOADS = [
    {"to": "a@localhost/r", "sender": ROOM, "type": "groupchat", "subject": None,
     "extra_xml": ['<subject xmlns="jabber:component:accept"/>']},
    {"to": "a@localhost/r", "sender": f"{ROOM}/bob", "type": "groupchat", "body": "hi",
     "id": "reflected", "delay": 1.5,
     "extra_xml": [f'<stanza-id xmlns="urn:xmpp:sid:0" id="u1" by="{ROOM}"/>']},
    {"to": "a@localhost", "sender": ROOM, "type": "normal", "extra_xml": [
        '<ns0:x xmlns:ns0="http://jabber.org/protocol/muc#user"><ns0:invite '
        'from="bob%irc.x@irc.localhost"><ns0:reason>come</ns0:reason></ns0:invite>'
        '<ns0:password>pw</ns0:password></ns0:x>']},
    {"to": "a@localhost", "sender": ROOM, "type": "normal",
     "extra_xml": ['<ns0:x xmlns:ns0="http://jabber.org/protocol/muc#user"><ns0:invite '
                   'from="irc.localhost" /></ns0:x>']},
    {"to": "a@localhost", "sender": ROOM, "body": "kept", "extra_xml": ["<unknown/>", "<"]},
]


async def test_rows_with_extra_xml_become_typed_fields(db_path: Path) -> None:
    await (await Store.open(db_path)).close()
    with sqlite3.connect(db_path) as db:
        db.executemany(
            "INSERT INTO xmpp_queue (component, to_jid, payload, created_at) VALUES (?,?,?,?)",
            [("irc.localhost", raw["to"], json.dumps(raw), time.time()) for raw in OLD_PAYLOADS])
    store = await Store.open(db_path)
    try:
        queued = [q.message for q in await store.xmpp_queue.pending("irc.localhost", 10)]
    finally:
        await store.close()
    subject, line, invite, joined, unknown = queued
    assert subject.subject == "" and "<subject/>" in render_message(subject)
    assert (line.stanza_id, line.stanza_id_by, line.id) == ("u1", ROOM, "reflected")
    assert f'<stanza-id xmlns="urn:xmpp:sid:0" id="u1" by="{ROOM}"/>' in render_message(line)
    assert invite.invite == MucInvite("bob%irc.x@irc.localhost", "come", "pw")
    assert joined.invite == MucInvite("irc.localhost")
    assert '<invite from="irc.localhost"/>' in render_message(joined)
    assert unknown == XmppMessage(to="a@localhost", sender=ROOM, body="kept")
    for message in queued:  # and each is written back in the new form
        assert XmppMessage.from_json(message.to_json()) == message
        assert "extra_xml" not in message.to_json()
