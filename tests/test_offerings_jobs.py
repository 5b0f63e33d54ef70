"""A job targeting an offering (``offering``) runs only in the offering's pool: the broker's ``offering``
filter removes every other pool and the placement's explanation says so; a withdrawn, draft or unknown
offering is refused at submission (422 naming the field, ``jobs[i].offering`` in a batch). Real local back-end,
the live scheduler loop, SQLite."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from huanghe.api.app import create_app
from huanghe.broker.batch import JobBatch, JobInputError
from huanghe.broker.filters import Reason, apply_filters
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.core.clock import FakeClock
from huanghe.jobs.settings import DispatchSettings
from huanghe.settings import Settings
from tests import jobs_testnet as net
from tests.test_jobs_api import TERMINAL, wait_for

API = "/api/v1"


def _offering(oid: str, pool: str) -> dict[str, object]:
    return {"id": oid, "pool": pool, "name_zh": "通用计算", "name_en": "general compute", "response_minutes": 60,
            "price_cny_per_node_hour": "4", "availability_pct": "99.5", "security_level": 1}  # fmt: skip


def test_a_job_targeting_an_offering_runs_in_its_pool_and_the_explanation_shows_the_filter(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    # jn-sc-cpu is the faster pool (speed 1.1): without the offering the broker would rather go there
    net.prepare_db(url, net.topology(net.local(tmp_path / "jn"), net.local(tmp_path / "qd")))
    app = create_app(Settings(database_url=url, migrate_on_startup=False))
    app.state.scheduler_settings = DispatchSettings(
        enabled=True, interval_s=0.05, health_interval_s=0.5, lease_ttl_s=2
    )
    with TestClient(app) as c:
        for oid in ("qd-general", "qd-old"):
            assert c.post(f"{API}/offerings", json=_offering(oid, "qd-ai-cpu")).status_code == 201
            assert c.post(f"{API}/offerings/{oid}:publish").status_code == 200
        assert c.post(f"{API}/offerings", json=_offering("qd-draft", "qd-ai-cpu")).status_code == 201
        assert c.post(f"{API}/offerings/qd-old:withdraw").status_code == 200

        for oid, words in (
            ("qd-old", "withdrawn"),
            ("qd-draft", "unknown offering"),
            ("nope", "unknown offering"),
        ):
            r = c.post(f"{API}/jobs", json={"command": "true", "name": "x", "offering": oid})
            assert r.status_code == 422, r.text
            err = r.json()["detail"][0]
            assert err["path"].endswith("offering") and words in err["message"], err
        r = c.post(f"{API}/jobs:batch", json={"jobs": [{"command": "true", "offering": "qd-general"},
                                                        {"command": "true", "offering": "qd-old"}]})  # fmt: skip
        assert r.status_code == 422 and r.json()["detail"][0]["path"].endswith("jobs[1].offering"), r.text

        r = c.post(f"{API}/jobs", json={"command": "true", "name": "pinned", "offering": "qd-general"})
        assert r.status_code == 201, r.text
        job = wait_for(c, r.json()["id"], TERMINAL)
        assert job["state"] == "SUCCEEDED" and job["pool"] == "qd-ai-cpu", job
        removed = {x["reason"]: x for x in job["placement"]["explanation"]["removed"]}
        assert removed[Reason.OFFERING]["pool_ids"] == ["jn-sc-cpu"], removed
        assert "offering of pool qd-ai-cpu" in removed[Reason.OFFERING]["detail"]


def test_the_offering_filter_keeps_only_the_target_pool_and_an_unknown_pool_is_an_input_error(
    tmp_path: Path,
) -> None:
    topo = net.topology(net.local(tmp_path / "jn"), net.local(tmp_path / "qd"))
    snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0), carbon_shape="synthetic")
    batch = JobBatch.from_records(snap, [{"job_id": "a", "target_pool": "qd-ai-cpu"}, {"job_id": "b"}])
    report = apply_filters(snap, batch)
    qd = snap.pool_ids.index("qd-ai-cpu")
    assert report.passed[Reason.OFFERING][0].tolist() == [i == qd for i in range(snap.n_pools)]
    assert report.passed[Reason.OFFERING][1].all() and batch.target_pool.tolist() == [qd, -1]
    try:
        JobBatch.from_records(snap, [{"job_id": "c", "target_pool": "gone"}])
    except JobInputError as exc:
        assert "target_pool" in str(exc)
    else:
        raise AssertionError("an unknown target pool must be an input error")
    assert np.array_equal(JobBatch.from_arrays(snap, 2).target_pool, [-1, -1])
