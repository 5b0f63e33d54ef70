"""The SAME contract tests against every back-end: fake, local, slurm (real, REST and CLI), ray (real),
kubernetes (against the in-repo FAKE API server).

Real daemons come from session fixtures in tests/infra (started once, stopped by PID); a back-end whose
daemon cannot run here is skipped with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from huanghe.backends.protocol import Backend, BackendJobSpec, UnknownJobError, wait_terminal
from huanghe.backends.registry import create_backend
from huanghe.domain.enums import JobState


@dataclass
class UnderTest:
    backend: Backend
    unknown_id: str
    timeout_s: float


KINDS = ["fake", "local", "slurm-rest", "slurm-cli", "ray", "kubernetes"]


@pytest.fixture(params=KINDS)
def under_test(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnderTest]:
    kind = request.param
    if kind == "fake":
        ut = UnderTest(create_backend("fake", {"duration_s": "0.05"}), "fake-999999", 5)
    elif kind == "local":
        ut = UnderTest(create_backend("local", {"root": str(tmp_path / "jobs")}), "local-000000000000", 10)
    elif kind.startswith("slurm"):
        cluster = request.getfixturevalue("slurm_cluster")
        settings = cluster.rest_settings() if kind == "slurm-rest" else cluster.cli_settings()
        ut = UnderTest(create_backend("slurm", settings), "987654", 30)
    elif kind == "ray":
        ray = request.getfixturevalue("ray_cluster")
        ut = UnderTest(create_backend("ray", {"address": ray.address}), "raysubmit_unknown0000", 60)
    else:
        api = request.getfixturevalue("k8s_fake_api")
        ut = UnderTest(
            create_backend("kubernetes", {"host": api.url, "namespace": "default"}), "hh-unknown-0000", 20
        )
    try:
        yield ut
    finally:
        ut.backend.close()


def test_echo_succeeds_with_output(under_test: UnderTest) -> None:
    b = under_test.backend
    job_id = b.submit(
        BackendJobSpec(name="hello", command="echo hel''lo")
    )  # the quotes keep "hello" out of echoed command lines
    assert job_id
    st = wait_terminal(b, job_id, under_test.timeout_s)
    assert st.state is JobState.SUCCEEDED, st
    assert st.exit_code == 0
    assert st.ended_at is not None and st.started_at is not None and st.ended_at >= st.started_at
    assert "hello" in b.logs(job_id)
    full = b.logs(job_id)
    assert b.logs(job_id, offset=len(full.encode())) == ""
    assert b.status(job_id).state is JobState.SUCCEEDED  # terminal states are final


def test_failing_command_reports_exit_code(under_test: UnderTest) -> None:
    b = under_test.backend
    job_id = b.submit(BackendJobSpec(name="fails", command="echo oo''ps; exit 3"))
    st = wait_terminal(b, job_id, under_test.timeout_s)
    assert st.state is JobState.FAILED, st
    assert st.exit_code == 3
    assert "oops" in b.logs(job_id)


def test_cancel_running_job(under_test: UnderTest) -> None:
    b = under_test.backend
    job_id = b.submit(BackendJobSpec(name="sleeper", command="sleep 60"))
    deadline = time.monotonic() + under_test.timeout_s
    while b.status(job_id).state is not JobState.RUNNING and time.monotonic() < deadline:
        time.sleep(0.1)
    assert b.status(job_id).state is JobState.RUNNING
    b.cancel(job_id)
    st = wait_terminal(b, job_id, under_test.timeout_s)
    assert st.state is JobState.CANCELLED, st
    b.cancel(job_id)  # idempotent
    assert b.status(job_id).state is JobState.CANCELLED


def test_capacity_and_health(under_test: UnderTest) -> None:
    b = under_test.backend
    h = b.health()
    assert h.ok, h
    assert h.latency_ms >= 0
    cap = b.capacity()
    assert cap.cpus_total > 0
    assert 0 <= cap.cpus_free <= cap.cpus_total
    assert 0 <= cap.mem_gb_free <= cap.mem_gb_total
    assert 0 <= cap.gpus_free <= cap.gpus_total


def test_unknown_id_raises(under_test: UnderTest) -> None:
    b = under_test.backend
    for call in (b.status, b.cancel, b.logs):
        with pytest.raises(UnknownJobError):
            call(under_test.unknown_id)
