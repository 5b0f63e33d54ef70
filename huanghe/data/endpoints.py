"""Storage endpoints: S3 buckets holding one storage tier (hot/warm/cold) of one center (Rucio's RSEs).

* :func:`huanghe.data.endpoint_sync.sync_endpoints` makes one endpoint per storage tier of the stored network;
  :func:`register_endpoint` adds an external one (platform admins).
* :func:`update_endpoint` (capacity, drain, custom attributes, connection), :func:`delete_endpoint` (refused
  while replicas, locks, transfers or open uploads use it).
* :func:`access_of` / :func:`store_of`: THE only way to an :class:`~huanghe.data.objects.ObjectStore` (keys
  decrypted from the secrets table; one store per endpoint kept per process).
* :func:`endpoint_records` / :func:`endpoint_table`: the attributes that replication-rule expressions select on.
* :func:`check_endpoints`: the health check step (one ping per distinct server + bucket + keys).

Object keys on an endpoint start with its id (:func:`object_key`), so endpoints may share a bucket. Sizes in
bytes, times epoch seconds from the :class:`~huanghe.core.clock.Clock` passed in.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Select, func, or_, select, union_all
from sqlalchemy.orm import Session, object_session

from huanghe.audit import service as audit
from huanghe.core.clock import Clock, WallClock
from huanghe.core.errors import FieldError, InvalidError, conflict
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.data.endpoint_schemas import (
    EndpointConnection,
    EndpointCreate,
    EndpointPublic,
    EndpointUpdate,
    HealthChange,
)
from huanghe.data.expression import EndpointTable
from huanghe.data.models import FileReplicaRow, ReplicaLockRow, StorageEndpointRow, TransferRow
from huanghe.data.objects import EndpointAccess, ObjectStore, ObjectStoreError
from huanghe.network import secrets
from huanghe.network.models import CenterRow, CityRow
from huanghe.store.base import Base
from huanghe.store.crud import check_page, commit, get_row, missing, raise_if, refuse_if_exists

#: Bytes per TB (decimal, as the topology's ``capacity_tb``).
TB = 10**12
#: Seconds a health ping may take before the endpoint counts as unreachable.
PING_TIMEOUT_S = 3.0
#: Pings run at once by one health check.
PING_WORKERS = 8
SYSTEM = "system:data-endpoints"
#: Reason of an endpoint before its first health check.
NOT_CHECKED = "not checked yet (尚未检查)"
#: Reason of a drained endpoint when none was given.
DRAINED = "drained (已下线维护)"


@dataclass(frozen=True)
class S3Server:
    """An S3 server (and bucket) endpoints are placed on; the keys are named secrets, never values."""

    url: str
    bucket: str
    access_key_secret: str | None
    secret_key_secret: str | None


def object_key(endpoint_id: str, dataset_id: str, name: str) -> str:
    """The key of a file's object on an endpoint: ``<endpoint>/<dataset>/<file name>``."""
    return f"{endpoint_id}/{dataset_id}/{name}"


# --- reading ---------------------------------------------------------------------------------------------
def _site(session: Session, center_ids: Iterable[str]) -> dict[str, tuple[str, str, str, int]]:
    """center id → (city, circle, operator, security level)."""
    ids = set(center_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(CenterRow.id, CityRow.id, CityRow.region_id, CenterRow.operator, CenterRow.security_level)
        .join(CityRow, CityRow.id == CenterRow.city_id)
        .where(CenterRow.id.in_(ids))
    )
    return {r[0]: (r[1], r[2], r[3], int(r[4])) for r in rows}


def _open_uploads_table() -> Any:
    """The uploads table when its domain module is loaded (an open upload reserves its bytes)."""
    return Base.metadata.tables.get("data_uploads")


