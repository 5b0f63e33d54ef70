"""Local back-end specifics: restart reconciliation, limits, working directory, environment, streaming."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

import huanghe.backends.local as local_backend
from huanghe.backends.local import LocalBackend, _alive
from huanghe.backends.protocol import BackendJobSpec, wait_terminal
from huanghe.domain.enums import JobState
from tests.backend_support import ends_after_the_look


def _backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend({"root": str(tmp_path / "jobs"), "kill_grace_s": "2"})


def test_job_finished_while_platform_was_down_is_reconciled(tmp_path: Path) -> None:
    first = _backend(tmp_path)
    ok = first.submit(BackendJobSpec(command="sleep 0.3; echo done"))
    bad = first.submit(BackendJobSpec(command="sleep 0.3; exit 7"))
    del first  # "platform stops"; the jobs keep running
    time.sleep(0.8)
    second = _backend(tmp_path)  # "platform restarts" with the same root
    st = second.status(ok)
    assert st.state is JobState.SUCCEEDED and st.exit_code == 0
    assert second.logs(ok) == "done\n"
    st = second.status(bad)
    assert st.state is JobState.FAILED and st.exit_code == 7


def test_running_job_is_seen_and_cancelled_after_restart(tmp_path: Path) -> None:
    first = _backend(tmp_path)
    job = first.submit(BackendJobSpec(command="sleep 30"))
    second = _backend(tmp_path)
    assert second.status(job).state is JobState.RUNNING
    second.cancel(job)
    assert wait_terminal(second, job, 10).state is JobState.CANCELLED
    assert first.status(job).state is JobState.CANCELLED


def test_process_killed_without_exit_code_is_failed(tmp_path: Path) -> None:
    b = _backend(tmp_path)
    job = b.submit(BackendJobSpec(command="sleep 30"))
    state = b._state(b.root / job)
    os.killpg(state["pid"], signal.SIGKILL)
    st = wait_terminal(b, job, 10)
    assert st.state is JobState.FAILED
    assert "without recording an exit code" in st.message


def test_a_job_ending_between_the_two_looks_of_status_is_not_read_as_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``status`` looks at the process and at its ``exit_code`` file. A job ending between the two looks (the
    wrapper writes the file, then exits) once read as "ended without an exit code" and was re-queued away from
    its center (a CI run under load). Here the wrapper ends exactly then: during the liveness look."""
    b = _backend(tmp_path)
    job = b.submit(BackendJobSpec(command="sleep 30"))
    d = b.root / job
    state = b._state(d)
    os.killpg(state["pid"], signal.SIGKILL)  # no wrapper left to write the file: the test writes it
    deadline = time.monotonic() + 10
    while _alive(state["pid"], state["start_ticks"]) and time.monotonic() < deadline:
        b.status(job)  # reaps
        time.sleep(0.02)

    def ends_now(pid: int, start_ticks: int) -> bool:
        (d / "exit_code").write_text(f"0 {time.time()}\n")  # what the wrapper does just before it exits
        return False

    monkeypatch.setattr(local_backend, "_alive", ends_now)
    st = b.status(job)
    assert st.state is JobState.SUCCEEDED and st.exit_code == 0, st


def test_a_job_ending_between_the_look_and_the_mark_of_cancel_keeps_its_own_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cancel`` looks at the job, then writes its ``cancelled`` mark and signals it. A job ending by itself
    between the two once read as CANCELLED: a center's failover took that for its own cancel and ran a job that
    had succeeded again elsewhere. Here the job ends exactly then: right after the look."""
    b = _backend(tmp_path)
    job = b.submit(BackendJobSpec(command="while [ ! -e go ]; do sleep 0.05; done"))
    d = b.root / job
    go = d / "work" / "go"  # in the job's working directory: it ends by itself, exit code 0
    monkeypatch.setattr(b, "status", ends_after_the_look(b, go.touch))
    b.cancel(job)
    monkeypatch.undo()
    assert (d / "cancelled").exists()
    st = b.status(job)
    assert st.state is JobState.SUCCEEDED and st.exit_code == 0, st


def test_memory_limit_is_enforced(tmp_path: Path) -> None:
    b = _backend(tmp_path)
    # 400 MB of Python bytes under a 0.2 GB address-space limit must fail; without the limit it works
    grab = "python3 -c 'b = bytearray(400 * 1024 * 1024); print(len(b))'"
    limited = b.submit(BackendJobSpec(command=grab, mem_gb=0.2))
    free = b.submit(BackendJobSpec(command=grab))
    st_limited, st_free = wait_terminal(b, limited, 20), wait_terminal(b, free, 20)
    assert st_limited.state is JobState.FAILED, b.logs(limited)
    assert "MemoryError" in b.logs(limited)
    assert st_free.state is JobState.SUCCEEDED, b.logs(free)


def test_time_limit_is_enforced_and_cancel_reaches_timeout_children(tmp_path: Path) -> None:
    b = _backend(tmp_path)
    job = b.submit(BackendJobSpec(command="sleep 30", time_limit_s=1))
    st = wait_terminal(b, job, 10)
    assert st.state is JobState.FAILED and st.exit_code == 124 and "time limit" in st.message
    # with a time limit, `timeout` runs in its own process group: cancel must still stop the job
    job = b.submit(BackendJobSpec(command="sleep 30", time_limit_s=60))
    while b.status(job).state is not JobState.RUNNING:
        time.sleep(0.05)
    t0 = time.monotonic()
    b.cancel(job)
    assert wait_terminal(b, job, 10).state is JobState.CANCELLED
    assert time.monotonic() - t0 < 5


def test_workdir_env_and_cpu_pinning(tmp_path: Path) -> None:
    os.environ["HH_TEST_SECRET"] = "s3cret"
    try:
        b = _backend(tmp_path)
        wd = tmp_path / "wd"
        wd.mkdir()
        job = b.submit(
            BackendJobSpec(
                script="pwd; echo $GREETING; echo secret=$HH_TEST_SECRET; taskset -pc $$",
                workdir=str(wd),
                env={"GREETING": "ni hao"},
            )
        )
        assert wait_terminal(b, job, 10).state is JobState.SUCCEEDED
        out = b.logs(job)
        assert str(wd) in out and "ni hao" in out
        assert "secret=\n" in out  # the platform's environment does not leak into jobs
        pinned = b._state(b.root / job)["cores"]
        assert len(pinned) == 1 and f"list: {pinned[0]}" in out
    finally:
        del os.environ["HH_TEST_SECRET"]


def test_stream_logs_follows_a_running_job(tmp_path: Path) -> None:
    b = _backend(tmp_path)
    job = b.submit(BackendJobSpec(command="echo one; sleep 0.4; echo two"))
    chunks = list(b.stream_logs(job, poll_s=0.05, timeout_s=10))
    assert "".join(chunks) == "one\ntwo\n"
    assert len(chunks) >= 2  # arrived while running, not only at the end


def test_capacity_counts_running_jobs(tmp_path: Path) -> None:
    b = LocalBackend({"root": str(tmp_path / "jobs"), "cpus": "8", "mem_gb": "16"})
    before = b.capacity()
    job = b.submit(BackendJobSpec(command="sleep 30", cpus=3, mem_gb=2))
    during = b.capacity()
    assert (before.cpus_free, during.cpus_free, during.mem_gb_free) == (8, 5, 14)
    b.cancel(job)
    assert b.capacity().cpus_free == 8
    st = b._state(b.root / job)
    assert not _alive(st["pid"], st["start_ticks"])
