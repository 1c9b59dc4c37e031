"""Every XML namespace the gateway reads or writes, named once.

A namespace spelled in two places can drift apart silently (a typo makes a handler never
match); here each has one name, and a test keeps literals out of every other module.
Backends import from here too.
"""

from __future__ import annotations

from typing import Final

# RFC 6120: the stream and its stanzas.
COMPONENT: Final = "jabber:component:accept"
CLIENT: Final = "jabber:client"
STANZAS: Final = "urn:ietf:params:xml:ns:xmpp-stanzas"
# The legacy network's own error code, next to the RFC 6120 condition (this project's).
LEGACY_ERROR: Final = "urn:xmpp-transport:legacy-error:0"

# Service discovery, forms, commands, paging.
DISCO_INFO: Final = "http://jabber.org/protocol/disco#info"  # XEP-0030
DISCO_ITEMS: Final = "http://jabber.org/protocol/disco#items"  # XEP-0030
DATA_FORMS: Final = "jabber:x:data"  # XEP-0004
COMMANDS: Final = "http://jabber.org/protocol/commands"  # XEP-0050
RSM: Final = "http://jabber.org/protocol/rsm"  # XEP-0059

# Registration and gateway prompts.
REGISTER: Final = "jabber:iq:register"  # XEP-0077
GATEWAY: Final = "jabber:iq:gateway"  # XEP-0100

# Queries answered for contacts.
VERSION: Final = "jabber:iq:version"  # XEP-0092
PING: Final = "urn:xmpp:ping"  # XEP-0199

# Message payloads.
OOB: Final = "jabber:x:oob"  # XEP-0066
RECEIPTS: Final = "urn:xmpp:receipts"  # XEP-0184
DELAY: Final = "urn:xmpp:delay"  # XEP-0203
SID: Final = "urn:xmpp:sid:0"  # XEP-0359 (origin-id, stanza-id)
NICK: Final = "http://jabber.org/protocol/nick"  # XEP-0172
ADDRESS: Final = "http://jabber.org/protocol/address"  # XEP-0033
FORWARD: Final = "urn:xmpp:forward:0"  # XEP-0297

# Group chat and its archive.
MUC: Final = "http://jabber.org/protocol/muc"  # XEP-0045
MUC_USER: Final = f"{MUC}#user"
MUC_ADMIN: Final = f"{MUC}#admin"
MUC_OWNER: Final = f"{MUC}#owner"
MUC_ROOMINFO: Final = f"{MUC}#roominfo"
MUC_SELF_PING: Final = f"{MUC}#self-ping-optimization"  # XEP-0410
MAM: Final = "urn:xmpp:mam:2"  # XEP-0313
