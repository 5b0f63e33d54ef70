"""Observatory commands: ``index`` (+ ``index sensitivity``), ``targets``, ``green-list``, ``maturity``,
``network-capacity`` and ``report storage|index``. Rich tables for people, ``--json`` for machines.

Where the data comes from (said on stderr as ``source: ...``): the server at ``$HUANGHE_URL`` when it is set
(``/api/v1/observatory/...`` through :class:`huanghe.client.HuangheClient`: the stored network, so an
operator's edits show, and measured telemetry where the server has it); otherwise, or when ``--network`` or a
file option (``--weights-file``, ``--targets-file``, ``--rules-file``) is given, the files (default: the
bundled ``shandong``). Options the server does not take (the green-list thresholds, ``--concentration``)
are a usage error (exit 2) when reading the server. ``--json`` prints the same shapes from either source.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import typer
from rich.console import Console
from rich.table import Table

from huanghe.catalog.topology import load_topology
from huanghe.cli import remote
from huanghe.client import HuangheClient
from huanghe.core.errors import TopologyError
from huanghe.domain.network import Topology
from huanghe.observatory import green, views
from huanghe.observatory import index as ix
from huanghe.observatory.maturity import LEVEL_NAMES, MaturityRulesError
from huanghe.observatory.targets import TargetsError
from huanghe.regulator import index_cli

index_app = typer.Typer(
    help="综合算力指数 Comprehensive compute index (method 2.0, docs/index-method.md).",
    epilog=remote.EXIT_CODES_HELP,
    invoke_without_command=True,
)
report_app = typer.Typer(
    help="报告 Reports (HTML or PDF by the --out suffix).",
    epilog=remote.EXIT_CODES_HELP,
    no_args_is_help=True,
)

NETWORK = typer.Option(
    None,
    "--network",
    help="bundled network name or topology file path "
    "(default: the server at $HUANGHE_URL when set, else the bundled shandong)",
    show_default=False,
)
JSON = typer.Option(False, "--json", help="print JSON for machines")
YEAR = typer.Option(None, "--year", help="year of the snapshot (default: latest opening year)")
LEVEL = typer.Option("city", "--level", help="city | circle | province")
WEIGHTS = typer.Option("equal", "--weights", help="equal | entropy | expert")
NORM = typer.Option("minmax", "--norm", help="minmax | zscore")
WEIGHTS_FILE = typer.Option(None, "--weights-file", help="expert weights YAML (default: bundled)")
ILLUSTRATIVE_NOTE = "示意数据: bundled center figures are illustrative, not official statistics."
EXPECTED_ERRORS = (TopologyError, ix.IndexInputError, TargetsError, MaturityRulesError, ValueError, OSError)
#: Dirichlet concentration of ``index sensitivity`` (the server always uses this one).
CONCENTRATION = 50.0


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


def _index_options(level: str, weights: str, norm: str) -> None:
    _check_choice("--level", level, ix.LEVELS)
    _check_choice("--weights", weights, ("equal", "entropy", "expert"))
    _check_choice("--norm", norm, ("minmax", "zscore"))


def _not_on_server(option: str, why: str) -> ValueError:
    return ValueError(f"{option}: {why}; give --network NAME|FILE to compute from a topology file instead")


class _Public(Protocol):
    def public(self) -> dict[str, object]: ...


def _listing(network: str | None, as_json: bool, option_file: Path | None,
             from_server: Callable[[HuangheClient], Iterable[Mapping[str, Any]]],
             from_files: Callable[[Topology], Iterable[_Public]]) -> list[dict[str, Any]]:  # fmt: skip
    """A listing's rows from the server (``from_server``) or, with ``--network`` or the file option ``option_file``
    given or no server set, the topology files (``from_files``, as ``public()``); expected errors exit 2."""
    with _clean_errors():
        source = remote.use_server(network, as_json, files=(option_file,))
        if source is None:
            with remote.connect() as client:
                return [dict(row) for row in from_server(client)]
        return [row.public() for row in from_files(_load(source))]


# ---------------------------------------------------------------- index


@index_app.callback()
def index_cmd(
    ctx: typer.Context,
    level: str = LEVEL,
    weights: str = WEIGHTS,
    norm: str = NORM,
    year: int | None = YEAR,
    network: str | None = NETWORK,
    weights_file: Path | None = WEIGHTS_FILE,
    compare: bool = typer.Option(
        False, "--compare", help="year on year: the index of --year against the year before"
    ),
    as_json: bool = JSON,
) -> None:
    """Score and rank cities, circles or the province in five dimensions (算力 存力 运力 环境 应用)."""
    if ctx.invoked_subcommand is not None:
        return
    with _clean_errors():
        _index_options(level, weights, norm)
        source = remote.use_server(network, as_json, files=(weights_file,))
        data = index_cli.index_data(source, level, weights, norm, year, weights_file, compare)
    if as_json:
        _echo_json(data["comparison"] if compare else data["rows"])
        return
    if compare:
        _console().print(index_cli.comparison_table(data))
        return
    table = Table(
        title=f"综合算力指数 Compute index {data['year']} · level {data['level']} · weights {data['weights']} · "
        f"{data['norm']} · method {data['method_version']}"
    )
    for col in (
        "rank 排名",
        "entity 对象",
        "score 得分",
        *(f"{ix.DIMENSION_NAMES_ZH[d]} {d}" for d in ix.DIMENSIONS),
    ):
        table.add_column(col, justify="right" if "entity" not in col else "left")
    for r in data["rows"]:
        table.add_row(
            str(r["rank"]),
            f"{r['name_zh']} {r['name_en']}",
            _fmt(r["score"], 1),
            *(_fmt(r["dimensions"][d], 1) for d in ix.DIMENSIONS),
        )
    out = _console()
    out.print(table)
    w = data.get("dimension_weights")
    if w:
        out.print("dimension weights 维度权重: " + ", ".join(f"{d} {w[d]:.3f}" for d in ix.DIMENSIONS))
    out.print(index_cli.sources_line(data))
    out.print(ILLUSTRATIVE_NOTE)


def _study(s: dict[str, Any]) -> dict[str, Any]:
    """A sensitivity study as ``--json`` prints it (Kendall τ to 4 decimals)."""
    return {
        **s,
        "kendall_tau_mean": round(s["kendall_tau_mean"], 4),
        "kendall_tau_min": round(s["kendall_tau_min"], 4),
    }


@index_app.command("sensitivity")
def sensitivity_cmd(
    level: str = LEVEL,
    weights: str = WEIGHTS,
    norm: str = NORM,
    year: int | None = YEAR,
    network: str | None = NETWORK,
    weights_file: Path | None = WEIGHTS_FILE,
    delta: float = typer.Option(0.2, "--delta", help="one-at-a-time change of each dimension weight"),
    samples: int = typer.Option(500, "--samples", help="Monte-Carlo Dirichlet draws"),
    concentration: float = typer.Option(
        CONCENTRATION, "--concentration", help="Dirichlet α = concentration × weights"
    ),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = JSON,
) -> None:
    """Rank stability under weight perturbations: ±delta per dimension and Monte-Carlo Dirichlet draws."""
    with _clean_errors():
        if not 0 <= delta < 1:
            raise ix.IndexInputError("--delta: must be in [0, 1)")
        _index_options(level, weights, norm)
        source = remote.use_server(network, as_json, files=(weights_file,))
        if source is None:
            if concentration != CONCENTRATION:
                raise _not_on_server("--concentration", f"the server always uses {CONCENTRATION:g}")
            with remote.connect() as client:
                answer = client.index_sensitivity(level, weights, norm, year, delta, samples, seed)
            studies = [_study(dict(s)) for s in answer["studies"]]
        else:
            view = views.index_view(_load(source), level, weights, norm, year, weights_file)
            studies = [
                _study({"method": s.method, "year": s.year, "samples": s.samples, "kendall_tau_mean": s.tau_mean,
                        "kendall_tau_min": s.tau_min, "ranks": [r.__dict__ for r in s.ranges]})
                for s in (
                    ix.one_at_a_time(view.result, view.year, delta),
                    ix.monte_carlo(view.result, view.year, samples, concentration, seed),
                )
            ]  # fmt: skip
    if as_json:
        _echo_json(studies)
        return
    out = _console()
    for s in studies:
        table = Table(title=f"敏感性分析 Sensitivity {s['year']}: {s['method']} · {s['samples']} runs · "
                      f"Kendall τ mean {s['kendall_tau_mean']:.3f} min {s['kendall_tau_min']:.3f}")  # fmt: skip
        for col in ("entity 对象", "base rank", "min", "median", "max"):
            table.add_column(col, justify="left" if col.startswith("entity") else "right")
        for r in s["ranks"]:
            table.add_row(r["entity"], str(r["base_rank"]), str(r["min_rank"]), f"{r['median_rank']:g}",
                          str(r["max_rank"]))  # fmt: skip
        out.print(table)


# ---------------------------------------------------------------- targets, green lists, maturity, capacity


def targets_cmd(
    year: int | None = YEAR,
    network: str | None = NETWORK,
    targets_file: Path | None = typer.Option(None, "--targets-file", help="targets YAML (default: bundled)"),
    as_json: bool = JSON,
) -> None:
    """目标对照 Targets of the plan versus actuals, with a linear trend forecast to the target year."""
    rows = _listing(network, as_json, targets_file, lambda client: client.targets(year),
                    lambda topo: views.targets_view(topo, year, targets_file))  # fmt: skip
    if as_json:
        _echo_json(rows)
        return
    table = Table(
        title=f"目标对照 Targets vs actual {rows[0]['actual_year'] if rows else ''} (illustrative data 示意数据)"
    )
    for col in ("KPI", "target 目标", "year", "actual 现状", "met", "forecast 预测", "source 来源"):
        table.add_column(col)
    for p in rows:
        table.add_row(
            f"{p['name_zh']} {p['kpi']} ({p['unit']})",
            f"{p['comparison']} {_fmt(p['target'])}",
            str(p["year"]),
            _fmt(p["actual"]),
            {True: "✔", False: "✘", None: "—"}[p["met"]],
            _fmt(p["forecast"]),
            str(p["source"])[:60],
        )
    _console().print(table)


#: green-list option → the rule it sets (the server uses the defaults of :class:`green.GreenRules`)
GREEN_OPTIONS = {
    "pue_limit": "--pue-limit",
    "small_racks_below": "--small-racks",
    "scattered_km_above": "--scattered-km",
    "old_opened_before": "--old-before",
    "min_other_criteria": "--min-other",
    "assumed_utilisation": "--utilisation",
}


def green_cmd(
    network: str | None = NETWORK,
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
        source = remote.use_server(network, as_json)
        if source is None:
            changed = [
                o for f, o in GREEN_OPTIONS.items() if getattr(rules, f) != getattr(green.GreenRules(), f)
            ]
            if changed:
                raise _not_on_server(changed[0], "the server's green lists use the default thresholds")
            with remote.connect() as client:
                report: dict[str, Any] = dict(client.green_list(year))
        else:
            found = views.green_view(_load(source), rules, year)
            listed: dict[str, Any] = found.public()
            report = listed
            if not as_json:  # the table rounds the unrounded figures once
                exact = {x.center: x for x in found.small_scattered_old}
                for row in listed["small_scattered_old"]:
                    row["standard_racks"] = exact[row["center"]].standard_racks
                    row["nearest_km"] = exact[row["center"]].nearest_km
    if as_json:
        _echo_json(report)
        return
    _print_green(report)


def _print_green(report: dict[str, Any]) -> None:
    out = _console()
    limit = report["rules"]["pue_limit"]
    t1 = Table(title=f"年均 PUE 高于 {limit} 的数据中心 Centers with PUE > {limit}")
    for col in ("center 中心", "city", "PUE"):
        t1.add_column(col)
    for c in report["pue_above_limit"]:
        t1.add_row(f"{c['name_zh']} ({c['center']})", c["city"], f"{c['pue']:.2f}")
    out.print(t1)
    t2 = Table(title="小散老旧数据中心 Small, scattered and old centers")
    for col in ("center 中心", "racks", "nearest km", "opened", "PUE", "reasons"):
        t2.add_column(col)
    for s in report["small_scattered_old"]:
        t2.add_row(f"{s['name_zh']} ({s['center']})", _fmt(s["standard_racks"], 0), _fmt(s["nearest_km"], 0),
                   str(s["opened_year"] or "—"), f"{s['pue']:.2f}", ", ".join(s["reasons"]))  # fmt: skip
    out.print(t2)
    t3 = Table(
        title=f"可再生能源利用率排名与碳排放 Renewable ranking and carbon ({report['rules']['utilisation_label']})"
    )
    for col in ("rank", "center 中心", "REF", "PUE", "t CO2/yr", "kg CO2/PFLOPS-h"):
        t3.add_column(col)
    carbon = {c["center"]: c for c in report["carbon"]}
    for c in report["renewable_ranking"]:
        x = carbon[c["center"]]
        t3.add_row(str(c["rank"]), f"{c['name_zh']} ({c['center']})", f"{c['renewable_share']:.0%}",
                   f"{c['pue']:.2f}", _fmt(x["co2_t"], 0), _fmt(x["kg_per_pflops_hour"], 1))  # fmt: skip
    out.print(t3)
    tel = report.get("telemetry")
    if tel and tel.get("used"):
        note = " (simulated 模拟)" if tel.get("simulated") else ""
        out.print(f"measured utilisation 实测利用率: {tel['centers_with_utilisation']} centers, "
                  f"last {tel['window_days']:g} days{note}")  # fmt: skip
    out.print(ILLUSTRATIVE_NOTE)


def maturity_cmd(
    network: str | None = NETWORK,
    year: int | None = YEAR,
    rules_file: Path | None = typer.Option(
        None, "--rules-file", help="maturity rules YAML (default: bundled)"
    ),
    as_json: bool = JSON,
) -> None:
    """存储能力成熟度 Storage maturity L1–L5 per center (docs/storage-maturity.md)."""
    results = _listing(network, as_json, rules_file, lambda client: client.maturity(year),
                       lambda topo: views.maturity_view(topo, rules_file, year))  # fmt: skip
    if as_json:
        _echo_json(results)
        return
    table = Table(title="存储能力成熟度 Storage maturity (rules 1.0, illustrative data 示意数据)")
    for col in ("center 中心", "overall 总体", "capacity", "performance", "reliability", "green"):
        table.add_column(col)
    for m in sorted(results, key=lambda m: (-m["overall"], m["center"])):
        table.add_row(
            f"{m['name_zh']} ({m['center']})", m["overall_name"], *(f"L{v}" for v in m["levels"].values())
        )
    _console().print(table)
    _console().print("levels: " + ", ".join(f"L{k} {zh} {en}" for k, (zh, en) in LEVEL_NAMES.items()))


def network_capacity_cmd(
    network: str | None = NETWORK,
    year: int | None = YEAR,
    failing: bool = typer.Option(False, "--failing", help="list only pairs that miss their latency circle"),
    as_json: bool = JSON,
) -> None:
    """运载力评估 Network-capacity evaluation: latency-circle compliance of every center pair."""
    with _clean_errors():
        source = remote.use_server(network, as_json)
        if source is None:
            with remote.connect() as client:
                answer = client.network_capacity(year, failing)
            summary, pairs = answer["summary"], answer["pairs"]
        else:
            rows, s = views.network_capacity_view(_load(source), year)
            summary = {**s.__dict__, "share_compliant": s.share, "city_share": s.city_share,
                       "circle_share": s.circle_share}  # fmt: skip
            pairs = [r.__dict__ for r in rows if (r.compliant is False if failing else True)]
    if as_json:
        _echo_json(
            {"summary": summary, "pairs": [{**p, "latency_ms": round(p["latency_ms"], 4)} for p in pairs]}
        )
        return
    out = _console()
    out.print(
        f"时延圈达标 Latency circles: city <1 ms {summary['city_compliant']}/{summary['city_pairs']}, "
        f"circle <3 ms {summary['circle_compliant']}/{summary['circle_pairs']}, "
        f"share compliant {_fmt(summary['share_compliant'])} "
        f"(cross-circle pairs not assessed: {summary['cross_pairs']})"
    )
    table = Table(title="中心对时延 Center pairs (assessed)")
    for col in ("a", "b", "scope", "latency ms", "limit ms", "measured", "ok"):
        table.add_column(col)
    for r in pairs:
        if r["compliant"] is None:
            continue
        table.add_row(r["a"], r["b"], str(r["scope"]), f"{r['latency_ms']:.2f}", _fmt(r["limit_ms"], 0),
                      "yes" if r["measured"] else "est.", "✔" if r["compliant"] else "✘")  # fmt: skip
    out.print(table)


# ---------------------------------------------------------------- reports


REPORT_DB = typer.Option(None, "--db", help="database URL of the empowerment, voucher and risk sections "
                         "(without it, reading files, those sections say there is no data)")  # fmt: skip


def _report(kind: str) -> Callable[..., None]:
    def command(
        year: int | None = YEAR,
        out: Path = typer.Option(..., "--out", help="output file, .html or .pdf"),
        lang: str = typer.Option("zh", "--lang", help="zh (default) or en"),
        network: str | None = NETWORK,
        weights: str = WEIGHTS,
        norm: str = NORM,
        db: str | None = REPORT_DB,
    ) -> None:
        with _clean_errors():
            if lang not in ("zh", "en"):
                raise ValueError("--lang: must be zh or en")
            if out.suffix.lower() not in (".html", ".pdf"):
                raise ValueError(f"--out: unknown suffix {out.suffix!r} (use .html or .pdf)")
            _check_choice("--weights", weights, ("equal", "entropy", "expert"))
            _check_choice("--norm", norm, ("minmax", "zscore"))
            source = remote.use_server(network, as_json=False, files=(db,))
            if source is None:
                fmt = out.suffix.lower().lstrip(".")
                with remote.connect() as client:
                    report = client.report(kind, fmt, year=year, lang=lang, weights=weights, norm=norm)
                out.write_bytes(report.content)
                path = out
            else:
                from huanghe.observatory import reports  # matplotlib and WeasyPrint load only here
                from huanghe.regulator.report_sections import read_sections

                topo = _load(source)
                sections = read_sections(db, views.resolve_year(topo, year)) if db is not None else None
                path = reports.write_report(kind, topo, out, year, lang, weights, norm, sections)
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
    app.command("targets", epilog=remote.EXIT_CODES_HELP)(targets_cmd)
    app.command("green-list", epilog=remote.EXIT_CODES_HELP)(green_cmd)
    app.command("maturity", epilog=remote.EXIT_CODES_HELP)(maturity_cmd)
    app.command("network-capacity", epilog=remote.EXIT_CODES_HELP)(network_capacity_cmd)
    app.add_typer(report_app, name="report")
