"""The discrete-event simulator (the province's digital twin), trace loaders and metrics."""
