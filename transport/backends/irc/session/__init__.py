"""An IRC connection per user and server: set-up, pacing, channel state, the manager."""
