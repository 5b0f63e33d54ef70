"""Helpers of the back-end tests: forcing an interleaving (a job ending between two looks of the platform), and
failing a submit at a chosen point without a cluster (a command on PATH, an httpx error, a silent listener)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

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


def program_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, body: str) -> Path:
    """A shell script ``name`` (``#!/bin/sh`` + ``body``) in ``tmp_path/bin``, first on ``PATH`` for the test: a
    stand-in for a cluster's or the host's command (``sbatch``, ``useradd``). Returns its directory."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
    (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return bin_dir


def failing_transport(backend: Any, error: type[httpx.TransportError]) -> list[httpx.Request]:
    """Swap the HTTP client of ``backend`` (``_http``: slurm, ray) for one with the same base URL and timeouts whose
    every request fails with ``error``, as httpx raises it at that phase of a request; returns the requests seen."""
    seen: list[httpx.Request] = []

    def fail(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise error(f"{error.__name__} (test)", request=request)

    old: httpx.Client = backend._http
    backend._http = httpx.Client(
        transport=httpx.MockTransport(fail), base_url=old.base_url, timeout=old.timeout
    )
    old.close()
    return seen


def request_received(listener: socket.socket, timeout_s: float = 5.0) -> bytes:
    """The first bytes a client sent to ``listener`` (a listening socket nobody accepted: the client connected
    through the backlog, sent, and waited for an answer that never came)."""
    listener.settimeout(timeout_s)
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(timeout_s)
        return conn.recv(65536)
