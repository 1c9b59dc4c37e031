"""Tests of the IRC network layer (transport.backends.irc.protocol)."""
