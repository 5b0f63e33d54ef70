"""FAKE back-end: in memory, deterministic, with an injectable clock. For tests and the simulator.

Nothing is executed. A tiny interpreter gives the usual test commands their real meaning, so the same
contract tests pass here and on real back-ends: a command is split on ``;`` and ``&&``; ``echo ARGS``
appends a line to the log, ``sleep N`` adds N seconds to the run time, ``exit N`` / ``false`` end it with
that code (``true`` and anything else succeed and take ``duration_s``, unless a ``sleep`` set the time).
A job starts ``queue_s`` after submission and runs for its run time on the injected clock.
Failures can also be forced: ``fail_every`` = k makes every k-th submitted job fail with exit code 1.
It cannot find a job by name after a crash: its jobs live in the platform's own memory.
"""

from __future__ import annotations

import itertools
import shlex
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from huanghe.backends.protocol import (
    IN_MEMORY_SUBMIT,
    BackendBase,
    BackendJobSpec,
    BackendJobStatus,
    Capabilities,
    Capability,
    Capacity,
    Health,
    Settings,
    SubmitBound,
    UnknownJobError,
)
from huanghe.core.clock import Clock, WallClock
from huanghe.domain.enums import JobState

SETTINGS: dict[str, str] = {
    "duration_s": "run time of a job without a `sleep`, seconds (default 0.05)",
    "queue_s": "time from submission to start, seconds (default 0)",
    "fail_every": "every k-th submitted job fails with exit code 1 (default 0 = never)",
    "cpus": "total CPUs advertised (default 64)",
    "gpus": "total GPUs advertised (default 8)",
    "mem_gb": "total memory advertised, GB (default 256)",
}


@dataclass
class _Job:
    spec: BackendJobSpec
    submitted_at: float
    start_at: float
    run_s: float
    exit_code: int
    output: str
    cancelled_at: float | None = None
    extra: dict[str, str] = field(default_factory=dict)


def interpret(command: str, default_s: float) -> tuple[float, int, str]:
    """(run time s, exit code, output) of a command under the fake's tiny interpreter."""
    run_s: float | None = None
    out: list[str] = []
    code = 0
    for part in (p.strip() for chunk in command.split(";") for p in chunk.split("&&")):
        if not part:
            continue
        try:
            words = shlex.split(part)
        except ValueError:
            words = part.split()
        head, args = words[0], words[1:]
        if head == "echo":
            out.append(" ".join(args) + "\n")
        elif head == "sleep" and args:
            run_s = (run_s or 0.0) + float(args[0])
        elif head == "exit":
            code = int(args[0]) if args else 0
            break
        elif head == "false":
            code = 1
            break
    return (default_s if run_s is None else run_s), code, "".join(out)


