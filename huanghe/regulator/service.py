"""The observatory over HTTP: H6's analytics (:mod:`huanghe.observatory`) on the *stored* network
(``services.catalog.export_topology``) plus telemetry where there is some.

Telemetry used: each center's mean ``utilisation`` (subject '') over the last ``TELEMETRY_WINDOW_DAYS``
replaces the assumed utilisation in carbon figures and is shown in ``indicators``; ``pue_measured`` is
Σ facility power / Σ IT power over the same window (shown beside the design PUE, which the lists keep using:
they are yearly figures). The index takes its measured inputs per calendar year from the platform's records
(telemetry, storage, transfers, backups, jobs, bills: :mod:`huanghe.regulator.index_inputs`) and says which
indicators were measured and which declared. Responses say whether telemetry was used and whether any of
it is simulated.

Every function returns plain JSON-ready data (NaN and ±inf become ``null``). Bad options raise
:class:`InvalidError` with the query parameter's path (``query.level``), never a 500.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.core.errors import FieldError, InvalidError
from huanghe.domain.network import Topology
from huanghe.network.topology_store import export_topology
from huanghe.observatory import green, views
from huanghe.observatory import index as ix
from huanghe.observatory import indicators as ind
from huanghe.observatory.figures import CenterFigures, center_figures, network_years, with_overrides
from huanghe.observatory.maturity import MaturityRulesError
from huanghe.observatory.targets import TargetsError
from huanghe.regulator.index_inputs import MeasuredInputs, measured_inputs
from huanghe.telemetry import service as telemetry
from huanghe.telemetry.models import TelemetrySampleRow

TELEMETRY_WINDOW_DAYS = 30
INDICATOR_LEVELS: tuple[str, ...] = ("province", "circle", "city", "center")
SCHEMES: tuple[str, ...] = ("equal", "entropy", "expert")
NORMS: tuple[str, ...] = ("minmax", "zscore")
EXPECTED = (ix.IndexInputError, TargetsError, MaturityRulesError, ValueError)
T = TypeVar("T")


def clean(value: Any) -> Any:
    """JSON-ready: NaN/±inf → None, sets → sorted lists, tuples → lists, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(clean(v) for v in value)
    return value


def _field_error(exc: Exception) -> FieldError:
    """``"year: no center open"`` → FieldError("query.year", "no center open")."""
    text = str(exc).strip() or type(exc).__name__
    m = re.match(r"^-*([a-z_]+): (.+)$", text, re.S)
    if m:
        return FieldError(f"query.{m.group(1)}", m.group(2))
    return FieldError("query", text)


def _guard(call: Callable[[], T]) -> T:
    try:
        return call()
    except EXPECTED as exc:
        raise InvalidError([_field_error(exc)]) from None


