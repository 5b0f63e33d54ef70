"""Explanations of placement decisions: why a job went where it went.

An :class:`Explanation` holds the candidates considered, which filter removed which pools (counts and the
first few ids per reason, by the first filter that failed), and the score terms of the winner and the runner-up,
each with its data term (bytes of input to move, from which center, the transfer seconds) when the job reads data.
It serialises to plain JSON (``to_dict`` / ``to_json``; ``from_dict`` reads it back) for the simulator's per-job
output and the live API.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from huanghe.broker.estimates import Estimates
from huanghe.broker.filters import BACKEND_NEEDS, FILTERS, FilterReport, Reason
from huanghe.broker.snapshot import NetworkSnapshot

#: How many pool ids to list per removal reason.
MAX_IDS_PER_REASON = 5


@dataclass(frozen=True)
class Removal:
    """Pools removed by one filter: how many, and the first few ids. ``detail`` says more when the filter
    knows more (the ``backend`` filter: which back-end cannot run what the job needs, and the back-end's
    declared reason)."""

    reason: str
    count: int
    pool_ids: list[str]
    detail: str = ""


@dataclass(frozen=True)
class ScoredCandidate:
    """One candidate pool with its total score (lower is better) and the terms behind it."""

    pool: str
    center: str
    score: float
    terms: dict[str, float] = field(default_factory=dict)
    #: the data term: ``bytes`` to move, ``from`` which center (None: a copy is there), ``transfer_s``;
    #: None when the job reads no input data
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Explanation:
    """Why job ``job_id`` was (or was not) placed, at time ``t_s``."""

    job_id: str
    t_s: float
    policy: str
    candidates: int
    feasible: int
    removed: list[Removal]
    winner: ScoredCandidate | None
    runner_up: ScoredCandidate | None
    note: str = ""

    @property
    def placed(self) -> bool:
        return self.winner is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (non-finite floats become None)."""
        out: dict[str, Any] = _clean(asdict(self))
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Explanation:
        def cand(d: Mapping[str, Any] | None) -> ScoredCandidate | None:
            if d is None:
                return None
            terms = {k: (math.nan if v is None else float(v)) for k, v in d.get("terms", {}).items()}
            score = math.nan if d["score"] is None else float(d["score"])
            data = d.get("data")
            return ScoredCandidate(
                pool=d["pool"],
                center=d["center"],
                score=score,
                terms=terms,
                data=dict(data) if data else None,
            )

        return cls(
            job_id=data["job_id"],
            t_s=float(data["t_s"]),
            policy=data.get("policy", ""),
            candidates=int(data["candidates"]),
            feasible=int(data["feasible"]),
            removed=[
                Removal(r["reason"], int(r["count"]), list(r["pool_ids"]), r.get("detail", ""))
                for r in data["removed"]
            ],
            winner=cand(data.get("winner")),
            runner_up=cand(data.get("runner_up")),
            note=data.get("note", ""),
        )


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def explain(
    snap: NetworkSnapshot,
    report: FilterReport,
    job: int,
    job_id: str,
    scores: npt.ArrayLike,
    terms: Mapping[str, npt.ArrayLike] | None = None,
    estimates: Estimates | None = None,
    chosen: int | None = None,
    policy: str = "",
    max_ids: int = MAX_IDS_PER_REASON,
) -> Explanation:
    """Explain the decision for row ``job`` of a batch.

    ``scores`` is the policy's total per pool for this job, shape (P,), lower is better; ``terms`` maps a term
    name to its per-pool values (P,); with ``estimates`` the pair's estimates are added to the terms. The winner
    is ``chosen`` if given (it must be feasible), else the feasible pool with the lowest score; the runner-up is
    the best other feasible pool.
    """
    feasible = report.feasible[job]
    score = np.asarray(scores, dtype=np.float64).reshape(-1)
    removed = []
    for reason, idx in report.removed_by(job).items():
        if idx.size:
            ids = [snap.pool_ids[i] for i in idx[:max_ids]]
            detail = (
                _backend_detail(snap, report, job, idx) if reason == Reason.BACKEND
                else _offering_detail(snap, report, job) if reason == Reason.OFFERING
                else ""
            )  # fmt: skip
            removed.append(Removal(str(reason), int(idx.size), ids, detail))
    order = np.flatnonzero(feasible)
    order = order[np.argsort(score[order], kind="stable")]
    note = ""
    if chosen is not None:
        if not feasible[chosen]:
            raise ValueError(f"chosen pool {snap.pool_ids[chosen]} is not feasible for job {job_id}")
        winner_i: int | None = int(chosen)
    else:
        winner_i = int(order[0]) if order.size else None
    if winner_i is None:
        note = "no feasible pool / 无可用资源池"
    others = [int(i) for i in order if i != winner_i]
    runner_i = others[0] if others else None

    def cand(i: int | None) -> ScoredCandidate | None:
        if i is None:
            return None
        t: dict[str, float] = {}
        if estimates is not None:
            t.update(estimates.terms(job, i))
        for name, values in (terms or {}).items():
            t[name] = float(np.asarray(values, dtype=np.float64).reshape(-1)[i])
        term = estimates.data_term(job, i) if estimates is not None else None
        return ScoredCandidate(
            pool=snap.pool_ids[i], center=snap.center_ids[snap.pool_center[i]], score=float(score[i]), terms=t,
            data=None if term is None else term.to_dict(),
        )  # fmt: skip

    return Explanation(
        job_id=job_id,
        t_s=snap.t_s,
        policy=policy,
        candidates=snap.n_pools,
        feasible=int(feasible.sum()),
        removed=removed,
        winner=cand(winner_i),
        runner_up=cand(runner_i),
        note=note,
    )


def _offering_detail(snap: NetworkSnapshot, report: FilterReport, job: int) -> str:
    """``the job targets an offering of pool <id> / 指定产品的资源池 <id>``: the one pool the ``offering`` filter
    kept for the job."""
    kept = np.flatnonzero(report.passed[Reason.OFFERING][job])
    pools = ", ".join(snap.pool_ids[i] for i in kept[:MAX_IDS_PER_REASON])
    return f"the job targets an offering of pool {pools} / 作业指定了资源池 {pools} 的算力产品"


def _backend_detail(
    snap: NetworkSnapshot, report: FilterReport, job: int, pools: npt.NDArray[np.intp]
) -> str:
    """``backend local cannot run gpus: <its reason>; ...`` for the back-ends of ``pools`` (removed by the
    ``backend`` filter), naming each capability the job needs and the back-end lacks."""
    needs = report.needs[job] if report.needs is not None else np.ones(len(BACKEND_NEEDS), dtype=np.bool_)
    parts: list[str] = []
    for name in sorted({str(snap.pool_backend[i]) for i in pools}):
        missing = snap.backend_missing.get(name, {})
        for cap, needed in zip(BACKEND_NEEDS, needs.tolist(), strict=True):
            if needed and cap in missing:
                parts.append(f"backend {name} cannot run {cap}: {missing[cap]}")
    return "; ".join(parts)


#: Filter reason names in report order (for tables and docs).
REASONS: tuple[str, ...] = tuple(str(r) for r, _ in FILTERS)
