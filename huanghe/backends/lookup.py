"""Finding a dispatch on its back-end after a crash, by the dispatch token (the back-end job name).

Used by :meth:`huanghe.jobs.dispatcher.Scheduler.recover`. Every lookup answers (back-end job id or None,
certain): "certain" means a None really says the job was never submitted, so it may be dispatched again;
otherwise the platform refuses to guess and fails the job rather than run it twice. The back-end specific
searches below belong in the back-ends as ``find_by_name(name)`` one day; a back-end that has that method is
simply asked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx

from huanghe.backends.protocol import Backend

#: A no-op shell command put in front of every dispatched job: lets a restart recognise our own job files.
TOKEN_MARKER = ": huanghe-dispatch-token="
#: Seconds a lookup command or request may take.
LOOKUP_TIMEOUT_S = 10.0


def find_by_token(backend: Backend, token: str) -> tuple[str | None, bool]:
    """Look for a dispatch on ``backend`` after a crash: (back-end job id or None, certain).

    ``certain`` False means the back-end cannot tell whether the job was started. A back-end with a
    ``find_by_name(name)`` method is asked. Local: searched on disk (:func:`_local_find`). Slurm: ``squeue``
    by job name (found → adopted; not found is uncertain, the controller forgets finished jobs after
    ``MinJobAge``). Ray: the Jobs API list by ``metadata.name`` (the cluster keeps every job it ran).
    Other back-ends are uncertain.
    """
    finder = getattr(backend, "find_by_name", None)
    if callable(finder):
        found = finder(token)
        return (str(found) if found else None), True
    root = getattr(backend, "root", None)
    if backend.name == "local" and isinstance(root, Path):
        return _local_find(root, token)
    if backend.name == "slurm":
        return _slurm_find(backend, token)
    if backend.name == "ray":
        return _ray_find(backend, token)
    return None, False


def _has_mark(script: Path, token: str) -> bool:
    marker = (TOKEN_MARKER + token).encode()
    try:
        head = script.read_bytes()[:400]
    except OSError:
        return False
    return any(line.strip(b"; ") == marker for line in head.replace(b";", b"\n").splitlines())


def _local_find(root: Path, token: str) -> tuple[str | None, bool]:
    """The local back-end's job named ``token`` under ``root``.

    Its ``state.json`` names the job. A crash between the back-end writing ``job.sh`` and ``state.json`` leaves
    a directory with our marked script and no state: if the job's wrapper process is alive (found in
    ``/proc`` by its command line) or its ``exit_code`` file exists, the job did start, and the missing
    ``state.json`` is written so the back-end can follow it; otherwise it never started (certain, not found).
    """
    if not root.is_dir():
        return None, True
    for d in root.iterdir():
        if not d.name.startswith("local-"):
            continue
        try:
            if json.loads((d / "state.json").read_text()).get("name") == token:
                return d.name, True
            continue
        except (OSError, ValueError):
            pass
        if _has_mark(d / "job.sh", token):
            return (d.name, True) if _local_adopt(d, token) else (None, True)
    return None, True


def _local_adopt(d: Path, token: str) -> bool:
    """Write ``state.json`` for a local job whose process started before the crash; False if it never did."""
    wrapper = str(d / "wrapper.sh").encode()
    pid, ticks = -1, -1
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            if wrapper not in (p / "cmdline").read_bytes().split(b"\0"):
                continue
            raw = (p / "stat").read_text()
        except OSError:
            continue
        pid, ticks = int(p.name), int(raw[raw.rindex(")") + 2 :].split()[19])
        break
    if pid < 0 and not (d / "exit_code").exists():
        return False
    started = (d / "job.sh").stat().st_mtime
    state = {"id": d.name, "name": token, "pid": pid, "start_ticks": ticks, "started_at": started, "cores": [],
             "cpus": 1.0, "mem_gb": 0.0, "time_limit_s": None, "workdir": str(d / "work"), "adopted": True}  # fmt: skip
    tmp = d / "state.json.tmp"
    tmp.write_text(json.dumps(state))
    tmp.replace(d / "state.json")
    return True


def _slurm_find(backend: Backend, token: str) -> tuple[str | None, bool]:
    """``squeue --states=all --name TOKEN`` (the CLI, with the pool's ``slurm_conf``)."""
    if shutil.which("squeue") is None:
        return None, False
    conf = str(getattr(backend, "slurm_conf", "") or "")
    env = {**os.environ, **({"SLURM_CONF": conf} if conf else {})}
    try:
        cp = subprocess.run(
            ["squeue", "-h", "--states=all", "--name", token, "-o", "%i"],
            env=env, capture_output=True, text=True, timeout=LOOKUP_TIMEOUT_S,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None, False
    ids = [line.strip() for line in cp.stdout.splitlines() if line.strip()]
    if cp.returncode != 0 or not ids:
        return None, False
    return ids[0], True


def _ray_find(backend: Backend, token: str) -> tuple[str | None, bool]:
    """``GET /api/jobs/`` of the Ray head; the job whose ``metadata.name`` is the token."""
    client = getattr(backend, "_http", None)  # the back-end's own client (base URL, auth header)
    if not isinstance(client, httpx.Client):
        return None, False
    try:
        r = client.get("/api/jobs/", timeout=LOOKUP_TIMEOUT_S)
        jobs = r.json() if r.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None, False
    if not isinstance(jobs, list):
        return None, False
    for job in jobs:
        if isinstance(job, dict) and (job.get("metadata") or {}).get("name") == token:
            return str(job.get("submission_id") or job.get("job_id")), True
    return None, True
