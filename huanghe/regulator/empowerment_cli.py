"""``huanghe empowerment --year Y [--json]`` (算力赋能评价) and ``huanghe industry-map [--year Y]`` (算力产业图谱,
JSON), on the database directly (``--db``, see :mod:`huanghe.cli.db_access`: the operator's trusted path;
over HTTP the same figures are ``GET /api/v1/observatory/empowerment`` for the regulator and admins)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from huanghe.cli.db_access import DbOption, JsonOption, db_session

YearOpt = Annotated[int, typer.Option("--year", help="calendar year (UTC), 2000..2100")]


def _check_year(year: int | None) -> None:
    if year is not None and not 2000 <= year <= 2100:
        typer.echo("--year: must be between 2000 and 2100 (年份应在 2000-2100 之间)", err=True)
        raise typer.Exit(2)


def empowerment_cmd(year: YearOpt, db: DbOption = None, as_json: JsonOption = False) -> None:
    """算力赋能评价 Compute used, jobs, spending and vouchers by `算力+` industry, city and center kind."""
    from rich.console import Console
    from rich.table import Table

    from huanghe.regulator.empowerment import empowerment

    _check_year(year)
    with db_session(db) as session:
        ev = empowerment(session, year)
    if as_json:
        typer.echo(ev.model_dump_json())
        return
    console = Console(width=160)
    t = ev.totals
    console.print(f"{ev.title_zh} / {ev.title_en}")
    console.print(
        f"enterprises 企业 {t.enterprises} · jobs 作业 {t.jobs} · node-hours 节点时 {t.node_hours:,.1f} · "
        f"GPU-hours GPU卡时 {t.gpu_hours:,.1f} · PFLOPS-hours {t.pflops_hours:,.2f} · "
        f"spending 支出 {t.spending_cny} CNY · vouchers 算力券 {t.voucher_cny} CNY"
    )
    for title, groups in (
        ("行业 Industry", ev.by_industry),
        ("城市（算力所在中心）City of the center", ev.by_city),
        ("中心类型 Center kind", ev.by_center_kind),
    ):
        table = Table(title=title)
        for col in ("key", "名称", "name", "enterprises", "jobs", "node-h", "GPU-h", "PFLOPS-h", "share",
                    "spending CNY", "vouchers CNY"):  # fmt: skip
            table.add_column(col)
        for g in groups:
            table.add_row(g.key, g.name_zh, g.name_en, str(g.enterprises), str(g.jobs), f"{g.node_hours:,.1f}",
                          f"{g.gpu_hours:,.1f}", f"{g.pflops_hours:,.2f}", f"{g.pflops_share:.1%}",
                          str(g.spending_cny), str(g.voucher_cny))  # fmt: skip
        console.print(table)
    for note in ev.notes_zh:
        console.print(f"注：{note}")


def industry_map_cmd(
    year: Annotated[
        int | None, typer.Option("--year", help="users of this year (default: all years)")
    ] = None,
    db: DbOption = None,
) -> None:
    """算力产业图谱 Providers and users of compute by city and industry, as JSON (the console map's data)."""
    from huanghe.regulator.industry_map import industry_map

    _check_year(year)
    with db_session(db) as session:
        m = industry_map(session, year)
    typer.echo(json.dumps(m.model_dump(mode="json"), ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.command("empowerment")(empowerment_cmd)
    app.command("industry-map")(industry_map_cmd)
