"""Helpers every domain service uses over its rows: commit with path-named conflicts, get-or-404, checks
of references, merged PATCH validation, "refuse while used", and the one way to fill a :class:`Page`.

No domain knowledge here: callers pass the row class, the kind for messages and the statements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huanghe.core.errors import FieldError, InvalidError, NotFoundError, conflict, from_validation_error
from huanghe.core.paging import MAX_PAGE_LIMIT, MAX_PAGE_OFFSET, Page
from huanghe.store.base import Base

T = TypeVar("T")
R = TypeVar("R", bound=Base)


P = TypeVar("P", bound=BaseModel)


M = TypeVar("M", bound=BaseModel)


def commit(session: Session) -> None:
    """Commit; a constraint violation becomes a ConflictError (the session is rolled back)."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "constraint violated"
        raise conflict("", f"conflicts with stored data: {detail}") from None


def get_row(session: Session, row_cls: type[R], ident: str | int, kind: str) -> R:
    row = session.get(row_cls, ident)
    if row is None:
        raise NotFoundError(kind, ident)
    return row


def check_page(limit: int, offset: int) -> None:
    errors = []
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        errors.append(FieldError("limit", f"must be between 1 and {MAX_PAGE_LIMIT}"))
    if not 0 <= offset <= MAX_PAGE_OFFSET:
        errors.append(FieldError("offset", f"must be between 0 and {MAX_PAGE_OFFSET}"))
    if errors:
        raise InvalidError(errors)


def page_of(
    session: Session,
    stmt: Select[R],
    order: Sequence[Any],
    limit: int,
    offset: int,
    to: Callable[[R], P],
) -> Page[P]:
    check_page(limit, offset)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = session.scalars(stmt.order_by(*order).limit(limit).offset(offset)).all()
    return Page[P](items=[to(r) for r in items], total=total, limit=limit, offset=offset)


def next_position(session: Session, position_col: Any) -> int:
    return int(session.scalar(select(func.coalesce(func.max(position_col), -1))) or 0) + 1


def missing(
    session: Session, row_cls: type[Base], ident: str | None, path: str, kind: str
) -> list[FieldError]:
    """[] when ``ident`` is None or exists, else one error naming ``path``."""
    if ident is None or session.get(row_cls, ident) is not None:
        return []
    return [FieldError(path, f"unknown {kind} {ident!r}")]


def raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidError(errors)


#: Nested objects a PATCH changes field by field (other values, lists and mappings, are replaced whole).
MERGED_OBJECTS = frozenset({"energy", "peak_tflops_per_node"})


def merged(model: type[M], current: dict[str, Any], patch: BaseModel) -> M:
    """Validate ``current`` overlaid with the fields set in ``patch`` as ``model``."""
    data = dict(current)
    for key, value in patch.model_dump(mode="json", exclude_unset=True).items():
        if key in MERGED_OBJECTS and isinstance(value, dict) and isinstance(data.get(key), dict):
            value = {**data[key], **value}
        data[key] = value
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidError(from_validation_error(exc)) from None


def refuse_if_used(session: Session, count_stmt: Any, what: str, ident: str, users: str) -> None:
    n = session.scalar(count_stmt) or 0
    if n:
        raise conflict("", f"{what} {ident!r} is still used by {n} {users}; delete or move them first")


def refuse_if_referenced(session: Session, table: str, column: str, ident: str, what: str) -> None:
    """Refuse (409) to delete ``what`` ``ident`` while rows of another domain's ``table`` point at it through
    ``column``. The table is named, not imported, so a lower domain (the network) needs no import of the
    domains above it (data, jobs); its foreign key (``ondelete="RESTRICT"``) is the last line of defence."""
    t = Base.metadata.tables.get(table)
    if t is None:  # that domain's models are not loaded in this process: nothing of it can exist
        return
    refuse_if_used(
        session, select(func.count()).select_from(t).where(t.c[column] == ident), what, ident, table
    )


def count_where(where: Any) -> Any:
    return select(func.count()).where(where)


def filtered(query: Select[Any], equal: dict[Any, Any]) -> Select[Any]:
    """``query`` with ``column == value`` for each entry whose value is not None."""
    for column, value in equal.items():
        if value is not None:
            query = query.where(column == value)
    return query


def paged(
    session: Session, query: Select[Any], *order_by: Any, limit: int, offset: int
) -> tuple[list[Any], int]:
    """(rows of the page, total count of the query)."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(*order_by).limit(limit).offset(offset))), int(total)
