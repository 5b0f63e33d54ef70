"""After a crash, a dispatch is found on real Slurm and Ray by its token (the back-end job name)."""

from __future__ import annotations

from huanghe.backends.protocol import BackendJobSpec, wait_terminal
from huanghe.backends.registry import create_backend
from huanghe.jobs.recovery import find_by_token
from tests.infra.ray import RayHead
from tests.infra.slurm import SlurmCluster


def test_slurm_job_found_by_token(slurm_cluster: SlurmCluster) -> None:
    be = create_backend("slurm", slurm_cluster.rest_settings())
    try:
        bid = be.submit(BackendJobSpec(name="hh-jlookup01-1", command="true"))
        assert find_by_token(be, "hh-jlookup01-1") == (bid, True)
        wait_terminal(be, bid, 30)
        assert find_by_token(be, "hh-jlookup01-1") == (bid, True)  # finished jobs too (within MinJobAge)
        assert find_by_token(be, "hh-never-submitted-1") == (None, False)  # slurm forgets: not certain
    finally:
        be.close()


def test_ray_job_found_by_token(ray_cluster: RayHead) -> None:
    be = create_backend("ray", {"address": ray_cluster.address})
    try:
        bid = be.submit(BackendJobSpec(name="hh-jlookup02-1", command="true"))
        assert find_by_token(be, "hh-jlookup02-1") == (bid, True)
        assert find_by_token(be, "hh-never-submitted-1") == (None, True)
        wait_terminal(be, bid, 60)
    finally:
        be.close()
