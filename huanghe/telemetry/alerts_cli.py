"""``huanghe alerts list|ack|resolve``: the alerts of a running server, over HTTP.

The server is ``$HUANGHE_URL`` (default ``http://127.0.0.1:8000``); ``$HUANGHE_TOKEN``, when set, is sent as
``Authorization: Bearer``. An unreachable server or a refused call is a one-line message and exit code 1.
"""

from __future__ import annotations

import json
import os
from typing import Any

import typer

alerts_app = typer.Typer(
    help="告警 Alerts of the running platform (PUE jump, utilisation, latency circles, storage)."
)
DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 10.0


def server_url() -> str:
    return os.environ.get("HUANGHE_URL", "").strip().rstrip("/") or DEFAULT_URL


def call(method: str, path: str, params: dict[str, Any] | None = None) -> Any:
    """One API call; exits with a clear message when the server is unreachable or refuses."""
    import httpx

    url = server_url()
    headers = {"Accept": "application/json"}
    token = os.environ.get("HUANGHE_TOKEN", "").strip()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = httpx.request(method, f"{url}{path}", params=params, headers=headers, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        typer.echo(
            f"cannot reach the Huanghe server at {url} (服务器不可达): {type(exc).__name__}: {exc}", err=True
        )
        typer.echo("start it with `huanghe up`, or set HUANGHE_URL", err=True)
        raise typer.Exit(1) from None
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", [])
            problems = (
                [f"{d.get('path') or '-'}: {d.get('message')}" for d in detail]
                if isinstance(detail, list)
                else [str(detail)]
            )
        except (ValueError, AttributeError):
            problems = [response.text.strip()[:200]]
        typer.echo(f"error {response.status_code} (请求被拒绝): " + "; ".join(problems), err=True)
        raise typer.Exit(1)
    return response.json()


def _print_alerts(items: list[dict[str, Any]], total: int, state: str | None) -> None:
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
    params: dict[str, Any] = {"limit": limit}
    if state:
        params["state"] = state
    page = call("GET", "/api/v1/alerts", params)
    if as_json:
        typer.echo(json.dumps(page["items"], ensure_ascii=False, indent=2))
        return
    _print_alerts(page["items"], page["total"], state)


def _transition(action: str, alert_id: int, as_json: bool) -> None:
    alert = call("POST", f"/api/v1/alerts/{alert_id}:{action}")
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
