"""Invariants of the bundled reference networks ``shandong`` (calibrated) and ``shandong-mini`` (fast tests);
the calibration itself: tests/test_catalog_calibration.py."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from huanghe.catalog.geo import latency_matrix_ms, latency_target_ms
from huanghe.catalog.topology import bundled_networks, dump_topology, load_topology, loads_topology
from huanghe.catalog.units import STANDARD_RACK_KW, compute_breakdown
from huanghe.domain.enums import CenterKind, CenterTier, DataClass, Precision, StorageMedium
from huanghe.domain.network import Topology

ROOT = Path(__file__).resolve().parent.parent

# FACTS.md §4
FACTS_CITIES = {
    "jinan": (117.00, 36.65, "capital"),
    "zibo": (118.05, 36.78, "capital"),
    "taian": (117.13, 36.18, "capital"),
    "liaocheng": (115.97, 36.45, "capital"),
    "dezhou": (116.29, 37.45, "capital"),
    "binzhou": (118.03, 37.36, "capital"),
    "dongying": (118.49, 37.46, "capital"),
    "qingdao": (120.33, 36.07, "jiaodong"),
    "yantai": (121.39, 37.52, "jiaodong"),
    "weifang": (119.10, 36.62, "jiaodong"),
    "weihai": (122.10, 37.50, "jiaodong"),
    "rizhao": (119.46, 35.42, "jiaodong"),
    "linyi": (118.35, 35.05, "lunan"),
    "zaozhuang": (117.57, 34.86, "lunan"),
    "jining": (116.59, 35.38, "lunan"),
    "heze": (115.48, 35.23, "lunan"),
}


@pytest.fixture(scope="module", params=["shandong-mini", "shandong"])
def topo(request: pytest.FixtureRequest) -> Topology:
    return load_topology(request.param)


@pytest.fixture(scope="module")
def mini() -> Topology:
    return load_topology("shandong-mini")


def test_bundled_name() -> None:
    assert {"shandong", "shandong-mini"} <= set(bundled_networks())


def test_regions_and_cities(topo: Topology) -> None:
    assert sorted(r.id for r in topo.regions) == ["capital", "jiaodong", "lunan"]
    assert {c.id: (c.lon, c.lat, c.region) for c in topo.cities} == FACTS_CITIES
    assert {c.city for c in topo.centers} == set(FACTS_CITIES)


def test_sizes_tiers_kinds(topo: Topology) -> None:
    assert len(topo.centers) >= 45
    assert len(topo.pools()) >= 110
    assert set(Counter(c.tier for c in topo.centers)) == set(CenterTier)
    assert set(Counter(c.kind for c in topo.centers)) == set(CenterKind)
    operators = " ".join(c.operator for c in topo.centers)
    for name in ("China Mobile", "China Telecom", "China Unicom", "Inspur"):
        assert name in operators


def test_known_facilities(topo: Topology) -> None:
    for cid, city in (("nsc-jinan", "jinan"), ("nsc-qingdao", "qingdao")):
        c = topo.center(cid)
        assert (c.city, c.tier, c.kind) == (city, CenterTier.NATIONAL, CenterKind.SUPERCOMPUTING)
    ai = topo.center("qingdao-ai")
    assert ai.kind == CenterKind.INTELLIGENT and any(p.accelerator == "Ascend 910B" for p in ai.pools)
    for city in ("zaozhuang", "yantai", "dezhou"):
        c = topo.center(f"{city}-regional")
        assert (c.city, c.tier) == (city, CenterTier.PROVINCIAL)
    feicheng = topo.center("feicheng-ai")
    assert feicheng.city == "taian"
    fp16_pflops = sum(p.nodes * p.peak_tflops_per_node.of(Precision.FP16) for p in feicheng.pools) / 1000
    assert 45 <= fp16_pflops <= 55


def test_edge_and_power(topo: Topology) -> None:
    for c in topo.centers:
        pool_kw = sum(p.nodes * p.power_kw_per_node for p in c.pools)
        assert pool_kw <= c.it_design_kw, c.id
        if c.tier == CenterTier.EDGE:
            assert c.it_design_kw <= 100 * STANDARD_RACK_KW, c.id
        if c.racks_in_use is not None:
            assert c.racks_in_use <= c.it_design_kw / STANDARD_RACK_KW


def test_pools(topo: Topology) -> None:
    for _, p in topo.pools():
        # dev set-up (issue #12): CPU pools run sandboxed on local, accelerator pools on the simulated back-end
        assert p.backend == ("local" if p.accelerator_class == "cpu" else "simulated"), p.id
        assert p.nodes > 0 and p.price_cny_per_hour > 0 and p.power_kw_per_node > 0
        assert (p.gpus_per_node > 0) == (p.accelerator_class != "cpu"), p.id
        assert p.speed, p.id
    models = {p.accelerator for _, p in topo.pools()}
    for needed in (
        "Ascend 910B",
        "Hygon DCU Z100",
        "NVIDIA A800 80GB",
        "NVIDIA H800 80GB",
        "NVIDIA H20 96GB",
    ):
        assert needed in models


def test_energy_storage_security(topo: Topology) -> None:
    pues = [c.energy.pue for c in topo.centers]
    assert all(1.15 <= p <= 1.8 for p in pues)
    assert sum(p > 1.5 for p in pues) >= 5
    assert all(c.energy.grid_emission_kg_per_kwh == pytest.approx(0.6361) for c in topo.centers)
    media = {t.medium for c in topo.centers for t in c.storage}
    assert {StorageMedium.TAPE, StorageMedium.OPTICAL} <= media
    assert any(DataClass.CORE in c.allowed_data_classes for c in topo.centers)
    assert any(DataClass.IMPORTANT in c.allowed_data_classes for c in topo.centers)
    assert any(c.opened_year is not None and c.opened_year <= 2012 for c in topo.centers)
    assert all(c.illustrative for c in topo.centers)
    assert "illustrative" in topo.note.lower()


def test_compute_breakdown_plausible(topo: Topology) -> None:
    b = compute_breakdown(topo.centers)
    assert b.general_eflops > 0 and b.intelligent_eflops > 0 and b.supercomputing_eflops > 0
    assert 0.3 <= b.intelligent_share < 1.0


def test_links_and_latency_circles(mini: Topology) -> None:
    """Pair by pair on the mini (the calibrated network: vectorised in test_catalog_calibration.py)."""
    topo = mini
    ids = {c.id for c in topo.centers}
    assert topo.links and all(link.a in ids and link.b in ids for link in topo.links)
    linked = {link.a for link in topo.links} | {link.b for link in topo.links}
    assert linked == ids
    assert 0 < sum(link.latency_ms is not None for link in topo.links) <= 10
    order, lat = latency_matrix_ms(topo)
    for i, a in enumerate(order):
        for j in range(i + 1, len(order)):
            target = latency_target_ms(topo, a, order[j])
            if target is not None:
                assert lat[i, j] < target, (a, order[j], lat[i, j])


def test_round_trip(topo: Topology) -> None:
    assert loads_topology(dump_topology(topo)) == topo


def test_yaml_is_up_to_date_with_script() -> None:
    spec = importlib.util.spec_from_file_location("build_shandong", ROOT / "scripts" / "build_shandong.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_shandong"] = module
    spec.loader.exec_module(module)
    networks = ROOT / "huanghe" / "catalog" / "networks"
    assert module.render(module.build_mini()) == (networks / "shandong-mini.yaml").read_text(encoding="utf-8")
    assert module.render() == (networks / "shandong.yaml").read_text(encoding="utf-8")
