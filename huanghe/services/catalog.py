"""Catalog use cases: the network (regions, cities, centers, pools, links), tenants, users and datasets.

Every function takes an open :class:`~sqlalchemy.orm.Session`; writes commit before returning (the service
owns the transaction) and roll back on failure. Results are public schemas (``huanghe.services.schemas``)
or domain models, never ORM rows. Errors are :mod:`huanghe.services.errors` with path-named problems:
unknown object → ``NotFoundError``; duplicate id or still referenced → ``ConflictError``; reference to
something that does not exist, or a value out of bounds → ``InvalidError``.

Lists are ordered by file position then id and paginated with ``limit`` (1..1000) and ``offset`` (>= 0).
Datasets' ``replicas`` / ``allowed_centers`` are checked when written, but deleting a center only refuses
when a dataset's primary copy is there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from huanghe.catalog.errors import FieldError, from_validation_error
from huanghe.domain.enums import CenterKind, CenterTier, DataClass
from huanghe.domain.jobs import Dataset, Tenant, User
from huanghe.domain.network import Center, City, Link, Region, Topology
from huanghe.services import catalog_rows as rows
from huanghe.services.errors import ConflictError, InvalidError, NotFoundError, ServiceError, conflict
from huanghe.services.schemas import (
    DEFAULT_PAGE_LIMIT,
    MAX_PAGE_LIMIT,
    MAX_PAGE_OFFSET,
    CenterCreate,
    CenterPublic,
    CenterUpdate,
    CityCreate,
    CityPublic,
    CityUpdate,
    DatasetCreate,
    DatasetPublic,
    DatasetUpdate,
    ImportSummary,
    LinkCreate,
    LinkPublic,
    LinkUpdate,
    Page,
    PoolCreate,
    PoolPublic,
    PoolUpdate,
    RegionCreate,
    RegionPublic,
    RegionUpdate,
    TenantCreate,
    TenantPublic,
    TenantUpdate,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from huanghe.store.base import Base
from huanghe.store.models_catalog import (
    CenterRow,
    CityRow,
    DatasetRow,
    LinkRow,
    NetworkRow,
    PoolRow,
    RegionRow,
    TenantRow,
    UserRow,
)

R = TypeVar("R", bound=Base)
P = TypeVar("P", bound=BaseModel)
M = TypeVar("M", bound=BaseModel)

DEFAULT_NETWORK_NAME = "huanghe"

# --- helpers ---------------------------------------------------------------------------------------------


def _commit(session: Session) -> None:
    """Commit; a constraint violation becomes a ConflictError (the session is rolled back)."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "constraint violated"
        raise conflict("", f"conflicts with stored data: {detail}") from None


def _get(session: Session, row_cls: type[R], ident: str | int, kind: str) -> R:
    row = session.get(row_cls, ident)
    if row is None:
        raise NotFoundError(kind, ident)
    return row


def _check_page(limit: int, offset: int) -> None:
    errors = []
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        errors.append(FieldError("limit", f"must be between 1 and {MAX_PAGE_LIMIT}"))
    if not 0 <= offset <= MAX_PAGE_OFFSET:
        errors.append(FieldError("offset", f"must be between 0 and {MAX_PAGE_OFFSET}"))
    if errors:
        raise InvalidError(errors)


def _page(
    session: Session,
    stmt: Select[R],
    order: Sequence[Any],
    limit: int,
    offset: int,
    to: Callable[[R], P],
) -> Page[P]:
    _check_page(limit, offset)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = session.scalars(stmt.order_by(*order).limit(limit).offset(offset)).all()
    return Page[P](items=[to(r) for r in items], total=total, limit=limit, offset=offset)


def _next_position(session: Session, position_col: Any) -> int:
    return int(session.scalar(select(func.coalesce(func.max(position_col), -1))) or 0) + 1


