"""SIMULATED back-end: for accelerator pools on a host without accelerators (the bundled dev set-up).

Nothing is executed. A job "runs" on the wall clock (or an injected one) for its estimated run time in the
pool: ``BackendJobSpec.duration_s`` (the platform passes the submitter's estimate divided by the pool's
speed for the job's kind), else the ``default_duration_s`` setting, divided by the ``speed`` setting (default
1: the platform already scaled it). A ``time_limit_s`` shorter than that ends the job at the limit with exit
code 124, as a real back-end's limit would. Every job's log says it was simulated and that its command was
not run; its status message says so too (``SIMULATED``), so the API, CLI and console never present it as a
real accelerator run. :data:`SIMULATED_ATTR` (``simulated = True``) marks the class for ``GET /api/v1/backends``.

Jobs live in memory: after a platform restart the back-end knows none (declared missing, with reasons).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping

from huanghe.backends.fake import FakeBackend, _Job
from huanghe.backends.protocol import (
    BackendConfigError,
    BackendJobSpec,
    Capabilities,
    Capability,
    Health,
    Settings,
)
from huanghe.core.clock import Clock, WallClock

#: The class attribute that marks a back-end whose runs are simulations (read by ``backends.describe``).
SIMULATED_ATTR = "simulated"

SETTINGS: dict[str, str] = {
    "default_duration_s": "simulated run time of a job without an estimate, seconds (default 60)",
    "speed": "divides every run time (default 1: the platform already scaled the estimate by the pool's speed)",
    "gpus": "total GPUs advertised (default 8)",
    "cpus": "total CPUs advertised (default 64)",
    "mem_gb": "total memory advertised, GB (default 512)",
}

#: The status message of every simulated job (never a real accelerator run).
NOTE = "SIMULATED: not executed, no accelerator on this host / 模拟运行，未真实执行"


class SimulatedBackend(FakeBackend):
    """The simulated back-end. ``clock`` tells the time in seconds; default the wall clock. Status, cancel and
    capacity are the fake back-end's clock-timed job store; what differs is how a job's run time and output are
    made (:meth:`submit`), its messages, its logs (readable while it runs) and its health."""

    simulated = True
    running_note = NOTE
    capabilities = Capabilities(
        supported=frozenset(
            {
                Capability.GPUS,
                Capability.MULTI_NODE,
                Capability.TIME_LIMITS,
                Capability.CANCEL_RUNNING,
                Capability.LOG_STREAMING,
            }
        ),
        missing={
            Capability.MEM_LIMITS: "simulation: nothing runs, so no memory is limited / 模拟运行，不限制内存",
            Capability.SURVIVES_RESTART: "simulation in memory: forgets every job when the process ends / 仅内存",
            Capability.FIND_BY_NAME: "simulation in memory: after a crash it knows no job / 仅内存，无法按名称查找",
        },
    )

    def __init__(self, settings: Mapping[str, str] | None = None, clock: Clock | None = None) -> None:
        s = Settings("simulated", settings or {}, SETTINGS)
        self.name = "simulated"
        self.clock = clock or WallClock()
        self.default_duration_s = s.get_float("default_duration_s", 60.0)
        self.speed = s.get_float("speed", 1.0)
        if self.speed <= 0 or self.default_duration_s < 0:
            raise BackendConfigError(
                "simulated: backend_settings.speed must be > 0 and default_duration_s >= 0"
            )
        self.gpus_total = s.get_float("gpus", 8)
        self.cpus_total = s.get_float("cpus", 64)
        self.mem_gb_total = s.get_float("mem_gb", 512)
        self.queue_s = 0.0
        self.healthy = True
        self._jobs: dict[str, _Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def submit(self, spec: BackendJobSpec) -> str:
        self.check_spec(spec)
        estimate = spec.duration_s if spec.duration_s is not None else self.default_duration_s
        run_s = max(float(estimate), 0.0) / self.speed
        code = 0
        what = spec.command or spec.script
        out = (
            f"[huanghe simulated back-end] SIMULATED run, NOT executed: no accelerator on this host. "
            f"{spec.nodes} node(s) x {spec.gpus:g} GPU(s), {spec.cpus:g} core(s); simulated for {run_s:.1f} s "
            f"(the job's estimated run time in this pool).\n"
            f"[huanghe 模拟后端] 模拟运行，未真实执行。Command not run 未执行的命令: {what.strip()}\n"
        )
        if spec.time_limit_s is not None and run_s > spec.time_limit_s:
            run_s, code = float(spec.time_limit_s), 124
            out += "[huanghe simulated back-end] time limit reached / 超出时限\n"
        with self._lock:
            job_id = f"sim-{next(self._ids)}"
            now = self.clock.now_s()
            self._jobs[job_id] = _Job(spec, now, now, run_s, code, out)
        return job_id

    def ended_message(self, exit_code: int) -> str:
        return NOTE if exit_code == 0 else f"{NOTE}; exit code {exit_code} (time limit)"

    def logs(self, job_id: str, offset: int = 0) -> str:
        with self._lock:
            text = self._job(job_id).output
        return text.encode()[offset:].decode(errors="replace")

    def health(self) -> Health:
        return Health(True, 0.0, "ok (simulated / 模拟)")


def create(settings: Mapping[str, str]) -> SimulatedBackend:
    return SimulatedBackend(settings)
