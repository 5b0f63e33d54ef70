"""The network as data: Region → City → Center → Pool, and Links between centers.

These Pydantic v2 models are both the domain value types and the schema of the topology file
(see docs/topology.md). They are frozen; units are in the field names:

* ``*_tflops``: peak tera-FLOPS (INT8: tera-OPS) of **one node**;
* ``power_kw_per_node``: electrical IT power of one node at full load, kW;
* ``price_cny_per_hour``: price of one **node-hour** in CNY (a job using part of a node pays its share);
* ``default_time_limit_s`` / ``max_time_limit_s``: a pool's wall time for a job naming none, and the most a job
  may ask for, seconds (Slurm DefaultTime / MaxTime);
* ``capacity_tb``: terabytes (10^12 bytes);
* ``latency_ms``: one-way latency; ``bandwidth_gbps``: gigabits per second;
* shares (``renewable_share``, ``pon10g_port_share``): fractions in [0, 1].

Cross-references (a center's city, a link's ends) are checked by ``huanghe.catalog.topology``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from huanghe.domain.enums import (
    CenterKind,
    CenterTier,
    DataClass,
    JobKind,
    Precision,
    PueCategory,
    StorageMedium,
    Temperature,
)

ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Region(_Frozen):
    """An economic circle (经济圈): 省会 (Jinan capital), 胶东 (Jiaodong), 鲁南 (southern Shandong)."""

    id: str = Field(pattern=ID_PATTERN)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class City(_Frozen):
    """A prefecture-level city with the coordinates of its seat (WGS-84 degrees)."""

    id: str = Field(pattern=ID_PATTERN)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    region: str = Field(pattern=ID_PATTERN, description="id of the Region (economic circle)")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class PeakTflops(_Frozen):
    """Peak throughput of one node per precision, in TFLOPS (INT8 in TOPS). 0 where not supported."""

    fp64: float = Field(default=0.0, ge=0)
    fp32: float = Field(default=0.0, ge=0)
    fp16: float = Field(default=0.0, ge=0)
    int8: float = Field(default=0.0, ge=0)

    def of(self, precision: Precision) -> float:
        return float(getattr(self, precision.value))


#: A pool's wall times when its topology names none, seconds: one hour by default, at most seven days
#: (Slurm's DefaultTime / MaxTime of a partition); no pool may set more than :data:`MAX_WALL_TIME_S` (a year).
DEFAULT_TIME_LIMIT_S = 3600.0
MAX_TIME_LIMIT_S = 7 * 86_400.0
MAX_WALL_TIME_S = 366 * 86_400.0


class Pool(_Frozen):
    """A homogeneous set of nodes inside a center, run by one back-end."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    accelerator: str = Field(default="", description="accelerator model, e.g. 'Ascend 910B'; '' for CPU-only")
    accelerator_class: str = Field(default="cpu", pattern=r"^(cpu|gpu|npu|dcu)$")
    cpu_model: str = ""
    nodes: int = Field(ge=0, le=1_000_000)  # bounds: the store's integers, docs/security.md "Input bounds"
    cpus_per_node: int = Field(ge=0, le=4096)
    gpus_per_node: int = Field(default=0, ge=0, le=64)
    mem_gb_per_node: float = Field(ge=0, le=65_536)
    peak_tflops_per_node: PeakTflops = PeakTflops()
    power_kw_per_node: float = Field(ge=0, description="IT power of one node at full load, kW")
    price_cny_per_hour: float = Field(ge=0, description="price of one node-hour, CNY")
    speed: dict[JobKind, float] = Field(
        default_factory=dict,
        description="run-time speed relative to the reference device of each job kind (docs/workload.md); "
        "a kind not listed runs at 1.0 if the pool can run it",
    )
    backend: str = Field(default="local", pattern=r"^[a-z][a-z0-9_-]*$")
    backend_settings: dict[str, str] = Field(default_factory=dict)
    illustrative: bool = True
    default_time_limit_s: float = Field(
        default=DEFAULT_TIME_LIMIT_S, gt=0, le=MAX_WALL_TIME_S,
        description="wall time of a job that names none, s (Slurm DefaultTime): its limit on the back-end and "
        "its run-time estimate for quotas and budgets",
    )  # fmt: skip
    max_time_limit_s: float = Field(
        default=MAX_TIME_LIMIT_S, gt=0, le=MAX_WALL_TIME_S,
        description="longest wall time a job may ask for, s (Slurm MaxTime)",
    )  # fmt: skip

    @model_validator(mode="after")
    def _default_within_max(self) -> Pool:
        if self.default_time_limit_s > self.max_time_limit_s:
            raise ValueError("default_time_limit_s must not exceed max_time_limit_s")
        return self

    @property
    def total_gpus(self) -> int:
        return self.nodes * self.gpus_per_node

    @property
    def total_cpus(self) -> int:
        return self.nodes * self.cpus_per_node

    @property
    def price_cny_per_gpu_hour(self) -> float | None:
        return self.price_cny_per_hour / self.gpus_per_node if self.gpus_per_node else None


