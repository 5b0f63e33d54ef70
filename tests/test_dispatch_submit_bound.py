"""The submit bound the recovery after a leader change relies on: every back-end's ``submit()`` returns or raises
within its declared bound, the dispatcher refuses a back-end whose bound exceeds ``max_submit_s``, and a submit
whose outcome is unknown is resolved by name, never run twice. FAKE back-ends on a fake clock (scheduler rig)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from huanghe.backends.fake import FakeBackend
from huanghe.backends.local_accounts import AccountRegistry
from huanghe.backends.protocol import BackendJobSpec, BackendUnavailableError, SubmitOutcomeUnknownError
from huanghe.backends.registry import create_backend
from huanghe.jobs.dispatching import OUTCOME_UNKNOWN_EVENT
from huanghe.jobs.recovery import claim_settled_s
from huanghe.jobs.settings import DispatchSettings
from tests.backend_support import program_on_path
from tests.scheduler_rig import Rig, finds_by_name


def test_a_backend_whose_submit_may_outlast_max_submit_s_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``max_submit_s`` below the FAKE back-end's bound (1 s): the job is FAILED before the back-end sees it,
    naming the pool, what sets the bound and ``max_submit_s``; the pools are logged when the network is read."""
    rig = Rig(tmp_path, max_submit_s=0.5)
    try:
        with caplog.at_level(logging.ERROR, logger="huanghe.broker"):
            jid = rig.submit(command="true")
            rig.run(2)
        row = rig.job(jid)
        assert row.state == "FAILED", row.message
        for part in (f"pool {row.pool_id}", "back-end fake", "1 s", "in memory", "max_submit_s 0.5 s"):
            assert part in row.message
        assert not rig.jn._jobs and not rig.qd._jobs  # never submitted
        assert "max_submit_s 0.5 s" in caplog.text and "HUANGHE_SCHEDULER_MAX_SUBMIT_S" in caplog.text
    finally:
        rig.close()


def _answer_lost(be: FakeBackend) -> Callable[[BackendJobSpec], str]:
    """``be``'s submit, which creates the job and then loses the answer."""
    submit = be.submit

    def answer_lost(spec: BackendJobSpec) -> str:
        submit(spec)
        raise SubmitOutcomeUnknownError("fake: the answer was lost")

    return answer_lost


def test_a_submit_of_unknown_outcome_is_resolved_by_name_and_runs_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The back-end created the job but its answer was lost (:class:`SubmitOutcomeUnknownError`): the job stays
    DISPATCHED without a back-end id until its claim is settled, then recovery finds it by name and adopts it
    (it was FAILED at once, or re-placed if taken for "unavailable": run twice)."""
    rig = Rig(tmp_path, stuck_after_s=600.0, max_submit_s=1.0)  # resolved once settled, not when stuck
    try:
        finds_by_name(monkeypatch, rig.jn, rig.qd)
        for be in (rig.jn, rig.qd):
            monkeypatch.setattr(be, "submit", _answer_lost(be))
        jid = rig.submit(command="sleep 100")
        rig.run(1)
        row = rig.job(jid)
        assert (row.state, row.backend_job_id) == ("DISPATCHED", None), row.message
        assert "submit outcome unknown" in row.message
        assert OUTCOME_UNKNOWN_EVENT in [e.kind for e in rig.events(jid)]
        rig.run(claim_settled_s(rig.sched.settings) + 1.0)
        row = rig.job(jid)
        assert "recovered" in [e.kind for e in rig.events(jid)], row.message
        created = {**rig.jn._jobs, **rig.qd._jobs}
        assert len(created) == 1 and row.backend_job_id in created, row.message
        assert row.state == "RUNNING" and row.attempt == 1, row.message
    finally:
        rig.close()


def test_every_backend_declares_a_submit_bound_within_the_default_max_submit_s(tmp_path: Path) -> None:
    """Defaults: local 30 s account + 10 s, slurm 4 × 10 s + 10 s, ray 60 s + 3 × 5 s + 10 s, kubernetes
    3 × 2 × 10 s, fake and simulated in memory. None exceeds the default ``max_submit_s``."""
    pytest.importorskip("kubernetes")
    settings = {
        "local": {"root": str(tmp_path / "jobs"), "sandbox": "none"},
        "fake": {},
        "simulated": {},
        "slurm": {"cli": "only", "workdir": str(tmp_path)},
        "ray": {"address": "http://127.0.0.1:9"},
        "kubernetes": {"host": "http://127.0.0.1:9"},
    }
    bounds = {name: create_backend(name, s).submit_bound.s for name, s in settings.items()}
    assert bounds == {"local": 40, "fake": 1, "simulated": 1, "slurm": 50, "ray": 85, "kubernetes": 60}
    assert max(bounds.values()) <= DispatchSettings().max_submit_s
    slow = create_backend("slurm", {"cli": "only", "workdir": str(tmp_path), "timeout_s": "40"})
    assert slow.submit_bound.s > DispatchSettings().max_submit_s and "timeout_s 40 s" in slow.submit_bound.why


def test_a_tenant_account_not_ready_in_time_ends_the_local_submit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding or creating a tenant's account is the local submit's long part (``useradd``, 30 s each of up to
    20 tries): it now ends within ``account_timeout_s``, whether ``useradd`` hangs or another creation holds the
    registry, as unavailable (no job was started)."""
    program_on_path(monkeypatch, tmp_path, "useradd", "exec sleep 60")  # a useradd that never finishes
    registry = AccountRegistry(frozenset(), timeout_s=0.5)
    t0 = time.monotonic()
    with pytest.raises(BackendUnavailableError):
        registry.account("tenant-never-created-s26")
    assert time.monotonic() - t0 < 5
    monkeypatch.undo()
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with registry._lock:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        assert held.wait(10)
        t0 = time.monotonic()
        with pytest.raises(BackendUnavailableError, match="account_timeout_s"):
            registry.account("another-tenant-s26")
        assert time.monotonic() - t0 < 5
    finally:
        release.set()
        holder.join(10)
