"""NetworkSnapshot and the carbon signal on the 3-center toy network (tests/broker_toy.py)."""

from __future__ import annotations

import dataclasses
import gzip

import numpy as np
import pytest

from huanghe.broker.carbon import HOURS_PER_YEAR, PROXY_FILE, CarbonSignal, load_proxy_shape, synthetic_shape
from huanghe.broker.snapshot import DATA_CLASS_BIT, KINDS, NetworkSnapshot
from huanghe.catalog.geo import haversine_km
from huanghe.core.clock import FakeClock
from huanghe.paths import traces_dir
from tests.broker_toy import toy_topology


@pytest.fixture(scope="module")
def snap() -> NetworkSnapshot:
    return NetworkSnapshot.from_topology(toy_topology(), FakeClock(7200.0), carbon_shape="synthetic")


def test_shapes_and_indices(snap: NetworkSnapshot) -> None:
    assert snap.t_s == 7200.0
    assert snap.pool_ids == ("jn-cpu", "jn-a100", "zb-cpu", "qd-910b", "qd-cpu")
    assert snap.center_ids == ("jn", "zb", "qd")
    assert snap.pool_center.tolist() == [0, 0, 1, 2, 2]
    assert snap.center_city.tolist() == [0, 1, 2]
    assert snap.city_region.tolist() == [0, 0, 1]
    assert snap.pool_region.tolist() == [0, 0, 0, 1, 1]
    assert snap.speed.shape == (5, len(KINDS))
    assert snap.latency_ms.shape == (3, 3) and snap.bandwidth_gbps.shape == (3, 3)
    assert snap.city_latency_ms.shape == (3, 3)
    assert snap.carbon.hourly_kg_per_kwh.shape == (3, HOURS_PER_YEAR)
    assert snap.gpus_free.tolist() == [0, 32, 0, 64, 0]
    assert snap.cpus_free.tolist() == [640, 384, 640, 1536, 320]
    assert snap.accelerator.tolist() == ["", "a100", "", "ascend 910b", ""]
    assert snap.accelerator_class.tolist() == ["cpu", "gpu", "cpu", "npu", "cpu"]
    assert snap.price_cny_per_node_hour.tolist() == [10, 200, 6, 150, 8]
    # speed: listed kinds as given, others 1.0
    gpu = KINDS.index("gpu")
    cpu = KINDS.index("cpu")
    assert snap.speed[1, gpu] == 2.0 and snap.speed[4, cpu] == 1.25 and snap.speed[0, gpu] == 1.0
    # data classes: jn all three, zb general+important, qd general
    assert snap.data_class_mask.tolist() == [7, 3, 1]
    assert DATA_CLASS_BIT["core"] == 4  # type: ignore[index]
    assert snap.pue.tolist() == [1.2, 1.5, 1.3]
    assert snap.healthy.all()


def test_links_and_city_latency(snap: NetworkSnapshot) -> None:
    assert snap.latency_ms[0, 1] == pytest.approx(0.7)  # measured
    d = haversine_km(117.00, 36.65, 120.33, 36.07)
    assert snap.latency_ms[0, 2] == pytest.approx(1.5 * d * 0.0049 + 2 * 0.05)
    assert snap.bandwidth_gbps[0, 1] == 100 and snap.bandwidth_gbps[0, 2] == 40
    assert snap.bandwidth_gbps[1, 2] == 10  # unlinked default
    assert np.isinf(snap.bandwidth_gbps[0, 0])
    # user in Jinan to the Jinan center (same coordinates): only the access hop
    assert snap.city_latency_ms[0, 0] == pytest.approx(0.05)
    assert snap.city_latency_ms[2, 0] == pytest.approx(1.5 * d * 0.0049 + 0.05)


def test_arrays_are_read_only(snap: NetworkSnapshot) -> None:
    with pytest.raises(ValueError):
        snap.cpus_free[0] = 1
    with pytest.raises(ValueError):
        snap.latency_ms[0, 1] = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.t_s = 3.0  # type: ignore[misc]


def test_with_allocation_and_release(snap: NetworkSnapshot) -> None:
    # a 2-node gang of 48 cores / 100 GB per node in jn-cpu
    s2 = snap.with_allocation(0, nodes=2, cpus=48, gpus=0, mem_gb=100)
    assert s2.cpus_free[0] == 640 - 96 and s2.mem_gb_free[0] == 2560 - 200 and s2.nodes_free[0] == 8
    assert snap.cpus_free[0] == 640 and snap.nodes_free[0] == 10  # the original is unchanged
    assert s2.cpus_free is not snap.cpus_free and s2.latency_ms is snap.latency_ms  # unchanged arrays shared
    # a 2-GPU job in jn-a100 is packed, not a whole node; nodes_free is clamped to what 30 free GPUs allow
    s3 = s2.with_allocation(1, nodes=1, cpus=8, gpus=2, mem_gb=64)
    assert s3.gpus_free[1] == 30 and s3.nodes_free[1] == 3  # clamped: floor(30 / 8) = 3
    back = s3.with_release(1, nodes=1, cpus=8, gpus=2, mem_gb=64).with_release(0, 2, 48, 0, 100)
    assert back.cpus_free.tolist() == snap.cpus_free.tolist()
    assert back.nodes_free[0] == 10
    with pytest.raises(ValueError, match="jn-a100"):
        snap.with_allocation(1, nodes=5, cpus=8, gpus=8, mem_gb=0)


