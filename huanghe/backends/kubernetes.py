"""Kubernetes back-end: one ``batch/v1`` Job per platform job, through the official ``kubernetes`` client.

The client is imported lazily (``pip install 'huanghe[k8s]'``); ``import huanghe`` never needs it.
A job becomes a Job named ``hh-<name>-<8 hex>`` with one pod (``backoffLimit: 0``, ``restartPolicy:
Never``), container ``/bin/sh -c <script>`` in ``image``, requests = limits = cpus / mem_gb /
``nvidia.com/gpu``, ``activeDeadlineSeconds`` = time limit, pods labelled ``huanghe.io/job=<Job name>``.
Status comes from the Job's conditions and its pod (exit code from the container's terminated state);
logs from the newest pod of the Job; cancel sets ``spec.suspend: true`` (the Job controller deletes the
pods, the Job object stays, so the state stays readable) plus the annotation ``huanghe.io/cancelled-at``.
Capacity: allocatable of Ready nodes minus requests of running pods.

Time: every API request waits at most ``request_timeout_s`` (connect and answer together, urllib3's total
timeout) and is tried at most :data:`ATTEMPTS` times (a POST again only when it never reached the server: one
sent and not answered is never sent again), so a submit — the tenant's namespace, its service
account, the Job: at most :data:`SUBMIT_REQUESTS` requests — returns or raises within
``SUBMIT_REQUESTS × ATTEMPTS × request_timeout_s`` (:attr:`KubernetesBackend.submit_bound`; 60 s by default).
A Job creation sent and not answered in time raises
:class:`~huanghe.backends.protocol.SubmitOutcomeUnknownError`: the Job may exist.

Tenants (``tenant_namespaces=mapped``, the default): a job with a tenant goes to the namespace
``<namespace_prefix>-<account>`` with the service account ``<account>`` (``account`` =
:func:`huanghe.backends.local_accounts.account_name`, the tenant's name on every back-end), both created when
missing; its back-end id is then ``<namespace>/<Job name>``. Jobs without a tenant, and every job with
``shared``, go to ``namespace`` with ``service_account``.

Tests run against ``tests.infra.fake_k8s_apiserver`` (a FAKE); a real cluster is opt-in.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from huanghe.backends.local_accounts import account_name
from huanghe.backends.protocol import (
    GIB,
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
    SubmitOutcomeUnknownError,
    UnknownJobError,
)
from huanghe.domain.enums import JobState

SETTINGS: dict[str, str] = {
    "namespace": "namespace of the Jobs (default default)",
    "image": "container image the job's script runs in (default busybox:1.36)",
    "kubeconfig": "path of a kubeconfig file (default: $KUBECONFIG or ~/.kube/config)",
    "context": "kubeconfig context to use (default: the current one)",
    "in_cluster": "true to use the pod's service account (platform running inside the cluster)",
    "host": "API server URL, instead of a kubeconfig (e.g. the FAKE API server in tests)",
    "token": "bearer token for host (optional)",
    "verify_ssl": "verify the API server certificate with host (default true)",
    "service_account": "service account of the job pods (optional)",
    "gpu_resource": "extended resource name of GPUs (default nvidia.com/gpu)",
    "tenant_namespaces": "mapped (a tenant's jobs in <namespace_prefix>-<account> as service account <account>, "
    "created if missing; default) or shared (every job in namespace)",
    "namespace_prefix": "prefix of the tenants' namespaces (default huanghe)",
    "request_timeout_s": "longest wait for one API request (connect and answer), seconds (default 10); a "
    "submit takes at most 6 times this",
}

INSTALL_HINT = "the kubernetes back-end needs the kubernetes client: pip install 'huanghe[k8s]'"
LABEL = "huanghe.io/job"
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
CANCEL_ANNOTATION = "huanghe.io/cancelled-at"
#: Tries of one API request (urllib3 retries = ATTEMPTS - 1; a POST is retried only if it never reached the server)
ATTEMPTS = 2
#: Requests of one submit at most: the tenant's namespace, its service account, the Job
SUBMIT_REQUESTS = 3
#: Exit code of a job stopped at its time limit (``activeDeadlineSeconds``), as the local back-end's ``timeout``
TIME_LIMIT_EXIT_CODE = 124


def _sdk() -> Any:
    try:
        import kubernetes
    except ImportError as exc:  # pragma: no cover - exercised when the extra is missing
        raise BackendUnavailableError(INSTALL_HINT) from exc
    return kubernetes


def _slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return s[:40].strip("-") or "job"


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        return dt.timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


class KubernetesBackend(BackendBase):
    """Kubernetes Jobs through the official client."""

    capabilities = Capabilities(
        supported=frozenset(
            {
                Capability.LOG_STREAMING,
                Capability.CANCEL_RUNNING,
                Capability.GPUS,
                Capability.MEM_LIMITS,
                Capability.TIME_LIMITS,
                Capability.SURVIVES_RESTART,
            }
        ),
        missing={
            Capability.MULTI_NODE: "a batch/v1 Job has no gang start; multi-node needs JobSet/Kueue / 无组调度",
            Capability.FIND_BY_NAME: "not implemented: a Job's id gets a random suffix and the name is only an "
            "annotation, and a finished Job may already be deleted / 未实现按名称查找",
        },
    )

    def __init__(self, settings: Mapping[str, str]) -> None:
        s = Settings("kubernetes", settings, SETTINGS)
        self.name = "kubernetes"
        self.namespace = s.get_str("namespace", "default")
        self.image = s.get_str("image", "busybox:1.36")
        self.service_account = s.get_str("service_account")
        self.gpu_resource = s.get_str("gpu_resource", "nvidia.com/gpu")
        self.tenant_namespaces = s.get_choice("tenant_namespaces", "mapped", ("mapped", "shared"))
        self.namespace_prefix = s.get_str("namespace_prefix", "huanghe")
        self.request_timeout_s = s.get_float("request_timeout_s", 10.0)
        if not 0 < self.request_timeout_s < float("inf"):
            raise BackendConfigError("kubernetes: request_timeout_s must be a positive number of seconds")
        self.submit_bound = SubmitBound(
            SUBMIT_REQUESTS * ATTEMPTS * self.request_timeout_s,
            f"{SUBMIT_REQUESTS} requests × {ATTEMPTS} attempts × request_timeout_s {self.request_timeout_s:g} s",
        )
        if not _DNS_LABEL.match(self.namespace_prefix) or len(self.namespace_prefix) > 32:
            raise BackendConfigError(
                "kubernetes: namespace_prefix must be a DNS label of at most 32 characters"
            )
        self._ready: set[str] = set()  # tenants' namespaces known to exist with their service account
        k8s = _sdk()
        self._k8s = k8s
        client = k8s.client
        conf = client.Configuration()
        if s.get_str("host"):
            conf.host = s.get_str("host").rstrip("/")
            conf.verify_ssl = s.get_bool("verify_ssl", True)
            if s.get_str("token"):
                conf.api_key = {"BearerToken": s.get_str("token")}
                conf.api_key_prefix = {"BearerToken": "Bearer"}
        elif s.get_bool("in_cluster", False):
            k8s.config.load_incluster_config(client_configuration=conf)
        else:
            k8s.config.load_kube_config(
                config_file=s.get_str("kubeconfig") or None,
                context=s.get_str("context") or None,
                client_configuration=conf,
            )
        conf.retries = ATTEMPTS - 1  # before the ApiClient: its connection pool takes it at creation
        api_client = client.ApiClient(conf)
        self._api_client = api_client
        self._batch = client.BatchV1Api(api_client)
        self._core = client.CoreV1Api(api_client)
        self._version = client.VersionApi(api_client)

    # -- helpers -----------------------------------------------------------------------------------
    def _call(self, fn: Any, job_id: str | None, *args: Any, creates_job: bool = False, **kw: Any) -> Any:
        """``fn(*args, **kw)`` within ``request_timeout_s``, its errors as back-end errors; with ``creates_job``
        a request sent and not answered (read timeout, connection lost) is
        :class:`SubmitOutcomeUnknownError`, since the server may have created the Job."""
        ApiException = self._k8s.client.exceptions.ApiException  # noqa: N806
        kw.setdefault("_request_timeout", self.request_timeout_s)
        try:
            return fn(*args, **kw)
        except ApiException as exc:
            if exc.status == 404 and job_id is not None:
                raise UnknownJobError(self.name, job_id) from None
            raise BackendError(f"kubernetes: API {exc.status}: {exc.reason}") from exc
        except (OSError, self._k8s.client.exceptions.OpenApiException) as exc:
            raise BackendUnavailableError(
                f"kubernetes: API server unreachable: {type(exc).__name__}"
            ) from exc
        except Exception as exc:
            # only the error's type: urllib3's text names the API server's host and port, and this message
            # reaches job events and the public center health (issue #11)
            if creates_job and type(exc).__name__ in ("ReadTimeoutError", "ProtocolError"):
                raise SubmitOutcomeUnknownError(
                    f"kubernetes: the Job's creation got no answer within {self.request_timeout_s:g} s "
                    f"(request_timeout_s), it may exist: {type(exc).__name__} / 提交结果未知"
                ) from exc
            if type(exc).__module__.startswith("urllib3"):
                raise BackendUnavailableError(
                    f"kubernetes: API server unreachable: {type(exc).__name__}"
                ) from exc
            raise

    def _where(self, job_id: str) -> tuple[str, str]:
        """``(namespace, Job name)`` of a back-end id (``hh-…`` or ``<prefix>-<account>/hh-…``)."""
        ns, _, name = job_id.rpartition("/")
        if ns and not (ns.startswith(f"{self.namespace_prefix}-") and _DNS_LABEL.match(ns)):
            raise UnknownJobError(self.name, job_id)
        if not name.startswith("hh-"):
            raise UnknownJobError(self.name, job_id)
        return ns or self.namespace, name

    def _tenant_place(self, tenant: str) -> tuple[str, str]:
        """``(namespace, service account)`` of ``tenant``'s jobs, both created when missing."""
        account = account_name(tenant)
        ns = f"{self.namespace_prefix}-{account}"
        if ns in self._ready:
            return ns, account
        c = self._k8s.client
        labels = {"app.kubernetes.io/managed-by": "huanghe", "huanghe.io/tenant-account": account}
        for fn, args in (
            (self._core.create_namespace, (c.V1Namespace(metadata=c.V1ObjectMeta(name=ns, labels=labels)),)),
            (
                self._core.create_namespaced_service_account,
                (ns, c.V1ServiceAccount(metadata=c.V1ObjectMeta(name=account, labels=labels))),
            ),
        ):
            try:
                self._call(fn, None, *args)
            except BackendError as exc:
                if "API 409" not in str(exc):  # 409 = exists already
                    raise
        self._ready.add(ns)
        return ns, account

    def _pods(self, job_id: str) -> list[Any]:
        ns, name = self._where(job_id)
        pods = self._call(self._core.list_namespaced_pod, None, ns, label_selector=f"{LABEL}={name}").items
        return sorted(pods, key=lambda p: _epoch(p.metadata.creation_timestamp) or 0.0)

    @staticmethod
    def _terminated(pod: Any) -> Any:
        for cs in (pod.status.container_statuses or []) if pod.status else []:
            if cs.state and cs.state.terminated:
                return cs.state.terminated
        return None

    # -- protocol ----------------------------------------------------------------------------------
    def submit(self, spec: BackendJobSpec) -> str:
        self.check_spec(spec)
        c = self._k8s.client
        job_id = f"hh-{_slug(spec.name)}-{uuid.uuid4().hex[:8]}"
        ns, service_account = self.namespace, self.service_account
        if spec.tenant and self.tenant_namespaces == "mapped":
            ns, service_account = self._tenant_place(spec.tenant)
        amounts: dict[str, str] = {"cpu": f"{round(spec.cpus * 1000)}m"}
        if spec.mem_gb:
            amounts["memory"] = f"{max(1, round(spec.mem_gb * 1024))}Mi"
        if spec.gpus:
            amounts[self.gpu_resource] = str(int(spec.gpus + 0.999))
        env = [c.V1EnvVar(name=k, value=v) for k, v in {"HUANGHE_JOB_NAME": spec.name, **spec.env}.items()]
        container = c.V1Container(
            name="job",
            image=self.image,
            command=["/bin/sh", "-c", spec.shell_script],
            env=env,
            working_dir=spec.workdir or None,
            resources=c.V1ResourceRequirements(requests=amounts, limits=amounts),
        )
        labels = {LABEL: job_id, "app.kubernetes.io/managed-by": "huanghe"}
        body = c.V1Job(
            api_version="batch/v1",
            kind="Job",
            metadata=c.V1ObjectMeta(name=job_id, labels=labels, annotations={"huanghe.io/name": spec.name}),
            spec=c.V1JobSpec(
                backoff_limit=0,
                active_deadline_seconds=int(spec.time_limit_s + 0.999) if spec.time_limit_s else None,
                template=c.V1PodTemplateSpec(
                    metadata=c.V1ObjectMeta(labels=labels),
                    spec=c.V1PodSpec(
                        containers=[container],
                        restart_policy="Never",
                        service_account_name=service_account or None,
                    ),
                ),
            ),
        )
        self._call(self._batch.create_namespaced_job, None, ns, body, creates_job=True)
        return job_id if ns == self.namespace else f"{ns}/{job_id}"

    def _job(self, job_id: str) -> Any:
        ns, name = self._where(job_id)
        return self._call(self._batch.read_namespaced_job, job_id, name, ns)

    def status(self, job_id: str) -> BackendJobStatus:
        job = self._job(job_id)
        annotations = job.metadata.annotations or {}
        st = job.status
        conds = {cd.type: cd for cd in (st.conditions or []) if cd.status == "True"} if st else {}
        pods = self._pods(job_id)
        pod = pods[-1] if pods else None
        term = self._terminated(pod) if pod else None
        started = _epoch(term.started_at) if term else None
        if started is None and pod is not None and pod.status:
            started = _epoch(pod.status.start_time)
        if started is None and st is not None:
            started = _epoch(st.start_time)
        code = int(term.exit_code) if term is not None else None
        # Complete before the cancel mark: a Job completing between cancel's look and its mark completed by itself
        # (read CANCELLED, a center's failover took it for its own cancel and ran it again elsewhere)
        if "Complete" in conds:
            end = _epoch(st.completion_time) or _epoch(conds["Complete"].last_transition_time)
            return BackendJobStatus(JobState.SUCCEEDED, 0 if code is None else code, started, end)
        if CANCEL_ANNOTATION in annotations:  # then the mark: the suspension itself may fail the Job
            return BackendJobStatus(
                JobState.CANCELLED, None, started, float(annotations[CANCEL_ANNOTATION]), "cancelled"
            )
        if "Failed" in conds:
            cd = conds["Failed"]
            end = _epoch(cd.last_transition_time)
            if cd.reason == "DeadlineExceeded":
                # The Job controller deletes the pods at the deadline, so there is often no exit code to read: a
                # FAILED job without one is taken for a lost one and re-queued, and a job that used up its time
                # ran again. The time limit is the job's own end, with the code the local back-end gives it.
                msg = "time limit reached (activeDeadlineSeconds) / 超时"
                return BackendJobStatus(JobState.FAILED, TIME_LIMIT_EXIT_CODE, started, end, msg)
            msg = f"{cd.reason or 'Failed'}" + (f": exit code {code}" if code is not None else "")
            return BackendJobStatus(JobState.FAILED, code, started, end, msg)
        phase = pod.status.phase if pod is not None and pod.status else None
        if phase in ("Running", "Succeeded", "Failed") or term is not None:
            # A pod that ended while the Job (read before its pods, or its controller not caught up yet) has no
            # condition is still RUNNING: the verdict comes with a later look (it read as "pod pending", and a
            # running job went back to DISPATCHED).
            return BackendJobStatus(JobState.RUNNING, None, started)
        return BackendJobStatus(JobState.DISPATCHED, message="pod pending" if pod else "no pod yet")

    def cancel(self, job_id: str) -> None:
        if self.status(job_id).terminal:
            return
        patch = {
            "metadata": {"annotations": {CANCEL_ANNOTATION: f"{time.time():.3f}"}},
            "spec": {"suspend": True},
        }
        ns, name = self._where(job_id)
        self._call(
            self._batch.patch_namespaced_job,
            job_id,
            name,
            ns,
            patch,
            _content_type="application/merge-patch+json",
        )

    def logs(self, job_id: str, offset: int = 0) -> str:
        self._job(job_id)
        pods = self._pods(job_id)
        if not pods:
            return ""
        ApiException = self._k8s.client.exceptions.ApiException  # noqa: N806
        try:
            text = self._core.read_namespaced_pod_log(
                pods[-1].metadata.name, self._where(job_id)[0], _request_timeout=self.request_timeout_s
            )
        except ApiException as exc:
            if exc.status in (400, 404):  # container not started yet, or pod gone
                return ""
            raise BackendError(f"kubernetes: pod log {exc.status}: {exc.reason}") from exc
        return str(text or "").encode()[max(0, offset) :].decode(errors="replace")

    def capacity(self) -> Capacity:
        parse = self._k8s.utils.parse_quantity
        total = {"cpu": 0.0, "memory": 0.0, "gpu": 0.0}
        for node in self._call(self._core.list_node, None).items:
            ready = any(cd.type == "Ready" and cd.status == "True" for cd in node.status.conditions or [])
            alloc = node.status.allocatable or {}
            if ready:
                total["cpu"] += float(parse(alloc.get("cpu", "0")))
                total["memory"] += float(parse(alloc.get("memory", "0")))
                total["gpu"] += float(parse(alloc.get(self.gpu_resource, "0")))
        used = dict.fromkeys(total, 0.0)
        running = self._call(
            self._core.list_pod_for_all_namespaces, None, field_selector="status.phase=Running"
        ).items
        for pod in running:
            for ctr in pod.spec.containers:
                req = (ctr.resources.requests if ctr.resources else None) or {}
                used["cpu"] += float(parse(req.get("cpu", "0")))
                used["memory"] += float(parse(req.get("memory", "0")))
                used["gpu"] += float(parse(req.get(self.gpu_resource, "0")))
        return Capacity(
            cpus_free=max(0.0, total["cpu"] - used["cpu"]),
            cpus_total=total["cpu"],
            gpus_free=max(0.0, total["gpu"] - used["gpu"]),
            gpus_total=total["gpu"],
            mem_gb_free=max(0.0, total["memory"] - used["memory"]) / GIB,
            mem_gb_total=total["memory"] / GIB,
        )

    def health(self) -> Health:
        t0 = time.perf_counter()
        try:
            v = self._call(self._version.get_code, None, _request_timeout=5)
            return Health(True, (time.perf_counter() - t0) * 1000, f"kubernetes {v.git_version}")
        except Exception as exc:  # health never raises: report why
            return Health(False, (time.perf_counter() - t0) * 1000, f"kubernetes: {exc}"[:500])

    def find_by_name(self, name: str) -> tuple[str | None, bool]:
        """Always ``(None, False)``: lacks :attr:`Capability.FIND_BY_NAME` (see its declared reason)."""
        return None, False

    def close(self) -> None:
        self._api_client.close()


def create(settings: Mapping[str, str]) -> KubernetesBackend:
    return KubernetesBackend(settings)
