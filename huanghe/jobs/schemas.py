"""What a job submission looks like: :class:`JobSubmit` (one job) and :class:`JobBatchSubmit` (many); and what
the jobs API answers (:class:`JobPublic`, :class:`JobDetail`, :class:`JobEvents`, :class:`JobLogs`...)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, model_validator

from huanghe.data.file_schemas import name_problem
from huanghe.domain import bounds
from huanghe.domain.bounds import CommandText, EnvKey, EnvValue, check_name
from huanghe.domain.enums import JobState
from huanghe.domain.jobs import JobSpec
from huanghe.domain.network import ID_PATTERN

#: Most jobs accepted in one batch request.
MAX_BATCH_JOBS = 10_000
#: Longest accepted Idempotency-Key.
MAX_IDEMPOTENCY_KEY = 200
#: Most declared outputs of one job.
MAX_OUTPUTS = 100


def _output_name(name: str) -> str:
    """A declared output: a file name the data services accept (relative, no ``..``, no control character)."""
    problem = name_problem(name)
    if problem is not None:
        raise ValueError(f"output {name!r}: {problem}")
    return name


class JobSubmit(JobSpec):
    """A job submission: the :class:`JobSpec` fields plus what to run and who runs it.

    Exactly one of ``command`` (one shell command line) and ``script`` (a whole script) is given.
    ``duration_s`` is the submitter's run-time estimate (used for placement only); ``time_limit_s`` is
    enforced by back-ends that can; ``max_attempts`` bounds dispatches (first run + retries elsewhere).
    """

    name: Annotated[str, AfterValidator(check_name)] = Field(default="", max_length=63)
    script: CommandText = ""
    tenant: str | None = Field(default=None, pattern=ID_PATTERN, max_length=64)
    user: str | None = Field(default=None, pattern=ID_PATTERN, max_length=64)
    time_limit_s: float | None = Field(default=None, gt=0, le=bounds.MAX_DURATION_S)
    env: dict[EnvKey, EnvValue] = Field(default_factory=dict, max_length=bounds.MAX_ENV_VARS)
    secret_env: list[EnvKey] = Field(
        default_factory=list,
        max_length=bounds.MAX_ENV_VARS,
        description="names of env variables masked even for the job's own tenant after submission "
        "(names ending in _TOKEN, _SECRET, _PASSWORD, _PASSWD, _KEY or _CREDENTIALS always are)",
    )
    max_attempts: int = Field(default=3, ge=1, le=10)
    outputs: list[Annotated[str, AfterValidator(_output_name)]] = Field(
        default_factory=list,
        max_length=MAX_OUTPUTS,
        description="files the job writes (paths relative to its working directory) to store after it succeeds",
    )
    output_dataset: str | None = Field(
        default=None, pattern=ID_PATTERN, max_length=64,
        description="dataset of the job's tenant the outputs are stored in (created when new)",
    )  # fmt: skip

    @model_validator(mode="after")
    def _one_of_command_script(self) -> JobSubmit:
        if bool(self.command.strip()) == bool(self.script.strip()):
            raise ValueError("exactly one of command and script must be given")
        if bool(self.outputs) != bool(self.output_dataset):
            raise ValueError("outputs and output_dataset go together: name both or neither")
        if self.cpus <= 0:
            raise ValueError("cpus must be > 0")
        return self


class JobBatchSubmit(BaseModel):
    """Body of ``POST /jobs:batch``: up to :data:`MAX_BATCH_JOBS` submissions."""

    jobs: list[JobSubmit] = Field(min_length=1, max_length=MAX_BATCH_JOBS)


# --- what the jobs API answers (the dicts of :mod:`huanghe.jobs.queries`, field for field, in order) --------
class JobAccepted(BaseModel):
    """The short answer to a submission (201, or 200 for a replayed ``Idempotency-Key``)."""

    id: str
    name: str
    state: JobState
    submit_s: float


class JobBatchAccepted(BaseModel):
    """The answer to ``POST /jobs:batch``: one :class:`JobAccepted` per submitted job, in order."""

    items: list[JobAccepted]
    count: int


class JobPublic(BaseModel):
    """A job as the API shows it. ``cost_cny`` is the actual cost so far (price × run time), None before it
    started; ``est_*`` are the placement's estimates; ``spec`` is the submission as it was accepted."""

    id: str
    name: str
    state: JobState
    tenant: str | None
    user: str | None
    priority: int
    pool: str | None
    center: str | None
    submit_s: float
    updated_s: float
    started_s: float | None
    ended_s: float | None
    attempt: int
    max_attempts: int
    excluded_centers: list[str]
    backend: str | None
    backend_job_id: str | None
    cancel_requested: bool
    exit_code: int | None
    message: str
    price_cny_per_hour: float | None
    est_cost_cny: float | None
    est_carbon_kg: float | None
    cost_cny: float | None
    spec: dict[str, Any]


