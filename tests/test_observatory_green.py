"""Green lists on the small network, by hand."""

from __future__ import annotations

import pytest

from huanghe.observatory import green as gr
from huanghe.observatory.figures import center_figures, with_overrides
from tests.observatory_testnet import small_network


@pytest.fixture(scope="module")
def figs() -> list:
    return center_figures(small_network())


def test_pue_list_and_measured_override(figs: list) -> None:
    assert [c.id for c in gr.pue_upgrade_list(figs)] == ["zb-edge", "ly-edge"]  # 1.7, 1.6; 1.45 stays off
    assert [c.id for c in gr.pue_upgrade_list(figs, limit=1.4)] == ["zb-edge", "ly-edge", "jn-dc"]
    report = gr.green_report(figs, pue_by_center={"zb-edge": 1.4})
    assert [c.id for c in report.pue_list] == ["ly-edge"]


def test_small_scattered_old(figs: list) -> None:
    rows = {r.center: r for r in gr.small_scattered_old(figs)}
    zb = rows["zb-edge"]  # 200 kW = 80 racks, ~95 km from Jinan, 2012, PUE 1.7
    assert zb.standard_racks == pytest.approx(80.0)
    assert 85 < zb.nearest_km < 105
    assert zb.reasons == ["small", "scattered", "old", "high_pue"] and zb.listed
    assert rows["ly-edge"].listed
    jn = rows["jn-dc"]  # a hub, 4,000 racks, 0 km from jn-sc
    assert not jn.small and not jn.scattered and not jn.listed
    strict = gr.small_scattered_old(figs, gr.GreenRules(min_other_criteria=3, old_opened_before=2013))
    assert [r.center for r in strict if r.listed] == ["zb-edge"]  # ly-edge (2014) is no longer old
    assert not any(r.listed for r in gr.small_scattered_old(figs, gr.GreenRules(min_other_criteria=4)))
    tiny = gr.small_scattered_old(figs, gr.GreenRules(small_racks_below=70))
    assert [r.center for r in tiny if r.listed] == ["ly-edge"]  # 60 racks < 70 ≤ 80


def test_renewable_ranking(figs: list) -> None:
    assert [c.id for c in gr.renewable_ranking(figs)] == [
        "qd-ai",
        "jn-sc",
        "yt-dc",
        "jn-dc",
        "ly-edge",
        "zb-edge",
    ]


def test_carbon(figs: list) -> None:
    sc = next(c for c in figs if c.id == "jn-sc")
    x = gr.center_carbon(sc)
    # 20,000 kW × 0.6 × 8,760 h = 105,120 MWh; × 1.25 × 0.6 kg/kWh × (1 − 0.3) = 55,188 t
    assert x.utilisation_assumed and x.utilisation == 0.6
    assert x.it_mwh == pytest.approx(105_120.0)
    assert x.co2_t == pytest.approx(55_188.0)
    # 2 PFLOPS × 0.6 × 8,760 h = 10,512 PFLOPS-h → 5,250 kg per PFLOPS-h
    assert x.pflops_hours == pytest.approx(10_512.0)
    assert x.kg_per_pflops_hour == pytest.approx(5_250.0)
    measured = gr.center_carbon(with_overrides(sc, utilisation=0.3))
    assert not measured.utilisation_assumed and measured.co2_t == pytest.approx(55_188.0 / 2)
    edge = gr.center_carbon(next(c for c in figs if c.id == "zb-edge"))
    assert edge.pflops_hours == 0 and edge.kg_per_pflops_hour is None


def test_report_public(figs: list) -> None:
    pub = gr.green_report(figs).public()
    small, rules, carbon = pub["small_scattered_old"], pub["rules"], pub["carbon"]
    assert isinstance(small, list) and isinstance(rules, dict) and isinstance(carbon, list)
    assert [r["center"] for r in small] == ["zb-edge", "ly-edge"]
    assert "assumed utilisation 60%" in rules["utilisation_label"]
    assert len(carbon) == 6
