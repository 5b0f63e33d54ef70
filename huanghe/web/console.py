"""Mount the console on the FastAPI app. (Filled in by the console work: static files, map, tables.)"""

from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    """Serve the console at ``/`` on ``app``."""
    return None
