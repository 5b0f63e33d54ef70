"""A job slurmctld forgot (``MinJobAge`` after it ended) is read from the cluster's history, never re-run.

On a real private Slurm 22.05 (``JobCompType=jobcomp/filetxt``, no slurmdbd) the jobs end, then slurmctld is
restarted with its state cleared (``forget_jobs``: what ``MinJobAge`` does to ended jobs, without waiting for
its purge): ``status`` reads each end from ``sacct -c``, and the live follower records the end instead of
re-queueing the job. The sacct parsing and a missing or failing sacct are tested without a cluster.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.backends.protocol import BackendJobSpec, BackendUnavailableError, UnknownJobError, wait_terminal
from huanghe.backends.slurm import SlurmBackend
from huanghe.backends.slurm_history import FIELDS, Runner, parse_exit_code, parse_sacct, past_job
from huanghe.domain.enums import JobState
from huanghe.jobs import service as svc
from huanghe.jobs.dispatcher import Dispatcher
from huanghe.jobs.models import JobEventRow, JobRow
from huanghe.jobs.settings import DispatchSettings
from huanghe.store.db import make_session_factory
from tests import jobs_testnet as net
from tests.infra.slurm import SlurmCluster, forget_jobs, private_slurm


@pytest.fixture(scope="module")
def forgetful() -> Iterator[SlurmCluster]:
    """A private Slurm whose slurmctld the tests make forget its jobs (the session cluster stays intact)."""
    with private_slurm() as cluster:
        yield cluster


def until(
    ok: Callable[[], bool], what: str, timeout_s: float = 30.0, step: Callable[[], object] = int
) -> None:
    """Call ``step`` until ``ok()``; fails naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not ok():
        assert time.monotonic() < deadline, f"{what}: not after {timeout_s} s"
        step()
        time.sleep(0.1)


def in_jobcomp(cluster: SlurmCluster, *job_ids: str) -> Callable[[], bool]:
    """Whether the job completion log (``JobCompLoc``) has recorded each of ``job_ids``."""

    def ok() -> bool:
        log = cluster.root / "jobcomp.txt"
        text = log.read_text() if log.exists() else ""
        return all(f"JobId={j} " in text for j in job_ids)

    return ok


def forgotten(b: SlurmBackend, job_id: str) -> bool:
    """Whether slurmctld (squeue, or slurmrestd) no longer knows ``job_id``."""
    try:
        b._job_info(job_id)
    except UnknownJobError:
        return True
    return False


def test_a_forgotten_job_reads_its_end_from_the_history(forgetful: SlurmCluster) -> None:
    cli = SlurmBackend(forgetful.cli_settings())
    ok = cli.submit(BackendJobSpec(name="hist-ok", command="echo done"))
    bad = cli.submit(BackendJobSpec(name="hist-bad", command="exit 7"))
    before = {j: wait_terminal(cli, j, 30) for j in (ok, bad)}
    assert before[ok].state is JobState.SUCCEEDED and before[bad].state is JobState.FAILED
    until(in_jobcomp(forgetful, ok, bad), "the jobs' ends in the job completion log")
    forget_jobs(forgetful)
    rest = SlurmBackend(forgetful.rest_settings())  # slurmrestd came back on a new port
    strict = SlurmBackend({**forgetful.rest_settings(), "cli": "never"})
    for b in (cli, rest):
        assert forgotten(b, ok) and forgotten(b, bad)  # what MinJobAge does: squeue/REST no longer know them
        for j in (ok, bad):
            st = b.status(j)
            got = (st.state, st.exit_code, st.started_at, st.ended_at)
            assert got == (before[j].state, before[j].exit_code, before[j].started_at, before[j].ended_at)
        assert b.status(bad).message == "exit code 7"
        b.cancel(ok)  # an ended job: nothing to stop, no error
    assert cli.find_by_name("hist-bad") == (bad, True)  # recovery finds the dispatch by its name
    assert cli.find_by_name("hist-never") == (None, False)
    with pytest.raises(UnknownJobError, match="no record"):
        cli.status("987654")  # neither slurmctld nor the history knows it
    with pytest.raises(UnknownJobError):
        strict.status(ok)  # REST only: slurmrestd v0.0.38 has no history without slurmdbd


