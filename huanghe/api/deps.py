"""Dependencies shared by the routers: a database session per request, pagination parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from huanghe.core.paging import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, MAX_PAGE_OFFSET
from huanghe.domain.network import ID_PATTERN


def get_session(request: Request) -> Iterator[Session]:
    """One session per request from ``app.state.session_factory``; closed after the response."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_LIMIT, description="page size, 1..1000")]
Offset = Annotated[int, Query(ge=0, le=MAX_PAGE_OFFSET, description="items to skip")]
#: An optional id filter (``?city=jinan``): the id syntax of the domain.
IdFilter = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)]
#: An optional free-text filter (exact match), printable text only.
TextFilter = Annotated[str | None, Query(pattern=r"^[^\x00-\x1f]*$", max_length=200)]

__all__ = ["DEFAULT_PAGE_LIMIT", "IdFilter", "Limit", "Offset", "SessionDep", "TextFilter"]
