"""Jobs API (``/api/v1/jobs...``), center health and the scheduler loop's life inside the app.

| method | path | what |
|---|---|---|
| POST | ``/jobs`` | submit one job (201; 200 when ``Idempotency-Key`` was seen before: same job, nothing new); concurrent submissions share one commit (:class:`~huanghe.jobs.service.SubmitQueue`) |
| POST | ``/jobs:batch`` | submit ``{"jobs": [...]}`` (≤ 10,000) in one transaction |
| GET | ``/jobs`` | page ``{"items","total","limit","offset"}``; filters ``state``, ``pool``, ``center``, ``tenant``, ``q`` (id/name/command text), ``submitted_after``/``submitted_before``; ``sort`` |
| GET | ``/jobs/{id}`` | the job, its state history, placements (latest with explanation), cost |
| POST | ``/jobs/{id}:cancel`` | cancel (any state; idempotent) |
| GET | ``/jobs/{id}/logs?offset=N`` | output from byte N: ``{"data","offset","next_offset","state","terminal"}`` |
| GET | ``/jobs/{id}/events`` | every recorded event |
| GET | ``/health/centers`` | stored center health (back-end pings) |
| GET | ``/scheduler`` | loop settings, whether this replica leads, the current lease |

:func:`scheduler_running` starts the scheduler loop (:class:`~huanghe.jobs.dispatcher.DispatchLoop`) for the
app's lifetime unless ``app.state.scheduler_settings.enabled`` is False (``HUANGHE_SCHEDULER_ENABLED=0``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse

from huanghe.api.audit_trail import pending_audit
from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, IdFilter, Limit, Offset, SessionDep, TenantFilter
from huanghe.core.paging import Page
from huanghe.jobs import service as svc
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.center_health import health_rows
from huanghe.jobs.dispatcher import DispatchLoop
from huanghe.jobs.logs import job_logs
from huanghe.jobs.schemas import (
    CenterHealthList,
    JobAccepted,
    JobBatchAccepted,
    JobDetail,
    JobEvents,
    JobLogs,
    JobPublic,
    SchedulerInfo,
)
from huanghe.jobs.settings import DispatchSettings
from huanghe.store.leader import current_leader


class ORJSONResponse(JSONResponse):
    """JSON rendered by orjson (fast; NaN/inf become null)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


router = APIRouter(tags=["jobs"], default_response_class=ORJSONResponse)

IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=svc.MAX_IDEMPOTENCY_KEY)]
JobId = Annotated[str, "job id"]


def viewer_tenant(request: Request) -> str | None:
    """The reader's tenant when it is a tenant role (it sees its own jobs' env values), else None."""
    principal = principal_of_request(request)
    return principal.tenant_id if principal.is_tenant else None


def _queue(request: Request) -> svc.SubmitQueue:
    q: svc.SubmitQueue = request.app.state.submit_queue
    return q


async def _submitted(request: Request, jobs: list[svc.JobSubmit], key: str | None, batch: bool) -> svc.Answer:
    """Queue a submission; its audit record (status 201) is committed in the same transaction as the jobs."""
    pending = pending_audit(request.scope)
    entry = pending.entry(201) if pending is not None else None
    items, created = await asyncio.wrap_future(_queue(request).submit(jobs, key, batch, entry))
    if created and pending is not None:
        pending.recorded = True
    return items, created


@router.post("/jobs", status_code=201, response_model=JobAccepted)
async def submit(body: svc.JobSubmit, request: Request, idempotency_key: IdemKey = None) -> Any:
    """Submit one job; it is stored (committed) before the answer, then placed by the scheduler."""
    items, created = await _submitted(request, [body], idempotency_key, False)
    return ORJSONResponse(items[0], status_code=201 if created else 200)


@router.post("/jobs:batch", status_code=201, response_model=JobBatchAccepted)
async def submit_batch(body: svc.JobBatchSubmit, request: Request, idempotency_key: IdemKey = None) -> Any:
    """Submit many jobs in one transaction: ``{"jobs": [...]}`` → ``{"items": [...], "count": N}``."""
    items, created = await _submitted(request, body.jobs, idempotency_key, True)
    return ORJSONResponse({"items": items, "count": len(items)}, status_code=201 if created else 200)


