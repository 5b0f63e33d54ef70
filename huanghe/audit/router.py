"""``/api/v1/audit``: the audit trail for regulators: list, verify the hash chain, export CSV / JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from huanghe.api.deps import DEFAULT_PAGE_LIMIT, Limit, Offset, SessionDep, TextFilter
from huanghe.audit import service as audit
from huanghe.core.paging import Page

router = APIRouter(prefix="/audit", tags=["audit"])


class VerifyPublic(BaseModel):
    """Outcome of a chain verification; ``first_bad`` is the sequence number of the first broken record."""

    ok: bool
    checked: int
    first_bad: int | None
    reason: str


@router.get("", response_model=Page[audit.AuditRecordPublic])
def list_audit(
    s: SessionDep,
    action: TextFilter = None,
    actor: TextFilter = None,
    subject: TextFilter = None,
    since: Annotated[datetime | None, Query(description="at or after (ISO 8601; no zone = UTC)")] = None,
    until: Annotated[datetime | None, Query(description="before (ISO 8601; no zone = UTC)")] = None,
    order: Annotated[Literal["asc", "desc"], Query(description="chain order or newest first")] = "asc",
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> Page[audit.AuditRecordPublic]:
    """The trail, paged, searched (审计检索): ``action`` exactly (``http.post``, ``project.transition``, ...),
    ``actor`` (``role:name#token``) and ``subject`` (a path, an id) containing the text, case-insensitive,
    ``at`` in ``[since, until)``."""
    return audit.list_records(
        s, action=action, actor=actor, subject=subject, since=since, until=until,
        newest_first=order == "desc", limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/verify", response_model=VerifyPublic)
def verify_audit(s: SessionDep) -> VerifyPublic:
    r = audit.verify(s)
    return VerifyPublic(ok=r.ok, checked=r.checked, first_bad=r.first_bad, reason=r.reason)


@router.get("/export", response_class=Response)
def export_audit(s: SessionDep, format: Annotated[Literal["csv", "json"], Query()] = "json") -> Response:
    """The whole chain as CSV or JSON (for regulators; 审计导出)."""
    media = "text/csv; charset=utf-8" if format == "csv" else "application/json"
    return Response(
        audit.export(s, format), media_type=media,
        headers={"Content-Disposition": f'attachment; filename="huanghe-audit.{format}"'},
    )  # fmt: skip
