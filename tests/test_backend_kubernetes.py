"""Kubernetes specifics against the in-repo FAKE API server, plus an opt-in run on a real cluster.

Real cluster: ``HUANGHE_K8S_REAL=1 KUBECONFIG=/path/to/kubeconfig pytest tests/test_backend_kubernetes.py``
(namespace from ``HUANGHE_K8S_NAMESPACE``, default ``default``; the image must have /bin/sh).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from huanghe.backends.kubernetes import CANCEL_ANNOTATION, KubernetesBackend
from huanghe.backends.local_accounts import account_name
from huanghe.backends.protocol import (
    BackendConfigError,
    BackendJobSpec,
    CapabilityMissingError,
    SubmitOutcomeUnknownError,
    UnknownJobError,
    wait_terminal,
)
from huanghe.backends.registry import create_backend
from huanghe.domain.enums import JobState
from huanghe.jobs.settings import DispatchSettings
from tests.backend_support import ends_after_the_look
from tests.infra.fake_k8s_apiserver import FakeApiServer


def test_job_shape_resources_and_capacity(k8s_fake_api: FakeApiServer) -> None:
    b = create_backend("kubernetes", {"host": k8s_fake_api.url, "image": "alpine:3.20"})
    before = b.capacity()
    assert (before.cpus_total, before.gpus_total, before.mem_gb_total) == (8, 2, 32)
    job = b.submit(BackendJobSpec(name="Train Model!", command="sleep 30", cpus=1.5, mem_gb=2, gpus=1))
    assert job.startswith("hh-train-model-")
    body = k8s_fake_api.jobs[("default", job)]
    ctr = body["spec"]["template"]["spec"]["containers"][0]
    assert ctr["image"] == "alpine:3.20"
    assert ctr["resources"]["limits"] == {"cpu": "1500m", "memory": "2048Mi", "nvidia.com/gpu": "1"}
    assert body["spec"]["backoffLimit"] == 0
    while b.status(job).state is not JobState.RUNNING:
        time.sleep(0.05)
    during = b.capacity()
    assert (during.cpus_free, during.gpus_free, during.mem_gb_free) == (6.5, 1, 30)
    b.cancel(job)
    assert wait_terminal(b, job, 10).state is JobState.CANCELLED
    assert body["spec"]["suspend"] is True  # the Job object stays; its pod is gone
    assert b.capacity().cpus_free == 8


def test_time_limit_becomes_active_deadline(k8s_fake_api: FakeApiServer) -> None:
    b = create_backend("kubernetes", {"host": k8s_fake_api.url})
    job = b.submit(BackendJobSpec(command="sleep 30", time_limit_s=1))
    st = wait_terminal(b, job, 15)
    assert st.state is JobState.FAILED and "time limit" in st.message


def test_a_job_at_its_time_limit_ends_failed_with_an_exit_code(k8s_fake_api: FakeApiServer) -> None:
    """At ``activeDeadlineSeconds`` the Job controller deletes the pods and sets the condition Failed with reason
    DeadlineExceeded: no exit code is left to read. FAILED without an exit code reads as a lost job, which the
    follower re-queues: a job that used up its time ran again. Here the controller's deadline step is forced at
    once, and the job must end FAILED with the time limit's exit code."""
    b = create_backend("kubernetes", {"host": k8s_fake_api.url})
    job = b.submit(BackendJobSpec(command="sleep 30", time_limit_s=3600))
    k8s_fake_api.exceed_deadline("default", job)
    assert not k8s_fake_api._pods_of("default", job)  # deleted, as the real controller does
    st = b.status(job)
    assert (st.state, st.exit_code) == (JobState.FAILED, 124) and "time limit" in st.message, st
    assert st.ended_at is not None and st.started_at is not None


