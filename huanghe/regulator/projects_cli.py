"""``huanghe projects list|file|advance``: the key new-infrastructure project registry (新基建重点项目库), on
the database directly (``--db``, see :mod:`huanghe.cli.db_access`), acting as the platform admin."""

from __future__ import annotations

from typing import Annotated

import typer

from huanghe.cli.db_access import (
    DbOption,
    JsonOption,
    build,
    db_session,
    emit,
    parse_decimal,
)
from huanghe.domain.tenancy import ProjectStatus, Role
from huanghe.regulator import projects
from huanghe.store.crud import every_item
from huanghe.tenancy import tokens as auth

projects_app = typer.Typer(help="Key new-infrastructure projects (新基建重点项目库).", no_args_is_help=True)


# --- projects --------------------------------------------------------------------------------------------
PROJECT_COLUMNS = ["id", "name", "operator", "centers", "investment_cny", "status"]


CLI_ADMIN = auth.Principal(name="cli", role=Role.ADMIN)


@projects_app.command("list")
def list_projects_cmd(
    status: ProjectStatus | None = None, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Projects, optionally of one status."""
    with db_session(db) as session:
        items = every_item(
            lambda limit, offset: projects.list_projects(
                session, by=CLI_ADMIN, status=status, limit=limit, offset=offset
            )
        )
    emit(items, PROJECT_COLUMNS, as_json, "key projects (重点项目)")


@projects_app.command("file")
def file_project_cmd(
    project_id: Annotated[str, typer.Option("--id", help="project id")],
    name: Annotated[str, typer.Option(help="project name")],
    operator: Annotated[str, typer.Option(help="operating company")],
    center: Annotated[list[str], typer.Option(help="center id (repeat)")],
    investment_cny: Annotated[str, typer.Option(help="investment, CNY")] = "0",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """File (备案) a project."""
    body = build(
        projects.ProjectCreate, id=project_id, name=name, operator=operator, centers=center,
        investment_cny=parse_decimal(investment_cny, "--investment-cny"),
    )  # fmt: skip
    with db_session(db) as session:
        p = projects.create(session, body, by=CLI_ADMIN)
    emit([p], PROJECT_COLUMNS, as_json, "project filed (已备案)")


@projects_app.command("advance")
def advance_project_cmd(
    project_id: str, to: Annotated[ProjectStatus, typer.Option(help="the next status")], db: DbOption = None
) -> None:
    """Move a project one step (filed → reviewed → approved → building → operating)."""
    with db_session(db) as session:
        p = projects.transition(session, project_id, to, by=CLI_ADMIN)
    typer.echo(f"project {p.id}: {p.status.value}")


def register(app: typer.Typer) -> None:
    app.add_typer(projects_app, name="projects")
