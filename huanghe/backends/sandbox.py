"""The local back-end's sandbox: bubblewrap (``bwrap``) started as root, the job dropped to its tenant's account.

The command a sandboxed job runs under (built by :func:`sandbox_argv`, all outside the job's reach)::

    [timeout -k 5 T] prlimit --as --cpu --nproc --fsize --nofile -- bwrap <namespaces, mounts> --
        setpriv --reuid U --regid G --clear-groups --no-new-privs --bounding-set=-all -- /bin/sh -c <launch>

* ``bwrap`` runs as root without a user namespace (so the job's uid is its real account's uid on the host, and
  RLIMIT_NPROC counts that account's processes), with new PID, mount, IPC, UTS, network and cgroup namespaces:
  the job sees only its own processes in ``/proc``, only a loopback interface with nothing behind it (local jobs
  have **no network**), the system read-only (``/usr``, the ``/bin``, ``/lib*`` links, a minimal ``/etc`` with
  a generated ``passwd``/``group``/``hosts``), ``/dev`` minimal, a private tmpfs ``/tmp`` (size-capped) and
  its work directory (the only writable host path, mode 0700, owned by the account). Nothing else of the host
  is mounted: not the platform's data directory, database, logs, other jobs' directories or other tenants'
  files. ``--die-with-parent`` ties the sandbox to its ``bwrap``; the job's wrapper (root, outside) is the
  session leader and survives a platform restart.
* ``setpriv`` drops to the account with no capabilities and ``no_new_privs`` (set-uid programs are inert).
* The environment is cleared; the job gets only ``PATH``, ``HOME``, ``LANG``, ``HUANGHE_JOB_ID`` and what it
  declared, read from a file only root and the account can read (never on a command line; removed at the end).
* Limits (rlimits, per process; NPROC per account): address space = ``mem_gb``; CPU seconds =
  ``time_limit_s`` × whole CPUs + 1; processes = ``max_procs``; file size = ``max_file_gb``; open files 4096.
"""

from __future__ import annotations

import functools
import math
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from huanghe.backends.local_accounts import Account

#: PATH inside the sandbox (the host's PATH may name directories that are not mounted there).
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
#: Where the job's script and environment file appear inside the sandbox (read-only).
INSIDE = "/.huanghe"
#: Files of /etc a program may need; mounted read-only when they exist. passwd, group, hosts are generated.
ETC_FILES = ("nsswitch.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives",
             "ssl", "ca-certificates", "mime.types", "protocols", "services")  # fmt: skip
_TOOLS = ("bwrap", "setpriv", "prlimit", "useradd", "timeout")
HOW_TO_FIX = (
    "install bubblewrap (`apt-get install bubblewrap`, or `make test-deps`), run the server as root so it can "
    "create the tenants' accounts, or move the pool to another back-end (slurm, kubernetes, ray); "
    "for development only, set the pool's backend_settings.sandbox to `none` in dev mode"
)


#: The sandboxed wrapper (runs as root, outside the sandbox): run the sandbox command line given after the job
#: dir, record its exit code where the job cannot write.
SANDBOX_WRAPPER = """#!/bin/sh
# huanghe local job wrapper (written by huanghe.backends.local): run the sandboxed job, record its exit code.
d="$1"; shift
"$@"
rc=$?
rm -f "$d/env.sh"
printf '%s %s\\n' "$rc" "$(date +%s.%N)" > "$d/exit_code.tmp" && mv "$d/exit_code.tmp" "$d/exit_code"
exit "$rc"
"""
#: The wrapper's own environment when sandboxed (the job's variables never reach a process running as root).
ROOT_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


@dataclass(frozen=True)
class Limits:
    """rlimits of one job: bytes of address space (0: none), CPU seconds (None: none), processes of the
    account, bytes per written file."""

    mem_bytes: int
    cpu_s: int | None
    max_procs: int
    max_file_bytes: int


def limits_for(mem_gb: float, time_limit_s: float | None, whole_cpus: int, max_procs: int,
               max_file_gb: float) -> Limits:  # fmt: skip
    """The :class:`Limits` of a request: ``mem_gb`` in GiB, ``time_limit_s`` of wall time (CPU time allowed is
    that times ``whole_cpus``, plus one second), ``max_file_gb`` in GiB."""
    cpu = None if time_limit_s is None else math.ceil(time_limit_s * whole_cpus) + 1
    return Limits(math.ceil(mem_gb * 1024**3), cpu, max_procs, math.ceil(max_file_gb * 1024**3))


