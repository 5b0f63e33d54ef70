"""What a Slurm cluster remembers of a job slurmctld has forgotten (``MinJobAge`` after it ended, or a lost
controller state): ``sacct``, first from accounting (slurmdbd), then from the job completion log (``sacct -c``:
``JobCompType=jobcomp/filetxt``, read from the ``JobCompLoc`` of the ``slurm.conf`` that ``SLURM_CONF`` names).

Each source is asked with ``--parsable2 --noheader -X`` and an explicit ``--format`` (:data:`FIELDS`), in UTC
(``TZ=UTC``) with epoch times (``SLURM_TIME_FORMAT=%s``; ISO times are read too), within a timeout. A source that
is missing, fails or times out is no error of the job: the caller gets the reasons and says the job is unknown.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from huanghe.backends.protocol import BackendError

#: The columns asked for, in this order (JobName may hold the separator: it is read from both ends).
FIELDS = ("JobIDRaw", "JobName", "State", "ExitCode", "Start", "End")
#: Where ``sacct`` looks: accounting (slurmdbd), then the job completion log.
SOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (("accounting", ()), ("jobcomp", ("-c",)))
#: How far back a lookup by name searches (sacct's default is since midnight).
NAME_LOOKBACK = "now-30days"
#: Environment of every ``sacct``: times in UTC, as epoch seconds.
SACCT_ENV: Mapping[str, str] = {"TZ": "UTC", "SLURM_TIME_FORMAT": "%s"}

#: ``run(argv, timeout_s, env)`` → the finished command (the back-end's CLI runner; may raise BackendError).
Runner = Callable[[list[str], float, Mapping[str, str]], subprocess.CompletedProcess[str]]


@dataclass(frozen=True)
class PastJob:
    """One job as the cluster's history recorded it (``state`` in Slurm's words, e.g. ``CANCELLED by 0``)."""

    job_id: str
    name: str
    state: str
    exit_code: int | None
    started_at: float | None
    ended_at: float | None


def parse_exit_code(raw: str) -> int | None:
    """``sacct``'s ``code:signal`` → exit code, 128+N for death by signal N (as a wait status reads); else None."""
    code, sep, sig = raw.strip().partition(":")
    if not sep or not code.isdigit() or not sig.isdigit():
        return None
    return 128 + int(sig) if int(sig) else int(code)


def parse_time(raw: str) -> float | None:
    """Epoch seconds, or an ISO time in UTC (``TZ=UTC``) → epoch seconds; ``Unknown``, ``None``, "" → None."""
    raw = raw.strip()
    if raw.isdigit():
        return float(raw) or None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def parse_sacct(text: str) -> list[PastJob]:
    """``sacct --parsable2 --noheader --format=<FIELDS>`` output → its jobs; malformed lines are skipped."""
    jobs = []
    for line in text.splitlines():
        cells = line.split("|")
        if len(cells) < len(FIELDS) or not cells[0].strip():
            continue
        job_id, *name, state, exit_code, start, end = cells
        jobs.append(
            PastJob(job_id.strip(), "|".join(name), state.strip(), parse_exit_code(exit_code),
                    parse_time(start), parse_time(end))
        )  # fmt: skip
    return jobs


def ask(run: Runner, selection: Sequence[str], timeout_s: float) -> tuple[list[PastJob], list[str]]:
    """The jobs of the first source (:data:`SOURCES`) that answers ``selection`` with any, and why each source
    asked before gave none."""
    reasons = []
    for source, flags in SOURCES:
        argv = ["sacct", *flags, "--parsable2", "--noheader", "-X", "--allusers",
                "--format=" + ",".join(FIELDS), *selection]  # fmt: skip
        try:
            cp = run(argv, timeout_s, SACCT_ENV)
        except (BackendError, OSError, subprocess.SubprocessError) as exc:
            reasons.append(f"{source}: {exc}")
            continue
        if cp.returncode != 0:
            reasons.append(f"{source}: {(cp.stderr.strip() or f'exit {cp.returncode}')[:200]}")
            continue
        jobs = parse_sacct(cp.stdout)
        if jobs:
            return jobs, reasons
        reasons.append(f"{source}: no record")
    return [], reasons


def past_job(run: Runner, job_id: str, timeout_s: float) -> tuple[PastJob | None, str]:
    """Job ``job_id`` as the history last recorded it (a reused id: its newest record), or None and why."""
    jobs, reasons = ask(run, ["--jobs", job_id], timeout_s)
    mine = [j for j in jobs if j.job_id == job_id]
    if not mine:
        return None, "; ".join(reasons) or "sacct: no record"
    return max(mine, key=lambda j: j.ended_at or 0.0), ""


def past_job_named(run: Runner, name: str, timeout_s: float) -> PastJob | None:
    """The newest job named ``name`` in the history (since :data:`NAME_LOOKBACK`), or None. The job
    completion log ignores ``--name``: the names are compared here."""
    jobs, _ = ask(run, ["--name", name, "--starttime", NAME_LOOKBACK], timeout_s)
    mine = [j for j in jobs if j.name == name]
    return max(mine, key=lambda j: j.ended_at or 0.0) if mine else None
