"""The routers of tenancy and security (auth, audit, data security, billing and vouchers, projects, login),
included on the app by :func:`huanghe.api.security.install` (so ``create_app`` needs one line only), and the
403 mapping of their refusals (quota exceeded, role may not take a project step)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from huanghe.api import login
from huanghe.api.errors import error_response, prefixed
from huanghe.audit import router as audit
from huanghe.billing import router as billing
from huanghe.billing.quotas import QuotaExceeded
from huanghe.data import protection_router as datasec
from huanghe.regulator import projects_router as projects
from huanghe.regulator.projects import ForbiddenError
from huanghe.tenancy import tokens_router as auth

API_PREFIX = "/api/v1"


def include(app: FastAPI) -> None:
    for module in (auth, audit, datasec, billing, projects):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(login.router)

    async def _forbidden(_req: Request, exc: Exception) -> JSONResponse:
        errors = getattr(exc, "errors", [])
        return error_response(
            403, prefixed([e for e in errors if e.path], "body") + [e for e in errors if not e.path]
        )

    app.add_exception_handler(QuotaExceeded, _forbidden)
    app.add_exception_handler(ForbiddenError, _forbidden)
