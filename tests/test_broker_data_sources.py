"""Transfer estimates from several sources (the centers holding a complete copy of a job's input), the classes
that keep jobs reading different copies apart, and the data term of explanations (issue #13, deliverable 7)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from huanghe.broker.batch import JobBatch
from huanghe.broker.engine import PlacementEngine
from huanghe.broker.estimates import data_term, estimate, transfer_s
from huanghe.broker.explain import Explanation
from huanghe.broker.job_classes import job_classes
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.clock import FakeClock
from tests.broker_toy import toy_topology


@pytest.fixture(scope="module")
def snap() -> NetworkSnapshot:
    return NetworkSnapshot.from_topology(toy_topology(), FakeClock(0.0))


def _by_hand(snap: NetworkSnapshot, gb: float, src: int, dst: int) -> float:
    return gb * 8.0 / float(snap.bandwidth_gbps[src, dst]) + float(snap.latency_ms[src, dst]) / 1000.0


def test_minimum_over_sources_and_zero_where_a_copy_is(snap: NetworkSnapshot) -> None:
    a, b, c = snap.center_ids[:3]
    jobs = JobBatch.from_records(
        snap,
        [
            {"job_id": "home", "data_gb": 40.0, "data_center": a},
            {"job_id": "two", "data_gb": 40.0, "data_center": a, "data_sources": [b, c]},
            {"job_id": "none", "data_gb": 0.0, "data_center": a, "data_sources": [b]},
        ],
    )
    t = transfer_s(snap, jobs)
    for p in range(snap.n_pools):
        dst = int(snap.pool_center[p])
        home = 0.0 if dst == 0 else _by_hand(snap, 40.0, 0, dst)
        assert t[0, p] == pytest.approx(home)
        two = 0.0 if dst in (1, 2) else min(_by_hand(snap, 40.0, 1, dst), _by_hand(snap, 40.0, 2, dst))
        assert t[1, p] == pytest.approx(two)  # the home center without the files is no source
        assert t[2, p] == 0.0
    # the single-source path is unchanged by the matrix being there
    alone = JobBatch.from_records(snap, [{"job_id": "home", "data_gb": 40.0, "data_center": a}])
    assert alone.data_sources.shape == (1, 0)
    np.testing.assert_array_equal(transfer_s(snap, alone)[0], t[0])


def test_data_term_names_bytes_source_and_seconds(snap: NetworkSnapshot) -> None:
    a, b, c = snap.center_ids[:3]
    jobs = JobBatch.from_records(
        snap, [{"job_id": "j", "data_gb": 2.5, "data_center": a, "data_sources": [b, c]}]
    )
    t = transfer_s(snap, jobs)
    for p in range(snap.n_pools):
        term = data_term(snap, jobs, 0, p)
        assert term is not None
        dst = int(snap.pool_center[p])
        if dst in (1, 2):
            assert (term.bytes, term.source, term.transfer_s) == (0, None, 0.0)
        else:
            best = min((1, 2), key=lambda s: _by_hand(snap, 2.5, s, dst))
            assert term.bytes == 2_500_000_000 and term.source == snap.center_ids[best]
            assert term.transfer_s == pytest.approx(t[0, p])


def test_classes_keep_jobs_reading_different_copies_apart(snap: NetworkSnapshot) -> None:
    a, b, c = snap.center_ids[:3]
    recs = [
        {"job_id": str(i), "data_gb": 5.0, "data_center": a, "data_sources": [s]}
        for i, s in enumerate((b, b, c))
    ]
    rep, inv = job_classes(JobBatch.from_records(snap, recs))
    assert len(rep) == 2 and inv[0] == inv[1] != inv[2]


def test_explanation_names_the_data_term_for_winner_and_runner_up(snap: NetworkSnapshot) -> None:
    a, b = snap.center_ids[:2]
    jobs = JobBatch.from_records(
        snap,
        [
            {
                "job_id": "j",
                "cpus": 1,
                "duration_s": 600.0,
                "data_gb": 100.0,
                "data_center": a,
                "data_sources": [b],
            }
        ],
    )
    (d,) = PlacementEngine("earliest-completion").place(snap, jobs, 0.0)
    why = d.explanation
    assert why.winner is not None and why.runner_up is not None
    for cand in (why.winner, why.runner_up):
        assert cand.data is not None
        if cand.center == b:
            assert cand.data == {"bytes": 0, "from": None, "transfer_s": 0.0}
        else:
            assert cand.data["bytes"] == 100_000_000_000 and cand.data["from"] == b
            assert (
                cand.data["transfer_s"] == pytest.approx(cand.terms["transfer_s"])
                and cand.data["transfer_s"] > 0
            )
    back = Explanation.from_dict(why.to_dict())
    assert back.winner is not None and back.winner.data == why.winner.data
    est = estimate(snap, jobs)
    assert all(math.isfinite(x) for x in est.transfer_s[0])
