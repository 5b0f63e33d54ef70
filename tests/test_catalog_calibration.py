"""The bundled ``shandong`` matches Shandong's reported totals by year (issue 14, deliverable 1).

Totals are computed from the bundled YAML (not from the generator's own bookkeeping) for each network year and
compared with the reported figures and with every calibration target within 5 %.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from huanghe.catalog.geo import CITY_LATENCY_TARGET_MS, REGION_LATENCY_TARGET_MS, latency_matrix_ms
from huanghe.catalog.history import split_year, topology_as_of
from huanghe.catalog.reported import CALIBRATION, REPORTED, TOLERANCE, is_rated, network_totals
from huanghe.catalog.topology import load_topology
from huanghe.core.errors import TopologyError
from huanghe.domain.enums import CenterTier, Temperature
from huanghe.domain.network import Topology
from huanghe.observatory.figures import center_figures, network_latencies
from huanghe.observatory.targets import load_targets, target_status, yearly_actuals


@pytest.fixture(scope="module")
def topo() -> Topology:
    return load_topology("shandong")


@pytest.fixture(scope="module")
def totals(topo: Topology) -> dict[int, dict[str, float]]:
    return {y: network_totals(topo, y) for y in (2022, 2023, 2024, 2025)}


@pytest.mark.parametrize("fig", REPORTED, ids=lambda r: f"{r.year}-{r.metric}")
def test_reported_figures_matched_within_5_percent(fig: object, totals: dict[int, dict[str, float]]) -> None:
    from huanghe.catalog.reported import Reported

    assert isinstance(fig, Reported)
    actual = totals[fig.year][fig.metric]
    assert abs(actual - fig.value) <= TOLERANCE * fig.value, (fig.metric, fig.year, actual, fig.value)
    if fig.comparison == ">":  # "more than": the network may not be below the reported floor
        assert actual >= fig.value, (fig.metric, actual)
    assert fig.source and fig.reprint


def test_every_calibration_target_within_5_percent(totals: dict[int, dict[str, float]]) -> None:
    assert {t.basis for t in CALIBRATION} == {"reported", "assumption"}
    for t in CALIBRATION:
        actual = totals[t.year][t.metric]
        assert abs(actual - t.value) <= TOLERANCE * t.value, (t.year, t.metric, actual, t.value)


def test_growth_and_distributions(totals: dict[int, dict[str, float]]) -> None:
    years = sorted(totals)
    for key in ("racks_in_use", "total_eflops", "intelligent_share", "storage_eb", "centers"):
        series = [totals[y][key] for y in years]
        assert series == sorted(series) and series[0] < series[-1], key
    for y in years:
        t = totals[y]
        assert t["pue_below_1_3"] + t["pue_1_3_to_1_5"] + t["pue_1_5_and_above"] == pytest.approx(1.0)
        assert 0.1 < t["pue_1_5_and_above"] < 0.6  # the plan's upgrade list is not empty
        assert 0.2 < t["advanced_storage_share"] < 0.4
        assert 0.5 < t["racks_in_use"] / t["design_racks"] < 0.75
    # more rated centers once 2025 opened, none of them edge
    assert totals[2025]["rated_centers"] > totals[2024]["rated_centers"]


def test_centers_are_sane(topo: Topology) -> None:
    assert len(topo.centers) >= 300 and all(c.illustrative for c in topo.centers)
    assert "illustrative" in topo.note.lower() and "calibrated" in topo.note.lower()
    by_city = Counter(c.city for c in topo.centers)
    assert (by_city["jinan"], by_city["qingdao"], by_city["jining"]) == (33, 48, 47)  # the reported counts
    for c in topo.centers:
        assert 1 <= len(c.pools) <= 5, c.id
        temps = [t.temperature for t in c.storage]
        assert 2 <= len(temps) <= 3 and len(set(temps)) == len(temps), c.id  # hot/warm(/cold), one each
        assert temps[:2] == [Temperature.HOT, Temperature.WARM], c.id
        assert sum(p.nodes * p.power_kw_per_node for p in c.pools) <= c.it_design_kw, c.id
        assert c.racks_in_use is not None and c.racks_in_use <= c.it_design_kw / 2.5, c.id
        if c.tier == CenterTier.EDGE:
            assert c.it_design_kw <= 250 and not is_rated(c), c.id
        big_new = c.id.startswith("sd-") and c.it_design_kw >= 7500 and (c.opened_year or 0) >= 2022
        if big_new:  # the 2021 opinion: large new centers below PUE 1.3
            assert c.energy.pue < 1.3, c.id


@pytest.mark.parametrize("year", [2023, 2024, 2025])
def test_each_year_is_a_connected_network_inside_the_latency_circles(topo: Topology, year: int) -> None:
    snap = load_topology(f"shandong@{year}")
    assert snap == topology_as_of(topo, year) and str(year) in snap.description
    ids = {c.id for c in snap.centers}
    assert all((c.opened_year or 0) <= year for c in snap.centers)
    assert {e for link in snap.links for e in (link.a, link.b)} == ids  # no center cut off
    order, lat = latency_matrix_ms(snap)
    city = np.array([snap.center(i).city for i in order])
    region_of = {c.id: c.region for c in snap.cities}
    region = np.array([region_of[c] for c in city])
    same_city = city[:, None] == city[None, :]
    same_region = region[:, None] == region[None, :]
    assert (lat[same_city] < CITY_LATENCY_TARGET_MS).all()
    assert (lat[same_region] < REGION_LATENCY_TARGET_MS).all()


def test_year_selection_errors_name_the_year() -> None:
    assert split_year("shandong") == ("shandong", None)
    assert split_year("shandong@2024") == ("shandong", 2024)
    for bad in ("shandong@next", "shandong@1900"):
        with pytest.raises(TopologyError) as err:
            load_topology(bad)
        assert err.value.errors[0].path == "year"
    with pytest.raises(TopologyError) as err:
        load_topology("shandong@2005")
    assert "no center" in err.value.errors[0].message


def test_observatory_targets_show_the_real_distance(topo: Topology) -> None:
    """The 2025 targets read against the calibrated 2025 network: the reported gap, not an order of magnitude."""
    figures = center_figures(topo)
    latency, _ = network_latencies(topo)
    actuals = yearly_actuals(figures, latency, [2021, 2022, 2023, 2024, 2025])
    status = {(s.target.kpi, s.target.target): s for s in target_status(load_targets(), actuals, 2025)}
    eflops = status[("total_eflops", 12.0)]
    assert eflops.actual == pytest.approx(9.66, rel=TOLERANCE) and eflops.met is False
    racks = status[("standard_racks", 450000.0)]
    assert racks.actual is not None and 0.8 * 450_000 < racks.actual < 450_000 and racks.met is False
    assert status[("intelligent_share", 0.35)].actual == pytest.approx(0.31, rel=TOLERANCE)
    utilisation = status[("rack_utilisation", 0.6)].actual  # not reported: illustrative, near the target
    assert utilisation is not None and 0.5 < utilisation < 0.75
    assert status[("pue", 1.5)].met is True and status[("pue", 1.3)].met is False