def _choice(field: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise InvalidError(
            [FieldError(f"query.{field}", f"must be one of {', '.join(choices)}, not {value!r}")]
        )


def _topology(session: Session) -> Topology:
    topo = export_topology(session)
    if not topo.centers:
        raise InvalidError([FieldError("", "no network is stored yet (import a topology first)")])
    return topo


# ---------------------------------------------------------------- telemetry figures


def telemetry_figures(
    session: Session, now_ms: int, window_days: float = TELEMETRY_WINDOW_DAYS
) -> dict[str, Any]:
    """Per center: mean utilisation and measured PUE over the window; whether any sample is simulated."""
    since = now_ms - int(window_days * 86_400_000)
    util = telemetry.weighted_means(session, "utilisation", since, now_ms + 1)
    it = telemetry.weighted_means(session, "it_power_kw", since, now_ms + 1)
    fac = telemetry.weighted_means(session, "facility_power_kw", since, now_ms + 1)
    pue = {c: fac[c] / it[c] for c in it if c in fac and it[c] > 0 and fac[c] >= it[c]}
    simulated = (
        session.scalar(
            select(TelemetrySampleRow.id)
            .where(TelemetrySampleRow.source == "simulated", TelemetrySampleRow.time_ms >= since)
            .limit(1)
        )
        is not None
    )
    return {"utilisation": util, "pue": pue, "simulated": simulated, "window_days": window_days}


def _with_telemetry(figs: list[CenterFigures], tel: dict[str, Any]) -> list[CenterFigures]:
    util: dict[str, float] = tel["utilisation"]
    return [
        with_overrides(c, utilisation=min(1.0, max(0.0, util[c.id]))) if c.id in util else c for c in figs
    ]


def _telemetry_note(tel: dict[str, Any]) -> dict[str, Any]:
    return {
        "used": bool(tel["utilisation"] or tel["pue"]),
        "simulated": tel["simulated"],
        "window_days": tel["window_days"],
        "centers_with_utilisation": len(tel["utilisation"]),
    }


# ---------------------------------------------------------------- views


def _measured_view(
    session: Session, level: str, weights: str, norm: str, year: int | None, now_ms: int | None
) -> tuple[Topology, views.IndexView, MeasuredInputs]:
    """The stored topology and its index view fed with the platform's measured inputs of every year of the
    panel (``now_ms``: epoch milliseconds of the request); ``level``, ``weights`` and ``norm`` are checked
    first (422 naming the field)."""
    _choice("level", level, ix.LEVELS)
    _choice("weights", weights, SCHEMES)
    _choice("norm", norm, NORMS)
    topo = _topology(session)
    y = _guard(lambda: views.resolve_year(topo, year))
    figs = center_figures(topo)
    measured = measured_inputs(
        session, network_years(figs, y), [c.id for c in figs], None if now_ms is None else now_ms / 1000
    )
    view = _guard(lambda: views.index_view(topo, level, weights, norm, y, None, measured.by_year))
    return topo, view, measured


def _sources(topo: Topology, view: views.IndexView, measured: MeasuredInputs) -> dict[str, Any]:
    """Per indicator of the year: declared (topology), measured (platform records) or mixed, with the number of
    the year's centers that had a measured input."""
    open_centers = views.figures_in(topo, view.year)
    cov = ix.coverage(open_centers, measured.by_year.get(view.year, {}))
    return {
        i.key: {"source": i.source, "centers_measured": cov.get(i.key) if i.source != "declared" else None,
                "centers": len(open_centers)}
        for i in ix.INDICATORS
    }  # fmt: skip


def index(
    session: Session,
    level: str,
    weights: str,
    norm: str,
    year: int | None,
    compare: int | None = None,
    now_ms: int | None = None,
) -> dict[str, Any]:
    """The index of a year with the measured inputs; with ``compare`` (a base year) also year on year."""
    topo, view, measured = _measured_view(session, level, weights, norm, year, now_ms)
    comparison = (
        None
        if compare is None
        else [c.public() for c in _guard(lambda: ix.compare_years(view.result, view.year, compare))]
    )
    return clean(
        {
            "year": view.year,
            "level": level,
            "weights": view.result.weights.scheme,
            "norm": norm,
            "method_version": view.result.method_version,
            "illustrative": True,
            "rows": [r.public() for r in view.rows],
            "dimension_weights": dict(view.result.weights.dimensions),
            "indicator_sources": _sources(topo, view, measured),
            "measured_years": sorted(measured.by_year),
            "simulated": measured.simulated,
            "compare_year": compare,
            "comparison": comparison,
        }
    )


def sensitivity(
    session: Session,
    level: str,
    weights: str,
    norm: str,
    year: int | None,
    delta: float,
    samples: int,
    seed: int,
    now_ms: int | None = None,
) -> dict[str, Any]:
    _, view, _ = _measured_view(session, level, weights, norm, year, now_ms)

    def run() -> list[ix.Sensitivity]:
        return [
            ix.one_at_a_time(view.result, view.year, delta),
            ix.monte_carlo(view.result, view.year, samples, 50.0, seed),
        ]

    studies = _guard(run)
    return clean(
        {
            "level": level,
            "studies": [
                {"method": s.method, "year": s.year, "samples": s.samples, "kendall_tau_mean": s.tau_mean,
                 "kendall_tau_min": s.tau_min, "ranks": [r.__dict__ for r in s.ranges]}
                for s in studies
            ],
        }
    )  # fmt: skip


def targets(session: Session, year: int | None) -> list[dict[str, Any]]:
    topo = _topology(session)
    return clean([s.public() for s in _guard(lambda: views.targets_view(topo, year))])


def green_list(session: Session, year: int | None, now_ms: int) -> dict[str, Any]:
    topo = _topology(session)
    tel = telemetry_figures(session, now_ms)
    rules = green.GreenRules()

    def run() -> green.GreenReport:
        y = views.resolve_year(topo, year) if year is not None else None
        return green.green_report(_with_telemetry(views.figures_in(topo, y), tel), rules)

    report = _guard(run)
    return clean({**report.public(), "telemetry": _telemetry_note(tel)})


def maturity(session: Session, year: int | None) -> list[dict[str, Any]]:
    topo = _topology(session)
    return clean([m.public() for m in _guard(lambda: views.maturity_view(topo, None, year))])


def network_capacity(session: Session, year: int | None, failing: bool) -> dict[str, Any]:
    topo = _topology(session)
    rows, summary = _guard(lambda: views.network_capacity_view(topo, year))
    shown = [r for r in rows if (r.compliant is False if failing else True)]
    return clean(
        {
            "summary": {**summary.__dict__, "share_compliant": summary.share, "city_share": summary.city_share,
                        "circle_share": summary.circle_share},
            "pairs": [r.__dict__ for r in shown],
        }
    )  # fmt: skip


def _group_row(
    key: str, name_zh: str, name_en: str, members: list[CenterFigures], tel: dict[str, Any], is_center: bool
) -> dict[str, Any]:
    compute = ind.compute_totals(members)
    storage_eb, advanced = ind.storage_totals(members)
    egress, pon = ind.egress_totals(members)
    pue, ref, ef = ind.group_energy(members)
    wue_members = [c for c in members if c.wue_l_per_kwh is not None]
    wue = (
        ind.weighted_mean(
            [c.wue_l_per_kwh or 0.0 for c in wue_members], [c.it_design_kw for c in wue_members]
        )
        if wue_members
        else None
    )
    carbons = [green.center_carbon(c) for c in members]
    co2_kg = sum(c.co2_t for c in carbons) * 1000.0
    pfh = sum(c.pflops_hours for c in carbons)
    util_ids = [c.id for c in members if c.id in tel["utilisation"]]
    measured_util = (
        ind.weighted_mean([tel["utilisation"][i] for i in util_ids],
                          [next(c.it_design_kw for c in members if c.id == i) for i in util_ids])
        if util_ids else None
    )  # fmt: skip
    return {
        "id": key, "name_zh": name_zh, "name_en": name_en, "centers": len(members),
        "standard_racks": ind.total_standard_racks(members), "racks_in_use": ind.racks_in_use(members),
        "total_eflops": compute.total_eflops, "intelligent_eflops": compute.intelligent_eflops,
        "intelligent_share": compute.intelligent_share, "storage_eb": storage_eb, "advanced_storage_share": advanced,
        "egress_gbps": egress, "pon10g_share": pon, "pue": pue if members else None, "ref": ref,
        "cue_kg_per_kwh": ind.cue(pue, ef, ref) if pue else None, "wue_l_per_kwh": wue,
        "grid_ef_kg_per_kwh": ef, "kg_co2_per_pflops_hour": co2_kg / pfh if pfh > 0 else None,
        "pflops_hours_per_kg_co2": pfh / co2_kg if co2_kg > 0 else None,
        "utilisation": measured_util,
        "utilisation_source": ("telemetry (simulated)" if tel["simulated"] else "telemetry") if util_ids else None,
        "pue_measured": tel["pue"].get(key) if is_center else None,
    }  # fmt: skip


def indicators(session: Session, level: str, year: int | None, now_ms: int) -> dict[str, Any]:
    """Summary indicators per province / circle / city / center (carbon with measured utilisation when known)."""
    _choice("level", level, INDICATOR_LEVELS)
    topo = _topology(session)
    tel = telemetry_figures(session, now_ms)
    y = _guard(lambda: views.resolve_year(topo, year))
    figs = _with_telemetry(views.figures_in(topo, y), tel)
    groups: dict[str, list[CenterFigures]] = defaultdict(list)
    names: dict[str, tuple[str, str]] = {}
    if level == "center":
        for c in figs:
            groups[c.id].append(c)
            names[c.id] = (c.name_zh, c.name_en)
    elif level == "province":
        groups["province"] = figs
        names["province"] = ("全省", "Province")
    else:
        entities = topo.cities if level == "city" else topo.regions
        for e in entities:
            names[e.id] = (e.name_zh, e.name_en)
            groups[e.id] = []
        for c in figs:
            groups[c.city if level == "city" else c.region].append(c)
    rows = [_group_row(k, *names[k], members, tel, level == "center") for k, members in groups.items()]
    return clean(
        {"year": y, "level": level, "illustrative": True, "telemetry": _telemetry_note(tel), "rows": rows}
    )


def report(
    session: Session, kind: str, year: int | None, fmt: str, lang: str, weights: str, norm: str,
    records: bool = True,
) -> tuple[bytes, str, str]:  # fmt: skip
    """The storage or index report as (content, media type, file name); HTML or PDF (WeasyPrint), with the
    sections of the year from the database (empowerment, vouchers, risk) when ``records`` (the caller may
    read them: regulator, admin); otherwise those sections say they are withheld."""
    _choice("kind", kind, ("storage", "index"))
    _choice("format", fmt, ("html", "pdf"))
    _choice("lang", lang, ("zh", "en"))
    _choice("weights", weights, SCHEMES)
    _choice("norm", norm, NORMS)
    topo = _topology(session)
    from huanghe.observatory import reports  # matplotlib and WeasyPrint load only here
    from huanghe.observatory.report_sections import AnnualSections
    from huanghe.regulator.report_sections import annual_sections

    y = _guard(lambda: views.resolve_year(topo, year))
    sections = annual_sections(session, y) if records else AnnualSections(y, database=True, restricted=True)
    with tempfile.TemporaryDirectory(prefix="huanghe-report-") as tmp:
        out = Path(tmp) / f"{kind}-report.{fmt}"
        _guard(lambda: reports.write_report(kind, topo, out, y, lang, weights, norm, sections))
        content = out.read_bytes()
    media = "application/pdf" if fmt == "pdf" else "text/html; charset=utf-8"
    return content, media, f"huanghe-{kind}-report.{fmt}"
