"""Dependencies shared by the routers: a database session per request, THE pagination parameters
(:data:`Limit`, :data:`Offset`: every list route uses them and answers a :class:`~huanghe.core.paging.Page`),
id and text filters, and the tenant filter of list routes (:data:`TenantFilter`)."""

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

#: Attribute of ``request.state`` holding the tenant a list route must filter on (set by authorisation).
_FORCED_TENANT = "forced_tenant"


def force_tenant(request: Request, tenant_id: str) -> None:
    """Make :data:`TenantFilter` answer ``tenant_id`` for this request, whatever ``?tenant=`` says (tenant
    roles only ever list their own tenant's things; see :func:`huanghe.api.scope_rules.tenant_query`)."""
    setattr(request.state, _FORCED_TENANT, tenant_id)


def tenant_filter(request: Request, tenant: IdFilter = None) -> str | None:
    """The ``?tenant=`` filter of a list route, or the caller's own tenant when authorisation forced it."""
    forced = getattr(request.state, _FORCED_TENANT, None)
    return forced if isinstance(forced, str) else tenant


#: The ``?tenant=`` filter of list routes (see :func:`tenant_filter`).
TenantFilter = Annotated[str | None, Depends(tenant_filter)]

__all__ = [
    "DEFAULT_PAGE_LIMIT",
    "IdFilter",
    "Limit",
    "Offset",
    "SessionDep",
    "TenantFilter",
    "TextFilter",
    "force_tenant",
]
