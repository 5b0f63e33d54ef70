"""Enumerations of the domain. Values are the lower-case English names used in files, the API and the DB."""

from __future__ import annotations

from enum import StrEnum


class CenterTier(StrEnum):
    """Tier of a center in the "1+3+N+X" layout (国家级 / 省级 / 行业 / 边缘级)."""

    NATIONAL = "national"
    PROVINCIAL = "provincial"
    INDUSTRY = "industry"
    EDGE = "edge"


class CenterKind(StrEnum):
    """What a center mainly provides: general (CPU cloud), intelligent (AI, GPU/NPU), supercomputing (HPC)."""

    GENERAL = "general"
    INTELLIGENT = "intelligent"
    SUPERCOMPUTING = "supercomputing"


class DataClass(StrEnum):
    """Data classes of the Data Security Law: 一般数据 / 重要数据 / 核心数据."""

    GENERAL = "general"
    IMPORTANT = "important"
    CORE = "core"


class Temperature(StrEnum):
    """Access temperature of stored data: hot (flash), warm (HDD), cold (tape, optical)."""

    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


class StorageMedium(StrEnum):
    """Storage medium. Flash and optical count as advanced storage (先进存储)."""

    FLASH = "flash"
    HDD = "hdd"
    TAPE = "tape"
    OPTICAL = "optical"


class Precision(StrEnum):
    """Numeric precision a peak-FLOPS figure is quoted in."""

    FP64 = "fp64"
    FP32 = "fp32"
    FP16 = "fp16"
    INT8 = "int8"


class PueCategory(StrEnum):
    """ISO/IEC 30134-2 measurement category of a PUE value (metering point)."""

    BASIC = "basic"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class JobKind(StrEnum):
    """Kind of a job; each kind has a documented reference device its `duration_s` is quoted on."""

    CPU = "cpu"
    GPU = "gpu"
    HPC = "hpc"
    INFERENCE = "inference"


class JobState(StrEnum):
    """Life cycle: PENDING → PLACED → DISPATCHED → RUNNING → SUCCEEDED / FAILED / CANCELLED (and PREEMPTED)."""

    PENDING = "PENDING"
    PLACED = "PLACED"
    DISPATCHED = "DISPATCHED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    PREEMPTED = "PREEMPTED"

    @property
    def terminal(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


#: Allowed transitions of the job state machine.
JOB_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.PENDING: frozenset({JobState.PLACED, JobState.CANCELLED, JobState.FAILED}),
    JobState.PLACED: frozenset({JobState.DISPATCHED, JobState.PENDING, JobState.CANCELLED, JobState.FAILED}),
    JobState.DISPATCHED: frozenset(
        {JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.PENDING}
    ),
    JobState.RUNNING: frozenset(
        {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.PREEMPTED, JobState.PENDING}
    ),
    JobState.PREEMPTED: frozenset({JobState.PENDING, JobState.CANCELLED, JobState.FAILED}),
    JobState.SUCCEEDED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
}
