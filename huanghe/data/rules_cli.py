"""``huanghe data rule add|list|show|rm``: replication rules of a running server (through the typed client).

Exit codes as every server command (:mod:`huanghe.cli.remote`): 0 ok, 1 refused (4xx), 2 usage error,
3 server unreachable or failing."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from huanghe.cli import remote

rule_app = typer.Typer(
    help="Replication rules: N copies of a dataset on endpoints matching an expression (副本规则).",
    epilog=remote.EXIT_CODES_HELP, no_args_is_help=True,
)  # fmt: skip
COLUMNS = ("id", "dataset", "copies", "expression", "state", "locks_ok", "locks_replicating", "locks_stuck",
           "expires_s", "reason")  # fmt: skip


def _table(items: list[dict[str, Any]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in COLUMNS:
        table.add_column(col, overflow="fold")
    for r in items:
        table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in COLUMNS))
    Console(width=200).print(table)


@rule_app.command("add")
def add_cmd(
    dataset: Annotated[str, typer.Argument(help="dataset id (NAME)")],
    copies: Annotated[int, typer.Option(help="number of copies", min=1, max=20)],
    expression: Annotated[str, typer.Option(help="endpoint expression, e.g. 'circle=jiaodong&tier=hot'")],
    lifetime: Annotated[
        float | None, typer.Option(help="seconds until the rule expires (default: never)")
    ] = None,
    grouping: Annotated[str, typer.Option(help="all: files together; none: each file on its own")] = "all",
    weight: Annotated[str | None, typer.Option(help="endpoint attribute weighting the choice")] = None,
    priority: Annotated[int, typer.Option(help="1 (lowest) .. 5 (highest)", min=1, max=5)] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="print the rule as JSON")] = False,
) -> None:
    """Add a rule; it is evaluated at once (state and reason are printed)."""
    from huanghe.client import rules

    with remote.connect() as hh:
        rule = rules.add_rule(hh, dataset, copies=copies, expression=expression, lifetime_s=lifetime,
                              grouping=grouping, weight=weight, priority=priority)  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rule, ensure_ascii=False))
        return
    typer.echo(f"rule {rule['id']} on {rule['dataset']}: {rule['state']} (规则已添加)"
               + (f" — {rule['reason']}" if rule["reason"] else ""))  # fmt: skip


@rule_app.command("list")
def list_cmd(
    dataset: Annotated[str | None, typer.Option(help="only the rules of this dataset")] = None,
    state: Annotated[str | None, typer.Option(help="replicating | ok | stuck | suspended")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the rules as JSON")] = False,
) -> None:
    """The rules you may see, each with its state (复制中/正常/卡住/暂停) and why."""
    from huanghe.client import rules

    with remote.connect() as hh:
        page = rules.list_rules(hh, dataset=dataset, state=state)
    if as_json:
        typer.echo(json.dumps(page["items"], ensure_ascii=False))
        return
    _table(page["items"], f"副本规则 Replication rules: {len(page['items'])} of {page['total']}")


@rule_app.command("show")
def show_cmd(
    rule_id: Annotated[str, typer.Argument(help="rule id")],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """One rule and its locks (file, endpoint, center, state)."""
    from huanghe.client import rules

    with remote.connect() as hh:
        rule = rules.get_rule(hh, rule_id)
        locks = rules.rule_locks(hh, rule_id)["items"]
    if as_json:
        typer.echo(json.dumps({**rule, "locks": locks}, ensure_ascii=False))
        return
    _table([rule], f"rule {rule_id}")
    for lock in locks:
        typer.echo(f"  {lock['file']}  {lock['endpoint']} ({lock['center']})  {lock['state']}")


@rule_app.command("rm")
def rm_cmd(rule_id: Annotated[str, typer.Argument(help="rule id")]) -> None:
    """Remove a rule: its copies lose this protection (the reaper may delete unprotected ones)."""
    from huanghe.client import rules

    with remote.connect() as hh:
        rules.delete_rule(hh, rule_id)
    typer.echo(f"rule {rule_id} removed (规则已删除)")


def register(app: typer.Typer) -> None:
    from huanghe.data.cli import data_app

    data_app.add_typer(rule_app, name="rule")