@functools.cache
def sandbox_problem() -> str | None:
    """Why sandboxed jobs cannot run on this host (with how to fix it), or None when they can.

    Checks the tools, root (to create accounts and drop to them), and once that ``bwrap`` really starts a
    sandbox here (a kernel or container may forbid namespaces). Cached for the process.
    """
    missing = [t for t in _TOOLS if shutil.which(t) is None]
    if missing:
        return f"{', '.join(missing)} not found; {HOW_TO_FIX}"
    if os.geteuid() != 0:
        return f"the server does not run as root (uid {os.geteuid()}), so it cannot run jobs as tenants' accounts; {HOW_TO_FIX}"
    probe = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--ro-bind", "/usr",
             "/usr", *_system_links(), "--proc", "/proc", "--dev", "/dev", "--die-with-parent", "--", "true"]  # fmt: skip
    try:
        res = subprocess.run(probe, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not start a sandbox ({exc}); {HOW_TO_FIX}"
    if res.returncode != 0:
        return f"bwrap could not start a sandbox ({res.stderr.strip()[:200]}); {HOW_TO_FIX}"
    return None


def _system_links() -> list[str]:
    """Mount arguments for /bin, /sbin and /lib* (symbolic links into /usr on merged-/usr systems)."""
    out: list[str] = []
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/") / name
        if p.is_symlink():
            out += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            out += ["--ro-bind", str(p), str(p)]
    return out


def write_job_files(d: Path, account: Account, env: Mapping[str, str]) -> None:
    """Write the job's generated /etc files and its environment file (``export K='v'`` lines, owned by the
    account, mode 0400) into its directory ``d`` (which only root may enter)."""
    (d / "passwd").write_text(
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"{account.name}:x:{account.uid}:{account.gid}::{env.get('HOME', '/')}:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )
    (d / "group").write_text(f"root:x:0:\n{account.name}:x:{account.gid}:\nnogroup:x:65534:\n")
    (d / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
    for name in ("passwd", "group", "hosts"):
        (d / name).chmod(0o644)
    lines = []
    for key, value in env.items():
        if not key.isidentifier() or not key.isascii():
            raise ValueError(f"env: {key!r} is not a valid variable name")
        lines.append(f"export {key}={shlex.quote(value)}\n")
    envf = d / "env.sh"
    fd = os.open(envf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400)
    with os.fdopen(fd, "w") as f:
        f.write("".join(lines))
    os.chown(envf, account.uid, account.gid)


def sandbox_argv(d: Path, workdir: Path, account: Account, limits: Limits, *, time_limit_s: float | None,
                 tmp_bytes: int) -> list[str]:  # fmt: skip
    """The command line that runs ``d/job.sh`` sandboxed as ``account`` in ``workdir`` (see the module doc)."""
    argv: list[str] = []
    if time_limit_s is not None:
        argv += ["timeout", "-k", "5", str(math.ceil(time_limit_s))]
    argv += ["prlimit", f"--nproc={limits.max_procs}", f"--fsize={limits.max_file_bytes}", "--nofile=4096",
             "--core=0"]  # fmt: skip
    if limits.mem_bytes > 0:
        argv.append(f"--as={limits.mem_bytes}")
    if limits.cpu_s is not None:
        argv.append(f"--cpu={limits.cpu_s}")
    argv += ["--", "bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
             "--unshare-cgroup-try", "--die-with-parent", "--hostname", "huanghe-job",
             "--ro-bind", "/usr", "/usr", *_system_links(),
             "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/tmp",
             "--perms", "0755", "--dir", "/etc"]  # fmt: skip
    for name in ETC_FILES:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for name in ("passwd", "group", "hosts"):
        argv += ["--ro-bind", str(d / name), f"/etc/{name}"]
    for parent in reversed(workdir.parents):
        if str(parent) not in ("/", "/tmp", "/usr") and not str(parent).startswith("/usr/"):
            argv += ["--perms", "0755", "--dir", str(parent)]
    argv += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir),
             "--perms", "0755", "--dir", INSIDE,
             "--ro-bind", str(d / "job.sh"), f"{INSIDE}/job.sh", "--ro-bind", str(d / "env.sh"), f"{INSIDE}/env",
             "--clearenv", "--setenv", "PATH", SANDBOX_PATH, "--",
             "setpriv", f"--reuid={account.uid}", f"--regid={account.gid}", "--clear-groups", "--no-new-privs",
             "--inh-caps=-all", "--bounding-set=-all", "--",
             "/bin/sh", "-c", f". {INSIDE}/env && exec {INSIDE}/job.sh"]  # fmt: skip
    return argv


def startup_refusals(pools: Sequence[tuple[str, str, Mapping[str, object]]]) -> list[str]:
    """Why a production server must not start with these pools (``(pool id, backend, backend_settings)``):
    one line per ``local`` pool whose jobs would run unsandboxed, each saying how to fix it; [] when none."""
    out = []
    for pool_id, backend, settings in pools:
        if backend != "local":
            continue
        mode = str(settings.get("sandbox", "bwrap") or "bwrap")
        if mode != "bwrap":
            out.append(
                f"pool {pool_id}: backend_settings.sandbox={mode!r} runs tenants' jobs unsandboxed; set it to "
                "'bwrap' (or remove it), or move the pool to another back-end (slurm, kubernetes, ray)"
            )
            continue
        problem = sandbox_problem()
        if problem:
            out.append(f"pool {pool_id}: the local sandbox is unavailable: {problem}")
    return out
