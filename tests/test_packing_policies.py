"""Packing policies on tiny hand-built clusters where the right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from huanghe.broker.packing import (
    POLICIES,
    Cluster,
    ClusterState,
    Packer,
    PackingError,
    Placement,
    PolicyContext,
    Task,
    build_registry,
    expected_fragmentation,
    make_policy,
    target_workload,
)

ALL = list(POLICIES)


def _cluster(
    gpus: list[int], models: list[str] | None = None, cpu: int = 32_000, mem: int = 65_536
) -> Cluster:
    n = len(gpus)
    return Cluster.from_lists([cpu] * n, [mem] * n, gpus, models or ["T4" if g else "" for g in gpus])


def _packer(cluster: Cluster, name: str, target_tasks: list[Task], seed: int = 0) -> Packer:
    ctx = PolicyContext(cluster, target_workload(target_tasks, cluster))
    return Packer(cluster, make_policy(name, ctx), seed=seed)


def _partly_used(packer: Packer) -> None:
    """Node 1's GPU 0 keeps 600 milli free (a 400-milli task placed by hand)."""
    packer.assign(Placement(1, (0,)), Task(0, 0, 1, 400))


def test_fractional_share_goes_to_the_partly_used_gpu() -> None:
    # node 0: two idle GPUs; node 1: GPU0 600 free, GPU1 idle. A 500-milli share fits best on node 1, GPU 0.
    share = Task(4000, 1024, 1, 500)
    for name in ["best-fit", "packing", "dot-product", "fgd", "huanghe"]:
        cluster = _cluster([2, 2])
        packer = _packer(cluster, name, [Task(4000, 1024, 1, 600)])
        _partly_used(packer)
        p = packer.place(share)
        assert p == Placement(1, (0,)), name
        assert packer.state.gpu_free[1].tolist() == [100, 1000]


def test_whole_gpus_take_idle_ones_only() -> None:
    for name in ALL:
        cluster = _cluster([4])
        packer = _packer(cluster, name, [Task(1000, 0, 2, 1000)])
        packer.assign(Placement(0, (1,)), Task(0, 0, 1, 400))
        p = packer.place(Task(1000, 0, 2, 1000))
        assert p == Placement(0, (0, 2)), name
        assert packer.state.gpu_free[0].tolist() == [0, 600, 0, 1000]


def test_model_constraint_is_respected() -> None:
    cluster = _cluster([2, 2, 2], models=["T4", "V100M16", "T4"])
    task = Task(1000, 0, 1, 1000, frozenset({"V100M16"}))
    for name in ALL:
        for seed in range(5):
            packer = _packer(cluster, name, [task], seed)
            assert packer.place(task).node == 1, (name, seed)  # type: ignore[union-attr]
            assert packer.place(task).node == 1  # type: ignore[union-attr]
            assert packer.place(task) is None  # V100 node full, T4 nodes not allowed


def test_cpu_only_nodes_never_take_gpu_tasks_and_no_fit_returns_none() -> None:
    cluster = _cluster([0, 2])
    for name in ALL:
        packer = _packer(cluster, name, [Task(1000, 0, 1, 1000)])
        assert packer.place(Task(1000, 0, 3, 1000)) is None, name  # 3 GPUs fit nowhere
        assert packer.state.allocated_gpu_milli == 0
        assert packer.place(Task(1000, 0, 1, 1000)).node == 1  # type: ignore[union-attr]
        assert packer.place(Task(64_000, 0, 0, 0)) is None  # more CPU than any node


def test_best_fit_and_packing_prefer_the_fuller_node() -> None:
    cluster = _cluster([8, 8])
    for name in ["best-fit", "packing", "dot-product", "fgd", "huanghe"]:
        packer = _packer(cluster, name, [Task(1000, 0, 1, 1000)])
        first = packer.place(Task(1000, 0, 1, 1000))
        second = packer.place(Task(1000, 0, 1, 1000))
        assert first is not None and second is not None
        assert first.node == second.node, name  # stacks on the used node, keeps the other idle


