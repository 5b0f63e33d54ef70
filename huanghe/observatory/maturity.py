"""Storage capability maturity (存储能力成熟度) L1–L5 per center — rules in docs/storage-maturity.md.

Four attributes — capacity, performance, reliability/backup, green — are each rated L1–L5 by cumulative
threshold rules (``data/maturity_rules.yaml``, editable); the overall level is the lowest attribute level
(a level is reached only when every attribute reaches it). Level names follow GB/T 36073.

Metrics per center (:func:`storage_metrics`): ``capacity_pb`` (PB = 10^15 bytes), ``advanced_share``,
``temperature_tiers`` (number of hot/warm/cold tiers with capacity), ``archival_share`` (tape + optical /
total), ``offsite_partners`` (linked centers in another city), ``cross_circle_partners`` (linked centers
in another economic circle), ``security_level`` (等保 level), ``pue``, ``renewable_share``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from huanghe.domain.network import Topology
from huanghe.observatory.figures import CenterFigures

MATURITY_METHOD_VERSION = "1.0"
ATTRIBUTES: tuple[str, ...] = ("capacity", "performance", "reliability", "green")
LEVEL_NAMES: dict[int, tuple[str, str]] = {
    1: ("初始级", "initial"),
    2: ("受管理级", "managed"),
    3: ("稳健级", "robust"),
    4: ("量化管理级", "quantitatively managed"),
    5: ("优化级", "optimising"),
}
ATTRIBUTE_NAMES_ZH = {"capacity": "容量", "performance": "性能", "reliability": "可靠与备份", "green": "绿色"}
DEFAULT_RULES_FILE = Path(__file__).parent / "data" / "maturity_rules.yaml"
METRICS: tuple[str, ...] = (
    "capacity_pb",
    "advanced_share",
    "temperature_tiers",
    "archival_share",
    "offsite_partners",
    "cross_circle_partners",
    "security_level",
    "pue",
    "renewable_share",
)

#: rules[attribute][level] = {metric: (min or None, max or None)}
Rules = dict[str, dict[int, dict[str, tuple[float | None, float | None]]]]


class MaturityRulesError(ValueError):
    """The rules file is malformed; the message names the field."""


def parse_rules(doc: object) -> Rules:
    """Validate a decoded rules document into :data:`Rules`."""
    if not isinstance(doc, dict) or not isinstance(doc.get("attributes"), dict):
        raise MaturityRulesError("attributes: required mapping of attribute → level → conditions")
    rules: Rules = {}
    for attr in ATTRIBUTES:
        levels = doc["attributes"].get(attr)
        if not isinstance(levels, dict):
            raise MaturityRulesError(f"attributes.{attr}: required")
        rules[attr] = {}
        for level, conds in levels.items():
            if level not in (2, 3, 4, 5) or not isinstance(conds, dict):
                raise MaturityRulesError(f"attributes.{attr}.{level}: levels are 2..5, each a mapping")
            parsed: dict[str, tuple[float | None, float | None]] = {}
            for metric, bound in conds.items():
                if metric not in METRICS or not isinstance(bound, dict) or not set(bound) <= {"min", "max"}:
                    raise MaturityRulesError(f"attributes.{attr}.{level}.{metric}: unknown metric or bound")
                lo, hi = bound.get("min"), bound.get("max")
                parsed[metric] = (None if lo is None else float(lo), None if hi is None else float(hi))
            rules[attr][int(level)] = parsed
    return rules


def load_rules(path: str | Path | None = None) -> Rules:
    """Rules from a YAML file (default ``data/maturity_rules.yaml``)."""
    file = Path(path) if path is not None else DEFAULT_RULES_FILE
    try:
        return parse_rules(yaml.safe_load(file.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise MaturityRulesError(f"rules file {file}: {exc}") from None


def link_partners(topology: Topology) -> dict[str, set[str]]:
    """Center id → ids of the centers it has a link with (candidate off-site backup partners)."""
    out: dict[str, set[str]] = {c.id: set() for c in topology.centers}
    for link in topology.links:
        out[link.a].add(link.b)
        out[link.b].add(link.a)
    return out


def storage_metrics(center: CenterFigures, partners: Sequence[CenterFigures] = ()) -> dict[str, float]:
    """The metrics the rules read, for one center and its linked partner centers."""
    total = center.storage_eb
    return {
        "capacity_pb": total * 1000.0,
        "advanced_share": center.advanced_storage_share,
        "temperature_tiers": float(len(center.storage_temperatures)),
        "archival_share": center.archival_storage_eb / total if total > 0 else 0.0,
        "offsite_partners": float(sum(1 for p in partners if p.city != center.city)),
        "cross_circle_partners": float(sum(1 for p in partners if p.region != center.region)),
        "security_level": float(center.security_level),
        "pue": center.pue,
        "renewable_share": center.renewable_share,
    }


def _meets(metrics: Mapping[str, float], conds: Mapping[str, tuple[float | None, float | None]]) -> bool:
    for metric, (lo, hi) in conds.items():
        value = metrics[metric]
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return False
    return True


def attribute_level(
    metrics: Mapping[str, float], levels: Mapping[int, Mapping[str, tuple[float | None, float | None]]]
) -> int:
    """Highest level L such that the conditions of levels 2..L all hold (1 if level 2 fails)."""
    reached = 1
    for level in (2, 3, 4, 5):
        if not _meets(metrics, levels.get(level, {})):
            break
        reached = level
    return reached


@dataclass(frozen=True)
class Maturity:
    """Maturity of one center: per attribute and overall (the minimum)."""

    center: str
    name_zh: str
    levels: dict[str, int]
    overall: int
    metrics: dict[str, float]

    @property
    def overall_name(self) -> str:
        zh, en = LEVEL_NAMES[self.overall]
        return f"L{self.overall} {zh} ({en})"

    def public(self) -> dict[str, object]:
        return {
            "center": self.center,
            "name_zh": self.name_zh,
            "overall": self.overall,
            "overall_name": self.overall_name,
            "levels": dict(self.levels),
            "metrics": {k: round(v, 6) for k, v in self.metrics.items()},
        }


def assess(center: CenterFigures, partners: Sequence[CenterFigures], rules: Rules) -> Maturity:
    """Rate one center."""
    metrics = storage_metrics(center, partners)
    levels = {a: attribute_level(metrics, rules[a]) for a in ATTRIBUTES}
    return Maturity(center.id, center.name_zh, levels, min(levels.values()), metrics)


def assess_all(
    centers: Sequence[CenterFigures], partners: Mapping[str, set[str]], rules: Rules | None = None
) -> list[Maturity]:
    """Rate every center that has storage (centers without storage are not rated)."""
    use = rules if rules is not None else load_rules()
    by_id = {c.id: c for c in centers}
    return [
        assess(c, [by_id[p] for p in sorted(partners.get(c.id, set())) if p in by_id], use)
        for c in centers
        if c.storage_eb > 0
    ]


def level_distribution(results: Sequence[Maturity]) -> dict[int, int]:
    """How many centers are at each overall level 1..5."""
    out = dict.fromkeys(range(1, 6), 0)
    for r in results:
        out[r.overall] += 1
    return out
