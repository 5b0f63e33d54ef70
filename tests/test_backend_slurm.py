"""Slurm specifics against a real private Slurm 22.05: REST→CLI fallback, token refusal, failover symptom."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from huanghe.backends.local_accounts import AccountRegistry
from huanghe.backends.protocol import (
    BackendConfigError,
    BackendJobSpec,
    BackendUnavailableError,
    wait_terminal,
)
from huanghe.backends.registry import create_backend
from huanghe.backends.slurm import SlurmBackend
from huanghe.domain.enums import JobState
from tests.infra.ports import refused_url
from tests.infra.slurm import SlurmCluster, private_slurm


def test_rest_unreachable_falls_back_to_cli(slurm_cluster: SlurmCluster) -> None:
    with refused_url() as dead:  # bound, not listening: refused, and no other process can take the port
        settings = {**slurm_cluster.rest_settings(), "rest_url": dead}
        b = create_backend("slurm", settings)
        job = b.submit(BackendJobSpec(name="fallback", command="echo via-cli $LIST", env={"LIST": "a,b=c"}))
        assert wait_terminal(b, job, 30).state is JobState.SUCCEEDED
        assert "via-cli a,b=c" in b.logs(job)  # values with commas survive sbatch --export
        assert b.health().ok
        strict = create_backend("slurm", {**settings, "cli": "never"})
        h = strict.health()
        assert not h.ok and "unreachable" in h.message
        with pytest.raises(BackendUnavailableError):
            strict.submit(BackendJobSpec(command="true"))


def test_rest_and_cli_see_the_same_job_with_resources(slurm_cluster: SlurmCluster) -> None:
    rest = create_backend("slurm", slurm_cluster.rest_settings())
    cli = create_backend("slurm", slurm_cluster.cli_settings())
    job = rest.submit(BackendJobSpec(name="res", command="sleep 30", cpus=2, mem_gb=1, env={"X": "1"}))
    deadline = time.monotonic() + 20
    while cli.status(job).state is not JobState.RUNNING and time.monotonic() < deadline:
        time.sleep(0.1)
    cap = rest.capacity()
    assert cap.cpus_total == 4 and cap.cpus_free == 2
    assert cap.mem_gb_free == pytest.approx(cap.mem_gb_total - 1)
    cli.cancel(job)
    assert wait_terminal(rest, job, 20).state is JobState.CANCELLED


def test_bad_token_is_reported_not_mistaken_for_an_unknown_job(slurm_cluster: SlurmCluster) -> None:
    b = create_backend("slurm", {**slurm_cluster.rest_settings(), "token": "not-a-jwt", "cli": "never"})
    with pytest.raises(BackendUnavailableError, match="token"):
        b.status("1")
    assert not b.health().ok


def test_token_file_is_reread(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    token_file = tmp_path / "jwt"
    token_file.write_text("SLURM_JWT=" + slurm_cluster.token())
    settings = {k: v for k, v in slurm_cluster.rest_settings().items() if k != "token"}
    b = create_backend("slurm", {**settings, "token_file": str(token_file), "cli": "never"})
    assert b.health().ok


@pytest.fixture
def own_cluster() -> Iterator[SlurmCluster]:
    """A second private Slurm the test may break (the session one stays intact)."""
    with private_slurm() as cluster:
        yield cluster


@pytest.mark.parametrize("daemon", ["slurmctld", "slurmd"])
def test_stopping_a_daemon_makes_health_not_ok_in_bounded_time(
    own_cluster: SlurmCluster, daemon: str
) -> None:
    b = SlurmBackend(own_cluster.rest_settings())
    assert b.health().ok
    own_cluster.stop(daemon)
    t0 = time.monotonic()
    bound_s = 30.0
    while b.health().ok:
        assert time.monotonic() - t0 < bound_s, f"health still ok {bound_s} s after stopping {daemon}"
        time.sleep(0.25)
    print(f"{daemon} stopped → health not ok after {time.monotonic() - t0:.1f} s")


# -- tenants: each tenant's job runs as its own account (docs/backends.md "Tenants on each back-end") ------
def _tenant_accounts(*tenants: str) -> list[str]:
    """Create the tenants' accounts on this host (the cluster's only node), as the local back-end does."""
    registry = AccountRegistry(frozenset({os.getuid()}))
    return [registry.account(t).name for t in tenants]


def _root_token(cluster: SlurmCluster) -> str:
    """A JWT of root (this cluster's SlurmUser): the only identity slurmrestd lets name another user."""
    out = subprocess.run(
        ["scontrol", "token", "username=root", "lifespan=600"],
        env=cluster.env, capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    return out.strip().split("=", 1)[1]


def _whoami(b: SlurmBackend, tenant: str) -> str:
    job = b.submit(BackendJobSpec(name=f"who-{tenant}", command="id -un; pwd", tenant=tenant))
    assert wait_terminal(b, job, 30).state is JobState.SUCCEEDED, b.logs(job)
    return b.logs(job)


@pytest.mark.parametrize("mode", ["rest", "cli"])
def test_tenants_jobs_run_as_their_own_accounts(slurm_cluster: SlurmCluster, mode: str) -> None:
    acc_a, acc_b = _tenant_accounts("tenant-A", "tenant-B")
    if mode == "rest":
        settings = {**slurm_cluster.rest_settings(), "user": "root", "token": _root_token(slurm_cluster)}
        settings["cli"] = "never"
    else:
        settings = slurm_cluster.cli_settings()
    b = SlurmBackend(settings)
    assert b.tenant_accounts == "mapped"  # the default when the platform's identity may impersonate
    out_a, out_b = _whoami(b, "tenant-A"), _whoami(b, "tenant-B")
    assert out_a.split() == [acc_a, str(slurm_cluster.job_dir / acc_a)]
    assert out_b.split() == [acc_b, str(slurm_cluster.job_dir / acc_b)]
    for acc in (acc_a, acc_b):  # each tenant's output directory is its own, closed to the others
        st = (slurm_cluster.job_dir / acc).stat()
        assert st.st_uid == pwd.getpwnam(acc).pw_uid and stat.S_IMODE(st.st_mode) == 0o700


def test_shared_mode_and_jobs_without_tenant_run_as_the_pools_identity(slurm_cluster: SlurmCluster) -> None:
    _tenant_accounts("tenant-A")
    shared = SlurmBackend(
        {**slurm_cluster.rest_settings(), "cli": "never"}
    )  # user nobody: cannot impersonate
    assert shared.tenant_accounts == "shared"
    assert _whoami(shared, "tenant-A").split()[0] == slurm_cluster.jwt_user
    root = {**slurm_cluster.rest_settings(), "user": "root", "token": _root_token(slurm_cluster)}
    explicit = SlurmBackend({**root, "tenant_accounts": "shared", "cli": "never"})
    assert _whoami(explicit, "tenant-A").split()[0] == "root"
    mapped = SlurmBackend({**root, "cli": "never"})
    job = mapped.submit(BackendJobSpec(name="no-tenant", command="id -un"))
    assert wait_terminal(mapped, job, 30).state is JobState.SUCCEEDED
    assert mapped.logs(job).split() == ["root"]
    with pytest.raises(BackendConfigError, match="tenant_accounts"):
        SlurmBackend({**root, "tenant_accounts": "everyone"})
