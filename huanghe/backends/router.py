"""``/api/v1/backends``: what each back-end can run (capabilities with reasons). Public: no pool settings.

Thin: see :mod:`huanghe.backends.describe`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from huanghe.api.deps import DEFAULT_PAGE_LIMIT, Limit, Offset
from huanghe.backends import describe
from huanghe.backends.registry import UnknownBackendError
from huanghe.backends.schemas import BackendPublic
from huanghe.core.errors import NotFoundError
from huanghe.core.paging import Page

router = APIRouter(tags=["backends"])
Name = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]*$", max_length=32)]


@router.get("/backends", response_model=Page[BackendPublic])
def list_backends(limit: Limit = DEFAULT_PAGE_LIMIT, offset: Offset = 0) -> Page[BackendPublic]:
    """Every registered back-end with what it can and cannot run."""
    items = describe.describe_all()
    return Page[BackendPublic](
        items=items[offset : offset + limit], total=len(items), limit=limit, offset=offset
    )


@router.get("/backends/{name}", response_model=BackendPublic)
def get_backend(name: Name) -> BackendPublic:
    """One back-end; an unknown name answers 404."""
    try:
        return describe.describe(name)
    except UnknownBackendError:
        raise NotFoundError("back-end", name) from None