def _missing(
    session: Session, row_cls: type[Base], ident: str | None, path: str, kind: str
) -> list[FieldError]:
    """[] when ``ident`` is None or exists, else one error naming ``path``."""
    if ident is None or session.get(row_cls, ident) is not None:
        return []
    return [FieldError(path, f"unknown {kind} {ident!r}")]


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidError(errors)


#: Nested objects a PATCH changes field by field (other values, lists and mappings, are replaced whole).
MERGED_OBJECTS = frozenset({"energy", "peak_tflops_per_node"})


def _merged(model: type[M], current: dict[str, Any], patch: BaseModel) -> M:
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


def _refuse_if_used(session: Session, count_stmt: Any, what: str, ident: str, users: str) -> None:
    n = session.scalar(count_stmt) or 0
    if n:
        raise conflict("", f"{what} {ident!r} is still used by {n} {users}; delete or move them first")


def _count(where: Any) -> Any:
    return select(func.count()).where(where)


# --- regions ---------------------------------------------------------------------------------------------


def list_regions(session: Session, *, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0) -> Page[RegionPublic]:
    return _page(
        session, select(RegionRow), (RegionRow.position, RegionRow.id), limit, offset, rows.region_public
    )


def get_region(session: Session, region_id: str) -> RegionPublic:
    return rows.region_public(_get(session, RegionRow, region_id, "region"))


def create_region(session: Session, data: RegionCreate) -> RegionPublic:
    if session.get(RegionRow, data.id) is not None:
        raise conflict("id", f"region {data.id!r} already exists")
    row = RegionRow(position=_next_position(session, RegionRow.position))
    rows.apply_region(row, data)
    session.add(row)
    _commit(session)
    return rows.region_public(row)


def update_region(session: Session, region_id: str, patch: RegionUpdate) -> RegionPublic:
    row = _get(session, RegionRow, region_id, "region")
    rows.apply_region(row, _merged(Region, rows.region_dict(row), patch))
    _commit(session)
    return rows.region_public(row)


def delete_region(session: Session, region_id: str) -> None:
    row = _get(session, RegionRow, region_id, "region")
    _refuse_if_used(session, _count(CityRow.region_id == region_id), "region", region_id, "cities")
    session.delete(row)
    _commit(session)


# --- cities ----------------------------------------------------------------------------------------------


def list_cities(
    session: Session, *, region: str | None = None, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0
) -> Page[CityPublic]:
    stmt = select(CityRow)
    if region is not None:
        stmt = stmt.where(CityRow.region_id == region)
    return _page(session, stmt, (CityRow.position, CityRow.id), limit, offset, rows.city_public)


def get_city(session: Session, city_id: str) -> CityPublic:
    return rows.city_public(_get(session, CityRow, city_id, "city"))


def create_city(session: Session, data: CityCreate) -> CityPublic:
    if session.get(CityRow, data.id) is not None:
        raise conflict("id", f"city {data.id!r} already exists")
    _raise_if(_missing(session, RegionRow, data.region, "region", "region"))
    row = CityRow(position=_next_position(session, CityRow.position))
    rows.apply_city(row, data)
    session.add(row)
    _commit(session)
    return rows.city_public(row)


def update_city(session: Session, city_id: str, patch: CityUpdate) -> CityPublic:
    row = _get(session, CityRow, city_id, "city")
    city = _merged(City, rows.city_dict(row), patch)
    _raise_if(_missing(session, RegionRow, city.region, "region", "region"))
    rows.apply_city(row, city)
    _commit(session)
    return rows.city_public(row)


def delete_city(session: Session, city_id: str) -> None:
    row = _get(session, CityRow, city_id, "city")
    _refuse_if_used(session, _count(CenterRow.city_id == city_id), "city", city_id, "centers")
    session.delete(row)
    _commit(session)


# --- centers ---------------------------------------------------------------------------------------------


def _centers_query() -> Select[CenterRow]:
    return select(CenterRow).options(selectinload(CenterRow.storage), selectinload(CenterRow.pools))


