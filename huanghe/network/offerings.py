"""The compute product catalog (《算力产品目录》): offerings operators publish on their pools.

An offering names ONE pool (its hardware is the pool's: accelerator, nodes, GPUs, memory), a price (CNY per
node-hour, kept as integer fen), an SLA (availability in percent, kept in basis points; support response in
minutes) and the data-security level it offers (1..5, the grade of 等级保护; never above its center's
``security_level`` → 422 naming ``security_level``).

States: ``draft`` → ``published`` → ``withdrawn`` (also draft → withdrawn); withdrawn is final. Only a draft
is edited; a published offering is withdrawn and a new one published, so what a tenant targeted never
changes under it (409 otherwise).

Who sees what (:class:`Viewer`): admins and the regulator every offering; an operator the published ones and
every offering on its own centers' pools; everyone else (tenants) the published ones only: another state
answers 404, as if absent. Operators write only offerings of pools in their centers (the API's scope rules,
:func:`center_of_offering`). A job may target a published offering (:func:`pool_to_target`): placement
is then confined to the offering's pool by the broker's ``offering`` filter.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huanghe.core.errors import FieldError, InvalidError, NotFoundError, conflict, invalid
from huanghe.core.paging import DEFAULT_PAGE_LIMIT, Page
from huanghe.domain.bounds import SafeLabel
from huanghe.domain.network import ID_PATTERN
from huanghe.domain.tenancy import cny_to_fen, fen_to_cny
from huanghe.network.models import CenterRow, CityRow, OfferingRow, PoolRow
from huanghe.store.crud import page_of

State = Literal["draft", "published", "withdrawn"]
STATES: tuple[str, ...] = ("draft", "published", "withdrawn")
#: allowed moves: state → states it may go to
MOVES: dict[str, frozenset[str]] = {
    "draft": frozenset({"published", "withdrawn"}),
    "published": frozenset({"withdrawn"}),
    "withdrawn": frozenset(),
}
MAX_PRICE_CNY = Decimal("10000000")


def _price(**kw: object) -> Decimal:
    return Field(
        ge=0, le=MAX_PRICE_CNY, max_digits=12, decimal_places=2, description="CNY per node-hour", **kw
    )  # type: ignore[call-overload]


def _availability(**kw: object) -> Decimal:
    return Field(ge=0, le=100, max_digits=5, decimal_places=2, description="availability, percent", **kw)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Viewer:
    """Who lists offerings: ``role`` (admin, regulator, operator, tenant_admin, tenant_user, anonymous) and,
    for an operator, its centers."""

    role: str
    center_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def sees_all(self) -> bool:
        return self.role in ("admin", "regulator")


ADMIN_VIEWER = Viewer("admin")


class OfferingCreate(BaseModel):
    """A new offering (a draft)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: str = Field(pattern=ID_PATTERN)
    pool: str = Field(pattern=ID_PATTERN)
    name_zh: SafeLabel = Field(min_length=1)
    name_en: SafeLabel = Field(min_length=1)
    description: str = Field(default="", max_length=2000)
    price_cny_per_node_hour: Decimal = _price()
    availability_pct: Decimal = _availability()
    response_minutes: int = Field(ge=1, le=10_080, description="support response time, minutes")
    security_level: int = Field(ge=1, le=5, description="data-security level offered (等保 grade 1..5)")


