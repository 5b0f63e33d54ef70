"""Network use cases: regions, cities, centers (with storage tiers), pools and links.

Every function takes an open :class:`~sqlalchemy.orm.Session`; writes commit before returning (the service
owns the transaction) and roll back on failure. Results are public schemas (:mod:`huanghe.network.schemas`)
or domain models, never ORM rows. Errors are :mod:`huanghe.core.errors` with path-named problems: unknown
object → ``NotFoundError``; duplicate id or still referenced → ``ConflictError``; reference to something
that does not exist, or a value out of bounds → ``InvalidError``.

Lists are ordered by file position then id and paginated with ``limit`` (1..1000) and ``offset`` (>= 0).
Deleting a center refuses when a dataset's primary copy is there. Pools' ``backend_settings`` written here obey
:mod:`huanghe.network.connection_rules` (validated URLs, no literal credential, files only from the credentials
directory) and their ``*_secret`` keys must name stored secrets (:mod:`huanghe.network.secrets`) → 422."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from huanghe.core.errors import ConflictError, FieldError, InvalidError, conflict
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.domain.enums import CenterKind, CenterTier
from huanghe.domain.network import Center, City, Link, Region
from huanghe.network import rows as network_rows
from huanghe.network import secrets
from huanghe.network.connection_rules import exporter_problems, settings_problems
from huanghe.network.models import CenterRow, CityRow, LinkRow, PoolRow, RegionRow
from huanghe.network.schemas import (
    CenterCreate,
    CenterPublic,
    CenterUpdate,
    CityCreate,
    CityPublic,
    CityUpdate,
    LinkCreate,
    LinkPublic,
    LinkUpdate,
    PoolCreate,
    PoolPublic,
    PoolUpdate,
    RegionCreate,
    RegionPublic,
    RegionUpdate,
)
from huanghe.store.crud import (
    commit,
    count_where,
    get_row,
    merged,
    missing,
    next_position,
    page_of,
    raise_if,
    refuse_if_exists,
    refuse_if_referenced,
    refuse_if_used,
)


def list_regions(session: Session, *, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0) -> Page[RegionPublic]:
    return page_of(
        session,
        select(RegionRow),
        (RegionRow.position, RegionRow.id),
        limit,
        offset,
        network_rows.region_public,
    )


def get_region(session: Session, region_id: str) -> RegionPublic:
    return network_rows.region_public(get_row(session, RegionRow, region_id, "region"))


def create_region(session: Session, data: RegionCreate) -> RegionPublic:
    refuse_if_exists(session, RegionRow, data.id, "region")
    row = RegionRow(position=next_position(session, RegionRow.position))
    network_rows.apply_region(row, data)
    session.add(row)
    commit(session)
    return network_rows.region_public(row)


def update_region(session: Session, region_id: str, patch: RegionUpdate) -> RegionPublic:
    row = get_row(session, RegionRow, region_id, "region")
    network_rows.apply_region(row, merged(Region, network_rows.region_dict(row), patch))
    commit(session)
    return network_rows.region_public(row)


def delete_region(session: Session, region_id: str) -> None:
    row = get_row(session, RegionRow, region_id, "region")
    refuse_if_used(session, count_where(CityRow.region_id == region_id), "region", region_id, "cities")
    session.delete(row)
    commit(session)


def list_cities(
    session: Session, *, region: str | None = None, limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0
) -> Page[CityPublic]:
    stmt = select(CityRow)
    if region is not None:
        stmt = stmt.where(CityRow.region_id == region)
    return page_of(session, stmt, (CityRow.position, CityRow.id), limit, offset, network_rows.city_public)


def get_city(session: Session, city_id: str) -> CityPublic:
    return network_rows.city_public(get_row(session, CityRow, city_id, "city"))


def create_city(session: Session, data: CityCreate) -> CityPublic:
    refuse_if_exists(session, CityRow, data.id, "city")
    raise_if(missing(session, RegionRow, data.region, "region", "region"))
    row = CityRow(position=next_position(session, CityRow.position))
    network_rows.apply_city(row, data)
    session.add(row)
    commit(session)
    return network_rows.city_public(row)


def update_city(session: Session, city_id: str, patch: CityUpdate) -> CityPublic:
    row = get_row(session, CityRow, city_id, "city")
    city = merged(City, network_rows.city_dict(row), patch)
    raise_if(missing(session, RegionRow, city.region, "region", "region"))
    network_rows.apply_city(row, city)
    commit(session)
    return network_rows.city_public(row)


def delete_city(session: Session, city_id: str) -> None:
    row = get_row(session, CityRow, city_id, "city")
    refuse_if_used(session, count_where(CenterRow.city_id == city_id), "city", city_id, "centers")
    session.delete(row)
    commit(session)


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
    return page_of(
        session, stmt, (CenterRow.position, CenterRow.id), limit, offset, network_rows.center_public
    )


def get_center(session: Session, center_id: str) -> CenterPublic:
    return network_rows.center_public(get_row(session, CenterRow, center_id, "center"))


def count_centers(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(CenterRow)) or 0)


def check_backend_settings(session: Session, settings: dict[str, str], path: str) -> None:
    """:class:`InvalidError` (422) naming ``<path>.<key>`` for settings the API does not accept."""
    errors = settings_problems(settings, path) + secrets.missing_secrets(session, settings, path)
    if errors:
        raise InvalidError(errors)


def create_center(session: Session, data: CenterCreate) -> CenterPublic:
    """Create a center and the pools given inline."""
    refuse_if_exists(session, CenterRow, data.id, "center")
    raise_if(missing(session, CityRow, data.city, "city", "city"))
    raise_if(exporter_problems(data.exporters))
    for i, pool in enumerate(data.pools):
        check_backend_settings(session, pool.backend_settings, f"pools[{i}].backend_settings")
    seen: set[str] = set()
    dupes = []
    for i, pool in enumerate(data.pools):
        if pool.id in seen or session.get(PoolRow, pool.id) is not None:
            dupes.append(FieldError(f"pools[{i}].id", f"pool {pool.id!r} already exists"))
        seen.add(pool.id)
    if dupes:
        raise ConflictError(dupes)
    row = CenterRow(position=next_position(session, CenterRow.position))
    network_rows.apply_center(row, data)
    session.add(row)
    session.flush()
    base = next_position(session, PoolRow.position)
    for i, pool in enumerate(data.pools):
        prow = PoolRow(position=base + i)
        network_rows.apply_pool(prow, pool, data.id)
        session.add(prow)
    commit(session)
    session.refresh(row)
    return network_rows.center_public(row)


def update_center(session: Session, center_id: str, patch: CenterUpdate) -> CenterPublic:
    row = get_row(session, CenterRow, center_id, "center")
    center = merged(Center, network_rows.center_dict(row), patch)
    raise_if(missing(session, CityRow, center.city, "city", "city"))
    if "exporters" in patch.model_fields_set:
        raise_if(exporter_problems(center.exporters))
    network_rows.apply_center(row, center)
    commit(session)
    return network_rows.center_public(row)


def delete_center(session: Session, center_id: str) -> None:
    """Delete a center with its pools, storage tiers and links; refused while datasets or storage endpoints
    live there."""
    row = get_row(session, CenterRow, center_id, "center")
    refuse_if_referenced(session, "datasets", "center_id", center_id, "center")
    refuse_if_referenced(session, "storage_endpoints", "center_id", center_id, "center")
    session.delete(row)
    commit(session)


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
    return page_of(session, stmt, (PoolRow.position, PoolRow.id), limit, offset, network_rows.pool_public)


def get_pool(session: Session, pool_id: str) -> PoolPublic:
    return network_rows.pool_public(get_row(session, PoolRow, pool_id, "pool"))


def center_of_pool(session: Session, pool_id: str) -> str:
    """The center pool ``pool_id`` is in; :class:`NotFoundError` when there is no such pool."""
    return get_row(session, PoolRow, pool_id, "pool").center_id


def create_pool(session: Session, data: PoolCreate) -> PoolPublic:
    refuse_if_exists(session, PoolRow, data.id, "pool")
    raise_if(missing(session, CenterRow, data.center, "center", "center"))
    check_backend_settings(session, data.backend_settings, "backend_settings")
    row = PoolRow(position=next_position(session, PoolRow.position))
    network_rows.apply_pool(row, data, data.center)
    session.add(row)
    commit(session)
    return network_rows.pool_public(row)


def update_pool(session: Session, pool_id: str, patch: PoolUpdate) -> PoolPublic:
    row = get_row(session, PoolRow, pool_id, "pool")
    pool = merged(PoolCreate, {**network_rows.pool_dict(row), "center": row.center_id}, patch)
    raise_if(missing(session, CenterRow, pool.center, "center", "center"))
    if "backend_settings" in patch.model_fields_set:
        check_backend_settings(session, pool.backend_settings, "backend_settings")
    network_rows.apply_pool(row, pool, pool.center)
    commit(session)
    return network_rows.pool_public(row)


def delete_pool(session: Session, pool_id: str) -> None:
    session.delete(get_row(session, PoolRow, pool_id, "pool"))
    commit(session)


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
    return page_of(session, stmt, (LinkRow.position, LinkRow.id), limit, offset, network_rows.link_public)


def get_link(session: Session, link_id: int) -> LinkPublic:
    return network_rows.link_public(get_row(session, LinkRow, link_id, "link"))


def create_link(session: Session, data: LinkCreate) -> LinkPublic:
    errors = missing(session, CenterRow, data.a, "a", "center") + missing(
        session, CenterRow, data.b, "b", "center"
    )
    if data.a == data.b:
        errors.append(FieldError("b", "a link must join two different centers"))
    raise_if(errors)
    if _link_between(session, data.a, data.b) is not None:
        raise conflict("b", f"a link {data.a}–{data.b} already exists")
    row = LinkRow(position=next_position(session, LinkRow.position))
    network_rows.apply_link(row, data)
    session.add(row)
    commit(session)
    return network_rows.link_public(row)


def update_link(session: Session, link_id: int, patch: LinkUpdate) -> LinkPublic:
    row = get_row(session, LinkRow, link_id, "link")
    network_rows.apply_link(row, merged(Link, network_rows.link_dict(row), patch))
    commit(session)
    return network_rows.link_public(row)


def delete_link(session: Session, link_id: int) -> None:
    session.delete(get_row(session, LinkRow, link_id, "link"))
    commit(session)