class EnergyProfile(_Frozen):
    """Energy figures of a center: yearly PUE, renewable share and the grid's emission factor."""

    pue: float = Field(ge=1.0, le=5.0, description="power usage effectiveness, facility / IT energy")
    pue_category: PueCategory = PueCategory.BASIC
    renewable_share: float = Field(
        default=0.0, ge=0.0, le=1.0, description="REF, renewable / facility energy"
    )
    grid_emission_kg_per_kwh: float = Field(
        default=0.6361, ge=0.0, description="location-based grid factor, kg CO2 per kWh (= t/MWh)"
    )
    wue_l_per_kwh: float | None = Field(default=None, ge=0.0, description="site water per IT kWh, litres")


class StorageTier(_Frozen):
    """Storage capacity of one medium and temperature in a center."""

    medium: StorageMedium
    temperature: Temperature
    capacity_tb: float = Field(ge=0)
    used_tb: float = Field(default=0.0, ge=0)


class Center(_Frozen):
    """A data or computing center (数据中心 / 算力中心)."""

    id: str = Field(pattern=ID_PATTERN)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    city: str = Field(pattern=ID_PATTERN, description="id of the City")
    tier: CenterTier
    kind: CenterKind
    operator: str = Field(min_length=1, description="who runs it: telecom operator, enterprise, institute")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    it_design_kw: float = Field(ge=0, description="IT design power, kW (standard racks = kW / 2.5)")
    racks_in_use: int | None = Field(default=None, ge=0, description="standard racks in use, if reported")
    opened_year: int | None = Field(default=None, ge=1950, le=2100)
    energy: EnergyProfile
    storage: list[StorageTier] = Field(default_factory=list)
    egress_gbps: float = Field(default=0.0, ge=0, description="egress bandwidth out of the center, Gbps")
    pon10g_port_share: float = Field(default=0.0, ge=0, le=1, description="share of 10G-PON+ access ports")
    security_level: int = Field(default=3, ge=1, le=5, description="classified protection level (等保)")
    allowed_data_classes: list[DataClass] = Field(default_factory=lambda: [DataClass.GENERAL])
    exporters: list[str] = Field(default_factory=list, description="Prometheus exporter URLs to scrape")
    pools: list[Pool] = Field(default_factory=list)
    illustrative: bool = True


class Link(_Frozen):
    """A link between two centers. ``latency_ms`` is measured one-way latency; None means estimated
    from distance by ``huanghe.catalog.geo`` (FACTS.md §5)."""

    a: str = Field(pattern=ID_PATTERN)
    b: str = Field(pattern=ID_PATTERN)
    bandwidth_gbps: float = Field(gt=0)
    latency_ms: float | None = Field(default=None, ge=0)
    hops: int = Field(default=2, ge=0, le=1000)


class Topology(_Frozen):
    """A whole network: what a topology YAML file holds."""

    name: str = Field(pattern=ID_PATTERN)
    version: int = Field(default=1, ge=1)
    description: str = ""
    note: str = Field(default="", description="provenance; which figures are illustrative")
    regions: list[Region] = Field(min_length=1)
    cities: list[City] = Field(min_length=1)
    centers: list[Center] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)

    def center(self, center_id: str) -> Center:
        for c in self.centers:
            if c.id == center_id:
                return c
        raise KeyError(center_id)

    def city(self, city_id: str) -> City:
        for c in self.cities:
            if c.id == city_id:
                return c
        raise KeyError(city_id)

    def pools(self) -> list[tuple[Center, Pool]]:
        return [(c, p) for c in self.centers for p in c.pools]