class JobHistoryEntry(BaseModel):
    """One state the job went through."""

    t_s: float
    state: JobState | None
    message: str


class PlacementPublic(BaseModel):
    """One placement decision (one per attempt) with the broker's estimates."""

    attempt: int
    t_s: float
    policy: str
    pool: str
    center: str
    est_start_s: float | None
    est_run_s: float | None
    est_cost_cny: float | None
    est_carbon_kg: float | None


class PlacementExplained(PlacementPublic):
    """The latest placement with the broker's explanation (winner, runner-up, feasible pools...)."""

    explanation: dict[str, Any]


class JobWaiting(BaseModel):
    """Why a PENDING or PLACED job has not started and until when (:mod:`huanghe.jobs.waiting`); epoch s."""

    state: JobState
    queue_position: int | None = Field(
        description="1 = the next PENDING job the placer takes; None if PLACED"
    )
    queue_length: int = Field(description="PENDING jobs in all")
    next_decision_s: float | None = Field(description="earliest time the placer looks at it (PENDING)")
    reason: str = Field(description="the scheduler's last message on the job")
    checked_s: float | None = Field(description="time of the broker's last 'not placed' answer")
    note: str = Field(description="that answer's note (a reservation or greener hour names its time)")
    explanation: dict[str, Any] | None = Field(description="that answer's explanation (filters, best pool)")
    est_start_s: float | None = Field(description="estimated start (placement's, or the best candidate's)")


class JobUsage(BaseModel):
    """What metering recorded for an ended job; vouchers pay a share of the monthly invoice it is on."""

    node_hours: float
    gpu_hours: float
    cost_cny: float
    energy_kwh: float
    carbon_kg: float = Field(description="kg CO2 of the run (metered)")
    invoice_id: int | None
    voucher_share: float | None = Field(description="share of its invoice paid by vouchers, 0..1")
    voucher_cny: float | None = Field(description="cost × voucher_share")


class JobDetail(JobPublic):
    """``GET /jobs/{id}``: the job, its state history, its placements (the latest with its explanation) and,
    while it waits, its scheduling report."""

    history: list[JobHistoryEntry]
    placements: list[PlacementPublic]
    placement: PlacementExplained | None
    waiting: JobWaiting | None = None
    usage: JobUsage | None = None


class JobEvent(BaseModel):
    """Something that happened to a job (``kind``: state, placed, dispatched, retry, failover...)."""

    t_s: float
    kind: str
    state: JobState | None
    message: str
    data: dict[str, Any] | None


class JobEvents(BaseModel):
    """``GET /jobs/{id}/events``: every event of the job, oldest first."""

    job_id: str
    items: list[JobEvent]


class JobLogs(BaseModel):
    """``GET /jobs/{id}/logs``: output from byte ``offset``; ``next_offset`` = ``offset`` + UTF-8 length of
    ``data``; ``message`` says why there is none (not dispatched, back-end unavailable...)."""

    job_id: str
    offset: int
    next_offset: int
    data: str
    state: JobState
    terminal: bool
    message: str


class CenterHealthPublic(BaseModel):
    """A center's health as the dispatcher's back-end pings last saw it."""

    center: str
    healthy: bool
    checked_s: float
    last_ok_s: float | None
    failures: int
    latency_ms: float | None
    message: str


class CenterHealthList(BaseModel):
    items: list[CenterHealthPublic]


class LeaseHeld(BaseModel):
    """The leader lease row (SQLite and other databases without advisory locks)."""

    name: str
    holder: str
    expires_s: float
    acquired_s: float


class AdvisoryLockHeld(BaseModel):
    """Whether the leader's advisory lock is held (PostgreSQL)."""

    name: str
    held: bool
    backend_pid: int | None


class SchedulerInfo(BaseModel):
    """The dispatch loop's settings, whether this replica leads it, and the lease or lock."""

    enabled: bool
    interval_s: float
    policy: str
    leading: bool
    holder: str | None
    ticks: int
    lease: LeaseHeld | AdvisoryLockHeld | None
