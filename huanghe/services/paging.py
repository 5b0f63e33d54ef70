"""One page of a filtered query: used by the list functions of tenancy, billing, vouchers and audit."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from huanghe.services.schemas import Page

T = TypeVar("T")


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


def as_page(result: tuple[list[T], int], limit: int, offset: int) -> Page[T]:
    """The API page of a (items, total) result."""
    items, total = result
    return Page(items=items, total=total, limit=limit, offset=offset)
