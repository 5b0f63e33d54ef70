"""Helpers of the back-end tests that force an interleaving: a job ending between two looks of the platform."""

from __future__ import annotations

import time
from collections.abc import Callable

from huanghe.backends.protocol import Backend, BackendJobStatus


def ends_after_the_look(
    backend: Backend, end: Callable[[], None], timeout_s: float = 10.0
) -> Callable[[str], BackendJobStatus]:
    """A stand-in for ``backend.status`` (monkeypatch it in): it answers as the back-end saw the job, then ends the
    job by itself (``end()``) and returns once the back-end sees it ended, so whatever the caller does next
    (``cancel``'s mark) comes after the job's own end."""
    look = backend.status

    def status(job_id: str) -> BackendJobStatus:
        seen = look(job_id)
        end()
        deadline = time.monotonic() + timeout_s
        while not look(job_id).terminal:
            assert time.monotonic() < deadline, f"{backend.name} job {job_id} did not end"
            time.sleep(0.02)
        return seen

    return status