def test_huanghe_keeps_cpu_tasks_off_gpu_nodes() -> None:
    cluster = _cluster([0, 8])
    packer = _packer(cluster, "huanghe", [Task(1000, 0, 1, 1000), Task(1000, 0, 0, 0)])
    for _ in range(5):
        assert packer.place(Task(2000, 1024, 0, 0)).node == 0  # type: ignore[union-attr]


def test_over_allocation_is_refused() -> None:
    st = ClusterState(_cluster([1]))
    st.apply(Placement(0, (0,)), Task(0, 0, 1, 700))
    with pytest.raises(PackingError, match="GPU 0"):
        st.apply(Placement(0, (0,)), Task(0, 0, 1, 400))
    with pytest.raises(PackingError, match="CPU or memory"):
        st.apply(Placement(0, ()), Task(40_000, 0, 0, 0))
    with pytest.raises(PackingError, match="distinct GPU"):
        st.apply(Placement(0, (0, 0)), Task(0, 0, 2, 1000))
    assert st.gpu_free[0, 0] == 300


def test_task_validation() -> None:
    with pytest.raises(PackingError):
        Task(1000, 0, 2, 500)  # two fractional GPUs
    with pytest.raises(PackingError):
        Task(1000, 0, 0, 300)
    assert Task(1000, 0, 1, 300).shared and not Task(1000, 0, 1, 1000).shared


def test_expected_fragmentation_by_hand() -> None:
    cluster = _cluster([1])
    # half the target tasks want 500 milli (+1 core), half are CPU-only
    tw = target_workload([Task(1000, 0, 1, 500), Task(1000, 0, 0, 0)], cluster)
    cpu = np.array([10_000, 10_000, 500])
    mem = np.array([0, 0, 0])
    gpu = np.array([[1000], [300], [1000]])
    model = np.array([0, 0, 0])
    frag = expected_fragmentation(cpu, mem, gpu, model, tw)
    # idle GPU: the 500-milli shape fits (no fragment), the CPU shape sees 1000 idle → 0.5·1000
    # 300 free: the share does not fit → 0.5·300 + 0.5·300; CPU short: 0.5·1000 + 0.5·1000
    assert frag.tolist() == [500.0, 300.0, 1000.0]


def test_target_workload_coverage_and_weights() -> None:
    cluster = _cluster([1])
    tasks = [Task(1000, 0, 1, 500)] * 6 + [Task(2000, 0, 1, 1000)] * 3 + [Task(500, 0, 0, 0)]
    tw = target_workload(tasks, cluster, coverage=0.85)
    assert tw.weight.tolist() == pytest.approx([6 / 9, 3 / 9])
    assert len(target_workload(tasks, cluster)) == 3


def test_registry_is_explicit_and_rejects_duplicates() -> None:
    assert ALL == ["random", "best-fit", "packing", "dot-product", "clustering", "fgd", "huanghe"]
    with pytest.raises(PackingError, match="duplicate"):
        build_registry([("a", POLICIES["random"]), ("a", POLICIES["best-fit"])])
    with pytest.raises(PackingError, match="unknown packing policy 'nope'"):
        make_policy("nope", PolicyContext(_cluster([1])))
    with pytest.raises(PackingError, match="target workload"):
        make_policy("fgd", PolicyContext(_cluster([1])))


def test_clustering_groups_tasks_of_the_same_gpu_shape() -> None:
    cluster = _cluster([8, 8, 8])
    packer = _packer(cluster, "clustering", [Task(1000, 0, 1, 500)])
    packer.assign(Placement(0, (0,)), Task(1000, 0, 1, 300))  # node 0 runs shares
    packer.assign(Placement(1, (0,)), Task(1000, 0, 1, 1000))  # node 1 runs a whole GPU
    for seed in range(3):
        packer.rng = np.random.default_rng(seed)
        assert packer.place(Task(1000, 0, 1, 700)).node == 0  # type: ignore[union-attr]
        assert packer.place(Task(1000, 0, 1, 1000)).node == 1  # type: ignore[union-attr]
