"""Public schemas of the network API: ``XCreate`` (input of POST), ``XPublic`` (output), ``XUpdate``
(input of PATCH: only the fields given are changed; the merged object is validated again with the domain
model, so every unit and bound of :mod:`huanghe.domain.network` applies). Services return these, never rows."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

from huanghe.core.schemas import UpdateSchema
from huanghe.domain.enums import CenterKind, CenterTier, DataClass, JobKind, PueCategory
from huanghe.domain.network import ID_PATTERN, Center, City, Link, Pool, Region, StorageTier


# --- regions ---------------------------------------------------------------------------------------------
class RegionCreate(Region):
    """A new economic circle."""


class RegionPublic(Region):
    """An economic circle."""


class RegionUpdate(UpdateSchema):
    name_zh: str | None = None
    name_en: str | None = None


# --- cities ----------------------------------------------------------------------------------------------
class CityCreate(City):
    """A new city; ``region`` must exist."""


class CityPublic(City):
    """A city with the coordinates of its seat (WGS-84 degrees)."""


class CityUpdate(UpdateSchema):
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


class EnergyPatch(UpdateSchema):
    """Changed fields of a center's energy profile (units as in ``EnergyProfile``)."""

    pue: float | None = None
    pue_category: PueCategory | None = None
    renewable_share: float | None = None
    grid_emission_kg_per_kwh: float | None = None
    wue_l_per_kwh: float | None = None


class CenterUpdate(UpdateSchema):
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


class PeakTflopsPatch(UpdateSchema):
    """Changed per-precision peaks of one node, TFLOPS (INT8: TOPS)."""

    fp64: float | None = None
    fp32: float | None = None
    fp16: float | None = None
    int8: float | None = None


class PoolUpdate(UpdateSchema):
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
    default_time_limit_s: float | None = None
    max_time_limit_s: float | None = None


# --- links -----------------------------------------------------------------------------------------------
class LinkCreate(Link):
    """A new link between two existing centers (one link per pair, either direction)."""


class LinkPublic(Link):
    """A link; ``id`` is assigned by the database."""

    id: int


class LinkUpdate(UpdateSchema):
    bandwidth_gbps: float | None = None
    latency_ms: float | None = None
    hops: int | None = None


class ImportSummary(BaseModel):
    """Counts after a topology import; ``mode`` is ``replace`` or ``merge``."""

    name: str
    mode: str
    regions: int
    cities: int
    centers: int
    pools: int
    links: int


# --- back-end secrets ------------------------------------------------------------------------------------
class SecretPut(BaseModel):
    """The value of a back-end secret (a token, a password), created or rotated; never shown again."""

    value: SecretStr = Field(
        min_length=1, max_length=16_384, description="the credential, at most 16384 chars"
    )
    description: str = Field(default="", max_length=200, description="what it is for (no secret here)")


class SecretPublic(BaseModel):
    """A stored secret without its value; ``used_by`` lists the pools naming it; times in epoch seconds."""

    name: str
    description: str
    created_s: float
    updated_s: float
    used_by: list[str] = Field(default_factory=list)
