"""Typed shapes of the server's JSON answers (``TypedDict``: the JSON itself, typed for readers and mypy).

The client returns the decoded JSON unchanged, so ``json.dumps(result)`` is exactly what the server said.
Units are in the key names (``_s`` seconds since the epoch or durations, ``_cny`` yuan, ``_kg`` kilograms,
``_ms`` milliseconds). The network's centers and pools are pydantic models instead (the server's own
schemas, :mod:`huanghe.network.schemas`), as they are validated domain objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

#: Job states after which a job never changes again.
TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


class Problem(TypedDict):
    """One problem of an error answer; ``path`` names where (``query.level``, ``body.cpus``, '' = whole)."""

    path: str
    message: str


class Health(TypedDict):
    """``GET /healthz``: ``status`` is ``ok`` or ``degraded`` (database unreachable)."""

    status: str
    database: str
    version: str


# ---------------------------------------------------------------- jobs


class JobSubmission(TypedDict, total=False):
    """Body of ``POST /api/v1/jobs`` (see docs/jobs.md): exactly one of ``command`` and ``script``.

    Per node: ``cpus`` cores, ``gpus``, ``mem_gb`` GB; ``duration_s``/``deadline_s`` seconds;
    ``latency_slo_ms`` one-way ms; ``max_price_cny_per_hour`` CNY per hour for the whole job.
    """

    command: str
    script: str
    name: str
    cpus: float
    gpus: float
    mem_gb: float
    nodes: int
    accelerator: str
    kind: str
    priority: int
    datasets: list[str]
    user_city: str
    latency_slo_ms: float
    deadline_s: float
    duration_s: float
    max_price_cny_per_hour: float
    offering: str
    tenant: str
    user: str
    time_limit_s: float
    env: dict[str, str]
    max_attempts: int


class HistoryEntry(TypedDict):
    t_s: float
    state: str
    message: str


class Placement(TypedDict):
    """Where a job was placed; ``est_*`` are the broker's estimates (s, CNY, kg CO2)."""

    attempt: int
    t_s: float
    policy: str
    pool: str
    center: str
    est_start_s: float | None
    est_run_s: float | None
    est_cost_cny: float | None
    est_carbon_kg: float | None
    explanation: NotRequired[dict[str, Any]]


class Job(TypedDict):
    """A job. ``cost_cny`` is the cost so far (price × run time), None before it started. ``history``,
    ``placements`` and ``placement`` (the latest, with its explanation) come with :meth:`get_job` only."""

    id: str
    name: str
    state: str
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
    history: NotRequired[list[HistoryEntry]]
    placements: NotRequired[list[Placement]]
    placement: NotRequired[Placement | None]


class JobBatch(TypedDict):
    """``POST /jobs:batch``: the short form of every job stored (``id``, ``name``, ``state``, ``submit_s``),
    in the order submitted, and their ``count``."""

    items: list[dict[str, Any]]
    count: int


class WhoAmI(TypedDict):
    """``GET /auth/whoami``: the caller as the server sees it; ``tenant`` is None for platform roles."""

    name: str
    role: str
    tenant: str | None
    centers: list[str]
    scopes: list[str]
    token_id: int | None


class JobPage(TypedDict):
    """A page of jobs, newest first; ``total`` counts every match."""

    items: list[Job]
    total: int
    limit: int
    offset: int


class JobLogs(TypedDict):
    """A job's output from byte ``offset``; read on from ``next_offset`` (bytes of UTF-8)."""

    job_id: str
    offset: int
    next_offset: int
    data: str
    state: str
    terminal: bool
    message: str


class JobEvent(TypedDict):
    t_s: float
    kind: str
    state: str | None
    message: str
    data: dict[str, Any] | None


class JobEvents(TypedDict):
    job_id: str
    items: list[JobEvent]


# ---------------------------------------------------------------- alerts


class Alert(TypedDict):
    """An alert; ``value``/``threshold`` in the rule's unit; times are ISO 8601 strings (UTC)."""

    id: int
    rule: str
    subject: str
    center: str | None
    state: str
    severity: str
    message: str
    value: float
    threshold: float
    opened_at: str
    updated_at: str
    acknowledged_at: str | None
    resolved_at: str | None
    resolved_by: str


class AlertPage(TypedDict):
    items: list[Alert]
    total: int
    limit: int
    offset: int


# ---------------------------------------------------------------- observatory


class IndexRow(TypedDict):
    """One entity's index: ``score`` and ``dimensions`` (compute, storage, network, environment, application)
    0–100."""

    entity: str
    name_zh: str
    name_en: str
    level: str
    year: int
    score: float
    rank: int
    dimensions: dict[str, float]
    indicators: dict[str, float | None]


class IndexResult(TypedDict):
    year: int
    level: str
    weights: str
    norm: str
    method_version: str
    illustrative: bool
    rows: list[IndexRow]
    dimension_weights: NotRequired[dict[str, float]]
    #: per indicator: ``source`` (declared | measured | mixed), ``centers_measured``, ``centers``
    indicator_sources: NotRequired[dict[str, dict[str, Any]]]
    measured_years: NotRequired[list[int]]
    simulated: NotRequired[bool]
    compare_year: NotRequired[int | None]
    #: year on year (with ``compare``): score, rank and dimension deltas per entity
    comparison: NotRequired[list[dict[str, Any]] | None]


class SensitivityStudy(TypedDict):
    """Rank stability under one kind of weight perturbation; ``ranks`` per entity (base, min, median, max)."""

    method: str
    year: int
    samples: int
    kendall_tau_mean: float
    kendall_tau_min: float
    ranks: list[dict[str, Any]]


class Sensitivity(TypedDict):
    level: str
    studies: list[SensitivityStudy]


class TargetStatus(TypedDict):
    """One plan target against the actual of ``actual_year`` and the trend forecast to ``year``."""

    kpi: str
    name_zh: str
    unit: str
    target: float
    comparison: str
    year: int
    actual: float | None
    actual_year: int
    met: bool | None
    forecast: float | None
    forecast_met: bool | None
    source: str


class GreenList(TypedDict):
    """Green lists: PUE above the limit, small/scattered/old centers, renewable ranking, carbon per center."""

    rules: dict[str, Any]
    pue_above_limit: list[dict[str, Any]]
    small_scattered_old: list[dict[str, Any]]
    renewable_ranking: list[dict[str, Any]]
    carbon: list[dict[str, Any]]
    telemetry: NotRequired[dict[str, Any]]


class Maturity(TypedDict):
    """Storage maturity of one center: ``overall`` and per-attribute ``levels`` 1–5."""

    center: str
    name_zh: str
    overall: int
    overall_name: str
    levels: dict[str, int]
    metrics: dict[str, float]


class NetworkCapacity(TypedDict):
    """Latency-circle compliance: ``summary`` counts and shares; ``pairs`` with ``latency_ms``/``limit_ms``."""

    summary: dict[str, Any]
    pairs: list[dict[str, Any]]


@dataclass(frozen=True)
class Report:
    """A downloaded report: ``content`` bytes of ``media_type``, the server's suggested ``filename``."""

    content: bytes
    media_type: str
    filename: str
