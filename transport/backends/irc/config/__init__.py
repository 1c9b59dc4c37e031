"""The ``[irc]`` settings, per-user preferences and the configure forms."""
