"""Slurm back-end: slurmrestd over httpx (JWT auth), with the Slurm CLI as fallback.

REST (``rest_url`` set): OpenAPI ``v0.0.38`` (Slurm 22.05) by default — ``GET /slurm/{v}/ping``,
``POST /slurm/{v}/job/submit``, ``GET /slurm/{v}/job/{id}``, ``DELETE /slurm/{v}/job/{id}``,
``GET /slurm/{v}/jobs``, ``GET /slurm/{v}/nodes`` — with headers ``X-SLURM-USER-NAME`` and
``X-SLURM-USER-TOKEN``. The payload is version-aware: up to v0.0.38 ``environment`` is an object,
from v0.0.39 (Slurm 23.02+) a list of ``K=V`` strings and several numbers become ``{set, number}`` objects.

CLI (no ``rest_url``, or no connection to slurmrestd opened and ``cli`` is ``auto``): ``sbatch --parsable``,
``squeue --json --states=all -j ID``, ``scancel``, ``sinfo --json``, ``scontrol ping``; ``slurm_conf``
sets ``SLURM_CONF``. Only a request never sent (:mod:`~huanghe.backends.submit_outcome`) falls back, so a job is
never submitted twice; a submit sent and not answered (REST, or ``sbatch`` killed by ``timeout_s`` or a signal, or
its "Socket timed out") raises ``SubmitOutcomeUnknownError``: the job may exist, recovery finds it by name; an
``sbatch`` that could not connect to slurmctld is unavailable (``submit_outcome.sbatch_failure``).

Logs are read from the job's output file (``<workdir>/huanghe-<id>.out``): the platform must see the
cluster's file system there (shared storage, or the platform runs on the login node).
``tenant_accounts=mapped``: a job with a tenant runs as its account ``hh-t-<id>-<hash>`` (``account_name``;
it must exist on the cluster), REST: ``X-SLURM-USER-NAME`` with the pool's root/SlurmUser token, CLI:
``sbatch --uid`` as root; output in ``<workdir>/<account>/``. Otherwise (or no tenant) as the pool's identity.
slurmctld keeps a job ``MinJobAge`` (default 300 s) after it ends. A job it no longer knows is looked up in the
cluster's history (``slurm_history``: ``sacct`` from accounting, then ``sacct -c`` from the job completion log
named by ``JobCompLoc`` in ``slurm_conf``): ``status`` returns the recorded end, ``find_by_name`` the recorded id.
Only when neither knows the job (or the history shows it unfinished) does ``status`` raise
:class:`UnknownJobError`, with the reason. The history is read through the CLI in both modes: slurmrestd v0.0.38
has none without slurmdbd, so with ``cli=never`` a forgotten job stays unknown (and the platform re-runs it).
"""

from __future__ import annotations

import json
import math
import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from huanghe.backends.local_accounts import account_name
from huanghe.backends.protocol import (
    LOCAL_WORK_S,
    LOOKUP_TIMEOUT_S,
    BackendBase,
    BackendConfigError,
    BackendError,
    BackendJobSpec,
    BackendJobStatus,
    BackendUnavailableError,
    Capabilities,
    Capability,
    Capacity,
    Health,
    Settings,
    SubmitBound,
    UnknownJobError,
    exit_code_from_wait_status,
)
from huanghe.backends.slurm_fields import gpus_in_gres, job_status, map_state, number
from huanghe.backends.slurm_history import past_job, past_job_named
from huanghe.backends.submit_outcome import never_sent, outcome_unknown, sbatch_failure

SETTINGS: dict[str, str] = {
    "rest_url": "slurmrestd URL, e.g. http://slurm-head:6820 (empty = CLI only)",
    "api_version": "slurmrestd OpenAPI version (default v0.0.38 = Slurm 22.05; v0.0.39+ for 23.02+)",
    "user": "user name sent as X-SLURM-USER-NAME; jobs run as this user",
    "token": "JWT sent as X-SLURM-USER-TOKEN (scontrol token username=USER lifespan=...)",
    "token_file": "file holding the JWT, re-read on every request (for rotated tokens)",
    "partition": "partition to submit to (default: the cluster's default partition)",
    "account": "Slurm account to charge (optional)",
    "workdir": "directory for job output and default working directory, visible to the platform",
    "slurm_conf": "path of slurm.conf for the CLI (sets SLURM_CONF)",
    "cli": "auto (fall back to the CLI when REST is unreachable), never, or only (default auto)",
    "timeout_s": "timeout of each REST request or CLI command, seconds (default 10)",
    "health_timeout_s": "a health check slower than this is not ok, seconds (default 3)",
    "tenant_accounts": "mapped (jobs as their tenant's account) or shared (default mapped if root submits)",
}

