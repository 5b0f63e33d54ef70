"""What the commands that work on the database directly share: the ``--db`` and ``--json`` options, a
session on the migrated database (service errors become messages and exit 1), input validated with the API's
models (problems name the option, exit 2), tables or JSON out, and the audit actor ``cli:<$USER>``.

Direct database access is the operator's local, trusted path (whoever can reach the database is already an
administrator); the same operations over HTTP go through the API and its authorisation.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session

from huanghe.core.errors import ServiceError
from huanghe.settings import Settings
from huanghe.store.db import make_session_factory
from huanghe.store.migrate import migrate

JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
T = TypeVar("T")
DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLAlchemy database URL (default: $HUANGHE_DATABASE_URL or the SQLite file)"),
]


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValueError as exc:
        typer.echo(f"invalid settings (配置无效): {exc}", err=True)
        raise typer.Exit(2) from None


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


def migrate_or_exit(url: str) -> None:
    try:
        migrate(url)
    except (ArgumentError, SQLAlchemyError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        typer.echo(f"cannot open or migrate the database {safe_url(url)} (数据库不可用): {first}", err=True)
        raise typer.Exit(1) from None


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@contextmanager
def db_session(db: str | None) -> Iterator[Session]:
    """A session on the migrated database; service errors become messages and exit 1."""
    url = settings_or_exit(database_url=db).database_url
    migrate_or_exit(url)
    factory = make_session_factory(url)
    try:
        with factory() as session:
            yield session
    except ServiceError as exc:
        typer.echo(f"refused (被拒绝): {len(exc.errors)} problem(s)", err=True)
        for err in exc.errors:
            typer.echo(f"  {err}", err=True)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise fail(f"database error (数据库错误): {first}") from None
    finally:
        factory.kw["bind"].dispose()


def option_of(loc: Sequence[int | str], options: Mapping[str, str] | None = None) -> str:
    """The CLI option a validation error's ``loc`` names: ``options`` maps a model field to its option when the
    names differ (``{"sectors": "--sector"}``, a repeated option); an item of a list is told by its position
    (``("sectors", 1)`` → ``--sector (value 2)``); otherwise the field's name as an option (``--valid-until``)."""
    if not loc:
        return "input"
    head, *rest = loc
    name = (options or {}).get(str(head)) or f"--{str(head).replace('_', '-')}"
    for part in rest:
        name += f" (value {part + 1})" if isinstance(part, int) else f".{part}"
    return name


def build(model: type[T], options: Mapping[str, str] | None = None, **fields: Any) -> T:
    """Validate CLI input with the API's model; problems name the option (see :func:`option_of`), exit 2."""
    try:
        return model(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        for err in exc.errors():
            typer.echo(f"{option_of(err['loc'], options)}: {err['msg']}", err=True)
        raise typer.Exit(2) from None


def emit(items: Sequence[BaseModel], columns: Sequence[str], as_json: bool, title: str) -> None:
    records = [item.model_dump(mode="json") for item in items]
    if as_json:
        typer.echo(json.dumps(records, ensure_ascii=False, indent=1))
        return
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for rec in records:
        table.add_row(
            *(", ".join(map(str, v)) if isinstance(v, list) else str(v) for v in (rec[c] for c in columns))
        )
    Console().print(table)


def parse_decimal(value: str, option: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise fail(f"{option}: not a decimal number: {value!r}", 2) from None


def parse_date(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise fail(
            f"{option}: expected an ISO date like 2026-12-31 or 2026-12-31T23:59:59Z: {value!r}", 2
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