@router.get("/jobs", response_model=Page[JobPublic])
def list_jobs(
    request: Request,
    session: SessionDep,
    tenant: TenantFilter,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
    state: Annotated[str | None, Query(max_length=16, pattern=r"^[A-Za-z]+$")] = None,
    pool: IdFilter = None,
    center: IdFilter = None,
    q: Annotated[str | None, Query(max_length=100, description="text in the id, name or command")] = None,
    submitted_after: Annotated[float | None, Query(ge=0, description="epoch seconds, inclusive")] = None,
    submitted_before: Annotated[float | None, Query(ge=0, description="epoch seconds, exclusive")] = None,
    sort: Annotated[str, Query(max_length=16, description="-submit_s (default), submit_s, state, -state")] = (
        "-submit_s"
    ),
) -> Any:
    """Jobs, newest first unless ``sort`` says otherwise; filters combine (AND)."""
    return svc.list_jobs(session, state=state, pool=pool, center=center, tenant=tenant, limit=limit,
                         offset=offset, viewer_tenant=viewer_tenant(request), q=q or None,
                         submitted_after=submitted_after, submitted_before=submitted_before,
                         sort=sort)  # fmt: skip


@router.get("/jobs/{job_id}", response_model=JobDetail)
def show(job_id: JobId, request: Request, session: SessionDep) -> Any:
    """One job with history, placement (and its explanation), cost (env values: own tenant only) and, while
    it waits, why and until when (``waiting``)."""
    settings: DispatchSettings = request.app.state.scheduler_settings
    tick = (settings.interval_s, settings.max_batch)
    return svc.show(session, job_id, viewer_tenant=viewer_tenant(request), tick=tick)


@router.post("/jobs/{job_id}:cancel", response_model=JobPublic)
def cancel(job_id: JobId, request: Request, session: SessionDep) -> Any:
    """Cancel a job in any state; a terminal job stays as it is."""
    return svc.cancel(session, job_id, viewer_tenant=viewer_tenant(request))


@router.get("/jobs/{job_id}/events", response_model=JobEvents)
def events(job_id: JobId, session: SessionDep) -> Any:
    """Every event of the job, oldest first."""
    return {"job_id": job_id, "items": svc.events(session, job_id)}


@router.get("/jobs/{job_id}/logs", response_model=JobLogs)
def logs(
    job_id: JobId,
    request: Request,
    session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=2**40)] = 0,
) -> Any:
    """The job's output (stdout + stderr) from byte ``offset`` on, read from its back-end."""
    return job_logs(session, request.app.state.backends, job_id, offset)


@router.get("/health/centers", response_model=CenterHealthList)
def centers_health(session: SessionDep) -> Any:
    """Health of each center as the scheduler's pings last saw it."""
    return {"items": health_rows(session)}


@router.get("/scheduler", response_model=SchedulerInfo)
def scheduler_info(request: Request) -> Any:
    """The loop's settings, whether this replica runs it as leader, and the lease/lock."""
    loop: DispatchLoop | None = getattr(request.app.state, "scheduler_loop", None)
    settings: DispatchSettings = request.app.state.scheduler_settings
    return {
        "enabled": settings.enabled,
        "interval_s": settings.interval_s,
        "policy": settings.policy,
        "leading": bool(loop and loop.leading),
        "holder": loop.elector.holder if loop else None,
        "ticks": loop.ticks if loop else 0,
        "lease": current_leader(request.app.state.engine),
    }


def init_state(app: FastAPI) -> None:
    """The state the jobs API needs (back-end cache, submission queue, scheduler settings unless set)."""
    app.state.backends = BackendCache()
    app.state.submit_queue = svc.SubmitQueue(app.state.session_factory)
    if not hasattr(app.state, "scheduler_settings"):
        app.state.scheduler_settings = DispatchSettings()


@contextmanager
def scheduler_running(app: FastAPI) -> Iterator[DispatchLoop | None]:
    """Run the scheduler loop while the app runs (unless disabled); stop it (and give up the lead) after."""
    settings: DispatchSettings = app.state.scheduler_settings
    if not settings.enabled:
        app.state.scheduler_loop = None
        try:
            yield None
        finally:
            app.state.submit_queue.close()
        return
    loop = DispatchLoop(app.state.engine, app.state.session_factory, settings, app.state.backends)
    app.state.scheduler_loop = loop
    loop.start()
    try:
        yield loop
    finally:
        app.state.submit_queue.close()
        loop.stop()
        app.state.backends.close()
