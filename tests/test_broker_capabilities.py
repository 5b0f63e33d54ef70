"""Capability-aware placement: a pool whose back-end lacks what a job needs (GPUs, several nodes) is removed
by the ``backend`` filter, and the explanation names the back-end and its declared reason (issue #12)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from huanghe.backends.describe import capabilities_of, missing_by_backend
from huanghe.backends.protocol import Capability
from huanghe.broker.batch import JobBatch
from huanghe.broker.engine import PlacementEngine
from huanghe.broker.filters import Reason, apply_filters
from huanghe.broker.policies import CycleContext, HuanghePlacementPolicy, Weights
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.topology import parse_topology
from huanghe.core.clock import FakeClock
from tests.broker_toy import TOY

GPU_JOB = {"job_id": "g", "kind": "gpu", "cpus": 4, "gpus": 1, "duration_s": 600}


def _snapshot(backends: dict[str, str]) -> NetworkSnapshot:
    """The toy network with the given pool → back-end names, capabilities from the back-end registry."""
    doc: dict[str, Any] = copy.deepcopy(TOY)
    for center in doc["centers"]:
        for pool in center["pools"]:
            pool["backend"] = backends.get(pool["id"], "local")
    topo = parse_topology(doc, "<toy>")
    return NetworkSnapshot.from_topology(topo, FakeClock(0.0), backend_missing=missing_by_backend())


def test_the_snapshot_carries_each_pools_backend_and_what_it_lacks() -> None:
    snap = _snapshot({"jn-a100": "fake"})
    assert snap.pool_backend[snap.pool_index("jn-a100")] == "fake"
    assert snap.pool_backend[snap.pool_index("jn-cpu")] == "local"
    lacks = snap.backend_lacks(["gpus", "multi_node"])
    assert lacks[snap.pool_index("jn-cpu")].tolist() == [True, True]
    assert lacks[snap.pool_index("jn-a100")].tolist() == [False, False]
    assert (
        snap.missing_reason(snap.pool_index("jn-cpu"), "gpus")
        == capabilities_of("local").missing[Capability.GPUS]
    )


@pytest.mark.parametrize("policy", ["huanghe", "earliest-completion", "first-admit", "cheapest", "spread"])
def test_a_gpu_job_is_never_placed_on_a_pool_whose_backend_lacks_gpus(policy: str) -> None:
    snap = _snapshot({})  # every pool on local, which cannot isolate GPUs
    jobs = JobBatch.from_records(snap, [GPU_JOB])
    (d,) = PlacementEngine(policy).place(snap, jobs, 0.0)
    assert d.pool_id is None
    removed = {r.reason: r for r in d.explanation.removed}
    assert "backend" in removed, d.explanation
    detail = removed["backend"].detail
    assert detail.startswith("backend local cannot run gpus: ")
    assert capabilities_of("local").missing[Capability.GPUS] in detail
    assert "multi_node" not in detail  # only what this job needs is named


def test_a_gpu_job_goes_to_the_gpu_pool_whose_backend_can_run_it() -> None:
    snap = _snapshot({"jn-a100": "fake"})
    jobs = JobBatch.from_records(snap, [GPU_JOB])
    for policy in ("huanghe", "earliest-completion"):
        (d,) = PlacementEngine(policy).place(snap, jobs, 0.0)
        assert d.pool_id == "jn-a100", (policy, d.explanation)


def test_a_gang_is_removed_from_pools_whose_backend_runs_one_node() -> None:
    snap = _snapshot({"zb-cpu": "fake"})
    jobs = JobBatch.from_records(snap, [{"job_id": "m", "cpus": 8, "nodes": 2, "duration_s": 60}])
    rep = apply_filters(snap, jobs)
    ok = rep.passed[Reason.BACKEND][0]
    assert ok[snap.pool_index("zb-cpu")] and not ok[snap.pool_index("jn-cpu")]
    (d,) = PlacementEngine("huanghe").place(snap, jobs, 0.0)
    assert d.pool_id == "zb-cpu"
    one_node = JobBatch.from_records(snap, [{"job_id": "s", "cpus": 8, "duration_s": 60}])
    assert apply_filters(snap, one_node).passed[Reason.BACKEND].all()


def test_a_snapshot_without_backend_knowledge_removes_nothing() -> None:
    doc = copy.deepcopy(TOY)
    snap = NetworkSnapshot.from_topology(parse_topology(doc, "<toy>"), FakeClock(0.0))
    jobs = JobBatch.from_records(snap, [GPU_JOB])
    assert apply_filters(snap, jobs).passed[Reason.BACKEND].all()


def test_the_explanation_detail_survives_json() -> None:
    from huanghe.broker.explain import Explanation

    snap = _snapshot({})
    (d,) = PlacementEngine("huanghe").place(snap, JobBatch.from_records(snap, [GPU_JOB]), 0.0)
    back = Explanation.from_dict(d.explanation.to_dict())
    assert back.removed == d.explanation.removed


# ------------------------------------------------------------------------------ no stranded accelerators
def _tempting_gpu_pool() -> NetworkSnapshot:
    """The toy network where the A100 pool is 3 × as fast for CPU work, about as cheap and frugal per core."""
    doc: dict[str, Any] = copy.deepcopy(TOY)
    for center in doc["centers"]:
        for pool in center["pools"]:
            if pool["id"] == "jn-a100":
                pool["speed"] = {"gpu": 2.0, "inference": 2.0, "cpu": 3.0}
                pool["price_cny_per_hour"] = 15
                pool["power_kw_per_node"] = 0.5
                pool["backend"] = "fake"
    topo = parse_topology(doc, "<toy>")
    return NetworkSnapshot.from_topology(topo, FakeClock(0.0), backend_missing=missing_by_backend())


@pytest.mark.parametrize(
    ("policy", "term"), [("huanghe", "stranding"), ("earliest-completion", "stranding_s")]
)
def test_cpu_work_does_not_take_accelerator_nodes_while_a_cpu_pool_can_serve_it(
    policy: str, term: str
) -> None:
    snap = _tempting_gpu_pool()
    accel = {p for i, p in enumerate(snap.pool_ids) if snap.gpus_per_node[i] > 0}
    jobs = JobBatch.from_records(
        snap, [{"job_id": f"c{i}", "cpus": 1, "duration_s": 3600} for i in range(50)]
    )
    decisions = PlacementEngine(policy).place(snap, jobs, 0.0)
    placed = [d.pool_id for d in decisions if d.pool_id is not None]
    assert placed and not accel & set(placed), placed
    winner = decisions[0].explanation.winner
    assert winner is not None and winner.terms.get(term) == 0.0
    if policy != "huanghe":
        return
    # without the stranding term the faster A100 pool wins: the term is what keeps CPU work off it
    unstranded = HuanghePlacementPolicy(Weights(stranding=0.0))
    res = unstranded.cycle(snap, jobs, CycleContext(weights=Weights(stranding=0.0)))
    assert snap.pool_ids[int(res.pool[0])] == "jn-a100"


def test_cpu_work_may_use_an_accelerator_pool_when_no_cpu_pool_can_serve_it() -> None:
    snap = _tempting_gpu_pool()
    # 90 cores on one node: no CPU pool has nodes that big (64 at most), the A100 (96) and Ascend (192) pools do
    jobs = JobBatch.from_records(snap, [{"job_id": "big", "cpus": 90, "duration_s": 600}])
    (d,) = PlacementEngine("huanghe").place(snap, jobs, 0.0)
    assert d.pool_id in {"jn-a100", "qd-910b"}, d.explanation  # no CPU pool has 90-core nodes
    assert d.explanation.winner is not None and d.explanation.winner.terms["stranding"] == 0.0


@pytest.mark.parametrize("policy", ["huanghe", "earliest-completion", "earliest-start", "cheapest"])
def test_ties_go_to_lower_cost_then_carbon_then_pool_id_never_topology_order(policy: str) -> None:
    doc: dict[str, Any] = copy.deepcopy(TOY)
    zb = next(c for c in doc["centers"] if c["id"] == "zb")
    twin = copy.deepcopy(zb["pools"][0])
    zb["pools"] = [dict(twin, id="zb-cpu-b"), dict(twin, id="zb-cpu-a")]  # identical, b listed first
    doc["centers"] = [zb]
    doc["links"] = []
    snap = NetworkSnapshot.from_topology(parse_topology(doc, "<toy>"), FakeClock(0.0))
    jobs = JobBatch.from_records(snap, [{"job_id": "t", "cpus": 1, "duration_s": 60}])
    (d,) = PlacementEngine(policy).place(snap, jobs, 0.0)
    assert d.pool_id == "zb-cpu-a", d.explanation