class OfferingUpdate(BaseModel):
    """Changed fields of a draft."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name_zh: SafeLabel | None = Field(default=None, min_length=1)
    name_en: SafeLabel | None = Field(default=None, min_length=1)
    description: str | None = Field(default=None, max_length=2000)
    price_cny_per_node_hour: Decimal | None = _price(default=None)
    availability_pct: Decimal | None = _availability(default=None)
    response_minutes: int | None = Field(default=None, ge=1, le=10_080)
    security_level: int | None = Field(default=None, ge=1, le=5)


class OfferingPublic(BaseModel):
    """An offering with its pool's hardware and its center's place (bilingual names)."""

    id: str
    state: str
    name_zh: str
    name_en: str
    description: str
    pool: str
    center: str
    center_name_zh: str
    center_name_en: str
    center_kind: str
    operator: str
    city: str
    city_name_zh: str
    city_name_en: str
    accelerator: str
    accelerator_class: str
    nodes: int
    cpus_per_node: int
    gpus_per_node: int
    mem_gb_per_node: float
    price_cny_per_node_hour: Decimal
    availability_pct: Decimal
    response_minutes: int
    security_level: int
    created_by: str
    created_s: float
    updated_s: float
    published_s: float | None
    withdrawn_s: float | None


def _query() -> Select[OfferingRow, PoolRow, CenterRow, CityRow]:
    return (
        select(OfferingRow, PoolRow, CenterRow, CityRow)
        .join(PoolRow, PoolRow.id == OfferingRow.pool_id)
        .join(CenterRow, CenterRow.id == PoolRow.center_id)
        .join(CityRow, CityRow.id == CenterRow.city_id)
    )


def _public(row: tuple[OfferingRow, PoolRow, CenterRow, CityRow]) -> OfferingPublic:
    o, p, c, y = row
    return OfferingPublic(
        id=o.id, state=o.state, name_zh=o.name_zh, name_en=o.name_en, description=o.description, pool=p.id,
        center=c.id, center_name_zh=c.name_zh, center_name_en=c.name_en, center_kind=c.kind, operator=c.operator,
        city=y.id, city_name_zh=y.name_zh, city_name_en=y.name_en, accelerator=p.accelerator,
        accelerator_class=p.accelerator_class, nodes=p.nodes, cpus_per_node=p.cpus_per_node,
        gpus_per_node=p.gpus_per_node, mem_gb_per_node=p.mem_gb_per_node,
        price_cny_per_node_hour=fen_to_cny(o.price_fen_per_node_hour),
        availability_pct=(Decimal(o.availability_bp) / 100).quantize(Decimal("0.01")),
        response_minutes=o.response_minutes, security_level=o.security_level, created_by=o.created_by,
        created_s=o.created_s, updated_s=o.updated_s, published_s=o.published_s, withdrawn_s=o.withdrawn_s,
    )  # fmt: skip


def _visible(viewer: Viewer, o: OfferingRow, center_id: str) -> bool:
    return (
        viewer.sees_all
        or o.state == "published"
        or (viewer.role == "operator" and center_id in viewer.center_ids)
    )


def list_offerings(
    session: Session, viewer: Viewer, *, state: str | None = None, kind: str | None = None,
    city: str | None = None, accelerator: str | None = None, max_price_cny: Decimal | None = None,
    min_security_level: int | None = None, operator: str | None = None, pool: str | None = None,
    limit: int = DEFAULT_PAGE_LIMIT, offset: int = 0,
) -> Page[OfferingPublic]:  # fmt: skip
    """Offerings ``viewer`` may see, cheapest first. ``accelerator``: a class (cpu, gpu, npu, dcu) or a model
    name, case-insensitive; ``max_price_cny``: per node-hour; ``min_security_level``: at least this level."""
    q = _query()
    if state is not None:
        q = q.where(OfferingRow.state == state)
    if kind is not None:
        q = q.where(CenterRow.kind == kind)
    if city is not None:
        q = q.where(CenterRow.city_id == city)
    if operator is not None:
        q = q.where(CenterRow.operator == operator)
    if pool is not None:
        q = q.where(OfferingRow.pool_id == pool)
    if accelerator:
        acc = accelerator.strip().lower()
        q = q.where((func.lower(PoolRow.accelerator_class) == acc) | (func.lower(PoolRow.accelerator) == acc))
    if max_price_cny is not None:
        q = q.where(OfferingRow.price_fen_per_node_hour <= cny_to_fen(max_price_cny))
    if min_security_level is not None:
        q = q.where(OfferingRow.security_level >= min_security_level)
    if not viewer.sees_all:
        mine = CenterRow.id.in_(sorted(viewer.center_ids)) if viewer.role == "operator" else False
        q = q.where((OfferingRow.state == "published") | mine)
    order = (OfferingRow.price_fen_per_node_hour, OfferingRow.id)
    return page_of(session, q, order, limit, offset, _public)


def _row(session: Session, offering_id: str) -> tuple[OfferingRow, PoolRow, CenterRow, CityRow]:
    found = session.execute(_query().where(OfferingRow.id == offering_id)).first()
    if found is None:
        raise NotFoundError("offering", offering_id)
    o, p, c, y = found
    return o, p, c, y


def get_offering(session: Session, offering_id: str, viewer: Viewer = ADMIN_VIEWER) -> OfferingPublic:
    """One offering; 404 when absent or not visible to ``viewer``."""
    row = _row(session, offering_id)
    if not _visible(viewer, row[0], row[2].id):
        raise NotFoundError("offering", offering_id)
    return _public(row)


def center_of_offering(session: Session, offering_id: str) -> str:
    """The center of the offering's pool (for the operators' scope rule); NotFoundError when absent."""
    return _row(session, offering_id)[2].id


def _check_level(level: int, center: CenterRow) -> None:
    if level > center.security_level:
        raise invalid(
            "security_level",
            f"{level} is above the level of center {center.id!r} ({center.security_level}); "
            f"一个产品的数据安全等级不能高于其所在中心",
        )


def create_offering(
    session: Session, body: OfferingCreate, *, actor: str, now: float | None = None
) -> OfferingPublic:
    """A new draft on ``body.pool`` (422 naming ``pool`` when it does not exist; 409 on a taken id)."""
    now = time.time() if now is None else now
    pool = session.get(PoolRow, body.pool)
    if pool is None:
        raise invalid("pool", f"unknown pool {body.pool!r}")
    _check_level(body.security_level, pool.center)
    if session.get(OfferingRow, body.id) is not None:
        raise conflict("id", f"offering {body.id!r} already exists (已存在)")
    session.add(OfferingRow(
        id=body.id, pool_id=body.pool, name_zh=body.name_zh, name_en=body.name_en, description=body.description,
        price_fen_per_node_hour=cny_to_fen(body.price_cny_per_node_hour),
        availability_bp=int(body.availability_pct * 100), response_minutes=body.response_minutes,
        security_level=body.security_level, state="draft", created_by=actor, created_s=now, updated_s=now,
    ))  # fmt: skip
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent create of the same id
        session.rollback()
        raise conflict("id", f"offering {body.id!r} already exists (已存在)") from exc
    return get_offering(session, body.id)


def update_offering(
    session: Session, offering_id: str, patch: OfferingUpdate, *, now: float | None = None
) -> OfferingPublic:
    """Change a draft; 409 naming ``state`` for a published or withdrawn offering."""
    o, _, center, _ = _row(session, offering_id)
    if o.state != "draft":
        raise conflict("state", f"offering {offering_id!r} is {o.state}: only a draft is edited "
                       "(withdraw it and publish a new one) / 仅草稿可修改")  # fmt: skip
    given = patch.model_dump(exclude_unset=True)
    for key in ("name_zh", "name_en", "description", "response_minutes", "security_level"):
        if given.get(key) is not None:
            if key == "security_level":
                _check_level(int(given[key]), center)
            setattr(o, key, given[key])
    if patch.price_cny_per_node_hour is not None:
        o.price_fen_per_node_hour = cny_to_fen(patch.price_cny_per_node_hour)
    if patch.availability_pct is not None:
        o.availability_bp = int(patch.availability_pct * 100)
    o.updated_s = time.time() if now is None else now
    session.commit()
    return get_offering(session, offering_id)


def move(session: Session, offering_id: str, to: State, *, now: float | None = None) -> OfferingPublic:
    """Publish or withdraw; 409 naming ``state`` for a move :data:`MOVES` does not allow."""
    now = time.time() if now is None else now
    o = _row(session, offering_id)[0]
    if to not in MOVES[o.state]:
        raise conflict("state", f"offering {offering_id!r} is {o.state}; it cannot become {to} / 状态不允许")
    o.state, o.updated_s = to, now
    if to == "published":
        o.published_s = now
    else:
        o.withdrawn_s = now
    session.commit()
    return get_offering(session, offering_id)


def pool_to_target(session: Session, offering_id: str, path: str = "offering") -> str:
    """The pool a job targeting ``offering_id`` is confined to; 422 naming ``path`` when the offering is
    unknown, a draft or withdrawn (a draft answers like an unknown one)."""
    o = session.get(OfferingRow, offering_id)
    if o is None or o.state == "draft":
        raise invalid(path, f"unknown offering {offering_id!r}")
    if o.state != "published":
        raise invalid(
            path, f"offering {offering_id!r} is {o.state} and can no longer be targeted / 产品已下架"
        )
    return o.pool_id


def check_targets(session: Session, targets: Collection[tuple[str, str]]) -> None:
    """Every (field path, offering id) of a submission names a published offering; one query for all. 422
    listing each bad one by its path (a draft answers like an unknown one, so drafts cannot be probed)."""
    if not targets:
        return
    ids = {oid for _, oid in targets}
    rows = session.execute(select(OfferingRow.id, OfferingRow.state).where(OfferingRow.id.in_(ids)))
    state = {oid: st for oid, st in rows}
    errors = []
    for path, oid in targets:
        st = state.get(oid)
        if st is None or st == "draft":
            errors.append(FieldError(path, f"unknown offering {oid!r}"))
        elif st != "published":
            errors.append(
                FieldError(path, f"offering {oid!r} is {st} and can no longer be targeted / 产品已下架")
            )
    if errors:
        raise InvalidError(errors[:50])


def pools_of_offerings(session: Session, offering_ids: Collection[str]) -> dict[str, str]:
    """offering id → pool id, whatever the state (placement of jobs already accepted)."""
    if not offering_ids:
        return {}
    rows = session.execute(
        select(OfferingRow.id, OfferingRow.pool_id).where(OfferingRow.id.in_(offering_ids))
    )
    return {oid: pid for oid, pid in rows}


def published_by_center(session: Session) -> dict[str, int]:
    """center id → number of published offerings (the industry map)."""
    rows = session.execute(
        select(PoolRow.center_id, func.count(OfferingRow.id))
        .join(PoolRow, PoolRow.id == OfferingRow.pool_id)
        .where(OfferingRow.state == "published")
        .group_by(PoolRow.center_id)
    )
    return {cid: int(n) for cid, n in rows}
