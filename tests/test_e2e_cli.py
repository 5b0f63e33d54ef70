"""End to end on the bundled network (every pool on the local back-end): `huanghe up`, then the CLI as a user
runs it — `huanghe submit --wait`, `huanghe jobs list|show|logs|cancel|events` — all as subprocesses."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import jobs_server as srv
from tests.infra.ports import refused_url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[srv.Server, Path]]:
    tmp = tmp_path_factory.mktemp("e2e")
    s = srv.start(tmp, f"sqlite:///{tmp / 'e2e.db'}", network="shandong-mini")
    yield s, tmp
    s.stop()


def hh(server: tuple[srv.Server, Path], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    s, tmp = server
    env = srv.env(tmp, HUANGHE_URL=s.url)
    return subprocess.run(srv.cli(*args), env=env, capture_output=True, text=True, timeout=timeout, cwd=tmp)


def test_submit_wait_prints_placement_and_output(server: tuple[srv.Server, Path]) -> None:
    t0 = time.monotonic()
    r = hh(server, "submit", "--cpus", "1", "--wait", "--", "echo", "hello")
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello\n"
    assert "submitted" in r.stderr and "PLACED" in r.stderr and "RUNNING" in r.stderr
    assert "SUCCEEDED" in r.stderr
    print(f"huanghe submit --wait -- echo hello: {took:.2f} s (CLI start-up included)\n{r.stderr}")
    job_id = r.stderr.split("submitted (已提交) ")[1].split()[0]
    shown = hh(server, "jobs", "show", job_id, "--json")
    job = json.loads(shown.stdout)
    assert job["state"] == "SUCCEEDED" and job["placement"]["explanation"]["winner"]["pool"] == job["pool"]
    assert job["center"] in r.stderr and job["pool"] in r.stderr
    table = hh(server, "jobs", "show", job_id)
    assert "placement" in table.stdout and "SUCCEEDED" in table.stdout
    assert hh(server, "jobs", "logs", job_id).stdout == "hello\n"
    listed = json.loads(hh(server, "jobs", "list", "--state", "SUCCEEDED", "--json").stdout)
    assert job_id in [j["id"] for j in listed["items"]]
    events = hh(server, "jobs", "events", job_id).stdout
    assert "dispatched" in events


def test_wait_exits_nonzero_when_the_job_fails(server: tuple[srv.Server, Path]) -> None:
    r = hh(server, "submit", "--wait", "--", "sh", "-c", "echo bad; exit 4")
    assert r.returncode == 1 and r.stdout == "bad\n" and "FAILED" in r.stderr


def test_cancel_and_follow_logs(server: tuple[srv.Server, Path]) -> None:
    r = hh(server, "submit", "--", "sh", "-c", "echo started; sleep 30")
    assert r.returncode == 0
    job_id = r.stdout.split()[-1]
    follow = subprocess.Popen(
        srv.cli("jobs", "logs", "--follow", job_id), env=srv.env(server[1], HUANGHE_URL=server[0].url),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        srv_url = server[0].url
        deadline = time.monotonic() + 20
        while srv.httpx.get(f"{srv_url}/api/v1/jobs/{job_id}").json()["state"] != "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        c = hh(server, "jobs", "cancel", job_id)
        assert c.returncode == 0 and "cancel" in c.stdout
        out, _ = follow.communicate(timeout=30)
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait(5)
    assert follow.returncode == 0 and "started" in out
    assert srv.wait_terminal(server[0].url, job_id)["state"] == "CANCELLED"


def test_bad_input_and_unreachable_server(server: tuple[srv.Server, Path], tmp_path: Path) -> None:
    r = hh(server, "submit", "--user-city", "atlantis", "--", "true")
    assert r.returncode == 1 and "user_city" in r.stderr and "Traceback" not in r.stderr
    r = hh(server, "jobs", "show", "no-such-job")
    assert r.returncode == 1 and "not found" in r.stderr
    with refused_url() as dead:  # bound, not listening: refused, and no other process can take the port
        env = srv.env(tmp_path, HUANGHE_URL=dead)
        r = subprocess.run(srv.cli("jobs", "list"), env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 3 and "cannot reach" in r.stderr and "Traceback" not in r.stderr


def test_cli_sends_the_token_as_bearer(monkeypatch: pytest.MonkeyPatch) -> None:
    from huanghe.jobs import cli as jobs_cmd

    monkeypatch.setenv("HUANGHE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("HUANGHE_TOKEN", "hh_secret")
    with jobs_cmd.client() as c:
        assert c.headers["Authorization"] == "Bearer hh_secret" and str(c.base_url) == "http://127.0.0.1:1"
    monkeypatch.delenv("HUANGHE_TOKEN")
    monkeypatch.delenv("HUANGHE_URL")
    with jobs_cmd.client() as c:
        assert "Authorization" not in c.headers and str(c.base_url) == jobs_cmd.DEFAULT_URL