class FakeBackend(BackendBase):
    """The fake back-end. ``clock`` tells the time in seconds (epoch or simulated); default the wall clock.

    Its in-memory, clock-timed job store (status, cancel, capacity) is shared by
    :class:`huanghe.backends.simulated.SimulatedBackend`, which says what its messages say through
    :attr:`running_note` and :meth:`ended_message`."""

    #: Status message of a running job.
    running_note = ""

    capabilities = Capabilities(
        supported=frozenset(set(Capability) - {Capability.SURVIVES_RESTART, Capability.FIND_BY_NAME}),
        missing={
            Capability.SURVIVES_RESTART: "in memory: forgets every job when the process ends / 仅内存",
            Capability.FIND_BY_NAME: "in memory: after a crash it knows no job, so it cannot tell whether one "
            "was submitted / 仅内存，无法按名称查找",
        },
    )

    submit_bound: SubmitBound = IN_MEMORY_SUBMIT

    def __init__(self, settings: Mapping[str, str] | None = None, clock: Clock | None = None):
        s = Settings("fake", settings or {}, SETTINGS)
        self.name = "fake"
        self.clock = clock or WallClock()
        self.duration_s = s.get_float("duration_s", 0.05)
        self.queue_s = s.get_float("queue_s", 0.0)
        self.fail_every = int(s.get_float("fail_every", 0))
        self.cpus_total = s.get_float("cpus", 64)
        self.gpus_total = s.get_float("gpus", 8)
        self.mem_gb_total = s.get_float("mem_gb", 256)
        self.healthy = True
        self._jobs: dict[str, _Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def submit(self, spec: BackendJobSpec) -> str:
        self.check_spec(spec)
        with self._lock:
            n = next(self._ids)
            job_id = f"fake-{n}"
            run_s, code, out = interpret(spec.command or spec.script, self.duration_s)
            if self.fail_every and n % self.fail_every == 0 and code == 0:
                code, out = 1, out + "fake: forced failure\n"
            if spec.time_limit_s is not None and run_s > spec.time_limit_s:
                run_s, code = spec.time_limit_s, 124
                out += "fake: time limit reached\n"
            now = self.clock.now_s()
            self._jobs[job_id] = _Job(spec, now, now + self.queue_s, run_s, code, out)
            return job_id

    def _job(self, job_id: str) -> _Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise UnknownJobError(self.name, job_id)
        return job

    def status(self, job_id: str) -> BackendJobStatus:
        with self._lock:
            job = self._job(job_id)
            now = self.clock.now_s()
            end_at = job.start_at + job.run_s
            if job.cancelled_at is not None and job.cancelled_at < end_at:
                started = job.start_at if job.cancelled_at >= job.start_at else None
                return BackendJobStatus(JobState.CANCELLED, None, started, job.cancelled_at, "cancelled")
            if now < job.start_at:
                return BackendJobStatus(JobState.DISPATCHED, message="queued")
            if now < end_at:
                return BackendJobStatus(JobState.RUNNING, started_at=job.start_at, message=self.running_note)
            state = JobState.SUCCEEDED if job.exit_code == 0 else JobState.FAILED
            return BackendJobStatus(
                state, job.exit_code, job.start_at, end_at, self.ended_message(job.exit_code)
            )

    def ended_message(self, exit_code: int) -> str:
        """Status message of an ended job."""
        return "" if exit_code == 0 else f"exit code {exit_code}"

    def cancel(self, job_id: str) -> None:
        with self._lock:
            job = self._job(job_id)
            now = self.clock.now_s()
            if job.cancelled_at is None and now < job.start_at + job.run_s:
                job.cancelled_at = now

    def logs(self, job_id: str, offset: int = 0) -> str:
        st = self.status(job_id)
        job = self._job(job_id)
        text = job.output if st.state in (JobState.SUCCEEDED, JobState.FAILED) else ""
        return text.encode()[offset:].decode(errors="replace")

    def capacity(self) -> Capacity:
        with self._lock:
            running = [j for j in self._jobs.values() if self._running(j)]
        cpus = sum(j.spec.cpus * j.spec.nodes for j in running)
        gpus = sum(j.spec.gpus * j.spec.nodes for j in running)
        mem = sum(j.spec.mem_gb * j.spec.nodes for j in running)
        return Capacity(
            cpus_free=max(0.0, self.cpus_total - cpus),
            cpus_total=self.cpus_total,
            gpus_free=max(0.0, self.gpus_total - gpus),
            gpus_total=self.gpus_total,
            mem_gb_free=max(0.0, self.mem_gb_total - mem),
            mem_gb_total=self.mem_gb_total,
        )

    def _running(self, job: _Job) -> bool:
        now = self.clock.now_s()
        return job.cancelled_at is None and job.start_at <= now < job.start_at + job.run_s

    def health(self) -> Health:
        return Health(self.healthy, 0.0, "ok" if self.healthy else "fake: marked unhealthy")

    def find_by_name(self, name: str) -> tuple[str | None, bool]:
        """Always ``(None, False)``: lacks :attr:`Capability.FIND_BY_NAME` (see its declared reason)."""
        return None, False


def create(settings: Mapping[str, str]) -> FakeBackend:
    return FakeBackend(settings)
