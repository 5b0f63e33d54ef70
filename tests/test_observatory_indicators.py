"""Indicators, each against a hand-worked figure (see tests/observatory_testnet.py for the network)."""

from __future__ import annotations

import math

import pytest

from huanghe.observatory import indicators as ind
from huanghe.observatory.figures import center_figures, network_latencies, network_years, snapshot_year
from tests.observatory_testnet import small_network


@pytest.fixture(scope="module")
def figs() -> list:
    return center_figures(small_network())


def test_racks_compute_storage(figs: list) -> None:
    # 20000 + 10000 + 200 + 15000 + 8000 + 150 = 53,350 kW / 2.5
    assert ind.total_standard_racks(figs) == pytest.approx(21_340.0)
    c = ind.compute_totals(figs)
    assert c.total_eflops == pytest.approx(0.007)
    assert c.intelligent_eflops == pytest.approx(0.002)
    assert c.intelligent_share == pytest.approx(2 / 7)
    total_eb, adv = ind.storage_totals(figs)
    assert total_eb == pytest.approx(0.4515)
    assert adv == pytest.approx(170_000 / 451_500)
    assert ind.racks_in_use(figs) is None
    assert ind.rack_utilisation(figs) is None


def test_egress_weighted_pon_share(figs: list) -> None:
    total, share = ind.egress_totals(figs)
    assert total == pytest.approx(14_150.0)
    assert share == pytest.approx(10_925 / 14_150)  # Σ Gbps·share / Σ Gbps
    assert ind.weighted_mean([0.2, 0.4], [0.0, 0.0]) == pytest.approx(0.3)  # no weights: plain mean
    assert ind.weighted_mean([], []) == 0.0


def test_energy_formulas() -> None:
    assert ind.pue(1300.0, 1000.0) == pytest.approx(1.3)
    assert ind.ref(250.0, 1000.0) == pytest.approx(0.25)
    assert ind.wue(1800.0, 1000.0) == pytest.approx(1.8)
    assert ind.cue(1.3, 0.6) == pytest.approx(0.78)
    assert ind.cue(1.3, 0.6, 0.25) == pytest.approx(0.585)
    assert ind.co2_kg(1000.0, 1.3, 0.6, 0.25) == pytest.approx(585.0)
    assert ind.carbon_efficiency(117.0, 1000.0, 1.3, 0.6, 0.25) == pytest.approx(0.2)
    assert ind.kg_co2_per_pflops_hour(117.0, 1000.0, 1.3, 0.6, 0.25) == pytest.approx(5.0)
    assert ind.carbon_efficiency(1.0, 1000.0, 1.3, 0.6, 1.0) == math.inf
    with pytest.raises(ValueError):
        ind.pue(900.0, 1000.0)
    with pytest.raises(ValueError):
        ind.pue(10.0, 0.0)
    assert ind.utilisation(3.0, 4.0) == 0.75
    assert ind.utilisation(5.0, 4.0) == 1.0
    assert ind.utilisation(1.0, 0.0) == 0.0


def test_energy_metrics_from_sums() -> None:
    records = [
        ind.EnergyRecord("a", "2024", it_kwh=100, facility_kwh=150, renewable_kwh=60, water_l=200),
        ind.EnergyRecord("a", "2024", it_kwh=300, facility_kwh=450, renewable_kwh=60, water_l=200),
        ind.EnergyRecord("b", "2024", it_kwh=100, facility_kwh=120),
        # a ratio mean would give (2.0 + 1.0) / 2 = 1.5; the sum gives 300 / 200 = 1.5 too — use unequal sizes:
        ind.EnergyRecord("c", "2023", it_kwh=100, facility_kwh=200),
        ind.EnergyRecord("c", "2023", it_kwh=300, facility_kwh=300),
    ]
    out = {(m.center, m.period): m for m in ind.energy_metrics(records, {"a": 0.5, "b": 0.5, "c": 0.5})}
    a = out[("a", "2024")]
    assert a.pue == pytest.approx(1.5)
    assert a.ref == pytest.approx(0.2)
    assert a.wue_l_per_kwh == pytest.approx(1.0)
    assert a.cue_kg_per_kwh == pytest.approx(0.6)
    assert a.co2_kg == pytest.approx(240.0)
    assert out[("b", "2024")].wue_l_per_kwh is None
    assert out[("c", "2023")].pue == pytest.approx(500 / 400)  # not (2.0 + 1.0) / 2


def test_group_energy(figs: list) -> None:
    jinan = [f for f in figs if f.city == "jinan"]
    p, r, ef = ind.group_energy(jinan)
    assert p == pytest.approx(39_500 / 30_000)
    assert r == pytest.approx(8_950 / 39_500)
    assert ef == pytest.approx(0.6)
    assert ind.group_energy([]) == (0.0, 0.0, 0.0)


def test_latency_compliance(figs: list) -> None:
    lat, measured = network_latencies(small_network())
    rows = ind.latency_compliance(figs, lat, measured)
    assert len(rows) == 15
    by = {(r.a, r.b): r for r in rows}
    city = by[("jn-sc", "jn-dc")]
    assert (city.scope, city.limit_ms, city.latency_ms, city.measured, city.compliant) == (
        "city", 1.0, 0.3, True, True,
    )  # fmt: skip
    bad = by[("qd-ai", "yt-dc")]
    assert (bad.scope, bad.limit_ms, bad.compliant) == ("circle", 3.0, False)
    zibo = by[("jn-sc", "zb-edge")]
    assert zibo.scope == "circle" and not zibo.measured and zibo.compliant  # ~95 km ≈ 0.8 ms
    cross = by[("jn-sc", "qd-ai")]
    assert cross.scope == "cross" and cross.compliant is None and cross.limit_ms is None
    s = ind.compliance_summary(rows)
    assert (s.city_pairs, s.city_compliant, s.circle_pairs, s.circle_compliant, s.cross_pairs) == (
        1,
        1,
        3,
        2,
        11,
    )
    assert s.share == pytest.approx(0.75)
    assert ind.compliance_summary([]).share is None


def test_snapshots(figs: list) -> None:
    assert [f.id for f in snapshot_year(figs, 2014)] == ["jn-sc", "zb-edge", "ly-edge"]
    assert len(snapshot_year(figs, 2030)) == 6
    assert network_years(figs, 2013) == [2011, 2012, 2013]
