"""``huanghe risk list|trace|ack|assign|resolve``: security risk alerts of a running server and their handling
(风险预警与处置), through the typed client. Exit codes as every server command (:mod:`huanghe.cli.remote`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from huanghe.cli import remote

risk_app = typer.Typer(help="风险监测 Security risk alerts: list, trace, acknowledge, assign, resolve.",
                       epilog=remote.EXIT_CODES_HELP, no_args_is_help=True)  # fmt: skip
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]


def _print(items: list[dict[str, Any]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in (
        "id",
        "kind 类型",
        "severity 级别",
        "state 状态",
        "owner 负责人",
        "events",
        "subject 对象",
        "message 说明",
    ):
        table.add_column(col, overflow="fold")
    for a in items:
        table.add_row(str(a["id"]), a["kind"], a["severity"], a["state"], a["owner"], str(a["events"]), a["subject"],
                      a["message"])  # fmt: skip
    Console(width=180).print(table)


@risk_app.command("list")
def list_cmd(
    state: Annotated[str | None, typer.Option(help="open | acknowledged | resolved")] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            help="auth_failures | refused_requests | residency_refusal | data_class_lowered | egress_anomaly | "
            "audit_chain_break"
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Risk alerts, newest first."""
    from huanghe.client import risk

    with remote.connect() as hh:
        page = risk.list_risk_alerts(hh, state=state, kind=kind)
    if as_json:
        typer.echo(json.dumps(page["items"], ensure_ascii=False))
        return
    _print(page["items"], f"风险预警 Risk alerts: {len(page['items'])} of {page['total']}")


@risk_app.command("trace")
def trace_cmd(alert_id: Annotated[int, typer.Argument(help="alert id")], as_json: JsonOpt = False) -> None:
    """The evidence behind an alert: its security events and the audit records (溯源)."""
    from huanghe.client import risk

    with remote.connect() as hh:
        tr = risk.risk_trace(hh, alert_id)
    if as_json:
        typer.echo(json.dumps(tr, ensure_ascii=False))
        return
    _print([tr["alert"]], f"alert {alert_id}")
    for e in tr["events"]:
        typer.echo(
            f"  event {e['kind']} ×{e['count']} at {e['t_s']:.0f}: {e['source']} {e['actor']} {e['subject']}"
        )
    for r in tr["audit"]:
        typer.echo(f"  audit #{r['seq']} {r['at']} {r['actor']} {r['action']} {r['subject']}")


@risk_app.command("ack")
def ack_cmd(alert_id: Annotated[int, typer.Argument(help="alert id")]) -> None:
    """Take an alert (you become its owner unless one was assigned)."""
    from huanghe.client import risk

    with remote.connect() as hh:
        a = risk.ack_risk_alert(hh, alert_id)
    typer.echo(f"alert {alert_id}: {a['state']}, owner {a['owner']} (已确认)")


@risk_app.command("assign")
def assign_cmd(alert_id: Annotated[int, typer.Argument(help="alert id")],
               owner: Annotated[str, typer.Option(help="who handles it")]) -> None:  # fmt: skip
    """Give an alert to an owner."""
    from huanghe.client import risk

    with remote.connect() as hh:
        a = risk.assign_risk_alert(hh, alert_id, owner)
    typer.echo(f"alert {alert_id}: owner {a['owner']} (已指派)")


@risk_app.command("resolve")
def resolve_cmd(alert_id: Annotated[int, typer.Argument(help="alert id")],
                note: Annotated[str, typer.Option(help="what was found and done (处置说明)")]) -> None:  # fmt: skip
    """Close an alert with a note."""
    from huanghe.client import risk

    with remote.connect() as hh:
        a = risk.resolve_risk_alert(hh, alert_id, note)
    typer.echo(f"alert {alert_id}: {a['state']} by {a['resolved_by']} (已处置)")


def register(app: typer.Typer) -> None:
    app.add_typer(risk_app, name="risk")
