"""Alert rules over telemetry, as pure functions (the service stores the alerts and their life cycle).

Rules (thresholds in :class:`AlertThresholds`, configurable):

| rule | subject | fires when |
|---|---|---|
| ``pue_jump`` | ``center:<id>`` | latest PUE > mean PUE of the last 7 days + 0.1 |
| ``utilisation_high`` | ``center:<id>`` / ``pool:<id>`` | latest utilisation > 0.90 |
| ``latency_breach`` | ``link:<a>|<b>`` | latest one-way latency > 1 ms for two centers in one city, > 3 ms in one economic circle |
| ``storage_full`` | ``storage:<center>/<medium>/<temperature>`` | latest used TB > 85 % of the tier's capacity |

Only *fresh* values count: the latest sample of a series must be at most ``freshness_s`` old. A subject
with a fresh value is *evaluated*; :func:`reconcile` resolves an open alert only when its subject was
evaluated and no longer fires (no data means nothing is known, and the alert stays as it is).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from huanghe.catalog.geo import CITY_LATENCY_TARGET_MS, REGION_LATENCY_TARGET_MS, latency_circle
from huanghe.domain.network import Topology
from huanghe.observatory.metric_catalog import tier_key

#: A series key: (center id, metric, subject) as stored.
SeriesKey = tuple[str, str, str]
#: Points of a series: (time_ms, value), any order.
Points = Sequence[tuple[int, float]]
RULES: tuple[str, ...] = ("pue_jump", "utilisation_high", "latency_breach", "storage_full")
STATES: tuple[str, ...] = ("open", "acknowledged", "resolved")


@dataclass(frozen=True)
class AlertThresholds:
    """Thresholds of the rules. Shares in [0, 1], PUE as a ratio, latency in ms, durations in seconds."""

    pue_jump: float = 0.1
    pue_window_s: float = 7 * 24 * 3600.0
    utilisation: float = 0.90
    storage_used_share: float = 0.85
    city_latency_ms: float = CITY_LATENCY_TARGET_MS
    circle_latency_ms: float = REGION_LATENCY_TARGET_MS
    freshness_s: float = 15 * 60.0


@dataclass(frozen=True)
class AlertContext:
    """What the rules need from the topology: tier capacities (TB) and the latency circle of each link."""

    storage_capacity_tb: Mapping[tuple[str, str], float] = field(default_factory=dict)
    link_circle: Mapping[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class Condition:
    """A rule firing on a subject now: ``value`` against ``threshold`` (unit of the rule's metric)."""

    rule: str
    subject: str
    center: str | None
    value: float
    threshold: float
    severity: str
    message: str


def alert_context(topology: Topology) -> AlertContext:
    """Capacities of every storage tier and the circle (``city`` / ``region``) of every assessed link."""
    capacity = {
        (c.id, tier_key(t.medium.value, t.temperature.value)): t.capacity_tb
        for c in topology.centers
        for t in c.storage
    }
    circles: dict[tuple[str, str], str] = {}
    for link in topology.links:
        circle = latency_circle(topology, link.a, link.b)
        if circle is not None:
            circles[(link.a, link.b)] = circles[(link.b, link.a)] = circle
    return AlertContext(capacity, circles)


def latest_values(
    series: Mapping[SeriesKey, Points], now_ms: int, freshness_s: float
) -> dict[SeriesKey, float]:
    """The latest value of each series whose latest point lies in ``[now − freshness, now]``."""
    out: dict[SeriesKey, float] = {}
    oldest = now_ms - int(freshness_s * 1000)
    for key, points in series.items():
        past = [p for p in points if p[0] <= now_ms]
        if not past:
            continue
        t, v = max(past, key=lambda p: p[0])
        if t >= oldest:
            out[key] = v
    return out


def window_mean(points: Points, start_ms: int, end_ms: int) -> float | None:
    """Mean of the values with ``start_ms <= time <= end_ms`` (None if there is none)."""
    values = [v for t, v in points if start_ms <= t <= end_ms]
    return sum(values) / len(values) if values else None


def subject_of(rule: str, center: str, subject: str) -> str:
    """The alert subject of a series for ``rule`` (see the module table)."""
    if rule == "utilisation_high":
        return f"pool:{subject}" if subject else f"center:{center}"
    if rule == "latency_breach":
        a, b = sorted((center, subject))
        return f"link:{a}|{b}"
    if rule == "storage_full":
        return f"storage:{center}/{subject}"
    return f"center:{center}"


def evaluate(
    latest: Mapping[SeriesKey, float],
    pue_baseline: Mapping[str, float],
    context: AlertContext,
    thresholds: AlertThresholds | None = None,
) -> tuple[list[Condition], set[tuple[str, str]]]:
    """The conditions firing now, and every ``(rule, subject)`` that was evaluated (had a fresh value).

    ``latest`` maps series to their latest fresh value; ``pue_baseline`` maps a center to its mean PUE over
    the window (:attr:`AlertThresholds.pue_window_s`).
    """
    th = thresholds or AlertThresholds()
    firing: dict[tuple[str, str], Condition] = {}
    evaluated: set[tuple[str, str]] = set()

    def check(rule: str, center: str, subject: str, value: float, limit: float, message: str) -> None:
        key = (rule, subject_of(rule, center, subject))
        evaluated.add(key)
        if value > limit:
            previous = firing.get(key)
            if previous is None or value - limit > previous.value - previous.threshold:
                firing[key] = Condition(rule, key[1], center, value, limit, "warning", message)

    for (center, metric, subject), value in sorted(latest.items()):
        if metric == "pue" and center in pue_baseline:
            limit = pue_baseline[center] + th.pue_jump
            check("pue_jump", center, "", value, limit,
                  f"PUE {value:.3f} above the {th.pue_window_s / 86400:g}-day mean "
                  f"{pue_baseline[center]:.3f} + {th.pue_jump:g} (PUE 突升)")  # fmt: skip
        elif metric == "utilisation":
            who = f"pool {subject}" if subject else f"center {center}"
            check("utilisation_high", center, subject, value, th.utilisation,
                  f"{who} utilisation {value:.1%} > {th.utilisation:.0%} (利用率过高)")  # fmt: skip
        elif metric == "link_latency_ms" and (center, subject) in context.link_circle:
            circle = context.link_circle[(center, subject)]
            limit = th.city_latency_ms if circle == "city" else th.circle_latency_ms
            check("latency_breach", center, subject, value, limit,
                  f"latency {center}→{subject} {value:.2f} ms > {limit:g} ms ({circle} circle; 时延圈超限)")  # fmt: skip
        elif metric == "storage_used_tb" and (center, subject) in context.storage_capacity_tb:
            capacity = context.storage_capacity_tb[(center, subject)]
            if capacity > 0:
                share = value / capacity
                check("storage_full", center, subject, share, th.storage_used_share,
                      f"storage {center} {subject} {share:.1%} used > {th.storage_used_share:.0%} (存储将满)")  # fmt: skip
    return list(firing.values()), evaluated


@dataclass(frozen=True)
class Plan:
    """What to change in the stored alerts: open new ones, refresh the still-firing, resolve the cleared."""

    to_open: list[Condition]
    to_refresh: list[Condition]
    to_resolve: list[tuple[str, str]]


def reconcile(
    active: Iterable[tuple[str, str]], firing: Sequence[Condition], evaluated: set[tuple[str, str]]
) -> Plan:
    """Deduplicate against the active (open or acknowledged) ``(rule, subject)`` pairs and plan the changes."""
    active_keys = set(active)
    firing_keys = {(c.rule, c.subject) for c in firing}
    return Plan(
        to_open=[c for c in firing if (c.rule, c.subject) not in active_keys],
        to_refresh=[c for c in firing if (c.rule, c.subject) in active_keys],
        to_resolve=sorted(k for k in active_keys if k in evaluated and k not in firing_keys),
    )