def list_centers(
    session: Session,
    *,
    city: str | None = None,
    region: str | None = None,
    tier: CenterTier | None = None,
    kind: CenterKind | None = None,
    operator: str | None = None,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> Page[CenterPublic]:
    """Centers with their pools; filters combine with AND (``region`` goes through the center's city)."""
    stmt = _centers_query()
    if city is not None:
        stmt = stmt.where(CenterRow.city_id == city)
    if region is not None:
        stmt = stmt.where(CenterRow.city_id.in_(select(CityRow.id).where(CityRow.region_id == region)))
    if tier is not None:
        stmt = stmt.where(CenterRow.tier == CenterTier(tier).value)
    if kind is not None:
        stmt = stmt.where(CenterRow.kind == CenterKind(kind).value)
    if operator is not None:
        stmt = stmt.where(CenterRow.operator == operator)
    return _page(session, stmt, (CenterRow.position, CenterRow.id), limit, offset, rows.center_public)


def get_center(session: Session, center_id: str) -> CenterPublic:
    return rows.center_public(_get(session, CenterRow, center_id, "center"))


def count_centers(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(CenterRow)) or 0)


def create_center(session: Session, data: CenterCreate) -> CenterPublic:
    """Create a center and the pools given inline."""
    if session.get(CenterRow, data.id) is not None:
        raise conflict("id", f"center {data.id!r} already exists")
    _raise_if(_missing(session, CityRow, data.city, "city", "city"))
    seen: set[str] = set()
    dupes = []
    for i, pool in enumerate(data.pools):
        if pool.id in seen or session.get(PoolRow, pool.id) is not None:
            dupes.append(FieldError(f"pools[{i}].id", f"pool {pool.id!r} already exists"))
        seen.add(pool.id)
    if dupes:
        raise ConflictError(dupes)
    row = CenterRow(position=_next_position(session, CenterRow.position))
    rows.apply_center(row, data)
    session.add(row)
    session.flush()
    base = _next_position(session, PoolRow.position)
    for i, pool in enumerate(data.pools):
        prow = PoolRow(position=base + i)
        rows.apply_pool(prow, pool, data.id)
        session.add(prow)
    _commit(session)
    session.refresh(row)
    return rows.center_public(row)


def update_center(session: Session, center_id: str, patch: CenterUpdate) -> CenterPublic:
    row = _get(session, CenterRow, center_id, "center")
    center = _merged(Center, rows.center_dict(row), patch)
    _raise_if(_missing(session, CityRow, center.city, "city", "city"))
    rows.apply_center(row, center)
    _commit(session)
    return rows.center_public(row)


def delete_center(session: Session, center_id: str) -> None:
    """Delete a center with its pools, storage tiers and links; refused while datasets live there."""
    row = _get(session, CenterRow, center_id, "center")
    _refuse_if_used(session, _count(DatasetRow.center_id == center_id), "center", center_id, "datasets")
    session.delete(row)
    _commit(session)


# --- pools -----------------------------------------------------------------------------------------------


