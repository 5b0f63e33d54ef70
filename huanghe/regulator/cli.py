"""Observatory commands: ``index`` (+ ``index sensitivity``), ``targets``, ``green-list``, ``maturity``,
``network-capacity`` and ``report storage|index``. Rich tables for people, ``--json`` for machines."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from huanghe.catalog.topology import load_topology
from huanghe.core.errors import TopologyError
from huanghe.domain.network import Topology
from huanghe.observatory import green, views
from huanghe.observatory import index as ix
from huanghe.observatory.maturity import LEVEL_NAMES, MaturityRulesError
from huanghe.observatory.targets import TargetsError

index_app = typer.Typer(
    help="综合算力指数 Comprehensive compute index (method 1.0, docs/index-method.md).",
    invoke_without_command=True,
)
report_app = typer.Typer(help="报告 Reports (HTML or PDF by the --out suffix).", no_args_is_help=True)

NETWORK = typer.Option("shandong", "--network", help="bundled network name or topology file path")
JSON = typer.Option(False, "--json", help="print JSON for machines")
YEAR = typer.Option(None, "--year", help="year of the snapshot (default: latest opening year)")
LEVEL = typer.Option("city", "--level", help="city | circle | province")
WEIGHTS = typer.Option("equal", "--weights", help="equal | entropy | expert")
NORM = typer.Option("minmax", "--norm", help="minmax | zscore")
WEIGHTS_FILE = typer.Option(None, "--weights-file", help="expert weights YAML (default: bundled)")
ILLUSTRATIVE_NOTE = "示意数据: bundled center figures are illustrative, not official statistics."
EXPECTED_ERRORS = (TopologyError, ix.IndexInputError, TargetsError, MaturityRulesError, ValueError, OSError)


def _console() -> Console:
    return Console(width=140)


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Turn expected errors into a one-line message and exit code 2 (never a traceback)."""
    try:
        yield
    except EXPECTED_ERRORS as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _load(network: str) -> Topology:
    return load_topology(network)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _fmt(value: float | None, digits: int | None = None) -> str:
    """A number for people: ``digits`` decimals, or automatic (thousands separators for big values)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if digits is None:
        digits = 0 if abs(value) >= 1000 else 3
    return f"{value:,.{digits}f}"


def _check_choice(field: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ix.IndexInputError(f"{field}: unknown value {value!r} (expected one of {', '.join(choices)})")


def _index(
    network: str, level: str, weights: str, norm: str, year: int | None, weights_file: Path | None
) -> views.IndexView:
    _check_choice("--level", level, ix.LEVELS)
    _check_choice("--weights", weights, ("equal", "entropy", "expert"))
    _check_choice("--norm", norm, ("minmax", "zscore"))
    return views.index_view(_load(network), level, weights, norm, year, weights_file)


@index_app.callback()
def index_cmd(
    ctx: typer.Context,
    level: str = LEVEL,
    weights: str = WEIGHTS,
    norm: str = NORM,
    year: int | None = YEAR,
    network: str = NETWORK,
    weights_file: Path | None = WEIGHTS_FILE,
    as_json: bool = JSON,
) -> None:
    """Score and rank cities, circles or the province in four dimensions (算力 存力 运力 环境)."""
    if ctx.invoked_subcommand is not None:
        return
    with _clean_errors():
        view = _index(network, level, weights, norm, year, weights_file)
    if as_json:
        _echo_json([r.public() for r in view.rows])
        return
    w = view.result.weights
    table = Table(
        title=f"综合算力指数 Compute index {view.year} · level {level} · weights {w.scheme} · {norm} · "
        f"method {view.result.method_version}"
    )
    for col in (
        "rank 排名",
        "entity 对象",
        "score 得分",
        *(f"{ix.DIMENSION_NAMES_ZH[d]} {d}" for d in ix.DIMENSIONS),
    ):
        table.add_column(col, justify="right" if "entity" not in col else "left")
    for r in view.rows:
        table.add_row(
            str(r.rank),
            f"{r.name_zh} {r.name_en}",
            _fmt(r.score, 1),
            *(_fmt(r.dimensions[d], 1) for d in ix.DIMENSIONS),
        )
    out = _console()
    out.print(table)
    out.print("dimension weights 维度权重: " + ", ".join(f"{d} {w.dimensions[d]:.3f}" for d in ix.DIMENSIONS))
    out.print(ILLUSTRATIVE_NOTE)


@index_app.command("sensitivity")
def sensitivity_cmd(
    level: str = LEVEL,
    weights: str = WEIGHTS,
    norm: str = NORM,
    year: int | None = YEAR,
    network: str = NETWORK,
    weights_file: Path | None = WEIGHTS_FILE,
    delta: float = typer.Option(0.2, "--delta", help="one-at-a-time change of each dimension weight"),
    samples: int = typer.Option(500, "--samples", help="Monte-Carlo Dirichlet draws"),
    concentration: float = typer.Option(
        50.0, "--concentration", help="Dirichlet α = concentration × weights"
    ),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = JSON,
) -> None:
    """Rank stability under weight perturbations: ±delta per dimension and Monte-Carlo Dirichlet draws."""
    with _clean_errors():
        if not 0 <= delta < 1:
            raise ix.IndexInputError("--delta: must be in [0, 1)")
        view = _index(network, level, weights, norm, year, weights_file)
        studies = [
            ix.one_at_a_time(view.result, view.year, delta),
            ix.monte_carlo(view.result, view.year, samples, concentration, seed),
        ]
    if as_json:
        _echo_json(
            [
                {
                    "method": s.method,
                    "year": s.year,
                    "samples": s.samples,
                    "kendall_tau_mean": round(s.tau_mean, 4),
                    "kendall_tau_min": round(s.tau_min, 4),
                    "ranks": [r.__dict__ for r in s.ranges],
                }
                for s in studies
            ]
        )
        return
    out = _console()
    for s in studies:
        table = Table(title=f"敏感性分析 Sensitivity {s.year}: {s.method} · {s.samples} runs · "
                      f"Kendall τ mean {s.tau_mean:.3f} min {s.tau_min:.3f}")  # fmt: skip
        for col in ("entity 对象", "base rank", "min", "median", "max"):
            table.add_column(col, justify="left" if col.startswith("entity") else "right")
        for r in s.ranges:
            table.add_row(r.entity, str(r.base_rank), str(r.min_rank), f"{r.median_rank:g}", str(r.max_rank))
        out.print(table)


def targets_cmd(
    year: int | None = YEAR,
    network: str = NETWORK,
    targets_file: Path | None = typer.Option(None, "--targets-file", help="targets YAML (default: bundled)"),
    as_json: bool = JSON,
) -> None:
    """目标对照 Targets of the plan versus actuals, with a linear trend forecast to the target year."""
    with _clean_errors():
        rows = views.targets_view(_load(network), year, targets_file)
    if as_json:
        _echo_json([s.public() for s in rows])
        return
    table = Table(
        title=f"目标对照 Targets vs actual {rows[0].actual_year if rows else ''} (illustrative data 示意数据)"
    )
    for col in ("KPI", "target 目标", "year", "actual 现状", "met", "forecast 预测", "source 来源"):
        table.add_column(col)
    for s in rows:
        p = s.public()
        table.add_row(
            f"{p['name_zh']} {p['kpi']} ({p['unit']})",
            f"{p['comparison']} {_fmt(s.target.target)}",
            str(s.target.year),
            _fmt(s.actual),
            {True: "✔", False: "✘", None: "—"}[s.met],
            _fmt(s.forecast),
            s.target.source[:60],
        )
    _console().print(table)


def green_cmd(
    network: str = NETWORK,
    year: int | None = YEAR,
    pue_limit: float = typer.Option(1.5, "--pue-limit"),
    small_racks: float = typer.Option(400.0, "--small-racks", help="small: fewer standard racks than this"),
    scattered_km: float = typer.Option(50.0, "--scattered-km", help="scattered: nearest center farther (km)"),
    old_before: int = typer.Option(2015, "--old-before", help="old: opened before this year"),
    min_other: int = typer.Option(1, "--min-other", help="listed: small and this many other criteria"),
    utilisation: float = typer.Option(0.6, "--utilisation", help="assumed utilisation where not measured"),
    as_json: bool = JSON,
) -> None:
    """绿色低碳清单 Green lists: PUE > limit, small/scattered/old centers, renewable ranking, carbon."""
    with _clean_errors():
        if not 0 < utilisation <= 1:
            raise ValueError("--utilisation: must be in (0, 1]")
        rules = green.GreenRules(pue_limit, small_racks, scattered_km, old_before, min_other, utilisation)
        report = views.green_view(_load(network), rules, year)
    if as_json:
        _echo_json(report.public())
        return
    out = _console()
    t1 = Table(title=f"年均 PUE 高于 {pue_limit} 的数据中心 Centers with PUE > {pue_limit}")
    for col in ("center 中心", "city", "PUE"):
        t1.add_column(col)
    for c in report.pue_list:
        t1.add_row(f"{c.name_zh} ({c.id})", c.city, f"{c.pue:.2f}")
    out.print(t1)
    t2 = Table(title="小散老旧数据中心 Small, scattered and old centers")
    for col in ("center 中心", "racks", "nearest km", "opened", "PUE", "reasons"):
        t2.add_column(col)
    for s in report.small_scattered_old:
        if s.listed:
            t2.add_row(f"{s.name_zh} ({s.center})", _fmt(s.standard_racks, 0), _fmt(s.nearest_km, 0),
                       str(s.opened_year or "—"), f"{s.pue:.2f}", ", ".join(s.reasons))  # fmt: skip
    out.print(t2)
    t3 = Table(
        title=f"可再生能源利用率排名与碳排放 Renewable ranking and carbon ({rules.utilisation_label()})"
    )
    for col in ("rank", "center 中心", "REF", "PUE", "t CO2/yr", "kg CO2/PFLOPS-h"):
        t3.add_column(col)
    carbon = {c.center: c for c in report.carbon}
    for k, c in enumerate(report.renewable_ranking, 1):
        x = carbon[c.id]
        t3.add_row(str(k), f"{c.name_zh} ({c.id})", f"{c.renewable_share:.0%}", f"{c.pue:.2f}",
                   _fmt(x.co2_t, 0), _fmt(x.kg_per_pflops_hour, 1))  # fmt: skip
    out.print(t3)
    out.print(ILLUSTRATIVE_NOTE)


def maturity_cmd(
    network: str = NETWORK,
    year: int | None = YEAR,
    rules_file: Path | None = typer.Option(
        None, "--rules-file", help="maturity rules YAML (default: bundled)"
    ),
    as_json: bool = JSON,
) -> None:
    """存储能力成熟度 Storage maturity L1–L5 per center (docs/storage-maturity.md)."""
    with _clean_errors():
        results = views.maturity_view(_load(network), rules_file, year)
    if as_json:
        _echo_json([m.public() for m in results])
        return
    table = Table(title="存储能力成熟度 Storage maturity (rules 1.0, illustrative data 示意数据)")
    for col in ("center 中心", "overall 总体", "capacity", "performance", "reliability", "green"):
        table.add_column(col)
    for m in sorted(results, key=lambda m: (-m.overall, m.center)):
        table.add_row(f"{m.name_zh} ({m.center})", m.overall_name, *(f"L{m.levels[a]}" for a in m.levels))
    _console().print(table)
    _console().print("levels: " + ", ".join(f"L{k} {zh} {en}" for k, (zh, en) in LEVEL_NAMES.items()))


def network_capacity_cmd(
    network: str = NETWORK,
    year: int | None = YEAR,
    failing: bool = typer.Option(False, "--failing", help="list only pairs that miss their latency circle"),
    as_json: bool = JSON,
) -> None:
    """运载力评估 Network-capacity evaluation: latency-circle compliance of every center pair."""
    with _clean_errors():
        rows, summary = views.network_capacity_view(_load(network), year)
    shown = [r for r in rows if (r.compliant is False if failing else True)]
    if as_json:
        _echo_json(
            {
                "summary": {
                    **summary.__dict__,
                    "share_compliant": summary.share,
                    "city_share": summary.city_share,
                    "circle_share": summary.circle_share,
                },
                "pairs": [{**r.__dict__, "latency_ms": round(r.latency_ms, 4)} for r in shown],
            }
        )
        return
    out = _console()
    out.print(
        f"时延圈达标 Latency circles: city <1 ms {summary.city_compliant}/{summary.city_pairs}, "
        f"circle <3 ms {summary.circle_compliant}/{summary.circle_pairs}, "
        f"share compliant {_fmt(summary.share)} (cross-circle pairs not assessed: {summary.cross_pairs})"
    )
    table = Table(title="中心对时延 Center pairs (assessed)")
    for col in ("a", "b", "scope", "latency ms", "limit ms", "measured", "ok"):
        table.add_column(col)
    for r in shown:
        if r.compliant is None:
            continue
        table.add_row(r.a, r.b, r.scope, f"{r.latency_ms:.2f}", _fmt(r.limit_ms, 0), "yes" if r.measured else "est.",
                      "✔" if r.compliant else "✘")  # fmt: skip
    out.print(table)


def _report(kind: str) -> Callable[..., None]:
    def command(
        year: int | None = YEAR,
        out: Path = typer.Option(..., "--out", help="output file, .html or .pdf"),
        lang: str = typer.Option("zh", "--lang", help="zh (default) or en"),
        network: str = NETWORK,
        weights: str = WEIGHTS,
        norm: str = NORM,
    ) -> None:
        with _clean_errors():
            if lang not in ("zh", "en"):
                raise ValueError("--lang: must be zh or en")
            if out.suffix.lower() not in (".html", ".pdf"):
                raise ValueError(f"--out: unknown suffix {out.suffix!r} (use .html or .pdf)")
            _check_choice("--weights", weights, ("equal", "entropy", "expert"))
            _check_choice("--norm", norm, ("minmax", "zscore"))
            from huanghe.observatory import reports  # matplotlib and WeasyPrint load only here

            path = reports.write_report(kind, _load(network), out, year, lang, weights, norm)
        typer.echo(f"wrote {path}")

    command.__doc__ = {
        "storage": "存力发展报告 Storage development report.",
        "index": "综合算力发展指数报告 Compute index report.",
    }[kind]
    return command


report_app.command("storage")(_report("storage"))
report_app.command("index")(_report("index"))


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
    app.command("targets")(targets_cmd)
    app.command("green-list")(green_cmd)
    app.command("maturity")(maturity_cmd)
    app.command("network-capacity")(network_capacity_cmd)
    app.add_typer(report_app, name="report")
