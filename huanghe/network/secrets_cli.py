"""``huanghe secrets list|put|delete|keygen``: back-end credentials of a running server (platform admins),
through :class:`huanghe.client.HuangheClient`.

A value is never a command-line argument (other users of the host see arguments in ``ps``): ``put`` reads it
from a file (``--from-file``) or from standard input. The server is ``$HUANGHE_URL``; ``$HUANGHE_TOKEN`` must
be an admin's. Exit codes as every server command (:mod:`huanghe.cli.remote`: 1 refused, 2 usage, 3 server
unreachable or failing).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from huanghe.cli import remote

#: Time limit of one request, seconds.
TIMEOUT_S = 10.0

secrets_app = typer.Typer(
    help="后端凭据 Back-end credentials (admins): stored encrypted, named by pools' *_secret settings.",
    epilog="Exit codes: 0 ok; 1 refused by the server (4xx); 2 usage error; "
    "3 server unreachable or failing (5xx). Server: $HUANGHE_URL (token: $HUANGHE_TOKEN).",
)


@secrets_app.command("list")
def list_secrets(as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False) -> None:
    """Stored secrets: name, description, pools naming it (never a value)."""
    with remote.connect(timeout_s=TIMEOUT_S) as client:
        items = client.secrets()
    if as_json:
        typer.echo(json.dumps([s.model_dump() for s in items], ensure_ascii=False, indent=2))
        return
    for s in items:
        typer.echo(f"{s.name}\t{s.description}\tused by: {', '.join(s.used_by) or '-'}")


@secrets_app.command("put")
def put_secret(
    name: Annotated[str, typer.Argument(help="secret name (^[a-z0-9][a-z0-9._-]*$)")],
    from_file: Annotated[
        Path | None, typer.Option("--from-file", help="read the value from this file (else: standard input)")
    ] = None,
    description: Annotated[str, typer.Option(help="what it is for (no secret here)")] = "",
) -> None:
    """Create or rotate a secret; the value (one trailing newline stripped) comes from a file or stdin."""
    try:
        raw = from_file.read_text() if from_file is not None else sys.stdin.read()
    except OSError as exc:
        typer.echo(f"error: cannot read {from_file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    value = raw.removesuffix("\n")
    if not value:
        typer.echo("error: empty value", err=True)
        raise typer.Exit(2)
    with remote.connect(timeout_s=TIMEOUT_S) as client:
        stored = client.put_secret(name, value, description)
    typer.echo(f"stored {stored.name} (encrypted; used by: {', '.join(stored.used_by) or '-'})")


@secrets_app.command("delete")
def delete_secret(name: Annotated[str, typer.Argument(help="secret name")]) -> None:
    """Delete a secret (refused while a pool names it)."""
    with remote.connect(timeout_s=TIMEOUT_S) as client:
        client.delete_secret(name)
    typer.echo(f"deleted {name}")


@secrets_app.command("keygen")
def keygen() -> None:
    """Print a new key for HUANGHE_SECRET_KEY (keep it outside the database and its backups)."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


def register(app: typer.Typer) -> None:
    app.add_typer(secrets_app, name="secrets")
