"""Ray back-end over the Ray Jobs REST API (``/api/jobs/`` of the dashboard, default port 8265).

Why plain REST over httpx and not ``ray.job_submission.JobSubmissionClient``: the SDK is the whole ``ray``
package (hundreds of MB, a multi-second import, pinned versions of grpc/protobuf/pydantic that would then
constrain the platform), while the SDK itself only wraps these same HTTP endpoints. The REST API is the
documented, versioned interface (``/api/version``); so the platform needs no Ray installation at all.

Endpoints used: ``GET /api/version`` (health), ``POST /api/jobs/`` (submit), ``GET /api/jobs/{id}``
(status), ``POST /api/jobs/{id}/stop`` (cancel), ``GET /api/jobs/{id}/logs`` (logs),
``GET /api/v0/nodes`` and ``GET /api/cluster_status`` (capacity).

Tenants: Ray has no users, every job runs as the Ray cluster's user. A job with a tenant records it in its
metadata (``tenant``, ``tenant_account`` = :func:`huanghe.backends.local_accounts.account_name`) and, with
``tenant_root`` set, runs in ``<tenant_root>/<account>`` (``HOME`` and ``HUANGHE_TENANT_DIR`` point there
through ``runtime_env.env_vars``; created 0700 when the platform sees that path). Not ``runtime_env.working_dir``:
over REST Ray accepts only a package URI there, never a directory path.

Ray's job log also holds a few lines Ray writes itself (``Runtime env is setting up`` and the entrypoint).

A submit that was never sent (connection refused or timed out, a name that did not resolve, no pooled
connection) is unavailable; one sent and not answered (the send or the answer timed out, the connection closed
mid-way) raises :class:`~huanghe.backends.protocol.SubmitOutcomeUnknownError`: the head may have created the
job, and recovery finds it by name (``find_by_name``).

The job's name (the dispatch token ``hh-<job>-<attempt>``) is its Ray ``submission_id``, and so its back-end id:
Ray refuses a second submission under an existing id, so a dispatch sent twice runs once, and the refusal
("already exists") answers the first one's id. ``find_by_name`` asks for that id directly
(``GET /api/jobs/{name}``), then lists ``GET /api/jobs/`` by ``metadata.name`` for a job submitted before names
were submission ids (its id ``raysubmit_…`` is still followed as it was). A name that is not a plain path
segment (``_SUBMISSION_ID``) is not used as an id: Ray then picks one, as before.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from huanghe.backends.local_accounts import account_name
from huanghe.backends.protocol import (
    GIB,
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
)
from huanghe.backends.submit_outcome import never_sent, outcome_unknown
from huanghe.domain.enums import JobState

SETTINGS: dict[str, str] = {
    "address": "Jobs API URL of the Ray head, e.g. http://10.0.0.5:8265 (required)",
    "auth_token": "bearer token if the dashboard sits behind an authenticating proxy (optional)",
    "timeout_s": "HTTP read timeout per request, seconds (default 60: a busy head starts a job's supervisor slowly)",
    "connect_timeout_s": "HTTP connect timeout, seconds (default 5: an unreachable head is reported quickly)",
    "tenant_root": "directory on storage the Ray nodes share; a tenant's jobs run in <tenant_root>/<account>",
}

#: Ray job status → platform state.
STATE_MAP: dict[str, JobState] = {
    "PENDING": JobState.DISPATCHED,
    "RUNNING": JobState.RUNNING,
    "STOPPED": JobState.CANCELLED,
    "SUCCEEDED": JobState.SUCCEEDED,
    "FAILED": JobState.FAILED,
}

#: A job name Ray may take as its ``submission_id``: one plain segment of the path ``/api/jobs/{id}`` (no ``/``,
#: no ``.``/``..``), never like Ray's generated ``raysubmit_…`` (no ``_``). Dispatch tokens always are.
_SUBMISSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*")


def submission_id(name: str) -> str | None:
    """The Ray ``submission_id`` of a job named ``name`` (the name itself), None when it cannot be one."""
    return name if _SUBMISSION_ID.fullmatch(name) else None


class RayBackend(BackendBase):
    """A Ray cluster reached through its Jobs REST API."""

    capabilities = Capabilities(
        supported=frozenset(
            {
                Capability.LOG_STREAMING,
                Capability.CANCEL_RUNNING,
                Capability.GPUS,
                Capability.SURVIVES_RESTART,
                Capability.FIND_BY_NAME,
            }
        ),
        missing={
            Capability.MEM_LIMITS: "Ray's memory resource is a scheduling hint, not enforced / 内存仅用于调度",
            Capability.MULTI_NODE: "a Ray job is one driver process; gangs are the driver's own business",
            Capability.TIME_LIMITS: "the Ray Jobs API has no run-time limit / 无运行时长限制",
        },
    )

    def __init__(self, settings: Mapping[str, str]) -> None:
        s = Settings("ray", settings, SETTINGS)
        self.name = "ray"
        address = s.get_str("address")
        if not address:
            raise BackendError("ray: backend_settings.address is required (e.g. http://127.0.0.1:8265)")
        self.address = address.rstrip("/")
        self.tenant_root = s.get_str("tenant_root")
        if self.tenant_root and not Path(self.tenant_root).is_absolute():
            raise BackendConfigError("ray: backend_settings.tenant_root must be an absolute path")
        headers = {"Authorization": f"Bearer {s.get_str('auth_token')}"} if s.get_str("auth_token") else {}
        read_s, connect_s = s.get_float("timeout_s", 60.0), s.get_float("connect_timeout_s", 5.0)
        self._read_s, self._connect_s = read_s, connect_s
        # sending a job (a few kB) and waiting for a pooled connection are limited like connecting, so a submit
        # (one POST; its tenant's directory on this host) has a bound below max_submit_s's default of 120 s
        timeout = httpx.Timeout(read_s, connect=connect_s, write=connect_s, pool=connect_s)
        self.submit_bound = SubmitBound(
            read_s + 3 * connect_s + LOCAL_WORK_S,
            f"timeout_s {read_s:g} s + 3 × connect_timeout_s {connect_s:g} s (pool, connect, send) "
            f"+ {LOCAL_WORK_S:g} s",
        )
        self._http = httpx.Client(base_url=self.address, timeout=timeout, headers=headers)

    def _request(self, method: str, path: str, creates_job: bool = False, **kw: Any) -> httpx.Response:
        """One request to the head; with ``creates_job`` a request sent and not answered raises
        :class:`SubmitOutcomeUnknownError` (the head may have created the job), never unavailable."""
        try:
            return self._http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            if creates_job and not never_sent(exc):
                cause = f"{type(exc).__name__}, timeout_s {self._read_s:g} s, connect_timeout_s {self._connect_s:g} s"
                raise outcome_unknown("ray: the job's submission", cause) from exc
            # no address in the message: it reaches job events and center health (issue #11)
            raise BackendUnavailableError(
                f"ray: head unreachable: {str(exc).replace(self.address, '<address>')}"
            ) from exc

    def _job_request(self, method: str, job_id: str, suffix: str = "") -> dict[str, Any]:
        r = self._request(method, f"/api/jobs/{job_id}{suffix}")
        if r.status_code == 404:
            raise UnknownJobError(self.name, job_id)
        if r.status_code >= 400:
            raise BackendError(f"ray: {method} /api/jobs/{job_id}{suffix} → {r.status_code}: {r.text[:300]}")
        data: dict[str, Any] = r.json()
        return data

    def submit(self, spec: BackendJobSpec) -> str:
        self.check_spec(spec)
        entry = spec.command if spec.command else f"sh -c {shlex.quote(spec.shell_script)}"
        env, metadata = dict(spec.env), {"name": spec.name, "submitted_by": "huanghe"}
        workdir = spec.workdir
        if spec.tenant:
            account = metadata["tenant_account"] = account_name(spec.tenant)
            metadata["tenant"] = spec.tenant
            if self.tenant_root:
                home = Path(self.tenant_root) / account
                with contextlib.suppress(OSError):  # not visible here: the cluster's admin provides it
                    home.mkdir(mode=0o700, parents=True, exist_ok=True)
                env = {"HOME": str(home), "HUANGHE_TENANT_DIR": str(home), **env}
                workdir = workdir or str(home)
        if workdir:
            entry = f"cd {shlex.quote(workdir)} && {entry}"
        body: dict[str, Any] = {
            "entrypoint": entry,
            "runtime_env": {"env_vars": env} if env else {},
            "metadata": metadata,
            "entrypoint_num_cpus": spec.cpus,
        }
        if spec.gpus:
            body["entrypoint_num_gpus"] = spec.gpus
        if spec.mem_gb:
            body["entrypoint_memory"] = int(spec.mem_gb * GIB)
        sid = submission_id(spec.name)
        if sid:
            body["submission_id"] = sid
        r = self._request("POST", "/api/jobs/", creates_job=True, json=body)
        if r.status_code >= 400:
            # Ray's refusal of an existing id (400 from its job agent, 500 through the head, the agent's message
            # inside): this dispatch was submitted before (its answer lost); that job is the one to follow
            if sid and f"submission_id {sid} already exists" in r.text:
                return sid
            raise BackendError(f"ray: submit refused ({r.status_code}): {r.text[:300]}")
        return str(r.json()["submission_id"])

    def status(self, job_id: str) -> BackendJobStatus:
        info = self._job_request("GET", job_id)
        state = STATE_MAP.get(str(info.get("status")), JobState.FAILED)
        code = info.get("driver_exit_code")
        if code is None and state is JobState.SUCCEEDED:
            code = 0
        start_ms, end_ms = info.get("start_time"), info.get("end_time")
        return BackendJobStatus(
            state=state,
            exit_code=None if code is None else int(code),
            started_at=start_ms / 1000 if start_ms else None,
            ended_at=end_ms / 1000 if end_ms else None,
            message="" if state is JobState.SUCCEEDED else str(info.get("message") or "")[:500],
        )

    def cancel(self, job_id: str) -> None:
        self._job_request("POST", job_id, "/stop")  # {"stopped": false} for a finished job: fine

    def logs(self, job_id: str, offset: int = 0) -> str:
        text = str(self._job_request("GET", job_id, "/logs").get("logs", ""))
        return text.encode()[max(0, offset) :].decode(errors="replace")

    def capacity(self) -> Capacity:
        """Totals of ALIVE nodes (``/api/v0/nodes``) minus the usage Ray's monitor last reported
        (``/api/cluster_status``, refreshed every few seconds; absent right after start = nothing used)."""
        r = self._request("GET", "/api/v0/nodes")
        if r.status_code >= 400:
            raise BackendError(f"ray: /api/v0/nodes → {r.status_code}")
        total = {"CPU": 0.0, "GPU": 0.0, "memory": 0.0}
        for node in r.json()["data"]["result"]["result"]:
            if node.get("state") == "ALIVE":
                for key in total:
                    total[key] += float((node.get("resources_total") or {}).get(key, 0.0))
        used = dict.fromkeys(total, 0.0)
        r = self._request("GET", "/api/cluster_status")
        if r.status_code == 200:
            report = ((r.json().get("data") or {}).get("clusterStatus") or {}).get("loadMetricsReport") or {}
            for key, pair in (report.get("usage") or {}).items():
                if key in used and isinstance(pair, list) and pair:
                    used[key] = float(pair[0])
        return Capacity(
            cpus_free=max(0.0, total["CPU"] - used["CPU"]),
            cpus_total=total["CPU"],
            gpus_free=max(0.0, total["GPU"] - used["GPU"]),
            gpus_total=total["GPU"],
            mem_gb_free=max(0.0, total["memory"] - used["memory"]) / GIB,
            mem_gb_total=total["memory"] / GIB,
        )

    def health(self) -> Health:
        t0 = time.perf_counter()
        try:
            r = self._http.get("/api/version")
            ms = (time.perf_counter() - t0) * 1000
            if r.status_code != 200:
                return Health(False, ms, f"ray: /api/version → {r.status_code}")
            return Health(True, ms, f"ray {r.json().get('ray_version', '?')}")
        except (httpx.HTTPError, ValueError) as exc:
            return Health(
                False,
                (time.perf_counter() - t0) * 1000,
                f"ray: unreachable: {str(exc).replace(self.address, '<address>')}",
            )

    def find_by_name(self, name: str) -> tuple[str | None, bool]:
        """The job submitted as ``name``: ``GET /api/jobs/{name}`` (its submission id), else the one whose
        ``metadata.name`` is ``name`` in ``GET /api/jobs/`` (submitted before names were ids). The cluster keeps
        every job it ran, so not found is certain; ``(None, False)`` when the head cannot be asked."""
        sid = submission_id(name)
        if sid:
            try:
                r = self._http.get(f"/api/jobs/{sid}", timeout=LOOKUP_TIMEOUT_S)
                job = r.json() if r.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                return None, False
            if isinstance(job, dict) and (job.get("metadata") or {}).get("name") == name:
                return str(job.get("submission_id") or sid), True
            if r.status_code not in (200, 404):
                return None, False
        try:
            r = self._http.get("/api/jobs/", timeout=LOOKUP_TIMEOUT_S)
            jobs = r.json() if r.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None, False
        if not isinstance(jobs, list):
            return None, False
        for job in jobs:
            if isinstance(job, dict) and (job.get("metadata") or {}).get("name") == name:
                return str(job.get("submission_id") or job.get("job_id")), True
        return None, True

    def close(self) -> None:
        self._http.close()


def create(settings: Mapping[str, str]) -> RayBackend:
    return RayBackend(settings)
