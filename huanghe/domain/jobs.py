"""Tenants, users, datasets and jobs as value types. Durations in seconds, sizes in GB, money in CNY."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from huanghe.domain.enums import DataClass, JobKind, JobState, Temperature
from huanghe.domain.network import ID_PATTERN


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Tenant(_Frozen):
    """An enterprise, research group or agency using the platform; ``sector`` is its industry."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    sector: str = ""
    is_sme: bool = True


class User(_Frozen):
    """A person or service account of a tenant (or of the authority, with no tenant)."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    tenant: str | None = None
    role: str = Field(default="tenant_user")


class Dataset(_Frozen):
    """Data that lives in a center. Important and core data may only be read or copied where allowed."""

    id: str = Field(pattern=ID_PATTERN)
    tenant: str
    name: str = Field(min_length=1)
    center: str = Field(description="id of the center holding the primary copy")
    size_gb: float = Field(ge=0)
    data_class: DataClass = DataClass.GENERAL
    temperature: Temperature = Temperature.HOT
    replicas: list[str] = Field(default_factory=list, description="centers holding copies")
    allowed_centers: list[str] = Field(
        default_factory=list,
        description="centers where important/core data may be used; empty = any for general",
    )


class JobSpec(_Frozen):
    """What a job asks for. ``duration_s`` is the run time on the reference device of ``kind``."""

    kind: JobKind = JobKind.CPU
    command: str = ""
    cpus: float = Field(default=1.0, ge=0, description="CPU cores per node")
    gpus: float = Field(default=0.0, ge=0, description="GPUs per node; fractional for shared GPUs")
    nodes: int = Field(default=1, ge=1, description="nodes of a gang, started together")
    mem_gb: float = Field(default=0.0, ge=0, description="memory per node, GB")
    accelerator: str = Field(default="", description="accelerator model or class; '' for any")
    duration_s: float | None = Field(default=None, ge=0, description="estimated run time on the reference")
    datasets: list[str] = Field(default_factory=list)
    data_gb: float = Field(default=0.0, ge=0)
    data_center: str | None = None
    data_class: DataClass = DataClass.GENERAL
    user_city: str | None = None
    latency_slo_ms: float | None = Field(default=None, gt=0)
    deadline_s: float | None = Field(
        default=None, ge=0, description="latest completion, seconds after submit"
    )
    priority: int = 0
    max_price_cny_per_hour: float | None = Field(default=None, ge=0)


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
