"""Recovery: resolve the dispatches a crash interrupted, never running a job twice.

Runs when a process becomes leader. A job left DISPATCHED without a back-end id was claimed, and maybe
submitted, by a process that died. Its back-end is asked for the dispatch token (the back-end job name,
:meth:`~huanghe.backends.protocol.Backend.find_by_name`): found → adopted; provably never submitted →
PLACED again, to be dispatched again; unknowable → FAILED with that reason (at most once).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from huanghe.backends.protocol import Backend, BackendError
from huanghe.domain.enums import JobState
from huanghe.jobs.dispatch_context import DispatchContext
from huanghe.jobs.models import JobRow
from huanghe.jobs.transitions import record_event, set_state

log = logging.getLogger("huanghe.broker")


def find_by_token(backend: Backend, token: str) -> tuple[str | None, bool]:
    """Ask ``backend`` for the dispatch named ``token``: (back-end job id or None, certain).

    ``certain`` False means the back-end cannot tell whether the job was submitted (it lacks
    :attr:`~huanghe.backends.protocol.Capability.FIND_BY_NAME`, or could not be asked). A back-end that
    raises instead of answering is treated as uncertain, so recovery never guesses.
    """
    try:
        return backend.find_by_name(token)
    except BackendError as exc:
        log.warning("%s: looking up %s failed: %s", backend.name, token, exc)
        return None, False


def recover(ctx: DispatchContext) -> int:
    """Resolve every DISPATCHED job without a back-end id, one commit each. Returns how many there were."""
    now_s = ctx.clock.now_s()
    n = 0
    with ctx.sf() as s:
        ctx.topology(s, now_s)
        rows = list(
            s.scalars(
                select(JobRow).where(
                    JobRow.state == JobState.DISPATCHED.value, JobRow.backend_job_id.is_(None)
                )
            )
        )
        for row in rows:
            n += 1
            be = ctx.backend_for_pool(row.pool_id or "")
            token = row.dispatch_token or ""
            found, certain = (None, False) if be is None else find_by_token(be, token)
            if found:
                row.backend_job_id = found
                record_event(s, row.id, now_s, "recovered", None, f"found {token} on {be.name if be else '?'}",
                             {"backend_job_id": found})  # fmt: skip
            elif certain:
                row.attempt -= 1
                row.dispatch_token = None
                set_state(s, row, JobState.PLACED, "dispatch interrupted before submission; again", now_s)
            else:
                set_state(
                    s, row, JobState.FAILED,
                    "dispatch interrupted by a restart and the back-end cannot tell whether it started; "
                    "not resubmitted (at most once) / 下发中断，未重复提交", now_s,
                )  # fmt: skip
            s.commit()
    return n