_MODES = ("mapped", "shared")
_BAD_NODE_STATES = ("down", "drain", "fail", "not_responding", "unknown", "future", "power")


def _hand_over(workdir: Path, account: str) -> None:
    """Give ``workdir`` and everything in it to the host account ``account`` (when root and it exists), so a job
    running as that account can write there; no symbolic link is followed."""
    pw = next((p for p in pwd.getpwall() if p.pw_name == account), None)
    if pw is None or os.geteuid() != 0 or not workdir.is_dir():
        return
    for top, dirs, names in os.walk(workdir, followlinks=False):
        for name in (*dirs, *names):
            os.lchown(os.path.join(top, name), pw.pw_uid, pw.pw_gid)
    os.chown(workdir, pw.pw_uid, pw.pw_gid)
    workdir.chmod(0o700)


class SlurmBackend(BackendBase):
    """A Slurm cluster through slurmrestd (preferred) or the CLI."""

    capabilities = Capabilities(supported=frozenset(Capability), missing={})

    def __init__(self, settings: Mapping[str, str]) -> None:
        s = Settings("slurm", settings, SETTINGS)
        self.name = "slurm"
        self.rest_url = s.get_str("rest_url").rstrip("/")
        self.api_version = s.get_str("api_version", "v0.0.38")
        if not self.api_version.startswith("v0.0."):
            raise BackendConfigError(f"slurm: api_version {self.api_version!r} is not like v0.0.38")
        self.user = s.get_str("user")
        self.token = s.get_str("token")
        self.token_file = s.get_str("token_file")
        self.partition = s.get_str("partition")
        self.account = s.get_str("account")
        self.workdir = s.get_str("workdir") or os.getcwd()
        self.slurm_conf = s.get_str("slurm_conf")
        self.cli = s.get_choice("cli", "auto", ("auto", "never", "only"))
        self.timeout_s = s.get_float("timeout_s", 10.0)
        self.health_timeout_s = s.get_float("health_timeout_s", 3.0)
        if self.cli != "only" and self.rest_url and not (self.user and (self.token or self.token_file)):
            raise BackendConfigError("slurm: rest_url needs user and token (or token_file)")
        if self.cli == "never" and not self.rest_url:
            raise BackendConfigError("slurm: cli=never needs rest_url")
        self._http = httpx.Client(timeout=self.timeout_s) if self.rest_url and self.cli != "only" else None
        # REST: waiting for a pooled connection, connecting, sending, the answer (httpx limits each phase to
        # timeout_s); or a request never sent (pool, connect), then sbatch under the same limit; plus the job's dir
        self.submit_bound = SubmitBound(
            4 * self.timeout_s + LOCAL_WORK_S,
            f"4 × timeout_s {self.timeout_s:g} s (pool, connect, send, answer; or sbatch) + {LOCAL_WORK_S:g} s",
        )
        mapped = self.user == "root" if self._http is not None else os.geteuid() == 0  # may impersonate
        self.tenant_accounts = s.get_choice("tenant_accounts", "mapped" if mapped else "shared", _MODES)

    # -- transport ---------------------------------------------------------------------------------
    @property
    def _minor(self) -> int:
        return int(self.api_version.rsplit(".", 1)[1])

    def _headers(self, user: str = "") -> dict[str, str]:
        token = self.token
        if self.token_file:
            try:
                token = Path(self.token_file).read_text().strip().removeprefix("SLURM_JWT=")
            except (OSError, UnicodeDecodeError) as exc:  # no path in the message: it reaches center health
                reason = exc.strerror if isinstance(exc, OSError) else "not text"
                raise BackendUnavailableError(f"slurm: token_file unreadable: {reason}") from None
        return {"X-SLURM-USER-NAME": user or self.user, "X-SLURM-USER-TOKEN": token}

    def _scrub(self, exc: Exception) -> str:
        """An error's text without the connection URL (messages reach job events and center health)."""
        return str(exc).replace(self.rest_url, "<rest_url>") if self.rest_url else str(exc)

    def _use_rest(self) -> bool:
        return self._http is not None

    def _rest(
        self, method: str, path: str, user: str = "", creates_job: bool = False, **kw: Any
    ) -> dict[str, Any] | None:
        """Call slurmrestd (as ``user``, default the pool's); None = the request was never sent, use the CLI.
        With ``creates_job``, a request sent and not answered raises :class:`SubmitOutcomeUnknownError`."""
        assert self._http is not None
        url = f"{self.rest_url}/slurm/{self.api_version}{path}"
        try:
            r = self._http.request(method, url, headers=self._headers(user), **kw)
        except httpx.HTTPError as exc:
            if never_sent(exc):
                if self.cli == "auto" and shutil.which("sbatch"):
                    return None
                raise BackendUnavailableError(f"slurm: slurmrestd unreachable: {self._scrub(exc)}") from exc
            if creates_job:  # slurmctld may have queued the job: no fallback to sbatch (it would run twice)
                cause = f"{type(exc).__name__}, timeout_s {self.timeout_s:g} s"
                raise outcome_unknown("slurm: the job's submission to slurmrestd", cause) from exc
            raise BackendUnavailableError(f"slurm: slurmrestd failed: {self._scrub(exc)}") from exc
        if r.status_code in (401, 403):
            raise BackendUnavailableError(f"slurm: slurmrestd refused the token ({r.status_code}); renew it")
        try:
            data: dict[str, Any] = r.json()
        except ValueError:
            raise BackendError(f"slurm: {method} {path} → {r.status_code}: {r.text[:300]}") from None
        data["_status_code"] = r.status_code
        if any((e.get("error_number", e.get("errno")) == -1) for e in self._errors(data)):
            # slurmrestd 22.05 reports a token slurmctld rejects as "Unspecified error" (-1)
            raise BackendUnavailableError(
                f"slurm: slurmctld refused the request (check user and token): {self._errors(data)}"
            )
        return data

    @staticmethod
    def _errors(data: dict[str, Any]) -> list[dict[str, Any]]:
        return [e for e in data.get("errors") or [] if e]

    @staticmethod
    def _is_invalid_job(errors: list[dict[str, Any]]) -> bool:
        return any(e.get("error_number") == 2017 or "Invalid job id" in str(e.get("error")) for e in errors)

    def _run(
        self,
        argv: list[str],
        timeout_s: float | None = None,
        env: Mapping[str, str] | None = None,
        creates_job: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """``argv`` within ``timeout_s`` (default: the setting); killed then: unavailable, or with ``creates_job``
        :class:`SubmitOutcomeUnknownError` (it may have submitted)."""
        full_env = {
            **os.environ,
            **({"SLURM_CONF": self.slurm_conf} if self.slurm_conf else {}),
            **(env or {}),
        }
        if shutil.which(argv[0]) is None:
            raise BackendUnavailableError(f"slurm: {argv[0]} not found; install slurm-client or set rest_url")
        try:
            limit = timeout_s or self.timeout_s
            return subprocess.run(argv, env=full_env, capture_output=True, text=True, timeout=limit)
        except subprocess.TimeoutExpired as exc:
            if creates_job:
                raise outcome_unknown(f"slurm: {argv[0]}", f"killed after timeout_s {limit:g} s") from exc
            raise BackendUnavailableError(f"slurm: {argv[0]} timed out after {limit} s") from exc

    # -- submit ------------------------------------------------------------------------------------
    def _account(self, spec: BackendJobSpec) -> str:
        """The account ``spec`` runs as on the cluster: its tenant's when mapped, else "" (the pool's)."""
        return account_name(spec.tenant) if spec.tenant and self.tenant_accounts == "mapped" else ""

    def _job_dir(self, account: str) -> str:
        """``workdir``, or ``<workdir>/<account>`` (made 0700, owned by the account when root and it exists)."""
        if not account:
            return self.workdir
        d = Path(self.workdir) / account
        if not d.exists() and os.geteuid() == 0:
            pw = next((p for p in pwd.getpwall() if p.pw_name == account), None)
            if pw is not None:
                d.mkdir(mode=0o700, exist_ok=True)
                os.chown(d, pw.pw_uid, pw.pw_gid)
        return str(d)

    def _output_path(self, job_dir: str = "") -> str:
        return str(Path(job_dir or self.workdir) / "huanghe-%j.out")

    def _rest_payload(self, spec: BackendJobSpec, job_dir: str = "") -> dict[str, Any]:
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HUANGHE_JOB_NAME": spec.name, **spec.env}
        job: dict[str, Any] = {
            "name": spec.name,
            "current_working_directory": spec.workdir or job_dir or self.workdir,
            "standard_output": self._output_path(job_dir),
            "standard_error": self._output_path(job_dir),
            "nodes": spec.nodes,
            "cpus_per_task": spec.whole_cpus,
            "tasks": spec.nodes,
        }
        if spec.mem_gb:
            job["memory_per_node"] = math.ceil(spec.mem_gb * 1024)
        if spec.gpus:
            job["tres_per_node"] = f"gres/gpu:{math.ceil(spec.gpus)}"
        if spec.time_limit_s:
            job["time_limit"] = max(1, math.ceil(spec.time_limit_s / 60))
        if self.partition:
            job["partition"] = self.partition
        if self.account:
            job["account"] = self.account
        if self._minor <= 38:
            job["environment"] = env
        else:
            job["environment"] = [f"{k}={v}" for k, v in env.items()]
            if "time_limit" in job:
                job["time_limit"] = {"set": True, "infinite": False, "number": job["time_limit"]}
            if "memory_per_node" in job:
                job["memory_per_node"] = {"set": True, "infinite": False, "number": job["memory_per_node"]}
        return {"script": spec.shell_script, "job": job}

    def submit(self, spec: BackendJobSpec) -> str:
        self.check_spec(spec)
        account = self._account(spec)
        job_dir = self._job_dir(account)
        runs_as = account or (self.user if self._use_rest() else "")
        if runs_as and runs_as != "root" and spec.workdir:
            _hand_over(Path(spec.workdir), runs_as)  # a directory the platform prepared (staged inputs)
        if self._use_rest():
            payload = self._rest_payload(spec, job_dir)
            data = self._rest("POST", "/job/submit", user=account, creates_job=True, json=payload)
            if data is not None:
                errors = self._errors(data)
                if errors or not data.get("job_id"):
                    raise BackendError(f"slurm: submit refused: {errors or data}")
                return str(data["job_id"])
        return self._submit_cli(spec, account, job_dir)

    def _submit_cli(self, spec: BackendJobSpec, account: str = "", job_dir: str = "") -> str:
        argv = [
            "sbatch",
            "--parsable",
            f"--job-name={spec.name}",
            f"--output={self._output_path(job_dir)}",
            f"--chdir={spec.workdir or job_dir or self.workdir}",
            f"--nodes={spec.nodes}",
            f"--ntasks={spec.nodes}",
            f"--cpus-per-task={spec.whole_cpus}",
            # names only: sbatch takes the values from its own environment (values may hold commas)
            "--export=" + ",".join(["PATH", "HUANGHE_JOB_NAME", *spec.env]),
        ]
        if spec.mem_gb:
            argv.append(f"--mem={math.ceil(spec.mem_gb * 1024)}M")
        if spec.gpus:
            argv.append(f"--gpus-per-node={math.ceil(spec.gpus)}")
        if spec.time_limit_s:
            argv.append(f"--time={max(1, math.ceil(spec.time_limit_s / 60))}")
        if self.partition:
            argv.append(f"--partition={self.partition}")
        if self.account:
            argv.append(f"--account={self.account}")
        if account:
            argv.append(f"--uid={account}")
        script = Path(self.workdir) / f".huanghe-submit-{os.getpid()}-{time.monotonic_ns()}.sh"
        script.write_text(spec.shell_script)
        try:
            cp = self._run(
                [*argv, str(script)], env={"HUANGHE_JOB_NAME": spec.name, **spec.env}, creates_job=True
            )
        finally:
            script.unlink(missing_ok=True)
        if cp.returncode != 0:  # unknown (it may have queued the job), unavailable (never sent) or refused
            raise sbatch_failure(cp.returncode, cp.stderr)
        return cp.stdout.strip().split(";")[0]

    # -- status ------------------------------------------------------------------------------------
    def _job_info(self, job_id: str) -> dict[str, Any]:
        if not job_id.isdigit():
            raise UnknownJobError(self.name, job_id)
        if self._use_rest():
            data = self._rest("GET", f"/job/{job_id}")
            if data is not None:
                errors = self._errors(data)
                if self._is_invalid_job(errors):
                    raise UnknownJobError(self.name, job_id)
                if errors:
                    raise BackendUnavailableError(f"slurm: job query failed: {errors}")
                return self._pick(data.get("jobs") or [], job_id)
        cp = self._run(["squeue", "--json", "--states=all", "-j", job_id])
        if cp.returncode != 0:
            if "Invalid job id" in cp.stderr:
                raise UnknownJobError(self.name, job_id)
            raise BackendUnavailableError(f"slurm: squeue failed: {cp.stderr.strip()[:300]}")
        return self._pick(json.loads(cp.stdout).get("jobs") or [], job_id)

    def _pick(self, jobs: list[dict[str, Any]], job_id: str) -> dict[str, Any]:
        for job in jobs:
            if str(job.get("job_id")) == job_id:
                return job
        raise UnknownJobError(self.name, job_id)

    def status(self, job_id: str) -> BackendJobStatus:
        try:
            info = self._job_info(job_id)
        except UnknownJobError:
            return self._past_status(job_id)
        state = map_state(info.get("job_state", ""))
        raw = info.get("exit_code")
        code: int | None = None
        if isinstance(raw, dict):  # v0.0.39+: {"status": ..., "return_code": n, "signal": {...}}
            rc = number(raw.get("return_code"))
            code = None if rc is None else int(rc)
        elif raw is not None:
            code = exit_code_from_wait_status(int(raw))
        start, end = number(info.get("start_time")), number(info.get("end_time"))
        return job_status(state, code, start, end, str(info.get("state_reason") or ""))

    def _history_allowed(self) -> bool:
        """The CLI may be used for the cluster's history: not ``cli=never`` (slurmrestd v0.0.38 has none)."""
        return self.cli != "never"

    def _past_status(self, job_id: str) -> BackendJobStatus:
        """A job slurmctld no longer knows, as the cluster's history recorded its end (``slurm_history``); only
        an ended job counts (one the history shows running was lost with slurmctld's state)."""
        if not job_id.isdigit() or not self._history_allowed():
            raise UnknownJobError(self.name, job_id, "" if job_id.isdigit() else "not a Slurm job id")
        past, why = past_job(self._run, job_id, self.timeout_s)
        if past is None:
            raise UnknownJobError(self.name, job_id, why)
        state = map_state(past.state)
        if not state.terminal:
            raise UnknownJobError(self.name, job_id, f"sacct: {past.state} but slurmctld does not know it")
        return job_status(state, past.exit_code, past.started_at, past.ended_at)

    def cancel(self, job_id: str) -> None:
        st = self.status(job_id)  # raises UnknownJobError
        if st.terminal:
            return
        if self._use_rest():
            data = self._rest("DELETE", f"/job/{job_id}")
            if data is not None:
                errors = self._errors(data)
                if errors and not self._is_invalid_job(errors):
                    raise BackendError(f"slurm: cancel failed: {errors}")
                return
        cp = self._run(["scancel", job_id])
        if cp.returncode != 0:
            raise BackendError(f"slurm: scancel failed: {cp.stderr.strip()[:300]}")

    def logs(self, job_id: str, offset: int = 0) -> str:
        info = self._job_info(job_id)
        out = str(info.get("standard_output") or self._output_path())
        path = Path(out.replace("%j", job_id).replace("%x", str(info.get("name", ""))))
        if not path.is_absolute():
            path = Path(str(info.get("current_working_directory") or self.workdir)) / path
        try:
            with path.open("rb") as f:
                f.seek(max(0, offset))
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    # -- cluster -----------------------------------------------------------------------------------
    def _nodes(self, timeout_s: float | None = None) -> list[dict[str, Any]]:
        if self._use_rest():
            data = self._rest("GET", "/nodes", timeout=timeout_s or self.timeout_s)
            if data is not None:
                if self._errors(data):
                    raise BackendUnavailableError(f"slurm: node query failed: {self._errors(data)}")
                return list(data.get("nodes") or [])
        cp = self._run(["sinfo", "--json"], timeout_s)
        if cp.returncode != 0:
            raise BackendUnavailableError(f"slurm: sinfo failed: {cp.stderr.strip()[:300]}")
        return list(json.loads(cp.stdout).get("nodes") or [])

    @staticmethod
    def _node_usable(node: dict[str, Any]) -> bool:
        state = node.get("state")
        words = [*(state if isinstance(state, list) else [state]), *(node.get("state_flags") or [])]
        return not any(str(w).lower().startswith(_BAD_NODE_STATES) for w in words if w)

    def capacity(self) -> Capacity:
        cpus_t = cpus_f = gpus_t = gpus_f = mem_t = mem_f = 0.0
        for node in self._nodes():
            cpus = float(node.get("cpus") or 0)
            mem_mb = float(number(node.get("real_memory")) or 0)
            gpus = gpus_in_gres(str(node.get("gres") or ""))
            cpus_t += cpus
            mem_t += mem_mb / 1024
            gpus_t += gpus
            if self._node_usable(node):
                cpus_f += max(0.0, cpus - float(node.get("alloc_cpus") or 0))
                mem_f += max(0.0, mem_mb - float(number(node.get("alloc_memory")) or 0)) / 1024
                gpus_f += max(0.0, gpus - gpus_in_gres(str(node.get("gres_used") or "")))
        return Capacity(cpus_f, cpus_t, gpus_f, gpus_t, mem_f, mem_t)

    def health(self) -> Health:
        """OK when slurmctld answers the ping AND at least one node is usable (not down/not responding)."""
        t0 = time.perf_counter()
        try:
            ok, msg = self._ping()
            if ok:
                usable = [n for n in self._nodes(self.health_timeout_s) if self._node_usable(n)]
                if not usable:
                    ok, msg = False, "slurm: no usable node (all down, drained or not responding)"
                else:
                    msg = f"slurm: controller up, {len(usable)} usable node(s)"
        except Exception as exc:  # health never raises: report why
            ok, msg = False, str(exc)[:500]
        return Health(ok, (time.perf_counter() - t0) * 1000, msg)

    def _ping(self) -> tuple[bool, str]:
        if self._use_rest():
            data = self._rest("GET", "/ping", timeout=self.health_timeout_s)
            if data is not None:
                pings = data.get("pings") or []
                if self._errors(data) or not pings:
                    return False, f"slurm: ping failed: {self._errors(data)}"
                up = [p for p in pings if str(p.get("ping", "")).upper() == "UP"]
                return bool(up), "slurm: controller " + ("up" if up else "down")
        cp = self._run(["scontrol", "ping"], self.health_timeout_s)
        return (cp.returncode == 0 and "UP" in cp.stdout), cp.stdout.strip() or cp.stderr.strip()

    def find_by_name(self, name: str) -> tuple[str | None, bool]:
        """``squeue --states=all --name NAME`` (the CLI, with ``slurm_conf``), then the cluster's history
        (``sacct``, for a job slurmctld forgot): found → its id, certain; not found (or no CLI) →
        ``(None, False)``: a history may be off or incomplete, so absence proves nothing."""
        try:
            cp = self._run(["squeue", "-h", "--states=all", "--name", name, "-o", "%i"], LOOKUP_TIMEOUT_S)
        except (BackendError, OSError):
            return None, False
        ids = [line.strip() for line in cp.stdout.splitlines() if line.strip()]
        if cp.returncode == 0 and ids:
            return ids[0], True
        past = past_job_named(self._run, name, LOOKUP_TIMEOUT_S) if self._history_allowed() else None
        return (past.job_id, True) if past is not None else (None, False)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


def create(settings: Mapping[str, str]) -> SlurmBackend:
    return SlurmBackend(settings)
