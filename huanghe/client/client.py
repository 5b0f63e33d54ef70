""":class:`HuangheClient`: one method per server operation the CLI uses (jobs, alerts, the network, the
observatory, health). Answers are the server's JSON, typed (:mod:`huanghe.client.types`), or for centers,
cities and pools the server's pydantic schemas (:mod:`huanghe.network.schemas`, imported on first use)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from huanghe.client.base import Params
from huanghe.client.errors import JobIdUnresolvedError, RequestRefusedError, WaitTimeoutError
from huanghe.client.programmes import ProgrammeCalls
from huanghe.client.types import (
    TERMINAL_STATES,
    Alert,
    AlertPage,
    GreenList,
    IndexResult,
    Job,
    JobBatch,
    JobEvents,
    JobLogs,
    JobPage,
    JobSubmission,
    Maturity,
    NetworkCapacity,
    Report,
    Sensitivity,
    TargetStatus,
    WhoAmI,
)

if TYPE_CHECKING:
    from huanghe.backends.schemas import BackendPublic
    from huanghe.network.schemas import CenterPublic, CityPublic, PoolPublic, RegionPublic, SecretPublic

M = TypeVar("M")

#: Page size when reading a whole list (the server's largest ``?limit=``).
ALL_PAGE_LIMIT = 1000
#: Length of a full job id (``j`` + 11 hex digits of epoch ms + 8 random hex digits), characters.
JOB_ID_CHARS = 20
#: Pages of :data:`ALL_PAGE_LIMIT` jobs read at most to resolve a short id (the newest 5,000 visible jobs).
RESOLVE_MAX_PAGES = 5
#: Default time limit of a report download (rendering a PDF takes a while), seconds.
REPORT_TIMEOUT_S = 300.0


class HuangheClient(ProgrammeCalls):
    """The typed HTTP client of a Huanghe server, and the Python SDK::

        from huanghe.client import HuangheClient, ClientError

        with HuangheClient() as hh:            # $HUANGHE_URL, $HUANGHE_TOKEN
            job = hh.submit_job({"command": "echo hi", "cpus": 1})
            done = hh.wait_job(job["id"], timeout_s=600)
            print(done["state"], hh.job_logs(job["id"])["data"])

    Every failure raises a :class:`~huanghe.client.errors.ClientError` (see that module for the family).
    """

    # ------------------------------------------------------------ jobs

    def submit_job(self, job: JobSubmission | Mapping[str, Any], idempotency_key: str | None = None) -> Job:
        """Submit one job (``POST /jobs``); with ``idempotency_key``, a retry returns the same job."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        data: Job = self.call("POST", "/jobs", json=dict(job), headers=headers)
        return data

    def submit_jobs(
        self, jobs: Sequence[JobSubmission | Mapping[str, Any]], idempotency_key: str | None = None
    ) -> JobBatch:
        """Submit many jobs in one transaction (``POST /jobs:batch``, at most 10,000): all are stored or none.
        ``idempotency_key`` covers the whole batch: a retry with it returns the same jobs, nothing new."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        body = {"jobs": [dict(j) for j in jobs]}
        data: JobBatch = self.call("POST", "/jobs:batch", json=body, headers=headers)
        return data

    def whoami(self) -> WhoAmI:
        """The caller as the server sees it (role, tenant; ``GET /auth/whoami``)."""
        data: WhoAmI = self.call("GET", "/auth/whoami")
        return data

    def resolve_job_id(self, prefix: str) -> str:
        """The full id of the one job whose id starts with ``prefix`` (a full id is returned as it is).

        Bounded: reads at most :data:`RESOLVE_MAX_PAGES` pages of the caller's visible jobs, newest first
        (the server filters a tenant's list to its own jobs). When none of them matches, the prefix is tried
        as an exact id. Raises :class:`JobIdUnresolvedError` when no job matches (``candidates`` empty) or
        several do (``candidates`` their ids, newest first)."""
        prefix = prefix.strip()
        if len(prefix) >= JOB_ID_CHARS:
            return prefix
        matches: list[str] = []
        offset, scanned, total = 0, 0, 0
        for _ in range(RESOLVE_MAX_PAGES):
            page = self.list_jobs(limit=ALL_PAGE_LIMIT, offset=offset)
            total = page["total"]
            matches.extend(j["id"] for j in page["items"] if j["id"].startswith(prefix))
            scanned += len(page["items"])
            offset += len(page["items"])
            if not page["items"] or offset >= total:
                break
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise JobIdUnresolvedError(
                f"job id {prefix!r} is ambiguous: {len(matches)} jobs start with it; give more characters "
                "(作业编号不唯一)", candidates=matches, url=self.url, method="GET", path="/jobs",
            )  # fmt: skip
        try:
            return self.get_job(prefix)["id"]
        except RequestRefusedError as exc:
            if exc.status_code != 404:
                raise
        where = f" among the newest {scanned} of {total} jobs you can see" if scanned < total else ""
        raise JobIdUnresolvedError(
            f"job {prefix!r} not found: no job id starts with it{where} (作业不存在)",
            candidates=[],
            url=self.url,
            method="GET",
            path="/jobs",
        )

    def list_jobs(
        self,
        *,
        state: str | None = None,
        pool: str | None = None,
        center: str | None = None,
        tenant: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> JobPage:
        """A page of jobs, newest first; filters combine with AND."""
        params = {"state": state, "pool": pool, "center": center, "tenant": tenant, "limit": limit,
                  "offset": offset}  # fmt: skip
        data: JobPage = self.call("GET", "/jobs", params=params)
        return data

    def get_job(self, job_id: str) -> Job:
        """One job with its state ``history``, ``placements`` and latest ``placement`` (with why)."""
        data: Job = self.call("GET", f"/jobs/{job_id}")
        return data

    def cancel_job(self, job_id: str) -> Job:
        """Cancel a job in any state (idempotent; a terminal job stays as it is); the job as it is now."""
        data: Job = self.call("POST", f"/jobs/{job_id}:cancel")
        return data

    def job_logs(self, job_id: str, offset: int = 0) -> JobLogs:
        """The job's output (stdout + stderr) from byte ``offset``; continue from ``next_offset``."""
        data: JobLogs = self.call("GET", f"/jobs/{job_id}/logs", params={"offset": offset})
        return data

    def job_events(self, job_id: str) -> JobEvents:
        """Every recorded event of a job, oldest first."""
        data: JobEvents = self.call("GET", f"/jobs/{job_id}/events")
        return data

    def wait_job(
        self,
        job_id: str,
        timeout_s: float = 3600.0,
        poll_s: float = 0.2,
        on_poll: Callable[[Job], None] | None = None,
    ) -> Job:
        """Poll the job every ``poll_s`` seconds until it is terminal (SUCCEEDED, FAILED, CANCELLED).

        ``on_poll`` sees the job (as :meth:`get_job` gives it) after every poll, the last one included.
        Raises WaitTimeoutError (a ``TimeoutError``) when it is not terminal after ``timeout_s`` seconds."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.get_job(job_id)
            if on_poll is not None:
                on_poll(job)
            if job["state"] in TERMINAL_STATES:
                return job
            if time.monotonic() > deadline:
                raise WaitTimeoutError(
                    f"job {job_id} still {job['state']} after {timeout_s:g} s", job, url=self.url
                )
            time.sleep(poll_s)

    # ------------------------------------------------------------ alerts

    def list_alerts(self, state: str | None = None, limit: int = 100, offset: int = 0) -> AlertPage:
        """Alerts, newest first; ``state`` is ``open``, ``acknowledged`` or ``resolved``."""
        data: AlertPage = self.call(
            "GET", "/alerts", params={"state": state, "limit": limit, "offset": offset}
        )
        return data

    def get_alert(self, alert_id: int) -> Alert:
        data: Alert = self.call("GET", f"/alerts/{alert_id}")
        return data

    def ack_alert(self, alert_id: int) -> Alert:
        """open → acknowledged (no change if already acknowledged; RequestRefusedError 409 if resolved)."""
        data: Alert = self.call("POST", f"/alerts/{alert_id}:ack")
        return data

    def resolve_alert(self, alert_id: int) -> Alert:
        """→ resolved by hand (no change if already resolved)."""
        data: Alert = self.call("POST", f"/alerts/{alert_id}:resolve")
        return data

    # ------------------------------------------------------------ the network

    def _page_items(self, path: str, parse: Callable[[Any], M], params: Params) -> list[M]:
        """Every item of a paged list (each through ``parse``), reading pages of :data:`ALL_PAGE_LIMIT`."""
        items: list[M] = []
        offset = 0
        while True:
            page = self.call("GET", path, params={**params, "limit": ALL_PAGE_LIMIT, "offset": offset})
            items.extend(parse(x) for x in page["items"])
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return items

    def regions(self) -> list[RegionPublic]:
        """Every economic circle (region)."""
        from huanghe.network.schemas import RegionPublic

        return self._page_items("/regions", RegionPublic.model_validate, {})

    def cities(self, region: str | None = None) -> list[CityPublic]:
        """Every city (of ``region``), with its seat's coordinates (WGS-84 degrees)."""
        from huanghe.network.schemas import CityPublic

        return self._page_items("/cities", CityPublic.model_validate, {"region": region})

    def centers(
        self,
        *,
        city: str | None = None,
        region: str | None = None,
        tier: str | None = None,
        kind: str | None = None,
        operator: str | None = None,
    ) -> list[CenterPublic]:
        """Every center matching the filters (AND; ``region`` is the city's circle), with its pools."""
        from huanghe.network.schemas import CenterPublic

        params = {"city": city, "region": region, "tier": tier, "kind": kind, "operator": operator}
        return self._page_items("/centers", CenterPublic.model_validate, params)

    def get_center(self, center_id: str) -> CenterPublic:
        """One center (RequestRefusedError with status 404 if there is none with this id)."""
        from huanghe.network.schemas import CenterPublic

        return CenterPublic.model_validate(self.call("GET", f"/centers/{center_id}"))

    def update_center(self, center_id: str, changes: Mapping[str, Any]) -> CenterPublic:
        """Change the fields given (``PATCH``; ``energy`` changes only its fields given); the center after."""
        from huanghe.network.schemas import CenterPublic

        return CenterPublic.model_validate(self.call("PATCH", f"/centers/{center_id}", json=dict(changes)))

    def pools(
        self,
        *,
        center: str | None = None,
        city: str | None = None,
        region: str | None = None,
        accelerator_class: str | None = None,
        backend: str | None = None,
    ) -> list[PoolPublic]:
        """Every pool matching the filters (AND); per-node figures, price in CNY per node-hour."""
        from huanghe.network.schemas import PoolPublic

        params = {"center": center, "city": city, "region": region, "accelerator_class": accelerator_class,
                  "backend": backend}  # fmt: skip
        return self._page_items("/pools", PoolPublic.model_validate, params)

    def update_pool(self, pool_id: str, changes: Mapping[str, Any]) -> PoolPublic:
        """Change the fields given (``PATCH``); the pool after."""
        from huanghe.network.schemas import PoolPublic

        return PoolPublic.model_validate(self.call("PATCH", f"/pools/{pool_id}", json=dict(changes)))

    def backends(self) -> list[BackendPublic]:
        """Every back-end the server knows, with what it can run (capabilities, with reasons where not)."""
        from huanghe.backends.schemas import BackendPublic

        return self._page_items("/backends", BackendPublic.model_validate, {})

    # ------------------------------------------------------------ back-end secrets (platform admins)

    def secrets(self) -> list[SecretPublic]:
        """Stored back-end secrets (names, descriptions, pools naming each; never a value)."""
        from huanghe.network.schemas import SecretPublic

        return self._page_items("/secrets", SecretPublic.model_validate, {})

    def put_secret(self, name: str, value: str, description: str = "") -> SecretPublic:
        """Create or rotate the secret ``name``; the server stores ``value`` encrypted and never answers it."""
        from huanghe.network.schemas import SecretPublic

        body = {"value": value, "description": description}
        return SecretPublic.model_validate(self.call("PUT", f"/secrets/{name}", json=body))

    def delete_secret(self, name: str) -> None:
        """Delete the secret ``name`` (refused with 409 while a pool names it)."""
        self.request("DELETE", f"/secrets/{name}")

    # ------------------------------------------------------------ the observatory

    def index(
        self,
        level: str = "city",
        weights: str = "equal",
        norm: str = "minmax",
        year: int | None = None,
        compare: int | None = None,
    ) -> IndexResult:
        """综合算力指数 of the stored network with the platform's measured inputs: rows ranked by score (0–100) in
        five dimensions; ``compare`` (a base year, e.g. year − 1) adds the year-on-year ``comparison``."""
        params = {"level": level, "weights": weights, "norm": norm, "year": year, "compare": compare}
        data: IndexResult = self.call("GET", "/observatory/index", params=params)
        return data

    def index_sensitivity(
        self,
        level: str = "city",
        weights: str = "equal",
        norm: str = "minmax",
        year: int | None = None,
        delta: float = 0.2,
        samples: int = 500,
        seed: int = 0,
    ) -> Sensitivity:
        """Rank stability: ±``delta`` per dimension weight and ``samples`` Monte-Carlo Dirichlet draws."""
        params = {"level": level, "weights": weights, "norm": norm, "year": year, "delta": delta,
                  "samples": samples, "seed": seed}  # fmt: skip
        data: Sensitivity = self.call("GET", "/observatory/index/sensitivity", params=params)
        return data

    def targets(self, year: int | None = None) -> list[TargetStatus]:
        """目标对照: plan targets against the actuals of ``year`` (default: latest) and the trend forecast."""
        data: list[TargetStatus] = self.call("GET", "/observatory/targets", params={"year": year})
        return data

    def green_list(self, year: int | None = None) -> GreenList:
        """绿色低碳 lists with the server's default rules; carbon uses measured utilisation where known."""
        data: GreenList = self.call("GET", "/observatory/green-list", params={"year": year})
        return data

    def maturity(self, year: int | None = None) -> list[Maturity]:
        """存储能力成熟度 L1–L5 of every center with storage."""
        data: list[Maturity] = self.call("GET", "/observatory/maturity", params={"year": year})
        return data

    def network_capacity(self, year: int | None = None, failing: bool = False) -> NetworkCapacity:
        """运载力评估: latency-circle compliance of every center pair (``failing``: only the failing ones)."""
        params = {"year": year, "failing": failing}
        data: NetworkCapacity = self.call("GET", "/observatory/network-capacity", params=params)
        return data

    def report(
        self,
        kind: str,
        fmt: str = "html",
        *,
        year: int | None = None,
        lang: str = "zh",
        weights: str = "equal",
        norm: str = "minmax",
        timeout_s: float = REPORT_TIMEOUT_S,
    ) -> Report:
        """Download the ``storage`` or ``index`` report as ``html`` or ``pdf`` (``lang`` zh or en)."""
        params = {"year": year, "format": fmt, "lang": lang, "weights": weights, "norm": norm}
        r = self.request("GET", f"/observatory/reports/{kind}", params=params, timeout_s=timeout_s)
        disposition = r.headers.get("content-disposition", "")
        name = disposition.split("filename=", 1)[1].strip('"; ') if "filename=" in disposition else ""
        return Report(
            content=r.content,
            media_type=r.headers.get("content-type", ""),
            filename=name or f"huanghe-{kind}-report.{fmt}",
        )
