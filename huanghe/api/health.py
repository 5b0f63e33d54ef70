"""``GET /healthz``: liveness of the process and reachability of the database."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from huanghe import __version__

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """``status`` ok or degraded; ``database`` ok or ``error: <reason>``; the server's version."""

    status: str
    database: str
    version: str


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(request: Request) -> Any:
    """``{"status": "ok", "database": "ok", "version": ...}``; 503 with the database error otherwise."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    try:
        with factory() as s:
            s.execute(text("SELECT 1"))
    except Exception as exc:  # the point of a health check is to report any failure
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return JSONResponse(
            {"status": "degraded", "database": f"error: {reason}", "version": __version__}, status_code=503
        )
    return {"status": "ok", "database": "ok", "version": __version__}
