"""Storage maturity: each level boundary of each attribute, the overall minimum, the rules file."""

from __future__ import annotations

import pytest

from huanghe.observatory import maturity as mt
from huanghe.observatory.figures import center_figures
from tests.observatory_testnet import small_network

RULES = mt.load_rules()
BASE = {
    "capacity_pb": 0.0,
    "advanced_share": 0.0,
    "temperature_tiers": 1.0,
    "archival_share": 0.0,
    "offsite_partners": 0.0,
    "cross_circle_partners": 0.0,
    "security_level": 3.0,
    "pue": 2.0,
    "renewable_share": 0.0,
}


def _level(attr: str, **metrics: float) -> int:
    return mt.attribute_level({**BASE, **metrics}, RULES[attr])


@pytest.mark.parametrize(
    ("pb", "level"),
    [(0.999, 1), (1.0, 2), (9.99, 2), (10.0, 3), (49.9, 3), (50.0, 4), (199.9, 4), (200.0, 5)],
)
def test_capacity_boundaries(pb: float, level: int) -> None:
    assert _level("capacity", capacity_pb=pb) == level


@pytest.mark.parametrize(
    ("share", "level"),
    [(0.099, 1), (0.10, 2), (0.199, 2), (0.20, 3), (0.349, 3), (0.35, 4), (0.499, 4), (0.5, 5)],
)
def test_performance_boundaries(share: float, level: int) -> None:
    assert _level("performance", advanced_share=share) == level


def test_reliability_boundaries_are_cumulative() -> None:
    assert _level("reliability") == 1
    assert _level("reliability", temperature_tiers=2) == 2
    assert _level("reliability", temperature_tiers=2, archival_share=0.049) == 2
    assert _level("reliability", temperature_tiers=2, archival_share=0.05) == 3
    assert _level("reliability", temperature_tiers=2, archival_share=0.05, offsite_partners=1) == 4
    full = {"temperature_tiers": 3, "archival_share": 0.2, "offsite_partners": 1, "cross_circle_partners": 1}
    assert _level("reliability", **full) == 4  # security level 3 < 4
    assert _level("reliability", **full, security_level=4) == 5
    # a single tier blocks every higher level, whatever else is met
    assert _level("reliability", **{**full, "temperature_tiers": 1}, security_level=5) == 1


@pytest.mark.parametrize(
    ("pue", "ren", "level"),
    [
        (1.51, 1.0, 1),
        (1.5, 0.0, 2),
        (1.41, 0.0, 2),
        (1.4, 0.0, 3),
        (1.3, 0.0, 4),
        (1.25, 0.29, 4),
        (1.25, 0.3, 5),
    ],
)
def test_green_boundaries(pue: float, ren: float, level: int) -> None:
    assert _level("green", pue=pue, renewable_share=ren) == level


def test_assess_small_network() -> None:
    topo = small_network()
    figs = center_figures(topo)
    results = {m.center: m for m in mt.assess_all(figs, mt.link_partners(topo), RULES)}
    assert set(results) == {c.id for c in figs}  # every test center has storage
    sc = results["jn-sc"]
    # 200 PB; advanced 50/200 = 0.25; 3 tiers, archival 0.25, partners jn-dc (same city) and qd-ai (other
    # city and circle) but security level 3; PUE 1.25 with REF 0.3
    assert sc.levels == {"capacity": 5, "performance": 3, "reliability": 4, "green": 5}
    assert sc.overall == 3 and sc.overall_name.startswith("L3 稳健级")
    assert sc.metrics["offsite_partners"] == 1 and sc.metrics["cross_circle_partners"] == 1
    edge = results["zb-edge"]  # 1 PB HDD only, PUE 1.7
    assert edge.levels == {"capacity": 2, "performance": 1, "reliability": 1, "green": 1}
    assert edge.overall == 1
    assert sum(mt.level_distribution(list(results.values())).values()) == len(results)


def test_rules_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(mt.MaturityRulesError, match="attributes"):
        mt.parse_rules({})
    bad = {"attributes": {a: {2: {"pue": {"max": 1.5}}} for a in mt.ATTRIBUTES}}
    bad["attributes"]["green"] = {2: {"pue": {"below": 1.5}}}
    with pytest.raises(mt.MaturityRulesError, match=r"attributes\.green\.2\.pue"):
        mt.parse_rules(bad)
    with pytest.raises(mt.MaturityRulesError, match="rules file"):
        mt.load_rules(tmp_path / "missing.yaml")
