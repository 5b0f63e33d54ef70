"""Every filter on the toy network (pools: 0 jn-cpu, 1 jn-a100, 2 zb-cpu, 3 qd-910b, 4 qd-cpu)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from huanghe.broker import filters as flt
from huanghe.broker.batch import JobBatch, JobInputError
from huanghe.broker.snapshot import KIND_INDEX, NetworkSnapshot
from huanghe.core.clock import FakeClock
from huanghe.domain.jobs import JobSpec
from tests.broker_toy import toy_topology


@pytest.fixture(scope="module")
def snap() -> NetworkSnapshot:
    return NetworkSnapshot.from_topology(toy_topology(), FakeClock(0.0), carbon_shape="synthetic")


def batch(snap: NetworkSnapshot, *records: dict[str, Any]) -> JobBatch:
    return JobBatch.from_records(snap, [{"job_id": f"j{i}", **r} for i, r in enumerate(records)])


def rows(mask: np.ndarray) -> list[list[int]]:
    return [np.flatnonzero(r).tolist() for r in mask]


def test_health(snap: NetworkSnapshot) -> None:
    s2 = snap.with_health([True, False, True])
    jobs = batch(s2, {}, {"cpus": 4})
    assert rows(flt.healthy(s2, jobs)) == [[0, 1, 3, 4], [0, 1, 3, 4]]


def test_resources_per_node_shape(snap: NetworkSnapshot) -> None:
    jobs = batch(
        snap,
        {"cpus": 48},  # too wide for zb-cpu (32 cores)
        {"cpus": 8, "gpus": 4, "kind": "gpu"},  # GPU pools only
        {"cpus": 8, "mem_gb": 300},  # more memory than the 256/128 GB CPU nodes
        {"cpus": 8, "gpus": 9, "kind": "gpu"},  # more GPUs than any node
    )
    assert rows(flt.resources_fit(snap, jobs)) == [[0, 1, 3, 4], [1, 3], [1, 3], []]


def test_resources_gang_in_one_pool_or_spread_in_a_center(snap: NetworkSnapshot) -> None:
    jobs = batch(
        snap,
        {"cpus": 32, "nodes": 12},  # only zb-cpu has 12 nodes
        {"cpus": 32, "nodes": 12, "spread_ok": True},  # jn 10+4=14, qd 8+5=13 nodes together
        {"cpus": 32, "nodes": 14, "spread_ok": True},  # jn exactly 14; qd 13 too few
        {"cpus": 64, "nodes": 14, "spread_ok": True},  # zb nodes too small; jn 10+4
        {"cpus": 32, "nodes": 21, "spread_ok": True},  # nowhere
    )
    assert rows(flt.resources_fit(snap, jobs)) == [[2], [0, 1, 2, 3, 4], [0, 1, 2], [0, 1], []]


def test_resources_needs_speed(snap: NetworkSnapshot) -> None:
    speed = snap.speed.copy()
    speed[4, KIND_INDEX["hpc"]] = 0.0  # type: ignore[index]
    s2 = dataclasses.replace(snap, speed=speed)
    jobs = batch(s2, {"cpus": 8, "kind": "hpc"}, {"cpus": 8, "kind": "cpu"})
    assert rows(flt.resources_fit(s2, jobs)) == [[0, 1, 2, 3], [0, 1, 2, 3, 4]]


def test_accelerator_model_or_class(snap: NetworkSnapshot) -> None:
    jobs = batch(
        snap,
        {},
        {"accelerator": "A100"},
        {"accelerator": "ascend 910B"},
        {"accelerator": "gpu"},
        {"accelerator": "npu"},
        {"accelerator": "cpu"},
        {"accelerator": "H100"},
    )
    assert rows(flt.accelerator_match(snap, jobs)) == [[0, 1, 2, 3, 4], [1], [3], [1], [3], [0, 2, 4], []]


def test_data_class_residency(snap: NetworkSnapshot) -> None:
    jobs = JobBatch.from_records(
        snap,
        [
            {"data_class": "general", "data_center": "qd"},
            {"data_class": "important", "data_center": "jn"},  # jn, zb allow important
            {"data_class": "important", "allowed_centers": ["zb", "qd"]},  # qd does not allow important
            {"data_class": "core", "data_center": "jn"},  # core stays home
            {"data_class": "core", "data_center": "zb"},  # zb cannot hold core: nowhere
            {"data_class": "core", "data_center": "zb", "allowed_centers": ["jn", "zb"]},
            {"data_class": "core"},  # no home, no set: any center allowing core
        ],
    )
    assert rows(flt.data_class_allowed(snap, jobs)) == [
        [0, 1, 2, 3, 4],
        [0, 1, 2],
        [2],
        [0, 1],
        [],
        [0, 1],
        [0, 1],
    ]


def test_latency_slo_from_the_user_city(snap: NetworkSnapshot) -> None:
    jobs = batch(
        snap,
        {"user_city": "jinan", "latency_slo_ms": 1.0, "kind": "inference"},  # jn 0.05, zb 0.75, qd 2.29
        {"user_city": "jinan", "latency_slo_ms": 0.5},
        {"user_city": "qingdao", "latency_slo_ms": 2.0},  # qd 0.05, zb 1.66, jn 2.29
        {"user_city": "qingdao", "kind": "inference"},  # default 3 ms (in-circle): all
        {"latency_slo_ms": 0.1},  # no user city: not checked
        {"user_city": "qingdao"},  # no SLO, not inference: not checked
    )
    assert np.isnan(jobs.latency_slo_ms[5]) and jobs.latency_slo_ms[3] == 3.0
    assert (
        rows(flt.latency_slo(snap, jobs))
        == [[0, 1, 2], [0, 1], [2, 3, 4], [0, 1, 2, 3, 4]] + [[0, 1, 2, 3, 4]] * 2
    )


def test_price_cap(snap: NetworkSnapshot) -> None:
    # 32 cores per node: jn-cpu 0.5 x 10 = 5, jn-a100 1/3 x 200 = 66.7, zb-cpu 1 x 6 = 6, qd-910b 1/6 x 150 = 25,
    # qd-cpu 0.5 x 8 = 4 CNY/h
    jobs = batch(
        snap, {"cpus": 32, "max_price_cny_per_hour": 4.0}, {"cpus": 32, "max_price_cny_per_hour": 25}
    )
    price = flt.job_price_cny_per_hour(snap, jobs)
    assert price[0] == pytest.approx([5.0, 200 / 3, 6.0, 25.0, 4.0])
    assert rows(flt.price_cap(snap, jobs)) == [[4], [0, 2, 3, 4]]
    two = batch(snap, {"cpus": 32, "nodes": 2, "max_price_cny_per_hour": 10})  # twice the price per hour
    assert rows(flt.price_cap(snap, two)) == [[0, 4]]


def test_apply_filters_attributes_the_first_failing_filter(snap: NetworkSnapshot) -> None:
    s2 = snap.with_health([True, False, True])
    jobs = batch(
        s2,
        {
            "cpus": 48,
            "data_class": "important",
            "data_center": "jn",
            "user_city": "jinan",
            "latency_slo_ms": 1,
        },
        {"cpus": 200},
    )
    rep = flt.apply_filters(s2, jobs)
    # job 0: zb unhealthy (also too small: counted once, as unhealthy); qd not allowed important data
    assert rows(rep.feasible) == [[0, 1], []]
    removed = {str(k): v.tolist() for k, v in rep.removed_by(0).items() if v.size}
    assert removed == {"unhealthy": [2], "data_class": [3, 4]}
    assert {str(k): v.tolist() for k, v in rep.removed_by(1).items() if v.size} == {
        "unhealthy": [2],
        "resources": [0, 1, 3, 4],
    }
    assert not rep.passed[flt.Reason.RESOURCES][0, 2]  # each filter's own mask is kept too


def test_batch_is_the_same_as_one_by_one(snap: NetworkSnapshot) -> None:
    recs = [
        {"cpus": 32, "nodes": 3, "accelerator": "cpu"},
        {"cpus": 8, "gpus": 2, "kind": "gpu", "max_price_cny_per_hour": 40},
        {"cpus": 4, "user_city": "zibo", "latency_slo_ms": 1.0, "data_class": "important"},
    ]
    together = flt.apply_filters(snap, batch(snap, *recs)).feasible
    for i, r in enumerate(recs):
        alone = flt.apply_filters(snap, batch(snap, r)).feasible
        assert together[i].tolist() == alone[0].tolist()


def test_bad_references_name_the_job_and_field(snap: NetworkSnapshot) -> None:
    with pytest.raises(JobInputError, match=r"job x: data_center='nowhere'"):
        JobBatch.from_records(snap, [{"job_id": "x", "data_center": "nowhere"}])
    with pytest.raises(JobInputError, match="user_city"):
        JobBatch.from_records(snap, [{"job_id": "x", "user_city": "paris"}])


def test_from_specs(snap: NetworkSnapshot) -> None:
    specs = [
        JobSpec(kind="gpu", cpus=8, gpus=1, accelerator="npu"),
        JobSpec(cpus=2, data_class="core", data_center="jn"),
    ]
    jobs = JobBatch.from_specs(snap, specs, job_ids=["a", "b"], allowed_centers=[None, ["jn", "qd"]])
    assert jobs.job_ids == ("a", "b")
    assert rows(flt.apply_filters(snap, jobs).feasible) == [[3], [0, 1]]


def test_from_arrays_matches_from_records(snap: NetworkSnapshot) -> None:
    recs: list[dict[str, Any]] = [
        {"cpus": 32, "nodes": 3, "kind": "hpc"},
        {"cpus": 8, "gpus": 2, "kind": "gpu", "accelerator": "NPU"},
        {"cpus": 4, "max_price_cny_per_hour": 5.0},
    ]
    slow = batch(snap, *recs)
    fast = JobBatch.from_arrays(
        snap,
        3,
        cpus=[32, 8, 4],
        gpus=[0, 2, 0],
        nodes=[3, 1, 1],
        kind=[KIND_INDEX["hpc"], KIND_INDEX["gpu"], KIND_INDEX["cpu"]],  # type: ignore[index]
        accelerator=["", "NPU", ""],
        max_price_cny_per_hour=[np.inf, np.inf, 5.0],
    )
    assert len(fast) == 3 and fast.job_ids == ("0", "1", "2")
    assert rows(flt.apply_filters(snap, fast).feasible) == rows(flt.apply_filters(snap, slow).feasible)
    with pytest.raises(TypeError, match="unknown JobBatch columns"):
        JobBatch.from_arrays(snap, 1, cores=[1])


def test_default_kind_follows_gpus(snap: NetworkSnapshot) -> None:
    jobs = batch(snap, {"gpus": 1}, {"cpus": 2}, {"gpus": 1, "kind": "inference"})
    assert jobs.kind.tolist() == [KIND_INDEX[k] for k in ("gpu", "cpu", "inference")]  # type: ignore[index]
