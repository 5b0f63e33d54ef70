"""``/api/v1/centers/{center_id}/jobs``: the jobs placed on one center's pools, for its operator.

Operators may call it for their own centers only (the policy table's ``center_path`` scope: another center
answers 403); admins and the regulator for any. Environment values are masked as for every reader who is not
the job's own tenant (:func:`huanghe.jobs.masking.visible_spec`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from huanghe.api.deps import DEFAULT_PAGE_LIMIT, IdFilter, Limit, Offset, SessionDep
from huanghe.core.paging import Page
from huanghe.domain.network import ID_PATTERN
from huanghe.jobs import service as svc
from huanghe.jobs.schemas import JobPublic
from huanghe.network.service import get_center

router = APIRouter(tags=["jobs"])
CenterId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64, description="center id")]


@router.get("/centers/{center_id}/jobs", response_model=Page[JobPublic])
def center_jobs(
    session: SessionDep,
    center_id: CenterId,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    state: Annotated[str | None, Query(max_length=16, pattern=r"^[A-Za-z]+$")] = None,
    pool: IdFilter = None,
) -> Any:
    """Jobs placed on the center's pools (optionally one pool, one state), newest first."""
    get_center(session, center_id)  # 404 for an unknown center
    return svc.list_jobs(session, state=state, pool=pool, center=center_id, limit=limit, offset=offset)
