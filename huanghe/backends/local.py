"""Local back-end: jobs are subprocesses on this host, each with its own directory.

Per job, ``<root>/<job id>/`` holds ``job.sh`` (the script), ``output.log`` (stdout and stderr, one
stream), ``state.json`` (pid, process start ticks, start time, cores, resources) and, written by a tiny shell
wrapper when the job ends, ``exit_code`` (``<code> <epoch s>``). A ``cancelled`` marker is written before a
cancel kills the job's session (every process of it, SIGTERM then SIGKILL). Status is derived only from these files and ``/proc``, so a restarted platform
reconciles correctly: a job that finished while the platform was down has its exit code on disk. A job is
found by its name after a crash (:meth:`LocalBackend.find_by_name`), even one whose ``state.json`` the crash
prevented (by the platform's mark in ``job.sh`` and its wrapper process or exit code).

What is enforced:

- memory: ``ulimit -v`` (RLIMIT_AS, virtual address space) of ``mem_gb`` when > 0 — a job that maps more
  fails to allocate (programs that reserve large virtual areas, e.g. the JVM, need headroom);
- CPUs: the job is pinned with ``taskset`` to ``ceil(cpus)`` cores, the least used by running jobs of this
  root; it also runs under ``nice`` (``nice`` setting, default 10) so the platform stays responsive;
- time: ``timeout`` sends SIGTERM at ``time_limit_s`` (SIGKILL 5 s later); such a job FAILS with code 124;
- not enforced: GPUs (no isolation on a plain host) and more than one node — both declared missing.

Jobs get a clean environment (``PATH``, ``HOME``, ``LANG``, ``HUANGHE_JOB_ID`` and the spec's ``env``),
never the platform's own environment (which may hold secrets).

Sandbox (setting ``sandbox``, default ``bwrap``): each job runs as its tenant's unprivileged account
(:mod:`huanghe.backends.local_accounts`) inside bubblewrap with its own PID, mount, IPC and network namespaces,
the system read-only and only its work directory writable (:mod:`huanghe.backends.sandbox`, which lists what
is isolated and the rlimits). The wrapper runs as root outside the sandbox, so ``output.log`` (the job's
stdout), ``exit_code`` and ``state.json`` are out of the job's reach. ``sandbox=none`` runs jobs as the
server's user, as plain subprocesses: development only; when ``bwrap`` is asked for but unavailable (no
bubblewrap, not root) jobs also run unsandboxed, with a warning, and ``huanghe up`` refuses to start outside dev
mode (:func:`huanghe.backends.sandbox.sandbox_problem` says how to fix it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from huanghe.backends.local_accounts import AccountRegistry
from huanghe.backends.local_procs import alive as _alive
from huanghe.backends.local_procs import kill_session as _kill_session
from huanghe.backends.local_procs import proc_stat as _proc_stat
from huanghe.backends.local_procs import session_members as _session_members
from huanghe.backends.local_procs import wrapper_process as _wrapper_process
from huanghe.backends.protocol import (
    LOCAL_WORK_S,
    TOKEN_MARKER,
    BackendBase,
    BackendConfigError,
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
from huanghe.backends.sandbox import (
    ROOT_ENV,
    SANDBOX_WRAPPER,
    limits_for,
    sandbox_argv,
    sandbox_problem,
    write_job_files,
)
from huanghe.domain.enums import JobState
from huanghe.paths import data_dir

log = logging.getLogger(__name__)

SETTINGS: dict[str, str] = {
    "root": "directory for job directories and state (default <data dir>/local-jobs)",
    "cpus": "CPUs advertised to the scheduler (default: cores this process may use)",
    "mem_gb": "memory advertised, GB (default: MemTotal of the host)",
    "nice": "niceness added to every job, 0-19 (default 10)",
    "kill_grace_s": "seconds between SIGTERM and SIGKILL on cancel (default 3)",
    "sandbox": "bwrap (default: each job as its tenant's account in a bubblewrap sandbox) or none (development "
    "only: jobs run as the server's user)",
    "max_procs": "processes one tenant's account may have at once, all its jobs together (default 512)",
    "max_file_gb": "largest file a job may write, GB, its output.log included (default 16)",
    "tmp_gb": "size of a job's private /tmp (memory-backed), GB (default 1)",
    "account_timeout_s": "longest wait for a tenant's account (found, or created on its first job), seconds "
    "(default 30); a submit takes at most this plus 10 s",
}
SANDBOXES = ("bwrap", "none")

#: The wrapper: limits, run the job, record its exit code and end time. Arguments: job dir, workdir.
WRAPPER = """#!/bin/sh
# huanghe local job wrapper (written by huanghe.backends.local): run job.sh, record its exit code.
d="$1"; w="$2"
if [ -n "$HH_MEM_KB" ]; then ulimit -v "$HH_MEM_KB"; fi
unset HH_MEM_KB
if cd "$w"; then
  if [ -n "$HH_TIME_LIMIT_S" ]; then
    t="$HH_TIME_LIMIT_S"; unset HH_TIME_LIMIT_S
    timeout -k 5 "$t" "$d/job.sh"
  else
    "$d/job.sh"
  fi
  rc=$?
