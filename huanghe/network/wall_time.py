"""Wall times of the stored network's pools (Slurm DefaultTime / MaxTime), and admission by them.

Every pool has ``default_time_limit_s`` (the wall time of a job that names none) and ``max_time_limit_s`` (the
most a job may ask for), seconds. Before a job is placed its pool is unknown, so admission and the quota and
budget estimates use the network's figures: the largest default and the largest maximum over its pools
(a job is refused only if no pool could ever run that long; quotas never under-estimate a job naming no time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.core.errors import FieldError, InvalidError
from huanghe.domain.network import DEFAULT_TIME_LIMIT_S, MAX_TIME_LIMIT_S
from huanghe.network.models import PoolRow


@dataclass(frozen=True)
class WallTimes:
    """The network's wall times, seconds: ``default_s`` (largest pool default), ``max_s`` (largest maximum)."""

    default_s: float = DEFAULT_TIME_LIMIT_S
    max_s: float = MAX_TIME_LIMIT_S

    def of_job(self, time_limit_s: float | None, duration_s: float | None) -> float:
        """How long a job may run, seconds: its time limit, else its run-time estimate, else the default;
        never more than the maximum."""
        asked = time_limit_s if time_limit_s else duration_s if duration_s else self.default_s
        return min(float(asked), self.max_s)


def network_wall_times(session: Session) -> WallTimes:
    """The stored network's wall times (the schema's defaults while it has no pool)."""
    default_s, max_s = session.execute(
        select(func.max(PoolRow.default_time_limit_s), func.max(PoolRow.max_time_limit_s))
    ).one()
    if default_s is None or max_s is None:
        return WallTimes()
    return WallTimes(float(default_s), float(max_s))


def check_wall_times(
    session: Session, asked: Sequence[tuple[float | None, float | None]], prefix: str = ""
) -> None:
    """Refuse (:class:`InvalidError`, HTTP 422 naming ``time_limit_s`` or ``duration_s``) jobs asking for more
    wall time than any pool allows. ``asked``: (time_limit_s, duration_s) per job, in order; ``prefix`` names
    the list in error paths (``jobs`` → ``jobs[3].time_limit_s``; "" for one job)."""
    if not any(t or d for t, d in asked):
        return
    max_s = network_wall_times(session).max_s
    errors: list[FieldError] = []
    for i, (time_limit_s, duration_s) in enumerate(asked):
        at = f"{prefix}[{i}]." if prefix else ""
        for name, value in (("time_limit_s", time_limit_s), ("duration_s", duration_s)):
            if value is not None and value > max_s:
                errors.append(FieldError(f"{at}{name}", (
                    f"asks {value:.0f} s, more than the longest time limit of any pool ({max_s:.0f} s, "
                    "max_time_limit_s) / 超过资源池最长运行时间")))  # fmt: skip
        if len(errors) >= 50:
            break
    if errors:
        raise InvalidError(errors)