def test_other_updates(snap: NetworkSnapshot) -> None:
    s2 = snap.with_queue([0, 3, 0, 0, 0], [0, 900.0, 0, 0, 0]).with_health([True, False, True]).at(10.0)
    assert s2.queued_jobs[1] == 3 and s2.backlog_s[1] == 900.0
    assert s2.healthy.tolist() == [True, False, True] and s2.t_s == 10.0
    assert snap.queued_jobs[1] == 0 and snap.healthy.all()
    with pytest.raises(ValueError):
        dataclasses.replace(snap, pool_center=np.array([0, 1]))


# ---------------------------------------------------------------------------- carbon


def _flat_signal(values: list[float], hour_values: dict[int, list[float]] | None = None) -> CarbonSignal:
    h = np.repeat(np.asarray(values, dtype=np.float64)[:, None], HOURS_PER_YEAR, axis=1)
    for hour, vals in (hour_values or {}).items():
        h[:, hour] = vals
    return CarbonSignal(h, "test")


def test_effective_factor_uses_grid_shape_and_renewables(snap: NetworkSnapshot) -> None:
    shape = synthetic_shape()
    assert shape.mean() == pytest.approx(1.0)
    assert shape[12] < shape[0]  # midday (sun) is cleaner than midnight
    # jn: grid 0.6, renewable 0.5; zb: 0.6, 0
    assert snap.carbon.hourly_kg_per_kwh[0, 12] == pytest.approx(0.6 * 0.5 * shape[12])
    assert snap.carbon.hourly_kg_per_kwh[1, 3] == pytest.approx(0.6 * shape[3])
    assert snap.carbon.hourly_kg_per_kwh[1].mean() == pytest.approx(0.6)


def test_intensity_vectorised_and_wraps_the_year() -> None:
    sig = _flat_signal([0.5, 0.2], {1: [1.0, 0.4]})
    got = sig.intensity_kg_per_kwh(
        np.array([0, 0, 1, 0]), np.array([0.0, 3600.0, 3700.0, (8760 + 1) * 3600.0])
    )
    assert got.tolist() == [0.5, 1.0, 0.4, 1.0]


def test_mean_intensity_over_an_hour_boundary() -> None:
    sig = _flat_signal([0.5, 0.2], {1: [1.0, 0.4]})
    # 0.5 h at 0.5 (hour 0) + 0.5 h at 1.0 (hour 1) -> 0.75
    assert sig.mean_intensity_kg_per_kwh(0, 1800.0, 5400.0) == pytest.approx(0.75)
    # 0.25 h in hour 0 and 1 h in hour 1 and 0.75 h in hour 2: (0.125 + 1.0 + 0.375) / 2 = 0.75
    assert sig.mean_intensity_kg_per_kwh(0, 2700.0, 9900.0) == pytest.approx((0.125 + 1.0 + 0.375) / 2.0)
    # across the end of the year: last hour 0.5, first hour of next year 0.5, second 1.0
    t0 = (HOURS_PER_YEAR - 1) * 3600.0
    assert sig.mean_intensity_kg_per_kwh(0, t0, t0 + 3 * 3600.0) == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    # empty interval: the hour's value; vectorised over centers
    got = sig.mean_intensity_kg_per_kwh(
        np.array([0, 1]), np.array([3600.0, 1800.0]), np.array([3600.0, 5400.0])
    )
    assert got == pytest.approx([1.0, 0.3])


def test_proxy_shape_is_rescaled_and_on_local_time() -> None:
    path = traces_dir() / PROXY_FILE
    if not path.exists():
        pytest.skip("carbon proxy trace not available")
    shape = load_proxy_shape("KR")
    assert shape.shape == (HOURS_PER_YEAR,) and shape.mean() == pytest.approx(1.0)
    with gzip.open(path, "rt") as fh:
        next(fh)
        first = float(next(fh).split(",")[2])  # KR at 2023-01-01 00:00 UTC = 09:00 local
    raw_mean = first / shape[9]
    assert 300 < raw_mean < 500  # KR 2023 mean intensity, gCO2/kWh
    with pytest.raises(KeyError, match="XX"):
        load_proxy_shape("XX")


def test_missing_proxy_falls_back_to_synthetic(tmp_path: object) -> None:
    from pathlib import Path

    sig = CarbonSignal.build([0.6361], [0.0], shape="proxy", proxy_path=Path(str(tmp_path)) / "absent.csv.gz")
    assert "synthetic" in sig.source and "not found" in sig.source
    assert sig.hourly_kg_per_kwh[0] == pytest.approx(0.6361 * synthetic_shape())
    with pytest.raises(ValueError, match="unknown carbon shape"):
        CarbonSignal.build([0.6], [0.0], shape="nope")
