"""Topology files, the bundled reference networks, the geo/latency model and unit conversions."""