def test_a_pod_ending_between_the_job_read_and_the_pod_list_is_not_read_as_queued(
    k8s_fake_api: FakeApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``status`` reads the Job, then lists its pods. A pod that ends between the two reads (the kubelet has
    reported it, the Job controller has not set the Job's condition yet) once read as "pod pending": a running
    job went back to DISPATCHED. Here the pod ends exactly then: during the pod list."""
    b = create_backend("kubernetes", {"host": k8s_fake_api.url})
    assert isinstance(b, KubernetesBackend)
    job = b.submit(BackendJobSpec(command="sleep 30"))
    deadline = time.monotonic() + 10
    while b.status(job).state is not JobState.RUNNING:
        assert time.monotonic() < deadline, "the job never ran"
        time.sleep(0.05)
    (pod,) = k8s_fake_api._pods_of("default", job)
    list_pods = b._pods

    def ends_now(job_id: str) -> list[object]:
        with k8s_fake_api.lock:  # the kubelet's report; the Job has no condition yet
            pod.exit_code, pod.finished, pod.phase = 0, pod.started, "Succeeded"
        return list_pods(job_id)

    monkeypatch.setattr(b, "_pods", ends_now)
    try:
        st = b.status(job)
        assert st.state is JobState.RUNNING and st.started_at is not None, st
    finally:
        pod.kill("Deleted")


def test_a_job_ending_between_the_look_and_the_mark_of_cancel_keeps_its_own_end(
    k8s_fake_api: FakeApiServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``cancel`` looks at the job, then annotates and suspends it. A Job completing between the two once read as
    CANCELLED (the annotation was read first), which a center's failover took for its own cancel. Here the job
    ends exactly then: right after the look, the Job completed before the patch."""
    b = create_backend("kubernetes", {"host": k8s_fake_api.url})
    go = tmp_path / "go"  # the job ends by itself, exit code 0, once this exists
    job = b.submit(BackendJobSpec(command=f"while [ ! -e {go} ]; do sleep 0.05; done"))
    monkeypatch.setattr(b, "status", ends_after_the_look(b, go.touch))
    b.cancel(job)
    monkeypatch.undo()
    assert CANCEL_ANNOTATION in k8s_fake_api.jobs[("default", job)]["metadata"]["annotations"]
    st = b.status(job)
    assert st.state is JobState.SUCCEEDED and st.exit_code == 0, st


def test_multi_node_is_declared_missing(k8s_fake_api: FakeApiServer) -> None:
    b = create_backend("kubernetes", {"host": k8s_fake_api.url})
    with pytest.raises(CapabilityMissingError, match="gang"):
        b.submit(BackendJobSpec(command="true", nodes=2))


def test_unreachable_api_server_is_unhealthy() -> None:
    pytest.importorskip("kubernetes")
    from tests.infra.ports import refused_url

    with refused_url() as dead:  # bound, not listening: refused, and no other process can take the port
        b = create_backend("kubernetes", {"host": dead})
        h = b.health()
        assert not h.ok and h.message


def test_a_job_creation_never_answered_ends_within_the_submit_bound_as_outcome_unknown() -> None:
    """The API server creates the Job and never answers: the submit had no timeout of ours and waited as long as
    the connection lived, past ``max_submit_s``, which recovery after a takeover relies on. Now it raises within
    its bound, and as "outcome unknown" (the Job exists), never as "unavailable" (re-placed: run twice)."""
    pytest.importorskip("kubernetes")
    api = FakeApiServer(port=0).start()
    api.stall_job_creates.set()
    try:
        b = create_backend(
            "kubernetes", {"host": api.url, "request_timeout_s": "1", "tenant_namespaces": "shared"}
        )
        assert b.submit_bound.s == 6.0 and "request_timeout_s 1 s" in b.submit_bound.why
        t0 = time.monotonic()
        with pytest.raises(SubmitOutcomeUnknownError, match="request_timeout_s"):
            b.submit(BackendJobSpec(name="hh-stalled-1", command="true"))
        assert time.monotonic() - t0 < b.submit_bound.s
        assert len(api.jobs) == 1  # created: the outcome was unknown, not "nothing submitted"
        b.close()
    finally:
        api.stop()


def test_the_default_submit_bound_fits_the_default_max_submit_s(k8s_fake_api: FakeApiServer) -> None:
    b = create_backend("kubernetes", {"host": k8s_fake_api.url})
    assert b.submit_bound.s == 60.0 <= DispatchSettings().max_submit_s
    with pytest.raises(BackendConfigError, match="request_timeout_s"):
        create_backend("kubernetes", {"host": k8s_fake_api.url, "request_timeout_s": "0"})


@pytest.mark.skipif(
    os.environ.get("HUANGHE_K8S_REAL") != "1", reason="real cluster is opt-in: HUANGHE_K8S_REAL=1"
)
def test_real_cluster_echo() -> None:
    settings = {"namespace": os.environ.get("HUANGHE_K8S_NAMESPACE", "default")}
    if os.environ.get("KUBECONFIG"):
        settings["kubeconfig"] = os.environ["KUBECONFIG"].split(":")[0]
    b = create_backend("kubernetes", settings)
    assert b.health().ok
    job = b.submit(BackendJobSpec(name="huanghe-smoke", command="echo hel''lo"))
    assert wait_terminal(b, job, 300, poll_s=2).state is JobState.SUCCEEDED
    assert "hello" in b.logs(job)


def test_tenants_jobs_go_to_their_namespace_with_their_service_account(k8s_fake_api: FakeApiServer) -> None:
    b = create_backend("kubernetes", {"host": k8s_fake_api.url})
    acc_a, acc_b = account_name("tenant-A"), account_name("tenant-B")
    job_a = b.submit(BackendJobSpec(name="a", command="echo from-a", tenant="tenant-A"))
    job_b = b.submit(BackendJobSpec(name="b", command="sleep 30", tenant="tenant-B"))
    ns_a, ns_b = f"huanghe-{acc_a}", f"huanghe-{acc_b}"
    assert job_a.startswith(f"{ns_a}/hh-a-") and job_b.startswith(f"{ns_b}/hh-b-")
    for ns, acc, job in ((ns_a, acc_a, job_a), (ns_b, acc_b, job_b)):  # created on first use
        assert k8s_fake_api.namespaces[ns]["metadata"]["labels"]["huanghe.io/tenant-account"] == acc
        assert (ns, acc) in k8s_fake_api.service_accounts
        body = k8s_fake_api.jobs[(ns, job.split("/")[1])]
        assert body["spec"]["template"]["spec"]["serviceAccountName"] == acc
    assert wait_terminal(b, job_a, 10).state is JobState.SUCCEEDED and "from-a" in b.logs(job_a)
    b.cancel(job_b)
    assert wait_terminal(b, job_b, 10).state is JobState.CANCELLED
    # a second back-end (a restarted platform) finds both existing (409) and submits again
    again = create_backend("kubernetes", {"host": k8s_fake_api.url})
    job_a2 = again.submit(BackendJobSpec(name="a", command="true", tenant="tenant-A"))
    assert wait_terminal(again, job_a2, 10).state is JobState.SUCCEEDED
    # ids naming a namespace outside the tenants' prefix are unknown, never read
    for forged in ("kube-system/hh-x-1", f"{ns_a}/not-ours", "huanghe-Bad_NS/hh-x-1"):
        with pytest.raises(UnknownJobError):
            b.status(forged)


def test_shared_mode_and_jobs_without_tenant_use_the_pools_namespace(k8s_fake_api: FakeApiServer) -> None:
    shared = create_backend("kubernetes", {"host": k8s_fake_api.url, "tenant_namespaces": "shared"})
    job = shared.submit(BackendJobSpec(command="true", tenant="tenant-C"))
    assert "/" not in job and ("default", job) in k8s_fake_api.jobs
    mapped = create_backend("kubernetes", {"host": k8s_fake_api.url})
    job = mapped.submit(BackendJobSpec(command="true"))
    assert "/" not in job and ("default", job) in k8s_fake_api.jobs
    assert wait_terminal(mapped, job, 10).state is JobState.SUCCEEDED
    with pytest.raises(BackendConfigError, match="namespace_prefix"):
        create_backend("kubernetes", {"host": k8s_fake_api.url, "namespace_prefix": "Bad_Prefix"})
