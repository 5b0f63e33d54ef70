"""``huanghe index`` data and the year-on-year table (``--compare``), from the server or from a topology file.

From the server the index is fed by the platform's measured records (utilisation, PUE, storage, transfers,
backups, jobs, bills); from a file only the declared topology is known, so every measured indicator is NaN
(neutral) and says ``not measured``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rich.table import Table

from huanghe.catalog.topology import load_topology
from huanghe.cli import remote
from huanghe.observatory import index as ix
from huanghe.observatory import views


def index_data(
    source: str | None,
    level: str,
    weights: str,
    norm: str,
    year: int | None,
    weights_file: Path | None,
    compare: bool = False,
) -> dict[str, Any]:
    """The index as the server gives it (``rows``, the method, ``dimension_weights``, ``indicator_sources``
    and with ``compare`` the ``comparison`` with the year before), from the server (``source`` None) or from
    the network file ``source``."""
    if source is None:
        with remote.connect() as client:
            if not compare:
                return dict(client.index(level, weights, norm, year))
            y = year if year is not None else client.index(level, weights, norm, None)["year"]
            return dict(client.index(level, weights, norm, y, y - 1))
    topo = load_topology(source)
    view = views.index_view(topo, level, weights, norm, year, weights_file)
    return {
        "year": view.year,
        "level": level,
        "weights": view.result.weights.scheme,
        "norm": norm,
        "method_version": view.result.method_version,
        "rows": [r.public() for r in view.rows],
        "dimension_weights": dict(view.result.weights.dimensions),
        "indicator_sources": {
            i.key: {
                "source": i.source,
                "centers_measured": None if i.source == "declared" else 0,
                "centers": len(views.figures_in(topo, view.year)),
            }
            for i in ix.INDICATORS
        },
        "compare_year": view.year - 1 if compare else None,
        "comparison": (
            [c.public() for c in ix.compare_years(view.result, view.year, view.year - 1)] if compare else None
        ),
    }


def _fmt(value: float | None, digits: int = 1, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:+,.{digits}f}" if signed else f"{value:,.{digits}f}"


def comparison_table(data: dict[str, Any]) -> Table:
    """同比 Year on year: score and rank of ``year`` against the base year, with the deltas per dimension."""
    rows = data["comparison"] or []
    base = data["compare_year"]
    table = Table(
        title=f"综合算力指数同比 Compute index {data['year']} vs {base} · level {data['level']} · weights "
        f"{data['weights']} · {data['norm']} · method {data['method_version']}"
    )
    cols = ["rank 排名", "entity 对象", f"score {data['year']}", f"score {base}", "Δ score 变化", "Δ rank"]
    cols += [f"Δ {ix.DIMENSION_NAMES_ZH[d]} {d}" for d in ix.DIMENSIONS]
    for col in cols:
        table.add_column(col, justify="left" if "entity" in col else "right")
    for r in rows:
        change = r["rank_change"]
        table.add_row(
            str(r["rank"]),
            f"{r['name_zh']} {r['name_en']}",
            _fmt(r["score"]),
            _fmt(r["base_score"]),
            _fmt(r["delta"], signed=True),
            "—" if change is None else f"{change:+d}",
            *(_fmt(r["dimension_deltas"][d], signed=True) for d in ix.DIMENSIONS),
        )
    return table


def sources_line(data: dict[str, Any]) -> str:
    """One line naming the measured indicators (实测) and how many centers had them; the rest are declared."""
    srcs: dict[str, dict[str, Any]] = data.get("indicator_sources") or {}
    parts = [
        f"{k} {v.get('centers_measured') or 0}/{v.get('centers', '?')}"
        for k, v in srcs.items()
        if v.get("source") != "declared"
    ]
    return "measured inputs 实测指标 (centers measured/open; others declared 申报): " + (
        ", ".join(parts) if parts else "none"
    )
