"""What an admin watches: Prometheus metrics, a health check and a status page."""
