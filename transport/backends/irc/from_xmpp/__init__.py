"""XMPP -> IRC: messages, room joins and IQs, muc#admin/owner, CTCP queries, commands."""
