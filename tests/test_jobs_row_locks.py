"""The dispatcher's writes of a waiting job lock the row they read (PostgreSQL): a user's cancel committed between a
step's read and its write waits for the write, then cancels the job, instead of being overwritten. Each test
forces the cancel into that gap (tests/scheduler_rig.py ``cancelled_meanwhile``)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from huanghe.jobs import center_health, recovery
from huanghe.jobs.dispatch_context import TickReport
from tests.scheduler_rig import Rig, cancelled_meanwhile


@pytest.mark.postgres
@pytest.mark.parametrize("step", ["place", "reconcile_stuck", "fail_over_center"])
def test_a_cancel_between_a_steps_read_and_write_is_not_overwritten(
    tmp_path: Path, fresh_postgres_url: str, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """Each step reads the job, decides, then writes it. A cancel committed in between was overwritten on
    PostgreSQL, leaving a job with its cancel requested that nothing dispatched or ended:

    * ``place``: the placer reads the PENDING jobs and writes PLACED (the cancel comes during the decision);
    * ``reconcile_stuck``: a PLACED job stuck too long goes back to PENDING;
    * ``fail_over_center``: a PLACED job on a center gone unhealthy goes back to PENDING, that center excluded.

    Here the user cancels exactly then: when the step is about to write."""
    rig = Rig(tmp_path, fresh_postgres_url)
    try:
        jid = rig.submit(command="sleep 100")
        done = threading.Event()
        if step == "place":
            engine = rig.sched.engine
            monkeypatch.setattr(engine, "place", cancelled_meanwhile(rig, jid, engine.place, done))
            rig.sched.tick()
        else:
            with rig.sf() as s:  # placement only: the job is PLACED on jn-sc, not dispatched
                rig.sched.ctx.topology(s, rig.clock.now_s())
            rig.sched._placer.place(TickReport())
            assert (rig.job(jid).state, rig.job(jid).center_id) == ("PLACED", "jn-sc")
        if step == "reconcile_stuck":
            monkeypatch.setattr(
                recovery, "set_state", cancelled_meanwhile(rig, jid, recovery.set_state, done)
            )
            rig.clock.advance(rig.sched.settings.stuck_after_s + 1)
            assert recovery.reconcile_stuck(rig.sched.ctx, TickReport()) == 1
        elif step == "fail_over_center":
            requeue = center_health.requeue
            monkeypatch.setattr(center_health, "requeue", cancelled_meanwhile(rig, jid, requeue, done))
            center_health.fail_over_center(rig.sched.ctx, "jn-sc", TickReport())
        assert done.wait(20), "the cancel never ended"
        row = rig.job(jid)
        assert (row.state, row.cancel_requested) == ("CANCELLED", True), row.message
        assert not rig.jn._jobs and not rig.qd._jobs
    finally:
        rig.close()
