"""Slurm's words and numbers → the platform's: job states, numbers of every API version, GPUs in a gres string,
and the one way a Slurm job's state, exit code and times become a :class:`BackendJobStatus` (whether slurmctld
still knows the job or only the cluster's history does)."""

from __future__ import annotations

from typing import Any

from huanghe.backends.protocol import BackendJobStatus
from huanghe.domain.enums import JobState

#: Slurm job state → platform state.
STATE_MAP: dict[str, JobState] = {
    "PENDING": JobState.DISPATCHED,
    "CONFIGURING": JobState.DISPATCHED,
    "REQUEUED": JobState.DISPATCHED,
    "REQUEUE_HOLD": JobState.DISPATCHED,
    "REQUEUE_FED": JobState.DISPATCHED,
    "RESV_DEL_HOLD": JobState.DISPATCHED,
    "RUNNING": JobState.RUNNING,
    "COMPLETING": JobState.RUNNING,
    "SUSPENDED": JobState.RUNNING,
    "STAGE_OUT": JobState.RUNNING,
    "SIGNALING": JobState.RUNNING,
    "RESIZING": JobState.RUNNING,
    "COMPLETED": JobState.SUCCEEDED,
    "CANCELLED": JobState.CANCELLED,
    "PREEMPTED": JobState.PREEMPTED,
    "FAILED": JobState.FAILED,
    "TIMEOUT": JobState.FAILED,
    "NODE_FAIL": JobState.FAILED,
    "BOOT_FAIL": JobState.FAILED,
    "DEADLINE": JobState.FAILED,
    "OUT_OF_MEMORY": JobState.FAILED,
    "SPECIAL_EXIT": JobState.FAILED,
    "REVOKED": JobState.CANCELLED,
}


def map_state(slurm_state: str | list[str]) -> JobState:
    """``"COMPLETED"`` (or ``["COMPLETED"]`` in newer APIs, or ``"CANCELLED by 0"``) → :class:`JobState`."""
    raw = slurm_state[0] if isinstance(slurm_state, list) and slurm_state else slurm_state
    word = str(raw or "").split()[0].upper() if raw else "PENDING"
    return STATE_MAP.get(word, JobState.FAILED)


def number(value: Any) -> float | None:
    """A number from v0.0.38 (plain) or v0.0.39+ (``{"set": bool, "infinite": bool, "number": n}``)."""
    if isinstance(value, dict):
        if not value.get("set", True) or value.get("infinite"):
            return None
        value = value.get("number")
    if value is None:
        return None
    return float(value)


def gpus_in_gres(gres: str) -> float:
    """Count GPUs in a gres string such as ``gpu:a100:4(S:0-1),gpu:2``."""
    total = 0.0
    for part in (gres or "").split(","):
        fields = part.split("(")[0].split(":")
        if fields and fields[0] == "gpu":
            try:
                total += float(fields[-1])
            except ValueError:
                total += 1
    return total


def job_status(
    state: JobState, code: int | None, start: float | None, end: float | None, reason: str = ""
) -> BackendJobStatus:
    """The platform's status of a Slurm job in ``state`` with exit ``code`` (kept only once it ended), start and
    end times (epoch seconds; 0 or None = not yet) and Slurm's state reason."""
    if not state.terminal:
        code = None
    message = "" if state is JobState.SUCCEEDED or reason in ("None", "") else reason
    if state is JobState.FAILED and code:
        message = f"exit code {code}" + (f" ({reason})" if message else "")
    return BackendJobStatus(
        state=state,
        exit_code=code,
        started_at=start if start and state is not JobState.DISPATCHED else None,
        ended_at=end if end and state.terminal else None,
        message=message,
    )
