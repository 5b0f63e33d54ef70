"""Distances, the latency model (FACTS.md §5 worked examples) and latency circles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from huanghe.catalog.geo import (
    bandwidth_matrix_gbps,
    distance_matrix_km,
    estimate_latency_ms,
    haversine_km,
    latency_circle,
    latency_matrix_ms,
    latency_target_ms,
)
from huanghe.catalog.topology import parse_topology

# FACTS.md §4 city seats (lon, lat)
CITY = {
    "jinan": (117.00, 36.65),
    "zibo": (118.05, 36.78),
    "qingdao": (120.33, 36.07),
    "yantai": (121.39, 37.52),
    "weihai": (122.10, 37.50),
    "heze": (115.48, 35.23),
}


def _km(a: str, b: str) -> float:
    return haversine_km(*CITY[a], *CITY[b])


def test_haversine_basics() -> None:
    assert haversine_km(117.0, 36.0, 117.0, 36.0) == 0.0
    # one degree of latitude on a 6371 km sphere = 6371 * pi / 180 km
    assert haversine_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(6371.0 * math.pi / 180, rel=1e-9)
    assert _km("jinan", "zibo") == pytest.approx(_km("zibo", "jinan"))


@pytest.mark.parametrize(
    ("a", "b", "km", "ms"),
    [
        ("jinan", "zibo", 95, 0.70),
        ("qingdao", "yantai", 187, 1.37),
        ("jinan", "qingdao", 305, 2.24),
        ("jinan", "weihai", 462, 3.40),
        ("weihai", "heze", 644, 4.73),
    ],
)
def test_facts_worked_examples(a: str, b: str, km: float, ms: float) -> None:
    d = _km(a, b)
    assert d == pytest.approx(km, rel=0.03)
    assert estimate_latency_ms(d, route_factor=1.5, hops=0) == pytest.approx(ms, rel=0.03)


def test_estimate_formula() -> None:
    assert estimate_latency_ms(100.0) == pytest.approx(0.735)
    assert estimate_latency_ms(100.0, route_factor=1.2, hops=4) == pytest.approx(0.588 + 0.2)
    assert estimate_latency_ms(0.0, hops=3) == pytest.approx(0.15)


def test_distance_matrix_matches_scalar() -> None:
    names = list(CITY)
    m = distance_matrix_km([CITY[n][0] for n in names], [CITY[n][1] for n in names])
    assert m.shape == (len(names), len(names))
    assert np.allclose(np.diag(m), 0.0)
    assert np.allclose(m, m.T)
    assert m[0, 2] == pytest.approx(_km(names[0], names[2]), rel=1e-9)


def _topo() -> dict[str, object]:
    def center(cid: str, city: str, dlon: float = 0.0) -> dict[str, object]:
        lon, lat = CITY[city]
        return {
            "id": cid,
            "name_zh": cid,
            "name_en": cid,
            "city": city,
            "tier": "edge",
            "kind": "general",
            "operator": "x",
            "lon": lon + dlon,
            "lat": lat,
            "it_design_kw": 100,
            "energy": {"pue": 1.4},
        }

    return {
        "name": "geo-test",
        "regions": [
            {"id": "capital", "name_zh": "省会", "name_en": "Capital"},
            {"id": "jiaodong", "name_zh": "胶东", "name_en": "Jiaodong"},
        ],
        "cities": [
            {"id": c, "name_zh": c, "name_en": c, "region": r, "lon": CITY[c][0], "lat": CITY[c][1]}
            for c, r in (("jinan", "capital"), ("zibo", "capital"), ("qingdao", "jiaodong"))
        ],
        "centers": [
            center("jn-a", "jinan"),
            center("jn-b", "jinan", 0.05),
            center("zb", "zibo"),
            center("qd", "qingdao"),
        ],
        "links": [
            {"a": "jn-a", "b": "zb", "bandwidth_gbps": 400, "latency_ms": 0.5},
            {"a": "jn-a", "b": "qd", "bandwidth_gbps": 100, "hops": 4},
        ],
    }


def test_latency_and_bandwidth_matrices() -> None:
    topo = parse_topology(_topo())
    ids, lat = latency_matrix_ms(topo)
    assert ids == ["jn-a", "jn-b", "zb", "qd"]
    assert np.allclose(lat, lat.T) and np.allclose(np.diag(lat), 0.0)
    i = {c: k for k, c in enumerate(ids)}
    assert lat[i["jn-a"], i["zb"]] == 0.5  # measured override
    d_qd = _km("jinan", "qingdao")
    assert lat[i["jn-a"], i["qd"]] == pytest.approx(estimate_latency_ms(d_qd, hops=4))
    # unlinked pair: estimate with 2 hops
    d_zq = _km("zibo", "qingdao")
    assert lat[i["zb"], i["qd"]] == pytest.approx(estimate_latency_ms(d_zq, hops=2))
    bw_ids, bw = bandwidth_matrix_gbps(topo, default_gbps=7.0)
    assert bw_ids == ids
    assert bw[i["jn-a"], i["zb"]] == 400 and bw[i["qd"], i["jn-a"]] == 100
    assert bw[i["zb"], i["qd"]] == 7.0
    assert math.isinf(bw[i["qd"], i["qd"]])


def test_latency_circles() -> None:
    topo = parse_topology(_topo())
    assert latency_circle(topo, "jn-a", "jn-b") == "city"
    assert latency_target_ms(topo, "jn-a", "jn-b") == 1.0
    assert latency_circle(topo, "jn-a", "zb") == "region"
    assert latency_target_ms(topo, "zb", "jn-b") == 3.0
    assert latency_circle(topo, topo.center("zb"), topo.center("qd")) is None
    assert latency_target_ms(topo, "jn-a", "qd") is None