def test_the_follower_records_the_end_of_a_job_slurmctld_forgot(
    forgetful: SlurmCluster, tmp_path: Path
) -> None:
    """The platform's dispatcher is down while its job ends and slurmctld forgets it: back up, the follower
    records the job's end from the history (exit code 3, FAILED, attempt 1), it does not re-queue it."""
    url = f"sqlite:///{tmp_path / 'f.db'}"
    net.prepare_db(url, net.topology(("slurm", forgetful.cli_settings())))
    sf: sessionmaker[Session] = make_session_factory(url)
    disp = Dispatcher(sf, DispatchSettings(interval_s=0.1, status_interval_s=0.0))
    try:
        with sf() as s:
            items, _ = svc.submit_jobs(s, [svc.JobSubmit(command="exit 3", cpus=1)])
        jid = str(items[0]["id"])

        def row() -> JobRow:
            with sf() as s:
                r = s.get(JobRow, jid)
                assert r is not None
                return r

        until(lambda: row().backend_job_id is not None, "dispatched to Slurm", step=disp.tick)
        bid = str(row().backend_job_id)
        b = SlurmBackend(forgetful.cli_settings())
        # the dispatcher is down (no tick) while the job ends and slurmctld forgets it
        until(lambda: b.status(bid).terminal, "the job's end on Slurm")
        until(in_jobcomp(forgetful, bid), "the job's end in the job completion log")
        ended_s = b.status(bid).ended_at
        forget_jobs(forgetful)
        assert forgotten(b, bid)
        until(lambda: row().state not in ("DISPATCHED", "RUNNING"), "the job's end recorded", step=disp.tick)
        r = row()
        assert (r.state, r.exit_code, r.attempt, r.ended_s) == ("FAILED", 3, 1, ended_s), r.message
        with sf() as s:
            kinds = set(s.scalars(select(JobEventRow.kind).where(JobEventRow.job_id == jid)))
        assert "retry" not in kinds
    finally:
        disp.close()
        sf.kw["bind"].dispose()


# -- sacct's output and failures, no cluster ----------------------------------------------------------------
def test_sacct_output_is_parsed_robustly() -> None:
    assert FIELDS == ("JobIDRaw", "JobName", "State", "ExitCode", "Start", "End")
    text = (
        "12|ok|COMPLETED|0:0|1800000000|1800000010\n"
        "\n"
        "13|a|b|FAILED|7:0|2027-01-15T08:00:00|2027-01-15T08:00:05\n"  # a name holding the separator
        "14|sig|CANCELLED by 0|0:9|Unknown|None\n"
        "garbage without separators\n"
        "15|short|FAILED\n"
    )
    jobs = {j.job_id: j for j in parse_sacct(text)}
    assert sorted(jobs) == ["12", "13", "14"]
    assert (jobs["12"].state, jobs["12"].exit_code, jobs["12"].ended_at) == ("COMPLETED", 0, 1800000010.0)
    assert jobs["13"].name == "a|b" and jobs["13"].exit_code == 7
    assert jobs["13"].started_at == datetime(2027, 1, 15, 8, tzinfo=UTC).timestamp()  # ISO, read as UTC
    assert (jobs["14"].exit_code, jobs["14"].started_at, jobs["14"].ended_at) == (137, None, None)
    assert [parse_exit_code(x) for x in ("3:0", "0:15", "", "x:y", "5")] == [3, 143, None, None, None]


def _runner(answers: Mapping[str, subprocess.CompletedProcess[str] | Exception]) -> Runner:
    """A fake ``run`` answering each sacct source (``-c`` = jobcomp) with a result or an exception."""

    def run(argv: list[str], timeout_s: float, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        assert env["TZ"] == "UTC" and timeout_s == 5.0 and "--parsable2" in argv and "--noheader" in argv
        answer = answers["jobcomp" if "-c" in argv else "accounting"]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return run


def test_a_missing_or_failing_sacct_is_a_reason_not_an_error() -> None:
    def done(rc: int, out: str = "", err: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(["sacct"], rc, out, err)

    missing = BackendUnavailableError("slurm: sacct not found")
    job, why = past_job(_runner({"accounting": missing, "jobcomp": missing}), "12", 5.0)
    assert job is None and "sacct not found" in why
    disabled = done(1, err="Slurm accounting storage is disabled")
    job, why = past_job(_runner({"accounting": disabled, "jobcomp": done(0)}), "12", 5.0)
    assert job is None and why == "accounting: Slurm accounting storage is disabled; jobcomp: no record"
    other = done(0, "120|x|COMPLETED|0:0|1|2\n")  # another job's line is not this job
    assert past_job(_runner({"accounting": disabled, "jobcomp": other}), "12", 5.0)[0] is None
    reused = done(0, "12|old|FAILED|1:0|1|2\n12|new|COMPLETED|0:0|3|4\n")  # a reused id: the newest record
    job, _ = past_job(
        _runner({"accounting": subprocess.TimeoutExpired("sacct", 5), "jobcomp": reused}), "12", 5.0
    )
    assert job is not None and job.name == "new"
