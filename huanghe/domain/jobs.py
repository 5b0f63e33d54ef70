"""Tenants, users, datasets and jobs as value types. Durations in seconds, sizes in GB, money in CNY."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from huanghe.domain import bounds as b
from huanghe.domain.bounds import CommandText, SafeLabel, SafeName
from huanghe.domain.enums import DataClass, JobKind, JobState, Temperature
from huanghe.domain.network import ID_PATTERN
from huanghe.domain.tenancy import Role

#: A reference to an object by id (dataset, center, city): the id pattern (ASCII, at most 64 characters).
IdRef = Annotated[str, Field(pattern=ID_PATTERN)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Tenant(_Frozen):
    """An enterprise, research group or agency using the platform; ``sector`` is its industry."""

    id: str = Field(pattern=ID_PATTERN)
    name: SafeName
    sector: SafeLabel = ""
    is_sme: bool = True


class User(_Frozen):
    """A person or service account of a tenant (or of the authority, with no tenant)."""

    id: str = Field(pattern=ID_PATTERN)
    name: SafeName
    tenant: str | None = Field(default=None, pattern=ID_PATTERN)
    role: Role = Role.TENANT_USER


class Dataset(_Frozen):
    """Data that lives in a center. Important and core data may only be read or copied where allowed."""

    id: str = Field(pattern=ID_PATTERN)
    tenant: str = Field(pattern=ID_PATTERN)
    name: SafeName
    center: str = Field(pattern=ID_PATTERN, description="id of the center holding the primary copy")
    size_gb: float = Field(ge=0, le=b.MAX_DATA_GB)
    data_class: DataClass = DataClass.GENERAL
    temperature: Temperature = Temperature.HOT
    replicas: list[IdRef] = Field(default_factory=list, max_length=1000, description="centers holding copies")
    allowed_centers: list[IdRef] = Field(
        max_length=1000,
        default_factory=list,
        description="centers where important/core data may be used; empty = any for general",
    )


class JobSpec(_Frozen):
    """What a job asks for. ``duration_s`` is the run time on the reference device of ``kind``.

    Every number has a range (:mod:`huanghe.domain.bounds`): nodes 1..100,000, priority -1000..1000, cpus
    per node 0..4096, GPUs per node 0..64, memory per node 0..65,536 GB, durations and deadlines 0..366 days
    (seconds), data 0..1e8 GB, prices 0..1e7 CNY/h; ``command`` at most 256 KiB (413 above)."""

    kind: JobKind = JobKind.CPU
    command: CommandText = ""
    cpus: float = Field(default=1.0, ge=0, le=b.MAX_CPUS, description="CPU cores per node")
    gpus: float = Field(
        default=0.0, ge=0, le=b.MAX_GPUS, description="GPUs per node; fractional for shared GPUs"
    )
    nodes: int = Field(default=1, ge=1, le=b.MAX_NODES, description="nodes of a gang, started together")
    mem_gb: float = Field(default=0.0, ge=0, le=b.MAX_MEM_GB, description="memory per node, GB")
    accelerator: SafeLabel = Field(default="", description="accelerator model or class; '' for any")
    duration_s: float | None = Field(
        default=None, ge=0, le=b.MAX_DURATION_S, description="estimated run time on the reference"
    )
    datasets: list[IdRef] = Field(default_factory=list, max_length=b.MAX_JOB_DATASETS)
    data_gb: float = Field(default=0.0, ge=0, le=b.MAX_DATA_GB)
    data_center: IdRef | None = None
    data_class: DataClass = DataClass.GENERAL
    user_city: IdRef | None = None
    latency_slo_ms: float | None = Field(default=None, gt=0, le=b.MAX_LATENCY_MS)
    deadline_s: float | None = Field(
        default=None, ge=0, le=b.MAX_DURATION_S, description="latest completion, seconds after submit"
    )
    priority: int = Field(default=0, ge=b.MIN_PRIORITY, le=b.MAX_PRIORITY)
    max_price_cny_per_hour: float | None = Field(default=None, ge=0, le=b.MAX_PRICE_CNY_PER_HOUR)
    offering: IdRef | None = Field(
        default=None,
        description="a published offering of the product catalog (/api/v1/offerings): the job runs only in its "
        "pool (the broker's 'offering' filter); a draft, withdrawn or unknown one is refused (422)",
    )


class Job(_Frozen):
    """A submitted job and where it stands."""

    id: str
    tenant: str | None = None
    user: str | None = None
    spec: JobSpec
    state: JobState = JobState.PENDING
    submit_s: float = Field(default=0.0, description="submission time, seconds (epoch or simulated)")
    pool: str | None = None
    center: str | None = None
