"""Reading a job's output from the back-end of the pool it ran on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.backends.protocol import BackendError, UnknownJobError
from huanghe.domain.enums import JobState
from huanghe.jobs.backend_cache import BackendCache
from huanghe.jobs.dispatch_context import resolved_settings
from huanghe.jobs.queries import get_row
from huanghe.network.models import PoolRow


def job_logs(session: Session, backends: BackendCache, job_id: str, offset: int) -> dict[str, Any]:
    """The job's output (stdout + stderr) from byte ``offset`` on. Never raises for a job that exists: a job
    not yet dispatched, a deleted pool or an unreachable back-end give empty ``data`` and a ``message``;
    ``next_offset`` is ``offset`` plus the UTF-8 length of ``data``."""
    row = get_row(session, job_id)
    state = JobState(row.state)
    out: dict[str, Any] = {
        "job_id": job_id, "offset": offset, "next_offset": offset, "data": "", "state": state.value,
        "terminal": state.terminal, "message": "",
    }  # fmt: skip
    if not row.backend_job_id or not row.pool_id:
        out["message"] = "not dispatched yet / 尚未下发" if not state.terminal else "never ran / 未运行"
        return out
    pool = session.scalar(select(PoolRow).where(PoolRow.id == row.pool_id))
    if pool is None:
        out["message"] = f"pool {row.pool_id} no longer exists"
        return out
    try:
        settings = resolved_settings(session, pool.backend_settings)
        data = backends.get(pool.backend, settings).logs(row.backend_job_id, offset)
    except UnknownJobError:
        out["message"] = "the back-end no longer has this job's output / 后端已无日志"
        return out
    except BackendError as exc:
        out["message"] = f"back-end unavailable: {exc}"
        return out
    out["data"] = data
    out["next_offset"] = offset + len(data.encode())
    return out
