"""Time series of centers and pools: push, scrape from Prometheus exporters, roll-ups, retention, alerts."""
