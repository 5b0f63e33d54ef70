"""Where the cells of a sweep run: in this process one after another, or as Ray tasks.

Both executors run the same two functions of :mod:`huanghe.sim.sweep` (build a workload, simulate a cell) and
store each finished cell as soon as it finishes (:class:`~huanghe.sim.sweep.SweepStore`), so an interrupted
sweep loses at most the cells that were running. On Ray, each workload is built once by a task of its own and
the cells that share it take its result as an argument (Ray schedules a cell when its workload is ready);
serially, a workload is built once and dropped after its last cell.

SIGINT / SIGTERM stop an executor through a :class:`~huanghe.cli.sweep_stop.StopFlag`: it checks the flag before
each cell and after each one, and returns with ``stopped`` set. Serially the running cell finishes and is stored
first; on Ray the loop leaves within ``WAIT_S`` and the queued and running tasks end with the driver (Ray kills
a job's tasks when its driver disconnects; a local Ray is shut down).

``--ray local`` starts a private single-node Ray for the sweep (loopback, a short temporary directory, no
dashboard; stopped at the end); ``--ray ADDRESS`` joins a running cluster (``HOST:PORT`` of its GCS, or
``ray://HOST:PORT``, or ``auto``), whose workers must have this version of huanghe installed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from huanghe.cli.sweep_stop import StopFlag
from huanghe.sim.sweep import Cell, SweepStore, WorkloadSpec, build_workload_table, run_cell

if TYPE_CHECKING:
    from huanghe.sim.traces.workload_csv import WorkloadTable

#: called once per cell that ends: the cell and the error text (None = finished and stored)
OnDone = Callable[[Cell, str | None], None]

#: environment for a Ray started or joined from here (docs: ../shared/reference/INFRA.md, Ray)
RAY_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # else Ray binds the machine's external address
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_DISABLE_DOCKER_CPU_WARNING": "1",
}


#: seconds between checks of the stop flag while waiting for Ray tasks
WAIT_S = 0.2

#: tries to start a local Ray (its raylet must register within a fixed 30 s, which a busy machine can miss)
LOCAL_START_ATTEMPTS = 3


class RayConnectError(RuntimeError):
    """The --ray cluster could not be started or joined (the message says why)."""


@dataclass
class SweepRun:
    """What an executor did: cells that failed (key → error), wall seconds from start to the last cell, and
    whether a signal stopped it before every cell had run."""

    failed: dict[str, str] = field(default_factory=dict)
    wall_s: float = 0.0
    workers: int = 1
    stopped: bool = False


def _finish(run: SweepRun, stop: StopFlag, own: bool, t0: float) -> SweepRun:
    """Close a run; a caller that gave no flag gets the stop as ``KeyboardInterrupt``, as before flags."""
    run.wall_s = time.perf_counter() - t0
    run.stopped = stop.is_set()
    if run.stopped and own:
        raise KeyboardInterrupt
    return run


def split_done(store: SweepStore, cells: Sequence[Cell]) -> tuple[dict[str, dict[str, Any]], list[Cell]]:
    """(stored results of finished cells by key, cells still to run), both in grid order."""
    done: dict[str, dict[str, Any]] = {}
    todo: list[Cell] = []
    for cell in cells:
        result = store.load(cell)
        if result is None:
            todo.append(cell)
        else:
            done[cell.key()] = result
    return done, todo


def _error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"


def run_serial(
    todo: Sequence[Cell],
    store: SweepStore,
    given: dict[WorkloadSpec, WorkloadTable],
    on_done: OnDone,
    stop: StopFlag | None = None,
) -> SweepRun:
    """Each cell in this process, in order; ``given`` holds workloads read up front (``--workload`` files).
    Stops before the next cell once ``stop`` is set (by SIGINT / SIGTERM while this runs)."""
    t0 = time.perf_counter()
    run = SweepRun()
    flag = stop or StopFlag()
    with flag.installed():
        _serial_cells(todo, store, given, on_done, flag, run)
    return _finish(run, flag, stop is None, t0)


def _serial_cells(
    todo: Sequence[Cell],
    store: SweepStore,
    given: dict[WorkloadSpec, WorkloadTable],
    on_done: OnDone,
    stop: StopFlag,
    run: SweepRun,
) -> None:
    left = Counter(c.workload_spec() for c in todo)
    cache: dict[WorkloadSpec, WorkloadTable | BaseException] = dict(given)
    for cell in todo:
        if stop.is_set():  # between cells, and so also after each one
            return
        spec = cell.workload_spec()
        if spec not in cache:
            try:
                cache[spec] = build_workload_table(spec)
            except Exception as exc:  # reported per cell; the other workloads still run
                cache[spec] = exc
            if stop.is_set():  # a build can take a while: do not start the cell after it
                return
        table = cache[spec]
        error: str | None = None
        try:
            if isinstance(table, BaseException):
                raise table
            store.save(cell, run_cell(cell, table))
        except Exception as exc:
            error = _error(exc)
            run.failed[cell.key()] = error
        left[spec] -= 1
        if left[spec] == 0:
            cache.pop(spec, None)
        on_done(cell, error)


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast when nothing listens at ``[ray://]HOST:PORT`` (``ray.init`` would retry for minutes)."""
    if address in ("local", "auto"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except (OSError, ValueError) as exc:
        raise RayConnectError(f"nothing answers at {address} 无响应 ({exc})") from None


@contextlib.contextmanager
def ray_session(address: str, num_cpus: int | None = None) -> Any:
    """Start (``local``) or join (anything else) a Ray cluster for the duration; yields the ``ray`` module.
    A local Ray is shut down and its temporary directory removed afterwards."""
    check_reachable(address)
    for k, v in RAY_ENV.items():
        os.environ.setdefault(k, v)
    if address == "local":
        # Ray 2.60 turns token auth on for a new local cluster and writes ~/.ray/auth_token, which then switches
        # every later `ray start` of this user to token auth (their unauthenticated clients get 401). This
        # cluster is private to the command and bound to 127.0.0.1; RAY_AUTH_MODE=token keeps Ray's default.
        # A joined cluster keeps its own mode.
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    temp_dir: str | None = None
    try:
        if address == "local":
            temp_dir = tempfile.mkdtemp(prefix="hhsw", dir="/tmp")  # short: Ray's socket paths are bounded
            for attempt in range(LOCAL_START_ATTEMPTS):
                try:
                    ray.init(
                        num_cpus=num_cpus,
                        include_dashboard=False,
                        log_to_driver=False,
                        configure_logging=False,
                        _node_ip_address="127.0.0.1",
                        _temp_dir=temp_dir,
                    )
                    break
                except Exception as exc:  # Ray waits a fixed 30 s for its raylet: a loaded machine misses it
                    ray.shutdown()
                    if "timed out during startup" not in str(exc) or attempt == LOCAL_START_ATTEMPTS - 1:
                        raise
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (
        Exception
    ) as exc:  # ConnectionError, ValueError, RuntimeError, TimeoutError... all mean "no cluster"
        with contextlib.suppress(Exception):
            ray.shutdown()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise RayConnectError(f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1:]}") from exc
    try:
        yield ray
    finally:
        ray.shutdown()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


