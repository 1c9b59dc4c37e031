"""IRC -> XMPP: the one command table and the handlers it calls."""
