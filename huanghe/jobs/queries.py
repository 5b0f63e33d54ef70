"""Reading jobs: one job as the API shows it, pages of jobs, a job's events, placements and history.

Times are epoch seconds; money CNY; carbon kg. ``clock`` (default: the wall clock) gives "now" for the
running cost of a job that has not ended.

Env values are shown to the job's own tenant only (``viewer_tenant``, :mod:`huanghe.jobs.masking`).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from huanghe.billing.models import InvoiceRow, UsageRow
from huanghe.core.clock import Clock, WallClock
from huanghe.core.errors import FieldError, InvalidError
from huanghe.domain.enums import JobState
from huanghe.domain.tenancy import fen_to_cny
from huanghe.jobs.masking import visible_spec
from huanghe.jobs.models import JobEventRow, JobRow, PlacementRow
from huanghe.jobs.waiting import waiting_report
from huanghe.store import crud


def job_public(
    r: JobRow, now_s: float, metered_fen: int | None = None, *, viewer_tenant: str | None = None
) -> dict[str, Any]:
    """A job as the API shows it. ``cost_cny`` is the actual cost so far (its price per hour, the node share
    it uses × the node-hour price, × run time up to ``now_s`` while it runs), the metered cost once it ended
    and was metered (``metered_fen``, what usage and the invoice bill), None before it started; ``est_*``
    are the placement's estimates. ``viewer_tenant``: the reader's tenant when it is a tenant role (env
    values are masked for every other reader, :func:`~huanghe.jobs.masking.visible_spec`)."""
    cost = None
    if metered_fen is not None and r.ended_s is not None:
        cost = float(fen_to_cny(metered_fen))
    elif r.started_s is not None and r.price_cny_per_hour is not None:
        end = r.ended_s if r.ended_s is not None else now_s
        cost = r.price_cny_per_hour * max(0.0, end - r.started_s) / 3600.0
    return {
        "id": r.id,
        "name": r.name,
        "state": r.state,
        "tenant": r.tenant_id,
        "user": r.user_id,
        "priority": r.priority,
        "pool": r.pool_id,
        "center": r.center_id,
        "submit_s": r.submit_s,
        "updated_s": r.updated_s,
        "started_s": r.started_s,
        "ended_s": r.ended_s,
        "attempt": r.attempt,
        "max_attempts": r.max_attempts,
        "excluded_centers": list(r.excluded_centers or []),
        "backend": r.backend,
        "backend_job_id": r.backend_job_id,
        "cancel_requested": r.cancel_requested,
        "exit_code": r.exit_code,
        "message": r.message,
        "price_cny_per_hour": r.price_cny_per_hour,
        "est_cost_cny": r.est_cost_cny,
        "est_carbon_kg": r.est_carbon_kg,
        "cost_cny": cost,
        "spec": visible_spec(r.spec, viewer_tenant is not None and viewer_tenant == r.tenant_id),
    }


def get_row(session: Session, job_id: str) -> JobRow:
    """The stored row of a job (:class:`NotFoundError` if none)."""
    return crud.get_row(session, JobRow, job_id, "job")


def list_jobs(
    session: Session,
    *,
    state: str | None = None,
    pool: str | None = None,
    center: str | None = None,
    tenant: str | None = None,
    limit: int = 100,
    offset: int = 0,
    clock: Clock | None = None,
    viewer_tenant: str | None = None,
    q: str | None = None,
    submitted_after: float | None = None,
    submitted_before: float | None = None,
    sort: str = "-submit_s",
) -> dict[str, Any]:
    """A page of jobs: ``{"items", "total", "limit", "offset"}``, ordered by ``sort`` (:data:`SORTS`, default
    newest first). ``q``: text found in the id, the name or the command (case-insensitive for ASCII);
    ``submitted_after`` ≤ submission time < ``submitted_before`` (epoch seconds). Each order and the filters
    on tenant and state read an index of the jobs table (migration ``0012_job_list``)."""
    if sort not in SORTS:
        raise InvalidError([FieldError("query.sort", f"unknown sort {sort!r}; one of {sorted(SORTS)}")])
    where = list(_text_filter(session, q)) if q else []
    if submitted_after is not None:
        where.append(JobRow.submit_s >= submitted_after)
    if submitted_before is not None:
        where.append(JobRow.submit_s < submitted_before)
    if state:
        st = state.upper()
        if st not in JobState.__members__:
            raise InvalidError(
                [FieldError("query.state", f"unknown state {state!r}; one of {list(JobState)}")]
            )
        where.append(JobRow.state == st)
    if pool:
        where.append(JobRow.pool_id == pool)
    if center:
        where.append(JobRow.center_id == center)
    if tenant:
        where.append(JobRow.tenant_id == tenant)
    total = session.scalar(select(func.count()).select_from(JobRow).where(*where)) or 0
    rows = session.scalars(select(JobRow).where(*where).order_by(*SORTS[sort]).limit(limit).offset(offset))
    now_s = (clock or WallClock()).now_s()
    page = list(rows)
    metered = metered_fen(session, [r.id for r in page])
    items = [job_public(r, now_s, metered.get(r.id), viewer_tenant=viewer_tenant) for r in page]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


#: Orders of the job list (``sort``): by submission time, or by state then submission time; ``-`` = descending.
SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "-submit_s": (JobRow.submit_s.desc(), JobRow.id.desc()),
    "submit_s": (JobRow.submit_s.asc(), JobRow.id.asc()),
    "state": (JobRow.state.asc(), JobRow.submit_s.asc(), JobRow.id.asc()),
    "-state": (JobRow.state.desc(), JobRow.submit_s.desc(), JobRow.id.desc()),
}


def _text_filter(session: Session, q: str) -> list[ColumnElement[bool]]:
    """``q`` found in the id, the name or the command of a job (never in other parts of the submission: env
    values stay unsearchable). SQLite's LIKE ignores ASCII case by itself; PostgreSQL uses ILIKE. On SQLite a
    ``q`` of printable ASCII other than ``"`` and ``\\`` (which JSON stores as they are) is first looked for in
    the stored JSON text, so the command is parsed out only of the rows that can match."""
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    command = JobRow.spec["command"].as_string()
    if session.get_bind().dialect.name == "postgresql":
        return [or_(*(c.ilike(pattern, escape="\\") for c in (JobRow.id, JobRow.name, command)))]
    in_command = command.like(pattern, escape="\\")
    if _JSON_PLAIN.fullmatch(q):
        in_command = and_(cast(JobRow.spec, String).like(pattern, escape="\\"), in_command)
    return [or_(JobRow.id.like(pattern, escape="\\"), JobRow.name.like(pattern, escape="\\"), in_command)]


#: Text JSON stores verbatim (printable ASCII but the quote and the backslash).
_JSON_PLAIN = re.compile(r"[ !#-\[\]-~]*")


def metered_fen(session: Session, job_ids: list[str]) -> dict[str, int]:
    """The metered cost (fen) of each of ``job_ids`` that has a usage row."""
    if not job_ids:
        return {}
    rows = session.execute(select(UsageRow.job_id, UsageRow.cost_fen).where(UsageRow.job_id.in_(job_ids)))
    return {str(j): int(c) for j, c in rows}


def events(session: Session, job_id: str) -> list[dict[str, Any]]:
    """Every event of a job, oldest first."""
    get_row(session, job_id)
    rows = session.scalars(select(JobEventRow).where(JobEventRow.job_id == job_id).order_by(JobEventRow.id))
    return [
        {"t_s": e.t_s, "kind": e.kind, "state": e.state, "message": e.message, "data": e.data} for e in rows
    ]


def show(
    session: Session,
    job_id: str,
    clock: Clock | None = None,
    viewer_tenant: str | None = None,
    tick: tuple[float, int] = (0.2, 2000),
) -> dict[str, Any]:
    """The job with its state history, its placements (the latest with its explanation), its cost
    (``viewer_tenant``: see :func:`job_public`) and, while PENDING or PLACED, its scheduling report
    (:func:`~huanghe.jobs.waiting.waiting_report`; ``tick`` = the placer's interval in seconds and its batch)."""
    row = get_row(session, job_id)
    metered = metered_fen(session, [job_id]).get(job_id)
    now_s = (clock or WallClock()).now_s()
    out = job_public(row, now_s, metered, viewer_tenant=viewer_tenant)
    out["history"] = [
        {"t_s": e["t_s"], "state": e["state"], "message": e["message"]}
        for e in events(session, job_id)
        if e["kind"] == "state"
    ]
    placements = list(
        session.scalars(select(PlacementRow).where(PlacementRow.job_id == job_id).order_by(PlacementRow.id))
    )
    out["placements"] = [
        {
            "attempt": p.attempt,
            "t_s": p.t_s,
            "policy": p.policy,
            "pool": p.pool_id,
            "center": p.center_id,
            "est_start_s": p.est_start_s,
            "est_run_s": p.est_run_s,
            "est_cost_cny": p.est_cost_cny,
            "est_carbon_kg": p.est_carbon_kg,
        }
        for p in placements
    ]
    out["placement"] = (
        {**out["placements"][-1], "explanation": placements[-1].explanation} if placements else None
    )
    out["waiting"] = waiting_report(session, row, now_s, *tick)
    out["usage"] = metered_usage(session, job_id)
    return out


def metered_usage(session: Session, job_id: str) -> dict[str, Any] | None:
    """What metering recorded for an ended job (None before): node- and GPU-hours, cost (CNY), energy (kWh),
    carbon (kg CO2), its invoice and the share of that invoice paid by vouchers (``voucher_share`` 0..1;
    ``voucher_cny`` = cost × share: vouchers pay a monthly invoice, not single jobs)."""
    u = session.scalars(select(UsageRow).where(UsageRow.job_id == job_id)).first()
    if u is None:
        return None
    inv = session.get(InvoiceRow, u.invoice_id) if u.invoice_id is not None else None
    share = inv.voucher_fen / inv.total_fen if inv is not None and inv.total_fen > 0 else None
    cost = float(fen_to_cny(u.cost_fen))
    return {
        "node_hours": u.node_hours, "gpu_hours": u.gpu_hours, "cost_cny": cost, "energy_kwh": u.energy_kwh,
        "carbon_kg": u.carbon_kg, "invoice_id": u.invoice_id, "voucher_share": share,
        "voucher_cny": None if share is None else round(cost * share, 2),
    }  # fmt: skip
