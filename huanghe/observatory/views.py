"""Whole-network views of a static topology: what the CLI commands and the reports show.

Each function takes a :class:`Topology` and options and returns plain results of the pure modules. The
default year is the latest ``opened_year`` of the network (deterministic, no wall clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from huanghe.domain.network import Topology
from huanghe.observatory import green, maturity, targets
from huanghe.observatory import index as ix
from huanghe.observatory import indicators as ind
from huanghe.observatory.figures import (
    CenterFigures,
    center_figures,
    network_latencies,
    network_years,
    snapshot_year,
)


def default_year(topology: Topology) -> int:
    """The latest opening year of the network's centers (2025 if none is known)."""
    years = [c.opened_year for c in topology.centers if c.opened_year is not None]
    return max(years) if years else 2025


def resolve_year(topology: Topology, year: int | None) -> int:
    """The requested year, or the default; refuses a year in which no center is open yet."""
    y = default_year(topology) if year is None else year
    opened = [c.opened_year for c in topology.centers if c.opened_year is not None]
    if topology.centers and len(opened) == len(topology.centers) and y < min(opened):
        raise ix.IndexInputError(
            f"year: no center of the network is open in {y} (first opened {min(opened)})"
        )
    return y


@dataclass(frozen=True)
class IndexView:
    year: int
    level: str
    result: ix.IndexResult

    @property
    def rows(self) -> list[ix.IndexRow]:
        return self.result.year(self.year)


def index_view(
    topology: Topology,
    level: str = "city",
    scheme: str = "equal",
    norm: str = "minmax",
    year: int | None = None,
    expert_file: str | Path | None = None,
    measures: Mapping[int, Mapping[str, ix.CenterMeasures]] | None = None,
) -> IndexView:
    """The index of ``level`` entities, on a panel of the yearly snapshots up to ``year``; ``measures`` are the
    centers' measured inputs per year (year → center id → measures) where the platform has records."""
    y = resolve_year(topology, year)
    years = network_years(center_figures(topology), y)
    inputs = ix.yearly_inputs(topology, years, measures)
    result = ix.compute_index(inputs, ix.entities_of(topology, level), scheme, norm, expert_file)
    return IndexView(y, level, result)


def yearly_kpis(topology: Topology, year: int) -> dict[int, dict[str, float | None]]:
    """KPIs of every yearly snapshot up to ``year``."""
    figs = center_figures(topology)
    latency, _ = network_latencies(topology)
    return targets.yearly_actuals(figs, latency, network_years(figs, year))


def targets_view(
    topology: Topology, year: int | None = None, targets_file: str | Path | None = None
) -> list[targets.TargetStatus]:
    """Every target against the actual of ``year`` and the trend forecast."""
    y = resolve_year(topology, year)
    return targets.target_status(targets.load_targets(targets_file), yearly_kpis(topology, y), y)


def figures_in(topology: Topology, year: int | None = None) -> list[CenterFigures]:
    """Figures of the centers open in ``year`` (all centers when None)."""
    figs = center_figures(topology)
    return figs if year is None else snapshot_year(figs, year)


def green_view(
    topology: Topology, rules: green.GreenRules | None = None, year: int | None = None
) -> green.GreenReport:
    return green.green_report(figures_in(topology, year), rules or green.GreenRules())


def maturity_view(
    topology: Topology, rules_file: str | Path | None = None, year: int | None = None
) -> list[maturity.Maturity]:
    return maturity.assess_all(
        figures_in(topology, year), maturity.link_partners(topology), maturity.load_rules(rules_file)
    )


def network_capacity_view(
    topology: Topology, year: int | None = None
) -> tuple[list[ind.PairCompliance], ind.ComplianceSummary]:
    """Latency-circle compliance of every center pair (运载力评估) and its summary."""
    figs = figures_in(topology, year)
    latency, measured = network_latencies(topology)
    rows = ind.latency_compliance(figs, latency, measured)
    return rows, ind.compliance_summary(rows)
