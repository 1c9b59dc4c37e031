"""IRC backend: bridges XMPP users to IRC networks, modelled on biboumi."""
