"""The echo backend (placeholder until it lands)."""
