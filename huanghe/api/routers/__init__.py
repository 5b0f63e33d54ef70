"""Routers under ``/api/v1``."""
