"""The FGD allocation-rate experiment: properties that must hold (not which policy wins)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from huanghe.broker.packing import (
    MILLI,
    POLICIES,
    Cluster,
    Packer,
    PolicyContext,
    Task,
    make_policy,
    target_workload,
)
from huanghe.cli.main import app
from huanghe.sim.alloc_rate import (
    PUBLISHED_AT_100_PCT,
    AllocTrace,
    load_node_list,
    openb_cluster,
    openb_tasks,
    published_rates,
    run_allocation,
    submission_order,
)


def test_allocation_rate_by_hand() -> None:
    cluster = Cluster.from_lists([8000], [1024], [2], ["T4"])
    whole = Task(1000, 0, 1, 1000)
    tasks = [whole, Task(1000, 0, 1, 600), whole, whole]
    trace = run_allocation(cluster, tasks, np.arange(4), "best-fit", 0, stop_arrived_pct=1000)
    # arrived 50, 80, 130, 180 % of 2 GPUs; allocated 50, 80, 80 (no idle GPU left), 80
    assert trace.arrived_pct.tolist() == [50.0, 80.0, 130.0, 180.0]
    assert trace.allocated_pct.tolist() == [50.0, 80.0, 80.0, 80.0]
    assert trace.failed == 2
    assert trace.rate_at(80) == 80.0
    assert trace.rate_at(130) == 80.0


def test_rate_at_uses_rounded_arrival_and_neighbours() -> None:
    t = AllocTrace(np.array([99.2, 99.6, 100.4, 100.6]), np.array([90.0, 91.0, 93.0, 99.0]), 0)
    assert t.rate_at(100) == pytest.approx(92.0)  # 99.6 and 100.4 round to 100
    t2 = AllocTrace(np.array([98.8, 101.2]), np.array([90.0, 92.0]), 0)
    assert t2.rate_at(100) == pytest.approx(91.0)  # none rounds to 100: 99 and 101 are used
    assert np.isnan(AllocTrace(np.array([90.0, 110.0]), np.array([90.0, 92.0]), 0).rate_at(100))


def test_submission_order_inflates_to_the_ratio_and_is_seeded() -> None:
    demand = np.array([1000, 500, 0, 2000, 250], dtype=np.int64)
    a = submission_order(demand, 5000, seed=1, ratio=1.3)
    b = submission_order(demand, 5000, seed=1, ratio=1.3)
    c = submission_order(demand, 5000, seed=2, ratio=1.3)
    assert a.tolist() == b.tolist() and a.tolist() != c.tolist()
    assert sorted(a[:5].tolist()) == [0, 1, 2, 3, 4]  # every task once, shuffled, then resamples
    assert int(demand[a].sum()) <= 1.3 * 5000
    assert len(a) > 5


def test_published_numbers_match_the_authors_raw_file() -> None:
    assert published_rates() == PUBLISHED_AT_100_PCT


@pytest.fixture(scope="module")
def openb_small() -> tuple[Cluster, list[Task]]:
    nodes = load_node_list("gpu")
    keep = np.arange(0, len(nodes), 8)  # 152 nodes
    cluster = Cluster.from_lists(
        nodes.cpu_milli[keep], nodes.memory_mib[keep], nodes.gpu_count[keep], nodes.model[keep]
    )
    return cluster, openb_tasks()[:1200]


@pytest.mark.parametrize("policy", list(POLICIES))
def test_no_over_allocation_and_consistent_accounting(
    openb_small: tuple[Cluster, list[Task]], policy: str
) -> None:
    cluster, tasks = openb_small
    packer = Packer(
        cluster, make_policy(policy, PolicyContext(cluster, target_workload(tasks, cluster))), seed=3
    )
    placed_milli = 0
    for task in tasks:
        p = packer.place(task)
        if p is not None:
            placed_milli += task.total_gpu_milli
            assert len(p.gpus) == task.num_gpu
    st = packer.state
    assert (st.gpu_free >= 0).all() and (st.gpu_free <= MILLI).all()
    assert (st.cpu_free >= 0).all() and (st.mem_free >= 0).all()
    pad = np.arange(st.gpu_free.shape[1])[None, :] >= cluster.gpu_count[:, None]
    assert (st.gpu_free[pad] == 0).all()  # nothing allocated on GPUs that do not exist
    assert st.allocated_gpu_milli == placed_milli
    assert placed_milli > 0.5 * cluster.total_gpus * MILLI  # the subset fills the cluster


def test_runs_are_deterministic_per_seed(openb_small: tuple[Cluster, list[Task]]) -> None:
    cluster, tasks = openb_small
    demand = np.array([t.total_gpu_milli for t in tasks], dtype=np.int64)
    order = submission_order(demand, cluster.total_gpus * MILLI, seed=42)
    tw = target_workload(tasks, cluster)
    for policy in ("random", "fgd"):
        a = run_allocation(cluster, tasks, order, policy, 42, tw)
        b = run_allocation(cluster, tasks, order, policy, 42, tw)
        assert a.allocated_pct.tolist() == b.allocated_pct.tolist()
    r1 = run_allocation(cluster, tasks, order, "random", 1, tw)
    r2 = run_allocation(cluster, tasks, order, "random", 2, tw)
    assert r1.allocated_pct.tolist() != r2.allocated_pct.tolist()


def test_openb_cluster_is_the_papers() -> None:
    c = openb_cluster()
    assert len(c) == 1213 and c.total_gpus == 6212
    assert len(openb_cluster(load_node_list("all"))) == 1523


def test_cli_json_and_bad_input() -> None:
    runner = CliRunner()
    res = runner.invoke(
        app, ["bench", "reproduce", "fgd", "--seeds", "1", "--policies", "random,best-fit", "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    rows = {r["policy"]: r for r in data["rows"]}
    assert set(rows) == {"random", "best-fit"}
    assert rows["random"]["published_pct"] == 86.30 and rows["best-fit"]["published_pct"] == 92.86
    assert 80 < rows["random"]["allocation_rate_pct"] <= 100
    bad = runner.invoke(app, ["bench", "reproduce", "fgd", "--policies", "nope"])
    assert bad.exit_code == 2 and "unknown policy nope" in bad.output
