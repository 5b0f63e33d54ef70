"""Whether a failed submit may have created the job: "nothing was sent" or "sent, no answer".

A submit that failed before its request left this host (connection refused or timed out, a name that did not
resolve, no pooled connection in time) created nothing: :class:`~huanghe.backends.protocol.BackendUnavailableError`,
and the dispatcher places the job again at once. Every other failure of a request that creates a job (a send or
an answer that timed out, a connection closed mid-way, an answer that could not be read) may have created it:
:class:`~huanghe.backends.protocol.SubmitOutcomeUnknownError`, and the dispatcher finds the job by name before
it does anything else, so it never runs twice. When in doubt, "unknown": it costs a look-up by name, while a wrong
"unavailable" can run a job twice.
"""

from __future__ import annotations

import httpx

from huanghe.backends.protocol import BackendError, BackendUnavailableError, SubmitOutcomeUnknownError

#: httpx errors raised before any byte of the request was sent: connecting (refused, timed out, DNS: both are
#: ``ConnectError``/``ConnectTimeout``, TLS included), waiting for a pooled connection, a URL httpx cannot send
#: to, a proxy that refused the tunnel.
NEVER_SENT: tuple[type[httpx.HTTPError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
)


def never_sent(exc: httpx.HTTPError) -> bool:
    """True when ``exc`` proves the request never left this host (see :data:`NEVER_SENT`)."""
    return isinstance(exc, NEVER_SENT)


def outcome_unknown(what: str, cause: str) -> SubmitOutcomeUnknownError:
    """The error of a job-creating request or command (``what``, e.g. ``slurm: sbatch``) that was sent and not
    answered; ``cause`` says how (e.g. ``ReadTimeout, timeout_s 10 s``), without host names: the message reaches
    job events and the public center health."""
    return SubmitOutcomeUnknownError(
        f"{what} was sent and not answered ({cause}): the job may exist / 已发出提交但无应答，作业可能已创建"
    )


#: What ``sbatch`` prints when slurmctld may have taken its request and not answered (libslurm's
#: ``SLURMCTLD_COMMUNICATIONS_{SEND,RECEIVE,SHUTDOWN}_ERROR`` and a socket timeout): the job may be queued.
SBATCH_NO_ANSWER = (
    "Socket timed out",
    "Unable to contact slurm controller (send failure)",
    "Unable to contact slurm controller (receive failure)",
    "Unable to contact slurm controller (shutdown failure)",
)
#: What ``sbatch`` prints when no connection to slurmctld (nor its backup) opened (libslurm's
#: ``SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR``): nothing was sent. sbatch retries only refusals ("queue full",
#: "temporarily unable"), which queue nothing, so earlier tries of the same run sent no job either.
SBATCH_NEVER_SENT = "Unable to contact slurm controller (connect failure)"


def sbatch_failure(returncode: int, stderr: str) -> BackendError:
    """The error of an ``sbatch`` that did not print a job id: killed by a signal or reporting no answer →
    unknown (it may have queued the job); no connection to slurmctld → unavailable (placed elsewhere); any other
    failure is slurmctld's refusal, a plain :class:`BackendError`."""
    detail = stderr.strip()[:300]
    if returncode < 0:  # killed mid-way: it may have sent the job
        return outcome_unknown("slurm: sbatch", f"killed by signal {-returncode}")
    if any(marker in stderr for marker in SBATCH_NO_ANSWER):
        return outcome_unknown("slurm: sbatch", detail)
    if SBATCH_NEVER_SENT in stderr:
        return BackendUnavailableError(
            f"slurm: sbatch could not reach slurmctld, nothing was submitted / 无法连接 slurmctld，未提交: {detail}"
        )
    return BackendError(f"slurm: sbatch failed: {detail}")
