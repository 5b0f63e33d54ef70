"""``huanghe alerts list|ack|resolve``: the alerts of a running server, through
:class:`huanghe.client.HuangheClient`.

The server is ``$HUANGHE_URL`` (default ``http://127.0.0.1:8000``); ``$HUANGHE_TOKEN``, when set, is sent as
``Authorization: Bearer``. Exit codes as every server command (:mod:`huanghe.cli.remote`: 1 refused, 2 usage,
3 server unreachable or failing).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from huanghe.cli import remote
from huanghe.client import HuangheClient
from huanghe.client.types import Alert

#: Time limit of one request, seconds.
TIMEOUT_S = 10.0

alerts_app = typer.Typer(
    help="告警 Alerts of the running platform (PUE jump, utilisation, latency circles, storage).",
    epilog="Exit codes: 0 ok; 1 refused by the server (4xx); 2 usage error; "
    "3 server unreachable or failing (5xx). Server: $HUANGHE_URL (token: $HUANGHE_TOKEN).",
)


@contextmanager
def client() -> Iterator[HuangheClient]:
    """A client of ``$HUANGHE_URL``; failures exit with a message (see :mod:`huanghe.cli.remote`)."""
    with remote.connect(timeout_s=TIMEOUT_S) as c:
        yield c


def _print_alerts(items: list[Alert], total: int, state: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"告警 Alerts ({state or 'all'}): {len(items)} of {total}")
    for col in (
        "id",
        "state 状态",
        "rule 规则",
        "subject 对象",
        "value",
        "threshold",
        "opened (UTC)",
        "message 说明",
    ):
        table.add_column(col, overflow="fold")
    for a in items:
        table.add_row(str(a["id"]), a["state"], a["rule"], a["subject"], f"{a['value']:.3f}", f"{a['threshold']:.3f}",
                      str(a["opened_at"])[:19], a["message"])  # fmt: skip
    Console(width=160).print(table)


@alerts_app.command("list")
def list_cmd(
    state: str | None = typer.Option(None, "--state", help="open | acknowledged | resolved"),
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
) -> None:
    """List alerts, newest first (列出告警)."""
    if state is not None and state not in ("open", "acknowledged", "resolved"):
        typer.echo(f"--state: must be open, acknowledged or resolved, not {state!r}", err=True)
        raise typer.Exit(2)
    with client() as c:
        page = c.list_alerts(state or None, limit)
    if as_json:
        typer.echo(json.dumps(page["items"], ensure_ascii=False, indent=2))
        return
    _print_alerts(page["items"], page["total"], state)


def _transition(action: str, alert_id: int, as_json: bool) -> None:
    with client() as c:
        alert = c.ack_alert(alert_id) if action == "ack" else c.resolve_alert(alert_id)
    if as_json:
        typer.echo(json.dumps(alert, ensure_ascii=False, indent=2))
    else:
        typer.echo(f"alert {alert['id']} {alert['rule']} {alert['subject']}: {alert['state']}")


@alerts_app.command("ack")
def ack_cmd(
    alert_id: int = typer.Argument(..., min=1, help="alert id"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Acknowledge an open alert (确认告警)."""
    _transition("ack", alert_id, as_json)


@alerts_app.command("resolve")
def resolve_cmd(
    alert_id: int = typer.Argument(..., min=1, help="alert id"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Resolve an alert by hand (关闭告警)."""
    _transition("resolve", alert_id, as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
