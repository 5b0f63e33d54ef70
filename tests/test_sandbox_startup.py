"""The local sandbox's accounts and settings, and the production start-up refusal (issue 11)."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from huanghe.backends.local import LocalBackend
from huanghe.backends.local_accounts import NOBODY, AccountRegistry, account_name
from huanghe.backends.protocol import (
    BackendConfigError,
    BackendJobSpec,
    BackendUnavailableError,
    wait_terminal,
)
from huanghe.backends.sandbox import sandbox_problem, startup_refusals
from huanghe.domain.enums import JobState
from huanghe.jobs.dispatching import backend_spec
from huanghe.jobs.models import JobRow
from tests import jobs_testnet as net

needs_sandbox = pytest.mark.skipif(
    sandbox_problem() is not None, reason=f"the bubblewrap sandbox is unavailable here: {sandbox_problem()}"
)


def test_account_names_are_safe_short_and_distinct() -> None:
    assert account_name(None) == account_name("") == NOBODY
    names = {
        account_name(t) for t in ("acme", "ACME", "a.c.m.e", "a-c-m-e", "x" * 64, "x" * 65, "../../root")
    }
    assert len(names) == 7  # ids that sanitise alike still get distinct accounts (hash of the full id)
    for n in names:
        assert n.startswith("hh-t-") and len(n) <= 30 and all(c.isalnum() or c == "-" for c in n), n
    assert account_name("acme") == account_name("acme")


def test_the_tenant_reaches_the_back_end_spec() -> None:
    row = JobRow(id="job-1", tenant_id="tenant-a", spec={"command": "echo hi", "tenant": "tenant-a"})
    assert backend_spec(row, "hh-job-1-1").tenant == "tenant-a"
    row = JobRow(id="job-2", tenant_id=None, spec={"command": "echo hi"})
    assert backend_spec(row, "hh-job-2-1").tenant == ""


@needs_sandbox
def test_jobs_run_as_their_tenants_accounts(tmp_path: Path) -> None:
    b = LocalBackend({"root": str(tmp_path / "jobs")})
    jobs = {t: b.submit(BackendJobSpec(command="id -un; stat -c %a .", tenant=t)) for t in ("tenant-a", "")}
    for tenant, job in jobs.items():
        assert wait_terminal(b, job, 20).state is JobState.SUCCEEDED, b.logs(job)
        assert b.logs(job).split() == [account_name(tenant), "700"]
    assert pwd.getpwnam(account_name("tenant-a")).pw_uid not in (0, os.getuid())


@needs_sandbox
def test_an_account_of_that_name_made_for_something_else_is_refused() -> None:
    tenant = "tenant-squatted"
    name = account_name(tenant)
    subprocess.run(["useradd", "--system", "--no-create-home", "--comment", "not huanghe", name], check=False)
    with pytest.raises(BackendUnavailableError, match="not this tenant's"):
        AccountRegistry(frozenset()).account(tenant)


def test_bad_sandbox_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BackendConfigError, match="sandbox"):
        LocalBackend({"root": str(tmp_path), "sandbox": "chroot"})
    with pytest.raises(BackendConfigError, match="max_procs"):
        LocalBackend({"root": str(tmp_path), "max_procs": "0"})


def test_startup_refusals_name_the_pool_and_the_fix() -> None:
    pools = [("p-none", "local", {"sandbox": "none"}), ("p-slurm", "slurm", {"sandbox": "none"})]
    (line,) = startup_refusals(pools)
    assert "p-none" in line and "another back-end" in line
    default = startup_refusals([("p-default", "local", {})])
    assert default == ([] if sandbox_problem() is None else [default[0]])


def _up(tmp_path: Path, settings: dict[str, str], **env: str) -> subprocess.CompletedProcess[str]:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    net.prepare_db(url, net.topology(net.local(tmp_path / "jobs", **settings)))
    base = {"HOME": str(tmp_path), "LANG": "C.UTF-8", "PATH": os.environ["PATH"],
            "HUANGHE_SESSION_SECRET": "s" * 40}  # fmt: skip
    cmd = [
        sys.executable,
        "-c",
        "from huanghe.cli.entry import main; main()",
        "up",
        "--db",
        url,
        "--port",
        "1",
    ]
    return subprocess.run(cmd, env={**base, **env}, capture_output=True, text=True, timeout=120, check=False)


def test_production_server_refuses_unsandboxed_local_pools(tmp_path: Path) -> None:
    res = _up(tmp_path, {"sandbox": "none"})
    assert res.returncode == 2, res.stderr
    assert "refusing to start" in res.stderr and "jn-sc-cpu" in res.stderr and "sandbox='none'" in res.stderr


def test_production_server_refuses_when_bubblewrap_is_missing(tmp_path: Path) -> None:
    res = _up(tmp_path, {}, PATH="/nonexistent")  # no bwrap, setpriv, prlimit... on this PATH
    assert res.returncode == 2, res.stderr
    assert "bwrap" in res.stderr and "install bubblewrap" in res.stderr and "another back-end" in res.stderr


@needs_sandbox
def test_a_tenants_job_through_the_api_runs_as_that_tenants_account(tmp_path: Path) -> None:
    from tests.test_jobs_api import make_client, wait_for

    with make_client(tmp_path) as c:
        r = c.post("/api/v1/tenants", json={"id": "acme-sbx", "name": "Acme sandbox test"})
        assert r.status_code == 201, r.text
        jid = c.post("/api/v1/jobs", json={"command": "id -un", "tenant": "acme-sbx"}).json()["id"]
        assert wait_for(c, jid, {"SUCCEEDED", "FAILED"})["state"] == "SUCCEEDED"
        assert c.get(f"/api/v1/jobs/{jid}/logs").json()["data"].strip() == account_name("acme-sbx")
