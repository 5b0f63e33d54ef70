"""The telemetry generator: deterministic, plausible (PUE >= 1, shares in [0, 1]), seasonal, job-driven."""

from __future__ import annotations

from collections import defaultdict

import pytest

from huanghe.catalog.topology import load_topology
from huanghe.observatory.generator import TelemetryGenerator, simulated_pue, storage_used_tb
from huanghe.observatory.metric_catalog import METRICS
from tests.telemetry_support import MINI, T0_MS

HOUR = 3_600_000


@pytest.fixture(scope="module")
def shandong_gen() -> TelemetryGenerator:
    return TelemetryGenerator(load_topology("shandong-mini"), seed=7)


def test_deterministic_per_instant(shandong_gen: TelemetryGenerator) -> None:
    again = TelemetryGenerator(load_topology("shandong-mini"), seed=7)
    assert shandong_gen.tick(T0_MS) == again.tick(T0_MS)
    other_seed = TelemetryGenerator(load_topology("shandong-mini"), seed=8)
    assert shandong_gen.tick(T0_MS) != other_seed.tick(T0_MS)
    history = list(shandong_gen.history(T0_MS, T0_MS + 3 * 300_000, 300))
    assert len(history) == 3 and history[1] == shandong_gen.tick(T0_MS + 300_000, 300)


def test_plausible_day_of_the_network(shandong_gen: TelemetryGenerator) -> None:
    topo = shandong_gen.topology
    centers = {c.id: c for c in topo.centers}
    capacity = {
        (c.id, f"{t.medium.value}/{t.temperature.value}"): t.capacity_tb
        for c in topo.centers
        for t in c.storage
    }
    n = 0
    for samples in shandong_gen.history(T0_MS, T0_MS + 24 * HOUR, 3600):
        for s in samples:
            n += 1
            assert s.source == "simulated"
            assert s.unit == METRICS[s.metric].unit
            assert s.value == s.value and s.value >= 0  # finite, not NaN
            if s.metric in ("utilisation", "renewable_share"):
                assert 0.0 <= s.value <= 1.0
            if s.metric == "pue":
                assert 1.0 <= s.value <= centers[s.center].energy.pue * 1.5
            if s.metric == "storage_used_tb":
                assert s.value <= capacity[(s.center, s.subject)]
            if s.metric == "link_latency_ms":
                assert s.value > 0 and s.subject in centers
    assert n > 24 * 500  # the whole network every hour
    # facility = IT × PUE for each center and tick
    tick = {(s.center, s.metric, s.subject): s.value for s in shandong_gen.tick(T0_MS)}
    for cid in centers:
        assert tick[(cid, "facility_power_kw", "")] == pytest.approx(
            tick[(cid, "it_power_kw", "")] * tick[(cid, "pue", "")]
        )


def test_pue_season_and_yearly_mean() -> None:
    july = 1_783_987_200_000  # 2026-07-14T00:00Z
    january = 1_768_435_200_000  # 2026-01-15T00:00Z
    assert simulated_pue(1.3, july) > 1.3 > simulated_pue(1.3, january)
    # the yearly mean stays close to the reported PUE
    year = [
        simulated_pue(1.3, 1_767_225_600_000 + d * 86_400_000 + h * HOUR)
        for d in range(0, 365, 5)
        for h in range(0, 24, 3)
    ]
    assert sum(year) / len(year) == pytest.approx(1.3, abs=0.01)
    assert simulated_pue(1.0, july) == 1.0  # never below 1


def test_storage_grows_and_is_capped() -> None:
    origin = 1_767_225_600_000
    year_ms = 365 * 24 * HOUR
    assert storage_used_tb(100.0, 1000.0, "hot", origin, origin) == 100.0
    assert storage_used_tb(100.0, 1000.0, "hot", origin + year_ms, origin) == pytest.approx(110.0)
    assert storage_used_tb(100.0, 1000.0, "cold", origin + year_ms, origin) == pytest.approx(105.0)
    assert storage_used_tb(900.0, 1000.0, "hot", origin + 2 * year_ms, origin) == 1000.0  # capped


def test_utilisation_follows_platform_jobs() -> None:
    gen = TelemetryGenerator(load_topology(str(MINI)), seed=1)
    base = {(s.center, s.metric, s.subject): s.value for s in gen.tick(T0_MS)}
    busy = {(s.center, s.metric, s.subject): s.value for s in gen.tick(T0_MS, busy_share={"jn-sc-cpu": 0.3})}
    key = ("jn-sc", "utilisation", "jn-sc-cpu")
    assert busy[key] == pytest.approx(min(1.0, base[key] + 0.3))
    assert busy[("jn-sc", "it_power_kw", "")] > base[("jn-sc", "it_power_kw", "")]
    assert busy[("qd-ai", "utilisation", "qd-ai-910b")] == base[("qd-ai", "utilisation", "qd-ai-910b")]


def test_diurnal_shape(shandong_gen: TelemetryGenerator) -> None:
    """Beijing afternoon (07:00Z) is busier than the small hours (19:00Z) on average over the pools."""

    def mean_util(t: int) -> float:
        by = defaultdict(list)
        for s in shandong_gen.tick(t):
            if s.metric == "utilisation" and s.subject:
                by["u"].append(s.value)
        return sum(by["u"]) / len(by["u"])

    assert mean_util(T0_MS + 3 * HOUR) > mean_util(T0_MS + 15 * HOUR) + 0.15
