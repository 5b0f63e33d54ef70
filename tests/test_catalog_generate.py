"""The synthetic network generator: valid, deterministic, any size."""

from __future__ import annotations

import time

import pytest

from huanghe.catalog.generate import generate_topology
from huanghe.catalog.geo import latency_matrix_ms, latency_target_ms
from huanghe.catalog.topology import check_references, dump_topology, loads_topology, parse_topology
from huanghe.catalog.units import STANDARD_RACK_KW
from huanghe.domain.enums import CenterTier


def test_valid_and_round_trips() -> None:
    topo = generate_topology(300, seed=1)
    assert len(topo.centers) == 300
    assert parse_topology(topo.model_dump(mode="json")) == topo
    assert loads_topology(dump_topology(topo)) == topo
    assert check_references(topo) == []
    assert {c.city for c in topo.centers} == {c.id for c in topo.cities}
    assert {c.tier for c in topo.centers} == set(CenterTier)


def test_deterministic_per_seed() -> None:
    a = generate_topology(120, seed=42)
    b = generate_topology(120, seed=42)
    c = generate_topology(120, seed=43)
    assert a == b
    assert a != c


def test_pools_per_center_and_edges() -> None:
    topo = generate_topology(400, seed=3, pools_per_center=(2, 2))
    assert all(len(c.pools) == 2 for c in topo.centers)
    for c in topo.centers:
        assert sum(p.nodes * p.power_kw_per_node for p in c.pools) <= c.it_design_kw + 1e-9, c.id
        if c.tier == CenterTier.EDGE:
            assert c.it_design_kw <= 100 * STANDARD_RACK_KW
    with pytest.raises(ValueError):
        generate_topology(10, seed=0, pools_per_center=(3, 1))
    with pytest.raises(ValueError):
        generate_topology(-1, seed=0)


def test_small_sizes() -> None:
    assert generate_topology(0, seed=0).centers == []
    one = generate_topology(1, seed=0)
    assert len(one.centers) == 1 and one.links == []


def test_same_city_pairs_stay_in_1ms_circle() -> None:
    topo = generate_topology(80, seed=5)
    ids, lat = latency_matrix_ms(topo)
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            if latency_target_ms(topo, ids[i], ids[j]) == 1.0:
                assert lat[i, j] < 1.0


def test_ten_thousand_centers_fast() -> None:
    start = time.perf_counter()
    topo = generate_topology(10_000, seed=9)
    elapsed = time.perf_counter() - start
    assert len(topo.centers) == 10_000
    assert len({p.id for _, p in topo.pools()}) == len(topo.pools())
    assert elapsed < 20.0  # about 1 s on one free core; loose bound for a shared machine