def used_bytes(session: Session, endpoint_ids: Iterable[str] | None = None) -> dict[str, int]:
    """Bytes held per endpoint: its replicas' sizes (any state) plus open uploads' declared sizes, read in ONE
    statement (one snapshot: see :func:`huanghe.data.quotas.tenant_usage`)."""
    ids = None if endpoint_ids is None else list(endpoint_ids)
    replicas = select(FileReplicaRow.endpoint_id.label("e"), FileReplicaRow.size_bytes.label("n"))
    if ids is not None:
        replicas = replicas.where(FileReplicaRow.endpoint_id.in_(ids))
    parts: list[Any] = [replicas]
    uploads = _open_uploads_table()
    if uploads is not None:
        q = select(uploads.c.endpoint_id.label("e"), uploads.c.size_bytes.label("n")).where(
            uploads.c.state == "open"
        )
        if ids is not None:
            q = q.where(uploads.c.endpoint_id.in_(ids))
        parts.append(q)
    held = union_all(*parts).subquery()
    return {
        str(e): int(n or 0)
        for e, n in session.execute(select(held.c.e, func.sum(held.c.n)).group_by(held.c.e))
    }


def _public(
    row: StorageEndpointRow, site: tuple[str, str, str, int], used: int, *, with_connection: bool
) -> EndpointPublic:
    city, circle, operator, level = site
    connection = (
        EndpointConnection(url=row.url, bucket=row.bucket, access_key_secret=row.access_key_secret,
                           secret_key_secret=row.secret_key_secret)
        if with_connection else None
    )  # fmt: skip
    return EndpointPublic(
        id=row.id, center=row.center_id, city=city, circle=circle, temperature=row.temperature,
        medium=row.medium, operator=operator, security_level=level, capacity_bytes=row.capacity_bytes,
        used_bytes=used, free_bytes=max(0, row.capacity_bytes - used), available=row.available and not row.drained,
        healthy=row.available, drained=row.drained, reason=row.reason, checked_s=row.checked_s,
        attributes=dict(row.attributes or {}), created_s=row.created_s, connection=connection,
    )  # fmt: skip


def _publics(
    session: Session, rows: list[StorageEndpointRow], *, with_connection: bool
) -> list[EndpointPublic]:
    sites = _site(session, {r.center_id for r in rows})
    used = used_bytes(session, [r.id for r in rows])
    return [
        _public(
            r, sites.get(r.center_id, ("", "", "", 0)), used.get(r.id, 0), with_connection=with_connection
        )
        for r in rows
    ]


def _filtered(center: str | None, temperature: str | None, available: bool | None) -> Select[Any]:
    stmt = select(StorageEndpointRow)
    if center is not None:
        stmt = stmt.where(StorageEndpointRow.center_id == center)
    if temperature is not None:
        stmt = stmt.where(StorageEndpointRow.temperature == temperature)
    if available is True:
        stmt = stmt.where(StorageEndpointRow.available.is_(True), StorageEndpointRow.drained.is_(False))
    elif available is False:
        stmt = stmt.where(or_(StorageEndpointRow.available.is_(False), StorageEndpointRow.drained.is_(True)))
    return stmt


