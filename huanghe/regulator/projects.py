"""The key new-infrastructure project registry (新基建重点项目库).

Operators file projects linked to their centers; the regulator reviews and approves (or rejects a filed or
reviewed project: final); the operator reports building and operating. Status moves one step at a time along
:data:`huanghe.domain.tenancy.PROJECT_TRANSITIONS` or to ``rejected`` from
:data:`~huanghe.domain.tenancy.PROJECT_REJECTABLE` (anything else → 409), and who may take a step is
:data:`~huanghe.domain.tenancy.PROJECT_STEP_ROLES` (else 403). Operators see and move only projects on their
own centers. Every change is an audit record (with the comment given with a step): :func:`history` reads
them back, so a project's progress is as tamper-evident as the chain.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.audit import service as audit
from huanghe.audit.models import AuditRow
from huanghe.core.errors import FieldError, ForbiddenError, NotFoundError, conflict, invalid
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.domain.network import ID_PATTERN
from huanghe.domain.tenancy import (
    PROJECT_REJECTABLE,
    PROJECT_STEP_ROLES,
    PROJECT_TRANSITIONS,
    ProjectStatus,
    Role,
    cny_to_fen,
    fen_to_cny,
)
from huanghe.network.models import CenterRow
from huanghe.regulator.models import ProjectRow
from huanghe.store.crud import page_of, refuse_if_exists
from huanghe.tenancy.tokens import Principal


class ProjectCreate(BaseModel):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    operator: str = Field(min_length=1, max_length=200, description="the operating company")
    centers: list[str] = Field(min_length=1, max_length=100)
    investment_cny: Decimal = Field(ge=0, le=Decimal("1e13"), decimal_places=2)
    description: str = Field(default="", max_length=5000)


class ProjectTransition(BaseModel):
    to: ProjectStatus
    comment: str = Field(default="", max_length=2000, description="why (review opinion, reason to reject)")


class ProjectEvent(BaseModel):
    """One step of a project's history, from the audit trail: ``seq`` its record, ``at`` when, ``actor``
    who (``role:name#token``), ``action`` ``project.file`` or ``project.transition``."""

    seq: int
    at: str
    actor: str
    action: str
    from_status: ProjectStatus | None
    to_status: ProjectStatus
    comment: str


class ProjectPublic(BaseModel):
    id: str
    name: str
    operator: str
    centers: list[str]
    investment_cny: Decimal
    status: ProjectStatus
    filed_by: str
    created: datetime
    updated: datetime
    description: str


def _public(r: ProjectRow) -> ProjectPublic:
    return ProjectPublic(
        id=r.id, name=r.name, operator=r.operator, centers=list(r.center_ids), investment_cny=fen_to_cny(r.investment_fen),
        status=ProjectStatus(r.status), filed_by=r.filed_by, created=datetime.fromtimestamp(r.created_s, UTC),
        updated=datetime.fromtimestamp(r.updated_s, UTC), description=r.description,
    )  # fmt: skip


def _visible(r: ProjectRow, p: Principal) -> bool:
    return p.role is not Role.OPERATOR or set(r.center_ids) <= p.center_ids


def create(
    session: Session, body: ProjectCreate, *, by: Principal, now: float | None = None
) -> ProjectPublic:
    """File a project (status ``filed``); an operator only on its own centers."""
    now = time.time() if now is None else now
    known = set(session.scalars(select(CenterRow.id).where(CenterRow.id.in_(body.centers))))
    for i, c in enumerate(body.centers):
        if c not in known:
            raise invalid(f"centers[{i}]", f"unknown center {c!r}")
        if by.role is Role.OPERATOR and c not in by.center_ids:
            raise ForbiddenError([FieldError(f"centers[{i}]", f"center {c!r} is not one of your centers")])
    refuse_if_exists(session, ProjectRow, body.id, "project")
    row = ProjectRow(
        id=body.id, name=body.name, operator=body.operator, center_ids=list(body.centers),
        investment_fen=cny_to_fen(body.investment_cny), status=ProjectStatus.FILED.value, filed_by=by.actor,
        created_s=now, updated_s=now, description=body.description,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, by.actor, "project.file", row.id, {"centers": row.center_ids}, now=now)
    session.commit()
    return _public(row)


def get(session: Session, project_id: str, *, by: Principal) -> ProjectPublic:
    row = session.get(ProjectRow, project_id)
    if row is None or not _visible(row, by):
        raise NotFoundError("project", project_id)
    return _public(row)


def list_projects(
    session: Session,
    *,
    by: Principal,
    status: ProjectStatus | None = None,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> Page[ProjectPublic]:
    """A page of the projects ``by`` may see, by id, optionally of one status."""
    query = select(ProjectRow)
    if status is not None:
        query = query.where(ProjectRow.status == status.value)
    return page_of(session, query, (ProjectRow.id,), limit, offset, _public, keep=lambda r: _visible(r, by))


def transition(
    session: Session, project_id: str, to: ProjectStatus, *, by: Principal, now: float | None = None,
    comment: str = "",
) -> ProjectPublic:  # fmt: skip
    """Move a project one step forward (or reject it while filed or reviewed): 409 for any other move, 403
    when the role may not take it. ``comment`` goes into the audit record."""
    now = time.time() if now is None else now
    row = session.scalars(select(ProjectRow).where(ProjectRow.id == project_id).with_for_update()).first()
    if row is None or not _visible(row, by):
        raise NotFoundError("project", project_id)
    current = ProjectStatus(row.status)
    rejecting = to is ProjectStatus.REJECTED and current in PROJECT_REJECTABLE
    if PROJECT_TRANSITIONS.get(current) is not to and not rejecting:
        nxt = PROJECT_TRANSITIONS.get(current)
        also = " or rejected" if current in PROJECT_REJECTABLE else ""
        raise conflict(
            "to",
            f"cannot go from {current.value} to {to.value}"
            + (f" (next is {nxt.value}{also})" if nxt else " (final)"),
        )
    if by.role not in PROJECT_STEP_ROLES[to]:
        allowed = ", ".join(sorted(r.value for r in PROJECT_STEP_ROLES[to]))
        raise ForbiddenError([FieldError("to", f"only {allowed} may move a project to {to.value}")])
    row.status, row.updated_s = to.value, now
    payload = {"from": current.value, "to": to.value, **({"comment": comment} if comment else {})}
    audit.record(session, by.actor, "project.transition", row.id, payload, now=now)
    session.commit()
    return _public(row)


def history(session: Session, project_id: str, *, by: Principal) -> list[ProjectEvent]:
    """The project's filing and every step since, oldest first, from the audit trail (404 as :func:`get`)."""
    get(session, project_id, by=by)
    audit.catch_up(session)
    rows = session.scalars(
        select(AuditRow)
        .where(AuditRow.action.in_(("project.file", "project.transition")), AuditRow.subject == project_id)
        .order_by(AuditRow.seq)
    )
    events = []
    for r in rows:
        payload = json.loads(r.payload)
        filing = r.action == "project.file"
        events.append(
            ProjectEvent(
                seq=r.seq, at=r.at, actor=r.actor, action=r.action,
                from_status=None if filing else ProjectStatus(payload["from"]),
                to_status=ProjectStatus.FILED if filing else ProjectStatus(payload["to"]),
                comment=str(payload.get("comment", "")),
            )
        )  # fmt: skip
    return events
