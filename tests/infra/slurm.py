"""A real single-node Slurm 22.05 (munged, slurmctld, slurmd, slurmrestd) for the back-end tests.

Everything lives in a private directory: its own ``slurm.conf`` (fake CPUs on loopback, private ports), its
own munge socket, JWT key, state, spool and logs. Daemons run in the foreground as children of the test
process and are stopped by PID, never by name. Missing Debian packages are installed through
``scripts/install-test-debs.sh``. Only usable as root (the daemons and munge need it); tests skip otherwise.

Use :func:`start_slurm` directly, or the session-scoped pytest fixture :func:`slurm_cluster`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.infra.ports import free_port, log_after, log_size, start_with_retry, wait_listening

__all__ = ["SlurmCluster", "forget_jobs", "free_port", "slurm_cluster", "start_slurm"]

REPO = Path(__file__).resolve().parents[2]
DEBS = ["munge", "slurmctld", "slurmd", "slurm-client", "slurmrestd", "slurm-wlm-jwt-plugin"]
REST_VERSION = "v0.0.38"
#: The non-root user REST jobs run as (the token's user).
JOB_USER = "nobody"
NODE_CPUS = 4
NODE_MEM_MB = 4000


def ensure_debs() -> None:
    """Install the Slurm and munge packages when missing (idempotent, ~6 s the first time)."""
    binaries = all(shutil.which(b) for b in ("slurmctld", "slurmd", "slurmrestd", "munged", "sbatch"))
    if binaries and any(Path("/usr/lib").glob("*/slurm-wlm/auth_jwt.so")):
        return
    subprocess.run(["bash", str(REPO / "scripts/install-test-debs.sh"), *DEBS], check=True, timeout=600)


@dataclass
class SlurmCluster:
    """A running private Slurm: where it is and how to reach it."""

    root: Path
    conf: Path
    rest_url: str
    jwt_user: str
    job_dir: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """Environment for Slurm CLI commands against this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def token(self, lifespan_s: int = 3600) -> str:
        """A fresh JWT for :attr:`jwt_user` (``scontrol token``)."""
        out = subprocess.run(
            ["scontrol", "token", f"username={self.jwt_user}", f"lifespan={lifespan_s}"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
        return out.split("=", 1)[1]

    def rest_settings(self) -> dict[str, str]:
        """``backend_settings`` for the slurm back-end over REST."""
        return {
            "rest_url": self.rest_url,
            "user": self.jwt_user,
            "token": self.token(),
            "api_version": REST_VERSION,
            "partition": "debug",
            "workdir": str(self.job_dir),
            "slurm_conf": str(self.conf),
        }

    def cli_settings(self) -> dict[str, str]:
        """``backend_settings`` for the slurm back-end through the CLI (no REST)."""
        return {"slurm_conf": str(self.conf), "partition": "debug", "workdir": str(self.job_dir)}

    def stop(self, name: str) -> None:
        """Stop one daemon by its PID (SIGTERM, then SIGKILL after 5 s)."""
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def stop_all(self) -> None:
        for name in ("slurmrestd", "slurmd", "slurmctld", "munged"):
            self.stop(name)
        self.kill_orphaned_steps()

    def kill_orphaned_steps(self) -> None:
        """Kill, by PID, the job-step daemons this cluster left behind: a ``slurmstepd`` whose slurmd was
        stopped mid-run (the failover tests do that) is re-parented to init and never ends. They are found by
        this cluster's own private ``SLURM_CONF`` in their environment, so nothing else is touched."""
        marker = f"SLURM_CONF={self.conf}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if marker in environ.split(b"\0"):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(int(entry.name), signal.SIGKILL)


def _wait(what: str, check: Callable[[], bool], timeout_s: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # retried until the deadline
            last = exc
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} not ready after {timeout_s} s ({last!r})\n{tail}")


def _conf_text(d: Path, ctld_port: int, slurmd_port: int) -> str:
    return f"""# private Slurm for tests (written by tests/infra/slurm.py)
ClusterName=huanghe
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={d}/munge/munge.socket
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key={d}/jwt.key
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=100
SlurmdParameters=config_overrides
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc={d}/jobcomp.txt
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
SchedulerType=sched/builtin
MpiDefault=none
KillWait=2
InactiveLimit=0
MinJobAge=600
SlurmctldTimeout=10
SlurmdTimeout=5
MessageTimeout=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs={NODE_CPUS} RealMemory={NODE_MEM_MB} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


def start_slurm(root: Path | None = None) -> SlurmCluster:
    """Start munged, slurmctld, slurmd and slurmrestd in ``root`` (a new temp dir by default).

    Returns when ``sinfo`` shows the node idle and the REST ping answers; raises ``RuntimeError`` with the
    log tail otherwise. The caller must call :meth:`SlurmCluster.stop_all`.
    """
    ensure_debs()
    d = Path(root or tempfile.mkdtemp(prefix="hhslurm-", dir="/tmp"))
    d.chmod(0o755)
    for sub in ("state", "spool", "munge"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    job_dir = d / "jobs"
    job_dir.mkdir(exist_ok=True)
    job_dir.chmod(0o1777)  # REST jobs run as JOB_USER and write their output here
    shutil.chown(d / "munge", "munge", "munge")
    (d / "munge").chmod(0o755)
    key = d / "jwt.key"
    key.write_bytes(secrets.token_bytes(32))
    key.chmod(0o600)
    conf = d / "slurm.conf"
    cluster = SlurmCluster(root=d, conf=conf, rest_url="", jwt_user=JOB_USER, job_dir=job_dir)
    devnull = subprocess.DEVNULL
    try:
        m = d / "munge"
        cluster.procs["munged"] = subprocess.Popen(
            [
                "/usr/sbin/munged",
                "--foreground",
                f"--socket={m}/munge.socket",
                f"--pid-file={m}/munged.pid",
                f"--log-file={m}/munged.log",
                f"--seed-file={m}/munged.seed",
            ],
            user="munge",
            group="munge",
            stdin=devnull,
            stdout=devnull,
            stderr=devnull,
        )
        _wait("munged", lambda: (m / "munge.socket").exists(), 10, m / "munged.log")
        _start_slurm_daemons(cluster)
    except BaseException:
        cluster.stop_all()
        raise
    return cluster


def _start_slurm_daemons(cluster: SlurmCluster, clear_state: bool = False) -> None:
    """slurmctld and slurmd (slurmctld with ``-c``: its saved jobs cleared), then slurmrestd; returns when
    ``sinfo`` shows the node idle and the REST ping answers."""
    start_with_retry(lambda: _start_controller_and_node(cluster, clear_state))

    def node_idle() -> bool:
        out = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%T"], env=cluster.env, capture_output=True, text=True, timeout=10
        ).stdout
        return out.strip().startswith("idle")

    _wait("slurm node", node_idle, 30, cluster.root / "slurmctld.log")
    start_with_retry(lambda: _start_rest(cluster))
    token = cluster.token()

    def rest_ok() -> bool:
        r = httpx.get(
            f"{cluster.rest_url}/slurm/{REST_VERSION}/ping",
            headers={"X-SLURM-USER-NAME": JOB_USER, "X-SLURM-USER-TOKEN": token},
            timeout=2,
        )
        return r.status_code == 200

    _wait("slurmrestd", rest_ok, 20, cluster.root / "slurmrestd.log")


def forget_jobs(cluster: SlurmCluster) -> None:
    """Make slurmctld forget every job, as ``MinJobAge`` does with ended ones: slurmctld, slurmd and slurmrestd
    stopped (by PID) and started again, slurmctld with its saved state cleared (``-c``). The job completion log
    (``JobCompLoc``) stays. Returns when the cluster is ready again."""
    for name in ("slurmrestd", "slurmd", "slurmctld"):
        cluster.stop(name)
    _start_slurm_daemons(cluster, clear_state=True)


def _wait_own_port(proc: subprocess.Popen[bytes], port: int, log: Path, offset: int, name: str) -> None:
    """Until ``proc`` (by PID) listens on ``port`` (:func:`tests.infra.ports.wait_listening`, 30 s at most)."""
    wait_listening(proc.pid, [port], alive=lambda: proc.poll() is None, log=lambda: log_after(log, offset),
                   timeout_s=30, what=f"{name} on port {port}")  # fmt: skip


def _start_controller_and_node(cluster: SlurmCluster, clear_state: bool = False) -> None:
    """slurmctld (``-c``: without its saved state) and slurmd on two new free ports (written to ``slurm.conf``);
    returns once each listens on its own port (by PID). PortTakenError (both stopped) when another process took
    one first."""
    d, devnull = cluster.root, subprocess.DEVNULL
    ctld_port, slurmd_port = free_port(), free_port()
    cluster.conf.write_text(_conf_text(d, ctld_port, slurmd_port))
    cluster.conf.chmod(0o644)
    logs = {"slurmctld": d / "slurmctld.log", "slurmd": d / "slurmd.log"}
    offsets = {name: log_size(path) for name, path in logs.items()}
    cluster.procs["slurmctld"] = subprocess.Popen(
        ["/usr/sbin/slurmctld", "-D", "-i", *(["-c"] if clear_state else []), "-f", str(cluster.conf)],
        env=cluster.env, stdin=devnull, stdout=devnull, stderr=devnull,
    )  # fmt: skip
    cluster.procs["slurmd"] = subprocess.Popen(
        ["/usr/sbin/slurmd", "-D", "-N", "localhost", "-f", str(cluster.conf)],
        env=cluster.env, stdin=devnull, stdout=devnull, stderr=devnull,
    )  # fmt: skip
    try:
        for name, port in (("slurmctld", ctld_port), ("slurmd", slurmd_port)):
            _wait_own_port(cluster.procs[name], port, logs[name], offsets[name], name)
    except BaseException:
        cluster.stop("slurmd")
        cluster.stop("slurmctld")
        raise


def _start_rest(cluster: SlurmCluster) -> None:
    """slurmrestd on a new free port; returns once it listens there (by PID). PortTakenError (stopped) when
    another process took the port first."""
    rest_port = free_port()
    log = cluster.root / "slurmrestd.log"
    offset = log_size(log)
    with log.open("ab") as out:
        proc = cluster.procs["slurmrestd"] = subprocess.Popen(
            ["/usr/sbin/slurmrestd", "-u", "nobody", "-g", "nogroup", "-s", f"openapi/{REST_VERSION}",
             "-a", "rest_auth/jwt", f"127.0.0.1:{rest_port}"],
            env={**cluster.env, "SLURM_JWT": "daemon"}, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_own_port(proc, rest_port, log, offset, "slurmrestd")
    except BaseException:
        cluster.stop("slurmrestd")
        raise
    cluster.rest_url = f"http://127.0.0.1:{rest_port}"


def _can_run() -> str | None:
    if os.geteuid() != 0:
        return "the private Slurm needs root (munged, slurmd)"
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        return "no Slurm and no apt-get to install it"
    return None


@contextlib.contextmanager
def private_slurm() -> Iterator[SlurmCluster]:
    """A private, running Slurm in its own temporary directory (the test is skipped where it cannot run);
    at the end its daemons are stopped by PID and the directory removed."""
    reason = _can_run()
    if reason:
        pytest.skip(reason)
    cluster = start_slurm()
    try:
        yield cluster
    finally:
        cluster.stop_all()
        shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """A private, running Slurm for the whole session (stopped by PID at the end)."""
    with private_slurm() as cluster:
        yield cluster