def list_endpoints(
    session: Session,
    *,
    center: str | None = None,
    temperature: str | None = None,
    available: bool | None = None,
    with_connection: bool = False,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> Page[EndpointPublic]:
    """Endpoints by id; ``available`` filters on usable (healthy and not drained) or not.
    ``with_connection`` (platform admins only) adds URL, bucket and secret names."""
    check_page(limit, offset)
    stmt = _filtered(center, temperature, available)
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = list(session.scalars(stmt.order_by(StorageEndpointRow.id).limit(limit).offset(offset)))
    items = _publics(session, rows, with_connection=with_connection)
    return Page[EndpointPublic](items=items, total=total, limit=limit, offset=offset)


def get_endpoint(session: Session, endpoint_id: str, *, with_connection: bool = False) -> EndpointPublic:
    row = get_row(session, StorageEndpointRow, endpoint_id, "storage endpoint")
    return _publics(session, [row], with_connection=with_connection)[0]


def center_of_endpoint(session: Session, endpoint_id: str) -> str:
    """The center holding endpoint ``endpoint_id`` (:class:`NotFoundError` when there is none)."""
    return get_row(session, StorageEndpointRow, endpoint_id, "storage endpoint").center_id


# --- writing ---------------------------------------------------------------------------------------------
def _check_refs(session: Session, center: str | None, names: Mapping[str, str | None]) -> None:
    errors = missing(session, CenterRow, center, "center", "center")
    errors += secrets.missing_secrets(session, {k: v for k, v in names.items() if v is not None}, "body")
    raise_if([FieldError(e.path.removeprefix("body."), e.message) for e in errors])


def register_endpoint(
    session: Session, body: EndpointCreate, *, clock: Clock | None = None, actor: str = SYSTEM,
    check: bool = True,
) -> EndpointPublic:  # fmt: skip
    """Register an external S3 endpoint (platform admins); with ``check``, pinged at once (``available``
    and ``reason`` then say whether it answers). 409 when the id exists; 422 naming unknown center/secrets."""
    now_s = (clock or WallClock()).now_s()
    refuse_if_exists(session, StorageEndpointRow, body.id, "storage endpoint")
    _check_refs(session, body.center, {"access_key_secret": body.access_key_secret,
                                       "secret_key_secret": body.secret_key_secret})  # fmt: skip
    row = StorageEndpointRow(
        id=body.id, center_id=body.center, temperature=body.temperature.value, medium=body.medium.value,
        url=body.url, bucket=body.bucket, access_key_secret=body.access_key_secret,
        secret_key_secret=body.secret_key_secret, capacity_bytes=body.capacity_bytes, used_bytes=0,
        available=False, drained=False, reason=NOT_CHECKED, checked_s=None,
        attributes=dict(body.attributes), created_s=now_s,
    )  # fmt: skip
    session.add(row)
    audit.record(session, actor, "storage_endpoint.register", row.id,
                 body.model_dump(mode="json", exclude={"attributes"}), now=now_s)  # fmt: skip
    commit(session)
    if check:
        _check_rows(session, [row], now_s, actor)
    return get_endpoint(session, row.id, with_connection=True)


#: Fields of :class:`EndpointUpdate` that say where the platform connects (admins only).
CONNECTION_FIELDS = ("url", "bucket", "access_key_secret", "secret_key_secret")


def update_endpoint(
    session: Session, endpoint_id: str, patch: EndpointUpdate, *, clock: Clock | None = None,
    actor: str = SYSTEM,
) -> EndpointPublic:  # fmt: skip
    """Change capacity, drain state (with ``reason``), custom attributes or the connection; audited."""
    row = get_row(session, StorageEndpointRow, endpoint_id, "storage endpoint")
    changes = patch.model_dump(exclude_unset=True)
    _check_refs(session, None, {k: changes.get(k) for k in ("access_key_secret", "secret_key_secret")})
    for key in ("url", "bucket", "capacity_bytes"):
        if key in changes and changes[key] is None:
            raise InvalidError([FieldError(key, "may not be null")])
    if "drained" in changes and changes["drained"] is None:
        raise InvalidError([FieldError("drained", "may not be null")])
    now_s = (clock or WallClock()).now_s()
    for key, value in changes.items():
        if key == "reason":
            continue
        setattr(row, key, dict(value) if key == "attributes" else value)
    if "drained" in changes or "reason" in changes:
        row.reason = changes.get("reason") or (DRAINED if row.drained else "")
    if set(changes) & set(CONNECTION_FIELDS):
        forget_store(endpoint_id)
    audit.record(session, actor, "storage_endpoint.update", endpoint_id,
                 {k: v for k, v in changes.items() if k != "attributes"} | (
                     {"attributes": sorted(changes["attributes"])} if "attributes" in changes else {}),
                 now=now_s)  # fmt: skip
    commit(session)
    return get_endpoint(session, endpoint_id, with_connection=True)


def _count(session: Session, stmt: Any) -> int:
    return int(session.scalar(stmt) or 0)


def delete_endpoint(
    session: Session, endpoint_id: str, *, clock: Clock | None = None, actor: str = SYSTEM
) -> None:
    """Delete an endpoint; refused (409) while replicas, replica locks, transfers or open uploads name it."""
    row = get_row(session, StorageEndpointRow, endpoint_id, "storage endpoint")
    users = {
        "replicas": _count(session, select(func.count()).where(FileReplicaRow.endpoint_id == endpoint_id)),
        "replica locks": _count(
            session, select(func.count()).where(ReplicaLockRow.endpoint_id == endpoint_id)
        ),
        "transfers": _count(session, select(func.count()).where(TransferRow.dest_endpoint_id == endpoint_id)),
    }
    uploads = _open_uploads_table()
    if uploads is not None:
        users["uploads"] = _count(session, select(func.count()).select_from(uploads)
                                  .where(uploads.c.endpoint_id == endpoint_id))  # fmt: skip
    used = {k: n for k, n in users.items() if n}
    if used:
        what = ", ".join(f"{n} {k}" for k, n in used.items())
        raise conflict("", f"storage endpoint {endpoint_id!r} still holds {what}: move or delete them first "
                           "(端点仍有数据)")  # fmt: skip
    session.delete(row)
    audit.record(
        session, actor, "storage_endpoint.delete", endpoint_id, {}, now=(clock or WallClock()).now_s()
    )
    commit(session)
    forget_store(endpoint_id)


# --- access ----------------------------------------------------------------------------------------------
_stores: dict[tuple[str, float], tuple[EndpointAccess, ObjectStore]] = {}
_stores_lock = threading.Lock()


def _access(
    session: Session, url: str, bucket: str, access_name: str | None, secret_name: str | None
) -> EndpointAccess:
    names = {"access_key_secret": access_name, "secret_key_secret": secret_name}
    keys = secrets.resolve_settings(session, {k: v for k, v in names.items() if v})
    return EndpointAccess(url, bucket, keys.get("access_key", ""), keys.get("secret_key", ""))


def access_of(row: StorageEndpointRow, session: Session | None = None) -> EndpointAccess:
    """Where and how to reach ``row``'s bucket, keys decrypted from the secrets table (never log them).
    :class:`~huanghe.network.secrets.SecretKeyError` without the key; an unknown secret gives an empty key
    (the endpoint then refuses: ``denied``)."""
    s = session or object_session(row)
    if s is None:
        raise ValueError(f"storage endpoint {row.id!r} is not attached to a session")
    return _access(s, row.url, row.bucket, row.access_key_secret, row.secret_key_secret)


def access_of_server(session: Session, server: S3Server) -> EndpointAccess:
    """The access to a server's bucket with its keys read from the secrets (to create the bucket)."""
    return _access(session, server.url, server.bucket, server.access_key_secret, server.secret_key_secret)


def _cached_store(endpoint_id: str, access: EndpointAccess, timeout_s: float) -> ObjectStore:
    with _stores_lock:
        hit = _stores.get((endpoint_id, timeout_s))
        if hit is not None and hit[0] == access:
            return hit[1]
        store = ObjectStore(access, timeout_s=timeout_s)
        _stores[(endpoint_id, timeout_s)] = (access, store)
        return store


def store_of(session: Session, endpoint_id: str, *, timeout_s: float = 10.0) -> ObjectStore:
    """The object store of an endpoint (kept per process; rebuilt when its connection or keys change).
    :class:`NotFoundError` for an unknown endpoint."""
    row = get_row(session, StorageEndpointRow, endpoint_id, "storage endpoint")
    return _cached_store(endpoint_id, access_of(row, session), timeout_s)


def forget_store(endpoint_id: str) -> None:
    """Drop the cached stores of an endpoint (its connection changed or it was deleted)."""
    with _stores_lock:
        for key in [k for k in _stores if k[0] == endpoint_id]:
            del _stores[key]


# --- attributes for rule expressions ---------------------------------------------------------------------
def endpoint_records(session: Session) -> list[dict[str, Any]]:
    """One dict per endpoint (by id): ``id, center, city, circle, tier, medium, operator, security_level,
    free_bytes`` (capacity − used, bytes), ``available`` (``"true"``/``"false"``: healthy and not drained),
    then its custom attributes (built-in keys win)."""
    rows = list(session.scalars(select(StorageEndpointRow).order_by(StorageEndpointRow.id)))
    sites = _site(session, {r.center_id for r in rows})
    used = used_bytes(session)
    out = []
    for r in rows:
        city, circle, operator, level = sites.get(r.center_id, ("", "", "", 0))
        builtin = {
            "id": r.id, "center": r.center_id, "city": city, "circle": circle, "tier": r.temperature,
            "medium": r.medium, "operator": operator, "security_level": level,
            "free_bytes": max(0, r.capacity_bytes - used.get(r.id, 0)),
            "available": "true" if r.available and not r.drained else "false",
        }  # fmt: skip
        out.append({**dict(r.attributes or {}), **builtin})
    return out


def endpoint_table(session: Session) -> EndpointTable:
    """:func:`endpoint_records` as the columns rule expressions are evaluated on."""
    return EndpointTable.from_records(endpoint_records(session))


def available_mask(table: EndpointTable) -> np.ndarray:
    """Bool per endpoint of ``table``: usable (healthy and not drained)."""
    col = table.column("available")
    return np.zeros(len(table), dtype=bool) if col is None else np.asarray(col == "true", dtype=bool)


# --- health ----------------------------------------------------------------------------------------------
def _ping(access: EndpointAccess, key: str) -> str:
    """'' when the bucket answers, else why not (without the server's address)."""
    store = _cached_store(f"ping:{key}", access, PING_TIMEOUT_S)
    try:
        why = store.ping()
    except ObjectStoreError as exc:  # pragma: no cover - ping() returns its errors
        why = str(exc)
    return "" if why is None else why.replace(store.where, "the endpoint's bucket")


def _check_rows(
    session: Session, rows: list[StorageEndpointRow], now_s: float, actor: str
) -> list[HealthChange]:
    groups: dict[tuple[str, str, str, str], list[StorageEndpointRow]] = {}
    failures: dict[tuple[str, str, str, str], str] = {}
    for row in rows:
        try:
            access = access_of(row, session)
        except secrets.SecretKeyError as exc:
            failures[(row.url, row.bucket, "", row.id)] = f"keys unreadable: {exc.errors[0].message}"
            groups.setdefault((row.url, row.bucket, "", row.id), []).append(row)
            continue
        key = (row.url, row.bucket, access.access_key, access.secret_key)
        groups.setdefault(key, []).append(row)
    todo = [k for k in groups if k not in failures]
    with ThreadPoolExecutor(max_workers=min(PING_WORKERS, max(1, len(todo)))) as pool:
        answers = pool.map(lambda k: _ping(EndpointAccess(*k), f"{k[0]}/{k[1]}/{k[2]}"), todo)
        failures.update({k: why for k, why in zip(todo, answers, strict=True) if why})
    changes = []
    for key, members in groups.items():
        why = failures.get(key, "")
        healthy = not why
        for row in members:
            if healthy != row.available or (not healthy and why != row.reason):
                changes.append(HealthChange(id=row.id, healthy=healthy, reason=why))
            if not healthy:
                row.reason = why
            elif not row.drained:
                row.reason = ""
            elif not row.available:  # back from a failure while drained: the failure no longer holds
                row.reason = DRAINED
            row.available, row.checked_s = healthy, now_s
    audit.record_many(session, [audit.Entry(actor, "storage_endpoint.health", c.id,
                                            {"healthy": c.healthy, "reason": c.reason}) for c in changes],
                      now=now_s)  # fmt: skip
    commit(session)
    return changes


def check_endpoints(session: Session, clock: Clock, *, actor: str = SYSTEM) -> list[HealthChange]:
    """The health check step: ping every endpoint (once per distinct server, bucket and keys), set
    ``available`` / ``reason`` / ``checked_s``, refresh ``used_bytes`` from the replicas; the endpoints whose
    health changed (each audited)."""
    rows = list(session.scalars(select(StorageEndpointRow).order_by(StorageEndpointRow.id)))
    used = used_bytes(session)
    for row in rows:
        row.used_bytes = used.get(row.id, 0)
    return _check_rows(session, rows, clock.now_s(), actor)


def require_endpoint(session: Session, endpoint_id: str, path: str = "endpoint") -> StorageEndpointRow:
    """The endpoint row, or a 422 naming ``path`` (for bodies naming an endpoint)."""
    row = session.get(StorageEndpointRow, endpoint_id)
    if row is None:
        raise InvalidError([FieldError(path, f"unknown storage endpoint {endpoint_id!r}")])
    return row
