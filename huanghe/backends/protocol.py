"""The one protocol every back-end implements, its value types and errors.

A back-end runs what the platform already decided to run; it never chooses a placement. Times are seconds
since the Unix epoch (``started_at``/``ended_at``) or durations in seconds (``*_s``), latency in milliseconds,
memory in GB counted as 2^30 bytes (as Slurm and Kubernetes ``Gi`` count it), CPUs in cores, GPUs in devices.

States: a back-end reports only the part of :class:`~huanghe.domain.JobState` it can see —
``DISPATCHED`` (accepted, queued or starting in the back-end), ``RUNNING``, ``SUCCEEDED``, ``FAILED``,
``CANCELLED`` and ``PREEMPTED``. ``PENDING`` and ``PLACED`` are platform states and never come from here.

After a crash the platform finds its jobs by name (:meth:`Backend.find_by_name`): every job it dispatches is
named by its dispatch token and its command or script starts with the no-op shell mark
:data:`TOKEN_MARKER` + token, so a back-end that writes a job's files before it records the name can still
recognise the job.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from huanghe.core.clock import Clock, WallClock
from huanghe.domain.enums import JobState
from huanghe.domain.jobs import JobSpec

GIB = 1024**3
#: A no-op shell command the platform puts in front of every job it dispatches (followed by the job's name).
TOKEN_MARKER = ": huanghe-dispatch-token="
#: Seconds a lookup by name (:meth:`Backend.find_by_name`) may spend on one command or request.
LOOKUP_TIMEOUT_S = 10.0


class BackendError(Exception):
    """Base of every error a back-end raises on purpose."""


class UnknownJobError(BackendError, LookupError):
    """The back-end has no job with this id (never submitted, or forgotten by the back-end)."""

    def __init__(self, backend: str, job_id: str, reason: str = "") -> None:
        self.backend = backend
        self.job_id = job_id
        self.reason = reason  #: why the back-end cannot tell more (e.g. its history has no record), or ""
        super().__init__(
            f"{backend}: unknown job id {job_id!r} / 未知作业" + (f" ({reason})" if reason else "")
        )


class BackendUnavailableError(BackendError):
    """The back-end cannot be reached or refused the request for a reason not tied to one job."""


class SubmitOutcomeUnknownError(BackendError):
    """``submit()`` gave up waiting for the answer to a request the back-end may have acted on (sent, not
    answered within the back-end's timeout): the job may exist. Not :class:`BackendUnavailableError`, which
    says nothing was submitted and sends the job elsewhere at once (it could then run twice); the dispatcher
    leaves the job DISPATCHED without a back-end id, for recovery by name (:mod:`huanghe.jobs.recovery`)."""


class BackendConfigError(BackendError, ValueError):
    """Bad ``backend_settings`` or an unknown back-end name; the message names the key."""


class CapabilityMissingError(BackendError):
    """The back-end cannot do what was asked; the message carries the back-end's declared reason."""


class Capability(StrEnum):
    """What a back-end may or may not be able to do."""

    LOG_STREAMING = "log_streaming"  #: logs can be followed while the job runs (stream_logs)
    CANCEL_RUNNING = "cancel_running"  #: a running job can be stopped, not only a queued one
    GPUS = "gpus"  #: jobs may ask for GPUs and get them isolated
    MEM_LIMITS = "mem_limits"  #: a job's memory is limited to its mem_gb
    MULTI_NODE = "multi_node"  #: nodes > 1 (a gang started together)
    TIME_LIMITS = "time_limits"  #: time_limit_s is enforced by the back-end
    SURVIVES_RESTART = "survives_restart"  #: status of old jobs is still correct after a platform restart
    FIND_BY_NAME = "find_by_name"  #: a job is found by its name after a platform crash (find_by_name)


@dataclass(frozen=True)
class Capabilities:
    """What a back-end can do. Every capability it lacks has a reason, so nothing is silently missing."""

    supported: frozenset[Capability]
    missing: Mapping[Capability, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        both = self.supported & set(self.missing)
        if both:
            raise ValueError(f"capabilities both supported and missing: {sorted(both)}")
        unaccounted = set(Capability) - self.supported - set(self.missing)
        if unaccounted:
            raise ValueError(
                f"capabilities neither supported nor missing with a reason: {sorted(unaccounted)}"
            )
        for cap, reason in self.missing.items():
            if not reason.strip():
                raise ValueError(f"capability {cap} is missing without a reason")
        object.__setattr__(self, "missing", MappingProxyType(dict(self.missing)))

    def has(self, capability: Capability | str) -> bool:
        return Capability(capability) in self.supported

    def require(self, capability: Capability | str, backend: str = "back-end") -> None:
        """Raise :class:`CapabilityMissingError` with the declared reason unless ``capability`` is supported."""
        cap = Capability(capability)
        if cap not in self.supported:
            raise CapabilityMissingError(f"{backend} cannot do {cap.value} / 不支持: {self.missing[cap]}")


def require(backend: Backend, capability: Capability | str) -> None:
    """Check before use: raise :class:`CapabilityMissingError` (with the reason) if ``backend`` lacks it."""
    backend.capabilities.require(capability, backend.name)


@dataclass(frozen=True)
class BackendJobSpec:
    """What to run, in a back-end neutral form.

    Exactly one of ``command`` (a shell command line, run by ``/bin/sh -c`` or the back-end's equivalent)
    and ``script`` (a whole script, with or without ``#!``) is set. ``workdir`` empty means the back-end's
    default job directory. ``time_limit_s`` None means no limit. Resources are per node. ``tenant`` is the id of
    the tenant the job runs for ("" when none): back-ends run it as that tenant's account (the local back-end:
    its own host account, see :mod:`huanghe.backends.local_accounts`).
    """

    name: str = "job"
    command: str = ""
    script: str = ""
    cpus: float = 1.0
    mem_gb: float = 0.0
    gpus: float = 0.0
    nodes: int = 1
    workdir: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    time_limit_s: float | None = None
    tenant: str = ""  #: the tenant's id ("" when none)
    duration_s: float | None = None  #: estimated run time in the pool, s (only a simulating back-end uses it)

    def __post_init__(self) -> None:
        if bool(self.command.strip()) == bool(self.script.strip()):
            raise ValueError("exactly one of command and script must be set")
        if self.cpus <= 0 or self.mem_gb < 0 or self.gpus < 0 or self.nodes < 1:
            raise ValueError("cpus > 0, mem_gb >= 0, gpus >= 0 and nodes >= 1 are required")
        if self.time_limit_s is not None and self.time_limit_s <= 0:
            raise ValueError("time_limit_s must be > 0 when set")
        if not self.name or len(self.name) > 63:
            raise ValueError("name must have 1 to 63 characters")
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))

    @property
    def shell_script(self) -> str:
        """The job as a shell script (``script`` verbatim, or ``command`` wrapped in a bash script)."""
        if self.script:
            return self.script if self.script.startswith("#!") else "#!/bin/sh\n" + self.script
        return "#!/bin/sh\n" + self.command + "\n"

    @property
    def whole_cpus(self) -> int:
        """CPUs rounded up to whole cores (for back-ends without fractional CPUs)."""
        return max(1, math.ceil(self.cpus))

    @classmethod
    def from_job_spec(cls, spec: JobSpec, name: str, **overrides: object) -> BackendJobSpec:
        """Build from a platform :class:`JobSpec` (its ``duration_s`` is an estimate, not a limit)."""
        values: dict[str, object] = {
            "name": name,
            "command": spec.command,
            "cpus": spec.cpus or 1.0,
            "mem_gb": spec.mem_gb,
            "gpus": spec.gpus,
            "nodes": spec.nodes,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class BackendJobStatus:
    """Where a job stands in the back-end.

    ``exit_code`` is the process exit code when known (128+N when killed by signal N), else None.
    ``started_at``/``ended_at`` are epoch seconds or None. ``message`` explains failures in words.
    """

    state: JobState
    exit_code: int | None = None
    started_at: float | None = None
    ended_at: float | None = None
    message: str = ""

    @property
    def terminal(self) -> bool:
        return self.state.terminal


@dataclass(frozen=True)
class Capacity:
    """Free and total resources right now (all nodes together). Memory in GB (GiB)."""

    cpus_free: float
    cpus_total: float
    gpus_free: float
    gpus_total: float
    mem_gb_free: float
    mem_gb_total: float


@dataclass(frozen=True)
class SubmitBound:
    """The longest a back-end's ``submit()`` can take, seconds, from its settings; ``why`` names the settings
    and how they add up (e.g. ``3 requests × 2 attempts × request_timeout_s 10 s``), for the dispatcher's
    refusal of a bound above ``max_submit_s`` (:func:`huanghe.jobs.dispatch_context.submit_bound_problem`)."""

    s: float
    why: str


#: What a submit may spend on this host besides its requests and commands, seconds (a margin, no network): a job's
#: files, handing a prepared working directory over to the job's account, starting a process.
LOCAL_WORK_S = 10.0
#: The bound of a back-end that submits in memory (no I/O, no wait but its own short lock).
IN_MEMORY_SUBMIT = SubmitBound(1.0, "in memory, no I/O")


@dataclass(frozen=True)
class Health:
    """Whether the back-end can take work now; ``latency_ms`` is the round trip of the check."""

    ok: bool
    latency_ms: float
    message: str = ""


@runtime_checkable
class Backend(Protocol):
    """How the platform runs jobs somewhere. All methods are synchronous and thread-safe per instance.

    Guarantees every implementation gives (checked by ``tests/test_backend_contract.py``):

    - ``submit(spec)`` returns a new, non-empty back-end job id (a string), or raises
      :class:`CapabilityMissingError` (spec needs what the back-end lacks), :class:`BackendUnavailableError`
      (nothing was submitted), :class:`SubmitOutcomeUnknownError` (a request that may have created the job
      got no answer in time) or :class:`BackendError`. It does not wait for the job to start. It returns or
      raises within ``submit_bound.s`` seconds (:class:`SubmitBound`: its request and command timeouts times
      the calls a submit makes), which the dispatcher requires to be at most its ``max_submit_s``: recovery
      after a leader change relies on no submit outliving its claim by more.
    - ``status(job_id)`` returns the current :class:`BackendJobStatus`; for an id the back-end does not
      know it raises :class:`UnknownJobError` (never a made-up state). Terminal states are final.
    - ``cancel(job_id)`` is idempotent: cancelling a queued or running job makes it ``CANCELLED`` (soon, not
      necessarily before ``cancel`` returns); cancelling a job already terminal changes nothing and does
      not raise. An unknown id raises :class:`UnknownJobError`.
    - ``logs(job_id, offset)`` returns the job's output (stdout and stderr in one stream) from byte
      ``offset`` on, decoded as UTF-8 with replacement; ``""`` when nothing new. Unknown id:
      :class:`UnknownJobError`.
    - ``stream_logs(job_id, offset)`` yields new output chunks until the job is terminal (only with
      :attr:`Capability.LOG_STREAMING`; otherwise :class:`CapabilityMissingError`).
    - ``capacity()`` returns free/total resources; ``health()`` never raises: an unreachable back-end is
      ``Health(ok=False, ...)`` with the reason in ``message``.
    - ``find_by_name(name)`` looks for a job submitted with ``spec.name == name`` (after a platform crash:
      the dispatch token) and answers ``(back-end job id or None, certain)``. A found id is certain. ``None``
      with ``certain`` True says the job was provably never submitted, so the platform may submit it again;
      ``None`` with ``certain`` False says the back-end cannot tell (it forgets finished jobs, or could not be
      asked), so the platform fails the job rather than run it twice. It does not raise for an unreachable
      back-end (that is ``(None, False)``). A back-end that lacks :attr:`Capability.FIND_BY_NAME` always
      answers ``(None, False)``; its declared reason says why.
    """

    name: str
    capabilities: Capabilities
    submit_bound: SubmitBound

    def submit(self, spec: BackendJobSpec) -> str: ...

    def status(self, job_id: str) -> BackendJobStatus: ...

    def cancel(self, job_id: str) -> None: ...

    def logs(self, job_id: str, offset: int = 0) -> str: ...

    def stream_logs(
        self, job_id: str, offset: int = 0, poll_s: float = 0.5, timeout_s: float = 3600.0
    ) -> Iterator[str]: ...

    def capacity(self) -> Capacity: ...

    def health(self) -> Health: ...

    def find_by_name(self, name: str) -> tuple[str | None, bool]: ...

    def close(self) -> None: ...


class BackendBase:
    """Shared behaviour: spec checks against capabilities and log streaming by polling ``logs``."""

    name: str = "base"
    capabilities: Capabilities

    def check_spec(self, spec: BackendJobSpec) -> None:
        """Raise :class:`CapabilityMissingError` if ``spec`` needs a capability this back-end lacks."""
        if spec.gpus > 0:
            self.capabilities.require(Capability.GPUS, self.name)
        if spec.nodes > 1:
            self.capabilities.require(Capability.MULTI_NODE, self.name)

    def logs(self, job_id: str, offset: int = 0) -> str:
        raise NotImplementedError

    def status(self, job_id: str) -> BackendJobStatus:
        raise NotImplementedError

    def stream_logs(
        self, job_id: str, offset: int = 0, poll_s: float = 0.5, timeout_s: float = 3600.0
    ) -> Iterator[str]:
        """Yield new output until the job is terminal (then the remaining output) or ``timeout_s`` passes."""
        self.capabilities.require(Capability.LOG_STREAMING, self.name)
        deadline = time.monotonic() + timeout_s
        while True:
            done = self.status(job_id).terminal
            chunk = self.logs(job_id, offset)
            if chunk:
                offset += len(chunk.encode())
                yield chunk
            if done or time.monotonic() >= deadline:
                return
            time.sleep(poll_s)

    def close(self) -> None:
        """Release connections; the instance must not be used afterwards."""


def wait_terminal(
    backend: Backend,
    job_id: str,
    timeout_s: float,
    poll_s: float = 0.1,
    sleep: Callable[[float], None] = time.sleep,
    clock: Clock | None = None,
) -> BackendJobStatus:
    """Poll ``status`` every ``poll_s`` (``sleep``) until the job is terminal; raise ``TimeoutError`` after
    ``timeout_s`` seconds of ``clock`` (default: the wall clock; with a fake clock, pass its ``advance``)."""
    clock = clock or WallClock()
    deadline = clock.now_s() + timeout_s
    while True:
        st = backend.status(job_id)
        if st.terminal:
            return st
        if clock.now_s() >= deadline:
            raise TimeoutError(f"{backend.name} job {job_id} still {st.state} after {timeout_s} s")
        sleep(poll_s)


def exit_code_from_wait_status(raw: int) -> int:
    """A POSIX wait status (as Slurm reports it) → exit code, 128+N for death by signal N."""
    sig = raw & 0x7F
    return 128 + sig if sig else (raw >> 8) & 0xFF


class Settings:
    """Typed access to a pool's ``backend_settings`` (all strings); unknown keys are an error.

    ``known`` maps each accepted key to its one-line description (used in errors and docs).
    """

    def __init__(self, backend: str, values: Mapping[str, str], known: Mapping[str, str]) -> None:
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise BackendConfigError(
                f"{backend}: unknown backend_settings key(s) {unknown}; known: {sorted(known)}"
            )
        self.backend = backend
        self.values = dict(values)

    def get_str(self, key: str, default: str = "") -> str:
        return self.values.get(key, default).strip()

    def get_float(self, key: str, default: float) -> float:
        raw = self.values.get(key)
        if raw is None or not raw.strip():
            return default
        try:
            return float(raw)
        except ValueError:
            raise BackendConfigError(
                f"{self.backend}: backend_settings.{key}={raw!r} is not a number"
            ) from None

    def get_bool(self, key: str, default: bool) -> bool:
        raw = self.values.get(key)
        if raw is None or not raw.strip():
            return default
        low = raw.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise BackendConfigError(f"{self.backend}: backend_settings.{key}={raw!r} is not true/false")

    def get_choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.get_str(key, default)
        if value not in choices:
            raise BackendConfigError(f"{self.backend}: backend_settings.{key}={value!r} not in {choices}")
        return value
