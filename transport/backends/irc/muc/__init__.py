"""XEP-0045 pieces both directions use: occupant stanzas and room occupancy."""
