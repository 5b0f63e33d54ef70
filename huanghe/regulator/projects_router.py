"""``/api/v1/projects``: the key new-infrastructure project registry (新基建重点项目库)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, Limit, Offset, SessionDep
from huanghe.core.paging import Page
from huanghe.domain.network import ID_PATTERN
from huanghe.domain.tenancy import ProjectStatus
from huanghe.regulator import projects

router = APIRouter(prefix="/projects", tags=["projects"])
ProjectId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]


@router.get("", response_model=Page[projects.ProjectPublic])
def list_projects(
    s: SessionDep, request: Request, status: ProjectStatus | None = None, limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> Page[projects.ProjectPublic]:  # fmt: skip
    return projects.list_projects(
        s, by=principal_of_request(request), status=status, limit=limit, offset=offset
    )


@router.post("", response_model=projects.ProjectPublic, status_code=201)
def file_project(s: SessionDep, body: projects.ProjectCreate, request: Request) -> projects.ProjectPublic:
    """File (备案) a project on one's own centers; it starts as ``filed``."""
    return projects.create(s, body, by=principal_of_request(request))


@router.get("/{project_id}", response_model=projects.ProjectPublic)
def get_project(s: SessionDep, project_id: ProjectId, request: Request) -> projects.ProjectPublic:
    return projects.get(s, project_id, by=principal_of_request(request))


@router.post("/{project_id}/transition", response_model=projects.ProjectPublic)
def transition(
    s: SessionDep, project_id: ProjectId, body: projects.ProjectTransition, request: Request
) -> projects.ProjectPublic:
    """Move one step: filed → reviewed → approved (regulator) → building → operating (operator), or reject a
    filed or reviewed project (regulator; final); else 409. ``comment`` is kept in the audit trail."""
    return projects.transition(s, project_id, body.to, by=principal_of_request(request), comment=body.comment)


@router.get("/{project_id}/history", response_model=list[projects.ProjectEvent])
def history(s: SessionDep, project_id: ProjectId, request: Request) -> list[projects.ProjectEvent]:
    """Filing and every step since, with who, when and the comment, from the audit trail (项目进展)."""
    return projects.history(s, project_id, by=principal_of_request(request))