def run_ray(
    ray: Any,
    todo: Sequence[Cell],
    store: SweepStore,
    given: dict[WorkloadSpec, WorkloadTable],
    on_done: OnDone,
    stop: StopFlag | None = None,
) -> SweepRun:
    """Every cell as a Ray task (1 CPU each) on the connected cluster; results are stored as they arrive.
    Leaves within ``WAIT_S`` once ``stop`` is set; the tasks still queued or running end with the driver."""
    t0 = time.perf_counter()
    run = SweepRun(workers=int(ray.cluster_resources().get("CPU", 1)))
    build = ray.remote(num_cpus=1)(build_workload_table)
    simulate = ray.remote(num_cpus=1, max_retries=1)(run_cell)
    tables: dict[WorkloadSpec, Any] = {}
    for spec in dict.fromkeys(c.workload_spec() for c in todo):
        tables[spec] = ray.put(given[spec]) if spec in given else build.remote(spec)
    refs = {simulate.remote(cell, tables[cell.workload_spec()]): cell for cell in todo}
    flag = stop or StopFlag()
    # installed here, inside the Ray session: ray.init replaces the SIGTERM handler with its own
    with flag.installed():
        while refs and not flag.is_set():
            ready, _ = ray.wait(list(refs), num_returns=1, timeout=WAIT_S)
            for ref in ready:
                cell = refs.pop(ref)
                error: str | None = None
                try:
                    store.save(cell, ray.get(ref))
                except Exception as exc:  # ray.exceptions.RayTaskError wraps the task's own exception
                    cause = getattr(exc, "cause", None)
                    error = _error(cause if isinstance(cause, BaseException) else exc)
                    run.failed[cell.key()] = error
                on_done(cell, error)
    return _finish(run, flag, stop is None, t0)
