"""Ray specifics against a real private Ray head: resources, environment, capacity while a job runs."""

from __future__ import annotations

import stat
import time
import uuid
from pathlib import Path

import httpx
import pytest

from huanghe.backends.local_accounts import account_name
from huanghe.backends.protocol import (
    BackendConfigError,
    BackendError,
    BackendJobSpec,
    CapabilityMissingError,
    wait_terminal,
)
from huanghe.backends.ray import RayBackend
from huanghe.backends.registry import create_backend
from huanghe.domain.enums import JobState
from tests.infra.ports import refused_url
from tests.infra.ray import RayHead


def test_env_workdir_and_capacity_while_running(ray_cluster: RayHead, tmp_path: object) -> None:
    b = create_backend("ray", {"address": ray_cluster.address, "timeout_s": "60"})
    assert b.capacity().cpus_total == 2
    job = b.submit(
        BackendJobSpec(
            name="envjob",
            command="pwd; echo greeting=$GREETING; sleep 30",
            env={"GREETING": "ni hao"},
            cpus=1,
        )
    )
    deadline = time.monotonic() + 60
    while b.status(job).state is not JobState.RUNNING and time.monotonic() < deadline:
        time.sleep(0.2)
    while "greeting=" not in b.logs(job) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "greeting=ni hao" in b.logs(job)
    while b.capacity().cpus_free != 1 and time.monotonic() < deadline:  # the monitor reports every few s
        time.sleep(0.5)
    assert b.capacity().cpus_free == 1
    b.cancel(job)
    st = wait_terminal(b, job, 30)
    assert st.state is JobState.CANCELLED and st.ended_at is not None


def test_declared_limits_and_unreachable_head(ray_cluster: RayHead) -> None:
    b = create_backend("ray", {"address": ray_cluster.address, "timeout_s": "60"})
    with pytest.raises(CapabilityMissingError, match="one driver"):
        b.submit(BackendJobSpec(command="true", nodes=2))
    with refused_url() as dead:  # bound, not listening: refused, and no other process can take the port
        down = RayBackend({"address": dead, "timeout_s": "2"})
        h = down.health()
        assert not h.ok and "unreachable" in h.message
        with pytest.raises(BackendError):
            down.submit(BackendJobSpec(command="true"))


def test_tenants_jobs_run_in_their_own_directory_with_the_tenant_in_metadata(
    ray_cluster: RayHead, tmp_path: Path
) -> None:
    root = tmp_path / "tenants"
    b = create_backend("ray", {"address": ray_cluster.address, "tenant_root": str(root), "timeout_s": "60"})
    out = {}
    for tenant in ("tenant-A", "tenant-B"):
        job = b.submit(BackendJobSpec(name=f"t-{tenant}", command="pwd; echo home=$HOME", tenant=tenant))
        assert wait_terminal(b, job, 60).state is JobState.SUCCEEDED
        out[tenant] = (job, b.logs(job))
    for tenant, (job, logs) in out.items():
        home = root / account_name(tenant)
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        assert f"{home}\nhome={home}" in logs
        meta = httpx.get(f"{ray_cluster.address}/api/jobs/{job}").json()["metadata"]
        assert meta["tenant"] == tenant and meta["tenant_account"] == account_name(tenant)
    # without a tenant: no tenant directory, no tenant in the metadata
    job = b.submit(BackendJobSpec(name="no-tenant", command="true"))
    meta = httpx.get(f"{ray_cluster.address}/api/jobs/{job}").json()["metadata"]
    assert "tenant" not in meta and "tenant_account" not in meta
    with pytest.raises(BackendConfigError, match="tenant_root"):
        RayBackend({"address": ray_cluster.address, "tenant_root": "relative/dir"})


def test_a_dispatch_submitted_twice_is_one_ray_job_found_by_its_name(ray_cluster: RayHead) -> None:
    """The job's name is its Ray ``submission_id``: a second submission of the same dispatch (its first answer lost)
    is refused by Ray and answers the first job, never a second run; ``find_by_name`` asks for that id. A job
    submitted before (Ray picked its id, the name only in its metadata) is still found, under its old id."""
    b = RayBackend({"address": ray_cluster.address, "timeout_s": "60"})
    name, old_name = (f"hh-j{uuid.uuid4().hex[:19]}-1" for _ in range(2))  # the head outlives this test
    try:
        first = b.submit(BackendJobSpec(name=name, command="true"))
        assert b.submit(BackendJobSpec(name=name, command="true")) == first == name
        jobs = httpx.get(f"{ray_cluster.address}/api/jobs/", timeout=60).json()
        assert [j["submission_id"] for j in jobs if (j.get("metadata") or {}).get("name") == name] == [name]
        assert b.find_by_name(name) == (name, True)
        body = {"entrypoint": "true", "metadata": {"name": old_name, "submitted_by": "huanghe"}}
        old = httpx.post(f"{ray_cluster.address}/api/jobs/", json=body, timeout=60).json()["submission_id"]
        assert old.startswith("raysubmit_") and b.find_by_name(old_name) == (old, True)
        assert b.find_by_name(f"hh-j{uuid.uuid4().hex[:19]}-1") == (None, True)
        assert wait_terminal(b, first, 60).state is JobState.SUCCEEDED
        assert wait_terminal(b, old, 60).state is JobState.SUCCEEDED
    finally:
        b.close()
