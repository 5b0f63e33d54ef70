"""Targets: the data file, actual KPIs of the small network, the trend forecast."""

from __future__ import annotations

import pytest

from huanghe.observatory import targets as tg
from huanghe.observatory.figures import center_figures, network_latencies
from tests.observatory_testnet import small_network


def test_bundled_targets_file() -> None:
    targets = tg.load_targets()
    by = {(t.kpi, t.target) for t in targets}
    for expected in [
        ("standard_racks", 450_000.0),
        ("storage_eb", 65.0),
        ("advanced_storage_share", 0.35),
        ("total_eflops", 12.5),
        ("intelligent_share", 0.35),
        ("egress_gbps", 250_000.0),
        ("pon10g_share", 0.65),
        ("pue", 1.5),
    ]:
        assert expected in by
    assert all(t.source and t.year == 2025 for t in targets)


def test_parse_errors() -> None:
    with pytest.raises(tg.TargetsError, match="targets"):
        tg.parse_targets({})
    with pytest.raises(tg.TargetsError, match=r"targets\[0\]\.kpi"):
        tg.parse_targets({"targets": [{"kpi": "happiness", "target": 1, "comparison": ">=", "year": 2025}]})
    with pytest.raises(tg.TargetsError, match=r"targets\[0\]\.comparison"):
        tg.parse_targets({"targets": [{"kpi": "pue", "target": 1.3, "comparison": "<", "year": 2025}]})
    with pytest.raises(tg.TargetsError, match=r"targets\[0\]"):
        tg.parse_targets({"targets": [{"kpi": "pue", "target": "low", "comparison": "<=", "year": 2025}]})


def test_actuals_of_small_network() -> None:
    topo = small_network()
    figs = center_figures(topo)
    lat, _ = network_latencies(topo)
    yearly = tg.yearly_actuals(figs, lat, [2011, 2016, 2024])
    assert yearly[2011]["standard_racks"] == pytest.approx(8_000.0)
    assert yearly[2016]["standard_racks"] == pytest.approx(12_140.0)  # + jn-dc 4000, zb 80, ly 60
    now = yearly[2024]
    assert now["total_eflops"] == pytest.approx(0.007)
    assert now["pue"] == pytest.approx(68_880 / 53_350)
    assert now["rack_utilisation"] is None
    assert now["city_latency_compliance"] == 1.0
    assert now["circle_latency_compliance"] == pytest.approx(2 / 3)  # qd-ai–yt-dc measured 3.2 ms
    assert yearly[2011]["circle_latency_compliance"] is None  # one center, no pair
    status = {(s.target.kpi, s.target.target): s for s in tg.target_status(tg.load_targets(), yearly, 2024)}
    assert status[("standard_racks", 450_000.0)].met is False
    assert status[("pue", 1.5)].met is True and status[("pue", 1.3)].met is True
    pub = status[("storage_eb", 65.0)].public()
    assert {"kpi", "unit", "target", "actual", "year", "source", "met", "forecast"} <= set(pub)
    assert pub["year"] == 2025 and pub["actual_year"] == 2024
    with pytest.raises(tg.TargetsError, match="year"):
        tg.target_status(tg.load_targets(), yearly, 2030)


def test_forecast() -> None:
    assert tg.linear_forecast([2020, 2021, 2022], [1.0, 2.0, 3.0], 2025) == pytest.approx(6.0)
    assert tg.linear_forecast([2020, 2021, 2022], [1.0, None, 3.0], 2025) == pytest.approx(6.0)
    assert tg.linear_forecast([2022], [1.0], 2025) is None
    yearly = {
        2022: {"storage_eb": 10.0, "advanced_storage_share": 0.5},
        2023: {"storage_eb": 20.0, "advanced_storage_share": 0.8},
    }
    targets = [
        tg.Target("storage_eb", 65, ">=", 2025, "s"),
        tg.Target("advanced_storage_share", 0.35, ">=", 2025, "s"),
    ]
    storage, share = tg.target_status(targets, yearly, 2023)
    assert storage.forecast == pytest.approx(40.0) and storage.forecast_met is False and storage.met is False
    assert share.forecast == 1.0 and share.met is True  # 1.4 clamped to a share


def test_forecast_uses_recent_window() -> None:
    yearly = {y: {"storage_eb": 0.0 if y < 2020 else float(y - 2019)} for y in range(2010, 2025)}
    (s,) = tg.target_status([tg.Target("storage_eb", 65, ">=", 2025, "s")], yearly, 2024)
    assert s.forecast == pytest.approx(6.0)  # 2020..2024 = 1..5 → 6 in 2025; the flat years are ignored
    (s3,) = tg.target_status([tg.Target("storage_eb", 65, ">=", 2025, "s")], yearly, 2024, window=15)
    assert s3.forecast is not None and s3.forecast < 5.0
