"""Pure alert rules on hand-made series: thresholds, freshness, deduplication and auto-resolve planning."""

from __future__ import annotations

from huanghe.catalog.topology import load_topology
from huanghe.observatory.alert_rules import (
    AlertContext,
    AlertThresholds,
    alert_context,
    evaluate,
    latest_values,
    reconcile,
    window_mean,
)
from tests.telemetry_support import MINI

NOW = 1_772_424_000_000
MIN = 60_000
DAY = 86_400_000


def _ctx() -> AlertContext:
    return AlertContext(
        storage_capacity_tb={("a", "flash/hot"): 1000.0},
        link_circle={("a", "b"): "city", ("b", "a"): "city", ("a", "c"): "region", ("c", "a"): "region"},
    )


def test_latest_values_only_fresh() -> None:
    series = {
        ("a", "pue", ""): [(NOW - 2 * MIN, 1.2), (NOW - MIN, 1.5), (NOW - 3 * MIN, 9.0)],
        ("b", "pue", ""): [(NOW - 30 * MIN, 1.9)],  # stale (freshness 15 min)
        ("c", "pue", ""): [(NOW + MIN, 1.9)],  # in the future of "now": ignored
    }
    assert latest_values(series, NOW, 15 * 60) == {("a", "pue", ""): 1.5}


def test_pue_jump_against_seven_day_mean() -> None:
    week = [(NOW - d * DAY // 4, 1.30) for d in range(1, 28)]
    baseline = window_mean(week, NOW - 7 * DAY, NOW)
    assert baseline == 1.30
    firing, evaluated = evaluate({("a", "pue", ""): 1.45}, {"a": baseline}, _ctx())
    assert [(c.rule, c.subject) for c in firing] == [("pue_jump", "center:a")]
    assert firing[0].threshold == 1.30 + 0.1
    firing, evaluated = evaluate({("a", "pue", ""): 1.39}, {"a": baseline}, _ctx())
    assert firing == [] and ("pue_jump", "center:a") in evaluated
    # without a baseline the rule cannot be evaluated
    firing, evaluated = evaluate({("a", "pue", ""): 3.0}, {}, _ctx())
    assert firing == [] and evaluated == set()


def test_utilisation_storage_latency_rules() -> None:
    latest = {
        ("a", "utilisation", ""): 0.95,
        ("a", "utilisation", "pool-1"): 0.5,
        ("a", "utilisation", "pool-2"): 0.91,
        ("a", "storage_used_tb", "flash/hot"): 900.0,  # 90 % > 85 %
        ("a", "link_latency_ms", "b"): 1.2,  # same city: > 1 ms
        ("a", "link_latency_ms", "c"): 2.9,  # same circle: < 3 ms
        ("c", "link_latency_ms", "z"): 50.0,  # not an assessed link
    }
    firing, evaluated = evaluate(latest, {}, _ctx())
    got = sorted((c.rule, c.subject) for c in firing)
    assert got == [
        ("latency_breach", "link:a|b"),
        ("storage_full", "storage:a/flash/hot"),
        ("utilisation_high", "center:a"),
        ("utilisation_high", "pool:pool-2"),
    ]
    assert ("latency_breach", "link:a|c") in evaluated
    assert ("utilisation_high", "pool:pool-1") in evaluated
    storage = next(c for c in firing if c.rule == "storage_full")
    assert storage.value == 0.9 and storage.threshold == 0.85


def test_thresholds_are_configurable() -> None:
    latest = {("a", "utilisation", ""): 0.95, ("a", "link_latency_ms", "b"): 1.2}
    th = AlertThresholds(utilisation=0.97, city_latency_ms=1.5)
    firing, _ = evaluate(latest, {}, _ctx(), th)
    assert firing == []


def test_both_directions_of_a_link_are_one_alert() -> None:
    latest = {("a", "link_latency_ms", "b"): 1.2, ("b", "link_latency_ms", "a"): 1.6}
    firing, _ = evaluate(latest, {}, _ctx())
    assert len(firing) == 1 and firing[0].subject == "link:a|b" and firing[0].value == 1.6


def test_reconcile_dedup_and_auto_resolve() -> None:
    latest = {("a", "utilisation", ""): 0.95, ("a", "utilisation", "p"): 0.2}
    firing, evaluated = evaluate(latest, {}, _ctx())
    active = [
        ("utilisation_high", "center:a"),
        ("utilisation_high", "pool:p"),
        ("storage_full", "storage:x/y"),
    ]
    plan = reconcile(active, firing, evaluated)
    assert plan.to_open == []  # already open: refreshed, not duplicated
    assert [(c.rule, c.subject) for c in plan.to_refresh] == [("utilisation_high", "center:a")]
    # pool:p cleared → resolved; storage:x/y not evaluated (no data) → left as it is
    assert plan.to_resolve == [("utilisation_high", "pool:p")]
    plan = reconcile([], firing, evaluated)
    assert [(c.rule, c.subject) for c in plan.to_open] == [("utilisation_high", "center:a")]


def test_context_from_topology() -> None:
    ctx = alert_context(load_topology(str(MINI)))
    assert ctx.storage_capacity_tb[("jn-sc", "flash/hot")] == 2000
    # qd-ai (Qingdao) and yt-edge (Yantai) share the Jiaodong circle; jn-sc–qd-ai crosses circles
    assert ctx.link_circle[("qd-ai", "yt-edge")] == "region"
    assert ("jn-sc", "qd-ai") not in ctx.link_circle
