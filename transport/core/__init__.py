"""The network-free heart of the gateway: events, the backend interface, routing rules."""
