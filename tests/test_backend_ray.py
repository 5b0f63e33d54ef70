"""Ray specifics against a real private Ray head: resources, environment, capacity while a job runs."""

from __future__ import annotations

import time

import pytest

from huanghe.backends.protocol import BackendError, BackendJobSpec, CapabilityMissingError, wait_terminal
from huanghe.backends.ray import RayBackend
from huanghe.backends.registry import create_backend
from huanghe.domain.enums import JobState
from tests.infra.ray import RayHead
from tests.infra.slurm import free_port


def test_env_workdir_and_capacity_while_running(ray_cluster: RayHead, tmp_path: object) -> None:
    b = create_backend("ray", {"address": ray_cluster.address})
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
    b = create_backend("ray", {"address": ray_cluster.address})
    with pytest.raises(CapabilityMissingError, match="one driver"):
        b.submit(BackendJobSpec(command="true", nodes=2))
    down = RayBackend({"address": f"http://127.0.0.1:{free_port()}", "timeout_s": "2"})
    h = down.health()
    assert not h.ok and "unreachable" in h.message
    with pytest.raises(BackendError):
        down.submit(BackendJobSpec(command="true"))
