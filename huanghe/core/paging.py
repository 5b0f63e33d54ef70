"""One page of a list: the :class:`Page` schema every list answers with, and the bounds of ``?limit=`` and
``?offset=``. Queries that fill a page live in :mod:`huanghe.store.crud`."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

#: Bounds of ``?limit=`` on every list endpoint.
MAX_PAGE_LIMIT = 1000


DEFAULT_PAGE_LIMIT = 100


#: Upper bound of ``?offset=`` (keeps the value inside a 32-bit integer on every database).
MAX_PAGE_OFFSET = 1_000_000_000


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items`` from ``offset`` on, at most ``limit`` of them; ``total`` matches all."""

    items: list[T]
    total: int = Field(ge=0)
    limit: int = Field(ge=1, le=MAX_PAGE_LIMIT)
    offset: int = Field(ge=0)
