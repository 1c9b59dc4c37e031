"""The channel archive, the per-channel line log and MAM on IRC rooms."""