def list_pools(
    session: Session,
    *,
    center: str | None = None,
    city: str | None = None,
    region: str | None = None,
    accelerator_class: str | None = None,
    backend: str | None = None,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> Page[PoolPublic]:
    stmt = select(PoolRow)
    if center is not None:
        stmt = stmt.where(PoolRow.center_id == center)
    if city is not None or region is not None:
        centers = select(CenterRow.id).join(CityRow, CenterRow.city_id == CityRow.id)
        if city is not None:
            centers = centers.where(CityRow.id == city)
        if region is not None:
            centers = centers.where(CityRow.region_id == region)
        stmt = stmt.where(PoolRow.center_id.in_(centers))
    if accelerator_class is not None:
        stmt = stmt.where(PoolRow.accelerator_class == accelerator_class)
    if backend is not None:
        stmt = stmt.where(PoolRow.backend == backend)
    return _page(session, stmt, (PoolRow.position, PoolRow.id), limit, offset, rows.pool_public)


def get_pool(session: Session, pool_id: str) -> PoolPublic:
    return rows.pool_public(_get(session, PoolRow, pool_id, "pool"))


def create_pool(session: Session, data: PoolCreate) -> PoolPublic:
    if session.get(PoolRow, data.id) is not None:
        raise conflict("id", f"pool {data.id!r} already exists")
    _raise_if(_missing(session, CenterRow, data.center, "center", "center"))
    row = PoolRow(position=_next_position(session, PoolRow.position))
    rows.apply_pool(row, data, data.center)
    session.add(row)
    _commit(session)
    return rows.pool_public(row)


def update_pool(session: Session, pool_id: str, patch: PoolUpdate) -> PoolPublic:
    row = _get(session, PoolRow, pool_id, "pool")
    pool = _merged(PoolCreate, {**rows.pool_dict(row), "center": row.center_id}, patch)
    _raise_if(_missing(session, CenterRow, pool.center, "center", "center"))
    rows.apply_pool(row, pool, pool.center)
    _commit(session)
    return rows.pool_public(row)


def delete_pool(session: Session, pool_id: str) -> None:
    session.delete(_get(session, PoolRow, pool_id, "pool"))
    _commit(session)


# --- links -----------------------------------------------------------------------------------------------


def _link_between(session: Session, a: str, b: str) -> LinkRow | None:
    return session.scalars(
        select(LinkRow).where(
            or_((LinkRow.a_id == a) & (LinkRow.b_id == b), (LinkRow.a_id == b) & (LinkRow.b_id == a))
        )
    ).first()


def list_links(
    session: Session, *, center: str | None = None, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0
) -> Page[LinkPublic]:
    """Links; ``center`` keeps those with the center at either end."""
    stmt = select(LinkRow)
    if center is not None:
        stmt = stmt.where(or_(LinkRow.a_id == center, LinkRow.b_id == center))
    return _page(session, stmt, (LinkRow.position, LinkRow.id), limit, offset, rows.link_public)


def get_link(session: Session, link_id: int) -> LinkPublic:
    return rows.link_public(_get(session, LinkRow, link_id, "link"))


def create_link(session: Session, data: LinkCreate) -> LinkPublic:
    errors = _missing(session, CenterRow, data.a, "a", "center") + _missing(
        session, CenterRow, data.b, "b", "center"
    )
    if data.a == data.b:
        errors.append(FieldError("b", "a link must join two different centers"))
    _raise_if(errors)
    if _link_between(session, data.a, data.b) is not None:
        raise conflict("b", f"a link {data.a}–{data.b} already exists")
    row = LinkRow(position=_next_position(session, LinkRow.position))
    rows.apply_link(row, data)
    session.add(row)
    _commit(session)
    return rows.link_public(row)


def update_link(session: Session, link_id: int, patch: LinkUpdate) -> LinkPublic:
    row = _get(session, LinkRow, link_id, "link")
    rows.apply_link(row, _merged(Link, rows.link_dict(row), patch))
    _commit(session)
    return rows.link_public(row)


def delete_link(session: Session, link_id: int) -> None:
    session.delete(_get(session, LinkRow, link_id, "link"))
    _commit(session)


# --- tenants ---------------------------------------------------------------------------------------------


def list_tenants(
    session: Session, *, sector: str | None = None, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0
) -> Page[TenantPublic]:
    stmt = select(TenantRow)
    if sector is not None:
        stmt = stmt.where(TenantRow.sector == sector)
    return _page(session, stmt, (TenantRow.id,), limit, offset, rows.tenant_public)


def get_tenant(session: Session, tenant_id: str) -> TenantPublic:
    return rows.tenant_public(_get(session, TenantRow, tenant_id, "tenant"))


def create_tenant(session: Session, data: TenantCreate) -> TenantPublic:
    if session.get(TenantRow, data.id) is not None:
        raise conflict("id", f"tenant {data.id!r} already exists")
    row = TenantRow()
    rows.apply_tenant(row, data)
    session.add(row)
    _commit(session)
    return rows.tenant_public(row)


def update_tenant(session: Session, tenant_id: str, patch: TenantUpdate) -> TenantPublic:
    row = _get(session, TenantRow, tenant_id, "tenant")
    rows.apply_tenant(row, _merged(Tenant, rows.tenant_dict(row), patch))
    _commit(session)
    return rows.tenant_public(row)


def delete_tenant(session: Session, tenant_id: str) -> None:
    row = _get(session, TenantRow, tenant_id, "tenant")
    _refuse_if_used(session, _count(UserRow.tenant_id == tenant_id), "tenant", tenant_id, "users")
    _refuse_if_used(session, _count(DatasetRow.tenant_id == tenant_id), "tenant", tenant_id, "datasets")
    session.delete(row)
    _commit(session)


# --- users -----------------------------------------------------------------------------------------------


def list_users(
    session: Session,
    *,
    tenant: str | None = None,
    role: str | None = None,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> Page[UserPublic]:
    stmt = select(UserRow)
    if tenant is not None:
        stmt = stmt.where(UserRow.tenant_id == tenant)
    if role is not None:
        stmt = stmt.where(UserRow.role == role)
    return _page(session, stmt, (UserRow.id,), limit, offset, rows.user_public)


def get_user(session: Session, user_id: str) -> UserPublic:
    return rows.user_public(_get(session, UserRow, user_id, "user"))


def create_user(session: Session, data: UserCreate) -> UserPublic:
    if session.get(UserRow, data.id) is not None:
        raise conflict("id", f"user {data.id!r} already exists")
    _raise_if(_missing(session, TenantRow, data.tenant, "tenant", "tenant"))
    row = UserRow()
    rows.apply_user(row, data)
    session.add(row)
    _commit(session)
    return rows.user_public(row)


def update_user(session: Session, user_id: str, patch: UserUpdate) -> UserPublic:
    row = _get(session, UserRow, user_id, "user")
    user = _merged(User, rows.user_dict(row), patch)
    _raise_if(_missing(session, TenantRow, user.tenant, "tenant", "tenant"))
    rows.apply_user(row, user)
    _commit(session)
    return rows.user_public(row)


def delete_user(session: Session, user_id: str) -> None:
    session.delete(_get(session, UserRow, user_id, "user"))
    _commit(session)


# --- datasets --------------------------------------------------------------------------------------------


def list_datasets(
    session: Session,
    *,
    tenant: str | None = None,
    center: str | None = None,
    data_class: DataClass | None = None,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> Page[DatasetPublic]:
    stmt = select(DatasetRow)
    if tenant is not None:
        stmt = stmt.where(DatasetRow.tenant_id == tenant)
    if center is not None:
        stmt = stmt.where(DatasetRow.center_id == center)
    if data_class is not None:
        stmt = stmt.where(DatasetRow.data_class == DataClass(data_class).value)
    return _page(session, stmt, (DatasetRow.id,), limit, offset, rows.dataset_public)


def get_dataset(session: Session, dataset_id: str) -> DatasetPublic:
    return rows.dataset_public(_get(session, DatasetRow, dataset_id, "dataset"))


def _dataset_refs(session: Session, ds: Dataset) -> None:
    errors = _missing(session, TenantRow, ds.tenant, "tenant", "tenant")
    errors += _missing(session, CenterRow, ds.center, "center", "center")
    for field in ("replicas", "allowed_centers"):
        for i, ident in enumerate(getattr(ds, field)):
            errors += _missing(session, CenterRow, ident, f"{field}[{i}]", "center")
    _raise_if(errors)


def create_dataset(session: Session, data: DatasetCreate) -> DatasetPublic:
    if session.get(DatasetRow, data.id) is not None:
        raise conflict("id", f"dataset {data.id!r} already exists")
    _dataset_refs(session, data)
    row = DatasetRow()
    rows.apply_dataset(row, data)
    session.add(row)
    _commit(session)
    return rows.dataset_public(row)


def update_dataset(session: Session, dataset_id: str, patch: DatasetUpdate) -> DatasetPublic:
    row = _get(session, DatasetRow, dataset_id, "dataset")
    ds = _merged(Dataset, rows.dataset_dict(row), patch)
    _dataset_refs(session, ds)
    rows.apply_dataset(row, ds)
    _commit(session)
    return rows.dataset_public(row)


def delete_dataset(session: Session, dataset_id: str) -> None:
    session.delete(_get(session, DatasetRow, dataset_id, "dataset"))
    _commit(session)


# --- whole topology --------------------------------------------------------------------------------------


def export_topology(session: Session) -> Topology:
    """The network stored in the database as a :class:`Topology` (same order as imported).

    Raises NotFoundError when no region is stored (a topology needs at least one region and one city)."""
    regions = session.scalars(select(RegionRow).order_by(RegionRow.position, RegionRow.id)).all()
    cities = session.scalars(select(CityRow).order_by(CityRow.position, CityRow.id)).all()
    if not regions or not cities:
        raise NotFoundError("network", "", "no network stored yet: import a topology (PUT /api/v1/topology)")
    centers = session.scalars(_centers_query().order_by(CenterRow.position, CenterRow.id)).all()
    links = session.scalars(select(LinkRow).order_by(LinkRow.position, LinkRow.id)).all()
    meta = session.get(NetworkRow, 1)
    return Topology.model_validate(
        {
            "name": meta.name if meta else DEFAULT_NETWORK_NAME,
            "version": meta.version if meta else 1,
            "description": meta.description if meta else "",
            "note": meta.note if meta else "",
            "regions": [rows.region_dict(r) for r in regions],
            "cities": [rows.city_dict(c) for c in cities],
            "centers": [rows.center_dict(c) for c in centers],
            "links": [rows.link_dict(li) for li in links],
        }
    )


class _Positions:
    """Positions for upserted rows: the file index when replacing, else kept / appended after the last."""

    def __init__(self, session: Session, column: Any, replace: bool) -> None:
        self.replace = replace
        self.next = 0 if replace else _next_position(session, column)

    def __call__(self, index: int, existing: int | None) -> int:
        if self.replace:
            return index
        if existing is not None:
            return existing
        self.next += 1
        return self.next - 1


def _upsert(session: Session, row_cls: type[R], ident: str, position: _Positions, index: int) -> R:
    row = session.get(row_cls, ident)
    if row is None:
        row = row_cls()
        session.add(row)
        row.position = position(index, None)  # type: ignore[attr-defined]
    else:
        row.position = position(index, row.position)  # type: ignore[attr-defined]
    return row


def _check_replace(session: Session, topo: Topology) -> None:
    """Refuse a replacing import that would remove a center holding datasets."""
    keep = {c.id for c in topo.centers}
    used = session.execute(
        select(DatasetRow.center_id, DatasetRow.id).where(DatasetRow.center_id.not_in(keep))
    )
    errors = [
        FieldError("centers", f"center {center!r} would be removed but dataset {ds!r} is stored there")
        for center, ds in used
    ]
    if errors:
        raise ConflictError(errors)


def import_topology(session: Session, topo: Topology, *, replace: bool = True) -> ImportSummary:
    """Store ``topo``. ``replace``: the network becomes exactly ``topo`` (objects not in it are deleted);
    else merge: objects of ``topo`` are created or updated, others are kept. Ids stay stable, so rows of
    other tables that reference centers or pools survive an import that keeps them. One transaction."""
    try:
        if replace:
            _check_replace(session, topo)
        _import(session, topo, replace)
        if replace:
            _delete_absent(session, topo)
    except ServiceError:
        session.rollback()
        raise
    except IntegrityError as exc:
        session.rollback()
        raise conflict(
            "", f"the import conflicts with stored data: {str(exc.orig).splitlines()[0]}"
        ) from None
    _commit(session)
    session.expire_all()  # collections loaded before the import (e.g. a center's pools) are stale now
    return ImportSummary(
        name=topo.name,
        mode="replace" if replace else "merge",
        regions=len(topo.regions),
        cities=len(topo.cities),
        centers=len(topo.centers),
        pools=len(topo.pools()),
        links=len(topo.links),
    )


def _import(session: Session, topo: Topology, replace: bool) -> None:
    pos = _Positions(session, RegionRow.position, replace)
    for i, region in enumerate(topo.regions):
        rows.apply_region(_upsert(session, RegionRow, region.id, pos, i), region)
    session.flush()
    pos = _Positions(session, CityRow.position, replace)
    for i, city in enumerate(topo.cities):
        rows.apply_city(_upsert(session, CityRow, city.id, pos, i), city)
    session.flush()
    pos = _Positions(session, CenterRow.position, replace)
    for i, center in enumerate(topo.centers):
        rows.apply_center(_upsert(session, CenterRow, center.id, pos, i), center)
    session.flush()
    pos = _Positions(session, PoolRow.position, replace)
    for i, (center, pool) in enumerate(topo.pools()):
        rows.apply_pool(_upsert(session, PoolRow, pool.id, pos, i), pool, center.id)
    session.flush()
    _import_links(session, topo.links, replace)
    meta = session.get(NetworkRow, 1) or NetworkRow(id=1)
    meta.name, meta.version, meta.description, meta.note = (
        topo.name,
        topo.version,
        topo.description,
        topo.note,
    )
    session.add(meta)
    session.flush()


def _import_links(session: Session, links: Sequence[Link], replace: bool) -> None:
    existing = {frozenset((r.a_id, r.b_id)): r for r in session.scalars(select(LinkRow))}
    pos = _Positions(session, LinkRow.position, replace)
    for i, link in enumerate(links):
        row = existing.get(frozenset((link.a, link.b)))
        if row is None:
            row = LinkRow(position=pos(i, None))
            session.add(row)
        else:
            row.position = pos(i, row.position)
        rows.apply_link(row, link)
    session.flush()


def _delete_absent(session: Session, topo: Topology) -> None:
    pairs = {frozenset((li.a, li.b)) for li in topo.links}
    for row in session.scalars(select(LinkRow)).all():
        if frozenset((row.a_id, row.b_id)) not in pairs:
            session.delete(row)
    session.flush()
    pool_ids = [p.id for _, p in topo.pools()]
    session.execute(delete(PoolRow).where(PoolRow.id.not_in(pool_ids)))
    session.execute(delete(CenterRow).where(CenterRow.id.not_in([c.id for c in topo.centers])))
    session.execute(delete(CityRow).where(CityRow.id.not_in([c.id for c in topo.cities])))
    session.execute(delete(RegionRow).where(RegionRow.id.not_in([r.id for r in topo.regions])))
    session.flush()
    session.expire_all()


def network_summary(session: Session) -> dict[str, int]:
    """Counts of stored objects per kind (regions, cities, centers, pools, links, tenants, users, datasets)."""
    kinds: dict[str, type[Base]] = {
        "regions": RegionRow, "cities": CityRow, "centers": CenterRow, "pools": PoolRow, "links": LinkRow,
        "tenants": TenantRow, "users": UserRow, "datasets": DatasetRow,
    }  # fmt: skip
    return {k: int(session.scalar(select(func.count()).select_from(v)) or 0) for k, v in kinds.items()}
