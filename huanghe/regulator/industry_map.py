"""The industry map (《算力产业图谱》): providers and users of compute by city and `算力+` industry, as JSON for
the console map.

* **Providers** — per city (with its coordinates): its centers (kind, operator, published offerings) and the
  operators running them; and per operator, its centers, cities and published offerings.
* **Users** — tenants by industry (their ``sector`` through :mod:`huanghe.regulator.industries`). Tenants carry
  no city, so a user is placed in the city of **the center where its compute ran** (metered usage of
  ``year``, all years when None): per city and industry, the enterprises and their PFLOPS-hours
  (FP32-equivalent, assumed factors, as in :mod:`huanghe.regulator.empowerment`). A tenant with usage in two
  cities counts in both; ``industries`` counts each once, with those registered but without usage.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huanghe.billing.models import UsageRow
from huanghe.core.errors import invalid
from huanghe.network.models import CenterRow, CityRow, PoolRow
from huanghe.network.offerings import published_by_center
from huanghe.regulator.empowerment import MAX_YEAR, MIN_YEAR, pool_pflops_per_node
from huanghe.regulator.industries import INDUSTRIES, INDUSTRY_KEYS, industry_of
from huanghe.tenancy.models import TenantRow


class MapCenter(BaseModel):
    id: str
    name_zh: str
    name_en: str
    kind: str
    operator: str
    lon: float
    lat: float
    offerings_published: int


class IndustryUse(BaseModel):
    """Users of one industry in one city."""

    enterprises: int
    pflops_hours: float


class MapCity(BaseModel):
    """One city: providers (centers, operators) and users (by industry key)."""

    id: str
    name_zh: str
    name_en: str
    lon: float
    lat: float
    centers: list[MapCenter]
    operators: list[str]
    offerings_published: int
    users: dict[str, IndustryUse] = Field(description="industry key → users whose compute ran here")


class MapOperator(BaseModel):
    name: str
    centers: list[str]
    cities: list[str]
    offerings_published: int


class MapIndustry(BaseModel):
    key: str
    name_zh: str
    name_en: str
    enterprises_registered: int
    enterprises_with_usage: int
    pflops_hours: float


class IndustryMap(BaseModel):
    """The map's JSON (see the module docstring)."""

    title_zh: str
    title_en: str
    year: int | None
    cities: list[MapCity]
    operators: list[MapOperator]
    industries: list[MapIndustry]
    notes_zh: str
    notes_en: str


def industry_map(session: Session, year: int | None = None) -> IndustryMap:
    """The map of ``year``'s users (all years when None) and today's providers."""
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        raise invalid("year", f"must be between {MIN_YEAR} and {MAX_YEAR}")
    centers = list(session.scalars(select(CenterRow).order_by(CenterRow.position, CenterRow.id)))
    by_id = {c.id: c for c in centers}
    pools = {p.id: p for p in session.scalars(select(PoolRow))}
    offered = published_by_center(session)
    sector = {t.id: t.sector for t in session.scalars(select(TenantRow))}
    u = UsageRow
    q = select(u.tenant_id, u.pool_id, u.center_id, func.sum(u.node_hours)).group_by(
        u.tenant_id, u.pool_id, u.center_id
    )
    if year is not None:
        q = q.where(u.month >= f"{year}-01", u.month <= f"{year}-12")
    per_node: dict[str, float] = {}
    tenants_at: dict[tuple[str, str], set[str]] = defaultdict(set)
    pfh_at: dict[tuple[str, str], float] = defaultdict(float)
    users: dict[str, set[str]] = defaultdict(set)
    pfh_of: dict[str, float] = defaultdict(float)
    for tenant, pool_id, center_id, summed in session.execute(q):  # summed in SQL per tenant, pool, center
        node_h = float(summed or 0.0)
        center = by_id.get(center_id)
        if center is None:
            continue
        if pool_id not in per_node:
            pool = pools.get(pool_id)
            per_node[pool_id] = pool_pflops_per_node(pool, center.kind) if pool is not None else 0.0
        ind = industry_of(sector.get(tenant))
        tenants_at[(center.city_id, ind)].add(tenant)
        pfh_at[(center.city_id, ind)] += node_h * per_node[pool_id]
        users[ind].add(tenant)
        pfh_of[ind] += node_h * per_node[pool_id]
    cities: list[MapCity] = []
    for y in session.scalars(select(CityRow).order_by(CityRow.position, CityRow.id)):
        here = [c for c in centers if c.city_id == y.id]
        mc = [MapCenter(id=c.id, name_zh=c.name_zh, name_en=c.name_en, kind=c.kind, operator=c.operator, lon=c.lon,
                        lat=c.lat, offerings_published=offered.get(c.id, 0)) for c in here]  # fmt: skip
        use = {k: IndustryUse(enterprises=len(tenants_at[(y.id, k)]), pflops_hours=round(pfh_at[(y.id, k)], 6))
               for k in INDUSTRY_KEYS if (y.id, k) in tenants_at}  # fmt: skip
        cities.append(MapCity(
            id=y.id, name_zh=y.name_zh, name_en=y.name_en, lon=y.lon, lat=y.lat, centers=mc,
            operators=sorted({c.operator for c in here}), offerings_published=sum(m.offerings_published for m in mc),
            users=use,
        ))  # fmt: skip
    ops: dict[str, list[CenterRow]] = defaultdict(list)
    for c in centers:
        ops[c.operator].append(c)
    operators = [MapOperator(name=name, centers=[c.id for c in cs], cities=sorted({c.city_id for c in cs}),
                             offerings_published=sum(offered.get(c.id, 0) for c in cs))
                 for name, cs in sorted(ops.items())]  # fmt: skip
    registered: dict[str, int] = defaultdict(int)
    for s in sector.values():
        registered[industry_of(s)] += 1
    industries = [MapIndustry(key=k, name_zh=zh, name_en=en, enterprises_registered=registered[k],
                              enterprises_with_usage=len(users[k]), pflops_hours=round(pfh_of[k], 6))
                  for k, zh, en in INDUSTRIES]  # fmt: skip
    return IndustryMap(
        title_zh="算力产业图谱", title_en="Compute industry map", year=year, cities=cities, operators=operators,
        industries=industries,
        notes_zh="用户按其算力所在中心的城市计（租户未登记城市）；行业按租户所属行业映射到“算力+”行业。",
        notes_en="Users are placed in the city of the center where their compute ran (tenants carry no city); "
        "industries map tenants' sectors onto the plan's 'compute +' industries.",
    )  # fmt: skip
