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


def refuse_if_exists(session: Session, row_cls: type[Base], ident: str, kind: str) -> None:
    """Refuse (409 at ``id``) to create ``kind`` ``ident`` when a row of ``row_cls`` already has that id."""
    if session.get(row_cls, ident) is not None:
        raise conflict("id", f"{kind} {ident!r} already exists")


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
    stmt: Select[*tuple[Any, ...]],
    order: Sequence[Any],
    limit: int,
    offset: int,
    to: Callable[[Any], P],
    *,
    keep: Callable[[Any], bool] | None = None,
) -> Page[P]:
    """THE way every list fills its :class:`Page`: the rows of ``stmt`` in ``order`` from ``offset`` on, at most
    ``limit`` of them, each turned into its public schema by ``to``; ``total`` counts every match.

    A statement selecting one entity gives ``to`` the row object; one selecting several (a join) gives it the
    tuple. ``keep`` filters rows in Python when visibility cannot be expressed in SQL (then every match is
    read to count them). Bounds outside ``1..MAX_PAGE_LIMIT`` / ``0..MAX_PAGE_OFFSET`` → InvalidError."""
    check_page(limit, offset)

    def rows(query: Select[*tuple[Any, ...]]) -> list[Any]:
        result = session.execute(query)
        return list(result.scalars() if len(stmt.column_descriptions) == 1 else result.all())

    if keep is not None:
        kept = [r for r in rows(stmt.order_by(*order)) if keep(r)]
        items, total = kept[offset : offset + limit], len(kept)
    else:
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        items = rows(stmt.order_by(*order).limit(limit).offset(offset))
    return Page[P](items=[to(r) for r in items], total=total, limit=limit, offset=offset)


def every_item(fetch: Callable[[int, int], Page[P]]) -> list[P]:
    """Every item of a list, page after page: ``fetch(limit, offset)`` is a list function (the CLI's
    "all of them", which no single page may hold)."""
    items: list[P] = []
    while True:
        page = fetch(MAX_PAGE_LIMIT, len(items))
        items.extend(page.items)
        if not page.items or len(items) >= page.total:
            return items


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
