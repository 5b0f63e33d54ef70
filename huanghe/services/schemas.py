"""Public schemas of the catalog API: ``XCreate`` (input of POST), ``XPublic`` (output), ``XUpdate``
(input of PATCH: only the fields given are changed; the merged object is validated again with the domain
model, so every unit and bound of ``huanghe.domain`` applies). Services return these, never ORM rows.

Units are those of the domain models (see ``huanghe.domain.network`` and ``huanghe.domain.jobs``).
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from huanghe.domain.enums import (
    CenterKind,
    CenterTier,
    DataClass,
    JobKind,
    PueCategory,
    Temperature,
)
from huanghe.domain.jobs import Dataset, Tenant, User
from huanghe.domain.network import (
    ID_PATTERN,
    Center,
    City,
    Link,
    Pool,
    Region,
    StorageTier,
)

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


class _Update(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- regions ---------------------------------------------------------------------------------------------
class RegionCreate(Region):
    """A new economic circle."""


class RegionPublic(Region):
    """An economic circle."""


class RegionUpdate(_Update):
    name_zh: str | None = None
    name_en: str | None = None


# --- cities ----------------------------------------------------------------------------------------------
class CityCreate(City):
    """A new city; ``region`` must exist."""


class CityPublic(City):
    """A city with the coordinates of its seat (WGS-84 degrees)."""


class CityUpdate(_Update):
    name_zh: str | None = None
    name_en: str | None = None
    region: str | None = None
    lon: float | None = None
    lat: float | None = None


# --- centers ---------------------------------------------------------------------------------------------
class CenterCreate(Center):
    """A new center; ``city`` must exist. Pools may be given inline (their ids must be new)."""


class CenterPublic(Center):
    """A center with its energy profile, storage tiers and pools."""


class EnergyPatch(_Update):
    """Changed fields of a center's energy profile (units as in ``EnergyProfile``)."""

    pue: float | None = None
    pue_category: PueCategory | None = None
    renewable_share: float | None = None
    grid_emission_kg_per_kwh: float | None = None
    wue_l_per_kwh: float | None = None


class CenterUpdate(_Update):
    """Changed fields of a center. ``energy`` changes only the fields given; ``storage`` replaces the whole
    list; pools are changed through ``/pools``."""

    name_zh: str | None = None
    name_en: str | None = None
    city: str | None = None
    tier: CenterTier | None = None
    kind: CenterKind | None = None
    operator: str | None = None
    lon: float | None = None
    lat: float | None = None
    it_design_kw: float | None = None
    racks_in_use: int | None = None
    opened_year: int | None = None
    energy: EnergyPatch | None = None
    storage: list[StorageTier] | None = None
    egress_gbps: float | None = None
    pon10g_port_share: float | None = None
    security_level: int | None = None
    allowed_data_classes: list[DataClass] | None = None
    exporters: list[str] | None = None
    illustrative: bool | None = None


# --- pools -----------------------------------------------------------------------------------------------
class PoolCreate(Pool):
    """A new pool in the existing center ``center``."""

    center: str = Field(pattern=ID_PATTERN, description="id of the center holding the pool")


class PoolPublic(Pool):
    """A pool and the center it belongs to."""

    center: str


class PeakTflopsPatch(_Update):
    """Changed per-precision peaks of one node, TFLOPS (INT8: TOPS)."""

    fp64: float | None = None
    fp32: float | None = None
    fp16: float | None = None
    int8: float | None = None


class PoolUpdate(_Update):
    """Changed fields of a pool; ``center`` moves it to another center."""

    center: str | None = None
    name: str | None = None
    accelerator: str | None = None
    accelerator_class: str | None = None
    cpu_model: str | None = None
    nodes: int | None = None
    cpus_per_node: int | None = None
    gpus_per_node: int | None = None
    mem_gb_per_node: float | None = None
    peak_tflops_per_node: PeakTflopsPatch | None = None
    power_kw_per_node: float | None = None
    price_cny_per_hour: float | None = None
    speed: dict[JobKind, float] | None = None
    backend: str | None = None
    backend_settings: dict[str, str] | None = None
    illustrative: bool | None = None


# --- links -----------------------------------------------------------------------------------------------
class LinkCreate(Link):
    """A new link between two existing centers (one link per pair, either direction)."""


class LinkPublic(Link):
    """A link; ``id`` is assigned by the database."""

    id: int


class LinkUpdate(_Update):
    bandwidth_gbps: float | None = None
    latency_ms: float | None = None
    hops: int | None = None


# --- tenants, users, datasets ----------------------------------------------------------------------------
class TenantCreate(Tenant):
    """A new tenant."""


class TenantPublic(Tenant):
    """A tenant."""


class TenantUpdate(_Update):
    name: str | None = None
    sector: str | None = None
    is_sme: bool | None = None


class UserCreate(User):
    """A new user; ``tenant`` (if given) must exist."""


class UserPublic(User):
    """A user."""


class UserUpdate(_Update):
    name: str | None = None
    tenant: str | None = None
    role: str | None = None


class DatasetCreate(Dataset):
    """A new dataset; tenant and centers (primary, replicas, allowed) must exist."""


class DatasetPublic(Dataset):
    """A dataset."""


class DatasetUpdate(_Update):
    tenant: str | None = None
    name: str | None = None
    center: str | None = None
    size_gb: float | None = None
    data_class: DataClass | None = None
    temperature: Temperature | None = None
    replicas: list[str] | None = None
    allowed_centers: list[str] | None = None


class ImportSummary(BaseModel):
    """Counts after a topology import; ``mode`` is ``replace`` or ``merge``."""

    name: str
    mode: str
    regions: int
    cities: int
    centers: int
    pools: int
    links: int
