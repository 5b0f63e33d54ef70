"""``huanghe admin create-token|list-tokens|revoke-token``: API tokens, on the database directly (``--db``).

The first admin token at first start is made here (printed once, stored hashed). See :mod:`huanghe.cli.db_access`."""

from __future__ import annotations

from typing import Annotated

import typer

from huanghe.audit import service as audit
from huanghe.cli.db_access import (
    DbOption,
    JsonOption,
    actor,
    build,
    db_session,
    emit,
)
from huanghe.domain.tenancy import Role, Scope
from huanghe.store.crud import every_item
from huanghe.tenancy import tokens as auth

admin_app = typer.Typer(help="Platform administration: API tokens (平台管理).", no_args_is_help=True)


# --- admin -----------------------------------------------------------------------------------------------
@admin_app.command("create-token")
def create_token(
    role: Annotated[Role, typer.Option(help="admin, regulator, operator, tenant_admin, tenant_user")],
    name: Annotated[str, typer.Option(help="who or what uses the token")] = "admin",
    tenant: Annotated[str | None, typer.Option(help="tenant id (tenant roles)")] = None,
    center: Annotated[list[str] | None, typer.Option(help="center id (operators; repeat)")] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="scope read only")] = False,
    expires_days: Annotated[
        float | None, typer.Option(help="lifetime in days (default: none)", min=0.001)
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token and print it ONCE (令牌只显示一次); only its SHA-256 is stored."""
    body = build(
        auth.TokenCreate, name=name, role=role, tenant=tenant, centers=center or [],
        scopes=[Scope.READ] if read_only else [Scope.READ, Scope.WRITE],
        expires_in_s=None if expires_days is None else expires_days * 86400,
    )  # fmt: skip
    with db_session(db) as session:
        created = auth.create_token(session, body)
        audit.record(
            session, actor(), "token.create", str(created.id), {"role": created.role.value, "name": name}
        )
        session.commit()
    if as_json:
        typer.echo(created.model_dump_json())
        return
    typer.echo(created.token)
    typer.echo(
        f"token {created.id} ({created.role.value}) created; store it now, it is not shown again (请妥善保存)",
        err=True,
    )


@admin_app.command("list-tokens")
def list_tokens_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List tokens (never their secret)."""
    with db_session(db) as session:
        items = every_item(lambda limit, offset: auth.list_tokens(session, limit=limit, offset=offset))
    emit(
        items,
        ["id", "name", "prefix", "role", "tenant", "centers", "scopes", "revoked_s"],
        as_json,
        "API tokens",
    )


@admin_app.command("revoke-token")
def revoke_token_cmd(token_id: Annotated[int, typer.Argument(min=1)], db: DbOption = None) -> None:
    """Revoke a token at once."""
    with db_session(db) as session:
        auth.revoke_token(session, token_id)
        audit.record(session, actor(), "token.revoke", str(token_id), {})
        session.commit()
    typer.echo(f"token {token_id} revoked (已吊销)")


def register(app: typer.Typer) -> None:
    app.add_typer(admin_app, name="admin")