else
  rc=127
fi
printf '%s %s\\n' "$rc" "$(date +%s.%N)" > "$d/exit_code.tmp" && mv "$d/exit_code.tmp" "$d/exit_code"
exit "$rc"
"""


def _has_mark(script: Path, name: str) -> bool:
    """Whether ``script`` starts with the platform's mark for ``name`` (:data:`TOKEN_MARKER`)."""
    marker = (TOKEN_MARKER + name).encode()
    try:
        head = script.read_bytes()[:400]
    except OSError:
        return False
    return any(line.strip(b"; ") == marker for line in head.replace(b";", b"\n").splitlines())


def _hand_over(workdir: Path, uid: int, gid: int) -> None:
    """Make ``workdir`` (0700) and everything in it belong to ``uid``:``gid``, following no symbolic link."""
    for top, dirs, names in os.walk(workdir, followlinks=False):
        for name in (*dirs, *names):
            os.lchown(os.path.join(top, name), uid, gid)
    os.chown(workdir, uid, gid)
    workdir.chmod(0o700)


def _mem_total_gb() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    return 0.0


class LocalBackend(BackendBase):
    """Subprocesses on this host. Thread-safe; several instances may share one ``root``."""

    capabilities = Capabilities(
        supported=frozenset(
            {
                Capability.LOG_STREAMING,
                Capability.CANCEL_RUNNING,
                Capability.MEM_LIMITS,
                Capability.TIME_LIMITS,
                Capability.SURVIVES_RESTART,
                Capability.FIND_BY_NAME,
            }
        ),
        missing={
            Capability.GPUS: "plain subprocesses cannot isolate GPUs / 本地进程无法隔离GPU",
            Capability.MULTI_NODE: "the local back-end runs on one host / 仅单机",
        },
    )

    def __init__(self, settings: Mapping[str, str] | None = None) -> None:
        s = Settings("local", settings or {}, SETTINGS)
        self.name = "local"
        self.root = Path(s.get_str("root") or data_dir() / "local-jobs")
        self.cores = sorted(os.sched_getaffinity(0))
        self.cpus_total = s.get_float("cpus", float(len(self.cores)))
        self.mem_gb_total = s.get_float("mem_gb", _mem_total_gb())
        self.nice = int(s.get_float("nice", 10))
        if not 0 <= self.nice <= 19:
            raise BackendConfigError("local: backend_settings.nice must be 0-19")
        self.kill_grace_s = s.get_float("kill_grace_s", 3.0)
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._taskset = shutil.which("taskset")
        self.sandbox = s.get_choice("sandbox", "bwrap", SANDBOXES)
        self.max_procs = int(s.get_float("max_procs", 512))
        self.max_file_gb = s.get_float("max_file_gb", 16.0)
        self.tmp_gb = s.get_float("tmp_gb", 1.0)
        if self.max_procs < 1 or self.max_file_gb <= 0 or self.tmp_gb <= 0:
            raise BackendConfigError("local: backend_settings.max_procs, max_file_gb and tmp_gb must be > 0")
        #: Why jobs run unsandboxed although ``sandbox=bwrap`` was asked for (None: sandboxed, or ``none``).
        self.sandbox_problem = sandbox_problem() if self.sandbox == "bwrap" else None
        self.sandboxed = self.sandbox == "bwrap" and self.sandbox_problem is None
        if self.sandbox_problem:
            log.warning("local: jobs run UNSANDBOXED (development only): %s", self.sandbox_problem)
        account_timeout_s = s.get_float("account_timeout_s", 30.0)
        if not 0 < account_timeout_s < math.inf:
            raise BackendConfigError("local: backend_settings.account_timeout_s must be a positive number")
        self._accounts = AccountRegistry(frozenset({os.getuid(), os.geteuid()}), account_timeout_s)
        self.submit_bound = SubmitBound(
            account_timeout_s + LOCAL_WORK_S,
            f"account_timeout_s {account_timeout_s:g} s + {LOCAL_WORK_S:g} s for its files and process",
        )

    # -- files -------------------------------------------------------------------------------------
    def _dir(self, job_id: str) -> Path:
        if not job_id.startswith("local-") or "/" in job_id or ".." in job_id:
            raise UnknownJobError(self.name, job_id)
        d = self.root / job_id
        if not (d / "state.json").is_file():
            raise UnknownJobError(self.name, job_id)
        return d

    @staticmethod
    def _state(d: Path) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((d / "state.json").read_text())
        return data

    @staticmethod
    def _write_json(path: Path, data: dict[str, Any]) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)

    def _running_states(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not self.root.is_dir():
            return out
        for d in self.root.iterdir():
            if not d.name.startswith("local-") or (d / "exit_code").exists():
                continue
            try:
                st = self._state(d)
            except (OSError, ValueError):
                continue
            if _alive(st["pid"], st["start_ticks"]):
                out.append(st)
        return out

    # -- protocol ----------------------------------------------------------------------------------
    def submit(self, spec: BackendJobSpec) -> str:
        self.check_spec(spec)
        account = self._accounts.account(spec.tenant) if self.sandboxed else None
        job_id = f"local-{uuid.uuid4().hex[:12]}"
        d = self.root / job_id
        d.mkdir(parents=True, mode=0o700)
        d.chmod(
            0o700
        )  # only root (the platform) enters a job's directory; the job sees it only through bwrap
        workdir = Path(spec.workdir) if spec.workdir else d / "work"
        created = not workdir.exists()
        workdir.mkdir(parents=True, exist_ok=True)
        if account is not None and (created or spec.workdir):
            # a directory the platform prepared (staged inputs) is handed over to the job's account as a whole
            _hand_over(workdir, account.uid, account.gid)
        (d / "job.sh").write_text(spec.shell_script)
        (d / "job.sh").chmod(0o755)
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": str(workdir),
            "LANG": "C.UTF-8",
            "HUANGHE_JOB_ID": job_id,
            **spec.env,
        }
        if account is not None:
            env = {**env, "PATH": env["PATH"] if "PATH" in spec.env else "/usr/local/bin:/usr/bin:/bin"}
            try:
                write_job_files(d, account, env)
            except ValueError as exc:
                raise BackendConfigError(f"local: {exc}") from exc
            (d / "wrapper.sh").write_text(SANDBOX_WRAPPER)
            limits = limits_for(
                spec.mem_gb, spec.time_limit_s, spec.whole_cpus, self.max_procs, self.max_file_gb
            )
            tail = [str(d), *sandbox_argv(d, workdir, account, limits, time_limit_s=spec.time_limit_s,
                                          tmp_bytes=math.ceil(self.tmp_gb * 1024**3))]  # fmt: skip
            env = dict(ROOT_ENV)
        else:
            (d / "wrapper.sh").write_text(WRAPPER)
            tail = [str(d), str(workdir)]
            if spec.mem_gb > 0:
                env["HH_MEM_KB"] = str(math.ceil(spec.mem_gb * 1024 * 1024))
            if spec.time_limit_s is not None:
                env["HH_TIME_LIMIT_S"] = str(math.ceil(spec.time_limit_s))
        with self._lock:
            cores = self._pick_cores(spec.whole_cpus)
            argv = ["nice", "-n", str(self.nice)]
            if self._taskset and cores:
                argv += [self._taskset, "-c", ",".join(map(str, cores))]
            argv += ["/bin/sh", str(d / "wrapper.sh"), *tail]
            fd = os.open(d / "output.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "ab") as out:
                proc = subprocess.Popen(
                    argv,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                )
            stat = _proc_stat(proc.pid)
            self._procs[job_id] = proc
            self._write_json(
                d / "state.json",
                {
                    "id": job_id,
                    "name": spec.name,
                    "pid": proc.pid,
                    "start_ticks": stat[1] if stat else -1,
                    "started_at": time.time(),
                    "cores": cores,
                    "cpus": spec.cpus,
                    "mem_gb": spec.mem_gb,
                    "time_limit_s": spec.time_limit_s,
                    "workdir": str(workdir),
                    "account": account.name if account else None,
                },
            )
        return job_id

    def _pick_cores(self, n: int) -> list[int]:
        use = dict.fromkeys(self.cores, 0)
        for st in self._running_states():
            for c in st.get("cores", []):
                if c in use:
                    use[c] += 1
        ranked = sorted(use, key=lambda c: (use[c], c))
        return sorted(ranked[: min(n, len(ranked))])

    def status(self, job_id: str) -> BackendJobStatus:
        d = self._dir(job_id)
        proc = self._procs.get(job_id)
        if proc is not None:
            proc.poll()  # reap our own child so it does not linger as a zombie
        st = self._state(d)
        started = float(st["started_at"])
        # Liveness BEFORE the files: the wrapper writes ``exit_code``, then exits (seen dead, it has written it if
        # it ever will); the other way round, a job ending between the looks read as killed and was re-queued.
        alive = _alive(st["pid"], st["start_ticks"])
        ec, cancelled = d / "exit_code", d / "cancelled"
        ended = ec.read_text().split() if ec.exists() else None
        if cancelled.exists():
            at = float(cancelled.read_text() or 0) or None
            if alive:
                return BackendJobStatus(JobState.RUNNING, None, started, None, "cancelling")
            # ended by itself before the mark (between cancel's look and its mark): its own end, not CANCELLED,
            # which a center's failover took for its own cancel (and ran the job again elsewhere)
            if ended is None or at is None or float(ended[1]) >= at:
                return BackendJobStatus(JobState.CANCELLED, None, started, at, "cancelled")
        if ended is not None:
            code, end_s = int(ended[0]), float(ended[1])
            if code == 0:
                return BackendJobStatus(JobState.SUCCEEDED, 0, started, end_s)
            msg = f"exit code {code}"
            if code == 124 and st.get("time_limit_s"):
                msg = f"time limit of {st['time_limit_s']} s reached / 超时"
            return BackendJobStatus(JobState.FAILED, code, started, end_s, msg)
        if alive:
            return BackendJobStatus(JobState.RUNNING, None, started)
        return BackendJobStatus(
            JobState.FAILED, None, started, None, "process ended without recording an exit code (killed?)"
        )

    def cancel(self, job_id: str) -> None:
        d = self._dir(job_id)
        if self.status(job_id).terminal:
            return
        st = self._state(d)
        marker = d / "cancelled"
        if not marker.exists():
            marker.write_text(f"{time.time()}")
        pid = int(st["pid"])
        if not _alive(pid, st["start_ticks"]):
            return
        _kill_session(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.kill_grace_s
        while time.monotonic() < deadline:
            self.status(job_id)  # reaps
            if not _session_members(pid):
                return
            time.sleep(0.05)
        _kill_session(pid, signal.SIGKILL)
        proc = self._procs.get(job_id)
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)

    def logs(self, job_id: str, offset: int = 0) -> str:
        d = self._dir(job_id)
        try:
            with (d / "output.log").open("rb") as f:
                f.seek(max(0, offset))
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def capacity(self) -> Capacity:
        running = self._running_states()
        cpus = sum(float(st.get("cpus", 1)) for st in running)
        mem = sum(float(st.get("mem_gb", 0)) for st in running)
        return Capacity(
            cpus_free=max(0.0, self.cpus_total - cpus),
            cpus_total=self.cpus_total,
            gpus_free=0.0,
            gpus_total=0.0,
            mem_gb_free=max(0.0, self.mem_gb_total - mem),
            mem_gb_total=self.mem_gb_total,
        )

    def health(self) -> Health:
        t0 = time.perf_counter()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".probe-{os.getpid()}"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            return Health(False, (time.perf_counter() - t0) * 1000, f"job root not writable: {exc}")
        if self.sandbox_problem:
            return Health(True, (time.perf_counter() - t0) * 1000, f"ok, UNSANDBOXED: {self.sandbox_problem}")
        return Health(True, (time.perf_counter() - t0) * 1000, "ok" if self.sandboxed else "ok, sandbox=none")

    # -- after a crash -----------------------------------------------------------------------------
    def find_by_name(self, name: str) -> tuple[str | None, bool]:
        """The job named ``name`` under ``root``; always certain (the files are all there is).

        Its ``state.json`` names the job. A crash between writing ``job.sh`` and ``state.json`` leaves a
        directory with the platform's marked script and no state: if the job's wrapper process is alive
        (found in ``/proc`` by its command line) or its ``exit_code`` file exists, the job did start, and the
        missing ``state.json`` is written so that :meth:`status` can follow it; otherwise it never started.
        """
        if not self.root.is_dir():
            return None, True
        for d in self.root.iterdir():
            if not d.name.startswith("local-"):
                continue
            try:
                if self._state(d).get("name") == name:
                    return d.name, True
                continue
            except (OSError, ValueError):
                pass
            if _has_mark(d / "job.sh", name):
                return (d.name, True) if self._adopt(d, name) else (None, True)
        return None, True

    def _adopt(self, d: Path, name: str) -> bool:
        """Write ``state.json`` for a job whose process started before the crash; False if it never did."""
        pid, ticks = _wrapper_process(d / "wrapper.sh")
        if pid < 0 and not (d / "exit_code").exists():
            return False
        started = (d / "job.sh").stat().st_mtime
        state = {"id": d.name, "name": name, "pid": pid, "start_ticks": ticks, "started_at": started,
                 "cores": [], "cpus": 1.0, "mem_gb": 0.0, "time_limit_s": None, "workdir": str(d / "work"),
                 "adopted": True}  # fmt: skip
        self._write_json(d / "state.json", state)
        return True

    def close(self) -> None:
        with self._lock:
            for proc in self._procs.values():
                proc.poll()
            self._procs.clear()


def create(settings: Mapping[str, str]) -> LocalBackend:
    return LocalBackend(settings)
