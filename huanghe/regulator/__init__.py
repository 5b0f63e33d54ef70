"""The regulator's views over the stored network: the observatory's methods on live data, reports, and the key-project registry."""
