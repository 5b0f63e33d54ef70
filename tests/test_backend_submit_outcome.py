"""Slurm and Ray: a submit sent and not answered is "outcome unknown" (the job may exist: recovery finds it by name),
never "unavailable" (placed again at once: it could run twice); a submit never sent stays unavailable, and only
then does Slurm fall back from REST to ``sbatch``. No cluster (the real ones are expensive): a loopback listener
that takes the request and never answers, httpx errors raised at each phase by a mock transport, a fake
``sbatch`` on PATH."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from huanghe.backends.protocol import (
    BackendError,
    BackendJobSpec,
    BackendUnavailableError,
    SubmitOutcomeUnknownError,
)
from huanghe.backends.ray import RayBackend
from huanghe.backends.slurm import SlurmBackend
from tests.backend_support import failing_transport, program_on_path, request_received
from tests.infra.ports import bind_loopback

#: httpx errors after the request started: slurmrestd or the Ray head may have created the job
SENT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError)
#: httpx errors before any byte was sent (refused, DNS, connect timed out, no pooled connection)
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: What the fake sbatch answers when it runs (a REST fallback)
FALLBACK_ID = "4242"
#: libslurm's message when sbatch's connection to slurmctld failed at a phase (connect, send, receive)
CONTACT = "Unable to contact slurm controller (%s failure)"


def _sbatch_that_records(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fake ``sbatch`` on PATH that notes each run in the returned file and answers :data:`FALLBACK_ID`."""
    runs = tmp_path / "sbatch-runs"
    program_on_path(monkeypatch, tmp_path, "sbatch", f'echo "$@" >> {runs}\necho {FALLBACK_ID}')
    return runs


def _slurm(url: str, tmp_path: Path) -> SlurmBackend:
    settings = {"rest_url": url, "user": "slurm", "token": "t", "cli": "auto", "timeout_s": "2"}
    return SlurmBackend({**settings, "workdir": str(tmp_path)})


def _ray(url: str) -> RayBackend:
    return RayBackend({"address": url, "timeout_s": "1", "connect_timeout_s": "1"})


def _spec() -> BackendJobSpec:
    return BackendJobSpec(name="hh-s26-unanswered", command="true")


@pytest.mark.parametrize("kind", ["slurm", "ray"])
def test_a_submit_sent_and_never_answered_is_outcome_unknown_within_the_bound(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real loopback listener that takes the connection (kernel backlog) and the request, and never answers: the
    read times out. Was "unavailable" (re-placed at once while the job may exist); Slurm must not fall back to
    ``sbatch`` either (a second submission)."""
    runs = _sbatch_that_records(monkeypatch, tmp_path)
    with bind_loopback() as listener:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        b = _slurm(url, tmp_path) if kind == "slurm" else _ray(url)
        t0 = time.monotonic()
        with pytest.raises(SubmitOutcomeUnknownError, match="ReadTimeout"):
            b.submit(_spec())
        assert time.monotonic() - t0 < b.submit_bound.s
        assert request_received(listener).startswith(b"POST ")  # it was sent: the job may exist
        b.close()
    assert not runs.exists()


@pytest.mark.parametrize("error", SENT + NEVER_SENT, ids=lambda e: e.__name__)
@pytest.mark.parametrize("kind", ["slurm", "ray"])
def test_each_http_failure_of_a_submit_is_classified_by_whether_the_request_was_sent(
    kind: str, error: type[httpx.TransportError], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent → unknown (and no ``sbatch``); never sent → Ray unavailable, Slurm falls back to ``sbatch`` (``cli``
    auto; the old code fell back only on a refused connection, not on a connect or pool timeout)."""
    runs = _sbatch_that_records(monkeypatch, tmp_path)
    b = (
        _slurm("http://slurm-head.invalid:6820", tmp_path)
        if kind == "slurm"
        else _ray("http://ray-head.invalid:8265")
    )
    seen = failing_transport(b, error)
    try:
        if error in SENT:
            with pytest.raises(SubmitOutcomeUnknownError, match=error.__name__):
                b.submit(_spec())
            assert not runs.exists()
        elif kind == "slurm":
            assert b.submit(_spec()) == FALLBACK_ID
            assert "--job-name=hh-s26-unanswered" in runs.read_text()
        else:
            with pytest.raises(BackendUnavailableError):
                b.submit(_spec())
        assert [r.method for r in seen] == ["POST"]
    finally:
        b.close()


def _sbatch_error(message: str) -> str:
    """The body of a fake ``sbatch`` that fails as the real one does, printing ``message``."""
    return f"echo 'sbatch: error: Batch job submission failed: {message}' >&2\nexit 1"


@pytest.mark.parametrize(
    ("sbatch", "raised", "detail"),
    [
        ("exec sleep 30", SubmitOutcomeUnknownError, "killed after timeout_s 2 s"),
        ("kill -9 $$", SubmitOutcomeUnknownError, "killed by signal 9"),
        (
            _sbatch_error("Socket timed out on send/recv operation"),
            SubmitOutcomeUnknownError,
            "Socket timed out",
        ),
        (_sbatch_error(CONTACT % "receive"), SubmitOutcomeUnknownError, "receive failure"),
        (_sbatch_error(CONTACT % "send"), SubmitOutcomeUnknownError, "send failure"),
        (_sbatch_error(CONTACT % "connect"), BackendUnavailableError, "connect failure"),
        (_sbatch_error("Invalid account"), BackendError, "Invalid account"),
    ],
    ids=["timeout", "killed", "no-answer", "receive-failure", "send-failure", "no-connection", "refused"],
)
def test_an_sbatch_failure_is_classified_by_whether_slurmctld_may_have_the_job(
    sbatch: str, raised: type[BackendError], detail: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sbatch`` killed by ``timeout_s``, killed by a signal, or reporting that slurmctld did not answer may have
    queued the job: unknown (was unavailable or failed). One that could not connect to slurmctld sent nothing:
    unavailable, placed elsewhere (was a plain error: FAILED). One refused by slurmctld stays a plain error."""
    program_on_path(monkeypatch, tmp_path, "sbatch", sbatch)
    b = SlurmBackend({"cli": "only", "workdir": str(tmp_path), "timeout_s": "2"})
    t0 = time.monotonic()
    with pytest.raises(BackendError) as caught:
        b.submit(_spec())
    assert time.monotonic() - t0 < b.submit_bound.s
    assert type(caught.value) is raised and detail in str(caught.value)
