"""``huanghe audit verify`` (exit 1 naming the first bad record) and ``audit export --format csv|json [--out]``,
on the database directly (``--db``, see :mod:`huanghe.cli.db_access`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from huanghe.audit import service as audit
from huanghe.cli.db_access import (
    DbOption,
    JsonOption,
    db_session,
    fail,
)

audit_app = typer.Typer(help="The audit trail: verify the hash chain, export (审计).", no_args_is_help=True)


# --- audit -----------------------------------------------------------------------------------------------
@audit_app.command("verify")
def verify_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Check the hash chain; exit 1 naming the first edited, deleted or reordered record."""
    with db_session(db) as session:
        result = audit.verify(session)
    if as_json:
        typer.echo(json.dumps(result.__dict__))
    elif result.ok:
        typer.echo(f"audit chain intact (审计链完整): {result.checked} records")
    else:
        typer.echo(
            f"audit chain BROKEN (审计链被篡改) at record {result.first_bad}: {result.reason}", err=True
        )
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def export_cmd(
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "json",
    out: Annotated[Path | None, typer.Option(help="write to this file instead of stdout")] = None,
    db: DbOption = None,
) -> None:
    """Export the whole trail for regulators (审计导出)."""
    if fmt not in ("csv", "json"):
        raise fail(f"--format: expected csv or json, not {fmt!r}", 2)
    with db_session(db) as session:
        text = audit.export(session, fmt)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"--out: cannot write {out}: {exc.strerror}") from None
    typer.echo(f"wrote {out}", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
