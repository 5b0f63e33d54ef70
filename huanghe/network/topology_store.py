"""The whole stored network as one topology document: export, import (merge or replace), summary.

``import_topology`` upserts every region, city, center, pool and link of the document in one transaction,
keeping file order in ``position``; with ``replace=True`` it deletes what the document no longer has
(refused while datasets or jobs still use it). ``export_topology(import_topology(t)) == t``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huanghe.core.errors import ConflictError, FieldError, InvalidError, NotFoundError, ServiceError, conflict
from huanghe.domain.network import Link, Topology
from huanghe.network import rows as network_rows
from huanghe.network.models import CenterRow, CityRow, LinkRow, NetworkRow, PoolRow, RegionRow
from huanghe.network.schemas import (
    ImportSummary,
)
from huanghe.network.service import _centers_query, check_backend_settings
from huanghe.store.base import Base
from huanghe.store.crud import R, commit, next_position

DEFAULT_NETWORK_NAME = "huanghe"


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
            "regions": [network_rows.region_dict(r) for r in regions],
            "cities": [network_rows.city_dict(c) for c in cities],
            "centers": [network_rows.center_dict(c) for c in centers],
            "links": [network_rows.link_dict(li) for li in links],
        }
    )


class _Positions:
    """Positions for upserted rows: the file index when replacing, else kept / appended after the last."""

    def __init__(self, session: Session, column: Any, replace: bool) -> None:
        self.replace = replace
        self.next = 0 if replace else next_position(session, column)

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
    """Refuse a replacing import that would remove a center holding datasets or storage endpoints."""
    keep = {c.id for c in topo.centers}
    errors: list[FieldError] = []
    # the data domain's tables, named (it sits above us)
    for table, what in (("datasets", "dataset"), ("storage_endpoints", "storage endpoint")):
        rows = Base.metadata.tables.get(table)
        if rows is None:
            continue
        used = session.execute(select(rows.c.center_id, rows.c.id).where(rows.c.center_id.not_in(keep)))
        errors += [
            FieldError("centers", f"center {center!r} would be removed but {what} {ident!r} is stored there")
            for center, ident in used
        ]
    if errors:
        raise ConflictError(errors)


def import_from_api(
    session: Session, topo: Topology, *, replace: bool = True, dry_run: bool = False
) -> ImportSummary:
    """:func:`import_topology` of a document sent to the API: every pool's ``backend_settings`` must pass
    :mod:`huanghe.network.connection_rules` and name stored secrets (422 naming each path) first.
    ``dry_run``: every check of a real import, nothing stored (see :func:`import_topology`)."""
    errors: list[FieldError] = []
    for i, center in enumerate(topo.centers):
        for j, pool in enumerate(center.pools):
            try:
                check_backend_settings(
                    session, pool.backend_settings, f"centers[{i}].pools[{j}].backend_settings"
                )
            except InvalidError as exc:
                errors.extend(exc.errors)
    if errors:
        raise InvalidError(errors)
    return import_topology(session, topo, replace=replace, dry_run=dry_run)


def import_topology(
    session: Session, topo: Topology, *, replace: bool = True, dry_run: bool = False
) -> ImportSummary:
    """Store ``topo``. ``replace``: the network becomes exactly ``topo`` (objects not in it are deleted);
    else merge: objects of ``topo`` are created or updated, others are kept. Ids stay stable, so rows of
    other tables that reference centers or pools survive an import that keeps them. One transaction.
    ``dry_run``: the same checks and writes (the database's constraints included), then the transaction is
    rolled back: the answer says what would be stored, nothing is."""
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
    if dry_run:
        session.rollback()
    else:
        commit(session)
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
        network_rows.apply_region(_upsert(session, RegionRow, region.id, pos, i), region)
    session.flush()
    pos = _Positions(session, CityRow.position, replace)
    for i, city in enumerate(topo.cities):
        network_rows.apply_city(_upsert(session, CityRow, city.id, pos, i), city)
    session.flush()
    pos = _Positions(session, CenterRow.position, replace)
    for i, center in enumerate(topo.centers):
        network_rows.apply_center(_upsert(session, CenterRow, center.id, pos, i), center)
    session.flush()
    pos = _Positions(session, PoolRow.position, replace)
    for i, (center, pool) in enumerate(topo.pools()):
        network_rows.apply_pool(_upsert(session, PoolRow, pool.id, pos, i), pool, center.id)
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
        network_rows.apply_link(row, link)
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
    kinds = ("regions", "cities", "centers", "pools", "links", "tenants", "users", "datasets")
    tables = Base.metadata.tables  # by name: tenants, users and datasets belong to domains above this one
    return {
        k: int(session.scalar(select(func.count()).select_from(tables[k])) or 0) if k in tables else 0
        for k in kinds
    }
