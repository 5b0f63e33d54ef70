"""``earliest-start`` (Slurm ``-M``: earliest estimated start) vs ``earliest-completion`` (ours: earliest
estimated start + run) on a hand-made 2-pool case of the toy network."""

from __future__ import annotations

import numpy as np
import pytest

from huanghe.broker.batch import JobBatch
from huanghe.broker.engine import PlacementEngine
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.clock import FakeClock
from tests.broker_toy import toy_topology

T0 = 1_000.0
JOB = {"job_id": "a", "cpus": 8, "duration_s": 1000}


def two_pools(backlog_qd_s: float) -> NetworkSnapshot:
    """Only jn-cpu (speed 1, 10 CNY/node-h) and qd-cpu (speed 1.25, 8 CNY/node-h) are left for a CPU job
    (Zibo unhealthy); qd-cpu has one queued job and ``backlog_qd_s`` of backlog when that is > 0."""
    snap = NetworkSnapshot.from_topology(toy_topology(), FakeClock(T0))
    snap = snap.with_health([c != "zb" for c in snap.center_ids])
    if backlog_qd_s > 0:
        qd = snap.pool_ids.index("qd-cpu")
        queued = np.zeros(len(snap.pool_ids), dtype=np.int64)
        backlog = np.zeros(len(snap.pool_ids))
        queued[qd], backlog[qd] = 1, backlog_qd_s
        snap = snap.with_queue(queued, backlog)
    return snap


def place(policy: str, snap: NetworkSnapshot) -> str | None:
    (d,) = PlacementEngine(policy).place(snap, JobBatch.from_records(snap, [JOB]), T0)
    return d.pool_id


def test_start_vs_completion_differ_when_the_fast_pool_is_busy() -> None:
    snap = two_pools(backlog_qd_s=100.0)
    # jn-cpu starts now and ends at +1000 s; qd-cpu starts at +100 s and ends at +100 + 800 = +900 s
    assert place("earliest-start", snap) == "jn-cpu"
    assert place("earliest-completion", snap) == "qd-cpu"


def test_both_agree_when_the_fast_pool_is_too_busy() -> None:
    snap = two_pools(backlog_qd_s=300.0)  # qd-cpu would end at +1100 s
    assert place("earliest-start", snap) == place("earliest-completion", snap) == "jn-cpu"


def test_earliest_start_tie_goes_to_the_lower_cost() -> None:
    snap = two_pools(backlog_qd_s=0.0)
    (d,) = PlacementEngine("earliest-start").place(snap, JobBatch.from_records(snap, [JOB]), T0)
    # both start now (score 0); qd-cpu costs 8/64 × 8 CNY × 800 s < jn-cpu 8/64 × 10 CNY × 1000 s
    assert d.pool_id == "qd-cpu" and d.est_start_s == pytest.approx(T0)
    why = d.explanation.to_dict()
    assert why["policy"] == "earliest-start" and why["winner"]["terms"]["start_s"] == pytest.approx(0.0)


def test_live_default_is_earliest_completion(monkeypatch: pytest.MonkeyPatch) -> None:
    from huanghe.jobs.settings import DispatchSettings

    monkeypatch.delenv("HUANGHE_SCHEDULER_POLICY", raising=False)

    assert DispatchSettings().policy == "earliest-completion"
    assert PlacementEngine().policy_name == "earliest-completion"
