"""Pure value types and enums of the compute network. No I/O here; units live in field names."""

from huanghe.domain.enums import (
    CenterKind,
    CenterTier,
    DataClass,
    JobKind,
    JobState,
    Precision,
    PueCategory,
    StorageMedium,
    Temperature,
)
from huanghe.domain.jobs import Dataset, Job, JobSpec, Tenant, User
from huanghe.domain.network import (
    Center,
    City,
    EnergyProfile,
    Link,
    PeakTflops,
    Pool,
    Region,
    StorageTier,
    Topology,
)

__all__ = [
    "Center",
    "CenterKind",
    "CenterTier",
    "City",
    "DataClass",
    "Dataset",
    "EnergyProfile",
    "Job",
    "JobKind",
    "JobSpec",
    "JobState",
    "Link",
    "PeakTflops",
    "Pool",
    "Precision",
    "PueCategory",
    "Region",
    "StorageMedium",
    "StorageTier",
    "Temperature",
    "Tenant",
    "Topology",
    "User",
]
